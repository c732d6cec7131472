"""The command line's manners: --version, output paths checked before any work, and Ctrl-C."""

from __future__ import annotations

import os
import re
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
        (
            ["trace", "a*b", "--set", "a=1", "--set", "b=2", "--html", "p.svg"],
            "--html writes an HTML page: end the file name with .html or .htm, got 'p.svg'; to draw the "
            "graph as .svg: micrograd-plus graph 'a*b' --set a=1 --set b=2 -o p.svg",
        ),
        (
            ["trace", "a*b", "--set", "a=1", "--set", "b=2", "--html", "page"],
            "--html writes an HTML page: end the file name with .html or .htm, got 'page'\n",
        ),
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


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRACE = [sys.executable, "-m", "micrograd_plus", "trace"]


def test_a_reader_gone_before_the_first_line_gets_no_traceback():
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    try:
        done = subprocess.run(
            [*TRACE, "a*b", "--set", "a=1", "--set", "b=2"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")


@pytest.mark.parametrize(
    "ending, status, err",
    [("return 2", 2, ""), ("raise KeyboardInterrupt", 130, "micrograd-plus: interrupted\n")],
)
def test_output_left_in_the_buffer_for_a_reader_gone_ends_quietly_whatever_the_status(ending, status, err):
    # a command that printed (into stdout's buffer) and then failed, or was interrupted
    program = (
        "import sys\n"
        "from micrograd_plus.cli import graph\n"
        "from micrograd_plus.cli.main import main\n"
        "def run_trace(args):\n"
        "    print('some output')\n"
        f"    {ending}\n"
        "graph.run_trace = run_trace\n"
        "sys.exit(main(['trace', 'a', '--set', 'a=1']))\n"
    )
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # the output waits
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-c", program],
            env=buffered,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (status, err)


def test_a_reader_that_stops_after_one_line_gets_no_traceback_and_no_more_output():
    # as `micrograd-plus trace ... | head -1`, with more output than a pipe holds
    expression = "+".join(["a*b"] * 100)
    process = subprocess.Popen(
        [*TRACE, expression, "--set", "a=1", "--set", "b=2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == "Forward pass:\n"
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=120) == 1
    assert err == ""


def test_a_whole_trace_still_ends_with_status_0():
    done = subprocess.run(
        [*TRACE, "a*b", "--set", "a=1", "--set", "b=2"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines()[-1] == "Gradients: a.grad = 2.0, b.grad = 1.0"


@pytest.mark.parametrize("command", ["trace", "graph"])
def test_an_expression_that_starts_with_a_minus_sign_is_told_how_to_write_it(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "-a*b", "--set", "a=1", "--set", "b=2"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"micrograd-plus {command}: error: the following arguments are required: expression ('-a*b' reads "
        'as an option: an expression that starts with a minus sign, as "-a*b", is written with a leading '
        f'space, " -a*b", or last, after --: micrograd-plus {command} [options] -- "-a*b")'
    )


@pytest.mark.parametrize(
    "argv",
    [["graph"], ["trace", "--set", "a=1"], ["trace", "--set=a=1", "--interactive"], ["graph", "-o", "g.svg"]],
)
def test_a_missing_expression_gets_no_hint_about_minus_signs(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert (
        err.splitlines()[-1]
        == f"micrograd-plus {argv[0]}: error: the following arguments are required: expression"
    )


def test_both_ways_of_writing_a_leading_minus_sign_work(capsys):
    assert main(["trace", " -a*b", "--set", "a=3", "--set", "b=2"]) == 0
    spaced = capsys.readouterr().out
    assert main(["trace", "--set", "a=3", "--set", "b=2", "--", "-a*b"]) == 0
    assert capsys.readouterr().out == spaced
    assert spaced.splitlines()[-1] == "Gradients: a.grad = -2.0, b.grad = -3.0"


def test_demo_help_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, default in [
        ("--steps", "100"),
        ("--seed", "0"),
        ("--hidden", "16,16"),
        ("--out", "micrograd_plus_out"),
    ]:
        assert re.search(rf"{option} \S+ .*?\(default {re.escape(default)}\)", text), option
