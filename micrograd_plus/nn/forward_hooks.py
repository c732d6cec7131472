"""Forward hooks on modules, as PyTorch's `register_forward_pre_hook` and `register_forward_hook`:
functions a module's call runs before its forward (which may replace the inputs) and after it
(which may replace the output), to look inside a model (each layer's activations) or to change
what flows through it without editing its code. The same object holds the module's backward
hooks (backward_hooks.py), which its call sets up in the graph.

A module without hooks reads the class's `Module._forward_hooks = None`, so its `__call__` pays
one attribute test; its first hook gives it a `ForwardHooks` of its own, and removing its last
hook takes that away again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .. import modes
from ..hooks import RemovableHandle
from . import backward_hooks

ATTRIBUTE = "_forward_hooks"  # the module attribute that holds them (Module declares it None)
ever_registered = False  # whether a module ever had hooks here: until then Layer need not look (mlp.py)


class ForwardHooks:
    """One module's hooks by handle id, in the order they run: the pre-hooks as
    (hook, with_kwargs), the forward hooks as (hook, with_kwargs, always_call), the backward
    pre-hooks and full backward hooks as (hook,)."""

    def __new__(cls) -> ForwardHooks:
        # Here, not in register(): unpickling or copying a hooked model makes one without it.
        global ever_registered
        ever_registered = True
        return super().__new__(cls)

    def __init__(self) -> None:
        self.pre: OrderedDict[int, tuple[Callable[..., Any], bool]] = OrderedDict()
        self.post: OrderedDict[int, tuple[Callable[..., Any], bool, bool]] = OrderedDict()
        self.backward_pre: OrderedDict[int, tuple[Callable[..., Any]]] = OrderedDict()
        self.backward: OrderedDict[int, tuple[Callable[..., Any]]] = OrderedDict()

    def call(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """`module(*args, **kwargs)` with its hooks, as PyTorch's `Module._call_impl`: each hook
        list is read when its turn comes, the pre-hooks before the first runs and the forward
        hooks after forward returns (so a pre-hook, or forward, that adds or removes a forward
        hook changes this call; a hook that adds or removes one of its own list, the next call).
        If anything raises, the `always_call` forward hooks not yet run still run (their own
        errors become warnings) before the error goes on. With backward hooks, as PyTorch's, the
        inputs forward gets (after the pre-hooks) and its output (after the forward hooks) go
        through the nodes that run them (backward_hooks.py)."""
        result, called, backward = None, set(), None
        try:
            for hook, with_kwargs in list(self.pre.values()):
                if with_kwargs:
                    new = hook(module, args, kwargs)
                    if new is not None:
                        if not (isinstance(new, tuple) and len(new) == 2):
                            raise RuntimeError(
                                f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got {new!r:.80}."
                            )
                        args, kwargs = new
                else:
                    new = hook(module, args)
                    if new is not None:
                        args = new if isinstance(new, tuple) else (new,)
            if self.backward or self.backward_pre:
                pre, full = (
                    [hook for (hook,) in table.values()] for table in (self.backward_pre, self.backward)
                )
                backward = backward_hooks.Call(module, pre, full, args)
                args = backward.wrap_inputs()
            result = module.forward(*args, **kwargs)
            for handle_id, (hook, with_kwargs, always_call) in _forward_hooks_now(module):
                if always_call:
                    called.add(handle_id)
                new = _run(hook, with_kwargs, module, args, kwargs, result)
                if new is not None:
                    result = new
            return result if backward is None else backward.wrap_output(result)
        except Exception:
            for handle_id, (hook, with_kwargs, always_call) in _forward_hooks_now(module):
                if always_call and handle_id not in called:
                    try:
                        new = _run(hook, with_kwargs, module, args, kwargs, result)
                    except Exception as e:
                        modes.warn(
                            "module forward hook with ``always_call=True`` raised an exception that was "
                            f"silenced as another error was raised in forward: {e}"
                        )
                        continue
                    if new is not None:
                        result = new
            raise


def _forward_hooks_now(module: Any) -> list[tuple[int, tuple[Callable[..., Any], bool, bool]]]:
    """The module's forward hooks as they are now: a hook may have removed the last one (its
    `ForwardHooks` went away) and registered another (a new one came) since the call began."""
    hooks = vars(module).get(ATTRIBUTE)
    return [] if hooks is None else list(hooks.post.items())


def _run(
    hook: Callable[..., Any], with_kwargs: bool, module: Any, args: Any, kwargs: Any, result: Any
) -> Any:
    """One forward hook's call, in the form it was registered with."""
    return hook(module, args, kwargs, result) if with_kwargs else hook(module, args, result)


KINDS = {
    "pre": "forward pre-hook",
    "post": "forward hook",
    "backward_pre": "backward pre-hook",
    "backward": "backward hook",
}


def register(module: Any, entry: tuple[Any, ...], table_name: str, prepend: bool) -> RemovableHandle:
    """Add `entry` (the hook, then its flags) to the module's hooks of `table_name` (a key of
    KINDS), last, or first with `prepend`; the module gets its `ForwardHooks` with its first hook."""
    hook, kind = entry[0], KINDS[table_name]
    if not callable(hook):
        raise TypeError(f"a {kind} must be a function, got {type(hook).__name__}: {hook!r:.60}")
    hooks = vars(module).get(ATTRIBUTE)
    if hooks is None:
        hooks = ForwardHooks()
        object.__setattr__(module, ATTRIBUTE, hooks)  # (not a parameter or sub-module: no bookkeeping)
    table: OrderedDict[int, Any] = getattr(hooks, table_name)
    handle = RemovableHandle(module, _forget)
    table[handle.id] = entry
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle


def _forget(module: Any, handle_id: int) -> None:
    hooks = vars(module).get(ATTRIBUTE)
    if hooks is None:
        return
    tables = [getattr(hooks, name) for name in KINDS]
    for table in tables:
        table.pop(handle_id, None)
    if not any(tables):
        del vars(module)[ATTRIBUTE]  # its last hook: back to the plain call
