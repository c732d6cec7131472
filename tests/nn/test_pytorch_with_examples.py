"""PyTorch's beginner tutorial "Learning PyTorch with Examples", ported.

Each section fits y = sin(x) on [-pi, pi] with a third-order polynomial. Each is written once,
as a function of the library: called with `torch` it is the tutorial's code, called with
`micrograd_plus` it is the port, so the text shows what a PyTorch user keeps. Both run from the
same initial weights (the tutorial draws them with `torch.randn`; here they are given) for a
few steps in float64 (the tutorial uses `torch.float`, float32), and every loss and every final
weight must agree to the tolerance of `close_to_torch`.

Section 4's custom autograd function is one class written for both: it subclasses
`torch.autograd.Function` or `micrograd_plus.autograd.Function`, line for line. What does not port
line for line: `torch.float64` is numpy's (see docs/porting-table.md).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np
from conftest import close_to_torch, require_torch

import micrograd_plus
from micrograd_plus import Tensor

STEPS = 200  # the tutorial runs 2000; a few hundred show the agreement in well under a second each
INIT = (0.3, -0.7, 0.2, 0.05)  # a, b, c, d: the tutorial draws them with randn()


def float64_of(torch: ModuleType) -> Any:
    """float64 in each library (torch.float64, np.float64)."""
    return torch.float64 if torch is not micrograd_plus else np.float64


def assert_agree(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert close_to_torch(ours[key], theirs[key]), (key, ours[key], theirs[key])
    assert theirs["losses"][-1] < theirs["losses"][0], "the fit must improve"


# -- (1) numpy by hand, and (2) Tensors with a hand-written backward --------------------------------


def polynomial_numpy(init: tuple[float, ...]) -> dict:
    x = np.linspace(-math.pi, math.pi, 2000)
    y = np.sin(x)
    a, b, c, d = init  # the tutorial: np.random.randn() each
    learning_rate = 1e-6
    losses = []
    for t in range(STEPS):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = np.square(y_pred - y).sum()
        losses.append(loss)
        if t % 100 == 99:
            print(t, loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return {"losses": losses, "weights": [a, b, c, d]}


def polynomial_tensors(torch: ModuleType, init: tuple[float, ...]) -> dict:
    dtype = float64_of(torch)  # the tutorial: torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a, b, c, d = (torch.tensor(w, device=device, dtype=dtype) for w in init)  # was randn((), ...)
    learning_rate = 1e-6
    losses = []
    for t in range(STEPS):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum().item()
        losses.append(loss)
        if t % 100 == 99:
            print(t, loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x**2).sum()
        grad_d = (grad_y_pred * x**3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return {"losses": losses, "weights": [a.item(), b.item(), c.item(), d.item()]}


def test_1_numpy_by_hand_is_what_torch_computes() -> None:
    """Section 1 is numpy alone: it is the baseline section 2 ports to Tensors."""
    torch = require_torch()
    assert_agree(polynomial_numpy(INIT), polynomial_tensors(torch, INIT))


def test_2_tensors_with_a_hand_written_backward() -> None:
    torch = require_torch()
    assert_agree(polynomial_tensors(micrograd_plus, INIT), polynomial_tensors(torch, INIT))


# -- (3) autograd, and (4) a custom autograd function -------------------------------------------------


def polynomial_autograd(torch: ModuleType, init: tuple[float, ...], P3: Callable | None = None) -> dict:  # noqa: N803
    """Section 3: y = a + b x + c x^2 + d x^3; section 4 (given P3): y = a + b P3(c + d x)."""
    dtype = float64_of(torch)  # the tutorial: torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    # section 4's line (section 3 draws them with torch.randn((), ..., requires_grad=True))
    a, b, c, d = (torch.full((), w, device=device, dtype=dtype, requires_grad=True) for w in init)
    learning_rate = 1e-6 if P3 is None else 5e-6
    losses = []
    for t in range(STEPS):
        y_pred = a + b * x + c * x**2 + d * x**3 if P3 is None else a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        if t % 100 == 99:
            print(t, loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    assert a.requires_grad and a.grad is None  # the same leaves, updated in place
    return {"losses": losses, "weights": [a.item(), b.item(), c.item(), d.item()]}


def test_3_autograd() -> None:
    torch = require_torch()
    assert_agree(polynomial_autograd(micrograd_plus, INIT), polynomial_autograd(torch, INIT))


def legendre_p3_of(torch: ModuleType) -> Callable:
    """The tutorial's LegendrePolynomial3, subclassing the library's autograd.Function."""

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):  # type: ignore[no-untyped-def]
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    return LegendrePolynomial3.apply


def test_4_a_custom_autograd_function() -> None:
    torch = require_torch()
    init = (0.0, -1.0, 0.0, 0.3)  # the tutorial's: its fit needs weights near these
    ours = polynomial_autograd(micrograd_plus, init, legendre_p3_of(micrograd_plus))
    assert_agree(ours, polynomial_autograd(torch, init, legendre_p3_of(torch)))


def test_4_the_function_is_the_legendre_polynomial_and_its_derivative() -> None:
    legendre_p3 = legendre_p3_of(micrograd_plus)
    x = np.linspace(-1.5, 1.5, 7)
    t = Tensor(x, requires_grad=True)
    out = legendre_p3(t)
    out.sum().backward()
    assert out.grad_fn.name() == "LegendrePolynomial3"  # one node, named after the class
    assert np.allclose(legendre_p3(Tensor(x)).data, np.polynomial.legendre.legval(x, [0, 0, 0, 1]))
    numerical = micrograd_plus.numerical_grad(lambda u: legendre_p3(u).sum(), [Tensor(x)])[0]
    assert np.allclose(t.grad, numerical, atol=1e-6)


# -- (5) nn, and (6) optim ------------------------------------------------------------------------------


def polynomial_nn(torch: ModuleType, init: Callable, optimizer_name: str | None = None) -> dict:
    """Section 5 (a hand-written update) or section 6 (`optimizer_name`, "RMSprop")."""
    dtype = float64_of(torch)  # the tutorial: torch.float
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])  # float64 here, int64 in PyTorch: x ** p is float64 in both
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    init(model)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    learning_rate = 1e-6 if optimizer_name is None else 1e-3
    if optimizer_name is not None:
        optimizer = getattr(torch.optim, optimizer_name)(model.parameters(), lr=learning_rate)
    losses = []
    for t in range(STEPS):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        if t % 100 == 99:
            print(t, loss.item())
        if optimizer_name is None:
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():
                    param -= learning_rate * param.grad
        else:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    linear_layer = model[0]
    weights = [linear_layer.bias.item()] + [linear_layer.weight[:, i].item() for i in range(3)]
    return {"losses": losses, "weights": weights}


def same_start() -> tuple[Callable, Callable]:
    """`remember` keeps a torch model's initial weights, `copy` loads them into ours."""
    initial: list[dict] = []

    def remember(model: Any) -> None:
        initial.append({k: v.detach().numpy().copy() for k, v in model.state_dict().items()})

    def copy(model: Any) -> None:
        model.load_state_dict(initial.pop(0))

    return remember, copy


def test_5_nn() -> None:
    torch = require_torch()
    torch.manual_seed(0)
    remember, copy = same_start()
    theirs = polynomial_nn(torch, remember)
    assert_agree(polynomial_nn(micrograd_plus, copy), theirs)


def test_6_optim() -> None:
    torch = require_torch()
    torch.manual_seed(1)
    remember, copy = same_start()
    theirs = polynomial_nn(torch, remember, "RMSprop")
    assert_agree(polynomial_nn(micrograd_plus, copy, "RMSprop"), theirs)


# -- (7) a custom nn.Module, and (8) control flow and weight sharing ------------------------------------


def custom_module(torch: ModuleType, init: tuple[float, ...], draws: Iterator[int] | None = None) -> dict:
    """Section 7 (Polynomial3), or section 8 (DynamicNet, given the draws of random.randint(4, 6))."""
    dtype = float64_of(torch)  # the tutorial: torch.float

    class Polynomial3(torch.nn.Module):
        def __init__(self):  # type: ignore[no-untyped-def]
            super().__init__()
            self.a, self.b, self.c, self.d = (torch.nn.Parameter(torch.tensor(w, dtype=dtype)) for w in init)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.a + self.b * x + self.c * x**2 + self.d * x**3

        def string(self):  # type: ignore[no-untyped-def]
            return f"y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3"

    class DynamicNet(Polynomial3):
        """Polynomial3 and a fifth parameter e: x^4, x^5 terms, reusing e, a random number of times."""

        def __init__(self):  # type: ignore[no-untyped-def]
            super().__init__()
            self.e = torch.nn.Parameter(torch.tensor(0.01, dtype=dtype))

        def forward(self, x):  # type: ignore[no-untyped-def]
            y = self.a + self.b * x + self.c * x**2 + self.d * x**3
            for exp in range(4, next(draws)):  # the tutorial: random.randint(4, 6)
                y = y + self.e * x**exp
            return y

    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    model = Polynomial3() if draws is None else DynamicNet()
    criterion = torch.nn.MSELoss(reduction="sum")
    if draws is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    losses = []
    for t in range(STEPS):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        if t % 100 == 99:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"Result: {model.string()}")
    return {"losses": losses, "weights": [p.item() for p in model.parameters()]}


def test_7_a_custom_module() -> None:
    torch = require_torch()
    assert_agree(custom_module(micrograd_plus, INIT), custom_module(torch, INIT))


def test_8_control_flow_and_weight_sharing() -> None:
    torch = require_torch()
    rng = random.Random(0)
    draws = [rng.randint(4, 6) for _ in range(STEPS)]
    assert set(draws) == {4, 5, 6}  # the loop runs 0, 1 and 2 times
    ours = custom_module(micrograd_plus, INIT, iter(draws))
    theirs = custom_module(torch, INIT, iter(draws))
    assert len(ours["weights"]) == 5
    assert_agree(ours, theirs)
