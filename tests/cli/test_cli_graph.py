"""The `graph` and `trace` commands, and the docs pages on drawing and stepping: their commands
run here, and their picture, narration and player screenshot are what `docs/make_figures.py`
makes today."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus.cli import main

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "docs" / "drawing.md", ROOT / "docs" / "stepping.md"]


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
    finally:
        sys.stdin = old_stdin
    return status, out.getvalue(), err.getvalue()


def svg_texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


# -- graph ---------------------------------------------------------------------------------


def test_graph_writes_the_drawing_to_exactly_the_path_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(
        ["graph", "a*b + c", "--set", "a=2", "--set", "b=-3", "--set", "c=10", "-o", "g.svg"]
    )
    assert (status, out, err) == (0, "wrote g.svg\n", "")
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]
    svg = (tmp_path / "g.svg").read_text()
    assert 'class="edge forward done"' in svg and "gradient" not in svg
    assert {"a", "data 2.0", "grad 0.0", "data -6.0", "L", "data 4.0"} <= set(svg_texts(svg))


def test_graph_backward_runs_backward_and_draws_the_backward_view(tmp_path):
    status, out, _ = run(
        [
            "graph",
            "a*b + c",
            "--set",
            "a=2",
            "--set",
            "b=-3",
            "--set",
            "c=10",
            "-o",
            str(tmp_path / "g.svg"),
            "--backward",
        ]
    )
    svg = (tmp_path / "g.svg").read_text()
    assert status == 0 and 'class="edge gradient done"' in svg
    texts = svg_texts(svg)
    assert texts[texts.index("a") + 2] == "grad -3.0" and texts[texts.index("b") + 2] == "grad 2.0"


def test_graph_legend_adds_the_key(tmp_path):
    status, _, _ = run(
        ["graph", "a*b", "--set", "a=2", "--set", "b=3", "-o", str(tmp_path / "g.svg"), "--legend"]
    )
    texts = svg_texts((tmp_path / "g.svg").read_text())
    assert status == 0 and "legend" in texts and "values flow" in texts


# -- trace ---------------------------------------------------------------------------------


def test_trace_narrates_every_step_with_its_numbers():
    status, out, err = run(["trace", "a*b + c", "--set", "a=2", "--set", "b=-3", "--set", "c=10"])
    assert status == 0 and err == ""
    assert out.splitlines() == [
        "Forward pass:",
        "  v1 = a * b = 2.0 * -3.0 = -6.0",
        "  L = v1 + c = -6.0 + 10.0 = 4.0",
        "Backward pass:",
        "  step 0: dL/dL = 1.0, the seed   (L.grad: 0.0 -> 1.0)",
        "  step 1: L = v1 + c sends dL/dL = 1.0 back to its inputs:",
        "    dL/dv1 += dL/dL * dL/dv1 = 1.0 * 1.0 = 1.0   (v1.grad: 0.0 -> 1.0)",
        "    dL/dc += dL/dL * dL/dc = 1.0 * 1.0 = 1.0   (c.grad: 0.0 -> 1.0)",
        "  step 2: v1 = a * b sends dL/dv1 = 1.0 back to its inputs:",
        "    dL/da += dL/dv1 * dv1/da = 1.0 * -3.0 = -3.0   (a.grad: 0.0 -> -3.0)",
        "    dL/db += dL/dv1 * dv1/db = 1.0 * 2.0 = 2.0   (b.grad: 0.0 -> 2.0)",
        "Gradients: a.grad = -3.0, b.grad = 2.0, c.grad = 1.0",
    ]


def test_trace_html_writes_the_player(tmp_path):
    status, out, _ = run(["trace", "x*x", "--set", "x=3", "--html", str(tmp_path / "t.html")])
    page = (tmp_path / "t.html").read_text()
    assert status == 0 and out.startswith(f"wrote {tmp_path / 't.html'}\n")
    assert page.count('<section class="step"') == 1 + 1 + 2
    assert "dL/dx += dL/dL * dL/dx = 1.0 * 3.0 = 3.0, so dL/dx = 3.0 + 3.0 = 6.0" in page


def test_interactive_trace_waits_for_enter_and_q_quits():
    argv = ["trace", "tanh(a*b)", "--set", "a=2", "--set", "b=-3", "--interactive"]
    status, out, _ = run(argv, stdin="\n\nq\n")
    assert status == 0
    assert out.count("[Enter: next step, q: quit]") == 3
    assert "Backward pass:" in out and "step 0: dL/dL = 1.0" in out and "step 1:" not in out
    status, out, _ = run(argv, stdin="")  # end of input stops quietly
    assert status == 0 and out.count("[Enter: next step, q: quit]") == 1 and "Backward pass:" not in out
    status, out, _ = run(argv, stdin="\n" * 10)  # Enter to the end: 2 forward and 3 backward steps
    assert status == 0 and out.count("[Enter: next step, q: quit]") == 2 + 3
    assert out.splitlines()[-1].endswith("] Gradients: a.grad = -7.37296e-05, b.grad = 4.91531e-05")


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["graph", "trace"])
@pytest.mark.parametrize(
    ("expression", "sets", "message"),
    [
        ("__import__('os').system('touch pwned')", ["a=1"], "only the functions"),
        ("a.__class__", ["a=1"], "not allowed: attribute access"),
        ("lambda: a", ["a=1"], "not allowed: lambda"),
        ("'a'", [], "not allowed: strings"),
        ("a[0]", ["a=1"], "not allowed: subscripts"),
        ("eval(a)", ["a=1"], "unknown function 'eval'"),
        ("a*b", ["a=1"], "no value for 'b': add --set b=NUMBER"),
        ("a", ["a=one"], "--set a='one': not a number"),
        ("a", ["a"], "should look like NAME=NUMBER"),
        ("2*3", [], "uses no names"),
        ("a" * 600, [], "the limit is 500"),
        ("(" * 40 + "a" + ")" * 40, ["a=1"], "nests brackets 40 deep"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_status_2(
    tmp_path, monkeypatch, command, expression, sets, message
):
    monkeypatch.chdir(tmp_path)
    argv = [command, expression] + [arg for s in sets for arg in ("--set", s)]
    status, out, err = run(argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("micrograd-plus: error: ") and message in err
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing run


def test_a_file_that_cannot_be_written_is_an_error_too(tmp_path):
    status, _, err = run(["graph", "a", "--set", "a=1", "-o", str(tmp_path / "graph.jpg")])
    assert status == 2 and "end the file name with one of .svg" in err and err.count("\n") == 1
    status, _, err = run(["graph", "a", "--set", "a=1", "-o", str(tmp_path / "missing" / "graph.svg")])
    assert status == 2 and err.count("\n") == 1 and "does not exist" in err


@given(st.text(max_size=40))
def test_any_expression_either_runs_or_fails_with_one_line_and_status_2(text):
    if text.startswith("-"):
        text = " " + text  # argparse would take it for an option
    status, out, err = run(["trace", text, "--set", "a=0.5"])
    if status == 0:
        assert err == "" and "Backward pass:" in out
    else:
        assert status == 2 and err.count("\n") == 1 and err.startswith("micrograd-plus: error: ")


def test_python_dash_m_runs_the_command(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "micrograd_plus", "trace", "a*a", "--set", "a=3"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0 and "dL/da = 3.0 + 3.0 = 6.0" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "micrograd_plus", "graph", "a.b", "--set", "a=3"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


# -- the docs pages ----------------------------------------------------------------------------


def blocks(language: str) -> list[str]:
    text = "".join(page.read_text(encoding="utf-8") for page in PAGES)
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_the_docs_python_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for code in blocks("python"):
        exec(compile(code, "docs page", "exec"), {"__name__": "docs_drawing"})
    assert (tmp_path / "neuron.svg").read_text().count('class="node value') == 10


def test_the_docs_commands_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = [line for block in blocks("bash") for line in block.splitlines() if line.strip()]
    assert len(commands) == 3
    for line in commands:
        words = shlex.split(line)
        if words[0] == "micrograd-plus":
            status, out, err = run(words[1:])
            assert status == 0 and err == "", line
        else:
            assert words == ["python", "docs/make_figures.py"]
            done = subprocess.run(  # the screenshot needs Chromium: its stamp is checked below
                [sys.executable, str(ROOT / words[1]), "--out", str(tmp_path / "figures"), "--no-screenshot"],
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr
    assert {"graph.svg", "trace.html", "figures"} <= {p.name for p in tmp_path.iterdir()}
    # the committed picture and narration are what the script makes today
    for name in ("neuron_backward.svg", "neuron_steps.txt"):
        assert (tmp_path / "figures" / name).read_bytes() == (ROOT / "docs" / name).read_bytes(), (
            f"docs/{name} is out of date: run python docs/make_figures.py"
        )
    excerpt = blocks("text")[0].splitlines()
    steps = (ROOT / "docs" / "neuron_steps.txt").read_text().splitlines()
    assert excerpt == steps[: len(excerpt)] and len(excerpt) >= 5
    assert "](neuron_backward.svg)" in PAGES[0].read_text()
    # the committed screenshot shows today's player page (a PNG differs between machines' fonts,
    # so it carries the SHA-256 of the page it shows)
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import make_figures
    finally:
        sys.path.pop(0)
    committed = (ROOT / "docs" / "player_screenshot.png").read_bytes()
    assert (
        make_figures.png_player_hash(committed) == hashlib.sha256(make_figures.player_html()).hexdigest()
    ), "docs/player_screenshot.png shows an older player: run python docs/make_figures.py"
