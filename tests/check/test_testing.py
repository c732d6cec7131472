"""The hypothesis strategies of micrograd_plus.testing draw what they promise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from micrograd_plus import MLP, Op, Value, grad, gradcheck
from micrograd_plus.engine import topological_order
from micrograd_plus.tensors import Tensor
from micrograd_plus.testing import (
    BUILTIN_OPS,
    DOMAINS,
    Expression,
    Step,
    custom_op,
    expressions,
    mlps,
    tensors,
    values,
)

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines


def _find(strategy, condition):
    """The simplest example satisfying `condition`; derandomized, so never flaky."""
    return find(strategy, condition, settings=settings(max_examples=500, database=None, derandomize=True))


# -- values --------------------------------------------------------------------------------------


@given(st.data(), st.sampled_from(sorted(DOMAINS)))
def test_values_stay_in_the_safe_domain_of_each_op(data, op):
    x = data.draw(values(op))
    assert isinstance(x, float) and math.isfinite(x) and abs(x) <= 10.0
    kind = DOMAINS[op]
    if kind == "positive":
        assert x >= 1e-3
    elif kind == "nonzero":
        assert abs(x) >= 1e-3


@given(values("nonzero", margin=0.5, max_magnitude=2.0), values((-1.0, -0.25)))
def test_values_take_a_margin_a_magnitude_and_intervals(x, y):
    assert 0.5 <= abs(x) <= 2.0
    assert -1.0 <= y <= -0.25


def test_values_draw_both_signs_when_nonzero():
    assert _find(values("relu"), lambda x: x < 0) <= -1e-3
    assert _find(values("relu"), lambda x: x > 0) >= 1e-3


def test_values_reject_unknown_domains_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown domain 'logg'.*'positive'.*log"):
        values("logg")
    with pytest.raises(ValueError, match="low <= high"):
        values((2.0, 1.0))


# -- expressions ---------------------------------------------------------------------------------

_KINKS_AND_POLES = {"relu": 0, "abs": 0, "log": 0, "sqrt": 0}


def _walk(out: Value) -> list[Value]:
    return [n for n in reversed(topological_order(out)) if not n.is_leaf]


@given(expressions())
def test_every_drawn_node_is_defined_smooth_and_bounded(expr):
    out, leaves = expr.build()
    assert 1 <= expr.size <= 8 and 1 <= len(leaves) <= 3
    for node in _walk(out):
        datas = [p.data for p in node.parents]
        assert math.isfinite(node.data) and abs(node.data) <= 100.0
        if node.op in _KINKS_AND_POLES:
            assert abs(datas[0]) >= 1e-3 and (node.op in ("relu", "abs") or datas[0] > 0)
        if node.op == "/":
            assert abs(datas[1]) >= 1e-3
        if node.op == "**":
            base, exponent = node.parents
            if exponent._origin != "constant" or exponent.data == 0.5:
                assert base.data >= 1e-3  # d/db a**b = a**b log(a); sqrt needs a > 0
            elif exponent.data == -1.0:
                assert abs(base.data) >= 1e-3
        slopes = grad(node, leaves, allow_unused=True)
        assert sum(abs(g.data) for g in slopes if g is not None) <= 100.0


@given(expressions())
def test_the_printed_source_rebuilds_the_same_graph(expr):
    namespace: dict = {}
    exec(expr.source, namespace)
    rebuilt = namespace["out"]
    out, leaves = expr.build()
    assert rebuilt.data == out.data
    assert [n.op for n in _walk(rebuilt)] == [n.op for n in _walk(out)]
    rebuilt_leaves = [namespace[f"x{i}"] for i in range(len(expr.inputs))]
    assert [g.data for g in grad(rebuilt, rebuilt_leaves)] == [g.data for g in grad(out, leaves)]
    assert repr(expr) == str(expr) == expr.source


@given(expressions(max_nodes=4, ops=["*", "sin", "sum"], max_inputs=2))
def test_only_the_requested_ops_and_sizes_are_drawn_and_nothing_is_dead(expr):
    assert {s.op for s in expr.steps} <= {"*", "sin", "sum"}
    assert expr.size <= 4 and len(expr.inputs) <= 2
    uses = expr.uses()
    assert all(count >= 1 for count in uses[:-1])  # every input and step feeds the output


@given(expressions(min_nodes=3, max_nodes=5))
def test_min_nodes_is_respected(expr):
    assert 3 <= expr.size <= 5


def test_expressions_have_fan_out_dot_sum_and_constants():
    shared = _find(expressions(), lambda e: e.has_shared_subexpression)
    assert any(count > 1 for count in shared.uses()[len(shared.inputs) :])
    fused = _find(expressions(ops=["+", "dot", "sum"]), lambda e: {"dot", "sum"} <= {s.op for s in e.steps})
    assert "dot([" in fused.source and "value_sum([" in fused.source
    constant = _find(
        expressions(ops=["/"]), lambda e: any(isinstance(a, float) for s in e.steps for a in s.args)
    )
    assert " / " in constant.source


def test_shrinking_gives_the_smallest_graph_with_a_property():
    e = _find(expressions(), lambda e: {"tanh", "*"} <= {s.op for s in e.steps})
    assert e.size == 2 and len(e.inputs) == 1


def test_expression_source_reads_like_python():
    expr = Expression(
        [0.5, -2.0],
        [Step("*", (0, 1)), Step("tanh", (2,)), Step("+", (3, 2)), Step("dot", (0, 1, 4, 1, 0.5))],
        BUILTIN_OPS,
    )
    assert expr.source.splitlines() == [
        "from micrograd_plus import Value",
        "from micrograd_plus.engine import dot",
        "x0 = Value(0.5, label='x0')",
        "x1 = Value(-2.0, label='x1')",
        "v0 = x0 * x1",
        "v1 = v0.tanh()",
        "v2 = v1 + v0",
        "out = dot([x0, x1], [v2, x1], 0.5)",
    ]
    assert expr.has_shared_subexpression
    t = math.tanh(-1.0)
    assert expr(*expr.leaves()).data == pytest.approx(0.5 + 0.5 * (t - 1.0) + -2.0 * -2.0)
    with pytest.raises(TypeError, match="takes 2 inputs, got 1"):
        expr(Value(1.0))


def test_expressions_evaluate_on_other_number_types():
    torch = pytest.importorskip("torch")
    expr = _find(expressions(), lambda e: e.size >= 4)
    ours = expr(*expr.leaves()).data
    theirs = expr(*[torch.tensor(x, dtype=torch.float64) for x in expr.inputs]).item()
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)


def test_custom_ops_join_expressions_with_their_domain():
    inverse = Op("inverse", lambda x: 1 / x, lambda g, out, x: (-g / (x * x),))

    @given(expressions(ops=["+", custom_op(inverse, domain="nonzero")]))
    def check(expr):
        out, _ = expr.build()
        for node in _walk(out):
            if node.op == "inverse":
                assert abs(node.parents[0].data) >= 1e-3
        gradcheck(expr, expr.leaves())

    check()
    # a domain function sees the argument values
    strict = custom_op(inverse, domain=lambda x: x > 1.0, name="inv")
    assert strict.domain((2.0,), (False,)) and not strict.domain((0.5,), (False,))
    assert strict.source("x0") == "Value.apply(inv, x0)"


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="unknown op 'tan'"):
        expressions(ops=["tan"])
    with pytest.raises(ValueError, match="min_nodes <= max_nodes"):
        expressions(min_nodes=3, max_nodes=2)
    with pytest.raises(TypeError, match="takes an Op"):
        custom_op("cube")


# -- mlps ---------------------------------------------------------------------------------------


@given(mlps(nin=2, activations=("tanh",)))
def test_mlps_take_the_requested_inputs_and_activations(mlp):
    assert isinstance(mlp, MLP)
    assert len(mlp.layers[0].neurons[0].w) == 2
    hidden = mlp.layers[:-1]
    assert all(n.activation == "tanh" for layer in hidden for n in layer.neurons)
    assert all(n.activation == "linear" for n in mlp.layers[-1].neurons)


@given(mlps(with_input=True))
def test_mlp_gradients_check_at_inputs_off_relu_kinks(drawn):
    mlp, x = drawn
    params = mlp.parameters()

    def first_output(*_params):
        out = mlp(x)
        return out[0] if isinstance(out, list) else out

    gradcheck(first_output, params)


# -- tensors ----------------------------------------------------------------------------------


@given(tensors(3, domain="positive", max_magnitude=5.0))
def test_tensors_broadcast_together_and_respect_the_domain(triple):
    assert len(triple) == 3 and all(isinstance(t, Tensor) for t in triple)
    np.broadcast_shapes(*(t.shape for t in triple))
    for t in triple:
        assert t.requires_grad and t.data.dtype == np.float64
        assert np.all((t.data >= 1e-3) & (t.data <= 5.0))


@given(tensors(shape=(2, 3), requires_grad=False))
def test_a_single_tensor_of_a_given_shape(t):
    assert isinstance(t, Tensor) and t.shape == (2, 3) and not t.requires_grad


def test_tensors_find_real_broadcasting():
    pair = _find(tensors(2), lambda p: p[0].shape != p[1].shape and p[0].ndim >= 1 and p[1].ndim >= 1)
    a, b = pair
    assert (a + b).shape == np.broadcast_shapes(a.shape, b.shape)


def test_importing_the_strategies_without_hypothesis_says_what_to_install():
    import subprocess
    import sys

    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'hypothesis' or name.startswith('hypothesis.'):\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import micrograd_plus\n"
        "try:\n"
        "    import micrograd_plus.testing\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, check=True)
    assert "micrograd_plus.testing needs hypothesis" in done.stdout
    assert "pip install hypothesis" in done.stdout
