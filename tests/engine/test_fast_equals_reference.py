"""The fast engine (fast.py) gives the numbers of the reference engine (engine.py), bit for bit.

Speed itself is measured by `benchmarks/run.py`, never here. What is checked here is that the
fast engine's shortcuts change no number: on random graphs (hypothesis), on MLPs and on
micrograd's demo training, the data and every leaf's gradient are the same bits under both
engines. The one difference allowed: an intermediate Value may show 0.0 where the reference
shows -0.0 (a neuron whose gradient is 0 sends nothing instead of +-0.0; leaves start at 0.0,
and 0.0 + -0.0 is 0.0, so leaves never show it).
"""

from __future__ import annotations

import math
import sys
from typing import Any

import pytest
from conftest import finite, numbers, same, using_engine
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import MLP, Layer, Neuron, Value, fast
from micrograd_plus.data.datasets import make_moons
from micrograd_plus.engine import dot, topological_order, value_sum

node_index = st.integers(0, 1000)
operand = st.one_of(st.tuples(st.just("node"), node_index), st.tuples(st.just("number"), numbers))
UNARY = ["tanh", "relu", "exp", "sigmoid", "__neg__", "log", "sqrt", "abs", "sin"]
BINARY = ["__add__", "__sub__", "__mul__", "__truediv__", "__rsub__", "__pow__", "__rtruediv__"]
step = st.one_of(
    st.tuples(st.just("dot"), st.lists(st.tuples(operand, operand), max_size=5), operand),
    st.tuples(
        st.just("neuron"),
        st.lists(st.tuples(operand, operand), max_size=5),
        operand,
        st.sampled_from(["relu", "tanh", "sigmoid"]),
    ),
    st.tuples(st.just("sum"), st.lists(operand, min_size=1, max_size=6)),
    st.tuples(st.just("unary"), node_index, st.sampled_from(UNARY)),
    st.tuples(st.just("binary"), node_index, st.sampled_from(BINARY), operand),
)
# A program: the leaves (value, requires_grad), then the steps that combine them.
programs = st.tuples(
    st.lists(st.tuples(numbers, st.booleans()), min_size=1, max_size=6),
    st.lists(step, min_size=1, max_size=12),
)


def build(program: Any) -> tuple[Value, list[Value]]:
    """The program's graph, made by the current engine."""
    leaf_specs, steps = program
    leaves = [Value(x, requires_grad=rg) for x, rg in leaf_specs]
    pool: list[Value] = list(leaves)

    def get(item: Any) -> Any:  # a node of the pool, or a plain number (becomes a constant)
        kind, value = item
        return pool[value % len(pool)] if kind == "node" else value

    for kind, *args in steps:
        if kind in ("dot", "neuron"):
            pairs, bias, *activation = args
            node = dot([get(w) for w, _ in pairs], [get(x) for _, x in pairs], get(bias), *activation)
        elif kind == "sum":
            node = value_sum([get(t) for t in args[0]])
        elif kind == "unary":
            node = getattr(pool[args[0] % len(pool)], args[1])()
        else:
            node = getattr(pool[args[0] % len(pool)], args[1])(get(args[2]))
        pool.append(node)
    return value_sum(pool[-3:]) * 1.0, leaves


def equal(a: float, b: float) -> bool:
    """Equal as numbers: nan matches nan, 0.0 matches -0.0."""
    return a == b or (math.isnan(a) and math.isnan(b))


@given(programs, st.none() | numbers)
def test_random_graphs_give_the_same_data_and_leaf_gradients_bit_for_bit(program, seed):
    results = {}
    for name in ("reference", "fast"):
        with using_engine(name):
            root, leaves = build(program)
            if root.requires_grad:
                root.backward(seed)
                root.backward()  # a second pass adds to the leaves, as the first did
            results[name] = (root, leaves)
    (ref_root, ref_leaves), (fast_root, fast_leaves) = results["reference"], results["fast"]
    assert same(ref_root.data, fast_root.data)
    for a, b in zip(ref_leaves, fast_leaves):
        assert same(a.grad, b.grad), (a.grad, b.grad)
        assert a._passes == b._passes


@given(programs)
def test_fast_order_is_the_reference_topological_order(program):
    with using_engine("fast"):
        root, _ = build(program)
    if root.requires_grad:
        assert fast._order(root) == topological_order(root)


@given(programs)
def test_intermediates_differ_at_most_in_the_sign_of_a_zero(program):
    """Same graph (made by the fast engine), walked by each engine's backward."""
    with using_engine("fast"):
        root, _ = build(program)
    if not root.requires_grad:
        return
    order = topological_order(root)
    grads = {}
    for name in ("reference", "fast"):
        for node in order:
            node.zero_grad()
        with using_engine(name):
            root.backward()
        grads[name] = [n.grad for n in order]
    for a, b in zip(grads["reference"], grads["fast"]):
        assert equal(a, b), (a, b)


@given(
    st.integers(0, 2**16),
    st.sampled_from(["relu", "tanh", "sigmoid"]),
    st.lists(finite, min_size=3, max_size=3),
)
def test_an_mlp_gives_the_same_output_and_gradients(seed, activation, x):
    results = {}
    for name in ("reference", "fast"):
        with using_engine(name):
            model = MLP(3, [4, 4, 1], activation=activation, seed=seed)
            out = model(x)
            ((out - 1.0) ** 2).backward()
            results[name] = (out.data, [p.grad for p in model.parameters()])
    assert same(results["reference"][0], results["fast"][0])
    assert all(same(a, b) for a, b in zip(results["reference"][1], results["fast"][1]))


def demo_training(steps: int) -> list[float]:
    """micrograd's demo notebook: moons, MLP(2, [16, 16, 1]), max-margin loss, L2, SGD."""
    X, y = make_moons(n_samples=60, noise=0.1, seed=1337)
    y = y * 2 - 1
    model = MLP(2, [16, 16, 1], seed=1337)
    trace = []
    for k in range(steps):
        scores = [model(list(map(Value, row))) for row in X]
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        trace.append(loss.data)
    return trace + [p.data for p in model.parameters()]


def test_micrograds_demo_training_gives_the_same_losses_and_weights_bit_for_bit():
    with using_engine("reference"):
        reference = demo_training(4)
    with using_engine("fast"):
        fast_run = demo_training(4)
    assert all(same(a, b) for a, b in zip(reference, fast_run, strict=True))


@pytest.mark.engine("fast")
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=8), finite, st.booleans())
def test_fast_neurons_make_one_node_with_the_data_of_the_two_reference_nodes(pairs, bias, float_inputs):
    xs = [x for _, x in pairs] if float_inputs else [Value(x) for _, x in pairs]
    rows = [[Value(w) for w, _ in pairs], [Value(-w) for w, _ in pairs]]
    for activation in ("linear", "relu", "tanh"):
        made = fast.neurons(rows, [Value(bias), bias], xs, activation)
        with using_engine("reference"):
            expected = [dot(w, xs, b, activation) for w, b in zip(rows, [Value(bias), bias])]
        for node, plain, weights in zip(made, expected, rows):
            assert same(node.data, plain.data)
            assert node.parents[: len(xs)] == tuple(weights) and len(node.parents) == 2 * len(xs) + 1


def test_neurons_reject_mismatched_rows_and_non_numbers(each_engine):
    from micrograd_plus import engine

    with pytest.raises(ValueError, match="dot\\(\\): 2 weights but 3 inputs"):
        engine.neurons([[Value(1.0), Value(2.0)]], [0.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2 rows of weights but 1 biases"):
        engine.neurons([[Value(1.0)], [Value(2.0)]], [0.0], [1.0])
    with pytest.raises(TypeError, match="unsupported operand: Value and str"):
        dot([Value(1.0)], ["x"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="activation must be one of .* got 'gelu'"):
        dot([Value(1.0)], [1.0], 0.0, "gelu")


class LoudNeuron(Neuron):
    """A Neuron subclass: the layer must call its forward, not make the neurons itself."""

    def forward(self, x: Any) -> Value:
        return super().forward(x) * 2.0


@given(st.lists(finite, min_size=2, max_size=2), st.integers(0, 2**16))
def test_a_layer_makes_the_nodes_of_calling_each_neuron(each_engine, x, seed):
    layer = Layer(2, 3, seed=seed)
    made = layer(x)
    slow = [n(x) for n in layer.neurons]
    assert [a.data for a in made] == [b.data for b in slow]
    assert [a.op for a in made] == [b.op for b in slow]
    layer.neurons[1] = LoudNeuron(2, seed=seed)
    mixed = layer(x)
    assert mixed[1].op == "*" and same(mixed[1].data, layer.neurons[1](x).data)


def test_a_deep_chain_walk_needs_no_recursion(each_engine):
    limit = sys.getrecursionlimit()
    x = Value(0.5)
    v = x
    for _ in range(50_000):
        v = v.tanh()
    sys.setrecursionlimit(200)
    try:
        order = topological_order(v)
        v.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert len(order) == 50_001 and order[0] is v and order[-1] is x
    assert x.grad > 0


def test_set_engine_returns_the_previous_name_and_refuses_others():
    from micrograd_plus import set_engine

    with using_engine("fast"):
        assert set_engine("reference") == "fast"
        assert set_engine("fast") == "reference"
        with pytest.raises(ValueError, match="'reference' or 'fast', got 'turbo'"):
            set_engine("turbo")


def test_the_environment_variable_chooses_the_engine_at_import():
    import subprocess

    code = "import micrograd_plus as m; print(m.fast.current_engine(), m.Neuron(2, seed=0)([1.0, 2.0]).op)"
    for name, op in (("reference", "relu"), ("fast", "relu(dot)")):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={"MICROGRAD_PLUS_ENGINE": name, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert out == [name, op]
    refused = subprocess.run(
        [sys.executable, "-c", "import micrograd_plus"],
        env={"MICROGRAD_PLUS_ENGINE": "turbo", "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "MICROGRAD_PLUS_ENGINE must be 'reference' or 'fast'" in refused.stderr


def test_grad_mode_shortcut_follows_no_grad_in_every_thread():
    """Making a node reads a global count of threads inside no_grad() before the per-thread
    flag: the count must come back to zero, and each thread must see its own mode."""
    import threading

    from micrograd_plus import enable_grad, no_grad
    from micrograd_plus.modes import no_grad_threads

    seen: dict[str, list[bool]] = {}
    inside = threading.Event()
    release = threading.Event()

    def in_no_grad() -> None:
        with no_grad():
            seen["other"] = [(Value(1.0) * 2).requires_grad]
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=in_no_grad)
    thread.start()
    inside.wait(10)
    seen["main"] = [(Value(1.0) * 2).requires_grad]  # this thread is not in no_grad
    with no_grad():
        seen["main"].append((Value(1.0) * 2).requires_grad)
        with enable_grad():
            seen["main"].append((Value(1.0) * 2).requires_grad)
        seen["main"].append((Value(1.0) * 2).requires_grad)
    release.set()
    thread.join(10)
    assert seen == {"other": [False], "main": [True, False, True, False]}
    assert no_grad_threads[0] == 0
