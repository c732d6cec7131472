"""Regression tests for bugs found by a bug hunt in the Tensor engine, the losses and the layers
(one focused test per bug, each against PyTorch float64 where it has an answer):

1. binary_cross_entropy gave nan gradients where p is exactly 0 or 1 (sigmoid(40) == 1.0);
2. x[idx] kept the caller's index array, so changing it afterwards changed backward;
3. functional.linear accepted a bias or weight of the wrong shape (failing later, unclearly), and
   added a float64 bias to a float32 product in place (float32 out, unlike `x @ w.T + b`);
4. cross_entropy with class probabilities dropped a target Tensor's gradient, and refused one
   sample (C,) and C = 1;
5. Flatten and max_pool2d on an empty batch, softmax along an empty axis, softmax of a 0-d Tensor;
6. RuntimeWarnings (clip_grad_norm_ with huge gradients, Tensor(1e300, float32)), abs' gradient at
   nan, and relu's -0.0 gradients.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus.nn.functional as F
from micrograd_plus import Tensor, Value, binary_cross_entropy, cross_entropy
from micrograd_plus.gradients import grad
from micrograd_plus.nn.layers import Flatten, clip_grad_norm_
from micrograd_plus.tensors import broadcast_to

EDGE_P = [0.0, 1.0, 1e-300, 0.5]
EDGE_T = [0.0, 1.0, 0.3]
probabilities = st.one_of(st.sampled_from(EDGE_P + [1.0 - 1e-16, 1e-10]), st.floats(0.0, 1.0))
targets = st.one_of(st.sampled_from(EDGE_T), st.floats(0.0, 1.0))


# --- 1. binary_cross_entropy at p = 0 and p = 1 ------------------------------------------------------


def _torch_bce(torch, p: np.ndarray, t: np.ndarray, reduction: str, g: np.ndarray):  # type: ignore[no-untyped-def]
    tp, tt = torch.tensor(p, requires_grad=True), torch.tensor(t, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy(tp, tt, reduction=reduction)
    loss.backward(torch.tensor(g))
    return loss.detach().numpy(), tp.grad.numpy(), tt.grad.numpy()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_tensor_matches_torch_where_p_is_exactly_0_or_1(reduction: str) -> None:
    torch = require_torch()
    p, t = (np.array(column) for column in zip(*itertools.product(EDGE_P, EDGE_T)))
    x, y = Tensor(p, requires_grad=True), Tensor(t, requires_grad=True)
    loss = binary_cross_entropy(x, y, reduction=reduction)
    g = np.arange(1.0, len(p) + 1) if reduction == "none" else np.array(1.0)
    loss.backward(g)
    ref_loss, ref_gp, ref_gt = _torch_bce(torch, p, t, reduction, g)
    assert close_to_torch(loss.data, ref_loss)
    assert np.all(np.isfinite(x.grad)), x.grad  # was nan where p is 0 or 1
    assert close_to_torch(x.grad, ref_gp)
    assert close_to_torch(y.grad, ref_gt)  # -logit(p): +-inf at p = 1 / 0, as PyTorch


@given(p=st.lists(probabilities, min_size=1, max_size=6), data=st.data())
def test_bce_tensor_gradients_match_torch_for_any_probability(p: list[float], data: st.DataObject) -> None:
    torch = require_torch()
    t = data.draw(st.lists(targets, min_size=len(p), max_size=len(p)))
    x, y = Tensor(p, requires_grad=True), Tensor(t, requires_grad=True)
    loss = binary_cross_entropy(x, y, reduction="sum")
    loss.backward()
    ref_loss, ref_gp, ref_gt = _torch_bce(torch, np.array(p), np.array(t), "sum", np.array(1.0))
    assert close_to_torch(loss.data, ref_loss)
    assert close_to_torch(x.grad, ref_gp)
    assert close_to_torch(y.grad, ref_gt)


@given(p=probabilities, t=targets)
def test_bce_value_matches_torch_where_p_is_exactly_0_or_1(p: float, t: float) -> None:
    torch = require_torch()
    prob, target = Value(p), Value(t)
    loss = binary_cross_entropy([prob], [target])
    loss.backward()
    ref_loss, ref_gp, ref_gt = _torch_bce(torch, np.array(p), np.array(t), "mean", np.array(1.0))
    assert close_to_torch(loss.data, ref_loss)
    assert close_to_torch(prob.grad, ref_gp)
    assert close_to_torch(target.grad, ref_gt)


def test_bce_after_a_saturated_sigmoid_has_torchs_finite_gradient() -> None:
    """sigmoid(40) rounds to 1.0 (and sigmoid(-800) to 0.0): the logit's gradient is 0, not nan."""
    torch = require_torch()
    logits, labels = np.array([40.0, -800.0, -3.0]), np.array([1.0, 0.0, 0.0])
    x = Tensor(logits, requires_grad=True)
    binary_cross_entropy(x.sigmoid(), Tensor(labels)).backward()
    tx = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(tx.sigmoid(), torch.tensor(labels)).backward()
    assert close_to_torch(x.grad, tx.grad.numpy())
    assert x.grad[:2].tolist() == [0.0, 0.0]


@given(p=st.lists(st.floats(0.01, 0.99), min_size=1, max_size=4), data=st.data())
def test_bce_second_derivatives_match_torch(p: list[float], data: st.DataObject) -> None:
    torch = require_torch()
    t = data.draw(st.lists(targets, min_size=len(p), max_size=len(p)))
    wp = np.arange(1.0, len(p) + 1)
    wt = np.linspace(-1.0, 2.0, len(p))
    x, y = Tensor(p, requires_grad=True), Tensor(t, requires_grad=True)
    gp, gt = grad(binary_cross_entropy(x, y, reduction="sum"), [x, y], create_graph=True)
    hp, ht = grad((gp * wp).sum() + (gt * wt).sum(), [x, y])
    tx, ty = torch.tensor(p, requires_grad=True), torch.tensor(t, requires_grad=True)
    tgp, tgt = torch.autograd.grad(
        torch.nn.functional.binary_cross_entropy(tx, ty, reduction="sum"), [tx, ty], create_graph=True
    )
    thp, tht = torch.autograd.grad((tgp * torch.tensor(wp)).sum() + (tgt * torch.tensor(wt)).sum(), [tx, ty])
    # Second derivatives sum terms of size up to 1 / (p (1 - p)) that may cancel to 0 (p == t):
    # both sides then hold a rounding error of that size's order (torch once gave -1.2e-9 for
    # an exact 0, ours 0.0), so the absolute part of the tolerance scales with the terms.
    scale = max(1.0, *(1.0 / (q * (1.0 - q)) for q in p))
    for ours, theirs in ((hp.data, thp.numpy()), (ht.data, tht.numpy())):
        assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-9 * scale), (ours, theirs)
    v = Value(p[0])
    (first,) = grad(binary_cross_entropy([v], [t[0]]), [v], create_graph=True)
    (second,) = grad(first, [v])
    tv = torch.tensor(p[0], requires_grad=True)
    (tfirst,) = torch.autograd.grad(
        torch.nn.functional.binary_cross_entropy(tv, torch.tensor(t[0])), [tv], create_graph=True
    )
    (tsecond,) = torch.autograd.grad(tfirst, [tv])
    assert close_to_torch(first.data, tfirst.item()) and close_to_torch(second.data, tsecond.item())


# --- 2. x[idx] owns its index ------------------------------------------------------------------------


@given(
    n=st.integers(1, 6),
    data=st.data(),
)
def test_changing_the_index_after_indexing_does_not_change_backward(n: int, data: st.DataObject) -> None:
    torch = require_torch()
    picks = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8))
    mask = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    values = np.arange(1.0, n + 1)
    x = Tensor(values, requires_grad=True)
    index, bool_mask, pair = np.array(picks), np.array(mask), [0] * len(picks)
    picked = x[index]
    masked = x[bool_mask]
    grid = Tensor(np.ones((1, n)), requires_grad=True)
    paired = grid[[0] * len(picks), pair]  # a list inside a tuple
    index[:] = n - 1 - index  # the caller reuses its arrays
    bool_mask[:] = ~bool_mask
    pair[:] = [n - 1] * len(pair)
    (picked.sum() + masked.sum()).backward()
    paired.sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    (tx[torch.tensor(picks)].sum() + tx[torch.tensor(mask)].sum()).backward()
    assert close_to_torch(x.grad, tx.grad.numpy())
    expected = np.zeros((1, n))
    expected[0, 0] = len(picks)
    np.testing.assert_array_equal(grid.grad, expected)


def test_an_empty_list_index_picks_nothing_like_torch() -> None:
    torch = require_torch()
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x[[]]
    y.sum().backward()
    assert y.shape == tuple(torch.tensor([1.0, 2.0])[[]].shape) == (0,)
    assert x.grad.tolist() == [0.0, 0.0]


# --- 3. functional.linear checks its shapes and promotes dtypes like x @ w.T + b -------------------------


@pytest.mark.parametrize(
    "weight_shape, bias_shape, message",
    [
        (
            (2, 3),
            (1,),
            r"linear\(\): the bias must have shape \(2,\).*weight of shape \(2, 3\).*got shape \(1,\)",
        ),
        ((2, 3), (3,), r"linear\(\): the bias must have shape \(2,\).*got shape \(3,\)"),
        ((2, 3), (4, 2), r"linear\(\): the bias must have shape \(2,\).*got shape \(4, 2\)"),
        (
            (3,),
            None,
            r"linear\(\): the weight must have shape \(out_features, in_features\), got shape \(3,\)",
        ),
        ((1, 2, 3), None, r"linear\(\): the weight must have shape .* got shape \(1, 2, 3\)"),
    ],
)
def test_linear_rejects_a_bias_or_weight_of_the_wrong_shape(
    weight_shape: tuple[int, ...], bias_shape: tuple[int, ...] | None, message: str
) -> None:
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    w = Tensor(np.ones(weight_shape), requires_grad=True)
    b = None if bias_shape is None else Tensor(np.ones(bias_shape), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        F.linear(x, w, b)


@given(seed=st.integers(0, 2**32 - 1))
def test_linear_float32_with_float64_bias_is_what_the_composition_gives(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(3, 2)), dtype="float32", requires_grad=True)
    w = Tensor(rng.normal(size=(4, 2)), dtype="float32", requires_grad=True)
    b = Tensor(rng.normal(size=4), requires_grad=True)
    out = F.linear(x, w, b)
    ref = x @ w.T + b
    assert out.dtype == ref.dtype == np.float64
    np.testing.assert_array_equal(out.data, ref.data)
    out.sum().backward()
    grads = [t.grad.copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.zero_grad()
    ref.sum().backward()
    for ours, theirs in zip(grads, (x.grad, w.grad, b.grad)):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_linear_with_zero_input_features_matches_torch() -> None:
    torch = require_torch()
    x, w = Tensor(np.zeros((4, 0)), requires_grad=True), Tensor(np.zeros((2, 0)), requires_grad=True)
    b = Tensor([1.0, 2.0], requires_grad=True)
    out = F.linear(x, w, b)
    out.sum().backward()
    tb = torch.tensor([1.0, 2.0], requires_grad=True)
    ref = torch.nn.functional.linear(torch.zeros(4, 0), torch.zeros(2, 0), tb)
    ref.sum().backward()
    assert close_to_torch(out.data, ref.detach().numpy())
    assert close_to_torch(b.grad, tb.grad.numpy())
    assert x.grad.shape == (4, 0) and w.grad.shape == (2, 0)


# --- 4. cross_entropy with class probabilities -----------------------------------------------------------


@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([(4, 3), (3,), (2, 1), (1,)]))
def test_cross_entropy_probability_targets_match_torch_with_their_gradient(
    seed: int, shape: tuple[int, ...]
) -> None:
    """A target Tensor that requires grad gets PyTorch's gradient; one sample (C,) and C = 1 work."""
    torch = require_torch()
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape) * 3
    probs = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1] or None).reshape(shape)
    x, t = Tensor(logits, requires_grad=True), Tensor(probs, requires_grad=True)
    tx, tt = torch.tensor(logits, requires_grad=True), torch.tensor(probs, requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        loss = cross_entropy(x, t, reduction=reduction)
        ref = torch.nn.functional.cross_entropy(tx, tt, reduction=reduction)
        assert close_to_torch(loss.data, ref.detach().numpy())
        g = rng.normal(size=loss.shape)
        loss.backward(g)
        ref.backward(torch.tensor(g))
    assert close_to_torch(x.grad, tx.grad.numpy())
    assert t.grad is not None and close_to_torch(t.grad, tt.grad.numpy())


# --- 5. empty batches, empty axes, 0-d softmax ---------------------------------------------------------------


def test_flatten_and_max_pool_take_an_empty_batch_like_torch() -> None:
    torch = require_torch()
    x = Tensor(np.zeros((0, 3, 4)), requires_grad=True)
    flat = Flatten()(x)
    assert flat.shape == tuple(torch.nn.Flatten()(torch.zeros(0, 3, 4)).shape) == (0, 12)
    flat.sum().backward()
    assert x.grad.shape == (0, 3, 4)
    images = Tensor(np.zeros((0, 2, 5, 5)), requires_grad=True)
    pooled = F.max_pool2d(images, 2)
    assert pooled.shape == tuple(torch.nn.functional.max_pool2d(torch.zeros(0, 2, 5, 5), 2).shape)
    pooled.sum().backward()
    assert images.grad.shape == (0, 2, 5, 5)


@pytest.mark.parametrize("shape, axis", [((3, 0), -1), ((0, 3), 0), ((0, 3), -1), ((2, 0, 4), 1)])
def test_softmax_along_an_empty_axis_is_empty_like_torch(shape: tuple[int, ...], axis: int) -> None:
    torch = require_torch()
    for name in ("softmax", "log_softmax"):
        x = Tensor(np.zeros(shape), requires_grad=True)
        out = getattr(x, name)(axis)
        assert out.shape == tuple(getattr(torch.zeros(shape), name)(axis).shape) == shape
        out.sum().backward()
        assert x.grad.shape == shape


@given(value=st.floats(-1e308, 1e308), axis=st.sampled_from([0, -1]))
def test_softmax_of_a_0d_tensor_is_one_like_torch(value: float, axis: int) -> None:
    torch = require_torch()
    for name in ("softmax", "log_softmax"):
        x = Tensor(value, requires_grad=True)
        out = getattr(x, name)(axis)
        tx = torch.tensor(value, requires_grad=True)
        ref = getattr(tx, name)(axis)
        assert out.shape == () and close_to_torch(out.data, ref.detach().numpy())
        (out * 3.0).backward()
        (ref * 3.0).backward()
        assert close_to_torch(x.grad, tx.grad.numpy())
    with pytest.raises(ValueError, match=r"axis 1 is out of range for a Tensor of shape \(\)"):
        Tensor(value).softmax(1)


# --- 6. no RuntimeWarnings; abs at nan; relu's +0.0 --------------------------------------------------------


@given(
    big=st.floats(1e150, 1e308) | st.just(math.inf),
    norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]),
    max_norm=st.sampled_from([0.0, 1.0]),
)
def test_clip_grad_norm_of_huge_gradients_warns_nothing_and_matches_torch(
    big: float, norm_type: float, max_norm: float
) -> None:
    torch = require_torch()
    grads = np.array([big, big, 1.0])
    p = Tensor(np.zeros(3), requires_grad=True)
    p.grad = grads.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        total = clip_grad_norm_([p], max_norm, norm_type)
    tp = torch.zeros(3, requires_grad=True)
    tp.grad = torch.tensor(grads)
    ref = torch.nn.utils.clip_grad_norm_([tp], max_norm, norm_type)
    assert close_to_torch(total, ref.item())
    assert close_to_torch(p.grad, tp.grad.numpy())


@given(value=st.floats(3.5e38, 1e308) | st.floats(-1e308, -3.5e38))
def test_a_float32_tensor_of_a_too_large_number_is_inf_without_a_warning(value: float) -> None:
    torch = require_torch()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor([value], dtype="float32")
    assert t.dtype == np.float32
    assert (
        t.data.tolist()
        == torch.tensor([value], dtype=torch.float32).tolist()
        == [math.copysign(math.inf, value)]
    )


@given(st.lists(st.floats(allow_nan=True) | st.just(math.nan), min_size=1, max_size=8))
def test_abs_gradient_is_torchs_also_at_nan(values: list[float]) -> None:
    torch = require_torch()
    x = Tensor(values, requires_grad=True)
    x.abs().sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    tx.abs().sum().backward()
    assert close_to_torch(x.grad, tx.grad.numpy())  # 0 at nan (it was nan)


@given(
    inputs=st.lists(st.floats(-3, 3) | st.sampled_from([0.0, -0.0, math.nan]), min_size=1, max_size=8),
    data=st.data(),
)
def test_relu_gradient_is_plus_zero_where_torchs_is(inputs: list[float], data: st.DataObject) -> None:
    torch = require_torch()
    upstream = st.floats(-3, 3).map(lambda v: v + 0.0)  # (no -0.0 upstream: it passes as +0.0 here)
    g = np.array(data.draw(st.lists(upstream, min_size=len(inputs), max_size=len(inputs))))
    x = Tensor(inputs, requires_grad=True)
    x.relu().backward(g)
    tx = torch.tensor(inputs, requires_grad=True)
    tx.relu().backward(torch.tensor(g))
    assert close_to_torch(x.grad, tx.grad.numpy())
    # the same signs of zero too: a negative upstream gradient times 0 gave -0.0
    np.testing.assert_array_equal(np.signbit(x.grad), np.signbit(tx.grad.numpy()))


def test_division_gradients_match_torch_at_extreme_magnitudes() -> None:
    """b * b over- or underflows long before a / b does: the rule must not form it."""
    torch = require_torch()
    a = np.array([1e200, 1e200, 1e-200, 1e308, -3.0])
    b = np.array([1e200, 1e160, 1e-170, 1e308, 2.0])
    seed = np.array([1e200, 1.0, 1.0, 1.0, 0.5])
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (ta / tb).backward(seed)
    xa, xb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (xa / xb).backward(torch.tensor(seed))
    assert close_to_torch(ta.grad, xa.grad.numpy()) and close_to_torch(tb.grad, xb.grad.numpy())


@given(
    number=st.floats(width=32) | st.sampled_from([math.inf, math.nan, -0.0]),
    own_shape=st.sampled_from([None, (), (1,), (1, 1)]),  # None: a numpy scalar
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_one_number_broadcast_for_a_sums_gradient_is_numpys_read_only_view(
    number: float, own_shape: tuple[int, ...] | None, shape: tuple[int, ...], dtype: type
) -> None:
    x = dtype(number) if own_shape is None else np.full(own_shape, number, dtype=dtype)
    if np.ndim(x) > len(shape):  # fewer axes than it has: numpy's error
        with pytest.raises(ValueError):
            broadcast_to(x, shape)
        return
    ours, numpys = broadcast_to(x, shape), np.broadcast_to(x, shape)
    assert ours.shape == numpys.shape and ours.dtype == numpys.dtype and ours.tobytes() == numpys.tobytes()
    assert not ours.flags.writeable  # a view: no rule may write into another node's gradient
    if ours.size and own_shape is not None:
        assert np.shares_memory(ours, x)
