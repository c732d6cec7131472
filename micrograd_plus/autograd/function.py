"""`Function`: PyTorch's custom autograd function (`torch.autograd.Function`), built on `Op`.

A subclass gives a static `forward(ctx, *args)` and `backward(ctx, *grad_outputs)`, and is used as
`MyFn.apply(*args)`. Each call makes one node whose Op is named after the class (so `grad_fn`,
drawings, stepping, anomaly mode and the gradient checks show it) and whose rule calls the
subclass's `backward`. The rule is handed arrays in a plain backward pass, nodes under
`grad(..., create_graph=True)`: `backward` always sees Tensors (or Values), and under create_graph
its Tensor operations record a graph, so a Function can be differentiated twice.
"""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine import Node, Op, Value
from ..gradients import leaf_like
from ..modes import no_grad
from ..tensors import Tensor, unbroadcast

_NOTHING = object()


class FunctionCtx:
    """The `ctx` of one call: `forward` saves what `backward` needs (`save_for_backward`, or any
    attribute: `ctx.constant = 2`); `needs_input_grad` says, per argument of forward, whether it
    is a Tensor that requires grad."""

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self._saved: tuple[Any, ...] = ()
        self._result: Any = _NOTHING  # what forward returned, and the node made of it (saved_tensors)
        self._output: Callable[[], Any] = lambda: None

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep Tensors (or None) for backward, as PyTorch; other values go in attributes."""
        for index, t in enumerate(tensors):
            if t is not None and not isinstance(t, Node):
                raise TypeError(
                    f"save_for_backward can only save Tensors (or None), but argument {index} is of type "
                    f"{type(t).__name__}; keep other values as attributes instead (ctx.name = value)"
                )
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """What forward saved; its output stands for the node of the graph made of it, so that a
        backward reading it is differentiated through it under create_graph (as in PyTorch)."""
        output = self._output()
        if output is None:
            return self._saved
        return tuple(output if t is self._result else t for t in self._saved)


class Function:
    """PyTorch's `torch.autograd.Function`: subclass it with two static methods, then call
    `apply` (never the class or its methods directly).

    >>> class Cube(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x**3
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (x,) = ctx.saved_tensors
    ...         return grad_output * 3 * x**2
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward()
    >>> x.grad
    array([ 3., 12.])

    forward runs without recording (as under `no_grad()`) and returns one Tensor; arguments that
    are not Tensors (numbers, strings) pass through, and backward returns one gradient per
    argument of forward (None for those). Values work as well as Tensors (not mixed).
    """

    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> Any:
        """PyTorch 2's other style: given, forward takes no ctx and this fills it afterwards."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function "
            "to use it with backward mode AD."
        )

    def __call__(self, *args: Any) -> Any:
        raise RuntimeError(
            f"call {type(self).__name__}.apply(...) on the class: a Function's methods are static, "
            "and its instances are not called (PyTorch's 'Legacy autograd function' error)"
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """forward on the arguments, recorded as one node of the graph whose rule calls backward.
        Keywords are bound to forward's parameters, as PyTorch 2 does: they count as arguments
        in their parameters' places (`needs_input_grad`, backward's gradients)."""
        args = _bound(cls, args, kwargs)
        nodes: list[Any] = [a for a in args if isinstance(a, Node)]
        kind = Tensor if nodes and isinstance(nodes[0], Tensor) else Value
        if any(not isinstance(n, kind) for n in nodes):
            raise TypeError(f"{cls.__name__}.apply: Values and Tensors cannot be arguments of one call")
        ctx = FunctionCtx(tuple(isinstance(a, Node) and a.requires_grad for a in args))
        result = _run_forward(cls, ctx, args)
        if not nodes:
            return result  # nothing to differentiate: forward's output as it is (as PyTorch)
        if not isinstance(result, kind):
            raise TypeError(_not_one_output(cls.__name__, result, kind.__name__))
        # The Op's forward gives the result just computed; once the node is made, it becomes
        # forward run again (on new data, with a new ctx), for check_local_derivatives.
        op = Op(cls.__name__, lambda *datas: result.data, _rule(cls, ctx, args))
        out = kind.apply(op, *nodes)
        op.forward = op.array_forward = _forward_again(cls, args)
        ctx._output = weakref.ref(out)  # (weak: the node holds ctx)
        if not any(result is a for a in args):  # (an argument returned as it is stays itself)
            ctx._result = result
        return out


def _overrides(cls: type, name: str) -> bool:
    return getattr(cls, name) is not getattr(Function, name)


def _bound(cls: type[Function], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """forward's arguments in its parameters' order, as PyTorch 2 binds them: with setup_context,
    every parameter (defaults filled in); else those up to the last one given."""
    with_ctx = not _overrides(cls, "setup_context")
    if with_ctx and not kwargs:
        return args
    stand_in_for_ctx = [None] if with_ctx else []  # forward takes ctx first, unless setup_context
    try:
        bound = inspect.signature(cls.forward).bind(*stand_in_for_ctx, *args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{cls.__name__}.apply: {error} (the arguments of {cls.__name__}.forward)") from None
    if not with_ctx:
        bound.apply_defaults()
    if bound.kwargs:  # keywords that cannot take a place among the arguments
        missing = [name for name in bound.signature.parameters if name not in bound.arguments]
        raise TypeError(
            f"{cls.__name__}.apply: {', '.join(bound.kwargs)} given by keyword cannot take a place among "
            f"forward's arguments: "
            + (f"give {missing[0]!r} before it too" if missing else "give it by position")
        )
    return bound.args[len(stand_in_for_ctx) :]


def _run_forward(cls: type[Function], ctx: FunctionCtx, args: Sequence[Any]) -> Any:
    with no_grad():
        if _overrides(cls, "setup_context"):
            output = cls.forward(*args)
            cls.setup_context(ctx, tuple(args), output)
            return output
        return cls.forward(ctx, *args)


def _forward_again(cls: type[Function], args: Sequence[Any]) -> Callable[..., Any]:
    """forward on new data for the node arguments (the others as they were), with a new ctx."""

    def forward(*datas: Any) -> Any:
        new = iter(datas)
        # new leaves of the data as given (the checker's float64 copies stay float64, as its steps need)
        fresh = [leaf_like(a, next(new)) if isinstance(a, Node) else a for a in args]
        return _run_forward(cls, FunctionCtx(tuple(False for _ in args)), fresh).data

    return forward


def _not_one_output(name: str, result: Any, kind: str) -> str:
    if isinstance(result, (tuple, list)):
        return (
            f"{name}.forward returned a {type(result).__name__} of {len(result)} outputs; a Function "
            f"here makes one output: return one {kind} (join several with mg.stack or mg.cat and "
            f"index the result, or write one Function per output)"
        )
    return (
        f"{name}.forward must return a {kind} computed from its arguments, got {type(result).__name__} "
        f"{result!r:.60}; wrap numbers or arrays: mg.tensor(...)"
    )


def _rule(cls: type[Function], ctx: FunctionCtx, args: Sequence[Any]) -> Callable[..., list[Any]]:
    """The node's rule: the upstream gradient as a Tensor (or Value) to backward, its answer
    checked and turned back into what the walk expects (arrays, or nodes under create_graph)."""

    def rule(g: Any, out: Any, *inputs: Any) -> list[Any]:
        on_nodes = isinstance(g, Node)  # under grad(..., create_graph=True): record the graph
        with contextlib.nullcontext() if on_nodes else no_grad():
            upstream = g if on_nodes else ctx._output()._constant_like(g)
            returned = cls.backward(ctx, upstream)
        return _contributions(cls.__name__, returned, args, on_nodes)

    return rule


def _contributions(name: str, returned: Any, args: Sequence[Any], on_nodes: bool) -> list[Any]:
    """One gradient per node argument, from backward's one per argument (PyTorch's rules: extra
    trailing Nones are dropped; an argument that is not a Tensor gets None)."""
    grads = tuple(returned) if isinstance(returned, (tuple, list)) else (returned,)
    if len(grads) > len(args) and all(c is None for c in grads[len(args) :]):
        grads = grads[: len(args)]
    if len(grads) != len(args):
        raise RuntimeError(
            f"function {name}.backward returned an incorrect number of gradients (expected {len(args)}, "
            f"got {len(grads)}): return one per argument of forward, in order, None for an argument "
            "that needs no gradient"
        )
    contributions = []
    for index, (arg, c) in enumerate(zip(args, grads)):
        if not isinstance(arg, Node):
            if c is not None:
                raise RuntimeError(
                    f"function {name}.backward returned a gradient different than None for argument "
                    f"{index} of forward, which is not a Tensor but a {type(arg).__name__} "
                    f"({arg!r:.40}): return None in its place"
                )
            continue
        contributions.append(None if c is None else _fitted(name, index, arg, c, on_nodes))
    return contributions


def _fitted(name: str, index: int, arg: Node, c: Any, on_nodes: bool) -> Any:
    """backward's gradient `c` for node argument `arg`: of its kind, summed to its shape where it
    broadcast (as PyTorch), in its dtype; a fresh array on raw data (a leaf may keep it as .grad)."""
    is_tensor = isinstance(arg, Tensor)
    accepted = (Tensor, np.ndarray) if is_tensor else (Value, int, float)
    if not isinstance(c, accepted) or isinstance(c, bool):
        raise RuntimeError(
            f"function {name}.backward returned a {type(c).__name__} as the gradient of argument {index}; "
            f"expected {' or '.join(t.__name__ for t in accepted)} or None"
        )
    if is_tensor:
        shape, got = arg.data.shape, np.shape(c.data if isinstance(c, Node) else c)
        if got != shape:
            try:
                expandable = np.broadcast_shapes(shape, got) == got
            except ValueError:
                expandable = False
            if not expandable:
                raise RuntimeError(
                    f"function {name}.backward returned an invalid gradient for argument {index}: shape "
                    f"{got}, but that argument has shape {shape}; return a gradient of its shape"
                )
            c = unbroadcast(c, shape)
    if on_nodes:
        if not isinstance(c, Node):
            return arg._constant_like(np.asarray(c, dtype=arg.data.dtype) if is_tensor else float(c))
        return c.to(dtype=arg.data.dtype) if isinstance(c, Tensor) and c.data.dtype != arg.data.dtype else c
    data = c.data if isinstance(c, Node) else c
    return np.array(data, dtype=arg.data.dtype) if is_tensor else float(data)
