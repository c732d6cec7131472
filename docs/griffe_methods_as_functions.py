"""A griffe extension for the API reference: `micrograd_plus/functions.py` makes the functions
`sum`, `mean`, `clamp`, ... from the Tensor methods of their names when it is imported, so reading
its source (griffe's static analysis) finds plain attributes; their signatures and docstrings are
found here by importing it."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parent.parent


class MethodsAsFunctions(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name != "micrograd_plus":
            return
        functions = importlib.import_module("micrograd_plus.functions")
        inspected = griffe.inspect("micrograd_plus.functions", import_paths=[ROOT])
        for name in functions.MADE_FROM_METHODS:
            pkg.set_member(name, inspected[name])
