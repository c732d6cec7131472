"""index_select, roll, lerp and nan_to_num: values and gradients against PyTorch float64 for
many shapes and dims, finite differences and second derivatives, and errors that name the values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_parity import arrays, assert_matches_torch, finite, nonempty, shapes

import micrograd_plus as mg
from micrograd_plus import DimensionError, Tensor

special = st.one_of(finite, st.sampled_from([np.inf, -np.inf, np.nan]))


def a_dim(data: st.DataObject, ndim: int) -> int:
    return data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))


@given(x=arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)), data=st.data())
def test_index_select_is_torchs_and_a_repeated_index_adds_up_its_gradient(
    x: np.ndarray, data: st.DataObject
) -> None:
    torch = require_torch()
    dim = a_dim(data, x.ndim)
    picks = data.draw(st.lists(st.integers(0, x.shape[dim] - 1), max_size=6))
    index = torch.tensor(picks, dtype=torch.int64)
    assert_matches_torch(lambda t: t.index_select(dim, picks), lambda t: t.index_select(dim, index), x)
    as_tensor = Tensor(
        np.array(picks, dtype=np.float64)
    )  # whole numbers in a Tensor, as PyTorch's long index
    assert_matches_torch(
        lambda t: mg.index_select(t, dim, as_tensor), lambda t: torch.index_select(t, dim, index), x
    )
    assert mg.gradgradcheck(lambda t: t.index_select(dim, picks) ** 2, [Tensor(x, requires_grad=True)])


def test_index_select_of_a_0_d_tensor_and_with_a_0_d_index_as_torch() -> None:
    torch = require_torch()
    x = Tensor(5.0, requires_grad=True)
    picked = x.index_select(0, [0])
    assert picked.shape == tuple(torch.tensor(5.0).index_select(0, torch.tensor([0])).shape) == ()
    (picked * 3).backward()
    assert x.grad == 3.0
    assert Tensor(np.ones((3, 4))).index_select(1, np.int64(2)).shape == (3, 1)  # one index: a vector of one


@given(x=arrays(shapes, special), data=st.data())
def test_roll_is_torchs_along_dims_and_flattened(x: np.ndarray, data: st.DataObject) -> None:
    shifts = data.draw(st.lists(st.integers(-7, 7), min_size=1, max_size=3))
    if x.ndim == 0 or data.draw(st.booleans()):
        shift = shifts[0]
        assert_matches_torch(lambda t: t.roll(shift), lambda t: t.roll(shift), x)  # flattened, shape kept
        return
    dims = [a_dim(data, x.ndim) for _ in shifts]  # a dim given twice rolls by both shifts
    assert_matches_torch(lambda t: t.roll(shifts, dims), lambda t: t.roll(shifts, dims), x)
    assert_matches_torch(lambda t: mg.roll(t, shifts[0], dims[0]), lambda t: t.roll(shifts[0], dims[0]), x)


@given(x=arrays(nonempty), shift=st.integers(-5, 5), data=st.data())
def test_roll_has_the_finite_differences_and_second_derivatives(
    x: np.ndarray, shift: int, data: st.DataObject
) -> None:
    dim = a_dim(data, x.ndim)
    f = lambda t: t.roll(shift, dim) * t  # noqa: E731
    assert mg.gradcheck(f, [Tensor(x, requires_grad=True)])
    assert mg.gradgradcheck(f, [Tensor(x, requires_grad=True)])


def test_roll_moves_the_last_elements_to_the_front() -> None:
    assert Tensor([1.0, 2.0, 3.0, 4.0]).roll(1).tolist() == [4.0, 1.0, 2.0, 3.0]
    assert Tensor([[1.0, 2.0], [3.0, 4.0]]).roll(-1, 0).tolist() == [[3.0, 4.0], [1.0, 2.0]]
    assert Tensor(np.zeros((3, 0))).roll(2, 1).shape == (3, 0)
    assert Tensor([1.0, 2.0, 3.0]).roll(10**400 + 1).tolist() == [2.0, 3.0, 1.0]  # (10**400 + 1) % 3 == 2


@given(
    start=arrays(shapes),
    data=st.data(),
    weight_kind=st.sampled_from(["number", "tensor"]),
)
def test_lerp_is_torchs_with_a_number_or_a_tensor_as_weight(
    start: np.ndarray, data: st.DataObject, weight_kind: str
) -> None:
    """Broadcast together, weights either side of 0.5 and beyond [0, 1]; a Tensor weight gets its
    gradient too."""
    end = data.draw(arrays(st.sampled_from([start.shape, start.shape[1:], (1,) * start.ndim])))
    weights = st.floats(-1.5, 2.5) | st.sampled_from([0.0, 0.5, -0.5, 1.0])
    if weight_kind == "number":
        w = data.draw(weights)
        assert_matches_torch(lambda s, e: s.lerp(e, w), lambda s, e: s.lerp(e, w), start, end)
        assert_matches_torch(lambda s, e: mg.lerp(s, e, w), lambda s, e: s.lerp(e, w), start, end)
    else:
        weight = data.draw(
            hnp.arrays(np.float64, st.sampled_from([start.shape, start.shape[-1:]]), elements=weights)
        )
        assert_matches_torch(lambda s, e, w: s.lerp(e, w), lambda s, e, w: s.lerp(e, w), start, end, weight)


def test_lerp_ends_exactly_at_its_ends_and_has_second_derivatives() -> None:
    start, end = Tensor([0.1, -3.3, 1e10]), Tensor([0.7, 2.9, -1e-10])
    assert start.lerp(end, 0.0).tolist() == start.tolist() and start.lerp(end, 1.0).tolist() == end.tolist()
    inputs = [Tensor(t, requires_grad=True) for t in ([0.1, -3.3], [0.7, 2.9], [0.2, 0.7])]
    assert mg.gradgradcheck(lambda s, e, w: s.lerp(e, w) ** 2, inputs)


@given(
    x=arrays(shapes, special),
    fills=st.tuples(finite, st.none() | finite, st.none() | finite),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_nan_to_num_is_torchs_and_its_gradient_is_g_where_x_is_finite(
    x: np.ndarray, fills: tuple[float, Any, Any], dtype: type
) -> None:
    torch = require_torch()
    nan, posinf, neginf = fills
    assert_matches_torch(
        lambda t: t.nan_to_num(nan, posinf, neginf), lambda t: t.nan_to_num(nan, posinf, neginf), x
    )
    assert_matches_torch(lambda t: mg.nan_to_num(t, posinf=posinf), lambda t: t.nan_to_num(posinf=posinf), x)
    ours = Tensor(x, dtype=dtype).nan_to_num()  # the dtype's largest and most negative numbers by default
    theirs = torch.tensor(x, dtype=getattr(torch, np.dtype(dtype).name)).nan_to_num()
    assert ours.dtype == dtype and np.array_equal(ours.data, theirs.numpy())


def test_nan_to_num_multiplies_g_by_0_where_x_is_not_finite_as_torch() -> None:
    torch = require_torch()
    x, tx = (
        Tensor([1.0, np.nan, np.inf], requires_grad=True),
        torch.tensor([1.0, np.nan, np.inf], requires_grad=True),
    )
    x.nan_to_num().backward(np.array([np.inf, 2.0, np.inf]))
    tx.nan_to_num().backward(torch.tensor([np.inf, 2.0, np.inf]))
    assert close_to_torch(x.grad, tx.grad.numpy()) and np.isnan(x.grad[2]) and x.grad[1] == 0.0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda t: t.index_select(2, [0]),
            DimensionError,
            r"index_select\(\): dim 2 is out of range for a Tensor of shape \(3, 4\)",
        ),
        (
            lambda t: t.index_select(1, [0, 4]),
            IndexError,
            r"index_select\(\): index values must lie in \[0, 3\] for dim 1 of shape \(3, 4\), got values from 0 to 4",
        ),
        (
            lambda t: t.index_select(0, [-1]),
            IndexError,
            r"must lie in \[0, 2\] for dim 0 .* got values from -1 to -1",
        ),
        (
            lambda t: t.index_select(1, [[0]]),
            ValueError,
            r"index_select\(\): index must be a vector \(1-D\), got shape \(1, 1\)",
        ),
        (
            lambda t: t.index_select(1, [0.5]),
            TypeError,
            r"index_select\(\): index must hold integers, got dtype float64: .*0\.5.*; a float index must hold whole numbers",
        ),
        (
            lambda t: Tensor(2.0).index_select(0, [0, 0]),
            ValueError,
            r"a 0-d Tensor takes one index \(0\), got 2",
        ),
        (
            lambda t: t.roll((1, 2)),
            ValueError,
            r"roll\(\): without dims, give one shift .* got shifts=\(1, 2\)",
        ),
        (
            lambda t: t.roll(1, (0, 1)),
            ValueError,
            r"roll\(\): shifts=1 and dims=\(0, 1\) must align: one shift per dim",
        ),
        (
            lambda t: t.roll(1, 2),
            DimensionError,
            r"roll\(\): dim 2 is out of range for a Tensor of shape \(3, 4\)",
        ),
        (lambda t: t.roll(1.5), TypeError, r"roll\(\): shifts must be an int, got float: 1.5"),
        (lambda t: t.roll(1, "0"), TypeError, r"roll\(\): dims must be an int, got str"),
        (
            lambda t: Tensor(2.0).roll(1, 0),
            DimensionError,
            r"roll\(\): dim 0 is out of range for a Tensor of shape \(\)",
        ),
        (
            lambda t: t.lerp(mg.ones(2), 0.5),
            ValueError,
            r"'lerp': shapes \(3, 4\) and \(2,\) and \(\) do not broadcast",
        ),
        (lambda t: t.lerp(t, "half"), TypeError, r"lerp\(\): cannot use a str as an input"),
        (lambda t: t.nan_to_num("zero"), TypeError, r"nan_to_num\(\): nan must be a number, got str"),
        (
            lambda t: t.nan_to_num(posinf=[1.0]),
            TypeError,
            r"nan_to_num\(\): posinf must be a number, got list",
        ),
    ],
)
def test_bad_arguments_say_what_is_wrong(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call(Tensor(np.ones((3, 4))))
