"""PyTorch's `torch.nn.utils`: gradient clipping (`clip_grad_norm_`, `clip_grad_value_`) between
`backward()` and `optimizer.step()`, and a model's parameters as one vector and back
(`parameters_to_vector`, `vector_to_parameters`).

The clipping functions take Tensors and micrograd's Values alike and skip those whose grad is
None. They give each parameter a new gradient array instead of scaling the old one in place
(PyTorch's are in place): one gradient array may be shared by two parameters. `foreach=` is
accepted and ignored, as it changes only PyTorch's speed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..arguments import nonnegative
from ..engine import Node
from ..tensors import Tensor, concat, quiet

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def clip_grad_norm_(
    parameters: Node | Iterable[Node],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most `max_norm`, as
    `torch.nn.utils.clip_grad_norm_`: the scale is max_norm / (total_norm + 1e-6), applied
    only when below 1 (`max_norm=math.inf` only measures the norm). Returns the total norm before
    clipping, a 0-d Tensor as in PyTorch (`.item()` or `float()` gives the number), float32 when
    every gradient is float32 or there is none, as PyTorch's. Tensors whose grad is None are
    skipped; `norm_type` may be any p > 0 or math.inf. A nan or inf norm spreads to the gradients,
    as in PyTorch, unless `error_if_nonfinite=True` makes it an error."""
    params = _nodes(parameters, "clip_grad_norm_")
    max_norm = nonnegative(max_norm, "clip_grad_norm_(): max_norm")
    norm_type = float(norm_type)  # "inf" too, as torch
    if not norm_type > 0.0:
        raise ValueError(
            f"clip_grad_norm_(): norm_type must be > 0 or math.inf, got {norm_type} (torch's 0, negative "
            "orders and -inf are not supported)"
        )
    grads = [np.asarray(p.grad) for p in params if p.grad is not None]
    dtype = np.float32 if all(g.dtype == np.float32 for g in grads) else np.float64
    if sum(g.size for g in grads) == 0:
        return Tensor(0.0, dtype=dtype)
    total = _total_norm([np.abs(g.astype(np.float64)).ravel() for g in grads], norm_type, dtype)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite ({total}), "
            "so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    scale = max_norm / (total + 1e-6)
    if not scale >= 1.0:  # a nan norm spreads to the gradients, as in PyTorch
        for p in params:
            if p.grad is not None:
                p.grad = _scaled(p.grad, scale) if isinstance(p.grad, np.ndarray) else float(p.grad * scale)
    return Tensor(total, dtype=dtype)


def clip_grad_value_(
    parameters: Node | Iterable[Node], clip_value: float, foreach: bool | None = None
) -> None:
    """Clip every gradient element into [-clip_value, clip_value], as
    `torch.nn.utils.clip_grad_value_` (a nan stays nan). Returns None, as PyTorch's does."""
    params = _nodes(parameters, "clip_grad_value_")
    clip_value = nonnegative(clip_value, "clip_grad_value_(): clip_value")
    for p in params:
        if p.grad is not None:
            clipped = np.clip(p.grad, -clip_value, clip_value)
            p.grad = clipped if isinstance(p.grad, np.ndarray) else float(clipped)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one 1-d Tensor, in order, as
    `torch.nn.utils.parameters_to_vector(model.parameters())`; recorded in the graph, so a
    loss of the vector sends gradients back to the parameters."""
    params = _tensors(parameters, "parameters_to_vector")
    return concat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """The slices of `vec` (a 1-d Tensor) become the parameters' data, in order, as
    `torch.nn.utils.vector_to_parameters`: each parameter's array is then a view of `vec`'s, as
    in PyTorch (a later change to one shows in the other), and no graph records it. Where PyTorch
    ignores numbers left over at the end, a `vec` of the wrong length is refused here."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters(): expected a Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters(): vec must be a 1-d Tensor, got shape {vec.shape}")
    params = _tensors(parameters, "vector_to_parameters")
    needed = sum(p.numel() for p in params)
    if needed != vec.numel():
        raise ValueError(
            f"vector_to_parameters(): the parameters hold {needed} numbers but vec has {vec.numel()}; "
            "give the vector parameters_to_vector made from the same parameters"
        )
    start = 0
    for p in params:
        p.data = vec.data[start : start + p.numel()].reshape(p.shape)
        start += p.numel()


# --- helpers ---------------------------------------------------------------------------------------


def _nodes(parameters: Node | Iterable[Node], who: str) -> list[Node]:
    """One node or an iterable of them (Tensors or Values), as a list."""
    params = [parameters] if isinstance(parameters, Node) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Node):
            raise TypeError(f"{who}(): parameter {i} is a {type(p).__name__}, not a Value or Tensor")
    return params


def _tensors(parameters: Iterable[Tensor], who: str) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        raise TypeError(
            f"{who}() takes an iterable of Tensors (model.parameters()), got one Tensor; wrap it: [t]"
        )
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}(): parameter {i} is a {type(p).__name__}, not a Tensor")
    if not params:
        raise ValueError(f"{who}(): expected a non-empty iterable of parameters, got none")
    return params


@quiet  # huge gradients overflow to an inf norm, as in PyTorch: IEEE, without a RuntimeWarning
def _total_norm(grads: list[np.ndarray], norm_type: float, dtype: Any) -> float:
    """The p-norm of the gradients' p-norms, which is the norm of them all joined, as PyTorch,
    rounded to `dtype` (a float32 norm beyond float32's range is inf, as PyTorch's)."""
    if math.isinf(norm_type):
        total = np.max([g.max(initial=0.0) for g in grads])  # (np.max: a nan wins)
    else:
        per_param = [np.sum(g**norm_type) ** (1.0 / norm_type) for g in grads]
        total = np.sum(np.asarray(per_param) ** norm_type) ** (1.0 / norm_type)
    return float(np.asarray(total, dtype=dtype))


@quiet  # an inf gradient times a scale of 0 is nan, quietly
def _scaled(grad: np.ndarray, scale: float) -> np.ndarray:
    return grad * scale  # type: ignore[no-any-return]
