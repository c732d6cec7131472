"""Mini-batches: `batches(X, y, batch_size)` cuts a data set into shuffled slices, the part of
PyTorch's DataLoader that small examples need."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..factories import SeedLike, make_generator
from ..tensors import Tensor, positive_int


def _rows(x: Any, name: str) -> tuple[np.ndarray, bool]:
    if isinstance(x, Tensor):
        return x.data, True
    array = np.asarray(x)
    if array.ndim == 0:
        raise ValueError(f"{name} must have one row per sample, got a scalar {x!r:.60}")
    return array, False


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
    for Tensor inputs; the last batch is smaller unless `drop_last=True`.
    """
    xs, x_is_tensor = _rows(X, "X")
    ys, y_is_tensor = _rows(y, "y")
    if xs.shape[0] != ys.shape[0]:
        raise ValueError(f"X has {xs.shape[0]} rows but y has {ys.shape[0]}: give one target per sample")
    batch_size = positive_int(batch_size, "batch_size")
    n = xs.shape[0]
    order = make_generator(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        index = order[start : start + batch_size]
        xb, yb = xs[index], ys[index]
        yield (Tensor(xb) if x_is_tensor else xb), (Tensor(yb) if y_is_tensor else yb)
