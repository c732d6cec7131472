"""What the walks call, counted or spied on (never timed): a rule is called straight, with no
function of ieee.py in between unless it raised; the fast Value walk asks whether its data is
finite (`fast._data_finite`) only where a relu neuron of a finite sum needs the answer; the
Tensor walk's order gathers nothing it does not use."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import using_engine

from micrograd_plus import MLP, Tensor, Value, engine, fast, ieee

IEEE_FILE = os.path.abspath(ieee.__file__)
# The walks, and the reference's rule caller (which the fast Value walk calls for nodes of
# several parents): each calls a node's rule with its own try, ieee.redo only after an error.
RULE_CALLERS = {"_walk_values", "_tensor_walk", "local_gradients"}


def ieee_functions_called_by_rule_callers(action: Callable[[], Any]) -> list[str]:
    """The functions of ieee.py that a walk (or local_gradients) calls itself during `action()`."""
    found = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        caller = frame.f_back
        if event == "call" and caller is not None and caller.f_code.co_name in RULE_CALLERS:
            if os.path.abspath(frame.f_code.co_filename) == IEEE_FILE:
                found.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return found


def chain_of_tanh_and_pow(n: int) -> Value:
    y = Value(0.5)
    for _ in range(n):
        y = y.tanh() ** 1.5  # one node of one parent, one of two (the exponent a constant)
    return y


@pytest.mark.parametrize("engine_name", ["fast", "reference"])
def test_a_rule_that_does_not_raise_is_called_straight_by_the_walk(engine_name: str) -> None:
    # ieee.call between the walk and each rule cost a Python call per node (19014 -> 21015 calls
    # on a 3000-node chain): the try stays in the walk, and ieee.redo is called only after an error.
    with using_engine(engine_name):
        y = chain_of_tanh_and_pow(50)
        x = Tensor(np.linspace(-1.0, 1.0, 6), requires_grad=True)
        z = ((x.tanh() ** 1.5) * 2.0).sum()
        assert ieee_functions_called_by_rule_callers(y.backward) == []
        assert ieee_functions_called_by_rule_callers(z.backward) == []
        # (the spy sees them where a rule raises: 1 / 0.0 in DIV's forward and rule)
        zero = Value(0.0)
        q = Value(1.0) / zero
        assert ieee_functions_called_by_rule_callers(q.backward) == ["redo"]
        assert zero.grad == -np.inf


class DataFiniteSpy:
    """fast._data_finite, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = fast._data_finite

    def __call__(self, *args: Any) -> bool:
        self.calls += 1
        return self.real(*args)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_the_fast_walk_asks_whether_its_data_is_finite_only_with_relu_neurons_of_finite_sums(
    monkeypatch: pytest.MonkeyPatch, activation: str
) -> None:
    spy = DataFiniteSpy()
    monkeypatch.setattr(fast, "_data_finite", spy)
    with using_engine("fast"):
        chain_of_tanh_and_pow(20).backward()
        assert spy.calls == 0
        model = MLP(3, [4, 1], activation=activation, seed=1)
        model([Value(1.0), Value(-2.0), Value(0.5)]).backward()
    assert spy.calls == (activation == "relu")


def lists_appended_to_by_order(root: Any, **options: Any) -> set[str]:
    """Which of fast._order's lists it appends to while ordering `root` ('stack', 'order', or
    'another': a list it was given, or one it made only to throw away)."""
    appended = set()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call" and frame.f_code is fast._order.__code__ and arg.__name__ == "append":
            names = {id(frame.f_locals["stack"]): "stack", id(frame.f_locals["order"]): "order"}
            appended.add(names.get(id(arg.__self__), "another"))

    sys.setprofile(profile)
    try:
        fast._order(root, **options)
    finally:
        sys.setprofile(None)
    return appended


def test_the_tensor_walks_order_gathers_nothing_beside_the_order() -> None:
    # A node of two parents, one of them without gradient (the constant): the Value walk asks
    # for the parents outside the order (its neurons read them); the Tensor walk for nothing.
    x = Tensor(np.ones(3), requires_grad=True)
    y = (x * Tensor(np.full(3, 2.0))).sum()
    assert lists_appended_to_by_order(y) == {"stack", "order"}
    reads = fast._Reads()
    with using_engine("fast"):
        relu = engine.neurons([[Value(1.0), Value(2.0)]], [0.5], [1.0, 3.0], activation="relu")[0]
    assert lists_appended_to_by_order(relu, reads=reads) == {"stack", "order", "another"}
    assert sorted(p.data for p in reads.outside) == [0.5, 1.0, 3.0] and reads.neuron_of_finite_sum is relu
