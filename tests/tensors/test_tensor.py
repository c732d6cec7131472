"""Tensor semantics: construction and dtypes, gradient bookkeeping (None, accumulation,
retain_grad, no_grad, detach), IEEE forward without warnings, errors, anomaly mode.
The operations' gradients themselves are checked in test_tensor_ops.py."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import AnomalyError, Op, Tensor, Value, concat, detect_anomaly, no_grad, stack
from micrograd_plus import tensors as tensor_module

floats = st.floats(-5, 5, allow_nan=False)


def matrices(min_side: int = 1) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(
        np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4), elements=floats
    )


# -- construction and dtypes ---------------------------------------------------------------------


def test_tensor_copies_its_input_and_exposes_numpy_attributes():
    source = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    t = Tensor(source)
    source[0, 0] = 100.0
    assert t.data[0, 0] == 1.0
    assert type(t.data) is np.ndarray and t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float64
    assert t.numpy() is t.data and t.numel() == 6 and len(t) == 2
    assert t.grad is None and not t.requires_grad and t.is_leaf and t.op == "" and t.parents == ()
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert np.asarray(t) is t.data


@pytest.mark.parametrize(
    "data, dtype",
    [
        ([1, 2, 3], np.float64),
        ([True, False], np.float64),
        (np.arange(3, dtype=np.int32), np.float64),
        (np.float16([1, 2]), np.float64),
        (3, np.float64),
        (2.5, np.float64),
        (np.float32([1.5, 2.5]), np.float32),
        (np.float32(1.5), np.float32),
        (np.array([1.0, 2.0]), np.float64),
    ],
)
def test_float64_by_default_float32_kept_and_ints_and_bools_become_float64(data, dtype):
    t = Tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=dtype))


def test_dtype_argument_chooses_float32_or_float64():
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert Tensor(np.float32([1, 2]), dtype="float64").dtype == np.float64
    with pytest.raises(TypeError, match="float64, float32, int64 or bool, got 'int32'"):
        Tensor([1, 2], dtype="int32")
    with pytest.raises(TypeError, match="float64, float32, int64 or bool"):
        Tensor([1, 2], dtype="not a dtype")


@pytest.mark.parametrize("bad", ["abc", None, [1.0, "x"], [[1.0, 2.0], [3.0]], 1j, object()])
def test_non_numeric_or_ragged_data_is_a_type_error(bad):
    with pytest.raises(TypeError, match="Tensor data must be"):
        Tensor(bad)


def test_a_value_is_not_tensor_data():
    with pytest.raises(TypeError, match=r"use Tensor\(value.data\)"):
        Tensor(Value(2.0))


def test_scalar_tensors_item_float_and_repr():
    s = Tensor(2.5)
    assert s.shape == () and s.item() == 2.5 and float(s) == 2.5 and type(s.item()) is float
    assert repr(s) == "Tensor(2.5)" and f"{s:.3f}" == "2.500" and f"{Tensor([[0.25]]):.1f}" == "0.2"
    assert (
        repr(Tensor([1.0, 2.0], requires_grad=True, label="w"))
        == "Tensor([1., 2.], requires_grad=True, label='w')"
    )
    assert repr(Tensor([1.5], dtype=np.float32)) == "Tensor([1.5], dtype=float32)"
    y = Tensor([[1.0, 2.0]], requires_grad=True) * 2
    assert repr(y) == "Tensor([[2., 4.]], op='*')"
    with pytest.raises(ValueError, match=r"item\(\): a Tensor with 2 elements \(shape \(2,\)\)"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError, match="0-d"):
        len(s)
    with pytest.raises(TypeError, match="0-d"):
        iter(s)


def test_iteration_yields_differentiable_rows():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    (rows[0] * rows[1]).sum().backward()
    np.testing.assert_array_equal(x.grad, [[3.0, 4.0], [1.0, 2.0]])


# -- dtype rules of operations (numpy 2 / PyTorch) -----------------------------------------------


def test_python_scalars_do_not_upcast_float32():
    x = Tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    for result in (x * 2.0, 2.0 * x, x + 1, x / 3.0, 1.0 - x, x**2, 2.0**x, x * True, x @ x, x.sum() * 1e300):
        assert result.dtype == np.float32
    assert (x * 1e300).data.tolist() == [np.inf, np.inf]  # overflow to inf, as float32 does


def test_int_arrays_take_the_tensor_dtype_float_arrays_and_numpy_scalars_keep_theirs():
    x = Tensor([1.0, 2.0], dtype=np.float32)
    assert (x + np.array([1, 2])).dtype == np.float32
    assert (x + np.array([True, False])).dtype == np.float32
    assert (x + np.array([1.0, 2.0])).dtype == np.float64
    assert (x * np.float64(2.0)).dtype == np.float64  # numpy 2: a numpy scalar is not "weak"
    assert (x * np.float32(2.0)).dtype == np.float32


def test_mixed_dtypes_compute_in_float64_but_each_grad_has_its_own_dtype():
    a = Tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])
    np.testing.assert_array_equal(b.grad, [1.0, 2.0])


def test_numpy_arrays_and_scalars_on_the_left_give_tensors():
    x = Tensor([1.0, 2.0], requires_grad=True)
    for result in (
        np.array([2.0, 3.0]) * x,
        np.float64(2) + x,
        np.array([1.0, 1.0]) - x,
        np.ones((2, 2)) @ x,
        [1, 2] / x,
    ):
        assert isinstance(result, Tensor) and result.requires_grad
    (np.array([2.0, 3.0]) * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])


def test_mixing_with_a_value_is_a_clear_type_error():
    t, v = Tensor([1.0]), Value(2.0)
    for combine in (lambda: t + v, lambda: v + t, lambda: t * v, lambda: v * t, lambda: t @ v, lambda: v**t):
        with pytest.raises(TypeError, match="cannot combine a Tensor with a Value"):
            combine()
    with pytest.raises(TypeError, match="cannot compare a Tensor with a Value"):
        _ = t < v


def test_unknown_operands_are_python_type_errors():
    with pytest.raises(TypeError, match="unsupported operand"):
        Tensor([1.0]) + "a"
    with pytest.raises(TypeError, match="unsupported operand"):
        {} * Tensor([1.0])
    with pytest.raises(TypeError, match="dtype <U1"):
        Tensor([1.0]) + np.array(["a"])


# -- comparisons and identity ------------------------------------------------------------------------


@given(matrices(), floats)
def test_comparisons_and_equality_are_elementwise_and_hash_stays_identity(x, y):
    t = Tensor(x)
    pairs = ((t < y, x < y), (t <= y, x <= y), (t > y, x > y), (t >= y, x >= y), (y < t, y < x))
    pairs += ((t == y, x == y), (t != y, x != y), (y == t, y == x), (x == t, x == x), (x != t, x != x))
    for ours, theirs in pairs:
        assert type(ours) is Tensor and ours.dtype == np.bool_ and not ours.requires_grad
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(t > Tensor(x), np.zeros(x.shape, bool))
    same = Tensor(x)
    np.testing.assert_array_equal(t == same, x == x)  # as torch.eq: nan is not equal to itself
    assert len({t, same, t}) == 2 and {t: 1, same: 2}[same] == 2  # sets and dicts go by identity
    assert (t == None) is False and (t != None) is True  # noqa: E711 (the operator is what is tested)


def test_equality_with_a_string_or_a_value_is_false_and_unbroadcastable_shapes_are_named():
    t = Tensor([1.0, 2.0, 3.0])
    assert (t == "mean") is False and (t != "mean") is True and (t == Value(1.0)) is False
    with pytest.raises(ValueError, match="reduction must be one of"):  # an option check stays plain
        mg.mse_loss(t, t, t)  # type: ignore[arg-type]
    for compare in (lambda a, b: a == b, lambda a, b: a != b, lambda a, b: a < b, lambda a, b: a >= b):
        with pytest.raises(ValueError, match=r"shape \(3,\) with shape \(2,\): the shapes do not broadcast"):
            compare(t, Tensor([1.0, 2.0]))
        with pytest.raises(ValueError, match=r"shape \(2,\) with shape \(3,\)"):
            compare(Tensor([1.0, 2.0]), [1.0, 2.0, 3.0])


def test_equality_agrees_with_torch_eq_as_porting_code_uses_it():
    torch = require_torch()
    preds, labels = np.array([0, 2, 1, 1]), np.array([0.0, 2.0, 2.0, 1.0])
    ours = (preds == Tensor(labels)).float().mean().item()  # `(preds == yb).float().mean()`
    theirs = (torch.tensor(preds) == torch.tensor(labels)).float().mean().item()
    assert ours == theirs


# -- gradient bookkeeping ----------------------------------------------------------------------------


@given(matrices(), matrices())
def test_grad_is_none_until_backward_then_an_array_of_the_data_shape(x, w):
    a = Tensor(x, requires_grad=True)
    b = Tensor(x * 0.5, requires_grad=True)
    unused = Tensor(x, requires_grad=True)
    assert a.grad is None
    (a * b).sum().backward()
    assert type(a.grad) is np.ndarray and a.grad.shape == x.shape and a.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, x * 0.5)
    assert unused.grad is None


@given(matrices(), matrices())
def test_second_backward_exactly_doubles_leaf_gradients(x, y):
    a = Tensor(x, requires_grad=True)
    b = Tensor(np.resize(y, x.shape), requires_grad=True)
    loss = ((a * b).tanh() + a.exp() * 0.1).sum()
    loss.backward()
    first_a, first_b = a.grad.copy(), b.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(a.grad, 2 * first_a)
    np.testing.assert_array_equal(b.grad, 2 * first_b)
    assert a._passes == 2
    a.zero_grad()
    assert a.grad is None and a._passes == 0
    loss.backward()
    np.testing.assert_array_equal(a.grad, first_a)


def test_zero_grad_returns_none_and_sets_grad_to_none():
    a = Tensor([1.0], requires_grad=True)
    (a * 3).sum().backward()
    assert a.zero_grad() is None and a.grad is None


def test_intermediates_keep_a_gradient_only_after_retain_grad():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * x
    kept = h.sin()
    kept.retain_grad()
    loss = (kept * 2).sum()
    loss.backward()
    assert h.grad is None and loss.grad is None
    np.testing.assert_array_equal(kept.grad, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(x.grad, 2 * np.cos(x.data**2) * 2 * x.data)
    loss.backward()  # as PyTorch: a retained gradient accumulates too
    np.testing.assert_array_equal(kept.grad, [4.0, 4.0, 4.0])
    x.retain_grad()  # a no-op on a leaf
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        Tensor([1.0]).retain_grad()


def test_results_record_parents_only_when_some_input_requires_grad():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    c = a * b
    assert not c.requires_grad and c.parents == () and c.is_leaf and c.grad is None
    w = Tensor([1.0, 1.0], requires_grad=True)
    d = a * w
    assert d.requires_grad and d.parents == (a, w) and d.op == "*" and not d.is_leaf


def test_a_rule_skips_the_gradient_of_an_input_that_does_not_require_grad():
    batch = Tensor(np.ones((5, 3)))
    weight = Tensor(np.ones((3, 2)), requires_grad=True)
    out = batch @ weight
    g = np.ones((5, 2))
    grad_batch, grad_weight = out._op.backward(g, out.data, batch.data, weight.data)
    assert grad_batch is None and grad_weight.shape == (3, 2)
    square = weight**2  # the constant exponent gets no gradient (no log computed)
    assert square._op.backward(np.ones((3, 2)), square.data, weight.data, np.array(2.0))[1] is None
    weight.requires_grad_(False)
    later = batch @ weight  # made while the weight does not require grad: not recorded
    assert later.parents == () and not later.requires_grad


def test_leaves_never_share_gradient_memory():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    c = Tensor([[5.0, 6.0]], requires_grad=True)
    given_gradient = np.array([1.0, 1.0])
    (a + b + c.reshape(2)).backward(given_gradient)
    arrays = [a.grad, b.grad, c.grad, given_gradient]
    for i, first in enumerate(arrays):
        for second in arrays[i + 1 :]:
            assert not np.shares_memory(first, second)
    a.grad *= 10  # an optimizer may update in place
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    s = Tensor([1.0, 2.0], requires_grad=True)
    s.mean().backward()  # the rule's gradient is a read-only broadcast view: the leaf gets a copy
    s.grad *= 2
    np.testing.assert_array_equal(s.grad, [1.0, 1.0])


def test_no_grad_results_are_leaves_that_do_not_require_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = w * 2
    assert not y.requires_grad and y.is_leaf and y._origin == "no_grad" and y.parents == ()

    @no_grad()
    def evaluate(t: Tensor) -> Tensor:
        return t.exp()

    assert not evaluate(w).requires_grad
    assert (w * 2).requires_grad


def test_detach_shares_data_and_cuts_the_graph():
    w = Tensor([1.0, 2.0], requires_grad=True)
    d = (w * 3).detach()
    assert not d.requires_grad and d.is_leaf and d._origin == "detach"
    np.testing.assert_array_equal(d.data, [3.0, 6.0])
    loss = (w * d).sum()
    loss.backward()
    np.testing.assert_array_equal(w.grad, [3.0, 6.0])  # d is a constant
    assert d.grad is None
    assert w.detach().data is w.data


@given(hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(-3, 3)))
def test_detach_underscore_makes_the_tensor_itself_a_leaf_as_torchs(x: np.ndarray) -> None:
    """d2l's RNN keeps its state between minibatches with `state.detach_()`: the same Tensor,
    cut from its graph; the next minibatch's graph stops there, in both libraries."""
    torch = require_torch()
    results = []
    for make in (Tensor, torch.tensor):
        w = make(x, requires_grad=True)
        state = (w * w).tanh()
        assert state.detach_() is state
        assert state.grad_fn is None and state.is_leaf and not state.requires_grad
        loss = (state * w).sum()  # the next minibatch
        loss.backward()
        results.append((np.array(state.tolist()), np.array(w.grad.tolist())))
    (ours_state, ours_grad), (their_state, their_grad) = results
    assert close_to_torch(ours_state, their_state) and close_to_torch(ours_grad, their_grad)


@pytest.mark.parametrize("saved", [False, True])
def test_detach_underscore_refuses_a_graph_made_from_it_before(saved: bool) -> None:
    """The graph holds the Tensor itself, now a leaf, so a backward through it would lose w's
    gradient: refused, saying detach_() did it. PyTorch refuses too where the graph saved the
    Tensor (h * w); where it did not (h * 3) its older graph still runs through the old grad_fn."""
    torch = require_torch()
    for make, library in ((Tensor, mg), (torch.tensor, torch)):
        w = make([1.0, 2.0], requires_grad=True)
        h = w * 2
        loss = (h * w if saved else h * 3).sum()
        h.detach_()
        if library is mg:
            with pytest.raises(
                RuntimeError, match=r"input 0 of '\*' \(a Tensor\) was detached in place by detach_\(\)"
            ):
                loss.backward()
            assert w.grad is None  # no gradient silently dropped, none given
        elif saved:
            with pytest.raises(RuntimeError, match="detached in-place"):
                loss.backward()


def test_detach_underscore_under_no_grad_is_the_same() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 2
    loss = (h * 3).sum()
    with no_grad():
        assert h.detach_() is h
    assert h.is_leaf and not h.requires_grad and h._version == 0
    with pytest.raises(RuntimeError, match="detached in place by detach_"):
        loss.backward()


def _detach_underscore_cases(library: Any, make: Any) -> dict[str, list[float] | int | None]:
    """The reviewer's cases, run in one library: what each gives."""
    results: dict[str, list[float] | int | None] = {}
    x = make([1.0, 2.0])  # a constant: nothing to cut, a graph made from it runs
    w = make([3.0, 4.0], requires_grad=True)
    loss = (w * x).sum()
    x.detach_()
    loss.backward()
    results["constant: w.grad"], results["constant: x._version"] = w.grad.tolist(), x._version
    w = make([3.0, 4.0], requires_grad=True)  # a sibling sharing h's memory is not changed
    h = w * 2
    sibling = h.detach()
    loss = (sibling * w).sum()
    h.detach_()
    loss.backward()
    results["sibling: w.grad"], results["sibling: _version"] = w.grad.tolist(), sibling._version
    results["h._version"] = h._version
    h.detach_()  # twice is the same
    results["h._version twice"] = h._version
    w = make([3.0, 4.0], requires_grad=True)  # a leaf: it gets no gradient any more, others do
    x = make([1.0, 2.0], requires_grad=True)
    loss = (w * x).sum()
    w.detach_()
    loss.backward()
    results["leaf: w.grad"], results["leaf: x.grad"] = w.grad, x.grad.tolist()
    results["leaf: w._version"] = w._version
    with library.no_grad():
        h = w * 2
        h.detach_()
    results["no_grad: h._version"] = h._version
    return results


def test_detach_underscore_changes_neither_data_nor_version_as_torchs() -> None:
    """detach_() cuts the graph only: a graph made from a constant, from a leaf or from a Tensor
    sharing the memory still runs, and `_version` stays 0, as in PyTorch."""
    torch = require_torch()
    assert _detach_underscore_cases(mg, Tensor) == _detach_underscore_cases(torch, torch.tensor)


def test_requires_grad_underscore_switches_leaves_only():
    t = Tensor([1.0, 2.0])
    assert t.requires_grad_() is t and t.requires_grad
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        (t * 2).requires_grad_(False)


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(
        RuntimeError,
        match=r"grad can be implicitly created only for scalar outputs; this Tensor has shape \(2,\)",
    ):
        y.backward()
    y.backward(np.array([1.0, 0.5]))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    y.backward(Tensor([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad, [4.0, 6.0])
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but the Tensor has shape \(2,\)"):
        y.backward(np.ones(3))
    with pytest.raises(TypeError, match="gradient must be an array of numbers"):
        y.backward("ones")
    with pytest.raises(ValueError, match="too large for a float"):
        y.backward([10**400, 1])
    one = Tensor([[3.0]], requires_grad=True)
    (one * 2).backward()  # one element: the seed is 1
    np.testing.assert_array_equal(one.grad, [[2.0]])


def test_backward_of_a_tensor_that_does_not_require_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0]) * 2).sum().backward()


def test_grad_function_gives_arrays_of_the_input_dtype_without_touching_grad():
    x = Tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    (gx,) = mg.grad((x * x * Tensor([1.0, 1.0])).sum(), x)
    assert isinstance(gx, Tensor) and gx.dtype == np.float32 and not gx.requires_grad
    np.testing.assert_array_equal(gx.data, [2.0, 4.0])
    assert x.grad is None
    y = Tensor(np.zeros((2, 2)), requires_grad=True)
    (gy,) = mg.grad(y.sum(), y)
    gy.data += 1  # a real, writable array (not numpy's read-only broadcast view)
    np.testing.assert_array_equal(gy.data, np.full((2, 2), 2.0))


def test_third_derivative_through_create_graph():
    x = Tensor([0.5, -1.0], requires_grad=True)
    y = (x.tanh() * x).sum()
    (g1,) = mg.grad(y, x, create_graph=True)
    (g2,) = mg.grad(g1.sum(), x, create_graph=True)
    g2.sum().backward()
    t = np.tanh(x.data)
    s2 = 1 - t * t  # tanh'
    # d3/dx3 of x*tanh(x) = 3 tanh'' + x tanh''' with tanh'' = -2 t s2, tanh''' = s2 (6 t^2 - 2)
    expected = 3 * (-2 * t * s2) + x.data * s2 * (6 * t * t - 2)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)


# -- IEEE forward, never a warning ------------------------------------------------------------------


@pytest.mark.filterwarnings("error")
def test_ieee_results_without_warnings_like_value():
    zero, one, minus = Tensor([0.0]), Tensor([1.0]), Tensor([-1.0])
    assert zero.log().item() == -np.inf
    assert np.isnan(minus.log().item())
    assert (one / zero).item() == np.inf
    assert np.isnan((zero / zero).item())
    assert (zero**-1).item() == np.inf
    assert Tensor([1000.0]).exp().item() == np.inf
    assert np.isnan(minus.sqrt().item())
    assert np.isnan(Tensor([np.inf]).sin().item())
    assert np.isnan((Tensor([-8.0]) ** (1 / 3)).item())
    assert Tensor([-800.0]).sigmoid().item() == 0.0 and Tensor([800.0]).sigmoid().item() == 1.0
    assert np.isnan(Tensor([np.nan]).relu().item())
    assert np.isnan(Tensor([1.0, np.nan, 3.0]).max().item())
    assert (Tensor([1e308]) * 10).item() == np.inf
    assert np.isnan((Tensor([np.inf]) - np.inf).item())
    assert np.isnan(Tensor(np.zeros((0, 2))).mean().item())
    big = Tensor([1000.0, 0.0, -1000.0])
    np.testing.assert_array_equal(big.softmax().data, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(big.log_softmax().data, [0.0, -1000.0, -2000.0])


@pytest.mark.filterwarnings("error")
def test_ieee_gradients_without_warnings():
    x = Tensor([0.0, 1e-300], requires_grad=True)
    x.sqrt().sum().backward()
    assert x.grad[0] == np.inf
    y = Tensor([0.0], requires_grad=True)
    y.log().sum().backward()
    assert y.grad[0] == np.inf
    z = Tensor([1e200], requires_grad=True)
    (z * z).sum().backward()
    assert z.grad[0] == 2e200
    (z * z * z).sum().backward()
    assert z.grad[0] == np.inf


def test_subgradients_at_kinks_are_zero_like_pytorch():
    x = Tensor([0.0, 0.0], requires_grad=True)
    (x.relu() + abs(x)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_power_rules_follow_pytorch_at_zero():
    a = Tensor([0.0, 2.0], requires_grad=True)
    b = Tensor([0.0, 0.0], requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])  # exponent 0: exactly 0, even at a == 0
    np.testing.assert_array_equal(b.grad, [0.0, np.log(2.0)])  # a == 0 and b >= 0: 0, not nan


# -- errors name the shapes ---------------------------------------------------------------------------


def test_broadcast_mismatch_is_a_value_error_showing_both_shapes():
    with pytest.raises(ValueError, match=r"'\+': shapes \(2, 3\) and \(4,\) do not broadcast"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"'\*': shapes \(3,\) and \(2, 1, 2\) do not broadcast"):
        np.ones(3) * Tensor(np.ones((2, 1, 2)))


def test_matmul_mismatch_is_a_value_error_showing_both_shapes():
    with pytest.raises(ValueError, match=r"'@': shapes \(2, 3\) and \(2, 3\) do not match"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'@': shapes \(\) and \(2,\)"):
        Tensor(2.0).matmul(Tensor(np.ones(2)))


def test_shape_errors_of_reshape_transpose_reductions_and_joins():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"cannot reshape a Tensor of shape \(2, 3\) into \(4,\)"):
        t.reshape(4)
    with pytest.raises(ValueError, match=r"not a permutation of the axes of shape \(2, 3\)"):
        t.transpose((0, 0))
    with pytest.raises(ValueError, match=r"axis 2 is out of range for a Tensor of shape \(2, 3\)"):
        t.sum(axis=2)
    with pytest.raises(ValueError, match="repeats an axis"):
        t.mean(axis=(0, -2))
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple of ints"):
        t.amax(axis=1.5)
    with pytest.raises(ValueError, match="amax\\(\\) of an empty axis"):
        Tensor(np.ones((0, 2))).amax(axis=0)
    with pytest.raises(ValueError, match=r"axis 2 is out of range for a Tensor of shape \(2, 3\)"):
        t.softmax(axis=2)
    with pytest.raises(ValueError, match=r"concat\(axis=0\) of shapes \(2, 3\), \(2, 2\)"):
        concat([t, Tensor(np.ones((2, 2)))])
    with pytest.raises(ValueError, match=r"stack\(axis=0\) of shapes \(2, 3\), \(3, 2\)"):
        stack([t, Tensor(np.ones((3, 2)))])
    with pytest.raises(ValueError, match="at least one Tensor"):
        concat([])
    with pytest.raises(TypeError, match="list or tuple of Tensors"):
        stack(t)
    with pytest.raises(TypeError, match=r"concat\(\): axis must be an int, got None"):
        concat([t, t], axis=None)
    with pytest.raises(ValueError, match=r"stack\(axis=-?\d+\) of shapes"):
        stack([t, t], axis=10**30)
    with pytest.raises(ValueError, match="mT needs at least 2 dimensions"):
        Tensor([1.0]).mT


def test_indexing_errors_and_item_assignment_out_of_range():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(
        TypeError,
        match=r"cannot index with a Tensor that requires grad \(an index has no gradient\); index with t\[labels.detach\(\)\]",
    ):
        t[Tensor([0.0], requires_grad=True)]
    with pytest.raises(IndexError):
        t[5]
    with pytest.raises(IndexError, match=r"out of range for a Tensor of shape \(2, 3\)"):
        t[2**63]
    with pytest.raises(IndexError):  # (item assignment itself: tests/tensors/test_tensor_in_place.py)
        t[5] = 1.0


# -- indexing, joining, reductions: exact small cases ------------------------------------------------


def test_repeated_indices_add_their_gradients():
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[np.array([0, 2, 0, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    y = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y[[1, 1], [0, 0]].sum().backward()
    np.testing.assert_array_equal(y.grad, [[0.0, 0.0], [2.0, 0.0]])


def test_boolean_masks_negative_steps_and_new_axes():
    x = Tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    picked = x[x > 0]
    np.testing.assert_array_equal(picked.data, [1.0, 4.0])
    (picked * Tensor([5.0, 7.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[5.0, 0.0], [0.0, 7.0]])
    v = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (v[::-1] * Tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(v.grad, [100.0, 10.0, 1.0])
    assert v[None, :, None].shape == (1, 3, 1) and v[...].shape == (3,)


def test_concat_and_stack_hand_each_input_its_slice():
    a = Tensor([[1.0, 2.0]], requires_grad=True)
    b = Tensor([[3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    joined = concat([a, b], axis=0)
    assert joined.shape == (3, 2) and joined.op == "concat" and joined.parents == (a, b)
    (joined * Tensor([[1.0], [2.0], [3.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad, [[1.0, 1.0]])
    np.testing.assert_array_equal(b.grad, [[2.0, 2.0], [3.0, 3.0]])
    c = Tensor([1.0, 2.0], requires_grad=True)
    s = stack([c, np.array([3.0, 4.0])], axis=-1)
    np.testing.assert_array_equal(s.data, [[1.0, 3.0], [2.0, 4.0]])
    (s * Tensor([[1.0, 0.0], [2.0, 0.0]])).sum().backward()
    np.testing.assert_array_equal(c.grad, [1.0, 2.0])


def test_amax_ties_share_the_gradient_evenly():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.amax(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_reshape_takes_sizes_or_a_tuple_and_transpose_takes_axes_or_a_tuple():
    x = Tensor(np.arange(6.0), requires_grad=True)
    assert x.reshape(2, 3).shape == x.reshape((2, 3)).shape == x.reshape([-1, 3]).shape == (2, 3)
    m = x.reshape(1, 2, 3)
    assert m.transpose(2, 0, 1).shape == m.transpose((2, 0, 1)).shape == (3, 1, 2)
    assert m.T.shape == m.transpose().shape == (3, 2, 1) and m.mT.shape == (1, 3, 2)


def test_softmax_rows_sum_to_one_and_log_softmax_is_its_log():
    logits = Tensor([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]])
    p = logits.softmax()
    np.testing.assert_allclose(p.data.sum(axis=-1), [1.0, 1.0])
    np.testing.assert_allclose(np.exp(logits.log_softmax(axis=1).data), p.data, atol=1e-300)
    np.testing.assert_allclose(logits.softmax(axis=0).data.sum(axis=0), [1.0, 1.0, 1.0])


# -- anomaly mode ------------------------------------------------------------------------------------


def test_anomaly_mode_names_the_forward_operation_and_line():
    x = Tensor([1.0, 0.0], requires_grad=True)
    with (
        detect_anomaly(),
        pytest.raises(
            AnomalyError,
            match=r"'log' turned finite inputs \(.*shapes \(2,\)\) into -inf at index \(1,\) at .*test_tensor.py",
        ),
    ):
        x.log()
    x.log()  # outside: IEEE as usual
    with detect_anomaly():
        Tensor([np.nan]).exp()  # nan in, nan out: not this op's fault


def test_anomaly_mode_names_the_backward_operation():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt().sum()  # sqrt(0) = 0 is finite, its gradient 1 / (2 * 0) is not
        with pytest.raises(AnomalyError, match=r"backward of 'sqrt'.*non-finite gradient"):
            y.backward()


# -- custom operations ---------------------------------------------------------------------------------


def test_custom_op_through_apply_works_on_arrays_and_create_graph():
    cube = Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x * x,))
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor.apply(cube, x)
    assert y.op == "cube" and y.parents == (x,)
    (g,) = mg.grad(y.sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, [3.0, 12.0])
    g.sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 12.0])
    with pytest.raises(TypeError, match="cube: cannot use a str as an input"):
        Tensor.apply(cube, "x")


def test_dispatching_helpers_compute_on_arrays_and_floats_and_record_on_nodes():
    from micrograd_plus import engine

    a = np.array([0.5, 2.0])
    for name in ("exp", "log", "sin", "cos", "sqrt", "tanh"):
        helper = getattr(engine, name)  # one helper for floats, arrays, Values and Tensors
        np.testing.assert_array_equal(helper(a), getattr(np, name)(a))
        assert helper(0.5) == float(getattr(np, name)(0.5)) and type(helper(0.5)) is float
        recorded = helper(Tensor(a, requires_grad=True))
        assert isinstance(recorded, Tensor) and recorded.op == name
        assert helper(Value(0.5)).op == name
    np.testing.assert_array_equal(tensor_module.unbroadcast(np.ones((4, 2, 3)), (2, 1)), [[12.0], [12.0]])
    np.testing.assert_array_equal(
        tensor_module.scatter(np.array([1.0, 2.0]), np.array([0, 0]), (2,)), [3.0, 0.0]
    )
    with pytest.raises(
        ValueError, match=r"gradient of shape \(3,\) cannot come from an input of shape \(2, 3\)"
    ):
        tensor_module.unbroadcast(np.ones(3), (2, 3))


def test_gradcheck_and_local_derivative_checks_accept_tensor_graphs():
    x = Tensor(np.array([[0.3, -0.2], [0.1, 0.4]]), requires_grad=True)
    w = Tensor(np.array([[1.0, 2.0], [-1.0, 0.5]]), requires_grad=True)
    assert mg.gradcheck(lambda x, w: ((x @ w).tanh().softmax(axis=0) * w).sum(), (x, w))
    out = (x @ w).sigmoid().log_softmax().amax(axis=1).mean()
    # row 0 of x @ w is (0.5, 0.5): max has a kink at that tie, which is skipped, not checked
    report = mg.check_local_derivatives(out, allow_skips=True)
    assert report and [c.op for c in report.skipped] == ["max"]


# -- a small end-to-end step against PyTorch ------------------------------------------------------------


@given(hnp.arrays(np.float64, (5, 3), elements=floats), st.integers(0, 2**32 - 1))
def test_an_mlp_loss_and_its_gradients_match_torch(x, seed):
    torch = require_torch()
    rng = np.random.default_rng(seed)
    w1, b1, w2 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4))
    labels = rng.integers(0, 2, size=5)
    ours = [Tensor(p, requires_grad=True) for p in (w1, b1, w2)]
    logp = ((Tensor(x) @ ours[0].T + ours[1]).relu() @ ours[2].T).log_softmax()
    loss = -logp[np.arange(5), labels].mean()
    theirs = [torch.tensor(p, requires_grad=True) for p in (w1, b1, w2)]
    ref = torch.nn.functional.cross_entropy(
        torch.relu(torch.tensor(x) @ theirs[0].T + theirs[1]) @ theirs[2].T, torch.tensor(labels)
    )
    assert close_to_torch(loss.item(), ref.item())
    loss.backward()
    ref.backward()
    for mine, reference in zip(ours, theirs):
        assert close_to_torch(mine.grad, reference.grad.numpy())


def test_warnings_filter_is_untouched_by_tensor_operations():
    before = np.geterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Tensor([0.0]).log()
        np.log(np.array([0.0]))  # the user's own numpy code still warns as numpy does
    assert np.geterr() == before
    assert len(caught) == 1 and "divide by zero" in str(caught[0].message)


def test_relu_zeroes_an_infinite_gradient_where_it_is_flat_and_passes_nan_outputs_like_torch():
    torch = require_torch()
    x = np.array([-1.0, 2.0, np.nan, 0.0])
    g = np.array([np.inf, 1.0, 3.0, np.nan])
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours.relu().backward(g)
    theirs.relu().backward(torch.tensor(g))
    assert close_to_torch(ours.grad, theirs.grad.numpy())
    np.testing.assert_array_equal(ours.grad, [0.0, 1.0, 3.0, 0.0])


def test_ieee_even_when_the_user_asks_numpy_to_raise():
    with np.errstate(all="raise"):
        assert Tensor([0.0]).log().item() == -np.inf
        x = Tensor([0.0], requires_grad=True)
        x.sqrt().sum().backward()
        assert x.grad[0] == np.inf
        # A custom rule that is not wrapped in `quiet` raises FloatingPointError here; the walk
        # then runs it again with IEEE semantics.
        inverse = Op("inverse", lambda a: 1 / a, lambda g, out, a: (-g / (a * a),))
        y = Tensor([0.0], requires_grad=True)
        Tensor.apply(inverse, y).sum().backward()
        assert y.grad[0] == -np.inf


@pytest.mark.filterwarnings("error")
def test_float32_gradients_overflow_to_inf_quietly():
    x = Tensor([1.0], dtype=np.float32, requires_grad=True)
    (x * Tensor([1e300])).sum().backward()  # a float64 gradient beyond float32's range
    assert x.grad.dtype == np.float32 and x.grad[0] == np.inf
    y = Tensor([3e38], dtype=np.float32, requires_grad=True)
    y.backward(np.array([3e38], dtype=np.float32))
    y.backward(np.array([3e38], dtype=np.float32))  # the accumulated sum overflows
    assert y.grad[0] == np.inf
    (z,) = mg.grad((x * Tensor([1e300])).sum(), x)
    assert z.dtype == np.float32 and z.data[0] == np.inf


# -- the docs page's Tensor section runs ---------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "tensor.md"
# up to the porting section, whose block tests/test_docs.py runs with the rest of the page
DOC_TEXT = DOC.read_text(encoding="utf-8").split("## Porting a PyTorch tutorial")[0]
DOC_BLOCKS = re.findall(r"```python\n(.*?)```", DOC_TEXT, flags=re.S)


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_docs_tensor_section_blocks_run(index, capsys):
    code = DOC_BLOCKS[index]
    exec(compile(code, f"docs/tensor.md block {index}", "exec"), {"__name__": "tensor_doc"})
    printed = capsys.readouterr().out.splitlines()
    promised = [
        line.split("# ", 1)[1].strip() for line in code.splitlines() if line.lstrip().startswith("print(")
    ]
    assert len(printed) == len(promised), (printed, promised)
    for line, comment in zip(printed, promised):  # a comment ending in "..." gives how the line starts
        assert (
            line.strip().startswith(comment.removesuffix("...").rstrip())
            if comment.endswith("...")
            else line.strip() == comment
        )
