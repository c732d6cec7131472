"""PyTorch's `Subset` and `random_split`: a data set cut into parts without copying it, as
`train, val = random_split(dataset, [0.8, 0.2])` in a PyTorch script.

The order is drawn from `generator=` (a numpy Generator, where PyTorch takes a `torch.Generator`),
from `seed=` (an int), or else from the package's stream, so `manual_seed` makes it repeatable.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..factories import SeedLike, generator_from
from ..modes import warn
from .dataset import Subset


def random_split(
    dataset: Any,
    lengths: Sequence[int | float],
    generator: np.random.Generator | None = None,
    *,
    seed: SeedLike = None,
) -> list[Subset]:
    """`dataset` cut at random into non-overlapping Subsets of the given `lengths`, which add up
    to `len(dataset)`, as `torch.utils.data.random_split`. Fractions that add up to 1 are taken as
    PyTorch takes them: each part gets floor(fraction * len(dataset)) samples, and the samples
    left over go one by one to the parts in turn from the first; a part left empty is warned about."""
    n = len(dataset)
    lengths = list(lengths)
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, numbers.Real):
            raise TypeError(f"random_split(): length {i} must be an int or a fraction, got {length!r:.60}")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _from_fractions(lengths, n)
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! ({sum(lengths)} != {n})"
        )
    for i, length in enumerate(lengths):
        if not isinstance(length, numbers.Integral):
            raise TypeError(
                f"random_split(): length {i} is {length!r:.60}; give ints, or fractions that add up to 1"
            )
        if length < 0:
            raise ValueError(f"random_split(): length {i} is {length}; lengths must be >= 0")
    order = generator_from(seed, generator).permutation(n).tolist()
    return [
        Subset(dataset, order[end - length : end])
        for end, length in zip(itertools.accumulate(lengths), lengths)
    ]


def _from_fractions(fractions: list[Any], n: int) -> list[int]:
    for i, fraction in enumerate(fractions):
        if not 0 <= fraction <= 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1 (it is {fraction})")
    lengths = [math.floor(n * fraction) for fraction in fractions]
    for i in range(n - sum(lengths)):  # the remainder, one by one in turn
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warn(f"Length of split at index {i} is 0. This might result in an empty dataset.")
    return lengths
