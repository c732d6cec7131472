"""Sorting along a dim, as PyTorch's: `sort`, `argsort` and `topk`.

The values are the input picked at the sorted positions (`gather`), so each value's gradient
goes to the element it came from, a tie's to the index given; the indices are int64 Tensors,
as `argmax` gives them (an index has no gradient).
The order is always stable (ties keep their order), which is one of the orders PyTorch's
`stable=False` may give, and the one it gives with `stable=True`; nan counts as the largest
number, as in PyTorch.

Importing this module attaches the methods to Tensor (functions.py imports it, so the package's
`__init__` does), as tensor_methods.py does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .arguments import true_or_false, whole_number
from .tensor_methods import attach
from .tensors import Tensor, ValuesIndices, _dim, _index_result


def _order(data: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """The stable sorting permutation along `dim`, nan the largest: last going up, first going
    down, as PyTorch's."""
    if not descending:
        return np.argsort(data, axis=dim, kind="stable")  # (numpy's sort puts nan last too)
    order = np.argsort(-data, axis=dim, kind="stable")  # largest first, ties in order, nan last
    is_number = ~np.isnan(np.take_along_axis(data, order, dim))
    return np.take_along_axis(order, np.argsort(is_number, axis=dim, kind="stable"), dim)  # nan first


def _sorted(self: Tensor, dim: Any, descending: bool, count: Any, who: str) -> ValuesIndices:
    """The first `count` (None: all) of the sorted values along `dim` and their indices."""
    # (a 0-d Tensor sorts as one number, along dim 0 or -1)
    flat = self.reshape(1) if self.ndim == 0 else self
    d = _dim(dim, flat.ndim, who, self.shape)
    order = _order(flat.data, d, descending)
    if count is not None:
        length = flat.shape[d]
        count = whole_number(count, f"{who}(): k")
        if not 0 <= count <= length:
            raise ValueError(
                f"{who}(): k={count} is out of range for dim {dim} of length {length} (shape {self.shape}): "
                f"k must be from 0 to {length}"
            )
        if self.ndim:  # (a 0-d Tensor gives its number for k=0 too, as PyTorch's)
            order = order[(slice(None),) * d + (slice(0, count),)]
    values = flat.gather(d, order)  # the gradient goes to the element each value came from
    if self.ndim == 0:
        return ValuesIndices(values.reshape(()), _index_result(order.reshape(())))
    return ValuesIndices(values, _index_result(order))


def sort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool | None = False) -> ValuesIndices:
    """The values sorted along `dim` (going up, or down with `descending`) and the indices they
    came from, as `torch.sort`: `values, indices = x.sort()`. Ties keep their order (stable,
    with or without `stable`), nan counts as the largest; the gradient of a value goes to the
    element at its index."""
    if stable is not None:  # (always stable: a stable order is an order; None as torch's)
        true_or_false(stable, "sort(): stable")
    return _sorted(self, dim, true_or_false(descending, "sort(): descending"), None, "sort")


def argsort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort the Tensor along `dim`, as `torch.argsort`: `sort(...).indices`, an
    int64 Tensor."""
    true_or_false(stable, "argsort(): stable")
    return _sorted(self, dim, true_or_false(descending, "argsort(): descending"), None, "argsort").indices


def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:  # noqa: A002
    """The `k` largest values along `dim` (the smallest with `largest=False`) and their indices,
    as `torch.topk`: `values, indices = x.topk(3)`. They come sorted, largest first (smallest
    first for the smallest), even with `sorted=False` (where PyTorch's order is unspecified);
    ties go to the lower index; nan counts as the largest. The gradient of a value goes to the
    element at its index."""
    true_or_false(sorted, "topk(): sorted")
    return _sorted(self, dim, true_or_false(largest, "topk(): largest"), k, "topk")


# The methods by their names on Tensor.
METHODS: dict[str, Callable[..., Any]] = {"sort": sort, "argsort": argsort, "topk": topk}
attach(METHODS)  # importing this module attaches them to Tensor
