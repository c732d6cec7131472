"""logsumexp (stable, with PyTorch's gradient on rows of -inf), prod (PyTorch's gradient where
elements are 0) and cumsum: against PyTorch float64, finite differences and second derivatives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from torch_parity import arrays, assert_matches_torch, finite, nonempty, shapes

import micrograd_plus as mg
from micrograd_plus import Tensor

large = st.one_of(finite, st.sampled_from([1000.0, -1000.0, 700.0, -np.inf]))


def some_dims(data: st.DataObject, ndim: int) -> tuple[int, ...]:
    dims = data.draw(st.lists(st.integers(-max(ndim, 1), max(ndim, 1) - 1), min_size=1, max_size=max(ndim, 1), unique_by=lambda d: d % max(ndim, 1)))  # fmt: skip
    return tuple(dims)


@given(x=arrays(shapes, large), data=st.data(), keepdim=st.booleans())
def test_logsumexp_matches_torch_without_overflow_and_on_rows_of_minus_inf(
    x: np.ndarray, data: st.DataObject, keepdim: bool
) -> None:
    dims = some_dims(data, x.ndim)
    dim = dims[0] if data.draw(st.booleans()) else dims
    assert_matches_torch(lambda t: t.logsumexp(dim, keepdim), lambda t: t.logsumexp(dim, keepdim), x)


def test_logsumexp_of_a_row_of_minus_inf_is_minus_inf_with_a_nan_gradient_as_torch() -> None:
    x = Tensor([[-np.inf, -np.inf], [1000.0, 1000.0]], requires_grad=True)
    out = x.logsumexp(1)
    assert out.data[0] == -np.inf and out.data[1] == pytest.approx(1000.0 + np.log(2.0), abs=0, rel=1e-15)
    out.sum().backward()
    assert np.isnan(x.grad[0]).all() and (x.grad[1] == 0.5).all()


@given(x=arrays(nonempty), data=st.data())
def test_logsumexp_has_the_finite_differences_and_second_derivatives(
    x: np.ndarray, data: st.DataObject
) -> None:
    dim = some_dims(data, x.ndim)
    assert mg.gradcheck(lambda t: t.logsumexp(dim), [Tensor(x, requires_grad=True)])
    assert mg.gradgradcheck(lambda t: t.logsumexp(dim), [Tensor(x, requires_grad=True)])


with_zeros = st.sampled_from([0.0, 0.0, 1.5, -2.0, 0.5, 3.0, -1.0])


@given(x=arrays(shapes, with_zeros), data=st.data(), keepdim=st.booleans())
def test_prod_matches_torch_with_no_one_or_many_zeros(
    x: np.ndarray, data: st.DataObject, keepdim: bool
) -> None:
    assert_matches_torch(lambda t: t.prod(), lambda t: t.prod(), x)
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    assert_matches_torch(lambda t: t.prod(dim, keepdim), lambda t: t.prod(dim, keepdim), x)


@given(
    x=arrays(nonempty, st.floats(0.2, 2.0) | st.floats(-2.0, -0.2) | st.just(0.0)),
    data=st.data(),
    zeros=st.lists(st.integers(0, 63), max_size=3),
)
def test_prod_has_the_finite_differences_and_second_derivatives(
    x: np.ndarray, data: st.DataObject, zeros: list[int]
) -> None:
    """Exact zeros too: none, one, two or three in a slice (prod is multilinear, so finite
    differences are exact enough there)."""
    x.reshape(-1)[[i % x.size for i in zeros]] = 0.0
    dim = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    assert mg.gradcheck(lambda t: t.prod(dim), [Tensor(x, requires_grad=True)])
    assert mg.gradgradcheck(lambda t: t.prod(dim), [Tensor(x, requires_grad=True)])


@pytest.mark.parametrize(
    "values", [[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0], [2.0, -0.5, 3.0], [[0.0, 2.0], [0.0, 0.0]]]
)
def test_prod_second_derivatives_at_zeros_match_torch(values: list[Any]) -> None:
    torch = require_torch()
    x = Tensor(values, requires_grad=True)
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    weights = np.arange(1.0, x.numel() + 1).reshape(x.shape)
    for f in (lambda t: t.prod(), lambda t: t.prod(-1).sum()):
        (g,) = mg.grad(f(x), x, create_graph=True)
        (tg,) = torch.autograd.grad(f(tx), tx, create_graph=True)
        (h,) = mg.grad((g * weights).sum(), x)
        (th,) = torch.autograd.grad((tg * torch.tensor(weights)).sum(), tx)
        assert close_to_torch(g.data, tg.detach().numpy()) and close_to_torch(h.data, th.numpy()), (h, th)


def test_prod_with_one_zero_gives_the_zero_the_product_of_the_others_as_finite_differences() -> None:
    x = Tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0]], requires_grad=True)
    assert mg.gradcheck(lambda t: t.prod(1), [x])
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    assert Tensor([2.0, 3.0]).prod(axis=0, keepdims=True).shape == (1,)  # numpy's names too


@given(x=arrays(shapes, st.one_of(finite, st.sampled_from([np.inf, -np.inf, np.nan]))), data=st.data())
def test_cumsum_matches_torch(x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    assert_matches_torch(lambda t: t.cumsum(dim), lambda t: t.cumsum(dim), x)


@given(x=arrays(shapes), data=st.data())
def test_cumsum_has_the_finite_differences_and_second_derivatives(x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    assert mg.gradcheck(lambda t: t.cumsum(dim) * t, [Tensor(x, requires_grad=True)])
    assert mg.gradgradcheck(lambda t: t.cumsum(dim) * t, [Tensor(x, requires_grad=True)])


def test_bad_dims_say_what_is_wrong() -> None:
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(
        IndexError, match=r"logsumexp\(\): axis 2 is out of range for a Tensor of shape \(2, 3\)"
    ):
        x.logsumexp(2)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'dim'"):
        x.logsumexp()  # type: ignore[call-arg]
    with pytest.raises(IndexError, match=r"prod\(\): axis -3 is out of range"):
        x.prod(-3)
    with pytest.raises(IndexError, match=r"cumsum\(\): dim 2 is out of range"):
        x.cumsum(2)
    with pytest.raises(TypeError, match=r"cumsum\(\): dim must be an int"):
        x.cumsum((0, 1))
