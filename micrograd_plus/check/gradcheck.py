"""Gradient checks: compare derivatives with central finite differences.

One question, one tool:

- `gradcheck(f, inputs)`: is the gradient autograd computes for `f` right? (like
  `torch.autograd.gradcheck`; on failure a table says which elements differ and by how much,
  and the cause: the op whose rule is wrong, or a hint such as a cut graph);
- `gradgradcheck(f, inputs)`: are its second derivatives right? (`create_graph=True`);
- `check_local_derivatives(root)`: *which* operation's rule is wrong? Every node's
  `backward` rule is checked on its own, against finite differences of its `forward`;
- `check_gradient_function(f, grad_f, inputs)`: is my hand-written backprop right?
- `compare_gradients(output, {node: my_gradient})`: which step of my hand-written backprop
  is wrong? (each node's gradient, intermediates too, against autograd's)

Everything works on any autograd `Node` (Value with float data, Tensor with ndarray
data) and, where it makes sense, on plain floats and float64 arrays. Finite differences
need float64: with float32 a step of 1e-6 is lost in rounding, so such inputs are refused.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import ieee
from ..engine import Node, local_gradients, topological_order
from ..gradients import grad
from ..modes import enable_grad

__all__ = [
    "GradcheckError",
    "GradcheckReport",
    "GradientRow",
    "LocalDerivativeReport",
    "NodeCheck",
    "check_gradient_function",
    "check_local_derivatives",
    "compare_gradients",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "numerical_grad",
]

_ARITHMETIC_ERRORS = (ZeroDivisionError, OverflowError, ValueError)
# A report's table (text or notebook display) shows this many rows, wrong ones first.
MAX_TABLE_ROWS = 40


class GradcheckError(RuntimeError):
    """Analytic and numerical gradients disagree (a RuntimeError, as in PyTorch), or a
    local check skipped nodes it was not allowed to skip.

    The message is the report's table; the report itself is in `.report`.
    """

    def __init__(self, message: str, report: Any = None):
        super().__init__(message)
        self.report = report


# -- reading inputs -------------------------------------------------------------------


def _check_callable(f: Any, name: str) -> None:
    if not callable(f):
        raise TypeError(
            f"{name} must be a function, called as {name}(*inputs); got {type(f).__name__}: {f!r:.60}"
        )


def _as_args(inputs: Any) -> tuple[Any, ...]:
    """`inputs` as the tuple of arguments of `f` (a lone node or array is one argument)."""
    return tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)


def _is_float_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)


def _raw_of(x: Any) -> Any:
    return x.data if isinstance(x, Node) else x


def _differentiable(x: Any) -> bool:
    """Whether finite differences can perturb this argument (a float or float array,
    bare or as a node's data); anything else (ints, strings, None) is passed through."""
    raw = _raw_of(x)
    if isinstance(raw, bool):
        return False
    return isinstance(raw, (float, np.floating)) or _is_float_array(raw)


def _require_float64(args: Sequence[Any], positions: Sequence[int], names: Sequence[str]) -> None:
    for i in positions:
        raw = _raw_of(args[i])
        if _is_float_array(raw) and raw.dtype != np.float64:
            raise ValueError(
                f"{names[i]} has dtype {raw.dtype}; finite differences need float64 (a step of 1e-6 "
                f"is lost in float32 rounding). Pass float64 data: {_to_float64_hint(args[i])}."
            )


def _to_float64_hint(x: Any) -> str:
    if isinstance(x, Node):
        return "x.double(), or Tensor(..., dtype='float64')"
    return "x.astype(np.float64)"


def _name(x: Any, i: int, names: Sequence[str] | None = None) -> str:
    if names is not None and i < len(names):
        return f"input {i} {names[i]!r}"
    label = getattr(x, "label", "") if isinstance(x, Node) else ""
    return f"input {i} {label!r}" if label else f"input {i}"


def _output_array(out: Any, what: str) -> np.ndarray:
    raw = _raw_of(out)
    try:
        array = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{what} must return a number, an array, a Value or a Tensor; got {type(out).__name__}: {out!r:.80}"
        ) from None
    return array


def _probe_weights(shape: tuple[int, ...]) -> np.ndarray:
    """Fixed, distinct, non-unit weights: checking d(sum(w * f)) instead of d(sum(f))
    also catches a rule that forgets the upstream gradient or mixes up elements."""
    return np.random.default_rng(20240607).uniform(0.5, 1.5, size=shape)


# -- finite differences ----------------------------------------------------------------


def _check_eps(eps: Any) -> None:
    # Refuses nan, inf and ints too large for a float as well as eps <= 0.
    real = isinstance(eps, (int, float)) and not isinstance(eps, bool)
    if not (real and 0 < eps <= float(np.finfo(np.float64).max)):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")


@dataclass
class _Slopes:
    """Central, left and right differences for one input (float64 arrays of its shape)."""

    central: np.ndarray
    left: np.ndarray
    right: np.ndarray


def _finite_differences(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    positions: Sequence[int],
    eps: float,
    weights: np.ndarray | None,
    what: str,
) -> dict[int, _Slopes]:
    """Slopes of F = sum(weights * f(*args)) with respect to each element of the arguments
    at `positions`. Node inputs are perturbed by replacing their `.data` (restored after),
    plain floats and arrays by passing perturbed copies."""
    _check_eps(eps)
    evaluate = _evaluator(f, weights, what)
    f0 = evaluate(args)
    slopes: dict[int, _Slopes] = {}
    for i in positions:
        base = _raw_of(args[i])
        shape = np.shape(base)
        central, left, right = np.empty(shape), np.empty(shape), np.empty(shape)
        for j in range(int(np.prod(shape))):
            step = np.zeros(shape)
            step.flat[j] = eps
            _fill(central, left, right, j, f0, _plus_minus(evaluate, args, i, step), eps)
        slopes[i] = _Slopes(central, left, right)
    return slopes


def _evaluator(f: Callable[..., Any], weights: np.ndarray | None, what: str) -> Callable[..., float]:
    """F(args) = sum(weights * f(*args)) as a float (f(*args) itself if weights is None)."""

    def evaluate(call_args: tuple[Any, ...]) -> float:
        out = _output_array(f(*call_args), what)
        if weights is None:
            if out.size != 1:
                raise ValueError(
                    f"{what} returned shape {out.shape}; finite differences of a non-scalar need "
                    "grad_output= (the weights of each output element), or reduce it with .sum()"
                )
            return float(out.reshape(()))
        if out.shape != weights.shape:
            raise ValueError(f"{what} returned shape {out.shape} but grad_output has shape {weights.shape}")
        with np.errstate(all="ignore"):
            return float(np.sum(weights * out))

    return evaluate


def _plus_minus(
    evaluate: Callable[..., float], args: tuple[Any, ...], i: int, step: np.ndarray
) -> tuple[float, float]:
    """F with argument i moved by +step and by -step (a node's `.data` is restored after)."""
    arg = args[i]
    base = _raw_of(arg)
    values = []
    for sign in (1.0, -1.0):
        moved = base + sign * step if isinstance(base, np.ndarray) else float(base) + sign * float(step)
        if isinstance(arg, Node):
            arg.data = moved
            try:
                values.append(evaluate(args))
            finally:
                arg.data = base
        else:
            values.append(evaluate(args[:i] + (moved,) + args[i + 1 :]))
    return values[0], values[1]


def _fill(
    central: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    j: int,
    f0: float,
    plus_minus: tuple[float, float],
    eps: float,
) -> None:
    """Element j of the central and one-sided differences, from F at x, x + step and x - step."""
    plus, minus = plus_minus
    with np.errstate(all="ignore"):
        central.flat[j] = (plus - minus) / (2 * eps)
        left.flat[j] = (f0 - minus) / eps
        right.flat[j] = (plus - f0) / eps


def _shaped(array: np.ndarray, like: Any) -> Any:
    """A float for a scalar input, an array for an array input."""
    return array if isinstance(_raw_of(like), np.ndarray) else float(array.reshape(()))


def numerical_grad(
    f: Callable[..., Any], inputs: Any, eps: float = 1e-6, grad_output: Any = None
) -> tuple[Any, ...]:
    """Central differences `(f(x + eps) - f(x - eps)) / (2 eps)` for every element of
    every input: one gradient per input (a float for a Value or float, an array for a
    Tensor or array; None for arguments that are not floats, which are passed through).

    `f(*inputs)` may return a Value, a Tensor, a float or an array. For an output with
    more than one element give `grad_output` (as for `backward(gradient)`): the result
    is then the gradient of `sum(grad_output * f)`. `.grad` is never touched.
    """
    _check_callable(f, "f")
    args = _as_args(inputs)
    positions = [i for i, a in enumerate(args) if _differentiable(a)]
    _require_float64(args, positions, [_name(a, i) for i, a in enumerate(args)])
    try:
        weights = None if grad_output is None else np.asarray(_raw_of(grad_output), dtype=np.float64)
    except OverflowError:
        raise ValueError(f"grad_output holds a number too large for a float: {grad_output!r:.60}") from None
    slopes = _finite_differences(f, args, positions, eps, weights, "f")
    return tuple(_shaped(slopes[i].central, args[i]) if i in slopes else None for i in range(len(args)))


# -- reports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GradientRow:
    """One input element: the gradient under test, the finite difference, their errors."""

    input: int
    name: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    failed: bool
    autograd: float | None = None
    note: str = ""

    def cells(self, with_autograd: bool) -> list[str]:
        """The row's numbers as table cells, in the columns of `GradcheckReport.header()`
        but the last (the verdict, which the text table and the notebook display word each
        their own way)."""
        cells = [self.name, _fmt_index(self.index), _fmt(self.analytic), _fmt(self.numeric)]
        if with_autograd:
            cells.append(_fmt(self.autograd))
        return [*cells, _fmt_err(self.abs_error), _fmt_err(self.rel_error)]


def failing_first(failed: Sequence[bool], limit: int) -> tuple[list[int], int]:
    """The positions of the rows a table shows, in their order (failing ones kept first when
    the rows must be cut to `limit`), and how many are left out."""
    positions = range(len(failed))
    if len(failed) <= limit:
        return list(positions), 0
    order = [k for k in positions if failed[k]] + [k for k in positions if not failed[k]]
    keep = sorted(order[:limit])
    return keep, len(failed) - len(keep)


def _compare(analytic: float, numeric: float, atol: float, rtol: float) -> tuple[float, float, bool]:
    with np.errstate(all="ignore"):
        abs_error = abs(analytic - numeric)
    if analytic == numeric:
        return 0.0, 0.0, True
    if abs_error != abs_error:  # nan
        return math.nan, math.nan, False
    rel_error = abs_error / abs(numeric) if numeric != 0 else math.inf
    return abs_error, rel_error, abs_error <= atol + rtol * abs(numeric)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.8g}"


def _fmt_err(x: float) -> str:
    return f"{x:.1e}" if math.isfinite(x) else str(x)


def _fmt_index(index: tuple[int, ...]) -> str:
    return "-" if index == () else f"[{', '.join(map(str, index))}]"


@dataclass
class GradcheckReport:
    """What a gradient check found: truthy when every element matches.

    `rows` has one `GradientRow` per checked input element; `problems` lists what
    could not be compared at all (a wrong shape, a missing gradient); `str(report)` is
    a readable table with a summary per input.
    """

    title: str
    rows: list[GradientRow]
    eps: float
    atol: float
    rtol: float
    problems: list[str] = field(default_factory=list)
    analytic_label: str = "analytic"
    notes: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)  # on a gradcheck failure: cause or hint
    reference_label: str = "numeric"  # what the gradient under test is compared with
    subject: str = "input"  # what the first column names: an input, or a node of a graph
    local: LocalDerivativeReport | None = None  # on a gradcheck failure: each op's rule checked

    @property
    def ok(self) -> bool:
        return not self.problems and not any(r.failed for r in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def failures(self) -> list[GradientRow]:
        return [r for r in self.rows if r.failed]

    def summary(self) -> list[str]:
        """One line per input with a wrong gradient: how many elements, the worst one."""
        lines = list(self.problems)
        by_input: dict[int, list[GradientRow]] = {}
        for row in self.rows:
            by_input.setdefault(row.input, []).append(row)
        for rows in by_input.values():
            bad = [r for r in rows if r.failed]
            if not bad:
                continue
            worst = max(bad, key=lambda r: r.abs_error if r.abs_error == r.abs_error else math.inf)
            where = "" if worst.index == () else f" at element {_fmt_index(worst.index)}"
            agree = all(
                r.autograd is not None and _compare(r.autograd, r.numeric, self.atol, self.rtol)[2]
                for r in bad
            )
            lines.append(
                f"{worst.name}: {len(bad)} of {len(rows)} elements wrong; largest error "
                f"{_fmt_err(worst.abs_error)}{where} ({self.analytic_label} {_fmt(worst.analytic)}, "
                f"{self.reference_label} {_fmt(worst.numeric)})"
                + ("; autograd agrees with the numeric values" if agree else "")
            )
        return lines

    @property
    def with_autograd(self) -> bool:
        """Whether the table has an autograd column (`check_gradient_function` fills it)."""
        return any(r.autograd is not None for r in self.rows)

    def header(self) -> list[str]:
        """The column names of the table, for `table()` and the notebook display."""
        autograd = ["autograd"] if self.with_autograd else []
        return [
            self.subject,
            "element",
            self.analytic_label,
            self.reference_label,
            *autograd,
            "abs err",
            "rel err",
            "",
        ]

    def table(self, max_rows: int = MAX_TABLE_ROWS) -> str:
        """The rows as aligned text; failing rows first when there are too many to show."""
        show_autograd = self.with_autograd
        header = self.header()
        keep, hidden = failing_first([r.failed for r in self.rows], max_rows)
        cells = []
        for r in (self.rows[k] for k in keep):
            verdict = ("<-- WRONG" if r.failed else "") + (f" ({r.note})" if r.note else "")
            cells.append([*r.cells(show_autograd), verdict])
        widths = [max(len(str(c[k])) for c in [header, *cells]) for k in range(len(header))]
        right = {2, 3, 4, 5, 6} if show_autograd else {2, 3, 4, 5}

        def render(line: list[str]) -> str:
            parts = [c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(line, widths))]
            return "  ".join(parts).rstrip()

        out = [render(header)] + [render(c) for c in cells]
        wrong = len(self.failures) - sum(self.rows[k].failed for k in keep)
        if hidden:
            which = f"{wrong} of them wrong" if wrong else "all matching"
            out.append(f"... {hidden} more rows not shown ({which}; report.rows has them all)")
        return "\n".join(out)

    def __str__(self) -> str:
        n_bad = len(self.failures)
        step = f"eps={self.eps:g}, " if self.reference_label == "numeric" else ""
        tolerances = f"({step}atol={self.atol:g}, rtol={self.rtol:g})"
        if self.ok:
            head = f"{self.title}: all {len(self.rows)} gradient elements match {tolerances}"
        elif n_bad:
            head = f"{self.title}: {n_bad} of {len(self.rows)} gradient elements are wrong {tolerances}"
        else:
            head = f"{self.title}: failed, for the reasons below {tolerances}"
        parts = [head]
        parts += [f"  {line}" for line in [*self.summary(), *self.advice]]
        parts += [f"  note: {n}" for n in self.notes]
        if self.rows and not self.ok:
            parts.append(self.table())
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"<GradcheckReport ok={self.ok} rows={len(self.rows)} wrong={len(self.failures)}>"


def _kink_note(slopes: _Slopes, index: int, atol: float, rtol: float, analytic: float) -> str:
    """Why a mismatch may not be the rule's fault: f is not finite nearby, or f has a kink here
    and the rule gave one of its one-sided slopes or a value between them (as relu'(0) = 0).
    Curvature alone also makes the two sides differ, but then a wrong rule falls outside them."""
    left, right = float(slopes.left.flat[index]), float(slopes.right.flat[index])
    if not (math.isfinite(left) and math.isfinite(right)):
        return "f is not finite next to this point"
    tolerance = atol + rtol * max(abs(left), abs(right))
    low, high = min(left, right), max(left, right)
    if high - low > tolerance and low - tolerance <= analytic <= high + tolerance:
        return f"f has a kink here: slope {left:.4g} on the left, {right:.4g} on the right"
    return ""


def _rows_for(
    i: int,
    name: str,
    analytic: np.ndarray,
    slopes: _Slopes,
    atol: float,
    rtol: float,
    autograd: np.ndarray | None = None,
) -> list[GradientRow]:
    rows = []
    shape = slopes.central.shape
    for j in range(slopes.central.size):
        a = float(analytic.flat[j])
        n = float(slopes.central.flat[j])
        abs_error, rel_error, ok = _compare(a, n, atol, rtol)
        auto = None if autograd is None else float(autograd.flat[j])
        if auto is not None and ok:
            ok = _compare(a, auto, atol, rtol)[2]
        note = "" if ok else _kink_note(slopes, j, atol, rtol, a)
        index = tuple(int(k) for k in np.unravel_index(j, shape)) if shape else ()
        rows.append(GradientRow(i, name, index, a, n, abs_error, rel_error, not ok, auto, note))
    return rows


def _analytic_grads(out: Node, nodes: list[Node], weights: np.ndarray | None) -> list[np.ndarray]:
    """Autograd's gradients of sum(weights * out) for `nodes` as float64 arrays (zeros
    where the output does not depend on a node). `.grad` is not touched."""
    if not out.requires_grad:
        return [np.zeros(np.shape(n.data)) for n in nodes]
    grads = grad(out, nodes, grad_outputs=weights, allow_unused=True)
    return [
        np.zeros(np.shape(node.data)) if g is None else np.asarray(_raw_of(g), dtype=np.float64)
        for node, g in zip(nodes, grads)
    ]


def _shape_problem(name: str, analytic: np.ndarray, data: Any, who: str) -> str:
    if analytic.shape == np.shape(data):
        return ""
    return (
        f"{name}: {who} gave a gradient of shape {analytic.shape} for an input of shape {np.shape(data)} "
        "(a gradient has the shape of its input)"
    )


def _finish(report: GradcheckReport, raise_exception: bool) -> GradcheckReport:
    if raise_exception and not report.ok:
        raise GradcheckError(str(report), report)
    return report


# -- gradcheck ---------------------------------------------------------------------------


def gradcheck(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    *,
    nondet_tol: float = 0.0,
    fast_mode: bool = False,
) -> GradcheckReport:
    """Compare autograd's gradient of `f(*inputs)` with central differences.

    Like `torch.autograd.gradcheck`: every input that requires grad is checked element
    by element; an element passes when `|analytic - numeric| <= atol + rtol * |numeric|`.
    On failure it raises `GradcheckError` whose message is a table (one row per input
    element with the analytic and numeric values, their absolute and relative error,
    and the wrong rows marked) and the cause: the op whose own derivative rule is wrong
    (found by `check_local_derivatives` on f's graph), or a hint where no rule is; with
    `raise_exception=False` it returns the report, which is truthy when everything matches.
    For an output with more than one element, the gradient of `sum(w * f)` is checked for
    fixed random weights `w`.

    As in PyTorch, a second backward pass must give the same gradients within `nondet_tol`
    (a rule that depends on state or randomness fails), and `fast_mode=True` checks each
    input along one random direction instead of element by element: two evaluations of `f`
    per input instead of two per element, for large inputs.
    """
    _check_callable(f, "f")
    report = _gradcheck("gradcheck", f, _as_args(inputs), eps, atol, rtol, nondet_tol, fast_mode)
    return _finish(report, raise_exception)


def _gradcheck(
    title: str,
    f: Callable[..., Any],
    args: tuple[Any, ...],
    eps: float,
    atol: float,
    rtol: float,
    nondet_tol: float,
    fast_mode: bool,
) -> GradcheckReport:
    """The report of gradcheck (or gradgradcheck, which checks a function of its own)."""
    names = [_name(a, i) for i, a in enumerate(args)]
    positions = _positions_to_check(title, args, names)
    if not (isinstance(nondet_tol, (int, float)) and not isinstance(nondet_tol, bool) and nondet_tol >= 0):
        raise ValueError(f"nondet_tol must be a number >= 0, got {nondet_tol!r}")
    out = f(*args)
    if not isinstance(out, Node):
        raise TypeError(
            f"{title}: f must return the Value or Tensor it computed from its inputs, got "
            f"{type(out).__name__} {out!r:.60}; return the node itself, not its .data"
        )
    out_data = np.asarray(out.data, dtype=np.float64)
    weights = None if out_data.size == 1 else _probe_weights(out_data.shape)
    nodes = [args[i] for i in positions]
    analytic = _analytic_grads(out, nodes, weights)
    problems = [_shape_problem(names[i], a, args[i].data, "autograd") for i, a in zip(positions, analytic)]
    problems = [p for p in problems if p]
    problems += _not_reentrant(out, nodes, weights, analytic, [names[i] for i in positions], nondet_tol)
    checked = [(i, a) for i, a in zip(positions, analytic) if a.shape == np.shape(args[i].data)]
    rows: list[GradientRow] = []
    if fast_mode:
        rows = _directional_rows(f, args, checked, names, eps, weights, atol, rtol)
    else:
        slopes = _finite_differences(f, args, [i for i, _ in checked], eps, weights, "f")
        for i, a in checked:
            rows += _rows_for(i, names[i], a, slopes[i], atol, rtol)
    notes = []
    if weights is not None:
        notes.append(
            f"the output has shape {out_data.shape}: checked d(sum(w * f)) for fixed random weights w"
        )
    if fast_mode:
        notes.append(
            "fast_mode: each input checked along one random direction u (d/dt F(x + t u) against "
            "sum(gradient * u)); run with fast_mode=False to see which elements are wrong"
        )
    report = GradcheckReport(title, rows, eps, atol, rtol, problems, notes=notes)
    if report.failures:
        report.advice = _diagnosis(f, args, positions, out, report)
    return report


def _positions_to_check(title: str, args: tuple[Any, ...], names: list[str]) -> list[int]:
    """The positions of the inputs that require grad, refusing inputs that cannot be checked."""
    positions = [i for i, a in enumerate(args) if isinstance(a, Node) and a.requires_grad]
    if not positions:
        raise ValueError(
            f"{title} expects at least one input that requires grad (a Value, or a Tensor with "
            f"requires_grad=True); got {', '.join(type(a).__name__ for a in args) or 'no inputs'}"
        )
    for i in positions:
        if not _differentiable(args[i]):
            raise ValueError(
                f"{names[i]} requires grad but its data is not floating point: {args[i].data!r:.60}"
            )
    _require_float64(args, positions, names)
    return positions


def _not_reentrant(
    out: Node,
    nodes: list[Node],
    weights: np.ndarray | None,
    first: list[np.ndarray],
    names: list[str],
    nondet_tol: float,
) -> list[str]:
    """Problems where a second backward pass on the same graph gives other gradients than the
    first by more than nondet_tol (PyTorch's "backward is not reentrant")."""
    problems = []
    for name, a, b in zip(names, first, _analytic_grads(out, nodes, weights)):
        if a.shape != b.shape or np.array_equal(a, b, equal_nan=True):
            continue
        with np.errstate(all="ignore"):
            difference = float(np.max(np.abs(a - b)))
        if not difference <= nondet_tol:  # nan included
            problems.append(
                f"{name}: backward is not reentrant: two backward passes through the same graph gave "
                f"gradients {difference:.1e} apart (nondet_tol={nondet_tol:g}); a backward rule depends "
                "on state or randomness: make it deterministic, or pass nondet_tol= to allow that much"
            )
    return problems


def _direction(shape: tuple[int, ...], i: int) -> np.ndarray:
    """A fixed random direction for input i: magnitudes in [0.5, 1.5], random signs."""
    rng = np.random.default_rng(20240608 + i)
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _directional_rows(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    checked: list[tuple[int, np.ndarray]],
    names: list[str],
    eps: float,
    weights: np.ndarray | None,
    atol: float,
    rtol: float,
) -> list[GradientRow]:
    """fast_mode: one row per input, the slope of F along a random direction u of the input's
    shape (central differences with the step eps * u) against sum(analytic * u)."""
    _check_eps(eps)
    evaluate = _evaluator(f, weights, "f")
    f0 = evaluate(args)
    rows: list[GradientRow] = []
    for i, a in checked:
        u = _direction(a.shape, i)
        slopes = _Slopes(np.empty(()), np.empty(()), np.empty(()))
        _fill(slopes.central, slopes.left, slopes.right, 0, f0, _plus_minus(evaluate, args, i, eps * u), eps)
        with np.errstate(all="ignore"):
            along = np.asarray(np.sum(a * u))
        rows += _rows_for(i, f"{names[i]} along u", along, slopes, atol, rtol)
    return rows


def _diagnosis(
    f: Callable[..., Any], args: tuple[Any, ...], positions: list[int], out: Node, report: GradcheckReport
) -> list[str]:
    """Why gradients are wrong: the op whose own rule is wrong (the local checks of f's graph,
    kept in `report.local`), else a hint at what else makes autograd disagree."""
    local = check_local_derivatives(
        out, report.eps, report.atol, report.rtol, raise_exception=False, allow_skips=True
    )
    report.local = local
    first = local.first_failure
    if first is not None:
        return [
            f"cause: op {first.op!r} has a wrong derivative rule (node {first.position} of "
            f"{len(local.checks)} in forward order, found by check_local_derivatives on f's graph): "
            "fix its backward; report.local compares the rule with finite differences"
        ]
    outputs = [_output_array(f(*args), "f") for _ in range(2)]
    if not np.array_equal(outputs[0], outputs[1], equal_nan=True):
        return [
            f"hint: f gives different outputs for the same inputs ({_short(outputs[0])}, then "
            f"{_short(outputs[1])}): finite differences need a deterministic f (fix its random seed, "
            "keep no state between calls)"
        ]
    if all(r.note for r in report.failures):
        return []  # each wrong row says why already (a kink, f not finite nearby)
    cut = _cut_leaves(f, args, positions)
    if cut:
        return [
            f"hint: f's graph has {len(cut)} leaf node(s) that are not inputs but move with the inputs "
            f"(data {', '.join(_short(n.data) for n in cut[:3])}): the graph is cut there (f, or a "
            "backward rule, took a number out with .data, .item(), float(...) or detach() and made "
            "a new node of it), so autograd cannot see that path"
        ]
    return [
        "hint: no single cause found: every op's own rule matches finite differences at its inputs "
        "(for the upstream gradient report.local shows), f is deterministic and its graph is not "
        f"cut; try another eps (this check used {report.eps:g}), or the rules at other upstream gradients"
    ]


def _leaves(out: Any, inputs: list[Any]) -> list[Node]:
    """The leaf nodes of out's graph other than `inputs`, in a fixed order (depth first)."""
    if not isinstance(out, Node):
        return []
    leaves: list[Node] = []
    seen: set[int] = {id(x) for x in inputs}
    stack = [out]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._op is None:
            leaves.append(node)
        stack.extend(reversed(node._parents))
    return leaves


def _cut_leaves(f: Callable[..., Any], args: tuple[Any, ...], positions: list[int]) -> list[Node]:
    """Leaves of f's graph, other than the inputs, whose data moves when the inputs move: a
    number taken out of the graph and put back as a new node, where autograd cannot follow."""
    inputs = [args[i] for i in positions]
    before = _leaves(f(*args), inputs)
    bases = [x.data for x in inputs]
    try:
        for x, base in zip(inputs, bases):
            x.data = base * (1 + 1e-3) + 1e-3
        after = _leaves(f(*args), inputs)
    except Exception:  # noqa: BLE001 - f refuses inputs moved that far: no verdict on cuts
        return []
    finally:
        for x, base in zip(inputs, bases):
            x.data = base
    if len(before) != len(after):
        return []  # another graph: the leaves cannot be matched up
    with np.errstate(all="ignore"):
        return [
            b
            for b, a in zip(before, after)
            if np.shape(b.data) == np.shape(a.data) and np.any(b.data != a.data)
        ]


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    *,
    nondet_tol: float = 0.0,
    fast_mode: bool = False,
) -> GradcheckReport:
    """Check second derivatives: `gradcheck` of the gradients `grad(..., create_graph=True)`
    computes, as `torch.autograd.gradgradcheck` does.

    The function checked is `sum_i sum(v_i * dF/dx_i)` for fixed random weights `v_i` of each
    input's shape, where `F = sum(grad_outputs * f)` (`grad_outputs` defaults to 1 for a scalar
    output, to fixed random weights otherwise): its gradient is the Hessian of F times v, so
    every second derivative takes part. It catches a backward rule that gives the right
    numbers but is not differentiable as written: one that computes with raw numbers (`.data`,
    `np.exp`) instead of the operators of the Values or Tensors it is given. Unlike PyTorch,
    `grad_outputs` are constants here, not checked as inputs.
    """
    _check_callable(f, "f")
    args = _as_args(inputs)
    given = None if grad_outputs is None else np.asarray(_raw_of(grad_outputs), dtype=np.float64)

    def first_derivatives(*call_args: Any) -> Any:
        out = f(*call_args)
        if not isinstance(out, Node):
            return out  # _gradcheck says what f must return
        nodes = [a for a in call_args if isinstance(a, Node) and a.requires_grad]
        weights = given
        if weights is None and np.size(out.data) != 1:
            weights = _probe_weights(np.shape(out.data))
        grads = grad(out, nodes, grad_outputs=weights, create_graph=True, allow_unused=True)
        total = None
        for k, (node, g) in enumerate(zip(nodes, grads)):
            if g is None:
                continue
            if isinstance(node.data, np.ndarray):
                term = (g * _direction(node.data.shape, k)).sum()
            else:
                term = g * float(_direction((), k))
            total = term if total is None else total + term
        if total is None:
            raise ValueError("gradgradcheck: f does not depend on any input that requires grad")
        return total

    try:
        first_derivatives(*args)
    except Exception as error:
        refusing = _rule_refusing_nodes(f(*args), error)
        if refusing is None:
            raise
        report = GradcheckReport("gradgradcheck", [], eps, atol, rtol, [refusing])
        return _finish(report, raise_exception)
    report = _gradcheck("gradgradcheck", first_derivatives, args, eps, atol, rtol, nondet_tol, fast_mode)
    report.notes.insert(
        0, "checked the gradient of sum_i sum(v_i * dF/dx_i) for fixed random weights v_i: second derivatives"
    )
    return _finish(report, raise_exception)


def _rule_refusing_nodes(out: Any, error: Exception) -> str | None:
    """Which op's backward rule cannot run on nodes (as create_graph=True runs it), said with
    `error`, the exception that showed it; None if every rule runs."""
    if not isinstance(out, Node):
        return None
    for node in reversed(topological_order(out)):
        if node._op is None:
            continue
        ones = np.ones(np.shape(node.data)) if isinstance(node.data, np.ndarray) else 1.0
        try:
            with enable_grad():
                local_gradients(node, node._constant_like(ones), create_graph=True)
        except Exception:  # noqa: BLE001 - this rule is the one that refuses nodes
            kind = type(node).__name__
            return (
                f"the backward rule of op {node.op!r} cannot run on {kind}s ({type(error).__name__}: "
                f"{error}): under create_graph=True a rule gets {kind}s, not numbers, so write it with "
                f"their operators and methods (x.exp(), not np.exp(x)) to make it differentiable"
            )
    return None


# -- hand-written gradients ------------------------------------------------------------------


def check_gradient_function(
    f: Callable[..., Any],
    grad_f: Callable[..., Any],
    inputs: Any,
    raise_exception: bool = True,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    names: Sequence[str] | None = None,
) -> GradcheckReport:
    """Check a hand-written gradient `grad_f` of a scalar function `f`.

    Both are called as `f(*inputs)` / `grad_f(*inputs)`: `f` may be plain numpy code
    returning a float (a loss), `grad_f` returns one gradient per input, of the input's
    shape, or None for an input it does not differentiate (data, labels): those are not
    checked. The reference is central differences, and autograd as well when `f` returns
    a Value or Tensor. A mismatch raises `GradcheckError` (as `gradcheck` does, so a test
    that forgets to assert still fails) whose text says which input's gradient is wrong, by
    how much and at which elements; with `raise_exception=False` it returns the report,
    truthy when every checked input matches. `names` labels the inputs in that text.
    """
    _check_callable(f, "f")
    _check_callable(grad_f, "grad_f")
    args = _as_args(inputs)
    labels = [_name(a, i, names) for i, a in enumerate(args)]
    given = grad_f(*args)
    if len(args) == 1 and not isinstance(given, (list, tuple)):
        given = (given,)
    if not isinstance(given, (list, tuple)) or len(given) != len(args):
        count = len(given) if isinstance(given, (list, tuple)) else type(given).__name__
        raise ValueError(
            f"grad_f must return one gradient per input (None for inputs it does not differentiate): "
            f"got {count} for {len(args)} inputs"
        )
    problems: list[str] = []
    skipped: list[str] = []
    positions: list[int] = []
    given_arrays: dict[int, np.ndarray] = {}
    for i, (arg, g) in enumerate(zip(args, given)):
        if g is None:
            skipped.append(labels[i])
            continue
        if not _differentiable(arg):
            problems.append(
                f"{labels[i]}: grad_f returned a gradient but the input is not a float or float array"
            )
            continue
        array = np.asarray(_raw_of(g), dtype=np.float64)
        shape = np.shape(_raw_of(arg))
        if array.shape != shape:
            problems.append(
                f"{labels[i]}: grad_f returned shape {array.shape} but the input has shape {shape} "
                "(a gradient has the shape of its input)"
            )
            continue
        positions.append(i)
        given_arrays[i] = array
    _require_float64(args, positions, labels)
    out = f(*args)
    if _output_array(out, "f").size != 1:
        raise ValueError(
            f"check_gradient_function: f must return one number (a loss), got shape {np.shape(_raw_of(out))}"
        )
    slopes = _finite_differences(f, args, positions, eps, None, "f")
    autograd_arrays: dict[int, np.ndarray] = {}
    if isinstance(out, Node):
        node_positions = [i for i in positions if isinstance(args[i], Node) and args[i].requires_grad]
        if node_positions:
            for i, a in zip(node_positions, _analytic_grads(out, [args[i] for i in node_positions], None)):
                problem = _shape_problem(labels[i], a, args[i].data, "autograd")
                if problem:
                    problems.append(problem)
                else:
                    autograd_arrays[i] = a
    rows: list[GradientRow] = []
    for i in positions:
        rows += _rows_for(i, labels[i], given_arrays[i], slopes[i], atol, rtol, autograd_arrays.get(i))
    notes = [f"not checked (grad_f returned None): {', '.join(skipped)}"] if skipped else []
    report = GradcheckReport("check_gradient_function", rows, eps, atol, rtol, problems, "given", notes)
    return _finish(report, raise_exception)


def compare_gradients(
    output: Node,
    gradients: Mapping[Node, Any],
    raise_exception: bool = True,
    *,
    grad_output: Any = None,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> GradcheckReport:
    """Compare gradients you computed by hand with autograd's, node by node, as in "becoming a
    backprop ninja" (Karpathy compares each of his with PyTorch's `.grad`).

    `gradients` maps nodes of `output`'s graph (inputs, parameters or intermediate results) to
    your gradient of `output` with respect to each. Autograd's come from `grad` (no `.grad`
    is touched, no `retain_grad()` needed); `grad_output` seeds a non-scalar output. List the
    nodes in the order your backprop computes them: the advice then names the first wrong
    one, whose step is the one to fix (the ones before it are right). Raises `GradcheckError`
    on a mismatch; with `raise_exception=False` returns the report.
    """
    if not isinstance(output, Node):
        raise TypeError(
            f"compare_gradients() takes the output node of a graph first, got {type(output).__name__}"
        )
    if not isinstance(gradients, Mapping) or not all(isinstance(n, Node) for n in gradients):
        raise TypeError(
            "compare_gradients() takes a dict from nodes to your gradients, e.g. {logits: dlogits, W1: dW1}"
        )
    nodes = list(gradients)
    names = [repr(n.label) if n.label else f"node {k}" for k, n in enumerate(nodes)]
    problems = [
        f"{name} does not require grad: autograd has no gradient for it"
        for name, n in zip(names, nodes)
        if not n.requires_grad
    ]
    references = grad(output, nodes, grad_outputs=grad_output, allow_unused=True)
    rows: list[GradientRow] = []
    for k, (node, reference) in enumerate(zip(nodes, references)):
        if not node.requires_grad:
            continue
        shape = np.shape(node.data)
        given = np.asarray(_raw_of(gradients[node]), dtype=np.float64)
        if given.shape != shape:
            problems.append(
                f"{names[k]}: your gradient has shape {given.shape} but the node has shape {shape} "
                "(a gradient has the shape of its node)"
            )
            continue
        expected = np.zeros(shape) if reference is None else np.asarray(_raw_of(reference), dtype=np.float64)
        for j in range(given.size):
            a, e = float(given.flat[j]), float(expected.flat[j])
            abs_error, rel_error, ok = _compare(a, e, atol, rtol)
            index = tuple(int(i) for i in np.unravel_index(j, shape)) if shape else ()
            rows.append(GradientRow(k, names[k], index, a, e, abs_error, rel_error, not ok))
    report = GradcheckReport(
        "compare_gradients",
        rows,
        math.nan,
        atol,
        rtol,
        problems,
        "given",
        reference_label="autograd",
        subject="node",
    )
    if report.failures:
        first = names[report.failures[0].input]
        report.advice = [
            f"the first wrong gradient in the order given is {first}: if they are in the order your "
            "backprop computes them, the step that computes it is wrong (the ones before it are right)"
        ]
    return _finish(report, raise_exception)


# -- local derivatives -------------------------------------------------------------------------


@dataclass
class NodeCheck:
    """The check of one node's rule: its op, the inputs it was checked at, the rows.
    `skipped` says why the rule could not be checked here (a kink, the edge of the op's
    domain, rounding); a skipped node is neither wrong nor verified."""

    position: int
    node: Node
    op: str
    inputs: tuple[Any, ...]
    upstream: Any
    rows: list[GradientRow]
    problems: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not any(r.failed for r in self.rows)


def _short(x: Any) -> str:
    """A number or array on one line (a report's lines stay lines)."""
    if isinstance(x, np.ndarray):
        body = np.array2string(x, precision=6, threshold=8, separator=", ", max_line_width=10**6)
        body = body.replace("\n", "")
        return f"array(shape={x.shape}, {body})" if x.ndim else body
    return repr(float(x)) if isinstance(x, (float, np.floating)) else repr(x)


@dataclass
class LocalDerivativeReport:
    """Every node's rule checked on its own. `first_failure` is the earliest node (in
    forward order) whose rule disagrees with finite differences. Truthy when no rule is
    wrong and no node was skipped, or, with `allow_skips`, when no rule is wrong."""

    checks: list[NodeCheck]
    eps: float
    atol: float
    rtol: float
    allow_skips: bool = False

    @property
    def failures(self) -> list[NodeCheck]:
        return [c for c in self.checks if not c.ok]

    @property
    def skipped(self) -> list[NodeCheck]:
        return [c for c in self.checks if c.skipped]

    @property
    def first_failure(self) -> NodeCheck | None:
        failures = self.failures
        return failures[0] if failures else None

    @property
    def ok(self) -> bool:
        return not self.failures and (self.allow_skips or not self.skipped)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        skipped = self.skipped
        checked = len(self.checks) - len(skipped)
        tolerances = f"(eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g})"
        tail = [f"  skipped {c.op!r} (node {c.position}): {c.skipped}" for c in skipped[:10]]
        if len(skipped) > 10:
            tail.append(f"  ... and {len(skipped) - 10} more skipped nodes")
        first = self.first_failure
        if first is None:
            matched = (
                f"the rules of all {checked} checked operation nodes match finite differences {tolerances}"
            )
            if not skipped:
                head = f"check_local_derivatives: {matched}"
            elif self.allow_skips:
                head = f"check_local_derivatives: {matched}; {len(skipped)} skipped (allowed)"
            else:
                head = (
                    f"check_local_derivatives: {len(skipped)} of {len(self.checks)} operation nodes skipped, "
                    f"so not verified (pass allow_skips=True to accept skips); {matched}"
                )
            return "\n".join([head, *tail])
        where = getattr(first.node, "_where", None)
        label = getattr(first.node, "label", "")
        about = ", ".join(
            filter(None, [f"label {label!r}" if label else "", f"created at {where}" if where else ""])
        )
        head = (
            f"check_local_derivatives: the derivative rule of op {first.op!r} is wrong "
            f"(node {first.position} of {len(self.checks)} in forward order{', ' + about if about else ''})\n"
            f"  inputs: {', '.join(_short(x) for x in first.inputs)}\n"
            f"  upstream gradient g = {_short(first.upstream)} (the rule's results are compared with "
            f"finite differences of g * forward)"
        )
        lines = [head, *[f"  {p}" for p in first.problems]]
        for row in first.rows:
            if row.failed and np.ndim(first.upstream) == 0 and row.index == ():
                g = float(first.upstream)
                lines.append(
                    f"  {row.name}: backward gives {row.analytic:.8g} = g * {row.analytic / g:.8g}, "
                    f"finite differences give {row.numeric:.8g} = g * {row.numeric / g:.8g}"
                )
        if first.rows:
            report = GradcheckReport("", first.rows, self.eps, self.atol, self.rtol, analytic_label="rule")
            lines.append(report.table())
        others = self.failures[1:]
        if others:
            lines.append("  also wrong: " + ", ".join(f"{c.op!r} (node {c.position})" for c in others))
        return "\n".join(lines + tail)

    def __repr__(self) -> str:
        first = self.first_failure
        return (
            f"<LocalDerivativeReport ok={self.ok} nodes={len(self.checks)} skipped={len(self.skipped)} "
            f"first_wrong={first.op if first else None!r}>"
        )


def _forward(op: Any, datas: Sequence[Any]) -> Any:
    """Run an op's forward on raw data with IEEE results (nan where Python would raise)."""
    with np.errstate(all="ignore"):
        try:
            return op.forward(*datas)
        except _ARITHMETIC_ERRORS:
            try:
                return op.forward(*[np.float64(d) if isinstance(d, float) else d for d in datas])
            except _ARITHMETIC_ERRORS:
                return math.nan


def _rule(node: Node, op: Any, g: Any, out: Any, datas: list[Any]) -> Any:
    """The rule's contributions, called as a backward pass calls it (engine.local_gradients):
    where Python floats raise (1 / 0.0, overflow), once more on IEEE numbers (inf, nan)."""
    with np.errstate(all="ignore"):
        try:
            return op.backward(g, out, *datas)
        except ieee.ERRORS:
            return ieee.again(op.backward, g, out, *datas)


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
        out = _output_array(_forward(op, moved), what)
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
    _check_eps(eps)
    order = list(reversed(topological_order(root)))
    ops = [n for n in order if n._op is not None]
    checks = [_check_node(k, node, eps, atol, rtol) for k, node in enumerate(ops)]
    report = LocalDerivativeReport(checks, eps, atol, rtol, allow_skips)
    if raise_exception and not report.ok:
        raise GradcheckError(str(report), report)
    return report
