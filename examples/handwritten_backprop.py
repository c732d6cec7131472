"""Catch a classic bug in hand-written backprop with `check_gradient_function`.

A two-layer numpy network with a sigmoid hidden layer and a squared-error loss, and two
hand-written gradient functions. The second has the bug almost everyone writes once:
the sigmoid derivative s(z) * (1 - s(z)) is taken of the *activation* h = s(z) instead of
the pre-activation z, i.e. `sigmoid(h) * (1 - sigmoid(h))` where `h * (1 - h)` was meant.
Training with it still makes the loss go down a little, which is why it survives; the
check compares each gradient with central differences and names the inputs it gets wrong
(W1 and b1, the layer below the sigmoid), by how much and at which elements.

    python examples/handwritten_backprop.py --quick --out out/
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import parse_args, report, wrote

from micrograd_plus import check_gradient_function

PARAMETER_NAMES = ("W1", "b1", "W2", "b2", "X", "y")


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def loss(W1, b1, W2, b2, X, y) -> float:  # noqa: N803 - the usual maths names
    """Mean squared error of a sigmoid hidden layer followed by a linear output."""
    h = sigmoid(X @ W1 + b1)
    prediction = h @ W2 + b2
    return float(0.5 * np.mean((prediction - y) ** 2))


def backprop(W1, b1, W2, b2, X, y, buggy: bool = False):  # noqa: N803
    """The gradient of `loss` for every parameter; None for the data X and y."""
    n = X.shape[0]
    z = X @ W1 + b1
    h = sigmoid(z)
    prediction = h @ W2 + b2
    d_prediction = (prediction - y) / (n * y.shape[1])
    d_W2 = h.T @ d_prediction
    d_b2 = d_prediction.sum(axis=0)
    d_h = d_prediction @ W2.T
    if buggy:
        d_z = d_h * sigmoid(h) * (1 - sigmoid(h))  # BUG: the derivative taken of the activation h
    else:
        d_z = d_h * h * (1 - h)  # sigmoid'(z) = s(z) (1 - s(z)) = h (1 - h)
    d_W1 = X.T @ d_z
    d_b1 = d_z.sum(axis=0)
    return d_W1, d_b1, d_W2, d_b2, None, None


def make_problem(samples: int, hidden: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(samples, 3))  # noqa: N806
    y = np.sin(X.sum(axis=1, keepdims=True))
    W1 = rng.normal(size=(3, hidden))  # noqa: N806
    b1 = rng.normal(size=hidden)
    W2 = rng.normal(size=(hidden, 1))  # noqa: N806
    b2 = np.zeros(1)
    return W1, b1, W2, b2, X, y


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args("handwritten_backprop", __doc__.splitlines()[0], argv)

    inputs = make_problem(samples=4 if args.quick else 32, hidden=3 if args.quick else 8)
    correct = check_gradient_function(loss, backprop, inputs, names=PARAMETER_NAMES)
    buggy = check_gradient_function(
        loss, lambda *a: backprop(*a, buggy=True), inputs, raise_exception=False, names=PARAMETER_NAMES
    )
    text = f"== the correct backprop ==\n{correct}\n\n== sigmoid'(h) instead of sigmoid'(z) ==\n{buggy}\n"
    print(text)
    path = args.out / "handwritten_backprop.txt"
    path.write_text(text)
    wrote(path)

    wrong = {row.name for row in buggy.failures}
    if not correct or wrong != {"input 0 'W1'", "input 1 'b1'"}:
        print(
            "unexpected: the check should pass the correct backprop and flag exactly W1 and b1",
            file=sys.stderr,
        )
        return 1
    report("caught", "the sigmoid bug: W1 and b1 are wrong, W2 and b2 are right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
