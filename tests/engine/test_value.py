"""The scalar engine's semantics: construction, operators, IEEE forward, gradient bookkeeping."""

from __future__ import annotations

import math
import sys
import threading
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import MLP, SGD, Op, Value, enable_grad, no_grad
from micrograd_plus.engine import topological_order

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

finite = st.floats(-10, 10, allow_nan=False)


# -- construction and the Python surface ----------------------------------------------


def test_value_holds_a_writable_float_label_and_zero_grad():
    v = Value(3, label="x")
    assert v.data == 3.0 and type(v.data) is float
    assert v.grad == 0.0 and v.label == "x" and v.requires_grad
    v.data = 5.0
    assert float(v) == 5.0 and v.item() == 5.0
    assert repr(v) == "Value(data=5.0, grad=0.0, label='x')"
    assert Value(np.float64(2.5)).data == 2.5


def test_result_records_op_and_parents_in_argument_order():
    a, b = Value(2.0), Value(3.0)
    c = b - a
    assert c.op == "-" and c.parents == (b, a) and not c.is_leaf
    assert a.op == "" and a.parents == () and a.is_leaf


@pytest.mark.parametrize("bad", [None, "a", [1.0], 1j, object()])
def test_non_numeric_data_is_a_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("bad", ["a", None, [1.0]])
def test_non_numeric_operand_is_a_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(2.0) + bad
    with pytest.raises(TypeError, match=type(bad).__name__):
        bad - Value(2.0)


@given(finite, finite)
def test_operators_with_plain_numbers_on_either_side(x, y):
    v = Value(x)
    assert (v + y).data == x + y and (y + v).data == y + x
    assert (v - y).data == x - y and (y - v).data == y - x
    assert (v * y).data == x * y and (y * v).data == y * x
    assert (-v).data == -x and abs(v).data == abs(x)
    if y != 0:
        assert (v / y).data == x / y
    if x != 0:
        assert (y / v).data == y / x
    assert (2**v).data == pytest.approx(2.0**x)
    assert (v**2).data == x**2


def test_numpy_scalars_on_the_left_give_values():
    v = Value(3.0)
    for result in (np.float64(2) * v, np.float64(2) + v, np.int64(2) - v, np.float32(2) / v):
        assert isinstance(result, Value)
    assert (np.float64(2) * v).data == 6.0


@given(finite, finite)
def test_comparisons_look_at_data_and_return_plain_bools(x, y):
    a, b = Value(x), Value(y)
    for ours, theirs in ((a < b, x < y), (a <= b, x <= y), (a > b, x > y), (a >= b, x >= y), (a > y, x > y)):
        assert type(ours) is bool and ours == theirs


def test_equality_and_hash_are_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b, a}) == 2
    assert {a: 1}[a] == 1


# -- IEEE forward: never an exception, never a complex number, never a warning ------------

INF, NAN = math.inf, math.nan
IEEE_CASES = [
    (lambda: Value(0.0).log(), -INF),
    (lambda: Value(-1.0).log(), NAN),
    (lambda: Value(1.0) / 0, INF),
    (lambda: Value(-1.0) / 0, -INF),
    (lambda: Value(0.0) / 0, NAN),
    (lambda: Value(0.0) ** -1, INF),
    (lambda: Value(1000.0).exp(), INF),
    (lambda: Value(-1.0).sqrt(), NAN),
    (lambda: Value(INF).sin(), NAN),
    (lambda: Value(INF).cos(), NAN),
    (lambda: Value(-8.0) ** (1 / 3), NAN),
    (lambda: Value(-800.0).sigmoid(), 0.0),
    (lambda: Value(800.0).sigmoid(), 1.0),
    (lambda: Value(NAN).relu(), NAN),
    (lambda: Value(10.0) ** 400, INF),
    (lambda: 2 ** Value(2000.0), INF),
    (lambda: Value(1e308) * 10, INF),
    (lambda: Value(INF) - INF, NAN),
    (lambda: Value(NAN).tanh(), NAN),
]


@pytest.mark.parametrize("make, expected", IEEE_CASES)
def test_forward_follows_ieee_semantics_without_warnings(make, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = make()
    assert type(result.data) is float
    if math.isnan(expected):
        assert math.isnan(result.data)
    else:
        assert result.data == expected


def test_backward_through_a_pole_gives_ieee_gradients_not_exceptions():
    x = Value(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.log().backward()
        assert x.grad == INF
        y = Value(0.0)
        y.sqrt().backward()
        assert y.grad == INF
        z = Value(-8.0)
        (z ** (1 / 3)).backward()
        assert math.isnan(z.grad)


def test_subgradients_at_kinks_match_pytorch():
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0
    y = Value(0.0)
    abs(y).backward()
    assert y.grad == 0.0


# -- backward and gradient bookkeeping ---------------------------------------------------


@given(finite, finite, finite)
def test_second_backward_gives_exactly_twice_the_first(x, y, z):
    a, b, c = Value(x), Value(y), Value(z)
    out = (a * b + c * a).tanh() + a * a * 0.5 - (b * c).sigmoid()
    out.backward()
    first = (a.grad, b.grad, c.grad)
    out.backward()
    assert (a.grad, b.grad, c.grad) == tuple(2 * g for g in first)


def test_leaf_sums_its_contributions_before_adding_to_grad():
    # 0.1 + 0.2 + 0.3 in one pass, added once: the same float as summing first.
    a = Value(1.0)
    out = a * 0.1 + a * 0.2 + a * 0.3
    a.grad = 1.0
    out.backward()
    pass_total = 0.3 + (0.1 + 0.2)  # reverse topological order visits the last use first
    assert a.grad == 1.0 + pass_total


def test_intermediate_values_show_the_latest_pass_not_a_running_sum():
    a = Value(2.0)
    mid = a * 3
    out = mid * mid
    out.backward()
    assert mid.grad == 2 * mid.data
    out.backward()
    assert mid.grad == 2 * mid.data  # recomputed, not accumulated
    assert a.grad == 2 * (2 * mid.data * 3)


def test_gradient_argument_scales_the_seed():
    a = Value(2.0)
    (a * a).backward(gradient=3.0)
    assert a.grad == 12.0


def test_constants_and_requires_grad_false_collect_nothing():
    a = Value(2.0)
    k = Value(5.0, requires_grad=False)
    out = a * k + 3
    out.backward()
    assert a.grad == 5.0 and k.grad == 0.0
    constant = out.parents[1]
    assert constant.data == 3.0 and not constant.requires_grad and constant.grad == 0.0


def test_backward_on_a_graph_without_grad_is_a_clear_error():
    k = Value(5.0, requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        (k * 2).backward()


def test_no_grad_as_context_manager_and_decorator_records_nothing():
    a = Value(2.0)
    with no_grad():
        b = a * 3
        with enable_grad():
            c = a * 4
    assert b.is_leaf and not b.requires_grad and b.data == 6.0
    assert c.parents == (a, c.parents[1]) and c.requires_grad

    @no_grad()
    def square(v):
        return v * v

    d = square(a)
    assert d.is_leaf and not d.requires_grad
    assert (a * 1).requires_grad  # the mode is restored afterwards


def test_a_decorated_generator_runs_in_the_mode_and_the_caller_between_items_does_not():
    @no_grad()
    def doubled(values):
        for v in values:
            received = yield v * 2
            assert received in (None, "ping")
        return "done"

    a = Value(1.0)
    items = doubled([a, a])
    first = next(items)
    assert not first.requires_grad and first.is_leaf
    assert (a * 2).requires_grad, "between two items the caller records again"
    assert not items.send("ping").requires_grad  # values sent in reach the generator
    with pytest.raises(StopIteration) as stop:
        next(items)
    assert stop.value.value == "done"


def test_no_grad_is_per_thread():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def other_thread():
        inside.wait()
        seen["other"] = (Value(1.0) * 2).requires_grad
        release.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with no_grad():
        inside.set()
        release.wait()
        seen["this"] = (Value(1.0) * 2).requires_grad
    t.join()
    assert seen == {"this": False, "other": True}


def test_detach_cuts_the_graph():
    a = Value(2.0)
    b = (a * 3).detach()
    out = b * a
    out.backward()
    assert b.is_leaf and not b.requires_grad and b.data == 6.0
    assert a.grad == 6.0  # only through the direct use of a


def test_zero_grad_on_value_module_and_optimizer():
    a = Value(1.0)
    (a * 2).backward()
    a.zero_grad()
    assert a.grad == 0.0
    model = MLP(2, [3, 1], seed=0)
    out = model([1.0, -2.0])
    (out * out).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    (model([1.0, -2.0]) ** 2).backward()
    opt = SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_a_million_node_chain_backpropagates_without_recursion():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(1.0)
    node = x
    for _ in range(1_000_000):
        node = node + 1e-6
    node.backward()
    assert x.grad == 1.0
    assert node.data == pytest.approx(2.0)


def test_topological_order_is_deterministic_and_respects_dependencies():
    def build():
        a, b = Value(1.0, label="a"), Value(2.0, label="b")
        c = a * b
        c.label = "c"
        d = c + a
        d.label = "d"
        e = d * c
        e.label = "e"
        return e

    first = [n.label for n in topological_order(build())]
    assert first == [n.label for n in topological_order(build())]
    assert first.index("e") < first.index("d") < first.index("c") < first.index("a")


def test_each_rule_is_applied_once_per_pass():
    calls = []
    square = Op("square", lambda x: x * x, lambda g, out, x: (calls.append(1) or g * 2 * x,))
    a = Value(3.0)
    s = Value.apply(square, a)
    out = s * s + s
    out.backward()
    assert len(calls) == 1
    assert a.grad == (2 * s.data + 1) * 2 * 3.0


def test_a_custom_op_that_breaks_the_contract_gets_a_clear_error():
    w, x = Value(2.0), Value(3.0)
    too_few = Op("times", lambda a, b: a * b, lambda g, out, a, b: (g * b,))
    with pytest.raises(
        TypeError, match=r"backward of Op 'times' must return .* 2 in all, but returned 1 of them"
    ):
        Value.apply(too_few, w, x).backward()
    bare = Op("square", lambda a: a * a, lambda g, out, a: g * 2 * a)
    with pytest.raises(TypeError, match=r"1 in all, but returned float: write `return \(g \* \.\.\.,\)`"):
        Value.apply(bare, w).backward()
    as_list = Op("square", lambda a: a * a, lambda g, out, a: [g * 2 * a])  # a list is fine
    Value.apply(as_list, w).backward()
    assert w.grad == 4.0
    for result in (2 + 1j, "s", np.ones(3)):
        wrong = Op("bad", lambda a, result=result: result, lambda g, out, a: (g,))
        with pytest.raises(
            TypeError, match="the forward of Op 'bad' returned a value that must be a real number"
        ):
            Value.apply(wrong, w)
    assert Value.apply(Op("np", lambda a: np.float64(a) * 2, lambda g, out, a: (2 * g,)), w).data == 4.0


def test_micrograd_readme_example_prints_the_same_numbers():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    assert f"{g.data:.4f}" == "24.7041"
    g.backward()
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"
