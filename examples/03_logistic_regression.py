"""3. Logistic regression, "hours studied -> pass" (PyTorch Zero to All, lecture 6).

Four students: x = 1, 2, 3, 4 hours, y = 0, 0, 1, 1 (fail, fail, pass, pass). The model is
Linear(1, 1) followed by a sigmoid, trained with binary cross-entropy (BCELoss) and SGD. After
training (the tutorial's 1000 epochs at lr 0.01 already suffice; --quick stops there), one
hour of study predicts a probability of passing below 1/2 and seven hours above.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import parse_args, report, training, wrote

from micrograd_plus import Tensor, nn, no_grad
from micrograd_plus.optim import SGD
from micrograd_plus.viz.plot import plot_fit, plot_loss

NAME = "03_logistic_regression"


class LogisticRegression(nn.Module):
    def __init__(self, seed: int = 0):
        self.linear = nn.Linear(1, 1, seed=seed)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        return self.sigmoid(self.linear(x))


def train(epochs: int, lr: float = 0.01, seed: int = 0) -> tuple[LogisticRegression, list[float]]:
    x = Tensor([[1.0], [2.0], [3.0], [4.0]])
    y = Tensor([[0.0], [0.0], [1.0], [1.0]])
    model = LogisticRegression(seed)
    criterion = nn.BCELoss()
    optimizer = SGD(model.parameters(), lr=lr)
    history = []
    for _ in (bar := training(epochs)):
        loss = criterion(model(x), y)
        bar.set_postfix(loss=f"{loss.item():.4g}", refresh=False)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return model, history


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(NAME, __doc__.splitlines()[0], argv)
    epochs = 1000 if args.quick else 10000
    model, history = train(epochs)
    with no_grad():
        p1, p7 = (model(Tensor([[h]])).item() for h in (1.0, 7.0))
        hours = np.linspace(0.0, 8.0, 161)
        curve = model(Tensor(hours.reshape(-1, 1))).numpy()[:, 0]
    boundary = -model.linear.bias.item() / model.linear.weight.item()
    print(f"after {epochs} epochs of SGD (lr 0.01): loss {history[-1]:.4f}, 50% at {boundary:.2f} hours")
    report("p(pass | 1 hour)", f"{p1:.4f}")
    report("p(pass | 7 hours)", f"{p7:.4f}")
    report("final loss", f"{history[-1]:.4f}")
    wrote(
        plot_fit(
            [1, 2, 3, 4],
            [0, 0, 1, 1],
            {"p(pass | hours)": (hours, curve)},
            args.out / "probability.png",
            title="Hours studied -> probability of passing",
            xlabel="hours",
            ylabel="p(pass)",
        )
    )
    wrote(plot_loss(history, args.out / "loss.png", title="BCE, SGD lr 0.01", xlabel="epoch"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
