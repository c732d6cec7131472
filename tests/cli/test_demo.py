"""The demo: micrograd's two-moons MLP reaches 100% training accuracy and writes its plots."""

from __future__ import annotations

import subprocess
import sys

import pytest

from micrograd_plus.cli import main
from micrograd_plus.cli.demo import train_moons

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_default_demo_training_reaches_full_accuracy():
    result = train_moons()
    assert len(result.losses) == 100
    assert result.final_accuracy == 1.0
    assert result.final_loss < result.losses[0] / 10


def test_demo_command_writes_both_plots_and_says_where(tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(["demo", "--steps", "3", "--hidden", "4,4", "--seed", "1", "--out", str(out), "--no-progress"])
        == 0
    )
    printed = capsys.readouterr().out
    for name in ("moons_decision_boundary.png", "moons_loss.png"):
        path = out / name
        assert path.read_bytes().startswith(PNG_MAGIC)
        assert f"wrote {path}" in printed
    assert "after 3 steps: loss" in printed


def test_python_dash_m_runs_the_cli(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "micrograd_plus",
            "demo",
            "--steps",
            "1",
            "--out",
            str(tmp_path),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "training accuracy" in done.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--steps", "0"], "expected a positive whole number, got '0'"),
        (["demo", "--hidden", "16,x"], "expected comma-separated layer sizes"),
        (["demo", "--hidden", "16,0"], "layer sizes must be positive"),
    ],
)
def test_bad_demo_options_exit_2_with_a_one_line_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
