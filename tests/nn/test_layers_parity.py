"""Layers and containers as in PyTorch (issue 16): train() / eval() and the `training` flag,
Dropout, LeakyReLU, GELU, Softmax, LogSoftmax, Identity, ModuleList and ModuleDict; values and
gradients against PyTorch float64 in train and eval modes, second derivatives, gradchecks, and
state_dict names that line up with PyTorch's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import (
    GELU,
    Dropout,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Module,
    ModuleDict,
    ModuleList,
    ReLU,
    Sequential,
    Softmax,
    Tensor,
    nn,
)

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
# On a grid that holds 0: LeakyReLU's kink is checked against PyTorch exactly there.
grid = st.integers(-40, 40).map(lambda i: i / 8)


def compare(ours_layer: Any, theirs_layer: Any, x: np.ndarray, weight: np.ndarray | None = None) -> None:
    """The layer's output and the input's gradient agree with PyTorch's."""
    torch = require_torch()
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours_layer(ours), theirs_layer(theirs)
    assert out.shape == tuple(ref.shape)
    assert close_to_torch(out.data, ref.detach().numpy())
    g = np.random.default_rng(0).normal(size=out.shape) if weight is None else weight
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert close_to_torch(ours.grad, theirs.grad.numpy()), (ours.grad, theirs.grad)


# --- activations --------------------------------------------------------------------------------------


@given(x=hnp.arrays(np.float64, shapes, elements=grid), slope=st.sampled_from([0.01, 0.2, -0.5, 0.0, 1.5]))
def test_leaky_relu_matches_torch_also_at_zero(x: np.ndarray, slope: float) -> None:
    torch = require_torch()
    compare(LeakyReLU(slope), torch.nn.LeakyReLU(slope), x)
    compare(LeakyReLU(), torch.nn.LeakyReLU(), x)


@given(
    x=hnp.arrays(np.float64, shapes, elements=st.floats(-12, 12)),
    approximate=st.sampled_from(["none", "tanh"]),
)
def test_gelu_matches_torch(x: np.ndarray, approximate: str) -> None:
    torch = require_torch()
    compare(GELU(approximate), torch.nn.GELU(approximate=approximate), x)


def test_gelu_at_extremes_and_its_second_derivative_match_torch() -> None:
    torch = require_torch()
    x = np.array([-40.0, -8.0, -1e-8, 0.0, 1e-8, 3.0, 40.0, np.inf, -np.inf, np.nan])
    compare(GELU(), torch.nn.GELU(), x, weight=np.ones(x.shape))
    finite = np.linspace(-5, 5, 11)
    ours, theirs = Tensor(finite, requires_grad=True), torch.tensor(finite, requires_grad=True)
    (g,) = mg.grad(GELU()(ours).sum(), [ours], create_graph=True)
    (h,) = mg.grad((g * g).sum(), [ours])
    (tg,) = torch.autograd.grad(torch.nn.GELU()(theirs).sum(), [theirs], create_graph=True)
    (th,) = torch.autograd.grad((tg * tg).sum(), [theirs])
    assert close_to_torch(g.data, tg.detach().numpy()) and close_to_torch(h.data, th.numpy())


@given(x=hnp.arrays(np.float64, shapes, elements=st.floats(-20, 20)), data=st.data())
def test_softmax_and_log_softmax_modules_match_torch(x: np.ndarray, data: st.DataObject) -> None:
    torch = require_torch()
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    compare(Softmax(dim), torch.nn.Softmax(dim), x)
    compare(LogSoftmax(dim=dim), torch.nn.LogSoftmax(dim=dim), x)


def test_functional_forms_are_the_modules() -> None:
    F = nn.functional
    x = Tensor(np.linspace(-2, 2, 12).reshape(3, 4))
    np.testing.assert_array_equal(F.leaky_relu(x, 0.1).data, LeakyReLU(0.1)(x).data)
    np.testing.assert_array_equal(F.gelu(x).data, GELU()(x).data)
    np.testing.assert_array_equal(F.softmax(x, 0).data, Softmax(0)(x).data)
    np.testing.assert_array_equal(F.log_softmax(x, 1).data, LogSoftmax(1)(x).data)
    np.testing.assert_array_equal(F.relu(x).data, ReLU()(x).data)


def test_identity_returns_its_input_and_ignores_arguments() -> None:
    torch = require_torch()
    x = np.array([[1.0, -2.0]])
    compare(Identity(54, unused="yes"), torch.nn.Identity(54, unused="yes"), x)
    t = Tensor(x)
    assert Identity()(t) is t
    assert Identity().parameters() == []


def test_gradcheck_of_the_activations() -> None:
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(3, 4)) * 2, requires_grad=True)  # no element within 1e-6 of 0
    for layer in (LeakyReLU(0.3), GELU(), GELU("tanh"), Softmax(1), LogSoftmax(0)):
        assert mg.gradcheck(lambda t, layer=layer: layer(t), (x,))


def test_activations_name_bad_arguments() -> None:
    with pytest.raises(TypeError, match="negative_slope must be a number"):
        LeakyReLU("0.1")
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        GELU("fast")
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        Softmax(2)(Tensor([[1.0, 2.0]]))
    assert repr(LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(Softmax(dim=1)) == "Softmax(dim=1)"


# --- train() and eval() -------------------------------------------------------------------------------


class Block(Module):
    def __init__(self) -> None:
        self.linear = Linear(3, 3, seed=0)
        self.drop = Dropout(0.5, seed=0)


def build_ours() -> Module:
    class Net(Module):
        def __init__(self) -> None:
            self.blocks = ModuleList([Block(), Block()])
            self.heads = ModuleDict({"a": Linear(3, 1, seed=1), "b": Sequential(Dropout(0.1), ReLU())})
            self.extra = ModuleList([Dropout(0.2)])

    return Net()


def build_theirs() -> Any:
    torch = require_torch()

    class TorchBlock(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(3, 3)
            self.drop = torch.nn.Dropout(0.5)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = torch.nn.ModuleList([TorchBlock(), TorchBlock()])
            self.heads = torch.nn.ModuleDict(
                {"a": torch.nn.Linear(3, 1), "b": torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.ReLU())}
            )
            self.extra = torch.nn.ModuleList([torch.nn.Dropout(0.2)])

    return Net()


def flags(model: Any) -> dict[str, bool]:
    return {name: m.training for name, m in model.named_modules()}


def test_train_and_eval_set_every_sub_module_as_in_torch() -> None:
    ours, theirs = build_ours(), build_theirs()
    assert ours.training and all(flags(ours).values())
    assert ours.eval() is ours
    theirs.eval()
    assert not any(flags(ours).values())
    assert sorted(flags(ours)) == sorted(flags(theirs))  # the same sub-modules, by the same names
    ours.blocks[1].train()  # a sub-module alone, as in PyTorch
    theirs.blocks[1].train()
    assert flags(ours) == flags(theirs)
    ours.train()
    theirs.train()
    assert flags(ours) == flags(theirs)
    assert ours.train(False) is ours and not ours.heads["b"][0].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        ours.train("no")


def test_module_list_and_dict_names_line_up_with_torch() -> None:
    torch = require_torch()
    ours, theirs = build_ours(), build_theirs()
    state = ours.state_dict()
    reference = theirs.state_dict()
    assert list(state) == list(reference)  # e.g. blocks.0.linear.weight, heads.a.bias
    assert all(state[k].shape == tuple(reference[k].shape) for k in state)
    assert len(ours.parameters()) == len(list(theirs.parameters()))
    ours.load_state_dict({k: v.numpy() for k, v in reference.items()})
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(2).normal(size=(4, 3))
    y = Tensor(x)
    with torch.no_grad():
        t = torch.tensor(x)
        for ob, tb in zip(ours.blocks, theirs.blocks):
            y, t = ob.drop(ob.linear(y)), tb.drop(tb.linear(t))
        assert close_to_torch(
            ours.heads["b"](ours.heads["a"](y)).data, theirs.heads["b"](theirs.heads["a"](t)).numpy()
        )


# --- Dropout --------------------------------------------------------------------------------------------


@given(
    x=hnp.arrays(np.float64, shapes, elements=st.floats(-5, 5).filter(lambda v: v != 0)),
    p=st.sampled_from([0.1, 0.5, 0.9]),
    seed=st.integers(0, 2**32 - 1),
)
def test_dropout_in_training_zeroes_or_scales_each_element_and_its_gradient(
    x: np.ndarray, p: float, seed: int
) -> None:
    layer = Dropout(p, seed=seed)
    ours = Tensor(x, requires_grad=True)
    out = layer(ours)
    kept = out.data != 0
    np.testing.assert_allclose(out.data[kept], x[kept] / (1 - p), rtol=1e-15)
    g = np.random.default_rng(seed).normal(size=x.shape)
    out.backward(g)
    np.testing.assert_allclose(ours.grad, np.where(kept, g / (1 - p), 0.0), rtol=1e-15)
    again = Dropout(p, seed=seed)(Tensor(x))
    np.testing.assert_array_equal(again.data, out.data)  # seeded: the same elements dropped


def test_dropout_drops_about_p_and_keeps_the_mean() -> None:
    x = Tensor(np.ones(100_000))
    for p in (0.2, 0.5, 0.8):
        out = Dropout(p, seed=3)(x).data
        dropped = np.mean(out == 0)
        assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / x.numel())  # 5 standard errors
        assert abs(out.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / x.numel())
    layer = Dropout(0.5, seed=0)
    first, second = layer(x).data, layer(x).data
    assert not np.array_equal(first, second)  # a new mask on every call


def test_dropout_is_the_identity_in_eval_mode_and_at_p_zero_as_in_torch() -> None:
    torch = require_torch()
    x = np.random.default_rng(4).normal(size=(3, 5))
    for p in (0.0, 0.3, 1.0):
        compare(Dropout(p).eval(), torch.nn.Dropout(p).eval(), x)
    compare(Dropout(0.0), torch.nn.Dropout(0.0), x)  # training, p = 0
    compare(Dropout(1.0), torch.nn.Dropout(1.0), x)  # training, p = 1: all zero, no gradient
    t = Tensor(x)
    assert Dropout(0.5).eval()(t) is t


def test_model_eval_switches_nested_dropout_off_and_train_on_again() -> None:
    model = Sequential(Linear(4, 4, seed=0), Dropout(0.5, seed=1), ReLU(), Linear(4, 2, seed=2))
    x = Tensor(np.random.default_rng(5).normal(size=(8, 4)))
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
    model.train()
    assert not np.array_equal(model(x).data, model(x).data)


def test_dropout_never_touches_numpys_global_random_state() -> None:
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    Dropout(0.5)(Tensor(np.ones(50)))
    Dropout(0.5, seed=2)(Tensor(np.ones(50)))
    nn.functional.dropout(Tensor(np.ones(50)), 0.5)
    assert np.array_equal(np.random.get_state()[1], before)


def test_dropout_names_bad_arguments() -> None:
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            Dropout(p)
    for p in ("half", True):
        with pytest.raises(TypeError, match="dropout probability must be a number"):
            Dropout(p)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed must be an int"):
        Dropout(0.5, seed="x")  # type: ignore[arg-type]
    assert repr(Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"  # PyTorch's
    assert Dropout(0.5).parameters() == [] and Dropout(0.5).state_dict() == {}


def test_dropout_keeps_float32() -> None:
    x = Tensor(np.ones((4, 4)), dtype=np.float32, requires_grad=True)
    out = Dropout(0.5, seed=0)(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


# --- ModuleList and ModuleDict as containers --------------------------------------------------------------


def test_module_list_behaves_as_a_list() -> None:
    layers = ModuleList([Linear(2, 2, seed=0)])
    layers.append(ReLU()).extend([Linear(2, 1, seed=1)])
    layers.insert(1, Identity())
    assert [type(m).__name__ for m in layers] == ["Linear", "Identity", "ReLU", "Linear"]
    assert len(layers) == 4 and isinstance(layers[1:3], ModuleList) and len(layers[1:3]) == 2
    assert list(layers.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    layers[2] = LeakyReLU()
    assert isinstance(layers[2], LeakyReLU) and isinstance(layers[-1], Linear)
    with pytest.raises(TypeError, match="ModuleList item 4 must be a Module"):
        layers.append(np.zeros(2))
    with pytest.raises(TypeError, match="an iterable of modules"):
        layers.extend(Linear(1, 1))
    with pytest.raises(NotImplementedError, match="must define forward"):
        layers(Tensor([1.0, 2.0]))
    assert "(3): Linear" in repr(layers)


def test_module_dict_behaves_as_a_dict() -> None:
    heads = ModuleDict([("b", Linear(2, 1, seed=0)), ("a", ReLU())])
    heads["c"] = Linear(1, 1, seed=1)
    assert list(heads) == list(heads.keys()) == ["b", "a", "c"]  # insertion order, as PyTorch
    assert "a" in heads and len(heads) == 3 and isinstance(heads["c"], Linear)
    assert list(heads.state_dict()) == ["b.weight", "b.bias", "c.weight", "c.bias"]
    assert [k for k, _ in heads.items()] == ["b", "a", "c"] and len(list(heads.values())) == 3
    heads.update(ModuleDict({"d": Identity()}))
    del heads["a"]
    assert isinstance(heads.pop("d"), Identity) and list(heads) == ["b", "c"]
    with pytest.raises(ValueError, match="without '.'"):
        heads["x.y"] = ReLU()
    with pytest.raises(ValueError, match="non-empty"):
        heads[""] = ReLU()
    with pytest.raises(TypeError, match="keys must be str"):
        heads[1] = ReLU()  # type: ignore[index]
    with pytest.raises(TypeError, match=r"ModuleDict\['z'\] must be a Module"):
        heads["z"] = 3  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"a mapping or \(name, module\) pairs"):
        ModuleDict([ReLU()])  # type: ignore[list-item]


def test_every_new_name_is_importable_from_the_top_level_and_from_nn() -> None:
    layers = ["Dropout", "LeakyReLU", "GELU", "Softmax", "LogSoftmax", "Identity", "ModuleList", "ModuleDict"]
    losses = [
        "NLLLoss",
        "L1Loss",
        "HuberLoss",
        "SmoothL1Loss",
        "nll_loss",
        "l1_loss",
        "huber_loss",
        "smooth_l1_loss",
    ]
    for name in layers + losses:
        assert getattr(mg, name) is getattr(nn, name), name
    for name in [
        "tensor",
        "zeros",
        "ones",
        "zeros_like",
        "ones_like",
        "randn",
        "rand",
        "arange",
        "linspace",
        "eye",
        "full",
        "where",
    ]:
        assert callable(getattr(mg, name)), name
    for name in ["relu", "softmax", "log_softmax", "leaky_relu", "gelu", "dropout"]:
        assert callable(getattr(nn.functional, name)), name
