"""Threads: two models trained at once give the bits of training them one after the other;
no_grad and anomaly mode are per thread; nothing draws from global random state."""

from __future__ import annotations

import gc
import math
import random
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from micrograd_plus import (
    MLP,
    SGD,
    Adam,
    AnomalyError,
    Conv2d,
    Linear,
    ReLU,
    Sequential,
    Tensor,
    Value,
    cross_entropy,
    detect_anomaly,
    enable_grad,
    hinge_loss,
    make_moons,
    modes,
    no_grad,
)
from micrograd_plus.modes import is_anomaly_enabled, is_grad_enabled

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines


@pytest.fixture(autouse=True)
def frequent_thread_switches():
    """Make the interpreter switch threads every microsecond, so threads really interleave."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def run_in_threads(*works: Callable[[], object]) -> list[object]:
    """Start every work at the same moment in its own thread; return results or raise the first error."""
    barrier = threading.Barrier(len(works))
    results: list[object] = [None] * len(works)
    errors: list[BaseException] = []

    def runner(i: int, work: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except BaseException as error:  # report it in the main thread
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(i, w)) for i, w in enumerate(works)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def train_values(seed: int, optimizer: str, steps: int = 12) -> tuple[list[float], list[float]]:
    """A small micrograd-style training run: the loss history and the final parameters."""
    X, y = make_moons(n_samples=24, noise=0.1, seed=seed)
    labels = (y * 2 - 1).tolist()
    model = MLP(2, [6, 6, 1], seed=seed)
    opt = (
        SGD(model.parameters(), lr=0.1, momentum=0.9)
        if optimizer == "sgd"
        else Adam(model.parameters(), lr=0.05)
    )
    losses = []
    for _ in range(steps):
        loss = hinge_loss([model(list(row)) for row in X.tolist()], labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with no_grad():  # evaluation in between, switching the mode on and off
            losses.append(hinge_loss([model(list(row)) for row in X.tolist()], labels).data)
    return losses, [p.data for p in model.parameters()]


def test_two_models_trained_at_once_match_training_them_in_turn_bit_for_bit():
    sequential = [train_values(1, "sgd"), train_values(2, "adam")]
    concurrent = run_in_threads(lambda: train_values(1, "sgd"), lambda: train_values(2, "adam"))
    assert concurrent == sequential  # float ==: the very same bits


def train_tensors(seed: int, steps: int = 15) -> tuple[list[float], list[bytes]]:
    """A PyTorch-style run: Linear layers on Tensors, cross-entropy, Adam."""
    X, y = make_moons(n_samples=40, noise=0.1, seed=seed)
    model = Sequential(Linear(2, 16, seed=seed), ReLU(), Linear(16, 2, seed=seed + 1))
    opt = Adam(model.parameters(), lr=0.02)
    inputs = Tensor(X)
    losses = []
    for _ in range(steps):
        loss = cross_entropy(model(inputs), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.data))
    return losses, [p.data.tobytes() for p in model.parameters()]


def test_two_tensor_models_trained_at_once_match_training_them_in_turn_bit_for_bit():
    sequential = [train_tensors(5), train_tensors(6)]
    concurrent = run_in_threads(lambda: train_tensors(5), lambda: train_tensors(6))
    assert concurrent == sequential


def test_a_value_model_and_a_tensor_model_trained_at_once_match():
    sequential = [train_values(7, "sgd"), train_tensors(8)]
    concurrent = run_in_threads(lambda: train_values(7, "sgd"), lambda: train_tensors(8))
    assert concurrent == sequential


def test_the_same_model_trained_in_four_threads_gives_the_same_bits():
    reference = train_values(3, "sgd", steps=6)
    results = run_in_threads(*[lambda: train_values(3, "sgd", steps=6)] * 4)
    assert all(r == reference for r in results)


def test_no_grad_in_one_thread_does_not_stop_another_recording():
    inside = threading.Event()
    checked = threading.Event()

    def evaluator() -> bool:
        with no_grad():
            inside.set()
            checked.wait(10)
            return (Value(2.0) * 3).requires_grad

    def trainer() -> tuple[bool, bool]:
        inside.wait(10)
        y = Value(2.0) * 3
        grad_on = is_grad_enabled()
        checked.set()
        return y.requires_grad and not y.is_leaf, grad_on

    evaluated, trained = run_in_threads(evaluator, trainer)
    assert evaluated is False
    assert trained == (True, True)


def test_anomaly_mode_in_one_thread_does_not_check_another():
    inside = threading.Event()
    checked = threading.Event()

    def strict() -> str:
        with detect_anomaly():
            inside.set()
            checked.wait(10)
            try:
                Value(0.0).log()
            except AnomalyError as error:
                return str(error)
            return "no error"

    def relaxed() -> tuple[float, bool]:
        inside.wait(10)
        y = Value(0.0).log()
        mode = is_anomaly_enabled()
        checked.set()
        return y.data, mode

    message, (value, mode) = run_in_threads(strict, relaxed)
    assert message.startswith("'log' turned finite inputs (0.0) into -inf")
    assert value == -math.inf and mode is False


def test_a_new_thread_starts_with_grad_on_and_anomaly_off_whatever_the_parent_does():
    with no_grad(), detect_anomaly():
        [state] = run_in_threads(lambda: (is_grad_enabled(), is_anomaly_enabled()))
    assert state == (True, False)


def test_training_never_touches_global_random_state():
    random.seed(12345)
    np.random.seed(12345)
    python_state, numpy_state = random.getstate(), np.random.get_state()
    first = train_values(4, "adam", steps=3), train_tensors(4, steps=3)
    MLP(3, [4, 2])  # unseeded: fresh entropy from its own generator, not the global one
    Linear(3, 4)
    Conv2d(1, 2, 3)
    make_moons(n_samples=10)
    assert random.getstate() == python_state
    after = np.random.get_state()
    assert (
        after[0] == numpy_state[0]
        and np.array_equal(after[1], numpy_state[1])
        and after[2:] == numpy_state[2:]
    )
    # And the global seed has no influence on a seeded run.
    random.seed(999)
    np.random.seed(999)
    assert (train_values(4, "adam", steps=3), train_tensors(4, steps=3)) == first


# --- a mode exited in a thread that did not enter it (issue 13) ------------------------------------

MODE_COUNTERS = [
    ("no_grad", no_grad, modes.no_grad_threads),
    ("detect_anomaly", detect_anomaly, modes.anomaly_threads),
]


def in_thread(work: Callable[[], object]) -> object:
    """Run `work` in a new thread; return its result, or the exception it raised."""
    outcome: list[object] = []

    def runner() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # hand it to the test
            outcome.append(error)

    thread = threading.Thread(target=runner)
    thread.start()
    thread.join()
    return outcome[0]


@pytest.mark.parametrize(("name", "mode", "counter"), MODE_COUNTERS, ids=[m[0] for m in MODE_COUNTERS])
def test_exiting_a_mode_in_another_thread_is_refused_and_the_counts_stay_right(
    name: str, mode: Callable[[], Any], counter: list[int]
) -> None:
    before = counter[0]
    switch = mode()
    switch.__enter__()  # entered in this (the main) thread
    try:
        assert counter[0] == before + 1
        error = in_thread(lambda: switch.__exit__(None, None, None))
        assert isinstance(error, RuntimeError), error  # was IndexError
        assert f"{name}()" in str(error) and "exit it in the thread that entered it" in str(error)
        assert "MainThread" in str(error)  # the thread that entered it
        assert counter[0] == before + 1  # this thread is still in the mode, and still counted
        assert in_thread(lambda: (is_grad_enabled(), is_anomaly_enabled())) == (True, False)
    finally:
        switch.__exit__(None, None, None)  # the right thread exits it
    assert counter[0] == before
    assert (is_grad_enabled(), is_anomaly_enabled()) == (True, False)


def test_exiting_a_mode_entered_in_another_thread_leaves_that_thread_in_its_mode() -> None:
    entered, tried, done = threading.Event(), threading.Event(), threading.Event()
    switch = no_grad()
    seen: dict[str, object] = {}

    def owner() -> None:
        with switch:
            entered.set()
            tried.wait(10)
            seen["owner still in the mode"] = not is_grad_enabled()
        seen["count after the owner exits"] = modes.no_grad_threads[0]
        done.set()

    thread = threading.Thread(target=owner)
    thread.start()
    entered.wait(10)
    with pytest.raises(RuntimeError, match=r"no_grad\(\) .*Thread-"):
        switch.__exit__(None, None, None)
    assert is_grad_enabled() and modes.no_grad_threads[0] == 1
    tried.set()
    thread.join()
    assert seen == {"owner still in the mode": True, "count after the owner exits": 0}


@pytest.mark.parametrize(("name", "mode", "counter"), MODE_COUNTERS, ids=[m[0] for m in MODE_COUNTERS])
def test_a_thread_that_ends_inside_a_mode_gives_its_count_back(
    name: str, mode: Callable[[], Any], counter: list[int]
) -> None:
    before = counter[0]

    def enter_and_leave_it_open() -> int:
        mode().__enter__()
        mode().__enter__()  # nested: still one thread
        return counter[0]

    assert in_thread(enter_and_leave_it_open) == before + 1
    gc.collect()
    assert counter[0] == before  # was stuck at 1: every node then read the thread-local flags


def test_many_threads_entering_and_exiting_modes_at_once_leave_the_counts_at_zero() -> None:
    def busy() -> None:
        for _ in range(200):
            with no_grad(), detect_anomaly():
                with enable_grad():
                    pass

    run_in_threads(*[busy] * 6)
    assert modes.no_grad_threads[0] == 0 and modes.anomaly_threads[0] == 0
