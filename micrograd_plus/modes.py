"""Grad mode and anomaly mode, per thread: `no_grad`, `enable_grad`, `detect_anomaly`.

Each is a context manager and a decorator (generators included), as in PyTorch. The plain
global counts `anomaly_threads` and `no_grad_threads` let the engine skip the slower
thread-local lookup while no thread uses a mode.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any


class AnomalyError(RuntimeError):
    """Raised under `detect_anomaly()` when an operation first produces nan or inf."""


class _Modes(threading.local):
    """Per-thread switches: each thread starts with grad on and anomaly mode off."""

    grad_enabled = True
    anomaly = False

    def __init__(self) -> None:
        self.saved: list[tuple[bool, bool]] = []


_modes = _Modes()

# How many threads are inside detect_anomaly() right now, and how many have grad mode switched
# off (inside no_grad()), each in a one-item list so that modules importing it see it change.
# Creating a node reads these plain globals before the per-thread flags (a slower thread-local
# lookup, a tenth of making a node), so a mode costs next to nothing while no thread uses it:
# see benchmarks/anomaly_overhead.py.
anomaly_threads = [0]
no_grad_threads = [0]
_thread_counts_lock = threading.Lock()


def _count_thread(counter: list[int], was_in_mode: bool, is_in_mode: bool) -> None:
    """Keep `counter` up to date as this thread enters or leaves its mode."""
    if was_in_mode != is_in_mode:
        with _thread_counts_lock:
            counter[0] += 1 if is_in_mode else -1


def is_grad_enabled() -> bool:
    """Whether operations in this thread record the graph."""
    return _modes.grad_enabled


def is_anomaly_enabled() -> bool:
    """Whether this thread checks every result for nan and inf."""
    return _modes.anomaly


class _ModeSwitch:
    """A context manager that is also a decorator; it saves the previous state on a
    per-thread stack, so it nests, recurses and works in threads."""

    _grad: bool | None = None
    _anomaly: bool | None = None

    def __enter__(self) -> _ModeSwitch:
        _modes.saved.append((_modes.grad_enabled, _modes.anomaly))
        if self._grad is not None:
            _count_thread(no_grad_threads, not _modes.grad_enabled, not self._grad)
            _modes.grad_enabled = self._grad
        if self._anomaly is not None:
            _count_thread(anomaly_threads, _modes.anomaly, self._anomaly)
            _modes.anomaly = self._anomaly
        return self

    def __exit__(self, *exc_info: object) -> None:
        grad_enabled, anomaly = _modes.saved.pop()
        _count_thread(anomaly_threads, _modes.anomaly, anomaly)
        _count_thread(no_grad_threads, not _modes.grad_enabled, not grad_enabled)
        _modes.grad_enabled, _modes.anomaly = grad_enabled, anomaly

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        import functools
        import inspect

        if inspect.isgeneratorfunction(func):
            # A generator runs a little at each next(): the mode holds while it runs, and not
            # in the caller's code between two items (as PyTorch's decorators do).
            @functools.wraps(func)
            def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
                generator = func(*args, **kwargs)
                sent = None
                while True:
                    try:
                        with self.__class__():
                            item = generator.send(sent)
                    except StopIteration as stop:
                        return stop.value
                    sent = yield item

            return generator_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
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


class detect_anomaly(_ModeSwitch):  # noqa: N801 - named as in PyTorch
    """The first operation that turns finite inputs into nan or inf, in the forward
    or the backward pass, raises `AnomalyError` naming the operation, its inputs and
    the line of your code that created the node. Per thread; costs nothing outside."""

    _anomaly = True


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_frame() -> str:
    """`file:line` of the innermost caller outside this package (for error messages)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"
