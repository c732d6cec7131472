"""The README is the front door: it is assembled from docs/readme/ and up to date, and the
examples of the engine's own sections run (the other sections are run by their topic's tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE_SECTIONS = [ROOT / "docs" / "readme" / "core.md"]


def _python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for path in ENGINE_SECTIONS:
        for index, code in enumerate(
            re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
        ):
            blocks.append((f"{path.name} block {index}", code))
    return blocks


@pytest.mark.parametrize("name, code", _python_blocks(), ids=[name for name, _ in _python_blocks()])
def test_engine_section_examples_run(name, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, name, "exec"), {"__name__": "readme_example"})
    printed = capsys.readouterr().out
    for expected in re.findall(r"print\(.*\)\s+# (.*)", code):  # "print(x)  # 1.0" shows what it prints
        assert expected.strip() in printed


def test_readme_is_assembled_from_the_sections():
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "build_readme.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_every_section_is_in_the_readme():
    sections = {p.name for p in (ROOT / "docs" / "readme").glob("*.md")}
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import build_readme
    finally:
        sys.path.pop(0)
    assert sections == set(build_readme.SECTIONS)
