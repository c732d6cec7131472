"""clone, expand/expand_as, repeat, flip, split/chunk/unbind and contiguous: data and gradient
against PyTorch float64 and finite differences, and bad sizes and dims."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st
from torch_parity import arrays, assert_matches_torch, nonempty, shapes

import micrograd_plus as mg
from micrograd_plus import Tensor


@given(x=arrays(shapes))
def test_clone_is_a_copy_in_the_graph(x: np.ndarray) -> None:
    assert_matches_torch(lambda t: t.clone() * t, lambda t: t.clone() * t, x)
    t = Tensor(x, requires_grad=True)
    copy = t.clone()
    assert copy.grad_fn is not None and copy.grad_fn.name() == "clone"
    with mg.no_grad():
        copy.add_(1.0)  # a change to the copy leaves the original alone
    np.testing.assert_array_equal(t.data, x)
    assert mg.gradcheck(lambda s: s.clone() * s, [Tensor(x, requires_grad=True)])


@given(x=arrays(shapes), data=st.data())
def test_expand_repeats_axes_of_size_1_and_adds_axes_in_front_as_torch(
    x: np.ndarray, data: st.DataObject
) -> None:
    lead = data.draw(st.lists(st.integers(0, 3), max_size=2))
    sizes = [n if n != 1 else data.draw(st.integers(1, 3)) for n in x.shape]
    sizes = [data.draw(st.sampled_from([n, -1])) if n == m else n for n, m in zip(sizes, x.shape)]
    wanted = tuple(lead + sizes)
    if wanted:  # (torch wants at least one size given as ints)
        assert_matches_torch(lambda t: t.expand(*wanted), lambda t: t.expand(*wanted), x)
    assert_matches_torch(lambda t: t.expand(wanted), lambda t: t.expand(wanted), x)  # (one tuple)
    other = np.zeros(np.broadcast_shapes(x.shape, tuple(n if n >= 0 else 1 for n in wanted)))
    assert_matches_torch(
        lambda t: t.expand_as(Tensor(other)),
        lambda t: t.expand_as(require_torch().tensor(other)),
        x,
    )
    assert mg.gradcheck(lambda t: t.expand(wanted), [Tensor(x, requires_grad=True)])


@given(x=arrays(shapes), data=st.data())
def test_repeat_tiles_as_torch(x: np.ndarray, data: st.DataObject) -> None:
    times = tuple(data.draw(st.lists(st.integers(0, 3), min_size=x.ndim, max_size=x.ndim + 2)))
    if times:
        assert_matches_torch(lambda t: t.repeat(*times), lambda t: t.repeat(*times), x)
    assert_matches_torch(lambda t: t.repeat(times), lambda t: t.repeat(times), x)
    if times and all(times):
        assert mg.gradcheck(lambda t: t.repeat(*times), [Tensor(x, requires_grad=True)])


def test_repeat_is_a_copy_made_by_broadcasting_as_torch() -> None:
    torch = require_torch()
    b, tb = Tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    r, tr = b.repeat(1), tb.repeat(1)
    with mg.no_grad(), torch.no_grad():
        b.zero_()
        tb.zero_()
        r[0] = 5.0  # (writable, and b stays as it is)
        tr[0] = 5.0
    np.testing.assert_array_equal(r.data, tr.detach().numpy())
    np.testing.assert_array_equal(b.data, tb.detach().numpy())
    names, node = [], Tensor([1.0, 2.0], requires_grad=True).repeat(3, 2).grad_fn
    while node is not None:  # reshape <- clone <- broadcast_to <- reshape <- the leaf
        names.append(node.name())
        node = node.next_functions[0][0] if node.next_functions else None
    assert "broadcast_to" in names and "getitem" not in names, names


@given(x=arrays(shapes), data=st.data())
def test_flip_reverses_the_dims_given_as_torch(x: np.ndarray, data: st.DataObject) -> None:
    dims = tuple(data.draw(st.lists(st.integers(-x.ndim, x.ndim - 1), unique_by=lambda d: d % x.ndim)) if x.ndim else [])  # fmt: skip
    assert_matches_torch(lambda t: t.flip(dims), lambda t: t.flip(dims), x)
    if x.ndim:
        assert_matches_torch(lambda t: t.flip(-1), lambda t: t.flip(-1), x)
    assert mg.gradcheck(lambda t: t.flip(dims), [Tensor(x, requires_grad=True)])


def test_flip_is_a_copy_as_torch() -> None:
    torch = require_torch()
    b, tb = Tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    p, tp = b.flip(0), tb.flip(0)
    p.clamp_(max=1.0)
    tp.clamp_(max=1.0)
    np.testing.assert_array_equal(b.data, tb.numpy())  # a change to the flipped copy leaves b
    b.zero_()
    tb.zero_()
    np.testing.assert_array_equal(p.data, tp.numpy())  # and a change to b leaves the copy


@given(x=arrays(nonempty), data=st.data())
def test_split_chunk_and_unbind_give_the_pieces_as_torch(x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[dim]
    size = data.draw(st.integers(1, n + 1))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    sections = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
    chunks = data.draw(st.integers(1, n + 2))
    for ours, theirs in (
        (lambda t: t.split(size, dim), lambda t: t.split(size, dim)),
        (lambda t: t.split(sections, dim=dim), lambda t: t.split(sections, dim=dim)),
        (lambda t: t.chunk(chunks, dim), lambda t: t.chunk(chunks, dim)),
        (lambda t: t.unbind(dim), lambda t: t.unbind(dim)),
    ):
        assert_matches_torch(ours, theirs, x)
    assert mg.gradcheck(lambda t: mg.cat([p * (i + 1) for i, p in enumerate(t.split(size, dim))], dim), [Tensor(x, requires_grad=True)])  # fmt: skip


@given(chunks=st.integers(1, 5), shape=st.sampled_from([(0,), (2, 0), (0, 3)]))
def test_chunk_of_an_empty_axis_gives_chunks_empty_pieces_as_torch(
    chunks: int, shape: tuple[int, ...]
) -> None:
    dim = shape.index(0)
    assert_matches_torch(lambda t: t.chunk(chunks, dim), lambda t: t.chunk(chunks, dim), np.zeros(shape))


VIEWS = {  # views of a 3 by 4 Tensor (or torch tensor) x, each a function of x
    "x": lambda x: x,
    "x.T": lambda x: x.T,
    "expand": lambda x: x[0, :2].reshape(2).expand(3, 2),
    "expand of size 1": lambda x: x[:1].expand(1, 4),
    "rows with a step": lambda x: x[::2],
    "columns with a step": lambda x: x[:, ::2],
    "one column": lambda x: x[:, :1],
    "one row by a step": lambda x: x[::5],
    "a corner": lambda x: x[1:, 1:],
    "transposed row": lambda x: x[:1].T,
    "permuted": lambda x: x.reshape(3, 2, 2).permute(2, 0, 1),
    "mT": lambda x: x.reshape(3, 2, 2).mT,
    "unsqueezed transpose": lambda x: x.T.unsqueeze(0),
    "empty transpose": lambda x: x[:0].T,
    "flipped": lambda x: x.flip(0),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_is_contiguous_and_contiguous_as_torch(name: str) -> None:
    torch = require_torch()
    view = VIEWS[name]
    data = np.arange(12.0).reshape(3, 4)
    x, tx = Tensor(data.copy()), torch.tensor(data.copy())
    assert view(x).is_contiguous() == view(tx).is_contiguous()
    made, theirs = view(x).contiguous(), view(tx).contiguous()
    assert made.is_contiguous() and (made is view(x)) == (theirs is view(tx))
    np.testing.assert_array_equal(made.data, theirs.numpy())
    # A copy when the view was not contiguous (writable, even an expand's); the view when it was,
    # written through to x as PyTorch's (an expand where nothing repeats too).
    if made.numel() and made.data.flags.writeable:
        made[(0,) * made.ndim] = -1.0
        theirs[(0,) * theirs.ndim] = -1.0
    np.testing.assert_array_equal(x.data, tx.numpy())


@given(x=arrays(nonempty), lead=st.integers(0, 2), data=st.data())
def test_an_expand_where_nothing_repeats_is_a_view_written_through_to_x_as_torch(
    x: np.ndarray, lead: int, data: st.DataObject
) -> None:
    torch = require_torch()
    sizes = (1,) * lead + tuple(data.draw(st.sampled_from([n, -1])) for n in x.shape)
    t, tt = Tensor(x.copy()), torch.tensor(x.copy())
    ours, theirs = t.expand(*sizes), tt.expand(*sizes)
    assert ours is not t and ours.shape == tuple(theirs.shape)
    where = tuple(data.draw(st.integers(0, n - 1)) for n in ours.shape)
    ours[where], theirs[where] = 7.0, 7.0
    ours.mul_(2.0)
    theirs.mul_(2.0)
    np.testing.assert_array_equal(t.data, tt.numpy())  # every change reached x, as in PyTorch
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_writing_to_an_expand_that_repeats_is_refused_saying_why_and_a_clone_may_be_written() -> None:
    torch = require_torch()
    with pytest.raises(
        RuntimeError, match="more than one element of the written-to tensor refers to a single"
    ):
        torch.zeros(1, 3).expand(2, 3).add_(1.0)
    y = mg.zeros(1, 3)
    changes = {
        "t += x": lambda e: e.add_(1.0),
        "copy_()": lambda e: e.copy_(mg.ones(2, 3)),
        "zero_()": lambda e: e.zero_(),
        "t[...] = value": lambda e: e.__setitem__((slice(None), 0), 5.0),
    }
    for what, change in changes.items():
        with pytest.raises(
            ValueError,
            match=rf"^{re.escape(what)}: this Tensor is a broadcast view \(an expand\(\) to shape \(2, 3\)\) whose repeated "
            r"elements refer to one memory location.*change a copy, t = t.clone\(\)$",
        ):
            change(y.expand(2, 3))
    copy = y.expand(2, 3).clone()  # what the error says to do
    copy[0, 0] = 5.0
    assert copy.tolist() == [[5.0, 0.0, 0.0], [0.0, 0.0, 0.0]] and not y.data.any()


def test_contiguous_copies_in_the_graph_as_torch() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.contiguous() is x
    made = x.T.contiguous()
    assert made.grad_fn is not None and made.grad_fn.name() == "clone"
    assert_matches_torch(lambda t: t.T.contiguous() * t.T, lambda t: t.T.contiguous() * t.T, x.data)
    assert mg.gradcheck(lambda t: t.T.contiguous(), [x])


def test_bad_sizes_and_dims_say_what_is_wrong() -> None:
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=r"expand\(3, 3\): size 3 does not fit its size 2 at dim 0 of shape \(2, 3\)"
    ):
        x.expand(3, 3)
    with pytest.raises(
        ValueError, match=r"expand\(3,\): the number of sizes \(1\) must be at least the number of axes"
    ):
        x.expand(3)
    with pytest.raises(ValueError, match=r"size -1 does not fit new leading dim 0"):
        x.expand(-1, 2, 3)
    with pytest.raises(TypeError, match=r"expand\(\): sizes must be ints"):
        x.expand(2.0, 3)
    with pytest.raises(
        ValueError, match=r"repeat\(2,\): give one count >= 0 per axis of the Tensor of shape \(2, 3\)"
    ):
        x.repeat(2)
    with pytest.raises(ValueError, match=r"repeat\(1, -1\)"):
        x.repeat(1, -1)
    with pytest.raises(IndexError, match=r"flip\(\): axis 2 is out of range for a Tensor of shape \(2, 3\)"):
        x.flip(2)
    with pytest.raises(ValueError, match="repeats an axis"):
        x.flip((0, -2))
    with pytest.raises(ValueError, match=r"split\(\): sizes \[1, 1\] must be >= 0 and add up to 3"):
        x.split([1, 1], dim=1)
    with pytest.raises(
        ValueError, match=r"split\(\): split_size must be positive for dim 0 of length 2, got 0"
    ):
        x.split(0)
    with pytest.raises(ValueError, match=r"chunk\(\): chunks must be a positive int, got 0"):
        x.chunk(0)
    with pytest.raises(IndexError, match=r"unbind\(\): dim 2 is out of range"):
        x.unbind(2)
    with pytest.raises(ValueError, match="at least one axis"):
        Tensor(1.0).split(1)
