"""The checks of the arguments every part of the package takes (numbers, whole numbers, flags,
sizes): each gives the value in the type wanted, or an error that names the argument and what it
got, so a mistake is reported where it was made and in the same words everywhere."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def real_number(value: Any, what: str) -> float:
    """A real number argument (int, float, numpy scalar; not bool) as a float, or a TypeError
    naming `what`; an int beyond the float range is a ValueError (not Python's OverflowError)."""
    if type(value) is float:  # the common case, without the costly check of the numbers ABC
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__}: {value!r:.60}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(
            f"{what} = {str(value)[:20]}... is too large for a float (about 1.8e308 at most)"
        ) from None


def whole_number(value: Any, what: str) -> int:
    """An int argument (any integral number, not a bool) as an int, or a TypeError naming `what`:
    offsets, shifts, counts checked further by their callers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}: {value!r:.60}")
    return int(value)


def true_or_false(value: Any, what: str) -> bool:
    """A flag argument (a bool, or numpy's) as a bool, or a TypeError naming `what`."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be True or False, got {type(value).__name__}: {value!r:.60}")
    return bool(value)


def positive_int(value: Any, what: str) -> int:
    """A size argument (any integral number, not a bool, at least 1) as an int, or a ValueError
    naming `what`: layer widths, channels, batch sizes, node limits."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r:.60}")
    return int(value)


def nonnegative(value: Any, what: str) -> float:
    """A number >= 0 (math.inf too, not nan) as a float, or an error naming `what`: a standard
    deviation, a clipping norm or value."""
    number = real_number(value, what)
    if not number >= 0.0:
        raise ValueError(f"{what} must be >= 0, got {number}")
    return number
