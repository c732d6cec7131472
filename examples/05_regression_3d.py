"""5. Regression in 3-D: a cone, y = sqrt(x1^2 + x2^2) + noise, with and without activations.

1000 points X uniform in [-1, 1]^2, y = sqrt(x1^2 + x2^2) + 0.1 N(0, 1). Two 2-100-100-1
networks, trained full-batch with Adam lr 0.01 for 1000 epochs: without activations the
network is one linear map in disguise and its loss stays near 0.09 (a plane through a cone);
with ReLU it bends and reaches about the noise level, 0.01. Both fits as 3-D scatter plots.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import parse_args, report, training, wrote
from matplotlib.figure import Figure

from micrograd_plus import Tensor, nn, no_grad
from micrograd_plus.optim import Adam
from micrograd_plus.viz.plot import plot_loss

NAME = "05_regression_3d"


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(1000, 2))
    y = np.sqrt((X**2).sum(axis=1, keepdims=True)) + 0.1 * rng.normal(size=(1000, 1))
    return X, y


def build_model(activation: bool, seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    layers: list[nn.Module] = [nn.Linear(2, 100, seed=rng)]
    if activation:
        layers.append(nn.ReLU())
    layers.append(nn.Linear(100, 100, seed=rng))
    if activation:
        layers.append(nn.ReLU())
    layers.append(nn.Linear(100, 1, seed=rng))
    return nn.Sequential(*layers)


def train(model: nn.Module, X: np.ndarray, y: np.ndarray, epochs: int) -> list[float]:
    criterion = nn.MSELoss()
    optimizer = Adam(model.parameters(), lr=0.01)
    inputs, targets = Tensor(X), Tensor(y)
    history = []
    for _ in (bar := training(epochs)):
        loss = criterion(model(inputs), targets)
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


def plot_3d(X: np.ndarray, y: np.ndarray, fits: dict[str, np.ndarray], path: object) -> object:
    fig = Figure(figsize=(11, 5))
    for i, (name, pred) in enumerate(fits.items()):
        ax = fig.add_subplot(1, len(fits), i + 1, projection="3d")
        ax.scatter(X[:, 0], X[:, 1], y[:, 0], s=2, color="0.6", label="data")
        ax.scatter(X[:, 0], X[:, 1], pred[:, 0], s=2, color="C1", label="fit")
        ax.set_title(name)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    epochs = 50 if args.quick else 1000
    X, y = make_data()
    histories, fits = {}, {}
    for name, activation in (("no activation", False), ("ReLU", True)):
        model = build_model(activation)
        histories[name] = train(model, X, y, epochs)
        with no_grad():
            fits[name] = model(Tensor(X)).numpy()
        print(f"{name}: loss {histories[name][-1]:.4f} after {epochs} epochs")
    report("final loss without activations", f"{histories['no activation'][-1]:.4f}")
    report("final loss with ReLU", f"{histories['ReLU'][-1]:.4f}")
    wrote(plot_3d(X, y, fits, args.out / "fits_3d.png"))
    wrote(
        plot_loss(histories, args.out / "loss.png", title="MSE, Adam lr 0.01", xlabel="epoch", log_scale=True)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
