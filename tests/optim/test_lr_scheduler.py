"""Learning-rate schedulers against torch.optim.lr_scheduler: the same rates epoch after epoch
(hundreds of epochs, two parameter groups), the same `get_last_lr()`, `last_epoch` and order of
calls, and the rates a training run actually uses."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mp
from micrograd_plus import (
    SGD,
    Adam,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
    Tensor,
    Value,
)

EPOCHS = 300
LRS = (0.1, 0.03)  # two parameter groups


def optimizers(torch: Any, lrs: tuple[float, ...] = LRS) -> tuple[Any, Any]:
    ours = SGD([{"params": [Value(1.0)], "lr": lr} for lr in lrs], lr=1.0)
    theirs = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], lr=1.0
    )
    return ours, theirs


def assert_same_rates(ours: Any, theirs: Any, opt: Any, torch_opt: Any, epoch: int) -> None:
    mine, ref = ours.get_last_lr(), theirs.get_last_lr()
    assert len(mine) == len(ref) and close_to_torch(mine, ref), f"epoch {epoch}: ours {mine}, torch {ref}"
    assert [g["lr"] for g in opt.param_groups] == mine, "get_last_lr() must be the groups' rates"
    assert close_to_torch([g["lr"] for g in opt.param_groups], [g["lr"] for g in torch_opt.param_groups])
    assert ours.last_epoch == theirs.last_epoch


def compare(name: str, kwargs: dict, epochs: int = EPOCHS, torch_kwargs: dict | None = None) -> None:
    torch = require_torch()
    opt, torch_opt = optimizers(torch)
    ours = getattr(mp, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **(torch_kwargs or kwargs))
    assert_same_rates(ours, theirs, opt, torch_opt, 0)
    for epoch in range(1, epochs + 1):
        torch_opt.step()  # (silences torch's warning about the order of the calls)
        ours.step()
        theirs.step()
        assert_same_rates(ours, theirs, opt, torch_opt, epoch)


CASES = [
    ("StepLR", {"step_size": 7}),
    ("StepLR", {"step_size": 1, "gamma": 0.97}),
    ("StepLR", {"step_size": 30, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [10, 50, 50, 120]}),  # 50 twice: gamma squared there
    ("MultiStepLR", {"milestones": [200, 3], "gamma": 0.3}),  # in any order
    ("ExponentialLR", {"gamma": 0.99}),
    ("ExponentialLR", {"gamma": 1.01}),
    ("CosineAnnealingLR", {"T_max": 50}),  # six half-periods: down, up, down, ...
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 1}),
    ("CosineAnnealingLR", {"T_max": 400, "eta_min": 0.05}),  # eta_min above a group's lr
]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_rates_follow_torch_for_hundreds_of_epochs(name: str, kwargs: dict) -> None:
    compare(name, kwargs)


def test_multistep_milestones_may_be_numpy_integers_as_in_torch() -> None:
    # (np.arange(30, 100, 30) and the like: numpy ints are whole numbers too)
    compare("MultiStepLR", {"milestones": np.array([10, 50, 50]), "gamma": 0.5})
    compare("MultiStepLR", {"milestones": [np.int32(3), np.int64(20)]})
    assert all(type(m) is int for m in MultiStepLR(SGD([Value(1.0)], lr=0.1), np.array([4])).milestones)


def test_lambda_lr_follows_torch_with_one_function_and_with_one_per_group() -> None:
    compare("LambdaLR", {"lr_lambda": lambda epoch: 0.95**epoch})
    compare("LambdaLR", {"lr_lambda": [lambda e: 1 / (1 + e), lambda e: math.cos(e / 10) ** 2]})


@given(
    st.one_of(
        st.builds(
            lambda s, g: ("StepLR", {"step_size": s, "gamma": g}), st.integers(1, 40), st.floats(0.0, 1.5)
        ),
        st.builds(
            lambda m, g: ("MultiStepLR", {"milestones": m, "gamma": g}),
            st.lists(st.integers(0, 250), max_size=6),
            st.floats(0.0, 1.5),
        ),
        st.builds(lambda g: ("ExponentialLR", {"gamma": g}), st.floats(0.5, 1.02)),
        st.builds(
            lambda t, e: ("CosineAnnealingLR", {"T_max": t, "eta_min": e}),
            st.integers(1, 200),
            st.floats(0.0, 0.2),
        ),
    )
)
def test_drawn_settings_follow_torch(case: tuple[str, dict]) -> None:
    compare(*case, epochs=250)


def test_a_training_run_uses_the_scheduled_rates_like_torch() -> None:
    torch = require_torch()
    start = np.array([0.9, -1.2, 0.4])
    p, tp = Tensor(start, requires_grad=True), torch.tensor(start, requires_grad=True)
    opt, torch_opt = Adam([p], lr=0.2), torch.optim.Adam([tp], lr=0.2)
    ours, theirs = StepLR(opt, step_size=3, gamma=0.5), torch.optim.lr_scheduler.StepLR(torch_opt, 3, 0.5)
    for epoch in range(12):
        for _ in range(4):  # a few mini-batches per epoch, then one scheduler step
            for o, loss in ((opt, (p.sin() * p).sum()), (torch_opt, (torch.sin(tp) * tp).sum())):
                o.zero_grad()
                loss.backward()
                o.step()
        ours.step()
        theirs.step()
        assert close_to_torch(p.data, tp.detach().numpy()), f"epoch {epoch}"
    assert opt.lr == 0.2 * 0.5**4 == ours.get_last_lr()[0]


def test_creating_a_scheduler_sets_epoch_zero_and_keeps_the_initial_rates() -> None:
    opt = SGD([Value(1.0)], lr=0.5)
    scheduler = ExponentialLR(opt, gamma=0.5)
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == [0.5] and opt.lr == 0.5
    assert opt.param_groups[0]["initial_lr"] == 0.5 and scheduler.base_lrs == [0.5]
    scheduler.step()
    assert scheduler.last_epoch == 1 and scheduler.get_last_lr() == [0.25] == [opt.lr]
    scheduler.get_last_lr().append(9.0)  # a copy: the scheduler's own list is unchanged
    assert scheduler.get_last_lr() == [0.25]


def test_two_schedulers_on_one_optimizer_chain_as_in_torch() -> None:
    torch = require_torch()
    opt, torch_opt = optimizers(torch)
    ours = [ExponentialLR(opt, gamma=0.9), StepLR(opt, step_size=4, gamma=0.5)]
    theirs = [
        torch.optim.lr_scheduler.ExponentialLR(torch_opt, gamma=0.9),
        torch.optim.lr_scheduler.StepLR(torch_opt, step_size=4, gamma=0.5),
    ]
    for _ in range(40):
        torch_opt.step()
        for mine, ref in zip(ours, theirs):
            mine.step()
            ref.step()
        assert close_to_torch([g["lr"] for g in opt.param_groups], [g["lr"] for g in torch_opt.param_groups])


@pytest.mark.parametrize(("name", "kwargs"), CASES[::2] + [("LambdaLR", {"lr_lambda": lambda e: 0.9**e})])
def test_resuming_with_last_epoch_follows_torch(name: str, kwargs: dict) -> None:
    torch = require_torch()
    opt, torch_opt = optimizers(torch)
    for o in (opt, torch_opt):
        for group, lr in zip(o.param_groups, (0.08, 0.02)):  # the rates reached before the checkpoint
            group["initial_lr"], group["lr"] = group["lr"], lr
    ours = getattr(mp, name)(opt, **kwargs, last_epoch=16)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs, last_epoch=16)
    for epoch in range(60):
        assert_same_rates(ours, theirs, opt, torch_opt, epoch)
        torch_opt.step()
        ours.step()
        theirs.step()


def test_last_epoch_may_be_a_numpy_integer() -> None:
    # (an epoch counter read back from a numpy array of a checkpoint)
    opt = SGD([Value(1.0)], lr=0.1)
    opt.param_groups[0]["initial_lr"] = 0.1
    scheduler = StepLR(opt, step_size=2, last_epoch=np.int64(5))
    assert type(scheduler.last_epoch) is int and scheduler.last_epoch == 6
    with pytest.raises(ValueError, match="last_epoch must be a whole number >= -1, got 2.0"):
        StepLR(opt, step_size=2, last_epoch=2.0)


def test_resuming_needs_initial_lr_in_the_groups() -> None:
    with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'initial_lr'.*last_epoch=-1"):
        StepLR(SGD([Value(1.0)], lr=0.1), step_size=2, last_epoch=5)


# --- ReduceLROnPlateau --------------------------------------------------------------------------


def plateau_metrics(seed: int, epochs: int) -> list[float]:
    """A loss that falls, then wanders on plateaus, with noise."""
    rng = np.random.default_rng(seed)
    return list(np.maximum(1.0 / (1 + np.arange(epochs) / 20), 0.3) + 0.02 * rng.standard_normal(epochs))


def compare_plateau(kwargs: dict, metrics: list[float], lrs: tuple[float, ...] = LRS) -> None:
    torch = require_torch()
    opt, torch_opt = optimizers(torch, lrs)
    ours = ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **kwargs)
    assert_same_rates(ours, theirs, opt, torch_opt, 0)
    for epoch, metric in enumerate(metrics):
        torch_opt.step()
        ours.step(metric if epoch % 2 else Value(metric))  # a number or a Value (the loss itself)
        theirs.step(metric)
        assert_same_rates(ours, theirs, opt, torch_opt, epoch)
        assert (ours.num_bad_epochs, ours.cooldown_counter) == (
            theirs.num_bad_epochs,
            theirs.cooldown_counter,
        )
        assert ours.best == theirs.best


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"patience": 3},
        {"patience": 2, "cooldown": 4, "factor": 0.5},
        {"patience": 0, "threshold": 0.05, "threshold_mode": "abs"},
        {"patience": 1, "min_lr": 1e-3},
        {"patience": 1, "min_lr": [0.02, 1e-4], "eps": 1e-3},
    ],
    ids=str,
)
def test_reduce_on_plateau_follows_torch(kwargs: dict) -> None:
    compare_plateau(kwargs, plateau_metrics(0, 300))


def test_reduce_on_plateau_in_max_mode_follows_torch() -> None:
    accuracy = [1 - m for m in plateau_metrics(1, 300)]
    compare_plateau({"mode": "max", "patience": 4}, accuracy)
    compare_plateau({"mode": "max", "patience": 2, "threshold_mode": "abs", "threshold": 0.01}, accuracy)


@given(
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["min", "max"]),
    threshold_mode=st.sampled_from(["rel", "abs"]),
    factor=st.floats(0.0, 0.99),
    patience=st.integers(0, 12),
    cooldown=st.integers(0, 6),
    threshold=st.floats(0.0, 0.1),
    min_lr=st.floats(0.0, 0.05),
)
def test_reduce_on_plateau_drawn_settings_follow_torch(
    seed: int,
    mode: str,
    threshold_mode: str,
    factor: float,
    patience: int,
    cooldown: int,
    threshold: float,
    min_lr: float,
) -> None:
    kwargs = dict(
        mode=mode,
        threshold_mode=threshold_mode,
        factor=factor,
        patience=patience,
        cooldown=cooldown,
        threshold=threshold,
        min_lr=min_lr,
    )
    compare_plateau(kwargs, plateau_metrics(seed, 200))


# --- errors and names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda opt: StepLR(opt, step_size=0), ValueError, "step_size must be a whole number >= 1"),
        (lambda opt: StepLR(opt, step_size=2, gamma=-0.5), ValueError, "gamma must be in"),
        (lambda opt: CosineAnnealingLR(opt, T_max=0), ValueError, "T_max must be a whole number >= 1"),
        (lambda opt: MultiStepLR(opt, milestones=[2.5]), TypeError, "milestones must be whole numbers"),
        (lambda opt: LambdaLR(opt, lr_lambda=[lambda e: 1.0] * 2), ValueError, "expected 1 lr_lambdas"),
        (lambda opt: LambdaLR(opt, lr_lambda=0.5), TypeError, "lr_lambda 0 must be a function"),
        (lambda opt: ExponentialLR(opt, gamma=0.9, last_epoch=-2), ValueError, "last_epoch must be"),
        (lambda opt: ReduceLROnPlateau(opt, factor=1.0), ValueError, "factor must be in"),
        (lambda opt: ReduceLROnPlateau(opt, mode="lowest"), ValueError, "mode must be 'min' or 'max'"),
        (lambda opt: ReduceLROnPlateau(opt, threshold_mode="pct"), ValueError, "threshold_mode must be"),
        (lambda opt: ReduceLROnPlateau(opt, min_lr=[0.1, 0.2]), ValueError, "expected 1 min_lr values"),
        (lambda opt: StepLR(opt.param_groups, step_size=2), TypeError, "StepLR schedules an optimizer"),
    ],
)
def test_bad_settings_raise_clear_errors(make: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make(SGD([Value(1.0)], lr=0.1))


def test_reduce_on_plateau_step_needs_the_metric() -> None:
    with pytest.raises(TypeError, match=r"step\(metric\) needs the epoch's metric"):
        ReduceLROnPlateau(SGD([Value(1.0)], lr=0.1)).step()


def test_schedulers_are_importable_from_the_top_level_nn_and_lr_scheduler() -> None:
    for name in (
        "StepLR",
        "MultiStepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "LambdaLR",
        "ReduceLROnPlateau",
    ):
        cls = getattr(mp, name)
        assert cls is getattr(mp.lr_scheduler, name) is getattr(mp.optim.lr_scheduler, name)
        assert issubclass(cls, mp.LRScheduler)
