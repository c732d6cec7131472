"""`micrograd_plus.autograd`: the names PyTorch users write as `torch.autograd.*`.

`grad` and `backward` with torch's signatures, `Function` (custom operations with a
hand-written backward, function.py), `functional` (jacobian, hessian, vjp, jvp, hvp, vhp,
functional.py), and the checks and modes torch.autograd also offers. Everything runs on the
engine's one walk (`engine.backward_pass`) and its one rule table.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import gradients, guards
from ..check import gradcheck, gradgradcheck
from ..engine import Node, backward_pass
from ..modes import detect_anomaly, enable_grad, no_grad
from . import functional
from .function import Function, FunctionCtx

__all__ = [
    "Function",
    "FunctionCtx",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "no_grad",
]


def grad(
    outputs: Node | Sequence[Node],
    inputs: Node | Sequence[Node],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Any, ...]:
    """`torch.autograd.grad`, with its signature: `micrograd_plus.grad` (the gradients of
    `outputs` with respect to `inputs`, touching no `.grad`) behind torch's arguments.

    The graph is always kept, so `retain_graph` changes nothing (and `only_inputs` is ignored, as
    in PyTorch); `materialize_grads=True` gives zeros for unused inputs instead of None;
    `is_grads_batched=True` (torch's vmap over grad_outputs) is refused."""
    if is_grads_batched:
        raise ValueError(
            "grad(is_grads_batched=True) is not supported here (it needs PyTorch's vmap): call grad "
            "once per row of grad_outputs"
        )
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
            "allow_unused=False."
        )
    allow = materialize_grads if allow_unused is None else bool(allow_unused)
    results = gradients.grad(outputs, inputs, grad_outputs, create_graph, allow)
    if not materialize_grads:
        return results
    ins = [inputs] if isinstance(inputs, Node) else list(inputs)
    return tuple(x._constant_like(np.zeros_like(x.data)) if g is None else g for x, g in zip(ins, results))


def backward(
    tensors: Node | Sequence[Node],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Node | Sequence[Node] | None = None,
) -> None:
    """`torch.autograd.backward`: one backward pass from one or several outputs at once (the
    gradient of the sum of `grad_tensors[i] * tensors[i]`), added into the leaves' `.grad`, or
    only into those of `inputs`. The graph is always kept (`retain_graph` changes nothing);
    `create_graph=True` is refused: `.grad` holds arrays here, so ask `grad(...,
    create_graph=True)` for gradients to differentiate again."""
    if create_graph:
        raise ValueError(
            "backward(create_graph=True) is not supported: .grad holds arrays here, not Tensors with a "
            "graph; use mg.autograd.grad(outputs, inputs, create_graph=True), which returns the "
            "gradients as Tensors that can be differentiated again"
        )
    roots = _nodes(tensors, "tensors")
    given = [None] * len(roots) if grad_tensors is None else _gradients(grad_tensors, len(roots))
    for root in roots:
        guards.check_root(root)
    keep = None if inputs is None else _nodes(inputs, "inputs")
    if keep is None and len(roots) == 1:
        roots[0].backward(given[0])  # type: ignore[attr-defined]  # (the current engine's pass)
        return None
    for node in keep or ():
        if node._op is not None:
            raise ValueError(
                f"backward(inputs=...) takes leaves here; this {type(node).__name__} was computed by "
                f"'{node.op}': for the gradient of an intermediate, use mg.autograd.grad(outputs, it)"
            )
    seeds = [root._seed() if g is None else root._raw(g) for root, g in zip(roots, given)]
    totals: dict[Node, Any] = {}
    with no_grad(), np.errstate(all="ignore"):  # IEEE sums, no warnings (as engine.backward)
        for _step in backward_pass(roots, seeds, totals):
            pass
    guards.last_pass.root = weakref.ref(roots[0])  # (explain_grad tells from the first output)
    kept = None if keep is None else set(keep)
    for node, total in totals.items():
        if kept is None or node in kept:
            node._store_grad(total)
    return None


def _nodes(given: Any, name: str) -> list[Node]:
    nodes = [given] if isinstance(given, Node) else list(given) if isinstance(given, Iterable) else [given]
    if not nodes or not all(isinstance(n, Node) for n in nodes):
        raise TypeError(f"backward(): {name} must be a Tensor (or Value) or a non-empty sequence of them")
    return nodes


def _gradients(given: Any, count: int) -> list[Any]:
    """One gradient (or None) per output, as torch reads them: a Tensor, array or number is one,
    a list or tuple holds one per output."""
    grads = list(given) if isinstance(given, (list, tuple)) else [given]
    if len(grads) != count:
        raise ValueError(
            f"grad_tensors has {len(grads)} entries for {count} tensors: give one gradient per tensor "
            "(a list or tuple of them; one gradient alone as a Tensor or numpy array)"
        )
    return grads
