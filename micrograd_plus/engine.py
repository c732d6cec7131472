"""Value: a scalar node, and its operations with their local derivatives.

Each operation states its forward and its local derivative side by side. A derivative
is one expression that works on floats (the ordinary backward pass) and on Values
(`grad(..., create_graph=True)`), using operators and the helpers `exp`, `log`, `sin`,
`cos`, `sign` and `power` below, which dispatch on the type.

Forward follows IEEE float semantics like PyTorch float64: `log(0) = -inf`,
`1/0 = inf`, `(-8) ** (1/3) = nan`, never an exception and never a complex number.
Python floats are fast but raise on a few of those cases, so an operation that raises
is computed again with numpy float64 scalars, which follow IEEE (see `_compute`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any, Union

import numpy as np

from . import autograd, modes
from .autograd import NOTHING, Node, Op
from .modes import AnomalyError, anomaly_threads, no_grad_threads, user_frame

Number = Union[int, float]
Operand = Union["Value", int, float]

_ARITHMETIC_ERRORS = (ZeroDivisionError, OverflowError, ValueError)


def _ieee(float_fn: Callable[[float], float], numpy_fn: Callable[[Any], Any]) -> Callable[[float], float]:
    """A float function with IEEE results: math's speed, numpy's answer where math raises."""

    def fn(x: float) -> float:
        try:
            return float_fn(x)
        except _ARITHMETIC_ERRORS:
            with np.errstate(all="ignore"):
                return float(numpy_fn(np.float64(x)))

    fn.__name__ = float_fn.__name__
    return fn


_exp = _ieee(math.exp, np.exp)
_log = _ieee(math.log, np.log)
_sin = _ieee(math.sin, np.sin)
_cos = _ieee(math.cos, np.cos)
_sqrt = _ieee(math.sqrt, np.sqrt)


def _float_power(a: float, b: float) -> float:
    """a ** b in IEEE semantics: (-8) ** (1/3) is nan, 0 ** -1 is inf, never complex."""
    try:
        result = a**b
        if type(result) is float:
            return result
    except _ARITHMETIC_ERRORS:
        pass
    with np.errstate(all="ignore"):
        return float(np.power(np.float64(a), np.float64(b)))


def _float_sigmoid(x: float) -> float:
    # Two branches so that exp never overflows: sigmoid(-800) is 0.0, not an error.
    if x >= 0:
        return 1.0 / (1.0 + _exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _float_relu(x: float) -> float:
    # `x > 0` is False for nan; nan must pass through, as in PyTorch.
    return x if x > 0 or x != x else 0.0


# Helpers for derivative rules: on a Value they record the graph, on a float they compute.


def exp(x: Any) -> Any:
    return x.exp() if isinstance(x, Value) else _exp(x)


def log(x: Any) -> Any:
    return x.log() if isinstance(x, Value) else _log(x)


def sin(x: Any) -> Any:
    return x.sin() if isinstance(x, Value) else _sin(x)


def cos(x: Any) -> Any:
    return x.cos() if isinstance(x, Value) else _cos(x)


def power(a: Any, b: Any) -> Any:
    if isinstance(a, Value) or isinstance(b, Value):
        return a**b
    return _float_power(a, b)


def sign(x: Any) -> float:
    """-1.0, 0.0 or 1.0 (a constant: its derivative is zero almost everywhere)."""
    v = float(x)
    return 1.0 if v > 0 else -1.0 if v < 0 else 0.0


def _tied(result: Any, x: Any) -> Any:
    """`result`, which depends on x only through a piecewise-constant derivative (relu', sign):
    under create_graph (x a Value) it is tied to x by a node of derivative 0, so that a second
    derivative is 0, as in PyTorch, rather than an error that the result needs no gradient."""
    return Value.apply(TIE, result, x) if isinstance(x, Value) else result


def _zero_for(g: Any) -> Any:
    """The contribution of a rule that PyTorch makes exactly 0 here, whatever g is (relu
    where it is flat, x ** 0): 0.0, rather than g * 0.0, which is nan where g is inf or nan.
    Under create_graph (g a Value) it is a node of data 0.0, tied to g (see TIE)."""
    return Value.apply(TIE, 0.0, g) if isinstance(g, Value) else 0.0


def _pow_base_rule(g: Any, out: Any, a: Any, b: Any) -> Any:
    # d(a**b)/da = b * a**(b-1); PyTorch makes it exactly 0 where b == 0 (even at a == 0), and
    # multiplies g last, as here (g * b first overflows where PyTorch does not).
    return _zero_for(g) if float(b) == 0.0 else g * (b * power(a, b - 1))


def _pow_exponent_rule(g: Any, out: Any, a: Any, b: Any) -> Any:
    # d(a**b)/db = a**b * log(a); PyTorch makes it 0 where a == 0 and b >= 0, and multiplies
    # g by it (so an inf g gives nan, unlike relu and the base's rule).
    if isinstance(b, Value) and not b.requires_grad:
        return None  # a constant exponent (x ** 3) under create_graph: no log(a) node for a < 0
    return g * 0.0 if float(a) == 0.0 and float(b) >= 0 else g * (out * log(a))


def _add_accumulate(g: float, node: Node) -> None:
    # `+`'s rule and the walk's summing in one step (see Op.accumulate): `+` and `*` are the
    # nodes of a loss written with operators (a penalty `sum(p * p for p in params)`).
    a, b = node._parents
    if a.requires_grad:
        previous = a._gsum
        a._gsum = g if previous is None else previous + g
    if b.requires_grad:
        previous = b._gsum
        b._gsum = g if previous is None else previous + g


def _mul_accumulate(g: float, node: Node) -> None:
    # `*`'s rule and the walk's summing in one step, as `_add_accumulate`.
    a, b = node._parents
    if a.requires_grad:
        c = g * b.data
        previous = a._gsum
        a._gsum = c if previous is None else previous + c
    if b.requires_grad:
        c = g * a.data
        previous = b._gsum
        b._gsum = c if previous is None else previous + c


ADD = Op("+", lambda a, b: a + b, lambda g, out, a, b: (g, g), _add_accumulate)
SUB = Op("-", lambda a, b: a - b, lambda g, out, a, b: (g, -g))
MUL = Op("*", lambda a, b: a * b, lambda g, out, a, b: (g * b, g * a), _mul_accumulate)
# d(a/b)/db = -a/b², computed as PyTorch does, -g * ((a / b) / b): b * b alone over- or underflows
# long before the result does (a = b = 1e200).
DIV = Op("/", lambda a, b: a / b, lambda g, out, a, b: (g / b, -g * ((a / b) / b)))
POW = Op(
    "**",
    _float_power,
    lambda g, out, a, b: (_pow_base_rule(g, out, a, b), _pow_exponent_rule(g, out, a, b)),
)
NEG = Op("neg", lambda a: -a, lambda g, out, a: (-g,))
EXP = Op("exp", _exp, lambda g, out, a: (g * out,))
LOG = Op("log", _log, lambda g, out, a: (g / a,))
TANH = Op("tanh", math.tanh, lambda g, out, a: (g * (1 - out * out),))
SIGMOID = Op("sigmoid", _float_sigmoid, lambda g, out, a: (g * out * (1 - out),))


def _relu_rule(g: Any, out: Any, a: Any) -> tuple[Any]:
    # relu'(0) = 0 as in PyTorch, and where relu is flat the contribution is 0.0 even for an
    # inf or nan g (see _zero_for); a nan output passes the gradient through, as in PyTorch.
    return (_tied(_zero_for(g) if out <= 0 else g * 1.0, a),)


def _relu_accumulate(g: float, node: Node) -> None:
    # `_relu_rule` and the walk's summing in one step (see Op.accumulate): relu is the
    # activation of most networks here.
    parent = node._parents[0]
    if parent.requires_grad:
        c = 0.0 if node.data <= 0 else g
        previous = parent._gsum
        parent._gsum = c if previous is None else previous + c


RELU = Op("relu", _float_relu, _relu_rule, _relu_accumulate)
SIN = Op("sin", _sin, lambda g, out, a: (g * cos(a),))
COS = Op("cos", _cos, lambda g, out, a: (-g * sin(a),))
ABS = Op("abs", abs, lambda g, out, a: (_tied(g * sign(a), a),))  # abs'(0) = 0 as in PyTorch
TIE = Op("tie", lambda result, x: result, lambda g, out, result, x: (g, g * 0.0))  # see _tied
SQRT = Op("sqrt", _sqrt, lambda g, out, a: (g / (2 * out),))


def _dot_forward(*datas: float) -> float:
    """bias + sum of w_i * x_i, with the inputs laid out as (w_1..w_n, x_1..x_n, bias)."""
    n = (len(datas) - 1) // 2
    total = datas[-1]
    for w, x in zip(datas[:n], datas[n:-1]):
        total += w * x
    return total


def _dot_backward(g: Any, out: Any, *inputs: Any) -> list[Any]:
    # d/dw_i = x_i, d/dx_i = w_i, d/dbias = 1: the inputs with their halves swapped, times g
    # (one list made in one pass: this rule runs once per neuron per sample).
    n = (len(inputs) - 1) // 2
    contributions = [g * v for v in inputs[n:-1] + inputs[:n]]
    contributions.append(g)
    return contributions


def _dot_accumulate(g: float, node: Node) -> None:
    # `_dot_backward` and the walk's summing in one loop (see Op.accumulate): the same
    # products added in the same order, without the lists of data and contributions.
    parents = node._parents
    n = (len(parents) - 1) // 2
    for parent, other in zip(parents, parents[n:-1] + parents[:n]):
        if parent.requires_grad:
            c = g * other.data
            previous = parent._gsum
            parent._gsum = c if previous is None else previous + c
    bias = parents[-1]
    if bias.requires_grad:
        previous = bias._gsum
        bias._gsum = g if previous is None else previous + g


# A neuron's weighted sum as one node with 2n+1 inputs instead of 2n binary nodes:
# fewer nodes to create, order and walk, which is most of the speed of training.
DOT = Op("dot", _dot_forward, _dot_backward, _dot_accumulate)


def _neuron_op(activation: Op) -> Op:
    """`activation(dot(...))` as one node: a neuron, its inputs laid out as DOT's.

    Speed: the activation's own node was 40% of the nodes of a training step on Values, and
    the dearest part of it. The rule is the activation's rule followed by DOT's, so the
    gradients are those of the two nodes, bit for bit, but for the sign of a zero gradient
    (see `_sends_nothing`). The activation's rule is given the output in place of its input,
    which none of relu, tanh and sigmoid reads (relu ties its result to it under
    create_graph, see `_tied`)."""

    def forward(*datas: float) -> float:
        return activation.forward(_dot_forward(*datas))

    def backward(g: Any, out: Any, *inputs: Any) -> list[Any]:
        g = activation.backward(g, out, out)[0]
        if _sends_nothing(g, inputs):
            return [NOTHING] * len(inputs)
        return _dot_backward(g, out, *inputs)

    def accumulate(g: float, node: Node) -> None:
        g = activation.backward(g, node.data, node.data)[0]
        if not _sends_nothing(g, map(_data_of, node._parents)):
            _dot_accumulate(g, node)

    return Op(f"{activation.name}(dot)", forward, backward, accumulate)


_data_of = attrgetter("data")


def _sends_nothing(g: Any, datas: Iterable[Any]) -> bool:
    """Whether a neuron whose weighted sum has gradient `g` sends no gradient at all.

    It does when `g` is exactly zero (an inactive relu, or a sample the loss no longer
    counts) and every input is finite: each contribution would then be 0 * x = +-0.0, which
    changes no sum it is added to, except the sign of a zero. Not sending them skips half
    the neurons of a relu network, and whole samples, in a training step. The walk still
    runs the rules of the inputs that get nothing, with a gradient of 0.0 (see
    autograd._run_pass), so a nan from 0 * inf further back is not lost. Where an input is
    inf or nan, the zeros are sent, since 0 * inf is nan, as in PyTorch. (The inputs are
    checked by their sum, which an inf or nan among them makes inf or nan; a sum that
    overflows is looked at input by input.) Under create_graph `g` is a Value (never
    `== 0.0`), and every contribution is sent."""
    if not g == 0.0:
        return False
    datas = tuple(datas)
    return math.isfinite(sum(datas)) or all(map(math.isfinite, datas))


def _relu_dot_of_finite_sum_accumulate(g: float, node: Node) -> None:
    # The accumulate of a relu neuron whose weighted sum was finite when it was made, so
    # every input was finite (an inf or nan input makes the sum inf or nan): no need to check
    # them again, which was an eighth of a training step. (Inputs whose data is changed
    # between the forward and the backward pass get a meaningless gradient in any case.)
    if not node.data <= 0 and g != 0.0:  # (an inactive one sends nothing, nor one whose g is 0)
        _dot_accumulate(g, node)


ACTIVATIONS = {"relu": RELU, "tanh": TANH, "sigmoid": SIGMOID}
# The neuron of each activation, by name (a "linear" neuron is DOT itself).
NEURON_OPS = {
    "relu": _neuron_op(RELU),
    "tanh": _neuron_op(TANH),
    "sigmoid": _neuron_op(SIGMOID),
    "linear": DOT,
}
# `dots` makes a relu neuron whose weighted sum came out finite with this twin of
# NEURON_OPS["relu"]: the same name and rules, an accumulate that needs no check.
_RELU_DOT_OF_FINITE_SUM = Op(
    "relu(dot)", NEURON_OPS["relu"].forward, NEURON_OPS["relu"].backward, _relu_dot_of_finite_sum_accumulate
)


def _sum_backward(g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
    return (g,) * len(inputs)


def _sum_accumulate(g: float, node: Node) -> None:
    # `_sum_backward` and the walk's summing in one loop (see Op.accumulate).
    for parent in node._parents:
        if parent.requires_grad:
            previous = parent._gsum
            parent._gsum = g if previous is None else previous + g


SUM = Op("sum", lambda *datas: sum(datas), _sum_backward, _sum_accumulate)


def _is_real(x: Any) -> bool:
    """A real number. (Speed: the builtin types first; numbers.Real alone is an ABC check,
    slow enough to show in a training step that adds ints to Values.)"""
    return isinstance(x, (float, int)) or isinstance(x, numbers.Real)


def _to_float(data: Any, what: str = "Value data") -> float:
    if _is_real(data):
        try:
            return float(data)
        except OverflowError:  # an int beyond 1.8e308: Python refuses to round it to inf
            raise ValueError(
                f"{what} {str(data)[:20]}... is too large for a float (the largest is about 1.8e308)"
            ) from None
    if isinstance(data, np.ndarray) and data.size == 1 and np.issubdtype(data.dtype, np.number):
        return float(data.reshape(()))
    raise TypeError(
        f"{what} must be a real number (int or float), got {type(data).__name__}: {data!r:.60}. "
        "Convert it with float(...) first, or use Tensor for arrays."
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
        self.data = data if type(data) is float else _to_float(data)
        self.grad = 0.0
        self.requires_grad = bool(requires_grad)
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.label = label
        self._parents = ()
        self._op = None
        self._gsum = None
        self._passes = 0
        self._origin = None
        self._where = user_frame() if modes._modes.anomaly else None

    # -- making results -------------------------------------------------------------

    @staticmethod
    def apply(op: Op, *inputs: Operand) -> Value:
        """Apply an operation to Values (plain numbers become constants).

        This is also the way to define a custom operation:

        >>> square = Op("square", lambda x: x * x, lambda g, out, x: (g * 2 * x,))
        >>> Value.apply(square, Value(3.0)).data
        9.0
        """
        if not isinstance(op, Op):
            raise TypeError(f"apply() takes an Op first, got {type(op).__name__}: {op!r:.60}")
        return _result(op, _as_values(inputs))

    def _seed(self) -> float:
        return 1.0

    def _zero_total(self) -> float:
        return 0.0

    def _raw(self, value: Any) -> float:
        return _to_float(value, "gradient")

    def _constant_like(self, value: Any) -> Value:
        return value if isinstance(value, Value) else _constant(value)

    def _check_finite(self, data: Any) -> bool:
        return math.isfinite(data)

    def _backward_ieee(self, op: Op, g: Any, datas: list[Any]) -> tuple[Any, ...]:
        # numpy float64 scalars give IEEE results (inf, nan) where Python floats raise.
        with np.errstate(all="ignore"):
            contributions = op.backward(np.float64(g), np.float64(self.data), *[np.float64(d) for d in datas])
        return tuple(None if c is None else float(c) for c in contributions)

    @staticmethod
    def _store_grads(order: list[Node]) -> None:
        # Speed: `_store_grad` below, inlined for every node of a pass (a Value graph holds
        # only Values).
        for node in order:
            total = node._gsum
            node._gsum = None
            if node._op is None:
                if total is not None:
                    node.grad += total
                node._passes += 1
            else:
                node.grad = 0.0 if total is None else total

    def _store_grad(self, total: float | None) -> None:
        # None: the pass reached this node but sent it nothing (see engine._sends_nothing), so
        # its gradient is zero: a leaf adds nothing (but counts the pass), an intermediate shows 0.
        if self._op is None:
            if total is not None:
                self.grad += total
            self._passes += 1
        else:
            self.grad = 0.0 if total is None else total

    # -- the public surface ----------------------------------------------------------

    def backward(self, gradient: Any = None) -> None:
        """Apply the chain rule from this Value to every Value it depends on.

        Leaves add this pass's gradient to `.grad` (so calling it twice doubles it);
        intermediate Values show this pass's gradient. The graph is kept, so calling
        it again is allowed.
        """
        autograd.backward(self, gradient)

    def zero_grad(self) -> None:
        """Reset `.grad` to 0.0 (and the count of accumulated backward passes)."""
        self.grad = 0.0
        self._passes = 0

    def detach(self) -> Value:
        """A new leaf with the same data, cut from the graph (it does not require grad)."""
        v = Value(self.data, self.label, requires_grad=False)
        v._origin = "detach"
        return v

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __add__(self, other: Operand) -> Value:
        return _binary(ADD, self, other)

    def __radd__(self, other: Operand) -> Value:
        return _binary(ADD, other, self)

    def __sub__(self, other: Operand) -> Value:
        return _binary(SUB, self, other)

    def __rsub__(self, other: Operand) -> Value:
        return _binary(SUB, other, self)

    def __mul__(self, other: Operand) -> Value:
        return _binary(MUL, self, other)

    def __rmul__(self, other: Operand) -> Value:
        return _binary(MUL, other, self)

    def __truediv__(self, other: Operand) -> Value:
        return _binary(DIV, self, other)

    def __rtruediv__(self, other: Operand) -> Value:
        return _binary(DIV, other, self)

    def __pow__(self, other: Operand) -> Value:
        return _binary(POW, self, other)

    def __rpow__(self, other: Operand) -> Value:
        return _binary(POW, other, self)

    def __neg__(self) -> Value:
        return _unary(NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(ABS, self)

    def exp(self) -> Value:
        return _unary(EXP, self)

    def log(self) -> Value:
        return _unary(LOG, self)

    def tanh(self) -> Value:
        return _unary(TANH, self)

    def sigmoid(self) -> Value:
        return _unary(SIGMOID, self)

    def relu(self) -> Value:
        return _unary(RELU, self)

    def sin(self) -> Value:
        return _unary(SIN, self)

    def cos(self) -> Value:
        return _unary(COS, self)

    def abs(self) -> Value:
        return _unary(ABS, self)

    def sqrt(self) -> Value:
        return _unary(SQRT, self)

    # Comparisons look at data and return plain bools; == and hash stay by identity,
    # so Values can live in sets and dicts.
    def __lt__(self, other: Operand) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data(other)


def _data(x: Operand) -> float:
    if isinstance(x, Value):
        return x.data
    return _to_float(x, "the other operand")


def _constant(x: Any) -> Value:
    """A plain number used in an operation: a node that collects no gradient."""
    if type(x) is not float:
        if not _is_real(x):
            raise TypeError(
                f"unsupported operand: Value and {type(x).__name__} ({x!r:.60}); use a number or a Value"
            )
        x = _to_float(x, "the other operand")
    v = Value.__new__(Value)
    v.data = x
    v.grad = 0.0
    v.requires_grad = False
    v.label = ""
    v._parents = ()
    v._op = None
    v._gsum = None
    v._passes = 0
    v._origin = "constant"
    v._where = None
    return v


def _binary(op: Op, a: Operand, b: Operand) -> Value:
    if not isinstance(a, Value):
        if not _is_real(a):
            return NotImplemented
        a = _constant(a)
    if not isinstance(b, Value):
        if not _is_real(b):
            return NotImplemented
        b = _constant(b)
    try:  # the forward called directly, without `_compute`'s list: this is the hot path
        data = op.forward(a.data, b.data)
    except _ARITHMETIC_ERRORS:
        data = _compute(op, [a.data, b.data])
    return _node(op, (a, b), data)


def _unary(op: Op, a: Value) -> Value:
    try:  # as in _binary
        data = op.forward(a.data)
    except _ARITHMETIC_ERRORS:
        data = _compute(op, [a.data])
    return _node(op, (a,), data)


def _compute(op: Op, datas: Sequence[float]) -> float:
    """Run a forward on floats; where Python raises (1/0, overflow), numpy float64
    gives the IEEE answer instead."""
    try:
        return op.forward(*datas)
    except _ARITHMETIC_ERRORS:
        with np.errstate(all="ignore"):
            return float(op.forward(*[np.float64(d) for d in datas]))


def _as_values(inputs: tuple[Any, ...]) -> tuple[Value, ...]:
    """`inputs` with plain numbers made constants (the tuple itself when all are Values)."""
    for x in inputs:
        if not isinstance(x, Value):
            return tuple(x if isinstance(x, Value) else _constant(x) for x in inputs)
    return inputs


def _result(op: Op, parents: tuple[Value, ...]) -> Value:
    """The output node of a custom `op` applied to `parents` (its forward result checked)."""
    data = _compute(op, [p.data for p in parents])
    if type(data) is not float:
        data = _to_float(data, f"the forward of Op {op.name!r} returned a value that")
    return _node(op, parents, data)


def _node(op: Op, parents: tuple[Value, ...], data: float) -> Value:
    """The output node of `op` on `parents`, holding its computed `data`.

    Every result of every forward pass is made here, so the slots are filled directly
    rather than through `__init__` and its argument checks."""
    out = Value.__new__(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._gsum = None
    out._passes = 0
    out._where = None
    if not no_grad_threads[0] or modes._modes.grad_enabled:  # the plain global first: see autograd
        out._parents = parents
        out._op = op
        out._origin = None
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                break
        else:
            out.requires_grad = False
    else:
        out._parents = ()
        out._op = None
        out._origin = "no_grad"
        out.requires_grad = False
    if anomaly_threads[0] and modes._modes.anomaly:
        out._where = user_frame()
        _check_forward(op, parents, data, out._where)
    return out


def _check_forward(op: Op, parents: Sequence[Value], data: float, where: str) -> None:
    if not math.isfinite(data) and all(math.isfinite(p.data) for p in parents):
        inputs = autograd.format_datas([p.data for p in parents])
        raise AnomalyError(
            f"'{op.name}' turned finite inputs ({inputs}) into {data!r} at {where}. "
            "Check that line for a division by zero, a log of 0 or an overflow."
        )


def dot(
    weights: Sequence[Value], inputs: Sequence[Operand], bias: Operand = 0.0, activation: str = "linear"
) -> Value:
    """`bias + sum(w * x)` as one node (a neuron's weighted sum), for speed; with an
    `activation` ("relu", "tanh" or "sigmoid"), that function of it, still one node."""
    if len(weights) != len(inputs):
        raise ValueError(f"dot(): {len(weights)} weights but {len(inputs)} inputs; give one weight per input")
    return dots([weights], [bias], inputs, activation)[0]


def dots(
    weight_rows: Sequence[Sequence[Value]],
    biases: Sequence[Operand],
    inputs: Sequence[Operand],
    activation: str = "linear",
) -> list[Value]:
    """`[dot(w, inputs, b, activation) for w, b in zip(weight_rows, biases)]`: the neurons
    of a layer. The same nodes, made faster: the neurons share their inputs, so the inputs
    are checked and their data read once for all rows, not once per neuron."""
    if len(weight_rows) != len(biases):
        raise ValueError(
            f"dots(): {len(weight_rows)} rows of weights but {len(biases)} biases; give one bias per row"
        )
    op = NEURON_OPS.get(activation)
    if op is None:
        raise ValueError(f"activation must be one of {tuple(NEURON_OPS)}, got {activation!r}")
    activate = ACTIVATIONS[activation].forward if activation in ACTIVATIONS else None
    relu = activate is _float_relu
    op_of_finite_sum = _RELU_DOT_OF_FINITE_SUM if relu else op
    xs = _as_values(tuple(inputs))
    xdatas = [x.data for x in xs]
    n_inputs = len(xs)
    any_input_requires_grad = any(x.requires_grad for x in xs)
    # Speed: while no thread has switched grad or anomaly mode (the usual case), the nodes are
    # made here rather than by `_node`, which would read the modes again for every neuron.
    plain = not no_grad_threads[0] and not anomaly_threads[0]
    new = Value.__new__
    results = []
    for weights, bias in zip(weight_rows, biases):
        if len(weights) != n_inputs:
            raise ValueError(
                f"dot(): {len(weights)} weights but {n_inputs} inputs; give one weight per input"
            )
        if not isinstance(bias, Value):
            bias = _constant(bias)
        total = bias.data  # DOT's forward, written out to read each input's data once per layer
        for w, x in zip(weights, xdatas):
            if type(w) is not Value:  # (checked here rather than in a loop of its own: speed)
                weights = _as_values(tuple(weights))
                total = _dot_forward(*[w.data for w in weights], *xdatas, bias.data)
                break
            total += w.data * x
        if relu:  # (_float_relu, without the call)
            data = total if total > 0 or total != total else 0.0
        else:
            data = total if activate is None else activate(total)
        parents = (*weights, *xs, bias)
        node_op = op_of_finite_sum if total - total == 0.0 else op  # (x - x is 0.0 unless x is inf or nan)
        if not plain:
            if anomaly_threads[0] and modes._modes.anomaly:
                # the weighted sum itself may overflow where the activation's result is finite
                _check_forward(DOT, parents, total, user_frame())
            results.append(_node(node_op, parents, data))
            continue
        out = new(Value)  # what `_node` makes while recording, without anomaly mode
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._gsum = None
        out._passes = 0
        out._where = None
        out._parents = parents
        out._op = node_op
        out._origin = None
        out.requires_grad = (
            any_input_requires_grad or bias.requires_grad or any(w.requires_grad for w in weights)
        )
        results.append(out)
    return results


def value_sum(terms: Sequence[Operand]) -> Value:
    """The sum of many Values as one node."""
    if len(terms) == 0:
        raise ValueError("value_sum() of an empty sequence: give at least one term")
    return Value.apply(SUM, *terms)
