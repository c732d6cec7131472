"""`print(optimizer)` in PyTorch's layout: one block per parameter group, in group order, each
option by name. Checked against torch's own repr for every optimizer and for random groups:
the same groups in the same order, and each option we hold is one torch shows, equal in value
(torch prints the numbers as they were given, `0`; ours are checked into floats, `0.0`)."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from conftest import require_torch
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import optim

OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "ASGD", "Rprop", "LBFGS"]


def groups_of(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The name and the groups a repr shows, each option's value read as a Python literal."""
    first, *lines = text.splitlines()
    assert first.endswith(" (") and lines[-1] == ")", text
    groups: list[dict[str, Any]] = []
    for line in lines[:-1]:
        if line.startswith("Parameter Group "):
            assert line == f"Parameter Group {len(groups)}", text
            groups.append({})
        elif line:
            assert line.startswith("    "), text
            key, value = line.strip().split(": ", 1)
            groups[-1][key] = ast.literal_eval(value)
    return first[: -len(" (")], groups


def agree(ours: mg.optim.Optimizer, theirs: Any) -> list[dict[str, Any]]:
    name, groups = groups_of(repr(ours))
    their_name, their_groups = groups_of(repr(theirs))
    assert name == their_name and len(groups) == len(their_groups)
    for group, their_group in zip(groups, their_groups):
        assert group == {key: their_group[key] for key in group}  # (0 == 0.0, (1e-06, 50) == (1e-06, 50.0))
    return groups


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_shows_its_options_as_pytorchs_does(name):
    torch = require_torch()
    ours = getattr(optim, name)([mg.tensor([1.0], requires_grad=True)], lr=0.25)
    theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], lr=0.25)
    (group,) = agree(ours, theirs)
    assert group["lr"] == 0.25 and set(group) == set(ours.defaults)


def test_groups_with_their_own_lr_show_each_in_group_order():
    """The report: one group's lr was shown as a sorted list of every group's, `lr=[0.01, 0.1, 0.5]`."""
    w, b, t = (mg.tensor([0.0], requires_grad=True) for _ in range(3))
    sgd = optim.SGD([{"params": [w], "lr": 0.5}, {"params": [b], "lr": 0.01}, {"params": [t]}], lr=0.1)
    _, groups = groups_of(repr(sgd))
    assert [group["lr"] for group in groups] == [0.5, 0.01, 0.1]
    assert repr(sgd).startswith("SGD (\nParameter Group 0\n    dampening: 0.0\n    lr: 0.5\n")
    assert "\n\nParameter Group 1\n" in repr(sgd) and repr(sgd).endswith("    weight_decay: 0.0\n)")
    assert str(sgd) == repr(sgd)


settings_of_a_group = st.fixed_dictionaries(
    {},
    optional={
        "lr": st.floats(0, 10),
        "momentum": st.floats(
            0.01, 0.99
        ),  # (a nesterov group needs momentum here; torch checks defaults only)
        "weight_decay": st.floats(0, 1),
        "nesterov": st.booleans(),
        "maximize": st.booleans(),
    },
)


@settings(max_examples=60, deadline=None)
@given(
    defaults=st.fixed_dictionaries({"lr": st.floats(0, 10), "momentum": st.floats(0.01, 0.99)}),
    data=st.data(),
)
def test_random_groups_show_as_in_pytorch_in_their_order(defaults, data):
    torch = require_torch()
    settings = data.draw(st.lists(settings_of_a_group, min_size=1, max_size=4))
    ours = optim.SGD([{"params": [mg.tensor([0.0], requires_grad=True)], **s} for s in settings], **defaults)
    theirs = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], **s} for s in settings], **defaults
    )
    groups = agree(ours, theirs)
    assert [group["lr"] for group in groups] == [s.get("lr", defaults["lr"]) for s in settings]


def test_an_lr_a_scheduler_sets_shows_in_the_repr():
    torch = require_torch()
    ours = optim.SGD([mg.tensor([0.0], requires_grad=True)], lr=1.0)
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    for opt, lib in ((ours, mg.optim.lr_scheduler), (theirs, torch.optim.lr_scheduler)):
        scheduler = lib.StepLR(opt, step_size=1, gamma=0.5)
        opt.step()
        scheduler.step()
    assert agree(ours, theirs)[0]["lr"] == 0.5
