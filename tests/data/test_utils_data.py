"""micrograd_plus.utils.data as torch.utils.data: the import line of a PyTorch script works and
names the package's own classes; a map-style Dataset subclass and a Subset batch as torch's do;
random_split partitions the indices exactly, repeats under manual_seed/seed/generator, turns
fractions into torch's lengths, and refuses the lengths torch refuses."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def test_the_torch_import_line_gives_the_packages_own_classes() -> None:
    from micrograd_plus.data import loader

    assert DataLoader is mg.DataLoader is mg.utils.data.DataLoader is loader.DataLoader
    assert TensorDataset is mg.TensorDataset and default_collate is loader.default_collate
    assert Dataset is mg.data.Dataset and Subset is mg.data.Subset and random_split is mg.data.random_split
    X = mg.randn(4, 2)
    assert isinstance(TensorDataset(X), Dataset) and isinstance(Subset(TensorDataset(X), [0]), Dataset)


class Squares(Dataset):
    """A map-style data set as a PyTorch user writes one: x = [i, i**2] / 10 and label i % 3."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[mg.Tensor, int]:
        return mg.tensor([i, i * i]) / 10, i % 3


def test_a_dataset_subclass_batches_as_torchs() -> None:
    torch = require_torch()

    class TorchSquares(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 7

        def __getitem__(self, i: int) -> tuple[Any, int]:
            return torch.tensor([i, i * i]) / 10, i % 3

    ours = list(DataLoader(Squares(7), batch_size=3))
    theirs = list(torch.utils.data.DataLoader(TorchSquares(), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for (x, y), (tx, ty) in zip(ours, theirs):
        assert isinstance(x, mg.Tensor) and close_to_torch(x.data, tx.numpy())
        assert np.array_equal(y, ty.numpy())


def test_the_base_class_asks_for_getitem_and_a_loader_for_len() -> None:
    with pytest.raises(NotImplementedError, match="Dataset should implement __getitem__"):
        Dataset()[0]

    class NoLength(Dataset):
        def __getitem__(self, i: int) -> int:
            return i

    with pytest.raises(TypeError, match="needs a data set with __len__ and __getitem__"):
        DataLoader(NoLength())


def test_subset_reads_the_dataset_at_its_indices_as_torch() -> None:
    torch = require_torch()
    X = np.arange(12.0).reshape(6, 2)
    ours = Subset(TensorDataset(mg.tensor(X)), [4, 0, 5])
    theirs = torch.utils.data.Subset(torch.utils.data.TensorDataset(torch.tensor(X)), [4, 0, 5])
    assert len(ours) == len(theirs) == 3 and ours.indices == [4, 0, 5]
    for i in [0, 1, 2, -1]:
        assert close_to_torch(ours[i][0].data, theirs[i][0].numpy())
    (batch,) = next(iter(DataLoader(ours, batch_size=3)))
    (reference,) = next(iter(torch.utils.data.DataLoader(theirs, batch_size=3)))
    assert close_to_torch(batch.data, reference.numpy())
    assert np.array_equal(ours[[2, 0]][0].data, X[[5, 4]])  # a list of positions, as torch's
    assert repr(ours) == "Subset(3 of 6 samples)"


def test_a_subset_of_a_dataset_without_len_still_has_a_repr() -> None:
    class Endless(Dataset):
        def __getitem__(self, i: int) -> int:
            return i

    subset = Subset(Endless(), [3, 1])
    assert repr(subset) == "Subset(2 samples of a Endless)" and subset[0] == 3 and len(subset) == 2


@pytest.mark.parametrize("shuffle", [False, True])
def test_a_subset_of_a_tensor_dataset_is_batched_by_slicing_with_the_same_batches(
    shuffle: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DataLoader over random_split's Subset of a TensorDataset slices each tensor once per
    batch, as over the TensorDataset itself, and gives the batches of the item-by-item path."""
    X, y = mg.randn(23, 3, dtype=mg.float32), np.arange(23) % 4
    train, _ = random_split(TensorDataset(X, y), [0.7, 0.3], seed=0)
    item_by_item = list(DataLoader(train, batch_size=5, shuffle=shuffle, seed=1, collate_fn=default_collate))
    reads = []
    read = TensorDataset.__getitem__
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: reads.append(i) or read(self, i))
    sliced = list(DataLoader(train, batch_size=5, shuffle=shuffle, seed=1))
    assert len(sliced) == len(item_by_item) == len(reads) == 4  # one read per batch
    for (xs, ys), (xi, yi) in zip(sliced, item_by_item, strict=True):
        assert (
            isinstance(xs, mg.Tensor)
            and xs.dtype == xi.dtype == mg.float32
            and np.array_equal(xs.data, xi.data)
        )
        assert isinstance(ys, np.ndarray) and ys.dtype == yi.dtype and np.array_equal(ys, yi)


# --- random_split ---------------------------------------------------------------------------------------


@st.composite
def int_lengths(draw: st.DrawFn) -> list[int]:
    """Lengths adding up to n: cuts of range(n) at sorted points."""
    n = draw(st.integers(0, 50))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    return [b - a for a, b in zip([0, *cuts], [*cuts, n])]


@pytest.mark.filterwarnings("ignore:Length of split at index")  # ([0, 1] are fractions, as in torch)
@given(int_lengths(), st.integers(0, 2**32))
def test_random_split_partitions_the_indices_exactly(lengths: list[int], seed: int) -> None:
    n = sum(lengths)
    parts = random_split(range(n), lengths, seed=seed)
    assert [len(p) for p in parts] == lengths and all(isinstance(p, Subset) for p in parts)
    assert sorted(i for p in parts for i in p.indices) == list(range(n))
    assert [list(p) for p in parts] == [p.indices for p in parts]  # range(n)[i] is i
    assert all(type(i) is int for p in parts for i in p.indices)


def test_random_split_repeats_under_manual_seed_seed_and_generator() -> None:
    def split(**how: Any) -> list[list[int]]:
        return [list(p.indices) for p in random_split(range(30), [10, 20], **how)]

    mg.manual_seed(5)
    first, second = split(), split()
    mg.manual_seed(5)
    assert split() == first and split() == second and first != second
    assert split(seed=1) == split(generator=np.random.default_rng(1)) == split(seed=1)
    assert split(seed=1) != split(seed=2)
    generator = np.random.default_rng(1)  # a Generator given goes on with its own stream
    assert split(generator=generator) == split(seed=1) and split(generator=generator) != split(seed=1)
    mg.manual_seed(5)
    split(seed=1), split(generator=generator)  # neither draws from the package's stream
    assert split() == first
    with pytest.raises(ValueError, match="give seed or generator, not both"):
        split(seed=1, generator=np.random.default_rng(1))


def _outcome(split: Any, dataset: Any, lengths: list[Any], **how: Any) -> tuple[Any, ...]:
    """The lengths made and the warnings given, or the error raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parts = split(dataset, lengths, **how)
        except ValueError as error:  # (ours adds the numbers in brackets)
            return ("ValueError", str(error).split(" (")[0])
        except TypeError:  # torch's randperm refuses a float length its own way
            return ("TypeError",)
    return ([len(p) for p in parts], sorted(str(w.message) for w in caught))


@given(st.integers(0, 40), st.lists(st.integers(0, 9), min_size=1, max_size=5))
def test_fractions_give_torchs_lengths_warnings_and_errors(n: int, weights: list[int]) -> None:
    torch = require_torch()
    total = sum(weights) or 1
    fractions = [w / total for w in weights]  # may add up to a little more or less than 1
    ours = _outcome(random_split, range(n), fractions, seed=0)
    theirs = _outcome(torch.utils.data.random_split, range(n), fractions)
    assert ours == theirs, (fractions, ours, theirs)


@pytest.mark.parametrize(
    "lengths",
    [[3, 4], [0.5, 0.4], [0.3, 0.3, 0.4], [0.7, 0.2, 0.1], [1.5, -0.5], [0.6, 0.6, -0.2], [10, 0], [1]],
)
def test_lengths_are_checked_as_torch_checks_them(lengths: list[Any]) -> None:
    torch = require_torch()
    assert _outcome(random_split, range(10), lengths) == _outcome(
        torch.utils.data.random_split, range(10), lengths
    )


def test_lengths_torch_does_not_check_are_refused() -> None:
    with pytest.raises(ValueError, match=r"length 0 is -1; lengths must be >= 0"):
        random_split(range(10), [-1, 11])  # torch cuts at a negative offset without a word
    with pytest.raises(TypeError, match="length 0 is 3.0; give ints, or fractions that add up to 1"):
        random_split(range(10), [3.0, 7.0])
    with pytest.raises(TypeError, match="length 1 must be an int or a fraction, got '7'"):
        random_split(range(10), [3, "7"])
    with pytest.raises(ValueError, match=r"Sum of input lengths does not equal .* \(9 != 10\)"):
        random_split(range(10), [4, 5])
    assert math.isclose(sum([0.1] * 10), 1)  # (fractions as torch: 0.1 ten times is 0.999...)
    assert [len(p) for p in random_split(range(10), [0.1] * 10)] == [1] * 10
