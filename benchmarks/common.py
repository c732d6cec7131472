"""What every benchmark shares: the machine description, alternating timers and the table.

Timings are medians of repeated runs, with the contenders alternating in one process, so a
burst of load from elsewhere on the machine hits all of them alike rather than one.
"""

from __future__ import annotations

import datetime
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
if REPO_DIR not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, REPO_DIR)

# Read once at import, before anything here could touch them: they are reported, never set.
BLAS_ENV = {name: os.environ.get(name) for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}


def version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_description() -> list[str]:
    """One line per thread pool threadpoolctl sees (numpy's BLAS, torch's OpenMP...)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl not installed"]
    lines = []
    for pool in threadpool_info():
        arch = pool.get("architecture")
        lines.append(
            f"{pool.get('internal_api')} {pool.get('version')}"
            + (f" ({arch} kernel)" if arch else "")
            + f", {pool.get('num_threads')} threads, {os.path.basename(pool.get('filepath', ''))}"
        )
    return lines or ["no BLAS or OpenMP thread pool found"]


def environment(command: str) -> dict[str, Any]:
    import micrograd_plus

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu_name()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": (
            f"micrograd_plus {micrograd_plus.__version__}, numpy {version_of('numpy')}, "
            f"numba {version_of('numba')}, torch {version_of('torch')}, micrograd {version_of('micrograd')}"
        ),
        "blas": blas_description(),
        "blas_env": ", ".join(f"{k}={'unset' if v is None else v}" for k, v in BLAS_ENV.items()),
        "command": command,
    }


def print_environment(env: dict[str, Any]) -> None:
    print(f"date:     {env['date']}")
    print(f"machine:  {env['machine']}")
    print(f"python:   {env['python']}")
    print(f"versions: {env['versions']}")
    for line in env["blas"]:
        print(f"BLAS:     {line}")
    print(f"env:      {env['blas_env']}")
    print(f"command:  {env['command']}")


@dataclass
class Row:
    """One line of the results table."""

    section: str
    case: str
    contender: str
    value: float  # seconds per step, or bytes, as `unit` says
    unit: str = "s"
    ratio: str = ""  # e.g. "87x faster than micrograd"
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    thread_pools: set[str] = field(default_factory=set)  # as seen by worker processes

    def add(self, *args: Any, **kwargs: Any) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def check(self, ok: bool, message: str) -> None:
        """Record a missed target (the run still finishes and prints everything)."""
        if not ok:
            self.failures.append(message)
            print(f"  TARGET MISSED: {message}", flush=True)


def format_value(value: float, unit: str) -> str:
    if value != value:  # nan: no number, the note says what happened
        return "-"
    if unit == "x":
        return f"{value:.1f}x"
    if unit == "s":
        if value >= 1:
            return f"{value:.2f} s"
        if value >= 1e-3:
            return f"{value * 1e3:.2f} ms"
        if value >= 1e-6:
            return f"{value * 1e6:.1f} µs"
        return f"{value * 1e9:.0f} ns"
    if unit == "B":
        if value >= 2**20:
            return f"{value / 2**20:.1f} MiB"
        if value >= 2**10:
            return f"{value / 2**10:.1f} KiB"
        return f"{value:.0f} B"
    return f"{value:g} {unit}"


def table(rows: Sequence[Row]) -> str:
    """A Markdown table (also readable as plain text)."""
    lines = ["| benchmark | case | contender | median | ratio | note |", "|---|---|---|---:|---|---|"]
    for r in rows:
        lines.append(
            f"| {r.section} | {r.case} | {r.contender} | {format_value(r.value, r.unit)} | {r.ratio} | {r.note} |"
        )
    return "\n".join(lines)


def alternate(
    contenders: dict[str, Callable[[], Any]],
    rounds: int,
    number: int = 1,
    before_each: Callable[[], Any] | None = None,
) -> dict[str, float]:
    """Median seconds per call of each contender. Each round runs every contender
    `number` times in a row, the starting contender rotating from round to round."""
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for i in range(len(names)):
            name = names[(i + r) % len(names)]
            fn = contenders[name]
            if before_each is not None:
                before_each()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(v) for name, v in samples.items()}


def peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated by `fn()` above what was allocated when it started (tracemalloc).
    The garbage of earlier calls is collected first, so it is not counted."""
    gc.collect()
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return peak - base


def ratio_text(slow: float, fast: float, what: str) -> str:
    return f"{slow / fast:.1f}x {what}"
