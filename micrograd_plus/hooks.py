"""Gradient hooks, as PyTorch's `register_hook`: functions a backward pass calls on a node's
gradient once it is complete, which may look at it or replace it. The walks of engine.py and
fast.py call `run_hooks` on the nodes that `hooked` finds."""

from __future__ import annotations

import contextlib
import itertools
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .guards import is_real

# id(node) -> a weak reference to it, for each node that has hooks (kept on the node, in its
# `_hooks` slot, so a hook whose closure refers to its node dies with it). A walk looks for hooks
# only while this is not empty, and reads `_hooks` only on the nodes it lists: making a node
# costs nothing more. (Weak references by id, not a WeakSet: a Tensor's == is elementwise.)
hooked_nodes: dict[int, weakref.ref[Any]] = {}
registrations = [0]  # how many hooks were registered: a walk under way sees a hook register one
_handle_ids = itertools.count()


class _RuleHooks(threading.local):
    """What the hooks that live inside rules (a module's backward hooks, nn/backward_hooks.py)
    know of this thread's walk, as register_hook's are given `hooks_of`: `replay`, whether it is
    a viewer's replay of a pass (viz/trace.py's `_narrate`, not live: none run there, as
    register_hook's); `only`, the ids of the nodes on the way to grad()'s or backward(inputs=)'s
    inputs (None: every node), as PyTorch runs only that part of the graph (gradients.py)."""

    replay = False
    only: set[int] | None = None

    def stand_aside(self, nodes: Iterable[Any]) -> bool:
        """Whether the hooks that run when a gradient reaches `nodes` stay out of this walk (the
        gradients then pass through unchanged): in a replay, or where none of them is on the way."""
        return self.replay or (self.only is not None and not any(id(node) in self.only for node in nodes))


rule_hooks = _RuleHooks()
rule_hooked: weakref.WeakSet[Any] = weakref.WeakSet()  # the live nodes with hooks inside their rules


@contextlib.contextmanager
def rule_hooks_as(replay: bool = False, only: Iterable[Any] | None = None, but: Iterable[Any] = ()) -> Iterator[None]:  # fmt: skip
    """`rule_hooks` set for a walk (or a step of one): `only` the nodes of `only` but those of
    `but`; as they were again after it."""
    saved = rule_hooks.replay, rule_hooks.only
    on_the_way = None if only is None else {id(node) for node in only} - {id(node) for node in but}
    rule_hooks.replay, rule_hooks.only = replay, on_the_way
    try:
        yield
    finally:
        rule_hooks.replay, rule_hooks.only = saved


def call_at_rest(hook: Callable[..., Any], *args: Any) -> Any:
    """A user's hook called with `rule_hooks` at rest: a pass the hook starts (a backward() inside
    it) is a walk of its own, not a part of the walk that runs the hook."""
    with rule_hooks_as():
        return hook(*args)


class RemovableHandle:
    """What a `register_*hook` returns, as torch.utils.hooks.RemovableHandle: `remove()` takes the
    hook away (removing it again does nothing); `with handle:` removes it at the block's end.
    `forget(owner, id)` is what taking it away means for the thing that holds it (a node here, a
    module in nn/forward_hooks.py); the handle refers to that owner weakly, so it keeps no graph
    and no model alive."""

    def __init__(self, owner: Any, forget: Callable[[Any, int], None]):
        self._owner, self._forget, self.id = weakref.ref(owner), forget, next(_handle_ids)

    def remove(self) -> None:
        owner = self._owner()
        if owner is not None:
            self._forget(owner, self.id)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()


def _forget_hook(node: Any, handle_id: int) -> None:
    if node._hooks.pop(handle_id, None) is not None and not node._hooks:
        hooked_nodes.pop(id(node), None)  # its last hook: walks stop looking at it


def register_hook(node: Any, hook: Callable[[Any], Any]) -> RemovableHandle:
    """Call `hook(grad)` each time a backward pass (backward(), grad()) computes this node's
    gradient, as PyTorch's `register_hook`: a Tensor of its shape (for a Value, a float; under
    `grad(..., create_graph=True)`, a node that records). A hook that returns something replaces
    the gradient: the new one flows on to the node's parents, and is what `retain_grad()` keeps
    and what a leaf adds to `.grad`. Several hooks run in the order registered, each given the
    one before's result; a hook registered during a pass (by another hook) runs in that pass if
    its node's turn has not come.
    Returns a handle: `handle.remove()` unregisters the hook."""
    if not node.requires_grad:
        raise RuntimeError(
            f"cannot register a hook on a tensor that doesn't require gradient: this {type(node).__name__} "
            "has requires_grad=False, so no backward pass computes its gradient; register the hook on a "
            "node that requires grad (a leaf made with requires_grad=True, or computed from one)"
        )
    if not callable(hook):
        raise TypeError(f"register_hook() takes a function hook(grad) -> new grad or None, got {hook!r:.60}")
    key = id(node)
    if key not in hooked_nodes:
        node._hooks = {}
        hooked_nodes[key] = weakref.ref(node, lambda _, key=key: hooked_nodes.pop(key, None))  # type: ignore[misc]
    handle = RemovableHandle(node, _forget_hook)
    node._hooks[handle.id] = hook
    registrations[0] += 1
    return handle


class Hooked(set):  # type: ignore[type-arg]
    """Those of a walk's nodes that have hooks, looked for again after a hook registered one
    (`run_hooks`): PyTorch runs it in the same pass if its node's turn has not come."""

    def __init__(self, nodes: Iterable[Any]):
        super().__init__()
        self.nodes, self.registrations = nodes, -1
        self.look_again()

    def look_again(self) -> None:
        if self.registrations != registrations[0]:
            self.registrations = registrations[0]
            live = {ref() for ref in list(hooked_nodes.values())}
            self.update(node for node in self.nodes if node in live)


def hooked(nodes: Iterable[Any]) -> set[Any]:
    """Those of `nodes` (a walk's) that have hooks: an empty set, at once, while no node has any."""
    return Hooked(nodes) if hooked_nodes else set()


def run_hooks(node: Any, g: Any, create_graph: bool = False, walk: set[Any] | None = None) -> Any:
    """`node`'s hooks on its gradient g (a pass's total, raw, or a node under create_graph), each
    given the one before's result: the gradient that then flows on and is stored. A Tensor's
    hooks get a Tensor of its dtype (as PyTorch); if they only look, g goes on as it was (the
    walk may sum a float32 node's gradient in float64). `walk`: the walk's `hooked`."""
    as_tensor = isinstance(node.data, np.ndarray) and not create_graph
    given = node._constant_like(np.array(g, dtype=node.data.dtype)) if as_tensor else g
    current = given
    for hook in list(node._hooks.values()):  # (a copy: a hook may remove itself)
        result = call_at_rest(hook, current)
        if result is not None and result is not current:
            current = _hook_result(hook, node, current, result, create_graph)
    if isinstance(walk, Hooked):  # (a walk's `hooked`, made while some node had hooks)
        walk.look_again()
    if not as_tensor:
        return current
    return g if left_alone(g, given, current) else np.array(current.data)


def left_alone(g: Any, given: Any, now: Any) -> bool:
    """Whether hooks given `given` (a Tensor of the raw gradient g) only looked: what they left,
    `now`, is `given` itself, nor changed in place (then g goes on as it was: the walk may sum a
    float32 node's gradient in float64). Also nn/backward_hooks.py's, for a module's hooks."""
    if now is not given or np.shape(g) != given.data.shape:
        return False
    return bool(np.array(g, dtype=given.data.dtype).tobytes() == given.data.tobytes())


def _hook_result(hook: Any, node: Any, given: Any, result: Any, create_graph: bool) -> Any:
    """What a hook returned, as the gradient `given` it replaces (PyTorch's checks and words)."""
    name = getattr(hook, "__name__", type(hook).__name__)
    tensor = isinstance(node.data, np.ndarray)
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
    dtype = np.asarray(getattr(given, "data", given)).dtype  # the gradient's it was given
    if tensor and result.data.dtype != dtype:
        raise RuntimeError(
            f"hook '{name}' has changed the type of value (was {dtype} got {result.data.dtype}); "
            f"return a gradient of the dtype of the one it was given (.to({dtype}))"
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
