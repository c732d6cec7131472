"""The engine: how a Value records its graph, how each local derivative is declared, and how
`backward()` applies the chain rule. Read it top to bottom:

1. `Op` and `Node`: an operation (a name, a forward, a local-derivative rule) and what every
   node of a graph holds (data, grad, its parents, the Op that made it).
2. Helpers (`exp`, `log`, `where`, ...) that work on floats, numpy arrays, Values and Tensors.
3. THE RULE TABLE: one `Op` per primitive, its forward and one derivative expression per
   input, written once. Value uses it, Tensor (tensors.py) uses it on arrays, and
   `grad(..., create_graph=True)` runs the same expressions on nodes to differentiate again.
4. `Value`: a scalar node; its operators come from the table.
5. The walk: a topological order, then `backward_pass`, a generator of chain-rule steps.
   `backward()` runs it to the end; `backward_steps`, drawings and the player narrate it.

Floats follow IEEE like PyTorch float64: log(0) = -inf, 1/0 = inf, (-8) ** (1/3) = nan,
never an exception nor a complex number. Python floats raise on a few of those, so what
raises is computed again with numpy float64 scalars, which follow IEEE.

fast.py runs the same rules faster (set_engine("fast"), the default); nothing here is
there for speed alone.
"""

from __future__ import annotations

import math
import operator
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Union

import numpy as np

from . import guards, modes
from .guards import is_real, to_float
from .modes import no_grad, user_frame

Fn = Callable[..., Any]
Operand = Union["Value", int, float]
_IEEE_ERRORS = (ArithmeticError, ValueError)  # what Python floats raise where IEEE gives inf or nan


class Op:
    """An operation: `forward(*input_datas)` gives the output's data, and
    `backward(g, out, *inputs)` gives one contribution per input: the upstream gradient g
    times the local derivative d out / d input (None where no gradient flows). The rule gets
    raw data in a plain pass and nodes under `grad(..., create_graph=True)`, so it is written
    with operators and the helpers below. `array_forward` is the forward on numpy arrays where
    it differs; `domain` says where the first input is smooth ("any", "positive", "nonzero")."""

    __slots__ = ("name", "forward", "backward", "array_forward", "domain", "derivatives")

    def __init__(
        self, name: str, forward: Fn, backward: Fn, array_forward: Fn | None = None, domain: str = "any"
    ):
        if not isinstance(name, str) or not callable(forward) or not callable(backward):
            raise TypeError(
                "Op(name, forward, backward) takes a str and two functions, got "
                f"{type(name).__name__}, {type(forward).__name__}, {type(backward).__name__}"
            )
        self.name, self.forward, self.backward = name, forward, backward
        self.array_forward = forward if array_forward is None else array_forward
        self.domain = domain
        self.derivatives: tuple[Fn, ...] | None = None  # one expression per input (see `elementwise`)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


class Node:
    """What Value and Tensor share: `data`, `grad`, the parents it was computed from (in
    argument order) and the Op that made it (None for a leaf). `_passes` counts the backward
    passes a leaf has added up since `zero_grad`; `_origin` says why a node has no graph
    ("constant", "no_grad", "detach"); `_where` is the line that made it (anomaly mode);
    `_born` is the in-place-change clock when it was made (see `mark_changed`); `_sum` is
    where fast.py's walk adds up a pass (this file's walk keeps its sums in a dict)."""

    __slots__ = (
        *("data", "grad", "requires_grad", "label", "_parents", "_op"),
        *("_passes", "_origin", "_where", "_born", "_sum", "__weakref__"),
    )
    _parents: tuple[Node, ...]
    _op: Op | None

    @property
    def parents(self) -> tuple[Node, ...]:  # the nodes this one was computed from
        return self._parents

    @property
    def op(self) -> str:
        """The name of the operation that made this node ('' for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    @property
    def _version(self) -> int:  # how many in-place changes the public API made to it (PyTorch's)
        return guards.version_of(self)

    # What each kind of node decides for itself (Value below, Tensor in tensors.py): the default
    # gradient of an output, a gradient the user gives (as raw data), raw data as a constant
    # node, and what `.grad` becomes once a pass's total is in.
    _seed: Callable[[], Any]
    _raw: Callable[[Any], Any]
    _constant_like: Callable[[Any], Node]
    _grad_after: Callable[[Any, Any], Any]

    def _store_grad(self, total: Any) -> None:
        """Receive a finished pass's total: leaves add it to `.grad`, intermediates show it."""
        self.grad = self._grad_after(self.grad, total)
        if self._op is None:
            self._passes += 1


# -- helpers for rules: on a node they record the graph, on floats and arrays they compute --


def data_of(x: Any) -> Any:
    return x.data if isinstance(x, Node) else x


def _elementwise(method: str, float_fn: Fn, array_fn: Fn) -> Fn:
    def fn(x: Any) -> Any:
        if isinstance(x, Node):
            return getattr(x, method)()
        if isinstance(x, np.ndarray):
            return array_fn(x)
        try:
            return float_fn(x)
        except _IEEE_ERRORS:
            with np.errstate(all="ignore"):
                return float(array_fn(np.float64(x)))

    fn.__name__ = method
    return fn


exp = _elementwise("exp", math.exp, np.exp)
log = _elementwise("log", math.log, np.log)
sin = _elementwise("sin", math.sin, np.sin)
cos = _elementwise("cos", math.cos, np.cos)
sqrt = _elementwise("sqrt", math.sqrt, np.sqrt)
tanh = _elementwise("tanh", math.tanh, np.tanh)


def power(a: Any, b: Any) -> Any:
    """a ** b with IEEE results: (-8) ** (1/3) is nan, 0 ** -1 is inf, never complex."""
    if isinstance(a, Node) or isinstance(b, Node) or isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a**b
    try:
        result = a**b
        if type(result) is float:
            return result
    except _IEEE_ERRORS:
        pass
    with np.errstate(all="ignore"):
        return float(np.power(np.float64(a), np.float64(b)))


def sign(x: Any) -> Any:
    """-1, 0 or 1 (0 at nan, as PyTorch): a constant, its derivative is 0 almost everywhere."""
    x = data_of(x)
    if isinstance(x, np.ndarray):
        return np.where(x != x, 0.0, np.sign(x))
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def where(condition: Any, x: Any, y: Any) -> Any:
    """x where `condition` (a bool, or bools of numpy) holds, else y: exactly y, even where x is
    inf or nan (a product with a 0/1 mask would give nan there). On nodes, a WHERE node."""
    for node in (x, y):
        if isinstance(node, Node):
            return type(node).apply(WHERE, condition, x, y)
    if type(condition) is bool:
        return x if condition else y
    return np.where(condition, x, y)


def piecewise_constant(result: Any, x: Any) -> Any:
    """`result`, a contribution that depends on x only through a piecewise-constant local
    derivative (relu's, abs's). On nodes it is recorded as depending on x with derivative 0,
    so that a second derivative through it is 0, as in PyTorch, not "x was not used"."""
    return type(x).apply(PIECEWISE_CONSTANT, result, x) if isinstance(x, Node) else result


# -- THE RULE TABLE: each primitive's forward and its local derivatives, side by side -------


def elementwise(
    name: str, forward: Fn, *derivatives: Fn, array_forward: Fn | None = None, domain: str = "any"
) -> Op:
    """An Op from one local-derivative expression per input, each `(g, out, *inputs) -> g * d out/d input`
    (Tensor applies only those of the inputs that need a gradient)."""
    if len(derivatives) == 1:
        (d,) = derivatives
        op = Op(name, forward, lambda g, out, a: (d(g, out, a),), array_forward, domain)
    else:
        da, db = derivatives
        op = Op(
            name, forward, lambda g, out, a, b: (da(g, out, a, b), db(g, out, a, b)), array_forward, domain
        )
    op.derivatives = derivatives
    return op


def _pow_exponent(g: Any, out: Any, a: Any, b: Any) -> Any:
    # d(a ** b)/db = a ** b * log(a), made 0 where a == 0 and b >= 0 as PyTorch (g * 0: nan for inf g).
    if isinstance(b, Node) and not b.requires_grad:
        return None  # a constant exponent (x ** 3) on nodes: no log(a) node at a < 0
    return where((data_of(a) == 0) & (data_of(b) >= 0), g * 0.0, g * (out * log(a)))


def _sigmoid(x: float) -> float:
    # Two branches, so that exp never overflows: sigmoid(-800) is 0.0, not an error.
    return 1.0 / (1.0 + exp(-x)) if x >= 0 else exp(x) / (1.0 + exp(x))


def _dot_forward(*inputs: float) -> float:
    """bias + sum of w_i * x_i, the inputs laid out as (w_1..w_n, x_1..x_n, bias)."""
    n = (len(inputs) - 1) // 2
    total = inputs[-1]
    for w, x in zip(inputs[:n], inputs[n:-1]):
        total += w * x
    return total


def _dot_rule(g: Any, out: Any, *inputs: Any) -> list[Any]:
    # d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1: the inputs with their halves swapped, times g.
    n = (len(inputs) - 1) // 2
    return [g * v for v in inputs[n:-1] + inputs[:n]] + [g]


ADD = elementwise("+", lambda a, b: a + b, lambda g, out, a, b: g, lambda g, out, a, b: g)
SUB = elementwise("-", lambda a, b: a - b, lambda g, out, a, b: g, lambda g, out, a, b: -g)
MUL = elementwise("*", lambda a, b: a * b, lambda g, out, a, b: g * b, lambda g, out, a, b: g * a)
# d(a/b)/db = -a/b², formed as PyTorch does: b * b alone overflows long before a / b does.
DIV = elementwise(
    "/",
    lambda a, b: a / b,
    lambda g, out, a, b: g / b,
    lambda g, out, a, b: -g * ((a / b) / b),
    domain="nonzero",
)
# d(a ** b)/da = b * a ** (b-1), made exactly 0 where b == 0 (even at a == 0) as PyTorch.
POW = elementwise(
    "**",
    power,
    lambda g, out, a, b: where(data_of(b) == 0, 0.0, g * (b * power(a, b - 1))),
    _pow_exponent,
    domain="positive",
)
NEG = elementwise("neg", lambda a: -a, lambda g, out, a: -g)
EXP = elementwise("exp", exp, lambda g, out, a: g * out)
LOG = elementwise("log", log, lambda g, out, a: g / a, domain="positive")
TANH = elementwise("tanh", tanh, lambda g, out, a: g * (1 - out * out))
SIGMOID = elementwise(
    "sigmoid", _sigmoid, lambda g, out, a: g * out * (1 - out), array_forward=lambda a: 1 / (1 + np.exp(-a))
)
# relu'(0) = 0 as PyTorch; a nan output passes g on (nan != 0); relu(-0.0) is -0.0 as PyTorch.
RELU = elementwise(
    "relu",
    lambda a: 0.0 if a < 0 else a,
    lambda g, out, a: piecewise_constant(where(data_of(out) != 0, g, 0.0), a),
    array_forward=lambda a: np.maximum(0.0, a),
    domain="nonzero",
)
SIN = elementwise("sin", sin, lambda g, out, a: g * cos(a))
COS = elementwise("cos", cos, lambda g, out, a: -g * sin(a))
ABS = elementwise("abs", abs, lambda g, out, a: piecewise_constant(g * sign(a), a), domain="nonzero")
SQRT = elementwise("sqrt", sqrt, lambda g, out, a: g / (2 * out), domain="positive")
DOT = Op("dot", _dot_forward, _dot_rule)
SUM = Op("sum", lambda *inputs: sum(inputs), lambda g, out, *inputs: (g,) * len(inputs))
WHERE = Op(
    "where",
    lambda c, x, y: x if c else y,
    lambda g, out, c, x, y: (None, where(data_of(c) != 0, g, 0.0), where(data_of(c) != 0, 0.0, g)),
    lambda c, x, y: np.where(c, x, y),
)
PIECEWISE_CONSTANT = Op("piecewise_constant", lambda r, x: r, lambda g, out, r, x: (g, 0.0 * g))

RULES = {op.name: op for op in (ADD, SUB, MUL, DIV, POW, NEG, EXP, LOG, TANH, SIGMOID, RELU, SIN, COS)}
RULES.update({op.name: op for op in (ABS, SQRT, DOT, SUM, WHERE, PIECEWISE_CONSTANT)})
ACTIVATIONS = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID}
UNARY_FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "abs", "sqrt")  # Value methods


# -- Value: a scalar node -----------------------------------------------------------------


def _binary_operator(op: Op, swapped: bool = False) -> Callable[[Value, Operand], Value]:
    def method(self: Value, other: Operand) -> Value:
        if not isinstance(other, Value) and not is_real(other):
            return NotImplemented
        return Value.apply(op, other, self) if swapped else Value.apply(op, self, other)

    return method


def _unary_method(op: Op) -> Callable[[Value], Value]:
    return lambda self: Value.apply(op, self)


def _comparison(compare: Callable[[float, float], bool]) -> Callable[[Value, Operand], bool]:
    return lambda self, other: compare(
        self.data, other.data if isinstance(other, Value) else to_float(other, "the other operand")
    )


class Value(Node):
    """A scalar that records how it was computed, so `backward()` can apply the chain rule.

    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> c = a * b + 1
    >>> c.backward()
    >>> a.grad, b.grad
    (-3.0, 2.0)

    Values require grad by default (as in micrograd). `grad` is a float: 0.0 before any
    backward and after `zero_grad()`; leaves add up gradients over backward calls,
    intermediate Values show the gradient of the latest pass.
    """

    __slots__ = ()
    __array_ufunc__ = None  # numpy defers to us: np.float64(2) * v is a Value

    def __init__(self, data: Any, label: str = "", requires_grad: bool = True):
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data = data if type(data) is float else to_float(data)
        self.grad, self.requires_grad, self.label = 0.0, bool(requires_grad), label
        self._parents, self._op, self._passes, self._origin, self._sum = (), None, 0, None, None
        self._where = user_frame() if modes._modes.anomaly else None
        self._born = guards.clock[0]

    @staticmethod
    def apply(op: Op, *inputs: Operand) -> Value:
        """`op` applied to Values (plain numbers become constants): also the way to define
        your own operation.

        >>> square = Op("square", lambda x: x * x, lambda g, out, x: (g * 2 * x,))
        >>> Value.apply(square, Value(3.0)).data
        9.0
        """
        if not isinstance(op, Op):
            raise TypeError(f"apply() takes an Op first, got {type(op).__name__}: {op!r:.60}")
        parents = inputs
        if not all(isinstance(x, Value) for x in inputs):  # plain numbers become constants
            parents = tuple(x if isinstance(x, Value) else _constant(x) for x in inputs)
        datas = [p.data for p in parents]
        try:
            data = op.forward(*datas)
        except _IEEE_ERRORS:
            with np.errstate(all="ignore"):
                data = op.forward(*map(np.float64, datas))
        if type(data) is not float:
            data = to_float(data, f"the forward of Op {op.name!r} returned a value that")
        out = Value(data)
        if modes._modes.grad_enabled:
            out._op, out._parents = op, parents
            out.requires_grad = any(p.requires_grad for p in parents)
        else:
            out.requires_grad, out._origin = False, "no_grad"
        if out._where is not None:
            guards.check_forward(op, parents, data, out._where)
        return out

    __add__, __radd__ = _binary_operator(ADD), _binary_operator(ADD, swapped=True)
    __sub__, __rsub__ = _binary_operator(SUB), _binary_operator(SUB, swapped=True)
    __mul__, __rmul__ = _binary_operator(MUL), _binary_operator(MUL, swapped=True)
    __truediv__, __rtruediv__ = _binary_operator(DIV), _binary_operator(DIV, swapped=True)
    __pow__, __rpow__ = _binary_operator(POW), _binary_operator(POW, swapped=True)
    __neg__, __abs__, abs = _unary_method(NEG), _unary_method(ABS), _unary_method(ABS)
    exp, log, tanh, sigmoid = (
        _unary_method(EXP),
        _unary_method(LOG),
        _unary_method(TANH),
        _unary_method(SIGMOID),
    )
    relu, sin, cos, sqrt = _unary_method(RELU), _unary_method(SIN), _unary_method(COS), _unary_method(SQRT)

    def __pos__(self) -> Value:
        return self

    def backward(self, gradient: Any = None) -> None:
        """Apply the chain rule from this Value to every Value it depends on: leaves add this
        pass's gradient to `.grad` (twice doubles it), intermediates show this pass's. The
        graph is kept, so calling it again is allowed."""
        backward(self, gradient)

    def zero_grad(self) -> None:
        """Reset `.grad` to 0.0 (and the count of backward passes added up)."""
        self.grad, self._passes = 0.0, 0

    def detach(self) -> Value:
        """A new leaf with the same data, cut from the graph (it does not require grad)."""
        v = Value(self.data, self.label, requires_grad=False)
        v._origin = "detach"
        return v

    def item(self) -> float:
        return self.data  # type: ignore[no-any-return]

    __float__ = item

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # Comparisons look at data and give plain bools; == and hash stay by identity (sets, dicts).
    __lt__, __le__, __gt__, __ge__ = map(_comparison, (operator.lt, operator.le, operator.gt, operator.ge))

    # What the walk asks of a Value (see Node):
    def _seed(self) -> float:
        return 1.0

    def _raw(self, value: Any) -> float:
        return to_float(data_of(value), "gradient")

    def _constant_like(self, value: Any) -> Value:
        return value if isinstance(value, Value) else _constant(value)

    def _grad_after(self, grad: float, total: float | None) -> float:
        if self._op is not None:
            return 0.0 if total is None else total
        return grad if total is None else grad + total


def _constant(x: Any) -> Value:
    """A plain number used in an operation: a node that collects no gradient."""
    if not is_real(x):
        raise TypeError(
            f"unsupported operand: Value and {type(x).__name__} ({x!r:.60}); use a number or a Value"
        )
    v = Value(to_float(x, "the other operand"), requires_grad=False)
    v._origin, v._where = "constant", None
    return v


def dot(
    weights: Sequence[Value], inputs: Sequence[Operand], bias: Operand = 0.0, activation: str = "linear"
) -> Value:
    """`bias + sum(w * x)` as one node; with an `activation` ("relu", "tanh", "sigmoid"), that
    function of it: a neuron is `activation(dot(w, x, b))`."""
    return neurons([weights], [bias], inputs, activation)[0]


def neurons(
    weight_rows: Sequence[Sequence[Value]],
    biases: Sequence[Operand],
    inputs: Sequence[Operand],
    activation: str = "linear",
) -> list[Value]:
    """The neurons of a layer: `activation(dot(w, inputs, b))` for each row w and bias b.
    (fast.set_engine("fast") puts a faster builder of the same numbers in its place.)"""
    guards.check_layer(weight_rows, biases, inputs, activation, (*ACTIVATIONS, "linear"))
    made = []
    for weights, bias in zip(weight_rows, biases):
        out = Value.apply(DOT, *weights, *inputs, bias)
        made.append(out if activation == "linear" else Value.apply(ACTIVATIONS[activation], out))
    return made


def value_sum(terms: Sequence[Operand]) -> Value:
    """The sum of many Values as one node."""
    if len(terms) == 0:
        raise ValueError("value_sum() of an empty sequence: give at least one term")
    return Value.apply(SUM, *terms)


# -- the walk -----------------------------------------------------------------------------


def topological_order(*roots: Node) -> list[Node]:
    """Every node the roots depend on that requires grad, each before the nodes it was computed
    from (so a node comes after everything it feeds). A depth-first walk with an explicit stack,
    never recursion: a chain of a million nodes is fine."""
    order: list[Node] = []
    visited: set[Node] = set()
    stack: list[Node | None] = list(reversed(roots))
    while stack:
        node = stack.pop()
        if node is None:  # the marker: the node below it has all its parents done
            order.append(stack.pop())  # type: ignore[arg-type]
        elif node not in visited:
            visited.add(node)
            stack.append(node)
            stack.append(None)
            for parent in reversed(node._parents):  # the first parent on top: visited first
                if parent.requires_grad and parent not in visited:
                    stack.append(parent)
    order.reverse()
    return order


Step = tuple[Node, Any, Sequence[Any], list[Any]]  # (node, gradient, contributions, totals)


def backward_pass(
    roots: Sequence[Node], seeds: Sequence[Any], totals: dict[Node, Any], create_graph: bool = False
) -> Iterator[Step]:
    """The backward pass, one step per node whose rule runs, in topological order (a node after
    all the nodes it feeds), so a node's gradient is complete when its rule runs.

    Each step is `(node, gradient, contributions, totals)`: `node` received `gradient`
    (dL/dnode), and its rule sent `contributions[i]` to `node.parents[i]` (None: no gradient
    flows), after which that parent's running sum was `totals[i]` (None if it got nothing).
    `totals`, the argument (given empty), receives every node of the walk, in order, with its
    gradient summed over this pass (None where nothing reached it)."""
    totals.update(dict.fromkeys(topological_order(*roots)))
    for root, seed in zip(roots, seeds):
        totals[root] = seed if totals[root] is None else totals[root] + seed
    for node in list(totals):
        g = totals[node]
        if node._op is None or g is None:  # a leaf, or only rules' None reached it
            continue
        if node._born != guards.clock[0]:
            guards.check_inputs_unchanged(node)
        contributions = local_gradients(node, g, create_graph)
        after = []
        for parent, c in zip(node._parents, contributions):
            total = None
            if c is not None and parent.requires_grad:
                total = c if totals[parent] is None else totals[parent] + c
                totals[parent] = total
            after.append(total)
        yield node, g, contributions, after


def local_gradients(node: Node, g: Any, create_graph: bool = False) -> Sequence[Any]:
    """`node`'s rule applied to its upstream gradient g: one contribution per parent."""
    op, parents = node._op, node._parents
    assert op is not None
    if create_graph:
        contributions = op.backward(g, node, *parents)
    else:
        datas = [p.data for p in parents]
        try:
            contributions = op.backward(g, node.data, *datas)
        except _IEEE_ERRORS:  # Python floats raise on 1/0 and overflow (numpy too, if told to)
            with np.errstate(all="ignore"):
                if type(node.data) is not float:
                    contributions = op.backward(g, node.data, *datas)
                else:  # numpy float64 scalars follow IEEE
                    contributions = op.backward(np.float64(g), np.float64(node.data), *map(np.float64, datas))
                    contributions = [None if c is None else float(c) for c in contributions]
    guards.check_contributions(node, contributions)
    if modes._modes.anomaly:
        guards.check_backward(node, g, contributions)
    return contributions


def backward(root: Node, gradient: Any = None) -> None:
    """Backpropagate from `root`: run the walk to its end, then each node stores its total."""
    guards.check_root(root)
    seed = root._seed() if gradient is None else root._raw(gradient)
    totals: dict[Node, Any] = {}
    with no_grad():
        for _step in backward_pass([root], [seed], totals):
            pass
    guards.last_pass.root = weakref.ref(root)
    for node, total in totals.items():
        node._store_grad(total)
