"""sort, argsort and topk: values, indices and gradients against PyTorch float64 (ties, nan,
0-d Tensors, empty axes), finite differences, and errors that name what is wrong."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from torch_parity import arrays, assert_matches_torch, shapes, tied, weights_for

import micrograd_plus as mg
from micrograd_plus import DimensionError, Tensor

with_nan = st.one_of(tied, st.sampled_from([np.nan, np.inf, -np.inf, -0.0]))
distinct = st.permutations(range(24))  # no ties: every sort (and topk) has one answer


def a_dim(data: st.DataObject, ndim: int) -> int:
    return data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))


def expected_gradient(x: np.ndarray, dim: int, indices: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g sent back to the elements the indices name: each value's gradient to its element."""
    flat = x.reshape(1) if x.ndim == 0 else x
    full = np.zeros(flat.shape)
    picks = np.asarray(indices).reshape(1) if x.ndim == 0 else np.asarray(indices)  # (an int64 Tensor)
    np.put_along_axis(full, picks, g.reshape(picks.shape), axis=dim)
    return full.reshape(x.shape)


@given(x=arrays(shapes, with_nan), data=st.data(), descending=st.booleans())
def test_a_stable_sort_gives_torchs_values_indices_and_gradients_ties_and_nan_included(
    x: np.ndarray, data: st.DataObject, descending: bool
) -> None:
    torch = require_torch()
    dim = a_dim(data, x.ndim)
    sort = lambda t: t.sort(dim=dim, descending=descending, stable=True).values  # noqa: E731
    assert_matches_torch(sort, sort, x)
    ours, theirs = (
        Tensor(x).sort(dim, descending),
        torch.tensor(x).sort(dim=dim, descending=descending, stable=True),
    )
    assert ours.indices.dtype == np.int64 and np.array_equal(ours.indices, theirs.indices.numpy())
    assert np.array_equal(
        Tensor(x).argsort(dim, descending),
        torch.argsort(torch.tensor(x), dim=dim, descending=descending, stable=True).numpy(),
    )


@given(x=arrays(shapes, tied), data=st.data(), descending=st.booleans())
def test_sort_without_stable_gives_torchs_values_and_the_gradient_goes_to_the_index_given(
    x: np.ndarray, data: st.DataObject, descending: bool
) -> None:
    """torch's unstable sort may order ties otherwise; ours is stable, one of its answers: the
    values are torch's, and each value's gradient goes to the element at its index."""
    torch = require_torch()
    dim = a_dim(data, x.ndim)
    t = Tensor(x, requires_grad=True)
    values, indices = t.sort(dim, descending=descending)
    their_values = torch.tensor(x).sort(dim, descending=descending).values.numpy()
    assert close_to_torch(values.data, their_values)
    flat = x.reshape(1) if x.ndim == 0 else x
    along = indices.reshape(1) if x.ndim == 0 else indices
    assert np.array_equal(np.sort(along, axis=dim), np.indices(flat.shape)[dim % flat.ndim])  # a permutation
    (g,) = weights_for([values])
    (values * g).sum().backward()
    assert np.array_equal(t.grad, expected_gradient(x, dim, indices, g))


@given(order=distinct, data=st.data(), descending=st.booleans())
def test_without_ties_every_sort_is_torchs_with_the_finite_differences(
    order: list[int], data: st.DataObject, descending: bool
) -> None:
    torch = require_torch()
    shape = data.draw(st.sampled_from([(24,), (4, 6), (2, 3, 4)]))
    x = (np.array(order, dtype=np.float64) * 0.37 - 4.0).reshape(shape)
    dim = a_dim(data, x.ndim)
    assert_matches_torch(
        lambda t: t.sort(dim, descending).values, lambda t: t.sort(dim, descending).values, x
    )
    assert np.array_equal(
        Tensor(x).argsort(dim, descending), torch.tensor(x).argsort(dim, descending).numpy()
    )
    weights = np.random.default_rng(order[0]).standard_normal(shape)
    assert mg.gradcheck(lambda t: t.sort(dim, descending).values * weights, [Tensor(x, requires_grad=True)])
    assert mg.gradgradcheck(lambda t: t.sort(dim, descending).values ** 2, [Tensor(x, requires_grad=True)])


def test_ties_keep_their_order_and_nan_counts_as_the_largest() -> None:
    x = Tensor([2.0, np.nan, 1.0, 2.0, -0.0, 0.0, 1.0])
    assert x.sort().indices.tolist() == [4, 5, 2, 6, 0, 3, 1]
    assert x.sort(descending=True).indices.tolist() == [1, 0, 3, 2, 6, 4, 5]
    assert x.topk(3).indices.tolist() == [1, 0, 3] and x.topk(3, largest=False).indices.tolist() == [4, 5, 2]


@given(x=arrays(shapes, with_nan), data=st.data(), largest=st.booleans())
def test_topk_gives_torchs_values_and_the_gradient_goes_to_the_index_given(
    x: np.ndarray, data: st.DataObject, largest: bool
) -> None:
    """The k largest (smallest) values are torch's even with ties and nan; where elements tie,
    torch picks any of them, ours the lowest index, and the gradient goes to the element picked."""
    torch = require_torch()
    dim = a_dim(data, x.ndim)
    length = 1 if x.ndim == 0 else x.shape[dim]
    k = data.draw(st.integers(0, length))
    t = Tensor(x, requires_grad=True)
    values, indices = t.topk(k, dim, largest)
    theirs = torch.tensor(x).topk(k, dim, largest)
    assert values.shape == tuple(theirs.values.shape) and indices.shape == values.shape
    assert close_to_torch(values.data, theirs.values.numpy())
    stable = t.sort(dim, descending=largest).indices
    assert np.array_equal(indices, stable if x.ndim == 0 else np.take(stable, range(k), axis=dim))
    (g,) = weights_for([values])
    (values * g).sum().backward()
    assert np.array_equal(t.grad, expected_gradient(x, dim, indices, g))


@given(order=distinct, data=st.data(), largest=st.booleans())
def test_without_ties_topk_is_torchs_with_the_finite_differences(
    order: list[int], data: st.DataObject, largest: bool
) -> None:
    torch = require_torch()
    x = (np.array(order, dtype=np.float64) * 0.41 - 5.0).reshape(
        data.draw(st.sampled_from([(24,), (4, 6), (2, 3, 4)]))
    )
    dim = a_dim(data, x.ndim)
    k = data.draw(st.integers(0, x.shape[dim]))
    assert_matches_torch(
        lambda t: t.topk(k, dim, largest).values, lambda t: t.topk(k, dim, largest).values, x
    )
    assert np.array_equal(
        Tensor(x).topk(k, dim, largest).indices, torch.tensor(x).topk(k, dim, largest).indices.numpy()
    )
    assert mg.gradcheck(lambda t: t.topk(k, dim, largest).values.exp(), [Tensor(x * 0.1, requires_grad=True)])


def test_topk_unsorted_comes_sorted_and_k_0_gives_empty_results() -> None:
    x = Tensor([[0.5, 3.0, -1.0, 2.0]])
    assert x.topk(2, sorted=False).values.tolist() == [[3.0, 2.0]]
    values, indices = x.topk(0, dim=1)
    assert values.shape == indices.shape == (1, 0) and indices.dtype == np.int64


def test_a_0_d_tensor_sorts_as_one_number_and_an_empty_axis_as_none() -> None:
    torch = require_torch()
    x = Tensor(3.0, requires_grad=True)
    values, indices = x.sort(0)
    assert values.shape == () and indices.shape == () and indices == 0
    assert x.topk(1, -1).values.item() == 3.0 and x.argsort().shape == ()
    (values * 2).backward()
    assert x.grad == 2.0
    empty = np.zeros((2, 0))
    assert_matches_torch(lambda t: t.sort(1).values, lambda t: t.sort(1).values, empty)
    assert Tensor(empty).sort(0).indices.shape == (2, 0) == tuple(torch.tensor(empty).sort(0).indices.shape)


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("sort", (), {}),
        ("sort", (0, True), {}),
        ("sort", (), {"dim": 1, "descending": True, "stable": True}),
        ("argsort", (1,), {"descending": True}),
        ("topk", (2,), {}),
        ("topk", (2, 0), {"largest": False}),
    ],
)
def test_the_functions_are_the_methods_as_torchs(name: str, args: tuple, kwargs: dict[str, Any]) -> None:
    torch = require_torch()
    x = np.random.default_rng(4).permutation(12).reshape(3, 4) * 1.0
    ours, theirs = (
        getattr(mg, name)(Tensor(x), *args, **kwargs),
        getattr(torch, name)(torch.tensor(x), *args, **kwargs),
    )
    method = getattr(Tensor(x), name)(*args, **kwargs)
    if name == "argsort":
        assert np.array_equal(ours, theirs.numpy()) and np.array_equal(ours, method)
        return
    assert np.array_equal(ours.indices, theirs.indices.numpy()) and np.array_equal(
        ours.indices, method.indices
    )
    assert close_to_torch(ours.values.data, theirs.values.numpy())


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda t: t.sort(2),
            DimensionError,
            r"sort\(\): dim 2 is out of range for a Tensor of shape \(2, 3\)",
        ),
        (lambda t: t.argsort(-3), DimensionError, r"argsort\(\): dim -3 is out of range .* \[-2, 1\]"),
        (lambda t: t.topk(1, 5), DimensionError, r"topk\(\): dim 5 is out of range for a Tensor of shape"),
        (lambda t: Tensor(1.0).sort(1), DimensionError, r"dim 1 is out of range for a Tensor of shape \(\)"),
        (
            lambda t: t.topk(4),
            ValueError,
            r"topk\(\): k=4 is out of range for dim -1 of length 3 \(shape \(2, 3\)\): k must be from 0 to 3",
        ),
        (lambda t: t.topk(3, 0), ValueError, r"k=3 is out of range for dim 0 of length 2"),
        (lambda t: t.topk(-1), ValueError, r"k=-1 is out of range"),
        (lambda t: t.topk(1.0), TypeError, r"topk\(\): k must be an int, got float: 1.0"),
        (
            lambda t: t.sort(descending="yes"),
            TypeError,
            r"sort\(\): descending must be True or False, got str",
        ),
        (lambda t: t.sort(stable=1), TypeError, r"sort\(\): stable must be True or False, got int"),
        (
            lambda t: t.argsort(stable=None),
            TypeError,
            r"argsort\(\): stable must be True or False, got NoneType",
        ),
        (lambda t: t.topk(1, largest=1), TypeError, r"topk\(\): largest must be True or False, got int"),
        (lambda t: mg.sort([1.0, 2.0]), TypeError, r"sort\(\) takes a Tensor \(as torch.sort\), got list"),
    ],
)
def test_bad_arguments_say_what_is_wrong(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call(Tensor(np.ones((2, 3))))


def test_sort_takes_stable_none_as_torchs_sort() -> None:
    torch = require_torch()
    x = np.array([2.0, 1.0, 2.0, 0.5])
    ours, theirs = Tensor(x).sort(stable=None), torch.tensor(x).sort(stable=None)
    assert np.array_equal(ours.values.data, theirs.values.numpy())
    assert np.array_equal(ours.indices, theirs.indices.numpy())
