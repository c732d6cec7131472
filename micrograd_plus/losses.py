"""Loss functions on Values (lists of predictions and targets); each returns one Value,
the mean over the samples."""

from __future__ import annotations

import math
import numbers
from typing import Any

from .engine import Value, value_sum


def _as_list(x: Any, name: str) -> list[Any]:
    if isinstance(x, (Value, numbers.Real)):
        return [x]
    items = list(x)
    if not items:
        raise ValueError(f"{name} is empty: a loss needs at least one sample")
    return items


def _pairs(predictions: Any, targets: Any) -> tuple[list[Any], list[Any]]:
    preds = _as_list(predictions, "predictions")
    targs = _as_list(targets, "targets")
    if len(preds) != len(targs):
        raise ValueError(f"{len(preds)} predictions but {len(targs)} targets: give one target per prediction")
    return preds, targs


def _mean(terms: list[Value]) -> Value:
    return value_sum(terms) * (1.0 / len(terms))


def mse_loss(predictions: Any, targets: Any) -> Value:
    """Mean squared error: mean((p - t)**2)."""
    preds, targs = _pairs(predictions, targets)
    return _mean([(p - t) ** 2 for p, t in zip(preds, targs)])


def binary_cross_entropy_with_logits(logits: Any, targets: Any) -> Value:
    """Binary cross-entropy of sigmoid(logit) against targets in [0, 1], computed as
    relu(x) - x*t + log(1 + exp(-|x|)) so that large logits never overflow."""
    xs, ts = _pairs(logits, targets)
    terms = []
    for x, t in zip(xs, ts):
        x = x if isinstance(x, Value) else Value(x, requires_grad=False)
        terms.append(x.relu() - x * t + (1 + (-abs(x)).exp()).log())
    return _mean(terms)


def cross_entropy(logits: Any, targets: Any) -> Value:
    """Softmax cross-entropy: `logits` is one list of class scores (or a list of them),
    `targets` the class index (or a list of them). Stable: the largest score is
    subtracted (as a constant) before exponentiating."""
    if logits and isinstance(logits[0], (Value, int, float)):
        logits, targets = [logits], [targets]
    rows, classes = _pairs(logits, targets)
    terms = []
    for row, target in zip(rows, classes):
        row = list(row)
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < len(row):
            raise ValueError(f"target must be a class index in [0, {len(row) - 1}], got {target!r}")
        shift = max(float(v) for v in row)
        if not math.isfinite(shift):
            shift = 0.0
        log_norm = value_sum([(v - shift).exp() for v in row]).log() + shift
        terms.append(log_norm - row[target])
    return _mean(terms)


def hinge_loss(scores: Any, targets: Any) -> Value:
    """Max-margin loss for labels -1 / +1: mean(relu(1 - y * score)) (micrograd's demo)."""
    ss, ys = _pairs(scores, targets)
    for y in ys:
        if float(y) not in (-1.0, 1.0):
            raise ValueError(f"hinge_loss targets must be -1 or +1, got {y!r}")
    return _mean([(1 + -y * s).relu() for s, y in zip(ss, ys)])
