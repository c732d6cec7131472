"""Checks of hand-written backprop: `check_gradient_function(f, grad_f, inputs)` for a whole
gradient function, `compare_gradients(output, {node: my_gradient})` for each step of it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..engine import Node, topological_order
from ..gradients import grad
from .numerical import (
    _as_args,
    _check_callable,
    _check_tolerances,
    _differentiable,
    _finite_differences,
    _name,
    _output_array,
    _raw_of,
    _require_finite_float64,
)
from .reports import (
    GradcheckReport,
    GradientRow,
    _analytic_grads,
    _compare,
    _finish,
    _rows_for,
    _shape_problem,
)


def check_gradient_function(
    f: Callable[..., Any],
    grad_f: Callable[..., Any],
    inputs: Any,
    raise_exception: bool = True,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    names: Sequence[str] | None = None,
) -> GradcheckReport:
    """Check a hand-written gradient `grad_f` of a scalar function `f`.

    Both are called as `f(*inputs)` / `grad_f(*inputs)`: `f` may be plain numpy code
    returning a float (a loss), `grad_f` returns one gradient per input, of the input's
    shape, or None for an input it does not differentiate (data, labels): those are not
    checked. The reference is central differences, and autograd as well when `f` returns
    a Value or Tensor. A mismatch raises `GradcheckError` (as `gradcheck` does, so a test
    that forgets to assert still fails) whose text says which input's gradient is wrong, by
    how much and at which elements; with `raise_exception=False` it returns the report,
    truthy when every checked input matches. `names` labels the inputs in that text.
    """
    _check_callable(f, "f")
    _check_callable(grad_f, "grad_f")
    _check_tolerances(eps=eps, atol=atol, rtol=rtol)
    args = _as_args(inputs)
    labels = [_name(a, i, names) for i, a in enumerate(args)]
    given = grad_f(*args)
    if len(args) == 1 and not isinstance(given, (list, tuple)):
        given = (given,)
    if not isinstance(given, (list, tuple)) or len(given) != len(args):
        count = len(given) if isinstance(given, (list, tuple)) else type(given).__name__
        raise ValueError(
            f"grad_f must return one gradient per input (None for inputs it does not differentiate): "
            f"got {count} for {len(args)} inputs"
        )
    problems: list[str] = []
    skipped: list[str] = []
    positions: list[int] = []
    given_arrays: dict[int, np.ndarray] = {}
    for i, (arg, g) in enumerate(zip(args, given)):
        if g is None:
            skipped.append(labels[i])
            continue
        if not _differentiable(arg):
            problems.append(
                f"{labels[i]}: grad_f returned a gradient but the input is not a float or float array"
            )
            continue
        array = np.asarray(_raw_of(g), dtype=np.float64)
        shape = np.shape(_raw_of(arg))
        if array.shape != shape:
            problems.append(
                f"{labels[i]}: grad_f returned shape {array.shape} but the input has shape {shape} "
                "(a gradient has the shape of its input)"
            )
            continue
        positions.append(i)
        given_arrays[i] = array
    _require_finite_float64(args, positions, labels)
    out = f(*args)
    if _output_array(out, "f").size != 1:
        raise ValueError(
            f"check_gradient_function: f must return one number (a loss), got shape {np.shape(_raw_of(out))}"
        )
    slopes = _finite_differences(f, args, positions, eps, None, "f")
    autograd_arrays: dict[int, np.ndarray] = {}
    if isinstance(out, Node):
        node_positions = [i for i in positions if isinstance(args[i], Node) and args[i].requires_grad]
        if node_positions:
            for i, a in zip(node_positions, _analytic_grads(out, [args[i] for i in node_positions], None)):
                problem = _shape_problem(labels[i], a, args[i].data, "autograd")
                if problem:
                    problems.append(problem)
                else:
                    autograd_arrays[i] = a
    rows: list[GradientRow] = []
    for i in positions:
        rows += _rows_for(i, labels[i], given_arrays[i], slopes[i], atol, rtol, autograd_arrays.get(i))
    notes = [f"not checked (grad_f returned None): {', '.join(skipped)}"] if skipped else []
    report = GradcheckReport("check_gradient_function", rows, eps, atol, rtol, problems, "given", notes)
    return _finish(report, raise_exception)


def compare_gradients(
    output: Node,
    gradients: Mapping[Node, Any],
    raise_exception: bool = True,
    *,
    grad_output: Any = None,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> GradcheckReport:
    """Compare gradients you computed by hand with autograd's, node by node, as in "becoming a
    backprop ninja" (Karpathy compares each of his with PyTorch's `.grad`).

    `gradients` maps nodes of `output`'s graph (inputs, parameters or intermediate results) to
    your gradient of `output` with respect to each (a node of another graph, say of an earlier
    forward pass, is reported, not compared with zeros). Autograd's come from `grad` (no `.grad`
    is touched, no `retain_grad()` needed); a non-scalar output needs `grad_output`, its own
    gradient. List the nodes in the order your backprop computes them: the advice then names
    the first wrong one, whose step is the one to fix (the ones before it are right). Raises
    `GradcheckError` on a mismatch; with `raise_exception=False` returns the report.

    An element that is nan in your gradient and in autograd's matches (as
    `torch.allclose(..., equal_nan=True)`): both computed the same thing from the same nan
    in the forward pass, so your step is not what is wrong; a note counts such elements.
    """
    if not isinstance(output, Node):
        raise TypeError(
            f"compare_gradients() takes the output node of a graph first, got {type(output).__name__}"
        )
    _check_tolerances(atol=atol, rtol=rtol)
    if not isinstance(gradients, Mapping) or not gradients or not all(isinstance(n, Node) for n in gradients):
        raise TypeError(
            "compare_gradients() takes a dict from nodes to your gradients, with at least one entry, "
            f"e.g. {{logits: dlogits, W1: dW1}}; got a {type(gradients).__name__}"
        )
    if grad_output is None and np.size(output.data) != 1:
        shape = np.shape(output.data)
        raise RuntimeError(
            f"compare_gradients(): the output has shape {shape}, so its own gradient must be given: pass "
            f"grad_output= (an array of shape {shape}, the gradient of your loss with respect to the "
            "output), or compare the gradients of a scalar loss computed from it"
        )
    nodes = list(gradients)
    names = [repr(n.label) if n.label else f"node {k}" for k, n in enumerate(nodes)]
    given = [_gradient_array(gradients[n], name, np.shape(n.data)) for n, name in zip(nodes, names)]
    in_graph = set(topological_order(output))
    problems = []
    for name, node in zip(names, nodes):
        if not node.requires_grad:
            problems.append(f"{name} does not require grad: autograd has no gradient for it")
        elif node not in in_graph:
            problems.append(
                f"{name} is not in the output's graph (a node of an earlier forward pass?): key the "
                "dict by the nodes the output was computed from (run the forward pass again and "
                "take its nodes)"
            )
    references = grad(output, nodes, grad_outputs=grad_output, allow_unused=True)
    rows: list[GradientRow] = []
    both_nan = 0
    for k, (node, mine, reference) in enumerate(zip(nodes, given, references)):
        if not (node.requires_grad and node in in_graph):
            continue
        shape = np.shape(node.data)
        if mine.shape != shape:
            problems.append(
                f"{names[k]}: your gradient has shape {mine.shape} but the node has shape {shape} "
                "(a gradient has the shape of its node)"
            )
            continue
        expected = np.zeros(shape) if reference is None else np.asarray(_raw_of(reference), dtype=np.float64)
        for j in range(mine.size):
            a, e = float(mine.flat[j]), float(expected.flat[j])
            if math.isnan(a) and math.isnan(e):
                both_nan += 1
                abs_error, rel_error, ok = 0.0, 0.0, True
            else:
                abs_error, rel_error, ok = _compare(a, e, atol, rtol)
            index = tuple(int(i) for i in np.unravel_index(j, shape)) if shape else ()
            rows.append(GradientRow(k, names[k], index, a, e, abs_error, rel_error, not ok))
    notes = (
        [f"{both_nan} element(s) nan in yours and autograd's alike: counted as matching"] if both_nan else []
    )
    report = GradcheckReport(
        "compare_gradients",
        rows,
        math.nan,
        atol,
        rtol,
        problems,
        "given",
        notes,
        reference_label="autograd",
        subject="node",
    )
    if report.failures:
        first = names[report.failures[0].input]
        report.advice = [
            f"the first wrong gradient in the order given is {first}: if they are in the order your "
            "backprop computes them, the step that computes it is wrong (the ones before it are right)"
        ]
    return _finish(report, raise_exception)


def _gradient_array(gradient: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Your gradient for the node `name` as a float64 array, refusing what is not numbers."""
    try:
        raw = np.asarray(_raw_of(gradient))
    except ValueError:  # a ragged nesting of lists
        raw = np.asarray(None)
    if raw.dtype.kind not in "iuf":  # strings, None, objects, bools, complex numbers, ragged lists
        if gradient is None:
            given = "None (to leave a node unchecked, leave it out of the dict)"
        else:
            given = f"{type(gradient).__name__} {gradient!r:.60}"
        raise TypeError(
            f"compare_gradients(): your gradient for {name} must be a number or an array of numbers "
            f"(of the node's shape {shape}), got {given}"
        )
    return raw.astype(np.float64)
