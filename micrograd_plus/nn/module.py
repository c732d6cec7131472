"""Module: the base class of every layer and model, as PyTorch users know it.

`Module` works as PyTorch users know it: assign parameters (Values or Tensors that require
grad) and sub-modules as attributes, or in lists of them, and `parameters()` finds them,
in the order they were assigned. A subclass writes only `__init__` and `forward`.

Every module is also noted, weakly, when it is made, so that `parameter_names` can tell
the viewers (drawings, narration, the player, `explain_grad`) what a parameter is called in
the model that holds it (`layers.0.neurons.3.w.0`) without the user passing the model in,
and without writing anything into the parameter itself (its `label` stays the user's).
"""

from __future__ import annotations

import itertools
import numbers
import random
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..arguments import true_or_false
from ..engine import Node
from ..factories import make_generator
from ..guards import mark_changed
from ..hooks import RemovableHandle
from ..tensors import Tensor, requested_dtype
from . import backward_hooks, forward_hooks

Seed = int | random.Random | np.random.Generator | None


def make_rng(seed: Seed) -> random.Random:
    """A private random generator for micrograd's uniform draws: a Random is used as it is, an int
    seeds a new one, a numpy Generator or None (the package's stream: fresh each run until
    `manual_seed`, then repeatable) seeds one from its stream. The seeds the Tensor layers take,
    refused as they refuse them; the global `random` state is never touched."""
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return random.Random(int(seed))
    # a numpy Generator, or None: the package's stream (a bool, a negative int or text is refused there)
    return random.Random(int(make_generator(seed).integers(2**63)))


# Every live module, keyed by the order it was made in (see parameter_names).
_LIVE: weakref.WeakValueDictionary[int, Module] = weakref.WeakValueDictionary()
_MADE = itertools.count()


def Parameter(data: Tensor, requires_grad: bool = True) -> Tensor:  # noqa: N802 (PyTorch's name)
    """PyTorch's `nn.Parameter(t)`: a leaf sharing t's array that requires grad, so that a Module
    finds it when it is assigned as an attribute. Here any leaf Tensor that requires grad is a
    parameter, so this gives a plain Tensor (`isinstance(p, nn.Parameter)` has no meaning), and
    a frozen one (`requires_grad=False`) would not be found: it is refused."""
    if not isinstance(data, Tensor):
        raise TypeError(
            f"Parameter() takes a Tensor, got {type(data).__name__}: {data!r:.60}; "
            "wrap it first, e.g. Parameter(tensor(...)) or Parameter(randn(()))"
        )
    if not requires_grad:
        raise ValueError(
            "Parameter(t, requires_grad=False): here a parameter is a Tensor that requires grad, so this "
            'one would be missing from parameters() and state_dict(); keep a fixed array with self.register_buffer("name", array)'
        )
    return data.detach().requires_grad_()


class Module:
    """Base class: finds parameters and sub-modules among the attributes.

    State that is saved but not trained (BatchNorm's running statistics) is a *buffer*: a
    numpy array registered with `register_buffer`, listed by `named_buffers()` and kept in
    `state_dict()`, never in `parameters()`."""

    training: bool = True
    # A module's own once it has a hook (forward_hooks.py): until then, the class's None.
    _forward_hooks: forward_hooks.ForwardHooks | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Module:
        # Here rather than in __init__: subclasses need not call super().__init__().
        module = super().__new__(cls)
        _LIVE[next(_MADE)] = module
        return module

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # A module without its own __init__ (Tanh, Sigmoid) lands here: refuse what it was
        # given, as PyTorch does (object.__init__ stays silent because __new__ is overridden).
        if args or kwargs:
            given = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
            raise TypeError(f"{type(self).__name__}() takes no arguments, got {', '.join(given):.200}")

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Tensor) and name in vars(self).get("_buffer_names", ()):
            value = value.data  # a buffer is an array here (see register_buffer)
        if value is None and isinstance(vars(self).get(name), Module):
            # a sub-module's place emptied stays one, as in PyTorch's _modules: add_module may fill it
            vars(self).setdefault("_empty_children", set()).add(name)
        # A parameter stays one when it is frozen later (`p.requires_grad = False`), as in
        # PyTorch: still in parameters() and state_dict(). So the leaves that required grad when
        # an attribute was assigned are remembered in the module itself (see `_ASSIGNED`).
        leaves = _parameter_leaves(value)
        record = vars(self).get(_ASSIGNED)
        if leaves or (record is not None and name in record):
            _remember_leaves(self, name, leaves)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in vars(self).get(_ASSIGNED, ()):
            _remember_leaves(self, name, [])
        vars(self).get("_empty_children", set()).discard(name)
        buffers = vars(self).get("_buffer_names", [])
        if name in buffers:
            buffers.remove(name)  # as PyTorch's: a deleted buffer leaves the state
        object.__delattr__(self, name)

    def _was_assigned_as_parameter(self, name: str, member: Node) -> bool:
        """Whether a node member (named as `_members` names it) is a leaf that required grad
        when its attribute was assigned: a frozen parameter, still a parameter. (Callers test
        `member.requires_grad` first, inline: parameters() does it for every parameter of every step.)"""
        return member in vars(self).get(_ASSIGNED, {}).get(name.partition(".")[0], ())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        hooks = self._forward_hooks
        if hooks is None:  # (the one test a call without hooks pays: a model is called in every step)
            return self.forward(*args, **kwargs)
        return hooks.call(self, args, kwargs)

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call `hook(module, args)` before each `forward`, as PyTorch's: `args` is the tuple of
        positional inputs; what the hook returns, unless None, replaces them (a single value is
        taken as a tuple of one). With `with_kwargs=True` it is `hook(module, args, kwargs)` and
        returns None or a pair `(args, kwargs)`. Hooks run in the order registered, `prepend=True`
        puts this one first. Only a call of the module runs them (`module(x)`, not
        `module.forward(x)`). Returns a handle: `handle.remove()`, or `with handle:`."""
        return forward_hooks.register(self, (hook, with_kwargs), "pre", prepend)

    def register_forward_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Call `hook(module, args, output)` after each `forward`, as PyTorch's: the way to see
        what each layer computes (`activations[name] = output`); what the hook returns, unless
        None, replaces the output, and the next hook gets it. `args` are the inputs forward was
        given (after the pre-hooks); with `with_kwargs=True` it is `hook(module, args, kwargs,
        output)`. `always_call=True` runs it even when forward or a hook raises, before the error
        goes on: with output None if a pre-hook or forward raised, with forward's output (as the
        hooks before it left it) if a later forward hook did. Order and handle as
        `register_forward_pre_hook`."""
        return forward_hooks.register(self, (hook, with_kwargs, always_call), "post", prepend)

    def register_full_backward_pre_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Call `hook(module, grad_output)` in each backward pass through a call of this module,
        before the gradients of its inputs are computed, as PyTorch's: `grad_output` is a tuple
        with the gradient of each output Tensor (None for one no gradient reached); a tuple the
        hook returns replaces it. Hooks run in the order registered (`prepend=True`: first),
        those registered at the call; a module of Values (Neuron, Layer, MLP) is refused. Returns
        a handle: `handle.remove()`, or `with handle:`."""
        backward_hooks.refuse_value_module(self)
        return forward_hooks.register(self, (hook,), "backward_pre", prepend)

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Call `hook(module, grad_input, grad_output)` in each backward pass through a call of
        this module, once the gradients of its inputs are computed, as PyTorch's: `grad_input`
        has one entry per positional input (its gradient, zeros for a Tensor that does not
        require grad, None for other arguments; all None, with a warning, when no input requires
        grad), `grad_output` as for `register_full_backward_pre_hook`. A tuple the hook returns
        replaces grad_input, so it is what flows on to the inputs (the way to clip or scale what
        flows into a layer). The parameters' gradients are not in grad_input. Order, modules
        and handle as `register_full_backward_pre_hook`."""
        backward_hooks.refuse_value_module(self)
        return forward_hooks.register(self, (hook,), "backward", prepend)

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """PyTorch's deprecated backward hook, which misses gradients: refused, naming the one to use."""
        raise RuntimeError(
            "register_backward_hook is PyTorch's deprecated module backward hook (it may miss some "
            "grad_input) and is not here: use register_full_backward_hook(hook), which takes the same "
            "hook(module, grad_input, grad_output)"
        )

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def extra_repr(self) -> str:
        """The module's own settings, shown inside the parentheses of its repr (PyTorch's hook):
        override it to return, say, "in_features=2, out_features=3"; lines apart on lines apart."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout, so that `print(net)` shows a model's structure: `Net()` alone, or
        the `extra_repr` lines, then each sub-module as `(attribute): repr`, indented, nested."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({label}): {indented(text)}" for label, text in self._child_reprs()]
        lines = extra_lines + child_lines
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({lines[0]})"
        body = "".join(f"\n  {line}" for line in lines)
        return f"{type(self).__name__}({body}\n)" if body else f"{type(self).__name__}()"

    def _child_reprs(self) -> list[tuple[str, str]]:
        """(label, repr) of each sub-module, as `__repr__` lists them (ModuleList joins runs)."""
        return [(name, repr(m)) for name, m in self._members() if isinstance(m, Module)]

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, member) for each attribute that is a node or a module, lists unrolled."""
        for name, value in vars(self).items():
            if isinstance(value, (Node, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Node, Module)):
                        yield f"{name}.{i}", item

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, with dotted names ('' for this one). A module
        used twice is listed once, under its first name (as in PyTorch)."""
        return _first_of_each(self._all_modules(prefix))

    def _all_modules(self, prefix: str) -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, member in self._members():
            if isinstance(member, Module):
                yield from member._all_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> list[Module]:
        return [m for _, m in self.named_modules()]

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct sub-module, in assignment order; a module held twice
        is listed once, under its first name (as in PyTorch). The modules of a plain list
        attribute count too, named as in `named_parameters` ("layers.0")."""
        return _first_of_each((name, m) for name, m in self._members() if isinstance(m, Module))

    def children(self) -> list[Module]:
        return [m for _, m in self.named_children()]

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every sub-module, children before their parent and self last, as
        PyTorch's `Module.apply` (used to initialise weights: `model.apply(init_weights)`).
        Returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def add_module(self, name: str, module: Module | None) -> None:
        """`self.<name> = module`, with PyTorch's checks: for a name made at run time
        (`self.add_module(f"layer{i}", layer)`). A name taken by anything but a sub-module (a
        method, a parameter, a buffer, a None bias) is refused, as PyTorch refuses it; a
        sub-module's name, or one left empty (`add_module(name, None)`, or a sub-module
        attribute set to None), is filled."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        checked_child_name(name, "module name", error=KeyError)
        if hasattr(self, name):
            current = getattr(self, name)
            empty_slot = current is None and name in vars(self).get("_empty_children", ())
            if not (isinstance(current, Module) or empty_slot):
                raise KeyError(f"attribute '{name}' already exists")
        if module is None:
            vars(self).setdefault("_empty_children", set()).add(name)
        setattr(self, name, module)

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias of `add_module`, as in PyTorch."""
        self.add_module(name, module)

    def get_submodule(self, target: str) -> Module:
        """The sub-module a dotted name names, as `named_modules()` spells it ("" for this one):
        `model.get_submodule("layers.0.neurons.3")`, `seq.get_submodule("0")`. As PyTorch's, an
        AttributeError names the first part that is missing or not a module."""
        if target == "":
            return self
        _, name, member = self._member_at(target)
        if not isinstance(member, Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        return member

    def get_parameter(self, target: str) -> Node:
        """The parameter a dotted name names, as `named_parameters()` spells it
        (`"0.weight"`, `"layers.0.neurons.3.w.0"`); an AttributeError otherwise, as PyTorch's."""
        owner, name, member = self._member_at(target)
        if not (
            isinstance(member, Node)
            and (member.requires_grad or owner._was_assigned_as_parameter(name, member))
        ):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return member

    def _member_at(self, target: str) -> tuple[Module, str, Any]:
        """(the module holding it, its name there, the member) for a dotted path, walked part by
        part as PyTorch's `get_submodule` walks it, but with an item of a list attribute as one
        step ("layers.0"), as `named_parameters` names it."""
        if not isinstance(target, str):
            raise TypeError(
                f"the target must be a dotted name (a str), got {type(target).__name__}: {target!r:.60}"
            )
        module: Module = self
        parts = target.split(".")
        while True:
            name = parts.pop(0)
            if parts and isinstance(vars(module).get(name), (list, tuple)):
                name = f"{name}.{parts.pop(0)}"  # an item of a list attribute
            members = dict(module._members())
            if name in members:
                member = members[name]
            elif "." not in name and hasattr(module, name):
                member = getattr(module, name)
            else:
                raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
            if not parts:
                return module, name, member
            if not isinstance(member, Module):
                raise AttributeError(f"`{name}` is not an nn.Module")
            module = member

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """(dotted name, parameter) for every node that requires grad, in assignment order.
        A parameter reached twice (a layer used twice) is listed once, under its first name,
        as in PyTorch: an optimizer must not step it twice."""
        return _first_of_each(self._all_parameters(prefix))

    def _all_parameters(self, prefix: str) -> Iterator[tuple[str, Node]]:
        for name, member in self._members():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(member, Module):
                yield from member._all_parameters(full)
            elif member.requires_grad or self._was_assigned_as_parameter(name, member):
                yield full, member

    def parameters(self) -> list[Any]:
        """The live parameter nodes, as `named_parameters()` lists them: write `.data` to
        change the model."""
        if type(self).named_parameters is not Module.named_parameters:  # a subclass's own listing
            return [p for _, p in self.named_parameters()]
        found: list[Any] = []
        self._collect_parameters(found, set())
        return found

    def _collect_parameters(self, found: list[Any], seen: set[Node]) -> None:
        # `_all_parameters` without the names and (unless a subclass lists its own members) the
        # generators: a training step asks for its parameters two or three times (penalty,
        # zero_grad, update), and they were most of the cost. `seen` holds the nodes themselves
        # (hashed by identity): no id() call and no int made per parameter.
        if type(self)._members is Module._members:
            entries: Iterable[tuple[str, Any]] = vars(self).items()
        else:
            entries = list(self._members())
        for name, value in entries:
            for member in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(member, Module):
                    member._collect_parameters(found, seen)
                elif (
                    isinstance(member, Node)
                    and (member.requires_grad or self._was_assigned_as_parameter(name, member))
                    and member not in seen
                ):
                    seen.add(member)
                    found.append(member)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (`False`) or unfreeze (`True`) every parameter, as PyTorch's: a frozen one gets
        no gradient and optimizers skip it, yet stays in `parameters()` and `state_dict()`
        (fine-tuning: `model.requires_grad_(False)`, then `model.head.requires_grad_()`).
        Returns self."""
        if not isinstance(requires_grad, bool):
            raise TypeError(
                f"requires_grad_(): argument 'requires_grad' must be bool, not {type(requires_grad).__name__}; "
                "pass True (train) or False (freeze)"
            )
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient, as PyTorch 2's `Module.zero_grad` (see `reset_gradients`)."""
        reset_gradients(self.parameters(), set_to_none)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (True) or eval mode (False) on this module and every sub-module, as
        PyTorch does: layers such as Dropout read `self.training`. Returns self."""
        if not isinstance(mode, bool):
            raise ValueError(
                f"training mode is expected to be boolean, got {type(mode).__name__}: {mode!r:.60}"
            )
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Eval mode for this module and every sub-module (`train(False)`): Dropout is the identity."""
        return self.train(False)

    def to(self, *targets: Any, device: Any = None, dtype: Any = None) -> Module:
        """PyTorch's `model.to(device)`, `model.to(dtype)`: the CPU is the one device here (a
        device "cpu" changes nothing); a dtype (float32 or float64) converts every Tensor
        parameter, its gradient and every floating buffer, in place. Returns the model."""
        wanted = requested_dtype((*targets, device, dtype), "to")
        if wanted is None:
            return self
        for p in self.parameters():
            if not isinstance(p.data, np.ndarray):
                if wanted != np.float64:
                    raise TypeError(
                        f"to({wanted}): {type(p).__name__} parameters hold Python floats (float64); "
                        "use Tensor layers (e.g. MLP.to_sequential()) for float32"
                    )
                continue
            if p.data.dtype != wanted:
                p.data = p.data.astype(wanted)
                mark_changed(p)  # graphs made before read the old data: stale
                if p.grad is not None:
                    p.grad = p.grad.astype(wanted)
        for module in self.modules():
            for name in vars(module).get("_buffer_names", ()):
                array = getattr(module, name)
                if isinstance(array, np.ndarray) and array.dtype.kind == "f":
                    setattr(module, name, array.astype(wanted))
        return self

    def cpu(self) -> Module:
        """The model itself: it is on the CPU already (PyTorch's `model.cpu()`)."""
        return self

    def float(self) -> Module:
        """`to(float32)`, as PyTorch's `model.float()`."""
        return self.to(np.float32)

    def double(self) -> Module:
        """`to(float64)`, as PyTorch's `model.double()`."""
        return self.to(np.float64)

    def register_buffer(self, name: str, array: np.ndarray | Tensor | None) -> None:
        """Keep `array` as the attribute `name`: saved in `state_dict()`, not a parameter (as
        PyTorch's running statistics). Assign a new array to the attribute to change it; None
        (as PyTorch) registers a buffer that is left out of `state_dict()` until it is set. A
        buffer is a numpy array here: a Tensor given (`torch.tril(torch.ones(n, n))` in PyTorch
        code), now or assigned later, is kept as its array, the same numbers, shared."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a buffer name must be a Python identifier without dots, got {name!r:.60}")
        if array is not None and not isinstance(array, (np.ndarray, Tensor)):
            raise TypeError(
                f"buffer {name!r} must be a numpy array, a Tensor or None, got {type(array).__name__}; "
                "use np.asarray(...) for numbers"
            )
        names = vars(self).setdefault("_buffer_names", [])
        if name not in names:
            if hasattr(self, name):
                raise KeyError(f"attribute {name!r} already exists: a buffer needs a name of its own")
            names.append(name)
        setattr(self, name, array)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) for the buffers of this module and every sub-module."""
        for module_name, module in self.named_modules(prefix):
            dot = f"{module_name}." if module_name else ""
            for name in vars(module).get("_buffer_names", ()):
                array = getattr(module, name)
                if array is not None:
                    yield dot + name, array

    def buffers(self) -> list[np.ndarray]:
        return [b for _, b in self.named_buffers()]

    def _state_entries(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, entry) in PyTorch's state_dict order: each module's own parameters,
        then its buffers, then its sub-modules' entries. An entry is a parameter node, or a
        buffer as (module, attribute name). As in PyTorch, what is held twice (tied weights,
        `head.weight = emb.weight`; a layer used twice) is listed under each of its names, where
        `named_parameters` lists it once: the names match the PyTorch model's, shared or not."""
        for module_name, module in self._all_modules(""):
            dot = f"{module_name}." if module_name else ""
            for name, member in module._members():
                if isinstance(member, Node) and (
                    member.requires_grad or module._was_assigned_as_parameter(name, member)
                ):
                    yield dot + name, member
            for name in vars(module).get("_buffer_names", ()):
                if getattr(module, name) is not None:
                    yield dot + name, (module, name)

    def state_dict(self) -> dict[str, Any]:
        """A copy of every parameter's data and every buffer by name, as in PyTorch: a float
        for a Value, an array for a Tensor or a buffer."""
        return {name: _copy_data(_read(entry)) for name, entry in self._state_entries()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> _IncompatibleKeys:
        """Copy data into the parameters and buffers, as PyTorch's: with `strict` (the default)
        the names must be exactly the module's, else a RuntimeError lists the missing and the
        unexpected ones; `strict=False` loads the names both have. Shapes must match either way:
        a RuntimeError lists every size mismatch, in PyTorch's words (after the missing and
        unexpected names, when strict); data that is not numbers is a ValueError. Nothing is
        copied unless everything fits. Returns PyTorch's result: `.missing_keys` and `.unexpected_keys`,
        printed `<All keys matched successfully>` when both are empty. A Tensor parameter's own
        array takes the numbers (as PyTorch's `copy_`), so what shares it (`p.numpy()`,
        `from_numpy`'s array, an optimizer) sees them."""
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"load_state_dict() takes a dict of name -> data, got {type(state_dict).__name__}"
            )
        strict = true_or_false(strict, "load_state_dict(): strict")
        entries = dict(self._state_entries())
        result = _IncompatibleKeys(
            [name for name in entries if name not in state_dict],
            [name for name in state_dict if name not in entries],
        )
        loaded = {name: entry for name, entry in entries.items() if name in state_dict}
        key_errors = _key_errors(result) if strict else []
        sizes = [_size_mismatch(name, _read(entry), state_dict[name]) for name, entry in loaded.items()]
        if key_errors or any(sizes):
            errors = key_errors + [line for line in sizes if line is not None]
            raise RuntimeError(
                _load_error_message(type(self).__name__, errors, names_differ=bool(key_errors))
            )
        new_data = {
            name: _checked_data(name, _read(entry), state_dict[name]) for name, entry in loaded.items()
        }
        for name, entry in loaded.items():  # only after every entry was validated: all or nothing
            if isinstance(entry, Node):
                if isinstance(entry.data, np.ndarray) and entry.data.flags.writeable:
                    np.copyto(entry.data, new_data[name])  # in place, as PyTorch's: views stay live
                else:
                    entry.data = new_data[name]
                mark_changed(entry)  # graphs made from the old data are stale (see guards.py)
            else:
                module, attribute = entry
                setattr(module, attribute, new_data[name])
        return result


class _IncompatibleKeys(NamedTuple):
    """What `load_state_dict` returns, as PyTorch's (same name, fields and printing)."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


def _key_errors(keys: _IncompatibleKeys) -> list[str]:
    return [
        f"{what} key(s) in state_dict: " + ", ".join('"' + name + '"' for name in names) + ". "
        for what, names in (("Missing", keys.missing_keys), ("Unexpected", keys.unexpected_keys))
        if names
    ]


def _size_mismatch(name: str, current: Any, given: Any) -> str | None:
    """PyTorch's line for an array entry saved with another shape (None: the shapes agree, as
    `_loadable_shape` has it, or the entry is one number, which `_checked_data` checks)."""
    if not isinstance(current, np.ndarray) or not hasattr(given, "shape"):
        return None
    if _loadable_shape(tuple(given.shape), current.shape) == current.shape:
        return None
    return (
        f"size mismatch for {name}: copying a param with shape {tuple(given.shape)} from checkpoint, "
        f"the shape in current model is {current.shape}."
    )


def _load_error_message(model: str, errors: list[str], names_differ: bool) -> str:
    """PyTorch's wording, so a search for the message finds the usual causes and fixes."""
    hint = "(was the state saved from a model of another shape?"
    hint += " strict=False loads the names both have)" if names_differ else ")"
    return f"Error(s) in loading state_dict for {model}:\n\t" + "\n\t".join(errors) + f"\n\t{hint}"


def checked_child_name(name: Any, what: str, error: type[Exception] = ValueError) -> str:
    """A sub-module's name given by the user (an `add_module` name, a ModuleDict key, a
    Sequential's OrderedDict key), checked as PyTorch's `add_module` checks it: a non-empty str
    without a dot. `what` names them in the error ("ModuleDict keys"); `error` is raised for an
    empty or dotted one (PyTorch's `add_module` raises a KeyError)."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be str, got {type(name).__name__}: {name!r:.60}")
    if not name or "." in name:
        raise error(
            f"{what} must be non-empty and without '.' (the dot joins the names in a parameter's "
            f"name, as 'fc1.weight'), got {name!r:.60}"
        )
    return name


def indented(text: str, spaces: int = 2) -> str:
    """`text` with every line but the first indented (blank ones left empty): a sub-module's
    repr inside its parent's, as PyTorch's `_addindent`."""
    first, *rest = text.split("\n")
    return "\n".join([first, *((" " * spaces + line if line.strip() else "") for line in rest)])


def reset_gradients(parameters: Iterable[Any], set_to_none: bool = True) -> None:
    """Reset each parameter's gradient as PyTorch 2's `zero_grad(set_to_none)` does, for
    `Module.zero_grad` and `Optimizer.zero_grad`. A Tensor's grad becomes None (the default),
    or with set_to_none=False zeros written into its own array, as PyTorch's `grad.zero_()`
    (so `g = p.grad` held before sees the zeros; a read-only array set by hand is replaced by
    new zeros); a grad that is None stays None either way, as in PyTorch. The difference shows
    in an optimizer step with no backward in between: None is skipped, zeros are stepped
    (momentum and weight decay still move the parameter). A Value's grad is a number, so it
    becomes 0.0 either way."""
    set_to_none = true_or_false(set_to_none, "zero_grad(): set_to_none")
    for p in parameters:
        grad = p.grad
        p.zero_grad()
        if not set_to_none and isinstance(grad, np.ndarray):
            if not grad.flags.writeable:
                grad = np.zeros_like(grad)
            grad.fill(0)  # in its own array, as PyTorch's p.grad.zero_()
            p.grad = grad


def parameter_names(nodes: Iterable[Node]) -> dict[Node, str]:
    """The name each of `nodes` that is a parameter has in the live model holding it, as
    that model's `named_parameters()` spells it (`layers.0.neurons.3.w.0`): the viewers show
    these instead of `v39`. A model is a module no other live module holds; when two hold
    the same parameter, the one made first names it. Leaves that require grad only."""
    wanted = {node for node in nodes if node._op is None and node.requires_grad}
    if not wanted:
        return {}
    modules = [module for _, module in sorted(_LIVE.items())]
    inner = {id(child) for module in modules for child in module.children()}
    names: dict[Node, str] = {}
    for module in modules:
        if id(module) in inner:
            continue
        for name, p in module.named_parameters():
            if isinstance(p, Node) and p in wanted:
                names.setdefault(p, name)
    return names


def _parameter_leaves(value: Any) -> list[Node]:
    """The leaf nodes that require grad in an attribute's value (a node, or a list or tuple)."""
    items = value if isinstance(value, (list, tuple)) else (value,)
    return [x for x in items if isinstance(x, Node) and x.requires_grad and x._op is None]


# The attribute of a module that holds {attribute name: set of the leaves that required grad when
# it was assigned}: a set of the nodes themselves (hashed by identity), so that `copy.deepcopy`
# gives the copy the copies of the same leaves (its frozen parameters stay parameters, as in PyTorch).
_ASSIGNED = "_assigned_parameters"


def _remember_leaves(module: Module, name: str, leaves: list[Node]) -> None:
    """Note `leaves` as what attribute `name` held when assigned (none: forget it). The record is
    replaced, not changed, so a `copy.copy` of the module, which shares it, keeps its own."""
    record = {key: held for key, held in vars(module).get(_ASSIGNED, {}).items() if key != name}
    if leaves:
        record[name] = set(leaves)
    object.__setattr__(module, _ASSIGNED, record)


def _first_of_each(named: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """The (name, object) pairs with each object kept at its first appearance only."""
    seen: set[int] = set()
    for name, item in named:
        if id(item) not in seen:
            seen.add(id(item))
            yield name, item


def _copy_data(data: Any) -> Any:
    return data.copy() if isinstance(data, np.ndarray) else data


def _read(entry: Any) -> Any:
    """The data of a state entry: a parameter's `.data`, or a buffer's array."""
    return entry.data if isinstance(entry, Node) else getattr(*entry)


def _checked_data(name: str, current: Any, given: Any) -> Any:
    """`given` as the data of a parameter like `current`: real numbers of its shape, copied."""
    if isinstance(current, np.ndarray):
        array = np.asarray(given)
        kinds, what = ("iu", "integers") if current.dtype.kind in "iu" else ("iuf", "real numbers")
        if _loadable_shape(array.shape, current.shape) != current.shape or array.dtype.kind not in kinds:
            raise ValueError(
                f"entry {name!r}: expected {what} of shape {current.shape}, got {array.dtype} of shape {array.shape}"
            )
        return array.reshape(current.shape).astype(current.dtype, copy=True)
    array = np.asarray(given)
    if array.size != 1 or array.dtype.kind not in "iuf":
        raise ValueError(f"parameter {name!r}: expected one real number, got {given!r:.80}")
    return float(array.reshape(()))


def _loadable_shape(given: tuple[int, ...], current: tuple[int, ...]) -> tuple[int, ...]:
    """The shape a saved entry loads as: its own, but a (1,) entry into a 0-d one loads as 0-d,
    as in PyTorch (which keeps the checkpoints of its 0.3, before 0-d tensors, loading)."""
    return () if given == (1,) and current == () else given
