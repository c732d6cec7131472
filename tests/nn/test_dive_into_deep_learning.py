"""The book "Dive into Deep Learning" (d2l.ai, PyTorch edition): its models from scratch, ported.

The book builds its first models from plain tensors: linear and softmax regression, the MLP,
weight decay and dropout, convolution and pooling, batch normalization and the RNN. Each
chapter's code is written once here, as a function of the library: called with `torch` it is the
book's code, called with `micrograd_plus` it is the port, so the text shows what a PyTorch user
keeps. The book's saved functions (what its `d2l` package collects: `sgd`, `train_epoch_ch3`,
`corr2d`, `grad_clipping`, ...) are written the same way, in `SavedFunctions`.

Both libraries start from the same numbers: the book's random calls (`torch.normal`,
`torch.randn`, `torch.rand`) run as the book writes them, in each library, and then their numbers
are replaced by numpy's draws from one seed (`SameDraws`). Python's `random` (the book's
shuffles and offsets) is seeded alike. Everything runs in float64 (the book: float32), and every
loss, accuracy, gradient and final parameter must agree to the tolerance of `close_to_torch`.

The data: nothing is downloaded. Fashion-MNIST becomes a few hundred random 4x4 (or, for LeNet,
28x28) images labelled by a fixed linear rule, and "The Time Machine" a short repeated sentence.
The data loaders do not shuffle (the book's `shuffle=True` draws from each library's own random
numbers), and the epochs are few.

What does not port line for line (see docs/porting-table.md): a gradient is a numpy array here,
so `param.grad.zero_()` is `param.grad[...] = 0`, and `param.grad[:] *= theta / norm` needs
`float(theta / norm)` (numpy cannot multiply an array in place by a Tensor); `torch.tensor` of
Python ints is float64 here (int64 in PyTorch), so the book's index Tensors (`torch.tensor(
indices[i: i + batch_size])`, its token ids) hold whole numbers as floats, which indexing and
`F.one_hot` take as PyTorch takes int64 ones; `moving_mean.data` (batch_norm's) is a numpy
array here, which the arithmetic and `torch.sqrt` take as a Tensor. In both libraries the RNN's
one-hot inputs are `.type(torch.float64)` (the book: float32, which PyTorch would not multiply
by float64 weights). The book's `Conv2D` class is not run: its `corr2d` writes `Y[i, j] = ...`
of a weight that requires grad, which PyTorch records and micrograd_plus refuses (the book
trains `nn.Conv2d` instead, as here).
"""

from __future__ import annotations

import math
from random import Random
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
from conftest import assert_results_agree, require_torch

import micrograd_plus

# the book's `float(l.sum())` of a loss that requires grad: PyTorch 2.13 warns, and gives the number
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")


class SameDraws:
    """The book's random calls in either library, giving the same numbers in both: each runs as
    the book writes it (so the port must take its arguments and give its shape), then its numbers
    are replaced in place by numpy's draws from one seed."""

    def __init__(self, torch: ModuleType, seed: int) -> None:
        self.torch = torch
        self.rng = np.random.default_rng(seed)

    def normal(self, mean: float, std: float, size: Any = None, **kwargs: Any) -> Any:
        drawn = self.torch.normal(mean, std, size, **kwargs)
        return self._same(drawn, lambda shape: self.rng.normal(mean, std, shape))

    def randn(self, *size: Any, **kwargs: Any) -> Any:
        return self._same(self.torch.randn(*size, **kwargs), self.rng.standard_normal)

    def rand(self, *size: Any, **kwargs: Any) -> Any:
        return self._same(self.torch.rand(*size, **kwargs), self.rng.random)

    def _same(self, drawn: Any, numbers: Any) -> Any:
        with self.torch.no_grad():
            drawn.copy_(self.torch.tensor(numbers(tuple(drawn.shape))))
        return drawn


def numbers(x: Any) -> np.ndarray:
    """A Tensor's numbers (or a gradient's: a numpy array here, a Tensor in PyTorch) as float64."""
    return np.array(x.detach().numpy() if hasattr(x, "detach") else x, dtype=np.float64)


def same_start(torch: ModuleType, model: Any, seed: int) -> None:
    """The model's initial parameters, the same in both libraries (the book's layers draw theirs
    at random): uniform in +-0.3."""
    rng = np.random.default_rng(seed)
    state = {
        name: torch.tensor(rng.uniform(-0.3, 0.3, tuple(v.shape))) for name, v in model.state_dict().items()
    }
    model.load_state_dict(state)


def images_and_labels(n: int, side: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """What Fashion-MNIST gives, made up: n one-channel images in [0, 1), int64 labels from a
    fixed linear rule of the pixels."""
    rng = np.random.default_rng(seed)
    images = rng.random((n, 1, side, side))
    rule = rng.standard_normal((side * side, classes))
    return images, (images.reshape(n, -1) @ rule).argmax(axis=1)


def fashion_mnist(torch: ModuleType, batch_size: int, side: int = 4, classes: int = 3) -> tuple[list, list]:
    """The book's `load_data_fashion_mnist(batch_size)`: (train_iter, test_iter), batches of
    (images, int64 labels), in order."""
    images, labels = images_and_labels(96 + 48, side, classes, seed=7)

    def batches(lo: int, hi: int) -> list:
        return [
            (
                torch.tensor(images[i : min(i + batch_size, hi)]),
                torch.from_numpy(labels[i : min(i + batch_size, hi)]),
            )
            for i in range(lo, hi, batch_size)
        ]

    return batches(0, 96), batches(96, 96 + 48)


def SavedFunctions(torch: ModuleType, draws: SameDraws) -> SimpleNamespace:  # noqa: N802
    """The book's functions marked `#@save` (its `d2l` package), as the book writes them."""
    nn = torch.nn

    def synthetic_data(w, b, num_examples):  # type: ignore[no-untyped-def]
        """Generate y = Xw + b + noise."""
        X = draws.normal(0, 1, (num_examples, len(w)))
        y = torch.matmul(X, w) + b
        y += draws.normal(0, 0.01, y.shape)
        return X, y.reshape((-1, 1))

    def linreg(X, w, b):  # type: ignore[no-untyped-def]
        """The linear regression model."""
        return torch.matmul(X, w) + b

    def squared_loss(y_hat, y):  # type: ignore[no-untyped-def]
        """Squared loss."""
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2

    def sgd(params, lr, batch_size):  # type: ignore[no-untyped-def]
        """Minibatch stochastic gradient descent."""
        with torch.no_grad():
            for param in params:
                param -= lr * param.grad / batch_size
                param.grad[...] = 0  # the book: param.grad.zero_() (a gradient is a numpy array here)

    def load_array(data_arrays, batch_size, is_train=True):  # type: ignore[no-untyped-def]
        """Construct a PyTorch data iterator."""
        dataset = torch.utils.data.TensorDataset(*data_arrays)
        return torch.utils.data.DataLoader(dataset, batch_size, shuffle=False)  # the book: shuffle=is_train

    class Accumulator:
        """For accumulating sums over `n` variables."""

        def __init__(self, n):  # type: ignore[no-untyped-def]
            self.data = [0.0] * n

        def add(self, *args):  # type: ignore[no-untyped-def]
            self.data = [a + float(b) for a, b in zip(self.data, args, strict=True)]

        def __getitem__(self, idx):  # type: ignore[no-untyped-def]
            return self.data[idx]

    def accuracy(y_hat, y):  # type: ignore[no-untyped-def]
        """Compute the number of correct predictions."""
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        cmp = y_hat.type(y.dtype) == y
        return float(cmp.type(y.dtype).sum())

    def evaluate_accuracy(net, data_iter):  # type: ignore[no-untyped-def]
        """Compute the accuracy for a model on a dataset."""
        if isinstance(net, torch.nn.Module):
            net.eval()  # Set the model to evaluation mode
        metric = Accumulator(2)  # No. of correct predictions, no. of predictions
        with torch.no_grad():
            for X, y in data_iter:
                metric.add(accuracy(net(X), y), y.numel())
        return metric[0] / metric[1]

    def evaluate_loss(net, data_iter, loss):  # type: ignore[no-untyped-def]
        """Evaluate the loss of a model on the given dataset."""
        metric = Accumulator(2)  # Sum of losses, no. of examples
        for X, y in data_iter:
            out = net(X)
            y = y.reshape(out.shape)
            l = loss(out, y)  # noqa: E741
            metric.add(l.sum(), l.numel())
        return metric[0] / metric[1]

    def train_epoch_ch3(net, train_iter, loss, updater):  # type: ignore[no-untyped-def]
        """The training loop defined in Chapter 3."""
        if isinstance(net, torch.nn.Module):
            net.train()
        metric = Accumulator(3)  # Sum of training loss, sum of training accuracy, no. of examples
        for X, y in train_iter:
            y_hat = net(X)
            l = loss(y_hat, y)  # noqa: E741
            if isinstance(updater, torch.optim.Optimizer):
                updater.zero_grad()
                l.mean().backward()
                updater.step()
            else:
                l.sum().backward()
                updater(X.shape[0])
            metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
        return metric[0] / metric[2], metric[1] / metric[2]

    def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):  # type: ignore[no-untyped-def]
        """Train a model (defined in Chapter 3); the book plots what is returned here."""
        history = []
        for epoch in range(num_epochs):  # noqa: B007
            train_metrics = train_epoch_ch3(net, train_iter, loss, updater)
            test_acc = evaluate_accuracy(net, test_iter)
            history.append((*train_metrics, test_acc))
        return history

    def corr2d(X, K):  # type: ignore[no-untyped-def]
        """Compute 2D cross-correlation."""
        h, w = K.shape
        Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
        return Y

    def grad_clipping(net, theta):  # type: ignore[no-untyped-def]
        """Clip the gradient."""
        if isinstance(net, nn.Module):
            params = [p for p in net.parameters() if p.requires_grad]
        else:
            params = net.params
        norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in params))
        if norm > theta:
            for param in params:
                param.grad[:] *= float(theta / norm)  # the book: *= theta / norm (see the module's text)
        return float(norm)  # (the book returns nothing: the test checks that it clips)

    return SimpleNamespace(
        **{name: value for name, value in locals().items() if name not in ("torch", "draws")}
    )


def test_linear_regression_from_scratch() -> None:
    """Linear regression: synthetic data, a shuffled minibatch iterator, squared loss and sgd by hand."""
    torch = require_torch()

    def chapter(torch: ModuleType) -> dict:
        draws = SameDraws(torch, seed=0)
        d2l = SavedFunctions(torch, draws)
        random = Random(0)
        true_w = torch.tensor([2, -3.4])
        true_b = 4.2
        features, labels = d2l.synthetic_data(true_w, true_b, 1000)

        def data_iter(batch_size, features, labels):  # type: ignore[no-untyped-def]
            num_examples = len(features)
            indices = list(range(num_examples))
            random.shuffle(indices)  # The examples are read at random, in no particular order
            for i in range(0, num_examples, batch_size):
                batch_indices = torch.tensor(indices[i : min(i + batch_size, num_examples)])
                yield features[batch_indices], labels[batch_indices]

        batch_size = 10
        w = draws.normal(0, 0.01, size=(2, 1), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        lr = 0.03
        num_epochs = 3
        net = d2l.linreg
        loss = d2l.squared_loss
        step_losses, first_grads, epoch_losses = [], [], []
        for epoch in range(num_epochs):
            for X, y in data_iter(batch_size, features, labels):
                l = loss(net(X, w, b), y)  # noqa: E741
                l.sum().backward()
                step_losses.append(float(l.sum()))
                if len(first_grads) < 3:
                    first_grads.append(np.concatenate([numbers(w.grad).ravel(), numbers(b.grad)]))
                d2l.sgd([w, b], lr, batch_size)
            with torch.no_grad():
                train_l = loss(net(features, w, b), labels)
                epoch_losses.append(float(train_l.mean()))
                print(f"epoch {epoch + 1}, loss {float(train_l.mean()):f}")
        print(f"error in estimating w: {true_w - w.reshape(true_w.shape)}")
        print(f"error in estimating b: {true_b - b}")
        return {
            "features": numbers(features),
            "step losses": step_losses,
            "first grads": first_grads,
            "epoch losses": epoch_losses,
            "w": numbers(w),
            "b": numbers(b),
        }

    ours, theirs = chapter(micrograd_plus), chapter(torch)
    assert_results_agree(ours, theirs)
    assert len(theirs["step losses"]) == 300 and theirs["epoch losses"][-1] < 1e-3  # it learns w and b
    assert np.allclose(theirs["w"].ravel(), [2, -3.4], atol=0.01)


def test_softmax_regression_from_scratch() -> None:
    """Softmax regression: softmax by exp and sum, cross-entropy by indexing, accuracy, train_ch3 with sgd."""
    torch = require_torch()

    def chapter(torch: ModuleType) -> dict:
        draws = SameDraws(torch, seed=1)
        d2l = SavedFunctions(torch, draws)
        batch_size = 32
        train_iter, test_iter = fashion_mnist(torch, batch_size)
        num_inputs = 16  # the book: 784 (28 x 28 images)
        num_outputs = 3  # the book: 10
        W = draws.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
        b = torch.zeros(num_outputs, requires_grad=True)

        def softmax(X):  # type: ignore[no-untyped-def]
            X_exp = torch.exp(X)
            partition = X_exp.sum(1, keepdim=True)
            return X_exp / partition  # The broadcasting mechanism is applied here

        def net(X):  # type: ignore[no-untyped-def]
            return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

        y = torch.tensor([0, 2])
        y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
        picked = y_hat[[0, 1], y]

        def cross_entropy(y_hat, y):  # type: ignore[no-untyped-def]
            return -torch.log(y_hat[range(len(y_hat)), y])

        example = {
            "picked": numbers(picked),
            "cross entropy": numbers(cross_entropy(y_hat, y)),
            "accuracy": d2l.accuracy(y_hat, y) / len(y),
            "initial accuracy": d2l.evaluate_accuracy(net, test_iter),
        }
        lr = 0.1

        def updater(batch_size):  # type: ignore[no-untyped-def]
            return d2l.sgd([W, b], lr, batch_size)

        num_epochs = 3
        history = d2l.train_ch3(net, train_iter, test_iter, cross_entropy, num_epochs, updater)
        return {**example, "history": history, "W": numbers(W), "b": numbers(b)}

    ours, theirs = chapter(micrograd_plus), chapter(torch)
    assert_results_agree(ours, theirs)
    assert theirs["accuracy"] == 0.5 and theirs["history"][-1][1] > theirs["initial accuracy"]


def test_mlp_from_scratch() -> None:
    """Multilayer perceptrons: parameters by hand, relu as a maximum, CrossEntropyLoss and optim.SGD."""
    torch = require_torch()

    def chapter(torch: ModuleType) -> dict:
        nn = torch.nn
        draws = SameDraws(torch, seed=2)
        d2l = SavedFunctions(torch, draws)
        batch_size = 32
        train_iter, test_iter = fashion_mnist(torch, batch_size)
        num_inputs, num_outputs, num_hiddens = 16, 3, 32  # the book: 784, 10, 256
        W1 = nn.Parameter(draws.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
        b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
        W2 = nn.Parameter(draws.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
        b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
        params = [W1, b1, W2, b2]

        def relu(X):  # type: ignore[no-untyped-def]
            a = torch.zeros_like(X)
            return torch.max(X, a)

        def net(X):  # type: ignore[no-untyped-def]
            X = X.reshape((-1, num_inputs))
            H = relu(X @ W1 + b1)  # Here '@' stands for matrix multiplication
            return H @ W2 + b2

        loss = nn.CrossEntropyLoss(reduction="none")
        num_epochs, lr = 3, 0.1
        updater = torch.optim.SGD(params, lr=lr)
        history = d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, updater)
        names = ("W1", "b1", "W2", "b2")
        return {
            "history": history,
            "params": {name: numbers(p) for name, p in zip(names, params, strict=True)},
            "last grads": {name: numbers(p.grad) for name, p in zip(names, params, strict=True)},
        }

    ours, theirs = chapter(micrograd_plus), chapter(torch)
    assert_results_agree(ours, theirs)
    assert theirs["history"][-1][0] < theirs["history"][0][0]


def test_weight_decay_and_dropout_from_scratch() -> None:
    """Weight decay and dropout: an L2 penalty added to the loss; a dropout layer by a random mask."""
    torch = require_torch()

    def weight_decay(torch: ModuleType, lambd: float) -> dict:
        draws = SameDraws(torch, seed=3)
        d2l = SavedFunctions(torch, draws)
        n_train, n_test, num_inputs, batch_size = 20, 100, 200, 5
        true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05
        train_data = d2l.synthetic_data(true_w, true_b, n_train)
        train_iter = d2l.load_array(train_data, batch_size)
        test_data = d2l.synthetic_data(true_w, true_b, n_test)
        test_iter = d2l.load_array(test_data, batch_size, is_train=False)

        def init_params():  # type: ignore[no-untyped-def]
            w = draws.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
            b = torch.zeros(1, requires_grad=True)
            return [w, b]

        def l2_penalty(w):  # type: ignore[no-untyped-def]
            return torch.sum(w.pow(2)) / 2

        w, b = init_params()
        net, loss = lambda X: d2l.linreg(X, w, b), d2l.squared_loss
        num_epochs, lr = 10, 0.003  # the book: 100 epochs
        evaluated = []
        for epoch in range(num_epochs):
            for X, y in train_iter:
                # The L2 norm penalty term has been added, and broadcasting
                # makes `l2_penalty(w)` a vector whose length is `batch_size`
                l = loss(net(X), y) + lambd * l2_penalty(w)  # noqa: E741
                l.sum().backward()
                d2l.sgd([w, b], lr, batch_size)
            if (epoch + 1) % 5 == 0:
                evaluated.append(
                    (d2l.evaluate_loss(net, train_iter, loss), d2l.evaluate_loss(net, test_iter, loss))
                )
        print("L2 norm of w:", torch.norm(w).item())
        return {"evaluated": evaluated, "norm of w": torch.norm(w).item(), "w": numbers(w), "b": numbers(b)}

    for lambd in (0, 3):
        assert_results_agree(weight_decay(micrograd_plus, lambd), weight_decay(torch, lambd))
    assert weight_decay(torch, 3)["norm of w"] < weight_decay(torch, 0)["norm of w"]

    def dropout(torch: ModuleType) -> dict:
        nn = torch.nn
        draws = SameDraws(torch, seed=4)
        d2l = SavedFunctions(torch, draws)

        def dropout_layer(X, dropout):  # type: ignore[no-untyped-def]
            assert 0 <= dropout <= 1
            if dropout == 1:  # In this case, all elements are dropped out
                return torch.zeros_like(X)
            if dropout == 0:  # In this case, all elements are kept
                return X
            mask = (draws.rand(X.shape) > dropout).float()
            return mask * X / (1.0 - dropout)

        X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
        examples = [numbers(dropout_layer(X, p)) for p in (0.0, 0.5, 1.0)]
        num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 16, 3, 32, 32  # the book: 784, 10, 256, 256
        dropout1, dropout2 = 0.2, 0.5

        class Net(nn.Module):
            def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, is_training=True):  # type: ignore[no-untyped-def]
                super().__init__()
                self.num_inputs = num_inputs
                self.training = is_training
                self.lin1 = nn.Linear(num_inputs, num_hiddens1)
                self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
                self.lin3 = nn.Linear(num_hiddens2, num_outputs)
                self.relu = nn.ReLU()

            def forward(self, X):  # type: ignore[no-untyped-def]
                H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
                # Use dropout only when training the model
                if self.training == True:  # noqa: E712
                    # Add a dropout layer after the first fully connected layer
                    H1 = dropout_layer(H1, dropout1)
                H2 = self.relu(self.lin2(H1))
                if self.training == True:  # noqa: E712
                    # Add a dropout layer after the second fully connected layer
                    H2 = dropout_layer(H2, dropout2)
                out = self.lin3(H2)
                return out

        net = Net(num_inputs, num_outputs, num_hiddens1, num_hiddens2)
        same_start(torch, net, seed=5)
        num_epochs, lr, batch_size = 3, 0.5, 32
        loss = nn.CrossEntropyLoss(reduction="none")
        train_iter, test_iter = fashion_mnist(torch, batch_size)
        trainer = torch.optim.SGD(net.parameters(), lr=lr)
        history = d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer)
        weights = {name: numbers(p) for name, p in net.named_parameters()}
        grads = {name: numbers(p.grad) for name, p in net.named_parameters()}
        return {"examples": examples, "history": history, "weights": weights, "grads": grads}

    ours, theirs = dropout(micrograd_plus), dropout(torch)
    assert_results_agree(ours, theirs)
    kept = theirs["examples"][1] != 0
    assert 0 < kept.sum() < 16 and np.array_equal(theirs["examples"][2], np.zeros((2, 8)))


def test_convolution_and_pooling_from_scratch() -> None:
    """Convolutions for images, channels and pooling: corr2d, learning an edge detector with nn.Conv2d and the weight's
    .data, pool2d, and several input and output channels."""
    torch = require_torch()

    def chapter(torch: ModuleType) -> dict:
        nn = torch.nn
        draws = SameDraws(torch, seed=6)
        d2l = SavedFunctions(torch, draws)
        corr2d = d2l.corr2d
        X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
        K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
        results = {"corr2d": numbers(corr2d(X, K))}

        X = torch.ones((6, 8))
        X[:, 2:6] = 0
        K = torch.tensor([[1.0, -1.0]])
        Y = corr2d(X, K)
        results |= {"edges": numbers(Y), "edges of X.t()": numbers(corr2d(X.t(), K))}

        # Construct a two-dimensional convolutional layer with 1 output channel and a
        # kernel of shape (1, 2). For the sake of simplicity, we ignore the bias here
        conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
        same_start(torch, conv2d, seed=8)
        X = X.reshape((1, 1, 6, 8))
        Y = Y.reshape((1, 1, 6, 7))
        lr = 3e-2  # Learning rate
        losses, grads = [], []
        for i in range(10):
            Y_hat = conv2d(X)
            l = (Y_hat - Y) ** 2  # noqa: E741
            conv2d.zero_grad()
            l.sum().backward()
            grads.append(numbers(conv2d.weight.grad))
            # Update the kernel
            conv2d.weight.data[:] -= lr * conv2d.weight.grad
            losses.append(float(l.sum()))
            if (i + 1) % 2 == 0:
                print(f"epoch {i + 1}, loss {l.sum():.3f}")
        results |= {
            "losses": losses,
            "grads": grads,
            "learned kernel": numbers(conv2d.weight.data.reshape((1, 2))),
        }

        def pool2d(X, pool_size, mode="max"):  # type: ignore[no-untyped-def]
            p_h, p_w = pool_size
            Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    if mode == "max":
                        Y[i, j] = X[i : i + p_h, j : j + p_w].max()
                    elif mode == "avg":
                        Y[i, j] = X[i : i + p_h, j : j + p_w].mean()
            return Y

        X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
        results |= {"max pool": numbers(pool2d(X, (2, 2))), "avg pool": numbers(pool2d(X, (2, 2), "avg"))}

        def corr2d_multi_in(X, K):  # type: ignore[no-untyped-def]
            # Iterate through the 0th dimension (channel) of `X` and `K`, then add them together
            return sum(corr2d(x, k) for x, k in zip(X, K, strict=True))

        X = torch.tensor(
            [
                [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
            ]
        )
        K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])

        def corr2d_multi_in_out(X, K):  # type: ignore[no-untyped-def]
            # Iterate through the 0th dimension of `K`, each time cross-correlating with input `X`;
            # all of the results are stacked together
            return torch.stack([corr2d_multi_in(X, k) for k in K], 0)

        K = torch.stack((K, K + 1, K + 2), 0)
        results |= {
            "multi in": numbers(corr2d_multi_in(X, K[0])),
            "multi in out": numbers(corr2d_multi_in_out(X, K)),
        }

        def corr2d_multi_in_out_1x1(X, K):  # type: ignore[no-untyped-def]
            c_i, h, w = X.shape
            c_o = K.shape[0]
            X = X.reshape((c_i, h * w))
            K = K.reshape((c_o, c_i))
            Y = torch.matmul(K, X)  # Matrix multiplication in the fully connected layer
            return Y.reshape((c_o, h, w))

        X = draws.normal(0, 1, (3, 3, 3))
        K = draws.normal(0, 1, (2, 3, 1, 1))
        Y1 = corr2d_multi_in_out_1x1(X, K)
        Y2 = corr2d_multi_in_out(X, K)
        assert float(torch.abs(Y1 - Y2).sum()) < 1e-6
        return results | {"1x1": numbers(Y1)}

    ours, theirs = chapter(micrograd_plus), chapter(torch)
    assert_results_agree(ours, theirs)
    assert np.allclose(theirs["learned kernel"], [[1.0, -1.0]], atol=0.1)  # the edge detector


def test_batch_normalization_from_scratch() -> None:
    """Batch normalization: batch_norm by hand (is_grad_enabled, moving averages, per-channel means) in
    LeNet, trained a few steps, then predicting from the moving averages."""
    torch = require_torch()

    def chapter(torch: ModuleType) -> dict:
        nn = torch.nn

        def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):  # type: ignore[no-untyped-def]
            # Use `is_grad_enabled` to determine whether we are in training mode
            if not torch.is_grad_enabled():
                # In prediction mode, use mean and variance obtained by moving average
                X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
            else:
                assert len(X.shape) in (2, 4)
                if len(X.shape) == 2:
                    # When using a fully connected layer, calculate the mean and
                    # variance on the feature dimension
                    mean = X.mean(dim=0)
                    var = ((X - mean) ** 2).mean(dim=0)
                else:
                    # When using a two-dimensional convolutional layer, calculate the
                    # mean and variance on the channel dimension (axis=1). Here we
                    # need to maintain the shape of `X`, so that the broadcasting
                    # operation can be carried out later
                    mean = X.mean(dim=(0, 2, 3), keepdim=True)
                    var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
                # In training mode, the current mean and variance are used
                X_hat = (X - mean) / torch.sqrt(var + eps)
                # Update the mean and variance using moving average
                moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
                moving_var = momentum * moving_var + (1.0 - momentum) * var
            Y = gamma * X_hat + beta  # Scale and shift
            return Y, moving_mean.data, moving_var.data

        class BatchNorm(nn.Module):
            # num_features: the number of outputs for a fully connected layer or the
            # number of output channels for a convolutional layer. num_dims: 2 for a
            # fully connected layer and 4 for a convolutional layer
            def __init__(self, num_features, num_dims):  # type: ignore[no-untyped-def]
                super().__init__()
                if num_dims == 2:
                    shape = (1, num_features)
                else:
                    shape = (1, num_features, 1, 1)
                # The scale parameter and the shift parameter (model parameters) are
                # initialized to 1 and 0, respectively
                self.gamma = nn.Parameter(torch.ones(shape))
                self.beta = nn.Parameter(torch.zeros(shape))
                # The variables that are not model parameters are initialized to 0 and 1
                self.moving_mean = torch.zeros(shape)
                self.moving_var = torch.ones(shape)

            def forward(self, X):  # type: ignore[no-untyped-def]
                # If X is not on the main memory, copy moving_mean and moving_var to
                # the device where X is located
                # (ours: after a step moving_mean is a numpy array, whose `.device` is "cpu" in
                # numpy >= 2, which setup.cfg requires; numpy 1 arrays had no `.device`)
                if self.moving_mean.device != X.device:
                    self.moving_mean = self.moving_mean.to(X.device)
                    self.moving_var = self.moving_var.to(X.device)
                # Save the updated moving_mean and moving_var
                Y, self.moving_mean, self.moving_var = batch_norm(
                    X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.9
                )
                return Y

        net = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5), BatchNorm(6, num_dims=4), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16, num_dims=4), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
            nn.Linear(16 * 4 * 4, 120), BatchNorm(120, num_dims=2), nn.Sigmoid(),
            nn.Linear(120, 84), BatchNorm(84, num_dims=2), nn.Sigmoid(),
            nn.Linear(84, 10),
        )  # fmt: skip
        same_start(torch, net, seed=9)
        train_iter, test_iter = fashion_mnist(torch, batch_size=16, side=28, classes=10)
        lr = 1.0
        optimizer = torch.optim.SGD(net.parameters(), lr=lr)
        loss = nn.CrossEntropyLoss()
        losses = []
        for X, y in train_iter[:3]:  # the book's train_ch6, for three steps
            optimizer.zero_grad()
            y_hat = net(X)
            l = loss(y_hat, y)  # noqa: E741
            l.backward()
            optimizer.step()
            losses.append(float(l))
        grads = {name: numbers(p.grad) for name, p in net.named_parameters()}
        net.eval()
        with torch.no_grad():
            predicted = net(test_iter[0][0])
        return {
            "losses": losses,
            "grads": grads,
            "params": {name: numbers(p) for name, p in net.named_parameters()},
            "moving": {
                "mean 1": numbers(net[1].moving_mean),
                "var 1": numbers(net[1].moving_var),
                "var 10": numbers(net[10].moving_var),
            },
            "predicted": numbers(predicted),
        }

    ours, theirs = chapter(micrograd_plus), chapter(torch)
    assert_results_agree(ours, theirs)
    assert not np.allclose(theirs["moving"]["mean 1"], 0)  # the moving averages moved


def test_rnn_from_scratch() -> None:
    """Recurrent neural networks: sequential minibatches of token ids, one-hot inputs, the RNN by hand,
    gradient clipping and sgd, then predicting characters."""
    torch = require_torch()

    def chapter(torch: ModuleType) -> dict:
        nn = torch.nn
        F = torch.nn.functional
        draws = SameDraws(torch, seed=10)
        d2l = SavedFunctions(torch, draws)
        random = Random(1)
        text = "the time traveller for so it will be convenient to speak of him " * 4
        idx_to_token = sorted(set(text))
        vocab = SimpleNamespace(
            idx_to_token=idx_to_token, token_to_idx={t: i for i, t in enumerate(idx_to_token)}
        )
        corpus = [vocab.token_to_idx[token] for token in text]

        def seq_data_iter_sequential(corpus, batch_size, num_steps):  # type: ignore[no-untyped-def]
            """Generate a minibatch of subsequences using sequential partitioning."""
            # Start with a random offset to partition a sequence
            offset = random.randint(0, num_steps)
            num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
            Xs = torch.tensor(corpus[offset : offset + num_tokens])
            Ys = torch.tensor(corpus[offset + 1 : offset + 1 + num_tokens])
            Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
            num_batches = Xs.shape[1] // num_steps
            for i in range(0, num_steps * num_batches, num_steps):
                X = Xs[:, i : i + num_steps]
                Y = Ys[:, i : i + num_steps]
                yield X, Y

        def get_params(vocab_size, num_hiddens, device):  # type: ignore[no-untyped-def]
            num_inputs = num_outputs = vocab_size

            def normal(shape):  # type: ignore[no-untyped-def]
                return draws.randn(size=shape, device=device) * 0.01

            # Hidden layer parameters
            W_xh = normal((num_inputs, num_hiddens))
            W_hh = normal((num_hiddens, num_hiddens))
            b_h = torch.zeros(num_hiddens, device=device)
            # Output layer parameters
            W_hq = normal((num_hiddens, num_outputs))
            b_q = torch.zeros(num_outputs, device=device)
            # Attach gradients
            params = [W_xh, W_hh, b_h, W_hq, b_q]
            for param in params:
                param.requires_grad_(True)
            return params

        def init_rnn_state(batch_size, num_hiddens, device):  # type: ignore[no-untyped-def]
            return (torch.zeros((batch_size, num_hiddens), device=device),)

        def rnn(inputs, state, params):  # type: ignore[no-untyped-def]
            # Here `inputs` shape: (`num_steps`, `batch_size`, `vocab_size`)
            W_xh, W_hh, b_h, W_hq, b_q = params
            (H,) = state
            outputs = []
            # Shape of `X`: (`batch_size`, `vocab_size`)
            for X in inputs:
                H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
                Y = torch.mm(H, W_hq) + b_q
                outputs.append(Y)
            return torch.cat(outputs, dim=0), (H,)

        class RNNModelScratch:
            """A RNN Model implemented from scratch."""

            def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):  # type: ignore[no-untyped-def]
                self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
                self.params = get_params(vocab_size, num_hiddens, device)
                self.init_state, self.forward_fn = init_state, forward_fn

            def __call__(self, X, state):  # type: ignore[no-untyped-def]
                X = F.one_hot(X.T, self.vocab_size).type(torch.float64)  # the book: torch.float32
                return self.forward_fn(X, state, self.params)

            def begin_state(self, batch_size, device):  # type: ignore[no-untyped-def]
                return self.init_state(batch_size, self.num_hiddens, device)

        def predict_ch8(prefix, num_preds, net, vocab, device):  # type: ignore[no-untyped-def]
            """Generate new characters following the `prefix`."""
            state = net.begin_state(batch_size=1, device=device)
            outputs = [vocab.token_to_idx[prefix[0]]]
            get_input = lambda: torch.tensor([outputs[-1]], device=device).reshape((1, 1))  # noqa: E731
            for y in prefix[1:]:  # Warm-up period
                _, state = net(get_input(), state)
                outputs.append(vocab.token_to_idx[y])
            for _ in range(num_preds):  # Predict `num_preds` steps
                y, state = net(get_input(), state)
                outputs.append(int(y.argmax(dim=1).reshape(1)))
            return "".join([vocab.idx_to_token[i] for i in outputs])

        def train_epoch_ch8(net, train_iter, loss, updater, device, use_random_iter):  # type: ignore[no-untyped-def]
            """Train a net for one epoch (defined in Chapter 8)."""
            state = None
            metric = d2l.Accumulator(2)  # Sum of training loss, no. of tokens
            for X, Y in train_iter:
                if state is None or use_random_iter:
                    # Initialize `state` when either it is the first iteration or using random sampling
                    state = net.begin_state(batch_size=X.shape[0], device=device)
                else:
                    if isinstance(net, nn.Module) and not isinstance(state, tuple):
                        state.detach_()  # `state` is a tensor for `nn.GRU`
                    else:
                        # `state` is a tuple of tensors for `nn.LSTM` and for our custom scratch implementation
                        for s in state:
                            s.detach_()
                y = Y.T.reshape(-1)
                X, y = X.to(device), y.to(device)
                y_hat, state = net(X, state)
                l = loss(y_hat, y.long()).mean()  # noqa: E741
                l.backward()
                norms.append(d2l.grad_clipping(net, theta))  # the book: 1 (for gradients of 500 epochs)
                if len(norms) <= 3:
                    grads.update(
                        {f"step {len(norms)} param {i}": numbers(p.grad) for i, p in enumerate(net.params)}
                    )
                updater(batch_size=1)  # batch_size=1 since the `mean` function has been invoked
                metric.add(l * y.numel(), y.numel())
                losses.append(float(l))
            return math.exp(metric[0] / metric[1])

        device = torch.device("cpu")  # the book: d2l.try_gpu()
        num_hiddens, num_epochs, lr, batch_size, num_steps = 32, 3, 1, 4, 8  # the book: 512, 500, 1, 32, 35
        theta = 0.33
        net = RNNModelScratch(len(idx_to_token), num_hiddens, device, get_params, init_rnn_state, rnn)
        X = torch.arange(10).reshape((2, 5))
        state = net.begin_state(X.shape[0], device)
        Y, new_state = net(X.to(device), state)
        assert tuple(Y.shape) == (10, len(idx_to_token)) and len(new_state) == 1
        assert tuple(new_state[0].shape) == (2, num_hiddens)
        loss = nn.CrossEntropyLoss()
        updater = lambda batch_size: d2l.sgd(net.params, lr, batch_size)  # noqa: E731
        norms: list = []
        grads: dict = {}
        losses: list = []
        perplexities = []
        for epoch in range(num_epochs):  # noqa: B007
            train_iter = seq_data_iter_sequential(corpus, batch_size, num_steps)
            perplexities.append(train_epoch_ch8(net, train_iter, loss, updater, device, False))
        return {
            "first output": numbers(Y),
            "losses": losses,
            "norms": norms,
            "grads": grads,
            "perplexities": perplexities,
            "params": {f"param {i}": numbers(p) for i, p in enumerate(net.params)},
            "prediction": [ord(c) for c in predict_ch8("time traveller ", 10, net, vocab, device)],
        }

    ours, theirs = chapter(micrograd_plus), chapter(torch)
    assert_results_agree(ours, theirs)
    assert max(theirs["norms"]) > 0.33 > min(theirs["norms"])  # it clips, and not always
    assert theirs["perplexities"][-1] < theirs["perplexities"][0]
