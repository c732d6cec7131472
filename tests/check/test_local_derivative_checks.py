"""check_local_derivatives names the wrong rule, and only a wrong rule: rules are called as
backward calls them (IEEE results where Python floats raise), the step follows the input's
magnitude, and a point counts as a kink only where the one-sided slopes stay apart as the
step shrinks. A skipped node is not a verified one unless the caller allows skips."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from micrograd_plus import GradcheckError, Op, Value, check_local_derivatives
from micrograd_plus.nn.losses import binary_cross_entropy
from micrograd_plus.tensors import Tensor


def _first_line(report: Any) -> str:
    return str(report).splitlines()[0]


def _skipped(report: Any) -> list[str]:
    return [c.op for c in report.checks if c.skipped]


def _scaled(op: Op, factor: float) -> Op:
    """`op` with its derivative rule multiplied by `factor`: a deliberately wrong rule."""

    def backward(g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
        return tuple(None if c is None else factor * c for c in op.backward(g, out, *inputs))

    return Op(op.name, op.forward, backward)


# -- rules are called as backward calls them ------------------------------------------------------


def test_sqrt_at_zero_is_skipped_not_reported_as_a_wrong_rule():
    # sqrt's rule at 0 divides by 0: inf in IEEE (as backward gives), a ZeroDivisionError in
    # Python floats. Left of 0 sqrt is nan, so the point cannot be checked: skipped.
    for root in (Value(0.0).sqrt(), Tensor(np.zeros(2), requires_grad=True).sqrt().sum()):
        report = check_local_derivatives(root, raise_exception=False)
        assert report.first_failure is None, str(report)
        assert "skipped" in _first_line(report) and "wrong" not in str(report)
        assert _skipped(report) == ["sqrt"] and not report
        assert "f is not finite next to" in str(report)
        assert check_local_derivatives(root, allow_skips=True)


@pytest.mark.parametrize("p", [0.0, 1.0])
@pytest.mark.parametrize("t", [0.0, 0.5, 1.0])
def test_binary_cross_entropy_at_a_saturated_probability_is_not_blamed(p, t):
    """At p = 0 or 1 (the edge of the loss's domain) the target's rule is -logit(p) = -+inf
    and, on Python floats, p / (1 - p) raises: neither is a wrong rule."""
    loss = binary_cross_entropy(Value(p), Value(t))
    report = check_local_derivatives(loss, raise_exception=False)
    assert report.first_failure is None, str(report)
    assert "backward raised" not in str(report)
    assert _skipped(report) == ["binary_cross_entropy"]
    assert "skipped" in _first_line(report) and not report
    assert check_local_derivatives(loss, allow_skips=True)


def test_a_rule_that_gives_inf_where_f_is_smooth_is_still_wrong():
    # 1 / 0.0 raises on Python floats; on IEEE numbers the rule gives inf, and the slope is 1
    broken = Op("broken", lambda a: a, lambda g, out, a: (g / (a - a),))
    report = check_local_derivatives(Value.apply(broken, Value(2.0)), raise_exception=False)
    assert not report and report.first_failure.op == "broken" and "skipped" not in _first_line(report)


# -- no false alarms at large magnitudes and near poles ---------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: Value(3e7) + Value(1.0),
        lambda: Value(1e8) * Value(3.0),
        lambda: 1.0 / Value(1e-8),
        lambda: Value(1e-8) / Value(3e-9),
        lambda: Value(-1e8).sin() + Value(7e5).cos(),
        lambda: (Value(1e-7) * 1e-9).log(),
    ],
    ids=["3e7+1", "1e8*3", "1/1e-8", "1e-8/3e-9", "sin(-1e8)+cos(7e5)", "log(1e-16)"],
)
def test_right_rules_at_large_and_small_magnitudes_are_verified_with_nothing_skipped(build):
    report = check_local_derivatives(build())
    assert report and _skipped(report) == [], str(report)
    verified = r"(the rule of the 1 checked operation node matches|the rules of all \d+ checked operation nodes match)"
    assert re.match(rf"check_local_derivatives: {verified} finite differences", _first_line(report))


def test_where_float64_cannot_resolve_the_change_the_point_is_skipped_not_blamed():
    # 1e8 + 1e-8: nudging 1e-8 by a fraction of itself does not change the sum in float64
    report = check_local_derivatives(Value(1e8) + Value(1e-8), raise_exception=False)
    assert report.first_failure is None and _skipped(report) == ["+"]
    assert "rounding" in str(report)


def test_a_forward_that_refuses_points_far_away_is_checked_near_the_point():
    def square_below_2(x: float) -> float:
        if not x < 2:
            raise RuntimeError(f"{x} is out of range")
        return x * x

    right = Op("square", square_below_2, lambda g, out, x: (g * 2 * x,))
    assert check_local_derivatives(Value.apply(right, Value(1.5)))
    wrong = Op("square", square_below_2, lambda g, out, x: (g * x,))
    assert check_local_derivatives(Value.apply(wrong, Value(1.5)), raise_exception=False).first_failure


# -- kinks: only where the one-sided slopes stay apart ---------------------------------------------

STEEP_WITHOUT_SLOPE = Op("steep", lambda x: 1e4 * x * x, lambda g, out, x: (g * 0.0,))


def test_a_steep_smooth_function_with_a_wrong_rule_is_reported_wrong_not_taken_for_a_kink():
    report = check_local_derivatives(Value.apply(STEEP_WITHOUT_SLOPE, Value(1e-7)), raise_exception=False)
    assert not report and report.first_failure.op == "steep"
    assert "wrong" in _first_line(report) and "'steep'" in _first_line(report)
    assert "kink" not in str(report) and "skipped" not in str(report)
    with pytest.raises(GradcheckError, match="derivative rule of op 'steep' is wrong"):
        check_local_derivatives(Value.apply(STEEP_WITHOUT_SLOPE, Value(1e-7)))


def test_genuine_kinks_are_skipped_and_a_skip_is_not_a_verification():
    root = Value(0.0).relu() + Value(0.0).abs()
    report = check_local_derivatives(root, raise_exception=False)
    assert report.first_failure is None and _skipped(report) == ["relu", "abs"]
    assert not report and "skipped" in _first_line(report)
    assert "skipped 'abs' (node 1): not differentiable at these inputs (f has a kink here" in str(report)
    with pytest.raises(GradcheckError, match="skipped") as caught:
        check_local_derivatives(root)
    assert "skipped" in str(caught.value).splitlines()[0]
    allowed = check_local_derivatives(root, allow_skips=True)
    assert allowed and "skipped" in _first_line(allowed)


def test_a_rule_outside_the_one_sided_slopes_of_a_kink_is_wrong():
    steep_abs = Op("abs", lambda x: abs(x), lambda g, out, x: (g * 3.0,))
    report = check_local_derivatives(Value.apply(steep_abs, Value(0.0)), raise_exception=False)
    assert report.first_failure is not None and report.first_failure.op == "abs"


def test_a_kink_next_to_the_point_is_not_a_kink_at_it():
    # |x - 1| at 1 + 1e-9: the fixed step 1e-6 used to straddle the kink
    shifted = Op("shifted_abs", lambda x: abs(x - 1.0), lambda g, out, x: (g * np.sign(x - 1.0),))
    assert check_local_derivatives(Value.apply(shifted, Value(1.0 + 1e-9)))
    wrong = Op("shifted_abs", shifted.forward, lambda g, out, x: (g * 0.0,))
    report = check_local_derivatives(Value.apply(wrong, Value(1.0 + 1e-9)), raise_exception=False)
    assert report.first_failure is not None and "kink" not in str(report)


# -- properties over many magnitudes -----------------------------------------------------------------

# Built-in ops on Values, each with the points where it is smooth and finite.
magnitudes = st.floats(1e-8, 1e8)
signed = st.tuples(magnitudes, st.booleans()).map(lambda p: -p[0] if p[1] else p[0])

UNARY: dict[str, tuple[Callable[[Value], Value], st.SearchStrategy[float]]] = {
    "neg": (lambda v: -v, signed),
    "exp": (lambda v: v.exp(), st.floats(-700.0, 700.0).filter(lambda x: x != 0)),
    "log": (lambda v: v.log(), magnitudes),
    "sqrt": (lambda v: v.sqrt(), magnitudes),
    "tanh": (lambda v: v.tanh(), signed),
    "sigmoid": (lambda v: v.sigmoid(), signed),
    "sin": (lambda v: v.sin(), signed),
    "cos": (lambda v: v.cos(), signed),
    "relu": (lambda v: v.relu(), signed),
    "abs": (lambda v: v.abs(), signed),
    "square": (lambda v: v**2, signed),
    "cube": (lambda v: v**3, signed),
    "inverse": (lambda v: v**-1, signed),
    "root": (lambda v: v**0.5, magnitudes),
    "reciprocal": (lambda v: 2.0 / v, signed),
}

BINARY: dict[str, Callable[[Value, Value], Value]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


@st.composite
def smooth_graphs(draw: st.DrawFn) -> Value:
    """One built-in op at a point where it is smooth and finite, over magnitudes 1e-8..1e8."""
    if draw(st.booleans()):
        build, points = UNARY[draw(st.sampled_from(sorted(UNARY)))]
        return build(Value(draw(points)))
    name = draw(st.sampled_from(sorted(BINARY)))
    if name == "**":  # a positive base, an exponent that keeps the power finite
        a, b = draw(magnitudes), draw(st.just(0.0) | st.floats(1e-8, 2.0) | st.floats(-2.0, -1e-8))
    else:
        a = draw(signed)
        # a sum of numbers 1e8 times apart loses the smaller one's change in rounding (see
        # the test above): keep the two within a factor 1e6 of each other for + and -
        ratio = st.floats(1e-6, 1e6) if name in "+-" else st.floats(1e-16, 1e16)
        b = a * draw(ratio) * draw(st.sampled_from([1.0, -1.0]))
        assume(1e-8 <= abs(b) <= 1e8)
    return BINARY[name](Value(a), Value(b))


@given(smooth_graphs())
def test_right_built_in_rules_are_verified_over_many_magnitudes(root):
    report = check_local_derivatives(root)
    assert report and _skipped(report) == [], str(report)


@given(smooth_graphs(), st.sampled_from([0.0, 0.5, 0.75, 1.25, 2.0, -1.0]))
def test_a_scaled_rule_is_reported_wrong_wherever_its_derivative_is_not_tiny(root, factor):
    parents = root._parents
    wrong = Value.apply(_scaled(root._op, factor), *parents)
    g = 0.75
    rule = root._op.backward(g, root.data, *[p.data for p in parents])
    assume(any(p.requires_grad and abs(c) > 1e-3 for p, c in zip(parents, rule)))
    report = check_local_derivatives(wrong, raise_exception=False)
    assert not report and report.first_failure is not None, str(report)
    assert "kink" not in str(report)


@given(st.floats(1.0, 1e6), st.floats(1e-9, 1.0), st.sampled_from([0.0, 0.5, 2.0, -1.0]))
def test_steep_smooth_functions_with_wrong_rules_are_never_taken_for_kinks(k, x, factor):
    assume(0.75 * 2 * k * x >= 1e-3)  # a wrong rule's error is above atol (1e-5)
    steep = Op("steep", lambda v, k=k: k * v * v, lambda g, out, v, k=k, f=factor: (g * 2 * k * v * f,))
    report = check_local_derivatives(Value.apply(steep, Value(x)), raise_exception=False)
    assert report.first_failure is not None and "kink" not in str(report), str(report)
    right = Op("steep", steep.forward, lambda g, out, v, k=k: (g * 2 * k * v,))
    assert check_local_derivatives(Value.apply(right, Value(x)))


@given(st.floats(-1e3, 1e3), st.floats(0.1, 10.0), st.floats(0.0, 1.0))
def test_kinks_anywhere_are_skipped_when_the_rule_gives_a_one_sided_slope(c, steepness, weight):
    """|x - c| scaled, at its kink c: any rule between the one-sided slopes is skipped."""
    kinked = Op(
        "kinked",
        lambda x, c=c, s=steepness: s * abs(x - c),
        lambda g, out, x, s=steepness, w=weight: (g * s * (2 * w - 1),),
    )
    report = check_local_derivatives(Value.apply(kinked, Value(c)), raise_exception=False)
    assert report.first_failure is None and _skipped(report) == ["kinked"], str(report)
    assert "f has a kink here" in str(report)


TENSOR_OPS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "tanh": lambda a, b: a.tanh(),
    "sin": lambda a, b: a.sin(),
    "abs": lambda a, b: a.abs(),
    "log": lambda a, b: a.abs().log(),
    "sum": lambda a, b: (a * b).sum(axis=0),
    "mean": lambda a, b: (a / b).mean(),
    "@": lambda a, b: a @ b.T,
    "softmax": lambda a, b: (a * b).softmax(axis=1),
}


@st.composite
def tensor_graphs(draw: st.DrawFn) -> Tensor:
    """One Tensor op over elements of any magnitude in 1e-8..1e8 (elementwise ops) or
    over tensors of one magnitude each (ops that add elements up, where a 1e-8 next to a
    1e8 is lost in rounding)."""
    name = draw(st.sampled_from(sorted(TENSOR_OPS)))
    elements = draw(st.lists(signed, min_size=6, max_size=6))
    if name in ("sum", "mean", "@", "softmax"):
        scale = draw(magnitudes) if name != "softmax" else draw(st.floats(1e-8, 30.0))
        elements = [scale * (1 + abs(e) % 1) * math.copysign(1, e) for e in elements]
    a = Tensor(np.array(elements[:6]).reshape(2, 3), requires_grad=True)
    b = Tensor(np.array(elements[::-1]).reshape(2, 3), requires_grad=True)
    return TENSOR_OPS[name](a, b)


@given(tensor_graphs())
def test_right_tensor_rules_are_verified_over_many_magnitudes(root):
    report = check_local_derivatives(root)  # (summing would lose a 1e-16 element next to a 1e16)
    assert report and _skipped(report) == [], str(report)


@given(tensor_graphs(), st.sampled_from([0.0, 0.5, 2.0, -1.0]))
def test_a_scaled_tensor_rule_is_reported_wrong_wherever_its_derivative_is_not_tiny(root, factor):
    parents = root._parents
    rule = root._op.backward(np.ones_like(root.data), root.data, *[p.data for p in parents])
    assume(any(p.requires_grad and np.max(np.abs(c)) > 1e-2 for p, c in zip(parents, rule)))
    wrong = Tensor.apply(_scaled(root._op, factor), *parents)
    report = check_local_derivatives(wrong, raise_exception=False)
    assert report.first_failure is not None and report.first_failure.node is wrong, str(report)
    assert "kink" not in str(report)
