"""`t.grad_fn` and `next_functions` (micrograd_plus/grad_fn.py): the graph walked backwards as the
PyTorch tutorial walks it, each step named by its Op; which inputs have a step, which are a
leaf's AccumulateGrad and which are None, as in PyTorch."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import GradFn

OPERATIONS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "@": operator.matmul}


def kinds(grad_fn: Any) -> list[str]:
    """What each input of a step is: "op" (a step), "leaf" (AccumulateGrad) or "none"."""
    found = []
    for step, _ in grad_fn.next_functions:
        if step is None:
            found.append("none")
        else:
            found.append("leaf" if getattr(step, "variable", None) is not None else "op")
    return found


@given(
    name=st.sampled_from(sorted(OPERATIONS)),
    a_needs=st.booleans(),
    b_needs=st.booleans(),
    a_computed=st.booleans(),
)
def test_next_functions_say_what_each_input_is_as_torchs(
    name: str, a_needs: bool, b_needs: bool, a_computed: bool
) -> None:
    torch = require_torch()
    results = []
    for lib in (mg, torch):
        a = lib.tensor(np.ones((2, 2)), requires_grad=a_needs)
        b = lib.tensor(np.full((2, 2), 3.0), requires_grad=b_needs)
        if a_computed:
            a = a.exp()
        results.append(OPERATIONS[name](a, b))
    ours, theirs = results
    if theirs.grad_fn is None:
        assert ours.grad_fn is None
    else:
        assert kinds(ours.grad_fn) == kinds(theirs.grad_fn)
        assert ours.grad_fn.name() == name


def test_leaves_constants_and_no_grad_results_have_no_grad_fn_as_in_torch() -> None:
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    assert w.grad_fn is None and mg.tensor([1.0]).grad_fn is None
    with mg.no_grad():
        assert (w * 2).grad_fn is None
    assert (w * 2).detach().grad_fn is None


def test_a_leafs_step_is_accumulate_grad_with_the_leaf_as_its_variable() -> None:
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * 3.0).sum()
    assert y.grad_fn.name() == "sum" and repr(y.grad_fn) == "<GradFn 'sum'>"
    ((times, _),) = y.grad_fn.next_functions
    assert times.name() == "*" and times.variable is None
    sink, constant = (step for step, _ in times.next_functions)
    assert sink.name() == "AccumulateGrad" and sink.variable is w and constant is None
    assert sink.next_functions == ()
    assert y.grad_fn == y.grad_fn and hash(y.grad_fn) == hash(y.grad_fn) and y.grad_fn != times
    assert isinstance(y.grad_fn, GradFn)


def test_walking_next_functions_reaches_each_parameter_of_a_model() -> None:
    model = mg.nn.Sequential(mg.nn.Linear(3, 4, seed=0), mg.nn.ReLU(), mg.nn.Linear(4, 1, seed=1))
    loss = mg.nn.MSELoss()(model(mg.randn(5, 3, seed=2)), mg.zeros(5, 1))
    reached, pending, seen = set(), [loss.grad_fn], set()
    while pending:
        step = pending.pop()
        if step is None or step in seen:
            continue
        seen.add(step)
        if step.variable is not None:
            reached.add(id(step.variable))
        pending.extend(s for s, _ in step.next_functions)
    assert reached == {id(p) for p in model.parameters()}


def test_a_steps_name_is_a_method_as_torchs() -> None:
    torch = require_torch()
    ours, theirs = (lib.tensor([1.0, 2.0], requires_grad=True) for lib in (mg, torch))
    assert (ours * 2).sum().grad_fn.name() == "sum"
    assert (theirs * 2).sum().grad_fn.name() == "SumBackward0"  # torch's C++ class name; ours is the Op's
