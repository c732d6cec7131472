"""masked_fill and masked_fill_, clamp_, and new_tensor/new_zeros/new_ones: against PyTorch
float64 (data and gradient), the in-place ones refused where a graph would have to record them,
and bad masks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st
from torch_parity import arrays, assert_matches_torch, shapes, tied

import micrograd_plus as mg
from micrograd_plus import Tensor


@given(x=arrays(shapes), data=st.data(), value=st.sampled_from([0.0, -1e9, np.inf, np.nan, 2.5]))
def test_masked_fill_matches_torch(x: np.ndarray, data: st.DataObject, value: float) -> None:
    torch = require_torch()
    mask = data.draw(arrays(st.sampled_from([x.shape, x.shape[1:], ()]), st.sampled_from([0.0, 1.0]))) != 0
    assert_matches_torch(
        lambda t: t.masked_fill(mask, value) * t, lambda t: t.masked_fill(torch.tensor(mask), value) * t, x
    )
    # a 0-d Tensor as the value gets the gradient where the mask holds, as PyTorch's
    assert_matches_torch(
        lambda t, v: t.masked_fill(mask, v),
        lambda t, v: t.masked_fill(torch.tensor(mask), v),
        x,
        np.array(value),
    )
    if abs(value) < 10:  # (finite differences need a finite function of moderate size)
        assert mg.gradcheck(lambda t: t.masked_fill(mask, value) * t, [Tensor(x, requires_grad=True)])
    np.testing.assert_array_equal(
        Tensor(x).masked_fill(Tensor(mask * 1.0), value).data, np.where(mask, value, x)
    )


@given(x=arrays(shapes), data=st.data())
def test_masked_fill_and_clamp_in_place_change_the_tensors_own_array_as_torch(x: np.ndarray, data: st.DataObject) -> None:  # fmt: skip
    torch = require_torch()
    mask = data.draw(arrays(st.just(x.shape), st.sampled_from([0.0, 1.0]))) != 0
    t, tt = Tensor(x.copy()), torch.tensor(x)
    assert t.masked_fill_(mask, -3.0) is t
    np.testing.assert_array_equal(t.data, tt.masked_fill_(torch.tensor(mask), -3.0).numpy())
    low, high = sorted(data.draw(st.lists(tied, min_size=2, max_size=2)))
    assert t.clamp_(low, high) is t
    np.testing.assert_array_equal(t.data, tt.clamp_(low, high).numpy())
    t.clamp_(max=Tensor(np.full(x.shape, -1.0)))
    np.testing.assert_array_equal(t.data, tt.clamp_(max=torch.full(x.shape, -1.0)).numpy())


@given(x=arrays(shapes), data=st.data())
def test_masked_fill_with_a_mask_of_more_axes_gives_the_broadcast_shape_as_torch(
    x: np.ndarray, data: st.DataObject
) -> None:
    torch = require_torch()
    lead = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    mask = data.draw(arrays(st.just(lead + x.shape), st.sampled_from([0.0, 1.0]))) != 0
    assert_matches_torch(
        lambda t: t.masked_fill(mask, 2.5), lambda t: t.masked_fill(torch.tensor(mask), 2.5), x
    )
    with pytest.raises(ValueError, match=r"masked_fill_\(\): a mask of shape .* does not broadcast to the Tensor's shape"):  # fmt: skip
        Tensor(x).masked_fill_(mask, 2.5)  # (in place the shape cannot grow, as in PyTorch)


@pytest.mark.parametrize("value_dtype", [np.float64, np.float32])
def test_masked_fill_keeps_the_tensors_dtype_as_torch(value_dtype: type) -> None:
    torch = require_torch()
    mask = np.array([True, False])
    x = Tensor([1.0, 2.0], dtype=np.float32)
    value = Tensor(3.0, dtype=value_dtype, requires_grad=True)
    theirs = torch.tensor([1.0, 2.0], dtype=torch.float32).masked_fill(
        torch.tensor(mask), torch.tensor(3.0, dtype=getattr(torch, np.dtype(value_dtype).name))
    )
    filled = x.masked_fill(mask, value)
    assert filled.dtype == np.float32 and str(theirs.dtype) == "torch.float32"
    assert x.masked_fill(mask, 3.0).dtype == np.float32
    filled.sum().backward()
    assert value.grad is not None and value.grad.dtype == value_dtype and value.grad == 1.0


def test_in_place_fills_into_float32_overflow_to_inf_without_a_warning_as_assignment() -> None:
    mask = np.array([True, False])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        filled = Tensor([1.0, 2.0], dtype=np.float32).masked_fill_(mask, 1e300)
        assigned = Tensor([1.0, 2.0], dtype=np.float32)
        assigned[mask] = 1e300
        clamped = Tensor([1.0, 2.0], dtype=np.float32).clamp_(min=Tensor(1e300))
    np.testing.assert_array_equal(filled.data, assigned.data)
    np.testing.assert_array_equal(filled.data, np.array([np.inf, 2.0], dtype=np.float32))
    assert filled.dtype == np.float32 and clamped.dtype == np.float32 and np.isinf(clamped.data).all()


def test_in_place_fills_are_refused_where_a_graph_would_record_them() -> None:
    w = Tensor([1.0, -2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"masked_fill_\(\): a leaf Variable that requires grad"):
        w.masked_fill_(np.array([True, False]), 0.0)
    with pytest.raises(RuntimeError, match=r"clamp_\(\): a leaf Variable that requires grad"):
        w.clamp_(0.0)
    with pytest.raises(RuntimeError, match=r"clamp_\(\): this change would have to be recorded"):
        Tensor([1.0, 2.0]).clamp_(min=w)
    with mg.no_grad():
        w.clamp_(min=0.0)
    np.testing.assert_array_equal(w.data, [1.0, 0.0])


def test_bad_masks_and_values_say_what_is_wrong() -> None:
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"masked_fill\(\): a mask of shape \(3, 3\) does not broadcast to the Tensor's shape \(2, 3\)"):  # fmt: skip
        x.masked_fill(np.ones((3, 3), dtype=bool), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill_\(\): a mask of shape \(2, 2\) does not broadcast"):
        x.masked_fill_(np.ones((2, 2), dtype=bool), 0.0)
    with pytest.raises(TypeError, match=r"masked_fill\(\): mask must be a bool array .* got dtype <U1"):
        x.masked_fill(np.array(["a"]), 0.0)
    with pytest.raises(
        ValueError, match=r"value must be a number or a 0-d Tensor, got a Tensor of shape \(3,\)"
    ):
        x.masked_fill(np.ones(3, dtype=bool), Tensor(np.ones(3)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_new_tensors_take_this_tensors_dtype_as_torch(dtype: type) -> None:
    x = Tensor(np.ones(2), dtype=dtype, requires_grad=True)
    for made, data in (
        (x.new_zeros(2, 3), np.zeros((2, 3))),
        (x.new_zeros((2, 3)), np.zeros((2, 3))),
        (x.new_ones(4), np.ones(4)),
        (x.new_tensor([[1, 2]]), np.array([[1.0, 2.0]])),
        (x.new_tensor(Tensor([5.0])), np.array([5.0])),
    ):
        assert made.dtype == dtype and not made.requires_grad and made.is_leaf
        np.testing.assert_array_equal(made.data, data)
    assert x.new_ones(1, dtype=np.float64, requires_grad=True).requires_grad
    assert x.new_zeros(1, dtype="float64").dtype == np.float64
    source = np.array([1.0])
    copy = x.new_tensor(source)
    source[0] = 9.0
    assert copy.data[0] == 1.0  # a copy, as PyTorch's


def test_new_tensors_of_bad_sizes_say_what_is_wrong() -> None:
    x = Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"new_ones\(\): size must be >= 0, got -1"):
        x.new_ones(-1)
    with pytest.raises(ValueError, match=r"new_zeros\(\): size must be >= 0, got -2"):
        x.new_zeros((2, -2))
    with pytest.raises(TypeError, match=r"new_zeros\(\): size must be an int, got float"):
        x.new_zeros(2.0)
