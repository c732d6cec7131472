"""The command line's expression parser: a whitelist over `ast`, limits checked before
parsing, floats only, never eval; fuzzed so that only its documented error comes out."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus.cli import expression
from micrograd_plus.cli.expression import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    build_graph,
    names_in,
    parse_assignments,
    parse_expression,
)
from micrograd_plus.viz.trace import graph_nodes


def test_a_valid_expression_becomes_a_graph_with_one_leaf_per_name():
    out = build_graph("tanh(a*b + c) - a / 2", {"a": 2.0, "b": -3.0, "c": 10.0})
    assert out.data == math.tanh(2.0 * -3.0 + 10.0) - 2.0 / 2
    leaves = [n for n in graph_nodes(out) if n.is_leaf]
    assert sorted(n.label for n in leaves if n.requires_grad) == ["a", "b", "c"]
    assert [n.data for n in leaves if n._origin == "constant"] == [2.0]
    out.backward()
    a = next(n for n in leaves if n.label == "a")
    assert a.grad == pytest.approx(-3.0 * (1 - math.tanh(4.0) ** 2) - 0.5)  # a feeds two ops


def test_negative_literals_are_constants_and_every_function_is_available():
    out = build_graph("x * -2 + -(x)", {"x": 1.5})
    ops = [n.op for n in graph_nodes(out) if not n.is_leaf]
    assert ops == ["*", "neg", "+"] and out.data == -4.5
    for name in expression.FUNCTIONS:
        value = build_graph(f"{name}(x)", {"x": 0.25})
        assert value.op == name and value.data == getattr(build_graph("x", {"x": 0.25}), name)().data
    assert build_graph("+x ** 2", {"x": 3.0}).data == 9.0
    assert build_graph("1e999 * x", {"x": 1.0}).data == math.inf  # floats follow IEEE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('echo hi')", "only the functions exp, log, tanh"),
        ("a.real", "not allowed: attribute access"),
        ("(lambda: 1)()", "only the functions"),
        ("lambda: 1", "not allowed: lambda"),
        ("'text'", "not allowed: strings"),
        ("b'text'", "not allowed: strings"),
        ("a[0]", "not allowed: subscripts"),
        ("print(a)", "unknown function 'print'"),
        ("open(a)", "unknown function 'open'"),
        ("tanh(a, a)", r"tanh\(\) takes exactly one argument"),
        ("tanh(x=a)", r"tanh\(\) takes exactly one argument"),
        ("tanh(*a)", r"tanh\(\) takes exactly one argument"),
        ("a if a else a", "not allowed: if/else"),
        ("a < 1", "not allowed: comparisons"),
        ("a and a", "not allowed: and/or"),
        ("(a := 2)", r"not allowed: assignment \(:=\)"),
        ("[a]", "not allowed: lists"),
        ("a, a", "not allowed: tuples"),
        ("{a: 1}", "not allowed: dicts"),
        ("[x for x in a]", "not allowed: comprehensions"),
        ("f'{a}'", "not allowed: f-strings"),
        ("a // 2", "not allowed: the operator //"),
        ("a % 2", "not allowed: the operator %"),
        ("a @ a", "not allowed: the operator @"),
        ("~a", "not allowed: the operator ~"),
        ("not a", "not allowed: the operator not"),
        ("True * a", "not allowed: the constant True"),
        ("None", "not allowed: the constant None"),
        ("1j * a", "not allowed: the constant 1j"),
        ("__builtins__", "starts with an underscore"),
        ("a; import os", "cannot parse the expression"),
        ("import os", "cannot parse the expression"),
        ("a +", "cannot parse the expression"),
        ("a\x00b", "cannot parse the expression"),
        ("   ", "the expression is empty"),
        ("1" * 400 + " * a", "too large for a float"),
    ],
)
def test_anything_off_the_whitelist_is_refused_with_a_clear_error(text, message):
    with pytest.raises(ExpressionError, match=message):
        build_graph(text, {"a": 1.0})


def test_length_and_depth_are_checked_before_parsing(monkeypatch):
    def no_parsing(*args, **kwargs):
        raise AssertionError("ast.parse must not see this text")

    monkeypatch.setattr(ast, "parse", no_parsing)
    with pytest.raises(ExpressionError, match=f"{MAX_LENGTH + 1} characters long; the limit is {MAX_LENGTH}"):
        parse_expression("a" * (MAX_LENGTH + 1))
    deep = "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(
        ExpressionError, match=f"nests brackets {MAX_DEPTH + 1} deep; the limit is {MAX_DEPTH}"
    ):
        parse_expression(deep)
    with pytest.raises(ExpressionError, match="nests brackets"):
        parse_expression("[" * 40 + "]" * 40)


def test_the_longest_deepest_accepted_expressions_evaluate_without_recursion():
    unary = "-" * (MAX_LENGTH - 1) + "a"  # a chain of 499 negations
    assert build_graph(unary, {"a": 2.0}).data == -2.0
    power = "a**" * ((MAX_LENGTH - 1) // 3) + "a"
    assert build_graph(power, {"a": 1.0}).data == 1.0
    nested = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert build_graph(nested, {"a": 3.0}).data == 3.0


def test_names_without_a_value_and_values_without_a_name_are_errors():
    with pytest.raises(ExpressionError, match=r"no value for 'b', 'c': add --set b=NUMBER --set c=NUMBER"):
        build_graph("a*b + c", {"a": 1.0})
    with pytest.raises(ExpressionError, match="--set d: not used in the expression"):
        build_graph("a", {"a": 1.0, "d": 2.0})
    assert names_in(parse_expression("tanh(x) * y + x")) == ["x", "y"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["a"], "should look like NAME=NUMBER"),
        (["a=x"], "not a number"),
        (["a=1", "a=2"], "'a' is set twice"),
        (["tanh=1"], "is a function name"),
        (["_a=1"], "starts with an underscore"),
        (["a.b=1"], "is not a plain name"),
        (["a=" + "1" * 101], "the limit is 100"),
    ],
)
def test_assignments_are_checked(items, message):
    with pytest.raises(ExpressionError, match=message):
        parse_assignments(items)


def test_assignments_are_floats():
    assert parse_assignments(["a=2", " b = -3.5 ", "c=1e3", "d=inf"]) == {
        "a": 2.0,
        "b": -3.5,
        "c": 1000.0,
        "d": math.inf,
    }


def test_text_python_only_warns_about_is_refused_without_a_warning():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # every warning is recorded, none is turned into an error
        with pytest.raises(ExpressionError, match="at column 1: invalid decimal literal"):
            parse_expression("1if x else 2")
    assert caught == [], [str(w.message) for w in caught]


# -- fuzzing ---------------------------------------------------------------------------


@given(st.text(max_size=80))
def test_any_text_parses_or_fails_with_the_documented_error_only(text):
    try:
        tree = parse_expression(text)
    except ExpressionError as error:
        assert "\n" not in str(error)
        return
    values = dict.fromkeys(names_in(tree), 0.5)
    try:
        build_graph(text, values)
    except ExpressionError as error:
        assert "too large" in str(error)


TOKENS = [
    "a",
    "b",
    "x1",
    "1",
    "2.5",
    "1e3",
    "0",
    "+",
    "-",
    "*",
    "/",
    "**",
    "(",
    ")",
    "tanh",
    "exp(",
    "log(",
    "relu(",
    ",",
    ".",
    "[",
    "]",
    "'",
    "__import__",
    "lambda",
    ":",
    "=",
    " ",
    "if",
    "else",
    "//",
    "j",
    "_",
]


@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_token_soup_parses_or_fails_with_the_documented_error_only(text):
    try:
        tree = parse_expression(text)
        root = build_graph(text, dict.fromkeys(names_in(tree), 1.5))
    except ExpressionError as error:
        assert "\n" not in str(error)
        return
    assert isinstance(root.data, float)


def reference(op, *xs):
    with np.errstate(all="ignore"):
        x = [np.float64(v) for v in xs]
        table = {
            "+": lambda: x[0] + x[1],
            "-": lambda: x[0] - x[1],
            "*": lambda: x[0] * x[1],
            "/": lambda: x[0] / x[1],
            "**": lambda: np.power(x[0], x[1]),
            "neg": lambda: -x[0],
            "exp": lambda: np.exp(x[0]),
            "log": lambda: np.log(x[0]),
            "tanh": lambda: np.tanh(x[0]),
            "sigmoid": lambda: 1 / (1 + np.exp(-x[0])),
            "relu": lambda: x[0] if x[0] > 0 or x[0] != x[0] else 0.0,
            "sin": lambda: np.sin(x[0]),
            "cos": lambda: np.cos(x[0]),
            "abs": lambda: abs(x[0]),
            "sqrt": lambda: np.sqrt(x[0]),
        }
        return float(table[op]())


leaf = st.sampled_from(["a", "b"]).map(lambda n: (n, {"a": 1.5, "b": -0.5}[n])) | st.sampled_from(
    [0.0, 1.0, 2.0, 0.25]
).map(lambda v: (repr(v), v))


def extend(children):
    binary = st.tuples(st.sampled_from(["+", "-", "*", "/", "**"]), children, children).map(
        lambda t: (f"({t[1][0]} {t[0]} {t[2][0]})", reference(t[0], t[1][1], t[2][1]))
    )
    call = st.tuples(st.sampled_from(sorted(expression.FUNCTIONS)), children).map(
        lambda t: (f"{t[0]}({t[1][0]})", reference(t[0], t[1][1]))
    )
    neg = children.map(lambda c: (f"(-({c[0]}))", reference("neg", c[1])))  # -x ** y is -(x ** y)
    return binary | call | neg


@given(st.recursive(leaf, extend, max_leaves=12))
def test_well_formed_expressions_compute_what_they_say(pair):
    text, expected = pair
    tree = parse_expression(text)
    root = build_graph(text, {n: {"a": 1.5, "b": -0.5}[n] for n in names_in(tree)})
    if math.isnan(expected):
        assert math.isnan(root.data)
    else:
        assert root.data == pytest.approx(expected, rel=1e-12, abs=1e-300)
