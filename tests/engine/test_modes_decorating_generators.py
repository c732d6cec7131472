"""A generator decorated with `@no_grad()` (or `enable_grad`, `detect_anomaly`) runs in the mode
whenever it runs: on next() and send(), when throw() raises inside it, and when close() (or
garbage collection) runs its `finally`; the caller's code between two items runs outside the
mode. The same sequence of events as PyTorch's decorators give (issue 13)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest
from conftest import require_torch

from micrograd_plus import detect_anomaly, enable_grad, no_grad
from micrograd_plus.modes import is_anomaly_enabled, is_grad_enabled

# (decorator, the state it sets, how to read the state, the state outside)
MODES: list[tuple[str, Callable[[], Any], Callable[[], bool], bool]] = [
    ("no_grad", no_grad, is_grad_enabled, True),
    ("detect_anomaly", detect_anomaly, is_anomaly_enabled, False),
]


def conversation(decorate: Any, state: Callable[[], bool]) -> list[tuple[Any, ...]]:
    """Drive a decorated generator through next, send, a caught throw and close; log what it
    and its caller see."""
    log: list[tuple[Any, ...]] = []

    @decorate
    def talk() -> Any:
        try:
            received = yield state()
            log.append(("received", received, state()))
            while True:
                try:
                    yield state()
                except KeyError as error:
                    log.append(("caught", error.args[0], state()))
        finally:
            log.append(("finally", state()))

    talker = talk()
    log.append(("first", next(talker), state()))
    log.append(("after send", talker.send("hello"), state()))
    log.append(("after throw", talker.throw(KeyError("k")), state()))
    talker.close()
    log.append(("closed", state()))
    return log


def uncaught_throw(decorate: Any, state: Callable[[], bool]) -> list[tuple[Any, ...]]:
    log: list[tuple[Any, ...]] = []

    @decorate
    def one() -> Any:
        try:
            yield state()
        finally:
            log.append(("finally", state()))

    gen = one()
    next(gen)
    try:
        gen.throw(ValueError("v"))
    except ValueError as error:
        log.append(("raised to the caller", error.args[0], state()))
    log.append(("after", state()))
    with pytest.raises(StopIteration):
        next(gen)  # it is finished
    return log


@pytest.mark.parametrize(("decorate", "state", "outside"), [m[1:] for m in MODES], ids=[m[0] for m in MODES])
def test_send_throw_and_close_reach_the_generator_inside_the_mode(
    decorate: Any, state: Callable[[], bool], outside: bool
) -> None:
    inside = not outside
    assert conversation(decorate(), state) == [
        ("first", inside, outside),
        ("received", "hello", inside),
        ("after send", inside, outside),
        ("caught", "k", inside),  # throw() reached the generator, inside the mode
        ("after throw", inside, outside),
        ("finally", inside),  # close() ran the finally inside the mode
        ("closed", outside),
    ]
    assert uncaught_throw(decorate(), state) == [
        ("finally", inside),
        ("raised to the caller", "v", outside),
        ("after", outside),
    ]


def test_enable_grad_decorating_a_generator_inside_no_grad() -> None:
    with no_grad():
        log = conversation(enable_grad(), is_grad_enabled)
    assert log == [
        ("first", True, False),
        ("received", "hello", True),
        ("after send", True, False),
        ("caught", "k", True),
        ("after throw", True, False),
        ("finally", True),
        ("closed", False),
    ]


@pytest.mark.parametrize(("decorate", "state", "outside"), [m[1:] for m in MODES], ids=[m[0] for m in MODES])
def test_a_forgotten_generator_runs_its_finally_in_the_mode_when_collected(
    decorate: Any, state: Callable[[], bool], outside: bool
) -> None:
    seen = []

    @decorate()
    def numbers() -> Any:
        try:
            yield 1
            yield 2
        finally:
            seen.append(state())

    gen = numbers()
    next(gen)
    del gen
    gc.collect()
    assert seen == [not outside]
    assert state() == outside


def test_the_same_events_as_pytorch_decorators() -> None:
    torch = require_torch()
    assert conversation(no_grad(), is_grad_enabled) == conversation(torch.no_grad(), torch.is_grad_enabled)
    assert uncaught_throw(no_grad(), is_grad_enabled) == uncaught_throw(
        torch.no_grad(), torch.is_grad_enabled
    )
    with no_grad(), torch.no_grad():
        ours = conversation(enable_grad(), is_grad_enabled)
        theirs = conversation(torch.enable_grad(), torch.is_grad_enabled)
    assert ours == theirs
