"""`print(net)` as PyTorch prints it: a user's Module subclass lists its sub-modules by attribute,
indented and nested, with `extra_repr`; containers nest; ModuleList folds runs of alike modules.
Compared with torch's own repr of the same model, the 60-minute blitz's LeNet and random trees."""

from __future__ import annotations

from collections import OrderedDict
from types import ModuleType
from typing import Any

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
