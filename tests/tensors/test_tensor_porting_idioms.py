"""PyTorch idioms a ported tutorial uses on Tensors: `x.size()`, `x.dim()`, `x.float()`,
`x.double()`, `torch.from_numpy`, `torch.cat(..., dim=)`, and `var`/`std`'s arguments and
edge cases (their values and gradients on random shapes are in the catalogue of
tests/tensors/test_tensor_ops.py). Checked against PyTorch float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import Tensor

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)


@given(shape=shapes, data=st.data())
def test_size_and_dim_are_torchs(shape: tuple[int, ...], data: st.DataObject) -> None:
    torch = require_torch()
    x, t = mg.zeros(shape), torch.zeros(shape)
    assert x.size() == tuple(t.size()) and x.dim() == t.dim()
    if shape:
        d = data.draw(st.integers(-len(shape), len(shape) - 1))
        assert x.size(d) == t.size(d)


def test_size_of_a_dim_out_of_range_says_which_dims_exist() -> None:
    with pytest.raises(ValueError, match=r"size\(\): dim 2 is out of range for a Tensor of shape \(2, 3\)"):
        mg.zeros(2, 3).size(2)
    with pytest.raises(TypeError, match="dim must be an int"):
        mg.zeros(2, 3).size(1.0)


@given(x=hnp.arrays(np.float64, shapes, elements=st.floats(-1e3, 1e3)))
def test_float_and_double_cast_and_send_the_gradient_back_in_the_inputs_dtype(x: np.ndarray) -> None:
    torch = require_torch()
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    single, reference = ours.float(), theirs.float()
    assert single.dtype == np.float32 and np.array_equal(single.data, reference.detach().numpy())
    assert single.float() is single and ours.double() is ours  # already that dtype: itself, as torch
    weight = np.linspace(-2, 2, x.size).reshape(x.shape)
    (single.double() * Tensor(weight)).sum().backward()
    (reference.double() * torch.tensor(weight)).sum().backward()
    assert ours.grad.dtype == np.float64 and close_to_torch(ours.grad, theirs.grad.numpy())


def test_a_cast_is_differentiated_twice() -> None:
    x = Tensor([1.5, -2.0], requires_grad=True)
    (g,) = mg.grad((x.float() ** 3).sum(), [x], create_graph=True)
    assert g.dtype == np.float64
    g.sum().backward()
    assert np.array_equal(x.grad, 6 * x.data)  # d/dx of 3x², exact in float32 for these x


def test_from_numpy_shares_memory_as_torch_does() -> None:
    a = np.arange(6.0).reshape(2, 3)
    x = mg.from_numpy(a)
    a[0, 0] = 7.0
    assert x.data[0, 0] == 7.0 and x.dtype == np.float64 and not x.requires_grad
    assert mg.from_numpy(a.astype(np.float32)).dtype == np.float32


def test_from_numpy_refuses_what_a_tensor_cannot_hold_and_says_what_to_do() -> None:
    with pytest.raises(
        TypeError, match=r"float64, float32, int64 or bool, got an array of int32; convert it with a.astype"
    ):
        mg.from_numpy(np.arange(3, dtype=np.int32))
    with pytest.raises(TypeError, match="takes a numpy array, got list"):
        mg.from_numpy([1.0, 2.0])


@given(data=st.data())
def test_cat_and_stack_take_torchs_dim(data: st.DataObject) -> None:
    torch = require_torch()
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    xs = [data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2))) for _ in range(3)]
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert mg.cat is mg.concat
    for ours, theirs in ((mg.cat, torch.cat), (mg.stack, torch.stack)):
        mine = [Tensor(x, requires_grad=True) for x in xs]
        reference = [torch.tensor(x, requires_grad=True) for x in xs]
        out, expected = ours(mine, dim=dim), theirs(reference, dim=dim)
        assert np.array_equal(out.data, expected.detach().numpy())
        weight = np.arange(out.data.size, dtype=np.float64).reshape(out.shape)
        out.backward(weight)
        expected.backward(torch.tensor(weight))
        assert all(np.array_equal(m.grad, r.grad.numpy()) for m, r in zip(mine, reference))


def test_cat_with_axis_and_dim_both_is_refused() -> None:
    with pytest.raises(TypeError, match=r"concat\(\): give axis or dim, not both"):
        mg.cat([mg.zeros((2, 2)), mg.zeros((2, 2))], 1, dim=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"unbiased": False},
        {"unbiased": True},
        {"correction": 0},
        {"correction": 2},
        {"dim": 1, "unbiased": False},
    ],
)
def test_var_and_std_take_torchs_arguments(kwargs: dict) -> None:
    torch = require_torch()
    x = np.array([[1.0, 2.0, 4.0, 8.0], [0.5, 0.5, -1.0, 3.0]])
    for name in ("var", "std"):
        ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = getattr(ours, name)(**kwargs), getattr(theirs, name)(**kwargs)
        assert close_to_torch(out.data, expected.detach().numpy())
        out.sum().backward()
        expected.sum().backward()
        assert close_to_torch(ours.grad, theirs.grad.numpy())


@pytest.mark.filterwarnings("ignore:std\\(\\)|var\\(\\):UserWarning")  # torch warns on N - correction <= 0
@pytest.mark.parametrize("data", [[1.0, 1.0, 1.0], [2.0], [np.nan, 1.0], [np.inf, 1.0], [3.0, 3.0, 5.0]])
def test_std_where_it_is_zero_nan_or_inf_matches_torch(data: list[float]) -> None:
    torch = require_torch()
    for name in ("var", "std"):
        ours, theirs = (
            Tensor(data, requires_grad=True),
            torch.tensor(data, requires_grad=True, dtype=torch.float64),
        )
        out, expected = getattr(ours, name)(), getattr(theirs, name)()
        out.backward()
        expected.backward()
        assert close_to_torch(out.data, expected.detach().numpy())
        assert close_to_torch(ours.grad, theirs.grad.numpy()), (name, data, ours.grad, theirs.grad)


def test_var_refuses_unbiased_with_correction() -> None:
    with pytest.raises(TypeError, match="give unbiased or correction, not both"):
        mg.zeros(3).var(unbiased=True, correction=1)
    with pytest.raises(TypeError, match="unbiased must be True or False"):
        mg.zeros(3).var(unbiased=1)


def test_to_takes_torchs_devices_and_dtypes() -> None:
    torch = require_torch()
    x = Tensor([1.0, -2.5], requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(device="cpu") is x
    for target in (np.float32, "float32", np.dtype(np.float32), torch.float32):
        assert x.to(target).dtype == np.float32
    single = x.to(torch.device("cpu"), dtype=torch.float32)
    assert single.dtype == np.float32 and single.to(np.float64).dtype == np.float64
    (single * 2).sum().backward()
    assert x.grad.dtype == np.float64 and np.array_equal(x.grad, [2.0, 2.0])


@pytest.mark.parametrize("target", ["cuda", "cuda:0", "mps"])
def test_to_another_device_says_there_is_only_the_cpu(target: str) -> None:
    with pytest.raises(ValueError, match='computes on the CPU only .*use "cpu", or leave the call out'):
        mg.zeros(2).to(target)


@pytest.mark.parametrize("target", [np.int32, "float16", "gpu", 3, [1]])
def test_to_refuses_what_is_neither_the_cpu_nor_a_tensor_dtype(target: object) -> None:
    with pytest.raises(
        TypeError, match=r'to\(\) takes a device \("cpu"\) and a dtype \(float32, float64, int64 or bool\)'
    ):
        mg.zeros(2).to(target)


def test_to_refuses_two_different_dtypes() -> None:
    with pytest.raises(TypeError, match="takes a device"):
        mg.zeros(2).to(np.float32, dtype=np.float64)


@pytest.mark.filterwarnings("ignore:var\\(\\)|std\\(\\):UserWarning")
@pytest.mark.parametrize("correction", [3, 5])
def test_var_with_correction_at_least_the_count_is_inf_as_torchs(correction: float) -> None:
    """PyTorch divides by max(N - correction, 0): never a negative variance. (Its gradient there
    does not follow from its value, finite along a dim and of odd signs over all, so ours is
    the derivative of the value: inf times the sign of the deviation.)"""
    torch = require_torch()
    x = np.array([[1.0, 2.0, 4.0], [3.0, 4.0, 8.0]])  # no element equals its row's mean
    for dim, c in ((1, correction), (None, 2 * correction)):
        ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        assert close_to_torch(
            ours.var(dim, correction=c).data, theirs.var(dim, correction=c).detach().numpy()
        )
    ours = Tensor(x, requires_grad=True)
    ours.var(1, correction=correction).sum().backward()
    assert np.array_equal(ours.grad, np.sign(x - x.mean(axis=1, keepdims=True)) * np.inf)


@pytest.mark.filterwarnings("ignore:var\\(\\)|std\\(\\):UserWarning")
def test_var_of_an_empty_tensor_is_nan_and_a_bool_first_argument_is_unbiased() -> None:
    torch = require_torch()
    assert np.isnan(mg.zeros(0).var().item()) and np.isnan(torch.zeros(0).var().item())
    x = np.array([1.0, 2.0, 4.0])
    for unbiased in (True, False):
        assert close_to_torch(Tensor(x).var(unbiased).data, torch.tensor(x).var(unbiased).numpy())
        assert close_to_torch(Tensor(x).std(unbiased).data, torch.tensor(x).std(unbiased).numpy())


def test_float_of_a_number_beyond_float32_is_inf_without_a_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mg.tensor([1e300]).float().data[0] == np.inf


def test_norm_of_zeros_has_gradient_zero_as_torchs_and_p_is_checked() -> None:
    torch = require_torch()
    x = np.array([[0.0, 0.0], [3.0, -4.0]])
    for p in (1, 2, "fro"):
        ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        dim = None if p == "fro" else 1
        out = ours.norm(p, dim)
        expected = theirs.norm(p) if dim is None else theirs.norm(p, dim)
        assert close_to_torch(out.data, expected.detach().numpy())
        out.sum().backward()
        expected.sum().backward()
        assert close_to_torch(ours.grad, theirs.grad.numpy()), (p, ours.grad, theirs.grad)
    for p in (3, np.inf, True, "nuc"):
        with pytest.raises(ValueError, match='p must be 1, 2 or "fro"'):
            Tensor(x).norm(p)


POINTWISE = ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu"]


@pytest.mark.parametrize("name", POINTWISE)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(0.1, 5)))
def test_torch_sin_and_its_kin_are_functions_as_in_torch(name: str, x: np.ndarray) -> None:
    """`mg.sin(x)` is `x.sin()` (whose gradient is checked against finite differences with the
    other Tensor methods), and torch.sin's value and gradient."""
    torch = require_torch()
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = getattr(mg, name)(ours)
    expected = getattr(torch, name)(theirs)
    assert np.array_equal(out.data, getattr(Tensor(x), name)().data)
    assert close_to_torch(out.data, expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    assert close_to_torch(ours.grad, theirs.grad.numpy())


@pytest.mark.parametrize("name", POINTWISE)
def test_the_functions_take_tensors_and_values_and_say_what_to_use_for_numbers(name: str) -> None:
    with pytest.raises(
        TypeError,
        match=rf"{name}\(\) takes a Tensor \(as torch\.{name}\) or a Value, got float: 0.5; make one with tensor",
    ):
        getattr(mg, name)(0.5)
    v, w = mg.Value(0.7), mg.Value(0.7)
    out = getattr(mg, name)(v)
    expected = getattr(w, name)()
    assert isinstance(out, mg.Value) and out.data == expected.data
    out.backward()
    expected.backward()
    assert v.grad == w.grad != 0.0


@pytest.mark.parametrize("name", POINTWISE)
@given(x=hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(0.1, 3)))
def test_the_functions_take_a_numpy_array_as_a_tensor(name: str, x: np.ndarray) -> None:
    """d2l's batch_norm keeps `moving_var.data` (a Tensor in PyTorch, an array here) and predicts
    with `torch.sqrt(moving_var + eps)`: the array is taken as a Tensor, as `mg.max(outputs.data, 1)`."""
    out = getattr(mg, name)(x + 1e-5)
    assert isinstance(out, Tensor) and not out.requires_grad
    assert np.array_equal(out.data, getattr(Tensor(x + 1e-5), name)().data)
    scalar = x[0] + 1e-5  # a numpy scalar (np.float64), as a 0-d array plus eps gives: taken as 0-d
    for number in (scalar, np.float32(scalar)):
        out = getattr(mg, name)(number)
        assert out.shape == () and out.dtype == number.dtype
        assert np.array_equal(out.data, getattr(Tensor(np.array(number)), name)().data)


@given(
    x=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 4)), elements=st.floats(-3, 3)),
    data=st.data(),
)
def test_a_tensor_of_whole_numbers_indexes_as_torchs_int64_labels(x: np.ndarray, data: st.DataObject) -> None:
    """The tutorial's nll, `-input[range(target.shape[0]), target].mean()`, with the labels a
    Tensor (`tensor(y)` holds floats here): values and gradients as torch's with int64 labels."""
    torch = require_torch()
    n, c = x.shape
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    rows = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6)))
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    target, ttarget = mg.tensor(labels), torch.tensor(labels)
    out = -ours[range(target.shape[0]), target].mean() + ours[mg.tensor(rows)].sum()
    expected = -theirs[range(ttarget.shape[0]), ttarget].mean() + theirs[torch.tensor(rows)].sum()
    assert close_to_torch(out.data, expected.detach().numpy())
    out.backward()
    expected.backward()
    assert close_to_torch(ours.grad, theirs.grad.numpy())


def test_an_index_tensor_must_hold_whole_numbers_and_need_no_gradient() -> None:
    t = Tensor(np.arange(6.0).reshape(2, 3))
    for bad in ([0.5], [np.nan], [np.inf], [1e19]):
        with pytest.raises(IndexError, match=r"a Tensor used as an index must hold whole numbers.*round it"):
            t[Tensor(bad)]
    with pytest.raises(TypeError, match="cannot index with a Tensor that requires grad"):
        t[:, Tensor([1.0], requires_grad=True)]
    assert np.array_equal(t[Tensor(1.0)].data, [3.0, 4.0, 5.0])  # a 0-d Tensor is an int
    np.testing.assert_array_equal(t.gather(1, Tensor([[2.0], [0.0]])).data, [[2.0], [3.0]])  # (gather's too)


@given(
    x=hnp.arrays(
        np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=st.integers(-3, 3)
    ),
    data=st.data(),
)
def test_torch_argmax_and_argmin_are_functions_as_in_torch(x: np.ndarray, data: st.DataObject) -> None:
    """`torch.argmax(out, dim=1)`: the method as a function, with ties (small integers) as torch's."""
    torch = require_torch()
    dim = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    keepdim = data.draw(st.booleans())
    for name in ("argmax", "argmin"):
        ours = getattr(mg, name)(Tensor(x), dim=dim, keepdim=keepdim)
        theirs = getattr(torch, name)(torch.tensor(x), dim=dim, keepdim=keepdim).numpy()
        assert isinstance(ours, Tensor) and ours.dtype == np.int64 and not ours.requires_grad
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(ours, getattr(Tensor(x), name)(dim, keepdim))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_and_argmin_say_they_take_a_tensor(name: str) -> None:
    for bad in (mg.Value(1.0), np.array([1.0, 2.0]), [1.0, 2.0]):
        with pytest.raises(
            TypeError, match=rf"{name}\(\) takes a Tensor \(as torch\.{name}\), got .*tensor\(\.\.\.\)"
        ):
            getattr(mg, name)(bad)


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4), elements=st.floats(-5, 5)), st.data())
def test_transpose_of_two_dims_swaps_them_as_torchs(a: np.ndarray, data: st.DataObject) -> None:
    torch = require_torch()
    dims = st.integers(-a.ndim, a.ndim - 1)
    dim0, dim1 = data.draw(dims), data.draw(dims)
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = x.transpose(dim0, dim1), t.transpose(dim0, dim1)
    assert ours.shape == tuple(theirs.shape) and close_to_torch(ours.data, theirs.detach().numpy())
    weights = np.random.default_rng(0).normal(size=ours.shape)
    (ours * Tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    assert close_to_torch(x.grad, t.grad.numpy())
    assert np.array_equal(mg.transpose(x, dim0, dim1).data, ours.data)
    assert x.transpose(tuple(reversed(range(a.ndim)))).shape == x.T.shape  # a tuple: numpy's permutation
