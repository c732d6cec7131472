"""A dim out of range raises DimensionError, as PyTorch raises IndexError: catchable as an
IndexError (PyTorch code) and as a ValueError (this library's code before), with PyTorch's
range and value in the message, from every method that takes a dim or an axis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus.errors import DimensionError

# (name, call on a (2, 3) Tensor of ours or torch's, the range torch names, the dim it names)
CALLS: list[tuple[str, Callable[[Any], Any], str, int]] = [
    ("size", lambda x: x.size(5), "[-2, 1]", 5),
    ("sum", lambda x: x.sum(dim=5), "[-2, 1]", 5),
    ("mean", lambda x: x.mean(dim=-3), "[-2, 1]", -3),
    ("var", lambda x: x.var(dim=2), "[-2, 1]", 2),
    ("amax", lambda x: x.amax(dim=(0, 5)), "[-2, 1]", 5),
    ("softmax", lambda x: x.softmax(2), "[-2, 1]", 2),
    ("log_softmax", lambda x: x.log_softmax(-3), "[-2, 1]", -3),
    ("unsqueeze", lambda x: x.unsqueeze(3), "[-3, 2]", 3),
    ("squeeze", lambda x: x.squeeze(-3), "[-2, 1]", -3),
    ("flatten", lambda x: x.flatten(0, 4), "[-2, 1]", 4),
    ("argmax", lambda x: x.argmax(2), "[-2, 1]", 2),
]


@pytest.mark.parametrize("name, call, span, dim", CALLS, ids=[row[0] for row in CALLS])
def test_a_dim_out_of_range_is_an_index_error_with_torchs_words(
    name: str, call: Callable[[Any], Any], span: str, dim: int
) -> None:
    torch = require_torch()
    words = f"Dimension out of range (expected to be in range of {span}, but got {dim})"
    with pytest.raises(IndexError) as theirs:
        call(torch.zeros(2, 3))
    assert str(theirs.value) == words
    with pytest.raises(IndexError) as ours:
        call(mg.tensor(np.zeros((2, 3))))
    assert isinstance(ours.value, ValueError) and type(ours.value) is DimensionError
    assert words in str(ours.value) and "shape (2, 3)" in str(ours.value)


@pytest.mark.parametrize("join", ["cat", "stack"])
def test_joining_along_a_dim_out_of_range_is_an_index_error_too(join: str) -> None:
    torch = require_torch()
    with pytest.raises(IndexError):
        getattr(torch, join)([torch.zeros(2, 3)] * 2, 3)
    with pytest.raises(
        IndexError, match=rf"axis 3 is out of bounds for array of dimension {2 + (join == 'stack')}"
    ):
        getattr(mg, join)([mg.tensor(np.zeros((2, 3)))] * 2, dim=3)
    with pytest.raises(ValueError, match=r"of shapes \(2, 3\), \(2, 3\)"):
        getattr(mg, join)([mg.tensor(np.zeros((2, 3)))] * 2, dim=-4)


def test_permuting_with_a_dim_out_of_range_is_an_index_error_and_a_repeat_stays_a_value_error() -> None:
    torch = require_torch()
    with pytest.raises(IndexError):
        torch.zeros(2, 3).permute(0, 5)
    x = mg.tensor(np.zeros((2, 3)))
    for call in (lambda: x.permute(0, 5), lambda: x.transpose((0, 5)), lambda: x.permute(-3, 0)):
        with pytest.raises(IndexError, match=r"not a permutation of the axes of shape \(2, 3\)") as error:
            call()
        assert isinstance(error.value, ValueError)
    with pytest.raises(
        IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\]"
    ) as swap:
        x.transpose(0, 5)  # two dims: PyTorch's swap, and its message
    assert isinstance(swap.value, ValueError)
    with pytest.raises(ValueError, match="repeated axis") as repeated:
        x.permute(0, 0)
    assert not isinstance(repeated.value, IndexError)


def test_size_of_a_0d_tensor_says_it_has_no_dims() -> None:
    torch = require_torch()
    with pytest.raises(IndexError, match="no dimensions"):
        torch.tensor(1.0).size(0)
    with pytest.raises(IndexError, match=r"size\(\): dim 0 is out of range .* a 0-d Tensor has no dims"):
        mg.tensor(1.0).size(0)


@given(
    ndim=st.integers(0, 4),
    dim=st.integers(-7, 7),
    method=st.sampled_from(["sum", "size", "unsqueeze", "argmin"]),
)
def test_ours_raises_exactly_where_torch_raises_and_names_the_same_range(
    ndim: int, dim: int, method: str
) -> None:
    torch = require_torch()
    data = np.zeros((2,) * ndim)
    try:
        expected = getattr(torch.tensor(data), method)(dim)
    except IndexError as error:
        with pytest.raises(DimensionError) as ours:
            getattr(mg.tensor(data), method)(dim)
        if "out of range" in str(error):  # (PyTorch words a 0-d size() apart)
            assert str(error) in str(ours.value)
        return
    got = getattr(mg.tensor(data), method)(dim)
    assert np.shape(got) == tuple(np.shape(expected))
