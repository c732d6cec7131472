"""Frozen and shared parameters as PyTorch keeps them: a copy (copy.deepcopy, copy.copy) of a
module keeps its frozen parameters; a state dict lists a parameter held twice (tied weights, a
layer used twice) under each of its names while parameters() lists it once; load_state_dict
expects every name."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import require_torch

import micrograd_plus as mg
from micrograd_plus import nn


def _frozen_linear(library: Any) -> Any:
    return library.nn.Linear(2, 3).requires_grad_(False)


def _pretrained_embedding(library: Any) -> Any:
    return library.nn.Embedding.from_pretrained(library.tensor(np.arange(6.0).reshape(3, 2)))


def _frozen_list_item(library: Any) -> Any:
    params = library.nn.ParameterList([library.tensor(np.ones(2)), library.tensor(np.zeros(3))])
    params[0].requires_grad = False
    return params


@pytest.mark.parametrize("make", [_frozen_linear, _pretrained_embedding, _frozen_list_item])
@pytest.mark.parametrize("copier", [copy.deepcopy, copy.copy])
def test_a_copy_keeps_the_frozen_parameters(make: Callable[[Any], Any], copier: Callable[[Any], Any]) -> None:
    torch = require_torch()
    ours, theirs = make(mg), make(torch)
    copied, their_copy = copier(ours), copier(theirs)
    assert list(copied.state_dict()) == list(their_copy.state_dict()) == list(theirs.state_dict())
    assert len(copied.parameters()) == len(list(their_copy.parameters()))
    assert [n for n, _ in copied.named_parameters()] == [n for n, _ in their_copy.named_parameters()]
    for (name, p), (_, q) in zip(copied.named_parameters(), ours.named_parameters()):
        assert np.array_equal(p.data, q.data), name
        assert (p is q) == (copier is copy.copy), name  # a deep copy has its own parameters


def test_a_deep_copy_of_a_frozen_model_can_be_unfrozen_and_trained_alone() -> None:
    model = nn.Sequential(nn.Linear(2, 2, seed=0), nn.Tanh(), nn.Linear(2, 1, seed=1)).requires_grad_(False)
    student = copy.deepcopy(model).requires_grad_(True)
    assert all(p.requires_grad for p in student.parameters()) and len(student.parameters()) == 4
    assert not any(p.requires_grad for p in model.parameters())
    before = model.state_dict()
    optimizer = mg.SGD(student.parameters(), lr=0.5)
    student(mg.tensor(np.ones((3, 2)))).sum().backward()
    optimizer.step()
    assert all(np.array_equal(v, model.state_dict()[k]) for k, v in before.items())
    assert not np.array_equal(student.state_dict()["0.weight"], before["0.weight"])


def test_a_shallow_copy_assigned_a_new_parameter_leaves_the_original_alone() -> None:
    layer = nn.Linear(2, 2, seed=0).requires_grad_(False)
    twin = copy.copy(layer)
    twin.weight = mg.tensor(np.zeros((2, 2)), requires_grad=True)
    twin.bias = mg.tensor(np.zeros(2))  # not a parameter any more (it never required grad)
    assert list(layer.state_dict()) == ["weight", "bias"] and len(layer.parameters()) == 2
    assert list(twin.state_dict()) == ["weight"]


def _tied(library: Any) -> Any:
    class Tied(library.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = library.nn.Embedding(5, 3)
            self.head = library.nn.Linear(3, 5)
            self.head.weight = self.emb.weight

    return Tied()


def _used_twice(library: Any) -> Any:
    layer = library.nn.Linear(2, 2)
    return library.nn.Sequential(layer, library.nn.Tanh(), layer)


def _listed_twice(library: Any) -> Any:
    params = library.nn.ParameterList([library.tensor(np.ones(2))])
    params.append(params[0])
    return params


@pytest.mark.parametrize("make", [_tied, _used_twice, _listed_twice])
def test_a_parameter_held_twice_is_in_the_state_dict_under_each_name(make: Callable[[Any], Any]) -> None:
    torch = require_torch()
    ours, theirs = make(mg), make(torch)
    names = list(theirs.state_dict())
    assert list(ours.state_dict()) == names
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(ours.parameters()) == len(list(theirs.parameters())) < len(names)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=True)
    for name, p in ours.named_parameters():
        assert np.array_equal(p.data, theirs.get_parameter(name).detach().numpy()), name
    first = names[0]  # the names of the first one's other holders are missing without them
    partial = {first: theirs.state_dict()[first].numpy()}
    mine = ours.load_state_dict(partial, strict=False)
    assert (
        mine.missing_keys
        == theirs.load_state_dict({first: torch.tensor(partial[first])}, strict=False).missing_keys
    )
    with pytest.raises(RuntimeError, match="Missing key"):
        ours.load_state_dict(partial)
