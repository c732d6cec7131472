"""Grad mode and anomaly mode, per thread: `no_grad`, `enable_grad`, `set_grad_enabled`,
`inference_mode`, `detect_anomaly`.

Each is a context manager and a decorator (generators included), as in PyTorch;
`set_grad_enabled(False)` also switches grad mode as a plain call. The plain
global counts `anomaly_threads` and `no_grad_threads` let the engine skip the slower
thread-local lookup while no thread uses a mode.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
import warnings
from collections.abc import Callable
from types import FrameType
from typing import Any


class AnomalyError(RuntimeError):
    """Raised under `detect_anomaly()` when an operation first produces nan or inf."""


class _Modes(threading.local):
    """Per-thread switches: each thread starts with grad on and anomaly mode off.

    `saved` holds, for each mode this thread is inside, the state before it and the mode
    object (so that an exit can tell whether this thread entered that mode)."""

    grad_enabled = True
    anomaly = False

    def __init__(self) -> None:
        self.saved: list[tuple[bool, bool, _ModeSwitch]] = []
        self.counted = _Counted()


# How many threads are inside detect_anomaly() right now, and how many have grad mode switched
# off (inside no_grad()), each in a one-item list so that modules importing it see it change.
# Creating a node reads these plain globals before the per-thread flags (a slower thread-local
# lookup, a tenth of making a node), so a mode costs next to nothing while no thread uses it:
# see benchmarks/anomaly_overhead.py.
anomaly_threads = [0]
no_grad_threads = [0]
_thread_counts_lock = threading.Lock()


class _Counted:
    """Whether this thread is counted in `no_grad_threads` and in `anomaly_threads`. A thread's
    local state is dropped when the thread ends, and with it this object: a thread that ends
    inside a mode then gives its counts back, so they never stay stuck above zero."""

    def __init__(self) -> None:
        self.no_grad = False
        self.anomaly = False

    def set(self, no_grad: bool, anomaly: bool) -> None:
        if no_grad != self.no_grad or anomaly != self.anomaly:
            with _thread_counts_lock:
                no_grad_threads[0] += no_grad - self.no_grad
                anomaly_threads[0] += anomaly - self.anomaly
            self.no_grad, self.anomaly = no_grad, anomaly

    def __del__(self) -> None:
        self.set(False, False)


_modes = _Modes()


def is_grad_enabled() -> bool:
    """Whether operations in this thread record the graph."""
    return _modes.grad_enabled


def _set_grad(enabled: bool) -> None:
    modes = _modes
    modes.grad_enabled = enabled
    modes.counted.set(not enabled, modes.anomaly)


def _flag(mode: Any, who: str) -> bool:
    if not isinstance(mode, bool):
        raise TypeError(
            f"{who}() takes a bool (True or False), got {type(mode).__name__}: {mode!r:.60}, as in PyTorch"
        )
    return mode


def is_anomaly_enabled() -> bool:
    """Whether this thread checks every result for nan and inf."""
    return _modes.anomaly


class _ModeSwitch:
    """A context manager that is also a decorator; it saves the previous state on a
    per-thread stack, so it nests, recurses and works in threads."""

    _grad: bool | None = None
    _anomaly: bool | None = None
    _entered_in = "(none: it was never entered)"

    def __enter__(self) -> _ModeSwitch:
        modes = _modes
        modes.saved.append((modes.grad_enabled, modes.anomaly, self))
        if self._grad is not None:
            modes.grad_enabled = self._grad
        if self._anomaly is not None:
            modes.anomaly = self._anomaly
        modes.counted.set(not modes.grad_enabled, modes.anomaly)
        self._entered_in = threading.current_thread().name
        return self

    def __exit__(self, *exc_info: object) -> None:
        modes = _modes
        if not any(entry[2] is self for entry in modes.saved):
            # Restoring this thread's state would undo nothing the mode did (it changed another
            # thread's state), and would leave that thread in the mode unnoticed.
            raise RuntimeError(
                f"{type(self).__name__}() is exited in thread {threading.current_thread().name!r}, "
                f"which did not enter it (it was entered in thread {self._entered_in!r}): a mode is "
                "per thread, so exit it in the thread that entered it (a `with` block does both)"
            )
        modes.grad_enabled, modes.anomaly, _ = modes.saved.pop()
        modes.counted.set(not modes.grad_enabled, modes.anomaly)

    def _again(self) -> _ModeSwitch:
        """A new switch of the same mode, entered at each call of a decorated function."""
        return self.__class__()

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(func):
            # A generator runs a little at each next(): the mode holds while it runs, and not
            # in the caller's code between two items. As PyTorch's decorators do, send(), throw()
            # and close() are passed on, so an exception thrown in, or the `finally` that close()
            # runs, meets the generator inside the mode too.
            @functools.wraps(func)
            def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
                generator = func(*args, **kwargs)
                resume: Callable[[Any], Any] = generator.send
                argument = None
                while True:
                    try:
                        with self._again():
                            item = resume(argument)
                    except StopIteration as stop:
                        return stop.value
                    try:
                        argument = yield item
                        resume = generator.send
                    except GeneratorExit:  # close(), or the wrapper is collected: close it in the mode
                        with self._again():
                            generator.close()
                        raise
                    except BaseException as error:  # throw(): raise it inside the generator, in the mode
                        resume, argument = generator.throw, error

            return generator_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._again():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_ModeSwitch):  # noqa: N801 - named as in PyTorch
    """Operations inside do not record the graph (for evaluation and updates).

    Use as `with no_grad(): ...` or as a decorator `@no_grad()`. Per thread.
    """

    _grad = False


class enable_grad(_ModeSwitch):  # noqa: N801 - named as in PyTorch
    """Turn graph recording back on inside a `no_grad` block. Per thread."""

    _grad = True


class set_grad_enabled(_ModeSwitch):  # noqa: N801 - named as in PyTorch
    """Grad mode on (True) or off (False), as `torch.set_grad_enabled(mode)`. As a plain call it
    switches this thread's grad mode until something switches it back; as `with
    set_grad_enabled(is_training):` or a decorator `@set_grad_enabled(False)` it holds inside and
    the mode before it comes back on exit. Per thread."""

    def __init__(self, mode: bool) -> None:
        self._grad = self._mode = _flag(mode, "set_grad_enabled")
        self._before = is_grad_enabled()
        _set_grad(mode)  # the plain call's effect (a `with` or a decorator undoes it first)

    def __enter__(self) -> _ModeSwitch:
        _set_grad(self._before)  # so that the exit restores the mode from before the call
        return super().__enter__()

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        _set_grad(self._before)  # decorating switches nothing: each call of func does
        return super().__call__(func)

    def _again(self) -> _ModeSwitch:
        return set_grad_enabled(self._mode)

    def __repr__(self) -> str:
        return f"set_grad_enabled(mode={self._mode})"


class inference_mode(_ModeSwitch):  # noqa: N801 - named as in PyTorch
    """`torch.inference_mode()`: here the same as `no_grad()` (and `inference_mode(False)` the same
    as `enable_grad()`, as PyTorch's turns grad mode on), as a context manager or a decorator, with
    or without the parentheses (`@inference_mode`). PyTorch's also makes "inference tensors",
    refused later in a recorded graph or an in-place change outside the mode, and skips version
    counting to save time; here the Tensors made inside are ordinary Tensors without a graph."""

    def __new__(cls, mode: Any = True) -> Any:
        if inspect.isfunction(mode):  # `@inference_mode` without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self._mode = _flag(mode, "inference_mode")
        self._grad = not mode

    def _again(self) -> _ModeSwitch:
        return inference_mode(self._mode)


class detect_anomaly(_ModeSwitch):  # noqa: N801 - named as in PyTorch
    """The first operation that turns finite inputs into nan or inf, in the forward
    or the backward pass, raises `AnomalyError` naming the operation, its inputs and
    the line of your code that created the node. Per thread; costs nothing outside."""

    _anomaly = True


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _outside_package(frame: FrameType) -> tuple[FrameType, int]:
    """The first frame from `frame` outwards whose code is not this package's (else the
    outermost), and how many frames out it is."""
    depth = 0
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, depth = frame.f_back, depth + 1
    return frame, depth


def user_frame() -> str:
    """`file:line` of the innermost caller outside this package (for error messages)."""
    frame, _ = _outside_package(sys._getframe(1))
    if os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """`warnings.warn` pointed at the user's line, the innermost caller outside this package: a
    fixed stacklevel points inside it as soon as the package reaches the warning another way (a
    module's backward hook warns from inside a walk, at a depth that differs between engines).
    The warning's module is then the user's too: `warnings.filterwarnings(module=...)` matches
    the user's module, not this package's (docs/semantics.md says so)."""
    _, depth = _outside_package(sys._getframe(1))
    warnings.warn(message, category, stacklevel=depth + 2)  # (1 is this line, 2 our caller)
