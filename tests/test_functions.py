"""PyTorch's functions by their `torch.` names (micrograd_plus/functions.py) and the Tensor
methods of the same names: `torch.matmul(a, b, out=y)`, `torch.mul`, `torch.add`,
`torch.flatten(x, 1)`, `torch.max(outputs, 1)`, `torch.sum(x, dim=1)` and the other methods as
functions, `torch.mm`, `torch.dot`, `torch.transpose`, `torch.softmax`, `torch.allclose`, ...;
checked against PyTorch float64, and a PyTorch snippet of them run line for line on both."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import functions

finite = st.floats(-100, 100, allow_nan=False)
BINARY = {"matmul": operator.matmul, "mul": operator.mul, "add": operator.add}


@given(
    a=hnp.arrays(np.float64, (3, 4), elements=finite),
    b=hnp.arrays(np.float64, (4, 4), elements=finite),
    name=st.sampled_from(sorted(BINARY)),
)
def test_matmul_mul_add_write_into_out_as_torch(a: np.ndarray, b: np.ndarray, name: str) -> None:
    torch = require_torch()
    if name != "matmul":
        b = b[:3]
    ours_out, theirs_out = mg.rand(3, 4, seed=0), torch.zeros(3, 4)
    array = ours_out.numpy()
    result = getattr(mg, name)(mg.tensor(a), mg.tensor(b), out=ours_out)
    getattr(torch, name)(torch.tensor(a), torch.tensor(b), out=theirs_out)
    assert result is ours_out and ours_out.numpy() is array
    assert close_to_torch(ours_out.data, theirs_out.numpy())


@pytest.mark.parametrize("name", sorted(BINARY))
def test_without_out_they_are_the_operators_and_the_methods_with_torchs_gradients(name: str) -> None:
    torch = require_torch()
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 3) if name == "matmul" else (2, 3))
    x, y = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours, theirs = getattr(mg, name)(x, y), getattr(torch, name)(tx, ty)
    assert close_to_torch(ours.data, theirs.detach().numpy())
    assert close_to_torch(getattr(x, name)(y).data, BINARY[name](x, y).data)
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    assert close_to_torch(x.grad, tx.grad.numpy()) and close_to_torch(y.grad, ty.grad.numpy())


@given(
    a=hnp.arrays(np.float64, (2, 3), elements=finite),
    b=hnp.arrays(np.float64, (2, 3), elements=finite.filter(lambda v: abs(v) > 1e-3)),
    name=st.sampled_from(["add", "sub", "mul", "div"]),
)
def test_the_methods_add_sub_mul_div_are_torchs(a: np.ndarray, b: np.ndarray, name: str) -> None:
    torch = require_torch()
    ours = getattr(mg.tensor(a), name)(mg.tensor(b))
    assert close_to_torch(ours.data, getattr(torch.tensor(a), name)(torch.tensor(b)).numpy())


def test_out_refuses_what_torch_refuses_and_says_what_to_do() -> None:
    torch = require_torch()
    a = mg.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="out="):
        torch.matmul(torch.ones(2, 2, requires_grad=True), torch.ones(2, 2), out=torch.zeros(2, 2))
    with pytest.raises(RuntimeError, match=r"matmul\(\): functions with out=.* requires grad.*no_grad"):
        mg.matmul(a, a, out=mg.zeros(2, 2))
    with pytest.raises(RuntimeError, match=r"mul\(\): functions with out="):
        mg.mul(mg.ones(2), mg.ones(2), out=mg.zeros(2, requires_grad=True))
    with mg.no_grad():  # allowed there, as in PyTorch
        assert mg.matmul(a, a, out=mg.zeros(2, 2)).tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with pytest.raises(ValueError, match=r"out= has shape \(3,\) but the result has shape \(2, 2\)"):
        mg.add(mg.ones(2, 2), 1.0, out=mg.zeros(3))
    with pytest.raises(TypeError, match="out= takes a Tensor, got ndarray"):
        mg.mul(mg.ones(2), 2.0, out=np.zeros(2))
    with pytest.raises(TypeError, match=r"matmul\(\) takes a Tensor \(as torch.matmul\), got list"):
        mg.matmul([1.0], mg.ones(1))


@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=3), elements=finite),
    data=st.data(),
)
def test_flatten_is_torchs(x: np.ndarray, data: st.DataObject) -> None:
    torch = require_torch()
    start = data.draw(st.integers(-x.ndim, x.ndim - 1))
    end = data.draw(st.integers(start % x.ndim, x.ndim - 1))
    ours, theirs = mg.flatten(mg.tensor(x), start, end), torch.flatten(torch.tensor(x), start, end)
    assert ours.shape == tuple(theirs.shape) and close_to_torch(ours.data, theirs.numpy())


@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
        elements=st.sampled_from([-1.0, 0.0, 2.0, 2.0, 3.5]),  # ties, often
    ),
    data=st.data(),
    name=st.sampled_from(["max", "min"]),
    keepdim=st.booleans(),
)
def test_max_and_min_with_a_dim_give_values_and_indices_with_torchs_gradient(
    x: np.ndarray, data: st.DataObject, name: str, keepdim: bool
) -> None:
    torch = require_torch()
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    t, tt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    values, indices = getattr(mg, name)(t, dim, keepdim)
    theirs = getattr(torch, name)(tt, dim, keepdim)
    assert values.shape == tuple(theirs.values.shape) and close_to_torch(
        values.data, theirs.values.detach().numpy()
    )
    assert indices.dtype == np.int64 and np.array_equal(indices, theirs.indices.numpy())
    weights = np.arange(1.0, values.data.size + 1).reshape(values.shape)  # each value its own weight
    (values * weights).sum().backward()
    (theirs.values * torch.tensor(weights)).sum().backward()
    assert close_to_torch(t.grad, tt.grad.numpy())  # on a tie, all to the index picked
    assert getattr(mg, name)(t, dim, keepdim).values.shape == values.shape


def test_max_without_a_dim_and_of_an_array_as_torch_max_of_outputs_data() -> None:
    torch = require_torch()
    outputs = np.array([[0.1, 2.0, -1.0], [3.0, 0.5, 3.0]])
    assert mg.max(mg.tensor(outputs)).item() == torch.max(torch.tensor(outputs)).item() == 3.0
    _, predicted = mg.max(outputs, 1)  # our outputs.data is an array
    assert predicted.tolist() == torch.max(torch.tensor(outputs), 1)[1].tolist() == [1, 0]
    labels = np.array([1, 2])
    assert (predicted == labels).sum().item() == 1


def test_max_of_two_tensors_is_elementwise_and_bad_arguments_say_what_to_write() -> None:
    np.testing.assert_array_equal(mg.max(mg.tensor([1.0, -1.0]), mg.zeros(2)).data, [1.0, 0.0])  # elementwise
    with pytest.raises(TypeError, match=r"min\(\): keepdim needs a dim"):
        mg.min(mg.ones(2), keepdim=True)
    with pytest.raises(IndexError, match=r"dim 2 is out of range"):
        mg.max(mg.ones(2, 2), 2)
    with pytest.raises(ValueError, match="that axis is empty"):
        mg.max(mg.ones(2, 0), 1)


@given(
    order=st.permutations(range(12)),  # distinct values, far apart: max and min are smooth there
    name=st.sampled_from(["max", "min"]),
    dim=st.integers(-2, 1),
)
def test_the_gradient_of_max_and_min_values_is_the_finite_differences(
    order: list[int], name: str, dim: int
) -> None:
    x = np.array(order, dtype=np.float64).reshape(3, 4) * 0.7 - 3.0
    weights = np.arange(1.0, 5.0)[: 4 if dim in (0, -2) else 3]

    def weighted(t: mg.Tensor) -> mg.Tensor:
        return (getattr(mg, name)(t, dim).values * weights).sum()

    assert mg.gradcheck(weighted, [mg.tensor(x, requires_grad=True)])


def test_a_star_import_leaves_pythons_builtins_alone():
    exported = set(mg.__all__)  # what `from micrograd_plus import *` binds
    hidden = {"max", "min", "sum", "abs", "pow"}  # each a torch function here, and a Python builtin
    assert not hidden & exported and "bool" not in exported  # (mg.bool is torch.bool's dtype)
    assert all(callable(getattr(mg, name)) for name in hidden) and mg.bool == np.bool_
    assert not {"io", "engine", "nn", "data"} & exported  # no submodule: `io` would hide Python's
    assert {"Value", "Tensor", "tensor", "add", "matmul", "flatten", "argmax", "gradcheck"} <= exported
    assert {"mean", "clamp", "clip", "mm", "softmax", "manual_seed", "set_grad_enabled"} <= exported
    assert all(hasattr(mg, name) for name in exported)
    assert mg.max is not max and mg.min is not min and mg.sum is not sum


def test_the_written_out_export_list_is_every_public_name_but_modules_and_builtins() -> None:
    import types

    builtin = {"abs", "all", "any", "bool", "max", "min", "pow", "round", "sum"}
    public = {
        name
        for name, value in vars(mg).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name not in builtin
    }
    assert mg.__all__ == sorted(public)
    assert set(functions.MADE_FROM_METHODS) <= public | builtin  # every function made is a top-level name


# -- the Tensor methods as functions, torch's other top-level functions -----------------------------

# (name, shape of the input, positional arguments, keyword arguments): each is called as
# `torch.name(x, *args, **kwargs)` and `mg.name(x, *args, **kwargs)` alike.
CALLS = [
    ("sum", (3, 4), (), {}),
    ("sum", (3, 4), (1,), {"keepdim": True}),
    ("sum", (3, 4), (), {"dim": (0, 1)}),
    ("mean", (3, 4), (0,), {}),
    ("mean", (3, 4), (), {"dim": 1, "keepdim": True}),
    ("abs", (3, 4), (), {}),
    ("pow", (3, 4), (2,), {}),
    ("pow", (3, 4), (), {"exponent": 3.0}),
    ("clamp", (3, 4), (-0.5, 0.5), {}),
    ("clamp", (3, 4), (), {"min": 0.1}),
    ("clip", (3, 4), (), {"max": 0.2}),
    ("neg", (3, 4), (), {}),
    ("div", (3, 4), (2.5,), {}),
    ("remainder", (3, 4), (1.5,), {}),
    ("fmod", (3, 4), (-1.75,), {}),
    ("norm", (3, 4), (), {}),
    ("norm", (3, 4), (1,), {"dim": 1}),
    ("var", (3, 4), (), {}),
    ("var", (3, 4), (1,), {}),
    ("var", (3, 4), (), {"dim": 1, "correction": 0}),
    ("std", (3, 4), (), {"dim": 0, "keepdim": True}),
    ("squeeze", (3, 1, 4), (), {}),
    ("squeeze", (3, 1, 4), (1,), {}),
    ("unsqueeze", (3, 4), (-1,), {}),
    ("softmax", (3, 4), (1,), {}),
    ("log_softmax", (3, 4), (), {"dim": 0}),
    ("reshape", (3, 4), ((2, -1),), {}),
    ("transpose", (2, 3, 4), (0, -1), {}),
    ("transpose", (3, 4), (1, 1), {}),
    ("permute", (2, 3, 4), ((1, 2, 0),), {}),
    ("sub", (3, 4), (1.5,), {"alpha": 2}),
    ("add", (3, 4), (1.5,), {"alpha": -0.5}),
]


@pytest.mark.parametrize(("name", "shape", "args", "kwargs"), CALLS, ids=lambda v: str(v))
@given(data=st.data())
def test_each_function_gives_torchs_values_and_gradients(
    name: str, shape: tuple[int, ...], args: tuple, kwargs: dict, data: st.DataObject
) -> None:
    torch = require_torch()
    a = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10, allow_nan=False)))
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = getattr(mg, name)(x, *args, **kwargs), getattr(torch, name)(tx, *args, **kwargs)
    assert ours.shape == tuple(theirs.shape) and close_to_torch(ours.data, theirs.detach().numpy())
    weights = np.arange(1.0, ours.data.size + 1).reshape(ours.shape)  # each output its own weight
    (ours * weights).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    assert close_to_torch(x.grad, tx.grad.numpy())


# The functions made from Tensor methods, each -> its method.
METHOD_OF = functions.MADE_FROM_METHODS


@pytest.mark.parametrize(("name", "shape", "args", "kwargs"), CALLS, ids=lambda v: str(v))
def test_a_functions_gradient_is_its_methods_and_the_finite_differences(
    name: str, shape: tuple[int, ...], args: tuple, kwargs: dict
) -> None:
    signs = np.where(np.arange(np.prod(shape)) % 2, 1.0, -1.0).reshape(shape)
    a = np.random.default_rng(7).uniform(0.3, 2.0, shape) * signs  # no kink: away from 0 and the clamp bounds
    weights = np.random.default_rng(8).standard_normal(getattr(mg, name)(mg.tensor(a), *args, **kwargs).shape)

    def weighted(t: mg.Tensor) -> mg.Tensor:
        return (getattr(mg, name)(t, *args, **kwargs) * weights).sum()

    assert mg.gradcheck(weighted, [mg.tensor(a, requires_grad=True)])
    if name in METHOD_OF:
        x, y = mg.tensor(a, requires_grad=True), mg.tensor(a, requires_grad=True)
        weighted(x).backward()
        (getattr(y, METHOD_OF[name])(*args, **kwargs) * weights).sum().backward()
        assert np.array_equal(x.grad, y.grad)


def test_the_generated_functions_show_torchs_arguments_and_their_methods_docs() -> None:
    import inspect

    assert list(inspect.signature(mg.sum).parameters) == [
        "input",
        "axis",
        "keepdims",
        "dim",
        "keepdim",
        "out",
    ]
    assert list(inspect.signature(mg.numel).parameters) == ["input"]  # no out= where torch has none
    assert mg.clip.__name__ == "clip" and "input.clamp(...)" in mg.clip.__doc__
    assert mg.var.__doc__.endswith(mg.Tensor.var.__doc__.splitlines()[-1].strip())
    assert mg.sum(input=mg.ones(2, 3), dim=0).tolist() == [2.0, 2.0, 2.0]  # input= by name, as torch
    assert mg.numel(mg.ones(2, 3)) == 6 and mg.sum(np.ones(3)).item() == 3.0  # an array (our .data) too
    with pytest.raises(TypeError, match=r"mean\(\) takes a Tensor \(as torch.mean\), got list"):
        mg.mean([1.0, 2.0])
    with pytest.raises(TypeError, match="unexpected keyword argument 'out'"):
        mg.squeeze(mg.ones(2, 1), out=mg.zeros(2))


@pytest.mark.parametrize(
    ("name", "args"),
    [("sum", (1,)), ("mean", ()), ("clamp", (0.0, 0.5)), ("pow", (2,)), ("std", (0,)), ("sub", (1.0,))],
)
def test_out_writes_the_functions_result_as_torchs(name: str, args: tuple) -> None:
    torch = require_torch()
    a = np.random.default_rng(3).standard_normal((3, 4))
    expected = getattr(torch, name)(torch.tensor(a), *args)
    ours_out, theirs_out = mg.rand(*expected.shape, seed=1), torch.zeros(expected.shape)
    array = ours_out.numpy()
    assert getattr(mg, name)(mg.tensor(a), *args, out=ours_out) is ours_out and ours_out.numpy() is array
    getattr(torch, name)(torch.tensor(a), *args, out=theirs_out)
    assert close_to_torch(ours_out.data, theirs_out.numpy())
    with pytest.raises(RuntimeError, match=rf"{name}\(\): functions with out="):
        getattr(mg, name)(mg.tensor(a, requires_grad=True), *args, out=ours_out)


@given(
    a=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=finite),
    data=st.data(),
)
def test_mm_and_dot_are_torchs_with_their_gradients(a: np.ndarray, data: st.DataObject) -> None:
    torch = require_torch()
    b = data.draw(hnp.arrays(np.float64, (a.shape[1], data.draw(st.integers(1, 4))), elements=finite))
    u = data.draw(hnp.arrays(np.float64, a.shape[1], elements=finite))
    for name, left, right in (("mm", a, b), ("dot", a[0], u)):
        x, y = mg.tensor(left, requires_grad=True), mg.tensor(right, requires_grad=True)
        tx, ty = torch.tensor(left, requires_grad=True), torch.tensor(right, requires_grad=True)
        ours, theirs = getattr(mg, name)(x, y), getattr(torch, name)(tx, ty)
        assert ours.shape == tuple(theirs.shape) and close_to_torch(ours.data, theirs.detach().numpy())
        (ours * ours).sum().backward()
        (theirs * theirs).sum().backward()
        assert close_to_torch(x.grad, tx.grad.numpy()) and close_to_torch(y.grad, ty.grad.numpy())


@pytest.mark.parametrize(
    ("name", "shapes", "message"),
    [
        ("mm", ((3,), (3, 2)), r"mm\(\): input must be a matrix \(2-D\), got shape \(3,\); matmul"),
        ("mm", ((2, 3), (3,)), r"mm\(\): mat2 must be a matrix \(2-D\), got shape \(3,\)"),
        ("mm", ((2, 3, 1), (1, 2)), r"input must be a matrix \(2-D\), got shape \(2, 3, 1\)"),
        ("mm", ((2, 3), (4, 2)), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x2\)"),
        ("dot", ((2, 3), (3,)), r"dot\(\): 1D tensors expected, but got 2D and 1D tensors"),
        ("dot", ((), ()), r"1D tensors expected, but got 0D and 0D tensors"),
        ("dot", ((3,), (4,)), r"dot\(\): inconsistent tensor size: 3 and 4 elements"),
    ],
)
def test_mm_and_dot_refuse_the_shapes_torch_refuses(name: str, shapes: tuple, message: str) -> None:
    torch = require_torch()
    with pytest.raises(RuntimeError):
        getattr(torch, name)(*(torch.ones(s) for s in shapes))
    with pytest.raises(ValueError, match=message):
        getattr(mg, name)(*(mg.ones(s) for s in shapes))


def test_transpose_swaps_two_dims_as_torch_and_refuses_a_dim_out_of_range() -> None:
    torch = require_torch()
    a = np.arange(24.0).reshape(2, 3, 4)
    for dims in ((0, 1), (2, 0), (-1, -2), (1, 1)):
        assert np.array_equal(
            mg.transpose(mg.tensor(a), *dims).data, torch.transpose(torch.tensor(a), *dims).numpy()
        )
    assert mg.transpose(mg.tensor(5.0), 0, -1).item() == torch.transpose(torch.tensor(5.0), 0, -1).item()
    with pytest.raises(IndexError):
        torch.transpose(torch.tensor(a), 0, 3)
    with pytest.raises(
        IndexError, match=r"transpose\(\): dim 3 is out of range for a Tensor of shape \(2, 3, 4\)"
    ):
        mg.transpose(mg.tensor(a), 0, 3)


def test_softmax_takes_torchs_dim_and_dtype() -> None:
    torch = require_torch()
    a = np.random.default_rng(4).standard_normal((2, 3))
    ours = mg.softmax(mg.tensor(a), dim=0, dtype=mg.float32)
    theirs = torch.softmax(torch.tensor(a), dim=0, dtype=torch.float32)
    assert ours.dtype == np.float32 and np.allclose(ours.data, theirs.numpy(), rtol=1e-6)
    with pytest.raises(TypeError):
        torch.softmax(torch.tensor(a))
    with pytest.raises(TypeError, match="dim"):
        mg.softmax(mg.tensor(a))  # dim required, as torch's
    for method in ("softmax", "log_softmax"):  # one argument by its two names: not both, as torch
        with pytest.raises(TypeError):
            getattr(torch.tensor(a), method)(0, dim=1)
        with pytest.raises(
            TypeError, match=rf"{method}\(\): give axis or dim, not both \(got axis=0, dim=1\)"
        ):
            getattr(mg.tensor(a), method)(0, dim=1)


SOFTMAXES = {  # each entry point of softmax and log_softmax, ours and PyTorch's, as (lib, x, dim, dtype)
    "mg.softmax": lambda lib, x, dim, dtype: lib.softmax(x, dim, dtype=dtype),
    "mg.log_softmax": lambda lib, x, dim, dtype: lib.log_softmax(x, dim, dtype),
    "x.softmax": lambda lib, x, dim, dtype: x.softmax(dim=dim, dtype=dtype),
    "x.log_softmax": lambda lib, x, dim, dtype: x.log_softmax(dim, dtype),
    "F.softmax": lambda lib, x, dim, dtype: lib.nn.functional.softmax(x, dim, dtype=dtype),
    "F.log_softmax": lambda lib, x, dim, dtype: lib.nn.functional.log_softmax(x, dim=dim, dtype=dtype),
}


@pytest.mark.parametrize("call", sorted(SOFTMAXES))
@given(
    a=hnp.arrays(st.sampled_from([np.float32, np.float64]), (3, 4), elements=st.floats(-10, 10, width=32)),
    dim=st.integers(-2, 1),
    dtype=st.sampled_from(["float32", "float64"]),
)
def test_softmax_in_a_dtype_as_torch_with_the_gradient_in_the_inputs_dtype(
    call: str, a: np.ndarray, dim: int, dtype: str
) -> None:
    torch = require_torch()
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = SOFTMAXES[call](mg, x, dim, dtype), SOFTMAXES[call](torch, tx, dim, getattr(torch, dtype))
    assert ours.dtype == np.dtype(dtype) and np.dtype(dtype) == theirs.detach().numpy().dtype
    weights = np.arange(12.0).reshape(3, 4)
    (ours * weights.astype(dtype)).sum().backward()
    (theirs * torch.tensor(weights, dtype=getattr(torch, dtype))).sum().backward()
    assert x.grad.dtype == a.dtype
    if a.dtype == np.float64 and dtype == "float64":
        assert close_to_torch(ours.data, theirs.detach().numpy()) and close_to_torch(x.grad, tx.grad.numpy())
    else:
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("call", sorted(SOFTMAXES))
def test_a_softmax_dtype_it_cannot_hold_is_refused_naming_the_ones_that_work(call: str) -> None:
    torch = require_torch()
    x = mg.tensor([[1.0, 2.0]])
    for bad in ("int64", torch.int64, "cpu", np.float16, 1):
        with pytest.raises(TypeError, match=r"softmax\(\): dtype must be float32 or float64") as refused:
            SOFTMAXES[call](mg, x, 1, bad)
    assert "(mg.float32, np.float64, 'float64' or torch.float64), got 1; leave dtype out" in str(
        refused.value
    )
    for named, dtype in ((mg.float32, np.float32), (np.float64, np.float64), ("float64", np.float64), (torch.float64, np.float64)):  # fmt: skip
        assert SOFTMAXES[call](mg, x, 1, named).dtype == dtype  # each dtype the error names works


@given(
    a=hnp.arrays(np.float64, 4, elements=finite),
    b=hnp.arrays(np.float64, 4, elements=finite),
    alpha=st.floats(-3, 3, allow_nan=False),
    name=st.sampled_from(["add", "sub"]),
)
def test_add_and_sub_take_torchs_alpha(a: np.ndarray, b: np.ndarray, alpha: float, name: str) -> None:
    torch = require_torch()
    x, y = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ours, theirs = getattr(mg, name)(x, y, alpha=alpha), getattr(torch, name)(tx, ty, alpha=alpha)
    assert close_to_torch(ours.data, theirs.detach().numpy())
    ours.sum().backward()
    theirs.sum().backward()
    assert close_to_torch(x.grad, tx.grad.numpy()) and close_to_torch(y.grad, ty.grad.numpy())
    with pytest.raises(TypeError, match=r"add\(\): alpha must be a number, got str"):
        mg.add(x, y, alpha="2")


close_arrays = hnp.arrays(
    np.float64,
    3,
    elements=st.one_of(
        st.sampled_from([0.0, 1.0, 1.0 + 1e-6, 1.0 + 1e-4, 1e-9, np.inf, -np.inf, np.nan]), st.floats(-2, 2)
    ),
)


@given(
    a=close_arrays,
    b=close_arrays,
    rtol=st.sampled_from([1e-05, 1e-3, 0.0]),
    atol=st.sampled_from([1e-08, 1e-6, 0.0]),
    equal_nan=st.booleans(),
)
def test_isclose_and_allclose_are_torchs_with_its_defaults(
    a: np.ndarray, b: np.ndarray, rtol: float, atol: float, equal_nan: bool
) -> None:
    torch = require_torch()
    ta, tb = torch.tensor(a), torch.tensor(b)
    expected = torch.isclose(ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan).numpy()
    assert np.array_equal(mg.isclose(mg.tensor(a), mg.tensor(b), rtol, atol, equal_nan), expected)
    assert mg.allclose(mg.tensor(a), b, rtol=rtol, atol=atol, equal_nan=equal_nan) == torch.allclose(
        ta, tb, rtol=rtol, atol=atol, equal_nan=equal_nan
    )
    assert mg.allclose(mg.tensor(a), mg.tensor(b)) == torch.allclose(ta, tb)  # the defaults


def test_allclose_takes_what_torch_takes_and_a_grad_array() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert mg.allclose(x.grad, mg.tensor([2.0, 4.0])) and not mg.allclose(x.grad, mg.tensor([2.0, 4.1]))
    assert mg.allclose(mg.ones(2, 3), mg.ones(3))  # broadcast, as torch's
    with pytest.raises(ValueError, match=r"allclose\(\): shapes \(3,\) and \(2,\) do not broadcast"):
        mg.allclose(mg.ones(3), mg.ones(2))
    with pytest.raises(TypeError, match=r"allclose\(\): other must be a Tensor or a numpy array"):
        mg.allclose(mg.ones(3), 1.0)


def test_is_tensor() -> None:
    assert mg.is_tensor(mg.ones(2)) and not mg.is_tensor(np.ones(2)) and not mg.is_tensor(mg.Value(1.0))


def pytorch_snippet(lib: Any, a: np.ndarray, b: np.ndarray, labels: list[int]) -> list[Any]:
    """A PyTorch snippet of the top-level names, run with `lib` torch or micrograd_plus, unchanged."""
    lib.manual_seed(0)
    lib.set_grad_enabled(True)
    x = lib.tensor(a, requires_grad=True)
    w = lib.tensor(b, requires_grad=True)
    y = lib.tensor(labels)
    h = lib.clamp(lib.mm(x, w), -1.0, 1.0)
    h = lib.sub(h, lib.mean(h, dim=0, keepdim=True), alpha=0.5)
    logp = lib.log_softmax(h, dim=1)
    loss = -lib.sum(logp[lib.arange(4), y]) / lib.numel(y) + lib.pow(lib.norm(w), 2) * 0.01
    rows = lib.sum(lib.abs(x[lib.randperm(4)]), dim=0)  # the same sums in any order
    twice = lib.randint(2, 3, (5,))  # all 2
    flat = lib.reshape(lib.transpose(w, 0, 1), (-1,))
    loss = loss + lib.var(rows) + lib.std(h, dim=1).mean() + lib.dot(flat, flat) / lib.sum(twice)
    loss = lib.add(loss, lib.div(lib.neg(lib.clip(lib.softmax(h, dim=1), 0.2, 0.8)).sum(), 10), alpha=2)
    loss.backward()
    with lib.set_grad_enabled(False):
        after = lib.squeeze(lib.unsqueeze(lib.div(loss, 2), 0))
    checks = [lib.allclose(lib.softmax(h, 1).sum(1), lib.ones(4)), lib.is_tensor(loss), lib.numel(twice)]
    return [loss.item(), after.item(), after.requires_grad, np.asarray(x.grad), np.asarray(w.grad), *checks]


def test_a_pytorch_snippet_of_these_functions_runs_line_for_line_with_the_same_numbers() -> None:
    torch = require_torch()
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    ours, theirs = pytorch_snippet(mg, a, b, [0, 2, 4, 1]), pytorch_snippet(torch, a, b, [0, 2, 4, 1])
    assert ours[2:3] + ours[5:] == theirs[2:3] + theirs[5:] == [False, True, True, 5]
    assert all(close_to_torch(o, t) for o, t in zip(ours[:2] + ours[3:5], theirs[:2] + theirs[3:5]))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda t: mg.isclose(t, t, atol=float("inf")), ValueError, "atol must be a finite number >= 0"),
        (lambda t: mg.allclose(t, t, rtol=-1.0), ValueError, "rtol must be a finite number >= 0"),
        (lambda t: mg.isclose(t, t, rtol=float("nan")), ValueError, "rtol must be a finite number >= 0"),
        (lambda t: mg.allclose(t, t, rtol="a"), TypeError, "rtol must be a number"),
        (
            lambda t: mg.add(t, mg.Value(2.0), alpha=2),
            TypeError,
            "other must be a Tensor or numbers, got Value",
        ),
        (
            lambda t: mg.sub(t, mg.Value(2.0), alpha=2),
            TypeError,
            "other must be a Tensor or numbers, got Value",
        ),
    ],
)
def test_tolerances_and_alpha_operands_are_checked(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call(mg.tensor([1.0, 2.0]))


# Every function with out=: the shape of its input, and its other arguments made from the input (a
# Tensor of ours or of PyTorch's).
OUT_CALLS: dict[str, tuple[tuple[int, ...], Any]] = {
    **{name: ((3, 4), lambda x: ()) for name in ("abs", "ceil", "floor", "neg", "round", "sign", "square")},
    **{
        name: ((3, 4), lambda x: (0,))
        for name in ("amax", "amin", "cumsum", "logsumexp", "mean", "prod", "std", "sum", "var")
    },  # fmt: skip
    **{name: ((3, 4), lambda x: (x * 0.5,)) for name in ("add", "maximum", "minimum", "mul", "sub")},
    "clamp": ((3, 4), lambda x: (-0.5, 0.5)),
    "clip": ((3, 4), lambda x: (-0.5, 0.5)),
    "div": ((3, 4), lambda x: (2.5,)),
    "floor_divide": ((3, 4), lambda x: (2.5,)),
    "remainder": ((3, 4), lambda x: (x * 0.5 - 3,)),
    "fmod": ((3, 4), lambda x: (-1.5,)),
    "pow": ((3, 4), lambda x: (2,)),
    "norm": ((3, 4), lambda x: (2, 0)),
    "matmul": ((3, 4), lambda x: (x.T,)),
    "mm": ((3, 4), lambda x: (x.T,)),
    "dot": ((4,), lambda x: (x,)),
    **{name: ((3, 4), lambda x: ()) for name in ("diag", "nan_to_num", "tril", "triu")},
    "bmm": ((2, 3, 4), lambda x: (x.transpose(1, 2),)),
    "outer": ((4,), lambda x: (x * 0.5,)),
    "lerp": ((3, 4), lambda x: (x * 0.5, 0.25)),
    "index_select": (
        (3, 4),
        lambda x: (1, [0, 3, 3] if isinstance(x, mg.Tensor) else _torch_index([0, 3, 3])),
    ),
}


def _torch_index(positions: list[int]) -> Any:
    return require_torch().tensor(positions)  # (int64: PyTorch's index; ours takes a list of ints)


def test_out_calls_name_every_function_with_out() -> None:
    import inspect

    with_out = {n for n in functions.__all__ if "out" in inspect.signature(getattr(mg, n)).parameters}
    assert with_out == set(OUT_CALLS)


@pytest.mark.parametrize("name", sorted(OUT_CALLS))
@pytest.mark.parametrize(("dtype", "out_dtype"), [(np.float64, np.float32), (np.float32, np.float64)])
@given(data=st.data())
def test_out_of_the_other_dtype_is_refused_or_converted_as_torch(
    name: str, dtype: type, out_dtype: type, data: st.DataObject
) -> None:
    """torch.neg(x64, out=y32) is refused, torch.add(x64, x64, out=y32) rounds into y32 and
    torch.sum(x32, 0, out=y64) (and std, var, ...) adds up in float64: each function as PyTorch's."""
    torch = require_torch()
    shape, extra = OUT_CALLS[name]
    a = data.draw(hnp.arrays(dtype, shape, elements=st.floats(-10, 10, width=32)))
    x, tx = mg.tensor(a), torch.tensor(a)
    theirs = getattr(torch, name)(tx, *extra(tx))
    their_out = torch.zeros(theirs.shape, dtype=getattr(torch, np.dtype(out_dtype).name))
    ours_out = mg.zeros(theirs.shape, dtype=out_dtype)
    try:
        getattr(torch, name)(tx, *extra(tx), out=their_out)
    except RuntimeError:
        with pytest.raises(
            RuntimeError, match=rf"{name}\(\): Found dtype {np.dtype(out_dtype)} but expected "
        ):
            getattr(mg, name)(x, *extra(x), out=ours_out)
        assert not ours_out.data.any()  # untouched
        return
    assert getattr(mg, name)(x, *extra(x), out=ours_out) is ours_out and ours_out.dtype == out_dtype
    # (PyTorch's logsumexp takes exp in the input's dtype and sums in out's: float32 on one side)
    if (
        name != "logsumexp"
        and (out_dtype if name in ("cumsum", "mean", "prod", "std", "sum", "var") else dtype) == np.float64
    ):
        assert close_to_torch(ours_out.data, their_out.numpy())  # computed in float64 on both sides
    else:  # computed in float32, in orders that may differ
        np.testing.assert_allclose(ours_out.data, their_out.numpy(), rtol=1e-5, atol=1e-5)


def test_a_float32_sum_into_a_float64_out_adds_up_in_float64_as_torch() -> None:
    torch = require_torch()
    a = np.random.default_rng(5).standard_normal(1000).astype(np.float32) * 1000
    ours_out, their_out = mg.zeros(()), torch.zeros(())
    mg.sum(mg.tensor(a), 0, out=ours_out)
    torch.sum(torch.tensor(a), 0, out=their_out)
    assert close_to_torch(ours_out.data, their_out.numpy())
    assert not close_to_torch(mg.tensor(a).sum().double().data, their_out.numpy())  # float32's sum is not
