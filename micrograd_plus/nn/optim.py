"""Optimizers with PyTorch's update formulas and defaults.

One implementation each serves Value parameters (float data and grad) and Tensor
parameters (array data, updated in place): the arithmetic below is written with
operators that mean the same on both. A Tensor whose `.grad` is None is skipped, as in
PyTorch. `lr` is a plain attribute, so a schedule just assigns to it.

Speed (issue 7): for arrays, SGD and Adam also have an in-place twin of that formula
(`_update_array`) that performs the very same floating-point operations in the same order,
so the result is bit for bit the same (tests/nn/test_fast_forms_equal_plain.py checks it), but
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
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..engine import Node
from ..guards import mark_changed
from ..tensors import quiet
from . import adam_kernel


def _check_number(
    name: str, value: Any, low: float = 0.0, high: float = math.inf, high_open: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}: {value!r:.60}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < low or value > high or (high_open and value == high):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must be in [{low}, {high}{bracket}, got {value}")
    return value


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


def _sqrt(x: Any) -> Any:
    return np.sqrt(x) if isinstance(x, (np.ndarray, np.floating)) else math.sqrt(x)


class Optimizer:
    """Holds the parameters, a writable `lr`, and per-parameter state. With `maximize=True`
    every optimizer climbs the objective instead (it steps along +grad, as PyTorch's do)."""

    def __init__(self, params: Iterable[Any], lr: float, maximize: bool = False):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list: pass model.parameters()")
        for i, p in enumerate(self.params):
            if not isinstance(p, Node):
                raise TypeError(f"parameter {i} is a {type(p).__name__}, not a Value or Tensor")
        self.lr = lr
        self.maximize = bool(maximize)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self._scratch: dict[tuple[np.dtype, int], np.ndarray] = {}  # see `_work_array`

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_number("lr", value)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient (Value: 0.0, Tensor: None)."""
        for p in self.params:
            p.zero_grad()

    def step(self) -> None:
        """Update every parameter that has a gradient, in IEEE arithmetic as PyTorch does: an inf
        or nan in a gradient (or eps=0 with a zero gradient) makes inf or nan weights, without a
        numpy RuntimeWarning and without a Python ZeroDivisionError or math domain error."""
        quiet(self._step)()

    def _step(self) -> None:
        in_place = self._has_in_place_twin()
        for p, state in zip(self.params, self.state):
            grad = p.grad
            if grad is None:
                continue
            if self.maximize:
                grad = -grad
            data = p.data
            if in_place and _fits_in_place(data, grad, state):
                self._update_array(data, grad, state)  # type: ignore[attr-defined]
            elif isinstance(data, float):
                p.data = self._update_float(data, grad, state)
            else:
                p.data = self._update(data, grad, state)
            mark_changed(p)  # a graph made from p before this step is stale now (see guards.py)

    def _update_float(self, data: float, grad: float, state: dict[str, Any]) -> float:
        """`_update` on a Value's floats. Where Python raises (1/0, sqrt of a rounding error below
        0) it is run again, from the state as it was, on numpy float64 scalars, which give IEEE's
        inf and nan like the arrays of a Tensor (the same idea as engine._compute)."""
        saved = dict(state)
        try:
            return self._update(data, grad, state)
        except (ZeroDivisionError, OverflowError, ValueError):
            state.clear()
            state.update({k: np.float64(v) if isinstance(v, float) else v for k, v in saved.items()})
            data = float(self._update(np.float64(data), np.float64(grad), state))
            for key, value in state.items():
                if isinstance(value, np.floating):
                    state[key] = float(value)
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
        return f"{type(self).__name__}(lr={self.lr}, {len(self.params)} parameters)"


# Each `_update` returns the new data. Arrays are updated in place (`data -= ...`), so a
# Tensor keeps its array object; floats are rebound. Both read the same way.


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 weight decay."""

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
        super().__init__(params, lr, maximize)
        self.momentum = _check_number("momentum", momentum)
        self.dampening = _check_number("dampening", dampening)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov momentum requires a momentum > 0 and zero dampening")
        self.nesterov = bool(nesterov)

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


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction; `weight_decay` is L2 added to the gradient;
    `amsgrad` divides by the largest second moment seen so far (Reddi et al.)."""

    decoupled = False

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
        super().__init__(params, lr, maximize)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair like (0.9, 0.999), got {betas!r}")
        self.betas = (
            _check_number("betas[0]", betas[0], 0.0, 1.0, high_open=True),
            _check_number("betas[1]", betas[1], 0.0, 1.0, high_open=True),
        )
        self.eps = _check_number("eps", eps)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)

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
        super().__init__(params, lr, maximize)
        self.alpha = _check_number("alpha", alpha, 0.0, 1.0)
        self.eps = _check_number("eps", eps)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.momentum = _check_number("momentum", momentum)
        self.centered = bool(centered)

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        if self.weight_decay:
            grad = grad + self.weight_decay * data
        if not state:
            state.update(
                square_avg=_zeros_like(data), grad_avg=_zeros_like(data), momentum_buffer=_zeros_like(data)
            )
        alpha = self.alpha
        state["square_avg"] = square_avg = alpha * state["square_avg"] + (1 - alpha) * grad * grad
        if self.centered:
            state["grad_avg"] = grad_avg = alpha * state["grad_avg"] + (1 - alpha) * grad
            avg = _sqrt(square_avg - grad_avg * grad_avg) + self.eps
        else:
            avg = _sqrt(square_avg) + self.eps
        if self.momentum:
            state["momentum_buffer"] = buf = self.momentum * state["momentum_buffer"] + grad / avg
            data -= self.lr * buf
        else:
            data -= self.lr * grad / avg
        return data


class Adagrad(Optimizer):
    """Adagrad: each weight's step shrinks with the sum of its squared gradients."""

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
        super().__init__(params, lr, maximize)
        self.lr_decay = _check_number("lr_decay", lr_decay)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.initial_accumulator_value = _check_number("initial_accumulator_value", initial_accumulator_value)
        self.eps = _check_number("eps", eps)

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
