"""4. Non-linear regression: a straight line cannot fit sin(x)^3, a small ReLU network can.

100 points x = 10 U(0, 1), y = sin(x)^3 + N(0, 0.1), 0.1 being the standard deviation (as a
variance the noise alone would cost 0.1 and no fit could show the tutorial's 0.03). Full-batch SGD,
lr 0.01, on the mean squared error: the line stalls at the least-squares loss of the sample, while
Linear(1, 100) - ReLU - Linear(100, 100) - ReLU - Linear(100, 1) keeps going down. The full run
(10,000 epochs) ends at 0.2822 and 0.0334; the tutorial quotes about 0.33 and 0.03.

Seed 49 (data and weights) is the median sample, not the best: over seeds 0-99, trained in PyTorch
float64 from the same weights (which this engine matches step by step), the least-squares loss has
median 0.284 (10-90%: 0.24-0.33, so the tutorial's 0.33 is a high draw) and the network median 0.034
(a quarter of the seeds still sit above 0.08, a plateau of plain SGD); seed 49 gives 0.282 and 0.033.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import parse_args, report, training, wrote

from micrograd_plus import Tensor, nn, no_grad
from micrograd_plus.optim import SGD
from micrograd_plus.viz.plot import plot_fit, plot_loss

NAME = "04_nonlinear_regression"
SEED = 49  # data and initialisation: the median sample of a 100-seed study (see the docstring)


def make_data(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = 10 * rng.uniform(0.0, 1.0, size=(100, 1))
    y = np.sin(x) ** 3 + rng.normal(0.0, 0.1, size=(100, 1))
    return x, y


def build_models(seed: int = SEED) -> dict[str, nn.Module]:
    rng = np.random.default_rng(seed)
    return {
        "linear": nn.Linear(1, 1, seed=rng),
        "MLP 1-100-100-1": nn.Sequential(
            nn.Linear(1, 100, seed=rng),
            nn.ReLU(),
            nn.Linear(100, 100, seed=rng),
            nn.ReLU(),
            nn.Linear(100, 1, seed=rng),
        ),
    }


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, lr: float = 0.01) -> list[float]:
    criterion = nn.MSELoss()
    optimizer = SGD(model.parameters(), lr=lr)
    inputs, targets = Tensor(x), Tensor(y)
    history = []
    for _ in (bar := training(epochs)):
        loss = criterion(model(inputs), targets)
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    epochs = 500 if args.quick else 10000
    x, y = make_data()
    histories, fits = {}, {}
    for name, model in build_models().items():
        histories[name] = train(model, x, y, epochs)
        with no_grad():
            grid = np.linspace(0.0, 10.0, 400).reshape(-1, 1)
            fits[name] = (grid[:, 0], model(Tensor(grid)).numpy()[:, 0])
        print(f"{name}: loss {histories[name][-1]:.4f} after {epochs} epochs")
    slope, intercept = np.polyfit(x[:, 0], y[:, 0], 1)
    least_squares = float(np.mean((slope * x[:, 0] + intercept - y[:, 0]) ** 2))
    report("least-squares loss of the sample", f"{least_squares:.4f}")
    report("linear model final loss", f"{histories['linear'][-1]:.4f}")
    report("MLP final loss", f"{histories['MLP 1-100-100-1'][-1]:.4f}")
    grid = np.linspace(0.0, 10.0, 400)
    fits["sin(x)^3"] = (grid, np.sin(grid) ** 3)
    wrote(plot_fit(x, y, fits, args.out / "fits.png", title="y = sin(x)^3 + noise"))
    wrote(
        plot_loss(histories, args.out / "loss.png", title="MSE, SGD lr 0.01", xlabel="epoch", log_scale=True)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
