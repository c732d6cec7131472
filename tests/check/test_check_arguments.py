"""What the checks refuse before computing anything: tolerances that are not finite numbers
>= 0, inputs finite differences cannot perturb (none, strings, nan or inf), and an f that
returns a number taken out of the graph instead of the node."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import (
    Tensor,
    Value,
    check_gradient_function,
    check_local_derivatives,
    compare_gradients,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

BAD_TOLERANCES = [-1.0, -1e-12, math.nan, math.inf, -math.inf, "1e-5", None, True, 10**400, 1j]


def _calls(**tolerance):
    """Every public check that takes atol and rtol, called with one of them set."""

    def square(x):
        return x * x

    def make_out():
        x = Value(1.5, label="x")
        return x, x * x

    def compare(**t):
        x, out = make_out()
        return compare_gradients(out, {x: 3.0}, **t)

    return {
        "gradcheck": lambda: gradcheck(square, [Value(1.5)], **tolerance),
        "gradgradcheck": lambda: gradgradcheck(square, [Value(1.5)], **tolerance),
        "check_gradient_function": lambda: check_gradient_function(
            lambda x: x * x, lambda x: 2 * x, [1.5], **tolerance
        ),
        "check_local_derivatives": lambda: check_local_derivatives(make_out()[1], **tolerance),
        "compare_gradients": lambda: compare(**tolerance),
    }


@pytest.mark.parametrize("name", ["atol", "rtol"])
@pytest.mark.parametrize("bad", BAD_TOLERANCES, ids=repr)
def test_every_check_refuses_a_tolerance_that_is_not_a_finite_number_at_least_zero(name, bad):
    for call in _calls(**{name: bad}).values():
        with pytest.raises(ValueError, match=rf"^{name} must be a finite number >= 0, got "):
            call()


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize("bad", BAD_TOLERANCES, ids=repr)
def test_gradchecks_refuse_a_nondet_tol_that_is_not_a_finite_number_at_least_zero(check, bad):
    with pytest.raises(ValueError, match=r"^nondet_tol must be a finite number >= 0, got "):
        check(lambda x: x * x, [Value(1.5)], nondet_tol=bad)


@pytest.mark.parametrize(
    "name, bad", [("eps", 0.0), ("eps", -1e-6), ("eps", math.nan), ("atol", -1.0), ("rtol", math.inf)]
)
def test_a_bad_step_or_tolerance_is_refused_before_f_is_called(name, bad):
    calls = []

    def f(*xs):
        calls.append(xs)
        return xs[0] * xs[0]

    x = Value(1.5)
    checks = {
        "gradcheck": lambda **t: gradcheck(f, [x], **t),
        "gradgradcheck": lambda **t: gradgradcheck(f, [x], **t),
        "check_gradient_function": lambda **t: check_gradient_function(f, lambda x: 2 * x, [1.5], **t),
        "numerical_grad": lambda **t: numerical_grad(f, [1.5], **t),
    }
    for check_name, check in checks.items():
        if name != "eps" and check_name == "numerical_grad":
            continue  # it takes no tolerances
        with pytest.raises(ValueError, match=rf"^{name} must be a "):
            check(**{name: bad})
        assert calls == [], check_name


@given(st.sampled_from(["atol", "rtol"]), st.floats(0.0, 1e300), st.sampled_from([float, np.float64, int]))
def test_every_finite_tolerance_at_least_zero_is_taken(name, value, kind):
    tolerance = {name: kind(value) if kind is not int else int(min(value, 1e6))}
    for call in _calls(**tolerance).values():
        assert call()


# -- inputs and outputs: numerical_grad checks what gradcheck checks ------------------------------


@pytest.mark.parametrize("kind", ["Value", "Tensor"])
def test_numerical_grad_refuses_a_number_taken_out_of_the_graph_as_gradcheck_does(kind):
    x = Value(1.5) if kind == "Value" else Tensor(np.array([1.5, -0.5]), requires_grad=True)
    for check in (numerical_grad, gradcheck):
        with pytest.raises(
            TypeError, match=rf"^{check.__name__}: f must return the Value or Tensor.*not its \.data"
        ):
            check(lambda v: (v * v).data.sum() if kind == "Tensor" else v.data**2, [x])


@given(st.floats(-3.0, 3.0))
def test_numerical_grad_of_plain_numbers_may_return_plain_numbers(x):
    (g,) = numerical_grad(lambda v: math.sin(v), [x])
    assert g == pytest.approx(math.cos(x), abs=1e-6)


@pytest.mark.parametrize(
    "inputs, shown",
    [("abc", "str 'abc'"), ([], "no inputs"), ([3, None], "int 3, NoneType None"), ({"x": 1.0}, "dict")],
)
def test_numerical_grad_refuses_inputs_with_nothing_to_perturb_before_calling_f(inputs, shown):
    calls = []
    with pytest.raises(
        ValueError, match=r"^numerical_grad expects at least one float input to perturb"
    ) as caught:
        numerical_grad(lambda *a: calls.append(a), inputs)
    assert shown in str(caught.value) and calls == []


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_nan_or_inf_input_is_named_before_anything_is_computed(bad):
    calls = []

    def f(*xs):
        calls.append(xs)
        return xs[0] * xs[1]

    y = Value(2.0, label="y")
    for check in (gradcheck, gradgradcheck, numerical_grad):
        with pytest.raises(
            ValueError, match=rf"^input 0 'x' is {bad}: finite differences need finite inputs"
        ):
            check(f, [Value(bad, label="x"), y])
    with pytest.raises(ValueError, match=rf"^input 1 is {bad} at element \[1, 0\] \(and 1 more nan or inf\)"):
        gradcheck(f, [y, Tensor(np.array([[1.0, 2.0], [bad, bad]]), requires_grad=True)])
    with pytest.raises(ValueError, match=rf"^input 0 'w' is {bad}"):
        check_gradient_function(lambda w: w * w, lambda w: 2 * w, [bad], names=["w"])
    assert calls == []


def test_a_nan_input_that_is_not_checked_is_passed_through():
    # a constant input (no grad) may hold inf: a mask, say; only the inputs checked must be finite
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    mask = Tensor(np.array([0.0, -math.inf]))
    assert gradcheck(lambda a, m: ((a + m).exp() * 2).sum(), [x, mask])


@pytest.mark.parametrize("kind", ["float", "Value", "Tensor"])
def test_numerical_grad_calls_f_once_at_x_and_twice_per_element(kind):
    calls = []

    def f(x):
        calls.append(1)
        return x * x if kind != "Tensor" else (x * x).sum()

    x = {"float": 1.5, "Value": Value(1.5), "Tensor": Tensor(np.array([1.5, -0.5, 2.0]), requires_grad=True)}[
        kind
    ]
    numerical_grad(f, [x])
    assert len(calls) == 1 + 2 * np.size(x.data if kind != "float" else x)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
def test_an_input_that_does_not_require_grad_is_named_as_such(check):
    with pytest.raises(ValueError) as caught:
        check(lambda a, b: a * b, [Value(2.0, requires_grad=False, label="a"), 3.0])
    message = str(caught.value)
    assert "input 0 'a' does not require grad: make the inputs to check with requires_grad=True" in message
    assert "got Value" not in message


def test_f_that_returns_a_list_is_told_to_return_one_node():
    with pytest.raises(TypeError, match=r"got list \[.*\]; return one Value or Tensor, not a list$"):
        gradcheck(lambda a: [a * a], [Value(2.0)])


def test_fast_mode_counts_directions_over_the_elements_not_elements():
    t = Tensor(np.arange(1.0, 5.0), requires_grad=True)
    one = gradcheck(lambda a: (a * a).sum(), [t], fast_mode=True)
    assert str(one).splitlines()[0].startswith("gradcheck: the 1 random direction over 4 elements matches (")
    two = gradcheck(lambda a, b: (a * b).sum(), [t, Tensor(2.0, requires_grad=True)], fast_mode=True)
    assert str(two).splitlines()[0].startswith("gradcheck: all 2 random directions over 5 elements match (")
