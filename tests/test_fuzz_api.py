"""Random inputs thrown at every public name and at the command line's expression parser:
only the documented exceptions may come out (see docs/safety.md).

Documented: TypeError and ValueError for bad arguments (LoadError and ExpressionError are
ValueErrors), GradcheckError, AnomalyError, OSError from functions that take a file path,
NotImplementedError from `Module.forward` of the base class, IndexError from indexing a
Tensor out of range, and RuntimeError with
PyTorch's messages for the few graph misuses PyTorch also reports that way.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import re
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import micrograd_plus
from micrograd_plus import MLP, AnomalyError, GradcheckError, Linear, Op, Tensor, Value
from micrograd_plus.cli.expression import ExpressionError, build_graph, parse_assignments, parse_expression

# RuntimeError is documented only for these graph misuses (as PyTorch words them).
DOCUMENTED_RUNTIME_ERRORS = re.compile(
    "|".join(
        [
            r"does not require grad",
            r"grad can be implicitly created only for scalar outputs",
            r"can't retain_grad on Tensor that has requires_grad=False",
            r"you can only change requires_grad flags of leaf variables",
            r"one of the inputs was not used to compute the outputs",
            r"an output does not require grad",
            r"a leaf Variable that requires grad is being used in an in-place operation",
            r"would have to be recorded in the graph",  # an in-place change of a Tensor in a graph
            r"out=\.\.\. arguments don't support automatic differentiation",
            r"cannot register a hook on a tensor that doesn't require gradient",  # (safety.md's hooks row)
        ]
    )
)
# The public functions that take a file path may also raise the operating system's OSError.
PATH_FUNCTIONS = {"save", "load", "render", "export_html", "plot_loss", "plot_fit", "plot_decision_boundary"}


def check_documented(error: BaseException, name: str) -> None:
    """Fail unless `error` is one the documentation promises for `name`."""
    if isinstance(error, (TypeError, ValueError, GradcheckError, AnomalyError)):
        return
    if isinstance(error, OSError) and name in PATH_FUNCTIONS:
        return
    if isinstance(error, NotImplementedError) and "must define forward()" in str(error):
        return
    if isinstance(error, IndexError) and name.endswith(
        ("__getitem__", "__setitem__", "index_select", "gather")
    ):
        return  # an index out of range, as for lists, numpy and PyTorch
    if type(error) is RuntimeError and DOCUMENTED_RUNTIME_ERRORS.search(str(error)):
        return
    raise AssertionError(f"{name} raised an undocumented {type(error).__name__}: {error}") from error


@contextlib.contextmanager
def in_scratch_folder():
    """Random text may be used as a file name: keep whatever gets written in a temporary folder."""
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(previous)


# More examples for a deeper search: MICROGRAD_PLUS_FUZZ_EXAMPLES=1000 pytest tests/test_fuzz_api.py
EXAMPLES = int(os.environ.get("MICROGRAD_PLUS_FUZZ_EXAMPLES", "40"))

# -- random arguments ------------------------------------------------------------------------

SQUARE = Op("square", lambda x: x * x, lambda g, out, x: (g * 2 * x,))

# Integers stay small where they could be sizes (a size of 10**9 is a valid, huge request);
# the huge ones are negative, where they must be refused.
integers = st.one_of(st.integers(-3, 6), st.sampled_from([-(10**400), -(2**63), -(10**6)]))
floats = st.floats(allow_nan=True, allow_infinity=True)
# Short texts, and file names whose suffix picks save()'s and load()'s format.
texts = st.one_of(
    st.text(alphabet="abcxyz019._- ", max_size=6), st.sampled_from(["model.npz", "model.safetensors"])
)


def _filled(shape: tuple[int, ...], fill: float, dtype: str) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # nan and inf cast to int64 are arbitrary, and fine here
        return np.full(shape, fill).astype(dtype)


arrays = st.builds(
    _filled,
    st.lists(st.integers(0, 3), max_size=3).map(tuple),
    st.sampled_from([0.0, 1.5, -2.0, math.nan, math.inf]),
    st.sampled_from(["float64", "float32", "int64", "bool", "complex128", "object"]),
)
values = st.builds(Value, st.floats(-3, 3), requires_grad=st.booleans())
tensors = st.builds(
    lambda a, rg: Tensor(a, requires_grad=rg),
    st.lists(st.floats(-3, 3), min_size=1, max_size=4),
    st.booleans(),
)
callables = st.sampled_from(
    [lambda *a, **k: 0.0, lambda *a, **k: None, lambda *a, **k: Value(1.0), lambda *a, **k: np.zeros(2)]
)
objects = st.sampled_from([object(), SQUARE, print.__class__, Ellipsis, slice(1, 2), 1j])
modules = st.sampled_from([lambda: MLP(2, [2, 1], seed=0), lambda: Linear(2, 1, seed=0)]).map(
    lambda make: make()
)
atoms = st.one_of(
    st.none(),
    st.booleans(),
    integers,
    floats,
    texts,
    st.binary(max_size=3),
    arrays,
    values,
    tensors,
    callables,
    objects,
    modules,
)
junk = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(texts, inner, max_size=2),
    ),
    max_leaves=6,
)


def public_callables() -> list[str]:
    names = []
    for name in sorted(dir(micrograd_plus)):
        obj = getattr(micrograd_plus, name)
        if name.startswith("_") or inspect.ismodule(obj) or not callable(obj):
            continue
        names.append(name)
    return names


def test_the_fuzzed_surface_is_the_whole_public_api():
    names = public_callables()
    for expected in [
        "Value",
        "Tensor",
        "MLP",
        "SGD",
        "save",
        "load",
        "explain_grad",
        "gradcheck",
        "draw_dot",
        "mse_loss",
        "make_moons",
        "no_grad",
        "backward_steps",
    ]:
        assert expected in names
    assert len(names) >= 50


def call_quietly(function, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # only exceptions are judged here
        return function(*args, **kwargs)


@pytest.mark.parametrize("name", public_callables())
@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_public_names_raise_only_documented_errors_on_random_arguments(name, data):
    function = getattr(micrograd_plus, name)
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    count = data.draw(st.integers(0, max(len(positional), 1) + 1), label="number of arguments")
    args = [data.draw(junk, label=f"arg {i}") for i in range(count)]
    kwargs = {}
    keywords = [p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)][count:]
    if keywords and data.draw(st.booleans(), label="use a keyword"):
        kwargs[data.draw(st.sampled_from(keywords), label="keyword")] = data.draw(junk, label="keyword value")
    with in_scratch_folder():
        try:
            result = call_quietly(function, args, kwargs)
        except Exception as error:  # judged, not swallowed
            check_documented(error, name)
            return
        if isinstance(result, micrograd_plus.Module):
            try:
                call_quietly(result, [data.draw(junk, label="module input")], {})
            except Exception as error:
                check_documented(error, f"{name}(...)()")


NODE_METHODS = sorted(
    {m for cls in (Value, Tensor) for m in dir(cls) if not m.startswith("_") and callable(getattr(cls, m))}
)
OPERATORS = [
    "__add__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__mul__",
    "__rmul__",
    "__truediv__",
    "__rtruediv__",
    "__pow__",
    "__rpow__",
    "__matmul__",
    "__rmatmul__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__getitem__",
    "__eq__",
]


@settings(max_examples=EXAMPLES * 8)
@given(node=st.one_of(values, tensors), method=st.sampled_from(NODE_METHODS + OPERATORS), data=st.data())
def test_methods_and_operators_of_nodes_raise_only_documented_errors(node, method, data):
    function = getattr(node, method, None)
    if function is None:
        return
    args = data.draw(st.lists(junk, max_size=2), label="args")
    with in_scratch_folder():
        try:
            result = call_quietly(function, args, {})
        except Exception as error:
            check_documented(error, f"{type(node).__name__}.{method}")
            return
    if method.startswith("__") and result is NotImplemented:
        return  # Python then tries the other operand, and raises TypeError if both decline


# -- the command line's expression parser ---------------------------------------------------------

NAMES = ["a", "b", "c", "x1", "exp", "log", "tanh", "relu", "sqrt", "__import__", "_x", "open"]
TOKENS = [
    "+",
    "-",
    "*",
    "/",
    "**",
    "//",
    "%",
    "@",
    "(",
    ")",
    ",",
    ".",
    "[",
    "]",
    "'",
    '"',
    " ",
    "=",
    ":",
    "lambda",
    "if",
    "else",
    "not",
    "1",
    "0",
    "2.5",
    "1e308",
    "9" * 30,
    "0x1f",
    "1j",
    "\\",
    "\n",
    "\x00",
    "`",
    "{",
    "}",
    "#",
    ";",
    "!",
    "<",
    ">",
    "&",
    "|",
    "^",
    "~",
    "$",
    "é",
    "𝔞",
    "ℯ",
]

expression_texts = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(NAMES + TOKENS), max_size=40).map("".join),
    st.lists(st.sampled_from(NAMES + TOKENS), max_size=40).map(" ".join),
    st.integers(0, 600).map(lambda n: "(" * n + "a" + ")" * n),
    st.integers(0, 200).map(lambda n: "-" * n + "a"),
    st.integers(0, 100).map(lambda n: "a" + "**a" * n),
)


@settings(max_examples=EXAMPLES * 5)
@given(
    text=expression_texts,
    assignments=st.lists(
        st.one_of(
            st.text(max_size=12),
            st.sampled_from(
                ["a=1", "b=-2", "c=0", "x1=1e308", "a=nan", "b=inf", "a=2", "=", "a", "a==1", "exp=1"]
            ),
        ),
        max_size=4,
    ),
)
def test_the_expression_parser_raises_only_expression_errors(text, assignments):
    try:
        parse_expression(text)
    except ExpressionError:
        pass
    try:
        values = parse_assignments(assignments)
        root = build_graph(text, values)
    except ExpressionError:
        return
    assert isinstance(root, Value)
    if root.requires_grad:
        root.backward()


def test_expression_errors_are_value_errors():
    assert issubclass(ExpressionError, ValueError)
