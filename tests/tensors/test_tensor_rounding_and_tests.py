"""square, sign, floor, ceil and round (to `decimals` places too), each with derivative 0 as
PyTorch's, and the methods that give bool arrays as the comparison operators do (eq ... ge, isnan,
isinf, all, any): against PyTorch float64 and finite differences."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st
from torch_parity import arrays, assert_matches_torch, shapes, tied

import micrograd_plus as mg
from micrograd_plus import Tensor

specials = st.one_of(st.floats(-10.0, 10.0), st.sampled_from([0.5, 1.5, -2.5, -0.0, np.inf, -np.inf, np.nan]))


@given(x=arrays(shapes, specials))
def test_square_is_x_times_x_as_torch(x: np.ndarray) -> None:
    assert_matches_torch(lambda t: t.square(), lambda t: t.square(), x)


@given(x=arrays(shapes))
def test_square_has_the_finite_differences_and_second_derivatives(x: np.ndarray) -> None:
    assert mg.gradcheck(lambda t: t.square(), [Tensor(x, requires_grad=True)])
    assert mg.gradgradcheck(lambda t: t.square(), [Tensor(x, requires_grad=True)])


@given(x=arrays(shapes, specials), name=st.sampled_from(["sign", "floor", "ceil", "round"]))
def test_steps_match_torch_with_a_zero_gradient(x: np.ndarray, name: str) -> None:
    # (halves round to even, nan's sign is 0, as PyTorch's; the product keeps a path to x)
    assert_matches_torch(lambda t: getattr(t, name)() * t, lambda t: getattr(t, name)() * t, x)
    assert_matches_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)


@given(
    x=arrays(shapes, st.floats(-10.0, 10.0).filter(lambda v: abs(v * 2 - round(v * 2)) > 1e-3)),
    name=st.sampled_from(["sign", "floor", "ceil", "round"]),
)
def test_steps_have_the_finite_differences_away_from_their_steps(x: np.ndarray, name: str) -> None:
    assert mg.gradcheck(lambda t: getattr(t, name)() * t, [Tensor(x, requires_grad=True)])


decimal_places = st.one_of(st.integers(-12, 20), st.sampled_from([-400, -309, -308, 38, 39, 308, 309, 400]))
wide = st.one_of(
    specials, st.floats(allow_nan=False, width=32), st.sampled_from([0.35, 1.005, 2.675, 1e300, -1e-300])
)


@given(x=arrays(shapes, wide), decimals=decimal_places)
def test_round_to_decimals_matches_torch_with_a_zero_gradient(x: np.ndarray, decimals: int) -> None:
    # (halves to even after scaling by 10**decimals in float64, nan where that power is inf, as PyTorch's)
    assert_matches_torch(
        lambda t: t.round(decimals=decimals) * t, lambda t: t.round(decimals=decimals) * t, x
    )
    assert_matches_torch(lambda t: mg.round(t, decimals=decimals), lambda t: t.round(decimals=decimals), x)


@given(x=arrays(shapes, wide), decimals=decimal_places)
def test_round_to_decimals_in_float32_is_torchs_bit_for_bit(x: np.ndarray, decimals: int) -> None:
    torch = require_torch()
    with np.errstate(over="ignore"):
        a = x.astype(np.float32)
    ours_out, their_out = mg.zeros(x.shape, dtype=np.float32), torch.zeros(x.shape, dtype=torch.float32)
    mg.round(mg.tensor(a), decimals=decimals, out=ours_out)
    torch.round(torch.tensor(a), decimals=decimals, out=their_out)
    np.testing.assert_array_equal(ours_out.data, their_out.numpy())
    assert Tensor(a).round(decimals=decimals).dtype == np.float32


@given(
    x=arrays(shapes, st.floats(-10.0, 10.0).filter(lambda v: abs(v * 200 - round(v * 200)) > 1e-3)),
    decimals=st.integers(-1, 2),
)
def test_round_to_decimals_has_the_finite_differences_away_from_its_steps(
    x: np.ndarray, decimals: int
) -> None:
    assert mg.gradcheck(lambda t: t.round(decimals=decimals) * t, [Tensor(x, requires_grad=True)])


def test_round_takes_decimals_by_name_as_an_int_as_torch() -> None:
    torch = require_torch()
    t, tt = Tensor([1.25, 2.5]), torch.tensor([1.25, 2.5])
    assert t.round(decimals=0).tolist() == tt.round(decimals=0).tolist() == [1.0, 2.0]
    for bad in (1.0, True, "1", None):
        with pytest.raises(TypeError):
            tt.round(decimals=bad)
        with pytest.raises(
            TypeError,
            match=r"round\(\): decimals must be an int \(decimals=2 rounds to hundredths, -1 to tens\), got",
        ):
            t.round(decimals=bad)
    with pytest.raises(TypeError):
        tt.round(1)
    with pytest.raises(TypeError, match=r"^Tensor\.round\(\) takes 1 positional argument"):
        t.round(1)  # (not an internal function's name)
    assert t.round(decimals=np.int64(1)).tolist() == [1.2, 2.5]


@given(x=arrays(shapes, st.one_of(tied, st.just(np.nan))), data=st.data())
def test_comparison_methods_give_what_the_operators_give_as_torch(x: np.ndarray, data: st.DataObject) -> None:
    torch = require_torch()
    other = data.draw(st.one_of(tied, arrays(st.sampled_from([x.shape, x.shape[1:], ()]), tied)))
    t = Tensor(x)
    for name, op in (("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt), ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge)):  # fmt: skip
        ours = getattr(t, name)(other)
        theirs = getattr(torch.tensor(x), name)(torch.tensor(other)).numpy()
        assert isinstance(ours, Tensor) and ours.dtype == np.bool_ and not ours.requires_grad
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(ours, op(t, other))  # the operator's result
        np.testing.assert_array_equal(getattr(t, name)(Tensor(other)), theirs)


@given(x=arrays(shapes, specials), data=st.data())
def test_isnan_isinf_all_and_any_give_bool_arrays_as_torch(x: np.ndarray, data: st.DataObject) -> None:
    torch = require_torch()
    t, tt = Tensor(x), torch.tensor(x)
    for name in ("isnan", "isinf"):
        ours = getattr(t, name)()
        assert ours.dtype == np.bool_
        np.testing.assert_array_equal(ours, getattr(tt, name)().numpy())
    keepdim = data.draw(st.booleans())
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    for name in ("all", "any"):
        assert getattr(t, name)().dtype == np.bool_
        np.testing.assert_array_equal(getattr(t, name)(), getattr(tt, name)().numpy())
        np.testing.assert_array_equal(getattr(t, name)(dim, keepdim), getattr(tt, name)(dim, keepdim).numpy())


def test_bad_arguments_of_the_tests_say_what_is_wrong() -> None:
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"eq\(\) compares with a Tensor, an array or a number, got str"):
        t.eq("a")
    with pytest.raises(ValueError, match=r"cannot compare a Tensor of shape \(2,\) with shape \(3,\)"):
        t.lt(np.ones(3))
    with pytest.raises(IndexError, match=r"all\(\): axis 1 is out of range for a Tensor of shape \(2,\)"):
        t.all(1)
    assert Tensor(np.ones((0,))).all() and not Tensor(np.ones((0,))).any()  # (as torch: True and False)
