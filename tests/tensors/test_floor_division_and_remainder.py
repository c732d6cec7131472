"""`//`, `%` and fmod of float, int64 and bool Tensors, against torch: values (the sign of a zero
too), dtypes, integer division by zero, and gradients (remainder's and fmod's, and floor
division's lack of one)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import Tensor

DIVISIONS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("//", lambda a, b: a // b),
    ("%", lambda a, b: a % b),
    ("fmod", lambda a, b: a.fmod(b)),
    ("floor_divide", lambda a, b: a.floor_divide(b)),
    ("remainder", lambda a, b: a.remainder(b)),
]
OPS = [op for _, op in DIVISIONS]
NAMES = [name for name, _ in DIVISIONS]

# floats with the awkward ones: zeros of both signs, inf, nan, tiny and huge numbers
FLOATS = st.one_of(
    st.floats(-10, 10),
    st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e300, 2.5, -2.5]),
)


def assert_identical(ours: Tensor, theirs: Any) -> None:
    """The same dtype and the same numbers: nan where nan, the sign of each zero too."""
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    expected = theirs.detach().numpy()
    np.testing.assert_array_equal(ours.data, expected)
    if expected.dtype.kind == "f":  # (a nan's sign bit is not part of the result)
        numbers = ~np.isnan(expected)
        np.testing.assert_array_equal(np.signbit(ours.data[numbers]), np.signbit(expected[numbers]))


@given(data=st.data())
@pytest.mark.parametrize("op", OPS, ids=NAMES)
def test_floats_divide_round_and_keep_signs_as_torch_float64(
    op: Callable[[Any, Any], Any], data: Any
) -> None:
    torch = require_torch()
    shape = data.draw(hnp.array_shapes(max_dims=2, max_side=4))
    a = data.draw(hnp.arrays(np.float64, shape, elements=FLOATS))
    b = data.draw(hnp.arrays(np.float64, shape, elements=FLOATS))
    assert_identical(op(Tensor(a), Tensor(b)), op(torch.tensor(a), torch.tensor(b)))


@given(data=st.data())
@pytest.mark.parametrize("op", OPS, ids=NAMES)
def test_int64_divides_exactly_as_torch_over_its_whole_range(
    op: Callable[[Any, Any], Any], data: Any
) -> None:
    torch = require_torch()
    ints = st.one_of(st.integers(-20, 20), st.integers(-(2**63), 2**63 - 1))
    shape = data.draw(hnp.array_shapes(max_dims=2, max_side=4))
    a = data.draw(hnp.arrays(np.int64, shape, elements=ints))
    b = data.draw(hnp.arrays(np.int64, shape, elements=ints.filter(lambda v: v != 0)))
    ours = op(Tensor(a, dtype=mg.int64), Tensor(b, dtype=mg.int64))
    assert_identical(ours, op(torch.tensor(a), torch.tensor(b)))
    assert not ours.requires_grad


MIXED: list[tuple[str, Callable[[Any, Any, Any], Any]]] = [
    ("ints // 2", lambda lib, k, x: k // 2),
    ("ints % -3", lambda lib, k, x: k % -3),
    ("7 // ints", lambda lib, k, x: 7 // (k.abs() + 1)),
    ("-7 % ints", lambda lib, k, x: -7 % (k.abs() + 1)),
    ("ints fmod 3", lambda lib, k, x: k.fmod(3)),
    ("ints // 2.5", lambda lib, k, x: k // 2.5),
    ("7.5 % ints", lambda lib, k, x: 7.5 % (k.abs() + 1)),
    ("ints // floats", lambda lib, k, x: k // x),
    ("floats % ints", lambda lib, k, x: x % (k.abs() + 1)),
    ("floats fmod ints", lambda lib, k, x: x.fmod(k.abs() + 1)),
    ("mask // 2", lambda lib, k, x: (k > 0) // 2),
    ("mask % 2", lambda lib, k, x: (k > 0) % 2),
    ("ints // mask", lambda lib, k, x: k // (k == k)),
    ("float32 // 2", lambda lib, k, x: x.float() // 2),
    ("float32 % ints", lambda lib, k, x: x.float() % (k.abs() + 1)),
    ("float32 fmod float64", lambda lib, k, x: x.float().fmod(x + 10)),
    ("floor_divide()", lambda lib, k, x: lib.floor_divide(k, 3)),
    ("remainder()", lambda lib, k, x: lib.remainder(x, k.abs() + 1)),
    ("fmod()", lambda lib, k, x: lib.fmod(x, 1.5)),
]


@given(data=st.data())
@pytest.mark.parametrize("combine", [m for _, m in MIXED], ids=[n for n, _ in MIXED])
def test_mixed_dtypes_promote_as_torch(combine: Callable[[Any, Any, Any], Any], data: Any) -> None:
    """int64 and bool with floats take the float dtype (float64 here where torch takes its default
    float32: compared with torch's float64 result then)."""
    torch = require_torch()
    k = data.draw(hnp.arrays(np.int64, (5,), elements=st.integers(-9, 9)))
    x = data.draw(hnp.arrays(np.float64, (5,), elements=st.floats(-9, 9).filter(lambda v: v != 0)))
    ours = combine(mg, Tensor(k, dtype=mg.int64), Tensor(x))
    theirs = combine(torch, torch.tensor(k), torch.tensor(x))
    if theirs.dtype == torch.float32 and ours.dtype == np.float64:
        theirs = combine(torch, torch.tensor(k).double(), torch.tensor(x))
    assert_identical(ours, theirs)


@pytest.mark.parametrize("op", OPS, ids=NAMES)
def test_an_integer_division_by_zero_is_torchs_runtime_error(op: Callable[[Any, Any], Any]) -> None:
    torch = require_torch()
    for lib in (mg, torch):
        k = lib.tensor([7, -7, 0], dtype=lib.int64)
        for divisor in (
            0,
            lib.tensor([1, 0, 2], dtype=lib.int64),
            lib.tensor([True, False, True], dtype=lib.bool),
        ):
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                op(k, divisor)
    with pytest.raises(RuntimeError, match=r"integer (division|modulo) by zero.*\.float\(\)"):
        op(mg.tensor([1], dtype=mg.long), 0)
    assert_identical(op(mg.tensor([7.0, -7.0, 0.0]), 0.0), op(torch.tensor([7.0, -7.0, 0.0]).double(), 0.0))


@pytest.mark.parametrize("op", [lambda a, b: a // b, lambda a, b: a % b], ids=["//", "%"])
def test_two_masks_do_not_divide_as_in_torch(op: Callable[[Any, Any], Any]) -> None:
    torch = require_torch()
    for lib in (mg, torch):
        mask = lib.tensor([True, True], dtype=lib.bool)
        with pytest.raises(NotImplementedError):
            op(mask, mask)
    with pytest.raises(NotImplementedError, match=r"two bool Tensors.*\.long\(\)"):
        op(mg.tensor([True], dtype=mg.bool), mg.tensor([True], dtype=mg.bool))


# -- gradients -------------------------------------------------------------------------------------------

GRADIENTS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("a % b", lambda a, b: a % b),
    ("a.fmod(b)", lambda a, b: a.fmod(b)),
    ("a.remainder(b)", lambda a, b: a.remainder(b)),
    ("a % b broadcast", lambda a, b: a.reshape(-1, 1) % b),
    ("a % 1.5", lambda a, b: (a % 1.5) * b),
    ("a.fmod(-2.0)", lambda a, b: a.fmod(-2.0) * b),
]


def _away_from_the_steps(a: np.ndarray, b: np.ndarray) -> bool:
    """No quotient near a whole number, where % and fmod jump (and differences would see the jump)."""
    for divisor in (b, 1.5, 2.0):
        q = np.abs(np.reshape(a, (-1, 1)) / np.reshape(divisor, (1, -1)))
        if np.any(np.abs(q - np.round(q)) < 0.001):
            return False
    return True


@given(data=st.data())
@pytest.mark.parametrize("f", [m for _, m in GRADIENTS], ids=[n for n, _ in GRADIENTS])
def test_remainder_and_fmod_gradients_match_torch_float64_and_finite_differences(
    f: Callable[[Any, Any], Any], data: Any
) -> None:
    torch = require_torch()
    a = data.draw(hnp.arrays(np.float64, (3,), elements=st.floats(-10, 10)))
    b = data.draw(hnp.arrays(np.float64, (3,), elements=st.floats(0.3, 4) | st.floats(-4, -0.3)))
    assume(_away_from_the_steps(a, b))
    ours_a, ours_b = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    theirs_a, theirs_b = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    f(ours_a, ours_b).sum().backward()
    f(theirs_a, theirs_b).sum().backward()
    assert close_to_torch(ours_a.grad, theirs_a.grad.numpy())
    assert close_to_torch(ours_b.grad, theirs_b.grad.numpy())
    assert mg.gradcheck(
        lambda x, y: f(x, y).sum(), [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)]
    )


def test_the_gradient_of_a_remainder_of_a_number_is_that_of_the_tensor_remainder() -> None:
    """`7.5 % x`: torch has no derivative for a number's remainder (remainder.Scalar_Tensor); here
    it is the Tensor remainder's, -(7.5 // x), as torch's for `tensor(7.5) % x`."""
    torch = require_torch()
    x = np.array([2.0, -2.2, 0.7])
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (7.5 % ours).sum().backward()
    (torch.tensor(7.5, dtype=torch.float64) % theirs).sum().backward()
    assert close_to_torch(ours.grad, theirs.grad.numpy())


@pytest.mark.parametrize(
    "divide",
    [lambda a, b: a // b, lambda a, b: a // 2.0, lambda a, b: 3.0 // b, lambda a, b: a.floor_divide(b)],
    ids=["a // b", "a // 2", "3 // b", "floor_divide"],
)
def test_backward_through_floor_division_is_torchs_error(divide: Callable[[Any, Any], Any]) -> None:
    """torch records `//` (the result requires grad) and has no derivative: backward says so."""
    torch = require_torch()
    x = [[1.5, -2.5]]
    for lib in (mg, torch):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(x, requires_grad=True)
        quotient = divide(a, b)
        assert quotient.requires_grad
        with pytest.raises(RuntimeError, match="derivative for (aten::)?floor_divide is not implemented"):
            (quotient * a).sum().backward()
    with pytest.raises(RuntimeError, match=r"\(a / b\)\.floor\(\).*a\.detach\(\) // b"):
        leaf = mg.tensor([1.0], requires_grad=True)
        mg.grad((leaf // 2).sum(), [leaf])
    # the way out it names: floor() has gradient 0, as torch's
    a = mg.tensor(x, requires_grad=True)
    (a / 2).floor().sum().backward()
    assert a.grad.tolist() == [[0.0, 0.0]]


def test_a_detached_floor_division_leaves_the_rest_of_the_graph_its_gradient() -> None:
    torch = require_torch()
    x = [3.5, -1.25]
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (ours * (ours.detach() // 2)).sum().backward()
    (theirs * (theirs.detach() // 2)).sum().backward()
    assert close_to_torch(ours.grad, theirs.grad.numpy())


def test_out_takes_the_result_as_torchs_out() -> None:
    torch = require_torch()
    for name in ("floor_divide", "remainder", "fmod"):
        ours_out, theirs_out = mg.empty(2, dtype=mg.float32), torch.empty(2, dtype=torch.float32)
        getattr(mg, name)(mg.tensor([7.0, -7.5]), 2, out=ours_out)
        getattr(torch, name)(torch.tensor([7.0, -7.5], dtype=torch.float64), 2, out=theirs_out)
        assert_identical(ours_out, theirs_out)


IN_PLACE: list[tuple[str, Callable[[Any, Any], Any]]] = [("//=", operator.ifloordiv), ("%=", operator.imod)]


@given(data=st.data())
@pytest.mark.parametrize("dtype", ["int64", "float64"])
@pytest.mark.parametrize("change", [m for _, m in IN_PLACE], ids=[n for n, _ in IN_PLACE])
def test_floor_division_and_remainder_in_place_change_the_tensor_itself_as_torchs(
    change: Callable[[Any, Any], Any], dtype: str, data: st.DataObject
) -> None:
    """`k //= 2` writes into k, which every name of it sees (not `k = k // 2`), as torch's."""
    torch = require_torch()
    a = data.draw(hnp.arrays(np.int64, (3,), elements=st.integers(-20, 20))).astype(dtype)
    b = data.draw(st.integers(-5, 5).filter(bool))
    changed = []
    for lib in (mg, torch):
        t = lib.tensor(a, dtype=getattr(lib, dtype))
        alias = t
        t = change(t, b)
        assert t is alias
        changed.append(alias)
    assert_identical(changed[0], changed[1])


@pytest.mark.parametrize("change", [m for _, m in IN_PLACE], ids=[n for n, _ in IN_PLACE])
def test_floor_division_and_remainder_in_place_follow_torchs_rules_for_graphs(
    change: Callable[[Any, Any], Any],
) -> None:
    """A leaf that requires grad refuses them (torch's RuntimeError); under no_grad() they change
    its memory, which a view sees; a computed Tensor's gives the gradient torch's does."""
    torch = require_torch()
    x = [7.5, -3.0, 4.0]
    bases = []
    for lib in (mg, torch):
        leaf = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="(?i)leaf .*requires grad"):
            change(leaf, 2)
        assert leaf.tolist() == x and leaf.grad_fn is None
        with lib.no_grad():
            view = leaf[1:]
            change(view, 2)
        bases.append(leaf)
    assert_identical(bases[0], bases[1])
    if change is operator.imod:  # (// has no derivative, in either)
        grads = []
        for lib in (mg, torch):
            leaf = lib.tensor(x, dtype=lib.float64, requires_grad=True)
            y = leaf * 3
            y = change(y, 2.5)
            (y * leaf).sum().backward()
            grads.append(leaf.grad)
        assert close_to_torch(grads[0].data, grads[1].numpy())
