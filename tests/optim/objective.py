"""The objective the optimizer tests minimise, written three times: on Values, on a Tensor and
in torch. sum_i 0.5 (a_i p_i - b_i)^2 + 0.3 sin(p_i), from START: its gradients change from step
to step, so a trajectory tests an optimizer's state, not only one update."""

from __future__ import annotations

from typing import Any

import numpy as np

from micrograd_plus import Tensor, Value

A = np.array([1.5, -0.7, 2.0, 0.3])
B = np.array([0.2, 1.0, -0.5, 0.8])
START = np.array([0.9, -1.2, 0.4, 2.5])


def value_objective(params: list[Value]) -> Value:
    total = Value(0.0, requires_grad=False)
    for p, a, b in zip(params, A, B):
        total = total + 0.5 * (float(a) * p - float(b)) ** 2 + 0.3 * p.sin()
    return total


def tensor_objective(p: Tensor) -> Tensor:
    return (0.5 * (Tensor(A) * p - Tensor(B)) ** 2 + 0.3 * p.sin()).sum()


def torch_objective(torch: Any, p: Any) -> Any:
    return (0.5 * (torch.tensor(A) * p - torch.tensor(B)) ** 2 + 0.3 * torch.sin(p)).sum()
