"""Floor division, remainder, fmod and integer powers on numpy arrays, as PyTorch computes them.

PyTorch rounds `//` toward minus infinity and gives `%` the sign of the divisor (Python's rules),
`fmod` the sign of the dividend (C's). Floats follow IEEE (a division by zero gives inf or nan);
an integer division by zero is PyTorch's RuntimeError. An integer to a negative integer power is
1 / a rounded toward 0 (1 for 1, -1 or 1 for -1, 0 for any other base, 0 too). numpy agrees with
all of it but the sign of a zero float remainder (`-0.0 % 2` is -0.0 in PyTorch, 0.0 in numpy),
its warnings and its error on negative integer powers: hence these few lines. Tensor's `//`, `%`,
`fmod` and `**` (through ieee.power) compute with them; tensors.py states their derivatives.
"""

from __future__ import annotations

import numpy as np


def _refuse_integer_zero(b: np.ndarray, what: str) -> None:
    """PyTorch's error for an integer (or bool) divisor holding a 0."""
    if b.dtype.kind != "f" and not b.all():
        raise RuntimeError(
            f"ZeroDivisionError: integer {what} by zero (PyTorch's error; floats give inf or nan); "
            "leave the zeros out of the divisor (e.g. with where()) or call .float() first"
        )


def floor_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a // b rounded toward minus infinity (numpy's floor_divide is PyTorch's div_floor)."""
    _refuse_integer_zero(b, "division")
    return np.floor_divide(a, b)  # type: ignore[no-any-return]


def remainder(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a % b with the sign of b, as PyTorch's remainder: fmod, then b added where the signs differ."""
    if b.dtype.kind != "f":
        _refuse_integer_zero(b, "modulo")
        return np.remainder(a, b)  # type: ignore[no-any-return]
    mod = np.fmod(a, b)
    return np.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)


def fmod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The remainder of a / b rounded toward 0, with the sign of a, as C's fmod and PyTorch's."""
    _refuse_integer_zero(b, "modulo")
    return np.fmod(a, b)  # type: ignore[no-any-return]


def integer_power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ** b of int64 (or bool) arrays, as PyTorch's: where b < 0, 1 / a rounded toward 0."""
    negative = b < 0
    if not negative.any():
        return a**b  # type: ignore[no-any-return]
    whole = a ** np.where(negative, 0, b)
    reciprocal = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
    return np.where(negative, reciprocal, whole)
