"""PyTorch's `Dataset`, the base class of a map-style data set, and `Subset`, a part of one
without a copy (what `random_split` returns). loader.py and splits.py both build on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

Item = TypeVar("Item", covariant=True)


class Dataset(Generic[Item]):
    """The base class of a map-style data set, as `torch.utils.data.Dataset`: a subclass gives
    `__getitem__(i)` (sample i, e.g. a tuple `(x, y)`) and `__len__()`, and a DataLoader batches
    it. Subclassing is optional here (any object with those two methods will do), but it lets
    `isinstance(d, Dataset)` hold, as for TensorDataset and Subset."""

    def __getitem__(self, index: Any) -> Item:
        raise NotImplementedError(
            f"{type(self).__name__}: subclasses of Dataset should implement __getitem__"
        )


class Subset(Dataset[Any]):
    """The samples of `dataset` at `indices`, in that order, as `torch.utils.data.Subset`:
    `Subset(d, [4, 0])[1]` is `d[0]`. Nothing is copied; `.dataset` and `.indices` are kept as
    given."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        try:
            return f"Subset({len(self)} of {len(self.dataset)} samples)"
        except TypeError:  # a data set without __len__ (Dataset asks only for __getitem__)
            return f"Subset({len(self)} samples of a {type(self.dataset).__name__})"
