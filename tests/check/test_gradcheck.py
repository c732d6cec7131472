"""gradcheck, numerical_grad, check_local_derivatives, check_gradient_function: they pass
right gradients, catch wrong ones, and say where and by how much."""

from __future__ import annotations

import contextlib
import io
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import micrograd_plus
from micrograd_plus import (
    GradcheckError,
    Op,
    Value,
    check_gradient_function,
    check_local_derivatives,
    gradcheck,
    numerical_grad,
)
from micrograd_plus.check.reports import GradcheckReport, GradientRow, LocalDerivativeReport
from micrograd_plus.engine import DOT, dot, value_sum
from micrograd_plus.tensors import Tensor
from micrograd_plus.testing import custom_op, expressions, tensors, values

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

ROOT = Path(__file__).resolve().parents[2]

# A cube whose derivative rule is wrong (2x^2 instead of 3x^2): the mutation every check must catch.
BAD_CUBE = Op("cube", lambda x: x**3, lambda g, out, x: (g * 2 * x * x,))
GOOD_CUBE = Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x * x,))


# -- numerical_grad ---------------------------------------------------------------------------


@given(values(), values())
def test_numerical_grad_matches_known_derivatives(x, y):
    gx, gy = numerical_grad(lambda a, b: a * b + a.sin(), [Value(x), Value(y)])
    assert gx == pytest.approx(y + math.cos(x), abs=1e-6)
    assert gy == pytest.approx(x, abs=1e-6)
    assert type(gx) is float


@given(values(), values("positive"))
def test_numerical_grad_takes_plain_floats_and_arrays_and_passes_other_arguments(x, y):
    array = np.array([x, y])
    g_float, g_array, g_int = numerical_grad(lambda a, v, k: k * a * float(np.sum(v**2)), [x, array, 3])
    assert g_float == pytest.approx(3 * float(np.sum(array**2)), rel=1e-6, abs=1e-6)
    np.testing.assert_allclose(g_array, 3 * x * 2 * array, rtol=1e-6, atol=1e-6)
    assert g_int is None and g_array.shape == (2,)


def test_numerical_grad_restores_data_and_leaves_grad_alone_even_when_f_raises():
    x = Value(2.0)
    x.grad = 5.0

    def explode(v):
        if v.data != 2.0:
            raise KeyError("boom")
        return v * 1.0

    with pytest.raises(KeyError, match="boom"):
        numerical_grad(explode, [x])
    assert x.data == 2.0 and type(x.data) is float and x.grad == 5.0
    assert numerical_grad(lambda v: v * v, x) == pytest.approx((4.0,), abs=1e-6)
    assert x.grad == 5.0


def test_numerical_grad_of_a_non_scalar_needs_grad_output():
    a = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"returned shape \(3,\).*grad_output="):
        numerical_grad(lambda v: v**2, [a])
    (g,) = numerical_grad(lambda v: v**2, [a], grad_output=np.array([1.0, 0.5, -1.0]))
    np.testing.assert_allclose(g, [2.0, 2.0, -6.0], atol=1e-6)


def test_finite_differences_refuse_float32_and_bad_eps():
    with pytest.raises(ValueError, match="float32.*float64"):
        numerical_grad(lambda v: float(v.sum()), [np.ones(2, dtype=np.float32)])
    for eps in (0.0, -1e-6, math.inf, math.nan, True, "1e-6"):
        with pytest.raises(ValueError, match="eps must be a positive finite number"):
            numerical_grad(lambda v: v, [1.0], eps=eps)


# -- gradcheck ---------------------------------------------------------------------------------


@given(expressions())
def test_gradcheck_passes_every_engine_expression(expr):
    report = gradcheck(expr, expr.leaves())
    assert report and report.ok and not report.failures
    n = len(expr.inputs)
    verdict = "the 1 gradient element matches" if n == 1 else f"all {n} gradient elements match"
    assert str(report).startswith(f"gradcheck: {verdict}")


def test_gradcheck_raises_a_runtime_error_with_a_table_naming_the_wrong_element():
    x, y = Value(2.0, label="x"), Value(-0.5, label="y")
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a, b: Value.apply(BAD_CUBE, a) * b, [x, y])
    error = caught.value
    assert isinstance(error, RuntimeError)
    message = str(error)
    lines = message.splitlines()
    assert lines[0] == "gradcheck: 1 of 2 gradient elements is wrong (eps=1e-06, atol=1e-05, rtol=0.001)"
    assert lines[1] == "  input 0 'x': 1 of 1 elements wrong; largest error 2.0e+00 (analytic -4, numeric -6)"
    assert lines[2].startswith("  cause: op 'cube' has a wrong derivative rule (node 0 of 2 in forward order")
    assert lines[3].split() == ["input", "element", "analytic", "numeric", "abs", "err", "rel", "err"]
    assert lines[4].split() == ["input", "0", "'x'", "-", "-4", "-6", "2.0e+00", "3.3e-01", "<--", "WRONG"]
    assert lines[5].split()[:6] == ["input", "1", "'y'", "-", "8", "8"] and "WRONG" not in lines[5]
    assert error.report.failures[0].analytic == -4.0
    assert error.report.failures[0].numeric == pytest.approx(-6.0)


def test_gradcheck_report_without_raising_is_falsy_and_prints_the_same_table():
    x = Value(1.5, label="x")
    report = gradcheck(lambda a: Value.apply(BAD_CUBE, a), [x], raise_exception=False)
    assert isinstance(report, GradcheckReport) and not report
    assert len(report.rows) == 1 and report.rows[0].failed
    assert report.rows[0].analytic == pytest.approx(4.5) and report.rows[0].numeric == pytest.approx(6.75)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a: Value.apply(BAD_CUBE, a), [x])
    assert str(caught.value) == str(report)
    assert "<-- WRONG" in str(report)
    assert gradcheck(lambda a: Value.apply(GOOD_CUBE, a), [x], raise_exception=False)


@given(failed=st.lists(st.booleans(), min_size=1, max_size=30), max_rows=st.integers(1, 30))
def test_a_cut_table_keeps_the_wrong_rows_first_and_in_order_and_counts_the_rest(failed, max_rows):
    rows = [
        GradientRow(0, "x", (k,), 1.0, 2.0 if bad else 1.0, 1.0 if bad else 0.0, 1.0 if bad else 0.0, bad)
        for k, bad in enumerate(failed)
    ]
    report = GradcheckReport("gradcheck", rows, eps=1e-6, atol=1e-5, rtol=1e-3)
    lines = report.table(max_rows=max_rows).splitlines()
    shown = [int(re.search(r"\[(\d+)\]", line).group(1)) for line in lines[1:] if line.startswith("x ")]
    wrong = [k for k, bad in enumerate(failed) if bad]
    right = [k for k, bad in enumerate(failed) if not bad]
    assert shown == sorted((wrong + right)[:max_rows])
    assert all(("<-- WRONG" in line) == failed[k] for k, line in zip(shown, lines[1:]))
    hidden = len(failed) - len(shown)
    hidden_wrong = len(wrong) - sum(failed[k] for k in shown)
    which = f"{hidden_wrong} of them wrong" if hidden_wrong else "all matching"
    expected = f"... {hidden} more rows not shown ({which}; report.rows has them all)"
    assert (lines[-1] == expected) == (hidden > 0)


# A cube whose rule forgets to multiply by the upstream gradient g: right only where g is 1.
FORGETFUL_CUBE = Op("cube", lambda x: x**3, lambda g, out, x: (3 * x * x,))


@pytest.mark.parametrize(
    "f",
    [
        lambda a: Value.apply(FORGETFUL_CUBE, a),  # g = 1: the rows match, the second pass does not
        lambda a: Value.apply(FORGETFUL_CUBE, a) * 1,
        lambda a: Value.apply(FORGETFUL_CUBE, a) * 2,  # g = 2: the rows are wrong
        lambda a: (lambda c: c + c)(Value.apply(FORGETFUL_CUBE, a)),
    ],
    ids=["cube(a)", "cube(a)*1", "cube(a)*2", "c+c"],
)
@given(x=values("nonzero", margin=0.1, max_magnitude=3.0))
def test_gradcheck_catches_a_rule_that_forgets_g_whatever_its_upstream_gradient(f, x):
    report = gradcheck(f, [Value(x)], raise_exception=False)
    assert not report
    assert report.advice[0].startswith("cause: op 'cube' has a wrong derivative rule")
    if not report.failures:
        assert report.problems == [
            "input 0: backward is not multiplied by its upstream gradient g: a second backward pass from "
            f"half the output's gradient did not give half the gradients (off by {3 * x * x:.1e}, "
            "nondet_tol=0)"
        ]


@given(values("nonzero", margin=0.1, max_magnitude=3.0), st.integers(1, 3))
def test_a_forgotten_g_is_caught_on_a_tensor_output_summed(x, n):
    t = Tensor(np.full(n, x), requires_grad=True)
    report = gradcheck(lambda a: Tensor.apply(FORGETFUL_CUBE, a).sum(), [t], raise_exception=False)
    assert not report
    assert report.advice[0].startswith("cause: op 'cube' has a wrong derivative rule")
    assert any("backward is not multiplied by its upstream gradient g" in p for p in report.problems)


@given(expressions(max_nodes=5))
def test_the_rows_hold_the_gradients_backward_computes(expr):
    leaves = expr.leaves()
    report = gradcheck(expr, leaves)
    seeded_with_one = micrograd_plus.grad(expr(*leaves), leaves, allow_unused=True)
    assert [r.analytic for r in report.rows] == [0.0 if g is None else g.data for g in seeded_with_one]
    assert report.problems == [] and report.notes == []


def test_a_rule_that_is_twice_too_large_is_not_said_to_forget_g():
    doubled = Op("square", lambda x: x * x, lambda g, out, x: (g * 4 * x,))
    report = gradcheck(lambda a: Value.apply(doubled, a), [Value(1.5)], raise_exception=False)
    assert not report and len(report.failures) == 1
    assert report.problems == [] and report.notes == []
    assert report.advice[0].startswith("cause: op 'square' has a wrong derivative rule")


def test_a_gradient_that_overflows_in_backward_fails_as_backward_computes_it():
    # backward multiplies 1.35e154 by 1.35e154 (inf) before the 1e-10 that would bring it back
    x = Value(1.0)
    f = lambda x: ((x * 1e-10) * 1.35e154) * 1.35e154  # noqa: E731
    f(x).backward()
    assert x.grad == math.inf
    report = gradcheck(f, [x], raise_exception=False)
    assert not report and report.rows[0].analytic == math.inf
    assert report.problems == []  # the second pass does not overflow: only the row says so


def test_a_wrong_rule_that_uses_g_gets_no_note():
    report = gradcheck(lambda a: Value.apply(BAD_CUBE, a), [Value(1.5)], raise_exception=False)
    assert not report and report.notes == []


def test_gradcheck_tolerances_follow_torch_allclose():
    # analytic 1.0 vs numeric 1.0 + 2e-3: |a - n| = 2e-3 <= atol + rtol * |n| only with rtol >= ~2e-3
    slightly_off = Op("off", lambda x: (1 + 2e-3) * x, lambda g, out, x: (g * 1.0,))
    x = Value(0.3)
    assert not gradcheck(lambda a: Value.apply(slightly_off, a), x, raise_exception=False)
    assert gradcheck(lambda a: Value.apply(slightly_off, a), x, rtol=3e-3)
    assert gradcheck(lambda a: Value.apply(slightly_off, a), x, atol=3e-3)


def test_gradcheck_at_a_kink_says_so():
    report = gradcheck(lambda a: a.relu(), [Value(0.0, label="x")], raise_exception=False)
    assert not report
    assert "f has a kink here: slope 0 on the left, 1 on the right" in str(report)


def test_gradcheck_input_errors_are_clear():
    with pytest.raises(ValueError, match="at least one input that requires grad.*float"):
        gradcheck(lambda a: a, [2.0])
    with pytest.raises(ValueError, match="at least one input that requires grad"):
        gradcheck(lambda a: a * 2, [Value(1.0, requires_grad=False)])
    with pytest.raises(TypeError, match=r"must return the Value or Tensor.*not its \.data"):
        gradcheck(lambda a: (a * 2).data, [Value(1.0)])


def test_gradcheck_skips_inputs_that_do_not_require_grad_and_allows_unused_ones():
    x, c, unused = Value(2.0, label="x"), Value(3.0, requires_grad=False), Value(7.0, label="u")
    report = gradcheck(lambda a, b, u: a * b, [x, c, unused])
    assert [(r.name, r.analytic) for r in report.rows] == [("input 0 'x'", 3.0), ("input 2 'u'", 0.0)]
    assert report.rows[1].numeric == 0.0


def test_gradcheck_does_not_touch_grad():
    x = Value(2.0)
    gradcheck(lambda a: a.tanh(), [x])
    assert x.grad == 0.0 and x.data == 2.0


# -- check_local_derivatives ------------------------------------------------------------------


@given(expressions())
def test_local_derivatives_of_every_engine_op_match(expr):
    out, _ = expr.build()
    report = check_local_derivatives(out)
    assert isinstance(report, LocalDerivativeReport) and report
    assert report.first_failure is None
    n = expr.size
    verdict = "the rule of the 1 checked" if n == 1 else f"the rules of all {n} checked"
    assert str(report).startswith(f"check_local_derivatives: {verdict}")


def test_local_check_names_the_wrong_op_with_its_inputs():
    x = Value(0.5, label="x")
    y = Value.apply(BAD_CUBE, (x * 4).tanh()) + x.exp()  # the mutated op is buried in the middle
    with pytest.raises(GradcheckError) as caught:
        check_local_derivatives(y)
    message = str(caught.value)
    t = math.tanh(2.0)
    assert message.splitlines()[0] == (
        "check_local_derivatives: the derivative rule of op 'cube' is wrong (node 2 of 5 in forward order)"
    )
    assert f"  inputs: {t!r}" in message
    assert "upstream gradient g = 0.75" in message
    local_rule, local_true = 2 * t * t, 3 * t * t
    assert f"= g * {local_rule:.8g}, finite differences give" in message
    assert f"= g * {local_true:.8g}" in message
    report = caught.value.report
    assert report.first_failure.op == "cube" and report.first_failure.inputs == (t,)
    assert [c.op for c in report.checks] == ["*", "tanh", "cube", "exp", "+"]


def test_local_check_catches_a_rule_that_forgets_the_upstream_gradient():
    forgetful = Op("square", lambda x: x * x, lambda g, out, x: (2 * x,))
    report = check_local_derivatives(Value.apply(forgetful, Value(1.25)), raise_exception=False)
    assert not report and report.first_failure.op == "square"
    assert "backward gives 2.5 = g * 3.3333333, finite differences give 1.875 = g * 2.5" in str(report)


def test_local_check_reports_the_earliest_failure_and_lists_the_others():
    bad_double = Op("double", lambda x: 2 * x, lambda g, out, x: (g * 3,))
    x = Value(0.7)
    y = Value.apply(bad_double, Value.apply(BAD_CUBE, x))
    report = check_local_derivatives(y, raise_exception=False)
    assert [c.op for c in report.failures] == ["cube", "double"]
    assert "also wrong: 'double' (node 1)" in str(report)


def test_local_check_covers_fused_dot_and_sum_nodes():
    w = [Value(0.3), Value(-1.2)]
    xs = [Value(2.0), Value(0.5)]
    out = value_sum([dot(w, xs, Value(0.1)), xs[0] * w[1], w[0]])
    report = check_local_derivatives(out)
    assert [c.op for c in report.checks] == ["dot", "*", "sum"]
    assert len(report.checks[0].rows) == 5 and len(report.checks[2].rows) == 3

    # a fused dot whose rule swaps the roles of w and x is named, input by input
    def swapped(g, out, *inputs):
        n = (len(inputs) - 1) // 2
        return (*[g * w for w in inputs[:n]], *[g * x for x in inputs[n:-1]], g)

    bad_dot = Op("dot", DOT.forward, swapped)
    report = check_local_derivatives(Value.apply(bad_dot, *w, *xs, 0.1), raise_exception=False)
    assert report.first_failure.op == "dot"
    wrong = [r.name for r in report.first_failure.rows if r.failed]
    assert wrong == ["input 0", "input 1", "input 2", "input 3"]


def test_local_check_skips_kinks_instead_of_failing():
    # relu'(0) = 0 and abs'(0) = 0 (PyTorch's choices) lie between the one-sided slopes of
    # these kinks: skipped, not failed (and, skips being allowed here, the report is truthy).
    report = check_local_derivatives(Value(0.0).relu() + Value(0.0).abs(), allow_skips=True)
    assert report and [c.op for c in report.checks if c.skipped] == ["relu", "abs"]
    assert "skipped 'relu' (node 0): not differentiable at these inputs (f has a kink here" in str(report)


@given(st.floats(1e-4, 1e-2), st.sampled_from([0.9, 1.1, -1.0]))
def test_a_wrong_rule_where_f_curves_strongly_is_caught_not_taken_for_a_kink(x, factor):
    """Curvature makes the one-sided slopes differ too, but a wrong rule falls outside them."""
    inverse = Op("inv", lambda v: 1 / v, lambda g, out, v, factor=factor: (-g / (v * v) * factor,))
    report = check_local_derivatives(Value.apply(inverse, Value(x)), raise_exception=False)
    assert not report and "<-- WRONG" in str(report) and "kink" not in str(report)


def test_local_check_reports_a_rule_with_the_wrong_number_of_gradients_or_that_raises():
    two = Op("mul2", lambda a, b: a * b, lambda g, out, a, b: (g * b,))
    report = check_local_derivatives(Value.apply(two, Value(1.0), Value(2.0)), raise_exception=False)
    assert "backward returned 1 gradients for 2 inputs" in str(report)
    broken = Op("broken", lambda a: a, lambda g, out, a: (g * undefined_name,))  # noqa: F821
    report = check_local_derivatives(Value.apply(broken, Value(1.0)), raise_exception=False)
    assert "backward raised NameError" in str(report)


@pytest.mark.parametrize(
    "leaf", [Value(2.0), Tensor(np.ones(3), requires_grad=True), Value(1.0, requires_grad=False)]
)
def test_a_leaf_has_no_rule_to_be_wrong_and_its_report_says_nothing_was_checked(leaf):
    report = check_local_derivatives(leaf)  # no raise: truthy, as all([]) is
    assert report and report.checks == []
    assert str(report) == (
        "check_local_derivatives: nothing to check: the graph has no operation nodes (its root is a leaf), "
        "so no derivative rule was checked"
    )


def test_one_element_or_node_is_counted_in_the_singular():
    x, y = Value(1.5, label="x"), Value(2.0, label="y")
    assert str(gradcheck(lambda a: a * a, [x])).startswith("gradcheck: the 1 gradient element matches (eps=")
    wrong = gradcheck(lambda a: Value.apply(BAD_CUBE, a), [x], raise_exception=False)
    assert str(wrong).startswith("gradcheck: the 1 gradient element is wrong (eps=")
    one_of_two = gradcheck(lambda a, b: Value.apply(BAD_CUBE, a) * b, [x, y], raise_exception=False)
    assert str(one_of_two).startswith("gradcheck: 1 of 2 gradient elements is wrong (eps=")
    both = gradcheck(
        lambda a, b: Value.apply(BAD_CUBE, a) * Value.apply(BAD_CUBE, b), [x, y], raise_exception=False
    )
    assert str(both).startswith("gradcheck: 2 of 2 gradient elements are wrong (eps=")
    assert str(check_local_derivatives(x.tanh())).startswith(
        "check_local_derivatives: the rule of the 1 checked operation node matches finite differences (eps="
    )
    assert str(check_local_derivatives(x.tanh() * y)).startswith(
        "check_local_derivatives: the rules of all 2 checked operation nodes match finite differences (eps="
    )
    empty = gradcheck(lambda t: t.sum(), [Tensor(np.zeros(0), requires_grad=True)])
    assert empty and str(empty).startswith("gradcheck: no gradient elements to compare (eps=")


def test_local_check_with_every_node_skipped_says_none_was_checked():
    kinks = Value(0.0).relu() + Value(0.0).abs()  # '+' is checked; relu and abs are skipped
    report = check_local_derivatives(Value(0.0).relu(), allow_skips=True)
    assert report and str(report).splitlines()[0] == (
        "check_local_derivatives: no operation node was checked; 1 skipped (allowed)"
    )
    assert "2 skipped (allowed)" in str(check_local_derivatives(kinks, allow_skips=True))


def test_local_check_takes_only_a_node():
    with pytest.raises(TypeError, match="output node of a graph, got float"):
        check_local_derivatives(1.0)


# -- custom ops: the documented way, verified --------------------------------------------------


def test_a_custom_op_is_verified_and_a_wrong_one_is_caught_everywhere():
    x = Value(1.3, label="x")
    assert gradcheck(lambda a: Value.apply(GOOD_CUBE, a.sin()), [x])
    assert check_local_derivatives(Value.apply(GOOD_CUBE, x.sin()))
    with pytest.raises(GradcheckError, match=r"the 1 gradient element is wrong"):
        gradcheck(lambda a: Value.apply(BAD_CUBE, a.sin()), [x])
    with pytest.raises(GradcheckError, match=r"derivative rule of op 'cube' is wrong"):
        check_local_derivatives(Value.apply(BAD_CUBE, x.sin()))


def test_expressions_shrink_a_wrong_custom_op_to_a_minimal_failing_graph():
    ops = ["+", "*", "tanh", "exp", BAD_CUBE]
    minimal = find(
        expressions(max_nodes=6, ops=ops),
        lambda e: not gradcheck(e, e.leaves(), raise_exception=False),
        # derandomized: the shrinker is a heuristic (about 1 run in 40 stops at a bigger graph)
        settings=settings(max_examples=500, database=None, derandomize=True),
    )
    assert 1 <= minimal.size <= 2 and len(minimal.inputs) == 1
    assert minimal.steps[-1].op == "cube"
    source = repr(minimal)
    # the op is printed by its name: pasted where a variable of that name holds it, it runs
    assert source.splitlines()[-1].startswith("out = ") and "Value.apply(cube, " in source.splitlines()[-1]
    namespace: dict = {"cube": BAD_CUBE}
    exec(source, namespace)  # the printed program reproduces the failure
    report = check_local_derivatives(namespace["out"], raise_exception=False)
    assert report.first_failure.op == "cube"


def test_custom_op_arity_comes_from_forward():
    assert custom_op(GOOD_CUBE).arity == 1
    with pytest.raises(ValueError, match="pass arity="):
        custom_op(Op("many", lambda *xs: sum(xs), lambda g, out, *xs: (g,) * len(xs)))
    assert custom_op(Op("many", lambda *xs: sum(xs), lambda g, out, *xs: (g,) * len(xs)), arity=3).arity == 3


# -- check_gradient_function -----------------------------------------------------------------


def _tiny_net(seed: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(5, 2))  # noqa: N806
    y = rng.normal(size=(5, 1))
    W = rng.normal(size=(2, 1))  # noqa: N806
    return W, X, y


def _mse(W, X, y):  # noqa: N803
    return float(np.mean((X @ W - y) ** 2))


def _mse_grad(W, X, y, factor=2.0):  # noqa: N803
    return factor * X.T @ (X @ W - y) / len(X), None, None


@given(st.integers(0, 2**16))
def test_check_gradient_function_passes_right_numpy_backprop(seed):
    report = check_gradient_function(_mse, _mse_grad, _tiny_net(seed))
    assert report, str(report)
    assert str(report).startswith("check_gradient_function: all 2 gradient elements match")
    assert "not checked (grad_f returned None): input 1, input 2" in str(report)


def test_check_gradient_function_says_which_input_is_wrong_by_how_much_and_where():
    W, X, y = _tiny_net(0)  # noqa: N806
    right = _mse_grad(W, X, y)[0]
    report = check_gradient_function(
        _mse, lambda *a: _mse_grad(*a, factor=1.0), (W, X, y), raise_exception=False, names=["W", "X", "y"]
    )
    assert not report
    worst = int(np.argmax(np.abs(right / 2)))
    summary = str(report).splitlines()[1]
    assert summary.startswith("  input 0 'W': 2 of 2 elements wrong; largest error ")
    assert f"at element [{worst}, 0]" in summary
    assert f"given {right[worst, 0] / 2:.8g}, numeric {right[worst, 0]:.8g}" in summary
    # it raises by default, as gradcheck does: a test that forgets to assert still fails
    with pytest.raises(GradcheckError, match="input 0 'W': 2 of 2 elements wrong") as caught:
        check_gradient_function(_mse, lambda *a: _mse_grad(*a, factor=1.0), (W, X, y), names="WXy")
    assert str(caught.value) == str(report)
    assert caught.value.report.failures == report.failures


def test_check_gradient_function_reports_shapes_and_counts():
    W, X, y = _tiny_net(1)  # noqa: N806
    report = check_gradient_function(
        _mse, lambda W, X, y: (_mse_grad(W, X, y)[0].ravel(), None, None), (W, X, y), raise_exception=False
    )
    assert not report
    assert "input 0: grad_f returned shape (2,) but the input has shape (2, 1)" in str(report)
    with pytest.raises(ValueError, match="one gradient per input .*got 1 for 3 inputs"):
        check_gradient_function(_mse, lambda W, X, y: (_mse_grad(W, X, y)[0],), (W, X, y))
    with pytest.raises(ValueError, match="must return one number"):
        check_gradient_function(lambda W, X, y: X @ W, _mse_grad, (W, X, y))


def test_check_gradient_function_also_compares_with_autograd_for_values():
    x = Value(0.8, label="x")
    report = check_gradient_function(
        lambda a: (a * a).sin(), lambda a: 2 * a.data * math.cos(a.data * a.data), x
    )
    assert report and report.rows[0].autograd == pytest.approx(2 * 0.8 * math.cos(0.64))
    # the engine (here a wrong custom op) disagrees while the hand-written gradient is right
    report = check_gradient_function(
        lambda a: Value.apply(BAD_CUBE, a), lambda a: 3 * a.data**2, x, raise_exception=False
    )
    assert not report
    assert "autograd agrees" not in str(report)
    assert report.rows[0].numeric == pytest.approx(3 * 0.64) and report.rows[0].autograd == pytest.approx(
        2 * 0.64
    )
    assert "autograd" in str(report).splitlines()[2]


# -- Tensors ---------------------------------------------------------------------------------------


def test_gradcheck_and_local_checks_on_tensors():
    @settings(max_examples=25)
    @given(tensors(2, domain="nonzero", max_magnitude=3.0))
    def check(pair):
        a, b = pair
        gradcheck(lambda a, b: (a * b).tanh() + a / b, [a, b])
        check_local_derivatives(((a * b).sigmoid() - b.exp()).sum())

    check()


@settings(max_examples=20)
@given(st.integers(0, 2**16))
def test_local_checks_cover_tensor_ops_made_per_call(seed):
    rng = np.random.default_rng(seed)
    a = Tensor(rng.normal(size=(3, 4)), requires_grad=True, label="a")
    b = Tensor(rng.normal(size=(4,)), requires_grad=True, label="b")
    w = Tensor(rng.normal(size=(4, 2)), requires_grad=True, label="w")
    h = ((a * b + 1.0) @ w).tanh()  # broadcasting, matmul
    out = h.softmax(axis=1).log().mean() + h.T.reshape(-1)[1:4].sum() + (a - b).amax(axis=0).sum() ** 2
    report = check_local_derivatives(out)
    ops = {c.op for c in report.checks}
    assert {"@", "tanh", "softmax", "mean", "reshape", "max"} <= ops, ops
    assert gradcheck(lambda a, b, w: (((a * b + 1.0) @ w).tanh()).softmax(axis=1).log().mean(), [a, b, w])


def test_a_wrong_tensor_rule_is_named_with_its_shape_problem_or_wrong_elements():
    a = Tensor(np.arange(6.0).reshape(2, 3) / 7, requires_grad=True, label="A")
    transposed = Op("scale", lambda x: 2 * x, lambda g, out, x: (2 * g.T,))
    with pytest.raises(
        GradcheckError, match=r"input 0 'A': backward returned shape \(3, 2\) for an input of shape \(2, 3\)"
    ):
        check_local_derivatives(Tensor.apply(transposed, a).sum())
    flipped = Op("scale", lambda x: 2 * x, lambda g, out, x: (2 * g[::-1],))
    report = gradcheck(lambda t: Tensor.apply(flipped, t), [a], raise_exception=False)
    assert [r.index for r in report.failures] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert "note: the output has shape (2, 3): checked d(sum(w * f)) for fixed random weights w" in str(
        report
    )
    local = check_local_derivatives(Tensor.apply(flipped, a).sum(), raise_exception=False)
    assert local.first_failure.op == "scale" and local.first_failure.inputs[0].shape == (2, 3)


def test_gradcheck_refuses_float32_tensors():
    a = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="float32; finite differences need float64") as refused:
        gradcheck(lambda t: t.sum(), [a])
    assert "x.double()" in str(refused.value)  # the advice names Tensor's own method
    assert gradcheck(lambda t: t.sum(), [a.double().detach().requires_grad_()])
    with pytest.raises(ValueError, match=r"x\.astype\(np\.float64\)"):  # a bare array: numpy's
        numerical_grad(lambda x: x.sum(), [np.ones(2, dtype=np.float32)])


# -- the example and the README section ------------------------------------------------------------


def test_handwritten_backprop_example_catches_the_sigmoid_bug(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "handwritten_backprop.py"),
            "--quick",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.splitlines()[-1] == "caught: the sigmoid bug: W1 and b1 are wrong, W2 and b2 are right"
    )
    text = (tmp_path / "handwritten_backprop.txt").read_text()
    correct, buggy = text.split("== sigmoid'(h) instead of sigmoid'(z) ==")
    assert correct.splitlines()[1].startswith("check_gradient_function: all 16 gradient elements match")
    summary = buggy.splitlines()[1:4]
    assert summary[0].startswith("check_gradient_function: 12 of 16 gradient elements are wrong")
    assert summary[1].startswith("  input 0 'W1': 9 of 9 elements wrong; largest error ")
    assert summary[2].startswith("  input 1 'b1': 3 of 3 elements wrong; largest error ")


def _readme_blocks(kind: str) -> list[str]:
    text = "".join((ROOT / "docs" / page).read_text() for page in ("checking.md", "property-tests.md"))
    return re.findall(rf"```{kind}\n(.*?)```", text, flags=re.S)


def test_readme_python_examples_run_and_print_what_the_readme_shows():
    """Each block on its own (the README is tested block by block, too)."""
    blocks = _readme_blocks("python")
    assert len(blocks) == 8
    printed = io.StringIO()
    namespaces = []
    for index, block in enumerate(blocks):
        namespace: dict = {"__name__": f"readme_gradcheck_{index}"}
        with contextlib.redirect_stdout(printed):
            exec(compile(block, f"docs/checking.md block {index}", "exec"), namespace)
        namespaces.append(namespace)
    shown = [b for b in _readme_blocks("text") if not b.startswith("Failing test case")]
    assert len(shown) == 3
    for text in shown:
        assert text in printed.getvalue()
    # the copy-paste hypothesis tests run and pass
    tests = [f for name, f in namespaces[-1].items() if name.startswith("test_") and callable(f)]
    assert [t.__name__ for t in tests] == ["test_gradients_of_random_graphs", "test_log_gradient"]
    for test in tests:
        test()


def test_readme_hypothesis_example_prints_the_minimal_failing_program():
    block = next(b for b in _readme_blocks("python") if "@given(expressions" in b)
    right_rule = "lambda g, out, x: (g * 3 * x * x,))"
    assert right_rule in block
    block = block.replace(right_rule, "lambda g, out, x: (g * 2 * x * x,))")  # cube made wrong
    block = block.replace("@given(", "@settings(derandomize=True, database=None)\n@given(", 1)
    # one failing line only: hypothesis reports distinct failures (here also from the local
    # check) together, as an ExceptionGroup, when a long run finds both
    block = block.replace("    check_local_derivatives(out)", "    pass")
    namespace: dict = {"settings": settings}
    exec(compile(block, "docs/property-tests.md", "exec"), namespace)
    with pytest.raises(GradcheckError) as caught:
        namespace["test_gradients_of_random_graphs"]()
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    # older hypothesis releases head the report "Falsifying example:" instead
    notes = notes.replace("Falsifying example:", "Failing test case:")
    expected = next(b for b in _readme_blocks("text") if b.startswith("Failing test case"))
    assert expected.strip() in notes
    # the program runs as pasted after the test's definitions (the wrong cube), and shows the failure
    program = expected.split("expr=", 1)[1].rsplit(",", 1)[0].replace("\n    ", "\n")
    exec(program, namespace)
    assert check_local_derivatives(namespace["out"], raise_exception=False).first_failure.op == "cube"


def test_readme_commands_run(tmp_path):
    commands = [line.strip() for block in _readme_blocks("sh") for line in block.splitlines() if line.strip()]
    assert commands == ["python examples/handwritten_backprop.py --quick"]
    script, flag = commands[0].split()[1:]
    # run from a scratch folder: the example writes its output under ./examples_out by default
    result = subprocess.run(
        [sys.executable, str(ROOT / script), flag], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "caught: the sigmoid bug" in result.stdout
    assert (tmp_path / "examples_out" / "handwritten_backprop" / "handwritten_backprop.txt").exists()


def test_public_names_are_exported():
    for name in (
        "numerical_grad",
        "gradcheck",
        "GradcheckError",
        "check_local_derivatives",
        "check_gradient_function",
        "grad",
    ):
        assert hasattr(micrograd_plus, name)
    from micrograd_plus.check.gradcheck import grad as reexported

    assert reexported is micrograd_plus.grad


def test_a_gradient_that_halving_rounds_below_the_smallest_normal_number_passes():
    # the gradient 5e-324 (the smallest subnormal) halves to 0: rounding, not a forgotten g
    x = Value(1.0)
    report = gradcheck(lambda a: a * 5e-324, [x], raise_exception=False)
    assert report.rows[0].analytic == 5e-324
    assert report.problems == []
