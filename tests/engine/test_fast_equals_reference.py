"""The fast engine (fast.py) gives the numbers of the reference engine (engine.py), bit for bit.

Speed itself is measured by `benchmarks/run.py`, never here. What is checked here is that the
fast engine's shortcuts change no number: on random graphs (hypothesis), on MLPs and on
micrograd's demo training, the data and every leaf's gradient are the same bits under both
engines, for Values and for Tensors (random broadcasting graphs, Tensor MLPs trained with SGD
and Adam, float32). The one difference allowed: an intermediate Value may show 0.0 where the
reference shows -0.0 (a neuron whose gradient is 0 sends nothing instead of +-0.0; leaves start
at 0.0, and 0.0 + -0.0 is 0.0, so leaves never show it).
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, finite, numbers, require_torch, same, special, using_engine
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from micrograd_plus import (
    MLP,
    SGD,
    Adam,
    Layer,
    Linear,
    Neuron,
    Op,
    ReLU,
    Sequential,
    Tanh,
    Tensor,
    Value,
    backward_steps,
    cross_entropy,
    detect_anomaly,
    engine,
    fast,
    grad,
    hinge_loss,
    mse_loss,
)
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


FROZEN = ["no", "before", "after"]  # when mlp_with_data_set freezes its first weight


def mlp_with_data_set(
    seed: int,
    x: list[float],
    changes: list[tuple[int, float]],
    when: str,
    frozen: str,
    inputs_need_grad: bool,
) -> list[float]:
    """A relu MLP's output and loss, then every leaf's gradient (parameters, inputs), where some
    leaves' `.data` was set (to inf, nan, 1e308...) before the forward or after it: a backward
    reads the data as it is then. A weight frozen (before the forward or after it, `frozen`) and
    inputs without gradient are read too."""
    model = MLP(3, [4, 4, 1], activation="relu", seed=seed)
    xs = [Value(v, requires_grad=inputs_need_grad) for v in x]
    leaves = [*model.parameters(), *xs]
    leaves[0].requires_grad = frozen != "before"

    def set_data() -> None:
        for index, data in changes:
            leaves[index % len(leaves)].data = data

    if when == "before":
        set_data()
    out = model(xs)
    leaves[0].requires_grad = frozen == "no"  # (frozen after the forward: outside the walk's order)
    if when == "after":
        set_data()
    loss = (out - 1.0) * (out - 1.0)
    loss.backward()
    return [out.data, loss.data, *(leaf.grad for leaf in leaves)]


@given(
    st.integers(0, 2**16),
    st.lists(finite, min_size=3, max_size=3),
    st.lists(st.tuples(st.integers(0, 1000), special), min_size=1, max_size=3),
    st.sampled_from(["before", "after"]),
    st.sampled_from(FROZEN),
    st.booleans(),
)
def test_inf_or_nan_data_set_before_or_after_the_forward_gives_the_same_bits(
    seed, x, changes, when, frozen, inputs_need_grad
):
    """fast.py makes a relu neuron whose weighted sum is finite a node that sends nothing when
    inactive, its inputs being finite; a `.data` set since to inf or nan must still send the
    reference's 0 * inf = nan."""
    results = {}
    for name in ("reference", "fast"):
        with using_engine(name):
            results[name] = mlp_with_data_set(seed, x, changes, when, frozen, inputs_need_grad)
    assert all(same(a, b) for a, b in zip(results["reference"], results["fast"], strict=True))


def test_each_leaf_set_to_inf_or_nan_after_the_forward_gives_the_same_bits():
    # Every parameter and input in turn (41 + 3), of a model with inactive neurons in each layer.
    for leaf, data, frozen, inputs_need_grad in itertools.product(
        range(44), [math.inf, -math.inf, math.nan], FROZEN, [False, True]
    ):
        results = {}
        for name in ("reference", "fast"):
            with using_engine(name):
                results[name] = mlp_with_data_set(
                    7, [1.0, -2.0, 0.5], [(leaf, data)], "after", frozen, inputs_need_grad
                )
        assert all(same(a, b) for a, b in zip(results["reference"], results["fast"], strict=True)), (
            leaf,
            data,
        )


def test_a_weight_frozen_after_the_forward_then_set_to_inf_sends_torchs_nan():
    # An inactive relu neuron (1 * 1 - 1 * 2 < 0) of a finite sum: its frozen weight is outside
    # the walk's order, yet its rule reads it: x0's gradient is 0 * inf = nan, as in PyTorch.
    torch = require_torch()
    results = {}
    for name in ("reference", "fast"):
        with using_engine(name):
            w, x = [Value(1.0), Value(-1.0)], [Value(1.0), Value(2.0)]
            out = engine.neurons([w], [0.0], x, activation="relu")[0]
            w[0].requires_grad = False
            w[0].data = math.inf
            out.backward()
            results[name] = [out.data, w[1].grad, x[0].grad, x[1].grad]
    assert all(same(a, b) for a, b in zip(results["reference"], results["fast"], strict=True))
    w0, w1, x0, x1 = (torch.tensor(v, requires_grad=True) for v in (1.0, -1.0, 1.0, 2.0))
    out_torch = torch.relu(w0 * x0 + w1 * x1 + 0.0)
    w0.requires_grad_(False)
    w0.data.fill_(math.inf)
    out_torch.backward()
    theirs = [out_torch.item(), w1.grad.item(), x0.grad.item(), x1.grad.item()]
    assert close_to_torch(results["fast"], theirs) and math.isnan(results["fast"][2])


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


# -- Tensors: fast.tensor_backward against engine.py's walk --------------------------------------------
#
# A Tensor graph is the same under both engines; only the walk differs. The fast walk must give
# every leaf (and every retain_grad() node) the very bits of the reference walk: no sign of a zero
# excepted, since no Tensor rule is skipped.

SHAPES = [(), (3,), (2, 1), (1, 3), (2, 3)]  # all broadcast together, to (2, 3) at most
TENSOR_UNARY = ["tanh", "relu", "exp", "sigmoid", "neg", "log", "sqrt", "abs", "sin", "cos"]
TENSOR_BINARY = ["__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__rsub__", "__rtruediv__"]
REDUCTIONS = ["sum", "sum0", "mean1", "max", "softmax", "log_softmax", "matmul"]
tensor_step = st.one_of(
    st.tuples(st.just("unary"), node_index, st.sampled_from(TENSOR_UNARY)),
    st.tuples(st.just("binary"), node_index, st.sampled_from(TENSOR_BINARY), operand),
    st.tuples(st.just("reduce"), node_index, st.sampled_from(REDUCTIONS)),
)
arrays = {
    shape: hnp.arrays(np.float64, shape, elements=st.one_of(finite, finite, finite, special))
    for shape in SHAPES
}
tensor_leaf = st.sampled_from(SHAPES).flatmap(lambda shape: st.tuples(arrays[shape], st.booleans()))
# A program: leaves (array, requires_grad), steps (with whether to retain_grad), a dtype.
tensor_programs = st.tuples(
    st.lists(tensor_leaf, min_size=1, max_size=5),
    st.lists(st.tuples(tensor_step, st.booleans()), min_size=1, max_size=12),
    st.sampled_from([np.float64, np.float32]),
)


def build_tensors(program: Any) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """The program's Tensor graph: the root (a sum, one element), the leaves, the retained nodes."""
    leaf_specs, steps, dtype = program
    leaves = [Tensor(array, requires_grad=rg, dtype=dtype) for array, rg in leaf_specs]
    weight = Tensor(np.linspace(-1.0, 1.0, 9).reshape(3, 3), requires_grad=True, dtype=dtype)
    pool: list[Tensor] = list(leaves)
    retained = []

    def get(item: Any) -> Any:  # a node of the pool, or a plain number (becomes a constant)
        kind, value = item
        return pool[value % len(pool)] if kind == "node" else value

    for (kind, *args), retain in steps:
        x = pool[args[0] % len(pool)]
        if kind == "unary":
            node = getattr(x, args[1])()
        elif kind == "binary":
            node = getattr(x, args[1])(get(args[2]))
        elif args[1] == "sum" or x.ndim == 0:
            node = x.sum()
        elif args[1] == "sum0":
            node = x.sum(axis=0, keepdims=True)
        elif args[1] == "mean1":
            node = x.mean(axis=-1, keepdims=True)
        elif args[1] == "max":
            node = x.amax(axis=0, keepdims=True)
        elif args[1] == "matmul":
            node = x @ weight if x.shape[-1:] == (3,) else x.reshape(x.shape)
        else:
            node = getattr(x, args[1])(axis=-1)
        if retain and node.requires_grad:
            node.retain_grad()
            retained.append(node)
        pool.append(node)
    root = pool[-1].sum()
    for node in pool[-3:-1]:
        root = root + node.sum()
    return root, [*leaves, weight], retained


def same_array(a: Any, b: Any) -> bool:
    """Both None, or arrays of one dtype and shape holding the same bits."""
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@given(tensor_programs, st.none() | numbers)
def test_random_tensor_graphs_give_the_same_gradients_bit_for_bit(program, seed):
    results = {}
    for name in ("reference", "fast"):
        with using_engine(name):
            root, leaves, retained = build_tensors(program)
            if root.requires_grad:
                root.backward(None if seed is None else np.array(seed))
                root.backward()  # a second pass adds to the leaves, as the first did
            results[name] = (root, leaves, retained)
    (ref_root, ref_leaves, ref_kept), (fast_root, fast_leaves, fast_kept) = (
        results["reference"],
        results["fast"],
    )
    assert same_array(ref_root.data, fast_root.data)
    for a, b in zip(ref_leaves, fast_leaves, strict=True):
        assert same_array(a.grad, b.grad), (a.grad, b.grad)
        assert a._passes == b._passes
    for a, b in zip(ref_kept, fast_kept, strict=True):
        assert same_array(a.grad, b.grad), (a.op, a.grad, b.grad)


@given(tensor_programs)
def test_one_tensor_graph_walked_by_each_engine_gives_the_same_bits(program):
    """The same graph (not two builds of it), walked by each engine's backward in turn."""
    root, leaves, retained = build_tensors(program)
    if not root.requires_grad:
        return
    grads = {}
    for name in ("reference", "fast"):
        for node in [*leaves, *retained]:
            node.zero_grad()
        with using_engine(name):
            root.backward()
        grads[name] = [node.grad for node in [*leaves, *retained]]
    assert all(same_array(a, b) for a, b in zip(grads["reference"], grads["fast"], strict=True))


def train_tensor_mlp(loss_name: str, optimizer_name: str, dtype: Any, seed: int, steps: int) -> list[Any]:
    """A small Tensor MLP trained a few steps: the losses, then the weights and gradients."""
    rng = np.random.default_rng(seed)
    model = Sequential(
        Linear(4, 8, dtype=dtype), ReLU(), Linear(8, 8, dtype=dtype), Tanh(), Linear(8, 3, dtype=dtype)
    )
    for p in model.parameters():
        p.data[...] = rng.uniform(-0.7, 0.7, p.shape)
    params = model.parameters()
    optimizer = SGD(params, lr=0.1, momentum=0.9) if optimizer_name == "sgd" else Adam(params, lr=0.01)
    X = Tensor(rng.normal(size=(10, 4)), dtype=dtype)
    labels = rng.integers(0, 3, 10)
    targets = Tensor(np.where(rng.normal(size=(10, 3)) > 0, 1.0, -1.0), dtype=dtype)
    trace = []
    for _ in range(steps):
        out = model(X)
        if loss_name == "cross_entropy":
            loss = cross_entropy(out, labels)
        elif loss_name == "hinge":
            loss = hinge_loss(out, targets) + 1e-4 * sum((p * p).sum() for p in params)
        else:
            loss = mse_loss(out, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        trace.append(loss.data)
    return trace + [p.data for p in params] + [p.grad for p in params]


@given(
    st.sampled_from(["cross_entropy", "hinge", "mse"]),
    st.sampled_from(["sgd", "adam"]),
    st.sampled_from([np.float64, np.float32]),
    st.integers(0, 2**16),
)
def test_tensor_mlp_training_gives_the_same_losses_and_weights_bit_for_bit(
    loss_name, optimizer_name, dtype, seed
):
    runs = {}
    for name in ("reference", "fast"):
        with using_engine(name):
            runs[name] = train_tensor_mlp(loss_name, optimizer_name, dtype, seed, steps=3)
    assert all(same_array(a, b) for a, b in zip(runs["reference"], runs["fast"], strict=True))


def test_a_tensor_reached_twice_sums_both_contributions_in_the_reference_order():
    results = {}
    for name in ("reference", "fast"):
        with using_engine(name):
            x = Tensor([[0.5, -1.5, 2.0]], requires_grad=True)
            h = x.tanh()
            h.retain_grad()
            loss = (h * h + h.exp() * x).sum() + (h @ Tensor(np.eye(3))).mean()
            loss.backward()
            results[name] = (x.grad, h.grad)
    assert all(same_array(a, b) for a, b in zip(results["reference"], results["fast"]))
    # h gets 2h (from h * h), e^h x (from e^h * x) and 1/3 (from the mean): its own sum, kept
    h = np.tanh([[0.5, -1.5, 2.0]])
    assert np.allclose(results["fast"][1], 2 * h + np.exp(h) * [[0.5, -1.5, 2.0]] + 1 / 3)


FIRST_ONLY = Op("first", lambda a, b: a + 0.0 * b, lambda g, out, a, b: (g, None))  # no gradient for b
AS_LIST = Op("times", lambda a, b: a * b, lambda g, out, a, b: [g * b, g * a])  # a list, not a tuple


def test_a_rule_that_sends_none_leaves_the_input_and_what_made_it_without_a_gradient():
    results = {}
    for name in ("reference", "fast"):
        with using_engine(name):
            a = Tensor([1.0, 2.0], requires_grad=True)
            c = Tensor([3.0, -4.0], requires_grad=True)
            d = Tensor([0.5, -0.25], requires_grad=True)
            b = c.exp()  # reached only by FIRST_ONLY's None: its rule never runs
            out = Tensor.apply(FIRST_ONLY, a, b) * Tensor.apply(AS_LIST, a, d)
            out.sum().backward()
            results[name] = (a.grad, d.grad, c.grad, (a._passes, c._passes, d._passes))
    assert results["fast"][2] is None and results["reference"][2] is None
    assert same_array(results["reference"][0], results["fast"][0])
    assert same_array(results["reference"][1], results["fast"][1])
    assert np.array_equal(results["fast"][0], [2 * 1.0 * 0.5, 2 * 2.0 * -0.25])  # d(a * a d)/da = 2 a d
    assert results["reference"][3] == results["fast"][3] == (1, 1, 1)


def test_a_node_that_a_rules_none_and_a_neuron_sending_nothing_reach_gets_the_neurons_zeros():
    # p is reached by FIRST_ONLY's None and by an inactive relu neuron (its gradient 0): the
    # reference walk sends the neuron's zeros, so p's rule runs: 0 * d(sqrt q)/dq = 0 * inf = nan.
    torch = require_torch()
    grads = []
    for name in ("reference", "fast"):
        with using_engine(name):
            q = Value(0.0)
            p = q**0.5
            inactive = dot([Value(-1.0)], [p], 0.0, "relu")
            Value.apply(FIRST_ONLY, Value(0.0) + inactive, p).backward()
            grads.append(q.grad)
    tq = torch.tensor(0.0, requires_grad=True)
    tp = tq**0.5
    (torch.relu(-1.0 * tp + 0.0) + 0.0 * tp.detach()).backward()  # FIRST_ONLY: no gradient to p
    assert math.isnan(tq.grad.item()) and all(math.isnan(g) for g in grads)


def test_a_rule_with_the_wrong_number_of_gradients_is_the_same_error_under_both_engines():
    wrong = Op("wrong", lambda a: a * 2.0, lambda g, out, a: (g, g))
    messages = []
    for name in ("reference", "fast"):
        with using_engine(name):
            x = Tensor([1.0], requires_grad=True)
            with pytest.raises(TypeError) as info:
                Tensor.apply(wrong, x).sum().backward()
            messages.append(str(info.value))
            assert x.grad is None
    assert messages[0] == messages[1] and "1 in all, but returned 2 of them" in messages[0]


@pytest.mark.parametrize("optimizer", [SGD, Adam])
def test_the_fast_tensor_walk_refuses_a_graph_whose_input_changed_in_place(optimizer):
    messages = []
    for name in ("reference", "fast"):
        with using_engine(name):
            W = Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
            x = Tensor([[1.0, 1.0]])
            h = (x @ W).relu()  # W is read by '@', deep in the graph
            h.retain_grad()
            loss = (h * h).sum()
            loss.backward()
            optimizer([W], lr=0.1).step()
            W.zero_grad()
            h.grad = None
            with pytest.raises(
                RuntimeError, match=r"modified by an inplace operation: input 1 of '@'"
            ) as info:
                loss.backward()
            messages.append(str(info.value))
            assert W.grad is None and h.grad is None  # refused before anything was stored
    assert messages[0] == messages[1]


def test_anomaly_mode_and_the_viewers_walk_tensors_with_the_reference_pass(monkeypatch):
    walked = []
    reference_pass = engine.backward_pass

    def spy(*args: Any, **kwargs: Any) -> Any:
        walked.append(args[0])
        return reference_pass(*args, **kwargs)

    monkeypatch.setattr(engine, "backward_pass", spy)
    with using_engine("fast"):
        x = Tensor([4.0, 1.0], requires_grad=True)
        loss = x.sqrt().sum()
        loss.backward()
        assert walked == [] and np.array_equal(x.grad, [0.25, 0.5])
        with detect_anomaly():
            loss.backward()
        assert len(walked) == 1 and np.array_equal(x.grad, [0.5, 1.0])
        steps = list(backward_steps(loss))
        assert len(walked) == 2 and steps
    with using_engine("reference"):
        loss.backward()
    assert len(walked) == 3 and np.array_equal(x.grad, [1.0, 2.0])


@pytest.mark.parametrize("engine_name", ["fast", "reference"])
@pytest.mark.parametrize("walk", ["backward", "grad", "backward_steps"])
def test_every_tensor_walk_adds_an_inf_and_a_minus_inf_quietly(engine_name: str, walk: str) -> None:
    with using_engine(engine_name), warnings.catch_warnings():
        warnings.simplefilter("error")  # IEEE's nan, never a RuntimeWarning (DESIGN.md)
        x = Tensor([1.0, 2.0], requires_grad=True)
        y = ((x * math.inf) + (x * -math.inf)).sum()
        if walk == "backward":
            y.backward()
            got = x.grad
        elif walk == "grad":
            got = grad(y, [x])[0].data
        else:
            steps = list(backward_steps(y))
            got = x.grad
            assert len(steps) > 1
    assert np.isnan(got).all()


special32 = st.sampled_from([0.0, -0.0, 3e38, -3e38, math.inf, -math.inf, math.nan])  # (float32's too)


@given(
    st.sampled_from([(), (1,), (3,), (2, 3), (4, 1, 2)]).flatmap(
        lambda shape: st.tuples(
            hnp.arrays(
                st.sampled_from([np.float64, np.float32]), shape, elements=st.one_of(finite, special32)
            ),
            hnp.arrays(np.float64, shape, elements=st.one_of(finite, special32)),
        )
    ),
    st.sampled_from(["as is", "fortran", "broadcast", "scalar"]),
)
def test_the_fast_relu_rule_gives_the_bits_of_the_tables_rule(arrays, layout):
    """relu's rule as the fast walk computes it on arrays, against the rule table's (np.where),
    bit for bit: -0.0 kept where the output is not 0, 0.0 (never -0.0 or nan) where it is."""
    g, data = arrays
    with np.errstate(all="ignore"):  # (1e308 as float32 is inf)
        out = np.asarray(np.maximum(0.0, data), dtype=g.dtype)  # relu's output: 0, positive, nan
    if layout == "fortran" and g.ndim:
        g, out, data = np.asfortranarray(g), np.asfortranarray(out), np.asfortranarray(data)
    elif layout == "broadcast" and g.size:  # one number everywhere, as a sum's gradient arrives
        g = np.broadcast_to(g.reshape(-1)[:1].reshape((1,) * g.ndim), g.shape)
    elif layout == "scalar" and g.ndim == 0:
        g = g[()]  # a numpy scalar, as 0-d arithmetic gives
    for op, faster in fast.FASTER_RULES.items():
        (ours,) = faster(g, out, data)
        (table,) = op.backward(g, out, data)
        assert type(ours) is type(table) and same_array(np.asarray(ours), np.asarray(table))


@pytest.mark.parametrize("engine_name", ["fast", "reference"])
@pytest.mark.parametrize("kind", ["Value", "Tensor"])
def test_a_rule_that_returns_a_list_runs_once_per_pass(engine_name: str, kind: str) -> None:
    calls = []

    def rule(g: Any, out: Any, x: Any) -> list[Any]:
        calls.append(1)
        return [g * 3.0]

    triple = Op("triple", lambda x: x * 3.0, rule)
    with using_engine(engine_name):
        x = Value(2.0) if kind == "Value" else Tensor([2.0, -1.0], requires_grad=True)
        y = type(x).apply(triple, x)
        (y if kind == "Value" else y.sum()).backward()
    assert calls == [1]
    assert np.all(np.asarray(x.grad) == 3.0)
