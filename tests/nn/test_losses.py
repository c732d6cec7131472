"""Loss functions and loss modules, on Values and on Tensors, against PyTorch float64 (values and
gradients), with every reduction; numerical stability at extreme logits; and bad input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    MSELoss,
    Tensor,
    Value,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    grad,
    gradcheck,
    hinge_loss,
    load_iris,
    mse_loss,
    nn,
)

REDUCTIONS = ["mean", "sum", "none"]
finite = st.floats(-30, 30, allow_nan=False)
seeds = st.integers(0, 2**32 - 1)


def _torch_loss(torch, name: str, reduction: str):  # type: ignore[no-untyped-def]
    F = torch.nn.functional
    return {
        "mse": lambda p, t: F.mse_loss(p, t, reduction=reduction),
        "bce_logits": lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        "bce": lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction),
        "hinge": lambda s, y: _torch_reduce(torch.relu(1 - y * s), reduction),
    }[name]


def _torch_reduce(terms, reduction: str):  # type: ignore[no-untyped-def]
    return terms.mean() if reduction == "mean" else terms.sum() if reduction == "sum" else terms


OURS = {
    "mse": mse_loss,
    "bce_logits": binary_cross_entropy_with_logits,
    "bce": binary_cross_entropy,
    "hinge": hinge_loss,
}


def _inputs(name: str, rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    if name == "mse":
        return rng.normal(size=shape) * 3, rng.normal(size=shape) * 3
    if name == "bce_logits":
        return rng.normal(size=shape) * 5, rng.uniform(0, 1, size=shape)
    if name == "bce":
        return rng.uniform(0.02, 0.98, size=shape), rng.uniform(0, 1, size=shape)
    return rng.normal(size=shape) * 2, rng.choice([-1.0, 1.0], size=shape)


# --- Tensor losses vs torch ------------------------------------------------------------------------


@given(
    st.sampled_from(sorted(OURS)),
    st.sampled_from(REDUCTIONS),
    st.sampled_from([(1,), (5,), (4, 1), (3, 2)]),
    seeds,
)
def test_tensor_losses_match_torch(name: str, reduction: str, shape: tuple[int, ...], seed: int) -> None:
    torch = require_torch()
    a, b = _inputs(name, np.random.default_rng(seed), shape)
    x = Tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    loss = OURS[name](x, Tensor(b), reduction=reduction)
    ref = _torch_loss(torch, name, reduction)(tx, torch.tensor(b))
    assert loss.shape == tuple(ref.shape)
    assert close_to_torch(loss.data, ref.detach().numpy())
    g = np.random.default_rng(seed + 1).normal(size=loss.shape)
    loss.backward(g)
    ref.backward(torch.tensor(g))
    assert close_to_torch(x.grad, tx.grad.numpy())


@given(st.integers(1, 6), st.integers(2, 5), st.sampled_from(REDUCTIONS), seeds, st.booleans())
def test_tensor_cross_entropy_matches_torch(
    n: int, c: int, reduction: str, seed: int, float_labels: bool
) -> None:
    torch = require_torch()
    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(size=(n, c)) * 4, rng.integers(0, c, size=n)
    x = Tensor(logits, requires_grad=True)
    loss = cross_entropy(x, labels.astype(float) if float_labels else labels, reduction=reduction)
    tx = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(tx, torch.tensor(labels), reduction=reduction)
    assert close_to_torch(loss.data, ref.detach().numpy())
    g = rng.normal(size=loss.shape)
    loss.backward(g)
    ref.backward(torch.tensor(g))
    assert close_to_torch(x.grad, tx.grad.numpy())


def test_tensor_cross_entropy_with_class_probabilities_and_one_sample() -> None:
    torch = require_torch()
    rng = np.random.default_rng(0)
    logits, probs = rng.normal(size=(4, 3)), rng.dirichlet(np.ones(3), size=4)
    x, tx = Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    loss, ref = cross_entropy(x, probs), torch.nn.functional.cross_entropy(tx, torch.tensor(probs))
    loss.backward()
    ref.backward()
    assert close_to_torch(loss.item(), ref.item()) and close_to_torch(x.grad, tx.grad.numpy())
    one = cross_entropy(Tensor(logits[0]), 2)
    assert close_to_torch(
        one.item(), torch.nn.functional.cross_entropy(torch.tensor(logits[0]), torch.tensor(2)).item()
    )
    assert cross_entropy(Tensor(logits[0]), 2, reduction="none").shape == ()


def test_losses_stay_finite_at_extreme_logits() -> None:
    torch = require_torch()
    big = np.array([[1000.0, -1000.0, 0.0], [-800.0, 800.0, 799.0]])
    x, tx = Tensor(big, requires_grad=True), torch.tensor(big, requires_grad=True)
    loss, ref = cross_entropy(x, [1, 2]), torch.nn.functional.cross_entropy(tx, torch.tensor([1, 2]))
    loss.backward()
    ref.backward()
    assert math.isfinite(loss.item()) and close_to_torch(loss.item(), ref.item())
    assert close_to_torch(x.grad, tx.grad.numpy())
    logits = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    targets = np.array([1.0, 0.0, 0.5, 1.0, 0.0])
    x, tx = Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    loss = binary_cross_entropy_with_logits(x, targets, reduction="none")
    ref = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(targets), reduction="none")
    assert np.all(np.isfinite(loss.data)) and close_to_torch(loss.data, ref.detach().numpy())
    loss.sum().backward()
    ref.sum().backward()
    assert close_to_torch(x.grad, tx.grad.numpy())


def test_bce_with_logits_gradient_at_zero_is_sigmoid_minus_target() -> None:
    """relu(x) and |x| both have a kink at 0; the loss has none: d/dx = sigmoid(0) - t = 1/2 - t."""
    v = Value(0.0)
    binary_cross_entropy_with_logits([v], [0.25]).backward()
    assert v.grad == 0.25
    t = Tensor([0.0, 0.0], requires_grad=True)
    binary_cross_entropy_with_logits(t, [1.0, 0.0], reduction="sum").backward()
    assert t.grad.tolist() == [-0.5, 0.5]


def test_bce_clamps_its_logs_at_minus_100_like_torch() -> None:
    torch = require_torch()
    p, t = np.array([0.0, 1.0, 1.0, 0.0, 0.5]), np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    loss = binary_cross_entropy(Tensor(p), t, reduction="none")
    ref = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction="none")
    assert close_to_torch(loss.data, ref.numpy())
    assert loss.data.tolist()[:4] == [100.0, 100.0, 0.0, 0.0]
    assert binary_cross_entropy([Value(0.0)], [1.0]).data == 100.0


# --- Value losses vs torch --------------------------------------------------------------------------


@given(st.sampled_from(sorted(OURS)), st.sampled_from(["mean", "sum"]), st.integers(1, 6), seeds)
def test_value_losses_match_torch(name: str, reduction: str, n: int, seed: int) -> None:
    torch = require_torch()
    a, b = _inputs(name, np.random.default_rng(seed), (n,))
    xs = [Value(float(v)) for v in a]
    loss = OURS[name](xs, b.tolist(), reduction=reduction)
    tx = torch.tensor(a, requires_grad=True)
    ref = _torch_loss(torch, name, reduction)(tx, torch.tensor(b))
    loss.backward()
    ref.backward()
    assert close_to_torch(loss.data, ref.item())
    assert close_to_torch([v.grad for v in xs], tx.grad.numpy())


@given(st.integers(1, 4), st.integers(2, 5), seeds)
def test_value_cross_entropy_matches_torch(n: int, c: int, seed: int) -> None:
    torch = require_torch()
    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(size=(n, c)) * 4, rng.integers(0, c, size=n)
    rows = [[Value(float(v)) for v in row] for row in logits]
    loss = cross_entropy(rows, labels.tolist())
    loss.backward()
    tx = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(tx, torch.tensor(labels))
    ref.backward()
    assert close_to_torch(loss.data, ref.item())
    assert close_to_torch([[v.grad for v in row] for row in rows], tx.grad.numpy())


def test_value_losses_are_unchanged_by_the_tensor_support() -> None:
    """The scalar behaviour: one Value, the mean, plain numbers accepted, one sample accepted."""
    p = [Value(1.0), Value(3.0)]
    assert mse_loss(p, [0.0, 1.0]).data == 2.5
    assert mse_loss(Value(2.0), 0.0).data == 4.0
    assert hinge_loss([Value(0.5), Value(-2.0)], [1, 1]).data == pytest.approx((0.5 + 3.0) / 2)
    assert cross_entropy([Value(0.0), Value(0.0)], 1).data == pytest.approx(math.log(2))
    assert binary_cross_entropy_with_logits([0.0], [1.0]).data == pytest.approx(math.log(2))
    terms = mse_loss(p, [0.0, 1.0], reduction="none")
    assert [t.data for t in terms] == [1.0, 4.0]
    assert mse_loss(p, [0.0, 1.0], reduction="sum").data == 5.0


# --- loss modules --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_modules_match_torch_modules(reduction: str) -> None:
    torch = require_torch()
    rng = np.random.default_rng(1)
    cases = [
        (MSELoss, torch.nn.MSELoss, rng.normal(size=(4, 1)), rng.normal(size=(4, 1))),
        (BCELoss, torch.nn.BCELoss, rng.uniform(0.1, 0.9, size=(4,)), rng.uniform(0, 1, size=(4,))),
        (
            BCEWithLogitsLoss,
            torch.nn.BCEWithLogitsLoss,
            rng.normal(size=(4, 2)),
            rng.uniform(0, 1, size=(4, 2)),
        ),
        (CrossEntropyLoss, torch.nn.CrossEntropyLoss, rng.normal(size=(4, 3)), np.array([0, 2, 1, 2])),
    ]
    for ours, theirs, a, b in cases:
        x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        loss, ref = ours(reduction=reduction)(x, b), theirs(reduction=reduction)(tx, torch.tensor(b))
        assert close_to_torch(loss.data, ref.detach().numpy()), ours.__name__
        loss.sum().backward()
        ref.sum().backward()
        assert close_to_torch(x.grad, tx.grad.numpy()), ours.__name__
    assert repr(MSELoss(reduction)) == "MSELoss()" == repr(torch.nn.MSELoss(reduction=reduction))
    assert nn.CrossEntropyLoss is CrossEntropyLoss


def test_loss_modules_take_values_too() -> None:
    assert MSELoss()([Value(1.0), Value(2.0)], [1.0, 0.0]).data == 2.0
    assert CrossEntropyLoss()([[Value(0.0), Value(0.0)]], [0]).data == pytest.approx(math.log(2))


# --- bad input -----------------------------------------------------------------------------------------


def test_shape_mismatch_is_an_error_not_a_silent_broadcast() -> None:
    with pytest.raises(
        ValueError, match=r"predictions of shape \(4, 1\) but targets of shape \(4,\).*reshape\(-1, 1\)"
    ):
        mse_loss(Tensor(np.zeros((4, 1))), np.zeros(4))
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy_with_logits\(\): predictions of shape \(2,\)"
    ):
        binary_cross_entropy_with_logits(Tensor([0.0, 1.0]), [1.0])


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        ([0, 3], ValueError, r"whole numbers in \[0, 2\]"),
        ([0, -1], ValueError, r"whole numbers in \[0, 2\]"),
        ([0.5, 1.0], ValueError, r"whole numbers in \[0, 2\]"),
        ([0], ValueError, r"2 rows of logits need 2 class labels of shape \(2,\), got shape \(1,\)"),
        (["a", "b"], TypeError, "class labels must be integers"),
    ],
)
def test_bad_class_labels(labels: list, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        cross_entropy(Tensor(np.zeros((2, 3))), np.array(labels))


def test_other_bad_input() -> None:
    with pytest.raises(ValueError, match="reduction must be one of"):
        mse_loss(Tensor([1.0]), [1.0], reduction="avg")
    with pytest.raises(ValueError, match="reduction must be one of"):
        MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"probabilities must lie in \[0, 1\]"):
        binary_cross_entropy(Tensor([1.5]), [1.0])
    with pytest.raises(ValueError, match=r"probabilities must lie in \[0, 1\]"):
        binary_cross_entropy([Value(-0.1)], [1.0])
    with pytest.raises(ValueError, match=r"hinge_loss targets must be -1 or \+1"):
        hinge_loss(Tensor([0.5, 0.2]), [1.0, 0.0])
    with pytest.raises(ValueError, match="logits must have shape"):
        cross_entropy(Tensor(np.zeros((2, 3, 4))), [0, 1])
    with pytest.raises(ValueError, match="predictions is empty"):
        mse_loss([], [])
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        mse_loss([Value(1.0), Value(2.0)], [1.0])


# --- cross_entropy on Values takes numpy labels and numpy scores (issue 13) ----------------------------

INTEGER_DTYPES = [np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16, np.uint8]


def _torch_cross_entropy(torch, logits: np.ndarray, labels: np.ndarray):  # type: ignore[no-untyped-def]
    tx = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(tx, torch.tensor(labels.astype(np.int64)))
    ref.backward()
    return ref.item(), tx.grad.numpy()


@given(
    st.integers(1, 4),
    st.integers(2, 5),
    seeds,
    st.sampled_from(INTEGER_DTYPES),
    st.sampled_from(["array", "list of numpy ints"]),
    st.sampled_from([np.float64, np.float32]),
)
def test_value_cross_entropy_takes_numpy_integer_labels_and_numpy_float_scores(
    n: int, c: int, seed: int, dtype: type, form: str, score_dtype: type
) -> None:
    torch = require_torch()
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(n, c)) * 4).astype(score_dtype)
    labels = rng.integers(0, c, size=n).astype(dtype)
    targets = labels if form == "array" else list(labels)
    rows = [[Value(v) for v in row] for row in logits]  # Values of numpy floats
    loss = cross_entropy(rows, targets)
    loss.backward()
    ref, ref_grad = _torch_cross_entropy(torch, logits.astype(np.float64), labels)
    assert close_to_torch(loss.data, ref)
    assert close_to_torch([[v.grad for v in row] for row in rows], ref_grad)
    # Rows of plain numpy floats (no Values) give the same loss.
    assert close_to_torch(cross_entropy([list(row) for row in logits], targets).data, ref)


@given(st.integers(2, 5), seeds, st.sampled_from(INTEGER_DTYPES), st.sampled_from([np.float64, np.float32]))
def test_value_cross_entropy_of_one_sample_takes_a_numpy_label_in_any_form(
    c: int, seed: int, dtype: type, score_dtype: type
) -> None:
    torch = require_torch()
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=c) * 4).astype(score_dtype)
    label = int(rng.integers(0, c))
    ref, ref_grad = _torch_cross_entropy(torch, logits.astype(np.float64).reshape(1, c), np.array([label]))
    for target in (dtype(label), np.array(label, dtype=dtype), np.array([label], dtype=dtype)):
        row = [Value(v) for v in logits]
        loss = cross_entropy(row, target)
        loss.backward()
        assert close_to_torch(loss.data, ref)
        assert close_to_torch([v.grad for v in row], ref_grad[0])
        # A row of numpy floats (not Values) is one sample too, not "c predictions but 1 targets".
        assert close_to_torch(cross_entropy(list(logits), target).data, ref)


def test_value_cross_entropy_on_iris_as_load_iris_returns_it() -> None:
    torch = require_torch()
    X, y, _ = load_iris()
    picked = np.arange(0, 150, 10)  # all three classes
    rows = [[Value(v) for v in x[:3]] for x in X[picked]]
    loss = cross_entropy(rows, y[picked])
    loss.backward()
    ref, ref_grad = _torch_cross_entropy(torch, X[picked, :3], y[picked])
    assert close_to_torch(loss.data, ref)
    assert close_to_torch([[v.grad for v in row] for row in rows], ref_grad)


@pytest.mark.parametrize(
    "target",
    [np.int64(3), np.uint8(255), np.int32(-1), np.array([3]), True, np.bool_(True), np.float64(1.0), 1.0],
    ids=repr,
)
def test_value_cross_entropy_refuses_labels_that_are_not_class_indices(target: Any) -> None:
    with pytest.raises(
        ValueError, match=r"target must be a class index in \[0, 2\], got .*; give an int or a numpy integer"
    ):
        cross_entropy([Value(0.0), Value(1.0), Value(2.0)], target)


# --- binary_cross_entropy_with_logits on Values keeps the tiny losses (issue 13) ----------------------

logits_wide = st.one_of(
    st.floats(-800, 800, allow_nan=False),
    st.floats(-50, 50, allow_nan=False),
    st.sampled_from([0.0, -0.0, 1e-300, 36.0, 40.0, -40.0, 700.0, -745.0, 800.0]),
)
exact_targets = st.sampled_from([0.0, 1.0])


def _torch_bce_with_logits(torch, x: float, t: float) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    tx = torch.tensor(x, requires_grad=True)
    tt = torch.tensor(t, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(tx, tt)
    loss.backward()
    return loss.item(), tx.grad.item(), tt.grad.item()


def test_value_bce_with_logits_of_a_confident_right_answer_is_tiny_not_zero() -> None:
    torch = require_torch()
    for x in (40.0, 100.0, 700.0):
        ref, _, _ = _torch_bce_with_logits(torch, x, 1.0)
        loss = binary_cross_entropy_with_logits([Value(x)], [1.0]).data
        assert ref > 0.0 and loss == pytest.approx(ref, rel=1e-15)  # was 0.0 (4.2e-18 at x = 40)
    # The mirror image, x = -40 with target 0, has the same loss log1p(exp(-40)); PyTorch 2.13
    # computes it as x - log_sigmoid(x), which cancels to 0.0 there, so the reference is log1p.
    assert binary_cross_entropy_with_logits([Value(-40.0)], [0.0]).data == math.log1p(math.exp(-40.0))


@given(logits_wide, st.one_of(exact_targets, st.floats(0.0, 1.0)))
def test_value_bce_with_logits_matches_torch_values_and_gradients(x: float, t: float) -> None:
    torch = require_torch()
    ref, ref_gx, ref_gt = _torch_bce_with_logits(torch, x, t)
    vx, vt = Value(x), Value(t)
    loss = binary_cross_entropy_with_logits([vx], [vt])
    loss.backward()
    assert close_to_torch(loss.data, ref)
    assert close_to_torch(vx.grad, ref_gx)
    assert close_to_torch(vt.grad, ref_gt)
    if t == 1.0 and x > 0:  # where neither side cancels, the loss agrees to the last bits, however small
        assert abs(loss.data - ref) <= 1e-15 * ref, (loss.data, ref)


@given(logits_wide, exact_targets)
def test_value_bce_with_logits_equals_the_tensor_path(x: float, t: float) -> None:
    value = binary_cross_entropy_with_logits([Value(x)], [t]).data
    tensor = binary_cross_entropy_with_logits(Tensor([x]), [t]).item()  # (log1p of numpy)
    assert abs(value - tensor) <= 1e-15 * abs(tensor), (value, tensor)


@given(st.floats(-30, 30, allow_nan=False), st.floats(0.0, 1.0))
def test_value_bce_with_logits_second_derivative_matches_torch_and_finite_differences(
    x: float, t: float
) -> None:
    """The log1p op's rule, differentiated again: d2/dx2 = sigmoid(x) (1 - sigmoid(x))."""
    torch = require_torch()
    vx = Value(x)
    (dx,) = grad(binary_cross_entropy_with_logits([vx], [t]), [vx], create_graph=True)
    (d2x,) = grad(dx, [vx])
    tx = torch.tensor(x, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(tx, torch.tensor(t))
    (ref_dx,) = torch.autograd.grad(loss, tx, create_graph=True)
    (ref_d2x,) = torch.autograd.grad(ref_dx, tx)
    assert close_to_torch(dx.data, ref_dx.item())
    assert close_to_torch(d2x, ref_d2x.item())
    gradcheck(lambda v: binary_cross_entropy_with_logits([v], [t]), [Value(x)])
