"""ParameterList and ParameterDict as PyTorch's: a model holding them has the same parameter
names, state dict keys and printout as the PyTorch model; a Tensor put in becomes a parameter
sharing its numbers; a frozen one stays a parameter; list and dict operations; bad items."""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import require_torch

import micrograd_plus as mg
from micrograd_plus import ParameterDict, ParameterList, Tensor


def model(nn: ModuleType, tensor: Any) -> Any:
    """The same model in either library: parameters in a list and a dict, and layers around them."""

    class Mixer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Linear(3, 2)
            self.scales = nn.ParameterList([nn.Parameter(tensor(np.ones(2))), tensor(np.zeros((2, 2)))])
            self.gates = nn.ParameterDict(
                {"in": tensor(np.full(3, 0.5)), "out": nn.Parameter(tensor(np.ones(2)))}
            )
            self.norm = nn.LayerNorm(2)

        def forward(self, x: Any) -> Any:
            h = self.first(x * self.gates["in"]) * self.scales[0]
            return self.norm(h @ self.scales[1] + h) * self.gates["out"]

    return Mixer()


def test_names_state_dict_and_printout_are_torchs_and_the_outputs_agree() -> None:
    torch = require_torch()
    ours, theirs = model(mg.nn, mg.tensor), model(torch.nn, torch.tensor)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "scales.1" in ours.state_dict() and "gates.out" in ours.state_dict()
    rng = np.random.default_rng(0)
    theirs.load_state_dict(
        {k: torch.tensor(rng.normal(size=tuple(v.shape))) for k, v in theirs.state_dict().items()}
    )
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.normal(size=(4, 3))
    out, ref = ours(Tensor(x)), theirs(torch.tensor(x))
    assert np.allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert np.allclose(p.grad, q.grad.numpy(), rtol=1e-10, atol=1e-12), name


def test_an_optimizer_trains_them_and_save_and_load_keep_them(tmp_path) -> None:
    trained = model(mg.nn, mg.tensor)
    optimizer = mg.Adam(trained.parameters(), lr=0.1)
    x = Tensor(np.random.default_rng(1).normal(size=(5, 3)))
    before = trained.scales[1].data.copy()
    for _ in range(3):
        optimizer.zero_grad()
        (trained(x) ** 2).sum().backward()
        optimizer.step()
    assert not np.array_equal(trained.scales[1].data, before)
    mg.save(trained, tmp_path / "mixer.safetensors")
    fresh = model(mg.nn, mg.tensor)
    mg.load(fresh, tmp_path / "mixer.safetensors")
    assert np.array_equal(fresh.scales[1].data, trained.scales[1].data)
    assert np.array_equal(fresh.gates["in"].data, trained.gates["in"].data)


def test_a_tensor_put_in_becomes_a_parameter_sharing_its_numbers() -> None:
    plain = Tensor(np.zeros(3))
    leaf = Tensor(np.ones(2), requires_grad=True)
    params = ParameterList([plain, leaf])
    assert params[1] is leaf  # a parameter already: kept as it is
    assert params[0] is not plain and params[0].requires_grad and params[0].is_leaf
    plain.data[0] = 4.0
    assert params[0].data[0] == 4.0  # the same numbers, as PyTorch's Parameter(t)
    made = leaf * 2.0  # not a leaf: a new leaf with its numbers
    named = ParameterDict({"made": made})
    assert (
        named["made"].is_leaf
        and named["made"].requires_grad
        and np.array_equal(named["made"].data, made.data)
    )


def test_a_frozen_parameter_stays_a_parameter() -> None:
    params = ParameterList([Tensor(np.ones(2)), Tensor(np.ones(3))])
    named = ParameterDict({"a": Tensor(np.ones(2))})
    params[0].requires_grad = False
    named["a"].requires_grad = False
    assert len(params.parameters()) == 2 and list(params.state_dict()) == ["0", "1"]
    assert len(named.parameters()) == 1 and list(named.state_dict()) == ["a"]


def test_an_attribute_aliasing_a_frozen_item_stays_in_the_state_dict_as_torchs() -> None:
    torch = require_torch()
    for library, tensor in ((mg, mg.tensor), (torch, torch.tensor)):
        listed = library.nn.ParameterList([tensor(np.ones(2)), tensor(np.ones(3))])
        named = library.nn.ParameterDict({"a": tensor(np.ones(2))})
        listed.requires_grad_(False)
        named.requires_grad_(False)
        listed.foo = listed[0]
        named.foo = named["a"]
        assert list(listed.state_dict()) == ["0", "1", "foo"], library.__name__
        assert list(named.state_dict()) == ["a", "foo"], library.__name__
        assert len(list(listed.parameters())) == 2 and len(list(named.parameters())) == 1


def test_a_frozen_item_moved_or_sliced_stays_the_same_frozen_parameter_as_torchs() -> None:
    """PyTorch keeps a frozen Parameter as it is (it is a Parameter by its type); here a frozen
    item the container holds, or one of a container of the same kind, is kept so too."""
    torch = require_torch()
    for library, tensor in ((mg, mg.tensor), (torch, torch.tensor)):
        listed = library.nn.ParameterList([tensor(np.ones(n)) for n in (1, 2, 3)])
        named = library.nn.ParameterDict({"a": tensor(np.ones(2)), "b": tensor(np.ones(3))})
        listed.requires_grad_(False)
        named.requires_grad_(False)
        part = listed[1:3]
        listed[0] = listed[2]
        listed.append(listed[1])
        named["b"] = named["a"]
        named.update({"c": named["a"]})
        kept = [
            (part[0], listed[1]),
            (listed[0], listed[2]),
            (listed[3], listed[1]),
            (library.nn.ParameterList(listed)[0], listed[0]),
            (named["b"], named["a"]),
            (named["c"], named["a"]),
            (named.copy()["a"], named["a"]),
            (library.nn.ParameterDict(named)["b"], named["a"]),
        ]
        assert all(ours is item and not ours.requires_grad for ours, item in kept), library.__name__
        assert list(part.state_dict()) == ["0", "1"] and len(list(part.parameters())) == 2
        assert list(listed.state_dict()) == ["0", "1", "2", "3"] and len(list(listed.parameters())) == 2
        assert list(named.state_dict()) == ["a", "b", "c"] and len(list(named.parameters())) == 1


def test_the_list_behaves_as_a_list() -> None:
    params = ParameterList()
    assert len(params) == 0 and repr(params) == "ParameterList()"
    params.append(Tensor(np.zeros(1))).extend([Tensor(np.zeros(2))])
    params += [Tensor(np.zeros(3))]
    params.insert(0, Tensor(np.zeros(4)))
    assert [p.shape for p in params] == [(4,), (1,), (2,), (3,)]
    assert isinstance(params[1:3], ParameterList) and [p.shape for p in params[1:3]] == [(1,), (2,)]
    assert params[1:3][0] is params[1]
    params[0] = Tensor(np.zeros(5))
    assert params[0].shape == (5,) and params[-1].shape == (3,)
    assert list(params.state_dict()) == ["0", "1", "2", "3"]
    with pytest.raises(
        TypeError,
        match=r"ParameterList item 4 must be a Tensor \(a parameter\), got ndarray: .*; wrap it: mg.tensor\(array\)",
    ):
        params.append(np.zeros(2))
    with pytest.raises(TypeError, match="an iterable of Tensors, got a single Tensor; use append"):
        params.extend(Tensor(np.zeros(2)))
    with pytest.raises(TypeError, match="must be a Tensor"):
        ParameterList([mg.Value(1.0)])


def test_the_dict_behaves_as_a_dict() -> None:
    named = ParameterDict([("b", Tensor(np.zeros(1))), ("a", Tensor(np.zeros(2)))])
    named["c"] = Tensor(np.zeros(3))
    assert list(named) == list(named.keys()) == ["b", "a", "c"] and "a" in named and len(named) == 3
    assert named.a is named["a"] and [k for k, _ in named.items()] == ["b", "a", "c"]
    named.update({"d": Tensor(np.zeros(4))})
    del named["b"]
    assert named.pop("d").shape == (4,) and list(named.state_dict()) == ["a", "c"]
    with pytest.raises(AttributeError, match="has no attribute 'zz'"):
        named.zz
    with pytest.raises(ValueError, match="ParameterDict keys must be non-empty and without '.'"):
        named["x.y"] = Tensor(np.zeros(1))
    with pytest.raises(TypeError, match=r"ParameterDict\['z'\] must be a Tensor"):
        named["z"] = 3.0
    with pytest.raises(TypeError, match=r"a mapping or \(name, Tensor\) pairs"):
        ParameterDict([Tensor(np.zeros(1))])


def test_float32_parameters_print_as_torchs() -> None:
    torch = require_torch()
    ours = ParameterList([Tensor(np.zeros((2, 3)), dtype=np.float32), Tensor(1.0)])
    theirs = torch.nn.ParameterList([torch.zeros(2, 3, dtype=torch.float32), torch.tensor(1.0)])
    assert repr(ours) == repr(theirs)
    ours_dict = ParameterDict({"w": Tensor(np.zeros(2), dtype=np.float32), "v": Tensor(np.zeros(2))})
    theirs_dict = torch.nn.ParameterDict({"w": torch.zeros(2, dtype=torch.float32), "v": torch.zeros(2)})
    assert repr(ours_dict) == repr(theirs_dict)
    assert list(ours_dict) == list(theirs_dict) == ["v", "w"]  # a plain dict's keys sorted, as PyTorch's
    in_order = ParameterDict(OrderedDict([("w", Tensor(np.zeros(2))), ("v", Tensor(np.zeros(1)))]))
    assert list(in_order) == ["w", "v"]


def test_dict_methods_as_torchs() -> None:
    torch = require_torch()
    ours = ParameterDict({"a": Tensor(np.ones(1)), "b": Tensor(np.zeros(2))})
    theirs = torch.nn.ParameterDict({"a": torch.ones(1), "b": torch.zeros(2)})
    assert ours.get("a") is ours["a"] and ours.get("zz") is None is theirs.get("zz")
    assert ours.get("zz", ours["b"]) is ours["b"]
    made = ours.setdefault("c", Tensor(np.full(3, 2.0)))
    theirs.setdefault("c", torch.full((3,), 2.0))
    assert made is ours["c"] and made.requires_grad and ours.setdefault("c", Tensor(np.ones(1))) is made
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a", "b", "c"]
    copied = ours.copy()
    assert isinstance(copied, ParameterDict) and list(copied) == ["a", "b", "c"]
    assert all(copied[k] is ours[k] for k in ours)  # the same parameters, as torch's copy()
    key, value = ours.popitem()
    their_key, _ = theirs.popitem()
    assert key == their_key == "c" and value is made and list(ours) == list(theirs) == ["a", "b"]
    fresh = ours.fromkeys(["x", "y"], Tensor(np.ones(2)))
    their_fresh = theirs.fromkeys(["x", "y"], torch.ones(2))
    assert list(fresh.state_dict()) == list(their_fresh.state_dict()) and fresh["x"].requires_grad
    ours.clear()
    theirs.clear()
    assert len(ours) == len(theirs) == 0 and ours.state_dict() == {} and repr(ours) == repr(theirs)
    modules = mg.nn.ModuleDict({"l": mg.nn.Linear(1, 1)})
    modules.clear()
    assert len(modules) == 0 and modules.parameters() == []
    with pytest.raises(
        TypeError, match=r"ParameterDict\['z'\] must be a Tensor .*wrap it: mg.tensor\(array\)"
    ):
        ours.setdefault("z", 1.0)


def test_del_and_pop_on_list_containers_renumber_as_torchs() -> None:
    torch = require_torch()

    def layers(nn: Any) -> Any:
        return nn.ModuleList([nn.Linear(i + 1, 1) for i in range(5)])

    ours, theirs = layers(mg.nn), layers(torch.nn)
    for index in (1, -1, slice(0, 1)):
        del ours[index]
        del theirs[index]
        assert [m.in_features for m in ours] == [m.in_features for m in theirs]
        assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.pop(0).in_features == theirs.pop(0).in_features == 3 and len(ours) == len(theirs) == 1
    popped = ours.pop(slice(0, 1))
    assert isinstance(popped, mg.nn.ModuleList) and len(popped) == 1 and len(ours) == 0
    params = ParameterList([Tensor(np.zeros(i + 1)) for i in range(3)])
    params[2].requires_grad = False
    del params[0]  # (PyTorch's ParameterList has no __delitem__; the list here has)
    assert [p.shape for p in params] == [(2,), (3,)] and list(params.state_dict()) == ["0", "1"]
    assert len(params.parameters()) == 2  # the frozen one, renumbered, is still a parameter
    with pytest.raises(IndexError):
        del params[5]


def test_a_model_holding_them_freezes_names_and_hooks_as_torchs() -> None:
    torch = require_torch()
    ours, theirs = model(mg.nn, mg.tensor), model(torch.nn, torch.tensor)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.requires_grad_(False)
    theirs.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for name in ("scales.0", "scales.1", "gates.in", "gates.out"):
        holder, key = name.split(".")
        assert ours.get_parameter(name) is dict(ours.get_submodule(holder).named_parameters())[key]
        assert ours.get_parameter(name).shape == tuple(theirs.get_parameter(name).shape)
    for missing in ("scales.2", "gates.zz"):
        with pytest.raises(AttributeError, match=f"has no attribute `{missing.split('.')[1]}`"):
            ours.get_parameter(missing)
        with pytest.raises(AttributeError):
            theirs.get_parameter(missing)
    ours.scales.requires_grad_(True)
    theirs.scales.requires_grad_(True)
    seen: dict[str, Any] = {}
    ours.register_forward_hook(lambda module, args, output: seen.setdefault("ours", output) * 2.0)
    theirs.register_forward_hook(lambda module, args, output: seen.setdefault("theirs", output) * 2.0)
    x = np.random.default_rng(3).normal(size=(4, 3))
    out, ref = ours(Tensor(x)), theirs(torch.tensor(x))
    assert np.allclose(out.data, 2 * seen["ours"].data, rtol=0, atol=0)
    assert np.allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    for name, p in ours.named_parameters():
        q = theirs.get_parameter(name)
        assert (p.grad is None) == (q.grad is None), name
        if q.grad is not None:
            assert np.allclose(p.grad, q.grad.numpy(), rtol=1e-10, atol=1e-12), name


def python_calls(action: Callable[[], Any]) -> int:
    """How many Python functions `action()` calls (counted, not timed: the same on any machine)."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        count += event == "call"

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("container", [ParameterList, ParameterDict])
def test_finding_the_frozen_parameters_takes_steps_in_proportion_to_their_number(container: type) -> None:
    """Each frozen item is known as a parameter by its name, not by a search of every item (which
    made `parameters()` of n frozen items take n * n steps: about 60 times the Python calls for
    8 times as many). Calls are counted, not timed: the count does not depend on the machine."""

    def calls(n: int) -> int:
        items = [Tensor(np.zeros(1)) for _ in range(n)]
        held = container(items if container is ParameterList else {f"p{i}": p for i, p in enumerate(items)})
        held.requires_grad_(False)
        assert len(list(held.parameters())) == n  # each stays a parameter, as in PyTorch
        return python_calls(held.parameters)

    assert calls(800) <= 9 * calls(100)  # 8 times in linear time


@pytest.mark.parametrize("container", [ParameterList, ParameterDict])
@pytest.mark.parametrize("how", ["constructor", "extend"])
def test_making_a_container_of_plain_tensors_takes_steps_in_proportion_to_their_number(
    container: type, how: str
) -> None:
    """A plain Tensor put in is made a parameter unless the container holds it already (frozen):
    found in one index of the items made for the whole batch (containers._Held), not by a search
    of every item for each (n * n steps: over 3 times the Python calls for twice as many).
    Calls are counted, not timed."""

    def calls(n: int) -> int:
        items = [Tensor(np.zeros(1)) for _ in range(n)]
        given = items if container is ParameterList else {f"p{i}": p for i, p in enumerate(items)}
        made = container() if how == "extend" else None

        def make() -> None:
            nonlocal made
            if made is None:
                made = container(given)
            else:
                made.extend(given) if container is ParameterList else made.update(given)

        count = python_calls(make)
        assert made is not None
        assert len(list(made.parameters())) == n and not any(p is t for p, t in zip(made.parameters(), items))
        return count

    calls(10)  # (anything done once, at the first use, out of the count)
    assert calls(400) <= 2 * calls(200)  # linear: a + b * n, with a >= 0


@pytest.mark.parametrize("replacement_frozen", [False, True])
def test_a_frozen_item_replaced_then_put_again_in_one_update_stays_the_same_as_torchs(
    replacement_frozen: bool,
) -> None:
    """`update([("a", q), ("b", p)])`, p the frozen item at "a": PyTorch keeps p at "b" (a
    Parameter by its type); here too, whether or not q is frozen (the index of the held items
    was made, or not, when q was checked)."""
    torch = require_torch()
    for library, tensor in ((mg, mg.tensor), (torch, torch.tensor)):
        named = library.nn.ParameterDict({"a": tensor(np.ones(2))})
        named.requires_grad_(False)
        p = named["a"]
        q = tensor(np.zeros(2), requires_grad=not replacement_frozen)
        named.update([("a", q), ("b", p)])
        assert named["b"] is p and not named["b"].requires_grad, library.__name__
        assert list(named.state_dict()) == ["a", "b"], library.__name__
