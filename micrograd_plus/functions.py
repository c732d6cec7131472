"""PyTorch's functions of Tensors by their `torch.` names (`torch.matmul(a, b, out=y)`,
`torch.flatten(x, 1)`, `torch.max(outputs, 1)`): each is the Tensor method of its name, and
`out=` writes the result into a Tensor given, as PyTorch's does."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import modes
from .tensors import Operand, Tensor
from .tensors import ValuesIndices as ValuesIndices  # what max and min give along a dim (re-exported)


def _tensor(input: Any, name: str) -> Tensor:
    if isinstance(input, Tensor):
        return input
    if isinstance(input, np.ndarray):  # as PyTorch's `torch.max(outputs.data, 1)`: our .data is an array
        return Tensor(input)
    raise TypeError(
        f"{name}() takes a Tensor (as torch.{name}), got {type(input).__name__}: {input!r:.60}; "
        "make one with tensor(...) first"
    )


def _into(out: Any, result: Tensor, name: str) -> Tensor:
    """`result`, or (given `out`) its numbers written into `out`, which is returned."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): out= takes a Tensor, got {type(out).__name__}: {out!r:.60}")
    if modes.is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad (as in PyTorch); leave out= out, or call it "
            "inside `with no_grad():`"
        )
    if out.shape != result.shape:
        raise ValueError(
            f"{name}(): out= has shape {out.shape} but the result has shape {result.shape}; give an "
            "out of the result's shape (PyTorch resizes it, with a warning)"
        )
    return out.copy_(result)


def matmul(input: Tensor, other: Operand, *, out: Tensor | None = None) -> Tensor:
    """`input @ other`, as `torch.matmul` (written into `out` if given)."""
    return _into(out, _tensor(input, "matmul") @ other, "matmul")


def mul(input: Tensor, other: Operand, *, out: Tensor | None = None) -> Tensor:
    """`input * other`, as `torch.mul` (written into `out` if given)."""
    return _into(out, _tensor(input, "mul") * other, "mul")


def add(input: Tensor, other: Operand, *, out: Tensor | None = None) -> Tensor:
    """`input + other`, as `torch.add` (written into `out` if given)."""
    return _into(out, _tensor(input, "add") + other, "add")


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """`input.flatten(start_dim, end_dim)`, as `torch.flatten(x, 1)`."""
    return _tensor(input, "flatten").flatten(start_dim, end_dim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """`torch.max`: the method `input.max(dim, keepdim)`: the largest element without `dim`; with
    `dim`, the pair (values, indices) along it, as in `_, predicted = torch.max(outputs, 1)`; with
    a Tensor, the elementwise maximum."""
    return _tensor(input, "max").max(dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """`torch.min`: the method `input.min(dim, keepdim)` (see `max`)."""
    return _tensor(input, "min").min(dim, keepdim)
