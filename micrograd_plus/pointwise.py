"""`torch.sin(x)` and its kin as functions: PyTorch code calls the elementwise functions both as
methods (`x.sin()`) and as functions of the package (`torch.sin(x)`); here each function is the
method of its name, of a Tensor or of a Value (or of a numpy array, taken as a Tensor: a `.data`
is one here, a Tensor in PyTorch). `argmax` and `argmin` are a Tensor's methods
as functions too (`torch.argmax(out, dim=1)`)."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from .engine import Node
from .tensors import Tensor

T = TypeVar("T", bound=Node)  # a Tensor gives a Tensor, a Value a Value


def _node(input: Any, name: str) -> Any:
    if isinstance(input, np.ndarray):  # as PyTorch's `torch.sqrt(moving_var.data)`: our .data is an array
        return Tensor(input)
    if not isinstance(input, Node):
        raise TypeError(
            f"{name}() takes a Tensor (as torch.{name}) or a Value, got {type(input).__name__}: "
            f"{input!r:.60}; make one with tensor(...) or Value(...) first"
        )
    return input


def exp(input: T) -> T:
    """`torch.exp(x)`: `x.exp()`."""
    return _node(input, "exp").exp()


def log(input: T) -> T:
    """`torch.log(x)`: `x.log()`."""
    return _node(input, "log").log()


def sqrt(input: T) -> T:
    """`torch.sqrt(x)`: `x.sqrt()`."""
    return _node(input, "sqrt").sqrt()


def sin(input: T) -> T:
    """`torch.sin(x)`: `x.sin()`."""
    return _node(input, "sin").sin()


def cos(input: T) -> T:
    """`torch.cos(x)`: `x.cos()`."""
    return _node(input, "cos").cos()


def tanh(input: T) -> T:
    """`torch.tanh(x)`: `x.tanh()`."""
    return _node(input, "tanh").tanh()


def sigmoid(input: T) -> T:
    """`torch.sigmoid(x)`: `x.sigmoid()`."""
    return _node(input, "sigmoid").sigmoid()


def relu(input: T) -> T:
    """`torch.relu(x)`: `x.relu()`."""
    return _node(input, "relu").relu()


def argmax(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """`torch.argmax(x, dim=1)`: `x.argmax(dim=1)`, the indices as an int64 Tensor."""
    return _tensor(input, "argmax").argmax(dim, keepdim)


def argmin(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """`torch.argmin(x, dim=1)`: `x.argmin(dim=1)`, the indices as an int64 Tensor."""
    return _tensor(input, "argmin").argmin(dim, keepdim)


def _tensor(input: Any, name: str) -> Tensor:
    if not isinstance(input, Tensor):  # (a Value has no axes to search)
        raise TypeError(
            f"{name}() takes a Tensor (as torch.{name}), got {type(input).__name__}: {input!r:.60}; "
            "make one with tensor(...) first"
        )
    return input
