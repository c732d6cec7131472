"""Optimizers with PyTorch's update formulas and defaults.

One implementation each serves Value parameters (float data and grad) and Tensor
parameters (array data, updated in place): the arithmetic below is written with
operators that mean the same on both. A Tensor whose `.grad` is None is skipped, as in
PyTorch, and so is a frozen Value (`requires_grad` False): a Value's grad is always a number,
so that is its form of "no gradient" (see `_gradient`). `lr` is a plain attribute, so a schedule just assigns to it.

Speed (issue 7): for arrays, SGD and Adam also have an in-place twin of that formula
(`_update_array`) that performs the very same floating-point operations in the same order,
so the result is bit for bit the same (tests/optim/test_fast_forms_equal_plain.py checks it), but
writes every intermediate into the optimizer's state or into a small scratch buffer, and
works through a large parameter piece by piece (`_pieces`). Without weight decay or Nesterov
momentum, a large model then allocates no array per step (allocating, page-faulting and
freeing the plain formula's temporaries cost more than its arithmetic), and each piece stays
in the CPU cache for all of the update's dozen passes instead of streaming the whole parameter
through memory once per pass. The parameter's gradient is only read, never written; the state
arrays (`optimizer.state`) change in place, as PyTorch's do. A subclass that overrides
`_update` alone gets its own formula everywhere, never its parent's twin. Where numba is
installed, Adam's twin hands large arrays to a fused kernel (`adam_kernel.py`) that does the same
operations in one pass, again bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..arguments import real_number
from ..engine import Node, Value
from ..guards import mark_changed
from ..modes import enable_grad
from ..nn.module import Module, reset_gradients
from ..tensors import quiet
from . import adam_kernel


def _check_number(
    name: str, value: Any, low: float = 0.0, high: float = math.inf, high_open: bool = False
) -> float:
    value = real_number(value, name)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < low or value > high or (high_open and value == high):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must be in [{low}, {high}{bracket}, got {value}")
    return value


def _check_pair(
    name: str, value: Any, low: float = 0.0, high: float = math.inf, high_open: bool = False
) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a pair of numbers, got {value!r:.60}")
    return (
        _check_number(f"{name}[0]", value[0], low, high, high_open),
        _check_number(f"{name}[1]", value[1], low, high, high_open),
    )


def _check_count(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r:.60}")
    return int(value)


def _zeros_like(data: Any) -> Any:
    return np.zeros_like(data) if isinstance(data, np.ndarray) else 0.0


# The bytes of one array's piece in an in-place update: the six arrays an Adam step touches
# then fit together in a 2 MiB L2 cache.
_PIECE_BYTES = 256 * 1024


def _pieces(*arrays: np.ndarray) -> Sequence[tuple[np.ndarray, ...]]:
    """Same-shape arrays cut into matching flat pieces of `_PIECE_BYTES` (views, so writes land
    in the arrays). Small arrays, or arrays not all C-contiguous, come whole, as one piece."""
    size = arrays[0].size
    piece = _PIECE_BYTES // arrays[0].itemsize
    if size <= piece or not all(a.flags.c_contiguous for a in arrays):
        return (arrays,)
    flats = [a.reshape(-1) for a in arrays]  # views of C-contiguous arrays
    return [tuple(f[lo : lo + piece] for f in flats) for lo in range(0, size, piece)]


def _fits_in_place(data: Any, grad: Any, state: dict[str, Any]) -> bool:
    """Whether an in-place update may run: a writable array parameter (not 0-d: numpy turns
    0-d results into scalars, which have no `out=`), with a gradient and writable state arrays
    of its shape and dtype (a user may have swapped the parameter's array for another dtype)."""
    if type(data) is not np.ndarray or not data.ndim or not data.flags.writeable:
        return False
    arrays = [v for v in state.values() if isinstance(v, np.ndarray)]
    return all(
        type(a) is np.ndarray and a.shape == data.shape and a.dtype == data.dtype for a in [grad, *arrays]
    ) and all(a.flags.writeable for a in arrays)


def _maximum(a: Any, b: Any) -> Any:
    """The larger of two numbers or, for arrays, of each pair; nan wins, as in torch.maximum."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.maximum(a, b)
    return a if a != a or a >= b else b


def _sign(x: Any) -> Any:
    """-1, 0 or 1 as torch.sign gives them, which is 0 for nan (numpy's sign gives nan)."""
    return np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0))


def _sqrt(x: Any) -> Any:
    return np.sqrt(x) if isinstance(x, (np.ndarray, np.floating)) else math.sqrt(x)


def _copied(value: Any) -> Any:
    """A copy that later steps cannot change: arrays copied, lists, tuples and dicts item by item
    (LBFGS keeps lists of arrays), numbers and the rest as they are."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    return value


def _loaded(name: str, value: Any, data: Any) -> Any:
    """A saved state value as this optimizer's own would be, for a parameter holding `data`:
    a copy; "step" a whole number (PyTorch counts in a float tensor); an array of the parameter's
    shape in its dtype; any other 0-d array (PyTorch's scalars, after `.numpy()`) a float."""
    if isinstance(value, list):
        return [_loaded(name, v, data) for v in value]
    if name == "step":
        return int(value)
    if isinstance(value, np.ndarray):
        if isinstance(data, np.ndarray) and value.shape == data.shape:
            return value.astype(data.dtype)  # (a copy)
        return float(value) if value.ndim == 0 else value.copy()
    return value


class _Option:
    """A hyper-parameter read and written as an attribute (`opt.lr`, `self.momentum`), kept in the
    parameter groups. Outside a step it reads the value every group shares, and assigning one
    (see `Optimizer.__setattr__`) checks it and sets it in every group. During a step, the options
    of the group being updated sit in the optimizer's own `__dict__`, which Python reads before a
    descriptor without `__set__`: the formulas then read plain attributes, at full speed."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, opt: Optimizer | None, owner: type | None = None) -> Any:
        return self if opt is None else opt._shared(self.name)


def _parameter_list(params: Any, who: str) -> list[Any]:
    """The parameters given to an optimizer or a group, as a list, with an error naming what to
    pass where a model, a single parameter or something else came instead."""
    if isinstance(params, Module):
        raise TypeError(
            f"{who} got a {type(params).__name__} model, not its parameters: pass model.parameters()"
        )
    params = [params] if isinstance(params, Node) else list(params)
    if not params:
        raise ValueError(f"{who} got an empty parameter list: pass model.parameters()")
    for i, p in enumerate(params):
        if isinstance(p, Module):
            raise TypeError(f"parameter {i} is a {type(p).__name__} model: pass model.parameters()")
        if not isinstance(p, Node):
            raise TypeError(f"parameter {i} is a {type(p).__name__}, not a Value or Tensor")
        if not p.is_leaf:  # stepping a computed node would change nothing the user made
            raise ValueError(
                f"parameter {i} is the result of an operation, not a leaf: optimize "
                "the Value or Tensor you made (with requires_grad), e.g. w rather than w * 2, as in PyTorch"
            )
    return params


def _gradient(p: Node) -> Any:
    """The gradient a step uses, or None for a parameter it leaves alone, as PyTorch's optimizers
    leave out a parameter whose grad is None: a frozen parameter gets no gradient there. A
    Tensor's grad is None or an array, as in PyTorch (a frozen Tensor with a grad left from
    before is stepped with it, as there); a Value's grad is always a number, 0.0 when frozen,
    so a Value that does not require grad is the one left out (else momentum, weight decay and
    Adam's state would still move it)."""
    if not p.requires_grad and isinstance(p, Value):
        return None
    return p.grad


class Optimizer:
    """Holds the parameters in `param_groups` and per-parameter `state` (a dict keyed by the
    parameter), as PyTorch does. With `maximize=True` an optimizer climbs the objective instead
    (it steps along +grad, as PyTorch's do)."""

    lr = _Option()
    maximize = _Option()
    _state_per_parameter = True  # each state array has its parameter's shape (not so for LBFGS)

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        if not isinstance(defaults, dict) or "lr" not in defaults:
            raise TypeError(
                f"defaults must be a dict of the optimizer's options with 'lr', got {defaults!r:.60}"
            )
        self.defaults = self._checked(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Any, dict[str, Any]] = {}
        self._scratch: dict[tuple[np.dtype, int], np.ndarray] = {}  # see `_work_array`
        if isinstance(params, Node):
            raise TypeError(f"{type(self).__name__} got a single {type(params).__name__}: pass a list, [p]")
        if isinstance(params, Module):
            groups: list[Any] = [{"params": params}]  # refused by add_param_group, saying why
        else:
            groups = list(params)
            if not groups or not all(isinstance(g, dict) for g in groups):
                groups = [{"params": groups}]  # else per-group options: [{"params": ..., "lr": ...}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add parameters with their own options; the options a group does not name come from the
        constructor's (`defaults`), as in PyTorch."""
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"a parameter group is a dict with 'params', got {param_group!r:.80}")
        params = _parameter_list(param_group["params"], type(self).__name__)
        seen = set(self.state)
        for i, p in enumerate(params):
            if p in seen:
                raise ValueError(f"parameter {i} appears twice in the optimizer: give each parameter once")
            seen.add(p)
        group = self._checked({**self.defaults, **param_group, "params": params})
        self.param_groups.append(group)
        self.state.update((p, {}) for p in params)

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        """A copy of `options` with every hyper-parameter checked and made a float or bool (each
        optimizer adds its own); raises naming the first bad one."""
        options = dict(options)
        options["lr"] = _check_number("lr", options["lr"])
        if "maximize" in options:
            options["maximize"] = bool(options["maximize"])
        return options

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(getattr(type(self), name, None), _Option):
            self._set_everywhere(name, value)
        else:
            super().__setattr__(name, value)

    def _shared(self, name: str) -> Any:
        """The option all groups agree on (outside a step)."""
        self._check_has_option(name)
        values = [group[name] for group in self.param_groups]
        if any(v != values[0] for v in values):
            raise AttributeError(
                f"the parameter groups have different {name} values {values}: "
                f"read optimizer.param_groups[i][{name!r}]"
            )
        return values[0]

    def _check_has_option(self, name: str) -> None:
        if name not in self.defaults:  # e.g. LBFGS has no `maximize`
            raise AttributeError(f"{type(self).__name__} has no option {name!r}")

    def _set_everywhere(self, name: str, value: Any) -> None:
        self._check_has_option(name)
        # every group checked before any changes, so a refused value leaves all as they were
        checked = [self._checked({**group, name: value})[name] for group in self.param_groups]
        for group, new in zip(self.param_groups, checked):
            group[name] = new

    @property
    def params(self) -> list[Any]:
        """Every parameter, group after group."""
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict[str, Any]:
        """The training state, to save with the weights and resume a run exactly, in PyTorch's
        layout: {"state": {index: {name: value}}, "param_groups": [{option: value, "params":
        [indices]}]}, each parameter named by its index (in order across the groups) and only
        parameters that have state listed. Arrays are copies: later steps leave it as it is."""
        index = {p: i for i, p in enumerate(self.params)}
        return {
            "state": {index[p]: _copied(state) for p, state in self.state.items() if state},
            "param_groups": [
                {
                    **_copied({k: v for k, v in group.items() if k != "params"}),
                    "params": [index[p] for p in group["params"]],
                }
                for group in self.param_groups
            ],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take over a saved training state (from `state_dict`, or PyTorch's with its tensors made
        arrays by `.numpy()`): each group's options and each parameter's state, matched by position,
        copied. Everything is checked first, so a refused state leaves the optimizer as it was."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise TypeError(
                "load_state_dict takes what optimizer.state_dict() gives, a dict with 'state' and "
                f"'param_groups', got {state_dict!r:.80}"
            )
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"the saved state has {len(saved_groups)} parameter groups, this optimizer "
                f"{len(self.param_groups)}: load it into an optimizer made with the same groups"
            )
        groups: list[dict[str, Any]] = []
        by_index: dict[Any, Any] = {}  # a saved index: this optimizer's parameter
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            saved_params = list(saved["params"])
            if len(saved_params) != len(group["params"]):
                raise ValueError(
                    f"parameter group {i} has {len(saved_params)} parameters in the saved state and "
                    f"{len(group['params'])} in this optimizer: load it into an optimizer of the same model"
                )
            missing = [name for name in self.defaults if name not in saved]
            if missing:
                raise ValueError(
                    f"saved parameter group {i} has no {missing} ({type(self).__name__}'s options): "
                    "was it saved from another kind of optimizer?"
                )
            options = _copied({k: v for k, v in saved.items() if k != "params"})
            groups.append(self._checked({**options, "params": group["params"]}))
            by_index.update(zip(saved_params, group["params"]))
        state: dict[Any, dict[str, Any]] = {p: {} for p in self.params}
        for index, saved_state in state_dict["state"].items():
            if index not in by_index:
                raise ValueError(
                    f"the saved state has state for parameter {index!r}, which none of its groups lists"
                )
            p = by_index[index]
            state[p] = {name: _loaded(name, value, p.data) for name, value in saved_state.items()}
            for name, value in state[p].items():
                if self._state_per_parameter and np.ndim(value) and np.shape(value) != np.shape(p.data):
                    raise ValueError(
                        f"the saved {name!r} of parameter {index} has shape {np.shape(value)}, the "
                        f"parameter {np.shape(p.data)}: was it saved for another model?"
                    )
        self.param_groups[:] = groups
        self.state = state

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient, as PyTorch 2's `Optimizer.zero_grad` (see
        `nn.module.reset_gradients`: None by default, zeros with set_to_none=False)."""
        reset_gradients(self.params, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in IEEE arithmetic as PyTorch does: an inf
        or nan in a gradient (or eps=0 with a zero gradient) makes inf or nan weights, without a
        numpy RuntimeWarning and without a Python ZeroDivisionError or math domain error.

        `closure`, as in PyTorch: a function that clears the gradients, computes the loss, calls
        its `backward()` and returns it; it runs first (with grad on) and its loss is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        quiet(self._step)()
        return loss

    def _step(self) -> None:
        in_place = self._has_in_place_twin()
        for group in self.param_groups:
            options = {name: group[name] for name in self.defaults}
            self.__dict__.update(options)  # the group's options, as plain attributes (see `_Option`)
            try:
                for p in group["params"]:
                    grad = _gradient(p)
                    if grad is None:
                        continue
                    if self.maximize:
                        grad = -grad
                    data, state = p.data, self.state[p]
                    if in_place and _fits_in_place(data, grad, state):
                        self._update_array(data, grad, state)  # type: ignore[attr-defined]
                    elif isinstance(data, float):
                        data = self._update_float(data, grad, state)
                    else:
                        data = self._update(data, grad, state)
                    self._store(p, data)
            finally:
                for name in options:
                    del self.__dict__[name]

    @staticmethod
    def _store(p: Any, data: Any) -> None:
        """Every change a step makes to a parameter ends here: a Tensor's array was updated in
        place (so views of it stay live) and is stored back; a Value gets its new float. A graph
        made from p before this change is stale now: its version moves on (see guards.py)."""
        p.data = data
        mark_changed(p)

    def _update_float(self, data: float, grad: float, state: dict[str, Any]) -> float:
        """`_update` on a Value's floats, which stay Python floats, in the state too. Where Python
        raises (1/0, sqrt of a rounding error below 0) it is run again, from the state as it was,
        on numpy float64 scalars, which give IEEE's inf and nan like the arrays of a Tensor (the
        same idea as engine._compute)."""
        saved = dict(state)
        try:
            data = self._update(data, grad, state)
        except (ZeroDivisionError, OverflowError, ValueError):
            state.clear()
            state.update({k: np.float64(v) if isinstance(v, float) else v for k, v in saved.items()})
            data = self._update(np.float64(data), np.float64(grad), state)
        if type(data) is not float:  # numpy scalars: from the rerun, or a formula written in numpy
            for key, value in state.items():
                if isinstance(value, (np.floating, np.ndarray)):
                    state[key] = float(value)
            data = float(data)
        return data

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _has_in_place_twin(self) -> bool:
        """Whether the class whose `_update` is in effect also defines `_update_array`, its
        in-place twin for arrays (see the module doc)."""
        for klass in type(self).__mro__:
            if "_update" in vars(klass):
                return "_update_array" in vars(klass)
        return False

    def _work_array(self, like: np.ndarray, which: int = 0) -> np.ndarray:
        """Scratch space of `like`'s shape and dtype, for the intermediates of an in-place update.

        One flat buffer per (dtype, which) serves every parameter and piece (sized for the
        largest), allocated once. Its contents are garbage between calls: keep no reference.
        """
        key = (like.dtype, which)
        buffer = self._scratch.get(key)
        size = like.size
        if buffer is None or buffer.size < size:
            buffer = self._scratch[key] = np.empty(size, dtype=like.dtype)
        return buffer[:size] if like.ndim == 1 else buffer[:size].reshape(like.shape)

    def __repr__(self) -> str:
        """PyTorch's layout: each parameter group in order, with every option it holds by name,
        so that a group's own lr (or momentum) reads as that group's, as PyTorch users know it."""
        groups = "".join(
            f"\nParameter Group {i}\n"
            + "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
            for i, group in enumerate(self.param_groups)
        )
        return f"{type(self).__name__} ({groups})"


# Each `_update` returns the new data. Arrays are updated in place (`data -= ...`), so a
# Tensor keeps its array object; floats are rebound. Both read the same way.


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 weight decay."""

    momentum, dampening, weight_decay, nesterov = _Option(), _Option(), _Option(), _Option()

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        options = dict(momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, dict(lr=lr, **options, maximize=maximize))

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked(options)
        for name in ("momentum", "dampening", "weight_decay"):
            options[name] = _check_number(name, options[name])
        options["nesterov"] = bool(options["nesterov"])
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("nesterov momentum requires a momentum > 0 and zero dampening")
        return options

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        if self.momentum:
            if "momentum_buffer" not in state:
                buf = grad.copy() if isinstance(grad, np.ndarray) else grad
            else:
                buf = self.momentum * state["momentum_buffer"] + (1 - self.dampening) * grad
            state["momentum_buffer"] = buf
            grad = grad + self.momentum * buf if self.nesterov else buf
        data -= self.lr * grad
        return data

    def _update_array(self, data: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        # `_update`, operation for operation, piece by piece into scratch and state (module doc)
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                for b, g in _pieces(buf, grad):
                    work = self._work_array(g)
                    np.multiply(b, self.momentum, out=b)
                    np.multiply(g, 1 - self.dampening, out=work)
                    b += work
            grad = grad + self.momentum * buf if self.nesterov else buf
        for d, g in _pieces(data, grad):
            work = self._work_array(g)
            np.multiply(g, self.lr, out=work)
            d -= work


def _checked_moments(options: dict[str, Any]) -> dict[str, Any]:
    """The options Adam, AdamW and Adamax share, checked."""
    options["betas"] = _check_pair("betas", options["betas"], 0.0, 1.0, high_open=True)
    options["eps"] = _check_number("eps", options["eps"])
    options["weight_decay"] = _check_number("weight_decay", options["weight_decay"])
    return options


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction; `weight_decay` is L2 added to the gradient;
    `amsgrad` divides by the largest second moment seen so far (Reddi et al.)."""

    decoupled = False
    betas, eps, weight_decay, amsgrad = _Option(), _Option(), _Option(), _Option()

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        options = dict(betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, dict(lr=lr, **options, maximize=maximize))

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        options = _checked_moments(super()._checked(options))
        options["amsgrad"] = bool(options["amsgrad"])
        return options

    def _begin_step(self, data: Any, grad: Any, state: dict[str, Any]) -> tuple[Any, Any, int]:
        """Weight decay and the step count, the same for both forms of the update:
        the (decayed) data, the gradient with L2 added, and the step number."""
        if self.decoupled:
            data *= 1 - self.lr * self.weight_decay
        elif self.weight_decay:
            grad = grad + self.weight_decay * data
        if not state:
            state.update(step=0, exp_avg=_zeros_like(data), exp_avg_sq=_zeros_like(data))
            if self.amsgrad:
                state["max_exp_avg_sq"] = _zeros_like(data)
        state["step"] += 1
        return data, grad, state["step"]

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        beta1, beta2 = self.betas
        data, grad, step = self._begin_step(data, grad, state)
        state["exp_avg"] = m = beta1 * state["exp_avg"] + (1 - beta1) * grad
        state["exp_avg_sq"] = v = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
        if self.amsgrad:
            state["max_exp_avg_sq"] = v = _maximum(state["max_exp_avg_sq"], v)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        denom = _sqrt(v) / math.sqrt(bias_correction2) + self.eps
        data -= (self.lr / bias_correction1) * m / denom
        return data

    def _update_array(self, data: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> None:
        # `_update`, operation for operation, piece by piece into scratch and state (module doc)
        beta1, beta2 = self.betas
        data, grad, step = self._begin_step(data, grad, state)
        step_size, root2 = self.lr / (1 - beta1**step), math.sqrt(1 - beta2**step)
        if adam_kernel.adam_update(
            data, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"),
            self.betas, root2, self.eps, step_size,
        ):  # fmt: skip
            return
        largest = state.get("max_exp_avg_sq", state["exp_avg_sq"])  # amsgrad's, or v itself
        for d, g, m, v, vmax in _pieces(data, grad, state["exp_avg"], state["exp_avg_sq"], largest):
            work, denom = self._work_array(d, 0), self._work_array(d, 1)
            np.multiply(m, beta1, out=m)
            np.multiply(g, 1 - beta1, out=work)
            m += work
            np.multiply(v, beta2, out=v)
            np.multiply(g, 1 - beta2, out=work)
            work *= g
            v += work
            if self.amsgrad:
                np.maximum(vmax, v, out=vmax)
            np.sqrt(vmax, out=denom)
            denom /= root2
            denom += self.eps
            np.multiply(m, step_size, out=work)
            work /= denom
            d -= work


class AdamW(Adam):
    """Adam with decoupled weight decay: the weights shrink by lr * weight_decay each step."""

    decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of recent gradients."""

    alpha, eps, weight_decay, momentum, centered = _Option(), _Option(), _Option(), _Option(), _Option()

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        options = dict(alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered)
        super().__init__(params, dict(lr=lr, **options, maximize=maximize))

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked(options)
        options["alpha"] = _check_number("alpha", options["alpha"], 0.0, 1.0)
        for name in ("eps", "weight_decay", "momentum"):
            options[name] = _check_number(name, options[name])
        options["centered"] = bool(options["centered"])
        return options

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        # the state PyTorch keeps, by its names: grad_avg only when centered, a buffer only with momentum
        if not state:
            state.update(step=0, square_avg=_zeros_like(data))
        state["step"] += 1
        alpha = self.alpha
        state["square_avg"] = square_avg = alpha * state["square_avg"] + (1 - alpha) * grad * grad
        if self.centered:
            grad_avg = state["grad_avg"] if "grad_avg" in state else _zeros_like(data)
            state["grad_avg"] = grad_avg = alpha * grad_avg + (1 - alpha) * grad
            avg = _sqrt(square_avg - grad_avg * grad_avg) + self.eps
        else:
            avg = _sqrt(square_avg) + self.eps
        if self.momentum:
            buf = state["momentum_buffer"] if "momentum_buffer" in state else _zeros_like(data)
            state["momentum_buffer"] = buf = self.momentum * buf + grad / avg
            data -= self.lr * buf
        else:
            data -= self.lr * grad / avg
        return data


class Adagrad(Optimizer):
    """Adagrad: each weight's step shrinks with the sum of its squared gradients."""

    lr_decay, weight_decay, initial_accumulator_value, eps = _Option(), _Option(), _Option(), _Option()

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        options = dict(
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        super().__init__(params, dict(lr=lr, **options, maximize=maximize))

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked(options)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            options[name] = _check_number(name, options[name])
        return options

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        if not state:
            state.update(step=0, sum=_zeros_like(data) + self.initial_accumulator_value)
        state["step"] += 1
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] = total = state["sum"] + grad * grad
        data -= clr * grad / (_sqrt(total) + self.eps)
        return data


class Adamax(Optimizer):
    """Adamax (Kingma & Ba): Adam with the infinity norm, dividing by the largest recent gradient
    size (each step's `|grad| + eps`, or the old one decayed by beta2) instead of a root mean
    square; `weight_decay` is L2 added to the gradient."""

    betas, eps, weight_decay = _Option(), _Option(), _Option()

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        super().__init__(
            params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        )

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        return _checked_moments(super()._checked(options))

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        beta1, beta2 = self.betas
        if not state:
            state.update(step=0, exp_avg=_zeros_like(data), exp_inf=_zeros_like(data))
        state["step"] += 1
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        state["exp_avg"] = m = beta1 * state["exp_avg"] + (1 - beta1) * grad
        state["exp_inf"] = u = _maximum(beta2 * state["exp_inf"], abs(grad) + self.eps)
        data -= self.lr / (1 - beta1 ** state["step"]) * (m / u)
        return data


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky): SGD whose step size eta shrinks as
    lr / (1 + lambd * lr * step) ** alpha, with the weights also shrunk by 1 - lambd * eta, and a
    running average of the weights from step t0 on, kept in `state[p]["ax"]` (the weights
    themselves stay the SGD iterate, as in PyTorch)."""

    lambd, alpha, t0, weight_decay = _Option(), _Option(), _Option(), _Option()

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        options = dict(lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, **options, maximize=maximize))

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked(options)
        for name in ("lambd", "alpha", "weight_decay"):
            options[name] = _check_number(name, options[name])
        options["t0"] = _check_number("t0", options["t0"], -math.inf)
        return options

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        if not state:
            state.update(step=0, eta=self.lr, mu=1.0, ax=_zeros_like(data))
        state["step"] += 1
        step, eta, mu = state["step"], state["eta"], state["mu"]
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        data *= 1 - self.lambd * eta
        data -= eta * grad
        if mu != 1:
            state["ax"] = state["ax"] + (data - state["ax"]) * mu
        else:  # before t0 the "average" is the latest iterate
            state["ax"] = data.copy() if isinstance(data, np.ndarray) else data
        state["eta"] = self.lr / (1 + self.lambd * self.lr * step) ** self.alpha
        state["mu"] = 1 / max(1, step - self.t0)
        return data


class Rprop(Optimizer):
    """Rprop (Riedmiller & Braun): each weight has its own step size, grown by etas[1] while its
    gradient keeps its sign and shrunk by etas[0] when the sign flips (that step is then skipped),
    kept within step_sizes; only the gradient's sign is used, never its size."""

    etas, step_sizes = _Option(), _Option()

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50.0),
        *,
        maximize: bool = False,
    ):
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, maximize=maximize))

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked(options)
        options["etas"] = etaminus, etaplus = _check_pair("etas", options["etas"])
        if not 0 < etaminus < 1 < etaplus:
            raise ValueError(
                f"etas must be (shrink, grow) with 0 < shrink < 1 < grow, got {(etaminus, etaplus)}"
            )
        options["step_sizes"] = low, high = _check_pair("step_sizes", options["step_sizes"])
        if low > high:
            raise ValueError(
                f"step_sizes must be (smallest, largest) with smallest <= largest, got {(low, high)}"
            )
        return options

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        # written in numpy for arrays and floats alike (`_update_float` turns the results back)
        if not state:
            state.update(step=0, prev=_zeros_like(data), step_size=_zeros_like(data) + self.lr)
        state["step"] += 1
        etaminus, etaplus = self.etas
        agreement = _sign(grad * state["prev"])  # 1: same sign as last time; -1: flipped
        factor = np.select([agreement > 0, agreement < 0], [etaplus, etaminus], 1.0).astype(
            np.result_type(data)
        )
        state["step_size"] = step_size = np.clip(state["step_size"] * factor, *self.step_sizes)
        state["prev"] = grad = np.where(agreement < 0, 0.0, grad)  # after a flip: no step, no memory
        data -= _sign(grad) * step_size
        return data


def _cubic_minimum(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> Any:
    """The minimum, kept within `bounds` (default: between x1 and x2), of the cubic through two
    points with their values f and slopes g; the middle of the bounds where it has none."""
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    x1, x2 = np.float64(x1), np.float64(x2)  # IEEE arithmetic: x1 == x2 gives nan, not an error
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if not d2_square >= 0:
        return (low + high) / 2.0
    d2 = np.sqrt(d2_square)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, low), high)


def _strong_wolfe(
    evaluate: Callable[[Any], tuple[float, np.ndarray]],
    t: Any,
    d: np.ndarray,
    f: float,
    g: np.ndarray,
    gtd: Any,
    max_ls: int,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
) -> tuple[float, np.ndarray, Any, int]:
    """A step length t along d that satisfies the strong Wolfe conditions (enough decrease,
    c1, and a flatter slope, c2), as PyTorch's LBFGS finds it: widen until a bracket holds one,
    then zoom in by cubic interpolation. `evaluate(t)` gives the loss and flat gradient at
    x + t d. Returns the loss, gradient and t found, and the number of evaluations.

    A point of the search is (t, loss, gradient, slope along d)."""
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = g_new @ d
    prev = (0, f, g, gtd)
    done = False
    ls_iter = 0
    bracket: list[tuple[Any, float, np.ndarray, Any]] = []
    while ls_iter < max_ls:
        point = (t, f_new, g_new, gtd_new)
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            bracket = [prev, point]  # too high: the minimum lies between
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, done = [point], True
            break
        if gtd_new >= 0:
            bracket = [prev, point]  # rising again: the minimum lies between
            break
        # still falling: try further on, by extrapolation
        t = _cubic_minimum(
            prev[0], prev[1], prev[3], t, f_new, gtd_new, bounds=(t + 0.01 * (t - prev[0]), t * 10)
        )
        prev = point
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new @ d
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [(0, f, g, None), (t, f_new, g_new, None)]

    insufficient_progress = False
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    while not done and ls_iter < max_ls:
        (a, fa, _, ga), (b, fb, _, gb) = bracket
        if abs(b - a) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(a, fa, ga, b, fb, gb)
        # a trial too close to an end of the bracket is moved a tenth of its width inside
        top, bottom = max(a, b), min(a, b)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new @ d
        ls_iter += 1
        point = (t, f_new, g_new, gtd_new)
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = point
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = point
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evals


class LBFGS(Optimizer):
    """L-BFGS, as PyTorch's: a quasi-Newton method that learns the curvature from its last
    `history_size` steps. Each `step(closure)` runs up to `max_iter` iterations, calling the
    closure (clear the gradients, compute the loss, backward, return the loss) up to `max_eval`
    times; `line_search_fn="strong_wolfe"` picks each step length by a line search instead of
    `lr`. One parameter group only; its state lives in `state[first parameter]`."""

    max_iter, max_eval, tolerance_grad, tolerance_change = _Option(), _Option(), _Option(), _Option()
    history_size, line_search_fn = _Option(), _Option()
    _state_per_parameter = False  # flat arrays over all the parameters, in the first one's state

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ):
        max_iter = _check_count("max_iter", max_iter)
        options = dict(
            max_iter=max_iter,
            max_eval=max_iter * 5 // 4 if max_eval is None else max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, dict(lr=lr, **options))

    def _checked(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked(options)
        for name in ("max_iter", "max_eval", "history_size"):
            options[name] = _check_count(name, options[name])
        for name in ("tolerance_grad", "tolerance_change"):
            options[name] = _check_number(name, options[name])
        if options["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"line_search_fn must be None or 'strong_wolfe', got {options['line_search_fn']!r}"
            )
        return options

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS takes one group of parameters (no per-group options), as in PyTorch")
        super().add_param_group(param_group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to `max_iter` iterations; returns the closure's first loss (before any change)."""
        if closure is None:
            raise TypeError(
                "LBFGS.step(closure) needs a closure: a function that clears the gradients, "
                "computes the loss, calls loss.backward() and returns the loss"
            )
        return quiet(self._run)(closure)

    def _flat_grad(self) -> np.ndarray:
        return np.concatenate(
            [
                np.zeros(np.size(p.data), np.result_type(p.data))
                if (grad := _gradient(p)) is None
                else np.ravel(grad)
                for p in self.params
            ]
        )

    def _move(self, t: Any, d: np.ndarray) -> None:
        """Every parameter += t * its piece of the flat direction d."""
        offset = 0
        for p in self.params:
            size = np.size(p.data)
            piece = d[offset : offset + size]
            offset += size
            if isinstance(p.data, np.ndarray):
                p.data += t * piece.reshape(p.data.shape)
                self._store(p, p.data)
            else:
                self._store(p, float(p.data + t * piece[0]))

    def _restore(self, saved: list[Any]) -> None:
        for p, data in zip(self.params, saved):
            if isinstance(p.data, np.ndarray):
                np.copyto(p.data, data)
                data = p.data
            self._store(p, data)

    def _run(self, closure: Callable[[], Any]) -> Any:
        lr, max_iter, max_eval = self.lr, self.max_iter, self.max_eval
        tolerance_grad, tolerance_change, history_size = (
            self.tolerance_grad,
            self.tolerance_change,
            self.history_size,
        )
        state = self.state[self.params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        def evaluate() -> tuple[Any, float, np.ndarray]:
            with enable_grad():
                loss = closure()
            try:
                number = float(loss)
            except (TypeError, ValueError):
                raise TypeError(
                    "the closure must return the loss (a Value, a one-element Tensor or a number), "
                    f"got {type(loss).__name__}"
                ) from None
            return loss, number, self._flat_grad()

        first_loss, loss, flat_grad = evaluate()
        evals = 1
        state["func_evals"] += 1
        if np.abs(flat_grad).max() <= tolerance_grad:
            return first_loss
        # the memory of earlier calls (None before the first iteration)
        d: Any = state.get("d")
        t: Any = state.get("t")
        old_dirs: Any = state.get("old_dirs")
        old_stps: Any = state.get("old_stps")
        ro: Any = state.get("ro")
        H_diag: Any = state.get("H_diag")  # noqa: N806
        prev_flat_grad: Any = state.get("prev_flat_grad")
        prev_loss: Any = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the direction: -grad at first, then -grad times the inverse Hessian that the last
            # steps s and their gradient changes y imply (two-loop recursion)
            if state["n_iter"] == 1:
                d, old_dirs, old_stps, ro, H_diag = -flat_grad, [], [], [], 1.0  # noqa: N806
            else:
                y, s = flat_grad - prev_flat_grad, d * t
                ys = y @ s
                if ys > 1e-10:  # a step that shows positive curvature joins the history
                    if len(old_dirs) == history_size:
                        for memory in (old_dirs, old_stps, ro):
                            memory.pop(0)  # the oldest step leaves the history
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / (y @ y)  # noqa: N806
                al = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in reversed(range(len(old_dirs))):
                    al[i] = (old_stps[i] @ q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = q * H_diag
                for i in range(len(old_dirs)):
                    d = d + (al[i] - (old_dirs[i] @ d) * ro[i]) * old_stps[i]
            prev_flat_grad, prev_loss = flat_grad, loss

            t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad @ d  # the slope along d
            if gtd > -tolerance_change:
                break

            if self.line_search_fn == "strong_wolfe":
                start = [p.data.copy() if isinstance(p.data, np.ndarray) else p.data for p in self.params]

                def along(step: Any, d: np.ndarray = d, start: list[Any] = start) -> tuple[float, np.ndarray]:
                    self._move(step, d)
                    _, number, grad = evaluate()
                    self._restore(start)
                    return number, grad

                loss, flat_grad, t, spent = _strong_wolfe(along, t, d, loss, flat_grad, gtd, max_eval - evals)
                self._move(t, d)
            else:
                self._move(t, d)
                spent = 0
                if n_iter != max_iter:  # the last iteration's loss would not be used
                    _, loss, flat_grad = evaluate()
                    spent = 1
            evals += spent
            state["func_evals"] += spent

            if n_iter == max_iter or evals >= max_eval or np.abs(flat_grad).max() <= tolerance_grad:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break  # no more progress

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag)
        state.update(prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return first_loss
