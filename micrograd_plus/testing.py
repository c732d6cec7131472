"""Hypothesis strategies for testing autograd code (imported on purpose: needs hypothesis).

- `values(domain)`: floats where an op is defined and smooth, away from its kinks and poles;
- `expressions(max_nodes, ops)`: random expression graphs (DAGs with fan-out and shared
  subexpressions) built only where every op is defined and differentiable. A drawn
  `Expression` is callable like a function of its inputs, and prints as the Python source
  that builds it, so a failing test shows a small program you can paste and run;
- `mlps()`: small `MLP`s (optionally with an input that keeps every relu off its kink);
- `tensors()`: Tensors with broadcast-compatible shapes.

Finite differences with a step of 1e-6 are exact to about 1e-9 where a function is smooth;
a kink (relu and abs at 0) or a pole (1/x, log x at 0) within a few steps breaks them. So
every argument of a non-smooth op stays at least `margin` (1e-3) from its kink or pole, every
intermediate value stays within `bound`, and every intermediate's total slope with respect
to the inputs stays below `max_slope`: nudging an input by 1e-6 then moves no node by more
than 1e-4, never across a kink.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

try:
    from hypothesis import assume, note
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as missing:  # the one module of the package that needs hypothesis
    raise ImportError(
        "micrograd_plus.testing needs hypothesis, which is not installed: "
        "run `pip install hypothesis` (or `pip install 'micrograd_plus[test]'`)"
    ) from missing

from . import engine
from .engine import Node, Op, Value, _dot_forward, dot, value_sum
from .gradients import grad
from .nn.mlp import MLP
from .tensors import Tensor

__all__ = [
    "DOMAINS",
    "Expression",
    "ExpressionOp",
    "Step",
    "custom_op",
    "expressions",
    "mlps",
    "tensors",
    "values",
]

MARGIN = 1e-3

# The domain of each built-in op's (first) argument where it is smooth: "nonzero" keeps
# relu/abs off their kink and a divisor off its pole; "positive" keeps log, sqrt and a
# power's base inside their domain and off the boundary.
DOMAINS: dict[str, str] = {name: op.domain for name, op in engine.RULES.items()}  # (from the rule table)

Domain = Union[str, tuple[float, float]]


def _interval(domain: Domain) -> str | tuple[float, float]:
    if isinstance(domain, tuple):
        if len(domain) != 2 or not domain[0] <= domain[1]:
            raise ValueError(f"a domain interval is (low, high) with low <= high, got {domain!r}")
        return (float(domain[0]), float(domain[1]))
    if domain in ("any", "positive", "nonzero"):
        return domain
    if domain in DOMAINS:
        return DOMAINS[domain]
    raise ValueError(
        f"unknown domain {domain!r}: use 'any', 'positive', 'nonzero', an op name "
        f"({', '.join(DOMAINS)}) or an interval (low, high)"
    )


def values(
    domain: Domain = "any", *, margin: float = MARGIN, max_magnitude: float = 10.0
) -> st.SearchStrategy[float]:
    """Floats (the data of a Value) where `domain` is smooth, within +-max_magnitude.

    `domain` is "any", "positive" (>= margin), "nonzero" (|x| >= margin), an op name
    (its argument's safe domain: `values("log")` is positive, `values("relu")` nonzero,
    `values("/")` a safe divisor) or an interval `(low, high)`.
    """
    kind = _interval(domain)
    if isinstance(kind, tuple):
        return st.floats(kind[0], kind[1], allow_nan=False, allow_infinity=False)
    if not 0 < margin < max_magnitude:
        raise ValueError(
            f"need 0 < margin < max_magnitude, got margin={margin!r}, max_magnitude={max_magnitude!r}"
        )
    if kind == "any":
        return st.floats(-max_magnitude, max_magnitude, allow_nan=False, allow_infinity=False)
    magnitude = st.floats(margin, max_magnitude, allow_nan=False, allow_infinity=False)
    if kind == "positive":
        return magnitude
    return st.tuples(magnitude, st.booleans()).map(lambda pair: -pair[0] if pair[1] else pair[0])


# -- operations an expression may use ---------------------------------------------------

Ref = Union[int, float]  # an int refers to an earlier node (inputs first); a float is a constant


@dataclass(frozen=True)
class ExpressionOp:
    """An op `expressions()` may use: how to apply it (to Values, or to torch tensors for
    built-ins), how to print it, how many arguments it takes (0: n-ary) and where it is
    safe: `domain(values, constant)` gets the argument values and which are constants."""

    name: str
    arity: int
    apply: Callable[..., Any]
    source: Callable[..., str]
    domain: Callable[[tuple[float, ...], tuple[bool, ...]], bool]
    constants: tuple[float, ...] = ()


def _anywhere(values: tuple[float, ...], constant: tuple[bool, ...]) -> bool:
    return True


def _arg_domain(kind: str, index: int = 0, margin: float = MARGIN) -> Callable[..., bool]:
    def check(values: tuple[float, ...], constant: tuple[bool, ...]) -> bool:
        x = values[index]
        if kind == "positive":
            return x >= margin
        if kind == "nonzero":
            return abs(x) >= margin
        return True

    return check


def _pow_domain(values: tuple[float, ...], constant: tuple[bool, ...]) -> bool:
    a, b = values
    if constant[1] and b == int(b):
        return b > 0 or abs(a) >= MARGIN  # x**2 anywhere; x**-1 away from 0
    return a >= MARGIN  # a fractional or variable exponent needs a positive base (d/db = log a)


def _method(name: str) -> Callable[[Any], Any]:
    def apply(x: Any) -> Any:
        return getattr(x, name)()

    apply.__name__ = name
    return apply


def _generic_dot(*args: Any) -> Any:
    n = (len(args) - 1) // 2
    if any(isinstance(a, Value) for a in args):
        return dot(list(args[:n]), list(args[n:-1]), args[-1])
    total = args[-1]
    for w, x in zip(args[:n], args[n:-1]):
        total = total + w * x
    return total


def _generic_sum(*args: Any) -> Any:
    if any(isinstance(a, Value) for a in args):
        return value_sum(list(args))
    total = args[0]
    for term in args[1:]:
        total = total + term
    return total


def _dot_source(*args: str) -> str:
    n = (len(args) - 1) // 2
    return f"dot([{', '.join(args[:n])}], [{', '.join(args[n:-1])}], {args[-1]})"


_CONSTANTS = (2.0, -1.5, 0.5, 3.0)


def _binary(
    name: str,
    fn: Callable[[Any, Any], Any],
    domain: Callable[..., bool] = _anywhere,
    constants: tuple[float, ...] = _CONSTANTS,
) -> ExpressionOp:
    return ExpressionOp(name, 2, fn, lambda a, b: f"{a} {name} {b}", domain, constants)


def _unary(name: str) -> ExpressionOp:
    return ExpressionOp(name, 1, _method(name), lambda a: f"{a}.{name}()", _arg_domain(DOMAINS[name]))


BUILTIN_OPS: dict[str, ExpressionOp] = {
    "+": _binary("+", lambda a, b: a + b),
    "-": _binary("-", lambda a, b: a - b),
    "*": _binary("*", lambda a, b: a * b),
    "/": _binary("/", lambda a, b: a / b, _arg_domain("nonzero", 1)),
    "**": _binary("**", lambda a, b: a**b, _pow_domain, (2.0, 3.0, -1.0, 0.5)),
    "neg": ExpressionOp("neg", 1, lambda a: -a, lambda a: f"-{a}", _anywhere),
    **{name: _unary(name) for name in engine.UNARY_FUNCTIONS},
    "dot": ExpressionOp("dot", 0, _generic_dot, _dot_source, _anywhere),
    "sum": ExpressionOp("sum", 0, _generic_sum, lambda *a: f"value_sum([{', '.join(a)}])", _anywhere),
}


def custom_op(
    op: Op,
    arity: int | None = None,
    domain: Domain | Callable[..., bool] = "any",
    name: str | None = None,
) -> ExpressionOp:
    """Let `expressions()` use a custom `Op` (made for `Value.apply`). `arity` defaults to
    the number of parameters of `op.forward`; `domain` is a domain name for every argument
    (see `values`) or a function of the argument values returning whether they are safe.
    The op prints as `Value.apply(<name>, ...)`, `name` defaulting to the op's name."""
    if not isinstance(op, Op):
        raise TypeError(f"custom_op() takes an Op, got {type(op).__name__}")
    if arity is None:
        params = inspect.signature(op.forward).parameters.values()
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            raise ValueError(f"cannot tell the arity of {op!r} from its forward; pass arity=")
        arity = len(params)
    if arity < 1:
        raise ValueError(f"arity must be at least 1, got {arity}")
    ident = name or re.sub(r"\W", "_", op.name)
    if callable(domain):
        user_domain = domain

        def check(values: tuple[float, ...], constant: tuple[bool, ...]) -> bool:
            return bool(user_domain(*values))
    else:
        kind = _interval(domain)

        def check(values: tuple[float, ...], constant: tuple[bool, ...]) -> bool:
            if isinstance(kind, tuple):
                return all(kind[0] <= v <= kind[1] for v in values)
            return all(_arg_domain(kind)((v,), (False,)) for v in values)

    return ExpressionOp(
        op.name,
        arity,
        lambda *args: Value.apply(op, *args),
        lambda *args: f"Value.apply({ident}, {', '.join(args)})",
        check,
    )


def _spec(op: str | ExpressionOp | Op) -> ExpressionOp:
    if isinstance(op, ExpressionOp):
        return op
    if isinstance(op, Op):
        return custom_op(op)
    if op in BUILTIN_OPS:
        return BUILTIN_OPS[op]
    raise ValueError(f"unknown op {op!r}: use one of {', '.join(BUILTIN_OPS)}, an Op or custom_op(...)")


# -- expressions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One operation: the op's name and its arguments (node indices or constants)."""

    op: str
    args: tuple[Ref, ...]


class Expression:
    """A small program: input values and steps, each an op applied to earlier nodes.

    Call it like a function of its inputs: `expr(*expr.leaves())` builds the Value graph
    (built-in ops also work on torch tensors). `repr(expr)` is Python source that builds
    the same graph, so a failing example can be pasted and run.
    """

    def __init__(self, inputs: Sequence[float], steps: Sequence[Step], ops: dict[str, ExpressionOp]):
        self.inputs = tuple(float(x) for x in inputs)
        self.steps = tuple(steps)
        self.ops = {s.op: ops[s.op] for s in self.steps}

    @property
    def size(self) -> int:
        """The number of operations."""
        return len(self.steps)

    def leaves(self, requires_grad: bool = True) -> list[Value]:
        """Fresh input Values, labelled x0, x1, ..."""
        return [Value(x, label=f"x{i}", requires_grad=requires_grad) for i, x in enumerate(self.inputs)]

    def __call__(self, *leaves: Any) -> Any:
        if len(leaves) != len(self.inputs):
            raise TypeError(f"this expression takes {len(self.inputs)} inputs, got {len(leaves)}")
        nodes = list(leaves)
        for k, step in enumerate(self.steps):
            args = [nodes[a] if isinstance(a, int) else a for a in step.args]
            result = self.ops[step.op].apply(*args)
            if isinstance(result, Value) and not result.label:
                result.label = "out" if k == len(self.steps) - 1 else f"v{k}"
            nodes.append(result)
        return nodes[-1]

    def build(self) -> tuple[Value, list[Value]]:
        """(output, leaves): the Value graph on fresh leaves."""
        leaves = self.leaves()
        return self(*leaves), leaves

    def uses(self) -> list[int]:
        """How many times each node (inputs first) is used as an argument."""
        counts = [0] * (len(self.inputs) + len(self.steps))
        for step in self.steps:
            for a in step.args:
                if isinstance(a, int):
                    counts[a] += 1
        return counts

    @property
    def has_shared_subexpression(self) -> bool:
        """Whether some intermediate node feeds more than one argument (fan-out)."""
        return any(c > 1 for c in self.uses()[len(self.inputs) :])

    @property
    def source(self) -> str:
        names = [f"x{i}" for i in range(len(self.inputs))] + [f"v{k}" for k in range(len(self.steps))]
        lines = ["from micrograd_plus import Value"]
        helpers = [h for h, op in (("dot", "dot"), ("value_sum", "sum")) if op in self.ops]
        if helpers:
            lines.append(f"from micrograd_plus.engine import {', '.join(helpers)}")
        lines += [f"{names[i]} = Value({x!r}, label={names[i]!r})" for i, x in enumerate(self.inputs)]
        for k, step in enumerate(self.steps):
            args = [names[a] if isinstance(a, int) else repr(a) for a in step.args]
            target = "out" if k == len(self.steps) - 1 else names[len(self.inputs) + k]
            lines.append(f"{target} = {self.ops[step.op].source(*args)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.source

    __str__ = __repr__


def _prune(inputs: list[float], steps: list[Step]) -> tuple[list[float], list[Step]]:
    """Keep only the inputs and steps the last step depends on, renumbered."""
    n = len(inputs)
    live = {n + len(steps) - 1}
    for k in range(len(steps) - 1, -1, -1):
        if n + k in live:
            live.update(a for a in steps[k].args if isinstance(a, int))
    kept = sorted(live)
    new_index = {old: new for new, old in enumerate(kept)}
    new_inputs = [inputs[i] for i in kept if i < n]
    new_steps = [
        Step(steps[i - n].op, tuple(new_index[a] if isinstance(a, int) else a for a in steps[i - n].args))
        for i in kept
        if i >= n
    ]
    return new_inputs, new_steps


# Inputs in [-3, 3] that shrink towards 1.0, not 0.0: at 0 many wrong derivatives vanish
# (2x^2 and 3x^2 agree), so a shrinker heading for 0 needs extra steps to show a bug.
_INPUTS = st.floats(-4.0, 2.0, allow_nan=False).map(lambda t: 1.0 + t)


def expressions(
    max_nodes: int = 8,
    ops: Sequence[str | ExpressionOp | Op] | None = None,
    *,
    min_nodes: int = 1,
    max_inputs: int = 3,
    inputs: st.SearchStrategy[float] | None = None,
    bound: float = 100.0,
    max_slope: float = 100.0,
) -> st.SearchStrategy[Expression]:
    """Random expression graphs of 1..max_nodes operations drawn from `ops` (built-in op
    names, `Op`s, or `custom_op(...)`; all built-ins by default).

    Arguments are earlier nodes (recent ones most often, so graphs are deep and nodes are
    reused: fan-out, shared subexpressions, `x * x`) or small constants. A step is kept
    only where its op is defined and smooth at its arguments (see the module docstring),
    its value is within `bound` and its slope with respect to the inputs below
    `max_slope`; steps the output does not depend on are dropped. Inputs are drawn from
    `inputs` (default: floats in [-3, 3] shrinking towards 1.0). Hypothesis shrinks a
    failing expression towards fewer inputs, fewer steps and the first ops in `ops`.
    """
    specs = [_spec(op) for op in (ops if ops is not None else list(BUILTIN_OPS))]
    if not specs:
        raise ValueError("expressions() needs at least one op")
    if not 1 <= min_nodes <= max_nodes:
        raise ValueError(
            f"need 1 <= min_nodes <= max_nodes, got min_nodes={min_nodes}, max_nodes={max_nodes}"
        )
    if max_inputs < 1:
        raise ValueError(f"max_inputs must be at least 1, got {max_inputs}")
    by_name = {s.name: s for s in specs}
    input_values = inputs if inputs is not None else _INPUTS

    @st.composite
    def draw_expression(draw: Callable[..., Any]) -> Expression:
        xs = [draw(input_values) for _ in range(draw(st.integers(1, max_inputs)))]
        leaves = [Value(x) for x in xs]
        nodes: list[Value] = list(leaves)
        steps: list[Step] = []
        for _ in range(3 * max_nodes):
            # "one more step?" is drawn per step (as st.lists does), so the shrinker can
            # delete a step by deleting its own block of choices.
            if len(steps) >= max_nodes or (len(steps) >= min_nodes and draw(st.integers(0, 4)) == 0):
                break
            spec = draw(st.sampled_from(specs))
            args = _draw_args(draw, spec, len(nodes))
            result = _safe_result(spec, args, nodes, leaves, bound, max_slope)
            if result is not None:
                steps.append(Step(spec.name, args))
                nodes.append(result)
        assume(steps)
        kept_inputs, kept_steps = _prune(xs, steps)
        assume(len(kept_steps) >= min_nodes)
        return Expression(kept_inputs, kept_steps, by_name)

    return draw_expression()


def _draw_args(draw: Callable[..., Any], spec: ExpressionOp, n_nodes: int) -> tuple[Ref, ...]:
    """The first argument is usually the latest node (so few steps are dead and graphs are
    deep), the others any earlier node (fan-out: a node feeds several steps) or a constant."""

    def any_node() -> int:
        return n_nodes - 1 - draw(st.integers(0, n_nodes - 1))

    first = n_nodes - 1 if draw(st.integers(0, 3)) < 3 else any_node()
    refs: list[Ref] = [first]
    if spec.arity == 0:
        if spec.name == "dot":
            k = draw(st.integers(1, 3))
            refs += [any_node() for _ in range(2 * k - 1)]
            refs.append(any_node() if draw(st.booleans()) else draw(st.sampled_from(_CONSTANTS)))
            return tuple(refs)
        return (first, *[any_node() for _ in range(draw(st.integers(1, 3)))])
    for _ in range(spec.arity - 1):
        if spec.constants and draw(st.integers(0, 3)) == 0:
            refs.append(draw(st.sampled_from(spec.constants)))
        else:
            refs.append(any_node())
    return tuple(refs)


def _safe_result(
    spec: ExpressionOp,
    args: tuple[Ref, ...],
    nodes: list[Value],
    leaves: list[Value],
    bound: float,
    max_slope: float,
) -> Value | None:
    """The op's result if it is defined, smooth, bounded and not too steep; else None."""
    datas = tuple(nodes[a].data if isinstance(a, int) else a for a in args)
    constant = tuple(not isinstance(a, int) for a in args)
    if not spec.domain(datas, constant):
        return None
    result = spec.apply(*[nodes[a] if isinstance(a, int) else a for a in args])
    if not isinstance(result, Value) or not (math.isfinite(result.data) and abs(result.data) <= bound):
        return None
    slope = 0.0
    for g in grad(result, leaves, allow_unused=True):
        if g is not None:
            slope += abs(g.data)
    if not slope <= max_slope:  # also rejects nan
        return None
    return result


# -- MLPs -------------------------------------------------------------------------------------------


def mlps(
    nin: int | None = None,
    *,
    max_inputs: int = 3,
    max_layers: int = 3,
    max_width: int = 4,
    activations: Sequence[str] = ("tanh", "relu", "sigmoid", "linear"),
    with_input: bool = False,
) -> st.SearchStrategy[Any]:
    """Small `MLP(nin, nouts, activation, seed)`s. The constructor call is recorded with
    `hypothesis.note`, so a failing example can be rebuilt.

    With `with_input=True` draws `(mlp, x)` with `x` a list of nin floats at which every
    relu's input is at least 1e-3 from 0, so finite differences see no kink.
    """

    @st.composite
    def draw_mlp(draw: Callable[..., Any]) -> Any:
        n = nin if nin is not None else draw(st.integers(1, max_inputs))
        nouts = draw(st.lists(st.integers(1, max_width), min_size=0, max_size=max_layers - 1))
        nouts.append(draw(st.integers(1, 2)))
        activation = draw(st.sampled_from(list(activations)))
        seed = draw(st.integers(0, 2**16))
        mlp = MLP(n, nouts, activation=activation, seed=seed)
        note(f"MLP({n}, {nouts!r}, activation={activation!r}, seed={seed})")
        if not with_input:
            return mlp
        x = [draw(values("nonzero", max_magnitude=3.0)) for _ in range(n)]
        out = mlp(x)
        outputs = out if isinstance(out, list) else [out]
        assume(_relus_off_kinks(outputs))
        note(f"x = {x!r}")
        return mlp, x

    return draw_mlp()


def _relus_off_kinks(outputs: Sequence[Node]) -> bool:
    seen: set[int] = set()
    stack = list(outputs)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op == "relu" and abs(node.parents[0].data) < MARGIN:
            return False
        if node.op == "relu(dot)" and abs(_dot_forward(*[p.data for p in node.parents])) < MARGIN:
            return False  # a neuron: its relu's input is its weighted sum
        stack.extend(node.parents)
    return True


# -- tensors ------------------------------------------------------------------------------------------


def tensors(
    count: int = 1,
    *,
    shape: tuple[int, ...] | None = None,
    domain: Domain = "any",
    margin: float = MARGIN,
    max_magnitude: float = 10.0,
    max_dims: int = 3,
    max_side: int = 4,
    requires_grad: bool = True,
) -> st.SearchStrategy[Any]:
    """float64 Tensors with elements drawn like `values(domain)`.

    `count=1` draws one Tensor (of `shape`, or a random shape); `count=n` draws a tuple of
    n Tensors whose shapes broadcast together (as `a + b` needs) and, if `shape` is given,
    with `shape` too.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    elements = values(domain, margin=margin, max_magnitude=max_magnitude)

    def make(shape_: tuple[int, ...]) -> st.SearchStrategy[Any]:
        return hnp.arrays("float64", shape_, elements=elements).map(
            lambda array: Tensor(array, requires_grad=requires_grad)
        )

    if count == 1:
        shapes = (
            st.just(shape)
            if shape is not None
            else hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side)
        )
        return shapes.flatmap(make)
    broadcast = hnp.mutually_broadcastable_shapes(
        num_shapes=count, base_shape=shape or (), min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side
    )
    return broadcast.flatmap(lambda bs: st.tuples(*[make(s) for s in bs.input_shapes]))
