"""PyTorch's `torch.nn.init`: fill a weight in place with the numbers a recipe asks for, as
`nn.init.xavier_uniform_(layer.weight)` or `model.apply(init_weights)` in a PyTorch script.

Each function writes into the Tensor's own array without recording a graph (as PyTorch's run
under `no_grad`), keeps its dtype and returns the same Tensor. A float numpy array, such as the
`m.weight.data` of DCGAN's `weights_init`, is filled in place and returned as well. The random
ones draw from `generator=` (a numpy Generator, where PyTorch takes a `torch.Generator`), from
`seed=` (an int), or else from the package's stream, so `manual_seed` makes them repeatable, as in
PyTorch.

The fans are PyTorch's: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel) and
fan_out = out * prod(kernel); a Tensor with fewer than 2 dimensions has none.
"""

from __future__ import annotations

import math
import numbers
from statistics import NormalDist
from typing import Any, TypeVar

import numpy as np

from ..arguments import nonnegative, real_number
from ..factories import SeedLike, generator_from
from ..modes import no_grad, warn
from ..tensors import Tensor

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

# A weight to fill: a Tensor, or a float numpy array (`m.weight.data`, as in DCGAN's `weights_init`).
Fillable = TypeVar("Fillable", Tensor, np.ndarray)

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


def _calculate_fan_in_and_fan_out(tensor: Tensor | np.ndarray) -> tuple[int, int]:
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


def _calculate_correct_fan(tensor: Tensor | np.ndarray, mode: str) -> int:
    """fan_in or fan_out, as `mode` says (either case, as PyTorch)."""
    if not isinstance(mode, str) or mode.lower() not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode!r:.60} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode.lower() == "fan_in" else fan_out


# --- the fills -------------------------------------------------------------------------------------


def uniform_(
    tensor: Fillable,
    a: float = 0.0,
    b: float = 1.0,
    generator: np.random.Generator | None = None,
    *,
    seed: SeedLike = None,
) -> Fillable:
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
    tensor: Fillable,
    mean: float = 0.0,
    std: float = 1.0,
    generator: np.random.Generator | None = None,
    *,
    seed: SeedLike = None,
) -> Fillable:
    """Numbers drawn from the normal distribution N(mean, std**2)."""
    _check_tensor(tensor, "normal_")
    centre = real_number(mean, "normal_(): mean")
    spread = nonnegative(std, "normal_(): std")
    return _fill(tensor, generator_from(seed, generator).normal(centre, spread, size=tensor.shape))


def trunc_normal_(
    tensor: Fillable,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: np.random.Generator | None = None,
    *,
    seed: SeedLike = None,
) -> Fillable:
    """Numbers from N(mean, std**2) kept within [a, b] (a and b are values, not numbers of std),
    drawn by rejection as PyTorch 2.x draws them, so that a far tail is sampled as well as the
    middle: when the normal has more than 0.3 of its mass in [a, b], normal numbers, those outside
    drawn again; else uniform numbers on [a, b], each kept with probability density / the
    density's peak in [a, b]. Warns as PyTorch when the mean is more than 2 std outside [a, b]."""
    _check_tensor(tensor, "trunc_normal_")
    centre = _finite(mean, "trunc_normal_(): mean")
    spread = _finite(std, "trunc_normal_(): std")
    low, high = real_number(a, "trunc_normal_(): a"), real_number(b, "trunc_normal_(): b")
    if not (spread > 0.0 and low <= high and low < math.inf and high > -math.inf):
        raise ValueError(
            f"trunc_normal_(): needs std > 0 and a <= b (with a finite number between), got std={spread}, "
            f"a={low}, b={high}"
        )
    if centre < low - 2 * spread or centre > high + 2 * spread:
        warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect."
        )
    normal = NormalDist(centre, spread)
    draw = _normal_within if normal.cdf(high) - normal.cdf(low) > 0.3 else _uniform_by_density
    values = draw(generator_from(seed, generator), centre, spread, low, high, math.prod(tensor.shape))
    return _fill(tensor, values.reshape(tensor.shape))


def _normal_within(
    rng: np.random.Generator, mean: float, std: float, low: float, high: float, size: int
) -> np.ndarray:
    """`size` normal numbers, those outside [low, high] drawn again until none is."""
    values = rng.normal(mean, std, size=size)
    outside = np.flatnonzero((values < low) | (values > high))
    while outside.size:
        values[outside] = rng.normal(mean, std, size=outside.size)
        outside = outside[(values[outside] < low) | (values[outside] > high)]
    return values


def _uniform_by_density(
    rng: np.random.Generator, mean: float, std: float, low: float, high: float, size: int
) -> np.ndarray:
    """`size` uniform numbers on [low, high], each kept with probability density(x) / density(peak)
    and drawn again if not. An interval in one tail, z std from the mean, is first cut t std further
    on, where the mass beyond is below exp(-40) of its own (by Mills' ratio, the normal's tail
    beyond z + t is at most exp(-z t - t**2 / 2) of that beyond z): an infinite end becomes finite,
    and a far end wastes no proposals."""
    if low > mean:
        z = (low - mean) / std
        high = min(high, low + std * min(9.0, 40.0 / z))
    elif high < mean:
        z = (mean - high) / std
        low = max(low, high - std * min(9.0, 40.0 / z))
    peak = min(max(mean, low), high)

    def accepted(x: np.ndarray) -> np.ndarray:
        step = (x - peak) / std  # log density ratio, as a product: no cancellation in a far tail
        log_ratio = -step * (2 * (peak - mean) / std + step) / 2
        return rng.uniform(size=x.size) < np.exp(log_ratio)  # type: ignore[no-any-return]

    values = rng.uniform(low, high, size=size)
    pending = np.flatnonzero(~accepted(values))
    while pending.size:
        values[pending] = rng.uniform(low, high, size=pending.size)
        pending = pending[~accepted(values[pending])]
    return values


def constant_(tensor: Fillable, val: float) -> Fillable:
    """Every element `val`."""
    _check_tensor(tensor, "constant_")
    return _fill(tensor, real_number(val, "constant_(): val"))


def ones_(tensor: Fillable) -> Fillable:
    """Every element 1."""
    return constant_(tensor, 1.0)


def zeros_(tensor: Fillable) -> Fillable:
    """Every element 0."""
    return constant_(tensor, 0.0)


def eye_(tensor: Fillable) -> Fillable:
    """The identity matrix (ones on the diagonal) in a 2-dimensional Tensor, so that a Linear
    layer starts by passing its inputs through."""
    _check_tensor(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported by eye_(), got shape {tensor.shape}")
    rows, cols = tensor.shape
    return _fill(tensor, np.eye(rows, cols))


def xavier_uniform_(
    tensor: Fillable,
    gain: float = 1.0,
    generator: np.random.Generator | None = None,
    *,
    seed: SeedLike = None,
) -> Fillable:
    """Glorot's U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out))."""
    return uniform_(
        tensor,
        *_symmetric(math.sqrt(3.0) * _xavier_std(tensor, gain, "xavier_uniform_")),
        generator,
        seed=seed,
    )


def xavier_normal_(
    tensor: Fillable,
    gain: float = 1.0,
    generator: np.random.Generator | None = None,
    *,
    seed: SeedLike = None,
) -> Fillable:
    """Glorot's N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain, "xavier_normal_"), generator, seed=seed)


def kaiming_uniform_(
    tensor: Fillable,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
    *,
    seed: SeedLike = None,
) -> Fillable:
    """He's U(-bound, bound), bound = gain * sqrt(3 / fan) with the gain of `nonlinearity`
    (`a`: leaky_relu's negative slope) and fan_in or fan_out as `mode` says. PyTorch's Linear
    starts as `kaiming_uniform_(weight, a=math.sqrt(5))`, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    return uniform_(tensor, *_symmetric(math.sqrt(3.0) * std), generator, seed=seed)


def kaiming_normal_(
    tensor: Fillable,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
    *,
    seed: SeedLike = None,
) -> Fillable:
    """He's N(0, std**2), std = gain / sqrt(fan) (see `kaiming_uniform_` for gain and fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator, seed=seed)


def orthogonal_(
    tensor: Fillable,
    gain: float = 1.0,
    generator: np.random.Generator | None = None,
    *,
    seed: SeedLike = None,
) -> Fillable:
    """A (semi-)orthogonal matrix times `gain`, as PyTorch: the Q of the QR decomposition of a
    normal random matrix of shape (size(0), numel // size(0)), its columns' signs set by R's
    diagonal (so that Q is uniformly distributed); the trailing dimensions are flattened."""
    _check_tensor(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(
            f"Only tensors with 2 or more dimensions are supported by orthogonal_(), got shape {tensor.shape}"
        )
    scale = real_number(gain, "orthogonal_(): gain")
    if math.prod(tensor.shape) == 0:
        return tensor
    rows = tensor.shape[0]
    cols = math.prod(tensor.shape) // rows
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
    if isinstance(tensor, Tensor) or (
        isinstance(tensor, np.ndarray) and np.issubdtype(tensor.dtype, np.floating)
    ):
        return
    kind = f"a numpy array of {tensor.dtype}" if isinstance(tensor, np.ndarray) else type(tensor).__name__
    raise TypeError(
        f"{who}() fills a Tensor (a layer's weight, e.g. model.fc.weight) or a float numpy array (its "
        f".data), got {kind}: {tensor!r:.60}"
    )


def _fill(tensor: Fillable, values: Any) -> Fillable:
    """`values` written into the Tensor's own array (its dtype kept), outside any graph; or into
    the numpy array itself."""
    if isinstance(tensor, np.ndarray):
        tensor[...] = values
        return tensor
    with no_grad():
        tensor.copy_(values)
    return tensor


def _finite(value: Any, what: str) -> float:
    number = real_number(value, what)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {number}")
    return number


def _symmetric(bound: float) -> tuple[float, float]:
    return -bound, bound


def _xavier_std(tensor: Tensor | np.ndarray, gain: Any, who: str) -> float:
    _check_tensor(tensor, who)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return real_number(gain, f"{who}(): gain") * math.sqrt(2.0 / float(fan_in + fan_out))


def _kaiming_std(tensor: Tensor | np.ndarray, a: Any, mode: str, nonlinearity: str, who: str) -> float | None:
    """gain / sqrt(fan), or None (with PyTorch's warning) for a Tensor without elements."""
    _check_tensor(tensor, who)
    if math.prod(tensor.shape) == 0:
        warn("Initializing zero-element tensors is a no-op")
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
