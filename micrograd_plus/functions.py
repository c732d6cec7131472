"""PyTorch's functions of Tensors by their `torch.` names (`torch.matmul(a, b, out=y)`,
`torch.flatten(x, 1)`, `torch.max(outputs, 1)`): each is the Tensor method of its name, and
`out=` writes the result into a Tensor given, as PyTorch's does."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import modes
from .tensors import Operand, Tensor


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


class ValuesIndices(NamedTuple):
    """What `max(x, dim)` and `min(x, dim)` give, as PyTorch's `torch.return_types.max`:
    `values, indices = mg.max(x, 1)`, or `.values`, `.indices`."""

    values: Tensor  # the extremes, with their gradient
    indices: np.ndarray  # int64 indices, as `argmax` gives them (an index has no gradient)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """`torch.max`: the largest element (a 0-d Tensor) without `dim`; with `dim`, the pair
    (values, indices) along it, as in `_, predicted = torch.max(outputs, 1)`: the first index on
    ties, and the gradient goes to that element, as PyTorch's. (The method `x.max(dim)` gives
    the values alone, ties sharing the gradient, as `torch.amax`.)"""
    return _extreme(input, dim, keepdim, "max")


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """`torch.min`: the smallest element without `dim`; with `dim`, the pair (values, indices)."""
    return _extreme(input, dim, keepdim, "min")


def _extreme(input: Any, dim: Any, keepdim: bool, name: str) -> Any:
    x = _tensor(input, name)
    if isinstance(dim, (Tensor, np.ndarray)):
        raise TypeError(
            f"{name}(a, b) of two Tensors (PyTorch's elementwise form) is not here: write "
            f"mg.where(a {'>' if name == 'max' else '<'} b, a, b)"
        )
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}(): keepdim needs a dim, as in PyTorch")
        return getattr(x, name)()
    along = x.reshape(1) if x.ndim == 0 else x  # (a 0-d Tensor: one number along dim 0 or -1)
    picks = getattr(along, f"arg{name}")(dim, keepdim=True)
    values = along.gather(dim, picks)  # the gradient goes to the element picked
    if not keepdim or x.ndim == 0:
        values, picks = values.squeeze(dim), picks.squeeze(dim)
    return ValuesIndices(values, picks)
