"""Checkpoints, as in PyTorch's "Saving and loading a general checkpoint": `optimizer.state_dict()`
and `load_state_dict`, `scheduler.state_dict()` and `load_state_dict`. A run stopped after k steps
and resumed in a fresh optimizer from the saved state must go on exactly (bit for bit) as the run
that never stopped, which follows torch's float64 trajectory; a state saved by torch hands the
training over to ours.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from objective import START, tensor_objective, torch_objective, value_objective

import micrograd_plus.optim as optim
from micrograd_plus import SGD, Adam, Tensor, Value
from micrograd_plus.optim import lr_scheduler

CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1}),
    ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.1}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adamax", {"lr": 0.1}),
    ("ASGD", {"lr": 0.1, "t0": 3}),
    ("Rprop", {"lr": 0.1}),
    ("LBFGS", {"lr": 0.5, "max_iter": 3, "history_size": 4}),
]
KINDS = ["values", "tensor"]
K, M = 6, 7  # steps before the checkpoint, steps after


def case_id(case: tuple[str, dict]) -> str:
    return case[0] + "".join(f"-{k}={v}" for k, v in case[1].items())


def make(kind: str, start: Any) -> tuple[list[Any], Callable[[], Any]]:
    """The test objective's parameters from `start` (four Values or one Tensor) and its loss."""
    if kind == "values":
        values = [Value(float(s)) for s in start]
        return values, lambda: value_objective(values)
    tensor = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    return [tensor], lambda: tensor_objective(tensor)


def weights(params: list[Any]) -> np.ndarray:
    return np.concatenate([np.ravel(p.data) for p in params])


def train(opt: Any, loss: Callable[[], Any], steps: int) -> None:
    def closure() -> Any:
        opt.zero_grad()
        value = loss()
        value.backward()
        return value

    for _ in range(steps):
        opt.step(closure)


def torch_run(kind: str, name: str, kwargs: dict) -> tuple[Any, list[Any], Callable[[int], None]]:
    """torch's optimizer on the same parameters (four 0-d tensors or one vector) and a trainer."""
    torch = require_torch()
    if kind == "values":
        params = [torch.tensor(float(s), dtype=torch.float64, requires_grad=True) for s in START]
    else:
        params = [torch.tensor(START, requires_grad=True)]
    opt = getattr(torch.optim, name)(params, **kwargs)

    def closure() -> Any:
        opt.zero_grad()
        loss = torch_objective(torch, torch.stack(params) if kind == "values" else params[0])
        loss.backward()
        return loss

    def steps(n: int) -> None:
        for _ in range(n):
            opt.step(closure)

    return opt, params, steps


def torch_weights(params: list[Any]) -> np.ndarray:
    return np.concatenate([np.ravel(p.detach().numpy()) for p in params])


def as_arrays(value: Any) -> Any:
    """torch's state dict with every tensor made a numpy array (`.numpy()`), lists item by item."""
    torch = require_torch()
    if isinstance(value, torch.Tensor):
        return value.detach().numpy().copy()
    if isinstance(value, (list, tuple)):
        return type(value)(as_arrays(v) for v in value)
    if isinstance(value, dict):
        return {k: as_arrays(v) for k, v in value.items()}
    return value


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Two saved states are equal, arrays bit for bit, with the same keys and types."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), where
    else:
        assert a == b or (a != a and b != b), f"{where}: {a!r} vs {b!r}"


def resume(kind: str, name: str, kwargs: dict, k: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The weights after k + m steps without a stop, and after k steps, a checkpoint and m steps in
    a fresh optimizer made with the default options (the saved ones must come with the state)."""
    params, loss = make(kind, START)
    opt = getattr(optim, name)(params, **kwargs)
    train(opt, loss, k)
    saved = opt.state_dict()
    again, loss_again = make(kind, weights(params))
    fresh = getattr(optim, name)(again)
    fresh.load_state_dict(saved)
    train(fresh, loss_again, m)
    train(opt, loss, m)
    return weights(params), weights(again)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_resumed_run_equals_the_run_that_never_stopped_and_follows_torch(
    kind: str, case: tuple[str, dict]
) -> None:
    name, kwargs = case
    uninterrupted, resumed = resume(kind, name, kwargs, K, M)
    assert np.array_equal(resumed, uninterrupted), f"resumed {resumed}, uninterrupted {uninterrupted}"
    _, torch_params, steps = torch_run(kind, name, kwargs)
    steps(K + M)
    reference = torch_weights(torch_params)
    assert close_to_torch(uninterrupted, reference), f"ours {uninterrupted}, torch {reference}"
    assert not np.array_equal(uninterrupted, START)  # the run moved


@given(
    case=st.sampled_from(CASES),
    kind=st.sampled_from(KINDS),
    k=st.integers(0, 8),
    m=st.integers(1, 5),
)
def test_a_checkpoint_at_any_step_resumes_bit_for_bit(
    case: tuple[str, dict], kind: str, k: int, m: int
) -> None:
    uninterrupted, resumed = resume(kind, *case, k, m)
    assert np.array_equal(resumed, uninterrupted)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_state_has_torchs_names_and_layout(kind: str, case: tuple[str, dict]) -> None:
    name, kwargs = case
    params, loss = make(kind, START)
    opt = getattr(optim, name)(params, **kwargs)
    train(opt, loss, 2)
    torch_opt, _, steps = torch_run(kind, name, kwargs)
    steps(2)
    ours, theirs = opt.state_dict(), torch_opt.state_dict()
    assert ours.keys() == theirs.keys() == {"state", "param_groups"}
    assert ours["state"].keys() == theirs["state"].keys()
    for index in theirs["state"]:
        assert ours["state"][index].keys() <= theirs["state"][index].keys(), index
        missing = theirs["state"][index].keys() - ours["state"][index].keys()
        assert missing <= {"al"}, missing  # (LBFGS's scratch list of its two-loop recursion)
    assert [g["params"] for g in ours["param_groups"]] == [g["params"] for g in theirs["param_groups"]]
    for mine, ref in zip(ours["param_groups"], theirs["param_groups"]):
        assert mine.keys() <= ref.keys()
        assert all(mine[k] == pytest.approx(ref[k]) for k in mine if k != "params")


def test_parameters_are_numbered_across_the_groups_and_only_those_with_state_are_listed() -> None:
    a, b, c = (Tensor(np.full(2, x), requires_grad=True) for x in (1.0, 2.0, 3.0))
    opt = SGD([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.state_dict()["state"] == {}
    (a.sum() + (c * c).sum()).backward()  # b has no gradient: no state
    opt.step()
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1, 2]]
    assert [g["lr"] for g in saved["param_groups"]] == [0.1, 0.5]
    assert saved["state"].keys() == {0, 2}
    assert np.array_equal(saved["state"][0]["momentum_buffer"], np.ones(2))  # the first gradient
    assert np.array_equal(saved["state"][2]["momentum_buffer"], np.full(2, 6.0))  # 2 c at c = 3


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_state_saved_by_torch_hands_the_training_over(kind: str, case: tuple[str, dict]) -> None:
    name, kwargs = case
    torch_opt, torch_params, steps = torch_run(kind, name, kwargs)
    steps(K)
    params, loss = make(kind, torch_weights(torch_params))
    opt = getattr(optim, name)(params)
    opt.load_state_dict(as_arrays(torch_opt.state_dict()))
    train(opt, loss, M)
    steps(M)
    ours, theirs = weights(params), torch_weights(torch_params)
    assert close_to_torch(ours, theirs), f"ours {ours}, torch {theirs}"
    if kind == "values" and name != "LBFGS":  # a Value's state stays Python numbers (LBFGS: flat arrays)
        assert all(type(v) in (int, float) for p in params for v in opt.state[p].values())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_a_saved_state_is_a_copy_that_later_steps_do_not_change(kind: str, name: str) -> None:
    params, loss = make(kind, START)
    opt = getattr(optim, name)(params, lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    train(opt, loss, 3)
    saved = opt.state_dict()
    kept = copy.deepcopy(saved)
    train(opt, loss, 3)  # (Adam and SGD update a Tensor's state arrays in place)
    opt.lr = 0.5
    assert_same(saved, kept)
    again, loss_again = make(kind, weights(params))
    fresh = getattr(optim, name)(again)
    fresh.load_state_dict(saved)
    train(fresh, loss_again, 3)  # the loaded optimizer has its own copy too
    fresh.lr = 0.7
    assert_same(saved, kept)
    assert opt.state_dict()["state"][0] is not saved["state"][0]


def trained_adam(n: int = 4) -> tuple[Adam, list[Value]]:
    params = [Value(float(s)) for s in START[:n]]
    opt = Adam(params, lr=0.1)
    train(opt, lambda: value_objective(params), 2)
    return opt, params


def refused(saved: dict, match: str) -> None:
    """Loading `saved` into a trained Adam raises naming the problem and changes nothing."""
    opt, _ = trained_adam()
    before = opt.state_dict()
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(saved)
    assert_same(opt.state_dict(), before)


def test_a_different_number_of_groups_is_refused_and_changes_nothing() -> None:
    opt, params = trained_adam()
    saved = opt.state_dict()
    two = Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.3}], lr=0.2)
    before = two.state_dict()
    with pytest.raises(ValueError, match="the saved state has 1 parameter groups, this optimizer 2"):
        two.load_state_dict(saved)
    assert_same(two.state_dict(), before)


def test_a_different_number_of_parameters_is_refused_and_changes_nothing() -> None:
    small, _ = trained_adam(3)
    refused(
        small.state_dict(), r"parameter group 0 has 3 parameters in the saved state and 4 in this optimizer"
    )


def test_a_state_of_another_kind_of_optimizer_is_refused() -> None:
    params = [Value(float(s)) for s in START]
    sgd = SGD(params, lr=0.1, momentum=0.9)
    train(sgd, lambda: value_objective(params), 1)
    refused(sgd.state_dict(), r"saved parameter group 0 has no \['betas', 'eps', 'amsgrad'\]")


def test_state_of_another_shape_is_refused_and_changes_nothing() -> None:
    vector = Tensor(np.arange(4.0), requires_grad=True)
    opt = Adam([vector], lr=0.1)
    train(opt, lambda: (vector * vector).sum(), 2)
    saved = trained_adam()[0].state_dict()
    saved["state"][3] = opt.state_dict()["state"][0]  # a Tensor's state for a Value
    refused(saved, r"'exp_avg' of parameter 3 has shape \(4,\), the parameter \(\)")
    matrix = Tensor(np.ones((2, 2)), requires_grad=True)
    other = Adam([matrix], lr=0.1)
    train(other, lambda: (matrix * matrix).sum(), 1)
    before = other.state_dict()
    with pytest.raises(
        ValueError, match=r"'exp_avg' of parameter 0 has shape \(4,\), the parameter \(2, 2\)"
    ):
        other.load_state_dict(opt.state_dict())
    assert_same(other.state_dict(), before)


def test_a_bad_option_or_index_in_a_saved_state_is_refused_and_changes_nothing() -> None:
    opt, _ = trained_adam()
    saved = opt.state_dict()
    saved["param_groups"][0]["lr"] = -1.0
    refused(saved, r"lr must be in \[0.0, inf\], got -1.0")
    saved = opt.state_dict()
    saved["state"][7] = saved["state"].pop(3)
    refused(saved, "state for parameter 7, which none of its groups lists")
    with pytest.raises(TypeError, match="a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


# -- schedulers ----------------------------------------------------------------------------------

SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.01}),
    ("ReduceLROnPlateau", {"patience": 1, "factor": 0.5, "cooldown": 1}),
]
METRICS = [1.0, 0.9, 0.95, 0.97, 0.96, 0.8, 0.85, 0.9, 0.91, 0.7, 0.75, 0.76, 0.77, 0.78, 0.6, 0.61]
LRS = (0.5, 0.2)


def scheduled(scheduler: Any, epochs: range) -> list[list[float]]:
    """The rates after each epoch's step (ReduceLROnPlateau is given that epoch's metric)."""
    rates = []
    for epoch in epochs:
        scheduler.optimizer.step()
        if type(scheduler).__name__ == "ReduceLROnPlateau":
            scheduler.step(METRICS[epoch])
        else:
            scheduler.step()
        rates.append(scheduler.get_last_lr())
    return rates


def schedule(name: str, kwargs: dict) -> Any:
    groups = [{"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in LRS]
    return getattr(lr_scheduler, name)(SGD(groups, lr=1.0, momentum=0.9), **kwargs)


@pytest.mark.parametrize("k", [1, 6, 11])
@pytest.mark.parametrize("case", SCHEDULES, ids=lambda c: c[0])
def test_a_resumed_schedule_gives_the_rates_of_one_that_never_stopped_and_torchs(
    case: tuple[str, dict], k: int
) -> None:
    name, kwargs = case
    epochs = len(METRICS)
    uninterrupted = scheduled(schedule(name, kwargs), range(epochs))
    first = schedule(name, kwargs)
    before = scheduled(first, range(k))
    saved_opt, saved = first.optimizer.state_dict(), first.state_dict()
    fresh = schedule(name, kwargs)
    fresh.optimizer.load_state_dict(saved_opt)
    fresh.load_state_dict(saved)
    assert before + scheduled(fresh, range(k, epochs)) == uninterrupted

    torch = require_torch()
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    torch_opt = torch.optim.SGD(groups, lr=1.0, momentum=0.9)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs)
    reference = scheduled(theirs, range(epochs))
    assert close_to_torch(uninterrupted, reference), f"ours {uninterrupted}, torch {reference}"
    assert len({tuple(r) for r in uninterrupted}) > 2  # the rates did change


def test_a_scheduler_saves_everything_but_the_optimizer_as_a_copy() -> None:
    ours = schedule("ReduceLROnPlateau", {"patience": 0})
    scheduled(ours, range(3))
    saved = ours.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 3 and saved["best"] == 0.9
    kept = copy.deepcopy(saved)
    scheduled(ours, range(3, 8))
    assert saved == kept and ours.best != kept["best"]
    multi = schedule("MultiStepLR", {"milestones": [2, 4]})
    saved = multi.state_dict()
    multi.milestones[9] = 1
    assert 9 not in saved["milestones"]


def test_lambda_lr_does_not_save_its_functions_and_resumes_with_the_ones_it_is_made_with() -> None:
    def decay(epoch: int) -> float:
        return 0.8**epoch

    first = schedule("LambdaLR", {"lr_lambda": decay})
    before = scheduled(first, range(4))
    saved = first.state_dict()
    assert "lr_lambdas" not in saved and "optimizer" not in saved
    fresh = schedule("LambdaLR", {"lr_lambda": decay})
    fresh.optimizer.load_state_dict(first.optimizer.state_dict())
    fresh.load_state_dict(saved)
    assert before + scheduled(fresh, range(4, 9)) == scheduled(
        schedule("LambdaLR", {"lr_lambda": decay}), range(9)
    )
    with pytest.raises(ValueError, match=r"LambdaLR's state does not include \['lr_lambdas'\]"):
        fresh.load_state_dict({**saved, "lr_lambdas": [None, None]})


@pytest.mark.parametrize("case", SCHEDULES, ids=lambda c: c[0])
def test_a_schedule_saved_by_torch_goes_on_here_as_in_torch(case: tuple[str, dict]) -> None:
    name, kwargs = case
    torch = require_torch()
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    theirs = getattr(torch.optim.lr_scheduler, name)(torch.optim.SGD(groups, lr=1.0, momentum=0.9), **kwargs)
    scheduled(theirs, range(6))
    ours = schedule(name, kwargs)
    ours.optimizer.load_state_dict(as_arrays(theirs.optimizer.state_dict()))
    ours.load_state_dict(theirs.state_dict())
    mine, reference = scheduled(ours, range(6, len(METRICS))), scheduled(theirs, range(6, len(METRICS)))
    assert close_to_torch(mine, reference), f"ours {mine}, torch {reference}"
