"""PyTorch's `torch.nn.init`: fill a weight in place with the numbers a recipe asks for, as
`nn.init.xavier_uniform_(layer.weight)` or `model.apply(init_weights)` in a PyTorch script.

Each function writes into the Tensor's own array without recording a graph (as PyTorch's run
under `no_grad`), keeps its dtype and returns the same Tensor. The random ones draw from
`generator=` (a numpy Generator, where PyTorch takes a `torch.Generator`), from `seed=` (an int),
or else from the package's stream, so `manual_seed` makes them repeatable, as in PyTorch.

The fans are PyTorch's: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel); a Tensor with fewer than 2 dimensions has none.
"""

from __future__ import annotations

import math
import numbers
import warnings
from statistics import NormalDist
from typing import Any

import numpy as np

from ..factories import generator_from
from ..modes import no_grad
from ..tensors import Tensor, real_number

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for an activation, which keeps the variance of the signal
    steady through the layers: 1 for linear layers and sigmoid, 5/3 for tanh, sqrt(2) for relu,
    sqrt(2 / (1 + slope**2)) for leaky_relu (slope `param`, 0.01 unless given), 3/4 for selu."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, numbers.Real):
            raise ValueError(f"negative_slope {param!r:.60} not a valid number")
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"Unsupported nonlinearity {nonlinearity!r:.60}; one of {', '.join(_LINEAR)}, sigmoid, tanh, "
        "relu, leaky_relu, selu"
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight, by PyTorch's private name (ported layers call it in their
    `reset_parameters`): size(1) and size(0), each times the product of the kernel's sizes."""
    _check_tensor(tensor, "_calculate_fan_in_and_fan_out")
    if tensor.ndim < 2:
        raise ValueError(
            f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (this one has "
            f"shape {tensor.shape}); a bias is usually set with zeros_, constant_ or uniform_"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    """fan_in or fan_out, as `mode` says (either case, as PyTorch)."""
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode!r:.60} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


# --- the fills -------------------------------------------------------------------------------------


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None, *, seed: Any = None
) -> Tensor:
    """Numbers drawn uniformly from [a, b)."""
    _check_tensor(tensor, "uniform_")
    low, high = real_number(a, "uniform_(): a"), real_number(b, "uniform_(): b")
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(
            f"uniform_(): a and b must be finite with a <= b (the numbers are drawn from [a, b)), got "
            f"a={low}, b={high}"
        )
    return _fill(tensor, generator_from(seed, generator).uniform(low, high, size=tensor.shape))


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None, *, seed: Any = None
) -> Tensor:
    """Numbers drawn from the normal distribution N(mean, std**2)."""
    _check_tensor(tensor, "normal_")
    centre = real_number(mean, "normal_(): mean")
    spread = _nonnegative(std, "normal_(): std")
    return _fill(tensor, generator_from(seed, generator).normal(centre, spread, size=tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Any = None,
    *,
    seed: Any = None,
) -> Tensor:
    """Numbers from N(mean, std**2) kept within [a, b] (a and b are values, not numbers of std),
    drawn as PyTorch does: a uniform number between the normal CDF at a and at b, through the
    inverse CDF. PyTorch warns that the distribution may be off when the mean is more than 2 std
    outside [a, b]; so does this."""
    _check_tensor(tensor, "trunc_normal_")
    centre = real_number(mean, "trunc_normal_(): mean")
    spread = _nonnegative(std, "trunc_normal_(): std")
    low, high = real_number(a, "trunc_normal_(): a"), real_number(b, "trunc_normal_(): b")
    if spread == 0.0 or not low <= high:
        raise ValueError(f"trunc_normal_(): needs std > 0 and a <= b, got std={spread}, a={low}, b={high}")
    if centre < low - 2 * spread or centre > high + 2 * spread:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    normal = NormalDist(centre, spread)
    tiny = np.nextafter(0.0, 1.0)  # inv_cdf takes (0, 1): the ends (a or b infinite) are clipped
    p = generator_from(seed, generator).uniform(normal.cdf(low), normal.cdf(high), size=tensor.shape)
    values = np.asarray(np.frompyfunc(normal.inv_cdf, 1, 1)(np.clip(p, tiny, 1.0 - 2**-53)), dtype=np.float64)
    return _fill(tensor, np.clip(values, low, high))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Every element `val`."""
    _check_tensor(tensor, "constant_")
    return _fill(tensor, real_number(val, "constant_(): val"))


def ones_(tensor: Tensor) -> Tensor:
    """Every element 1."""
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Every element 0."""
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (ones on the diagonal) in a 2-dimensional Tensor, so that a Linear
    layer starts by passing its inputs through."""
    _check_tensor(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported by eye_(), got shape {tensor.shape}")
    rows, cols = tensor.shape
    return _fill(tensor, np.eye(rows, cols))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None, *, seed: Any = None) -> Tensor:
    """Glorot's U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out))."""
    return uniform_(
        tensor,
        *_symmetric(math.sqrt(3.0) * _xavier_std(tensor, gain, "xavier_uniform_")),
        generator,
        seed=seed,
    )


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None, *, seed: Any = None) -> Tensor:
    """Glorot's N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain, "xavier_normal_"), generator, seed=seed)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
    *,
    seed: Any = None,
) -> Tensor:
    """He's U(-bound, bound), bound = gain * sqrt(3 / fan) with the gain of `nonlinearity`
    (`a`: leaky_relu's negative slope) and fan_in or fan_out as `mode` says. PyTorch's Linear
    starts as `kaiming_uniform_(weight, a=math.sqrt(5))`, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    return uniform_(tensor, *_symmetric(math.sqrt(3.0) * std), generator, seed=seed)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
    *,
    seed: Any = None,
) -> Tensor:
    """He's N(0, std**2), std = gain / sqrt(fan) (see `kaiming_uniform_` for gain and fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator, seed=seed)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None, *, seed: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix times `gain`, as PyTorch: the Q of the QR decomposition of a
    normal random matrix of shape (size(0), numel // size(0)), its columns' signs set by R's
    diagonal (so that Q is uniformly distributed); the trailing dimensions are flattened."""
    _check_tensor(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(
            f"Only tensors with 2 or more dimensions are supported by orthogonal_(), got shape {tensor.shape}"
        )
    scale = real_number(gain, "orthogonal_(): gain")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = generator_from(seed, generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, scale * q.reshape(tensor.shape))


# --- helpers ---------------------------------------------------------------------------------------


def _check_tensor(tensor: Any, who: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"{who}() fills a Tensor (a layer's weight, e.g. model.fc.weight), got "
            f"{type(tensor).__name__}: {tensor!r:.60}"
        )


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """`values` written into the Tensor's own array (its dtype kept), outside any graph."""
    with no_grad():
        tensor.copy_(values)
    return tensor


def _nonnegative(value: Any, what: str) -> float:
    number = real_number(value, what)
    if not number >= 0.0:
        raise ValueError(f"{what} must be >= 0, got {number}")
    return number


def _symmetric(bound: float) -> tuple[float, float]:
    return -bound, bound


def _xavier_std(tensor: Tensor, gain: Any, who: str) -> float:
    _check_tensor(tensor, who)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return real_number(gain, f"{who}(): gain") * math.sqrt(2.0 / float(fan_in + fan_out))


def _kaiming_std(tensor: Tensor, a: Any, mode: str, nonlinearity: str, who: str) -> float | None:
    """gain / sqrt(fan), or None (with PyTorch's warning) for a Tensor without elements."""
    _check_tensor(tensor, who)
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
