"""The benchmark commands the performance page shows run, and their comparisons are valid.

Speed is never asserted here (a loaded test machine would make that flaky): `--quick` is a
smoke run, and what it must show is that every part runs, every comparison agrees on its
losses (else it would be void) and the environment is reported.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_torch

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"


def documented_commands() -> list[str]:
    """The `python benchmarks/...` commands of the performance section, in order."""
    text = DOC.read_text(encoding="utf-8")
    return re.findall(r"^\s*(python benchmarks/\S+(?: [^`\n#]*)?)", text, flags=re.M)


def run(command: str) -> subprocess.CompletedProcess[str]:
    args = shlex.split(command)
    assert args[0] == "python"
    return subprocess.run([sys.executable, *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess[str]:
    require_torch()  # the contenders: PyTorch (required in CI) and micrograd 0.1.0 (a test extra)
    pytest.importorskip("micrograd")
    return run("python benchmarks/run.py --quick")


def test_the_section_shows_the_quick_command_and_the_command_of_its_table():
    commands = [c.strip() for c in documented_commands()]
    assert "python benchmarks/run.py --quick" in commands
    table_command = re.search(r"command: `([^`]+)`", DOC.read_text(encoding="utf-8"))
    assert table_command is not None, "the table must say which command produced it"
    assert table_command.group(1).startswith("python benchmarks/run.py")


def test_quick_run_runs_every_part_and_every_comparison_is_valid(quick_run):
    out = quick_run.stdout
    assert quick_run.returncode == 0, quick_run.stdout[-3000:] + quick_run.stderr[-3000:]
    for section in ("scalar demo step", "graph scale (Value)", "tensor step, float64"):
        assert f"| {section} |" in out, section
    assert "VOID" not in out and "TARGET MISSED" not in out
    assert re.search(r"micrograd_plus Value \| [\d.]+ ms \| [\d.]+x faster", out)
    assert "RecursionError" in out  # micrograd's recursive sort fails on a 10,000-node chain
    for contender in ("PyTorch, 1 thread", "numpy by hand", "micrograd_plus Tensor"):
        assert f"| {contender} |" in out


def test_quick_run_reports_the_environment_it_ran_in(quick_run):
    out = quick_run.stdout
    for field in ("date:", "machine:", "python:", "versions:", "BLAS:", "env:", "command:"):
        assert re.search(rf"^{field}", out, flags=re.M), field
    assert re.search(r"^env: +OPENBLAS_CORETYPE=\S+, OPENBLAS_L2_SIZE=\S+", out, flags=re.M)
    assert "command:  python benchmarks/run.py --quick" in out


def test_the_demo_step_is_timed_in_fresh_processes_whose_losses_agree(monkeypatch):
    pytest.importorskip("micrograd")  # a test extra, as for the quick run
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import scalar_demo

    runs = scalar_demo.measure_in_fresh_processes(hidden=2, count=2, quick=True)
    assert len({r["process"] for r in runs} | {os.getpid()}) == 3, "each sample in a process of its own"
    for r in runs:
        assert r["agree"] and r["agree_reference"], r
        assert set(r["medians"]) == {"micrograd 0.1.0", "micrograd_plus Value", scalar_demo.REFERENCE}
        assert all(seconds > 0 for seconds in r["medians"].values())


def test_every_other_documented_command_at_least_parses():
    """The full run takes minutes, so here it is only asked for its help text."""
    for command in {c.strip() for c in documented_commands()} - {"python benchmarks/run.py --quick"}:
        done = run(command + " --help")
        assert done.returncode == 0, (command, done.stderr)
        assert "--quick" in done.stdout


def test_unknown_parts_are_refused_with_the_choices():
    done = run("python benchmarks/run.py --only nothing")
    assert done.returncode == 2
    assert "unknown part(s) ['nothing']; choose from scalar, scale, tensor" in done.stderr
