"""Batch normalization as PyTorch's `BatchNorm1d` and `BatchNorm2d`, and layer normalization
as its `LayerNorm`.

In training, each channel is normalised with the mean and the (biased) variance of the batch,
and running estimates are kept for evaluation: `running = (1 - momentum) * running +
momentum * batch`, the variance's batch estimate unbiased (n / (n - 1)); `momentum=None` makes
it a cumulative average. In eval mode the running estimates are used instead. The
normalisation is written with Tensor operations, so its gradient (and the gradient of that
gradient) is the chain rule through them.

LayerNorm normalises each sample over its last axes instead (a transformer's feature axis): no
batch statistics, so it is the same in training and in eval mode, for a batch of any size.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..tensors import Tensor
from . import functional as F
from .layers import _dtype
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _number(name: str, value: Any, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= float(value) <= high:
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r:.60}")
    return float(value)


class _BatchNorm(Module):
    """The shared part; a subclass names the input ranks it accepts."""

    ranks: tuple[int, ...] = ()
    num_features: int
    eps: float
    momentum: float | None
    affine: bool
    track_running_stats: bool
    weight: Tensor | None
    bias: Tensor | None
    running_mean: Any  # buffers: arrays, or None without track_running_stats
    running_var: Any
    num_batches_tracked: Any

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
        *,
        bias: bool = True,
    ):
        if (
            isinstance(num_features, bool)
            or not isinstance(num_features, numbers.Integral)
            or num_features < 1
        ):
            raise ValueError(f"num_features must be a positive int (the channels), got {num_features!r:.60}")
        kind = _dtype(dtype)
        self.num_features = int(num_features)
        self.eps = _number("eps", eps, 0.0)
        self.momentum = None if momentum is None else _number("momentum", momentum, 0.0, 1.0)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        self.weight = Tensor(np.ones(num_features, kind), requires_grad=True) if affine else None
        # PyTorch 2.13's bias=False: a learned scale without a shift
        self.bias = Tensor(np.zeros(num_features, kind), requires_grad=True) if affine and bias else None
        tracked = self.track_running_stats
        self.register_buffer("running_mean", np.zeros(num_features, kind) if tracked else None)
        self.register_buffer("running_var", np.ones(num_features, kind) if tracked else None)
        self.register_buffer("num_batches_tracked", np.array(0, np.int64) if tracked else None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean = np.zeros_like(self.running_mean)
            self.running_var = np.ones_like(self.running_var)
            self.num_batches_tracked = np.array(0, np.int64)

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        self._check_input(x)
        axes = (0, *range(2, x.ndim))  # every axis but the channels
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)  # a per-channel array, broadcast
        if self.training or not self.track_running_stats:
            out, mean, var = F.standardize(x, axes, self.eps)
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.data, var.data, x.numel() // self.num_features)
        else:
            out = (x - self.running_mean.reshape(shape)) / np.sqrt(self.running_var.reshape(shape) + self.eps)
        if self.weight is not None:  # affine
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        return out

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in self.ranks or x.shape[1] != self.num_features:
            wanted = " or ".join(f"{r}-d" for r in self.ranks)
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects a {wanted} input with "
                f"{self.num_features} channels on axis 1, got shape {x.shape}"
            )
        if (self.training or not self.track_running_stats) and x.numel() // self.num_features <= 1:
            raise ValueError(
                f"{type(self).__name__}: expected more than 1 value per channel to compute batch statistics, "
                f"got input of shape {x.shape}; use a bigger batch, or eval() mode with running statistics"
            )

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, count: int) -> None:
        self.num_batches_tracked += 1  # in place: a 0-d array stays an array (not a numpy scalar)
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        unbiased = var.reshape(-1) * (count / (count - 1))
        self.running_mean = (1 - factor) * self.running_mean + factor * mean.reshape(-1)
        self.running_var = (1 - factor) * self.running_var + factor * unbiased

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Normalises each feature over the batch: input (N, C) or (N, C, L)."""

    ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Normalises each channel over the batch and the image: input (N, C, H, W)."""

    ranks = (4,)


class LayerNorm(Module):
    """Normalises each sample over its last axes, those of `normalized_shape` (an int for the
    last axis alone), to mean 0 and variance 1, then scales by `weight` and shifts by `bias`
    (ones and zeros of normalized_shape, learned; none without elementwise_affine, no shift
    with bias=False), as PyTorch's `LayerNorm`."""

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = None,
    ):
        self.normalized_shape = F.normalized_shape_of(normalized_shape, "LayerNorm")
        self.eps = _number("eps", eps, 0.0)
        self.elementwise_affine = bool(elementwise_affine)
        kind = _dtype(dtype)
        affine = self.elementwise_affine
        self.weight = Tensor(np.ones(self.normalized_shape, kind), requires_grad=True) if affine else None
        self.bias = (
            Tensor(np.zeros(self.normalized_shape, kind), requires_grad=True) if affine and bias else None
        )

    def forward(self, x: Any) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
