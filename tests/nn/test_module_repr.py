"""`print(net)` as PyTorch prints it: a user's Module subclass lists its sub-modules by attribute,
indented and nested, with `extra_repr`; containers nest; ModuleList folds runs of alike modules.
Compared with torch's own repr of the same model, the 60-minute blitz's LeNet and random trees."""

from __future__ import annotations

from collections import OrderedDict
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sixty_minute_blitz import lenet

import micrograd_plus as mg


def test_the_blitz_lenet_prints_as_in_pytorch():
    torch = require_torch()
    ours = repr(lenet(mg))
    assert ours == repr(lenet(torch))
    assert ours.splitlines()[:2] == ["Net(", "  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"]


def nested(nn: ModuleType) -> Any:
    class Leaf(nn.Module):  # settings only, one line
        def extra_repr(self) -> str:
            return "size=3"

    class Lines(nn.Module):  # settings on two lines, and a child
        def __init__(self) -> None:
            super().__init__()
            self.inner = Leaf()

        def extra_repr(self) -> str:
            return "first=1\nsecond=2"

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Sequential(nn.Tanh(), nn.Linear(2, 2)))
            self.heads = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.Sigmoid()])
            self.named = nn.ModuleDict({"a": nn.Identity(), "b": nn.Sequential()})
            self.empty = nn.ModuleList()

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([Block(), Block()])
            self.seq = nn.Sequential(OrderedDict(fc=nn.Linear(3, 1), conv=nn.Conv2d(1, 2, 3, padding="same")))
            self.leaf = Leaf()
            self.lines = Lines()
            self.shared = self.leaf  # held twice: printed under both names, as in PyTorch

    return Net()


def test_nested_modules_lists_dicts_and_extra_repr_print_as_in_pytorch():
    torch = require_torch()
    ours = repr(nested(mg.nn))
    assert ours == repr(nested(torch.nn))
    assert "    (0-1): 2 x Block(\n      (body): Sequential(\n        (0): Linear(" in ours
    assert "  (lines): Lines(\n    first=1\n    second=2\n    (inner): Leaf(size=3)\n  )" in ours


def test_a_module_without_children_or_settings_is_its_name_and_parentheses():
    class Scale(mg.nn.Module):
        def __init__(self) -> None:
            self.w = mg.Parameter(mg.tensor(2.0))  # a parameter is not a child

        def forward(self, x: Any) -> Any:
            return self.w * x

    assert repr(Scale()) == "Scale()" and str(Scale()) == "Scale()"
    assert repr(mg.Sequential()) == "Sequential()" and repr(mg.nn.ModuleList()) == "ModuleList()"


def test_micrograds_own_modules_keep_their_reprs_inside_a_users_module():
    class Holder(mg.nn.Module):
        def __init__(self) -> None:
            self.mlp = mg.MLP(2, [1], seed=0)
            self.layers = [mg.Linear(1, 1, seed=0)]  # a plain list: found, named as in named_parameters

    assert repr(Holder()) == (
        "Holder(\n  (mlp): MLP of [Layer of [LinearNeuron(2)]]\n"
        "  (layers.0): Linear(in_features=1, out_features=1, bias=True)\n)"
    )


# A random tree of modules, built alike in both libraries: ("linear", in, out, bias),
# ("conv", in, out, kernel, stride, padding, dilation, groups, bias), ("relu",),
# ("seq", [children]), ("list", [children]), ("dict", {name: child}), ("user", {name: child}).
names = st.text(alphabet="abcxyz_", min_size=1, max_size=4)
leaves = (
    st.tuples(st.just("linear"), st.integers(1, 4), st.integers(1, 4), st.booleans())
    | st.tuples(
        st.just("conv"),
        st.integers(1, 2),
        st.integers(1, 2),
        st.integers(1, 3),
        st.integers(1, 2),
        st.sampled_from([0, 1, (1, 2), "valid"]),
        st.sampled_from([1, 2, (1, 2)]),
        st.sampled_from([1, 2]),
        st.booleans(),
    )
    | st.just(("relu",))
)
trees = st.recursive(
    leaves,
    lambda inner: (
        st.tuples(st.just("seq"), st.lists(inner, max_size=3))
        | st.tuples(st.just("list"), st.lists(inner, max_size=4))
        | st.tuples(st.just("dict"), st.dictionaries(names, inner, max_size=3))
        | st.tuples(st.just("user"), st.dictionaries(names, inner, max_size=3))
    ),
    max_leaves=10,
)


def build(nn: ModuleType, spec: tuple) -> Any:
    kind, *rest = spec
    if kind == "linear":
        n_in, n_out, bias = rest
        return nn.Linear(n_in, n_out, bias=bias)
    if kind == "conv":
        n_in, n_out, kernel, stride, padding, dilation, groups, bias = rest
        return nn.Conv2d(
            n_in * groups, n_out * groups, kernel, stride, padding, dilation, groups=groups, bias=bias
        )
    if kind == "relu":
        return nn.ReLU()
    if kind == "seq":
        return nn.Sequential(*[build(nn, child) for child in rest[0]])
    if kind == "list":
        return nn.ModuleList([build(nn, child) for child in rest[0]])
    children = {name: build(nn, child) for name, child in rest[0].items()}
    if kind == "dict":
        return nn.ModuleDict(children)

    class User(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for name, child in children.items():
                setattr(self, name, child)

    return User()


@settings(max_examples=150, deadline=None)
@given(trees)
def test_any_tree_of_modules_prints_as_in_pytorch(spec):
    torch = require_torch()
    assert repr(build(mg.nn, spec)) == repr(build(torch.nn, spec))


# Every layer class both libraries have, with its defaults and with other settings: (name, args, kwargs).
LAYERS = [
    ("Linear", (2, 3), {}),
    ("Linear", (2, 3), {"bias": False}),
    ("Conv2d", (1, 2, 3), {}),
    ("Conv2d", (2, 4, (3, 2)), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False}),
    ("Conv2d", (2, 2, 3), {"padding": "same"}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((2, 3),), {"stride": 1, "padding": 1, "dilation": 2, "ceil_mode": True}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3, 1, 1), {"ceil_mode": True, "count_include_pad": False, "divisor_override": 2}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveAvgPool2d", ((None, 2),), {}),
    ("Flatten", (), {}),
    ("Flatten", (0, 2), {}),
    ("ReLU", (), {}),
    ("ReLU", (True,), {}),
    ("Tanh", (), {}),
    ("Sigmoid", (), {}),
    ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2, True), {}),
    ("GELU", (), {}),
    ("GELU", ("tanh",), {}),
    ("Softmax", (1,), {}),
    ("LogSoftmax", (), {"dim": -1}),
    ("Identity", (), {}),
    ("Identity", (3,), {"unused": 2}),
    ("Dropout", (), {}),
    ("Dropout", (0.25, True), {}),
    ("BatchNorm1d", (3,), {}),
    ("BatchNorm1d", (3,), {"bias": False}),
    ("BatchNorm2d", (3,), {"eps": 1e-3, "momentum": None, "affine": False, "track_running_stats": False}),
    ("MSELoss", (), {}),
    ("MSELoss", (), {"reduction": "sum"}),
    ("L1Loss", (), {"reduction": "none"}),
    ("BCELoss", (), {}),
    ("BCEWithLogitsLoss", (), {"reduction": "sum"}),
    ("CrossEntropyLoss", (), {}),
    ("CrossEntropyLoss", (), {"ignore_index": 1, "reduction": "sum", "label_smoothing": 0.1}),
    ("NLLLoss", (), {"ignore_index": 0}),
    ("HuberLoss", (), {"delta": 2.0}),
    ("SmoothL1Loss", (), {"beta": 0.5}),
    ("Sequential", (), {}),
    ("ModuleList", (), {}),
    ("ModuleDict", (), {}),
    ("ParameterList", (), {}),
    ("ParameterDict", (), {}),
    ("Embedding", (10, 3), {}),
    ("Embedding", (10, 3, -1), {"norm_type": 1.0, "scale_grad_by_freq": True}),
    ("LayerNorm", (4,), {}),
    ("LayerNorm", ([2, 3],), {"eps": 1e-3, "elementwise_affine": False}),
    ("LayerNorm", ((4,),), {"bias": False}),
    ("SiLU", (), {}),
    ("SiLU", (True,), {}),
    ("Mish", (), {}),
    ("Mish", (), {"inplace": True}),
    ("Softplus", (), {}),
    ("Softplus", (2, 10), {}),
    ("ELU", (), {}),
    ("ELU", (0.5, True), {}),
]


def test_the_layer_list_covers_every_layer_class_pytorch_also_has():
    torch = require_torch()
    ours = {name for name in dir(mg.nn) if isinstance(getattr(mg.nn, name), type)}
    shared = {
        name for name in ours if issubclass(getattr(mg.nn, name), mg.nn.Module) and hasattr(torch.nn, name)
    }
    assert shared - {"Module"} == {name for name, _, _ in LAYERS}


@pytest.mark.parametrize(("name", "args", "kwargs"), LAYERS, ids=lambda x: str(x))
def test_each_layer_prints_as_pytorchs(name: str, args: tuple, kwargs: dict):
    torch = require_torch()
    assert repr(getattr(mg.nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args, **kwargs))


def subclasses(nn: ModuleType) -> list[Any]:
    class Swish(nn.ReLU):
        pass

    class WithChild(nn.Linear):
        def __init__(self) -> None:
            super().__init__(2, 3)
            self.act = nn.ReLU()

    class Settings(nn.Dropout):
        def extra_repr(self) -> str:
            return "mine=1"

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(Swish(), WithChild(), Settings(0.3))

    return [Swish(), WithChild(), Settings(), Net()]


def test_subclasses_of_the_layers_print_through_extra_repr_as_in_pytorch():
    torch = require_torch()
    ours, theirs = subclasses(mg.nn), subclasses(torch.nn)
    assert [repr(m) for m in ours] == [repr(m) for m in theirs]
    assert repr(ours[0]) == "Swish()" and repr(ours[2]) == "Settings(mine=1)"


def test_a_module_assigned_to_a_container_is_registered_as_in_pytorch():
    torch = require_torch()
    made = []
    for nn in (mg.nn, torch.nn):
        s = nn.Sequential(nn.ReLU())
        s.extra = nn.Linear(2, 2)
        ml = nn.ModuleList([nn.ReLU(), nn.ReLU()])
        ml.extra = nn.Linear(2, 3)
        md = nn.ModuleDict({"a": nn.ReLU()})
        md.extra = nn.Linear(3, 2)
        made.append((s, ml, md))
    for ours, theirs in zip(*made):
        if isinstance(ours, mg.nn.ModuleList):  # PyTorch's shows it as "(2)", by its place in _modules
            assert repr(ours).splitlines()[2] == "  (extra): Linear(in_features=2, out_features=3, bias=True)"
        else:
            assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
        assert len(ours.parameters()) == len(list(theirs.parameters())) == 2
    (s, _, md), (ts, _, tmd) = made
    assert len(s) == len(ts) == 2 and len(md) == len(tmd) == 2  # a layer, an item, as there
    assert s[1] is s.extra and md["extra"] is md.extra
    x = mg.tensor(np.ones((1, 2)))
    assert s(x).shape == (1, 2)  # forward runs it, as PyTorch's
