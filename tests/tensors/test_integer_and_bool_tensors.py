"""int64 and bool Tensors, as PyTorch's: indices, labels and masks, without gradients.

Each operation is checked once over a table against torch: the same dtype (by name), the same
values and shape. Floats mixed in take the int side up to their dtype, and the gradient flows to
the float side exactly as torch float64's does.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import ENGINES, close_to_torch, require_torch, using_engine
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
import micrograd_plus.nn.functional as F
from micrograd_plus import Tensor, ieee, nn

INTS = hnp.arrays(
    np.int64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=st.integers(-20, 20)
)


def assert_same(ours: Any, theirs: Any) -> None:
    """One result of ours and torch's: the same dtype (by name), shape and values, no gradient
    where torch's is not floating point."""
    torch = require_torch()
    assert isinstance(ours, Tensor), type(ours)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert ours.shape == tuple(theirs.shape)
    expected = theirs.detach().numpy()
    if theirs.dtype in (torch.int64, torch.bool):
        assert not ours.requires_grad and ours.grad_fn is None
        np.testing.assert_array_equal(ours.data, expected)
    else:
        assert close_to_torch(ours.data, expected), (ours.data, expected)


# -- dtypes and making Tensors -------------------------------------------------------------------------


def test_the_dtypes_have_torchs_names() -> None:
    assert mg.int64 == np.int64 and mg.long is mg.int64 and mg.bool == np.bool_
    assert "int64" in mg.__all__ and "long" in mg.__all__
    assert Tensor([1, 2], dtype=mg.int64).dtype == mg.int64
    torch = require_torch()
    for spec in (torch.int64, torch.long, "int64", np.int64, torch.bool, "bool", bool):
        assert Tensor([0, 1], dtype=spec).dtype in (mg.int64, mg.bool)


FACTORIES: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("tensor", lambda lib, dtype: lib.tensor([[0, 1], [2, -3]], dtype=dtype)),
    ("tensor of floats", lambda lib, dtype: lib.tensor([1.7, -1.7, 0.0], dtype=dtype)),
    ("zeros", lambda lib, dtype: lib.zeros(2, 3, dtype=dtype)),
    ("ones", lambda lib, dtype: lib.ones((3,), dtype=dtype)),
    ("full", lambda lib, dtype: lib.full((2, 2), 7, dtype=dtype)),
    ("full of True", lambda lib, dtype: lib.full((2,), True, dtype=dtype if dtype == lib.bool else None)),
    (
        "arange",
        lambda lib, dtype: lib.arange(-2, 5, 2, dtype=dtype if dtype == lib.int64 else None).to(dtype),
    ),
    ("empty", lambda lib, dtype: lib.empty(0, 2, dtype=dtype)),
    ("zeros_like", lambda lib, dtype: lib.zeros_like(lib.ones(2, 3), dtype=dtype)),
    ("ones_like", lambda lib, dtype: lib.ones_like(lib.ones(4), dtype=dtype)),
    ("full_like", lambda lib, dtype: lib.full_like(lib.ones(2), 3, dtype=dtype)),
]


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("make", [m for _, m in FACTORIES], ids=[n for n, _ in FACTORIES])
def test_factories_make_int64_and_bool_tensors_as_torchs(make: Callable[[Any, Any], Any], dtype: str) -> None:
    torch = require_torch()
    assert_same(make(mg, getattr(mg, dtype)), make(torch, getattr(torch, dtype)))


def test_randint_and_randperm_draw_int64_in_its_whole_range_and_bools_as_torchs() -> None:
    torch = require_torch()
    for lib in (mg, torch):
        big = lib.randint(-(2**62), 2**62, (100,))
        assert big.dtype == lib.int64 and (big.abs() > 2**53).any() and big.tolist() == [int(v) for v in big]
        flags = lib.randint(0, 2, (100,), dtype=lib.bool)
        assert flags.dtype == lib.bool and set(flags.tolist()) == {False, True}
        assert lib.randperm(4, dtype=lib.int64).sort().values.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"bool holds 0 and 1.* from 0 to 4"):
        mg.randint(0, 5, (3,), dtype=mg.bool)


RANDOM_FLOATS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("rand", lambda lib, dtype: lib.rand(3, dtype=dtype)),
    ("randn", lambda lib, dtype: lib.randn(2, 2, dtype=dtype)),
    ("rand_like", lambda lib, dtype: lib.rand_like(lib.zeros(2), dtype=dtype)),
    ("randn_like of ints", lambda lib, dtype: lib.randn_like(lib.zeros(2, dtype=dtype))),
]


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize("make", [m for _, m in RANDOM_FLOATS], ids=[n for n, _ in RANDOM_FLOATS])
def test_random_floats_are_refused_as_int64_or_bool_as_torch_refuses_them(
    make: Callable[[Any, Any], Any], dtype: str
) -> None:
    torch = require_torch()
    with pytest.raises(NotImplementedError):
        make(torch, getattr(torch, dtype))
    with pytest.raises(NotImplementedError, match=rf"draws floats.*not {dtype}.*randint"):
        make(mg, getattr(mg, dtype))


@pytest.mark.parametrize("data", [[2**63], [-(2**63) - 1], [1e30], [[1], [float("-inf")]]])
def test_numbers_beyond_int64_are_refused_naming_its_range(data: list[Any]) -> None:
    torch = require_torch()
    with pytest.raises((RuntimeError, ValueError, OverflowError)):
        torch.tensor(data, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"does not fit in int64, which holds -2\*\*63 to 2\*\*63 - 1"):
        mg.tensor(data, dtype=mg.int64)
    assert mg.tensor([2**63 - 1, -(2**63)], dtype=mg.int64).tolist() == [2**63 - 1, -(2**63)]


def test_inference_stays_float64_and_a_tensor_of_a_tensor_keeps_its_dtype() -> None:
    """Python ints and int arrays give float64 here (torch: int64), a documented difference."""
    assert mg.tensor([1, 2]).dtype == np.float64 and Tensor(np.arange(3)).dtype == np.float64
    assert Tensor(np.array([True, False])).dtype == np.float64
    labels = mg.tensor([3, 1], dtype=mg.long)
    assert Tensor(labels).dtype == mg.int64 and mg.tensor(labels, dtype=mg.float32).dtype == np.float32
    shared = np.arange(3)
    assert mg.from_numpy(shared).dtype == mg.int64 and mg.from_numpy(shared).data is shared


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_only_float_tensors_require_grad_as_torch_says(dtype: str) -> None:
    torch = require_torch()
    for lib in (mg, torch):
        with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
            lib.tensor([1, 0], dtype=getattr(lib, dtype), requires_grad=True)
        with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
            lib.zeros(2, dtype=getattr(lib, dtype)).requires_grad_()
    with pytest.raises(RuntimeError, match=r"this one is .*call \.float\(\)"):
        mg.ones(2, dtype=mg.long, requires_grad=True)
    assert not mg.zeros(2, dtype=mg.long).requires_grad_(False).requires_grad


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_setting_requires_grad_on_an_int64_or_bool_tensor_is_torchs_error(dtype: str) -> None:
    torch = require_torch()
    for lib in (mg, torch):
        k = lib.tensor([1, 0], dtype=getattr(lib, dtype))
        with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
            k.requires_grad = True
        k.requires_grad = False
        assert k.requires_grad is False
        x = lib.tensor([1.0, 0.0], dtype=lib.float64)
        x.requires_grad = True
        assert x.requires_grad is True
    with pytest.raises(RuntimeError, match=rf"this one is {dtype}.*call \.float\(\)"):
        mg.tensor([1, 0], dtype=getattr(mg, dtype)).requires_grad = True


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_backward_from_an_int64_or_bool_tensor_names_its_dtype_on_both_engines(
    dtype: str, engine: str
) -> None:
    """Even one whose flag was set behind the check (its slot, as a slip inside could):
    both engines refuse it in the same words (the fast engine's walk once skipped the check)."""
    k = mg.tensor([1, 0], dtype=getattr(mg, dtype))
    flagged = mg.tensor([1, 0], dtype=getattr(mg, dtype))
    flagged._requires_grad = True
    with using_engine(engine):
        for backward in (
            lambda: k.backward(mg.ones(2, dtype=k.dtype)),
            lambda: k.sum().backward(),
            lambda: flagged.backward(np.ones(2)),
            lambda: flagged.sum().backward(),
            lambda: mg.grad((flagged * 2).sum(), [flagged]),
        ):
            with pytest.raises(
                RuntimeError, match=r"Tensor of (int64|bool): only floating point Tensors can require grad"
            ):
                backward()


# -- results that are int64 or bool Tensors -----------------------------------------------------------

RESULTS: list[tuple[str, Callable[[Any], Any]]] = [
    ("<", lambda x: x < 0.5),
    ("<=", lambda x: x <= x[0]),
    (">", lambda x: x > 0),
    (">=", lambda x: 0 >= x),
    ("==", lambda x: x == x.flip(0)),
    ("!=", lambda x: x != 1.0),
    ("eq", lambda x: x.eq(0.0)),
    ("gt", lambda x: x.gt(x * 0.5)),
    ("argmax", lambda x: x.argmax()),
    ("argmax dim", lambda x: x.argmax(dim=1)),
    ("argmin keepdim", lambda x: x.argmin(dim=0, keepdim=True)),
    ("max dim indices", lambda x: x.max(dim=1).indices),
    ("min dim indices", lambda x: x.min(0, keepdim=True).indices),
    ("sort indices", lambda x: x.sort(dim=1).indices),
    ("topk indices", lambda x: x.topk(2).indices),
    ("argsort", lambda x: x.argsort(dim=0, descending=True)),
    ("isnan", lambda x: (x / x).isnan()),
    ("isinf", lambda x: (x / 0.0).isinf()),
    ("isfinite", lambda x: (1 / x).isfinite()),
    ("all", lambda x: x.all()),
    ("any dim", lambda x: (x > 2).any(dim=1)),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("make", [m for _, m in RESULTS], ids=[n for n, _ in RESULTS])
def test_comparisons_indices_and_tests_are_int64_or_bool_tensors_as_torchs(
    make: Callable[[Any], Any],
) -> None:
    torch = require_torch()
    x = np.array([[0.0, 3.0, -1.5], [2.0, 2.0, 1.0], [-0.5, 4.0, 0.0]])
    ours = make(Tensor(x, requires_grad=True))
    assert_same(ours, make(torch.tensor(x, requires_grad=True)))
    twin = make(Tensor(x))
    assert len({ours, twin, ours}) == 2 and {ours: 1, twin: 2}[twin] == 2  # hashed by identity


def test_multinomial_draws_int64_indices() -> None:
    picks = mg.tensor([[0.0, 1.0], [1.0, 0.0]]).multinomial(3, replacement=True, seed=0)
    assert picks.dtype == mg.int64 and not picks.requires_grad
    np.testing.assert_array_equal(picks.data, [[1, 1, 1], [0, 0, 0]])


# -- conversions --------------------------------------------------------------------------------------

CONVERSIONS: list[tuple[str, Callable[[Any], Any]]] = [
    ("long", lambda x: x.long()),
    ("bool", lambda x: x.bool()),
    ("float of long", lambda x: x.long().float()),
    ("double of bool", lambda x: x.bool().double()),
    ("to int64", lambda x: x.to(x.long().dtype)),
    ("to bool", lambda x: x.to(dtype=(x > 0).dtype)),
    ("type int64", lambda x: x.type((x > 0).long().dtype)),
    ("long of long", lambda x: x.long().long()),
]


@pytest.mark.parametrize("convert", [m for _, m in CONVERSIONS], ids=[n for n, _ in CONVERSIONS])
def test_conversions_truncate_and_drop_the_gradient_as_torchs(convert: Callable[[Any], Any]) -> None:
    torch = require_torch()
    x = np.array([-2.7, -0.5, 0.0, 0.4, 1.0, 3.9])
    assert_same(convert(Tensor(x, requires_grad=True)), convert(torch.tensor(x, requires_grad=True)))


def test_to_and_type_take_torchs_and_numpys_names_of_the_dtypes() -> None:
    torch = require_torch()
    x = Tensor([1.5, 0.0])
    for spec, dtype in (
        (torch.long, mg.int64),
        ("bool", mg.bool),
        (np.int64, mg.int64),
        (torch.float32, np.float32),
    ):
        assert x.to(spec).dtype == dtype and x.type(spec).dtype == dtype
    with pytest.raises(TypeError, match="int64 or bool"):
        x.to(np.int32)


# -- mixing with floats: the int side takes the float dtype, the gradient goes to the float side ------

MIXED: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("x * mask", lambda x, k: x * (k > 0)),
    ("mask * x", lambda x, k: (k > 0) * x),
    ("x - ints", lambda x, k: x - k),
    ("ints - x", lambda x, k: k - x),
    ("x / ints", lambda x, k: x / (k * k + 1)),
    ("ints ** x", lambda x, k: (k * k + 1) ** x),
    (
        "where ints",
        lambda x, k: mg.where(k > 0, k, x) if isinstance(x, Tensor) else require_torch().where(k > 0, k, x),
    ),
    ("maximum", lambda x, k: x.maximum(k)),
    ("cat", lambda x, k: mg.cat([x, k]) if isinstance(x, Tensor) else require_torch().cat([x, k])),
]


@given(data=st.data())
@pytest.mark.parametrize("combine", [m for _, m in MIXED], ids=[n for n, _ in MIXED])
def test_mixing_promotes_the_int_side_and_the_float_side_gets_torchs_gradient(
    combine: Callable[[Any, Any], Any], data: st.DataObject
) -> None:
    torch = require_torch()
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=3))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    k = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-3, 3)))
    ours_x, theirs_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = combine(ours_x, Tensor(k, dtype=mg.int64)), combine(theirs_x, torch.tensor(k))
    assert_same(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    assert close_to_torch(ours_x.grad, theirs_x.grad.numpy())
    # the same as with the ints made float first
    again = Tensor(x, requires_grad=True)
    combine(again, Tensor(k)).sum().backward()
    np.testing.assert_array_equal(again.grad, ours_x.grad)


def test_relu_by_a_mask_and_a_loss_against_int_labels_backprop_as_torch_float64() -> None:
    torch = require_torch()
    x = np.array([[-1.0, 2.0, 0.0], [3.0, -0.5, 1.5]])
    labels = np.array([[1, 0, 2], [0, 1, 1]])
    for lib, make in (
        (mg, lambda d: mg.tensor(d, requires_grad=True)),
        (torch, lambda d: torch.tensor(d, requires_grad=True)),
    ):
        a, b = make(x), make(x)
        (a * (a > 0)).sum().backward()
        y = lib.tensor(labels, dtype=lib.int64)
        ((b - y) ** 2).mean().backward()
        if lib is mg:
            ours = (a.grad, b.grad)
        else:
            theirs = (a.grad.numpy(), b.grad.numpy())
    assert close_to_torch(ours[0], theirs[0]) and close_to_torch(ours[1], theirs[1])


def test_a_python_float_makes_an_int_tensor_float64_and_a_python_int_keeps_it_int64() -> None:
    k = mg.tensor([1, 2], dtype=mg.int64)
    assert (k * 1.5).dtype == np.float64 and (k + 1).dtype == mg.int64 and (2 - k).dtype == mg.int64
    mask = k > 1
    assert (
        (mask + 1).dtype == mg.int64 and (mask & True).dtype == mg.bool and (mask * 0.5).dtype == np.float64
    )
    assert (Tensor([1.0], dtype=np.float32) * mask).dtype == np.float32


# -- operations on int64 and bool Tensors only ------------------------------------------------------------

INTEGER_OPS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("+", lambda a, b: a + b),
    ("-", lambda a, b: a - b),
    ("*", lambda a, b: a * b),
    ("+ int", lambda a, b: a + 3),
    ("int *", lambda a, b: -2 * a),
    ("** 2", lambda a, b: a**2),
    ("neg", lambda a, b: -a),
    ("abs", lambda a, b: abs(a)),
    ("sum", lambda a, b: a.sum()),
    ("sum dim", lambda a, b: a.sum(0)),
    ("sum of mask", lambda a, b: (a > 0).sum()),
    ("max", lambda a, b: a.max()),
    ("min dim values", lambda a, b: a.min(0).values),
    ("amax", lambda a, b: a.amax(0)),
    ("maximum", lambda a, b: a.maximum(b)),
    ("reshape", lambda a, b: a.reshape(-1)),
    ("view", lambda a, b: a.view(-1, 1)),
    ("flatten", lambda a, b: a.flatten()),
    ("transpose", lambda a, b: a.transpose(0, -1)),
    ("permute", lambda a, b: a.permute(*reversed(range(a.ndim)))),
    ("unsqueeze squeeze", lambda a, b: a.unsqueeze(0).squeeze(0)),
    ("index", lambda a, b: a[0]),
    ("mask index", lambda a, b: a[a > 0]),
    ("cat", lambda a, b: (mg if isinstance(a, Tensor) else require_torch()).cat([a, b])),
    ("stack", lambda a, b: (mg if isinstance(a, Tensor) else require_torch()).stack([a, b])),
    ("where", lambda a, b: (mg if isinstance(a, Tensor) else require_torch()).where(a > b, a, b)),
    ("where 0", lambda a, b: (mg if isinstance(a, Tensor) else require_torch()).where(a > 0, a, 0)),
    ("cumsum", lambda a, b: a.cumsum(0)),
    ("sign", lambda a, b: a.sign()),
    ("tril", lambda a, b: a.reshape(-1, a.shape[-1]).tril()),
    ("triu of a mask", lambda a, b: (a > 0).reshape(a.shape[0], -1).triu(1)),
    ("relu", lambda a, b: a.relu()),
    ("F.relu", lambda a, b: (F if isinstance(a, Tensor) else require_torch().nn.functional).relu(a)),
    ("nn.ReLU", lambda a, b: (nn if isinstance(a, Tensor) else require_torch().nn).ReLU()(a)),
    ("floor", lambda a, b: a.floor()),
    ("sign of a mask", lambda a, b: (a > 0).sign()),
    ("repeat", lambda a, b: a.repeat(*(2,) * a.ndim)),
    ("expand", lambda a, b: a.expand(2, *a.shape)),
    ("masked_fill", lambda a, b: a.masked_fill(a > b, 2.7)),
    ("sort", lambda a, b: a.sort(dim=0).values),
    ("topk", lambda a, b: a.topk(1).values),
    ("flip", lambda a, b: a.flip(0)),
    ("clamp", lambda a, b: a.clamp(-3, 5)),
    ("&", lambda a, b: (a > 0) & (b > 0)),
    ("|", lambda a, b: (a > 0) | (b < 0)),
    ("^", lambda a, b: (a > 0) ^ (b > 0)),
    ("~", lambda a, b: ~(a > 0)),
    ("ints &", lambda a, b: a & b),
    ("~ ints", lambda a, b: ~a),
    ("mask + mask", lambda a, b: (a > 0) + (b > 0)),
    ("mask * mask", lambda a, b: (a > 0) * (b > 0)),
    ("any all", lambda a, b: (a > 0).any() | (b > 0).all()),
    ("== ints", lambda a, b: a == b),
    ("/", lambda a, b: a / 4),
    ("exp", lambda a, b: (a * 0 + 1).exp()),
    ("sigmoid", lambda a, b: a.sigmoid()),
    ("tanh", lambda a, b: a.tanh()),
    (
        "softmax",
        lambda a, b: a.softmax(-1) if isinstance(a, Tensor) else a.double().softmax(-1),
    ),  # torch: refused
]


@given(a=INTS, data=st.data())
@pytest.mark.parametrize("op", [m for _, m in INTEGER_OPS], ids=[n for n, _ in INTEGER_OPS])
def test_operations_on_ints_and_masks_agree_with_torch(
    op: Callable[[Any, Any], Any], a: np.ndarray, data: st.DataObject
) -> None:
    """Integer-keeping operations are exact; the float functions give the default float dtype
    (float64 here, float32 in torch: compared on torch float64 results)."""
    torch = require_torch()
    b = data.draw(hnp.arrays(np.int64, a.shape, elements=st.integers(-20, 20)))
    ours = op(Tensor(a, dtype=mg.int64), Tensor(b, dtype=mg.int64))
    theirs = op(torch.tensor(a), torch.tensor(b))
    if theirs.dtype == torch.get_default_dtype():
        assert ours.dtype == np.float64
        theirs = op(torch.tensor(a).double(), torch.tensor(b).double())
    assert_same(ours, theirs)


@given(a=INTS)
def test_item_tolist_numpy_len_and_iteration_give_ints_and_bools(a: np.ndarray) -> None:
    t, mask = Tensor(a, dtype=mg.long), Tensor(a > 0, dtype=mg.bool)
    assert t.tolist() == a.tolist() and mask.tolist() == (a > 0).tolist()
    first, flag = t.flatten()[0].item(), mask.flatten()[0].item()
    assert type(first) is int and first == a.flat[0] and type(flag) is bool and flag == (a.flat[0] > 0)
    assert int(t.flatten()[0]) == a.flat[0] and bool(mask.flatten()[0]) is bool(a.flat[0] > 0)
    assert t.numpy() is t.data and len(t) == len(a)
    assert all(row.dtype == mg.int64 and row.tolist() == r.tolist() for row, r in zip(t, a))


def test_repr_names_the_dtype_as_for_float32() -> None:
    assert repr(mg.tensor([1, 2], dtype=mg.int64)) == "Tensor([1, 2], dtype=int64)"
    assert repr(mg.tensor([1.0, -1.0]) > 0) == "Tensor([ True, False], dtype=bool)"
    assert str(mg.tensor(3, dtype=mg.long)) == "Tensor(3, dtype=int64)"


ERRORS: list[tuple[str, Callable[[Any], Any], type]] = [
    ("mean", lambda t: t.mean(), RuntimeError),
    ("var", lambda t: t.var(), RuntimeError),
    ("std", lambda t: t.std(), RuntimeError),
    ("std dim", lambda t: t.std(0), RuntimeError),
    ("mean of a mask", lambda t: (t > 0).mean(), RuntimeError),
    ("neg of a mask", lambda t: -(t > 0), RuntimeError),
    ("mask - mask", lambda t: (t > 0) - (t > 1), RuntimeError),
    ("** negative int", lambda t: t**-1, RuntimeError),
    ("relu of a mask", lambda t: (t > 0).relu(), RuntimeError),
    ("** negative int of a mask", lambda t: (t > 0).long() ** -2, RuntimeError),
]


POWERS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("k ** e", lambda k, e: k**e),
    ("k.pow(e)", lambda k, e: k.pow(e)),
    ("2 ** e", lambda k, e: 2**e),
    ("-1 ** e", lambda k, e: (-1) ** e),
    ("mask ** e", lambda k, e: (k > 0) ** e),
    ("k ** 0-d e", lambda k, e: k ** e.flatten()[0]),
]


@given(k=INTS, data=st.data())
@pytest.mark.parametrize("power", [m for _, m in POWERS], ids=[n for n, _ in POWERS])
def test_an_int64_tensor_exponent_may_be_negative_as_in_torch(
    power: Callable[[Any, Any], Any], k: np.ndarray, data: st.DataObject
) -> None:
    """torch: 1 / k rounded toward 0 (1 for 1, -1 or 1 for -1, 0 otherwise, 0 for 0 too)."""
    torch = require_torch()
    k = np.clip(k, -3, 3)
    e = data.draw(hnp.arrays(np.int64, k.shape, elements=st.integers(-5, 5)))
    assert_same(
        power(Tensor(k, dtype=mg.int64), Tensor(e, dtype=mg.int64)), power(torch.tensor(k), torch.tensor(e))
    )


@given(
    base=hnp.arrays(np.float64, (4,), elements=st.floats(-4, 4)),
    exponent=hnp.arrays(np.int64, (4,), elements=st.integers(-3, 3)),
)
def test_ieee_power_of_a_float_array_to_int_powers_is_the_float_power_as_torchs(
    base: np.ndarray, exponent: np.ndarray
) -> None:
    """Only an int or bool base takes int64 powers' rounding (2 ** -1 is 0); 2.0 ** -1 is 0.5."""
    torch = require_torch()
    theirs = torch.pow(torch.tensor(base), torch.tensor(exponent)).numpy()
    with np.errstate(all="ignore"):  # (0.0 ** -1 is inf)
        ours = ieee.power(base, exponent)
    assert ours.dtype == np.float64 and close_to_torch(ours, theirs)
    k = np.trunc(base).astype(np.int64)
    np.testing.assert_array_equal(
        ieee.power(k, exponent), torch.pow(torch.tensor(k), torch.tensor(exponent)).numpy()
    )


@pytest.mark.parametrize("exponent", [-1, -2, np.int64(-1)])
def test_a_negative_python_int_exponent_of_an_int_tensor_is_torchs_error(exponent: Any) -> None:
    torch = require_torch()
    for lib in (mg, torch):
        ints = lib.tensor([2, 1, -1], dtype=lib.int64)
        for base in (ints, ints > 0):
            with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
                base**exponent
            with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
                base.pow(exponent)
    k = mg.tensor([2, 3], dtype=mg.int64)
    with pytest.raises(RuntimeError, match=r"k\.float\(\) \*\* -"):
        k**exponent
    assert (k.double() ** -k).tolist() == [0.25, 1 / 27] and (k**k).tolist() == [4, 27]


@pytest.mark.parametrize("fail", [m for _, m, _ in ERRORS], ids=[n for n, _, _ in ERRORS])
def test_what_torch_refuses_for_ints_is_refused_with_the_same_error_type(fail: Callable[[Any], Any]) -> None:
    torch = require_torch()
    kind = next(k for _, m, k in ERRORS if m is fail)
    with pytest.raises(kind):
        fail(torch.tensor([1, 2, 3]))
    with pytest.raises(kind, match=r"\.float\(\)|~mask|\.long\(\)"):
        fail(mg.tensor([1, 2, 3], dtype=mg.int64))


@pytest.mark.parametrize("name", ["mean", "var", "std"])
def test_a_float_only_reduction_names_itself(name: str) -> None:
    with pytest.raises(RuntimeError, match=rf"^{name}\(\): .*got int64"):
        getattr(mg.tensor([[1, 2]], dtype=mg.int64), name)(1)


def test_an_operation_without_an_integer_meaning_here_says_to_call_float() -> None:
    t = mg.tensor([1, 2], dtype=mg.int64)
    with pytest.raises(RuntimeError, match=r"'lerp' is not defined for a Tensor of int64.*call \.float\(\)"):
        t.lerp(t, t)
    for bitwise in (lambda x: x & x, lambda x: ~x, lambda x: x | (x > 0)):
        with pytest.raises(TypeError, match=r"int64 or bool Tensor.*float64"):
            bitwise(mg.tensor([1.0]))
    assert t.float().lerp(t.float(), t.float()).dtype == np.float32


# -- the consumers: indexing, gather, losses, one_hot, Embedding ---------------------------------------

CONSUMERS: list[tuple[str, Callable[[Any, Any, Any], Any]]] = [
    ("x[idx]", lambda lib, x, y: x[y - 1]),
    ("x[mask]", lambda lib, x, y: x[x > 0]),
    ("x[range, y]", lambda lib, x, y: x[lib.arange(3), y]),
    ("gather", lambda lib, x, y: x.gather(1, y.unsqueeze(1))),
    ("index_select", lambda lib, x, y: x.index_select(1, y)),
    ("masked_fill", lambda lib, x, y: x.masked_fill(x < 0, 0.0)),
    ("where", lambda lib, x, y: lib.where(x > 0, x, 0.0)),
    ("cross_entropy", lambda lib, x, y: lib.nn.functional.cross_entropy(x, y)),
    ("nll_loss", lambda lib, x, y: lib.nn.functional.nll_loss(x.log_softmax(1), y)),
    ("one_hot", lambda lib, x, y: lib.nn.functional.one_hot(y, 4)),
    ("accuracy", lambda lib, x, y: (x.argmax(dim=1) == y).float().mean()),
]


@pytest.mark.parametrize("use", [m for _, m in CONSUMERS], ids=[n for n, _ in CONSUMERS])
def test_indices_labels_and_masks_are_taken_where_torch_takes_them(
    use: Callable[[Any, Any, Any], Any],
) -> None:
    torch = require_torch()
    x = np.array([[0.5, -1.0, 2.0, 0.0], [1.0, 3.0, -2.0, 0.5], [-0.5, 0.0, 1.0, 4.0]])
    labels = np.array([2, 1, 3])
    ours_x, theirs_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = use(mg, ours_x, mg.tensor(labels, dtype=mg.int64))
    theirs = use(torch, theirs_x, torch.tensor(labels))
    assert_same(ours, theirs)
    if theirs.requires_grad:
        ours.sum().backward()
        theirs.sum().backward()
        assert close_to_torch(ours_x.grad, theirs_x.grad.numpy())


def test_embedding_takes_int64_indices() -> None:
    torch = require_torch()
    ours, theirs = nn.Embedding(5, 3), torch.nn.Embedding(5, 3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
    index = np.array([[0, 4], [2, 2]])
    out, expected = ours(mg.tensor(index, dtype=mg.long)), theirs(torch.tensor(index))
    assert_same(out, expected)
    out.sum().backward()
    expected.sum().backward()
    assert close_to_torch(ours.weight.grad, theirs.weight.grad.numpy())
    assert F.one_hot(mg.tensor([0, 2], dtype=mg.int64), 3).tolist() == [[1, 0, 0], [0, 0, 1]]


@pytest.mark.parametrize("name", ["labels.safetensors", "labels.npz"])
def test_a_state_dict_of_int64_and_bool_tensors_saves_and_loads_losslessly(tmp_path: Any, name: str) -> None:
    state = {"counts": mg.tensor([1, 2**62 + 1], dtype=mg.long), "mask": mg.tensor([1, 0], dtype=mg.bool)}
    mg.save(state, tmp_path / name)
    loaded = mg.load(tmp_path / name)
    assert loaded["counts"].dtype == np.int64 and loaded["counts"].tolist() == [1, 2**62 + 1]
    assert loaded["mask"].dtype == np.bool_ and loaded["mask"].tolist() == [True, False]
    assert mg.from_numpy(loaded["counts"]).dtype == mg.long


def test_a_dataloader_keeps_int64_labels_as_torchs() -> None:
    torch = require_torch()
    x, y = np.arange(8.0).reshape(4, 2), np.array([0, 2, 1, 2])
    ours = mg.DataLoader(mg.TensorDataset(mg.tensor(x), mg.tensor(y, dtype=mg.long)), batch_size=3)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=3
    )
    for (xb, yb), (xt, yt) in zip(ours, theirs, strict=True):
        assert_same(xb, xt)
        assert_same(yb, yt)


def test_a_one_element_int64_tensor_indexes_a_python_list_as_torchs() -> None:
    """The 60 Minute Blitz's `classes[predicted[j]]`."""
    torch = require_torch()
    classes = ["plane", "car", "bird"]
    for lib in (mg, torch):
        predicted = lib.tensor([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]]).argmax(1)
        assert [classes[predicted[j]] for j in range(2)] == ["car", "plane"]
        assert list(range(lib.tensor(3, dtype=lib.int64))) == [0, 1, 2]
        for bad in (lib.tensor(1.0), lib.tensor([1, 2], dtype=lib.int64)):
            with pytest.raises(TypeError, match="(?i)only integer tensors of a single element"):
                classes[bad]


@given(
    x=hnp.arrays(np.float64, (2, 3), elements=st.floats(-3, 3).filter(lambda v: abs(v) > 0.1)), data=st.data()
)
def test_gradients_through_masks_and_int_labels_match_finite_differences(
    x: np.ndarray, data: st.DataObject
) -> None:
    labels = mg.tensor(data.draw(hnp.arrays(np.int64, (2, 3), elements=st.integers(-2, 2))), dtype=mg.long)
    mask = Tensor(x) > 0  # (fixed: no element near 0, where the mask would switch)

    def f(t: Tensor) -> Tensor:
        return (t * mask + (t - labels) ** 2 / (labels * labels + 1)).sum()

    assert mg.gradcheck(f, [Tensor(x, requires_grad=True)])


def test_in_place_arithmetic_keeps_an_int64_tensor_int64_or_refuses_as_torch() -> None:
    torch = require_torch()
    for lib in (mg, torch):
        k = lib.tensor([1, 2], dtype=lib.int64)
        same = k
        k += 3
        k *= 2
        assert k is same and k.tolist() == [8, 10] and k.dtype == lib.int64
        w = lib.ones(2, dtype=lib.float64, requires_grad=True)
        changes = ((operator.iadd, 1.5), (operator.itruediv, 2), (operator.iadd, w), (operator.imul, w * 2))
        for change, other in changes:  # k += 1.5, k /= 2, k += w (w requires grad)
            with pytest.raises(RuntimeError, match="(?i)can.?t be cast|cannot be written"):
                change(k, other)
        assert k.dtype == lib.int64 and k.tolist() == [8, 10]


# -- where the nonzero elements are ------------------------------------------------------------------------

NONZERO: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("x.nonzero()", lambda lib, x: x.nonzero()),
    ("nonzero(x)", lambda lib, x: lib.nonzero(x)),
    ("nonzero as_tuple", lambda lib, x: x.nonzero(as_tuple=True)),
    ("nonzero(x, as_tuple=True)", lambda lib, x: lib.nonzero(x, as_tuple=True)),
    ("nonzero as_tuple=False", lambda lib, x: x.nonzero(as_tuple=False)),
    ("where(mask)", lambda lib, x: lib.where(x > 0)),
    ("where(x)", lambda lib, x: lib.where(x)),
    ("argwhere(x)", lambda lib, x: lib.argwhere(x)),
    ("x.argwhere()", lambda lib, x: (x < 0).argwhere()),
    ("x[where(mask)]", lambda lib, x: x.unsqueeze(0)[lib.where(x.unsqueeze(0) > 0)]),
]


@given(data=st.data())
@pytest.mark.parametrize("dtype", ["float64", "int64", "bool"])
@pytest.mark.parametrize("find", [m for _, m in NONZERO], ids=[n for n, _ in NONZERO])
def test_nonzero_argwhere_and_one_argument_where_give_torchs_int64_indices(
    find: Callable[[Any, Any], Any], dtype: str, data: st.DataObject
) -> None:
    """In row-major order, of every shape (0-d and empty too); nan counts as nonzero."""
    torch = require_torch()
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    numbers = (
        st.sampled_from([0.0, 0.0, -0.0, 1.5, -2.0, np.nan]) if dtype == "float64" else st.integers(-1, 1)
    )
    x = data.draw(hnp.arrays(np.float64 if dtype == "float64" else np.int64, shape, elements=numbers))
    x = x.astype(dtype)
    ours, theirs = find(mg, Tensor(x, dtype=getattr(mg, dtype))), find(torch, torch.tensor(x))
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for mine, torchs in zip(ours, theirs):
            assert_same(mine, torchs)
    else:
        assert_same(ours, theirs)


def test_where_takes_both_of_x_and_y_or_neither() -> None:
    torch = require_torch()
    x = [1.0, 0.0]
    for lib in (mg, torch):
        with pytest.raises(TypeError):
            lib.where(lib.tensor(x) > 0, lib.tensor(x))
    with pytest.raises(TypeError, match=r"both x and y, or the condition alone"):
        mg.where(mg.tensor(x) > 0, y=mg.tensor(x))
    (ours,), (theirs,) = mg.where(np.array([0.0, 3.0])), torch.where(torch.tensor([0.0, 3.0]))
    assert_same(ours, theirs)


def test_is_floating_point_as_torch_and_int_says_to_use_long() -> None:
    torch = require_torch()
    for lib in (mg, torch):
        x = lib.tensor([1.5, 0.0], dtype=lib.float64)
        assert [t.is_floating_point() for t in (x, x.float(), x.long(), x > 0)] == [True, True, False, False]
        assert lib.is_floating_point(x) is True and lib.is_floating_point(x.long()) is False
    for t in (mg.tensor([1.5]), mg.tensor([1], dtype=mg.long)):
        with pytest.raises(TypeError, match=r"\.int\(\) would make int32.*use \.long\(\)"):
            t.int()


@pytest.mark.parametrize(
    "data",
    [
        np.array([1e30]),
        np.array([[np.nan]]),
        np.array([-np.inf, 1.0]),
        np.array([2.0**63]),
        np.array([-1e19, 3.0]),
    ],
)
def test_floats_beyond_int64_are_refused_from_arrays_too_where_torch_gives_garbage(data: Any) -> None:
    """torch refuses them in a list (test above) but makes -2**63 of them in an array, silently."""
    torch = require_torch()
    assert (torch.tensor(data, dtype=torch.int64) == -(2**63)).any()
    for make in (
        lambda: mg.tensor(data, dtype=mg.long),
        lambda: mg.as_tensor(data, dtype=mg.int64),
        lambda: Tensor(data, dtype=mg.long),
        lambda: mg.full((2,), float(np.ravel(data)[0]), dtype=mg.long),
    ):
        with pytest.raises(
            ValueError, match=r"holds .* does not fit in int64, which holds -2\*\*63 to 2\*\*63 - 1"
        ):
            make()


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e30, 2.0**63, -(2.0**64)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_long_of_a_float_beyond_int64_is_refused_where_torch_gives_garbage(value: float, dtype: str) -> None:
    torch = require_torch()
    data = np.array([1.5, value], dtype=dtype)
    assert torch.tensor(data).long().tolist()[1] == -(2**63)
    x = mg.tensor(data, dtype=getattr(mg, dtype))
    for convert in (
        lambda: x.long(),
        lambda: x.to(mg.long),
        lambda: x.type(mg.int64),
        lambda: mg.tensor(x, dtype=mg.long),
    ):
        with pytest.raises(
            ValueError, match=rf"{dtype} Tensor made int64 .*holds .* does not fit in int64|Tensor data holds"
        ):
            convert()


@given(x=hnp.arrays(np.float64, (4,), elements=st.floats(-(2.0**63), 2.0**63, exclude_max=True)))
def test_floats_within_int64_are_truncated_toward_zero_as_torchs(x: np.ndarray) -> None:
    torch = require_torch()
    assert_same(mg.tensor(x, dtype=mg.long), torch.tensor(x, dtype=torch.long))
    assert_same(mg.tensor(x.tolist(), dtype=mg.long), torch.tensor(x.tolist(), dtype=torch.long))
    assert_same(mg.tensor(x).long(), torch.tensor(x).long())
    assert_same(mg.tensor(x, dtype=mg.float32).long(), torch.tensor(x, dtype=torch.float32).long())


def test_retains_grad_is_read_only_and_true_after_retain_grad_on_an_intermediate_as_torchs() -> None:
    torch = require_torch()
    for lib in (mg, torch):
        leaf = lib.tensor([1.0, 2.0], requires_grad=True)
        middle = leaf * 2
        assert (leaf.retains_grad, middle.retains_grad) == (False, False)
        middle.retain_grad()
        leaf.retain_grad()
        assert (leaf.retains_grad, middle.retains_grad) == (False, True)
        assert lib.tensor([1.0]).retains_grad is False
        with pytest.raises(AttributeError):
            middle.retains_grad = False
        middle.sum().backward()
        assert middle.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "data",
    [[1.5, 2**63 - 1], [-(2**63), -2.5], [[2**63 - 1], [-7.9]], [2**62 + 1, 0.5], [True, 2**63 - 1, 3.7]],
)
def test_ints_beside_floats_in_a_list_become_int64_exactly_as_torchs(data: list[Any]) -> None:
    """np.asarray of such a list rounds 2**63 - 1 to the float 2.0**63: the refusal of floats
    beyond int64 must not take it for one."""
    torch = require_torch()
    expected = torch.tensor(data, dtype=torch.long)
    assert_same(mg.tensor(data, dtype=mg.long), expected)
    assert_same(
        mg.zeros(1, dtype=mg.long).new_tensor(data), torch.zeros(1, dtype=torch.long).new_tensor(data)
    )
    written = mg.zeros(expected.shape, dtype=mg.long)
    written[...] = data  # (torch takes no list here: its values are the tensor's)
    assert_same(written, expected)
    mask = [True] + [False] * (len(data) - 1)
    biggest = 2**63 - 1
    assert_same(
        mg.zeros(len(data), dtype=mg.long).masked_fill(mg.tensor(mask, dtype=mg.bool), biggest),
        torch.zeros(len(data), dtype=torch.long).masked_fill(torch.tensor(mask), biggest),
    )


WRITES: list[tuple[str, Callable[[Any, Any, float], Any]]] = [
    ("masked_fill", lambda lib, k, v: k.masked_fill(k == 1, v)),
    ("masked_fill_", lambda lib, k, v: k.masked_fill_(k == 1, v)),
    (
        "masked_fill of a 0-d Tensor",
        lambda lib, k, v: k.masked_fill(k == 1, lib.tensor(v, dtype=lib.float64)),
    ),
    ("k[0] = v", lambda lib, k, v: k.__setitem__(0, v)),
    ("k[:] = Tensor", lambda lib, k, v: k.__setitem__(slice(None), lib.tensor([v, 1.0], dtype=lib.float64))),
    (
        "k[:] = array",
        lambda lib, k, v: k.__setitem__(
            slice(None), np.array([1.0, v]) if lib is mg else lib.tensor([1.0, v])
        ),
    ),
    ("copy_", lambda lib, k, v: k.copy_(lib.tensor([1.0, v], dtype=lib.float32))),
]


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e30, -1e19])
@pytest.mark.parametrize("write", [m for _, m in WRITES], ids=[n for n, _ in WRITES])
def test_a_float_int64_cannot_hold_written_into_an_int64_tensor_is_refused(
    write: Callable[[Any, Any, float], Any], value: float
) -> None:
    """torch refuses such a number (and makes -2**63 of a Tensor of them, silently): refused here
    in every way of writing one, naming it, and nothing is written."""
    torch = require_torch()
    theirs = torch.tensor([1, 2])
    for torch_write in (lambda: theirs.masked_fill(theirs == 1, value), lambda: theirs.__setitem__(0, value)):
        with pytest.raises(RuntimeError, match="cannot be converted to type int64_t"):
            torch_write()
    ours = mg.tensor([1, 2], dtype=mg.long)
    named = "|".join(re.escape(repr(float(v))) for v in (value, np.float32(value)))  # (copy_'s is float32)
    with pytest.raises(ValueError, match=rf"holds ({named}), which does not fit in int64"):
        write(mg, ours, value)
    assert ours.tolist() == [1, 2]


@pytest.mark.parametrize("value", [1.9, -2.7, 2.0**62, -(2.0**63)])
@pytest.mark.parametrize("write", [m for _, m in WRITES], ids=[n for n, _ in WRITES])
def test_a_float_int64_holds_written_into_an_int64_tensor_is_truncated_as_torchs(
    write: Callable[[Any, Any, float], Any], value: float
) -> None:
    torch = require_torch()
    ours, theirs = mg.tensor([1, 2], dtype=mg.long), torch.tensor([1, 2])
    ours_result, theirs_result = write(mg, ours, value), write(torch, theirs, value)
    assert_same(
        ours if ours_result is None else ours_result, theirs if theirs_result is None else theirs_result
    )


def test_requires_grad_of_a_computed_tensor_changes_only_as_torchs() -> None:
    """Setting it on a computed Tensor is torch's RuntimeError (turning it off would drop the
    gradient of what it was computed from); requires_grad_(True) on one is allowed, as there."""
    torch = require_torch()
    grads = []
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        for flag in (False, True):
            with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
                y.requires_grad = flag
        with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
            y.requires_grad_(False)
        assert y.requires_grad_(True) is y and y.requires_grad
        (y * 3 + x).sum().backward()
        grads.append(x.grad)
    assert close_to_torch(grads[0].data, grads[1].numpy())


@pytest.mark.parametrize("flag", ["yes", None, 1, 0, 1.0, np.int64(1)], ids=repr)
def test_requires_grad_takes_only_true_or_false_as_torch(flag: Any) -> None:
    """torch refuses any other value (a RuntimeError when assigned, a TypeError as an argument);
    here a TypeError, as for other flags (numpy's bools are taken, as bools)."""
    torch = require_torch()
    with pytest.raises(RuntimeError, match="requires_grad must be a bool"):
        torch.tensor([1.0]).requires_grad = flag
    for make in (torch.tensor, lambda data, requires_grad: torch.tensor(data).requires_grad_(requires_grad)):
        with pytest.raises(TypeError, match="must be bool"):
            make([1.0], requires_grad=flag)
    x = mg.tensor([1.0])
    for change in (
        lambda: setattr(x, "requires_grad", flag),
        lambda: x.requires_grad_(flag),
        lambda: mg.tensor([1.0], requires_grad=flag),
        lambda: mg.zeros(2, requires_grad=flag),
    ):
        with pytest.raises(
            TypeError, match=rf"requires_grad must be True or False, got {type(flag).__name__}"
        ):
            change()
    assert x.requires_grad is False
    x.requires_grad = np.bool_(True)
    assert x.requires_grad is True


@pytest.mark.parametrize(
    "bounds",
    [(0, 3.5), (0.5, 3.5), (-1.5, 2), (0, -3.5, -1), (0, 5, 1.5), (2.5,), (0.9,), (0, 5, 2.7)],
    ids=repr,
)
def test_arange_of_int64_truncates_its_bounds_and_step_first_as_torchs(bounds: tuple[float, ...]) -> None:
    torch = require_torch()
    assert_same(mg.arange(*bounds, dtype=mg.long), torch.arange(*bounds, dtype=torch.long))
    assert_same(mg.arange(*bounds), torch.arange(*bounds, dtype=torch.float64))


def test_arange_of_int64_refuses_a_step_that_truncates_to_zero_and_a_bound_beyond_int64() -> None:
    torch = require_torch()
    for lib in (mg, torch):
        with pytest.raises(ValueError, match="step must be nonzero"):
            lib.arange(0, 3.5, 0.5, dtype=lib.long)
    with pytest.raises(RuntimeError, match="cannot be converted to type int64_t"):
        torch.arange(1e30, dtype=torch.long)
    with pytest.raises(ValueError, match=r"arange\(\): end holds 1e\+30, which does not fit in int64"):
        mg.arange(1e30, dtype=mg.long)
