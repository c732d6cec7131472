"""`v += x`, `v -= x`, `v *= x`, `v /= x` on Values: under no_grad() the change is made in the
Value itself (PyTorch's `with no_grad(): p -= lr * p.grad`, so a model of Values trains that way
too); while gradients are recorded, micrograd's habit holds: `total += x` makes a new node."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import MLP, Value

IN_PLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.iadd,
    "-": operator.isub,
    "*": operator.imul,
    "/": operator.itruediv,
}
PLAIN: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
finite = st.floats(-100, 100, allow_nan=False)
nonzero = finite.filter(lambda v: abs(v) > 1e-3)


@given(x=finite, other=nonzero, symbol=st.sampled_from(sorted(IN_PLACE)), as_value=st.booleans())
def test_an_update_under_no_grad_changes_the_same_value(
    x: float, other: float, symbol: str, as_value: bool
) -> None:
    v = Value(x)
    v.grad = 1.5
    same = v
    with mg.no_grad():
        v = IN_PLACE[symbol](v, Value(other) if as_value else other)
    assert v is same and v.is_leaf and v.requires_grad and v.grad == 1.5
    assert v.data == PLAIN[symbol](x, other)  # the same bits as the operator's forward


def test_a_graph_made_before_the_change_is_refused_as_stale() -> None:
    w = Value(2.0)
    y = w * w
    with mg.no_grad():
        w -= 0.5
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_while_gradients_are_recorded_total_plus_equals_makes_a_new_node_as_in_micrograd() -> None:
    xs = [Value(float(i)) for i in range(1, 4)]
    total = Value(0.0)
    first = total
    for x in xs:
        total += x * x
    assert total is not first and first.data == 0.0 and total.data == 14.0
    total.backward()
    assert [x.grad for x in xs] == [2.0, 4.0, 6.0]


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_pytorchs_manual_sgd_loop_trains_a_model_of_values_as_p_data_does(engine: str) -> None:
    """`with no_grad(): for p in model.parameters(): p -= lr * p.grad` gives the same weights,
    bit for bit, as micrograd's `p.data -= lr * p.grad` (it used to change nothing)."""
    previous = mg.set_engine(engine)
    try:
        models = MLP(2, [4, 1], seed=3), MLP(2, [4, 1], seed=3)
        for _step in range(5):
            for k, model in enumerate(models):
                loss = sum((model([Value(0.5 * i), Value(-1.0)]) - i) ** 2 for i in range(3))
                model.zero_grad()
                loss.backward()
                if k == 0:
                    with mg.no_grad():
                        for p in model.parameters():
                            p -= 0.05 * p.grad
                else:
                    for p in model.parameters():
                        p.data -= 0.05 * p.grad
        ours, micrograds = (list(m.parameters()) for m in models)
        assert [p.data for p in ours] == [p.data for p in micrograds]
        assert [p.data for p in micrograds] != [
            p.data for p in MLP(2, [4, 1], seed=3).parameters()
        ]  # it trained
    finally:
        mg.set_engine(previous)
