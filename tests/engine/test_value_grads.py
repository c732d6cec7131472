"""Every Value op's gradient against central differences and PyTorch float64, on single ops,
fused ops and random expression graphs with shared subexpressions.

Inputs come from micrograd_plus.testing: at least 1e-3 from every kink and pole, so finite
differences are exact to ~1e-9 and the comparison tolerances can stay tight.
"""

from __future__ import annotations

import math

import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import Value, check_local_derivatives, grad, gradcheck, numerical_grad
from micrograd_plus.engine import dot, value_sum
from micrograd_plus.testing import expressions, values

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "abs", "sqrt"]
BINARY = ["+", "-", "*", "/", "**"]

# The derivative of each unary op, written independently of the engine's rules.
DERIVATIVES = {
    "neg": lambda x: -1.0,
    "exp": math.exp,
    "log": lambda x: 1 / x,
    "tanh": lambda x: 1 - math.tanh(x) ** 2,
    "sigmoid": lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2,
    "relu": lambda x: 1.0 if x > 0 else 0.0,
    "sin": math.cos,
    "cos": lambda x: -math.sin(x),
    "abs": lambda x: 1.0 if x > 0 else -1.0,
    "sqrt": lambda x: 0.5 / math.sqrt(x),
}


def unary(name, x):
    return -x if name == "neg" else getattr(x, name)()


def _binary(name):
    return {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "**": lambda a, b: a**b,
    }[name]


# -- single ops vs central differences ---------------------------------------------------------


@given(st.data(), st.sampled_from(UNARY))
def test_unary_op_gradients_match_central_differences_and_the_formula(data, name):
    x = data.draw(values(name), label="x")
    v = Value(x)
    report = gradcheck(lambda a: unary(name, a), [v])
    assert report.rows[0].analytic == pytest.approx(DERIVATIVES[name](x), rel=1e-12, abs=1e-12)
    out = unary(name, v)
    out.backward()
    assert v.grad == pytest.approx(
        numerical_grad(lambda a: unary(name, a), [Value(x)])[0], rel=1e-6, abs=1e-7
    )


@given(st.data(), st.sampled_from(BINARY))
def test_binary_op_gradients_match_central_differences(data, name):
    if name == "**":  # a variable exponent needs a positive base: d(a**b)/db = a**b log(a)
        a, b = data.draw(values("positive", max_magnitude=3.0)), data.draw(values(max_magnitude=3.0))
    else:
        a, b = data.draw(values()), data.draw(values(name if name == "/" else "any"))
    report = gradcheck(_binary(name), [Value(a, label="a"), Value(b, label="b")])
    assert len(report.rows) == 2


@given(values(), st.sampled_from([2.0, 3.0, -1.0, -2.0]))
def test_integer_powers_of_any_sign(x, k):
    if k < 0 and abs(x) < 1e-3:
        x = 1.0
    report = gradcheck(lambda a: a**k, [Value(x)])
    assert report.rows[0].analytic == pytest.approx(k * x ** (k - 1), rel=1e-12)


@given(values("nonzero"), values("nonzero"))
def test_constants_on_either_side_get_no_gradient(x, c):
    for f in (lambda v: c - v, lambda v: c / v, lambda v: 2.0**v, lambda v: v / c, lambda v: c * v):
        v = Value(x)
        gradcheck(f, [v])
        out = f(v)
        out.backward()
        constant = out.parents[0] if out.parents[1] is v else out.parents[1]
        assert constant.grad == 0.0 and not constant.requires_grad


@given(st.lists(st.tuples(values(), values()), min_size=1, max_size=5), values())
def test_fused_dot_and_sum_match_central_differences(pairs, bias):
    ws = [Value(w, label=f"w{i}") for i, (w, _) in enumerate(pairs)]
    xs = [Value(x, label=f"x{i}") for i, (_, x) in enumerate(pairs)]
    b = Value(bias, label="b")
    report = gradcheck(lambda *args: dot(args[: len(ws)], args[len(ws) : -1], args[-1]), [*ws, *xs, b])
    assert [r.analytic for r in report.rows] == [x.data for x in xs] + [w.data for w in ws] + [1.0]
    gradcheck(lambda *terms: value_sum([t * t for t in terms] + [terms[0]]), [*ws, b])
    check_local_derivatives(value_sum([dot(ws, xs, b), *ws]))


# -- random expression graphs -----------------------------------------------------------------------


@given(expressions(max_nodes=10))
def test_random_expression_graphs_match_central_differences(expr):
    gradcheck(expr, expr.leaves())
    out, leaves = expr.build()
    check_local_derivatives(out)
    # backward() and grad() agree, and a shared subexpression is counted once per use
    out.backward()
    assert [v.grad for v in leaves] == [g.data for g in grad(out, leaves)]


def test_a_shared_subexpression_gets_the_sum_of_its_uses():
    x = Value(0.7)
    shared = x.tanh()
    out = shared * shared + shared.exp()
    report = gradcheck(lambda a: (lambda s: s * s + s.exp())(a.tanh()), [x])
    t = math.tanh(0.7)
    assert report.rows[0].analytic == pytest.approx((2 * t + math.exp(t)) * (1 - t * t), rel=1e-12)
    out.backward()
    assert shared.grad == pytest.approx(2 * t + math.exp(t), rel=1e-12)


# -- PyTorch float64 -----------------------------------------------------------------------------------


def _torch_unary(torch, name, t):
    return -t if name == "neg" else getattr(torch, name)(t)


@given(st.data(), st.sampled_from(UNARY))
def test_unary_ops_match_pytorch_values_and_gradients(data, name):
    torch = require_torch()
    x = data.draw(values(name), label="x")
    v = Value(x)
    out = unary(name, v)
    out.backward()
    t = torch.tensor(x, requires_grad=True)
    expected = _torch_unary(torch, name, t)
    expected.backward()
    assert close_to_torch(out.data, expected.item()), (out.data, expected.item())
    assert close_to_torch(v.grad, t.grad.item()), (v.grad, t.grad.item())


@given(st.data(), st.sampled_from(BINARY))
def test_binary_ops_match_pytorch_values_and_gradients(data, name):
    torch = require_torch()
    if name == "**":
        a, b = data.draw(values("positive", max_magnitude=3.0)), data.draw(values(max_magnitude=3.0))
    else:
        a, b = data.draw(values()), data.draw(values(name if name == "/" else "any"))
    va, vb = Value(a), Value(b)
    out = _binary(name)(va, vb)
    out.backward()
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    expected = _binary(name)(ta, tb)
    expected.backward()
    assert close_to_torch(out.data, expected.item())
    assert close_to_torch([va.grad, vb.grad], [ta.grad.item(), tb.grad.item()])


magnitudes = st.sampled_from([1e-300, 1e-200, 1e-170, 1e-5, 1.0, 3.0, 1e160, 1e200, 1e308])


@given(magnitudes, magnitudes, magnitudes, st.booleans())
def test_division_gradients_match_pytorch_at_extreme_magnitudes(a, b, seed, negative):
    """b * b over- or underflows long before a / b does: the rule must not form it."""
    torch = require_torch()
    a = -a if negative else a
    va, vb = Value(a), Value(b)
    (va / vb).backward(seed)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (ta / tb).backward(torch.tensor(seed))
    for ours, theirs in ((va.grad, ta.grad.item()), (vb.grad, tb.grad.item())):
        assert (math.isnan(ours) and math.isnan(theirs)) or close_to_torch(ours, theirs), (ours, theirs)


@given(expressions(max_nodes=10))
def test_random_expression_graphs_match_pytorch_values_and_gradients(expr):
    torch = require_torch()
    out, leaves = expr.build()
    out.backward()
    tensors = [torch.tensor(x, requires_grad=True) for x in expr.inputs]
    expected = expr(*tensors)
    expected.backward()
    assert close_to_torch(out.data, expected.item()), (expr, out.data, expected.item())
    ours = [v.grad for v in leaves]
    theirs = [t.grad.item() for t in tensors]
    assert close_to_torch(ours, theirs), (expr, ours, theirs)


@given(st.lists(st.tuples(values(), values()), min_size=1, max_size=6), values())
def test_fused_dot_matches_pytorch(pairs, bias):
    torch = require_torch()
    ws, xs, b = [Value(w) for w, _ in pairs], [Value(x) for _, x in pairs], Value(bias)
    out = dot(ws, xs, b).tanh()
    out.backward()
    tw = torch.tensor([w for w, _ in pairs], requires_grad=True)
    tx = torch.tensor([x for _, x in pairs], requires_grad=True)
    tb = torch.tensor(bias, requires_grad=True)
    expected = (torch.dot(tw, tx) + tb).tanh()
    expected.backward()
    assert close_to_torch(out.data, expected.item())
    assert close_to_torch([w.grad for w in ws], tw.grad.numpy())
    assert close_to_torch([x.grad for x in xs], tx.grad.numpy())
    assert close_to_torch(b.grad, tb.grad.item())


@pytest.mark.parametrize("upstream", [math.inf, -math.inf, math.nan])
def test_a_flat_rule_gives_zero_even_for_an_infinite_upstream_gradient_as_pytorch(upstream):
    """Where relu is flat, and for x ** 0, PyTorch gives 0 whatever arrives from above, where
    g * 0.0 would give nan (0 * inf). (Not so for the exponent's rule at 0 ** b: PyTorch
    multiplies g by 0 there, and gives nan.)"""
    torch = require_torch()
    for make, torch_make, at in (
        (lambda x: x.relu(), torch.relu, -1.0),
        (lambda x: x**0.0, lambda x: x**0.0, 2.0),
        (lambda x: dot([x], [Value(2.0)], 0.5, "relu"), lambda x: torch.relu(x * 2.0 + 0.5), -1.0),
    ):
        x = Value(at)
        make(x).backward(upstream)
        tx = torch.tensor(at, dtype=torch.float64, requires_grad=True)
        torch_make(tx).backward(torch.tensor(upstream, dtype=torch.float64))
        assert close_to_torch(x.grad, tx.grad.item()) and x.grad == 0.0


def test_pow_gradients_multiply_the_upstream_gradient_last_as_pytorch():
    """(g * b) * a**(b-1) overflows where g * (b * a**(b-1)) does not."""
    torch = require_torch()
    for base, exponent, scale in ((0.5, 1e10, 1e300), (1 + 2**-52, 1e17, 1e300)):
        a, b = Value(base), Value(exponent)
        ((a**b) * scale).backward()
        ta = torch.tensor(base, dtype=torch.float64, requires_grad=True)
        tb = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
        ((ta**tb) * scale).backward()
        assert close_to_torch([a.grad, b.grad], [ta.grad.item(), tb.grad.item()])


def test_the_exponent_rule_at_zero_multiplies_an_infinite_gradient_as_pytorch():
    torch = require_torch()
    b = Value(2.0)
    (0.0**b).backward(math.inf)
    tb = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (0.0**tb).backward(torch.tensor(math.inf, dtype=torch.float64))
    assert close_to_torch(b.grad, tb.grad.item()) and math.isnan(b.grad)
