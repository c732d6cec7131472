"""A graph used after one of its inputs changed in place is refused, as PyTorch's version
counter refuses it (issue 13): optimizer steps and load_state_dict bump a parameter's version,
and backward through a node made before the change raises, naming the node's op."""

from __future__ import annotations

import pytest
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import MLP, SGD, Adam, Tensor, Value, grad

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines


def test_a_tensor_graph_used_after_an_optimizer_step_is_refused():
    W = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (W * W).sum()
    loss.backward()
    assert W._version == 0
    SGD([W], lr=0.1).step()
    assert W._version == 1
    W.zero_grad()
    with pytest.raises(
        RuntimeError, match=r"modified by an inplace operation: input 0 of '\*'.*forward pass again"
    ):
        loss.backward()
    assert W.grad is None  # nothing stored: the pass was refused before it added anything
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        grad(loss, [W])


@given(st.floats(-3, 3), st.sampled_from(["sgd", "adam"]))
def test_a_value_graph_used_after_an_optimizer_step_is_refused(x, kind):
    w = Value(x)
    loss = (w * w).tanh() + w
    loss.backward()
    optimizer = SGD([w], lr=0.1) if kind == "sgd" else Adam([w], lr=0.1)
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation: input 1 of '\\+'"):
        loss.backward()


def test_a_graph_made_after_the_step_is_fine_and_micrograds_idiom_keeps_working():
    model = MLP(2, [3, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.05)
    for _ in range(3):  # torch's loop: a new graph every step
        loss = (model([1.0, -2.0]) - 1.0) ** 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for _ in range(3):  # micrograd's loop: p.data -= lr * p.grad (not seen: a new graph anyway)
        loss = (model([1.0, -2.0]) - 1.0) ** 2
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
    assert all(p._version == 3 for p in model.parameters())


def test_load_state_dict_makes_earlier_graphs_stale():
    model = MLP(2, [2, 1], seed=0)
    out = model([0.5, 0.5])
    model.load_state_dict(MLP(2, [2, 1], seed=1).state_dict())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_torch_refuses_the_same_graph():
    torch = require_torch()
    W = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (W * W).sum()
    loss.backward(retain_graph=True)
    torch.optim.SGD([W], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_grad_outputs_may_hold_none_for_a_scalar_output_as_in_torch():
    torch = require_torch()
    x = Value(1.5)
    a, b = x * x, x.sin()
    (ours,) = grad([a, b], [x], grad_outputs=[2.0, None])
    tx = torch.tensor(1.5, requires_grad=True)
    (theirs,) = torch.autograd.grad([tx * tx, tx.sin()], [tx], grad_outputs=[torch.tensor(2.0), None])
    assert ours.data == pytest.approx(theirs.item(), rel=1e-12)
    t = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad([t.sum(), (t * t).sum()], [t], grad_outputs=[None, 1.0])
    assert g.data.tolist() == [3.0, 5.0]


def test_relu_of_minus_zero_is_minus_zero_as_in_torch():
    torch = require_torch()
    import math

    v = Value(-0.0).relu()
    t = Tensor([-0.0, 0.0, -1.0]).relu()
    theirs = torch.relu(torch.tensor([-0.0, 0.0, -1.0], dtype=torch.float64))
    assert math.copysign(1.0, v.data) == -1.0
    assert [math.copysign(1.0, x) for x in t.data] == [math.copysign(1.0, x) for x in theirs.tolist()]
    assert (1 / Value(-0.0).relu()).data == -math.inf


def test_a_parameters_version_leaves_with_it_and_a_new_node_starts_at_zero():
    """The versions are kept by id: the entry goes when the node does, so a later node that gets
    the same id does not inherit a version (nor a stale-graph error)."""
    import gc

    from micrograd_plus import SGD, Value, guards

    w = Value(1.0)
    (w * w).backward()
    SGD([w], lr=0.1).step()
    key = id(w)
    assert w._version == 1 and guards._versions[key] == 1
    del w
    gc.collect()
    assert key not in guards._versions
    fresh = [Value(2.0) for _ in range(1000)]  # one of them may take the freed id
    assert all(v._version == 0 for v in fresh)
    loss = fresh[0] * fresh[1]
    loss.backward()  # nothing changed in place since the graph was made
    assert fresh[0].grad == 2.0
