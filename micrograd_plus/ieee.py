"""Float arithmetic that follows IEEE like PyTorch float64, on floats and numpy arrays alike:
log(0) = -inf, 1/0 = inf, exp(1000) = inf, (-8) ** (1/3) = nan, never an exception, never a
complex number, never a numpy warning. Python's math is fast but raises on a few of those, so
what raises is computed again on numpy float64 scalars, which follow IEEE.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .division import integer_power

Fn = Callable[..., Any]
ERRORS = (ArithmeticError, ValueError)  # what Python's math raises where IEEE gives inf or nan


def call(fn: Fn, *args: Any) -> Any:
    """fn(*args); where its arithmetic raises, `redo`. (The walks keep this try inline, calling
    redo in their except: a Python call per node less.)"""
    try:
        return fn(*args)
    except ArithmeticError as error:
        return redo(error, fn, *args)


def redo(error: ArithmeticError, fn: Fn, *args: Any) -> Any:
    """After fn(*args) raised `error`: fn once more the IEEE way (`again`: inf, nan) where that
    changes the answer, else `error` raised as it is, fn run once (it may be a user's forward or
    rule, or a module's backward hook run inside a rule). It changes it for a Python float among
    the arguments (1/0, an overflow) and for a FloatingPointError, which numpy raises only under
    the user's `np.seterr(...="raise")` and `again` switches off; not for another error on
    arrays or nodes (a user's own ZeroDivisionError would come again). No other error (a
    ValueError, which numpy scalars would raise too) is caught."""
    if isinstance(error, FloatingPointError) or any(type(a) is float for a in args):
        return again(fn, *args)
    try:
        raise error
    finally:
        del error  # (else error -> its traceback -> this frame -> error: a cycle keeping the graph)


def again(fn: Fn, *args: Any) -> Any:
    """fn(*args) once more, the IEEE way, after it raised: floats as numpy float64 scalars (a
    tuple or list of results comes back as floats), numpy's error reports off."""
    with np.errstate(all="ignore"):
        result = fn(*[np.float64(a) if type(a) is float else a for a in args])
    if isinstance(result, (tuple, list)) and any(type(a) is float for a in args):
        return [None if r is None else float(r) for r in result]
    return result


def _function(float_fn: Fn, array_fn: Fn) -> Fn:
    def fn(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return array_fn(x)
        try:
            return float_fn(x)
        except ERRORS:
            with np.errstate(all="ignore"):
                return float(array_fn(np.float64(x)))

    return fn


exp, log, sin = _function(math.exp, np.exp), _function(math.log, np.log), _function(math.sin, np.sin)
cos, sqrt, tanh = _function(math.cos, np.cos), _function(math.sqrt, np.sqrt), _function(math.tanh, np.tanh)


def power(a: Any, b: Any) -> Any:
    """a ** b: (-8) ** (1/3) is nan, 0 ** -1 is inf (numpy arrays and scalars follow IEEE already);
    an int64 array to int64 powers as PyTorch's (`division.integer_power`: 2 ** -1 is 0)."""
    if not (isinstance(a, (float, int)) and isinstance(b, (float, int))):
        if type(b) is np.ndarray and b.dtype.kind == "i" and np.asarray(a).dtype.kind in "ib":
            return integer_power(a, b)  # (a float base keeps numpy's IEEE powers: 2.0 ** -1 is 0.5)
        return a**b
    result = call(operator.pow, a, b)
    if type(result) is not float:  # complex, or numpy's float64 after 1/0 or an overflow
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(a), np.float64(b)))
    return result


def sign(x: Any) -> Any:
    """-1, 0 or 1, and 0 at nan (as PyTorch)."""
    return np.where(x != x, 0.0, np.sign(x)) if isinstance(x, np.ndarray) else float((x > 0) - (x < 0))


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x) in two branches, so that exp never overflows: sigmoid(-800) = 0.0."""
    return 1.0 / (1.0 + exp(-x)) if x >= 0 else exp(x) / (1.0 + exp(x))
