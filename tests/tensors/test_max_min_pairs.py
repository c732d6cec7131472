"""x.max(dim) and x.min(dim) give (values, indices) as PyTorch's (the gradient to the element
picked, the first on ties); x.max() the whole Tensor's maximum (ties share it); x.max(other) and
maximum/minimum elementwise (a tie splits the gradient in half, as PyTorch's); amax and amin the
values alone, ties sharing the gradient."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from torch_parity import arrays, assert_matches_torch, nonempty, shapes, tied

import micrograd_plus as mg
from micrograd_plus import Tensor, ValuesIndices

with_nan = st.one_of(tied, st.just(np.nan))


def some_dim(data: st.DataObject, ndim: int) -> int:
    return data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))  # (a 0-d Tensor: 0 or -1)


@given(
    x=arrays(shapes, with_nan), data=st.data(), name=st.sampled_from(["max", "min"]), keepdim=st.booleans()
)
def test_max_and_min_along_a_dim_give_values_and_indices_as_torch(
    x: np.ndarray, data: st.DataObject, name: str, keepdim: bool
) -> None:
    torch = require_torch()
    dim = some_dim(data, x.ndim)
    found = getattr(Tensor(x), name)(dim, keepdim)
    theirs = getattr(torch.tensor(x), name)(dim, keepdim)
    assert isinstance(found, ValuesIndices) and found.indices.dtype == np.int64
    np.testing.assert_array_equal(found.indices, theirs.indices.numpy())  # the first on ties, nan wins
    # values and their gradient: all of it to the element picked
    assert_matches_torch(
        lambda t: getattr(t, name)(dim=dim, keepdim=keepdim).values,
        lambda t: getattr(t, name)(dim=dim, keepdim=keepdim).values,
        x,
    )


def test_the_classic_prediction_line_unpacks_the_pair_for_a_batch_of_two() -> None:
    outputs = Tensor([[0.1, 2.0, -1.0], [3.0, 0.5, 3.0]])
    _, predicted = outputs.max(1)  # (before, this unpacked the two rows of values)
    np.testing.assert_array_equal(predicted, [1, 0])
    values, indices = outputs.min(dim=0, keepdim=True)
    assert values.shape == (1, 3) and indices.tolist() == [[0, 1, 0]]
    assert outputs.max(1).values.shape == (2,)


@given(order=st.permutations(range(12)), name=st.sampled_from(["max", "min"]), dim=st.integers(-2, 1))
def test_the_gradient_of_the_values_is_the_finite_differences(order: list[int], name: str, dim: int) -> None:
    x = Tensor(np.array(order, dtype=np.float64).reshape(3, 4) * 0.7 - 3.0, requires_grad=True)
    assert mg.gradcheck(lambda t: getattr(t, name)(dim).values, [x])
    assert mg.gradcheck(lambda t: getattr(t, name)(), [x])


@given(x=arrays(shapes, with_nan), name=st.sampled_from(["max", "min"]))
def test_max_and_min_without_a_dim_share_the_gradient_among_ties_as_torch(x: np.ndarray, name: str) -> None:
    assert_matches_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)


@given(
    x=arrays(shapes, with_nan), data=st.data(), name=st.sampled_from(["amax", "amin"]), keepdim=st.booleans()
)
def test_amax_and_amin_share_the_gradient_among_ties_as_torch(
    x: np.ndarray, data: st.DataObject, name: str, keepdim: bool
) -> None:
    dims = data.draw(st.lists(st.integers(0, max(x.ndim, 1) - 1), unique=True, max_size=max(x.ndim, 1)))
    dim = tuple(dims) if x.ndim else ()
    assert_matches_torch(
        lambda t: getattr(t, name)(dim=dim or None, keepdim=keepdim),
        lambda t: getattr(t, name)(dim=dim, keepdim=keepdim),
        x,
    )


@given(data=st.data(), name=st.sampled_from(["maximum", "minimum", "max", "min"]))
def test_maximum_and_minimum_split_a_tie_in_half_and_pass_nan_as_torch(
    data: st.DataObject, name: str
) -> None:
    torch = require_torch()
    a = data.draw(arrays(shapes, with_nan))
    b = data.draw(arrays(st.sampled_from([a.shape, a.shape[1:], ()]), with_nan))  # broadcasting too
    theirs = {"max": "maximum", "min": "minimum"}.get(name, name)
    assert_matches_torch(lambda s, t: getattr(s, name)(t), lambda s, t: getattr(torch, theirs)(s, t), a, b)
    # a number as the other operand: a constant
    assert_matches_torch(
        lambda s: getattr(s, theirs)(0.5), lambda s: getattr(torch, theirs)(s, torch.tensor(0.5)), a
    )


@given(x=arrays(nonempty), data=st.data(), name=st.sampled_from(["maximum", "minimum"]))
def test_maximum_and_minimum_have_the_finite_differences_and_second_derivatives(
    x: np.ndarray, data: st.DataObject, name: str
) -> None:
    y = data.draw(arrays(x.shape))
    a = Tensor(x, requires_grad=True)
    b = Tensor(x + np.where(np.abs(y) < 0.01, 1.0, y), requires_grad=True)  # no ties: smooth there
    assert mg.gradcheck(lambda s, t: getattr(s, name)(t) * s, [a, b])
    assert mg.gradgradcheck(lambda s, t: getattr(s, name)(t) * s, [a, b])


def test_max_of_a_zero_d_tensor_along_dim_0_as_torch() -> None:
    torch = require_torch()
    ours, theirs = Tensor(3.0).max(0), torch.tensor(3.0).max(0)
    assert ours.values.shape == () and ours.indices.shape == () and int(ours.indices) == int(theirs.indices)


def test_bad_arguments_of_max_say_what_to_write() -> None:
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"max\(\): keepdim needs a dim.*amax\(keepdim=True\)"):
        x.max(keepdim=True)
    with pytest.raises(
        TypeError, match=r"min\(dim\) takes one int dim, got \(0, 1\); amin\(dim\) takes a tuple"
    ):
        x.min((0, 1))
    with pytest.raises(IndexError, match=r"max\(\): dim 2 is out of range for a Tensor of shape \(2, 3\)"):
        x.max(2)
    with pytest.raises(ValueError, match=r"min\(\) along dim 1 of shape \(2, 0\): that axis is empty"):
        Tensor(np.ones((2, 0))).min(1)
    with pytest.raises(TypeError, match=r"max\(other\): keepdim has no meaning for two Tensors"):
        x.max(x, keepdim=True)
    with pytest.raises(ValueError, match=r"'maximum': shapes \(2, 3\) and \(2,\) do not broadcast"):
        x.maximum(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"minimum\(\): cannot use a str"):
        x.minimum("a")


def test_mg_max_is_the_method() -> None:
    x = Tensor([[1.0, 5.0], [7.0, 2.0]])
    assert mg.max(x, 1).indices.tolist() == x.max(1).indices.tolist() == [1, 0]
    assert close_to_torch(mg.min(x, Tensor([3.0, 3.0])).data, [[1.0, 3.0], [3.0, 2.0]])
