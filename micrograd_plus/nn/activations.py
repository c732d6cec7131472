"""Activation modules as PyTorch names them: ReLU, Tanh and Sigmoid (on a Tensor, a Value or
a list of Values, as micrograd's layers pass them), and LeakyReLU, GELU, SiLU, Mish, Softplus,
ELU, Softmax, LogSoftmax and Identity, whose forward is the function of the same name in
`functional`."""

from __future__ import annotations

from typing import Any

from ..arguments import real_number
from ..engine import Node
from ..tensors import Tensor
from . import functional as F
from .module import Module


def _elementwise(x: Any, method: str, layer: str) -> Any:
    """`x.method()` for a Tensor or a Value, or for each Value of a list; a clear error otherwise."""
    for item in x if isinstance(x, list) else [x]:
        if not isinstance(item, Node):
            raise TypeError(
                f"{layer} takes a Tensor, a Value or a list of Values, got {type(item).__name__}: {item!r:.60}"
            )
    return [getattr(v, method)() for v in x] if isinstance(x, list) else getattr(x, method)()


class _InplaceActivation(Module):
    """(Internal) the shared part of ReLU, SiLU and Mish: the checked `inplace` flag and its repr."""

    def __init__(self, inplace: bool = False):
        self.inplace = F.check_inplace(inplace, type(self).__name__)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""  # PyTorch shows the flag when set


class ReLU(_InplaceActivation):
    """max(0, x) elementwise; works on a Tensor, a Value or a list of Values. `inplace` is
    PyTorch's flag, accepted and checked; the result is computed out of place either way (see
    `functional.check_inplace`): the input is left as it was, values and gradients are PyTorch's."""

    def forward(self, x: Any) -> Any:
        return _elementwise(x, "relu", "ReLU")


class Tanh(Module):
    """tanh(x) elementwise; works on a Tensor, a Value or a list of Values."""

    def forward(self, x: Any) -> Any:
        return _elementwise(x, "tanh", "Tanh")


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise; works on a Tensor, a Value or a list of Values."""

    def forward(self, x: Any) -> Any:
        return _elementwise(x, "sigmoid", "Sigmoid")


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x (the slope at 0 is negative_slope, as in PyTorch).
    `inplace` as for ReLU: accepted and checked, the result computed out of place."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        self.negative_slope = real_number(negative_slope, "LeakyReLU: negative_slope")
        self.inplace = F.check_inplace(inplace, "LeakyReLU")

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{', inplace=True' if self.inplace else ''}"


class GELU(Module):
    """x * Phi(x), Phi the standard normal distribution function, in its exact erf form (or
    PyTorch's tanh approximation with approximate="tanh")."""

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r:.60}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim`: each slice along it becomes probabilities."""

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along `dim`, computed stably (what NLLLoss expects as its input)."""

    def __init__(self, dim: int):
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Identity(Module):
    """Returns its input unchanged: a placeholder where a layer is switched off. Like PyTorch's,
    it accepts and ignores any constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any):
        pass

    def forward(self, x: Any) -> Any:
        return x


class SiLU(_InplaceActivation):
    """x * sigmoid(x) (swish), as PyTorch's `SiLU`; `inplace` as for ReLU."""

    def forward(self, x: Any) -> Tensor:
        return F.silu(x)


class Mish(_InplaceActivation):
    """x * tanh(softplus(x)), as PyTorch's `Mish`; `inplace` as for ReLU."""

    def forward(self, x: Any) -> Tensor:
        return F.mish(x)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, a smooth relu, and x itself where beta x > threshold (see
    `functional.softplus`)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        real_number(beta, "Softplus: beta")
        real_number(threshold, "Softplus: threshold")
        self.beta, self.threshold = beta, threshold  # as given: the repr shows them so, as PyTorch's

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """x where x > 0, else alpha * (exp(x) - 1), as PyTorch's `ELU`; `inplace` as for ReLU."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        real_number(alpha, "ELU: alpha")
        self.alpha = alpha  # as given, for the repr
        self.inplace = F.check_inplace(inplace, "ELU")

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{', inplace=True' if self.inplace else ''}"
