"""detect_anomaly(): the first nan or inf in the forward or the backward pass raises an error
that names the operation, its input values and the line of user code that created the node."""

from __future__ import annotations

import math
import sys
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import AnomalyError, Op, Tensor, Value, detect_anomaly, grad, no_grad
from micrograd_plus.engine import value_sum
from micrograd_plus.modes import is_anomaly_enabled

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

HERE = __file__


def next_line() -> int:
    """The line number just after the caller's line: write the expression under test there."""
    return sys._getframe(1).f_lineno + 1


def where(line: int) -> str:
    return f"{HERE}:{line}"


# -- forward ---------------------------------------------------------------------------------


FORWARD_CASES = [
    # (name, op name in the message, input values in the message, build from the inputs)
    ("log of 0", "'log'", "(0.0)", lambda: Value(0.0).log()),
    ("division by 0", "'/'", "(1.0, 0.0)", lambda: Value(1.0) / Value(0.0)),
    ("exp overflow", "'exp'", "(1000.0)", lambda: Value(1000.0).exp()),
    ("sqrt of -1", "'sqrt'", "(-1.0)", lambda: Value(-1.0).sqrt()),
    ("0 ** -1", "'**'", "(0.0, -1.0)", lambda: Value(0.0) ** -1),
    ("cube root of -8", "'**'", "(-8.0, 0.3333333333333333)", lambda: Value(-8.0) ** (1 / 3)),
    ("multiplication overflow", "'*'", "(1e+200, 1e+200)", lambda: Value(1e200) * Value(1e200)),
]


@pytest.mark.parametrize("name, op, inputs, build", FORWARD_CASES)
def test_forward_anomaly_names_op_inputs_and_the_creating_line(name, op, inputs, build):
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        build()
    message = str(info.value)
    assert op in message and inputs in message, message
    # The lambda above is user code: the creating line is the line of the case in this file.
    assert f"{HERE}:" in message, message


def test_forward_anomaly_points_at_the_exact_line_of_user_code():
    x = Value(0.0, label="x")
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        line = next_line()
        x.log()
    assert str(info.value).startswith(f"'log' turned finite inputs (0.0) into -inf at {where(line)}.")


def test_forward_anomaly_inside_library_code_points_at_the_caller():
    terms = [Value(1e308), Value(1e308)]
    with (
        detect_anomaly(),
        pytest.raises(AnomalyError, match=r"'sum' turned finite inputs \(1e\+308, 1e\+308\)") as info,
    ):
        line = next_line()
        value_sum(terms)
    assert where(line) in str(info.value)


def test_forward_anomaly_in_a_custom_op_names_it():
    bad = Op("reciprocal", lambda x: 1.0 / x if x else math.inf, lambda g, out, x: (-g * out * out,))
    with (
        detect_anomaly(),
        pytest.raises(AnomalyError, match=r"'reciprocal' turned finite inputs \(0.0\) into inf"),
    ):
        Value.apply(bad, Value(0.0))


def test_long_input_lists_are_shortened_in_the_message():
    terms = [Value(1e308) for _ in range(20)]
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"\.\.\. \(20 inputs\)"):
        value_sum(terms)


def test_nan_already_in_the_inputs_is_not_reported_again():
    with detect_anomaly():
        y = Value(math.nan) + 1.0
        z = Value(math.inf).exp()
    assert math.isnan(y.data) and z.data == math.inf


def test_forward_anomaly_is_also_checked_under_no_grad():
    with no_grad(), detect_anomaly(), pytest.raises(AnomalyError, match="'log'"):
        Value(0.0).log()


def test_outside_the_mode_nothing_is_raised_and_no_line_is_recorded():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Value(0.0).log()
    assert y.data == -math.inf and y._where is None
    with detect_anomaly():
        z = Value(1.0).log()
    assert z._where is not None and z._where.startswith(HERE)


# -- backward --------------------------------------------------------------------------------


def test_backward_anomaly_names_op_inputs_gradient_and_line():
    x = Value(0.0, label="x")
    with detect_anomaly():
        line = next_line()
        y = x.sqrt()
        with pytest.raises(AnomalyError) as info:
            y.backward()
    message = str(info.value)
    assert message.startswith(
        "backward of 'sqrt' with inputs (0.0) and output gradient 1.0 produced "
        "a non-finite gradient inf for input 0"
    ), message
    assert f"created at {where(line)}" in message


def test_backward_anomaly_of_a_binary_op_lists_all_inputs_and_the_bad_one():
    x = Value(0.0)
    with detect_anomaly():
        line = next_line()
        y = abs(x) ** 0.5
        with pytest.raises(AnomalyError) as info:
            y.backward()
    message = str(info.value)
    assert "backward of '**' with inputs (0.0, 0.5)" in message and "for input 0" in message, message
    assert where(line) in message


def test_backward_anomaly_for_a_graph_built_outside_the_mode_says_the_line_is_unknown():
    y = Value(0.0).sqrt()
    with (
        detect_anomaly(),
        pytest.raises(AnomalyError, match="created before detect_anomaly.. was switched on"),
    ):
        y.backward()


def test_backward_without_the_mode_gives_ieee_gradients_quietly():
    x = Value(0.0)
    y = x.sqrt()
    y.backward()
    assert x.grad == math.inf


def test_create_graph_gradient_anomaly_is_reported_too():
    x = Value(0.0)
    with detect_anomaly():
        y = x.sqrt()
        with pytest.raises(AnomalyError, match="'/'"):
            grad(y, x, create_graph=True)


def test_the_mode_is_restored_after_an_error_and_works_as_a_decorator():
    @detect_anomaly()
    def risky() -> Value:
        return Value(0.0).log()

    assert not is_anomaly_enabled()
    with pytest.raises(AnomalyError):
        risky()
    assert not is_anomaly_enabled()
    with detect_anomaly(), detect_anomaly():
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_anomaly_error_is_a_runtime_error_as_in_pytorch():
    assert issubclass(AnomalyError, RuntimeError)


# -- properties: the mode raises exactly when plain IEEE arithmetic gives nan or inf ------------


BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}
UNARY = {
    name: getattr(Value, name)
    for name in ("exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "abs", "sqrt")
}

numbers = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e300]))


@given(op=st.sampled_from(sorted(BINARY)), a=numbers, b=numbers)
def test_binary_ops_raise_exactly_when_the_result_or_a_gradient_is_not_finite(op, a, b):
    _check_exactly_when_non_finite(op, lambda x, y: BINARY[op](x, y), a, b)


@given(op=st.sampled_from(sorted(UNARY)), a=numbers)
def test_unary_ops_raise_exactly_when_the_result_or_the_gradient_is_not_finite(op, a):
    _check_exactly_when_non_finite(op, lambda x: UNARY[op](x), a)


def _check_exactly_when_non_finite(op: str, build, *numbers_: float) -> None:
    plain_inputs = [Value(n) for n in numbers_]
    plain = build(*plain_inputs)
    if math.isfinite(plain.data):
        plain.backward()
    checked_inputs = [Value(n) for n in numbers_]
    with detect_anomaly():
        if not math.isfinite(plain.data):
            with pytest.raises(AnomalyError, match=f"'{_escaped(op)}' turned finite inputs"):
                build(*checked_inputs)
            return
        checked = build(*checked_inputs)
        assert checked.data == plain.data
        if all(math.isfinite(x.grad) for x in plain_inputs):
            checked.backward()
            assert [x.grad for x in checked_inputs] == [x.grad for x in plain_inputs]
        else:
            with pytest.raises(AnomalyError, match=f"backward of '{_escaped(op)}'"):
                checked.backward()


def _escaped(op: str) -> str:
    return op.replace("*", r"\*").replace("+", r"\+")


# -- Tensors share the mode ------------------------------------------------------------------


def test_tensor_forward_anomaly_names_op_inputs_index_and_line():
    x = Tensor([1.0, 0.0, 2.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        line = next_line()
        x.log()
    message = str(info.value)
    assert message.startswith("'log' turned finite inputs (array([1., 0., 2.]); shapes (3,)) into "), message
    assert "-inf" in message and "at index (1,)" in message and where(line) in message


def test_tensor_backward_anomaly_names_op_inputs_and_line():
    x = Tensor([4.0, 0.0], requires_grad=True)
    with detect_anomaly():
        line = next_line()
        y = x.sqrt()
        loss = y.sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith("backward of 'sqrt' with inputs (array([4., 0.]))"), message
    assert "non-finite gradient array([0.25, inf])" in message and f"created at {where(line)}" in message


def test_tensor_messages_stay_short_for_big_arrays():
    x = Tensor([[0.0] * 300] * 300, requires_grad=True)
    with detect_anomaly():
        loss = x.sqrt().sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    assert len(str(info.value)) < 600


def test_tensor_without_the_mode_is_quiet_ieee():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Tensor([0.0, 1.0]).log()
    assert y.data[0] == -math.inf and y._where is None
