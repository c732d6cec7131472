"""Assemble README.md from the sections in docs/readme/, each kept next to the tests that
run its examples. `python docs/build_readme.py` writes it; `--check` only compares."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = [
    "intro.md",
    "core.md",
    "tensor.md",
    "tutorials.md",
    "drawing.md",
    "gradcheck.md",
    "safety.md",
    "performance.md",
    "setup.md",
    "architecture.md",
]


def build() -> str:
    parts = [(ROOT / "docs" / "readme" / name).read_text(encoding="utf-8").strip() for name in SECTIONS]
    return "\n\n".join(parts) + "\n"


def main(argv: list[str]) -> int:
    text = build()
    readme = ROOT / "README.md"
    if "--check" in argv:
        if readme.read_text(encoding="utf-8") != text:
            print("README.md is out of date: run python docs/build_readme.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(text, encoding="utf-8")
    print(f"wrote {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
