"""`t += x`, `t -= x`, `t *= x`, `t /= x` on Tensors, as PyTorch's: in place where no graph must
record the change (under no_grad, or when nothing requires grad), refused on a leaf that requires
grad while gradients are recorded, a new node for an intermediate Tensor in a graph."""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import Tensor, nn

IN_PLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.iadd,
    "-": operator.isub,
    "*": operator.imul,
    "/": operator.itruediv,
}
finite = st.floats(-100, 100, allow_nan=False)
nonzero = finite.filter(lambda v: abs(v) > 1e-3)
small = st.floats(-3, 3, allow_nan=False)  # where central differences are accurate to 1e-5


@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), elements=finite),
    other=nonzero,
    symbol=st.sampled_from(sorted(IN_PLACE)),
    as_array=st.booleans(),
)
def test_an_update_under_no_grad_changes_the_same_leaf_as_torch(
    x: np.ndarray, other: float, symbol: str, as_array: bool
) -> None:
    torch = require_torch()
    change = IN_PLACE[symbol]
    operand = np.full(x.shape[-1:], other) if as_array else other  # broadcast along the last axis
    t = Tensor(x, requires_grad=True)
    t.grad = np.ones_like(x)
    same, array = t, t.data
    with mg.no_grad():
        t = change(t, operand)
    theirs = torch.tensor(x, requires_grad=True)
    with torch.no_grad():
        theirs = change(theirs, torch.tensor(operand) if as_array else operand)
    assert t is same and t.data is array  # the same leaf, its own array changed
    assert t.requires_grad and t._op is None and np.array_equal(t.grad, np.ones_like(x))
    assert close_to_torch(t.data, theirs.detach().numpy())


@pytest.mark.parametrize("symbol", sorted(IN_PLACE))
def test_a_tensor_that_needs_no_graph_changes_in_place_and_shares_its_memory(symbol: str) -> None:
    array = np.array([1.0, 2.0, 4.0])
    t = mg.from_numpy(array)
    IN_PLACE[symbol](t, 2.0)
    expected = {"+": [3.0, 4.0, 6.0], "-": [-1.0, 0.0, 2.0], "*": [2.0, 4.0, 8.0], "/": [0.5, 1.0, 2.0]}
    assert array.tolist() == expected[symbol]  # from_numpy's array sees it, as torch's does


def test_a_float32_tensor_stays_float32() -> None:
    t = mg.tensor([1.0, 2.0], dtype=np.float32)
    t -= np.array([0.25, 0.5])  # float64 operand
    assert t.dtype == np.float32 and t.tolist() == [0.75, 1.5]


@pytest.mark.parametrize("symbol", sorted(IN_PLACE))
def test_a_leaf_that_requires_grad_is_refused_outside_no_grad_as_torch(symbol: str) -> None:
    torch = require_torch()
    with pytest.raises(RuntimeError, match="leaf"):
        IN_PLACE[symbol](torch.ones(2, requires_grad=True), 1.0)
    t = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"leaf Tensor that requires grad .*t \{symbol}= .*no_grad"):
        IN_PLACE[symbol](t, 1.0)
    assert t.tolist() == [1.0, 1.0]


def test_a_change_of_shape_is_refused_with_both_shapes() -> None:
    t = mg.zeros(3)
    with pytest.raises(ValueError, match=r"shape \(2, 3\), but t has shape \(3,\).*t = t \+ x"):
        t += mg.ones(2, 3)
    assert t.tolist() == [0.0, 0.0, 0.0]


@given(
    x=hnp.arrays(np.float64, (3,), elements=small),
    symbol=st.sampled_from(sorted(IN_PLACE)),
    k=small.filter(lambda v: abs(v) > 0.1),
)
def test_an_intermediate_tensor_in_a_graph_gets_torchs_gradient(x: np.ndarray, symbol: str, k: float) -> None:
    """PyTorch records the in-place change in the graph; here it is a new node: the values and
    the gradients are the same (other names for the old node do not see the change)."""
    torch = require_torch()
    change = IN_PLACE[symbol]

    def f(leaf: Any, w: Any) -> Any:
        h = leaf * 2
        h = change(h, w)  # h op= w, with w requiring grad
        return (h * h).sum()

    a, w = Tensor(x, requires_grad=True), Tensor(k, requires_grad=True)
    f(a, w).backward()
    ta, tw = torch.tensor(x, requires_grad=True), torch.tensor(k, requires_grad=True)
    f(ta, tw).backward()
    assert close_to_torch(a.grad, ta.grad.numpy()) and close_to_torch(w.grad, tw.grad.numpy())
    numerical = mg.numerical_grad(f, [Tensor(x), Tensor(k)])
    assert np.allclose(a.grad, numerical[0], rtol=1e-5, atol=1e-4)
    assert np.allclose(w.grad, numerical[1], rtol=1e-5, atol=1e-4)


def test_a_graph_made_before_the_update_is_stale_as_in_torch() -> None:
    torch = require_torch()
    theirs = torch.tensor([1.0, 2.0], requires_grad=True)
    their_loss = (theirs * theirs).sum()
    with torch.no_grad():
        theirs -= 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        their_loss.backward()
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    loss = (t * t).sum()
    with mg.no_grad():
        t -= 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_the_tutorial_update_of_a_models_parameters_reaches_the_model() -> None:
    model = nn.Linear(2, 1, seed=0)
    before = [p.data.copy() for p in model.parameters()]
    model(mg.ones(4, 2)).sum().backward()
    with mg.no_grad():
        for param in model.parameters():
            param -= 0.1 * param.grad
    for p, old in zip(model.parameters(), before):
        assert np.allclose(p.data, old - 0.1 * p.grad)


# -- PyTorch's in-place methods and item assignment (the 60 Minute Blitz's `tensor[:, 1] = 0`) -------------

METHODS = {"+": "add_", "-": "sub_", "*": "mul_", "/": "div_"}
indices = st.sampled_from(
    [
        (slice(None), 1),
        0,
        (Ellipsis, -1),
        (slice(1, None), slice(None, None, 2)),
        ([0, 2],),
        (slice(None), [1, 0]),
    ]
)


@given(
    x=hnp.arrays(np.float64, (3, 4), elements=finite), index=indices, value=finite, from_array=st.booleans()
)
def test_item_assignment_writes_into_the_same_array_as_torch(
    x: np.ndarray, index: Any, value: float, from_array: bool
) -> None:
    torch = require_torch()
    t, theirs = mg.tensor(x), torch.tensor(x)
    array = t.numpy()
    target_shape = array[index].shape
    given = np.full(target_shape[-1:], value) if from_array else value  # broadcast along the last axis
    t[index] = mg.tensor(given) if from_array else given
    theirs[index] = torch.tensor(given) if from_array else given
    assert t.numpy() is array and close_to_torch(t.data, theirs.numpy())


@given(
    x=hnp.arrays(np.float64, (2, 3), elements=finite),
    other=nonzero,
    symbol=st.sampled_from(sorted(METHODS)),
    under_no_grad=st.booleans(),
)
def test_add_sub_mul_div_change_the_tensor_itself_as_torchs(
    x: np.ndarray, other: float, symbol: str, under_no_grad: bool
) -> None:
    torch = require_torch()
    t = mg.tensor(x, requires_grad=under_no_grad)  # a leaf that requires grad: under no_grad() only
    theirs = torch.tensor(x, requires_grad=under_no_grad)
    array = t.numpy()
    with mg.no_grad() if under_no_grad else contextlib.nullcontext():
        result = getattr(t, METHODS[symbol])(other)
    with torch.no_grad() if under_no_grad else contextlib.nullcontext():
        getattr(theirs, METHODS[symbol])(other)
    assert result is t and t.numpy() is array and t.requires_grad == under_no_grad
    assert close_to_torch(t.data, theirs.detach().numpy())


def test_copy_zero_and_t_as_torchs() -> None:
    torch = require_torch()
    x = np.arange(6.0).reshape(2, 3)
    ours, theirs = mg.zeros(2, 3), torch.zeros(2, 3)
    array = ours.numpy()
    assert ours.copy_(mg.tensor(x[0])) is ours  # broadcast, as torch's
    theirs.copy_(torch.tensor(x[0]))
    assert ours.numpy() is array and close_to_torch(ours.data, theirs.numpy())
    assert ours.t_() is ours and ours.shape == (3, 2)
    theirs.t_()
    assert close_to_torch(ours.data, theirs.numpy()) and np.shares_memory(ours.numpy(), array)
    assert ours.zero_() is ours and close_to_torch(ours.data, theirs.zero_().numpy())
    assert close_to_torch(mg.tensor(x).t().data, torch.tensor(x).t().numpy())
    assert mg.tensor([1.0, 2.0]).t().shape == (2,)
    with pytest.raises(
        ValueError, match=r"t\(\) expects a Tensor with <= 2 dimensions, got shape \(1, 2, 3\)"
    ):
        mg.zeros(1, 2, 3).t_()


def test_what_a_graph_would_have_to_record_is_refused_with_what_to_do() -> None:
    leaf = mg.ones(3, requires_grad=True)
    torch = require_torch()
    message = "a leaf Variable that requires grad is being used in an in-place operation"
    with pytest.raises(RuntimeError, match=message):
        torch.ones(3, requires_grad=True)[0] = 2.0
    with pytest.raises(RuntimeError, match=rf"t\[...\] = value: {message} .*no_grad"):
        leaf[0] = 2.0
    with pytest.raises(RuntimeError, match=rf"add_\(\): {message}"):
        leaf.add_(1.0)
    hidden = leaf * 2
    for change in (lambda: hidden.zero_(), lambda: hidden.__setitem__(0, 1.0), lambda: hidden.mul_(2)):
        with pytest.raises(RuntimeError, match=r"would have to be recorded in the graph.*t = t \+ x"):
            change()
    plain = mg.zeros(3)
    with pytest.raises(RuntimeError, match="would have to be recorded"):
        plain[0] = leaf[0]  # PyTorch records it (plain joins the graph); here it is refused
    with pytest.raises(RuntimeError, match="would have to be recorded"):
        plain.copy_(leaf)
    assert leaf.tolist() == [1.0, 1.0, 1.0] and plain.tolist() == [0.0, 0.0, 0.0]
    with mg.no_grad():  # PyTorch's way to change a leaf: allowed, the same leaf
        leaf[0] = 5.0
        leaf.sub_(1.0)
    assert leaf.tolist() == [4.0, 0.0, 0.0] and leaf.requires_grad and leaf.is_leaf


def test_bad_assignments_say_what_was_wrong() -> None:
    t = mg.zeros(2, 3)
    with pytest.raises(
        ValueError, match=r"t\[...\] = value on a Tensor of shape \(2, 3\): could not broadcast"
    ):
        t[0] = np.ones(4)
    with pytest.raises(TypeError, match="cannot write a Value into a Tensor"):
        t[0, 0] = mg.Value(1.0)
    with pytest.raises(TypeError, match="holds a Tensor"):
        t[0] = [mg.tensor(1.0, requires_grad=True), 2.0, 3.0]
    with pytest.raises(TypeError, match="cannot index with a Tensor that requires grad"):
        t[mg.tensor(0.0, requires_grad=True)] = 1.0
    with pytest.raises(IndexError, match="must hold whole numbers"):
        t[mg.tensor(0.5)] = 1.0
    with pytest.raises(TypeError, match=r"add_\(\) takes a Tensor, an array or a number, got str"):
        t.add_("1")
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"zero_\(\): this Tensor's data is a read-only view"):
        mg.from_numpy(frozen).zero_()


def test_a_graph_made_before_an_assignment_is_stale_as_in_torch() -> None:
    torch = require_torch()
    w = torch.ones(3, requires_grad=True)
    theirs = w * w
    with torch.no_grad():
        w[0] = 2.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        theirs.sum().backward()
    ours_w = mg.ones(3, requires_grad=True)
    ours = ours_w * ours_w
    with mg.no_grad():
        ours_w[0] = 2.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ours.sum().backward()


def test_numpy_and_from_numpy_share_memory_both_ways_as_torch() -> None:
    t = mg.ones(5)
    n = t.numpy()
    t.add_(1)
    assert n.tolist() == [2.0] * 5
    n = np.ones(5)
    t = mg.from_numpy(n)
    np.add(n, 1, out=n)
    assert t.tolist() == [2.0] * 5
    t[0] = 7.0
    assert n[0] == 7.0
    assert mg.tensor(n).numpy() is not n  # tensor() copies, as torch.tensor does


@given(st.lists(st.integers(0, 3), min_size=1, max_size=4), st.floats(-5, 5))
def test_assigning_through_a_tensor_of_positions_writes_where_torchs_does(positions, value) -> None:
    torch = require_torch()
    ours, theirs = mg.zeros(4, 2), torch.zeros(4, 2, dtype=torch.float64)
    ours[mg.tensor(positions)] = value  # Tensors hold floats: whole numbers index as int64
    theirs[torch.tensor(positions)] = value
    assert close_to_torch(ours.data, theirs.numpy())


@pytest.mark.parametrize("bad", [None, "1", [None, 1.0, 2.0], np.array([1j, 2, 3])], ids=repr)
def test_assignments_take_numbers_only_as_tensor_does(bad: Any) -> None:
    t = mg.zeros(3)
    with pytest.raises(TypeError, match=r"copy_\(\): Tensor data must be numbers"):
        t.copy_(bad)
    with pytest.raises(TypeError, match=r"t\[...\] = value: Tensor data must be numbers"):
        t[0:3] = bad
    assert np.all(t.data == 0)  # nothing written: no nan from None, no "1" parsed


def test_a_read_only_tensor_refuses_every_in_place_change_clearly() -> None:
    frozen = np.arange(4.0)
    frozen.flags.writeable = False
    t = mg.from_numpy(frozen)

    def add_in_place() -> None:
        nonlocal t
        t += 1

    changes = (
        lambda: t.add_(1),
        lambda: t.mul_(2),
        lambda: t.zero_(),
        lambda: t.__setitem__(0, 1.0),
        add_in_place,
    )
    for change in changes:
        with pytest.raises(ValueError, match="read-only view"):
            change()
    np.testing.assert_array_equal(frozen, np.arange(4.0))


def change_in_place(y: Any, change: str) -> None:
    if change == "zero_":
        y.zero_()
    elif change == "mul_":
        y.mul_(2.0)
    else:
        y[0] = 5.0


@pytest.mark.usefixtures("each_engine")
@pytest.mark.parametrize("change", ["zero_", "mul_", "setitem"])
def test_a_computed_tensor_changed_in_place_is_refused_by_its_own_rule_as_in_torch(change: str) -> None:
    torch = require_torch()
    for lib in (torch, mg):
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = w.exp()  # exp's rule reads its output
        with lib.no_grad():
            change_in_place(y, change)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward(lib.tensor([1.0, 1.0], dtype=lib.float64) if lib is torch else np.ones(2))


@pytest.mark.usefixtures("each_engine")
def test_a_computed_value_changed_in_place_is_refused_too() -> None:
    w = mg.Value(0.5)
    y = w.tanh()
    with mg.no_grad():
        y -= 1.0  # changes y itself under no_grad()
    with pytest.raises(RuntimeError, match=r"the output of 'tanh' \(a Value, now at version 1\) changed"):
        y.backward()
    assert w.grad == 0.0


@pytest.mark.usefixtures("each_engine")
@pytest.mark.parametrize("how", ["detach().mul_", "load_state_dict"])
def test_a_change_through_a_tensor_sharing_the_memory_makes_the_graph_stale_as_in_torch(how: str) -> None:
    """The version goes with the memory: `w.detach()` shares w's array (as PyTorch's shares
    its version), so a change through either is seen by a graph made from the other."""
    torch = require_torch()
    for lib in (torch, mg):
        layer = lib.nn.Linear(3, 1).double() if lib is torch else nn.Linear(3, 1, seed=0)
        weight = layer.weight
        shared = weight.detach()
        x = lib.tensor([[1.0, 2.0, 3.0]], dtype=lib.float64, requires_grad=True)
        stale = (x * (weight if how == "detach().mul_" else shared)).sum()
        with lib.no_grad():
            if how == "detach().mul_":
                shared.mul_(0.5)
            else:
                layer.load_state_dict({k: v * 0 + 7 for k, v in layer.state_dict().items()})
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            stale.backward()
        fresh = (x * shared).sum()  # made after the change: fine, with the new numbers
        fresh.backward()
        np.testing.assert_array_equal(np.asarray(x.grad), np.asarray(shared.detach().numpy()))
