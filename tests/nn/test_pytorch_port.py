"""A PyTorch tutorial ported line by line.

`pytorch_tutorial` is written for PyTorch (a linear regression, then a small ReLU network, on
numpy data); `ported_tutorial` is the same text with only the imports and
`torch.from_numpy(x).float().view(-1, 1)` -> `Tensor(x).reshape(-1, 1)` changed. One test checks
that this really is the only difference (by diffing the two functions' source); the others run
both from the same initial weights and compare what they print.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable

import numpy as np
from conftest import require_torch

X_TRAIN = np.array(
    [3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167, 7.042, 10.791, 5.313, 7.997, 3.1]
)
Y_TRAIN = np.array(
    [1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221, 2.827, 3.465, 1.65, 2.904, 1.3]
)


def pytorch_tutorial(x_train, y_train, init: Callable) -> dict:  # type: ignore[no-untyped-def]
    import torch
    import torch.nn as nn
    from torch.optim import SGD

    class LinearRegression(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

        def forward(self, x):
            return self.linear(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(1, 8)
            self.relu = nn.ReLU()
            self.linear = nn.Linear(8, 1)

        def forward(self, x):
            return self.linear(self.relu(self.hidden(x)))

    inputs = torch.from_numpy(x_train).float().view(-1, 1)
    targets = torch.from_numpy(y_train).float().view(-1, 1)
    results = {}
    for model in [LinearRegression(), Net()]:
        init(model)
        criterion = nn.MSELoss()
        optimizer = SGD(model.parameters(), lr=0.01)
        losses = []
        for epoch in range(60):
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if (epoch + 1) % 20 == 0:
                print(f"Epoch [{epoch + 1}/60], Loss: {loss.item():.4f}")
        predicted = model(inputs).detach().numpy()
        results[type(model).__name__] = (losses, predicted)
        if isinstance(model, LinearRegression):
            results["w"] = model.linear.weight.item()
            results["b"] = model.linear.bias.item()
    return results


def ported_tutorial(x_train, y_train, init: Callable) -> dict:  # type: ignore[no-untyped-def]
    from micrograd_plus import Tensor, nn
    from micrograd_plus.optim import SGD

    class LinearRegression(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

        def forward(self, x):
            return self.linear(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(1, 8)
            self.relu = nn.ReLU()
            self.linear = nn.Linear(8, 1)

        def forward(self, x):
            return self.linear(self.relu(self.hidden(x)))

    inputs = Tensor(x_train).reshape(-1, 1)
    targets = Tensor(y_train).reshape(-1, 1)
    results = {}
    for model in [LinearRegression(), Net()]:
        init(model)
        criterion = nn.MSELoss()
        optimizer = SGD(model.parameters(), lr=0.01)
        losses = []
        for epoch in range(60):
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if (epoch + 1) % 20 == 0:
                print(f"Epoch [{epoch + 1}/60], Loss: {loss.item():.4f}")
        predicted = model(inputs).detach().numpy()
        results[type(model).__name__] = (losses, predicted)
        if isinstance(model, LinearRegression):
            results["w"] = model.linear.weight.item()
            results["b"] = model.linear.bias.item()
    return results


def test_only_the_imports_and_the_tensor_conversion_change() -> None:
    theirs = inspect.getsource(pytorch_tutorial).splitlines()[1:]  # without the def line
    ours = inspect.getsource(ported_tutorial).splitlines()[1:]
    removed = [line[2:].strip() for line in difflib.ndiff(theirs, ours) if line.startswith("- ")]
    added = [line[2:].strip() for line in difflib.ndiff(theirs, ours) if line.startswith("+ ")]
    assert removed == [
        "import torch",
        "import torch.nn as nn",
        "from torch.optim import SGD",
        "inputs = torch.from_numpy(x_train).float().view(-1, 1)",
        "targets = torch.from_numpy(y_train).float().view(-1, 1)",
    ]
    assert added == [
        "from micrograd_plus import Tensor, nn",
        "from micrograd_plus.optim import SGD",
        "inputs = Tensor(x_train).reshape(-1, 1)",
        "targets = Tensor(y_train).reshape(-1, 1)",
    ]


def test_the_port_computes_what_pytorch_computes() -> None:
    """Same initial weights (PyTorch's, copied into ours); PyTorch runs in float32 as the tutorial
    asks (`.float()`), we in float64, so the agreement is to float32 precision."""
    torch = require_torch()
    initial: list[dict] = []

    def remember(model) -> None:  # type: ignore[no-untyped-def]
        initial.append({k: v.detach().numpy().astype(np.float64) for k, v in model.state_dict().items()})

    def copy(model) -> None:  # type: ignore[no-untyped-def]
        model.load_state_dict(initial.pop(0))

    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        torch.manual_seed(0)
        theirs = pytorch_tutorial(X_TRAIN, Y_TRAIN, remember)
    finally:
        torch.set_default_dtype(default)
    ours = ported_tutorial(X_TRAIN, Y_TRAIN, copy)
    assert not initial, "both models were initialised from PyTorch's weights"
    for name in ("LinearRegression", "Net"):
        our_losses, our_prediction = ours[name]
        their_losses, their_prediction = theirs[name]
        np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5, err_msg=name)
        np.testing.assert_allclose(our_prediction, their_prediction, rtol=1e-5, atol=1e-6, err_msg=name)
        assert our_losses[-1] < our_losses[0], f"{name} must learn"
    assert np.isclose(ours["w"], theirs["w"], rtol=1e-5) and np.isclose(ours["b"], theirs["b"], rtol=1e-5)
    assert isinstance(ours["w"], float) and isinstance(ours["b"], float)
