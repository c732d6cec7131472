"""Loss functions on Values (lists of predictions and targets) and on Tensors.

With Values each returns one Value, the mean over the samples (or their sum, or the list of
per-sample terms, with `reduction=`). With a Tensor the same names compute on whole arrays,
with PyTorch's shapes: predictions and targets of one shape for `mse_loss`, logits (N, C) and
integer labels (N,) for `cross_entropy` (or (N, C, d1, ..., dK) and (N, d1, ..., dK): a class
at each position, as for segmentation). Every loss is numerically stable: no exp of a large
number is ever taken.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import numpy as np

from ..arguments import real_number
from ..engine import Node, Op, Value, value_sum
from ..tensors import Tensor, _log_softmax, _refuse_nodes_inside, quiet, where

REDUCTIONS = ("mean", "sum", "none")
_LOG_FLOOR = -100.0  # PyTorch clamps BCE's logs here, so p = 0 or 1 gives a finite loss


def _as_list(x: Any, name: str) -> list[Any]:
    if isinstance(x, (Value, numbers.Real)):
        return [x]
    if isinstance(x, np.ndarray) and x.ndim == 0:  # one number, as np.array(1) or y[i, ...]
        return [x[()]]
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


def l1_loss(predictions: Any, targets: Any, reduction: str = "mean") -> Any:
    """Mean absolute error: mean(|p - t|), as `torch.nn.functional.l1_loss` (gradient 0 where p = t)."""
    if _is_tensor(predictions, targets):
        p, t = _tensor(predictions, "predictions"), _tensor(targets, "targets")
        _same_shape("l1_loss", p, t)
        return _reduce_tensor((p - t).abs(), reduction)
    preds, targs = _pairs(predictions, targets)
    return _reduce_values([abs(p - t) for p, t in zip(preds, targs)], reduction)


def _clip(x: Any, low: float, high: float) -> Any:
    return x.clamp(low, high) if isinstance(x, Tensor) else np.clip(x, low, high)


@functools.lru_cache(maxsize=64)  # nothing changes an op once made: reuse one per delta
def _huber_op(delta: float) -> Op:
    def forward(d: np.ndarray) -> np.ndarray:
        z = np.abs(d)
        return np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))

    # d/dd is d inside [-delta, delta] and +-delta outside: d clipped, as PyTorch's rule.
    return Op("huber", quiet(forward), quiet(lambda g, out, d: (g * _clip(d, -delta, delta),)))


@functools.lru_cache(maxsize=64)
def _smooth_l1_op(beta: float) -> Op:
    def forward(d: np.ndarray) -> np.ndarray:
        z = np.abs(d)
        return np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)

    return Op("smooth_l1", quiet(forward), quiet(lambda g, out, d: (g * _clip(d / beta, -1.0, 1.0),)))


def _positive(name: str, value: Any, allow_zero: bool) -> float:
    number = real_number(value, name)
    if not (number > 0 or (allow_zero and number == 0)) or math.isinf(number):
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {number}")
    return number


def huber_loss(predictions: Any, targets: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), for d = p - t, as
    `torch.nn.functional.huber_loss`: squared error for small errors, absolute error (times
    delta) for large ones, so outliers pull less."""
    delta = _positive("huber_loss(): delta", delta, allow_zero=False)
    p, t = _tensor(predictions, "predictions"), _tensor(targets, "targets")
    _same_shape("huber_loss", p, t)
    return _reduce_tensor(Tensor.apply(_huber_op(delta), p - t), reduction)


def smooth_l1_loss(predictions: Any, targets: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = p - t, as
    `torch.nn.functional.smooth_l1_loss` (huber_loss divided by beta; beta = 0 is l1_loss)."""
    beta = _positive("smooth_l1_loss(): beta", beta, allow_zero=True)
    if beta == 0.0:
        return l1_loss(_tensor(predictions, "predictions"), targets, reduction)
    p, t = _tensor(predictions, "predictions"), _tensor(targets, "targets")
    _same_shape("smooth_l1_loss", p, t)
    return _reduce_tensor(Tensor.apply(_smooth_l1_op(beta), p - t), reduction)


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


def _float_log1p(a: float) -> float:
    # IEEE where math.log1p raises: log1p(-1) = -inf, below -1 nan (never reached by the loss).
    return math.log1p(a) if a > -1.0 else -math.inf if a == -1.0 else math.nan


# log(1 + a), exact for tiny a where `(1 + a).log()` rounds 1 + a to 1 and gives 0: the loss of a
# confident right answer, log(1 + exp(-40)) = 4.2e-18, as PyTorch gives it. Its derivative
# 1 / (1 + a) is written with operators, so it also serves `grad(..., create_graph=True)`.
_LOG1P = Op("log1p", _float_log1p, lambda g, out, a: (g / (1 + a),))


def _value_bce_with_logits(x: Value, t: Any) -> Value:
    """The same loss from elementary Value ops (so drawings and steps show it), choosing the
    smooth, overflow-free form by the sign of x: its derivative is sigmoid(x) - t everywhere."""
    if x.data > 0:
        return x - x * t + Value.apply(_LOG1P, (-x).exp())
    return Value.apply(_LOG1P, x.exp()) - x * t


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Any:
    """Binary cross-entropy of sigmoid(logit) against targets in [0, 1], computed as
    relu(x) - x*t + log1p(exp(-|x|)) so that large logits never overflow and the tiny loss of a
    confident right answer is not rounded to 0; its gradient is sigmoid(x) - t everywhere (also
    at x = 0)."""
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


# --- clamp_min (the divisor of BCE's gradient) -----------------------------------------------


def clamp_min(x: Any, low: float) -> Any:
    """max(x, low) elementwise, on a Value or a Tensor; like PyTorch, the gradient passes where
    x >= low (nan passes through)."""
    op = Op(
        "clamp_min",
        quiet(
            lambda a: (
                np.maximum(a, low) if isinstance(a, np.ndarray) else (a if a >= low or a != a else float(low))
            )
        ),
        quiet(lambda g, out, a: (g * _at_least(a, low),)),
    )
    return type(x).apply(op, x)


def _at_least(a: Any, low: float) -> Any:
    data = _data(a)
    if isinstance(data, np.ndarray):
        return (~(data < low)).astype(data.dtype)
    return 0.0 if data < low else 1.0


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


def cross_entropy(
    logits: Any,
    targets: Any,
    reduction: str = "mean",
    *,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Any:
    """Softmax cross-entropy.

    Values: `logits` is one list of class scores (or a list of them), `targets` the class
    index, an int or a numpy integer (or a list or an integer array of them, as `load_iris()`
    returns labels). Tensor: logits of shape (N, C) (or (C,) for one sample, or (N, C, d1, ...,
    dK) for a class at each position) and integer labels of shape (N,) (or (N, d1, ..., dK)), or
    class probabilities of the logits' shape. Stable: the largest score is subtracted before
    exponentiating (log_softmax).

    As `torch.nn.functional.cross_entropy` (Tensors only): `weight` (C numbers) scales each
    class's terms, and "mean" then divides by the summed weights of the samples' labels; samples
    labelled `ignore_index` count for nothing; `label_smoothing` e mixes the target with the
    uniform distribution: (1 - e) * the usual loss + e * the mean over classes of -log p.
    """
    if _is_tensor(logits):
        return _tensor_cross_entropy(logits, targets, reduction, weight, ignore_index, label_smoothing)
    if weight is not None or ignore_index != -100 or label_smoothing != 0.0:
        raise TypeError(
            "cross_entropy(): weight, ignore_index and label_smoothing work on Tensor logits; wrap "
            "the scores with Tensor(...)"
        )
    if not isinstance(logits, (list, tuple)):
        raise TypeError(
            f"cross_entropy takes a Tensor of logits or a list of class scores (Values or numbers), got "
            f"{type(logits).__name__}: {logits!r:.60}; wrap arrays with Tensor(...)"
        )
    if logits and isinstance(logits[0], (Value, numbers.Real)):  # one sample: a row of scores
        logits = [logits]
        one_label = isinstance(targets, np.ndarray) and targets.size == 1  # np.array(1) or np.array([1])
        targets = targets.reshape(1) if one_label else [targets]
    rows, classes = _pairs(logits, targets)
    terms = []
    for row, target in zip(rows, classes):
        row = [v if isinstance(v, Value) else Value(v, requires_grad=False) for v in row]
        target = _class_index(target, len(row))
        shift = max(float(v) for v in row)
        if not math.isfinite(shift):
            shift = 0.0
        log_norm = value_sum([(v - shift).exp() for v in row]).log() + shift
        terms.append(log_norm - row[target])
    return _reduce_values(terms, reduction)


def _class_index(target: Any, classes: int) -> int:
    """A class label as an int in [0, classes): a Python int or a numpy integer (as the data sets
    return labels), never a bool or a float."""
    if (
        isinstance(target, (bool, np.bool_))
        or not isinstance(target, numbers.Integral)
        or not 0 <= int(target) < classes
    ):
        raise ValueError(
            f"target must be a class index in [0, {classes - 1}], got {target!r:.60}; give an int "
            "or a numpy integer"
        )
    return int(target)


def _tensor_cross_entropy(
    logits: Tensor, targets: Any, reduction: str, weight: Any, ignore_index: int, label_smoothing: float
) -> Tensor:
    _check_reduction(reduction)
    smoothing = _label_smoothing(label_smoothing)
    if logits.ndim == 0:
        raise ValueError(
            f"cross_entropy(): logits must have shape (N, C), (C,) or (N, C, d1, ...), got {logits.shape}"
        )
    _refuse_nodes_inside(targets, "cross_entropy() targets")
    if logits.ndim > 2:  # a class at each position: each one a row
        rows, positions = _positions_as_rows(logits)
        labels = np.asarray(_data(targets))
        if _are_probabilities(labels, logits.shape):
            targets = _positions_as_rows(targets if isinstance(targets, Tensor) else Tensor(labels))[0]
        else:
            targets = _position_labels(labels, logits.shape, "cross_entropy", "logits")
        loss = _tensor_cross_entropy(rows, targets, reduction, weight, ignore_index, smoothing)
        return loss.reshape(positions) if reduction == "none" else loss
    c = logits.shape[-1]
    class_weight = _class_weight(weight, c, logits.dtype, "cross_entropy")
    labels = np.asarray(_data(targets))
    ignore_index = check_ignore_index(ignore_index)
    if _are_probabilities(labels, logits.shape):
        # Class probabilities, as PyTorch reads float targets of the logits' shape (also for one
        # sample, and for C = 1). A Tensor stays itself, so a target that requires grad gets one.
        if ignore_index >= 0:  # (as PyTorch: a negative one, such as the default, never matches)
            raise ValueError(
                f"cross_entropy(): ignore_index={ignore_index} works with class-index targets, but these "
                f"targets are class probabilities (floats of the logits' shape {logits.shape}), where no "
                "sample can be ignored; give integer labels, or leave ignore_index at its default"
            )
        probs = targets if isinstance(targets, Tensor) else Tensor(labels)
        if smoothing:
            probs = probs * (1 - smoothing) + smoothing / c
        picked = logits.log_softmax(axis=-1) * probs
        if class_weight is not None:
            picked = picked * class_weight
        return _reduce_tensor(-picked.sum(axis=-1), reduction)
    rows, labels, single = _label_rows(logits, labels, ignore_index, "cross_entropy")
    kept = labels != ignore_index
    if class_weight is None and not smoothing and kept.all():  # plain: one fused node (speed)
        terms = Tensor.apply(_label_cross_entropy_op(labels), rows)
        return _reduce_tensor(terms.reshape(()) if single else terms, reduction)
    log_p = rows.log_softmax(axis=1)
    loss, weights = _nll_rows(log_p, labels, kept, class_weight, reduction)
    if not smoothing:
        return loss.reshape(()) if single and reduction == "none" else loss
    # PyTorch's smoothing term: -sum over classes of (weighted) log p, 0 for ignored samples,
    # divided for "mean" by what divides the plain loss (the samples' summed label weights).
    spread = log_p if class_weight is None else log_p * class_weight
    smooth = where(kept, -spread.sum(axis=1), 0.0)
    if reduction == "mean":
        smooth = smooth.sum() / weights.sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    total = (1 - smoothing) * loss + smooth * (smoothing / c)
    return total.reshape(()) if single and reduction == "none" else total


def nll_loss(
    log_probs: Any, targets: Any, reduction: str = "mean", *, weight: Any = None, ignore_index: int = -100
) -> Tensor:
    """The negative log-likelihood of class labels: -log_probs[i, targets[i]] for each sample i, as
    `torch.nn.functional.nll_loss`; give it log-probabilities (a log_softmax's output) of shape
    (N, C), or (C,) for one sample, or (N, C, d1, ..., dK) with labels (N, d1, ..., dK). `weight`
    (C numbers) scales each class's terms, and "mean" then divides by the summed weights of the
    samples' labels; samples labelled `ignore_index` count for nothing."""
    _check_reduction(reduction)
    x = _tensor(log_probs, "log_probs")
    if x.ndim == 0:
        raise ValueError(
            f"nll_loss(): log_probs must have shape (N, C), (C,) or (N, C, d1, ...), got {x.shape}"
        )
    if x.ndim > 2:  # a class at each position: each one a row
        rows, positions = _positions_as_rows(x)
        labels = _position_labels(np.asarray(_data(targets)), x.shape, "nll_loss", "log_probs")
        loss = nll_loss(rows, labels, reduction, weight=weight, ignore_index=ignore_index)
        return loss.reshape(positions) if reduction == "none" else loss
    class_weight = _class_weight(weight, x.shape[-1], x.dtype, "nll_loss")
    ignore_index = check_ignore_index(ignore_index)
    rows, labels, single = _label_rows(x, np.asarray(_data(targets)), ignore_index, "nll_loss")
    loss, _ = _nll_rows(rows, labels, labels != ignore_index, class_weight, reduction)
    return loss.reshape(()) if single and reduction == "none" else loss


def _are_probabilities(targets: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Float targets of the input's shape are class probabilities, as PyTorch reads them."""
    return targets.shape == shape and targets.dtype.kind == "f"


def _positions_as_rows(x: Tensor) -> tuple[Tensor, tuple[int, ...]]:
    """Scores (N, C, d1, ..., dK) as rows (N * d1 * ... * dK, C), one per position, and the
    shape (N, d1, ..., dK) of the positions (what reduction="none" gives back)."""
    n, c, *dims = x.shape
    positions = (n, *dims)
    classes_last = x.permute(0, *range(2, x.ndim), 1)
    return classes_last.reshape(math.prod(positions), c), positions


def _position_labels(labels: np.ndarray, shape: tuple[int, ...], who: str, name: str) -> np.ndarray:
    """Labels (N, d1, ..., dK) for `name`, scores of `shape` (N, C, d1, ..., dK), flattened as
    the rows of `_positions_as_rows`, or a clear error."""
    positions = shape[:1] + shape[2:]
    if labels.shape != positions:
        hint = ""
        if labels.shape == shape and who == "cross_entropy":  # (nll_loss takes labels only)
            hint = f"; targets of the logits' shape are class probabilities, which must be floats, not {labels.dtype}"
        raise ValueError(
            f"{who}(): class labels of shape {labels.shape} do not fit {name} of shape {shape}: {name} "
            "must have shape (N, C) or (C,) for labels (N,) or (), or (N, C, d1, ...) for labels "
            f"(N, d1, ...), here {positions}{hint}"
        )
    return labels.reshape(math.prod(positions))


def _nll_rows(
    log_p: Tensor, labels: np.ndarray, kept: np.ndarray, class_weight: np.ndarray | None, reduction: str
) -> tuple[Tensor, np.ndarray]:
    """-w[y_i] * log_p[i, y_i] for rows (N, C) and labels (N,), 0 where not `kept`, reduced as
    PyTorch's nll_loss ("mean" divides by the summed weights, nan when every sample is ignored).
    Also returns the samples' weights (0 for ignored ones)."""
    safe = np.where(kept, labels, 0)  # an ignored label may lie outside [0, C): pick column 0 instead
    weights = np.ones(len(labels), dtype=log_p.dtype) if class_weight is None else class_weight[safe]
    weights = np.where(kept, weights, 0).astype(log_p.dtype)
    picked = log_p[np.arange(len(labels)), safe]
    terms = where(kept, picked * -weights, 0.0)  # (where: an ignored row's nan or inf stays out)
    if reduction == "mean":
        return terms.sum() / weights.sum(), weights
    if reduction == "sum":
        return terms.sum(), weights
    return terms, weights


def _label_rows(
    x: Tensor, labels: np.ndarray, ignore_index: int, who: str
) -> tuple[Tensor, np.ndarray, bool]:
    """Rows (N, C) of scores (one row for a (C,) input), the checked labels (N,) and whether
    the input was a single sample."""
    single = x.ndim == 1
    rows = x.reshape(1, -1) if single else x
    n, c = rows.shape
    if single:
        labels = labels.reshape(-1)
    return rows, _class_labels(labels, n, c, ignore_index, who), single


def _class_weight(weight: Any, c: int, dtype: np.dtype, who: str) -> np.ndarray | None:
    """The class weights as a new array of C numbers of `dtype` (no gradient: PyTorch's is a buffer)."""
    if weight is None:
        return None
    array = weight_array(weight, f"{who}()")
    if array.shape != (c,):
        raise ValueError(f"{who}(): weight must have shape ({c},), one number per class, got {array.shape}")
    return array.astype(dtype)


def weight_array(weight: Any, who: str) -> np.ndarray:
    """Class weights as a new 1-D float64 array, or a clear error."""
    if isinstance(weight, str):
        raise TypeError(
            f"{who}: weight must be numbers, one per class, got the string {weight!r:.40}; as in PyTorch, "
            "weight comes before reduction (the first argument of a class loss module, the third of "
            "F.cross_entropy and F.nll_loss): pass reduction=... by name"
        )
    try:
        array = np.array(_data(weight), dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{who}: weight must be numbers, one per class, got {weight!r:.60}") from None
    if array.ndim != 1:
        raise ValueError(f"{who}: weight must be one number per class (1-D), got shape {array.shape}")
    return array


def check_ignore_index(value: Any) -> int:
    """`ignore_index` as an int (any integral number, not a bool), or a TypeError: shared by
    the functional losses and their modules."""
    if type(value) is int:  # the common case, without the costly check of the numbers ABC
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"ignore_index must be an int, got {type(value).__name__}: {value!r:.60}")
    return int(value)


def _label_smoothing(value: Any) -> float:
    smoothing = real_number(value, "label_smoothing")
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {value!r:.60}")
    return smoothing


def _label_cross_entropy_op(labels: np.ndarray) -> Op:
    """-log_softmax(x)[i, labels[i]] for each row i of logits x (N, C), as one node.

    The same numbers, bit for bit, as `-x.log_softmax(axis=1)[rows, labels]` and its gradient,
    with two nodes and a scatter fewer (speed, issue 7): the gradient is softmax(x) * g, minus
    g at the labels.
    """
    rows = np.arange(len(labels))
    # The forward's input and its log_softmax, which the backward reuses for that same input (as
    # PyTorch saves log_softmax's output): computing it again cost more than the rest of the rule.
    saved: list[Any] = [None, None]

    def forward(x: np.ndarray) -> np.ndarray:
        saved[:] = x, _log_softmax(x, 1)
        return -saved[1][rows, labels]

    def backward(g: Any, out: Any, x: Any) -> tuple[Any]:
        if isinstance(x, Tensor):  # under create_graph: record it, so it can be differentiated again
            onehot = np.zeros(x.shape, dtype=x.dtype)
            onehot[rows, labels] = 1.0
            return ((x.softmax(axis=1) - onehot) * g.reshape(-1, 1),)
        log_p = saved[1] if x is saved[0] else _log_softmax(x, 1)
        grad = np.exp(log_p)  # log_softmax's rule, as the composition computes it
        grad *= g.reshape(-1, 1)
        grad += 0.0  # -0.0 becomes 0.0, as the composition's 0 - (-x) makes it
        grad[rows, labels] -= g
        return (grad,)

    return Op("cross_entropy", quiet(forward), quiet(backward))


def _class_labels(labels: np.ndarray, n: int, c: int, ignore_index: int, who: str) -> np.ndarray:
    """The labels as a new int64 array (the graph keeps it: later changes to the caller's array
    must not reach it), after checking they are whole numbers in [0, c) or `ignore_index`."""
    if labels.shape != (n,):
        raise ValueError(
            f"{who}(): {n} rows of logits need {n} class labels of shape ({n},), got shape {labels.shape}"
        )
    kind = labels.dtype.kind
    if kind not in "iuf":
        raise TypeError(f"{who}(): class labels must be integers, got dtype {labels.dtype}")
    if kind in "iu" and (labels.size == 0 or (labels.min() >= 0 and labels.max() < c)):
        return labels.astype(np.int64)  # the common case, checked fast (without np.errstate: 2 us saved)
    with np.errstate(invalid="ignore"):
        whole = np.all(labels == np.floor(labels))
        known = np.all(((labels >= 0) & (labels < c)) | (labels == ignore_index))
    if not (whole and known):
        raise ValueError(
            f"{who}(): class labels must be whole numbers in [0, {c - 1}] (or ignore_index, "
            f"{ignore_index}), got {labels[:10]}"
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
