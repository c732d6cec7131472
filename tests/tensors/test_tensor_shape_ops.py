"""PyTorch's names on Tensor (issue 16): view, unsqueeze, squeeze, flatten, permute, argmax,
argmin, min and max with dim, clamp, gather, and the top-level where.

Their values and gradients on random shapes (first and second derivatives, float32) are in the
catalogue of tests/tensors/test_tensor_ops.py; here: what central differences cannot judge
(kinks at clamp's bounds, ties, nan, repeated indices) against PyTorch float64, the indices of
argmax and argmin, PyTorch's dim conventions (0-d Tensors, negative dims, a squeeze of an axis
that is not 1), gradchecks of compositions, and bad input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import Tensor, where

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
# Few distinct values: ties are common, and some elements sit exactly on clamp's bounds.
tied = st.sampled_from([-1.0, 0.0, 0.0, 0.5, 2.0, 2.0])


def pair(x: np.ndarray) -> tuple[Tensor, Any]:
    torch = require_torch()
    return Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def backward_both(out: Tensor, ref: Any) -> None:
    torch = require_torch()
    weight = np.arange(1.0, out.data.size + 1).reshape(out.shape)
    out.backward(weight)
    ref.backward(torch.tensor(weight))


def assert_same(ours: Tensor, theirs: Any, out: Tensor, ref: Any) -> None:
    assert out.shape == tuple(ref.shape)
    assert close_to_torch(out.data, ref.detach().numpy())
    backward_both(out, ref)
    assert close_to_torch(ours.grad, theirs.grad.numpy()), (ours.grad, theirs.grad)


# --- argmax and argmin ------------------------------------------------------------------------------


@given(x=hnp.arrays(np.float64, shapes, elements=st.one_of(tied, st.just(np.nan))), data=st.data())
def test_argmax_and_argmin_match_torch_with_ties_and_nan(x: np.ndarray, data: st.DataObject) -> None:
    torch = require_torch()
    dim = data.draw(st.one_of(st.none(), st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1)))
    keepdim = data.draw(st.booleans())
    t = torch.tensor(x)
    for name in ("argmax", "argmin"):
        ours = getattr(Tensor(x), name)(dim, keepdim)
        theirs = getattr(t, name)(dim=dim, keepdim=keepdim)
        assert isinstance(ours, Tensor) and ours.dtype == np.int64 and not ours.requires_grad
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours, theirs.numpy())


def test_argmax_takes_axis_too_and_names_the_problem() -> None:
    x = Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    np.testing.assert_array_equal(x.argmax(axis=1), [1, 0])
    np.testing.assert_array_equal(x.argmin(1), [0, 1])
    assert x.argmax().item() == 3  # of the flattened Tensor
    with pytest.raises(ValueError, match="dim 2 is out of range"):
        x.argmax(2)
    with pytest.raises(ValueError, match="empty Tensor"):
        Tensor(np.zeros((0, 2))).argmax()
    with pytest.raises(ValueError, match="that axis is empty"):
        Tensor(np.zeros((0, 2))).argmin(0)
    np.testing.assert_array_equal(Tensor(np.zeros((0, 2))).argmin(1), np.zeros(0))
    with pytest.raises(TypeError, match="axis or dim, not both"):
        x.argmax(0, axis=1)


# --- amin and amax along a dim ------------------------------------------------------------------------


@given(x=hnp.arrays(np.float64, shapes, elements=st.one_of(tied, st.just(np.nan))), data=st.data())
def test_amin_and_amax_along_a_dim_match_torch_with_ties_and_nan(x: np.ndarray, data: st.DataObject) -> None:
    torch = require_torch()
    # (a 0-d Tensor takes dim 0 or -1, as in PyTorch)
    dim = data.draw(st.one_of(st.none(), st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1)))
    keepdim = data.draw(st.booleans())
    for name in ("amin", "amax"):
        ours, theirs = pair(x)
        out = getattr(ours, name)(dim=dim, keepdim=keepdim)
        dims = tuple(range(x.ndim)) if dim is None else dim
        ref = getattr(torch, name)(theirs, dim=dims, keepdim=keepdim)
        assert_same(ours, theirs, out, ref)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("dim", [0, -1, (0,), [-1]])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_of_a_zero_d_tensor_take_dim_0_and_minus_1_as_torch(
    name: str, dim: Any, keepdim: bool
) -> None:
    ours, theirs = pair(np.array(-2.5))
    out = getattr(ours, name)(dim=dim, keepdim=keepdim)
    ref = getattr(theirs, name)(dim=dim, keepdim=keepdim)
    assert_same(ours, theirs, out, ref)
    assert getattr(Tensor(-2.5), name)(axis=dim, keepdims=keepdim).item() == -2.5  # (numpy's names too)
    with pytest.raises(ValueError, match=r"axis 1 is out of range for a Tensor of shape \(\)"):
        getattr(ours, name)(dim=1)
    with pytest.raises(ValueError, match="repeats an axis"):
        getattr(ours, name)(dim=(0, -1))


def test_values_and_indices_of_amax_say_that_max_gives_the_pair() -> None:
    # `out.max(1).indices` (a PyTorch tutorial's line) works; on amax's Tensor of values it is refused
    out = Tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
    np.testing.assert_array_equal(out.max(1).indices, [1, 0])
    for name in ("values", "indices"):
        with pytest.raises(AttributeError, match=r"x\.max\(dim\) and x\.min\(dim\) give the pair"):
            getattr(out.amax(1), name)
        assert not hasattr(out, name)  # (duck typing, e.g. matplotlib's check for pandas, still works)


def test_dim_and_keepdim_are_axis_and_keepdims() -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(2, 3, 4)))
    for name in ("sum", "mean", "amax", "amin"):
        method = getattr(x, name)
        np.testing.assert_array_equal(method(dim=1).data, method(axis=1).data)
        np.testing.assert_array_equal(method(dim=(0, 2), keepdim=True).data, method((0, 2), True).data)
        assert method(dim=-1, keepdim=True).shape == (2, 3, 1)
        with pytest.raises(TypeError, match="axis or dim, not both"):
            method(0, dim=1)
    with pytest.raises(ValueError, match=r"amin\(\) of an empty axis"):
        Tensor(np.zeros((2, 0))).amin(dim=1)


# --- clamp ------------------------------------------------------------------------------------------


@given(
    x=hnp.arrays(np.float64, shapes, elements=st.one_of(tied, st.just(np.nan))),
    low=st.one_of(st.none(), st.sampled_from([-1.0, 0.0, 0.5, 2.0])),
    high=st.one_of(st.none(), st.sampled_from([-1.0, 0.0, 0.5, 2.0])),
)
def test_clamp_matches_torch_on_its_bounds_for_nan_and_when_min_exceeds_max(
    x: np.ndarray, low: float | None, high: float | None
) -> None:
    if low is None and high is None:
        low = 0.0
    ours, theirs = pair(x)
    assert_same(ours, theirs, ours.clamp(low, high), theirs.clamp(low, high))
    ours, theirs = pair(x)
    assert_same(ours, theirs, ours.clamp(min=low, max=high), theirs.clamp(min=low, max=high))


@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
    kinds=st.sampled_from(
        [("tensor", "tensor"), ("tensor", None), (None, "tensor"), ("tensor", "number"), ("number", "tensor")]
    ),
    data=st.data(),
)
def test_clamp_by_tensors_matches_torch_at_ties_nan_and_min_above_max(
    shapes: Any, kinds: tuple[str | None, str | None], data: st.DataObject
) -> None:
    """Tensor bounds broadcast with x; x, min and max get torch's gradients (ties go to x, min
    above max gives max its gradient, a nan anywhere none). A number beside a Tensor bound is
    a constant (torch wants both bounds Tensors: it gets the number as a 0-d Tensor)."""
    torch = require_torch()
    values = st.one_of(tied, st.just(np.nan))
    arrays = [data.draw(hnp.arrays(np.float64, shape, elements=values)) for shape in shapes.input_shapes]
    ours, theirs = (
        [Tensor(a, requires_grad=True) for a in arrays],
        [torch.tensor(a, requires_grad=True) for a in arrays],
    )
    numbers = [data.draw(tied) for _ in kinds]

    def bounds(tensors: list[Any], number: Any) -> list[Any]:
        return [
            None if k is None else t if k == "tensor" else number(n)
            for k, t, n in zip(kinds, tensors[1:], numbers)
        ]

    out = ours[0].clamp(*bounds(ours, float))
    # (torch 2.13's backward of clamp with two Tensor bounds fails when they broadcast to a larger
    # shape, "output with shape [2] doesn't match the broadcast shape [3, 2]": it gets the inputs
    # expanded to the result's shape, whose backward sums the gradients back as broadcasting does)
    inputs = ("tensor", *kinds)
    result = np.broadcast_shapes(*[a.shape for a, k in zip(arrays, inputs) if k == "tensor"])
    expanded = [t.expand(result) if k == "tensor" else t for t, k in zip(theirs, inputs)]
    ref = expanded[0].clamp(*bounds(expanded, torch.tensor))
    assert out.shape == tuple(ref.shape) == result
    assert close_to_torch(out.data, ref.detach().numpy())
    backward_both(out, ref)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if inputs[i] == "tensor":
            assert close_to_torch(a.grad, b.grad.numpy()), (i, a.grad, b.grad)
        else:
            assert a.grad is None  # not an input of the clamp


def test_clamp_by_tensors_second_derivative_is_zero_as_in_torch() -> None:
    torch = require_torch()
    x, low, high = ([-2.0, 0.5, 3.0], [-1.0, 1.0, 0.0], [1.0, 2.0, 4.0])
    ours = [Tensor(v, requires_grad=True) for v in (x, low, high)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, low, high)]
    firsts = mg.grad((ours[0].clamp(ours[1], ours[2]) * ours[0] * ours[1]).sum(), ours, create_graph=True)
    tfirsts = torch.autograd.grad(
        (theirs[0].clamp(theirs[1], theirs[2]) * theirs[0] * theirs[1]).sum(), theirs, create_graph=True
    )
    for g, tg in zip(firsts, tfirsts):
        assert close_to_torch(g.data, tg.detach().numpy())
    seconds = mg.grad(sum(g.sum() for g in firsts), ours)
    tseconds = torch.autograd.grad(sum(g.sum() for g in tfirsts), theirs)
    for h, th in zip(seconds, tseconds):
        assert close_to_torch(h.data, th.numpy())


def test_clamp_second_derivative_is_zero_as_in_torch() -> None:
    torch = require_torch()
    x = Tensor([-2.0, 0.5, 3.0], requires_grad=True)
    (g,) = mg.grad((x.clamp(-1, 1) * x).sum(), [x], create_graph=True)
    (h,) = mg.grad(g.sum(), [x])
    tx = torch.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    (tg,) = torch.autograd.grad((tx.clamp(-1, 1) * tx).sum(), [tx], create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), [tx])
    assert close_to_torch(g.data, tg.detach().numpy()) and close_to_torch(h.data, th.numpy())


def test_clamp_refuses_what_is_not_a_number() -> None:
    x = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="at least one must not be None"):
        x.clamp()
    with pytest.raises(TypeError, match=r"clamp\(\): min must be a number"):
        x.clamp("0")
    with pytest.raises(
        TypeError, match=r"clamp\(\): max must be a number or a Tensor, got an array of shape \(2,\)"
    ):
        x.clamp(max=np.zeros(2))  # (an array is a bound beside a Tensor bound only)
    with pytest.raises(ValueError, match=r"'clamp': shapes \(2,\) and \(3,\) do not broadcast"):
        x.clamp(Tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"clamp\(\): cannot use a str"):
        x.clamp(Tensor([0.0]), "1")
    with pytest.raises(ValueError, match="too large for a float"):
        x.clamp(max=10**400)
    assert x.clamp(max=np.float32(1.5)).dtype == np.float64


# --- gather -----------------------------------------------------------------------------------------


def test_gather_picks_as_torch_and_adds_the_gradients_of_repeated_picks() -> None:
    torch = require_torch()
    x = np.arange(12.0).reshape(3, 4)
    for dim, index in [
        (1, np.array([[0, 0], [3, 1], [2, 2]])),
        (0, np.array([[2, 2, 0, 1]])),
        (-1, np.array([[1], [1], [3]])),
        (0, np.zeros((0, 4), dtype=np.int64)),
    ]:
        ours, theirs = pair(x)
        out, ref = ours.gather(dim, index), theirs.gather(dim, torch.from_numpy(index))
        assert_same(ours, theirs, out, ref)


def test_gather_takes_labels_in_a_float_tensor() -> None:
    scores = Tensor([[0.1, 0.9], [0.8, 0.2]])
    np.testing.assert_array_equal(scores.gather(1, Tensor([[1.0], [0.0]])).data, [[0.9], [0.8]])


def test_gather_names_the_problem() -> None:
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match=r"index values must lie in \[0, 2\]"):
        x.gather(1, np.array([[3], [0]]))
    with pytest.raises(IndexError, match=r"index values must lie in \[0, 2\]"):
        x.gather(1, np.array([[-1], [0]]))
    with pytest.raises(ValueError, match="needs as many axes"):
        x.gather(1, np.array([0, 1]))
    with pytest.raises(ValueError, match="longer than the Tensor"):
        x.gather(1, np.zeros((3, 1), dtype=int))
    with pytest.raises(TypeError, match="must hold integers"):
        x.gather(1, np.array([[0.5], [1.0]]))
    for endless in (np.inf, -np.inf, np.nan):  # (inf equals its floor, but is no index)
        with pytest.raises(TypeError, match=r"must hold integers, got dtype float64: .*(inf|nan)"):
            x.gather(1, np.array([[1.0, endless]] * 2))
    with pytest.raises(ValueError, match="dim 2 is out of range"):
        x.gather(2, np.zeros((2, 1), dtype=int))
    with pytest.raises(ValueError, match="at least one axis"):
        Tensor(1.0).gather(0, np.array(0))


def test_gather_keeps_its_own_copy_of_the_index() -> None:
    x = Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    index = np.array([[2, 0]])
    out = x.gather(1, index)
    index[0, 0] = 1  # a later change to the caller's array must not reach the graph
    out.backward(np.array([[1.0, 10.0]]))
    np.testing.assert_array_equal(x.grad, [[10.0, 0.0, 1.0]])


# --- where ------------------------------------------------------------------------------------------


def test_where_takes_numbers_broadcasts_and_reads_a_tensor_condition_as_nonzero() -> None:
    torch = require_torch()
    x = np.array([[-1.0, 2.0, 0.0], [3.0, -4.0, 5.0]])
    condition = Tensor([1.0, 0.0, np.nan])  # nonzero (nan too) is true
    ours, theirs = pair(x)
    out = where(condition, ours, 0.5)
    ref = torch.where(torch.tensor([True, False, True]), theirs, 0.5)
    assert_same(ours, theirs, out, ref)
    ours, theirs = pair(x)
    assert_same(ours, theirs, where(x > 0, 1.0, ours), torch.where(torch.tensor(x > 0), 1.0, theirs))
    assert where(np.array([True, False]), 1, 2).data.tolist() == [1.0, 2.0]


def test_where_keeps_the_other_branchs_inf_and_nan_out_as_torch_does() -> None:
    torch = require_torch()
    x = np.array([0.0, 1.0, 4.0])
    ours, theirs = pair(x)
    # the classic case: log(0) = -inf in the branch not taken; log's own rule still gives 0/0 = nan
    out = where(x > 0, ours.log(), ours * 0.0)
    ref = torch.where(torch.tensor(x > 0), theirs.log(), theirs * 0.0)
    assert_same(ours, theirs, out, ref)
    ours, theirs = pair(x)
    out = where(x > 0, ours.sqrt(), ours)
    ref = torch.where(torch.tensor(x > 0), theirs.sqrt(), theirs)
    assert_same(ours, theirs, out, ref)


def test_where_keeps_its_own_copy_of_the_condition() -> None:
    condition = np.array([True, False])
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = where(condition, x, 0.0)
    condition[:] = [False, True]
    out.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [1.0, 0.0])


def test_where_names_the_problem() -> None:
    with pytest.raises(ValueError, match=r"condition of shape \(3,\), x of shape \(2,\)"):
        where(np.array([True, False, True]), Tensor([1.0, 2.0]), 0.0)
    with pytest.raises(TypeError, match="condition must be a bool array or numbers"):
        where(np.array(["a"]), Tensor([1.0]), 0.0)
    with pytest.raises(TypeError, match="condition must be a bool array or a Tensor"):
        where(mg.Value(1.0), Tensor([1.0]), 0.0)
    with pytest.raises(TypeError, match="cannot use a str"):
        where(np.array([True]), Tensor([1.0]), "zero")


# --- shapes: PyTorch's conventions ------------------------------------------------------------------


def test_shape_ops_follow_torch_on_zero_d_tensors_and_axes_of_size_one() -> None:
    torch = require_torch()
    scalar, t_scalar = Tensor(3.0), torch.tensor(3.0)
    assert scalar.flatten().shape == tuple(t_scalar.flatten().shape) == (1,)
    assert scalar.squeeze(0).shape == tuple(t_scalar.squeeze(0).shape) == ()
    assert scalar.unsqueeze(-1).shape == tuple(t_scalar.unsqueeze(-1).shape) == (1,)
    assert scalar.permute().shape == ()
    x, tx = Tensor(np.zeros((2, 1, 3, 1))), torch.zeros(2, 1, 3, 1)
    for dim in (None, 0, 1, -1, (1, 3), (0, 1)):
        ours = x.squeeze(dim)
        theirs = tx.squeeze() if dim is None else tx.squeeze(dim)
        assert ours.shape == tuple(theirs.shape), dim
    assert x.flatten(1).shape == tuple(tx.flatten(1).shape)
    assert x.flatten(0, -2).shape == tuple(tx.flatten(0, -2).shape)
    assert x.view(-1, 3).shape == x.view((-1, 3)).shape == (2, 3)
    assert x.permute((3, 2, 1, 0)).shape == x.permute(3, 2, 1, 0).shape == (1, 3, 1, 2)


def test_shape_ops_name_the_problem() -> None:
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"unsqueeze\(\): dim 3 is out of range .* from -3 to 2"):
        x.unsqueeze(3)
    with pytest.raises(TypeError, match="dim must be an int"):
        x.unsqueeze(1.0)
    with pytest.raises(ValueError, match=r"squeeze\(\): dim -3 is out of range"):
        x.squeeze(-3)
    with pytest.raises(ValueError, match="start_dim comes after end_dim"):
        x.flatten(1, 0)
    with pytest.raises(ValueError, match="one entry per axis"):
        x.permute(0)
    with pytest.raises(ValueError, match="not a permutation"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match="cannot reshape"):
        x.view(4, 2)


# --- gradchecks of compositions ------------------------------------------------------------------------


def test_gradcheck_of_a_composition_of_the_new_ops() -> None:
    rng = np.random.default_rng(3)
    x = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    w = Tensor(rng.normal(size=(4, 1)), requires_grad=True)
    index = np.array([[0, 3], [1, 1], [2, 0]])

    def f(x: Tensor, w: Tensor) -> Tensor:
        h = (x @ w).squeeze(1).unsqueeze(0).view(3)  # a round trip through the shape ops
        picked = x.gather(1, index).flatten()
        mixed = where(x.data > 0, x, x * 0.1).permute(1, 0).amin(dim=1)
        return (picked.sum() * h).sum() + mixed.sum() + x.amax(dim=0).sum() + h.clamp(-10.0, 10.0).sum()

    assert mg.gradcheck(f, (x, w))
