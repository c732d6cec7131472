"""Optimizers against torch.optim in float64: every optimizer and option, over several steps,
for Value parameters and for Tensor parameters, with |ours - torch| <= 1e-9 * max(1, |torch|).

The objective is the same small function on both sides (objective.py), so the gradients change
from step to step (a test of the optimizer state, not only one update).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from objective import START, tensor_objective, torch_objective, value_objective

from micrograd_plus import SGD, Adagrad, Adam, AdamW, RMSprop, Tensor, Value

STEPS = 6

OURS = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "RMSprop": RMSprop, "Adagrad": Adagrad}

# Every option each optimizer offers, alone and combined.
CASES = [
    ("SGD", {}),
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.1}),
    ("Adam", {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-6}),
    ("Adam", {"lr": 0.1, "weight_decay": 0.2}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.2, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.3}),
    ("AdamW", {"lr": 0.1, "betas": (0.5, 0.9), "weight_decay": 0.0}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.05, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.05, "momentum": 0.8}),
    ("RMSprop", {"lr": 0.05, "centered": True}),
    ("RMSprop", {"lr": 0.05, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "eps": 1e-4}),
    ("RMSprop", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.3}),
    ("Adagrad", {"lr": 0.3, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.3, "weight_decay": 0.2}),
    ("Adagrad", {"lr": 0.3, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.3, "lr_decay": 0.1, "maximize": True}),
]


def _torch_run(name: str, kwargs: dict, steps: int = STEPS, lr_schedule=None) -> tuple[list, list]:
    torch = require_torch()
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([p], **kwargs)
    losses, params = [], []
    for k in range(steps):
        if lr_schedule is not None:
            for group in opt.param_groups:
                group["lr"] = lr_schedule(k)
        opt.zero_grad()
        loss = torch_objective(torch, p)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        params.append(p.detach().numpy().copy())
    return losses, params


def _values_run(name: str, kwargs: dict, steps: int = STEPS, lr_schedule=None) -> tuple[list, list]:
    params = [Value(float(s)) for s in START]
    opt = OURS[name](params, **kwargs)
    losses, history = [], []
    for k in range(steps):
        if lr_schedule is not None:
            opt.lr = lr_schedule(k)
        opt.zero_grad()
        loss = value_objective(params)
        loss.backward()
        opt.step()
        losses.append(loss.data)
        history.append(np.array([p.data for p in params]))
    return losses, history


def _tensor_run(name: str, kwargs: dict, steps: int = STEPS, lr_schedule=None) -> tuple[list, list]:
    p = Tensor(START, requires_grad=True)
    opt = OURS[name]([p], **kwargs)
    losses, history = [], []
    for k in range(steps):
        if lr_schedule is not None:
            opt.lr = lr_schedule(k)
        opt.zero_grad()
        loss = tensor_objective(p)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        history.append(p.data.copy())
    return losses, history


def _assert_same_run(ours: tuple[list, list], theirs: tuple[list, list]) -> None:
    for step, (mine, ref) in enumerate(zip(ours[0], theirs[0])):
        assert close_to_torch(mine, ref), f"loss at step {step}: ours {mine!r}, torch {ref!r}"
    for step, (mine, ref) in enumerate(zip(ours[1], theirs[1])):
        assert close_to_torch(mine, ref), f"parameters after step {step}: ours {mine}, torch {ref}"


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{sorted(k.items())}" for n, k in CASES])
def test_value_parameters_follow_torch(name: str, kwargs: dict) -> None:
    _assert_same_run(_values_run(name, kwargs), _torch_run(name, kwargs))


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{sorted(k.items())}" for n, k in CASES])
def test_tensor_parameters_follow_torch(name: str, kwargs: dict) -> None:
    _assert_same_run(_tensor_run(name, kwargs), _torch_run(name, kwargs))


# Hyperparameters drawn by hypothesis, kept where the problem stays well conditioned.
_rates = st.floats(1e-4, 0.5)
_unit = st.floats(0.0, 0.95)
_decay = st.floats(0.0, 0.3)

_sgd = st.builds(dict, lr=_rates, momentum=_unit, dampening=_unit, weight_decay=_decay) | st.builds(
    lambda lr, m, wd: {"lr": lr, "momentum": m, "weight_decay": wd, "nesterov": True},
    _rates,
    st.floats(0.05, 0.95),
    _decay,
)
_adam = st.builds(
    lambda lr, b1, b2, eps, wd: {"lr": lr, "betas": (b1, b2), "eps": eps, "weight_decay": wd},
    _rates,
    st.floats(0.0, 0.95),
    st.floats(0.5, 0.9999),
    st.floats(1e-10, 1e-3),
    _decay,
)
_rmsprop = st.builds(
    dict,
    lr=st.floats(1e-4, 0.1),
    alpha=st.floats(0.5, 0.99),
    eps=st.floats(1e-8, 1e-3),
    weight_decay=_decay,
    momentum=_unit,
    centered=st.booleans(),
)
_adagrad = st.builds(
    dict,
    lr=_rates,
    lr_decay=st.floats(0.0, 1.0),
    weight_decay=_decay,
    initial_accumulator_value=st.floats(0.0, 1.0),
    eps=st.floats(1e-10, 1e-3),
)
_drawn = st.one_of(
    st.tuples(st.just("SGD"), _sgd),
    st.tuples(st.just("Adam"), _adam),
    st.tuples(st.just("AdamW"), _adam),
    st.tuples(st.just("RMSprop"), _rmsprop),
    st.tuples(st.just("Adagrad"), _adagrad),
)


@given(_drawn)
def test_drawn_hyperparameters_follow_torch(case: tuple[str, dict]) -> None:
    name, kwargs = case
    reference = _torch_run(name, kwargs, steps=4)
    _assert_same_run(_values_run(name, kwargs, steps=4), reference)
    _assert_same_run(_tensor_run(name, kwargs, steps=4), reference)


def _schedule(k: int) -> float:
    return 0.2 * 0.5**k


@pytest.mark.parametrize("name", sorted(OURS))
def test_writable_lr_is_a_schedule_like_torch_param_groups(name: str) -> None:
    reference = _torch_run(name, {}, lr_schedule=_schedule)
    _assert_same_run(_values_run(name, {}, lr_schedule=_schedule), reference)
    _assert_same_run(_tensor_run(name, {}, lr_schedule=_schedule), reference)


def test_defaults_are_pytorchs() -> None:
    torch = require_torch()
    p = Value(1.0)
    for name, cls in OURS.items():
        theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
        ours = cls([p])
        for key, value in theirs.items():
            if hasattr(ours, key):
                mine = getattr(ours, key)
                assert mine == (tuple(value) if isinstance(value, tuple) else value), (
                    f"{name}.{key}: {mine} vs {value}"
                )
        assert ours.lr == theirs["lr"], name


@pytest.mark.parametrize("name", sorted(OURS))
def test_tensor_without_grad_is_skipped_like_torch(name: str) -> None:
    torch = require_torch()
    used, unused = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    tu, tn = (torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 4.0], requires_grad=True))
    kwargs = {"weight_decay": 0.5}
    ours, theirs = OURS[name]([used, unused], **kwargs), getattr(torch.optim, name)([tu, tn], **kwargs)
    for _ in range(3):
        ours.zero_grad()
        theirs.zero_grad()
        (used * used).sum().backward()
        (tu * tu).sum().backward()
        ours.step()
        theirs.step()
    assert unused.grad is None
    assert np.array_equal(unused.data, [3.0, 4.0]) and np.array_equal(tn.detach().numpy(), [3.0, 4.0])
    assert close_to_torch(used.data, tu.detach().numpy())


@pytest.mark.parametrize("name, kwargs", CASES)
def test_inf_and_nan_gradients_follow_torch_without_a_warning(name: str, kwargs: dict) -> None:
    import warnings

    torch = require_torch()
    grad = np.array([math.inf, -math.inf, math.nan, 0.5])
    ours, theirs = Tensor(START, requires_grad=True), torch.tensor(START, requires_grad=True)
    ours.grad, theirs.grad = grad.copy(), torch.tensor(grad)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning fails the test
        OURS[name]([ours], **kwargs).step()
    getattr(torch.optim, name)([theirs], **kwargs).step()
    expected = theirs.detach().numpy()
    assert np.array_equal(np.isnan(ours.data), np.isnan(expected)), (ours.data, expected)
    finite = ~np.isnan(expected)
    assert close_to_torch(ours.data[finite], expected[finite])


@pytest.mark.parametrize(
    "name, kwargs, grad, steps",
    [
        ("Adam", {"eps": 0.0}, 0.0, 1),  # 0 / 0
        ("AdamW", {"eps": 0.0}, 0.0, 1),
        ("Adagrad", {"eps": 0.0}, 0.0, 1),
        ("RMSprop", {"centered": True, "alpha": 0.5}, 3.3, 60),  # sqrt of a rounding error below 0
    ],
)
def test_value_parameters_get_ieee_results_where_python_would_raise(
    name: str, kwargs: dict, grad: float, steps: int
) -> None:
    """The numbers of a one-element Tensor (numpy's IEEE arithmetic), and nan in the end as
    in PyTorch, rather than a ZeroDivisionError or a math domain error."""
    torch = require_torch()
    value, tensor, theirs = (
        Value(1.0),
        Tensor([1.0], requires_grad=True),
        torch.tensor(1.0, requires_grad=True),
    )
    on_value, on_tensor = OURS[name]([value], **kwargs), OURS[name]([tensor], **kwargs)
    reference = getattr(torch.optim, name)([theirs], **kwargs)
    for _ in range(steps):
        value.grad, tensor.grad, theirs.grad = grad, np.array([grad]), torch.tensor(grad)
        on_value.step()
        on_tensor.step()
        reference.step()
        assert type(value.data) is float
        assert value.data == tensor.data[0] or (math.isnan(value.data) and math.isnan(tensor.data[0]))
    assert math.isnan(value.data) and math.isnan(theirs.item())
    assert all(type(v) in (float, int) for v in on_value.state[value].values()), on_value.state[value]


def test_tensor_parameters_are_updated_in_place() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    array = p.data
    opt = Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p.data is array, "the optimizer must keep the parameter's array (views of it stay live)"
    assert np.all(array < [1.0, 2.0])


def test_zero_grad_resets_values_and_tensors() -> None:
    v, t = Value(2.0), Tensor([2.0], requires_grad=True)
    opt = SGD([v, t], lr=0.1)
    (v * v).backward()
    (t * t).sum().backward()
    assert v.grad == 4.0 and np.array_equal(t.grad, [4.0])
    opt.zero_grad()
    assert v.grad == 0.0 and t.grad is None


# --- bad hyperparameters -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OURS))
@pytest.mark.parametrize("lr", [-0.1, math.nan, math.inf, -math.inf])
def test_bad_learning_rate_raises_value_error(name: str, lr: float) -> None:
    with pytest.raises(ValueError, match="lr must be"):
        OURS[name]([Value(1.0)], lr=lr)
    opt = OURS[name]([Value(1.0)])
    with pytest.raises(ValueError, match="lr must be"):
        opt.lr = lr
    assert opt.lr == OURS[name]([Value(1.0)]).lr, "a refused lr must leave the old one in place"


@pytest.mark.parametrize("name", sorted(OURS))
def test_learning_rate_of_the_wrong_type_raises_type_error(name: str) -> None:
    with pytest.raises(TypeError, match="lr must be a number, got str"):
        OURS[name]([Value(1.0)], lr="0.1")
    with pytest.raises(TypeError, match="lr must be a number, got bool"):
        OURS[name]([Value(1.0)], lr=True)


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("SGD", {"momentum": -0.5}, "momentum must be in"),
        ("SGD", {"weight_decay": math.nan}, "weight_decay must be finite"),
        ("SGD", {"momentum": 0.0, "nesterov": True}, "nesterov momentum requires"),
        ("SGD", {"momentum": 0.9, "dampening": 0.1, "nesterov": True}, "nesterov momentum requires"),
        ("Adam", {"betas": (1.0, 0.999)}, r"betas\[0\] must be in"),
        ("Adam", {"betas": (0.9, -0.1)}, r"betas\[1\] must be in"),
        ("Adam", {"betas": 0.9}, "betas must be a pair"),
        ("Adam", {"eps": -1e-8}, "eps must be in"),
        ("AdamW", {"weight_decay": -0.01}, "weight_decay must be in"),
        ("RMSprop", {"alpha": 1.5}, "alpha must be in"),
        ("RMSprop", {"momentum": math.inf}, "momentum must be finite"),
        ("Adagrad", {"lr_decay": -1.0}, "lr_decay must be in"),
        ("Adagrad", {"initial_accumulator_value": -1.0}, "initial_accumulator_value must be in"),
    ],
)
def test_bad_hyperparameters_raise_value_error(name: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OURS[name]([Value(1.0)], **kwargs)


def test_parameters_must_be_nodes_and_not_empty() -> None:
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is a float, not a Value or Tensor"):
        SGD([Value(1.0), 2.0], lr=0.1)


def test_parameters_must_be_leaves_as_in_torch() -> None:
    # SGD([w * 2]) would step a computed node, which changes nothing the user made; torch refuses it
    w = Tensor(np.ones(2), requires_grad=True)
    for made in (w * 2, Value(1.0) + 1.0):
        with pytest.raises(ValueError, match="parameter 1 is the result of an operation, not a leaf"):
            SGD([w, made], lr=0.1)
        with pytest.raises(ValueError, match="not a leaf"):
            Adam([{"params": [w]}, {"params": [made]}])
    SGD([w, (w * 2).detach().requires_grad_()], lr=0.1)  # a detached copy is a leaf
