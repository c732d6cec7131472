"""PyTorch's functions by their `torch.` names (micrograd_plus/functions.py) and the Tensor
methods of the same names: `torch.matmul(a, b, out=y)`, `torch.mul`, `torch.add`,
`torch.flatten(x, 1)`, `torch.max(outputs, 1)`; checked against PyTorch float64."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg

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


def test_a_star_import_leaves_pythons_max_and_min_alone():
    exported = set(mg.__all__)  # what `from micrograd_plus import *` binds
    assert "max" not in exported and "min" not in exported
    assert not {"io", "engine", "nn", "data"} & exported  # no submodule: `io` would hide Python's
    assert {"Value", "Tensor", "tensor", "add", "matmul", "flatten", "argmax", "gradcheck"} <= exported
    assert all(hasattr(mg, name) for name in exported)
    assert mg.max is not max and mg.min is not min
