"""micrograd's classic demo: an MLP learns the two-moons data set with a max-margin loss."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data.datasets import make_moons
from ..engine import Value, no_grad, value_sum
from ..nn.losses import hinge_loss
from ..nn.mlp import MLP
from ..nn.optim import SGD


@dataclass
class DemoResult:
    """What a demo run produced: the model, the data, and the history of every step."""

    model: MLP
    X: np.ndarray
    y: np.ndarray
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    final_loss: float = float("nan")
    final_accuracy: float = float("nan")


def demo_loss(model: MLP, X: np.ndarray, y: np.ndarray, alpha: float = 1e-4) -> tuple[Value, float]:
    """Max-margin loss plus alpha * L2 of the weights (labels y in {-1, +1}), and the accuracy."""
    scores = [model(list(row)) for row in X.tolist()]
    data_loss = hinge_loss(scores, y.tolist())
    reg_loss = alpha * value_sum([p * p for p in model.parameters()])
    accuracy = sum((yi > 0) == (s.data > 0) for yi, s in zip(y.tolist(), scores)) / len(scores)
    return data_loss + reg_loss, accuracy


def train_moons(
    steps: int = 100,
    seed: int = 0,
    hidden: Sequence[int] = (16, 16),
    n_samples: int = 100,
    noise: float = 0.1,
    on_step: Callable[[int, float, float], None] | None = None,
) -> DemoResult:
    """Train MLP(2, [*hidden, 1]) with SGD, lr 1.0 - 0.9 * k / steps, as micrograd's demo does."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    X, labels = make_moons(n_samples=n_samples, noise=noise, seed=seed)
    y = labels * 2 - 1
    model = MLP(2, [*hidden, 1], seed=seed)
    optimizer = SGD(model.parameters(), lr=1.0)
    result = DemoResult(model, X, y)
    for k in range(steps):
        loss, accuracy = demo_loss(model, X, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = 1.0 - 0.9 * k / steps
        optimizer.step()
        result.losses.append(loss.data)
        result.accuracies.append(accuracy)
        if on_step is not None:
            on_step(k, loss.data, accuracy)
    with no_grad():
        loss, result.final_accuracy = demo_loss(model, X, y)
    result.final_loss = loss.data
    return result


@no_grad()
def predict(model: MLP, points: np.ndarray) -> np.ndarray:
    """The model's score for each row of `points` (no graph is recorded)."""
    return np.array([model(list(row)).data for row in np.asarray(points, dtype=float).tolist()])


def run_demo(
    out: str = "micrograd_plus_out",
    steps: int = 100,
    seed: int = 0,
    hidden: Sequence[int] = (16, 16),
    progress: bool = True,
) -> tuple[DemoResult, list[str]]:
    """Train, draw the decision boundary and the loss curve into `out`, return the paths."""
    from tqdm import tqdm

    from ..viz.plot import plot_decision_boundary, plot_loss

    with tqdm(total=steps, desc="training", disable=not progress, unit="step") as bar:

        def on_step(k: int, loss: float, accuracy: float) -> None:
            bar.set_postfix(loss=f"{loss:.4f}", accuracy=f"{accuracy:.0%}")
            bar.update()

        result = train_moons(steps=steps, seed=seed, hidden=hidden, on_step=on_step)
    os.makedirs(out, exist_ok=True)
    paths = [
        str(
            plot_decision_boundary(
                lambda pts: predict(result.model, pts),
                result.X,
                result.y,
                os.path.join(out, "moons_decision_boundary.png"),
            )
        ),
        str(plot_loss(result.losses, os.path.join(out, "moons_loss.png"), title="moons: max-margin loss")),
    ]
    return result, paths
