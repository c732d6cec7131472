"""PyTorch's `Dataset`, `TensorDataset` and `DataLoader`: the mini-batch loop of nearly every PyTorch
training script, `for xb, yb in DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)`.

The order is drawn from the loader's own numpy Generator (`seed=`, `generator=`) or else from the
package's stream at each epoch (as PyTorch's, from `manual_seed`), never numpy's global state. A
TensorDataset (or random_split's Subset of one) is cut by slicing each of its tensors at once; any
other data set is read item by item and the items are stacked (`default_collate`), as torch's
DataLoader does.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..arguments import positive_int
from ..factories import SeedLike, generator_from
from ..tensors import Tensor
from .dataset import Dataset, Subset


class TensorDataset(Dataset[tuple[Any, ...]]):
    """Samples that are rows of tensors of the same length, as `torch.utils.data.TensorDataset`:
    `TensorDataset(X, y)[i]` is `(X[i], y[i])`.

    Tensors (int64 labels too) and numpy arrays are both fine: a Tensor's
    rows are Tensors without a graph, an array's rows arrays. `.tensors` holds them as given (any
    other sequence as a numpy array).
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset() needs at least one tensor, e.g. TensorDataset(X, y)")
        self.tensors = tuple(t if isinstance(t, Tensor) else np.asarray(t) for t in tensors)
        sizes = []
        for position, t in enumerate(self.tensors):
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset(): tensor {position} must have one row per sample, got a scalar"
                )
            sizes.append(t.shape[0])
        if len(set(sizes)) > 1:
            raise ValueError(
                f"TensorDataset(): the tensors must have the same size in the first dimension (one row "
                f"per sample), got sizes {', '.join(map(str, sizes))}"
            )

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        """The rows at `index` (an int, or an array of ints for many rows at once), one per tensor."""
        return tuple(
            Tensor(t.data[index], dtype=t.dtype) if isinstance(t, Tensor) else t[index, ...]
            for t in self.tensors
        )

    def __repr__(self) -> str:
        return f"TensorDataset({len(self)} samples, {len(self.tensors)} tensors)"


class DataLoader:
    """Mini-batches of a data set, one epoch per `for` loop, as `torch.utils.data.DataLoader`.

    `dataset` is a TensorDataset or any object with `__len__` and `__getitem__` (an item is a tuple
    of fields or a single value). With `shuffle=True` every epoch takes a new order from
    `generator=` (a numpy Generator), or one made from `seed=` (an int, for repeatable runs), or
    without either from the package's stream (repeatable after `manual_seed`, as PyTorch's);
    numpy's global random state is never used. `len(loader)` is the number of
    batches; the last batch is smaller unless `drop_last=True`. `batch_size=None` yields the
    items one by one, as the data set gives them (torch's "no batching"). `collate_fn(items)`
    makes a batch from a list of items, `default_collate` by default: Tensors stack into one
    Tensor (without a graph), arrays and numbers into one numpy array, tuples/lists field by field
    (a batch is a list, as in torch), dicts key by key.

    `num_workers` and `pin_memory` are accepted and ignored: in torch they change only the speed.
    `sampler` and `batch_sampler` are not implemented (use `shuffle`, or a data set of the rows
    you want); `drop_last` is keyword-only, since torch's fourth positional argument is `sampler`.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        *,
        drop_last: bool = False,
        collate_fn: Callable[[Any], Any] | None = None,
        generator: np.random.Generator | None = None,
        seed: SeedLike = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        sampler: Any = None,
        batch_sampler: Any = None,
    ) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader() needs a data set with __len__ and __getitem__ (e.g. TensorDataset(X, y)), "
                f"got {type(dataset).__name__}"
            )
        for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if value is not None:
                raise TypeError(
                    f"DataLoader(): {name}= is not supported here; use shuffle=True for a new order each "
                    "epoch, or a data set of the rows you want (TensorDataset(X[rows], y[rows]))"
                )
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader(): num_workers must be an int >= 0, got {num_workers!r:.60}")
        if batch_size is None and drop_last:
            raise ValueError(
                "DataLoader(): batch_size=None (no batching) cannot be combined with drop_last=True"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader(): collate_fn must be callable, got {type(collate_fn).__name__}")
        self.dataset: Any = dataset
        self.batch_size: int | None = None if batch_size is None else positive_int(batch_size, "batch_size")
        self.shuffle: bool = bool(shuffle)
        self.drop_last: bool = bool(drop_last)
        self.collate_fn: Callable[[Any], Any] | None = collate_fn
        # None: the package's stream, read at each epoch (so a later manual_seed counts, as in PyTorch)
        self.generator: np.random.Generator | None = (
            None if seed is None and generator is None else generator_from(seed, generator)
        )

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = generator_from(None, self.generator).permutation(n) if self.shuffle else np.arange(n)
        if self.batch_size is None:
            for i in order:
                item = self.dataset[int(i)]
                yield item if self.collate_fn is None else self.collate_fn(item)
            return
        rows, positions = _tensor_rows(self.dataset) if self.collate_fn is None else (None, None)
        collate = default_collate if self.collate_fn is None else self.collate_fn
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            index = order[start : start + self.batch_size]
            if rows is None:
                yield collate([self.dataset[int(i)] for i in index])
            else:  # one slice per tensor
                yield list(rows[index if positions is None else positions[index]])

    def __repr__(self) -> str:
        return f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle})"


def _tensor_rows(dataset: Any) -> tuple[TensorDataset | None, np.ndarray | None]:
    """The TensorDataset a batch can be sliced from at once, and where the data set's samples are
    in it (None: the same places): a TensorDataset itself, or a Subset of one, as random_split
    makes. (None, None) for any other data set, read item by item."""
    if type(dataset) is TensorDataset:
        return dataset, None
    if type(dataset) is Subset and type(dataset.dataset) is TensorDataset:
        return dataset.dataset, np.asarray(dataset.indices, dtype=np.intp)
    return None, None


def default_collate(items: list[Any]) -> Any:
    """One batch from a list of items, position by position, as torch's default collate: Tensors
    stack into a Tensor (without a graph), arrays and numbers into a numpy array, tuples and lists
    field by field (into a list), dicts key by key; strings stay a list."""
    first = items[0]
    if isinstance(first, Mapping):
        return {key: default_collate([item[key] for item in items]) for key in first}
    if isinstance(first, (str, bytes)):
        return list(items)
    if isinstance(first, (tuple, list)):
        if len({len(item) for item in items}) > 1:
            raise ValueError(
                f"DataLoader: the items of a batch have different numbers of fields, "
                f"{sorted({len(item) for item in items})}; give every item the same fields"
            )
        return [default_collate(list(field)) for field in zip(*items)]
    if isinstance(first, Tensor):
        if not all(isinstance(item, Tensor) for item in items):
            raise TypeError("DataLoader: a batch mixes Tensors with other values in one field")
        stacked = _stack([item.data for item in items])
        return Tensor(stacked, dtype=stacked.dtype)  # (int64 labels stay int64)
    if isinstance(first, (np.ndarray, np.generic, numbers.Number)):
        return _stack([np.asarray(item) for item in items])
    raise TypeError(
        f"DataLoader: cannot batch items of type {type(first).__name__}; give a collate_fn that makes "
        "a batch from a list of items"
    )


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"DataLoader: the items of a batch have different shapes {sorted(shapes)}; give items of one "
            "shape, or a collate_fn that pads them"
        )
    return np.stack(arrays)
