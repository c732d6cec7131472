"""Mini-batches in one call: `batches(X, y, batch_size)` is one epoch of
`DataLoader(TensorDataset(X, y), batch_size, shuffle=True)`, for small examples."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..factories import SeedLike
from .loader import DataLoader, TensorDataset


def batches(
    X: Any,
    y: Any,
    batch_size: int,
    shuffle: bool = True,
    seed: SeedLike = None,
    drop_last: bool = False,
) -> Iterator[tuple[Any, Any]]:
    """Yield (X_batch, y_batch) pairs covering the rows of X and y once (one epoch).

    With `shuffle=True` the order is a permutation drawn from `seed` (an int, or a numpy
    Generator: pass the same Generator every epoch to get a new order each time); numpy's global
    random state is never used. Batches are arrays for array inputs and Tensors (without a graph)
    for Tensor inputs; the last batch is smaller unless `drop_last=True`. A DataLoader over a
    TensorDataset does the same, one epoch per `for` loop.
    """
    loader = DataLoader(TensorDataset(X, y), batch_size, shuffle, drop_last=drop_last, seed=seed)
    yield from ((xb, yb) for xb, yb in loader)  # (a loader's batches are lists, as torch's)
