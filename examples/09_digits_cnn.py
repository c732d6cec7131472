"""9. A small CNN on the 8x8 handwritten digits: Conv2d -> ReLU -> MaxPool2d -> Linear.

1797 UCI digits (pixels 0-16, scaled to [0, 1]); a random fifth is held out for testing.
Conv2d(1, 16, 3, padding=1) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(16 * 4 * 4, 10),
cross-entropy, Adam (lr 0.01) on shuffled mini-batches of 32. The convolution is im2col plus
one matrix product, its gradient col2im, all in numpy; the test accuracy passes 0.95.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import parse_args, report, training, wrote

from micrograd_plus import Tensor, batches, load_digits, nn, no_grad
from micrograd_plus.optim import Adam
from micrograd_plus.viz.plot import plot_loss

NAME = "09_digits_cnn"


def split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Images as (N, 1, 8, 8) in [0, 1]; four fifths for training, one fifth held out."""
    X, y = load_digits()
    images = (X / 16.0).reshape(-1, 1, 8, 8)
    order = np.random.default_rng(seed).permutation(len(y))
    cut = len(y) * 4 // 5
    train, test = order[:cut], order[cut:]
    return images[train], y[train], images[test], y[test]


def build_model(seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1, seed=rng),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 10, seed=rng),
    )


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    with no_grad():
        return float((model(Tensor(images)).numpy().argmax(axis=1) == labels).mean())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    epochs = 2 if args.quick else 15
    X_train, y_train, X_test, y_test = split()
    model = build_model()
    criterion = nn.CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=0.01)
    shuffle = np.random.default_rng(1)
    history, epoch_accuracy = [], []
    for epoch in (bar := training(epochs)):
        for xb, yb in batches(X_train, y_train, 32, seed=shuffle):
            loss = criterion(model(Tensor(xb)), yb)
            bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.append(loss.item())
        epoch_accuracy.append(accuracy(model, X_test, y_test))
        print(
            f"epoch {epoch + 1}: last batch loss {history[-1]:.4f}, test accuracy {epoch_accuracy[-1]:.4f}",
            flush=True,
        )
    report("train accuracy", f"{accuracy(model, X_train, y_train):.4f}")
    report("test accuracy", f"{epoch_accuracy[-1]:.4f}")
    wrote(
        plot_loss(
            history, args.out / "loss.png", title="digits CNN: cross-entropy per mini-batch", log_scale=True
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
