"""LayerNorm and F.layer_norm against PyTorch float64: outputs and the gradients of the input,
weight and bias for hypothesis-drawn shapes, normalized shapes and options, under both engines;
second derivatives against torch and gradgradcheck (the normalisation is composed of Tensor
operations); the state dict and repr as torch's; float32; and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import LayerNorm, Tensor, gradcheck, gradgradcheck
from micrograd_plus.nn import functional as F


@st.composite
def layer_norm_cases(draw: st.DrawFn) -> dict:
    normalized = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return {
        "shape": batch + normalized,
        "normalized_shape": normalized[0] if len(normalized) == 1 and draw(st.booleans()) else normalized,
        "eps": draw(st.sampled_from([1e-5, 1e-3, 0.5, 0.0])),
        "elementwise_affine": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "scale": draw(st.sampled_from([1e-3, 1.0, 100.0])),
        "seed": draw(st.integers(0, 2**16)),
    }


@given(layer_norm_cases())
def test_layer_norm_matches_torch(each_engine: str, case: dict) -> None:
    torch = require_torch()
    options = {k: case[k] for k in ("eps", "elementwise_affine", "bias")}
    ours = LayerNorm(case["normalized_shape"], **options)
    theirs = torch.nn.LayerNorm(case["normalized_shape"], **options)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(case["seed"])
    with torch.no_grad():  # parameters made non-trivial, then copied here through the state dict
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.normal(size=tuple(p.shape))))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    # (an offset of the size of the spread: a large offset would make the centring cancel digits,
    # and the two libraries would differ by their rounding)
    x = rng.normal(3.0 * case["scale"], case["scale"], size=case["shape"])
    mine, ref = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(mine), theirs(ref)
    assert close_to_torch(out.data, tout.detach().numpy())
    g = rng.normal(size=x.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert close_to_torch(mine.grad, ref.grad.numpy())
    for name, p in theirs.named_parameters():
        assert close_to_torch(getattr(ours, name).grad, p.grad.numpy()), name


@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
def test_the_function_takes_a_weight_a_bias_or_both_as_torchs(affine: str) -> None:
    torch = require_torch()
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    given_w = affine in ("weight", "both")
    given_b = affine in ("bias", "both")
    ours = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.layer_norm(ours[0], [3, 4], ours[1] if given_w else None, ours[2] if given_b else None, eps=1e-3)
    ref = torch.nn.functional.layer_norm(
        theirs[0], [3, 4], theirs[1] if given_w else None, theirs[2] if given_b else None, eps=1e-3
    )
    assert close_to_torch(out.data, ref.detach().numpy())
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    for mine, reference in zip(ours, theirs):
        assert (mine.grad is None) == (reference.grad is None)
        if mine.grad is not None:
            assert close_to_torch(mine.grad, reference.grad.numpy())


def test_second_derivatives_match_torch() -> None:
    torch = require_torch()
    rng = np.random.default_rng(2)
    x_data, w_data, b_data = rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=5)
    layer = LayerNorm(5)
    layer.load_state_dict({"weight": w_data, "bias": b_data})
    x = Tensor(x_data, requires_grad=True)
    out = layer(x)
    (gx,) = mg.grad((out * out.sin()).sum(), [x], create_graph=True)
    (gx * gx).sum().backward()
    ref = torch.nn.LayerNorm(5)
    ref.load_state_dict({"weight": torch.tensor(w_data), "bias": torch.tensor(b_data)})
    tx = torch.tensor(x_data, requires_grad=True)
    tout = ref(tx)
    (tgx,) = torch.autograd.grad((tout * tout.sin()).sum(), [tx], create_graph=True)
    (tgx * tgx).sum().backward()
    assert close_to_torch(gx.data, tgx.detach().numpy())
    assert close_to_torch(x.grad, tx.grad.numpy())
    assert close_to_torch(layer.weight.grad, ref.weight.grad.numpy())
    assert close_to_torch(layer.bias.grad, ref.bias.grad.numpy())


def test_gradients_match_central_differences_to_second_order() -> None:
    rng = np.random.default_rng(3)
    x = Tensor(rng.normal(size=(2, 2, 3)), requires_grad=True)
    w = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), [x, w, b])
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), [x, w, b])


def test_each_sample_has_mean_0_and_variance_1_in_training_and_in_eval() -> None:
    layer = LayerNorm(4)
    x = Tensor(np.random.default_rng(4).normal(5.0, 3.0, size=(3, 4)))
    for mode in (layer.train, layer.eval):
        mode()
        out = layer(x).data
        assert np.allclose(out.mean(axis=-1), 0.0) and np.allclose(out.var(axis=-1), 1.0, atol=1e-4)
    assert layer(x[0]).shape == (4,)  # one sample alone: no batch statistics needed


def test_state_dict_and_parameters_are_torchs() -> None:
    torch = require_torch()
    for options in ({}, {"bias": False}, {"elementwise_affine": False}):
        ours, theirs = LayerNorm((2, 3), **options), torch.nn.LayerNorm((2, 3), **options)
        mine, reference = ours.state_dict(), theirs.state_dict()
        assert list(mine) == list(reference)
        for name, value in reference.items():
            assert np.array_equal(mine[name], value.numpy()) and mine[name].shape == (2, 3)
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_float32_stays_float32() -> None:
    layer = LayerNorm(3, dtype=np.float32)
    x = Tensor(np.arange(6.0).reshape(2, 3), dtype=np.float32, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32 and layer.weight.grad.dtype == np.float32


def test_bad_inputs_and_arguments_say_what_to_do() -> None:
    with pytest.raises(
        ValueError, match=r"normalized_shape=\(3,\) expects an input of shape \(\*, 3\), got \(2, 4\)"
    ):
        LayerNorm(3)(Tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"normalized_shape=\(2, 3\) expects .*\(\*, 2, 3\), got \(3,\)"):
        F.layer_norm(Tensor(np.zeros(3)), (2, 3))
    with pytest.raises(ValueError, match=r"weight must have normalized_shape \(4,\), got shape \(3,\)"):
        F.layer_norm(Tensor(np.zeros((2, 4))), (4,), weight=Tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"bias must have normalized_shape \(4,\), got shape \(4, 1\)"):
        F.layer_norm(Tensor(np.zeros((2, 4))), 4, bias=Tensor(np.ones((4, 1))))
    with pytest.raises(ValueError, match="normalized_shape's sizes must be a positive int, got 0"):
        LayerNorm((2, 0))
    with pytest.raises(ValueError, match="normalized_shape must name at least one axis size"):
        LayerNorm(())
    with pytest.raises(ValueError, match="eps must be a number"):
        LayerNorm(3, eps=-1.0)
