"""SiLU, Mish, Softplus and ELU (modules and functions) against PyTorch float64: values and
gradients for hypothesis-drawn inputs (on a grid holding ELU's kink at 0 and Softplus's
threshold), at the extremes (huge, infinite, nan), second derivatives (PyTorch's at the kinks), gradgradcheck, float32,
and bad arguments."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import ELU, Mish, SiLU, Softplus, Tensor, gradcheck, gradgradcheck
from micrograd_plus.nn import functional as F

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
grid = st.integers(-200, 200).map(lambda i: i / 8)  # holds 0 and 20 (softplus's default threshold)


def cases(torch: Any) -> list[tuple[str, Any, Any]]:
    """(name, our layer, torch's) for each activation and a few settings."""
    nn = torch.nn
    return [
        ("SiLU", SiLU(), nn.SiLU()),
        ("Mish", Mish(), nn.Mish()),
        ("Softplus", Softplus(), nn.Softplus()),
        ("Softplus(2, 5)", Softplus(2.0, 5.0), nn.Softplus(2.0, 5.0)),
        ("Softplus(-0.5, 1)", Softplus(-0.5, 1), nn.Softplus(-0.5, 1)),
        ("Softplus(beta=3)", Softplus(beta=3), nn.Softplus(beta=3)),
        ("ELU", ELU(), nn.ELU()),
        ("ELU(0.3)", ELU(0.3), nn.ELU(0.3)),
        ("ELU(-2)", ELU(-2.0), nn.ELU(-2.0)),
    ]


def compare(ours: Any, theirs: Any, x: np.ndarray, g: np.ndarray) -> None:
    torch = require_torch()
    mine, ref = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(mine), theirs(ref)
    assert repr(ours) == repr(theirs)
    assert close_to_torch(out.data, tout.detach().numpy()), (out.data, tout)
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert close_to_torch(mine.grad, ref.grad.numpy()), (mine.grad, ref.grad)


@given(x=hnp.arrays(np.float64, shapes, elements=grid), seed=st.integers(0, 2**16))
def test_values_and_gradients_match_torch(each_engine: str, x: np.ndarray, seed: int) -> None:
    torch = require_torch()
    g = np.random.default_rng(seed).normal(size=x.shape)
    for _, ours, theirs in cases(torch):
        compare(ours, theirs, x, g)


def test_the_extremes_match_torch() -> None:
    torch = require_torch()
    x = np.array([-1e308, -1000.0, -40.0, -20.0, -1e-8, -0.0, 0.0, 1e-8, 19.99, 20.0, 20.01, 1000.0, 1e308])
    x = np.concatenate([x, [np.inf, -np.inf]])
    for _, ours, theirs in cases(torch):
        compare(ours, theirs, x, np.ones(x.shape))


def test_nan_gives_nan_and_its_gradient_is_torchs() -> None:
    """ELU's gradient at a nan is 1 (the x > 0 branch's slope), as PyTorch's scalar loop gives it;
    its vectorised loop gives nan, so PyTorch's answer depends on the tensor's length (1 for a
    short one, nan from 16 elements on)."""
    torch = require_torch()
    x = np.array([np.nan, 1.0])
    for name, ours, theirs in cases(torch):
        mine = Tensor(x, requires_grad=True)
        out = ours(mine)
        out.backward(np.ones(2))
        assert np.isnan(out.data[0]) and not np.isnan(out.data[1]), name
        if name.startswith("ELU"):
            assert mine.grad[0] == 1.0
        else:
            compare(ours, theirs, x, np.ones(2))
            assert np.isnan(mine.grad[0]), name


def test_the_functions_are_the_modules() -> None:
    torch = require_torch()
    x = np.linspace(-6, 6, 13)
    tf = torch.nn.functional
    pairs = [
        (F.silu, tf.silu, {}),
        (F.mish, tf.mish, {}),
        (F.softplus, tf.softplus, {"beta": 0.5, "threshold": 2.0}),
        (F.elu, tf.elu, {"alpha": 0.7}),
    ]
    for ours, theirs, options in pairs:
        assert close_to_torch(ours(Tensor(x), **options).data, theirs(torch.tensor(x), **options).numpy())
        assert np.array_equal(ours(x, **options).data, ours(Tensor(x), **options).data)  # an array too


@pytest.mark.parametrize("index", range(9))
def test_second_derivatives_match_torch(index: int) -> None:
    torch = require_torch()
    x_data = np.concatenate([np.linspace(-6, 6, 9), [0.0, 2.5, -2.0, 10.0, 20.0, 25.0]])  # kinks, thresholds
    name, ours, theirs = cases(torch)[index]
    x = Tensor(x_data, requires_grad=True)
    (g,) = mg.grad(ours(x).sum(), [x], create_graph=True)
    (g * g.sin()).sum().backward()
    tx = torch.tensor(x_data, requires_grad=True)
    (tg,) = torch.autograd.grad(theirs(tx).sum(), [tx], create_graph=True)
    (tg * tg.sin()).sum().backward()
    assert close_to_torch(g.data, tg.detach().numpy()), name
    assert close_to_torch(x.grad, tx.grad.numpy()), name


@pytest.mark.parametrize("function", [F.silu, F.mish, F.softplus, lambda x: F.softplus(x, 2.0, 3.0), F.elu])
def test_gradients_match_central_differences_to_second_order(function: Any) -> None:
    x = Tensor(np.array([-3.0, -0.7, 0.4, 1.9, 4.2]), requires_grad=True)  # away from the kinks
    assert gradcheck(function, [x])
    assert gradgradcheck(function, [x])


@pytest.mark.parametrize("layer", [SiLU(), Mish(), Softplus(), ELU()], ids=repr)
def test_float32_stays_float32(layer: Any) -> None:
    x = Tensor(np.array([-30.0, -1.0, 0.0, 2.0, 30.0]), dtype=np.float32, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))


def test_inplace_is_accepted_and_the_input_kept() -> None:
    x = Tensor(np.array([-1.0, 2.0]))
    for layer in (SiLU(True), Mish(inplace=True), ELU(inplace=True)):
        assert "inplace=True" in repr(layer)
        layer(x)
    assert np.array_equal(x.data, [-1.0, 2.0])


@pytest.mark.parametrize("name", ["ReLU", "SiLU", "Mish"])
def test_the_inplace_flag_layers_print_and_save_as_torchs(name: str) -> None:
    torch = require_torch()
    for args, kwargs in (((), {}), ((True,), {}), ((), {"inplace": False}), ((), {"inplace": True})):
        ours, theirs = getattr(mg, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert repr(ours) == repr(theirs) and ours.inplace is theirs.inplace
        assert ours.state_dict() == dict(theirs.state_dict()) == {}
    with pytest.raises(TypeError, match=f"{name}: inplace must be True or False, got str"):
        getattr(mg, name)("yes")


def test_the_inplace_flag_layers_docstrings_say_what_inplace_does() -> None:
    """help(nn.ReLU) (and the API page) tells the user about `inplace`, not about a private class."""
    relu = inspect.getdoc(mg.ReLU) or ""
    assert "computed out of place" in relu and "check_inplace" in relu
    for layer in (mg.ReLU, mg.SiLU, mg.Mish):
        doc = inspect.getdoc(layer) or ""
        assert "`inplace`" in doc and "`_" not in doc, layer.__name__


def test_bad_arguments_say_what_is_wrong() -> None:
    with pytest.raises(TypeError, match="Softplus: beta must be a number, got str"):
        Softplus("2")
    with pytest.raises(TypeError, match="softplus\\(\\): threshold must be a number"):
        F.softplus(Tensor([1.0]), 1.0, None)
    with pytest.raises(TypeError, match="ELU: alpha must be a number"):
        ELU(alpha=[1.0])
    with pytest.raises(TypeError, match="SiLU: inplace must be True or False"):
        SiLU(1)
    with pytest.raises(TypeError, match="mish\\(\\): inplace must be True or False"):
        F.mish(Tensor([1.0]), inplace="yes")
