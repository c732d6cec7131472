"""Learning-rate schedulers, as `torch.optim.lr_scheduler`: the same learning rates, epoch for epoch.

A scheduler changes `optimizer.param_groups[i]["lr"]`, which the optimizer's next `step()` uses.
Creating one sets the rates for epoch 0; call `scheduler.step()` once per epoch, after the
epoch's `optimizer.step()` calls (`ReduceLROnPlateau.step(metric)` takes the epoch's validation
loss). `get_last_lr()` gives the rates now in use, one per parameter group.

Most schedulers compute the next rate from the current one ("chainable", as PyTorch's do), so
two schedulers on one optimizer multiply their effects, and the rounding is PyTorch's too.

`state_dict()` / `load_state_dict()` save and restore where a schedule stands, beside the
optimizer's own, to stop a run and resume it exactly (docs/optimizers.md, "Checkpoints").
"""

from __future__ import annotations

import copy
import math
import numbers
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from .optimizers import Optimizer, _check_count, _check_number


def _check_epoch(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < -1:
        raise ValueError(f"last_epoch must be a whole number >= -1, got {value!r:.60}")
    return int(value)


class LRScheduler:
    """The base of the epoch schedulers: `step()` moves to the next epoch (`last_epoch`) and sets
    each group's lr to `get_lr()`. `base_lrs` are the groups' rates when scheduling began (kept
    in each group as "initial_lr", so that a scheduler made with `last_epoch >= 0` can resume)."""

    _not_saved: tuple[str, ...] = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        self.optimizer = self._checked_optimizer(optimizer)
        self.last_epoch = last_epoch = _check_epoch(last_epoch)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param_groups[{i}] has no 'initial_lr', which resuming with last_epoch="
                        f"{last_epoch} needs: create the scheduler with last_epoch=-1 to start afresh"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self._initial = True  # the first step only settles epoch last_epoch + 1 (see ExponentialLR)
        self.step()
        self._initial = False

    def _checked_optimizer(self, optimizer: Any) -> Optimizer:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} schedules an optimizer (SGD, Adam, ...), got {type(optimizer).__name__}"
            )
        return optimizer

    def _lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_lr(self) -> list[float]:
        """The rates for epoch `last_epoch`, one per parameter group."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The rates the latest `step()` set, one per parameter group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Move to the next epoch: call it once per epoch, after that epoch's `optimizer.step()`."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._lrs()

    def state_dict(self) -> dict[str, Any]:
        """Where the schedule stands (epoch, rates, counters), to save with the optimizer's
        `state_dict()` and resume: a copy of every attribute but the optimizer, as in PyTorch
        (LambdaLR's functions are not saved either: make the scheduler with them again)."""
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume the schedule `state_dict()` saved (the optimizer's rates come with the
        optimizer's own `load_state_dict`)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict takes what state_dict() gives, a dict, got {state_dict!r:.60}")
        refused = [k for k in state_dict if k in self._not_saved]
        if refused:
            raise ValueError(f"{type(self).__name__}'s state does not include {refused}: they are not saved")
        self.__dict__.update(copy.deepcopy(state_dict))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


class LambdaLR(LRScheduler):
    """lr = initial lr * lr_lambda(epoch); one function for all groups or a list, one per group."""

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ):
        groups = len(self._checked_optimizer(optimizer).param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups:
            raise ValueError(f"expected {groups} lr_lambdas (one per parameter group), got {len(lambdas)}")
        for i, fn in enumerate(lambdas):
            if not callable(fn):
                raise TypeError(f"lr_lambda {i} must be a function of the epoch, got {type(fn).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class StepLR(LRScheduler):
    """Multiply the rates by gamma every `step_size` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = _check_count("step_size", step_size)
        self.gamma = _check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class MultiStepLR(LRScheduler):
    """Multiply the rates by gamma at each milestone epoch (by gamma ** n at one listed n times)."""

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ):
        milestones = list(milestones)
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, numbers.Integral):
                raise TypeError(f"milestones must be whole numbers (epochs), got {m!r:.60}")
        self.milestones = Counter(int(m) for m in milestones)  # (numpy ints too: np.arange(30, 90, 30))
        self.gamma = _check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the rates by gamma every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = _check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._initial:  # resuming at last_epoch: the rates in the groups are that epoch's
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    """Rates along half a cosine, from the initial lr down to eta_min over T_max epochs (and back
    up over the next T_max, and so on), computed from the previous rate as PyTorch does."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):  # noqa: N803
        self.T_max = _check_count("T_max", T_max)
        self.eta_min = _check_number("eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        epoch, period, low = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._lrs()
        if (epoch - 1 - period) % (2 * period) == 0:  # just past the bottom, where the ratio is 0 / 0
            return [
                lr + (base - low) * (1 - math.cos(math.pi / period)) / 2
                for base, lr in zip(self.base_lrs, self._lrs())
            ]
        ratio = (1 + math.cos(math.pi * epoch / period)) / (1 + math.cos(math.pi * (epoch - 1) / period))
        return [ratio * (lr - low) + low for lr in self._lrs()]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rates by `factor` (down to `min_lr`) when a metric stops improving: after more
    than `patience` epochs without an improvement beyond `threshold` (relative or absolute), then
    wait `cooldown` epochs before counting again. `step(metric)` once per epoch."""

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ):
        self.optimizer = self._checked_optimizer(optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.factor = _check_number("factor", factor, 0.0, 1.0, high_open=True)
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(
                    f"expected {groups} min_lr values (one per parameter group), got {len(min_lr)}"
                )
            self.min_lrs = [_check_number("min_lr", m) for m in min_lr]
        else:
            self.min_lrs = [_check_number("min_lr", min_lr)] * groups
        self.mode, self.threshold_mode = mode, threshold_mode
        self.patience = _check_count("patience", patience, low=0)
        self.threshold = _check_number("threshold", threshold)
        self.cooldown = _check_count("cooldown", cooldown, low=0)
        self.eps = _check_number("eps", eps)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._lrs()

    def _is_better(self, metric: float) -> bool:
        if self.mode == "min":
            bar = (
                self.best * (1 - self.threshold)
                if self.threshold_mode == "rel"
                else self.best - self.threshold
            )
            return metric < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return metric > bar

    def step(self, metrics: Any = None) -> None:  # type: ignore[override]
        """Count this epoch's metric (a number, a Value or a one-element Tensor)."""
        if metrics is None:
            raise TypeError(
                "ReduceLROnPlateau.step(metric) needs the epoch's metric, e.g. the validation loss"
            )
        metric = float(metrics)
        self.last_epoch += 1
        if self._is_better(metric):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:  # changes smaller than eps are skipped
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._lrs()
