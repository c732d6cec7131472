"""The reports the checks return: a row per gradient element, the table, the summary and the
error raised on a failure (`GradcheckError`, whose message is the report)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine import Node
from ..gradients import grad
from .numerical import _raw_of, _Slopes

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
    unit: str = "gradient element{s}"  # what a row is, {s} the plural's s (fast_mode: a direction)

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
        n = len(self.rows)

        def rows(count: int) -> str:
            return f"{count} {self.unit.format(s='' if count == 1 else 's')}"

        if self.ok:
            verdict = {0: f"no {self.unit.format(s='s')} to compare", 1: f"the {rows(1)} matches"}
            head = f"{self.title}: {verdict.get(n, f'all {rows(n)} match')} {tolerances}"
        elif n_bad:
            are = "is" if n_bad == 1 else "are"
            wrong = f"the {rows(1)} is" if n == 1 else f"{n_bad} of {rows(n)} {are}"
            head = f"{self.title}: {wrong} wrong {tolerances}"
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


def _analytic_grads(
    out: Node, nodes: list[Node], weights: np.ndarray | None, scale: float = 1.0
) -> list[np.ndarray]:
    """Autograd's gradients of sum(weights * out) for `nodes` as float64 arrays (zeros
    where the output does not depend on a node), from the output gradient `weights` (the
    seed of backward() for a scalar output) times `scale`. `.grad` is not touched."""
    if not out.requires_grad:
        return [np.zeros(np.shape(n.data)) for n in nodes]
    seed = scale * (out._seed() if weights is None else weights)
    grads = grad(out, nodes, grad_outputs=seed, allow_unused=True)
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
    wrong and no node was skipped, or, with `allow_skips`, when no rule is wrong; so for a
    graph without operation nodes (a leaf), which has no rule to be wrong, though its text
    says that nothing was checked."""

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
        if not self.checks:
            return (
                "check_local_derivatives: nothing to check: the graph has no operation nodes (its root is "
                "a leaf), so no derivative rule was checked"
            )
        if first is None:
            if checked == 0:
                matched = "no operation node was checked"
            elif checked == 1:
                matched = f"the rule of the 1 checked operation node matches finite differences {tolerances}"
            else:
                matched = f"the rules of all {checked} checked operation nodes match finite differences {tolerances}"
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
