"""`grad(outputs, inputs)`: gradients as values, without touching any `.grad` (as
`torch.autograd.grad`). With `create_graph=True` the walk runs the table's rules on nodes, so
the gradients are nodes of a new graph, which can be differentiated again (second derivatives,
Hessian-vector products): no rule is written a second time for it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from . import engine, guards, hooks
from .engine import Node, backward_pass, topological_order
from .modes import enable_grad, no_grad

# How to write a backward rule that runs on nodes (under create_graph=True): the advice of
# grad() and of gradgradcheck when a rule computes with numpy.
RULES_ON_NODES = (
    "write the op's backward with node operations (+ - * / **, x.exp() rather than np.exp(x), ...) "
    "or micrograd_plus.engine's helpers (exp, log, where, ...), which work on numbers, arrays and "
    "nodes alike"
)


def grad(
    outputs: Node | Sequence[Node],
    inputs: Node | Sequence[Node],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """Gradients of `outputs` with respect to `inputs`, touching no `.grad` (as
    torch.autograd.grad). With `create_graph=True` they are nodes of a new graph, to be
    differentiated again. An input the outputs do not depend on is an error unless
    `allow_unused=True` (then its gradient is None). A None in `grad_outputs` means the
    default seed (1) for that output."""
    outs, ins = as_nodes(outputs, "outputs"), as_nodes(inputs, "inputs")
    guards.check_roots(outs)
    given: list[Any] = [None] * len(outs)
    if grad_outputs is not None:
        single = len(outs) == 1 and not isinstance(grad_outputs, (list, tuple))
        given = [grad_outputs] if single else list(grad_outputs)
        if len(given) != len(outs):
            raise ValueError(f"grad(): {len(outs)} outputs but {len(given)} grad_outputs")
    seeds = [out._seed() if s is None else out._raw(s) for out, s in zip(outs, given)]
    if create_graph:  # a node given as grad_output stays in the graph (a Hessian-vector product)
        seeds = [
            out._constant_like(s if type(s) is type(out) else raw) for out, s, raw in zip(outs, given, seeds)
        ]
    totals: dict[Node, Any] = {}
    # as PyTorch, only the hooks on the way run (register_hook's, and those inside rules)
    hooks_of = leading_to(outs, ins) if hooks.hooked_nodes or hooks.rule_hooked else None
    with enable_grad() if create_graph else no_grad(), np.errstate(all="ignore"):  # IEEE sums, no warnings
        try:
            # (as PyTorch's grad(), not backward(inputs=): an input's own node runs no hook)
            with hooks.rule_hooks_as(only=hooks_of, but=ins):
                for _step in backward_pass(outs, seeds, totals, create_graph, hooks_of):
                    pass
        except TypeError as error:
            # numpy's words for a node it was given (`__array_ufunc__ = None`); if they change,
            # the error passes unchanged, which is only less clear
            if create_graph and "__array_ufunc__=None" in str(error):
                raise TypeError(
                    "grad(create_graph=True) runs each backward rule on nodes, to record the "
                    "gradient's own graph, and a rule passed them to numpy, which cannot take "
                    f"them ({error}); {RULES_ON_NODES}"
                ) from error
            raise
    results = []
    for index, node in enumerate(ins):
        total = totals.get(node)
        if total is None and not allow_unused:
            raise RuntimeError(
                f"grad(): one of the inputs was not used to compute the outputs: the input at index {index} (a "
                f"{type(node).__name__}) is not in their graph, or does not require grad; pass "
                "allow_unused=True to get None for it"
            )
        results.append(None if total is None else node._constant_like(total))
    return tuple(results)


def leading_to(roots: Sequence[Node], inputs: Sequence[Node]) -> list[Node]:
    """The nodes of the walk from `roots` from which an input is reached (the inputs too), in the
    walk's order: the part of the graph PyTorch runs for `grad()` or `backward(inputs=...)`."""
    order = topological_order(*roots)
    leading = set(inputs)
    for node in reversed(order):  # each node after its parents
        if any(parent in leading for parent in node._parents):
            leading.add(node)
    return [node for node in order if node in leading]


def backward_into(roots: list[Node], gradients: list[Any], inputs: Any) -> None:
    """PyTorch's `backward(inputs=...)` (Tensor.backward, autograd.backward): one pass from `roots`
    (each with its gradient, None for the default) whose gradients add up only in `inputs` (a
    node or nodes) and the nodes on the way to them (engine.backward's `only`). As PyTorch's, an
    intermediate Tensor input is retained from then on (`retain_grad()`: later passes add to its
    `.grad` too); an input the pass does not reach gets nothing."""
    stored = _backward_inputs(inputs)
    for index, node in enumerate(stored):
        if not node.requires_grad:
            raise RuntimeError(
                f"can't retain_grad on Tensor that has requires_grad=False: inputs[{index}] (a "
                f"{type(node).__name__}) does not require grad, so no pass computes its gradient; "
                "make it require grad before computing the outputs from it, or leave it out of inputs"
            )
    for node in stored:
        if node._op is not None and hasattr(node, "retain_grad"):  # (a Tensor: Values show every pass's)
            node.retain_grad()
    on_the_way = leading_to(roots, stored)
    with hooks.rule_hooks_as(only=on_the_way):  # (as PyTorch, only the hooks on the way run)
        engine.backward(roots, gradients, on_the_way)
    # for explain_grad (the engine notes the first output only)
    guards.last_pass.roots = tuple(weakref.ref(root) for root in roots)
    guards.last_pass.inputs = tuple(weakref.ref(node) for node in stored)


def _backward_inputs(inputs: Any) -> list[Node]:
    """backward's `inputs` (a node, or an iterable of them: a generator too) as a list, refused
    in PyTorch's words when it is empty or holds something else."""
    given = (
        [inputs] if isinstance(inputs, Node) else list(inputs) if isinstance(inputs, Iterable) else [inputs]
    )
    if not given:
        raise RuntimeError(
            "`inputs` argument to `backward()` cannot be empty: give the Tensors (or Values) whose .grad "
            "the pass should fill, or leave inputs out for every leaf"
        )
    for x in given:
        if not isinstance(x, Node):
            raise RuntimeError(
                f"all inputs have to be Tensors or GradientEdges, but got {type(x).__name__}: give backward's "
                "inputs as a Tensor (or Value) or a list of them"
            )
    return given


def leaf_like(node: Node, data: Any, requires_grad: bool = False) -> Node:
    """A new leaf of `node`'s kind (Value or Tensor) holding `data` as it is (a Tensor keeps the
    data's dtype, where `node._constant_like` takes node's)."""
    kind: Callable[..., Node] = type(node)
    return kind(data, requires_grad=requires_grad)


def as_nodes(given: Any, name: str, who: str = "grad") -> list[Node]:
    """`given` (a node, or an iterable of nodes, read once: a generator too) as a non-empty list."""
    nodes = [given] if isinstance(given, Node) or not isinstance(given, Iterable) else list(given)
    if not nodes or not all(isinstance(n, Node) for n in nodes):
        raise TypeError(f"{who}(): {name} must be a Value or Tensor or a non-empty sequence of them")
    return nodes
