"""`zero_grad(set_to_none=...)` on a Module and on an Optimizer, as in PyTorch 2: None by default,
with set_to_none=False zeros written into each gradient's own array (a None grad stays None); a
following backward or optimizer step does what PyTorch's does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from micrograd_plus import Linear, ReLU, Tensor, Value, nn, optim


def twin_models(seed: int = 0) -> tuple[Any, Any]:
    """A small model here and the same one (same weights) in PyTorch; its last layer unused
    by `run`, so that its gradients stay None."""
    torch = require_torch()
    ours = nn.Sequential(
        Linear(3, 4, seed=seed), ReLU(), Linear(4, 2, seed=seed + 1), Linear(2, 2, seed=seed + 2)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.Linear(2, 2)
    )
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def run(model: Any, x: Any) -> Any:
    """The loss of the model's first three layers (the last one gets no gradient)."""
    return (model[2](model[1](model[0](x))) ** 2).sum()


def grads(ours: Any, theirs: Any) -> list[tuple[Any, Any]]:
    return list(zip([p.grad for p in ours.parameters()], [p.grad for p in theirs.parameters()]))


def same_grads(ours: Any, theirs: Any) -> bool:
    return all(
        (a is None and b is None) or (a is not None and b is not None and close_to_torch(a, b.numpy()))
        for a, b in grads(ours, theirs)
    )


@given(set_to_none=st.booleans(), x=hnp.arrays(np.float64, (5, 3), elements=st.floats(-2, 2)))
def test_module_zero_grad_matches_torch_then_backward_accumulates_the_same(
    set_to_none: bool, x: np.ndarray
) -> None:
    torch = require_torch()
    ours, theirs = twin_models()
    for _ in range(2):
        run(ours, Tensor(x)).backward()
        run(theirs, torch.tensor(x)).backward()
    assert same_grads(ours, theirs)
    ours.zero_grad(set_to_none=set_to_none)
    theirs.zero_grad(set_to_none=set_to_none)
    assert same_grads(ours, theirs)  # None stays None; zeros where there was a gradient
    for a, _ in grads(ours, theirs)[:4]:
        assert a is None if set_to_none else (a.dtype == np.float64 and not a.any())
    run(ours, Tensor(x)).backward()
    run(theirs, torch.tensor(x)).backward()
    assert same_grads(ours, theirs)  # one pass, not three


@pytest.mark.parametrize("through", ["module", "optimizer"])
def test_zero_grad_with_set_to_none_false_zeroes_the_held_array_in_place_as_torch(through: str) -> None:
    torch = require_torch()
    layer = Linear(3, 2, seed=0, dtype=np.float32)
    theirs = torch.nn.Linear(3, 2).float()
    for model, x in (
        (layer, Tensor(np.ones((1, 3), dtype=np.float32))),
        (theirs, torch.ones(1, 3, dtype=torch.float32)),
    ):
        model(x).sum().backward()
    held, their_held = layer.weight.grad, theirs.weight.grad
    assert held.any() and their_held.any()
    if through == "module":
        layer.zero_grad(False)
        theirs.zero_grad(False)
    else:
        optim.SGD(layer.parameters(), lr=0.1).zero_grad(set_to_none=False)
        torch.optim.SGD(theirs.parameters(), lr=0.1).zero_grad(set_to_none=False)
    assert theirs.weight.grad is their_held and not their_held.any()  # PyTorch zeroes it in place
    assert layer.weight.grad is held and not held.any()  # so a reference to p.grad sees the zeros
    assert held.dtype == np.float32 and held.shape == (2, 3)


def test_zero_grad_with_set_to_none_false_replaces_a_read_only_grad_set_by_hand() -> None:
    layer = Linear(2, 2, seed=0)
    frozen = np.ones((2, 2))
    frozen.flags.writeable = False
    layer.weight.grad = frozen
    layer.zero_grad(set_to_none=False)
    assert not layer.weight.grad.any() and layer.weight.grad.shape == (2, 2) and frozen.all()


@pytest.mark.parametrize("make", ["SGD", "Adam"])
@given(set_to_none=st.booleans())
def test_optimizer_zero_grad_then_step_without_backward_matches_torch(make: str, set_to_none: bool) -> None:
    """None is skipped by a step, zeros are not: momentum and weight decay still move the weights."""
    torch = require_torch()
    ours, theirs = twin_models(3)
    options = {"lr": 0.1, "weight_decay": 0.1} | ({"momentum": 0.9} if make == "SGD" else {})
    opt = getattr(optim, make)(ours.parameters(), **options)
    their_opt = getattr(torch.optim, make)(theirs.parameters(), **options)
    x = np.linspace(-1, 1, 15).reshape(5, 3)
    for optimizer, model, inp in ((opt, ours, Tensor(x)), (their_opt, theirs, torch.tensor(x))):
        run(model, inp).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=set_to_none)
        optimizer.step()  # no backward in between
    assert same_grads(ours, theirs)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert close_to_torch(p.data, q.detach().numpy())


def test_zero_grad_of_values_is_zero_either_way() -> None:
    model = nn.MLP(2, [3, 1], seed=0)
    for set_to_none in (True, False):
        model([Value(1.0), Value(-2.0)]).backward()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        (model if set_to_none else optimizer).zero_grad(set_to_none=set_to_none)
        assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize("bad", [0, "False", None])
def test_a_non_bool_set_to_none_is_refused(bad: Any) -> None:
    model = Linear(2, 2, seed=0)
    for zero_grad in (model.zero_grad, optim.SGD(model.parameters(), lr=0.1).zero_grad):
        with pytest.raises(TypeError, match="set_to_none must be True or False"):
            zero_grad(set_to_none=bad)
