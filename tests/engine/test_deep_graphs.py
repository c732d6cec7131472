"""Deep and wide graphs (10^6 nodes): nothing recurses, so nothing hits Python's recursion limit.

Every check runs with the recursion limit lowered to a small margin above the current stack
depth (`shallow_stack`), so a walk that recursed even a few hundred levels would fail here,
whatever the size of the graph. The million-node chain is built once per module (~3 s).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import sys
import weakref

import numpy as np
import pytest

from micrograd_plus import (
    Value,
    backward_steps,
    draw_dot,
    explain_grad,
    forward_steps,
    grad,
    gradcheck,
)
from micrograd_plus.engine import topological_order, value_sum
from micrograd_plus.tensors import Tensor

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

MILLION = 10**6


@contextlib.contextmanager
def shallow_stack(margin: int = 120):
    """Allow only `margin` more Python frames than the caller has: recursion fails fast."""
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + margin)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def negation_chain(x: Value, n: int) -> Value:
    """x negated n times: n nodes deep, one parent each."""
    y = x
    for _ in range(n):
        y = -y
    return y


@pytest.fixture(scope="module")
def chain():
    x = Value(0.5, label="x")
    y = negation_chain(x, MILLION)
    return x, y


def test_the_margin_really_catches_recursion():
    def recurse(k: int) -> int:
        return 0 if k == 0 else 1 + recurse(k - 1)

    with shallow_stack(), pytest.raises(RecursionError):
        recurse(500)


def test_backward_through_a_million_node_chain(chain):
    x, y = chain
    with shallow_stack():
        y.backward()
        assert x.grad == 1.0  # (-1) ** 10**6
        order = topological_order(y)
    assert len(order) == MILLION + 1 and order[0] is y and order[-1] is x
    x.zero_grad()


def test_repr_and_explain_grad_on_a_million_node_chain(chain):
    x, y = chain
    with shallow_stack():
        y.backward()
        assert repr(y) == "Value(data=0.5, grad=1.0)"
        assert "summed over" in explain_grad(x)
        # Not connected: explain_grad searches the whole million-node graph for it.
        assert "it is not connected to the output" in explain_grad(Value(1.0))
        assert "reached it" in explain_grad(y.parents[0].parents[0])
    x.zero_grad()


def test_drawing_a_million_nodes_is_refused_clearly_and_up_to_the_limit_works(chain):
    _, y = chain
    with (
        shallow_stack(),
        pytest.raises(ValueError, match=r"the graph has 1000001 value nodes.*more than max_nodes=200"),
    ):
        draw_dot(y)
    small = negation_chain(Value(1.0), 199)  # 200 value nodes: exactly the default limit
    with shallow_stack():
        drawing = draw_dot(small)
    assert drawing.source.count("->") >= 199
    big = negation_chain(Value(1.0), 10**5)  # a raised limit: the DOT source of 100001 nodes
    with shallow_stack():
        drawing = draw_dot(big, max_nodes=10**5 + 1)
    assert drawing.source.count("->") >= 10**5


def test_stepping_starts_on_a_million_node_chain(chain):
    x, y = chain
    with shallow_stack():
        forward = list(itertools.islice(forward_steps(y), 2))
        backward = list(itertools.islice(backward_steps(y), 2))
    assert len(forward) == 2 and len(backward) == 2
    assert "neg" in str(forward[0]) or "-" in str(forward[0])


def test_gc_frees_a_dropped_million_node_chain():
    x = Value(0.5)
    y = negation_chain(x, MILLION)
    middle = y
    for _ in range(MILLION // 2):
        middle = middle.parents[0]
    refs = [weakref.ref(y), weakref.ref(middle)]
    cycle: list[object] = [y]
    cycle.append(cycle)  # a reference cycle holding the graph: only the collector can free it
    del y, middle
    with shallow_stack():
        del cycle
        gc.collect()
    assert [r() for r in refs] == [None, None]
    assert x.grad == 0.0


def test_gradcheck_through_a_million_node_chain():
    with shallow_stack():
        report = gradcheck(lambda v: negation_chain(v, MILLION) * v, [Value(0.3)])
    assert report.ok


def test_a_million_wide_sum_and_a_million_fold_fan_out():
    leaves = [Value(float(i)) for i in range(MILLION)]
    with shallow_stack():
        total = value_sum(leaves)
        total.backward()
    assert leaves[0].grad == leaves[-1].grad == 1.0 and total.data == sum(range(MILLION))
    with shallow_stack():
        drawing = draw_dot(total)  # the million leaves feed one op alike: drawn collapsed into one node
    assert len(drawing.source) < 5000
    x = Value(2.0)
    y = x
    for _ in range(MILLION // 2):
        y = y + x  # x feeds half a million nodes, and the chain is as deep
    with shallow_stack():
        (dy_dx,) = grad(y, x)
    assert dy_dx.data == MILLION // 2 + 1


def test_a_deep_tensor_chain():
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(10**5):
        y = -y
    with shallow_stack():
        y.sum().backward()
        assert "summed over 1 backward() call" in explain_grad(x)
        assert repr(y).startswith("Tensor([1., 1., 1.]")
    assert np.array_equal(x.grad, np.ones(3))
