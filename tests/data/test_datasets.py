"""Data sets: shapes, dtypes, seeds, geometry, the shipped files and errors for bad arguments."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from importlib import resources

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus
from micrograd_plus.data import datasets
from micrograd_plus.data.datasets import (
    load_diabetes,
    load_digits,
    load_iris,
    make_circles,
    make_linear,
    make_moons,
    make_sine,
    make_spiral,
)

sizes = st.integers(min_value=1, max_value=400)
noises = st.floats(min_value=0.0, max_value=2.0, allow_nan=False)
seeds = st.integers(min_value=0, max_value=2**32 - 1)

GENERATORS = {
    "make_moons": lambda seed: make_moons(50, noise=0.1, seed=seed),
    "make_circles": lambda seed: make_circles(50, noise=0.1, seed=seed),
    "make_spiral": lambda seed: make_spiral(20, 3, seed=seed),
    "make_sine": lambda seed: make_sine(50, seed=seed),
    "make_linear": lambda seed: make_linear(50, seed=seed),
}


# ----------------------------------------------------------------------------- shapes and dtypes


@given(n=sizes, noise=noises, seed=seeds)
def test_moons_shapes_dtypes_and_balance(n: int, noise: float, seed: int) -> None:
    X, y = make_moons(n, noise=noise, seed=seed)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert set(np.unique(y)) <= {0, 1}
    assert np.count_nonzero(y == 0) == n // 2
    assert np.count_nonzero(y == 1) == n - n // 2
    assert np.all(np.isfinite(X))


@given(n=sizes, noise=noises, factor=st.floats(0.0, 0.99), seed=seeds)
def test_circles_shapes_dtypes_and_balance(n: int, noise: float, factor: float, seed: int) -> None:
    X, y = make_circles(n, noise=noise, factor=factor, seed=seed)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.count_nonzero(y == 0) == n // 2
    assert np.count_nonzero(y == 1) == n - n // 2


@given(per_class=st.integers(1, 100), classes=st.integers(1, 6), noise=noises, seed=seeds)
def test_spiral_shapes_dtypes_and_balance(per_class: int, classes: int, noise: float, seed: int) -> None:
    X, y = make_spiral(per_class, classes, noise=noise, seed=seed)
    assert X.shape == (per_class * classes, 2) and X.dtype == np.float64
    assert y.dtype == np.int64
    assert np.bincount(y).tolist() == [per_class] * classes
    # the radius grows from 0 to 1 along each arm whatever the angle noise
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1.0 + 1e-12)


@given(n=sizes, noise=noises, low=st.floats(-50, 50), width=st.floats(0.1, 50), seed=seeds)
def test_sine_and_linear_shapes_and_ranges(n: int, noise: float, low: float, width: float, seed: int) -> None:
    high = low + width
    for make in (make_sine, make_linear):
        x, y = make(n, noise=noise, low=low, high=high, seed=seed)
        assert x.shape == (n,) and y.shape == (n,)
        assert x.dtype == np.float64 and y.dtype == np.float64
        assert np.all((low <= x) & (x <= high))
        assert np.all(np.isfinite(y))


# ----------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_seed_same_data_and_different_seeds_differ(name: str) -> None:
    make = GENERATORS[name]
    first, again, other = make(7), make(7), make(8)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_generator_is_drawn_from_and_global_state_is_untouched(name: str) -> None:
    make = GENERATORS[name]
    np.random.seed(1234)
    global_state = np.random.get_state()[1].copy()
    rng = np.random.default_rng(5)
    first = make(rng)
    second = make(rng)  # the same generator continues its stream
    assert not np.array_equal(first[0], second[0])
    np.testing.assert_array_equal(make(np.random.default_rng(5))[0], first[0])
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)
    np.random.seed(999)  # reseeding numpy's global state changes nothing
    np.testing.assert_array_equal(make(3)[0], make(3)[0])


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_random_random_seeds_the_data_as_it_seeds_a_layer(name: str) -> None:
    """A `random.Random` (micrograd's MLP takes one) gives the data a layer's seed=Random would:
    one 64-bit draw from its stream seeds the Generator, and the Random moves on."""
    make = GENERATORS[name]
    drawn = make(random.Random(11))
    expected = make(np.random.default_rng(random.Random(11).getrandbits(64)))
    for a, b in zip(drawn, expected):
        np.testing.assert_array_equal(a, b)
    stream = random.Random(11)
    assert not np.array_equal(make(stream)[0], make(stream)[0])


def test_seed_none_draws_fresh_entropy() -> None:
    a, _ = make_moons(200, seed=None)
    b, _ = make_moons(200, seed=None)
    assert not np.array_equal(a, b)


# ----------------------------------------------------------------------------- geometry


@given(n=st.integers(2, 300), seed=seeds)
def test_noiseless_moons_lie_on_the_two_unit_half_circles(n: int, seed: int) -> None:
    X, y = make_moons(n, noise=0.0, seed=seed)
    upper, lower = X[y == 0], X[y == 1]
    # class 0: upper half of the unit circle centred at (0, 0)
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    assert np.all(upper[:, 1] >= -1e-12)
    # class 1: lower half of the unit circle centred at (1, 0.5)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_noiseless_moons_match_scikit_learns_layout() -> None:
    X, y = make_moons(6, noise=0.0, shuffle=False)
    t = np.linspace(0, np.pi, 3)
    expected = np.vstack(
        [np.column_stack([np.cos(t), np.sin(t)]), np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)])]
    )
    np.testing.assert_allclose(X, expected, atol=1e-15)
    assert y.tolist() == [0, 0, 0, 1, 1, 1]


def test_shuffle_keeps_the_same_points() -> None:
    ordered, y_ordered = make_moons(101, noise=0.0, shuffle=False)
    shuffled, y_shuffled = make_moons(101, noise=0.0, seed=4)
    key = np.lexsort(shuffled.T)
    key_ordered = np.lexsort(ordered.T)
    np.testing.assert_allclose(shuffled[key], ordered[key_ordered], atol=1e-15)
    assert y_shuffled[key].tolist() == y_ordered[key_ordered].tolist()
    assert y_shuffled.tolist() != y_ordered.tolist()


def test_moons_noise_has_the_requested_standard_deviation() -> None:
    clean, _ = make_moons(20000, noise=0.0, shuffle=False)
    noisy, _ = make_moons(20000, noise=0.3, shuffle=False, seed=2)
    deviation = noisy - clean
    assert abs(deviation.std() - 0.3) < 0.01
    assert abs(deviation.mean()) < 0.01


@given(n=st.integers(2, 300), factor=st.floats(0.0, 0.99), seed=seeds)
def test_noiseless_circles_have_radius_one_and_factor(n: int, factor: float, seed: int) -> None:
    X, y = make_circles(n, noise=0.0, factor=factor, seed=seed)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radius[y == 1], factor, atol=1e-12)


def test_noiseless_spiral_follows_its_arms() -> None:
    X, y = make_spiral(50, 3, noise=0.0)
    for k in range(3):
        arm = X[y == k]
        r = np.linspace(0, 1, 50)
        t = np.linspace(4 * k, 4 * (k + 1), 50)
        np.testing.assert_allclose(arm, np.column_stack([r * np.sin(t), r * np.cos(t)]), atol=1e-15)


@given(n=sizes, power=st.integers(1, 4), seed=seeds)
def test_noiseless_sine_is_the_curve(n: int, power: int, seed: int) -> None:
    x, y = make_sine(n, noise=0.0, power=power, seed=seed)
    np.testing.assert_allclose(y, np.sin(x) ** power, atol=1e-15)


@given(
    n=sizes,
    slope=st.floats(-100, 100),
    intercept=st.floats(-100, 100),
    seed=seeds,
)
def test_noiseless_linear_is_the_line(n: int, slope: float, intercept: float, seed: int) -> None:
    x, y = make_linear(n, slope=slope, intercept=intercept, noise=0.0, seed=seed)
    np.testing.assert_allclose(y, slope * x + intercept, rtol=1e-12, atol=1e-12)


def test_linear_defaults_are_the_tutorials_data() -> None:
    x, y = make_linear(5000, seed=3)
    assert 0.0 <= x.min() and x.max() < 10.0
    slope, intercept = np.polyfit(x, y, 1)
    assert abs(slope - 3.0) < 0.05 and abs(intercept - 8.0) < 0.3
    residual = y - (3.0 * x + 8.0)
    assert abs(residual.std() - 2.0) < 0.1


# ----------------------------------------------------------------------------- shipped files


def test_data_files_ship_inside_the_package() -> None:
    folder = resources.files("micrograd_plus").joinpath("data")
    names = {entry.name for entry in folder.iterdir()}
    assert {"iris.csv", "diabetes.csv.gz", "digits.csv.gz", "README.md"} <= names
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    for source in ("Fisher", "Pima", "Alpaydin"):
        assert source in readme


def test_load_iris() -> None:
    X, y, names = load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float64
    assert y.shape == (150,) and y.dtype == np.int64
    assert names == ("setosa", "versicolor", "virginica")
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert y.tolist() == sorted(y.tolist())
    np.testing.assert_array_equal(X[0], [5.1, 3.5, 1.4, 0.2])
    # the published ranges: sepal length, sepal width, petal length, petal width (cm)
    np.testing.assert_array_equal(X.min(axis=0), [4.3, 2.0, 1.0, 0.1])
    np.testing.assert_array_equal(X.max(axis=0), [7.9, 4.4, 6.9, 2.5])
    # setosa is the one class a single threshold on petal length separates
    assert X[y == 0, 2].max() < X[y != 0, 2].min()


def test_load_diabetes() -> None:
    X, y = load_diabetes()
    assert X.shape == (759, 8) and X.dtype == np.float64
    assert y.shape == (759,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert -1.0 <= X.min() and X.max() <= 1.0
    assert 0.6 < y.mean() < 0.7  # the tutorial's data: about two in three rows are positive


def test_load_digits() -> None:
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert X.min() == 0.0 and X.max() == 16.0
    np.testing.assert_array_equal(X, np.round(X))
    # the first image is a zero: its centre column is empty, its rim is not
    image = X[0].reshape(8, 8)
    assert y[0] == 0 and image[3:5, 3:5].sum() == 0 and image[1:7, 1:7].sum() > 0


@pytest.mark.parametrize("load", [load_iris, load_diabetes, load_digits])
def test_loaders_return_fresh_copies(load: Callable[[], tuple]) -> None:
    first = load()
    first[0][:] = -99.0
    first[1][:] = -1
    again = load()
    assert again[0].min() > -99.0 and again[1].min() >= 0


def test_public_names_are_top_level() -> None:
    for name in datasets.__all__:
        assert getattr(micrograd_plus, name) is getattr(datasets, name)


# ----------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda bad: make_moons(bad), "n_samples"),
        (lambda bad: make_circles(bad), "n_samples"),
        (lambda bad: make_spiral(bad, 3), "n_points_per_class"),
        (lambda bad: make_spiral(10, bad), "n_classes"),
        (lambda bad: make_sine(bad), "n_samples"),
        (lambda bad: make_linear(bad), "n_samples"),
    ],
)
@given(bad=st.integers(max_value=0))
def test_bad_sizes_name_the_argument_and_value(
    call: Callable[[int], object], argument: str, bad: int
) -> None:
    with pytest.raises(ValueError, match=rf"{argument} must be >= 1, got {bad}$"):
        call(bad)


@pytest.mark.parametrize("make", [make_moons, make_circles, make_sine, make_linear])
@given(bad=st.one_of(st.floats(max_value=-1e-300, allow_infinity=False), st.just(-1)))
def test_negative_noise_is_rejected(make: Callable[..., object], bad: float) -> None:
    with pytest.raises(ValueError, match=rf"noise must be >= 0, got {re.escape(repr(bad))}$"):
        make(10, noise=bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_noise_is_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match=rf"noise must be finite, got {re.escape(repr(bad))}$"):
        make_moons(10, noise=bad)
    with pytest.raises(ValueError, match="noise must be finite"):
        make_spiral(10, 2, noise=bad)


def test_wrong_types_are_type_errors_naming_the_argument() -> None:
    with pytest.raises(TypeError, match=r"n_samples must be an int, got 2\.5 \(float\)"):
        make_moons(2.5)
    with pytest.raises(TypeError, match=r"n_samples must be an int, got True \(bool\)"):
        make_moons(True)
    with pytest.raises(TypeError, match=r"noise must be a real number, got '0.1' \(str\)"):
        make_moons(10, noise="0.1")
    with pytest.raises(
        TypeError, match=r"seed must be an int, a numpy Generator, a random.Random or None, got float: 1.5"
    ):
        make_moons(10, seed=1.5)
    with pytest.raises(TypeError, match=r"seed must be .*RandomState"):
        make_moons(10, seed=np.random.RandomState(0))


def test_other_bad_values_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"seed must be >= 0, got -1"):
        make_moons(10, seed=-1)
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\) .*got 1\.0"):
        make_circles(10, factor=1.0)
    with pytest.raises(ValueError, match=r"factor must be >= 0, got -0\.5"):
        make_circles(10, factor=-0.5)
    with pytest.raises(ValueError, match=r"low must be < high, got low=3\.0, high=3\.0"):
        make_sine(10, low=3.0, high=3.0)
    with pytest.raises(ValueError, match=r"power must be >= 1, got 0"):
        make_sine(10, power=0)
    with pytest.raises(ValueError, match=r"slope must be finite, got nan"):
        make_linear(10, slope=math.nan)
