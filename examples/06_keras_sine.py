"""6. The Keras-style sine: a deep ReLU network learns y = sin(x) from mini-batches.

x = 0, 0.1, ..., 19.9 (200 points), y = sin(x). Seven hidden Linear(256) + ReLU layers and a
Linear(256, 1) output, MSE, Adam (lr 0.001), mini-batches of 20 (10 steps per epoch). The
prediction at the unseen points x + 0.05 is plotted against sin(x + 0.05) after 10 epochs and
after a longer run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence

import numpy as np
from _common import parse_args, report, training, wrote

from micrograd_plus import Tensor, batches, nn, no_grad
from micrograd_plus.optim import Adam
from micrograd_plus.viz.plot import plot_fit, plot_loss

NAME = "06_keras_sine"
HIDDEN = 256
DEPTH = 7
BATCH = 20


def make_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(0.0, 20.0, 0.1).reshape(-1, 1)
    return x, np.sin(x)


def build_model(seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    layers: list[nn.Module] = []
    width = 1
    for _ in range(DEPTH):
        layers += [nn.Linear(width, HIDDEN, seed=rng), nn.ReLU()]
        width = HIDDEN
    layers.append(nn.Linear(HIDDEN, 1, seed=rng))
    return nn.Sequential(*layers)


def training_steps(
    model: nn.Module, optimizer: Adam, x: np.ndarray, y: np.ndarray, epochs: int, shuffle: np.random.Generator
) -> Iterator[float]:
    """One Adam step per mini-batch; yields each step's loss. `shuffle` orders the batches."""
    criterion = nn.MSELoss()
    for _ in (bar := training(epochs)):
        for xb, yb in batches(x, y, BATCH, seed=shuffle):
            loss = criterion(model(Tensor(xb)), Tensor(yb))
            bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            yield loss.item()


def test_error(model: nn.Module, x: np.ndarray) -> tuple[np.ndarray, float]:
    """Prediction at x + 0.05 and its mean squared error against sin(x + 0.05)."""
    with no_grad():
        pred = model(Tensor(x + 0.05)).numpy()
    return pred, float(np.mean((pred - np.sin(x + 0.05)) ** 2))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    long_run = 20 if args.quick else 1000
    x, y = make_data()
    model = build_model()
    optimizer = Adam(model.parameters(), lr=0.001)
    shuffle = np.random.default_rng(1)
    history = list(training_steps(model, optimizer, x, y, 10, shuffle))
    early, early_mse = test_error(model, x)
    print(f"after 10 epochs: train loss {history[-1]:.4f}, test MSE at x + 0.05: {early_mse:.4f}")
    history += training_steps(model, optimizer, x, y, long_run - 10, shuffle)
    late, late_mse = test_error(model, x)
    print(f"after {long_run} epochs: train loss {history[-1]:.5f}, test MSE at x + 0.05: {late_mse:.5f}")
    report("test MSE after 10 epochs", f"{early_mse:.4f}")
    report(f"test MSE after {long_run} epochs", f"{late_mse:.5f}")
    xs = x[:, 0] + 0.05
    wrote(
        plot_fit(
            xs,
            np.sin(xs),
            {"after 10 epochs": early[:, 0], f"after {long_run} epochs": late[:, 0]},
            args.out / "prediction.png",
            title="sin(x + 0.05): data and predictions",
        )
    )
    wrote(
        plot_loss(history, args.out / "loss.png", title="MSE per mini-batch, Adam lr 0.001", log_scale=True)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
