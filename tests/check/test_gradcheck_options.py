"""What a gradcheck failure says (the op whose rule is wrong, or a cut graph), PyTorch's options
nondet_tol and fast_mode, gradgradcheck, check_gradient_function raising by default, and
hand-written backprop compared with autograd node by node (compare_gradients)."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from micrograd_plus import (
    GradcheckError,
    Op,
    Tensor,
    Value,
    check_gradient_function,
    check_local_derivatives,
    compare_gradients,
    cross_entropy,
    gradcheck,
    gradgradcheck,
)
from micrograd_plus.check.gradcheck import _direction
from micrograd_plus.testing import expressions, tensors, values

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines


def _softplus_rule(g, out, x):
    sigmoid = 1 / (1 + (-x).exp()) if isinstance(x, (Value, Tensor)) else 1 / (1 + np.exp(-x))
    return (g * sigmoid,)


def _softplus_forward(x):
    return np.log1p(np.exp(x))


SOFTPLUS = Op("softplus", _softplus_forward, _softplus_rule)
# the classic slip: sigmoid(-x) where sigmoid(x) is meant
BAD_SOFTPLUS = Op("softplus", _softplus_forward, lambda g, out, x: (g / (1 + np.exp(x)),))
# right numbers, written with numpy: fine for backward(), not under create_graph=True
NUMPY_SOFTPLUS = Op("softplus", _softplus_forward, lambda g, out, x: (g / (1 + np.exp(-x)),))
# right numbers, but computed from x.data: the second derivative sees a constant
CUT_CUBE = Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * getattr(x, "data", x) ** 2,))


# -- the cause of a failure ------------------------------------------------------------------------


@given(values(), values())
def test_a_gradcheck_failure_names_the_op_whose_rule_is_wrong(x, y):
    assume(abs(x + y) > 0.05)  # at x + y = 0 the slip gives the right number
    a, b = Value(x, label="a"), Value(y, label="b")
    report = gradcheck(
        lambda a, b: (a * b).tanh() + Value.apply(BAD_SOFTPLUS, a + b) * 2, [a, b], raise_exception=False
    )
    assert not report
    cause = [line for line in str(report).splitlines() if "cause:" in line]
    assert cause == [
        "  cause: op 'softplus' has a wrong derivative rule (node 3 of 6 in forward order, found by "
        "check_local_derivatives on f's graph): fix its backward; report.local compares the rule "
        "with finite differences"
    ]
    assert report.local is not None and report.local.first_failure.op == "softplus"
    # the same message is raised by default
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda a, b: (a * b).tanh() + Value.apply(BAD_SOFTPLUS, a + b) * 2, [a, b])
    assert str(caught.value) == str(report)


def test_a_gradcheck_failure_on_tensors_names_the_op_too():
    t = Tensor(np.linspace(-1.0, 1.5, 6).reshape(2, 3), requires_grad=True)
    report = gradcheck(lambda t: (Tensor.apply(BAD_SOFTPLUS, t) * t).sum(), [t], raise_exception=False)
    assert not report and report.local.first_failure.op == "softplus"
    assert report.advice[0].startswith("cause: op 'softplus' has a wrong derivative rule (node 0 of 3 ")
    assert gradcheck(lambda t: (Tensor.apply(SOFTPLUS, t) * t).sum(), [t]).advice == []


@pytest.mark.parametrize(
    "cut",
    [
        lambda x: x * Value(x.data**2),  # a number taken out and made a new Value
        lambda x: x * x.detach() * x.detach(),
        lambda x: Value(math.sin(x.item())) + x,
    ],
    ids=["data", "detach", "item"],
)
def test_a_cut_graph_is_pointed_at_when_every_rule_is_right(cut):
    report = gradcheck(cut, [Value(0.7, label="x")], raise_exception=False)
    assert not report and report.local.first_failure is None
    (advice,) = report.advice
    assert advice.startswith("hint: f's graph has ")
    assert "the graph is cut there" in advice and ".data, .item(), float(...) or detach()" in advice


def test_leaves_that_do_not_move_with_the_inputs_are_not_taken_for_a_cut():
    """A parameter that is not an input (a model's weight) is a leaf too, but it does not move
    with the inputs: only the leaf made from x.data is counted."""
    w = Value(2.0, label="w")
    report = gradcheck(lambda x: x * w * Value(x.data), [Value(0.5)], raise_exception=False)
    (advice,) = report.advice
    assert advice.startswith(
        "hint: f's graph has 1 leaf node(s) that are not inputs but move with the inputs (data 0.5)"
    )


def test_a_function_that_is_not_deterministic_is_pointed_at():
    calls = itertools.count()
    report = gradcheck(lambda x: x * x + next(calls) * 1e-3, [Value(0.5)], raise_exception=False)
    assert not report and report.local.first_failure is None
    (advice,) = report.advice
    assert re.fullmatch(
        r"hint: f gives different outputs for the same inputs \(0\.2\d+, then 0\.2\d+\): finite "
        r"differences need a deterministic f \(fix its random seed, keep no state between calls\)",
        advice,
    )


def test_when_no_single_cause_is_found_the_advice_says_what_was_ruled_out():
    # a rule that hard-codes the local check's upstream gradient 0.75 instead of using g
    sneaky = Op("square", lambda x: x * x, lambda g, out, x: (0.75 * 2 * x,))
    report = gradcheck(lambda x: Value.apply(sneaky, x), [Value(1.0)], raise_exception=False)
    assert not report and report.local.first_failure is None and report.failures[0].note == ""
    assert report.advice == [
        "hint: no single cause found: every op's own rule matches finite differences at its inputs "
        "(for the upstream gradient report.local shows), f is deterministic and its graph is not "
        "cut; try another eps (this check used 1e-06), or the rules at other upstream gradients"
    ]


def test_a_function_that_refuses_inputs_far_away_still_gets_its_report():
    """The cut-graph probe moves the inputs further than finite differences do: where f
    refuses that, the report is still made, without a verdict on cuts."""
    sneaky = Op("square", lambda x: x * x, lambda g, out, x: (0.75 * 2 * x,))

    def f(x):
        if abs(x.data - 1.0) > 1e-4:
            raise ValueError("only near 1")
        return Value.apply(sneaky, x)

    report = gradcheck(f, [Value(1.0)], raise_exception=False)
    assert not report and report.advice[0].startswith("hint: no single cause found")


def test_a_kink_gets_no_extra_advice_its_row_says_why():
    report = gradcheck(lambda a: a.relu(), [Value(0.0, label="x")], raise_exception=False)
    assert not report and report.advice == []
    assert "kink" in report.failures[0].note


# -- nondet_tol ------------------------------------------------------------------------------------


def _drifting_op() -> Op:
    """2x, whose rule drifts by 1e-9 on every call: a backward that keeps state."""
    calls = itertools.count()
    return Op("drifting", lambda x: 2 * x, lambda g, out, x: (g * (2 + 1e-9 * next(calls)),))


def test_a_backward_that_is_not_reentrant_fails_unless_nondet_tol_allows_it():
    x = Value(0.3, label="x")
    report = gradcheck(lambda x: Value.apply(_drifting_op(), x), [x], raise_exception=False)
    assert not report and not report.failures  # every element matches: only the second pass differs
    text = str(report)
    assert (
        text.splitlines()[0] == "gradcheck: failed, for the reasons below (eps=1e-06, atol=1e-05, rtol=0.001)"
    )
    assert report.problems == [
        "input 0 'x': backward is not multiplied by its upstream gradient g: a second backward pass from "
        "half the output's gradient did not give half the gradients (off by 1.0e-09, nondet_tol=0)"
    ]
    assert report.advice[0].startswith("hint: every op's own rule is right")
    assert "(the backward pass is not reentrant)" in text and "pass nondet_tol=" in text
    assert gradcheck(lambda x: Value.apply(_drifting_op(), x), [x], nondet_tol=1e-8)
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(lambda x: Value.apply(_drifting_op(), x), [x], nondet_tol=1e-10)


@pytest.mark.parametrize("bad", [-1.0, math.nan, "0", True])
def test_nondet_tol_must_be_a_number_at_least_zero(bad):
    with pytest.raises(ValueError, match="nondet_tol must be a finite number >= 0"):
        gradcheck(lambda x: x * x, [Value(1.0)], nondet_tol=bad)


# -- fast_mode -------------------------------------------------------------------------------------


@settings(max_examples=25)
@given(tensors(2, domain="nonzero", max_magnitude=3.0))
def test_fast_mode_checks_each_input_along_a_direction_as_torch_computes_it(pair):
    torch = require_torch()
    a, b = pair
    report = gradcheck(lambda a, b: (a * b).tanh() * a, [a, b], fast_mode=True)
    assert [r.name for r in report.rows] == ["input 0 along u", "input 1 along u"]
    ta = torch.tensor(a.data, requires_grad=True)
    tb = torch.tensor(b.data, requires_grad=True)
    out = (ta * tb).tanh() * ta
    weights = (
        None
        if out.numel() == 1
        else torch.tensor(np.random.default_rng(20240607).uniform(0.5, 1.5, out.shape))
    )
    grads = torch.autograd.grad(out if weights is None else (out * weights).sum(), [ta, tb])
    for k, (row, g) in enumerate(zip(report.rows, grads)):
        expected = float((g * torch.tensor(_direction(tuple(g.shape), k))).sum())
        assert close_to_torch(row.analytic, expected)
        assert abs(row.numeric - expected) <= 1e-5 + 1e-3 * abs(expected)  # finite differences


def test_fast_mode_catches_a_wrong_rule_with_two_evaluations_per_input():
    t = Tensor(np.linspace(-1.0, 1.5, 12).reshape(3, 4), requires_grad=True)
    calls = itertools.count()

    def f(t):
        next(calls)
        return Tensor.apply(BAD_SOFTPLUS, t)

    report = gradcheck(f, [t], fast_mode=True, raise_exception=False)
    assert not report and len(report.rows) == 1 and report.rows[0].failed
    assert "run with fast_mode=False to see which elements are wrong" in str(report)
    assert report.local.first_failure.op == "softplus"
    # f ran for the graph, then at x, x + eps u and x - eps u: not once per element
    assert next(calls) == 4
    assert gradcheck(lambda t: Tensor.apply(SOFTPLUS, t), [t], fast_mode=True)


@settings(max_examples=10)
@given(tensors(max_magnitude=3.0))
def test_fast_mode_says_how_to_find_the_wrong_elements_only_when_a_direction_is_wrong(t):
    report = gradcheck(lambda t: (t.tanh() * t).sum(), [t], fast_mode=True)
    assert report.notes == [
        "fast_mode: each input checked along one random direction u (d/dt F(x + t u) against sum(gradient * u))"
    ]
    assert "fast_mode=False" not in str(report)
    wrong = Tensor(np.linspace(-1.0, 1.5, 6), requires_grad=True)
    report = gradcheck(
        lambda t: Tensor.apply(BAD_SOFTPLUS, t), [wrong], fast_mode=True, raise_exception=False
    )
    assert not report and report.notes[-1].endswith(
        "sum(gradient * u)); run with fast_mode=False to see which elements are wrong"
    )


# -- gradgradcheck ---------------------------------------------------------------------------------


@settings(max_examples=25)
@given(expressions(max_nodes=5, ops=["+", "*", "/", "tanh", "exp", "sin", "**"]))
def test_gradgradcheck_passes_every_engine_expression(expr):
    assert gradgradcheck(expr, expr.leaves())


@given(values(), values())
def test_gradgradcheck_checks_the_hessian_times_v_that_torch_computes(x, y):
    torch = require_torch()
    report = gradgradcheck(lambda a, b: (a * b).tanh() + a**3 * b, [Value(x), Value(y)])
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, y))
    grads = torch.autograd.grad((ta * tb).tanh() + ta**3 * tb, [ta, tb], create_graph=True)
    projected = sum(g * float(_direction((), k)) for k, g in enumerate(grads))
    hessian_v = torch.autograd.grad(projected, [ta, tb])
    for row, expected in zip(report.rows, hessian_v):
        assert close_to_torch(row.analytic, float(expected))


def test_gradgradcheck_catches_a_rule_that_is_right_but_cut():
    x = Value(0.5, label="x")
    assert gradcheck(lambda x: Value.apply(CUT_CUBE, x), [x])
    report = gradgradcheck(lambda x: Value.apply(CUT_CUBE, x), [x], raise_exception=False)
    assert not report
    (row,) = report.rows
    assert row.analytic == 0.0 and row.numeric == pytest.approx(6 * 0.5 * float(_direction((), 0)), rel=1e-6)
    assert report.advice[0].startswith("hint: f's graph has 1 leaf node(s) that are not inputs")
    assert str(report).startswith("gradgradcheck: the 1 gradient element is wrong")


@pytest.mark.parametrize("kind", ["Value", "Tensor"])
def test_gradgradcheck_names_a_rule_written_with_numpy(kind):
    x = Value(0.5) if kind == "Value" else Tensor(np.array([0.5, -1.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(lambda x: (x.apply(NUMPY_SOFTPLUS, x * 2)) * 3, [x])
    message = str(caught.value)
    assert message.startswith("gradgradcheck: failed, for the reasons below")
    assert f"the backward rule of op 'softplus' cannot run on {kind}s (TypeError: " in message
    assert "x.exp() rather than np.exp(x)" in message
    assert gradcheck(lambda x: x.apply(NUMPY_SOFTPLUS, x * 2) * 3, [x])  # first order: fine


def test_gradgradcheck_on_tensors_with_grad_outputs():
    torch = require_torch()
    rng = np.random.default_rng(3)
    a = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    w = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    weights = rng.normal(size=(2, 2))
    report = gradgradcheck(lambda a, w: (a @ w).tanh(), [a, w], weights)
    assert report and len(report.rows) == 12
    ta, tw = (torch.tensor(t.data, requires_grad=True) for t in (a, w))
    grads = torch.autograd.grad((ta @ tw).tanh(), [ta, tw], torch.tensor(weights), create_graph=True)
    projected = sum((g * torch.tensor(_direction(tuple(g.shape), k))).sum() for k, g in enumerate(grads))
    expected = np.concatenate([g.numpy().ravel() for g in torch.autograd.grad(projected, [ta, tw])])
    assert close_to_torch([r.analytic for r in report.rows], expected)


@pytest.mark.parametrize("kind", ["Value", "Tensor"])
@settings(max_examples=10)
@given(values(max_magnitude=3.0))
def test_gradgradcheck_quotes_the_rules_own_error_and_gives_the_advice_once(kind, v):
    x = Value(v) if kind == "Value" else Tensor(np.array([v, -v]), requires_grad=True)
    report = gradgradcheck(lambda x: x.apply(NUMPY_SOFTPLUS, x * 2) * 3, [x], raise_exception=False)
    assert report.problems == [
        "the first derivatives cannot be differentiated: the backward rule of op 'softplus' cannot run on "
        f"{kind}s (TypeError: operand '{kind}' does not support ufuncs (__array_ufunc__=None))"
    ]
    # the cause and the fix are the advice, as for every gradcheck failure
    assert report.advice == [
        f"cause: op 'softplus' has a backward rule written for numbers: under create_graph=True a rule gets "
        f"{kind}s, not numbers, so write the op's backward with node operations (+ - * / **, x.exp() rather "
        "than np.exp(x), ...) or micrograd_plus.engine's helpers (exp, log, where, ...), which work on "
        "numbers, arrays and nodes alike"
    ]
    assert str(report).count("x.exp() rather than np.exp(x)") == 1


@pytest.mark.parametrize("error", [ValueError, TypeError])
def test_an_error_of_f_itself_comes_out_of_gradgradcheck_once(error):
    """f is called once, outside any handler: no second call, no "During handling of the
    above exception, another exception occurred"."""
    calls = itertools.count()

    def f(x):
        next(calls)
        raise error("f's own error")

    with pytest.raises(error, match="^f's own error$") as caught:
        gradgradcheck(f, [Value(0.5)])
    assert caught.value.__context__ is None
    assert next(calls) == 1


# -- check_gradient_function raises by default -----------------------------------------------------


def test_check_gradient_function_raises_by_default_like_gradcheck():
    def f(w):
        return float(np.sum(np.sin(w)))

    w = np.array([0.1, 0.2])
    assert check_gradient_function(f, np.cos, w)
    with pytest.raises(GradcheckError, match="check_gradient_function: 2 of 2 gradient elements are wrong"):
        check_gradient_function(f, np.sin, w)
    assert not check_gradient_function(f, np.sin, w, raise_exception=False)
    assert not check_gradient_function(f, np.sin, w, False)  # the positional form still works


# -- hand-written backprop, node by node (compare_gradients) ---------------------------------------


def _two_layer_net(seed: int):
    """A 2-layer tanh MLP with a cross-entropy loss, built on Tensors, and its pieces."""
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)  # noqa: N806
    W1 = Tensor(rng.normal(size=(4, 5)) * 0.5, requires_grad=True, label="W1")  # noqa: N806
    W2 = Tensor(rng.normal(size=(5, 3)) * 0.5, requires_grad=True, label="W2")  # noqa: N806
    hpre = Tensor(X) @ W1
    hid = hpre.tanh()
    logits = hid @ W2
    hpre.label, hid.label, logits.label = "hpre", "hid", "logits"
    return X, Y, W1, W2, hpre, hid, logits, cross_entropy(logits, Y)


def _backprop_by_hand(X, Y, W2, hpre, hid, logits, bug=False):  # noqa: N803
    """The gradients of the mean cross-entropy, from the loss down, as in "becoming a backprop ninja"."""
    p = np.exp(logits.data - logits.data.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dlogits = (p - np.eye(3)[Y]) / len(Y)
    dW2 = hid.data.T @ dlogits  # noqa: N806
    dhid = dlogits @ W2.data.T
    dhpre = (1 - (hpre.data if bug else hid.data) ** 2) * dhid  # the bug: tanh' of the pre-activation
    return dlogits, dW2, dhid, dhpre, X.T @ dhpre


@given(st.integers(0, 2**16))
def test_compare_gradients_passes_right_backprop_and_shows_torchs_gradients(seed):
    torch = require_torch()
    X, Y, W1, W2, hpre, hid, logits, loss = _two_layer_net(seed)  # noqa: N806
    nodes = [logits, W2, hid, hpre, W1]
    given_ = _backprop_by_hand(X, Y, W2, hpre, hid, logits)
    report = compare_gradients(loss, dict(zip(nodes, given_)))
    assert str(report).startswith(
        "compare_gradients: all 113 gradient elements match (atol=1e-05, rtol=0.001)"
    )
    # the autograd column is PyTorch's gradient of each node, intermediates included
    tW1, tW2 = torch.tensor(W1.data, requires_grad=True), torch.tensor(W2.data, requires_grad=True)  # noqa: N806
    t_hpre = torch.tensor(X) @ tW1
    t_hid = t_hpre.tanh()
    t_logits = t_hid @ tW2
    expected = torch.autograd.grad(
        torch.nn.functional.cross_entropy(t_logits, torch.tensor(Y)), [t_logits, tW2, t_hid, t_hpre, tW1]
    )
    for k, e in enumerate(expected):
        column = [r.numeric for r in report.rows if r.input == k]
        assert close_to_torch(np.reshape(column, e.shape), e.numpy())
    assert W1.grad is None and hid.grad is None  # no .grad is touched


def test_compare_gradients_names_the_first_wrong_step():
    X, Y, W1, W2, hpre, hid, logits, loss = _two_layer_net(0)  # noqa: N806
    given_ = _backprop_by_hand(X, Y, W2, hpre, hid, logits, bug=True)
    with pytest.raises(GradcheckError) as caught:
        compare_gradients(loss, dict(zip([logits, W2, hid, hpre, W1], given_)))
    report = caught.value.report
    assert {r.name for r in report.failures} == {"'hpre'", "'W1'"}  # logits, W2 and hid are right
    lines = str(report).splitlines()
    assert lines[1].startswith("  'hpre': ") and lines[2].startswith("  'W1': 20 of 20 elements wrong")
    assert lines[3] == (
        "  the first wrong gradient in the order given is 'hpre': if they are in the order your backprop "
        "computes them, the step that computes it is wrong (the ones before it are right)"
    )
    assert lines[4].split() == ["node", "element", "given", "autograd", "abs", "err", "rel", "err"]


def test_compare_gradients_reports_shapes_and_nodes_without_gradients():
    x = Tensor(np.ones((2, 2)), requires_grad=True, label="x")
    data = Tensor(np.ones(2), label="data")
    out = (x @ data).sum()
    report = compare_gradients(out, {x: np.ones(4), data: np.ones(2)}, raise_exception=False)
    assert report.problems == [
        "'data' does not require grad: autograd has no gradient for it",
        "'x': your gradient has shape (4,) but the node has shape (2, 2) (a gradient has the shape of its node)",
    ]
    with pytest.raises(TypeError, match=r"a dict from nodes to your gradients"):
        compare_gradients(out, [np.ones((2, 2))])


@given(st.integers(0, 2**16))
def test_compare_gradients_reports_a_node_of_an_earlier_forward_pass(seed):
    stale_logits = _two_layer_net(seed)[6]  # same label, same numbers, another graph
    X, Y, W1, W2, hpre, hid, logits, loss = _two_layer_net(seed)  # noqa: N806
    given_ = _backprop_by_hand(X, Y, W2, hpre, hid, logits)
    report = compare_gradients(
        loss, dict(zip([stale_logits, W2, hid, hpre, W1], given_)), raise_exception=False
    )
    assert report.problems == [
        "'logits' is not in the output's graph (a node of an earlier forward pass?): key the dict by "
        "the nodes the output was computed from (run the forward pass again and take its nodes)"
    ]
    assert not report and not report.failures  # the others are right, and 'logits' is not compared
    assert {r.name for r in report.rows} == {"'W2'", "'hid'", "'hpre'", "'W1'"}


@given(tensors(max_magnitude=3.0))
def test_compare_gradients_of_a_non_scalar_output_asks_for_grad_output(t):
    assume(t.data.size != 1)
    mine = 1 - np.tanh(t.data) ** 2
    with pytest.raises(RuntimeError) as caught:
        compare_gradients(t.tanh(), {t: mine})
    shape = t.data.shape
    assert str(caught.value) == (
        f"compare_gradients(): the output has shape {shape}, so its own gradient must be given: pass "
        f"grad_output= (an array of shape {shape}, the gradient of your loss with respect to the output), "
        "or compare the gradients of a scalar loss computed from it"
    )
    weights = np.linspace(0.5, 1.5, t.data.size).reshape(shape)
    assert compare_gradients(t.tanh(), {t: weights * mine}, grad_output=weights)


@pytest.mark.parametrize(
    "bad, shown",
    [
        ("abc", "str 'abc'"),
        (None, "None (to leave a node unchecked, leave it out of the dict)"),
        ([[1.0, "x"], [2.0, 3.0]], "list [[1.0, 'x'], [2.0, 3.0]]"),
        (True, "bool True"),
        (1j, "complex 1j"),
        ([1.0, [2.0, 3.0]], "list [1.0, [2.0, 3.0]]"),
    ],
    ids=["string", "None", "strings-inside", "bool", "complex", "ragged"],
)
def test_compare_gradients_refuses_a_gradient_that_is_not_numbers(bad, shown):
    W = Tensor(np.ones((2, 2)), requires_grad=True, label="W")  # noqa: N806
    with pytest.raises(TypeError) as caught:
        compare_gradients((W * 2).sum(), {W: bad})
    assert str(caught.value) == (
        "compare_gradients(): your gradient for 'W' must be a number or an array of numbers (of the "
        f"node's shape (2, 2)), got {shown}"
    )


def test_compare_gradients_refuses_an_empty_dict_saying_what_it_takes():
    W = Tensor(np.ones((2, 2)), requires_grad=True, label="W")  # noqa: N806
    with pytest.raises(TypeError, match=r"a dict from nodes to your gradients, with at least one entry"):
        compare_gradients((W * 2).sum(), {})


@given(hnp.arrays("float64", st.integers(1, 6), elements=values(max_magnitude=5.0)))
def test_compare_gradients_counts_nan_in_both_as_matching(data):
    data[0] = -abs(data[0]) - 0.1  # sqrt of a negative number: nan, and so is its gradient
    x = Tensor(data, requires_grad=True, label="x")
    out = (x**0.5).sum()
    with np.errstate(all="ignore"):
        mine = 0.5 / np.sqrt(data)
    nans = int(np.isnan(mine).sum())
    report = compare_gradients(out, {x: mine})
    assert report.notes == [f"{nans} element(s) nan in yours and autograd's alike: counted as matching"]
    assert all(r.abs_error == 0.0 for r in report.rows if math.isnan(r.analytic))
    torch = require_torch()
    tx = torch.tensor(data, requires_grad=True)
    assert close_to_torch(
        [r.numeric for r in report.rows], torch.autograd.grad(tx.sqrt().sum(), tx)[0].numpy()
    )
    # your number against autograd's nan is still wrong
    report = compare_gradients(out, {x: np.nan_to_num(mine, nan=0.0)}, raise_exception=False)
    assert len(report.failures) == nans and report.notes == []


# -- one line per line -----------------------------------------------------------------------------


def test_a_local_report_keeps_arrays_on_one_line():
    t = Tensor(np.arange(6.0).reshape(2, 3) / 5, requires_grad=True)
    report = check_local_derivatives(Tensor.apply(BAD_SOFTPLUS, t).sum(), raise_exception=False)
    lines = str(report).splitlines()
    assert lines[1] == "  inputs: array(shape=(2, 3), [[0. , 0.2, 0.4], [0.6, 0.8, 1. ]])"
    assert lines[2].startswith("  upstream gradient g = array(shape=(2, 3), [[") and lines[2].endswith(
        "g * forward)"
    )
    assert lines[3].split()[0] == "input"


def test_check_gradient_function_says_once_per_input_that_autograd_agrees_with_finite_differences():
    def loss(w):
        return (w * w).sin().sum()

    w = Tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True, label="w")
    report = check_gradient_function(loss, lambda w: np.cos(w.data**2) * w.data, w, raise_exception=False)
    assert len(report.failures) == 3 and all(r.note == "" for r in report.failures)
    summary = str(report).splitlines()[1]
    assert summary.startswith("  input 0 'w': 3 of 3 elements wrong; largest error 6.2e-01 at element [1]")
    assert summary.endswith("; autograd agrees with the numeric values")
    assert str(report).count("autograd agrees") == 1


def test_gradgradcheck_names_a_rule_that_fails_on_nodes_with_any_error():
    """A rule written for arrays may fail on Tensors with an AttributeError, not a TypeError."""
    square = Op("sq", lambda x: x * x, lambda g, out, x: (g * 2 * x.copy(),))  # ndarray.copy
    x = Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    assert gradcheck(lambda t: Tensor.apply(square, t).sum(), [x])  # first derivatives are right
    report = gradgradcheck(lambda t: Tensor.apply(square, t).sum(), [x], raise_exception=False)
    assert not report and "the backward rule of op 'sq' cannot run on Tensors" in str(report)
    assert "AttributeError" in str(report)
