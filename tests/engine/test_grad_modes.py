"""`set_grad_enabled`, `is_grad_enabled` and `inference_mode` (micrograd_plus/modes.py), as PyTorch's:
one script of mode changes runs on both libraries and sees the same grad mode at every step."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from conftest import require_torch

import micrograd_plus as mg
from micrograd_plus import modes


def script(lib: Any) -> list[tuple[str, bool, bool]]:
    """Grad mode changes in every form, the same text for torch and micrograd_plus; at each step
    the grad mode and whether a new result requires grad."""
    x = lib.ones(2, requires_grad=True)
    seen: list[tuple[str, bool, bool]] = []

    def note(step: str) -> None:
        seen.append((step, lib.is_grad_enabled(), (x * 2).requires_grad))

    note("start")
    lib.set_grad_enabled(False)
    note("plain call: off until switched back")
    with lib.set_grad_enabled(True):
        note("with True")
    note("after with True")
    lib.set_grad_enabled(True)
    note("plain call: on")
    with lib.no_grad():
        lib.set_grad_enabled(True)
        note("plain call inside no_grad")
    note("after no_grad")
    with lib.set_grad_enabled(False):
        with lib.set_grad_enabled(True):
            note("nested True")
        note("nested False")

    @lib.set_grad_enabled(False)
    def decorated() -> None:
        note("in a function decorated with set_grad_enabled(False)")

    note("after decorating: nothing switched")
    decorated()
    note("after the call")

    @lib.set_grad_enabled(False)
    def items() -> Iterator[int]:
        note("generator, first item")
        yield 1
        note("generator, second item")
        yield 2

    for _ in items():
        note("between items")
    with lib.inference_mode():
        note("inference_mode")
        with lib.inference_mode(False):
            note("inference_mode(False) inside it")
    with lib.no_grad(), lib.inference_mode(mode=False):
        note("inference_mode(False) inside no_grad")

    @lib.inference_mode
    def bare() -> None:
        note("@inference_mode without parentheses")

    @lib.inference_mode()
    def called() -> None:
        note("@inference_mode()")

    bare()
    called()
    note("end")
    return seen


def test_the_grad_modes_are_torchs_step_by_step() -> None:
    torch = require_torch()
    ours, theirs = script(mg), script(torch)
    assert ours == theirs
    assert {on for _, on, _ in ours} == {True, False}  # the script does switch


def test_a_plain_switch_is_per_thread_and_counted_for_the_engines_fast_path() -> None:
    seen: list[bool] = []
    switched = threading.Event()
    checked = threading.Event()

    def other() -> None:
        mg.set_grad_enabled(False)  # left off: the thread ends in that mode
        switched.set()
        checked.wait(10)
        seen.append(mg.is_grad_enabled())

    thread = threading.Thread(target=other)
    thread.start()
    switched.wait(10)
    assert mg.is_grad_enabled() and (mg.ones(1, requires_grad=True) * 2).requires_grad  # this thread: on
    assert modes.no_grad_threads[0] == 1
    checked.set()
    thread.join()
    gc.collect()
    assert seen == [False]
    assert modes.no_grad_threads[0] == 0  # given back when the thread ended
    mg.set_grad_enabled(False)
    assert modes.no_grad_threads[0] == 1 and not (mg.ones(1, requires_grad=True) * 2).requires_grad
    mg.set_grad_enabled(True)
    assert modes.no_grad_threads[0] == 0


@pytest.mark.parametrize("value", ["yes", 1, None, 0.0])
@pytest.mark.parametrize("name", ["set_grad_enabled", "inference_mode"])
def test_a_mode_that_is_not_a_bool_is_refused_and_changes_nothing(name: str, value: object) -> None:
    torch: ModuleType = require_torch()
    if name == "set_grad_enabled":
        with pytest.raises(TypeError):
            torch.set_grad_enabled(value)
    with pytest.raises(
        TypeError, match=rf"{name}\(\) takes a bool \(True or False\), got {type(value).__name__}"
    ):
        getattr(mg, name)(value)
    assert mg.is_grad_enabled() and modes.no_grad_threads[0] == 0


def test_set_grad_enabled_shows_its_mode() -> None:
    with mg.set_grad_enabled(False) as mode:
        assert repr(mode) == "set_grad_enabled(mode=False)"
