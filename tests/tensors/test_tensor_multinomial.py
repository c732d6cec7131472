"""multinomial: draws in the proportions of the weights (with and without replacement), never a
weight of 0, the package's seeding, makemore's sampling loop, and errors that name the values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import Tensor

DRAWS = 40_000


def within_sampling_error(counts: np.ndarray, probabilities: np.ndarray) -> bool:
    """Each count within 5 standard deviations of its expected number (a binomial's)."""
    total = counts.sum()
    expected = total * probabilities
    return bool(np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected * (1 - probabilities)) + 1e-9))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_draws_with_replacement_come_in_the_proportions_of_the_weights(dtype: type) -> None:
    weights = np.array([3.0, 0.0, 1.0, 6.0, 0.5])  # not normalised: only the proportions count
    draws = mg.multinomial(Tensor(weights, dtype=dtype), DRAWS, replacement=True, seed=1)
    assert draws.shape == (DRAWS,) and draws.dtype == np.int64
    counts = np.bincount(draws, minlength=5)
    assert counts[1] == 0 and within_sampling_error(counts, weights / weights.sum())


def test_weights_near_the_largest_float_are_drawn_by_their_proportions_too() -> None:
    weights = Tensor([1e308, 0.0, 1e308, 5e307])
    for replacement in (True, False):
        counts = np.bincount(
            weights.multinomial(1 if not replacement else DRAWS, replacement, seed=4), minlength=4
        )
        assert counts[1] == 0
    counts = np.bincount(weights.multinomial(DRAWS, True, seed=4), minlength=4)
    assert within_sampling_error(counts, np.array([0.4, 0.0, 0.4, 0.2]))


def test_draws_without_replacement_are_distinct_and_in_the_order_of_successive_draws() -> None:
    """P(first = i, second = j) = p_i * p_j / (1 - p_i): each draw from what is left."""
    p = np.array([0.5, 0.3, 0.2, 0.0])
    rows = Tensor(np.tile(p, (DRAWS, 1)))
    draws = rows.multinomial(2, generator=np.random.default_rng(2))
    assert draws.shape == (DRAWS, 2) and (draws[:, 0] != draws[:, 1]).all() and (draws != 3).all()
    pairs = np.bincount(draws[:, 0] * 4 + draws[:, 1], minlength=16).reshape(4, 4)
    joint = np.array(
        [[pi * pj / (1 - pi) if i != j else 0.0 for j, pj in enumerate(p)] for i, pi in enumerate(p)]
    )
    assert within_sampling_error(pairs.ravel(), joint.ravel())
    assert sorted(Tensor(p[:3]).multinomial(3, seed=5).tolist()) == [0, 1, 2]  # every category once


@given(
    weights=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 3), st.integers(1, 6)),
        elements=st.sampled_from([0.0, 0.0, 0.1, 1.0, 7.0]),
    ),
    count=st.integers(1, 6),
    replacement=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_a_weight_of_0_is_never_drawn_and_each_row_draws_its_own(
    weights: np.ndarray, count: int, replacement: bool, seed: int
) -> None:
    weights[:, 0] += 0.5  # every row has a positive weight
    fewest = int((weights > 0).sum(axis=1).min())
    if not replacement and count > fewest:
        with pytest.raises(ValueError, match="without replacement"):
            mg.multinomial(Tensor(weights), count, seed=seed)
        return
    draws = mg.multinomial(Tensor(weights), count, replacement, seed=seed)
    assert draws.shape == (len(weights), count)
    assert (np.take_along_axis(weights, draws, axis=1) > 0).all()
    if not replacement:
        assert all(len(set(row)) == count for row in draws.tolist())
    one_row = mg.multinomial(Tensor(weights[0]), count, replacement, seed=seed)
    assert one_row.shape == (count,) and (weights[0][one_row] > 0).all()


def test_seeds_generators_and_manual_seed_make_draws_repeatable() -> None:
    p = Tensor([0.2, 0.3, 0.5])
    assert np.array_equal(p.multinomial(50, True, seed=7), p.multinomial(50, True, seed=7))
    assert not np.array_equal(p.multinomial(50, True, seed=7), p.multinomial(50, True, seed=8))
    g = np.random.default_rng(3)
    first, second = p.multinomial(50, True, generator=g), p.multinomial(50, True, generator=g)
    assert not np.array_equal(first, second)  # one stream, consumed
    assert np.array_equal(first, p.multinomial(50, True, generator=np.random.default_rng(3)))
    mg.manual_seed(11)
    before = mg.multinomial(p, 50, replacement=True)
    mg.manual_seed(11)
    assert np.array_equal(before, mg.multinomial(p, 50, replacement=True))


def test_makemores_sampling_loop_runs_as_ported() -> None:
    """`ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()`: an int
    that indexes a list, until the end token 0."""
    counts = np.ones((4, 4))
    counts[1:, 0] = 3.0  # after a letter, the end is likely
    P = Tensor(counts / counts.sum(1, keepdims=True))
    itos = {0: ".", 1: "a", 2: "b", 3: "c"}
    g = np.random.default_rng(2147483647)
    out, ix = [], 0
    while True:
        ix = mg.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
        assert type(ix) is int
        out.append(itos[ix])
        if ix == 0:
            break
    assert out[-1] == "." and all(c in "abc" for c in out[:-1])


@pytest.mark.parametrize(
    ("weights", "args", "kwargs", "error", "message"),
    [
        (
            np.ones((2, 2, 2)),
            (1,),
            {},
            ValueError,
            r"multinomial\(\): takes a vector of weights \(1-D\) or a matrix .* got shape \(2, 2, 2\)",
        ),
        (np.ones(()), (1,), {}, ValueError, r"got shape \(\)"),
        ([1.0, -1.0], (1,), {}, ValueError, r"weights must be finite and >= 0, got -1.0 at index \(1,\)"),
        (
            [[1.0, 1.0], [np.inf, 0.0]],
            (1,),
            {},
            ValueError,
            r"weights must be finite and >= 0, got inf at index \(1, 0\)",
        ),
        ([1.0, np.nan], (1,), {}, ValueError, r"got nan at index \(1,\)"),
        (
            [[1.0, 1.0], [0.0, 0.0]],
            (1,),
            {},
            ValueError,
            r"the weights of row 1 add up to 0; each row needs a positive weight",
        ),
        (
            [1.0, 0.0, 0.0],
            (2,),
            {},
            ValueError,
            r"cannot draw 2 samples without replacement from a row with 1 categories of nonzero weight",
        ),
        (
            [1.0, 1.0],
            (3,),
            {},
            ValueError,
            r"cannot draw 3 samples without replacement .* give replacement=True, or num_samples <= 2",
        ),
        ([1.0, 1.0], (0,), {}, ValueError, r"num_samples must be a positive int, got 0"),
        (
            np.zeros(0),
            (1, True),
            {},
            ValueError,
            r"no categories to draw from: the last dim of shape \(0,\) has size 0",
        ),
        (np.zeros((2, 0)), (1, True), {}, ValueError, r"the last dim of shape \(2, 0\) has size 0"),
        ([1.0, 1.0], (1.0,), {}, ValueError, r"num_samples must be a positive int, got 1.0"),
        (
            [1.0, 1.0],
            (1,),
            {"replacement": 1},
            TypeError,
            r"multinomial\(\): replacement must be True or False, got int: 1",
        ),
        (
            [1.0, 1.0],
            (1,),
            {"seed": 1, "generator": np.random.default_rng(1)},
            ValueError,
            r"give seed or generator, not both",
        ),
        ([1.0, 1.0], (1,), {"generator": 3}, TypeError, r"generator must be a numpy Generator"),
    ],
)
def test_bad_arguments_say_what_is_wrong(
    weights: Any, args: tuple, kwargs: dict, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        Tensor(weights).multinomial(*args, **kwargs)
