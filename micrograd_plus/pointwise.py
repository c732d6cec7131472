"""`torch.sin(x)` and its kin as functions: PyTorch code calls the elementwise functions both as
methods (`x.sin()`) and as functions of the package (`torch.sin(x)`); here each function is the
method of its name, of a Tensor or of a Value (or of numpy data, an array or a numpy scalar,
taken as a Tensor: a `.data` is an array here, a Tensor in PyTorch). `argmax` and `argmin` are
a Tensor's methods as functions too (`torch.argmax(out, dim=1)`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, Union, cast, overload

import numpy as np

from .engine import Node
from .tensors import Tensor

T = TypeVar("T", bound=Node)  # a Tensor gives a Tensor, a Value a Value
NumpyData = Union["np.ndarray[Any, Any]", np.number, np.bool_]  # a `.data`, or a 0-d one's arithmetic


class Pointwise(Protocol):
    """The type of `exp`, `sqrt`, ...: a Tensor or a Value gives its own kind, numpy data a Tensor."""

    @overload
    def __call__(self, input: NumpyData) -> Tensor: ...
    @overload
    def __call__(self, input: T) -> T: ...


def _pointwise(function: Callable[[T], T]) -> Pointwise:
    """`function` itself, typed for type checkers as taking numpy data too (`_node` takes it as a
    Tensor: PyTorch's `torch.sqrt(moving_var.data + eps)`, where our `.data` is an array and
    `np.array(4.0) + eps` a numpy scalar, taken as 0-d)."""
    return cast(Pointwise, function)


def _node(input: Any, name: str) -> Any:
    if isinstance(input, (np.ndarray, np.number, np.bool_)):
        return Tensor(input)
    if not isinstance(input, Node):
        raise TypeError(
            f"{name}() takes a Tensor (as torch.{name}) or a Value, got {type(input).__name__}: "
            f"{input!r:.60}; make one with tensor(...) or Value(...) first"
        )
    return input


@_pointwise
def exp(input: T) -> T:
    """`torch.exp(x)`: `x.exp()`."""
    return _node(input, "exp").exp()


@_pointwise
def log(input: T) -> T:
    """`torch.log(x)`: `x.log()`."""
    return _node(input, "log").log()


@_pointwise
def sqrt(input: T) -> T:
    """`torch.sqrt(x)`: `x.sqrt()`."""
    return _node(input, "sqrt").sqrt()


@_pointwise
def sin(input: T) -> T:
    """`torch.sin(x)`: `x.sin()`."""
    return _node(input, "sin").sin()


@_pointwise
def cos(input: T) -> T:
    """`torch.cos(x)`: `x.cos()`."""
    return _node(input, "cos").cos()


@_pointwise
def tanh(input: T) -> T:
    """`torch.tanh(x)`: `x.tanh()`."""
    return _node(input, "tanh").tanh()


@_pointwise
def sigmoid(input: T) -> T:
    """`torch.sigmoid(x)`: `x.sigmoid()`."""
    return _node(input, "sigmoid").sigmoid()


@_pointwise
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
