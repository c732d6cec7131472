"""Code a user writes with type checking on: `make lint` runs `mypy --strict` on this file, so
every name used here (top-level functions, Tensor methods attached by tensor_methods.py, the
re-exported builtin-named functions) must be visible to a type checker with its types; pytest
runs it so that the typed code is also right."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np

import micrograd_plus as mg
from micrograd_plus import tensor_methods


def test_torch_style_code_type_checks_and_runs() -> None:
    x = mg.tensor([1.5, -2.0, 0.25], requires_grad=True)
    y: mg.Tensor = mg.sum(mg.clamp(x, -1.0, 1.0)) + x.clone().square().sum() + mg.mean(x.flip(0))
    y.backward()
    positive: np.ndarray = x.gt(0.0)
    first, rest = x.split([1, 2])
    assert positive.tolist() == [True, False, True] and first.shape == (1,) and rest.shape == (2,)
    # d/dx of clamp(x, -1, 1) + x**2 + mean(x): 0 outside the bounds, 1 inside; 2x; 1/3
    expected = np.array([0.0, 0.0, 1.0]) + 2 * x.data + 1 / 3
    assert mg.allclose(x.grad, expected, rtol=0.0, atol=1e-15)
    assert mg.max(x).item() == 1.5 and mg.abs(x).sign().all()


def test_a_value_expression_type_checks_and_runs() -> None:
    a, b = mg.Value(2.0, label="a"), mg.Value(-3.0, label="b")
    c: mg.Value = (a * b + 1).tanh()
    c.backward()
    assert a.grad == b.data * (1 - c.data**2) and b.grad == a.data * (1 - c.data**2)


def test_tensor_declares_for_type_checkers_every_method_tensor_methods_attaches() -> None:
    """tensors.py declares tensor_methods.METHODS, with their types, in an `if TYPE_CHECKING:`
    block of Tensor (without importing tensor_methods: the import goes the other way); the
    declarations must name every method, no arguments exactly where the method takes none, and
    its return type."""
    source = Path(mg.tensors.__file__).read_text(encoding="utf-8")
    tensor_class = next(
        n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "Tensor"
    )
    block = next(
        n for n in tensor_class.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    declared = {
        item.target.id: ast.unparse(item.annotation)
        for item in block.body
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
    }
    expected = {}
    for name, method in tensor_methods.METHODS.items():
        signature = inspect.signature(method)
        arguments = "[]" if len(signature.parameters) == 1 else "..."
        expected[name] = f"Callable[{arguments}, {signature.return_annotation}]"
    assert declared == expected
