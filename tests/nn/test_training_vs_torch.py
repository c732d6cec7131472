"""From identical initial weights, 5 training steps of examples 2 (linear regression, SGD),
4 (the 1-100-100-1 ReLU network on sin(x)^3, SGD), 6 (the 7 x 256 sine network, Adam on
mini-batches) and 7 (iris, Adam) give the same losses as the same model and optimizer in
PyTorch float64: |ours - torch| <= 1e-9 * max(1, |torch|).

The examples' own functions are run (imported from the scripts), so this checks the code the
tutorials show, not a copy of it."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
from conftest import close_to_torch, require_torch

from micrograd_plus import batches
from micrograd_plus.optim import Adam

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STEPS = 5


def _example(name: str) -> ModuleType:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))  # for `from _common import ...`
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _copy_into(torch, theirs, ours) -> None:  # type: ignore[no-untyped-def]
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict()), "the two models must have the same parameters"
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})


def _assert_same_losses(ours: list[float], theirs: list[float]) -> None:
    assert len(ours) == len(theirs) == STEPS
    for step, (mine, ref) in enumerate(zip(ours, theirs)):
        assert close_to_torch(mine, ref), f"step {step}: ours {mine!r}, torch {ref!r}"
    assert ours[-1] != ours[0], "the model must actually train"


def test_example_2_linear_regression_follows_torch() -> None:
    torch = require_torch()
    ex = _example("02_linear_regression")
    x, y = ex.make_data()
    model = ex.build_model()
    reference = torch.nn.Linear(1, 1)
    _copy_into(torch, reference, model)
    ours = list(ex.training_losses(model, x, y, STEPS))
    optimizer = torch.optim.SGD(reference.parameters(), lr=ex.LR)
    theirs = []
    for _ in range(STEPS):
        loss = torch.nn.functional.mse_loss(reference(torch.tensor(x)), torch.tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        theirs.append(loss.item())
    _assert_same_losses(ours, theirs)


def test_example_4_nonlinear_regression_follows_torch() -> None:
    torch = require_torch()
    ex = _example("04_nonlinear_regression")
    x, y = ex.make_data()
    model = ex.build_models()["MLP 1-100-100-1"]
    nn = torch.nn
    reference = nn.Sequential(nn.Linear(1, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 1))
    _copy_into(torch, reference, model)
    ours = ex.train(model, x, y, STEPS)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.01)
    theirs = []
    for _ in range(STEPS):
        loss = nn.functional.mse_loss(reference(torch.tensor(x)), torch.tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        theirs.append(loss.item())
    _assert_same_losses(ours, theirs)


def test_example_6_keras_sine_follows_torch() -> None:
    torch = require_torch()
    ex = _example("06_keras_sine")
    x, y = ex.make_data()
    model = ex.build_model()
    layers = []
    for i in range(ex.DEPTH):
        layers += [torch.nn.Linear(1 if i == 0 else ex.HIDDEN, ex.HIDDEN), torch.nn.ReLU()]
    reference = torch.nn.Sequential(*layers, torch.nn.Linear(ex.HIDDEN, 1))
    _copy_into(torch, reference, model)
    steps = ex.training_steps(model, Adam(model.parameters(), lr=0.001), x, y, 1, np.random.default_rng(1))
    ours = list(itertools.islice(steps, STEPS))
    optimizer = torch.optim.Adam(reference.parameters(), lr=0.001)
    theirs = []
    for xb, yb in itertools.islice(batches(x, y, ex.BATCH, seed=np.random.default_rng(1)), STEPS):
        loss = torch.nn.functional.mse_loss(reference(torch.tensor(xb)), torch.tensor(yb))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        theirs.append(loss.item())
    _assert_same_losses(ours, theirs)


def test_example_7_iris_follows_torch() -> None:
    torch = require_torch()
    ex = _example("07_iris")
    data = ex.split()
    model = ex.IrisNet()

    class TorchIrisNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hidden = torch.nn.Linear(4, 10)
            self.sigmoid = torch.nn.Sigmoid()
            self.out = torch.nn.Linear(10, 3)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.out(self.sigmoid(self.hidden(x)))

    reference = TorchIrisNet()
    _copy_into(torch, reference, model)
    ours = list(ex.training_losses(model, data, STEPS))
    optimizer = torch.optim.Adam(reference.parameters(), lr=ex.LR)
    X, y = torch.tensor(data["train"][0]), torch.tensor(data["train"][1])
    Xv, yv = torch.tensor(data["valid"][0]), torch.tensor(data["valid"][1])
    theirs = []
    for _ in range(STEPS):
        loss = torch.nn.functional.cross_entropy(reference(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            valid = torch.nn.functional.cross_entropy(reference(Xv), yv)
        theirs.append((loss.item(), valid.item()))
    _assert_same_losses([t for t, _ in ours], [t for t, _ in theirs])
    _assert_same_losses([v for _, v in ours], [v for _, v in theirs])
