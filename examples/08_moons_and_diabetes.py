"""8. Binary classification on the Tensor engine: micrograd's moons demo, then Pima diabetes.

Moons: micrograd's demo (100 points, noise 0.1, MLP 2-16-16-1, max-margin loss plus 1e-4 L2,
SGD with lr 1.0 - 0.9 k / 100 for 100 steps) with the whole batch as one Tensor instead of
thousands of scalar Values. Diabetes (759 patients, 8 features scaled to [-1, 1]): the classic
8 -> 6 -> 4 -> 1 network with sigmoids and binary cross-entropy. With the tutorial's plain SGD
(lr 0.1, 1000 epochs) it barely leaves the base rate (loss near 0.64); Adam gets past 75%
training accuracy.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import parse_args, report, training, wrote

from micrograd_plus import MLP, Tensor, hinge_loss, load_diabetes, make_moons, nn, no_grad
from micrograd_plus.cli.demo import demo_loss
from micrograd_plus.optim import SGD, Adam, Optimizer
from micrograd_plus.viz.plot import plot_decision_boundary, plot_loss

NAME = "08_moons_and_diabetes"
SEED = 0


def moons_model(seed: int = SEED) -> nn.Sequential:
    """MLP(2, [16, 16, 1]) as Tensor layers, starting from the very weights of micrograd's scalar
    MLP with the same seed (U(-1, 1) weights, zero biases), so both engines can be compared."""
    scalar = MLP(2, [16, 16, 1], seed=seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
    for layer, linear in zip(scalar.layers, model[::2]):
        linear.weight.data[...] = [[w.data for w in n.w] for n in layer.neurons]
        linear.bias.data[...] = [n.b.data for n in layer.neurons]
    return model


def train_moons(
    steps: int = 100, seed: int = SEED
) -> tuple[nn.Sequential, np.ndarray, np.ndarray, list[float], float]:
    """micrograd's demo, one Tensor per batch: hinge loss + 1e-4 L2, SGD lr 1.0 - 0.9 k / steps."""
    X, labels = make_moons(n_samples=100, noise=0.1, seed=seed)
    y = (labels * 2 - 1).astype(float).reshape(-1, 1)
    model = moons_model(seed)
    optimizer = SGD(model.parameters(), lr=1.0)
    inputs, targets = Tensor(X), Tensor(y)
    history = []
    for k in (bar := training(steps, "moons")):
        scores = model(inputs)
        loss = hinge_loss(scores, targets) + 1e-4 * sum((p * p).sum() for p in model.parameters())
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = 1.0 - 0.9 * k / steps
        optimizer.step()
        history.append(loss.item())
    with no_grad():
        accuracy = float(((model(inputs).numpy() > 0) == (y > 0)).mean())
    return model, X, y[:, 0], history, accuracy


def scalar_moons_losses(steps: int, total: int = 100, seed: int = SEED) -> list[float]:
    """The first `steps` losses of the same demo on the scalar Value engine (one node per number)."""
    X, labels = make_moons(n_samples=100, noise=0.1, seed=seed)
    model = MLP(2, [16, 16, 1], seed=seed)
    optimizer = SGD(model.parameters(), lr=1.0)
    losses = []
    for k in (bar := training(steps, "moons on Values")):
        loss, _ = demo_loss(model, X, labels * 2 - 1)
        bar.set_postfix(loss=f"{loss.data:.4g}", refresh=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = 1.0 - 0.9 * k / total
        optimizer.step()
        losses.append(loss.data)
    return losses


class DiabetesNet(nn.Module):
    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.l1 = nn.Linear(8, 6, seed=rng)
        self.l2 = nn.Linear(6, 4, seed=rng)
        self.l3 = nn.Linear(4, 1, seed=rng)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        return self.sigmoid(self.l3(self.sigmoid(self.l2(self.sigmoid(self.l1(x))))))


def train_diabetes(optimizer_name: str, epochs: int, seed: int = 0) -> tuple[list[float], float]:
    X, labels = load_diabetes()
    inputs, targets = Tensor(X), Tensor(labels.astype(float).reshape(-1, 1))
    model = DiabetesNet(seed)
    criterion = nn.BCELoss()
    optimizer: Optimizer = (
        SGD(model.parameters(), lr=0.1) if optimizer_name == "SGD" else Adam(model.parameters(), lr=0.01)
    )
    history = []
    for _ in (bar := training(epochs, f"diabetes ({optimizer_name})")):
        loss = criterion(model(inputs), targets)
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    with no_grad():
        accuracy = float(((model(inputs).numpy() > 0.5) == (targets.numpy() > 0.5)).mean())
    return history, accuracy


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    model, X, y, moons_history, moons_accuracy = train_moons(100)
    print(f"moons: loss {moons_history[-1]:.4f}, training accuracy {moons_accuracy:.0%} after 100 steps")
    report("moons training accuracy", f"{moons_accuracy:.2f}")
    # The scalar engine's demo from the same weights: the same losses, step by step.
    compared = 10 if args.quick else 100
    scalar_losses = scalar_moons_losses(compared)
    gap = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(moons_history, scalar_losses))
    report(f"largest relative gap to the scalar engine over {compared} steps", f"{gap:.1e}")

    def predict(points: np.ndarray) -> np.ndarray:
        with no_grad():
            return model(Tensor(points)).numpy()[:, 0]

    wrote(
        plot_decision_boundary(
            predict, X, y, args.out / "moons_decision_boundary.png", title="moons on the Tensor engine"
        )
    )
    wrote(plot_loss(moons_history, args.out / "moons_loss.png", title="moons: max-margin loss + L2"))

    epochs = 200 if args.quick else 1000
    sgd_history, sgd_accuracy = train_diabetes("SGD", epochs)
    adam_history, adam_accuracy = train_diabetes("Adam", epochs)
    base_rate = float(max(np.mean(load_diabetes()[1]), 1 - np.mean(load_diabetes()[1])))
    print(
        f"diabetes, {epochs} epochs: SGD lr 0.1 loss {sgd_history[-1]:.4f} (accuracy {sgd_accuracy:.3f}); "
        f"Adam lr 0.01 loss {adam_history[-1]:.4f} (accuracy {adam_accuracy:.3f}); base rate {base_rate:.3f}"
    )
    report("diabetes SGD final loss", f"{sgd_history[-1]:.4f}")
    report("diabetes Adam training accuracy", f"{adam_accuracy:.3f}")
    wrote(
        plot_loss(
            {"SGD lr 0.1": sgd_history, "Adam lr 0.01": adam_history},
            args.out / "diabetes_loss.png",
            title="diabetes 8-6-4-1: binary cross-entropy",
            xlabel="epoch",
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
