"""2. Linear regression with Linear(1, 1), MSE and SGD (the classic PyTorch first model).

100 points x = 10 U(0, 1), y = 3 x + 8 + N(0, 2). Full-batch gradient descent with lr 0.01
walks the line towards the least-squares line (np.polyfit): the slope fits in a few hundred
epochs, the intercept, the flat direction of this problem, takes a few thousand.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence

import numpy as np
from _common import parse_args, report, training, wrote

from micrograd_plus import Tensor, nn, no_grad
from micrograd_plus.optim import SGD
from micrograd_plus.viz.plot import plot_fit, plot_loss

NAME = "02_linear_regression"
LR = 0.01


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x (100, 1) in [0, 10) and y = 3 x + 8 + N(0, 2), both float64 columns."""
    rng = np.random.default_rng(seed)
    x = 10 * rng.uniform(0.0, 1.0, size=(100, 1))
    y = 3 * x + 8 + rng.normal(0.0, 2.0, size=(100, 1))
    return x, y


def build_model(seed: int = 0) -> nn.Linear:
    return nn.Linear(1, 1, seed=seed)


def training_losses(
    model: nn.Linear, x: np.ndarray, y: np.ndarray, epochs: int, lr: float = LR
) -> Iterator[float]:
    """Full-batch SGD on MSE; yields the loss of each epoch (before its update)."""
    criterion = nn.MSELoss()
    optimizer = SGD(model.parameters(), lr=lr)
    inputs, targets = Tensor(x), Tensor(y)
    for _ in (bar := training(epochs)):
        loss = criterion(model(inputs), targets)
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        yield loss.item()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    epochs = 1000 if args.quick else 5000
    x, y = make_data()
    model = build_model()
    history = list(training_losses(model, x, y, epochs))
    slope, intercept = model.weight.item(), model.bias.item()
    ls_slope, ls_intercept = np.polyfit(x[:, 0], y[:, 0], 1)
    print(f"after {epochs} epochs: y = {slope:.4f} x + {intercept:.4f}")
    print(f"least squares (np.polyfit): y = {ls_slope:.4f} x + {ls_intercept:.4f}")
    report("final loss", f"{history[-1]:.4f}")
    report("slope", f"{slope:.4f}")
    report("intercept", f"{intercept:.4f}")
    report(
        "distance to the least-squares line",
        f"{max(abs(slope - ls_slope), abs(intercept - ls_intercept)):.2e}",
    )
    with no_grad():
        fitted = model(Tensor(x)).numpy()
    grid = np.array([0.0, 10.0])
    wrote(
        plot_fit(
            x,
            y,
            {
                f"Linear(1, 1) after {epochs} epochs": fitted,
                "np.polyfit": (grid, ls_slope * grid + ls_intercept),
            },
            args.out / "fit.png",
            title="y = 3x + 8 + noise",
        )
    )
    wrote(plot_loss(history, args.out / "loss.png", title="MSE, SGD lr 0.01", xlabel="epoch", log_scale=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
