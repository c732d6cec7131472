"""`torch.sin(x)` and its kin as functions: PyTorch code calls the elementwise functions both as
methods (`x.sin()`) and as functions of the package (`torch.sin(x)`); here each function is the
Tensor method of its name."""

from __future__ import annotations

from .tensors import Tensor


def _tensor(input: Tensor, name: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}() takes a Tensor (as torch.{name}), got {type(input).__name__}: {input!r:.60}; "
            "make one with tensor(...) first"
        )
    return input


def exp(input: Tensor) -> Tensor:
    """`torch.exp(x)`: `x.exp()`."""
    return _tensor(input, "exp").exp()


def log(input: Tensor) -> Tensor:
    """`torch.log(x)`: `x.log()`."""
    return _tensor(input, "log").log()


def sqrt(input: Tensor) -> Tensor:
    """`torch.sqrt(x)`: `x.sqrt()`."""
    return _tensor(input, "sqrt").sqrt()


def sin(input: Tensor) -> Tensor:
    """`torch.sin(x)`: `x.sin()`."""
    return _tensor(input, "sin").sin()


def cos(input: Tensor) -> Tensor:
    """`torch.cos(x)`: `x.cos()`."""
    return _tensor(input, "cos").cos()


def tanh(input: Tensor) -> Tensor:
    """`torch.tanh(x)`: `x.tanh()`."""
    return _tensor(input, "tanh").tanh()


def sigmoid(input: Tensor) -> Tensor:
    """`torch.sigmoid(x)`: `x.sigmoid()`."""
    return _tensor(input, "sigmoid").sigmoid()


def relu(input: Tensor) -> Tensor:
    """`torch.relu(x)`: `x.relu()`."""
    return _tensor(input, "relu").relu()
