"""The speed paths of the Value engine give exactly what the plain rules give.

Speed itself is measured by `benchmarks/run.py`, never here. What is checked here is that
each shortcut taken for speed changes no number and no order, bit for bit: the fused
`accumulate` of DOT, SUM, RELU, `+`, `*` and the neurons against their `backward` rules (the reference below runs
every node's plain rule), the one-input branch of the walk, the topological order against a
plain recursive depth-first walk, and `dots` / the layer fast path against one `dot` per
neuron.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from conftest import finite, numbers, same
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import MLP, Layer, Neuron, Op, Value
from micrograd_plus.autograd import topological_order
from micrograd_plus.engine import DOT, NEURON_OPS, SUM, dot, dots, value_sum

# The same operations without the fused `accumulate`: the walk then uses `backward`.
PLAIN_DOT = Op("dot", DOT.forward, DOT.backward)
PLAIN_SUM = Op("sum", SUM.forward, SUM.backward)
PLAIN_NEURON = {name: Op(op.name, op.forward, op.backward) for name, op in NEURON_OPS.items()}


node_index = st.integers(0, 1000)
operand = st.one_of(st.tuples(st.just("node"), node_index), st.tuples(st.just("number"), numbers))
UNARY = ["tanh", "relu", "exp", "sigmoid", "__neg__"]
BINARY = ["__add__", "__sub__", "__mul__", "__truediv__", "__rsub__"]
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


def build(program: Any, plain: bool) -> tuple[Value, list[Value]]:
    """The program's graph of dot, sum, unary and binary nodes, made with the engine's ops,
    or (plain=True) with PLAIN_DOT / PLAIN_SUM, whose walk uses `backward` alone."""
    leaf_specs, steps = program
    leaves = [Value(x, requires_grad=rg) for x, rg in leaf_specs]
    pool: list[Value] = list(leaves)

    def get(item: Any) -> Any:  # a node of the pool, or a plain number (becomes a constant)
        kind, value = item
        return pool[value % len(pool)] if kind == "node" else value

    for kind, *args in steps:
        if kind in ("dot", "neuron"):
            pairs, bias, *activation = args
            ws, xs = [get(w) for w, _ in pairs], [get(x) for _, x in pairs]
            op = PLAIN_NEURON[activation[0]] if activation else PLAIN_DOT
            node = Value.apply(op, *ws, *xs, get(bias)) if plain else dot(ws, xs, get(bias), *activation)
        elif kind == "sum":
            terms = [get(t) for t in args[0]]
            node = Value.apply(PLAIN_SUM, *terms) if plain else value_sum(terms)
        elif kind == "unary":
            node = getattr(pool[args[0] % len(pool)], args[1])()
        else:
            node = getattr(pool[args[0] % len(pool)], args[1])(get(args[2]))
        pool.append(node)
    last = pool[-3:]
    root = (Value.apply(PLAIN_SUM, *last) if plain else value_sum(last)) * 1.0
    return root, leaves


def recursive_order(root: Value) -> list[Value]:
    """The reference: a recursive depth-first walk, parents in argument order (small graphs only)."""
    order: list[Value] = []
    seen: set[Value] = set()

    def visit(node: Value) -> None:
        seen.add(node)
        for parent in node._parents:
            if parent.requires_grad and parent not in seen:
                visit(parent)
        order.append(node)

    visit(root)
    return order[::-1]


def reference_sums(root: Value) -> dict[Value, float]:
    """Each node's gradient by the plain rules (`Op.backward`), in the reference order."""
    sums: dict[Value, float] = {root: 1.0}
    for node in recursive_order(root):
        g = sums.get(node)
        if g is None or node._op is None:
            continue
        datas = [p.data for p in node._parents]
        try:
            contributions = node._op.backward(g, node.data, *datas)
        except ArithmeticError:
            contributions = node._backward_ieee(node._op, g, datas)
        for parent, c in zip(node._parents, contributions):
            if c is not None and parent.requires_grad:
                sums[parent] = c if parent not in sums else sums[parent] + c
    return sums


@given(programs)
def test_topological_order_is_that_of_a_recursive_depth_first_walk(program):
    root, _ = build(program, plain=False)
    if root.requires_grad:
        assert topological_order(root) == recursive_order(root)


@given(programs)
def test_backward_with_the_speed_paths_gives_the_plain_rules_numbers_bit_for_bit(program):
    fast_root, fast_leaves = build(program, plain=False)
    plain_root, plain_leaves = build(program, plain=True)
    if not fast_root.requires_grad:
        return
    expected = reference_sums(plain_root)
    fast_root.backward()
    for fast, plain in zip(fast_leaves, plain_leaves):
        if plain in expected:
            assert same(fast.grad, 0.0 + expected[plain]), (fast.grad, expected[plain])
        else:
            assert fast.grad == 0.0
    fast_order, plain_order = topological_order(fast_root), recursive_order(plain_root)
    assert [n.op for n in fast_order] == [n.op for n in plain_order]
    for fast, plain in zip(fast_order, plain_order):
        assert same(fast.data, plain.data)
        if fast._op is not None:  # intermediates show this pass's gradient (0.0 if it sent nothing)
            assert same(fast.grad, expected.get(plain, 0.0)), (fast.op, fast.grad, expected.get(plain))


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=8), finite, st.booleans())
def test_dots_makes_the_nodes_and_numbers_of_one_dot_per_row(pairs, bias, float_inputs):
    xs = [x for _, x in pairs] if float_inputs else [Value(x) for _, x in pairs]
    rows = [[Value(w) for w, _ in pairs], [Value(-w) for w, _ in pairs]]
    biases = [Value(bias), bias]
    made = dots(rows, biases, xs)
    for node, weights, b in zip(made, rows, biases):
        plain = Value.apply(PLAIN_DOT, *weights, *xs, b)
        assert same(node.data, plain.data)
        assert node.op == "dot" and len(node.parents) == 2 * len(xs) + 1
        assert node.parents[: len(xs)] == tuple(weights)
        assert [p.data for p in node.parents] == [p.data for p in plain.parents]


def test_dot_rejects_mismatched_rows_and_non_numbers():
    with pytest.raises(ValueError, match="dot\\(\\): 2 weights but 3 inputs"):
        dots([[Value(1.0), Value(2.0)]], [0.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2 rows of weights but 1 biases"):
        dots([[Value(1.0)], [Value(2.0)]], [0.0], [1.0])
    with pytest.raises(TypeError, match="unsupported operand: Value and str"):
        dot([Value(1.0)], ["x"])  # type: ignore[list-item]


def test_op_accumulate_must_be_a_function():
    with pytest.raises(TypeError, match="accumulate must be a function or None, got int"):
        Op("f", lambda x: x, lambda g, out, x: (g,), accumulate=3)  # type: ignore[arg-type]


class LoudNeuron(Neuron):
    """A Neuron subclass: the layer must call its forward, not take the fast path."""

    def forward(self, x: Any) -> Value:
        return super().forward(x) * 2.0


@given(st.lists(finite, min_size=2, max_size=2), st.integers(0, 2**16))
def test_layer_fast_path_equals_calling_each_neuron(x, seed):
    layer = Layer(2, 3, seed=seed)
    fast = layer(x)
    slow = [n(x) for n in layer.neurons]
    assert [a.data for a in fast] == [b.data for b in slow]
    assert [a.op for a in fast] == [b.op for b in slow]
    layer.neurons[1] = LoudNeuron(2, seed=seed)
    mixed = layer(x)
    assert mixed[1].op == "*" and same(mixed[1].data, layer.neurons[1](x).data)


def test_mlp_gradients_match_a_per_neuron_graph():
    model = MLP(3, [4, 4, 1], seed=7)
    x = [0.5, -1.5, 2.0]
    model(x).backward()
    fast = [p.grad for p in model.parameters()]
    model.zero_grad()
    out = x
    for layer in model.layers:  # the same model, neuron by neuron (no layer fast path)
        out = [n(out) for n in layer.neurons]
    out[0].backward()
    assert fast == [p.grad for p in model.parameters()]


def test_a_deep_chain_walk_needs_no_recursion():
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
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0  # noqa: B018
    assert no_grad_threads[0] == 0
