"""The command line's manners: --version, output paths checked before any work, and Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import micrograd_plus
from micrograd_plus.cli import main


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"micrograd-plus {micrograd_plus.__version__}"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["demo", "--out", "/proc/not-a-folder"], "cannot create the output folder '/proc/not-a-folder'"),
        (["demo", "--out", "a-file"], "is not a folder"),
        (["graph", "a*b", "--set", "a=1", "--set", "b=2", "-o", "missing/g.svg"], "does not exist"),
        (
            ["graph", "a*b", "--set", "a=1", "--set", "b=2", "--output", "."],
            "is a folder; give a file name such as './graph.svg'",
        ),
        (
            ["trace", "a*b", "--set", "a=1", "--set", "b=2", "--html", "."],
            "is a folder; give a file name such as './trace.html'",
        ),
        (["trace", "a*b", "--set", "a=1", "--set", "b=2", "--html", "missing/p.html"], "does not exist"),
    ],
)
def test_an_unusable_output_path_is_one_line_and_exit_2_before_any_work(
    argv, words, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    started = []
    monkeypatch.setattr("micrograd_plus.cli.demo.train_moons", lambda *a, **k: started.append(1))
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert started == [] and captured.out == ""
    assert captured.err.count("\n") == 1 and words in captured.err and "Traceback" not in captured.err


def test_ctrl_c_ends_with_one_line_and_status_130(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    process = subprocess.Popen(
        [sys.executable, "-m", "micrograd_plus", "demo", "--steps", "100000", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(3)  # into the training loop
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "micrograd-plus: interrupted"
