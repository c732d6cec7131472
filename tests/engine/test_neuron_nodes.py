"""A neuron is `activation(dot(w, x, b))`: two nodes on the reference engine, one on the fast
engine (fast.NEURON_OPS), whose gradients are those of the two nodes and which sends nothing
when its gradient is exactly zero (fast._sends_nothing). Checked here against the two-node
graph, against PyTorch, and for what a learner sees: grads, `grad()`, `explain_grad`, the
narrated steps, under both engines unless a test is about the fast engine's node.
"""

from __future__ import annotations

import math

import pytest
from conftest import close_to_torch, finite, numbers, require_torch, same
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import (
    MLP,
    Layer,
    Neuron,
    Op,
    Value,
    backward_steps,
    check_local_derivatives,
    draw_dot,
    explain_grad,
    grad,
)
from micrograd_plus.engine import dot
from micrograd_plus.fast import NEURON_OPS, neurons
from micrograd_plus.viz.trace import record_backward

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

ACTIVATIONS = ["relu", "tanh", "sigmoid"]


def equal(a: float, b: float) -> bool:
    """Equal as numbers: nan matches nan, and 0.0 matches -0.0."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def neuron_pair(ws, xs, b, activation):
    """The same neuron twice, on leaves of its own: one node, and a dot node followed by the
    activation's node (with an intermediate input `x0 * 1.0`, so an intermediate is seen too)."""
    graphs = []
    for fused in (True, False):
        w = [Value(v) for v in ws]
        leaves = [Value(v) for v in xs]
        x = [leaves[0] * 1.0, *leaves[1:]]
        bias = Value(b)
        out = dot(w, x, bias, activation) if fused else getattr(dot(w, x, bias), activation)()
        graphs.append((out, [*w, *leaves, bias], x[0]))
    return graphs


def weights_and_inputs(
    element: st.SearchStrategy[float],
) -> st.SearchStrategy[tuple[list[float], list[float]]]:
    return st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            st.lists(element, min_size=n, max_size=n), st.lists(element, min_size=n, max_size=n)
        )
    )


weights_inputs = weights_and_inputs(numbers)


@pytest.mark.engine("fast")
@given(weights_inputs, numbers, st.sampled_from(ACTIVATIONS), numbers)
def test_a_neuron_node_gives_the_gradients_of_a_dot_and_its_activation(wx, b, activation, upstream):
    ws, xs = wx
    (fused, fused_leaves, fused_x0), (plain, plain_leaves, plain_x0) = neuron_pair(ws, xs, b, activation)
    assert fused.op == f"{activation}(dot)" and len(fused.parents) == 2 * len(ws) + 1
    assert same(fused.data, plain.data)
    fused.backward(upstream)
    plain.backward(upstream)
    for a, p in zip(fused_leaves, plain_leaves):  # leaves start at 0.0, and 0.0 + -0.0 is 0.0
        assert same(a.grad, p.grad), (a.grad, p.grad)
    # An intermediate shows 0.0 where the two nodes send a -0.0 (the one difference).
    assert equal(fused_x0.grad, plain_x0.grad)


@given(
    st.lists(finite, min_size=3, max_size=3),
    st.lists(finite, min_size=3, max_size=3),
    finite,
    st.sampled_from(ACTIVATIONS),
)
def test_second_derivatives_through_a_neuron_node_are_those_of_two_nodes(ws, xs, b, activation):
    results = []
    for out, leaves, _ in neuron_pair(ws, xs, b, activation):
        (d_w0,) = grad(out, [leaves[0]], create_graph=True)
        results.append(grad(d_w0, leaves[len(ws) :], allow_unused=True))
    for a, p in zip(*results):  # (a total of zeros may differ in its sign: see the test above)
        assert (a is None and p is None) or equal(float(a), float(p)), (a, p)


@given(weights_and_inputs(st.one_of(finite, st.just(0.0))), finite, st.sampled_from(ACTIVATIONS))
def test_a_neuron_node_agrees_with_pytorch(wx, b, activation):
    torch = require_torch()
    ws, xs = wx
    w = [Value(v) for v in ws]
    x = [Value(v) for v in xs]
    bias = Value(b)
    out = dot(w, x, bias, activation) * 1.5
    out.backward()
    tw = torch.tensor(ws, dtype=torch.float64, requires_grad=True)
    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    t_out = getattr(torch, activation)(torch.dot(tw, tx) + tb) * 1.5
    t_out.backward()
    ours = [v.grad for v in (*w, *x, bias)]
    assert close_to_torch(ours, [*tw.grad.tolist(), *tx.grad.tolist(), tb.grad.item()])


def test_an_inactive_neuron_with_an_infinite_input_sends_nan_as_pytorch_does():
    w, x, b = Value(1.0), Value(-math.inf), Value(0.0)
    out = dot([w], [x], b, "relu")
    assert out.data == 0.0
    out.backward()
    assert math.isnan(w.grad)  # 0 * inf, as torch.relu gives
    assert x.grad == 0.0 and b.grad == 0.0


def test_what_a_pass_that_sends_nothing_leaves_behind():
    w, b = Value(-1.0, label="w"), Value(0.0, label="b")
    u = Value(2.0, label="u")
    x = u * 1.0  # an intermediate
    out = dot([w], [x], b, "relu") + w  # inactive: -1 * 2 + 0 < 0
    x.grad = 5.0  # left from an earlier pass: the new pass must show its own gradient
    out.backward()
    assert x.grad == 0.0 and u.grad == 0.0 and w.grad == 1.0
    assert u._passes == 1 and "summed over 1 backward() call" in explain_grad(u)
    (d_u,) = grad(out, [u])  # reached, with gradient zero: not "unused"
    assert d_u.data == 0.0


def test_stepping_through_a_pass_that_sends_nothing_ends_as_backward_does():
    def build():
        u = Value(2.0, label="u")
        x = u * 1.0
        x.grad = 5.0
        return u, x, dot([Value(-1.0, label="w")], [x], Value(0.0, label="b"), "relu")

    u, x, out = build()
    steps = list(backward_steps(out))
    u2, x2, out2 = build()
    out2.backward()
    assert (u.grad, u._passes) == (u2.grad, u2._passes) == (0.0, 1)
    assert equal(x.grad, x2.grad) and x.grad == 0.0  # (the fast engine shows 0.0, the walk -0.0)
    text = "\n".join(map(str, steps))
    assert "dL/dv1 += " in text and "(v1.grad: 5.0 -> 0.0)" in text  # the live pass: from 5.0


@pytest.mark.engine("fast")
@given(st.lists(finite, min_size=2, max_size=2), st.integers(0, 2**16), st.sampled_from(ACTIVATIONS))
def test_a_layer_makes_the_nodes_of_its_neurons_and_mixed_activations_work(x, seed, activation):
    layer = Layer(2, 3, activation=activation, seed=seed)
    made = layer(x)
    assert [n.op for n in made] == [f"{activation}(dot)"] * 3
    assert [n.data for n in made] == [neuron(x).data for neuron in layer.neurons]
    layer.neurons[1].activation = "linear"  # no longer one activation for all: neuron by neuron
    mixed = layer(x)
    assert [n.op for n in mixed] == [f"{activation}(dot)", "dot", f"{activation}(dot)"]


@pytest.mark.engine("fast")
def test_neuron_ops_by_name_and_a_clear_error_for_others():
    assert NEURON_OPS["linear"].name == "dot" and NEURON_OPS["relu"].name == "relu(dot)"
    assert Neuron(2, "tanh", seed=0)([1.0, 2.0]).op == "tanh(dot)"
    with pytest.raises(ValueError, match="activation must be one of .* got 'gelu'"):
        neurons([[Value(1.0)]], [0.0], [1.0], "gelu")


def test_the_reference_engine_makes_a_neuron_of_two_nodes():
    from conftest import using_engine

    with using_engine("reference"):
        out = Neuron(2, "tanh", seed=0)([1.0, 2.0])
    assert out.op == "tanh" and out.parents[0].op == "dot" and len(out.parents[0].parents) == 5


@pytest.mark.engine("fast")
def test_a_drawn_mlp_shows_one_node_per_neuron():
    model = MLP(2, [3, 1], seed=0)
    source = draw_dot(model([0.5, -1.0])).source
    assert source.count('label="relu(dot)"') == 3 and source.count('label="dot"') == 1


def test_a_rules_none_still_means_no_gradient_unlike_a_neuron_that_sends_nothing():
    """A rule's None says no gradient flows (PyTorch's undefined gradient): nothing runs
    behind it, so a stop-gradient op hides sqrt's infinite slope at 0, and `grad()` calls
    the input unused. A neuron that sends nothing still gives its inputs a gradient, 0.0."""
    stop = Op("stop", lambda a: a, lambda g, out, a: (None,))
    x = Value(0.0)
    (Value.apply(stop, x**0.5) + x).backward()
    assert x.grad == 1.0  # as torch; 0 * inf would give nan
    for create_graph in (False, True):
        with pytest.raises(RuntimeError, match="not used"):
            grad(Value.apply(stop, x), [x], create_graph=create_graph)
        assert grad(Value.apply(stop, x), [x], allow_unused=True, create_graph=create_graph) == (None,)
        u = Value(2.0)
        (d_u,) = grad(dot([Value(-1.0)], [u], 0.0, "relu"), [u], create_graph=create_graph)
        assert isinstance(d_u, Value) and d_u.data == 0.0


def test_create_graph_gives_the_first_derivatives_of_a_plain_pass():
    x = Value(-1.0)
    y = x.relu() ** 0.5  # sqrt's slope at 0 is inf; relu where flat sends 0.0, as PyTorch
    (plain,) = grad(y, [x])
    (with_graph,) = grad(y, [x], create_graph=True)
    assert plain.data == with_graph.data == 0.0


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("weights", [[0.5, -0.2], [-0.5, -0.2]])  # active, and inactive for relu
def test_local_derivative_checks_pass_on_neurons_and_catch_a_wrong_rule(activation, weights):
    def neuron(op=None):
        w, x, b = [Value(v) for v in weights], [Value(1.0), Value(2.0)], Value(0.1)
        return dot(w, x, b, activation) if op is None else Value.apply(op, *w, *x, b)

    assert check_local_derivatives(neuron()).ok
    other = "tanh" if activation != "tanh" else "sigmoid"
    wrong = Op(f"{activation}(dot)", NEURON_OPS[activation].forward, NEURON_OPS[other].backward)
    if activation != "relu" or weights[0] > 0:  # (an inactive relu's slope is 0 whatever the rule)
        assert not check_local_derivatives(neuron(wrong), raise_exception=False).ok


def mirror_in_torch(model: MLP, x: list[float]):
    """The MLP's first-layer weight gradients in PyTorch, for the loss (1 - model(x))**2."""
    torch = require_torch()
    tensor = lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True)  # noqa: E731
    layers = [
        (tensor([[w.data for w in n.w] for n in layer.neurons]), tensor([n.b.data for n in layer.neurons]))
        for layer in model.layers
    ]
    h = torch.tensor(x, dtype=torch.float64)
    for i, (W, b) in enumerate(layers):
        h = W @ h + b
        h = torch.relu(h) if i < len(layers) - 1 else h
    ((1 - h[0]) ** 2).backward()
    W, b = layers[0]
    return [v for row, bias in zip(W.grad.tolist(), b.grad.tolist()) for v in (*row, bias)]


def test_a_nan_from_zero_times_inf_further_back_is_not_lost():
    """relu(-inf) is a finite 0.0, so the next layer's neurons see finite inputs and, inactive,
    send nothing; the first layer still runs its rule with gradient 0, and 0 * -inf is nan."""
    model = MLP(1, [2, 2, 1], seed=0)
    for neuron in model.layers[0].neurons:
        neuron.w[0].data = abs(neuron.w[0].data)
    ((1 - model([-math.inf])) ** 2).backward()
    ours = [p.grad for n in model.layers[0].neurons for p in (*n.w, n.b)]
    assert close_to_torch(ours, mirror_in_torch(model, [-math.inf]))
    assert math.isnan(ours[0]) and ours[1] == 0.0


def test_anomaly_mode_sees_a_weighted_sum_that_overflows_under_a_bounded_activation():
    from micrograd_plus import AnomalyError, detect_anomaly

    for activation in ACTIVATIONS:
        with detect_anomaly(), pytest.raises(AnomalyError, match="'dot' turned finite inputs"):
            dot([Value(-1e308), Value(-1e308)], [10.0, 10.0], 0.0, activation)


def test_parameters_follow_a_module_that_lists_its_own_members():
    from micrograd_plus.nn.layers import Sequential

    model = Sequential(Layer(2, 1, seed=0))
    model.scale = Value(
        1.0
    )  # not one of Sequential's layers, but a Value of it: a parameter, as in any Module
    assert model.parameters() == [p for _, p in model.named_parameters()]
    assert len(model.parameters()) == 4 and dict(model.named_parameters())["scale"] is model.scale
    assert len(model) == 1  # (a Value is no layer)


def test_stepping_after_an_interrupted_backward_ends_as_backward_does():
    def rule_that_fails(g, out, a):
        raise RuntimeError("boom")

    fails = Op("fails", lambda a: a, rule_that_fails)

    def run(step_through: bool) -> tuple[float, int]:
        w, x = Value(-1.0, label="w"), Value(2.0, label="x")
        with pytest.raises(RuntimeError, match="boom"):
            (Value.apply(fails, x) + w * 2.0).backward()  # leaves a running sum in w
        inactive = dot([w], [x], 0.0, "relu")
        if step_through:
            list(backward_steps(inactive))
        else:
            inactive.backward()
        return w.grad, w._passes

    assert run(step_through=True) == run(step_through=False) == (0.0, 1)


def test_a_drawing_shows_one_pass_from_zero_and_changes_no_grad():
    u = Value(2.0, label="u")
    x = u * 1.0
    x.label = "x"
    out = dot([Value(-1.0, label="w")], [x], Value(0.0, label="b"), "relu")
    x.grad = 5.0  # from an earlier pass
    steps = record_backward(out)
    assert x.grad == 5.0 and u.grad == 0.0  # untouched
    assert "(x.grad: 0.0 -> 0.0)" in "\n".join(map(str, steps))
    source = draw_dot(out, step=len(steps) - 1).source
    boxes = {
        line.split("|")[0].split("{")[1].strip(): line for line in source.splitlines() if 'label="{ ' in line
    }
    assert "grad 0.0" in boxes["x"] and "grad 5.0" not in boxes["x"]
    assert "pending" not in boxes["w"] and "pending" not in boxes["b"]
    assert x.grad == 5.0


def test_stepping_matches_backward_where_the_inputs_sum_overflows():
    """Finite inputs whose plain sum overflows still make an inactive neuron send nothing, in
    the engine's walk and in the narrated steps alike (same bits, signed zeros included)."""

    def build():
        a = Value(1.0)
        h = a * 1e-300
        n = dot([Value(-1e308), Value(-1e308)], [h, Value(0.0)], Value(-1.0), "relu")
        return a, h, n * 1.0

    a, h, out = build()
    out.backward()
    a2, h2, out2 = build()
    list(backward_steps(out2))
    assert equal(h.grad, h2.grad) and same(a.grad, a2.grad)  # (a zero's sign may differ: see fast.py)
