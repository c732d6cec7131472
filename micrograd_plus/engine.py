"""The engine, to read top to bottom: how a Value records its graph, how every local
derivative is declared, and how `backward()` applies the chain rule:
1. `Op` (a name, a forward, a local-derivative rule) and `Node` (data, grad, parents, op).
2. Helpers (`exp`, `where`, ...) on floats, arrays, Values and Tensors, then THE RULE TABLE:
   each primitive's forward and one derivative expression per input, written once for Value,
   Tensor (on arrays) and `grad(..., create_graph=True)` (on nodes).
3. `Value`, a scalar node, its operators taken from the table; `dot`, a neuron's weighted sum.
4. The walk: a topological order, and `backward_pass`, a generator of chain-rule steps that
   `backward()` runs to the end and that `backward_steps`, drawings and the player (viz/) narrate.
fast.py, the default engine, runs these rules faster; `set_engine("reference")` runs this file."""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Union

import numpy as np

from . import guards, hooks, ieee, modes
from .modes import no_grad, user_frame

Fn = Callable[..., Any]
Operand = Union["Value", int, float]


class Op:
    """An operation: `forward(*input_datas)` gives the output's data, and `backward(g, out,
    *inputs)` one contribution per input, g times d out/d input (None: no gradient flows), on
    raw data or on nodes under `grad(..., create_graph=True)`. `array_forward`: the forward on
    arrays where it differs; `domain`: where its input is smooth (for "/": its divisor)."""

    __slots__ = ("name", "forward", "backward", "array_forward", "domain", "derivatives")

    def __init__(self, name: str, forward: Fn, backward: Fn, array_forward: Fn | None = None, domain: str = "any", derivatives: tuple[Fn, ...] | None = None):  # fmt: skip
        guards.check_op(name, forward, backward)
        self.name, self.forward, self.backward, self.domain = name, forward, backward, domain
        self.array_forward = forward if array_forward is None else array_forward
        self.derivatives = derivatives  # one expression per input, if made by `elementwise`

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


class Node:
    """What Value and Tensor share: data, grad, the parents (in argument order), the Op (None: leaf)."""

    __slots__ = ("data", "grad", "requires_grad", "label", "_parents", "_op", "_passes", "_origin", "_where", "_born", "_sum", "_hooks", "__weakref__")  # fmt: skip
    data: Any
    grad: Any
    requires_grad: bool
    label: str
    _parents: tuple[Node, ...]
    _op: Op | None
    _passes: int  # the passes a leaf added up since `zero_grad`
    _origin: str | None  # why a node has no graph: "constant", "no_grad", "detach", "detach_"
    _where: str | None  # the line that made it (anomaly mode)
    _born: int  # the clock of in-place changes when made, or a leaf's data last changed (guards)
    _sum: Any  # fast.py's running sum
    _hooks: dict[int, Fn]  # register_hook's, by handle id (set only on nodes given a hook)
    # What each kind (Value below, Tensor in tensors.py) defines:
    apply: Callable[..., Node]  # an Op on nodes of this kind
    _seed: Fn  # () -> an output's default gradient (1)
    _raw: Fn  # (gradient the user gives) -> raw data
    _constant_like: Fn  # (raw data) -> a constant node
    _grad_after: Callable[[Any, Any], Any]  # (.grad, a pass's total) -> new .grad: leaves add

    parents = property(operator.attrgetter("_parents"))
    op = property(lambda self: "" if self._op is None else self._op.name)  # ('' for a leaf)
    is_leaf = property(lambda self: self._op is None)
    _version = property(guards.version_of)  # how many in-place changes the public API made to it
    register_hook = hooks.register_hook  # hook(grad) on each pass's gradient, which it may replace

    def _store_grad(self, total: Any) -> None:  # a pass's total: leaves add it, intermediates show it
        self.grad = self._grad_after(self.grad, total)
        if self._op is None:
            self._passes += 1


# -- helpers for rules: on a node they record the graph, on floats and arrays they compute ------
data_of = lambda x: x.data if isinstance(x, Node) else x
_on_nodes_too = lambda method, ieee_fn: lambda x: getattr(x, method)() if isinstance(x, Node) else ieee_fn(x)
exp, log, sin = _on_nodes_too("exp", ieee.exp), _on_nodes_too("log", ieee.log), _on_nodes_too("sin", ieee.sin)
cos, sqrt, tanh = _on_nodes_too("cos", ieee.cos), _on_nodes_too("sqrt", ieee.sqrt), _on_nodes_too("tanh", ieee.tanh)  # fmt: skip
power = lambda a, b: a**b if isinstance(a, Node) or isinstance(b, Node) else ieee.power(a, b)
sign = lambda x: ieee.sign(data_of(x))  # a constant: its derivative is 0 almost everywhere


def where(condition: Any, x: Any, y: Any) -> Any:
    """x where `condition` (a bool, or bools of numpy) holds, else y: exactly y, even where x is
    inf or nan (a product with a 0/1 mask would give nan there). On nodes, a WHERE node."""
    if isinstance(x, Node) or isinstance(y, Node):
        return type(x if isinstance(x, Node) else y).apply(WHERE, condition, x, y)
    return (x if condition else y) if type(condition) is bool else np.where(condition, x, y)


def relu_gradient(g: Any, out: Any) -> Any:
    """relu's rule, as PyTorch's threshold_backward: g where relu's output is not 0 (positive or
    nan), else exactly 0 (even for an inf g). On nodes, a RELU_GRADIENT node."""
    if isinstance(g, Node) or isinstance(out, Node):
        return type(g if isinstance(g, Node) else out).apply(RELU_GRADIENT, g, out)
    return np.where(out != 0, g, 0.0) if isinstance(out, np.ndarray) else (g if out != 0 else 0.0)


def piecewise_constant(result: Any, x: Any) -> Any:
    """`result` (abs's contribution; clamp's in tensors.py); on nodes, x stays a parent (derivative 0)."""
    return type(x).apply(PIECEWISE_CONSTANT, result, x) if isinstance(x, Node) else result


# -- THE RULE TABLE: each primitive's forward, and its local derivatives, side by side -----------
def elementwise(name: str, forward: Fn, *derivatives: Fn, array_forward: Fn | None = None, domain: str = "any") -> Op:  # fmt: skip
    """An Op from one expression per input, `(g, out, *inputs)` -> that input's contribution
    (Tensor runs only those of the inputs that need a gradient)."""
    d, *other = derivatives  # one input, or two
    backward: Fn = lambda g, out, a: (d(g, out, a),)
    if other:
        backward = lambda g, out, a, b: (d(g, out, a, b), other[0](g, out, a, b))
    return Op(name, forward, backward, array_forward, domain, derivatives)


def _pow_exponent(g: Any, out: Any, a: Any, b: Any) -> Any:
    # d(a ** b)/db = a ** b * log(a), 0 where a == 0 and b >= 0 as PyTorch (g * 0: nan for inf g).
    if isinstance(b, Node) and not b.requires_grad:
        return None  # a constant exponent (x ** 3) on nodes: no log(a) node for a < 0
    return where((data_of(a) == 0) & (data_of(b) >= 0), g * 0.0, g * (out * log(a)))


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


# fmt: off
#                 name     forward (floats, arrays) local derivative for each input: g * d(out)/d(input)
ADD = elementwise("+",     lambda a, b: a + b,  lambda g, out, a, b: g,     lambda g, out, a, b: g)
SUB = elementwise("-",     lambda a, b: a - b,  lambda g, out, a, b: g,     lambda g, out, a, b: -g)
MUL = elementwise("*",     lambda a, b: a * b,  lambda g, out, a, b: g * b, lambda g, out, a, b: g * a)
# -a/b², formed as PyTorch does: b * b alone overflows long before a / b does.
DIV = elementwise("/",     lambda a, b: a / b,  lambda g, out, a, b: g / b, lambda g, out, a, b: -g * ((a / b) / b), domain="nonzero")
# b * a ** (b-1), exactly 0 where b == 0 (even at a == 0), as PyTorch.
POW = elementwise("**",    power,               lambda g, out, a, b: where(data_of(b) == 0, 0.0, g * (b * power(a, b - 1))), _pow_exponent, domain="positive")
NEG = elementwise("neg",   lambda a: -a,        lambda g, out, a: -g)
EXP = elementwise("exp",   exp,                 lambda g, out, a: g * out)
LOG = elementwise("log",   log,                 lambda g, out, a: g / a, domain="positive")
TANH = elementwise("tanh", tanh,                lambda g, out, a: g * (1 - out * out))
SIGMOID = elementwise("sigmoid", ieee.sigmoid, lambda g, out, a: g * out * (1 - out), array_forward=lambda a: 1 / (1 + np.exp(-a)))
# relu'(0) = 0 and relu(-0.0) = -0.0 as PyTorch (relu_gradient: nan passes g on).
RELU = elementwise("relu", lambda a: 0.0 if a < 0 else a, lambda g, out, a: relu_gradient(g, out), array_forward=lambda a: np.maximum(0.0, a), domain="nonzero")
SIN = elementwise("sin",   sin,                 lambda g, out, a: g * cos(a))
COS = elementwise("cos",   cos,                 lambda g, out, a: -g * sin(a))
ABS = elementwise("abs",   abs,                 lambda g, out, a: piecewise_constant(g * sign(a), a), domain="nonzero")  # abs'(0) = 0
SQRT = elementwise("sqrt", sqrt,                lambda g, out, a: g / (2 * out), domain="positive")
DOT = Op("dot",            _dot_forward,        _dot_rule)  # a neuron's weighted sum, one node
SUM = Op("sum",            lambda *xs: sum(xs), lambda g, out, *xs: (g,) * len(xs))
WHERE = Op("where",        lambda c, x, y: x if c else y, lambda g, out, c, x, y: (None, where(data_of(c) != 0, g, 0.0), where(data_of(c) != 0, 0.0, g)), np.where)
PIECEWISE_CONSTANT = Op("piecewise_constant", lambda r, x: r, lambda g, out, r, x: (g, 0.0 * g))
RELU_GRADIENT = Op("relu'", relu_gradient, lambda g, out, upstream, relu_out: (relu_gradient(g, relu_out), 0.0 * g))

RULES = {op.name: op for op in (ADD, SUB, MUL, DIV, POW, NEG, EXP, LOG, TANH, SIGMOID, RELU, SIN, COS, ABS, SQRT, DOT, SUM, WHERE, PIECEWISE_CONSTANT, RELU_GRADIENT)}
# fmt: on
ACTIVATIONS = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID}
UNARY_FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "abs", "sqrt")  # Value methods


# -- Value: a scalar node --------------------------------------------------------------------------
def _binary_operator(op: Op, swapped: bool = False) -> Callable[[Value, Operand], Value]:
    def method(self: Value, other: Operand) -> Value:
        if not isinstance(other, Value):
            if not guards.is_real(other):
                return NotImplemented
            other = _constant(other)
        return _record(op, (other, self) if swapped else (self, other))

    return method


_unary_method: Callable[[Op], Callable[[Value], Value]] = lambda op: lambda self: _record(op, (self,))
# Comparisons look at data and give plain bools; == and hash stay by identity (sets, dicts).
_operand = lambda x: x.data if isinstance(x, Value) else guards.to_float(x, "the other operand")
_comparison = lambda compare: lambda self, other: compare(self.data, _operand(other))
_requires_grad = operator.attrgetter("requires_grad")


class Value(Node):
    """A scalar that records how it was computed, so `backward()` can apply the chain rule.

    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> c = a * b + 1; c.backward()
    >>> a.grad, b.grad
    (-3.0, 2.0)

    Values require grad by default (as in micrograd). `grad` is a float, 0.0 until a backward
    and after `zero_grad()`: leaves add up passes, intermediates show the latest pass's.
    """

    __slots__ = ()
    __array_ufunc__ = None  # numpy defers to us: np.float64(2) * v is a Value

    def __init__(self, data: Any, label: str = "", requires_grad: bool = True):
        guards.check_label(label)
        self.data = data if type(data) is float else guards.to_float(data)
        self.grad, self.requires_grad, self.label = 0.0, bool(requires_grad), label
        self._parents, self._op, self._passes, self._origin, self._sum = (), None, 0, None, None
        self._where = user_frame() if modes.anomaly_threads[0] and modes._modes.anomaly else None
        self._born = guards.clock[0]

    @staticmethod
    def apply(op: Op, *inputs: Operand) -> Value:
        """`op` on Values (numbers become constants); also the way to define your own operation:

        >>> square = Op("square", lambda x: x * x, lambda g, out, x: (g * 2 * x,))
        >>> Value.apply(square, Value(3.0)).data
        9.0
        """
        guards.check_op_first(op, Op)
        return _record(op, _as_values(inputs))

    # fmt: off
    __add__, __radd__ = _binary_operator(ADD), _binary_operator(ADD, swapped=True)
    __sub__, __rsub__ = _binary_operator(SUB), _binary_operator(SUB, swapped=True)
    __mul__, __rmul__ = _binary_operator(MUL), _binary_operator(MUL, swapped=True)
    __truediv__, __rtruediv__ = _binary_operator(DIV), _binary_operator(DIV, swapped=True)
    __pow__, __rpow__ = _binary_operator(POW), _binary_operator(POW, swapped=True)
    __neg__, __abs__, abs, exp, log = _unary_method(NEG), _unary_method(ABS), _unary_method(ABS), _unary_method(EXP), _unary_method(LOG)
    tanh, sigmoid, relu, sin, cos, sqrt = _unary_method(TANH), _unary_method(SIGMOID), _unary_method(RELU), _unary_method(SIN), _unary_method(COS), _unary_method(SQRT)
    __lt__, __le__, __gt__, __ge__ = map(_comparison, (operator.lt, operator.le, operator.gt, operator.ge))
    # fmt: on

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:  # fmt: skip
        """The chain rule back to every Value this one depends on: leaves add to `.grad`, others show
        it. PyTorch's options: the graph is always kept; for `create_graph=True`, use grad()."""
        guards.check_backward_options(create_graph)
        backward(self, gradient)  # the function `backward` at the end of this file

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

    __float__, __pos__ = item, lambda self: self  # float(v); +v is v
    __iadd__, __isub__, __imul__, __itruediv__ = map(guards.in_place, "+-*/")  # in place under no_grad()

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    _seed = lambda self: 1.0
    _raw = lambda self, value: guards.to_float(data_of(value), "gradient")
    _constant_like = lambda self, value: value if isinstance(value, Value) else _constant(value)

    def _grad_after(self, grad: float, total: float | None) -> float:
        if self._op is not None:
            return 0.0 if total is None else total
        return grad if total is None else grad + total


def _record(op: Op, parents: tuple[Value, ...]) -> Value:
    """The Value `op` makes of `parents`: its data by the forward, its graph (unless no_grad)."""
    datas = [p.data for p in parents]
    try:
        data = op.forward(*datas)
    except ieee.ERRORS:  # 1/0, an overflow: computed again the IEEE way (inf, nan)
        data = ieee.again(op.forward, *datas)
    out = Value(data if type(data) is float else guards.forward_result_to_float(op, data))
    if modes._modes.grad_enabled:  # record the graph (see modes.no_grad)
        out._op, out._parents, out.requires_grad = op, parents, any(map(_requires_grad, parents))
    else:
        out.requires_grad, out._origin = False, "no_grad"
    if out._where is not None:
        guards.check_forward(op, parents, out.data, out._where)
    return out


def _as_values(xs: Sequence[Operand]) -> tuple[Value, ...]:  # plain numbers become constants
    for x in xs:
        if not isinstance(x, Value):
            return tuple(x if isinstance(x, Value) else _constant(x) for x in xs)
    return tuple(xs)  # type: ignore[arg-type]


def _constant(x: Any) -> Value:  # a plain number used in an operation: a node without gradient
    v = Value(x if type(x) is float else guards.operand_to_float(x), requires_grad=False)
    v._origin, v._where = "constant", None
    return v


def dot(weights: Sequence[Value], inputs: Sequence[Operand], bias: Operand = 0.0, activation: str = "linear") -> Value:  # fmt: skip
    """`bias + sum(w * x)`, one DOT node, then `activation` unless "linear" (fast.py fuses the two)."""
    return neurons([weights], [bias], inputs, activation)[0]


def neurons(weight_rows: Sequence[Sequence[Value]], biases: Sequence[Operand], inputs: Sequence[Operand], activation: str = "linear") -> list[Value]:  # fmt: skip
    """A layer: `activation(dot(w, inputs, b))` for each row w and bias b (fast.py fuses each)."""
    guards.check_layer(weight_rows, biases, inputs, activation, (*ACTIVATIONS, "linear"))
    inputs, biases = _as_values(inputs), _as_values(biases)  # converted once for the layer
    made = [_record(DOT, (*_as_values(weights), *inputs, bias)) for weights, bias in zip(weight_rows, biases)]
    return made if activation == "linear" else [_record(ACTIVATIONS[activation], (out,)) for out in made]


def value_sum(terms: Sequence[Operand]) -> Value:
    """The sum of many Values as one node."""
    guards.check_terms(terms)
    return Value.apply(SUM, *terms)


# -- the walk ------------------------------------------------------------------------------------
def topological_order(*roots: Node) -> list[Node]:
    """Every node the roots depend on that requires grad, each before its parents: depth first,
    with a stack of its own rather than recursion (a million-node chain is fine)."""
    order: list[Node] = []
    visited: set[Node] = set()
    stack: list[Node | None] = list(reversed(roots))
    while stack:
        node = stack.pop()
        if node is None:  # the marker: the node below it has all its parents done
            order.append(stack.pop())  # type: ignore[arg-type]
        elif node not in visited:
            visited.add(node)
            stack.extend((node, None))  # the node, and above it a marker
            for parent in reversed(node._parents):  # the first parent on top: visited first
                if parent.requires_grad and parent not in visited:
                    stack.append(parent)
    return order[::-1]


def backward_pass(roots: Sequence[Node], seeds: Sequence[Any], totals: dict[Node, Any], create_graph: bool = False, hooks_of: Sequence[Node] | None = None) -> Iterator[tuple[Node, Any, Sequence[Any]]]:  # fmt: skip
    """The backward pass, one step per node whose rule runs, in topological order (its gradient is
    complete then, and its hooks may replace it: register_hook; only those of `hooks_of` if given,
    none for `()`). A step `(node, g, contributions)`: node received g (dL/dnode), its rule sent
    contributions[i] to node.parents[i] (None: nothing), added to that parent's sum in `totals`
    (give it empty): every node of the walk, in order, to its sum so far (None: none)."""
    order = topological_order(*roots)
    hooked = hooks.hooked(order if hooks_of is None else hooks_of)  # mostly none
    totals.update(dict.fromkeys(order))
    for root, seed in zip(roots, seeds):
        totals[root] = seed if totals[root] is None else totals[root] + seed
    now = guards.clock[0]  # the count of in-place changes so far
    for node in order:
        g = totals[node]
        if hooked and node in hooked and g is not None:
            g = totals[node] = hooks.run_hooks(node, g, create_graph, hooked)
        if node._op is None or g is None:  # a leaf, or only rules' None reached it
            continue
        if node._born != now:  # something changed in place since the node was made
            guards.check_inputs_unchanged(node)
        contributions = local_gradients(node, g, create_graph)
        for parent, c in zip(node._parents, contributions):
            if c is not None and parent.requires_grad:
                previous = totals[parent]
                totals[parent] = c if previous is None else previous + c
        yield node, g, contributions


def local_gradients(node: Node, g: Any, create_graph: bool = False) -> Sequence[Any]:
    """`node`'s rule applied to its upstream gradient g: one contribution per parent."""
    rule, parents = node._op.backward, node._parents  # type: ignore[union-attr]
    out, inputs = (node, parents) if create_graph else (node.data, [p.data for p in parents])
    try:  # on nodes under create_graph (recording the rule's graph), else on their data
        contributions = rule(g, out, *inputs)
    except ieee.ERRORS:  # 1/0, an overflow: computed again the IEEE way (inf, nan)
        contributions = ieee.again(rule, g, out, *inputs)
    if not isinstance(contributions, (tuple, list)) or len(contributions) != len(parents):
        guards.refuse_contributions(node, contributions)
    if modes.anomaly_threads[0] and modes._modes.anomaly:
        guards.check_backward(node, g, contributions)
    return contributions  # type: ignore[no-any-return]


def backward(root: Node | Sequence[Node], gradient: Any = None, only: Sequence[Node] | None = None) -> None:
    """Backpropagate from `root` (or a list of roots, one gradient each): walk, then store each total."""
    roots, gradients = ([root], [gradient]) if isinstance(root, Node) else (root, gradient)
    guards.check_roots(roots)
    seeds = [r._seed() if g is None else r._raw(g) for r, g in zip(roots, gradients, strict=True)]
    totals: dict[Node, Any] = {}
    with no_grad(), np.errstate(all="ignore"):  # IEEE sums (inf + -inf is nan), no warnings
        for _step in backward_pass(roots, seeds, totals, hooks_of=only):
            pass
    guards.last_pass.root = weakref.ref(roots[0])  # for explain_grad
    for node in totals if only is None else only:  # `only`: some of the nodes walked (autograd.backward)
        node._store_grad(totals[node])
