"""PyTorch's `t.grad_fn`: the step of the graph that made a Tensor, and its `next_functions`, the
steps that made its inputs, so a learner can walk the graph backwards as the PyTorch tutorial
does (`loss.grad_fn.next_functions[0][0]`).

A step is named by the Op that made it (`'mse_loss'`, `'@'`, `'relu'`), not by PyTorch's C++
class (`MseLossBackward0`); a leaf that requires grad is `'AccumulateGrad'` (its `variable` is
the leaf), and an input that needs no gradient is None, as in PyTorch. A step is a view of the
graph, made when asked for: two views of one node are equal.
"""

from __future__ import annotations

from typing import Any


class GradFn:
    """One step of the backward graph: the node that `name`'s Op made (or a leaf's gradient sink)."""

    __slots__ = ("_node",)

    def __init__(self, node: Any):
        self._node = node

    def name(self) -> str:
        """The Op that made the node, or "AccumulateGrad" for a leaf that requires grad (a method,
        as PyTorch's `grad_fn.name()`)."""
        return self._node.op or "AccumulateGrad"

    @property
    def variable(self) -> Any:
        """The leaf whose `.grad` this step adds to (PyTorch's `AccumulateGrad.variable`), else None."""
        return self._node if self._node._op is None else None

    @property
    def next_functions(self) -> tuple[tuple[GradFn | None, int], ...]:
        """One (step, 0) per input of the node, in argument order: the input's step, or None for
        an input that needs no gradient; a leaf's gradient sink has none."""
        return tuple((_step_into(p), 0) for p in self._node._parents)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GradFn) and other._node is self._node

    def __hash__(self) -> int:
        return id(self._node)

    def __repr__(self) -> str:
        return f"<GradFn {self.name()!r}>"


def _step_into(node: Any) -> GradFn | None:
    return GradFn(node) if node.requires_grad else None


def grad_fn_of(node: Any) -> GradFn | None:
    """The step that made `node`, or None for a leaf (or anything made without a graph)."""
    return GradFn(node) if node._op is not None else None
