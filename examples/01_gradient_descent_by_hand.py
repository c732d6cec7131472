"""1. Gradient descent by hand on y = w * x (PyTorch Zero to All, lectures 2 and 3).

Three samples x = 1, 2, 3 with y = 2, 4, 6. First the loss as a function of w, for w from 0 to
4 in steps of 0.1: a parabola with its minimum at w = 2. Then per-sample SGD with lr 0.01 for 100
epochs, the gradient computed twice, by hand (d/dw (w x - y)^2 = 2 x (w x - y)) and by
`backward()`, which must agree: w goes to 2.0.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import parse_args, report, training, wrote

from micrograd_plus import Value
from micrograd_plus.viz.plot import plot_fit, plot_loss

NAME = "01_gradient_descent_by_hand"
X_DATA = [1.0, 2.0, 3.0]
Y_DATA = [2.0, 4.0, 6.0]


def loss_curve() -> tuple[np.ndarray, np.ndarray]:
    """Mean squared error over the three samples for w = 0.0, 0.1, ..., 4.0."""
    ws = np.round(np.arange(0.0, 4.0 + 1e-9, 0.1), 10)
    losses = np.array([np.mean([(w * x - y) ** 2 for x, y in zip(X_DATA, Y_DATA)]) for w in ws])
    return ws, losses


def train(epochs: int = 100, lr: float = 0.01, w0: float = 1.0) -> tuple[Value, list[float]]:
    """Per-sample SGD on one Value; returns w and the mean loss of each epoch."""
    w = Value(w0, label="w")
    history = []
    for _ in (bar := training(epochs)):
        epoch_loss = 0.0
        for x, y in zip(X_DATA, Y_DATA):
            loss = (w * x - y) ** 2
            loss.backward()
            by_hand = 2 * x * (w.data * x - y)
            assert abs(w.grad - by_hand) <= 1e-12 * max(1.0, abs(by_hand)), (w.grad, by_hand)
            w.data -= lr * w.grad
            w.zero_grad()
            epoch_loss += loss.data
        history.append(epoch_loss / len(X_DATA))
        bar.set_postfix(loss=f"{history[-1]:.4g}", refresh=False)
    return w, history


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    ws, losses = loss_curve()
    best = ws[int(np.argmin(losses))]
    print(f"loss(w) for w in [0, 4]: smallest {losses.min():.4f} at w = {best:.1f}")
    w, history = train(epochs=100)  # the tutorial's run takes milliseconds: --quick changes nothing
    print(f"prediction for x = 4 hours: {w.data * 4:.6f}")
    report("loss curve minimum at w", f"{best:.1f}")
    report("w after 100 epochs", f"{w.data:.6f}")
    report("final loss", f"{history[-1]:.3e}")
    wrote(
        plot_fit(
            ws,
            losses,
            {"loss(w)": losses},
            args.out / "loss_vs_w.png",
            title="MSE of y = w x as a function of w",
            xlabel="w",
            ylabel="loss",
        )
    )
    wrote(
        plot_loss(
            history,
            args.out / "training_loss.png",
            title="per-sample SGD, lr 0.01",
            xlabel="epoch",
            log_scale=True,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
