"""engine.py is the file a learner reads in one sitting (issue 14): at most 400 lines with its
docstrings, and of the package it imports only modes.py, guards.py, hooks.py and ieee.py (no cycle:
fast.py imports engine.py, never the reverse)."""

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "micrograd_plus" / "engine.py"


def test_engine_py_is_at_most_400_lines():
    lines = ENGINE.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 400, f"engine.py has {len(lines)} lines; move support code to guards.py or ieee.py"


def test_engine_py_imports_only_modes_guards_hooks_and_ieee_of_the_package():
    tree = ast.parse(ENGINE.read_text(encoding="utf-8"))
    ours = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            ours |= {node.module} if node.module else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            ours |= {a.name.split(".", 1)[1] for a in node.names if a.name.startswith("micrograd_plus.")}
    assert ours <= {"modes", "guards", "hooks", "ieee"}, ours
    assert ours  # the scan sees `from . import guards, ieee, modes`
