"""A user's code (an Op's forward or rule, a Function's backward, a gradient hook, a module's
backward hook) runs once per call, and its own error reaches the user as raised. The engines
compute a forward or rule again (ieee.call) only where Python floats raise in arithmetic (1/0,
an overflow) or numpy raises a FloatingPointError (the user's np.seterr(...="raise")), to give
IEEE's inf and nan: never for a ValueError, nor for another error on arrays and nodes."""

from __future__ import annotations

import gc
import math
import weakref
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import example, given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import Tensor, Value, ieee, nn
from micrograd_plus.check.local import check_local_derivatives
from micrograd_plus.engine import Op

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines


class Calls(list[int]):
    """A counter whose error names the call that raised it: "call 2" means it ran twice."""

    def fail(self, kind: type[Exception] = ValueError) -> Exception:
        self.append(1)
        return kind(f"call {len(self)}")


def test_an_ops_forward_that_raises_a_value_error_runs_once() -> None:
    calls = Calls()

    def forward(x: float) -> float:
        raise calls.fail()

    with pytest.raises(ValueError, match="^call 1$"):
        Value.apply(Op("refuses", forward, lambda g, out, x: (g,)), Value(1.0))
    assert len(calls) == 1


@pytest.mark.parametrize("kind", [Value, Tensor])
def test_an_ops_rule_that_raises_a_value_error_runs_once(kind: type[Any]) -> None:
    calls = Calls()

    def rule(g: Any, out: Any, x: Any) -> tuple[Any]:
        raise calls.fail()

    x = Value(2.0) if kind is Value else Tensor([2.0, 3.0], requires_grad=True)
    y = kind.apply(Op("refuses", lambda a: a * 1.0, rule), x)
    with pytest.raises(ValueError, match="^call 1$"):
        (y if kind is Value else y.sum()).backward()
    assert len(calls) == 1


def test_a_tensor_rule_that_raises_zero_division_runs_once() -> None:
    # An arithmetic error, but on arrays: there is no float to compute again the IEEE way.
    calls = Calls()

    def rule(g: Any, out: Any, x: Any) -> tuple[Any]:
        raise calls.fail(ZeroDivisionError)

    x = Tensor([2.0, 3.0], requires_grad=True)
    with pytest.raises(ZeroDivisionError, match="^call 1$"):
        Tensor.apply(Op("refuses", lambda a: a * 1.0, rule), x).sum().backward()
    assert len(calls) == 1


def test_a_functions_backward_that_raises_a_value_error_runs_once() -> None:
    calls = Calls()

    class Refuses(mg.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2.0

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            raise calls.fail()

    with pytest.raises(ValueError, match="^call 1$"):
        Refuses.apply(Value(3.0)).backward()
    assert len(calls) == 1


@pytest.mark.parametrize("kind", [Value, Tensor])
def test_a_gradient_hook_that_raises_runs_once(kind: type[Any]) -> None:
    calls = Calls()

    def hook(g: Any) -> Any:
        raise calls.fail()

    x = Value(2.0) if kind is Value else Tensor([2.0, 3.0], requires_grad=True)
    y = x * 3.0
    y.register_hook(hook)
    with pytest.raises(ValueError, match="^call 1$"):
        (y if kind is Value else y.sum()).backward()
    assert len(calls) == 1


@pytest.mark.parametrize("error", [ValueError, ZeroDivisionError, OverflowError])
@pytest.mark.parametrize("which", ["pre", "full"])
def test_a_module_backward_hook_that_raises_runs_once(which: str, error: type[Exception]) -> None:
    calls = Calls()
    layer = nn.Linear(2, 2)

    def hook(module: Any, *grads: Any) -> None:
        raise calls.fail(error)

    if which == "pre":
        layer.register_full_backward_pre_hook(hook)
    else:
        layer.register_full_backward_hook(hook)
    y = layer(Tensor([[1.0, 2.0]], requires_grad=True)).sum()
    with pytest.raises(error, match="^call 1$"):
        y.backward()
    assert len(calls) == 1


def test_check_local_derivatives_runs_a_rule_that_raises_once() -> None:
    calls = Calls()

    def rule(g: Any, out: Any, x: Any) -> tuple[Any]:
        raise calls.fail()

    y = Value.apply(Op("refuses", lambda a: a * 1.0, rule), Value(2.0))
    report = check_local_derivatives(y, raise_exception=False)
    assert "backward raised ValueError: call 1\n" in str(report) + "\n"
    assert len(calls) == 1


@given(st.floats(-10.0, 10.0, allow_nan=False), st.sampled_from([0.0, -0.0]))
def test_float_arithmetic_that_raises_is_still_computed_the_ieee_way(a: float, zero: float) -> None:
    # The forward and the rule divide by zero on Python floats: once more on numpy float64.
    with np.errstate(all="ignore"):
        expected = float(np.float64(a) / np.float64(zero))
        expected_grad = float(np.float64(1.0) / np.float64(zero))
    divide = Op("divide", lambda x, y: x / y, lambda g, out, x, y: (g / y, None))
    x = Value(a)
    y = Value.apply(divide, x, Value(zero))
    assert math.isnan(y.data) if math.isnan(expected) else y.data == expected
    y.backward()
    assert x.grad == expected_grad


def test_ieee_call_raises_a_value_error_at_once() -> None:
    calls = Calls()

    def log_of(x: float) -> float:
        calls.append(1)
        return math.log(x)

    with pytest.raises(ValueError):
        ieee.call(log_of, -1.0)  # numpy's float64 would give math.log the same error again
    assert len(calls) == 1
    assert ieee.call(lambda x: 1.0 / x, 0.0) == math.inf


def test_ieee_call_computes_a_floating_point_error_again_with_numpys_errors_off() -> None:
    # numpy raises FloatingPointError only where the user asked it to (np.seterr(...="raise")):
    # computed again with its errors off, that arithmetic gives IEEE's inf, on arrays too.
    calls = Calls()

    def divide(x: Any, y: Any) -> Any:
        calls.append(1)
        return x / y

    with np.errstate(divide="raise"):
        assert ieee.call(divide, np.array([1.0]), np.array([0.0])).tolist() == [math.inf]
    assert len(calls) == 2


big = st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 2.0, -3.0, math.inf])


@given(big, big, big)
@example(1.0, 0.0, 1.0)  # the forward's 1 / 0 (FloatingPointError under divide="raise")
@example(1e-300, 1e-300, 1e300)  # the rules' 1e300 * 1e300 (under over="raise")
def test_numpy_float64_data_under_np_seterr_raise_gives_torchs_inf_and_nan(
    a: float, b: float, c: float
) -> None:
    """A user's np.seterr(all="raise") does not reach the engines' arithmetic: Values holding numpy
    float64 data give, forward and backward, the inf and nan of PyTorch float64."""
    torch = require_torch()
    leaves = [Value(1.0) for _ in range(3)]
    for leaf, data in zip(leaves, (a, b, c)):
        leaf.data = np.float64(data)
    with np.errstate(all="raise"):
        y = (leaves[0] / leaves[1]) * leaves[2]
        y.backward()
    theirs = [torch.tensor(data, requires_grad=True) for data in (a, b, c)]
    y_torch = (theirs[0] / theirs[1]) * theirs[2]
    y_torch.backward()
    for ours, expected in [(y.data, y_torch.item())] + [
        (leaf.grad, t.grad.item()) for leaf, t in zip(leaves, theirs)
    ]:
        assert close_to_torch(ours, expected), (ours, expected)


def test_check_local_derivatives_runs_a_forward_that_raises_a_value_error_once() -> None:
    # The forward works while the graph is made, then raises: at the node's own point the check
    # runs it as a forward pass does, so its error reaches the user after one run.
    calls = Calls()

    def forward(x: float) -> float:
        if calls:
            raise calls.fail()
        calls.append(1)
        return x * 2.0

    y = Value.apply(Op("works_once", forward, lambda g, out, x: (2.0 * g,)), Value(2.0))
    with pytest.raises(ValueError, match="^call 2$"):
        check_local_derivatives(y)
    assert len(calls) == 2


def test_check_local_derivatives_takes_a_nudged_point_outside_maths_domain_as_not_finite() -> None:
    # math.sqrt at 0, nudged below 0: a ValueError there is nan for the finite differences (the
    # point is skipped, as the built-in sqrt's is), after one run: never again on numpy float64.
    given_to_forward: list[type] = []

    def forward(x: float) -> float:
        given_to_forward.append(type(x))
        return math.sqrt(x)

    y = Value.apply(Op("math_sqrt", forward, lambda g, out, x: (g * 0.5 / out,)), Value(0.0))
    report = check_local_derivatives(y, raise_exception=False)
    assert report.first_failure is None
    assert [(check.op, check.skipped) for check in report.checks] == [
        ("math_sqrt", "not differentiable at these inputs (f is not finite next to input 0)")
    ]
    assert set(given_to_forward) == {float}


@pytest.mark.parametrize("kind", [Value, Tensor])
def test_a_rules_own_arithmetic_error_keeps_no_graph_alive_once_dropped(kind: type[Any]) -> None:
    # Raised as it is (ieee.redo), the error must not hold itself through its traceback's frames:
    # such a cycle kept the graph (and a module's hook nodes) alive until the garbage collector ran.
    def rule(g: Any, out: Any, x: Any) -> tuple[Any]:
        raise ZeroDivisionError("the rule's own")

    x = Value(2.0) if kind is Value else Tensor([2.0, 3.0], requires_grad=True)
    y = kind.apply(Op("refuses", lambda a: a * 1.0, rule), x)
    node = weakref.ref(y)
    gc.disable()
    try:
        with pytest.raises(ZeroDivisionError, match="the rule's own"):
            (y if kind is Value else y.sum()).backward()
        del x, y
        assert node() is None
    finally:
        gc.enable()
