"""Stepping: forward and backward steps, their narration, and that running the backward
steps to the end has exactly the effect of backward()."""

from __future__ import annotations

import math
import re
import sys

import numpy as np
import pytest
from conftest import neuron
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import Tensor, Value, backward_steps, explain_grad, forward_steps
from micrograd_plus.engine import dot, value_sum
from micrograd_plus.testing import expressions
from micrograd_plus.viz.trace import format_number, graph_nodes, record_backward

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines


def the_issue_example():
    a, b, d = Value(2.0, label="a"), Value(-3.0, label="b"), Value(2.0, label="d")
    c = a * b
    c.label = "c"
    L = c * d
    L.label = "L"
    return a, b, c, d, L


# -- narration --------------------------------------------------------------------------


def test_backward_narration_has_the_numbers_of_the_issue_example():
    a, b, c, d, L = the_issue_example()
    steps = list(backward_steps(L))
    assert [s.node for s in steps] == [L, L, c]
    assert str(steps[0]) == "dL/dL = 1.0, the seed   (L.grad: 0.0 -> 1.0)"
    assert str(steps[2]).splitlines() == [
        "c = a * b sends dL/dc = 2.0 back to its inputs:",
        "  dL/da += dL/dc * dc/da = 2.0 * -3.0 = -6.0   (a.grad: 0.0 -> -6.0)",
        "  dL/db += dL/dc * dc/db = 2.0 * 2.0 = 4.0   (b.grad: 0.0 -> 4.0)",
    ]
    assert (a.grad, b.grad, c.grad, d.grad) == (-6.0, 4.0, 2.0, -6.0)


def test_forward_narration_names_numbers_and_results_in_order():
    a, b, c, d, L = the_issue_example()
    e = (L + 1).tanh()
    texts = [str(s) for s in forward_steps(e)]
    assert texts == [
        "c = a * b = 2.0 * -3.0 = -6.0",
        "L = c * d = -6.0 * 2.0 = -12.0",
        "v1 = L + 1.0 = -12.0 + 1.0 = -11.0",
        f"v2 = tanh(v1) = tanh(-11.0) = {format_number(math.tanh(-11.0))}",
    ]
    # an unlabelled root is called L unless a label already took that name
    assert [s.name for s in forward_steps(e)] == ["c", "L", "v1", "v2"]


def test_fan_out_shows_the_running_sum_and_constants_get_a_line():
    x = Value(3.0, label="x")
    y = x * x + 2 * x
    y.label = "y"
    lines = "\n".join(str(s) for s in backward_steps(y)).splitlines()
    assert (
        "  dy/dx += dy/dv1 * dv1/dx = 1.0 * 3.0 = 3.0, so dy/dx = 2.0 + 3.0 = 5.0   (x.grad: 2.0 -> 5.0)"
        in lines
    )
    assert (
        "  dy/dx += dy/dv1 * dv1/dx = 1.0 * 3.0 = 3.0, so dy/dx = 5.0 + 3.0 = 8.0   (x.grad: 5.0 -> 8.0)"
        in lines
    )
    assert "  2.0 is a constant: no gradient" in lines
    assert x.grad == 8.0


def test_n_ary_dot_and_sum_nodes_get_one_line_per_input():
    ws = [Value(w, label=f"w{i}") for i, w in enumerate([0.5, -1.0])]
    xs = [Value(x, label=f"x{i}") for i, x in enumerate([2.0, 4.0])]
    b = Value(0.25, label="b")
    n = dot(ws, xs, b)
    n.label = "n"
    s = value_sum([n, xs[0], b])
    s.label = "s"
    fwd = [str(step) for step in forward_steps(s)]
    assert fwd == [
        "n = w0*x0 + w1*x1 + b = 0.5*2.0 + -1.0*4.0 + 0.25 = -2.75",
        "s = n + x0 + b = -2.75 + 2.0 + 0.25 = -0.5",
    ]
    steps = list(backward_steps(s))
    dot_step = steps[2]
    assert dot_step.node is n and len(dot_step.shares) == 5
    lines = str(dot_step).splitlines()[1:]
    assert lines[0] == "  ds/dw0 += ds/dn * dn/dw0 = 1.0 * 2.0 = 2.0   (w0.grad: 0.0 -> 2.0)"
    assert lines[2].startswith("  ds/dx0 += ds/dn * dn/dx0 = 1.0 * 0.5 = 0.5, so ds/dx0 = 1.0 + 0.5 = 1.5")
    assert (
        lines[4]
        == "  ds/db += ds/dn * dn/db = 1.0 * 1.0 = 1.0, so ds/db = 1.0 + 1.0 = 2.0   (b.grad: 1.0 -> 2.0)"
    )
    assert len(str(steps[1]).splitlines()) == 1 + 3


def test_inputs_that_need_no_gradient_are_named_as_such():
    x = Value(1.5, label="x")
    data = Value(2.0, label="data", requires_grad=False)
    y = x * data
    text = str(list(backward_steps(y))[1])
    assert "data does not require grad: no gradient" in text
    assert data.grad == 0.0


def test_tensor_steps_narrate_arrays_and_match_backward():
    def build():
        W = Tensor(np.arange(6.0).reshape(2, 3) / 10, requires_grad=True, label="W")
        x = Tensor([1.0, 2.0, -1.0], label="x")
        h = (W @ x).tanh()
        h.retain_grad()
        return W, h, (h * h).sum()

    W1, h1, L1 = build()
    W2, h2, L2 = build()
    L1.backward()
    steps = list(backward_steps(L2))
    np.testing.assert_array_equal(W1.grad, W2.grad)
    np.testing.assert_array_equal(h1.grad, h2.grad)
    text = "\n".join(map(str, steps))
    assert "t1 = W @ x sends dL/dt1 = [0.0, 0.764305] back to its inputs:" in text
    assert "L.grad not kept: an intermediate Tensor keeps it after retain_grad()" in text
    assert "(W.grad: None -> array(2, 3) [0.0, 0.0, 0.0, 0.764305, 1.52861, -0.764305])" in text


def test_a_gradient_for_a_non_scalar_tensor_root_is_used_as_the_seed():
    def build():
        x = Tensor([1.0, -2.0], requires_grad=True, label="x")
        return x, x * x

    x1, y1 = build()
    x2, y2 = build()
    y1.backward(np.array([0.5, 3.0]))
    steps = list(backward_steps(y2, np.array([0.5, 3.0])))
    np.testing.assert_array_equal(steps[0].upstream, [0.5, 3.0])
    np.testing.assert_array_equal(x1.grad, x2.grad)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        backward_steps(x2 * x2)


def test_errors_say_what_is_wrong():
    with pytest.raises(TypeError, match="list"):
        backward_steps([Value(1.0)])
    with pytest.raises(RuntimeError, match="does not require grad"):
        backward_steps(Value(1.0, requires_grad=False) * 2)
    with pytest.raises(TypeError, match="float"):
        list(forward_steps(1.0))


# -- the steps have exactly the effect of backward() -------------------------------------

UNARY = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "abs", "sqrt"]
BINARY = ["+", "-", "*", "/", "**"]
numbers = st.sampled_from([0.0, 1.0, -1.0, 2.0, 0.5, -3.0, 1e-3]) | st.floats(-3, 3, allow_nan=False)


@st.composite
def recipes(draw):
    """A random program over all ops, IEEE corner cases included (1/0, log(-1), 0**-1):
    leaves, some not requiring grad, and steps reusing earlier nodes (fan-out)."""
    leaves = draw(st.lists(st.tuples(numbers, st.booleans()), min_size=1, max_size=4))
    steps = []
    n = len(leaves)
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "dot", "sum"]))
        node = st.integers(0, n - 1)
        arg = node | numbers
        if kind == "unary":
            steps.append((draw(st.sampled_from(UNARY)), [draw(node)]))
        elif kind == "binary":
            steps.append((draw(st.sampled_from(BINARY)), [draw(node), draw(arg)]))
        elif kind == "dot":
            k = draw(st.integers(1, 3))
            steps.append(
                (
                    "dot",
                    [
                        draw(st.lists(node, min_size=k, max_size=k)),
                        draw(st.lists(arg, min_size=k, max_size=k)),
                        draw(arg),
                    ],
                )
            )
        else:
            steps.append(("sum", draw(st.lists(arg, min_size=1, max_size=4))))
        n += 1
    leaves[0] = (leaves[0][0], True)
    return leaves, steps


def build(recipe):
    leaves, steps = recipe
    nodes = [Value(x, requires_grad=rg) for x, rg in leaves]

    def get(a):
        return nodes[a] if isinstance(a, int) else a

    for op, args in steps:
        if op in UNARY:
            nodes.append(getattr(nodes[args[0]], "__neg__" if op == "neg" else op)())
        elif op == "dot":
            nodes.append(dot([get(a) for a in args[0]], [get(a) for a in args[1]], get(args[2])))
        elif op == "sum":
            nodes.append(value_sum([Value(a) if not isinstance(a, int) else get(a) for a in args]))
        else:
            a, b = nodes[args[0]], get(args[1])
            nodes.append({"+": a + b, "-": a - b, "*": a * b, "/": a / b, "**": a**b}[op])
    root = nodes[-1] * nodes[0]  # depends on leaf 0, which requires grad
    return root, graph_nodes(root)


def same(x, y):
    return x == y or (math.isnan(x) and math.isnan(y))


def assert_same_state(nodes1, nodes2):
    for n1, n2 in zip(nodes1, nodes2, strict=True):
        assert same(n1.grad, n2.grad), (n1, n2)
        assert n1._passes == n2._passes


@given(recipes(), st.integers(0, 2), st.none() | numbers)
def test_running_all_steps_equals_backward_bit_for_bit(recipe, earlier_passes, seed):
    root1, nodes1 = build(recipe)
    root2, nodes2 = build(recipe)
    for _ in range(earlier_passes):  # accumulation: leaves add to what they hold
        root1.backward()
        root2.backward()
    root1.backward(seed)
    steps = list(backward_steps(root2, seed))
    assert_same_state(nodes1, nodes2)
    # one step for the seed, then one per node whose rule ran
    assert steps[0].is_seed and [s.index for s in steps] == list(range(len(steps)))
    assert len(steps) - 1 == sum(1 for n in nodes2 if n._op is not None and n.requires_grad)


@given(expressions(max_nodes=8))
def test_steps_equal_backward_on_smooth_expressions_with_shared_subexpressions(expr):
    out1, leaves1 = expr.build()
    out2, leaves2 = expr.build()
    out1.backward()
    for step in backward_steps(out2):
        latest = {share.input: share.grad_after for share in step.shares if not share.skipped}
        for node, grad in latest.items():  # the narrated grad is the live .grad after the step
            assert same(node.grad, grad)
    assert_same_state(graph_nodes(out1), graph_nodes(out2))
    assert explain_grad(leaves1[0]) == explain_grad(leaves2[0])


def test_a_partial_run_shows_the_running_sums_and_record_backward_changes_nothing():
    x = Value(3.0, label="x")
    y = x * x + x
    recorded = record_backward(y)
    assert x.grad == 0.0 and y.grad == 0.0 and x._passes == 0
    live = backward_steps(y)
    next(live), next(live)  # the seed, then the + node: x got 1.0 from it
    assert x.grad == 1.0
    next(live)  # x * x adds 3.0 twice
    assert x.grad == 7.0 and x.grad == recorded[-1].shares[-1].grad_after


def test_division_by_zero_steps_follow_ieee_like_backward():
    def build():
        x = Value(0.0, label="x")
        return x, Value(1.0) / x + x.log()

    x1, y1 = build()
    x2, y2 = build()
    y1.backward()
    list(backward_steps(y2))
    assert math.isnan(x2.grad) and same(x1.grad, x2.grad)  # -inf from 1/x plus inf from log x


def test_a_chain_of_100_000_nodes_steps_without_recursion():
    v = Value(0.5, label="x")
    x = v
    for _ in range(100_000):
        v = -v
    assert sys.getrecursionlimit() < 100_000
    assert sum(1 for _ in forward_steps(v)) == 100_000
    assert sum(1 for _ in backward_steps(v)) == 100_001
    assert x.grad == 1.0


@given(
    st.sampled_from(["+", "-", "*", "/", "**"]),
    st.sampled_from([-2.0, -0.5, 0.5, 3.0]),
    st.sampled_from([-2.0, -1.0, 2.0, 3.0]),
)
def test_the_forward_narration_with_numbers_reads_as_the_operation_it_performed(op, a, b):
    """`(-2.0) ** 2.0`, not `-2.0 ** 2.0` (which Python and the expression parser read as -4)."""
    from micrograd_plus.cli.expression import build_graph

    x, y = Value(a, label="x"), Value(b, label="y")
    out = {"+": x + y, "-": x - y, "*": x * y, "/": x / y, "**": x**y}[op]
    line = str(list(forward_steps(out))[-1])
    with_numbers = line.split(" = ")[-2]  # "L = x ** y = (-2.0) ** 2.0 = 4.0"
    assert build_graph(with_numbers, {}).data == out.data, line


# -- the names of a model's parameters --------------------------------------------------


def test_a_models_parameters_are_narrated_by_their_names_in_the_model():
    from micrograd_plus import MLP

    model = MLP(2, [2, 1], seed=0)
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    forward = list(forward_steps(out))
    steps = list(backward_steps(out))
    for name, p in model.named_parameters():
        assert forward[0].names[p] == name and steps[0].names[p] == name
    w = model.layers[1].neurons[0].w[1]
    v2 = model.layers[0].neurons[1]([Value(0.5), Value(-1.0)])  # the same number as the hidden output
    line = next(x for x in steps[1].lines() if "dL/dlayers.1.neurons.0.w.1 +=" in x)
    # the narration's format is unchanged, only the name is better
    assert line == (
        f"  dL/dlayers.1.neurons.0.w.1 += dL/dL * dL/dlayers.1.neurons.0.w.1 = 1.0 * {format_number(v2.data)} "
        f"= {format_number(v2.data)}   (layers.1.neurons.0.w.1.grad: 0.0 -> {format_number(w.grad)})"
    )
    # (the hidden neuron's output is v1 on the fast engine, one node a neuron; v2 on the reference)
    assert forward[-1].name == "L" and re.search(r"layers\.1\.neurons\.0\.w\.0\*v\d ", str(forward[-1]))


def test_a_users_label_is_never_overwritten_and_models_are_held_weakly():
    import gc
    import weakref

    from micrograd_plus import MLP, Sequential

    model = MLP(1, [1], seed=0)
    b, w = model.layers[0].neurons[0].b, model.layers[0].neurons[0].w[0]
    b.label = "bias"
    x = Value(2.0, label="x")
    out = model([x])
    names = next(forward_steps(out)).names
    assert names[b] == "bias" and names[w] == "layers.0.neurons.0.w.0" and names[x] == "x"
    assert w.label == "" and b.label == "bias"  # nothing is written into a parameter
    # a layer held by two models is named by the one made first; a model inside another by the outer one
    other = Sequential(model.layers[0])
    assert next(forward_steps(out)).names[w] == "layers.0.neurons.0.w.0"
    del other
    outer = Sequential(model)
    assert next(forward_steps(out)).names[w] == "0.layers.0.neurons.0.w.0"
    alive = weakref.ref(model)
    del model, outer
    gc.collect()
    assert alive() is None  # noting every module made does not keep one alive
    assert str(next(forward_steps(out))).startswith("L = v1*x + bias = ")


def test_a_label_that_several_nodes_carry_names_each_node_once():
    x, w = Value(2.0, label="x"), Value(3.0, label="w")
    z = x * w
    z.label = "z"
    out = z.tanh()
    out.label = "w"  # the output carries the weight's label too
    steps = list(backward_steps(out))
    assert steps[0].names[w] == "w" and steps[0].names[out] == "w_2"  # forward order: the first keeps it
    assert steps[-1].lines()[-1].startswith("  dw_2/dw += dw_2/dz * dz/dw = ")
    assert w.label == "w" and out.label == "w"  # only the narration's names differ
    other = Value(1.0, label="w_2")  # a label the suffix would take: the next number is used
    total = out + other
    assert next(forward_steps(total)).names == {x: "x", w: "w", z: "z", out: "w_3", other: "w_2", total: "L"}


@given(st.lists(st.sampled_from(["a", "b", "a_2", ""]), min_size=1, max_size=8))
def test_every_node_but_a_constant_has_a_name_of_its_own(labels):
    nodes = [Value(float(i), label=label) for i, label in enumerate(labels)]
    root = value_sum([*nodes, 2.0, 2.0])
    names = next(forward_steps(root)).names
    named = [name for node, name in names.items() if node._origin != "constant"]
    assert len(set(named)) == len(named) == len(nodes) + 1
    assert all(names[n] == n.label or names[n].startswith(f"{n.label}_") for n in nodes if n.label)


# -- viewers are pure: one pass from zero, every .grad left as it was --------------------------


def grads_of(root):
    return [(n.grad, n._passes) for n in graph_nodes(root)]


def test_after_backward_the_viewers_narrate_one_pass_from_zero_and_change_nothing(tmp_path):
    from micrograd_plus import draw_dot, export_html

    o = neuron()[0]
    o.backward()  # as in the README, before looking
    before = grads_of(o)
    steps = record_backward(o)
    text = "\n".join(map(str, steps))
    assert "(b.grad: 0.0 -> 0.5)" in text and "(o.grad: 0.0 -> 1.0)" in text  # not 0.5 -> 1.0
    assert grads_of(o) == before
    for k in range(len(steps)):
        draw_dot(o, step=k)
        assert grads_of(o) == before
    page = export_html(o, tmp_path / "trace.html").read_text()
    assert "b.grad: 0.0 -&gt; 0.5" in page or "b.grad: 0.0 -> 0.5" in page
    assert "0.5 -&gt; 1.0" not in page and "0.5 -> 1.0" not in page
    list(forward_steps(o))
    assert grads_of(o) == before


def test_a_drawn_step_shows_the_gradients_of_a_first_pass_whatever_ran_before():
    from micrograd_plus import draw_dot

    fresh, used = neuron()[0], neuron()[0]
    for _ in range(3):
        used.backward()
    last = len(record_backward(fresh)) - 1
    assert draw_dot(used, step=last).source == draw_dot(fresh, step=last).source
    with pytest.raises(ValueError, match=f"step={last + 1} is out of range"):
        draw_dot(used, step=last + 1)


def test_the_live_steps_are_the_engines_pass_and_record_backward_restarts_from_zero():
    o = neuron()[0]
    o.backward()
    leaves = [n for n in graph_nodes(o) if n._op is None]
    after_one = {n: n.grad for n in leaves}
    list(backward_steps(o))  # the real pass: leaves add to what they held
    assert [n.grad for n in leaves] == [2 * after_one[n] for n in leaves]
    shown = {
        s.input: s.grad_after for step in record_backward(o) for s in step.shares if s.input in after_one
    }
    assert shown == after_one  # what a first backward() gives, whatever passes ran
