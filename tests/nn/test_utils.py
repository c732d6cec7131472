"""nn.utils as torch.nn.utils, against torch float64: clip_grad_norm_ (its 0-d Tensor result,
error_if_nonfinite, foreach), clip_grad_value_, parameters_to_vector and vector_to_parameters
(the same numbers, gradients through the vector, views of it), the old names still working, and
the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import Tensor, Value, nn
from micrograd_plus.nn import layers
from micrograd_plus.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)

# (torch's inf-norm refuses a parameter without elements; ours counts it as 0, as the other norms)
gradients = st.lists(
    st.lists(st.floats(-10, 10) | st.sampled_from([0.0, -0.0]), min_size=1, max_size=6),
    min_size=1,
    max_size=4,
)


def _pairs(grads: list[list[float]], torch):  # type: ignore[no-untyped-def]
    """Our parameters and torch's, with these gradients."""
    ours = [Tensor(np.zeros(len(g)), requires_grad=True) for g in grads]
    theirs = [torch.zeros(len(g), requires_grad=True) for g in grads]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad, tp.grad = np.array(g, dtype=np.float64), torch.tensor(g, dtype=torch.float64)
    return ours, theirs


def test_the_old_names_are_the_same_function() -> None:
    assert mg.clip_grad_norm_ is nn.clip_grad_norm_ is nn.utils.clip_grad_norm_ is layers.clip_grad_norm_
    assert clip_grad_norm_ is nn.utils.clip_grad_norm_


# --- clip_grad_norm_ -------------------------------------------------------------------------------------


@given(
    gradients,
    st.floats(0.0, 20.0) | st.just(math.inf),  # inf: the norm measured, nothing clipped
    st.sampled_from([1.0, 2.0, 3.0, 1.5, math.inf, 0.5, 0.25]),
    st.sampled_from([None, True, False]),
)
def test_clip_grad_norm_returns_torchs_total_norm_as_a_0d_tensor(
    grads: list[list[float]], max_norm: float, norm_type: float, foreach: bool | None
) -> None:
    torch = require_torch()
    ours, theirs = _pairs(grads, torch)
    total = clip_grad_norm_(ours, max_norm, norm_type, foreach=foreach)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, Tensor) and total.shape == () and total.dtype == mg.float64
    assert close_to_torch(total.data, ref.numpy()) and close_to_torch(total.item(), float(ref))
    for p, tp in zip(ours, theirs):
        assert close_to_torch(p.grad, tp.grad.numpy())


@given(
    gradients,
    st.sampled_from([1e-310, 1e-200, 1e-160, 1e150, 1e200]),
    st.sampled_from([1.0, 2.0, 3.0, 0.5, math.inf]),
)
def test_clip_grad_norm_of_tiny_and_huge_gradients_is_torchs(
    grads: list[list[float]], scale: float, norm_type: float
) -> None:
    """PyTorch sums the powers as they are: near 1e-200 the squares underflow and its 2-norm is 0
    (near 1e200 it is inf); ours is the same number, not a rescaled "true" norm, so a ported
    training run clips where PyTorch's clips. (Compared relatively: these are far below 1e-9.)"""
    torch = require_torch()
    ours, theirs = _pairs([[g * scale for g in row] for row in grads], torch)
    total = clip_grad_norm_(ours, 1.0, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    assert np.isclose(total.item(), float(ref), rtol=1e-9, atol=0.0)
    for p, tp in zip(ours, theirs):
        assert np.allclose(p.grad, tp.grad.numpy(), rtol=1e-9, atol=0.0, equal_nan=True)


def test_an_infinite_max_norm_measures_the_norm_without_clipping_as_torch() -> None:
    """`clip_grad_norm_(params, math.inf)`: a common way to log the gradients' norm."""
    torch = require_torch()
    ours, theirs = _pairs([[3.0, 4.0], [12.0]], torch)
    total, ref = clip_grad_norm_(ours, math.inf), torch.nn.utils.clip_grad_norm_(theirs, math.inf)
    assert total.item() == ref.item() == 13.0
    assert [list(p.grad) for p in ours] == [tp.grad.tolist() for tp in theirs] == [[3.0, 4.0], [12.0]]
    assert clip_grad_value_(ours, math.inf) is None and list(ours[0].grad) == [3.0, 4.0]


def test_clip_grad_norm_of_float32_gradients_is_float32_as_torch() -> None:
    torch = require_torch()
    p = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    p.grad = np.array([3.0, 4.0, 0.0], dtype=np.float32)
    tp = torch.zeros(3, dtype=torch.float32, requires_grad=True)
    tp.grad = torch.tensor([3.0, 4.0, 0.0], dtype=torch.float32)
    total, ref = clip_grad_norm_(p, 1.0), torch.nn.utils.clip_grad_norm_(tp, 1.0)
    assert total.dtype == mg.float32 and ref.dtype == torch.float32 and total.item() == ref.item() == 5.0
    assert p.grad.dtype == np.float32 and np.allclose(p.grad, tp.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_without_gradients_is_zero_of_torchs_dtype() -> None:
    """Without gradients torch answers in its default dtype, float32 unless a script changes it."""
    torch = require_torch()
    p = Tensor([1.0], requires_grad=True)
    torch.set_default_dtype(torch.float32)
    try:
        refs = [torch.nn.utils.clip_grad_norm_([torch.ones(1)], 1.0), torch.nn.utils.clip_grad_norm_([], 1.0)]
    finally:
        torch.set_default_dtype(torch.float64)
    for total, ref in zip([clip_grad_norm_([p], 1.0), clip_grad_norm_([], 1.0)], refs):
        assert float(total) == float(ref) == 0.0 and ref.dtype == torch.float32 and total.dtype == mg.float32
    for dtype, torch_dtype in [(mg.float32, torch.float32), (mg.float64, torch.float64)]:
        q = Tensor(np.zeros(0, dtype=dtype), requires_grad=True)
        q.grad = np.zeros(0, dtype=dtype)
        tq = torch.zeros(0, dtype=torch_dtype, requires_grad=True)
        tq.grad = torch.zeros(0, dtype=torch_dtype)
        total, ref = clip_grad_norm_([q], 1.0), torch.nn.utils.clip_grad_norm_([tq], 1.0)
        assert float(total) == float(ref) == 0.0 and ref.dtype == torch_dtype and total.dtype == dtype
    ours, theirs = _pairs([[], [3.0, 4.0]], torch)  # a parameter without elements counts as 0
    assert float(clip_grad_norm_(ours, 1.0)) == float(torch.nn.utils.clip_grad_norm_(theirs, 1.0)) == 5.0
    assert float(clip_grad_norm_(ours[:1], 1.0, math.inf)) == 0.0


def test_a_float32_norm_beyond_float32s_range_is_inf_and_refused_as_torchs() -> None:
    """The norm of [3e38, 3e38] (4.2e38) is inf in float32: error_if_nonfinite refuses it, and
    without it the gradients are scaled by 1 / inf, to 0, as PyTorch's."""
    torch = require_torch()
    p = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    tp = torch.zeros(2, dtype=torch.float32, requires_grad=True)
    p.grad, tp.grad = np.full(2, 3e38, dtype=np.float32), torch.full((2,), 3e38, dtype=torch.float32)
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        torch.nn.utils.clip_grad_norm_([tp], 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match=r"The total norm of order 2.0 .* is non-finite \(inf\)"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert np.all(p.grad == np.float32(3e38))  # refused before any change
    total, ref = clip_grad_norm_([p], 1.0), torch.nn.utils.clip_grad_norm_([tp], 1.0)
    assert total.dtype == mg.float32 and total.item() == ref.item() == math.inf
    assert np.array_equal(p.grad, tp.grad.numpy()) and np.all(p.grad == 0.0)  # scaled by 1 / inf


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_error_if_nonfinite_refuses_as_torch_and_otherwise_the_norm_spreads(bad: float) -> None:
    torch = require_torch()
    ours, theirs = _pairs([[1.0, bad], [2.0]], torch)
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    with pytest.raises(
        RuntimeError, match=r"The total norm of order 2.0 for gradients from `parameters` is non-finite"
    ):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert ours[1].grad[0] == 2.0  # refused before any change
    total = clip_grad_norm_(ours, 1.0)
    ref = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert close_to_torch(total.data, ref.numpy())
    for p, tp in zip(ours, theirs):
        assert close_to_torch(p.grad, tp.grad.numpy())


def test_clip_grad_norm_of_values_clips_their_float_gradients() -> None:
    a, b = Value(0.0), Value(0.0)
    a.grad, b.grad = 3.0, 4.0
    total = clip_grad_norm_([a, b], 1.0)
    assert total.item() == 5.0 and isinstance(a.grad, float)
    assert a.grad == pytest.approx(0.6, rel=1e-6) and b.grad == pytest.approx(0.8, rel=1e-6)


# --- clip_grad_value_ -------------------------------------------------------------------------------------


@given(gradients, st.floats(0.0, 12.0) | st.just(math.inf))
def test_clip_grad_value_equals_torch(grads: list[list[float]], clip_value: float) -> None:
    torch = require_torch()
    ours, theirs = _pairs(grads, torch)
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, tp in zip(ours, theirs):
        assert close_to_torch(p.grad, tp.grad.numpy())


def test_clip_grad_value_keeps_nan_skips_missing_gradients_and_clips_values() -> None:
    torch = require_torch()
    ours, theirs = _pairs([[math.nan, 5.0, -math.inf]], torch)
    shared = ours[0].grad
    missing = Tensor([1.0], requires_grad=True)
    clip_grad_value_([ours[0], missing], 2.0, foreach=True)
    torch.nn.utils.clip_grad_value_(theirs, 2.0)
    assert close_to_torch(ours[0].grad, theirs[0].grad.numpy()) and missing.grad is None
    assert shared[1] == 5.0  # a new array: a gradient array shared with another is left alone
    v = Value(0.0)
    v.grad = -7.0
    clip_grad_value_(v, 2.5)
    assert v.grad == -2.5 and isinstance(v.grad, float)


def test_clip_grad_value_refuses_a_negative_or_nan_clip_value() -> None:
    p = Tensor([1.0], requires_grad=True)
    p.grad = np.array([3.0])
    for bad in [-1.0, math.nan]:
        with pytest.raises(ValueError, match=r"clip_grad_value_\(\): clip_value must be >= 0, got"):
            clip_grad_value_(p, bad)
    with pytest.raises(TypeError, match=r"clip_grad_value_\(\): parameter 0 is a ndarray"):
        clip_grad_value_([np.zeros(2)], 1.0)
    assert p.grad[0] == 3.0


# --- parameters_to_vector, vector_to_parameters ----------------------------------------------------------


def _models(torch):  # type: ignore[no-untyped-def]
    ours = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Conv2d(2, 3, 2, seed=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Conv2d(2, 3, 2))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def test_parameters_to_vector_equals_torch_and_passes_gradients_back() -> None:
    torch = require_torch()
    ours, theirs = _models(torch)
    vec, ref = (
        parameters_to_vector(ours.parameters()),
        torch.nn.utils.parameters_to_vector(theirs.parameters()),
    )
    assert vec.shape == (sum(p.numel() for p in ours.parameters()),)
    assert close_to_torch(vec.data, ref.detach().numpy())
    weights = mg.arange(vec.numel())
    (vec * vec * weights).sum().backward()
    (ref * ref * torch.arange(ref.numel())).sum().backward()
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert close_to_torch(p.grad, tp.grad.numpy())


def test_vector_to_parameters_equals_torch_and_makes_views_of_the_vector() -> None:
    torch = require_torch()
    ours, theirs = _models(torch)
    n = sum(p.numel() for p in ours.parameters())
    vec = mg.linspace(-1.0, 1.0, n)
    assert vector_to_parameters(vec, ours.parameters()) is None
    torch.nn.utils.vector_to_parameters(torch.linspace(-1.0, 1.0, n), theirs.parameters())
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert p.shape == tuple(tp.shape) and close_to_torch(p.data, tp.detach().numpy())
        assert p.requires_grad and p.grad_fn is None
    assert np.array_equal(parameters_to_vector(ours.parameters()).data, vec.data)  # the round trip
    vec.data[0] = 42.0  # as torch's, the parameters are views of the vector
    assert ours.parameters()[0].data.flat[0] == 42.0


def test_vector_and_parameters_errors() -> None:
    torch = require_torch()
    model = nn.Linear(2, 2, seed=0)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got"):
        torch.nn.utils.vector_to_parameters([0.0] * 6, torch.nn.Linear(2, 2).parameters())
    with pytest.raises(TypeError, match=r"vector_to_parameters\(\): expected a Tensor, but got: list"):
        vector_to_parameters([0.0] * 6, model.parameters())
    with pytest.raises(ValueError, match="the parameters hold 6 numbers but vec has 5"):
        vector_to_parameters(mg.zeros(5), model.parameters())
    with pytest.raises(ValueError, match="the parameters hold 6 numbers but vec has 7"):
        vector_to_parameters(mg.zeros(7), model.parameters())
    with pytest.raises(ValueError, match=r"vec must be a 1-d Tensor, got shape \(2, 3\)"):
        vector_to_parameters(mg.zeros(2, 3), model.parameters())
    with pytest.raises(TypeError, match=r"parameters_to_vector\(\): parameter 1 is a ndarray, not a Tensor"):
        parameters_to_vector([model.weight, np.zeros(2)])
    with pytest.raises(TypeError, match="got one Tensor; wrap it"):
        parameters_to_vector(model.weight)
    with pytest.raises(ValueError, match="expected a non-empty iterable of parameters"):
        parameters_to_vector([])
    assert np.array_equal(model.weight.data, nn.Linear(2, 2, seed=0).weight.data)  # nothing changed
