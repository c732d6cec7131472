"""How the library's objects show themselves in a notebook (Jupyter, JupyterLab, VS Code).

A notebook asks an object for `_repr_html_()` and shows the HTML it returns. Here a Value
shows its data and grad; a Tensor its shape, dtype, data and grad; a gradient check report
its table; a step of the forward or backward pass its narration; an optimizer and a Module
what they hold. Every text that comes from the user (labels, names) is escaped, so a label
such as `<script>` shows as text.

`install()` gives each class its display. It is called once, by `micrograd_plus/__init__.py`:
so the engine, `nn` and `check` need not know that notebooks exist (nothing below `viz`
imports `viz`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..check.reports import (
    MAX_TABLE_ROWS,
    GradcheckReport,
    GradientRow,
    LocalDerivativeReport,
    failing_first,
)
from ..engine import Node, Value
from ..nn.module import Module
from ..optim import Optimizer
from ..tensors import Tensor
from .trace import BackwardStep, ForwardStep, format_number, format_value

# A table of parameters shows this many rows, then says how many more there are.
MAX_PARAMETER_ROWS = 20

_BOX = 'style="font-family: Helvetica, Arial, sans-serif; font-size: 0.92em; margin: 0.2em 0;"'
_TABLE = 'style="border-collapse: collapse; margin: 0.3em 0;"'
_CELL = "border: 1px solid #dee2e6; padding: 0.15em 0.6em;"
_WRONG = "background: #ffe3e3;"
_PRE = (
    'style="background: #f8f9fa; border-left: 4px solid #1c64f2; padding: 0.4em 0.8em; '
    'margin: 0.3em 0; white-space: pre-wrap;"'
)


def _escaped(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], wrong: Iterable[bool] = ()) -> str:
    """An HTML table: a header row, then the rows (those flagged in `wrong` shaded red).
    Cells are in monospace, and every one is escaped."""
    flags = list(wrong)
    head = "".join(f'<th style="{_CELL} text-align: left;">{_escaped(h)}</th>' for h in header)
    body = []
    for k, row in enumerate(rows):
        shade = _WRONG if k < len(flags) and flags[k] else ""
        cells = "".join(f'<td style="{_CELL} font-family: monospace;">{_escaped(c)}</td>' for c in row)
        body.append(f'<tr style="{shade}">{cells}</tr>')
    return f"<table {_TABLE}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _pre(text: str) -> str:
    return f"<pre {_PRE}>{_escaped(text)}</pre>"


def _box(*parts: str) -> str:
    return f"<div {_BOX}>{''.join(parts)}</div>"


def _array(x: Any) -> str:
    if x is None:
        return "None"
    return np.array2string(np.asarray(x), precision=6, threshold=60, separator=", ")


def _shape(node: Node) -> str:
    return "scalar" if not isinstance(node.data, np.ndarray) else str(tuple(node.data.shape))


# -- nodes ------------------------------------------------------------------------------


def value_html(value: Value) -> str:
    """A Value: its label, data and grad (in full precision), and the op that made it."""
    header = ["Value", "data", "grad"]
    row = [value.label or "", repr(value.data), repr(value.grad)]
    if value.op:
        header.append("op")
        row.append(value.op)
    if not value.requires_grad:
        header.append("requires_grad")
        row.append("False")
    return _table(header, [row])


def tensor_html(tensor: Tensor) -> str:
    """A Tensor: shape, dtype, the op that made it, then its data and its grad."""
    facts = [
        f"shape {tuple(tensor.data.shape)}",
        f"dtype {tensor.data.dtype}",
        f"requires_grad={tensor.requires_grad}",
    ]
    if tensor.op:
        facts.append(f"op {tensor.op!r}")
    name = f" {tensor.label!r}" if tensor.label else ""
    grad = _array(tensor.grad)
    if tensor.grad is None:
        grad += "  (no backward pass has reached it)"
    return _box(
        f"<b>Tensor{_escaped(name)}</b>: {_escaped(', '.join(facts))}",
        "<div>data</div>",
        _pre(_array(tensor.data)),
        "<div>grad</div>",
        _pre(grad),
    )


# -- steps ------------------------------------------------------------------------------


def forward_step_html(step: ForwardStep) -> str:
    """A forward step: its number and its narration."""
    return _box(f"<b>Forward step {step.index + 1}</b>", _pre(str(step)))


def backward_step_html(step: BackwardStep) -> str:
    """A backward step: its number, whose gradient it sends back, and its narration."""
    what = "the seed" if step.is_seed else f"{step.name} sends its gradient back"
    return _box(f"<b>Backward step {step.index}</b>: {_escaped(what)}", _pre(str(step)))


# -- gradient checks --------------------------------------------------------------------


def _gradient_cells(row: GradientRow, with_autograd: bool) -> list[str]:
    status = "WRONG" if row.failed else "ok"
    return [*row.cells(with_autograd), status + (f" ({row.note})" if row.note else "")]


def _more(hidden: int, where: str) -> str:
    return f"<div>... {hidden} more rows not shown ({_escaped(where)} has them all)</div>" if hidden else ""


def gradcheck_report_html(report: GradcheckReport) -> str:
    """The verdict and summary (as `str(report)` starts) and every element as a table row,
    wrong ones shaded: failing rows are kept first when there are too many to show."""
    verdict = str(report)
    if report.rows and not report.ok:
        verdict = verdict.removesuffix(report.table()).rstrip()
    failed = [r.failed for r in report.rows]
    keep, hidden = failing_first(failed, MAX_TABLE_ROWS)
    table = _table(
        report.header(),
        [_gradient_cells(report.rows[k], report.with_autograd) for k in keep],
        [failed[k] for k in keep],
    )
    return _box(_pre(verdict), table, _more(hidden, "report.rows"))


def local_derivative_report_html(report: LocalDerivativeReport) -> str:
    """The verdict (the first line of `str(report)`), then one row per input of each checked
    node, and the skipped nodes with the reason; wrong rules shaded."""
    verdict = str(report).splitlines()[0]
    rows: list[list[str]] = []
    failed: list[bool] = []
    for check in report.checks:
        if check.skipped:
            rows.append(
                [str(check.position), check.op, "-", "-", "-", "-", "-", "-", f"skipped: {check.skipped}"]
            )
            failed.append(False)
            continue
        for problem in check.problems:
            rows.append([str(check.position), check.op, "-", "-", "-", "-", "-", "-", problem])
            failed.append(True)
        for row in check.rows:
            rows.append([str(check.position), check.op, *_gradient_cells(row, with_autograd=False)])
            failed.append(row.failed)
    keep, hidden = failing_first(failed, MAX_TABLE_ROWS)
    header = ["node", "op", "input", "element", "rule", "numeric", "abs err", "rel err", ""]
    table = _table(header, [rows[k] for k in keep], [failed[k] for k in keep])
    return _box(_pre(verdict), table, _more(hidden, "report.checks"))


# -- models and optimizers --------------------------------------------------------------


def _parameter_rows(named: Sequence[tuple[str, Node]]) -> tuple[list[list[str]], int]:
    rows = [
        [name, _shape(p), format_value(p.data), format_value(p.grad)]
        for name, p in named[:MAX_PARAMETER_ROWS]
    ]
    return rows, max(0, len(named) - MAX_PARAMETER_ROWS)


def _count_numbers(params: Iterable[Node]) -> int:
    return sum(int(np.size(p.data)) for p in params)


def module_html(module: Module) -> str:
    """A Module: what it is, how many parameters (and numbers) it holds, and a table of its
    named parameters with their data and grad."""
    named = list(module.named_parameters())
    description = repr(module)
    if len(description) > 300:
        description = description[:300] + " ..."
    rows, hidden = _parameter_rows(named)
    return _box(
        f"<b>{_escaped(type(module).__name__)}</b>: {len(named)} parameters, "
        f"{_count_numbers(p for _, p in named)} numbers",
        _pre(description),
        _table(["parameter", "shape", "data", "grad"], rows),
        _more(hidden, "model.named_parameters()"),
    )


def _setting_text(x: Any) -> str:
    return format_number(x) if isinstance(x, float) else str(x)


def _state_text(x: Any) -> str:
    """A counter (Adam's step) as an int, LBFGS's history lists by their length, a buffer as
    `format_value` writes it."""
    if isinstance(x, (int, np.integer)):
        return str(x)
    if isinstance(x, (list, tuple)):
        return f"list of {len(x)}"
    return format_value(x)


def optimizer_html(optimizer: Optimizer) -> str:
    """An optimizer: its options (lr first, a row per parameter group), then its parameters
    with their data, grad and the state it keeps for each (momentum buffers, running averages,
    steps)."""
    options = ["lr", *(name for name in optimizer.defaults if name != "lr")]
    groups = [[_setting_text(group[name]) for name in options] for group in optimizer.param_groups]
    params = optimizer.params
    states = [optimizer.state.get(p, {}) for p in params]
    keys: list[str] = []
    for state in states:
        keys += [k for k in state if k not in keys]
    rows, hidden = _parameter_rows([(str(k), p) for k, p in enumerate(params)])
    for row, state in zip(rows, states):
        row.extend(_state_text(state[k]) if k in state else "-" for k in keys)
    return _box(
        f"<b>{_escaped(type(optimizer).__name__)}</b>: {len(params)} parameters, {_count_numbers(params)} numbers",
        _table(options, groups),
        _table(["#", "shape", "data", "grad", *keys], rows),
        _more(hidden, "optimizer.params"),
    )


# -- registration -----------------------------------------------------------------------


def _pretty_str(self: Any, printer: Any, cycle: bool) -> None:
    """IPython's plain-text display: the readable `str` (the table, the narration)."""
    printer.text(str(self))


def install() -> None:
    """Give each class its notebook display (`_repr_html_`), and the reports and steps a
    readable plain-text one (`_repr_pretty_`, their `str`)."""
    displays: list[tuple[type, Any]] = [
        (Value, value_html),
        (Tensor, tensor_html),
        (ForwardStep, forward_step_html),
        (BackwardStep, backward_step_html),
        (GradcheckReport, gradcheck_report_html),
        (LocalDerivativeReport, local_derivative_report_html),
        (Module, module_html),
        (Optimizer, optimizer_html),
    ]
    for cls, show in displays:
        setattr(cls, "_repr_html_", show)  # noqa: B010 (mypy: the classes do not declare it)
    for cls in (ForwardStep, BackwardStep, GradcheckReport, LocalDerivativeReport):
        setattr(cls, "_repr_pretty_", _pretty_str)  # noqa: B010
