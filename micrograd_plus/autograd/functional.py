"""`torch.autograd.functional`: derivatives of a whole function, `func(*inputs)`, built on `grad`.

- `vjp(func, inputs, v)`: v^T J, one backward pass;
- `jacobian(func, inputs)`: J, one backward pass per output element;
- `jvp(func, inputs, v)`: J v, by the double backward trick (J^T u is linear in u, so its gradient
  with respect to u, along v, is J v): reverse mode twice stands for forward mode;
- `vhp`, `hvp`, `hessian`: second derivatives, the first gradient made with create_graph=True.

The signatures and the nesting of the results are torch's: a Tensor given alone comes back alone,
a tuple of Tensors as a tuple (and `jacobian` of several outputs by several inputs is a tuple of
tuples, `[i][j]` = d output_i / d input_j). Each input is a fresh leaf for `func`, so `func` may
use the given Tensors elsewhere; with `create_graph=True` the results stay connected to them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..engine import Value
from ..gradients import grad
from ..modes import enable_grad
from ..tensors import Tensor, stack

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

Tensors = tuple[Tensor, ...]


def vjp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """`(func(*inputs), v^T J)`: the vector-Jacobian product, shaped as `inputs`. `v` is shaped
    as func's output; it may be left out when that is a single number."""
    with enable_grad():
        inputs_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
        ins = _fresh(ins, create_graph)
        outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "vjp")
        _check_outputs(outs, strict)
        vs = _vector(v, outs, outputs_tuple, _ONE_NUMBER_OUTPUT, "vjp", create_graph)
    with enable_grad() if create_graph else contextlib.nullcontext():
        result = _fill_in_zeros(_grads(outs, ins, vs, create_graph), ins, strict, create_graph, _BACK)
    return _handed_back(outs, outputs_tuple, result, inputs_tuple, create_graph)


def jvp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """`(func(*inputs), J v)`: the Jacobian-vector product, shaped as func's output. `v` is
    shaped as `inputs`; it may be left out when that is a single number. Computed by the double
    backward trick, so every rule on the way must be differentiable (those of the table are)."""
    with enable_grad():
        inputs_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
        ins = _fresh(ins, create_graph)
        vs = _vector(v, ins, inputs_tuple, _ONE_NUMBER_INPUT, "jvp", create_graph)
        outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "jvp")
        _check_outputs(outs, strict)
    result = _double_backward(outs, ins, vs, outs, create_graph, strict, _BACK_TRICK, first=_GRADIENT)
    return _handed_back(outs, outputs_tuple, result, outputs_tuple, create_graph)


def jacobian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of `func` at `inputs`: d output / d input of shape `output.shape +
    input.shape`, computed row by row (one backward pass per output element). Nested as torch's:
    a Tensor for one input and one output, a tuple over inputs or over outputs, a tuple of
    tuples (`[i][j]`: output i, input j) for both. `vectorize=True` and
    `strategy="forward-mode"` (PyTorch's vmap and forward-mode AD) are refused."""
    _refuse_options(vectorize, strategy, "jacobian", "strategy")
    with enable_grad():
        inputs_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
        ins = _fresh(ins, create_graph)
        outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "jacobian")
        _check_outputs(outs, strict)
        jacobians = tuple(_jacobian_of(i, out, ins, create_graph, strict) for i, out in enumerate(outs))
    nested = tuple(_detached(row, create_graph) for row in jacobians)
    return _unpack(tuple(_unpack(row, inputs_tuple) for row in nested), outputs_tuple)


def hessian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of `func` (which returns a single number) at `inputs`: the jacobian of its
    gradient, of shape `input_i.shape + input_j.shape` for each pair, nested as torch's (a
    Tensor for one input, a tuple of tuples for several)."""
    _refuse_options(vectorize, outer_jacobian_strategy, "hessian", "outer_jacobian_strategy")
    inputs_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs: Tensor) -> Tensors:
        def single_number(*ys: Tensor) -> Tensor:
            out = func(*ys)
            _as_tuple(out, "outputs of the user-provided function", "hessian")
            _check_single_number(out, "hessian")
            _check_outputs((out,), strict)
            return out.squeeze()

        first = jacobian(single_number, xs, create_graph=True)
        _fill_in_zeros(first, xs, strict, True, _FIRST_DERIVATIVE)  # (its strict checks only)
        return first  # type: ignore[no-any-return]

    nested = jacobian(gradient, ins, create_graph=create_graph, strict=strict)  # [i][j]: d grad_i / d x_j
    return _unpack(tuple(_unpack(row, inputs_tuple) for row in nested), inputs_tuple)


def vhp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """`(func(*inputs), v^T H)`: the vector-Hessian product of `func` (which returns a single
    number), shaped as `inputs`: the gradient of `v . grad(func)`."""
    start = _second_order(func, inputs, v, create_graph, strict, "vhp")
    with enable_grad() if create_graph else contextlib.nullcontext():
        found = _grads(start.first, start.ins, start.vs, create_graph)
        result = _fill_in_zeros(found, start.ins, strict, create_graph, _DOUBLE_BACK)
    return _handed_back(start.outs, start.outputs_tuple, result, start.inputs_tuple, create_graph)


def hvp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """`(func(*inputs), H v)`: the Hessian-vector product, shaped as `inputs`, by the double
    backward trick on the gradient (as PyTorch; for a twice continuously differentiable func,
    H is symmetric and `vhp` gives the same, with one backward pass less)."""
    start = _second_order(func, inputs, v, create_graph, strict, "hvp")
    result = _double_backward(
        start.first, start.ins, start.vs, start.ins, create_graph, strict, _DOUBLE_BACK_TRICK
    )
    return _handed_back(start.outs, start.outputs_tuple, result, start.inputs_tuple, create_graph)


# -- the pieces they share ------------------------------------------------------------------------

_ONE_NUMBER_INPUT = "the input to the user-provided function is a single Tensor with a single element"
_ONE_NUMBER_OUTPUT = "the user-provided function returns a single Tensor with a single element"


class _Stage(NamedTuple):
    """What strict mode says of a gradient it refuses at one stage of a derivative (PyTorch's
    words, formatted with the `input` index, and the `output` index for a jacobian): `unused`
    when nothing reached that input, `constant` when the gradient does not depend on the inputs
    (checked under create_graph, where it would be differentiated again)."""

    unused: str
    constant: str


_REFUSED = " This is not allowed in strict mode."
_UNDER_CREATE_GRAPH = " This is not allowed in strict mode when create_graph=True."
_OUTPUT_INDEPENDENT = "The output of the user-provided function is independent of input {input}." + _REFUSED
_JACOBIAN_CONSTANT = (
    "The jacobian of the user-provided function is independent of input {input}." + _UNDER_CREATE_GRAPH
)
_HESSIAN_CONSTANT = (
    "The hessian of the user-provided function is independent of input {input}." + _UNDER_CREATE_GRAPH
)
# vjp's v^T J; jvp's J v (by the trick); vhp's v^T H; hvp's H v (by the trick on the gradient)
_BACK = _Stage(_OUTPUT_INDEPENDENT, _JACOBIAN_CONSTANT)
_BACK_TRICK = _Stage(
    "The gradient with respect to the input is independent of entry {input} in the grad_outputs when using "
    "the double backward trick to compute forward mode gradients." + _REFUSED,
    _JACOBIAN_CONSTANT,
)
_DOUBLE_BACK = _Stage(
    "The jacobian of the user-provided function is independent of input {input}." + _REFUSED,
    _HESSIAN_CONSTANT,
)
_DOUBLE_BACK_TRICK = _Stage(
    "The hessian of the user-provided function is independent of entry {input} in the grad_jacobian. This "
    "is not allowed in strict mode as it prevents from using the double backward trick to replace forward "
    "mode AD.",
    _HESSIAN_CONSTANT,
)
# jacobian's rows (torch names the output's index where it says "input" under create_graph)
_JACOBIAN = _Stage(
    "Output {output} of the user-provided function is independent of input {input}." + _REFUSED,
    "The jacobian of the user-provided function is independent of input {output}." + _UNDER_CREATE_GRAPH,
)
# checked before going on (for constancy even without create_graph): jvp's u^T J, and the
# gradient that vhp, hvp and hessian differentiate again
_GRADIENT = _Stage(
    _OUTPUT_INDEPENDENT,
    "The gradient with respect to input {input} is independent of the inputs of the user-provided function."
    + _REFUSED,
)
_FIRST_DERIVATIVE = _Stage(
    _OUTPUT_INDEPENDENT,
    "While computing the hessian, found that the jacobian of the user-provided function with respect to "
    "input {input} is independent of the input. This is not allowed in strict mode. You should ensure that "
    "your function is twice differentiable and that the jacobian depends on the inputs (this would be "
    "violated by a linear function for example).",
)


def _as_tuple(x: Any, what: str, who: str) -> tuple[bool, Tensors]:
    """(whether x was a tuple, x as a tuple of Tensors), refusing anything else."""
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for index, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {index}" if is_tuple else f"the given {what}"
            hint = " (Values: use mg.grad for their derivatives)" if isinstance(item, Value) else ""
            raise TypeError(
                f"The {what} given to {who} must be either a Tensor or a tuple of Tensors but {where} "
                f"has type {type(item).__name__}{hint}."
            )
    return is_tuple, items


def _fresh(inputs: Tensors, create_graph: bool, need_graph: bool = True) -> Tensors:
    """A new Tensor per input: connected to it under create_graph if it requires grad (a view,
    as PyTorch's `x.view_as(x)`), else a new leaf that requires grad if `need_graph` (func's
    inputs) or not (v): `func` sees Tensors of its own."""
    return tuple(
        x.view(x.shape) if create_graph and x.requires_grad else x.detach().requires_grad_(need_graph)
        for x in inputs
    )


def _vector(
    v: Any, refs: Tensors, refs_tuple: bool, when_optional: str, who: str, create_graph: bool
) -> tuple[Any, ...]:
    """v as a tuple shaped as `refs` (in the graph under create_graph, as PyTorch, else constants),
    or the default (None: a seed of 1) where refs is one number."""
    if v is None:
        if len(refs) != 1 or refs[0].data.size != 1:
            raise RuntimeError(f"The vector v can only be None if {when_optional}.")
        return (None,)
    _, vs = _as_tuple(v, "v", who)
    if len(vs) != len(refs):
        raise RuntimeError(
            f"v is a tuple of invalid length: should be {len(refs)} but got {len(vs)}."
            if refs_tuple
            else "The given v should contain a single Tensor."
        )
    for index, (x, ref) in enumerate(zip(vs, refs)):
        if x.shape != ref.shape:
            entry = f"Entry {index} in " if refs_tuple else ""
            raise RuntimeError(f"{entry}v has invalid size: should be {ref.shape} but got {x.shape}.")
    return _fresh(vs, create_graph, need_graph=False)


def _check_outputs(outs: Tensors, strict: bool) -> None:
    for index, out in enumerate(outs):
        if strict and not out.requires_grad:
            raise RuntimeError(
                f"Output {index} of the user-provided function does not require gradients. The outputs "
                "must be computed in a differentiable manner from the input when running in strict mode."
            )


def _check_single_number(out: Tensor, who: str) -> None:
    if not isinstance(out, Tensor):
        raise RuntimeError(f"The function given to {who} should return a single Tensor")
    if out.data.size != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {who} should contain a single element "
            f"(it has shape {out.shape}); reduce it first, e.g. with .sum()"
        )


def _grads(outs: Sequence[Any], ins: Sequence[Tensor], vs: Sequence[Any], create_graph: bool) -> list[Any]:
    """`grad` of the outputs that require grad along their v (None: a seed of 1), skipping the
    others (None among them); None for the inputs that none of them reaches."""
    pairs = [(out, v) for out, v in zip(outs, vs) if out is not None and out.requires_grad]
    if not pairs:
        return [None] * len(ins)
    outputs, given = [out for out, _ in pairs], [v for _, v in pairs]
    return list(grad(outputs, list(ins), given, create_graph=create_graph, allow_unused=True))


def _fill_in_zeros(
    grads: Sequence[Any],
    refs: Sequence[Tensor],
    strict: bool,
    create_graph: bool,
    stage: _Stage,
    output: int = 0,
) -> Tensors:
    """Zeros (of each ref's shape) where nothing reached; in strict mode, that is refused, and so
    is a gradient that does not depend on the inputs under create_graph (`stage` says it)."""
    filled = []
    for index, (g, ref) in enumerate(zip(grads, refs)):
        if strict and g is None:
            raise RuntimeError(stage.unused.format(input=index, output=output))
        if strict and create_graph and g is not None and not g.requires_grad:
            raise RuntimeError(stage.constant.format(input=index, output=output))
        filled.append(Tensor(np.zeros_like(ref.data)) if g is None else g)
    return tuple(filled)


def _jacobian_of(index: int, out: Tensor, ins: Tensors, create_graph: bool, strict: bool) -> Tensors:
    """d out / d input for each input, one backward pass per element of `out` (a one-hot seed)."""
    rows: list[list[Tensor]] = [[] for _ in ins]
    for element in range(out.data.size):
        seed = np.zeros_like(out.data)
        seed.flat[element] = 1.0
        found = _grads((out,), ins, (seed,), create_graph)
        for row, g in zip(rows, _fill_in_zeros(found, ins, strict, create_graph, _JACOBIAN, output=index)):
            row.append(g)
    return tuple(
        stack(row).reshape(out.shape + x.shape) if row else Tensor(np.zeros(out.shape + x.shape))
        for row, x in zip(rows, ins)
    )


class _SecondOrder(NamedTuple):
    """vhp's and hvp's start: func at fresh inputs, and its gradient as a graph."""

    outs: Tensors
    outputs_tuple: bool
    ins: Tensors
    inputs_tuple: bool
    first: list[Any]  # the gradient, made with create_graph=True
    vs: tuple[Any, ...]


def _second_order(
    func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool, strict: bool, who: str
) -> _SecondOrder:
    with enable_grad():
        inputs_tuple, ins = _as_tuple(inputs, "inputs", who)
        ins = _fresh(ins, create_graph)
        vs = _vector(v, ins, inputs_tuple, _ONE_NUMBER_INPUT, who, create_graph)
        out = func(*ins)
        outputs_tuple, outs = _as_tuple(out, "outputs of the user-provided function", who)
        _check_outputs(outs, strict)
        if outputs_tuple:
            raise RuntimeError(f"The function given to {who} should return a single Tensor")
        _check_single_number(out, who)
        first = _grads(outs, ins, (None,), create_graph=True)
        _fill_in_zeros(first, ins, strict, True, _FIRST_DERIVATIVE)  # (its strict checks only)
    return _SecondOrder(outs, outputs_tuple, ins, inputs_tuple, first, vs)


def _double_backward(
    ys: Sequence[Any],
    xs: Tensors,
    vs: tuple[Any, ...],
    refs: Tensors,
    create_graph: bool,
    strict: bool,
    stage: _Stage,
    first: _Stage | None = None,
) -> Tensors:
    """J v for J = d ys / d xs, by reverse mode twice: u^T J (made with create_graph, at a dummy
    u = 0 of the shapes of `refs`, one per y) is linear in u, and its gradient along v is J v.
    `first`: what strict mode says of u^T J (jvp checks it, as PyTorch; hvp does not)."""
    with enable_grad():
        dummies = [Tensor(np.zeros_like(ref.data), requires_grad=True) for ref in refs]
        back = _grads(ys, xs, dummies, create_graph=True)
        if first is not None:
            _fill_in_zeros(back, xs, strict, True, first)  # (its strict checks only)
    with enable_grad() if create_graph else contextlib.nullcontext():
        found = _grads(back, dummies, vs, create_graph)
    return _fill_in_zeros(found, refs, strict, create_graph, stage)


def _handed_back(
    outs: Tensors, outputs_tuple: bool, result: Tensors, result_tuple: bool, create_graph: bool
) -> tuple[Any, Any]:
    """(func's output, the product), each nested as it was given."""
    outputs = _unpack(_detached(outs, create_graph), outputs_tuple)
    return outputs, _unpack(_detached(result, create_graph), result_tuple)


def _detached(tensors: Sequence[Tensor], create_graph: bool) -> Tensors:
    """What is handed back: without create_graph, Tensors cut from the graph (as PyTorch)."""
    return tuple(tensors) if create_graph else tuple(t.detach() for t in tensors)


def _unpack(items: tuple[Any, ...], was_tuple: bool) -> Any:
    return items if was_tuple else items[0]


def _refuse_options(vectorize: bool, strategy: str, who: str, name: str) -> None:
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f'{name} must be "reverse-mode" (or torch\'s "forward-mode"), got {strategy!r}')
    if vectorize or strategy == "forward-mode":
        raise ValueError(
            f'{who}(vectorize=True) and {name}="forward-mode" need PyTorch\'s vmap and forward-mode AD, '
            f"which micrograd_plus does not have: call {who} with vectorize=False and "
            f'{name}="reverse-mode" (the defaults), which give the same numbers'
        )
