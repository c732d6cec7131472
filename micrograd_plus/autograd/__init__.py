"""`micrograd_plus.autograd`: the names PyTorch users write as `torch.autograd.*`.

`grad` and `backward` with torch's signatures, `Function` (custom operations with a
hand-written backward, function.py), `functional` (jacobian, hessian, vjp, jvp, hvp, vhp,
functional.py), and the checks and modes torch.autograd also offers. Everything runs on the
engine's one walk (`engine.backward_pass`) and its one rule table.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import engine, gradients, guards
from ..check import gradcheck, gradgradcheck
from ..engine import Node
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
    ins = gradients.as_nodes(inputs, "inputs")  # read once (a generator too)
    for index, x in enumerate(ins):
        if not x.requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors does not require grad: input {index} (a "
                f"{type(x).__name__}); make it require grad before computing the outputs from it"
            )
    results = gradients.grad(outputs, ins, grad_outputs, create_graph, allow)
    if not materialize_grads:
        return results
    # zeros for the unused inputs (as PyTorch: zeros that require grad under create_graph)
    return tuple(
        gradients.leaf_like(x, np.zeros_like(x.data), create_graph) if g is None else g
        for x, g in zip(ins, results)
    )


def backward(
    tensors: Node | Sequence[Node],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Node | Sequence[Node] | None = None,
) -> None:
    """`torch.autograd.backward`: one backward pass from one or several outputs at once (the
    gradient of the sum of `grad_tensors[i] * tensors[i]`), added into the leaves' `.grad`, or
    only into `inputs`, leaves or intermediates (then, as in PyTorch, only the nodes between the
    outputs and `inputs` store theirs: a retained intermediate elsewhere keeps its `.grad`). The graph is
    always kept (`retain_graph` changes nothing); `create_graph=True` is refused: `.grad` holds
    arrays here, so ask `grad(..., create_graph=True)` for gradients to differentiate again."""
    guards.check_backward_options(create_graph)
    roots = gradients.as_nodes(tensors, "tensors", "backward")
    given = [None] * len(roots) if grad_tensors is None else _gradients(grad_tensors, len(roots))
    for i, (root, gradient) in enumerate(zip(roots, given)):
        try:  # (checked here to name the pair, as torch's "grad_output[i] ... output[i]")
            given[i] = None if gradient is None else root._raw(gradient)
        except (TypeError, ValueError) as error:
            raise type(error)(f"grad_tensors[{i}] for tensors[{i}]: {error}") from None
    if inputs is not None:
        return gradients.backward_into(roots, given, inputs)
    if len(roots) == 1:
        roots[0].backward(given[0])  # type: ignore[attr-defined]  # (the current engine's pass)
        return None
    engine.backward(roots, given)
    # for explain_grad (the engine notes the first output only)
    guards.last_pass.roots = tuple(weakref.ref(root) for root in roots)
    return None


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
