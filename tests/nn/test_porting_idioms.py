"""Idioms that PyTorch tutorials use and ported code keeps: `inplace=` on ReLU, LeakyReLU,
Dropout and their functional forms, `zero_grad(set_to_none=...)`, `named_children()`,
`apply(fn)` and `Sequential(OrderedDict(...))`; each against PyTorch float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from micrograd_plus import Dropout, LeakyReLU, ReLU, Tensor, Value
from micrograd_plus.nn import functional as F

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
grid = st.integers(-40, 40).map(lambda i: i / 8)  # holds 0, where ReLU and LeakyReLU have their kink
# PyTorch's in-place LeakyReLU refuses a negative slope in backward, so only these compare.
slopes = st.sampled_from([0.0, 0.01, 0.2, 1.5])


def against_torch_in_place(ours: Any, theirs: Any, x: np.ndarray) -> None:
    """`ours` (a function of a Tensor) against `theirs` (PyTorch's in-place form, on a Tensor
    that is not a leaf, where PyTorch allows it): output and the leaf's gradient; and our
    input is left unchanged."""
    torch = require_torch()
    leaf, their_leaf = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    h, their_h = leaf * 1.0, their_leaf * 1.0
    out, ref = ours(h), theirs(their_h)
    assert np.array_equal(h.data, x)  # computed out of place
    assert close_to_torch(out.data, ref.detach().numpy())
    g = np.random.default_rng(0).normal(size=out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert close_to_torch(leaf.grad, their_leaf.grad.numpy())


@given(x=hnp.arrays(np.float64, shapes, elements=grid), slope=slopes, inplace=st.booleans())
def test_relu_and_leaky_relu_with_inplace_match_torch_in_place(
    x: np.ndarray, slope: float, inplace: bool
) -> None:
    torch = require_torch()
    tf = torch.nn.functional
    against_torch_in_place(ReLU(inplace=inplace), torch.nn.ReLU(inplace=True), x)
    against_torch_in_place(lambda t: F.relu(t, inplace=inplace), lambda t: tf.relu(t, inplace=True), x)
    against_torch_in_place(LeakyReLU(slope, inplace), torch.nn.LeakyReLU(slope, inplace=True), x)
    against_torch_in_place(
        lambda t: F.leaky_relu(t, slope, inplace), lambda t: tf.leaky_relu(t, slope, inplace=True), x
    )


@given(
    x=hnp.arrays(np.float64, shapes, elements=st.floats(-3, 3)),
    p=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**16),
)
def test_dropout_with_inplace_is_dropout_and_matches_torch_in_place(
    x: np.ndarray, p: float, seed: int
) -> None:
    torch = require_torch()
    plain = Dropout(p, seed=seed)(Tensor(x)).data
    for layer in (Dropout(p, True, seed=seed), Dropout(p, inplace=False, seed=seed)):
        assert np.array_equal(layer(Tensor(x)).data, plain)  # the same coin flips
    in_place = F.dropout(Tensor(x), p, True, True, generator=np.random.default_rng(seed)).data
    assert np.array_equal(in_place, F.dropout(Tensor(x), p, generator=np.random.default_rng(seed)).data)
    # PyTorch's in-place dropout multiplies by mask / (1 - p); with our mask (where ones are kept):
    kept = Dropout(p, inplace=True, seed=seed)(Tensor(np.ones_like(x))).data != 0
    scale = torch.tensor(kept / (1.0 - p))
    against_torch_in_place(Dropout(p, inplace=True, seed=seed), lambda t: t.mul_(scale), x)


@given(x=hnp.arrays(np.float64, shapes, elements=st.floats(-3, 3)), p=st.sampled_from([0.0, 0.3, 1.0]))
def test_dropout_with_inplace_matches_torch_where_it_is_not_random(x: np.ndarray, p: float) -> None:
    torch = require_torch()
    tf = torch.nn.functional
    if p in (0.0, 1.0):  # training: the identity, or all zero
        against_torch_in_place(Dropout(p, inplace=True), torch.nn.Dropout(p, inplace=True), x)
        against_torch_in_place(
            lambda t: F.dropout(t, p, True, True), lambda t: tf.dropout(t, p, True, True), x
        )
    against_torch_in_place(Dropout(p, inplace=True).eval(), torch.nn.Dropout(p, inplace=True).eval(), x)
    against_torch_in_place(lambda t: F.dropout(t, p, False, True), lambda t: tf.dropout(t, p, False, True), x)


def test_relu_inplace_works_on_values_and_lists_of_values() -> None:
    assert ReLU(inplace=True)(Value(-2.0)).data == 0.0
    assert [v.data for v in ReLU(inplace=True)([Value(-1.0), Value(3.0)])] == [0.0, 3.0]


@pytest.mark.parametrize("bad", [1, 0, "True", None, np.bool_(True)])
def test_a_non_bool_inplace_is_refused(bad: Any) -> None:
    x = Tensor([1.0, -1.0])
    makers = [
        lambda: ReLU(inplace=bad),
        lambda: LeakyReLU(0.1, inplace=bad),
        lambda: Dropout(0.5, inplace=bad),
        lambda: F.relu(x, inplace=bad),
        lambda: F.leaky_relu(x, 0.1, inplace=bad),
        lambda: F.dropout(x, 0.5, True, bad),
    ]
    for make in makers:
        with pytest.raises(TypeError, match="inplace must be True or False, got"):
            make()


def test_relu_refuses_an_unknown_argument_as_torch_does() -> None:
    torch = require_torch()
    with pytest.raises(TypeError):
        torch.nn.ReLU(implace=True)
    with pytest.raises(TypeError):
        ReLU(implace=True)  # a misspelling once passed unnoticed


def test_reprs_show_inplace_as_torch_does() -> None:
    torch = require_torch()
    assert repr(ReLU(inplace=True)) == repr(torch.nn.ReLU(inplace=True))
    assert repr(ReLU()) == repr(torch.nn.ReLU())
    assert repr(LeakyReLU(0.2, inplace=True)) == repr(torch.nn.LeakyReLU(0.2, inplace=True))
    assert repr(Dropout(0.25, inplace=True)) == repr(torch.nn.Dropout(0.25, inplace=True))
