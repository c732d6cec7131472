"""Loss functions on Values (lists of predictions and targets) and on Tensors.

With Values each returns one Value, the mean over the samples (or their sum, or the list of
per-sample terms, with `reduction=`). With a Tensor the same names compute on whole arrays,
with PyTorch's shapes: predictions and targets of one shape for `mse_loss`, logits (N, C) and
integer labels (N,) for `cross_entropy`. Every loss is numerically stable: no exp of a large
number is ever taken.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import numpy as np

from ..engine import Node, Op, Value, value_sum
from ..tensors import Tensor, _log_softmax, quiet
from .functional import clamp_min

REDUCTIONS = ("mean", "sum", "none")
_LOG_FLOOR = -100.0  # PyTorch clamps BCE's logs here, so p = 0 or 1 gives a finite loss


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


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce_values(terms: list[Value], reduction: str) -> Any:
    _check_reduction(reduction)
    if reduction == "mean":
        return _mean(terms)
    if reduction == "sum":
        return value_sum(terms)
    return terms


def _reduce_tensor(terms: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return terms.mean()
    if reduction == "sum":
        return terms.sum()
    return terms


def _is_tensor(*xs: Any) -> bool:
    return any(isinstance(x, Tensor) for x in xs)


def _tensor(x: Any, name: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a Tensor or numbers, got {type(x).__name__}: {error}") from None


def _same_shape(loss: str, predictions: Tensor, targets: Tensor) -> None:
    if predictions.shape != targets.shape:
        raise ValueError(
            f"{loss}(): predictions of shape {predictions.shape} but targets of shape {targets.shape}; "
            "give one target per prediction (e.g. targets.reshape(-1, 1) for a column of predictions). "
            "Broadcasting them silently would compare every prediction with every target."
        )


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Node) else x


# --- the losses ---------------------------------------------------------------------------------


def mse_loss(predictions: Any, targets: Any, reduction: str = "mean") -> Any:
    """Mean squared error: mean((p - t)**2)."""
    if _is_tensor(predictions, targets):
        p, t = _tensor(predictions, "predictions"), _tensor(targets, "targets")
        _same_shape("mse_loss", p, t)
        diff = p - t
        return _reduce_tensor(diff * diff, reduction)
    preds, targs = _pairs(predictions, targets)
    return _reduce_values([(p - t) ** 2 for p, t in zip(preds, targs)], reduction)


def _bce_logits_forward(x: Any, t: Any) -> Any:
    # relu(x) - x t + log(1 + exp(-|x|)): exp never sees a positive number, so never overflows
    if isinstance(x, np.ndarray) or isinstance(t, np.ndarray):
        return np.maximum(x, 0.0) - x * t + np.log1p(np.exp(-np.abs(x)))
    return (x if x > 0 or x != x else 0.0) - x * t + math.log1p(math.exp(-abs(x)))


def _sigmoid(x: Any) -> Any:
    if isinstance(x, (Value, Tensor)):
        return x.sigmoid()
    if isinstance(x, np.ndarray):
        return np.exp(-np.logaddexp(0.0, -x))
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


# For Tensors, one node with the exact derivative sigmoid(x) - t. Composing it from relu and
# abs would put two kinks at x = 0 whose subgradients (both 0) give -t there instead of 1/2 - t.
_BCE_WITH_LOGITS = Op(
    "bce_with_logits",
    quiet(_bce_logits_forward),
    quiet(lambda g, out, x, t: (g * (_sigmoid(x) - t), g * -x)),
)


def _value_bce_with_logits(x: Value, t: Any) -> Value:
    """The same loss from elementary Value ops (so drawings and steps show it), choosing the
    smooth, overflow-free form by the sign of x: its derivative is sigmoid(x) - t everywhere."""
    if x.data > 0:
        return x - x * t + (1 + (-x).exp()).log()
    return (1 + x.exp()).log() - x * t


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Any:
    """Binary cross-entropy of sigmoid(logit) against targets in [0, 1], computed as
    relu(x) - x*t + log(1 + exp(-|x|)) so that large logits never overflow; its gradient is
    sigmoid(x) - t everywhere (also at x = 0)."""
    if _is_tensor(logits, targets):
        x, t = _tensor(logits, "logits"), _tensor(targets, "targets")
        _same_shape("binary_cross_entropy_with_logits", x, t)
        return _reduce_tensor(Tensor.apply(_BCE_WITH_LOGITS, x, t), reduction)
    xs, ts = _pairs(logits, targets)
    terms = [
        _value_bce_with_logits(x if isinstance(x, Value) else Value(x, requires_grad=False), t)
        for x, t in zip(xs, ts)
    ]
    return _reduce_values(terms, reduction)


# PyTorch divides by max(p (1 - p), eps) with eps the float32 number nearest 1e-12 (it differs
# from the float64 1e-12 in the 9th digit, which a float64 comparison sees).
_BCE_EPS = float(np.float32(1e-12))


def _bce_forward(p: Any, t: Any) -> Any:
    """-(t max(log p, -100) + (1 - t) max(log(1 - p), -100)), on arrays or floats."""
    log_p = np.maximum(np.log(p), _LOG_FLOOR)
    log_q = np.maximum(np.log1p(-p), _LOG_FLOOR)
    loss = (t - 1) * log_q - t * log_p
    return loss if isinstance(loss, np.ndarray) else float(loss)


@functools.cache  # four ops in all, by which inputs want a gradient
def _bce_op(need_p: bool, need_t: bool) -> Op:
    """Binary cross-entropy as one node, with PyTorch's derivatives: (p - t) / max(p (1 - p), eps)
    for p, finite even where p is exactly 0 or 1 (composed from clamped logs, the rule would
    meet 0 / 0 there), and -logit(p) = log((1 - p) / p) for the target."""

    def backward(g: Any, out: Any, p: Any, t: Any) -> tuple[Any, Any]:
        if isinstance(p, Node):  # under create_graph: the same rule, recorded so it can be differentiated
            q: Any = p  # a Value or a Tensor (with t and g of its kind)
            gp = g * (q - t) / clamp_min(q * (1 - q), _BCE_EPS) if need_p else None
            gt = -g * (q / (1 - q)).log() if need_t else None
            return gp, gt
        gp = g * (p - t) / np.maximum(p * (1 - p), _BCE_EPS) if need_p else None
        gt = -g * np.log(p / (1 - p)) if need_t else None
        if isinstance(p, np.ndarray):
            return gp, gt
        return (None if gp is None else float(gp)), (None if gt is None else float(gt))

    return Op("binary_cross_entropy", quiet(_bce_forward), quiet(backward))


def binary_cross_entropy(probabilities: Any, targets: Any, reduction: str = "mean") -> Any:
    """Binary cross-entropy of probabilities p in [0, 1] (a sigmoid's output) against targets:
    -(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch does, and PyTorch's
    gradient (p - t) / max(p (1 - p), 1e-12), finite also at p = 0 or 1 (a saturated sigmoid).
    Prefer `binary_cross_entropy_with_logits` on the logits: it never needs the clamp."""
    if _is_tensor(probabilities, targets):
        p, t = _tensor(probabilities, "probabilities"), _tensor(targets, "targets")
        _same_shape("binary_cross_entropy", p, t)
        with np.errstate(invalid="ignore"):
            inside = (p.data >= 0) & (p.data <= 1)
        if not np.all(inside):
            raise ValueError(
                f"binary_cross_entropy(): probabilities must lie in [0, 1], got {p.data[~inside].ravel()[:5]}; "
                "apply a sigmoid first, or use binary_cross_entropy_with_logits on the raw scores"
            )
        return _reduce_tensor(Tensor.apply(_bce_op(p.requires_grad, t.requires_grad), p, t), reduction)
    ps, ts = _pairs(probabilities, targets)
    value_terms = []
    for prob, t in zip(ps, ts):
        v = prob if isinstance(prob, Value) else Value(prob, requires_grad=False)
        if not 0.0 <= v.data <= 1.0:
            raise ValueError(
                f"binary_cross_entropy(): probabilities must lie in [0, 1], got {v.data!r}; "
                "apply a sigmoid first, or use binary_cross_entropy_with_logits on the raw scores"
            )
        needs_t = isinstance(t, Value) and t.requires_grad
        value_terms.append(Value.apply(_bce_op(v.requires_grad, needs_t), v, t))
    return _reduce_values(value_terms, reduction)


def cross_entropy(logits: Any, targets: Any, reduction: str = "mean") -> Any:
    """Softmax cross-entropy.

    Values: `logits` is one list of class scores (or a list of them), `targets` the class
    index (or a list of them). Tensor: logits of shape (N, C) (or (C,) for one sample) and
    integer labels of shape (N,), or class probabilities of the logits' shape. Stable: the
    largest score is subtracted before exponentiating (log_softmax).
    """
    if _is_tensor(logits):
        return _tensor_cross_entropy(logits, targets, reduction)
    if not isinstance(logits, (list, tuple)):
        raise TypeError(
            f"cross_entropy takes a Tensor of logits or a list of class scores (Values or numbers), got "
            f"{type(logits).__name__}: {logits!r:.60}; wrap arrays with Tensor(...)"
        )
    if logits and isinstance(logits[0], (Value, int, float)):
        logits, targets = [logits], [targets]
    rows, classes = _pairs(logits, targets)
    terms = []
    for row, target in zip(rows, classes):
        row = [v if isinstance(v, Value) else Value(v, requires_grad=False) for v in row]
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < len(row):
            raise ValueError(f"target must be a class index in [0, {len(row) - 1}], got {target!r}")
        shift = max(float(v) for v in row)
        if not math.isfinite(shift):
            shift = 0.0
        log_norm = value_sum([(v - shift).exp() for v in row]).log() + shift
        terms.append(log_norm - row[target])
    return _reduce_values(terms, reduction)


def _tensor_cross_entropy(logits: Tensor, targets: Any, reduction: str) -> Tensor:
    if logits.ndim not in (1, 2):
        raise ValueError(f"cross_entropy(): logits must have shape (N, C) or (C,), got {logits.shape}")
    labels = np.asarray(_data(targets))
    if labels.shape == logits.shape and labels.dtype.kind == "f":
        # Class probabilities, as PyTorch reads float targets of the logits' shape (also for one
        # sample, and for C = 1). A Tensor stays itself, so a target that requires grad gets one.
        probs = targets if isinstance(targets, Tensor) else Tensor(labels)
        return _reduce_tensor(-(logits.log_softmax(axis=-1) * probs).sum(axis=-1), reduction)
    single = logits.ndim == 1
    if single:
        logits = logits.reshape(1, -1)
    n, c = logits.shape
    labels = _class_labels(labels.reshape(-1) if single else labels, n, c)
    terms = Tensor.apply(_label_cross_entropy_op(labels), logits)
    if single and reduction == "none":
        terms = terms.reshape(())
    return _reduce_tensor(terms, reduction)


def _label_cross_entropy_op(labels: np.ndarray) -> Op:
    """-log_softmax(x)[i, labels[i]] for each row i of logits x (N, C), as one node.

    The same numbers, bit for bit, as `-x.log_softmax(axis=1)[rows, labels]` and its gradient,
    with two nodes and a scatter fewer (speed, issue 7): the gradient is softmax(x) * g, minus
    g at the labels.
    """
    rows = np.arange(len(labels))

    def forward(x: np.ndarray) -> np.ndarray:
        return -_log_softmax(x, 1)[rows, labels]

    def backward(g: Any, out: Any, x: Any) -> tuple[Any]:
        if isinstance(x, Tensor):  # under create_graph: record it, so it can be differentiated again
            onehot = np.zeros(x.shape, dtype=x.dtype)
            onehot[rows, labels] = 1.0
            return ((x.softmax(axis=1) - onehot) * g.reshape(-1, 1),)
        grad = np.exp(_log_softmax(x, 1))  # log_softmax's rule, as the composition computes it
        grad *= g.reshape(-1, 1)
        grad += 0.0  # -0.0 becomes 0.0, as the composition's 0 - (-x) makes it
        grad[rows, labels] -= g
        return (grad,)

    return Op("cross_entropy", quiet(forward), quiet(backward))


def _class_labels(labels: np.ndarray, n: int, c: int) -> np.ndarray:
    """The labels as a new int64 array (the graph keeps it: later changes to the caller's array
    must not reach it), after checking they are whole numbers in [0, c)."""
    if labels.shape != (n,):
        raise ValueError(
            f"cross_entropy(): {n} rows of logits need {n} class labels of shape ({n},), got shape {labels.shape}"
        )
    kind = labels.dtype.kind
    if kind in "iu":  # integers: only the range to check (without np.errstate: 2 us saved)
        valid = labels.size == 0 or (labels.min() >= 0 and labels.max() < c)
    elif kind == "f":
        with np.errstate(invalid="ignore"):
            valid = bool(np.all(labels == np.floor(labels)) and np.all((labels >= 0) & (labels < c)))
    else:
        raise TypeError(f"cross_entropy(): class labels must be integers, got dtype {labels.dtype}")
    if not valid:
        raise ValueError(
            f"cross_entropy(): class labels must be whole numbers in [0, {c - 1}], got {labels[:10]}"
        )
    return labels.astype(np.int64)


def hinge_loss(scores: Any, targets: Any, reduction: str = "mean") -> Any:
    """Max-margin loss for labels -1 / +1: mean(relu(1 - y * score)) (micrograd's demo)."""
    if _is_tensor(scores, targets):
        s, y = _tensor(scores, "scores"), _tensor(targets, "targets")
        _same_shape("hinge_loss", s, y)
        if not np.all((y.data == 1.0) | (y.data == -1.0)):
            raise ValueError(f"hinge_loss targets must be -1 or +1, got {np.unique(y.data)[:10]}")
        return _reduce_tensor((1 - y * s).relu(), reduction)
    ss, ys = _pairs(scores, targets)
    for y in ys:
        if not isinstance(y, (numbers.Real, Value)) or (float(y) if isinstance(y, Value) else y) not in (
            -1.0,
            1.0,
        ):
            raise ValueError(f"hinge_loss targets must be -1 or +1, got {y!r}")
    ss = [s if isinstance(s, Value) else Value(s, requires_grad=False) for s in ss]
    return _reduce_values([(1 + -y * s).relu() for s, y in zip(ss, ys)], reduction)
