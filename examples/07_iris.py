"""7. Iris: a 4 -> 10 (sigmoid) -> 3 (softmax) network, with train, valid and test sets.

Fisher's 150 flowers, split per class into 40 for training, 5 for validation and 5 for testing
(a stratified 120 / 15 / 15). Cross-entropy on the logits (the softmax lives inside the loss, as
in PyTorch), full-batch Adam with lr 0.01. The train and valid loss curves are plotted; the test
set, never looked at during training, is scored once at the end: at least 14 of 15 right.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence

import numpy as np
from _common import parse_args, report, training, wrote

from micrograd_plus import Tensor, load_iris, nn, no_grad
from micrograd_plus.optim import Adam
from micrograd_plus.viz.plot import plot_loss

NAME = "07_iris"
LR = 0.01


def split(seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """40 / 5 / 5 rows of each class for train / valid / test, picked at random per class."""
    X, y, _ = load_iris()
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "valid": [], "test": []}
    for label in range(3):
        rows = rng.permutation(np.flatnonzero(y == label))
        parts["train"].append(rows[:40])
        parts["valid"].append(rows[40:45])
        parts["test"].append(rows[45:50])
    return {name: (X[np.concatenate(r)], y[np.concatenate(r)]) for name, r in parts.items()}


class IrisNet(nn.Module):
    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.hidden = nn.Linear(4, 10, seed=rng)
        self.sigmoid = nn.Sigmoid()
        self.out = nn.Linear(10, 3, seed=rng)

    def forward(self, x: Tensor) -> Tensor:
        """The logits; softmax(logits) are the class probabilities."""
        return self.out(self.sigmoid(self.hidden(x)))


def training_losses(model: IrisNet, data: dict, epochs: int) -> Iterator[tuple[float, float]]:
    """Full-batch Adam; yields (train loss, valid loss) of each epoch, before its update."""
    criterion = nn.CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=LR)
    X, y = Tensor(data["train"][0]), data["train"][1]
    Xv, yv = Tensor(data["valid"][0]), data["valid"][1]
    for _ in (bar := training(epochs)):
        loss = criterion(model(X), y)
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with no_grad():
            valid = criterion(model(Xv), yv)
        yield loss.item(), valid.item()


def accuracy(model: IrisNet, X: np.ndarray, y: np.ndarray) -> int:
    with no_grad():
        probabilities = model(Tensor(X)).softmax(axis=1).numpy()
    return int((probabilities.argmax(axis=1) == y).sum())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    epochs = 300 if args.quick else 2000
    data = split()
    model = IrisNet()
    history = list(training_losses(model, data, epochs))
    train_loss, valid_loss = history[-1]
    print(f"after {epochs} epochs: train loss {train_loss:.4f}, valid loss {valid_loss:.4f}")
    print(f"train accuracy {accuracy(model, *data['train'])}/120, valid {accuracy(model, *data['valid'])}/15")
    report("test accuracy", f"{accuracy(model, *data['test'])}/15")
    report("final train loss", f"{train_loss:.4f}")
    report("final valid loss", f"{valid_loss:.4f}")
    curves = {"train": [h[0] for h in history], "valid": [h[1] for h in history]}
    wrote(
        plot_loss(
            curves, args.out / "loss.png", title="Iris 4-10-3: cross-entropy, Adam lr 0.01", xlabel="epoch"
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
