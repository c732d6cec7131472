"""The results as the README shows them: three compact tables under the environment they came from.

`run.py --markdown FILE` writes this; the full table (every row) is what `run.py` prints.
"""

from __future__ import annotations

from typing import Any

from common import Row, format_value
from tensor_models import NO_NUMBA, NUMPY, OURS, TORCH  # the contenders' names


def _find(rows: list[Row], section: str, case: str, contender: str) -> Row | None:
    for row in rows:
        if row.section == section and row.case == case and row.contender == contender:
            return row
    return None


def _cases(rows: list[Row], section_start: str) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for row in rows:
        if row.section.startswith(section_start) and (row.section, row.case) not in seen:
            seen.append((row.section, row.case))
    return seen


def environment_lines(env: dict[str, Any]) -> str:
    blas = "; ".join(env["blas"])
    return (
        f"- date: {env['date']}\n- machine: {env['machine']}\n- Python: {env['python']}\n"
        f"- versions: {env['versions']}\n- BLAS (threadpoolctl): {blas}\n- {env['blas_env']} (as found)\n"
        f"- command: `{env['command']}`\n"
    )


def scalar_table(rows: list[Row]) -> str:
    lines = [
        "| micrograd's demo step | micrograd 0.1.0 | micrograd_plus `Value` | ratio | reference engine | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for section, case in _cases(rows, "scalar demo step"):
        theirs = _find(rows, section, case, "micrograd 0.1.0")
        ours = _find(rows, section, case, "micrograd_plus Value")
        if theirs is None or ours is None:
            continue
        reference = _find(rows, section, case, "micrograd_plus Value, reference engine")
        if ours.unit == "B":
            ratio = f"{ours.value / theirs.value:.0%} of it"
        else:
            ratio = f"**{theirs.value / ours.value:.0f}x faster**"
        slow = (
            "| |"
            if reference is None
            else (
                f"| {format_value(reference.value, reference.unit)} | {theirs.value / reference.value:.0f}x faster |"
            )
        )
        lines.append(
            f"| {case} | {format_value(theirs.value, theirs.unit)} | {format_value(ours.value, ours.unit)} | {ratio} {slow}"
        )
    return "\n".join(lines)


def scale_table(rows: list[Row]) -> str:
    lines = [
        "| graph (Value) | build, per node | backward, per node | peak memory, per node |",
        "|---|---:|---:|---:|",
    ]
    notes = []
    for section, case in _cases(rows, "graph scale"):
        build = _find(rows, section, case, "forward, per node") or _find(
            rows, section, case, "forward, per input"
        )
        back = _find(rows, section, case, "backward, per node") or _find(
            rows, section, case, "backward, per input"
        )
        memory = _find(rows, section, case, "peak memory, per node") or _find(
            rows, section, case, "peak memory, per input"
        )
        growth = _find(rows, section, case, "backward time growth")
        failure = _find(rows, section, case, "micrograd 0.1.0 backward")
        engine = " (reference engine)" if "reference" in section else ""
        if build and back and memory:
            lines.append(
                f"| {case}{engine} | {format_value(build.value, 's')} | {format_value(back.value, 's')} | "
                f"{format_value(memory.value, 'B')} |"
            )
        elif growth:
            notes.append(
                f"{case.replace('chain ', '')} nodes{engine}: backward took {growth.value:.1f}x the time"
            )
        elif failure:
            notes.append(f"micrograd 0.1.0 on the {case}: {failure.note}")
    return "\n".join(lines) + ("\n\n" + "; ".join(notes) + "." if notes else "")


def tensor_table(rows: list[Row]) -> str:
    lines = [
        "| one training step | ours | ours, 1 thread | ours, no numba | PyTorch | PyTorch, 1 thread "
        "| numpy by hand | numpy, 1 thread | ours / PyTorch | no numba / PyTorch | ours / numpy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    columns = OURS + (NO_NUMBA,) + TORCH + NUMPY
    for section, case in _cases(rows, "tensor step"):
        found = {r.contender: r.value for r in rows if r.section == section and r.case == case}
        if not all(name in found for name in columns):
            continue
        ours = min(found[n] for n in OURS)
        torch_best = min(found[n] for n in TORCH)
        numpy_best = min(found[n] for n in NUMPY)
        dtype = section.rsplit(" ", 1)[-1]
        cells = " | ".join(format_value(found[n], "s") for n in columns)
        lines.append(
            f"| {case}, {dtype} | {cells} | {ours / torch_best:.2f} | {found[NO_NUMBA] / torch_best:.2f} "
            f"| {ours / numpy_best:.2f} |"
        )
    return "\n".join(lines)


def markdown(env: dict[str, Any], rows: list[Row]) -> str:
    parts = [environment_lines(env)]
    if any(r.section.startswith("scalar") for r in rows):
        parts.append(scalar_table(rows))
    if any(r.section.startswith("graph scale") for r in rows):
        parts.append(scale_table(rows))
    if any(r.section.startswith("tensor") for r in rows):
        parts.append(tensor_table(rows))
    return "\n\n".join(parts) + "\n"
