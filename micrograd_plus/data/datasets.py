"""Small data sets for the demo, the examples and the tests: generated ones and three shipped files.

Every generator draws from its own `numpy.random.Generator`, made from `seed` (an int, a
Generator you pass to share one stream, or a `random.Random` to draw a seed from), as the layers'
`seed` is, so results are reproducible and never depend on, or disturb, numpy's global random
state. The geometry of `make_moons` and `make_circles` is the
one scikit-learn users know, without needing scikit-learn.

The shipped files (`iris.csv`, `diabetes.csv.gz`, `digits.csv.gz`) live in the package's
`data/` folder (sources in its README.md) and are read with `importlib.resources`, so they work
from a wheel, a zip or a source tree alike.
"""

from __future__ import annotations

import gzip
import io
import math
import numbers
from functools import cache
from importlib import resources

import numpy as np

from ..factories import SeedLike, make_generator

__all__ = [
    "load_diabetes",
    "load_digits",
    "load_iris",
    "make_circles",
    "make_linear",
    "make_moons",
    "make_sine",
    "make_spiral",
]


# ----------------------------------------------------------------------------- argument checks


def _count(name: str, value: object, minimum: int = 1) -> int:
    """A size argument as an int, with an error naming the argument when it is not one."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _real(name: str, value: object, *, minimum: float | None = None) -> float:
    """A finite real argument (noise, slope, ...), with an error naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    try:
        result = float(value)
    except OverflowError:  # an int beyond the float range
        result = math.inf
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r:.40}")
    if minimum is not None and result < minimum:
        raise ValueError(f"{name} must be >= {minimum:g}, got {value!r}")
    return result


def _noise(value: object) -> float:
    return _real("noise", value, minimum=0.0)


# ----------------------------------------------------------------------------- generated data


def make_moons(
    n_samples: int = 100, noise: float = 0.1, seed: SeedLike = 0, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, the classic non-linear toy problem (micrograd's demo).

    Class 0 lies on the upper unit half circle centred at (0, 0); class 1 on the lower one
    centred at (1, 0.5), as in scikit-learn. Gaussian noise of standard deviation `noise` is
    added to every coordinate. Returns X (n_samples, 2) float64 and y (n_samples,) int64 in {0, 1};
    for micrograd's max-margin loss use `y * 2 - 1`.
    """
    n = _count("n_samples", n_samples)
    sigma = _noise(noise)
    rng = make_generator(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    outer = np.column_stack([np.cos(t_outer), np.sin(t_outer)])
    inner = np.column_stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)])
    X = np.vstack([outer, inner])
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    return _finish(X, y, sigma, rng, shuffle)


def make_circles(
    n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: SeedLike = 0, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A unit circle (class 0) around a smaller one of radius `factor` (class 1), as scikit-learn.

    Points are evenly spaced in angle before Gaussian noise of standard deviation `noise` is added.
    Returns X (n_samples, 2) float64 and y (n_samples,) int64 in {0, 1}.
    """
    n = _count("n_samples", n_samples)
    sigma = _noise(noise)
    radius = _real("factor", factor, minimum=0.0)
    if radius >= 1.0:
        raise ValueError(f"factor must be in [0, 1) (the inner circle's radius), got {factor!r}")
    rng = make_generator(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    t_outer = np.linspace(0.0, 2.0 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2.0 * np.pi, n_inner, endpoint=False)
    outer = np.column_stack([np.cos(t_outer), np.sin(t_outer)])
    inner = radius * np.column_stack([np.cos(t_inner), np.sin(t_inner)])
    X = np.vstack([outer, inner])
    y = np.concatenate([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    return _finish(X, y, sigma, rng, shuffle)


def _finish(
    X: np.ndarray, y: np.ndarray, sigma: float, rng: np.random.Generator, shuffle: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle (so classes are not in blocks), then add noise: the order scikit-learn uses."""
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    if sigma > 0.0:
        X = X + rng.normal(0.0, sigma, size=X.shape)
    return np.ascontiguousarray(X, dtype=np.float64), y


def make_spiral(
    n_points_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: SeedLike = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the CS231n example no linear model can separate).

    Arm k runs from the origin to radius 1 while its angle turns from 4k to 4(k + 1) radians,
    with Gaussian noise of standard deviation `noise` on the angle. Points are ordered by class.
    Returns X (n_points_per_class * n_classes, 2) float64 and y int64 in 0 .. n_classes - 1.
    """
    n = _count("n_points_per_class", n_points_per_class)
    k = _count("n_classes", n_classes)
    sigma = _noise(noise)
    rng = make_generator(seed)
    radius = np.tile(np.linspace(0.0, 1.0, n), k)
    angle = np.concatenate([np.linspace(4.0 * c, 4.0 * (c + 1), n) for c in range(k)])
    angle = angle + rng.normal(0.0, sigma, size=angle.shape) if sigma > 0.0 else angle
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    y = np.repeat(np.arange(k, dtype=np.int64), n)
    return X, y


def make_sine(
    n_samples: int = 100,
    noise: float = 0.1,
    low: float = 0.0,
    high: float = 10.0,
    power: int = 1,
    seed: SeedLike = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [low, high), y = sin(x) ** power + N(0, noise²): a curve a line cannot fit.

    `power=3` gives the classic non-linear regression tutorial's target sin(x)³. Returns x and y,
    both (n_samples,) float64, in drawing order (not sorted).
    """
    n = _count("n_samples", n_samples)
    sigma = _noise(noise)
    lo, hi = _interval(low, high)
    exponent = _count("power", power)
    rng = make_generator(seed)
    x = rng.uniform(lo, hi, size=n)
    y = np.sin(x) ** exponent + (rng.normal(0.0, sigma, size=n) if sigma > 0.0 else 0.0)
    return x, np.asarray(y, dtype=np.float64)


def make_linear(
    n_samples: int = 100,
    slope: float = 3.0,
    intercept: float = 8.0,
    noise: float = 2.0,
    low: float = 0.0,
    high: float = 10.0,
    seed: SeedLike = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [low, high), y = slope·x + intercept + N(0, noise²): linear regression's data.

    The defaults are the classic tutorial's (x = 10·U(0, 1), y = 3x + 8 + N(0, 2)). Returns x and y,
    both (n_samples,) float64.
    """
    n = _count("n_samples", n_samples)
    a = _real("slope", slope)
    b = _real("intercept", intercept)
    sigma = _noise(noise)
    lo, hi = _interval(low, high)
    rng = make_generator(seed)
    x = rng.uniform(lo, hi, size=n)
    y = a * x + b + (rng.normal(0.0, sigma, size=n) if sigma > 0.0 else 0.0)
    return x, np.asarray(y, dtype=np.float64)


def _interval(low: object, high: object) -> tuple[float, float]:
    lo = _real("low", low)
    hi = _real("high", high)
    if not lo < hi:
        raise ValueError(f"low must be < high, got low={low!r}, high={high!r}")
    return lo, hi


# ----------------------------------------------------------------------------- shipped files


def _read_data_file(name: str) -> str:
    """The text of a file in the package's data folder (gunzipped if it ends in .gz)."""
    resource = resources.files("micrograd_plus").joinpath("data").joinpath(name)
    try:
        raw = resource.read_bytes()
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"micrograd_plus data file {name!r} is missing from the installed package; "
            "reinstall micrograd_plus (the file ships as package data)"
        ) from error
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("ascii")


def _table(text: str, name: str, rows: int, columns: int) -> np.ndarray:
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    if table.shape != (rows, columns):
        raise ValueError(f"data file {name!r} has shape {table.shape}, expected {(rows, columns)}")
    return table


@cache
def _iris() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    header, _, body = _read_data_file("iris.csv").partition("\n")
    count, features, *names = header.strip().split(",")
    table = _table(body, "iris.csv", int(count), int(features) + 1)
    return table[:, :-1], table[:, -1].astype(np.int64), tuple(names)


@cache
def _labelled(name: str, rows: int, features: int) -> tuple[np.ndarray, np.ndarray]:
    table = _table(_read_data_file(name), name, rows, features + 1)
    return table[:, :-1], table[:, -1].astype(np.int64)


def load_iris() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Fisher's iris: X (150, 4) float64 in cm (sepal length, sepal width, petal length, petal width),
    y (150,) int64 in 0..2, and the class names ('setosa', 'versicolor', 'virginica').

    Rows come in class order, 50 per class. Each call returns fresh copies.
    """
    X, y, names = _iris()
    return X.copy(), y.copy(), names


def load_diabetes() -> tuple[np.ndarray, np.ndarray]:
    """Pima Indians diabetes, the classic 8 → 6 → 4 → 1 tutorial data: X (759, 8) float64, each
    feature already scaled to [-1, 1], and y (759,) int64 in {0, 1}. Each call returns fresh copies.
    """
    X, y = _labelled("diabetes.csv.gz", 759, 8)
    return X.copy(), y.copy()


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """UCI optical handwritten digits: X (1797, 64) float64, 8×8 images flattened row by row with
    pixel values 0..16 (divide by 16 for [0, 1]; `X.reshape(-1, 1, 8, 8)` for a CNN), and
    y (1797,) int64, the digit 0..9. Each call returns fresh copies.
    """
    X, y = _labelled("digits.csv.gz", 1797, 64)
    return X.copy(), y.copy()
