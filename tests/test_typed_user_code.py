"""Code a user writes with type checking on: `make lint` runs `mypy --strict` on this file, so
every name used here (top-level functions, Tensor methods attached by tensor_methods.py and its kin, the
re-exported builtin-named functions) must be visible to a type checker with its types; pytest
runs it so that the typed code is also right."""

from __future__ import annotations

import ast
import inspect
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import micrograd_plus as mg
from micrograd_plus import sampling, sorting, tensor_algebra, tensor_methods

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # (typing_extensions comes with mypy)
    from typing_extensions import assert_type


def test_torch_style_code_type_checks_and_runs() -> None:
    x = mg.tensor([1.5, -2.0, 0.25], requires_grad=True)
    y: mg.Tensor = mg.sum(mg.clamp(x, -1.0, 1.0)) + x.clone().square().sum() + mg.mean(x.flip(0))
    y.backward()
    positive: mg.Tensor = x.gt(0.0)
    first, rest = x.split([1, 2])
    assert positive.tolist() == [True, False, True] and first.shape == (1,) and rest.shape == (2,)
    # d/dx of clamp(x, -1, 1) + x**2 + mean(x): 0 outside the bounds, 1 inside; 2x; 1/3
    expected = np.array([0.0, 0.0, 1.0]) + 2 * x.data + 1 / 3
    assert mg.allclose(x.grad, expected, rtol=0.0, atol=1e-15)
    assert mg.max(x).item() == 1.5 and mg.abs(x).sign().all()


def test_a_pointwise_function_of_numpy_data_types_as_a_tensor() -> None:
    """d2l's batch_norm predicts with `torch.sqrt(moving_var + eps)` from `moving_var.data`, a
    numpy array here (a 0-d one plus eps a numpy scalar): the functions give a Tensor of it, and
    say so to a type checker; a Tensor still gives a Tensor and a Value a Value."""
    moving_var = mg.ones(3).data
    scale: mg.Tensor = mg.sqrt(moving_var + 1e-5)
    scalar: mg.Tensor = mg.sqrt(np.array(4.0) + 0.0)  # np.float64 at run time
    of_float32: mg.Tensor = mg.exp(np.float32(0.0))
    value: mg.Value = mg.tanh(mg.Value(0.0))
    tensor: mg.Tensor = mg.relu(mg.tensor([-1.0, 2.0]))
    assert scale.shape == (3,) and scalar.shape == () and scalar.item() == 2.0
    assert of_float32.dtype == np.float32 and value.data == 0.0 and tensor.tolist() == [0.0, 2.0]


def test_a_value_expression_type_checks_and_runs() -> None:
    a, b = mg.Value(2.0, label="a"), mg.Value(-3.0, label="b")
    c: mg.Value = (a * b + 1).tanh()
    c.backward()
    assert a.grad == b.data * (1 - c.data**2) and b.grad == a.data * (1 - c.data**2)


def test_sorting_algebra_and_sampling_type_check_and_run() -> None:
    scores = mg.tensor([[0.5, 2.0, -1.0], [3.0, 0.0, 1.0]], requires_grad=True)
    values, indices = scores.sort(dim=1, descending=True)
    best: mg.ValuesIndices = mg.topk(scores, 2)
    order: mg.Tensor = scores.argsort(0)
    causal: mg.Tensor = mg.ones(3, 3).tril()
    mixed: mg.Tensor = mg.einsum("ij,jk->ik", scores, causal) + scores.roll(1, 1).lerp(scores, 0.5)
    (values.sum() + best.values.sum() + mixed.sum()).backward()
    draws: mg.Tensor = mg.multinomial(scores.detach().abs(), 2, seed=0)
    assert indices.tolist() == [[1, 0, 2], [0, 2, 1]] and best.indices.tolist() == [[1, 0], [0, 2]]
    assert order.shape == (2, 3) and draws.shape == (2, 2) and scores.grad is not None


def test_tensor_declares_for_type_checkers_every_method_the_method_modules_attach() -> None:
    """tensors.py declares the METHODS of tensor_methods, sorting, tensor_algebra and sampling,
    with their types, in an `if TYPE_CHECKING:` block of Tensor (without importing them: the
    import goes the other way); the declarations must name every method, no arguments exactly
    where the method takes none, and its return type."""
    source = Path(mg.tensors.__file__).read_text(encoding="utf-8")
    tensor_class = next(
        n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "Tensor"
    )
    block = next(
        n for n in tensor_class.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    declared: dict[str, Any] = {
        item.target.id: ast.unparse(item.annotation)
        for item in block.body
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
    }
    for item in block.body:  # an overloaded method: the return types of its overloads, in order
        if isinstance(item, ast.FunctionDef) and not any(
            "property" in ast.unparse(d) for d in item.decorator_list
        ):
            if not any(ast.unparse(d).endswith(".setter") for d in item.decorator_list):
                declared.setdefault(item.name, []).append(ast.unparse(item.returns) if item.returns else None)
    expected: dict[str, Any] = {}
    attached: dict[str, Callable[..., Any]] = {}
    for module in (tensor_methods, sorting, tensor_algebra, sampling):
        assert not attached.keys() & module.METHODS.keys()  # (no module hides another's method)
        attached |= module.METHODS
    for name, method in attached.items():
        signature = inspect.signature(method)
        source_tree = ast.parse(inspect.getsource(sys.modules[method.__module__]))
        definitions = [
            f for f in source_tree.body if isinstance(f, ast.FunctionDef) and f.name == method.__name__
        ]
        if len(definitions) > 1:  # overloaded
            expected[name] = [ast.unparse(f.returns) if f.returns else None for f in definitions]
            continue
        arguments = "[]" if len(signature.parameters) == 1 else "..."
        expected[name] = f"Callable[{arguments}, {signature.return_annotation}]"
    assert declared == expected


def test_int64_and_bool_tensors_type_check_and_run() -> None:
    logits = mg.tensor([[0.5, 2.0], [3.0, -1.0]], requires_grad=True)
    labels: mg.Tensor = mg.tensor([1, 0], dtype=mg.long)
    mask: mg.Tensor = (logits > 0) & ~logits.isnan()
    accuracy: float = (logits.argmax(dim=1) == labels).float().mean().item()
    (logits * mask.float()).sum().backward()
    assert accuracy == 1.0 and labels.dtype == mg.int64 and mask.bool().dtype == mg.bool
    assert logits.grad is not None and logits.grad.tolist() == [[1.0, 1.0], [1.0, 0.0]]
    rows, columns = mg.where(mask)
    where_positive: mg.Tensor = mg.where(mask, logits, 0.0)
    quotient: mg.Tensor = (
        labels // 2 + labels % 2 + mg.fmod(labels, 3) + mg.tensor(7, dtype=mg.long) // labels.abs().clamp(1)
    )
    found = assert_type(mask.nonzero(), mg.Tensor)
    by_axis = assert_type(mask.nonzero(as_tuple=True), tuple[mg.Tensor, ...])
    floating: bool = logits.is_floating_point() and not mg.is_floating_point(labels)
    expected_rows, expected_columns = np.nonzero(mask.numpy())
    assert rows.tolist() == expected_rows.tolist() and columns.tolist() == expected_columns.tolist()
    assert [axis.tolist() for axis in by_axis] == [
        rows.tolist(),
        columns.tolist(),
    ] and where_positive.shape == (2, 2)
    quotients = [k // 2 + k % 2 + int(math.fmod(k, 3)) + 7 // max(abs(k), 1) for k in labels.tolist()]
    assert quotient.tolist() == quotients and found.shape == (3, 2) and floating


def test_requires_grad_is_a_bool_to_type_checkers_and_refuses_other_values() -> None:
    """A property here (checked when set), a bool to mypy: the ignore below would be an unused
    one (an error under --strict) if mypy let a str through."""
    x = mg.tensor([1.0, 2.0])
    flag = assert_type(x.requires_grad, bool)
    with pytest.raises(TypeError, match=r"requires_grad must be True or False, got str"):
        x.requires_grad = "yes"  # type: ignore[assignment]
    x.requires_grad = True
    assert flag is False and x.requires_grad is True
