"""Second (and third) derivatives with grad(..., create_graph=True): against analytic formulas,
against finite differences of the first derivative, and against PyTorch float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import Op, Tensor, Value, check_local_derivatives, grad, gradcheck, numerical_grad
from micrograd_plus.testing import expressions, tensors, values

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

# f, f', f'' written by hand (not with the engine's rules), and where f is smooth.
SECOND_DERIVATIVES = {
    "tanh": (lambda v: v.tanh(), lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2), "any"),
    "exp": (lambda v: v.exp(), math.exp, "any"),
    "sin": (lambda v: v.sin(), lambda x: -math.sin(x), "any"),
    "cube": (lambda v: v**3, lambda x: 6 * x, "any"),
    "cos": (lambda v: v.cos(), lambda x: -math.cos(x), "any"),
    "log": (lambda v: v.log(), lambda x: -1 / x**2, "positive"),
    "sqrt": (lambda v: v.sqrt(), lambda x: -0.25 * x**-1.5, "positive"),
    "sigmoid": (
        lambda v: v.sigmoid(),
        lambda x: (lambda s: s * (1 - s) * (1 - 2 * s))(1 / (1 + math.exp(-x))),
        "any",
    ),
    "reciprocal": (lambda v: 1 / v, lambda x: 2 / x**3, "nonzero"),
    "x*exp(x)": (lambda v: v * v.exp(), lambda x: (x + 2) * math.exp(x), "any"),
}


def first_derivative(f):
    """x -> f'(x) as a Value in a graph (so it can be differentiated again)."""
    return lambda v: grad(f(v), v, create_graph=True)[0]


@given(st.data(), st.sampled_from(sorted(SECOND_DERIVATIVES)))
def test_second_derivatives_match_the_analytic_ones(data, name):
    f, f2, domain = SECOND_DERIVATIVES[name]
    x = data.draw(values(domain, max_magnitude=5.0), label="x")
    v = Value(x)
    (d1,) = grad(f(v), v, create_graph=True)
    assert isinstance(d1, Value) and d1.requires_grad
    (d2,) = grad(d1, v)
    assert d2.data == pytest.approx(f2(x), rel=1e-9, abs=1e-12)
    assert v.grad == 0.0  # grad() never touches .grad


@given(st.data(), st.sampled_from(sorted(SECOND_DERIVATIVES)))
def test_second_derivatives_match_finite_differences_of_the_first(data, name):
    f, f2, domain = SECOND_DERIVATIVES[name]
    x = data.draw(values(domain, max_magnitude=5.0), label="x")
    (numeric,) = numerical_grad(first_derivative(f), [Value(x)])
    assert numeric == pytest.approx(f2(x), rel=1e-5, abs=1e-6)
    report = gradcheck(first_derivative(f), [Value(x)])
    assert report.rows[0].analytic == pytest.approx(f2(x), rel=1e-9, abs=1e-12)


@given(values(max_magnitude=3.0))
def test_third_derivatives(x):
    v = Value(x)
    (d1,) = grad(v**3 + v.sin(), v, create_graph=True)
    (d2,) = grad(d1, v, create_graph=True)
    (d3,) = grad(d2, v)
    assert d3.data == pytest.approx(6 - math.cos(x), rel=1e-12, abs=1e-12)


@given(values(), values())
def test_mixed_partials_are_symmetric(x, y):
    a, b = Value(x), Value(y)
    f = (a * b).sin() + a * a * b
    da, db = grad(f, [a, b], create_graph=True)
    (dab,) = grad(da, b)
    (dba,) = grad(db, a)
    expected = math.cos(x * y) - x * y * math.sin(x * y) + 2 * x
    assert dab.data == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert dba.data == pytest.approx(expected, rel=1e-9, abs=1e-9)


@given(expressions(max_nodes=6))
def test_first_derivatives_of_random_graphs_pass_gradcheck(expr):
    leaves = expr.leaves()
    for i in range(len(leaves)):
        gradcheck(lambda *xs, i=i: grad(expr(*xs), xs[i], create_graph=True)[0], leaves)
    # the graph that create_graph=True records is made of ordinary nodes with correct rules
    for derivative in grad(expr(*leaves), leaves, create_graph=True):
        if derivative.requires_grad:
            check_local_derivatives(derivative, allow_skips=True)  # relu' steps at 0: skipped, never wrong


@given(expressions(max_nodes=6))
def test_second_derivatives_of_random_graphs_match_pytorch(expr):
    torch = require_torch()
    leaves = expr.leaves()
    firsts = grad(expr(*leaves), leaves, create_graph=True)
    tensors_ = [torch.tensor(x, requires_grad=True) for x in expr.inputs]
    torch_firsts = torch.autograd.grad(expr(*tensors_), tensors_, create_graph=True)
    assert close_to_torch([g.data for g in firsts], [g.item() for g in torch_firsts])
    for ours, theirs in zip(firsts, torch_firsts):
        if not ours.requires_grad:  # a constant first derivative: every second derivative is 0
            assert not theirs.requires_grad or all(
                g is None or g.item() == 0.0
                for g in torch.autograd.grad(theirs, tensors_, allow_unused=True, retain_graph=True)
            )
            continue
        second = grad(ours, leaves, allow_unused=True)
        torch_second = torch.autograd.grad(theirs, tensors_, allow_unused=True, retain_graph=True)
        assert close_to_torch(
            [0.0 if g is None else g.data for g in second],
            [0.0 if g is None else g.item() for g in torch_second],
        ), expr


def test_grad_semantics():
    x, y = Value(2.0), Value(3.0)
    out = x * y
    (gx,) = grad(out, x)
    assert gx.data == 3.0 and not gx.requires_grad and x.grad == 0.0
    gx, gy = grad(out, [x, y], grad_outputs=2.0)
    assert (gx.data, gy.data) == (6.0, 4.0)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        grad(out, Value(1.0))
    assert grad(out, [x, Value(1.0)], allow_unused=True)[1] is None


# -- Tensors -------------------------------------------------------------------------------


@given(tensors(max_magnitude=3.0))
def test_tensor_second_derivatives_pass_gradcheck(t):
    def f(a):
        return (a.tanh() * a + a.sin() ** 2).sum()

    def df(a):
        return grad(f(a), a, create_graph=True)[0]

    gradcheck(df, [t])
    (d1,) = grad(f(t), t, create_graph=True)
    (d2_diag,) = grad(d1.sum(), t)  # f is elementwise, so its Hessian is diagonal
    x = t.data
    s = np.tanh(x)
    expected = 2 * (1 - s * s) - 2 * x * s * (1 - s * s) + 2 * np.cos(2 * x)
    np.testing.assert_allclose(d2_diag.data, expected, rtol=1e-9, atol=1e-12)


def test_tensor_hessian_vector_product_matches_pytorch():
    torch = require_torch()
    rng = np.random.default_rng(3)
    w0, x0, v0 = rng.normal(size=(3, 2)), rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    w = Tensor(w0, requires_grad=True)
    x = Tensor(x0)
    (gw,) = grad(((x @ w).sigmoid() ** 2).mean(), w, create_graph=True)
    (hv,) = grad((gw * Tensor(v0)).sum(), w)
    tw = torch.tensor(w0, requires_grad=True)
    (tgw,) = torch.autograd.grad(((torch.tensor(x0) @ tw).sigmoid() ** 2).mean(), tw, create_graph=True)
    (thv,) = torch.autograd.grad((tgw * torch.tensor(v0)).sum(), tw)
    assert close_to_torch(gw.data, tgw.detach().numpy())
    assert close_to_torch(hv.data, thv.numpy())


@given(st.floats(-5.0, -0.1), st.integers(2, 4))
def test_a_constant_power_of_a_negative_base_is_twice_differentiable_under_anomaly_mode(x, k):
    """x ** k for x < 0: the exponent's rule (log x) is not built for a constant exponent."""
    from micrograd_plus import detect_anomaly

    v = Value(x)
    with detect_anomaly():
        (first,) = grad(v**k, v, create_graph=True)
        (second,) = grad(first, v)
    assert math.isclose(first.data, k * x ** (k - 1), rel_tol=1e-12)
    assert math.isclose(second.data, k * (k - 1) * x ** (k - 2), rel_tol=1e-12)


@given(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0), st.floats(-2.0, 2.0))
def test_a_node_given_as_grad_outputs_stays_in_the_graph_like_torch(x, y, v):
    """The double-backward trick: grad(f, x, grad_outputs=v, create_graph=True) is v * f'(x),
    differentiable in x and in v (a Hessian-vector product)."""
    torch = require_torch()
    vx, vy, vv = Value(x), Value(y), Value(v)
    (g,) = grad((vx * vx * vy).sin(), vx, grad_outputs=vv, create_graph=True)
    ours = [d.data for d in grad(g, [vx, vy, vv])]
    tx, ty, tv = (torch.tensor(n, requires_grad=True) for n in (x, y, v))
    (tg,) = torch.autograd.grad((tx * tx * ty).sin(), tx, grad_outputs=tv, create_graph=True)
    theirs = [d.item() for d in torch.autograd.grad(tg, [tx, ty, tv])]
    assert close_to_torch(ours, theirs), (ours, theirs)
    t = Tensor([x, y], requires_grad=True)
    w = Tensor([v, 1.0], requires_grad=True)
    (gt,) = grad(t * t * t, t, grad_outputs=w, create_graph=True)
    d_t, d_w = grad(gt.sum(), [t, w])
    assert close_to_torch(d_t.data, 6 * np.array([x, y]) * np.array([v, 1.0]))
    assert close_to_torch(d_w.data, 3 * np.array([x, y]) ** 2)


@given(st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=4), st.sampled_from(["relu", "abs"]))
def test_second_derivatives_of_relu_and_abs_are_zero_like_torch_not_an_error(xs, name):
    """Their first derivative is piecewise constant but still a function of x (as in PyTorch)."""
    torch = require_torch()
    for x0 in xs:
        v = Value(x0)
        (first,) = grad(getattr(v, name)(), v, create_graph=True)
        (second,) = grad(first, v)
        tv = torch.tensor(x0, requires_grad=True)
        (tfirst,) = torch.autograd.grad(getattr(torch, name)(tv), tv, create_graph=True)
        (tsecond,) = torch.autograd.grad(tfirst, tv)
        assert close_to_torch([first.data, second.data], [tfirst.item(), tsecond.item()])
    t = Tensor(xs, requires_grad=True)
    (first_t,) = grad(getattr(t, name)().sum(), t, create_graph=True)
    (second_t,) = grad(first_t.sum(), t)
    tt = torch.tensor(xs, requires_grad=True)
    (tfirst_t,) = torch.autograd.grad(getattr(torch, name)(tt).sum(), tt, create_graph=True)
    (tsecond_t,) = torch.autograd.grad(tfirst_t.sum(), tt)
    assert close_to_torch(first_t.data, tfirst_t.detach().numpy())
    assert close_to_torch(second_t.data, tsecond_t.numpy(force=True))


@given(st.floats(-3, 3))
def test_a_rule_written_with_numpy_says_why_it_cannot_be_differentiated_again(x):
    np_exp = Op("np_exp", np.exp, lambda g, out, a: (g * np.exp(a),))  # fine on numbers and arrays
    for node in (Value(x), Tensor([x, -x], requires_grad=True)):
        out = type(node).apply(np_exp, node)
        out = out if isinstance(out, Value) else out.sum()
        (first,) = grad(out, node)  # a first derivative: the rule runs on data
        np.testing.assert_allclose(first.data, np.exp(node.data), rtol=1e-12)
        with pytest.raises(
            TypeError, match=r"create_graph=True.*rule passed them to numpy.*x\.exp\(\)"
        ) as error:
            grad(out, node, create_graph=True)
        assert "__array_ufunc__=None" in str(error.value.__cause__)  # numpy's own words, kept as the cause
