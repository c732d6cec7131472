"""Every script directly in examples/ runs with `--quick --out DIR` and exits 0; each tutorial
prints its quick-mode figures, which are checked here, and writes its PNG plots into DIR."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TUTORIALS_DOC = REPO / "docs" / "tutorials.md"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))


def _number(stdout: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)}: ([-+0-9.e]+)", stdout, re.MULTILINE)
    assert match, f"no line '{name}: ...' in the output:\n{stdout}"
    return float(match.group(1))


def _fraction(stdout: str, name: str) -> tuple[int, int]:
    match = re.search(rf"^{re.escape(name)}: (\d+)/(\d+)", stdout, re.MULTILINE)
    assert match, f"no line '{name}: k/n' in the output:\n{stdout}"
    return int(match.group(1)), int(match.group(2))


def _check_01(out: str) -> None:
    assert _number(out, "loss curve minimum at w") == 2.0
    assert abs(_number(out, "w after 100 epochs") - 2.0) < 1e-6


def _check_02(out: str) -> None:
    assert abs(_number(out, "slope") - 3.0) < 0.1 and abs(_number(out, "intercept") - 8.0) < 0.5
    assert _number(out, "distance to the least-squares line") < 0.2  # 1000 epochs; the full run gets < 1e-6


def _check_03(out: str) -> None:
    assert _number(out, "p(pass | 1 hour)") < 0.5 < _number(out, "p(pass | 7 hours)")


def _check_04(out: str) -> None:
    linear, mlp = _number(out, "linear model final loss"), _number(out, "MLP final loss")
    least_squares = _number(out, "least-squares loss of the sample")
    assert abs(linear - least_squares) < 1e-4, "the line stalls at the least-squares optimum (np.polyfit)"
    assert 0.27 < least_squares < 0.30, "seed 49 is the median sample of 100: least-squares loss 0.282"
    assert mlp < 0.6 * linear  # 0.152 after the 500 quick epochs; the full run's 10,000 reach 0.033


def _check_05(out: str) -> None:
    assert _number(out, "final loss without activations") > 0.08
    assert _number(out, "final loss with ReLU") < 0.02


def _check_06(out: str) -> None:
    early, late = _number(out, "test MSE after 10 epochs"), _number(out, "test MSE after 20 epochs")
    assert late < early < 0.6


def _check_07(out: str) -> None:
    right, total = _fraction(out, "test accuracy")
    assert total == 15 and right >= 14


def _check_08(out: str) -> None:
    assert _number(out, "moons training accuracy") == 1.0
    assert _number(out, "largest relative gap to the scalar engine over 10 steps") < 1e-9
    assert 0.6 < _number(out, "diabetes SGD final loss") < 0.67
    assert _number(out, "diabetes Adam training accuracy") >= 0.75


def _check_09(out: str) -> None:
    assert _number(out, "test accuracy") >= 0.9  # after 2 epochs; the full run passes 0.95


def _check_10(out: str) -> None:
    counts, net = _number(out, "bigram counting loss"), _number(out, "bigram net loss")
    assert 1.8 < counts <= net < counts + 0.05  # the counts are the bigram optimum; the net nears it
    assert _number(out, "MLP loss") < counts - 0.5  # on the training words, three letters of context beat one
    held_counts = _number(out, "bigram counting held-out loss")
    for name in ("bigram counting", "bigram net", "MLP"):  # the held-out words are harder for every model
        assert _number(out, f"{name} held-out loss") > _number(out, f"{name} loss") + 0.5, name
    uniform = float(re.search(r"uniform guessing: loss ([0-9.]+)", out).group(1))
    assert _number(out, "MLP held-out loss") > max(
        held_counts, uniform
    )  # as the docstring says: it memorises
    samples = re.search(r"^samples: (.*)$", out, re.MULTILINE).group(1).split()
    new, total = map(
        int, re.search(r"^new words among the samples: (\d+) of (\d+)", out, re.MULTILINE).groups()
    )
    assert total == 20 and len(samples) >= 15 and new <= total // 2  # mostly copies of training words


CHECKS: dict[str, Callable[[str], None]] = {
    "01_gradient_descent_by_hand.py": _check_01,
    "02_linear_regression.py": _check_02,
    "03_logistic_regression.py": _check_03,
    "04_nonlinear_regression.py": _check_04,
    "05_regression_3d.py": _check_05,
    "06_keras_sine.py": _check_06,
    "07_iris.py": _check_07,
    "08_moons_and_diabetes.py": _check_08,
    "09_digits_cnn.py": _check_09,
    "10_makemore.py": _check_10,
}


def test_every_tutorial_is_there() -> None:
    assert set(CHECKS) <= set(SCRIPTS), sorted(set(CHECKS) - set(SCRIPTS))


def _documented_commands() -> dict[str, list[str]]:
    """The commands docs/tutorials.md tells readers to type, by script name."""
    text = TUTORIALS_DOC.read_text(encoding="utf-8")
    commands = {}
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.strip():
                argv = shlex.split(line)
                assert argv[0] == "python" and argv[1].startswith("examples/"), line
                commands[Path(argv[1]).name] = argv
    return commands


def test_the_tutorials_doc_shows_every_tutorial() -> None:
    assert set(_documented_commands()) == set(CHECKS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_in_quick_mode(script: str, tmp_path: Path) -> None:
    """Run the documented command (`python examples/X.py --quick --out DIR`) from a folder that
    holds `examples/`, with DIR pointed into tmp_path; scripts without a documented command
    (other helpers' examples) get the same two flags."""
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    out_dir = tmp_path / "out"
    argv = _documented_commands().get(script, ["python", f"examples/{script}", "--quick", "--out", "DIR"])
    assert argv[2:] == ["--quick", "--out", argv[4]], f"expected '--quick --out DIR' in {argv}"
    argv = [sys.executable, argv[1], "--quick", "--out", str(out_dir)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    if script in CHECKS:
        CHECKS[script](result.stdout)
        written = [Path(p) for p in re.findall(r"^wrote (.+)$", result.stdout, re.MULTILINE)]
        assert written, f"{script} wrote no plot:\n{result.stdout}"
        for path in written:
            assert path.parent == out_dir, f"{path} is not in --out {out_dir}"
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert not (tmp_path / "examples_out").exists(), "--out must replace the default folder"


def test_examples_refuse_unknown_flags() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "01_gradient_descent_by_hand.py"), "--fast"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "unrecognized arguments: --fast" in result.stderr


def _run_in_a_terminal(args: list[str], cwd: Path) -> str:
    """Run an example with its stderr on a pseudo-terminal, as when a person watches it; what the
    terminal showed."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 40 rows, 120 columns
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "TQDM_MININTERVAL": "0",
    }  # redraw at every step: a quick run shows it
    process = subprocess.Popen(
        [sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=follower
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the example ended and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    process.wait(timeout=300)
    os.close(leader)
    assert process.returncode == 0, shown.decode(errors="replace")[-2000:]
    return shown.decode(errors="replace")


def test_training_shows_a_progress_bar_with_the_loss_unless_told_not_to(tmp_path: Path) -> None:
    script = str(REPO / "examples" / "02_linear_regression.py")
    shown = _run_in_a_terminal([script, "--quick", "--out", "out"], tmp_path)
    assert "training" in shown and "loss=" in shown and "epoch" in shown
    quiet = _run_in_a_terminal([script, "--quick", "--out", "out", "--no-progress"], tmp_path)
    assert "loss=" not in quiet and "training" not in quiet
