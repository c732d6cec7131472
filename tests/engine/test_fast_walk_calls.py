"""What the walks call, spied on (never timed): a rule is called straight, with no function of
ieee.py in between unless it raised."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import using_engine

from micrograd_plus import Tensor, Value, ieee

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
