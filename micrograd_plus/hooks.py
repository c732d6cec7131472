"""Gradient hooks, as PyTorch's `register_hook`: functions a backward pass calls on a node's
gradient once it is complete, which may look at it or replace it. The walks of engine.py and
fast.py call `run_hooks` on the nodes that `hooked` finds."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .guards import is_real

# id(node) -> its hooks, {handle id: hook} in the order registered; an entry leaves with its node.
# Kept here rather than in a slot of every node: making a node costs nothing more, and a walk
# looks nodes up only while some node has hooks (`hooked`).
hooks: dict[int, dict[int, Callable[[Any], Any]]] = {}
_handle_ids = itertools.count()


class RemovableHandle:
    """What `register_hook` returns, as torch.utils.hooks.RemovableHandle: `remove()` takes the
    hook away (removing it again does nothing); `with handle:` removes it at the block's end."""

    def __init__(self, registered: dict[int, Callable[[Any], Any]]):
        self._registered, self.id = registered, next(_handle_ids)

    def remove(self) -> None:
        self._registered.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


def register_hook(node: Any, hook: Callable[[Any], Any]) -> RemovableHandle:
    """Call `hook(grad)` each time a backward pass (backward(), grad()) computes this node's
    gradient, as PyTorch's `register_hook`: a Tensor of its shape (for a Value, a float; under
    `grad(..., create_graph=True)`, a node that records). A hook that returns something replaces
    the gradient: the new one flows on to the node's parents, and is what `retain_grad()` keeps
    and what a leaf adds to `.grad`. Several hooks run in the order registered, each given the
    one before's result. Returns a handle: `handle.remove()` unregisters the hook."""
    if not node.requires_grad:
        raise RuntimeError(
            f"cannot register a hook on a tensor that doesn't require gradient: this {type(node).__name__} "
            "has requires_grad=False, so no backward pass computes its gradient; register the hook on a "
            "node that requires grad (a leaf made with requires_grad=True, or computed from one)"
        )
    if not callable(hook):
        raise TypeError(f"register_hook() takes a function hook(grad) -> new grad or None, got {hook!r:.60}")
    key = id(node)
    if key not in hooks:
        hooks[key] = {}
        weakref.finalize(node, hooks.pop, key, None)  # before the id can be reused
    handle = RemovableHandle(hooks[key])
    hooks[key][handle.id] = hook
    return handle


def hooked(nodes: Iterable[Any]) -> set[Any]:
    """Those of `nodes` (a walk's) that have hooks: an empty set, at once, while no node has any."""
    return {node for node in nodes if hooks.get(id(node))} if hooks else set()


def run_hooks(node: Any, g: Any, create_graph: bool = False) -> Any:
    """`node`'s hooks on its gradient g (a pass's total, raw, or a node under create_graph), each
    given the one before's result: the gradient that then flows on and is stored."""
    tensor = isinstance(node.data, np.ndarray)
    if tensor and not create_graph:  # the hook's own copy, as a Tensor: a change in place stays in it
        g = node._constant_like(np.array(g, dtype=node.data.dtype))
    for hook in list(hooks[id(node)].values()):  # (a copy: a hook may remove itself)
        result = hook(g)
        if result is not None:
            g = _hook_result(hook, node, result, tensor, create_graph)
    return np.array(g.data) if tensor and not create_graph else g


def _hook_result(hook: Any, node: Any, result: Any, tensor: bool, create_graph: bool) -> Any:
    """What a hook returned, as the gradient it replaces (PyTorch's checks and words)."""
    name = getattr(hook, "__name__", type(hook).__name__)
    is_node = hasattr(result, "_parents")
    if tensor and not (is_node and isinstance(result.data, np.ndarray)):
        raise TypeError(
            f"expected Tensor, but hook '{name}' returned '{type(result).__name__}': a hook on a Tensor "
            "returns a Tensor of its shape and dtype (e.g. g * 2), or None to leave the gradient as it is"
        )
    if tensor and result.data.shape != node.data.shape:
        raise RuntimeError(
            f"hook '{name}' has changed the size of value: it returned a gradient of shape "
            f"{result.data.shape} for a Tensor of shape {node.data.shape}; return one of the Tensor's "
            "shape (reshape or broadcast it), or None to leave the gradient as it is"
        )
    if tensor and result.data.dtype != node.data.dtype:
        raise RuntimeError(
            f"hook '{name}' has changed the type of value (was {node.data.dtype} got "
            f"{result.data.dtype}); return a gradient of the Tensor's dtype (.to({node.data.dtype}))"
        )
    if tensor or (create_graph and is_node):
        return result
    data = result.data if is_node else result
    if isinstance(data, bool) or not is_real(data):
        raise TypeError(
            f"expected a number, but hook '{name}' returned '{type(result).__name__}': a hook on a Value "
            "returns a float (e.g. g * 2), or None to leave the gradient as it is"
        )
    return node._constant_like(data) if create_graph else float(data)
