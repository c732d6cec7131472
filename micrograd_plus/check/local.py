"""`check_local_derivatives(root)`: which operation's rule is wrong? Every node's `backward`
rule is checked on its own, against finite differences of its `forward`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import ieee
from ..engine import Node, topological_order
from .numerical import (
    _check_tolerances,
    _differentiable,
    _is_float_array,
    _name,
    _output_array,
    _probe_weights,
    _raw_of,
)
from .reports import GradcheckError, GradientRow, LocalDerivativeReport, NodeCheck


def _forward(op: Any, datas: Sequence[Any]) -> Any:
    """An op's forward on raw data, run as a forward pass runs it (ieee.call: 1 / 0.0 gives inf);
    any other error of the user's forward reaches the user as raised, after one run."""
    with np.errstate(all="ignore"):
        return ieee.call(op.forward, *datas)


def _forward_or_nan(op: Any, datas: Sequence[Any]) -> Any:
    """_forward at a nudged point, nan where it raises an arithmetic error or a ValueError: a
    forward written with Python's math leaves its domain there (math.sqrt, nudged below 0), and
    the finite differences take that side as not finite, as at the edge of a built-in op's."""
    try:
        return _forward(op, datas)
    except (ArithmeticError, ValueError):
        return math.nan


def _rule(node: Node, op: Any, g: Any, out: Any, datas: list[Any]) -> Any:
    """The rule's contributions, called as a backward pass calls it (engine.local_gradients):
    where Python floats raise (1 / 0.0, overflow), once more on IEEE numbers (inf, nan)."""
    with np.errstate(all="ignore"):
        return ieee.call(op.backward, g, out, *datas)


def _working_copy(data: Any) -> Any:
    """The data a rule is checked on: floats stay floats, float arrays become float64 copies."""
    if _is_float_array(data):
        return np.array(data, dtype=np.float64)
    if isinstance(data, (float, np.floating)) and not isinstance(data, bool):
        return float(data)
    return data


# How one element's slope is measured (see _slope).
_EPS64 = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).smallest_subnormal)  # the rounding of numbers near 0
_SHRINK = 10.0  # each step is the previous one / 10 ...
_STEPS = 8  # ... from eps * |x| down to eps * |x| / 1e7
_ROUNDING = 8.0  # a forward's result may be off by this many float64 units of its size
_RESOLUTION = 0.1  # a slope known less well than to 10% (or atol) verifies nothing: skipped


@dataclass(frozen=True)
class _Differences:
    """The one-sided and central differences of F at one step, and `noise`: how far
    rounding may move the central one (a one-sided one, with half the divisor: twice that)."""

    left: float
    right: float
    central: float
    noise: float

    @property
    def gap(self) -> float:
        return abs(self.right - self.left)


@dataclass(frozen=True)
class _Slope:
    """What finite differences say about F's slope at one point. `kind` is "smooth" (the
    slope is `value`, within `error`), "kink" (the one-sided slopes `left` and `right` stay
    apart however small the step; `error` is how far rounding may move them), "not finite"
    (F is nan or inf next to the point, at every step), "unsettled" (the central differences
    keep changing as the step shrinks) or "lost" (x +- h rounds to x at every step)."""

    kind: str
    value: float = math.nan
    error: float = math.inf
    left: float = math.nan
    right: float = math.nan


def _slope(
    F: Callable[[float], np.ndarray], x: float, terms: np.ndarray, eps: float, atol: float, rtol: float
) -> _Slope:
    """The slope at x of the sum of F's terms, by finite differences; `terms` is F(x).

    The step is relative to x, h = eps * |x| (eps at x = 0), so that x +- h neither rounds
    to x nor crosses 0, and shrinks until the differences settle (see _shrinking). Where
    rounding then outweighs the tolerance (x small next to F's other terms, as the 1 in
    3e7 + 1, or 1e-30 in 1 + 1e-30 * w), the steps start once more from a larger one: 1e5
    times as large but at most |x| / 4, and at least eps, as a fixed step would be (only
    then may x +- h cross 0: a pole or a kink there keeps the differences from settling).
    The estimate with the smaller error is kept."""
    # The terms x reaches: those a big step changes (the other elements of an elementwise op's
    # output do not, and their rounding cannot hide a change of the terms that do).
    try:
        with np.errstate(all="ignore"):
            reach = F(x + max(abs(x), 1.0)) != terms
    except Exception:  # noqa: BLE001 - a forward that refuses so far a point: count every term
        reach = np.ones(terms.shape, dtype=bool)
    h = eps * abs(x) if x != 0 else eps
    slope = _shrinking(F, x, terms, reach, h, atol, rtol, keep_sign=True)
    if slope.kind == "lost" or (slope.kind == "smooth" and slope.error > atol + rtol * abs(slope.value)):
        larger = _shrinking(
            F, x, terms, reach, max(min(h * 1e5, abs(x) / 4), eps), atol, rtol, keep_sign=False
        )
        if slope.kind == "lost" or (larger.kind == "smooth" and larger.error < slope.error):
            return larger
    return slope


def _resolved(slope: _Slope, atol: float) -> bool:
    """Whether the slope is known well enough to tell a right rule from a wrong one."""
    return slope.error <= max(atol, _RESOLUTION * abs(slope.value))


def _shrinking(
    F: Callable[[float], np.ndarray],
    x: float,
    terms: np.ndarray,
    reach: np.ndarray,
    h: float,
    atol: float,
    rtol: float,
    keep_sign: bool,
) -> _Slope:
    """Differences at steps h, h / 10, ... (the divisors are the actual (x + h) - x and
    x - (x - h)), passing over steps where F is not finite, until three steps in a row
    agree: the central differences within the tolerance and their rounding noise, and the
    one-sided ones closing in (a smooth function's one-sided slopes differ by about f'' h).
    Where they stay apart down to the smallest step (or until rounding hides them), the
    point is a kink."""
    steps: list[_Differences] = []
    settled: _Slope | None = None  # the estimate of the last two steps, if they agreed
    tried = False
    for _ in range(_STEPS):
        xp, xm = x + h, x - h
        h /= _SHRINK
        if xp == x or xm == x or (keep_sign and x != 0 and not (xp / x > 0 and xm / x > 0)):
            continue  # lost in rounding, or across 0 (for eps >= 1)
        tried = True
        step = _differences(terms, reach, F(xp), F(xm), xp - x, x - xm)
        if not all(map(math.isfinite, (step.left, step.right, step.central, step.noise))):
            continue
        if steps:
            last = steps[-1]
            drift = abs(step.central - last.central)
            agree = drift <= atol + rtol * abs(last.central) + last.noise + step.noise
            closing = step.gap <= last.gap / 2 or not (_apart(last, atol, rtol) or _apart(step, atol, rtol))
            if agree and closing:
                if settled is not None:  # twice in a row: not a coincidence (sin(x) at x = 1e7 h)
                    return settled
                settled = _Slope("smooth", last.central, last.noise + drift, last.left, last.right)
            else:
                settled = None
                if _apart(last, atol, rtol) and not _apart(step, atol, rtol) and not closing:
                    break  # the one-sided slopes stay apart, but from here on rounding hides it
        steps.append(step)
    if settled is not None:
        return settled
    if not steps:
        return _Slope("not finite" if tried else "lost")
    last = steps[-1]
    if (
        len(steps) > 1
        and _apart(steps[-2], atol, rtol)
        and _apart(last, atol, rtol)
        and last.gap > steps[-2].gap / 2
    ):
        return _Slope("kink", last.central, 2 * last.noise, last.left, last.right)
    return _Slope("unsettled", last.central, math.inf, last.left, last.right)


def _differences(
    terms: np.ndarray, reach: np.ndarray, plus: np.ndarray, minus: np.ndarray, right: float, left: float
) -> _Differences:
    """The differences of the sums of F's terms at x (`terms`), x + right and x - left.
    Term by term first: a term the step leaves alone adds an exact 0, so its rounding does
    not hide a small change of another term (a 1e-8 next to a 1e8 in a Tensor); the rounding
    bound counts only the terms that x reaches or that moved."""
    with np.errstate(all="ignore"):
        up, down = plus - terms, terms - minus
        counted = reach | (up != 0) | (down != 0)
        size = np.maximum(np.abs(terms), np.maximum(np.abs(plus), np.abs(minus)))
        rounding = _ROUNDING * (_EPS64 * float(np.sum(size[counted])) + _TINY)
        return _Differences(
            float(np.sum(down)) / left,
            float(np.sum(up)) / right,
            float(np.sum(up + down)) / (right + left),
            rounding / min(right, left),
        )


def _apart(step: _Differences, atol: float, rtol: float) -> bool:
    """Whether the one-sided slopes differ by more than the tolerance and rounding allow."""
    return step.gap > atol + rtol * max(abs(step.left), abs(step.right)) + 4 * step.noise


def _nudged(
    op: Any, datas: list[Any], weights: np.ndarray, i: int, j: int, what: str
) -> Callable[[float], np.ndarray]:
    """F(x) = weights * forward(inputs with element j of input i set to x): the terms whose
    sum's slope is the rule's contribution to that element."""

    def F(x: float) -> np.ndarray:
        moved = list(datas)
        if isinstance(datas[i], np.ndarray):
            moved[i] = datas[i].copy()
            moved[i].flat[j] = x
        else:
            moved[i] = x
        out = _output_array(_forward_or_nan(op, moved), what)
        if out.shape != weights.shape:
            raise ValueError(f"{what} returned shape {out.shape} for inputs that gave shape {weights.shape}")
        with np.errstate(all="ignore"):
            return weights * out

    return F


def _judge(
    i: int, name: str, index: tuple[int, ...], rule: float, slope: _Slope, atol: float, rtol: float
) -> GradientRow:
    """One element's row: failed where the rule is outside what finite differences allow;
    a note (and not failed) where the point cannot be checked."""
    numeric = slope.value
    with np.errstate(all="ignore"):
        abs_error = abs(rule - numeric)
    rel_error = abs_error / abs(numeric) if numeric != 0 else (0.0 if abs_error == 0 else math.inf)
    note = ""
    if slope.kind == "smooth":
        failed = not abs_error <= atol + rtol * abs(numeric) + slope.error  # nan fails
        if not failed and not _resolved(slope, atol):
            note = f"rounding: in float64 the slope is known only to +-{slope.error:.1g} here"
    elif slope.kind == "kink":
        low, high = min(slope.left, slope.right), max(slope.left, slope.right)
        margin = atol + rtol * max(abs(low), abs(high)) + slope.error
        failed = not low - margin <= rule <= high + margin
        note = f"f has a kink here: slope {slope.left:.4g} on the left, {slope.right:.4g} on the right"
    else:
        failed = False
        note = {
            "not finite": "f is not finite next to this point",
            "lost": "x +- eps * |x| rounds to x",
            "unsettled": "the finite differences do not settle as the step shrinks",
        }[slope.kind]
    return GradientRow(i, name, index, rule, numeric, abs_error, rel_error, failed, None, note)


def _check_node(position: int, node: Node, eps: float, atol: float, rtol: float) -> NodeCheck:
    op = node._op
    assert op is not None
    parents = node._parents
    datas = [_working_copy(p.data) for p in parents]
    out = _forward(op, datas)
    is_array = isinstance(node.data, np.ndarray)  # the kind of raw data this node's rules expect
    if is_array:
        out = np.asarray(out)
    out_array = np.asarray(out, dtype=np.float64)
    # Not 1.0: a rule that forgets to multiply by the upstream gradient must show up.
    g: Any = _probe_weights(out_array.shape) if is_array else 0.75
    check = NodeCheck(position, node, op.name, tuple(datas), g, [])
    finite_inputs = all(np.all(np.isfinite(d)) for d in datas if _differentiable(d))
    if not (finite_inputs and np.all(np.isfinite(out_array))):
        check.skipped = "an input or the output is not finite"
        return check
    try:
        contributions = _rule(node, op, g, out, datas)
    except Exception as error:  # noqa: BLE001 - the rule's own bug is the finding
        check.problems.append(f"backward raised {type(error).__name__}: {error}")
        return check
    if not isinstance(contributions, (list, tuple)) or len(contributions) != len(parents):
        count = (
            len(contributions) if isinstance(contributions, (list, tuple)) else type(contributions).__name__
        )
        check.problems.append(
            f"backward returned {count} gradients for {len(parents)} inputs (one per input)"
        )
        return check
    weights = np.asarray(g, dtype=np.float64)
    with np.errstate(all="ignore"):
        terms = weights * out_array
    edge = ""  # an input next to which the forward is not finite: the edge of the op's domain
    for i, parent in enumerate(parents):
        if not (parent.requires_grad and _differentiable(datas[i])):
            continue
        c = contributions[i]
        shape = np.shape(datas[i])
        rule = np.zeros(shape) if c is None else np.asarray(_raw_of(c), dtype=np.float64)
        name = _name(parent, i)
        if rule.shape != shape:
            check.problems.append(
                f"{name}: backward returned shape {rule.shape} for an input of shape {shape} "
                "(undo broadcasting: a gradient has its input's shape)"
            )
            continue
        for j in range(int(np.prod(shape))):
            F = _nudged(op, datas, weights, i, j, f"forward of {op.name!r}")
            slope = _slope(F, float(np.ravel(datas[i])[j]), terms, eps, atol, rtol)
            index = tuple(int(k) for k in np.unravel_index(j, shape)) if shape else ()
            row = _judge(i, name, index, float(rule.flat[j]), slope, atol, rtol)
            if slope.kind == "not finite":
                edge = edge or name
            elif row.note and not row.failed and not check.skipped:
                reason = "not differentiable" if slope.kind == "kink" else "not checkable in float64"
                check.skipped = f"{reason} at these inputs ({row.note})"
            check.rows.append(row)
    if edge:
        # At the edge of its domain an op's derivative is a convention (inf, a clamped value):
        # nothing there is checked, not even the other inputs' rules.
        check.rows = [dataclasses.replace(r, failed=False) for r in check.rows]
        check.skipped = f"not differentiable at these inputs (f is not finite next to {edge})"
    elif not check.ok:
        check.skipped = ""
    return check


def check_local_derivatives(
    root: Node,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    *,
    allow_skips: bool = False,
) -> LocalDerivativeReport:
    """Check every node's own derivative rule in the graph of `root`, by finite differences.

    For each operation node (in forward order), its op's `backward` rule is called on its
    inputs' raw data as a backward pass calls it, with a fixed upstream gradient, and
    compared with finite differences of its `forward`, one input element at a time. An
    end-to-end gradcheck only says that something is wrong; this names the first operation
    whose rule is wrong, with its inputs. Fused n-ary nodes (`dot`, `sum`) and Tensor ops
    are checked the same way.

    The step is relative to each input element, `eps * |x|` (`eps` at 0), and shrinks until
    the differences settle, so large and tiny magnitudes are checked as well as ordinary
    ones. A node that cannot be checked is skipped, not failed: at a kink (relu at 0, where
    the one-sided slopes stay apart) when its rule gives a one-sided slope or one between,
    next to a point where its forward is not finite (sqrt at 0), or where float64 rounding
    hides the change of its output. Skips are listed in the report and make it falsy (not
    verified) unless `allow_skips=True`. Raises `GradcheckError` (or, with
    `raise_exception=False`, returns the report) when the report is falsy.
    """
    if not isinstance(root, Node):
        raise TypeError(
            f"check_local_derivatives() takes the output node of a graph, got {type(root).__name__}"
        )
    _check_tolerances(eps=eps, atol=atol, rtol=rtol)
    order = list(reversed(topological_order(root)))
    ops = [n for n in order if n._op is not None]
    checks = [_check_node(k, node, eps, atol, rtol) for k, node in enumerate(ops)]
    report = LocalDerivativeReport(checks, eps, atol, rtol, allow_skips)
    if raise_exception and not report.ok:
        raise GradcheckError(str(report), report)
    return report
