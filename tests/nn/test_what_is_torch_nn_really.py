"""PyTorch's tutorial "What is torch.nn really?" (Jeremy Howard, fast.ai), ported.

The tutorial trains a classifier of handwritten digits from scratch with bare tensor operations,
then brings in one piece of `torch.nn`, `torch.optim`, `Dataset` and `DataLoader` at a time.
Each section is written once, as a function of the library: called with `torch` it is the
tutorial's code, called with `micrograd_plus` it is the port, so the text shows what a PyTorch
user keeps. Both start from the same weights (the tutorial draws them at random; here they are
given) and train in float64 (the tutorial: float32); every training loss, validation loss and
final weight must agree to the tolerance of `close_to_torch`.

The data: MNIST cannot be downloaded here (and the tutorial reads it with pickle, which is never
loaded), so the digits are `load_digits()`'s 8x8 images (64 features, 10 classes) scaled to
[0, 1]: 256 to train on and 128 to validate, in mini-batches of 32, for two epochs. Hence 784
becomes 64 and 28 becomes 8 in the shapes (`view(-1, 1, 8, 8)`), and the CNN's second and third
convolutions have stride 1 (the tutorial's are 2), so that its last grid is 4x4 as on MNIST and
`avg_pool2d(xb, 4)` stays as it is. The training DataLoaders do not shuffle (the tutorial's
`shuffle=True` draws from each library's own random numbers).

What does not port line for line: `weights.grad.zero_()` (a
gradient is a numpy array here: `weights.grad[...] = 0`) and `from torch.utils.data import ...`
(`micrograd_plus.data`). The class labels are Tensors of whole numbers here (`tensor` makes
floats), which indexing and the losses read as PyTorch reads its int64 labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
from conftest import assert_results_agree, close_to_torch, require_torch

import micrograd_plus

N_TRAIN, N_VALID = 256, 128
bs = 32  # batch size (the tutorial's: 64)
epochs = 2  # how many epochs to train for


def mnist() -> tuple[np.ndarray, ...]:
    """((x_train, y_train), (x_valid, y_valid)) as the tutorial's pickle gives MNIST's: numpy arrays
    of images flattened into rows of floats in [0, 1], and int labels."""
    X, y = micrograd_plus.load_digits()
    X = X / 16.0
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN : N_TRAIN + N_VALID], y[N_TRAIN : N_TRAIN + N_VALID]


def tensors(torch: ModuleType) -> tuple[Any, ...]:
    x_train, y_train, x_valid, y_valid = mnist()
    x_train, y_train, x_valid, y_valid = map(torch.tensor, (x_train, y_train, x_valid, y_valid))
    return x_train, y_train, x_valid, y_valid


def given_randn(*shape: int) -> np.ndarray:
    """What the tutorial's `torch.randn(*shape)` draws, given here so that both libraries start alike."""
    return np.random.default_rng(0).standard_normal(shape)


def given_start(torch: ModuleType, model: Any) -> None:
    """The model's initial weights, the same in both libraries (PyTorch draws them at random):
    uniform in +-1/sqrt(fan_in), as PyTorch's default for Linear and Conv2d."""
    rng = np.random.default_rng(1)
    state = {}
    for name, value in model.state_dict().items():
        shape = tuple(value.shape)
        if name.endswith("weight"):
            bound = 1 / math.sqrt(math.prod(shape[1:]))
        state[name] = torch.tensor(rng.uniform(-bound, bound, shape))  # (a bias after its weight)
    model.load_state_dict(state)


def weights_of(model: Any) -> dict[str, np.ndarray]:
    """The final weights as arrays (a torch state dict holds Tensors, ours arrays)."""
    return {
        name: np.array(v if isinstance(v, np.ndarray) else v.numpy())
        for name, v in model.state_dict().items()
    }


def data_of(torch: ModuleType) -> Any:
    """`torch.utils.data` (TensorDataset, DataLoader) is `micrograd_plus.data` here."""
    return micrograd_plus.data if torch is micrograd_plus else torch.utils.data


def accuracy_of(torch: ModuleType) -> Callable[[Any, Any], Any]:
    def accuracy(out, yb):  # type: ignore[no-untyped-def]  # the tutorial's, line for line
        preds = torch.argmax(out, dim=1)
        return (preds == yb).float().mean()

    return accuracy


def assert_agree(ours: dict, theirs: dict) -> None:
    assert_results_agree(ours, theirs)
    first, *_, last = np.array_split(theirs["losses"], epochs)
    assert np.mean(last) < np.mean(first), "training must lower the loss"


# -- neural net from scratch (no torch.nn), and using torch.nn.functional ---------------------------


def from_scratch(torch: ModuleType, functional: bool = False) -> dict:
    """The tutorial's first model (a hand-written log_softmax and nll), or with `functional`
    its second (`F.cross_entropy` on the raw scores)."""
    x_train, y_train, x_valid, y_valid = tensors(torch)
    n, c = x_train.shape
    print(x_train, y_train)
    print(x_train.shape)
    print(y_train.min(), y_train.max())
    assert (y_train.min().item(), y_train.max().item()) == (0, 9)

    weights = torch.tensor(given_randn(64, 10)) / math.sqrt(64)  # was torch.randn(784, 10) / math.sqrt(784)
    weights.requires_grad_()
    bias = torch.zeros(10, requires_grad=True)

    def log_softmax(x):  # type: ignore[no-untyped-def]
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):  # type: ignore[no-untyped-def]
        return log_softmax(xb @ weights + bias)

    xb = x_train[0:bs]  # a mini-batch from x
    preds = model(xb)  # predictions
    print(preds[0], preds.shape)

    def nll(input, target):  # type: ignore[no-untyped-def]
        return -input[range(target.shape[0]), target].mean()

    loss_func = nll
    yb = y_train[0:bs]
    print(loss_func(preds, yb))
    accuracy = accuracy_of(torch)
    print(accuracy(preds, yb))

    if functional:
        F = torch.nn.functional
        first = loss_func(model(xb), yb).item()
        loss_func = F.cross_entropy

        def model(xb):  # type: ignore[no-untyped-def]
            return xb @ weights + bias

        assert math.isclose(loss_func(model(xb), yb).item(), first, rel_tol=1e-12)  # the same loss

    lr = 0.5  # learning rate
    losses = []
    for epoch in range(epochs):  # noqa: B007 (the tutorial\'s)
        for i in range((n - 1) // bs + 1):
            start_i = i * bs
            end_i = start_i + bs
            xb = x_train[start_i:end_i]
            yb = y_train[start_i:end_i]
            pred = model(xb)
            loss = loss_func(pred, yb)
            losses.append(loss.item())

            loss.backward()
            with torch.no_grad():
                weights -= weights.grad * lr
                bias -= bias.grad * lr
                weights.grad[...] = 0  # the tutorial: weights.grad.zero_()
                bias.grad[...] = 0  # the tutorial: bias.grad.zero_()

    print(loss_func(model(xb), yb), accuracy(model(xb), yb))
    return {
        "losses": losses,
        "accuracy": accuracy(model(xb), yb).item(),
        "weights": {"weights": weights.detach().numpy(), "bias": bias.detach().numpy()},
    }


def test_1_neural_net_from_scratch() -> None:
    torch = require_torch()
    assert_agree(from_scratch(micrograd_plus), from_scratch(torch))


def test_2_using_torch_nn_functional() -> None:
    torch = require_torch()
    ours = from_scratch(micrograd_plus, functional=True)
    assert_agree(ours, from_scratch(torch, functional=True))
    # cross_entropy of the scores is the hand-written nll of their log_softmax: the same training
    assert close_to_torch(ours["losses"], from_scratch(micrograd_plus)["losses"])


# -- nn.Module and nn.Parameter, then nn.Linear, then optim --------------------------------------------


def refactored(torch: ModuleType, step: str) -> dict:
    """`step` "module" (nn.Module and nn.Parameter), "linear" (nn.Linear) or "optim" (optim.SGD)."""
    x_train, y_train, _, _ = tensors(torch)
    n, c = x_train.shape
    nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    loss_func = F.cross_entropy
    lr = 0.5

    class Mnist_Logistic(nn.Module):  # noqa: N801 (the tutorial's name)
        def __init__(self):  # type: ignore[no-untyped-def]
            super().__init__()
            self.weights = nn.Parameter(
                torch.tensor(given_randn(64, 10)) / math.sqrt(64)
            )  # was randn(784, 10)
            self.bias = nn.Parameter(torch.zeros(10))

        def forward(self, xb):  # type: ignore[no-untyped-def]
            return xb @ self.weights + self.bias

    if step != "module":

        class Mnist_Logistic(nn.Module):  # type: ignore[no-redef]  # noqa: N801
            def __init__(self):  # type: ignore[no-untyped-def]
                super().__init__()
                self.lin = nn.Linear(64, 10)
                given_start(torch, self)

            def forward(self, xb):  # type: ignore[no-untyped-def]
                return self.lin(xb)

    losses = []

    def fit():  # type: ignore[no-untyped-def]
        for epoch in range(epochs):  # noqa: B007 (the tutorial\'s)
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)
                losses.append(loss.item())

                loss.backward()
                with torch.no_grad():
                    for p in model.parameters():
                        p -= p.grad * lr
                    model.zero_grad()

    def get_model():  # type: ignore[no-untyped-def]
        model = Mnist_Logistic()
        return model, optim.SGD(model.parameters(), lr=lr)

    xb, yb = x_train[0:bs], y_train[0:bs]
    if step != "optim":
        model = Mnist_Logistic()
        print(loss_func(model(xb), yb))
        fit()
    else:
        model, opt = get_model()
        print(loss_func(model(xb), yb))

        for epoch in range(epochs):  # noqa: B007 (the tutorial\'s)
            for i in range((n - 1) // bs + 1):
                start_i = i * bs
                end_i = start_i + bs
                xb = x_train[start_i:end_i]
                yb = y_train[start_i:end_i]
                pred = model(xb)
                loss = loss_func(pred, yb)
                losses.append(loss.item())

                loss.backward()
                opt.step()
                opt.zero_grad()

    print(loss_func(model(xb), yb))
    return {"losses": losses, "weights": weights_of(model)}


def test_3_refactor_using_nn_module() -> None:
    torch = require_torch()
    ours = refactored(micrograd_plus, "module")
    assert_agree(ours, refactored(torch, "module"))
    assert ours["losses"] == from_scratch(micrograd_plus, functional=True)["losses"]  # the same steps


def test_4_refactor_using_nn_linear() -> None:
    torch = require_torch()
    assert_agree(refactored(micrograd_plus, "linear"), refactored(torch, "linear"))


def test_5_refactor_using_optim() -> None:
    torch = require_torch()
    ours = refactored(micrograd_plus, "optim")
    assert_agree(ours, refactored(torch, "optim"))
    assert close_to_torch(ours["losses"], refactored(micrograd_plus, "linear")["losses"])  # SGD's step


# -- Dataset, DataLoader, and a validation set -----------------------------------------------------------


def with_data(torch: ModuleType, step: str) -> dict:
    """`step` "dataset" (TensorDataset), "dataloader" (DataLoader) or "validation"."""
    x_train, y_train, x_valid, y_valid = tensors(torch)
    n, c = x_train.shape
    nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    TensorDataset, DataLoader = data_of(torch).TensorDataset, data_of(torch).DataLoader
    loss_func = F.cross_entropy
    lr = 0.5

    class Mnist_Logistic(nn.Module):  # noqa: N801
        def __init__(self):  # type: ignore[no-untyped-def]
            super().__init__()
            self.lin = nn.Linear(64, 10)
            given_start(torch, self)

        def forward(self, xb):  # type: ignore[no-untyped-def]
            return self.lin(xb)

    def get_model():  # type: ignore[no-untyped-def]
        model = Mnist_Logistic()
        return model, optim.SGD(model.parameters(), lr=lr)

    losses, valid_losses = [], []
    train_ds = TensorDataset(x_train, y_train)
    model, opt = get_model()
    if step == "dataset":
        for epoch in range(epochs):  # noqa: B007 (the tutorial\'s)
            for i in range((n - 1) // bs + 1):
                xb, yb = train_ds[i * bs : i * bs + bs]
                pred = model(xb)
                loss = loss_func(pred, yb)
                losses.append(loss.item())

                loss.backward()
                opt.step()
                opt.zero_grad()
    elif step == "dataloader":
        train_dl = DataLoader(train_ds, batch_size=bs)
        for epoch in range(epochs):  # noqa: B007 (the tutorial\'s)
            for xb, yb in train_dl:
                pred = model(xb)
                loss = loss_func(pred, yb)
                losses.append(loss.item())

                loss.backward()
                opt.step()
                opt.zero_grad()
    else:
        train_dl = DataLoader(train_ds, batch_size=bs, shuffle=False)  # the tutorial: shuffle=True
        valid_ds = TensorDataset(x_valid, y_valid)
        valid_dl = DataLoader(valid_ds, batch_size=bs * 2)
        for epoch in range(epochs):  # noqa: B007 (the tutorial\'s)
            model.train()
            for xb, yb in train_dl:
                pred = model(xb)
                loss = loss_func(pred, yb)
                losses.append(loss.item())

                loss.backward()
                opt.step()
                opt.zero_grad()

            model.eval()
            with torch.no_grad():
                valid_loss = sum(loss_func(model(xb), yb) for xb, yb in valid_dl)

            print(epoch, valid_loss / len(valid_dl))
            valid_losses.append((valid_loss / len(valid_dl)).item())
        assert not valid_loss.requires_grad

    print(loss_func(model(xb), yb))
    return {"losses": losses, "valid_losses": valid_losses, "weights": weights_of(model)}


def test_6_refactor_using_dataset() -> None:
    torch = require_torch()
    ours = with_data(micrograd_plus, "dataset")
    assert_agree(ours, with_data(torch, "dataset"))
    assert ours["losses"] == refactored(micrograd_plus, "optim")["losses"]  # the same batches


def test_7_refactor_using_dataloader() -> None:
    torch = require_torch()
    ours = with_data(micrograd_plus, "dataloader")
    assert_agree(ours, with_data(torch, "dataloader"))
    assert ours["losses"] == with_data(micrograd_plus, "dataset")["losses"]


def test_8_add_validation() -> None:
    torch = require_torch()
    ours = with_data(micrograd_plus, "validation")
    assert_agree(ours, with_data(torch, "validation"))
    assert len(ours["valid_losses"]) == epochs


# -- fit() and get_data(), the CNN, nn.Sequential, wrapping the DataLoader -----------------------------


def three_lines(torch: ModuleType, model_name: str) -> dict:
    """The tutorial's `fit`, `loss_batch` and `get_data`, training `model_name`: "logistic",
    "cnn" (Mnist_CNN), "sequential" (nn.Sequential with Lambda layers), "adaptive" (wrapped
    DataLoaders and nn.AdaptiveAvgPool2d) or "device" (the same, moved to the CPU)."""
    x_train, y_train, x_valid, y_valid = tensors(torch)
    nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    TensorDataset, DataLoader = data_of(torch).TensorDataset, data_of(torch).DataLoader
    loss_func = F.cross_entropy
    lr = 0.5
    losses, valid_losses = [], []

    def loss_batch(model, loss_func, xb, yb, opt=None):  # type: ignore[no-untyped-def]
        loss = loss_func(model(xb), yb)

        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()

        return loss.item(), len(xb)

    def fit(epochs, model, loss_func, opt, train_dl, valid_dl):  # type: ignore[no-untyped-def]
        for epoch in range(epochs):  # noqa: B007 (the tutorial\'s)
            model.train()
            for xb, yb in train_dl:
                losses.append(loss_batch(model, loss_func, xb, yb, opt)[0])  # the tutorial drops it

            model.eval()
            with torch.no_grad():
                losses_, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
            val_loss = np.sum(np.multiply(losses_, nums)) / np.sum(nums)

            print(epoch, val_loss)
            valid_losses.append(val_loss)

    def get_data(train_ds, valid_ds, bs):  # type: ignore[no-untyped-def]
        return (
            DataLoader(train_ds, batch_size=bs, shuffle=False),  # the tutorial: shuffle=True
            DataLoader(valid_ds, batch_size=bs * 2),
        )

    class Mnist_Logistic(nn.Module):  # noqa: N801
        def __init__(self):  # type: ignore[no-untyped-def]
            super().__init__()
            self.lin = nn.Linear(64, 10)
            given_start(torch, self)

        def forward(self, xb):  # type: ignore[no-untyped-def]
            return self.lin(xb)

    def get_model():  # type: ignore[no-untyped-def]
        model = Mnist_Logistic()
        return model, optim.SGD(model.parameters(), lr=lr)

    class Mnist_CNN(nn.Module):  # noqa: N801
        def __init__(self):  # type: ignore[no-untyped-def]
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=1, padding=1)  # stride 2 on MNIST
            self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=1, padding=1)  # stride 2 on MNIST

        def forward(self, xb):  # type: ignore[no-untyped-def]
            xb = xb.view(-1, 1, 8, 8)  # was 28, 28
            xb = F.relu(self.conv1(xb))
            xb = F.relu(self.conv2(xb))
            xb = F.relu(self.conv3(xb))
            xb = F.avg_pool2d(xb, 4)
            return xb.view(-1, xb.size(1))

    class Lambda(nn.Module):
        def __init__(self, func):  # type: ignore[no-untyped-def]
            super().__init__()
            self.func = func

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.func(x)

    class WrappedDataLoader:
        def __init__(self, dl, func):  # type: ignore[no-untyped-def]
            self.dl = dl
            self.func = func

        def __len__(self):  # type: ignore[no-untyped-def]
            return len(self.dl)

        def __iter__(self):  # type: ignore[no-untyped-def]
            batches = iter(self.dl)
            for b in batches:
                yield (self.func(*b))

    train_ds = TensorDataset(x_train, y_train)
    valid_ds = TensorDataset(x_valid, y_valid)
    train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
    if model_name == "logistic":
        model, opt = get_model()
        fit(epochs, model, loss_func, opt, train_dl, valid_dl)
        return {"losses": losses, "valid_losses": valid_losses, "weights": weights_of(model)}

    lr = 0.1
    if model_name == "cnn":
        model = Mnist_CNN()
        given_start(torch, model)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    elif model_name == "sequential":

        def preprocess(x):  # type: ignore[no-untyped-def]
            return x.view(-1, 1, 8, 8)  # was 28, 28

        model = nn.Sequential(
            Lambda(preprocess),
            nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 16, kernel_size=3, stride=1, padding=1),  # stride 2 on MNIST
            nn.ReLU(),
            nn.Conv2d(16, 10, kernel_size=3, stride=1, padding=1),  # stride 2 on MNIST
            nn.ReLU(),
            nn.AvgPool2d(4),
            Lambda(lambda x: x.view(x.size(0), -1)),
        )
        given_start(torch, model)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    else:
        dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

        def preprocess(x, y):  # type: ignore[no-untyped-def]
            if model_name == "device":
                return x.view(-1, 1, 8, 8).to(dev), y.to(dev)
            return x.view(-1, 1, 8, 8), y  # was 28, 28

        train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
        train_dl = WrappedDataLoader(train_dl, preprocess)
        valid_dl = WrappedDataLoader(valid_dl, preprocess)
        model = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 16, kernel_size=3, stride=1, padding=1),  # stride 2 on MNIST
            nn.ReLU(),
            nn.Conv2d(16, 10, kernel_size=3, stride=1, padding=1),  # stride 2 on MNIST
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            Lambda(lambda x: x.view(x.size(0), -1)),
        )
        given_start(torch, model)
        if model_name == "device":
            model.to(dev)
        opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    fit(epochs, model, loss_func, opt, train_dl, valid_dl)
    return {"losses": losses, "valid_losses": valid_losses, "weights": weights_of(model)}


def test_9_create_fit_and_get_data() -> None:
    torch = require_torch()
    ours = three_lines(micrograd_plus, "logistic")
    assert_agree(ours, three_lines(torch, "logistic"))
    assert ours["losses"] == with_data(micrograd_plus, "validation")["losses"]


def test_10_switch_to_cnn() -> None:
    torch = require_torch()
    assert_agree(three_lines(micrograd_plus, "cnn"), three_lines(torch, "cnn"))


def test_11_nn_sequential() -> None:
    torch = require_torch()
    ours = three_lines(micrograd_plus, "sequential")
    assert_agree(ours, three_lines(torch, "sequential"))
    assert close_to_torch(ours["losses"], three_lines(micrograd_plus, "cnn")["losses"])  # the same net


def test_12_wrapping_dataloader_and_adaptive_pooling() -> None:
    torch = require_torch()
    ours = three_lines(micrograd_plus, "adaptive")
    assert_agree(ours, three_lines(torch, "adaptive"))
    # AdaptiveAvgPool2d(1) of the 4x4 grid is AvgPool2d(4): the same net as nn.Sequential's
    assert close_to_torch(ours["losses"], three_lines(micrograd_plus, "sequential")["losses"])


def test_13_the_gpu_sections_moves_on_the_cpu() -> None:
    torch = require_torch()
    ours = three_lines(micrograd_plus, "device")
    assert_agree(ours, three_lines(torch, "device"))
    assert ours["losses"] == three_lines(micrograd_plus, "adaptive")["losses"]
