"""The fast engine: the rules of engine.py, run faster on Values and Tensors. Same numbers, bit
for bit (tests/engine/test_fast_equals_reference.py), but for the sign of a zero gradient shown
by an intermediate Value (see `_neuron_kernel`). `set_engine("reference" | "fast")` switches.

What it does differently, each piece measured to pay on micrograd's demo step
(benchmarks/run.py):
- a neuron `activation(dot(w, x, b))` is one node (`relu(dot)`, ...) instead of two, and a
  layer's neurons are made in one loop that reads the shared inputs once (`neurons`);
- the walk adds a node's contributions straight into its parents' running sums (`KERNELS`),
  without building the lists of input data and of contributions;
- a neuron whose gradient is exactly 0 sends nothing (every contribution would be +-0.0);
- the depth-first order is found without allocating per node (`_order`), and the running
  sums live in the nodes (`Node._sum`) rather than in a dict;
- Tensors walk the same way (`tensor_backward`): each node's rule, the very one engine.py's
  walk calls, is called straight, with no generator of steps, no dict of totals and no list
  of running sums per step; relu's rule on arrays is computed with bit operations
  (`FASTER_RULES`: ten times np.where's speed on a 128 x 256 layer).
Anomaly mode, `grad()`, gradient hooks and the viewers (backward_steps, draw_dot's steps, the
player) always use engine.py's walk, and so does a backward() while a fast walk is under way
(one at a time: their running sums live in the nodes).
"""

from __future__ import annotations

import math
import operator
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine, guards, hooks, ieee, modes
from .engine import ACTIVATIONS, DOT, RELU, Node, Op, Value, _dot_forward, _dot_rule
from .modes import anomaly_threads, no_grad, no_grad_threads, user_frame
from .tensors import Tensor, _on_arrays, quiet

Kernel = Callable[[Any, Node], Any]  # True: a neuron that sent nothing (see `_value_walk`)


def _add_to(parent: Node, c: Any) -> None:
    previous = parent._sum
    parent._sum = c if previous is None else previous + c


# -- kernels: a rule and the walk's summing in one step (the same sums, in the same order) --------


def _add_kernel(g: float, node: Node) -> None:
    a, b = node._parents
    if a.requires_grad:
        previous = a._sum
        a._sum = g if previous is None else previous + g
    if b.requires_grad:
        previous = b._sum
        b._sum = g if previous is None else previous + g


def _mul_kernel(g: float, node: Node) -> None:
    a, b = node._parents
    if a.requires_grad:
        c = g * b.data
        previous = a._sum
        a._sum = c if previous is None else previous + c
    if b.requires_grad:
        c = g * a.data
        previous = b._sum
        b._sum = c if previous is None else previous + c


def _relu_kernel(g: float, node: Node) -> None:
    parent = node._parents[0]
    if parent.requires_grad:
        c = g if node.data != 0 else 0.0
        previous = parent._sum
        parent._sum = c if previous is None else previous + c


def _dot_kernel(g: float, node: Node) -> None:
    parents = node._parents
    n = (len(parents) - 1) // 2
    for parent, other in zip(parents, parents[n:-1] + parents[:n]):
        if parent.requires_grad:
            c = g * other.data
            previous = parent._sum
            parent._sum = c if previous is None else previous + c
    bias = parents[-1]
    if bias.requires_grad:
        previous = bias._sum
        bias._sum = g if previous is None else previous + g


def _sum_kernel(g: float, node: Node) -> None:
    for parent in node._parents:
        if parent.requires_grad:
            previous = parent._sum
            parent._sum = g if previous is None else previous + g


# -- neurons as one node --------------------------------------------------------------------------


def _neuron_op(activation: Op) -> Op:
    """`activation(dot(...))` as one node, its inputs laid out as DOT's. Its rule is the
    activation's rule followed by DOT's, so its gradients are those of the two nodes. (The
    activation's rule is given the output for its input: relu, tanh and sigmoid read only
    the output.)"""

    def backward(g: Any, out: Any, *inputs: Any) -> list[Any]:
        return _dot_rule(activation.backward(g, out, out)[0], out, *inputs)

    return Op(f"{activation.name}(dot)", lambda *xs: activation.forward(_dot_forward(*xs)), backward)


def _sends_nothing(g: float, node: Node) -> bool:
    """Whether a neuron whose weighted sum has gradient `g` may send nothing: when g is exactly
    0 (an inactive relu) and every input is finite, each contribution would be +-0.0, which
    changes no sum but for the sign of a zero. (Where an input is inf or nan, 0 * inf is nan,
    so the zeros are sent, as in PyTorch.) Half the neurons of a relu network, skipped."""
    if g != 0.0:
        return False
    datas = [p.data for p in node._parents]
    return math.isfinite(sum(datas)) or all(map(math.isfinite, datas))


def _neuron_kernel(activation: Op) -> Kernel:
    rule = activation.backward

    def kernel(g: float, node: Node) -> bool:
        g = rule(g, node.data, node.data)[0]
        if _sends_nothing(g, node):
            return True
        _dot_kernel(g, node)
        return False

    return kernel


def _relu_neuron_of_finite_sum_kernel(g: float, node: Node) -> bool:
    # A relu neuron whose weighted sum was finite when made, so all its inputs were finite, and
    # are still (a walk takes this kernel only then: `_data_finite`): nothing to check again (an
    # eighth of a training step).
    if node.data != 0 and g != 0.0:
        _dot_kernel(g, node)
        return False
    return True


NEURON_OPS = {name: _neuron_op(op) for name, op in ACTIVATIONS.items()}
NEURON_OPS["linear"] = DOT
# The relu neuron that `neurons` makes when its weighted sum is finite: the same name and rules.
RELU_NEURON_OF_FINITE_SUM = Op("relu(dot)", NEURON_OPS["relu"].forward, NEURON_OPS["relu"].backward)

KERNELS: dict[Op, Kernel] = {
    engine.ADD: _add_kernel,
    engine.MUL: _mul_kernel,
    RELU: _relu_kernel,
    DOT: _dot_kernel,
    engine.SUM: _sum_kernel,
    RELU_NEURON_OF_FINITE_SUM: _relu_neuron_of_finite_sum_kernel,
}
KERNELS.update({NEURON_OPS[name]: _neuron_kernel(op) for name, op in ACTIVATIONS.items()})
# For a walk where some data is inf or nan (set since the neurons were made): each neuron checks.
KERNELS_CHECKING_EACH_NEURON = {**KERNELS, RELU_NEURON_OF_FINITE_SUM: KERNELS[NEURON_OPS["relu"]]}
_data = operator.attrgetter("data")


def _data_finite(order: list[Node], outside: list[Node]) -> bool:
    """Whether the data of a walk's nodes, and of the nodes outside it that they read, is all
    finite, as it was when the neurons of finite sums were made (a `.data` may be set since, to
    inf or nan): one sum, finite only if each term is (an overflow says no: each neuron checks).
    Asked only of a walk with such a neuron (`_Reads`)."""
    return math.isfinite(sum(map(_data, order)) + sum(map(_data, outside)))


def neurons(
    weight_rows: Sequence[Sequence[Value]],
    biases: Sequence[Any],
    inputs: Sequence[Any],
    activation: str = "linear",
) -> list[Value]:
    """engine.neurons, one node per neuron, each made here directly: the shared inputs are
    converted and read once for the whole layer."""
    if activation not in NEURON_OPS or len(weight_rows) != len(biases):
        guards.check_layer(weight_rows, biases, inputs, activation, NEURON_OPS)  # raises, saying why
    op = NEURON_OPS[activation]
    activate = ACTIVATIONS[activation].forward if activation in ACTIVATIONS else None
    relu = activate is RELU.forward
    op_of_finite_sum = RELU_NEURON_OF_FINITE_SUM if relu else op
    xs = tuple(inputs)
    for x in xs:
        if type(x) is not Value:
            xs = tuple(x if isinstance(x, Value) else engine._constant(x) for x in xs)
            break
    xdatas = [x.data for x in xs]
    any_input_requires_grad = any(x.requires_grad for x in xs)
    plain = not no_grad_threads[0] and not anomaly_threads[0]  # no thread uses a mode: no need to look
    born = guards.clock[0]
    new = Value.__new__
    results = []
    for weights, bias in zip(weight_rows, biases):
        if len(weights) != len(xdatas):  # (here, not in a loop of its own over the rows: speed)
            guards.check_layer(weight_rows, biases, inputs, activation, NEURON_OPS)
        if not isinstance(bias, Value):
            bias = engine._constant(bias)
        total = bias.data  # DOT's forward, written out to read each input's data once per layer
        for w, x in zip(weights, xdatas):
            if type(w) is not Value:  # (checked here rather than in a loop of its own: speed)
                weights = tuple(w if isinstance(w, Value) else engine._constant(w) for w in weights)
                total = _dot_forward(*[w.data for w in weights], *xdatas, bias.data)
                break
            total += w.data * x
        if relu:
            data = 0.0 if total < 0 else total  # (RELU's forward, without the call)
        else:
            data = total if activate is None else activate(total)
        parents = (*weights, *xs, bias)
        node_op = op_of_finite_sum if total - total == 0.0 else op  # (x - x is 0.0 unless x is inf or nan)
        if not plain:
            if anomaly_threads[0] and modes._modes.anomaly:  # the weighted sum may overflow alone
                guards.check_forward(DOT, parents, total, user_frame())
            results.append(Value.apply(node_op, *parents))
            continue
        out = new(Value)  # what Value.apply makes, without its checks
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._sum = None
        out._passes = 0
        out._where = None
        out._parents = parents
        out._op = node_op
        out._origin = None
        out._born = born
        out.requires_grad = (
            any_input_requires_grad or bias.requires_grad or any(w.requires_grad for w in weights)
        )
        results.append(out)
    return results


# -- Value's operators, making their nodes directly --------------------------------------------


def _record(op: Op, parents: tuple[Value, ...], data: float) -> Value:
    """What Value.apply makes of `op` on `parents`, its forward already computed: the slots
    filled directly, the per-thread modes read only while some thread uses one."""
    out = Value.__new__(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._sum = None
    out._passes = 0
    out._where = None
    out._born = guards.clock[0]
    if not no_grad_threads[0] or modes._modes.grad_enabled:
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
        guards.check_forward(op, parents, data, out._where)
    return out


def _binary_operator(op: Op, swapped: bool = False) -> Callable[[Value, Any], Value]:
    forward = op.forward

    def operator(self: Value, other: Any) -> Value:
        if not isinstance(other, Value):
            if not guards.is_real(other):
                return NotImplemented
            other = engine._constant(other)
        a, b = (other, self) if swapped else (self, other)
        try:
            data = forward(a.data, b.data)
        except ArithmeticError as error:  # 1/0: inf (IEEE), as engine.py's _record
            data = float(ieee.redo(error, forward, a.data, b.data))
        return _record(op, (a, b), data)

    return operator


def _unary_method(op: Op) -> Callable[[Value], Value]:
    forward = op.forward

    def method(self: Value) -> Value:
        return _record(op, (self,), forward(self.data))  # (no unary forward raises: see engine)

    return method


# -- the walk ------------------------------------------------------------------------------------


class _Reads:
    """What `_order` notes for the Value walk: the parents that need no gradient (outside the
    order) of its nodes of several parents, whose data a neuron's rule reads too, and the first
    relu neuron of a finite sum (RELU_NEURON_OF_FINITE_SUM) met, if any: `_data_finite` is asked
    only then."""

    __slots__ = ("outside", "neuron_of_finite_sum")

    def __init__(self) -> None:
        self.outside: list[Node] = []
        self.neuron_of_finite_sum: Node | None = None


def _order(root: Node, reads: _Reads | None = None) -> list[Node]:
    """engine.topological_order(root), found faster, resetting each node's `_sum` on the way;
    what the Value walk's neurons read is noted in `reads`, if given (only then: the Tensor
    walk's order gathers nothing).

    The stack holds only nodes and None (a node's marker), so nothing is allocated per node
    (a tuple per node made a long chain set off the garbage collector again and again); a
    one-parent node's parent is followed at once; a node whose parents were all seen is
    emitted at once (a check made in C)."""
    order: list[Node] = []
    visited: set[Node] = set()
    stack: list[Node | None] = [root]
    push, pop, emit = stack.append, stack.pop, order.append
    gather = None if reads is None else reads.outside.append
    looking = reads is not None  # (for a relu neuron of a finite sum: a check per node until one)
    found = None
    all_visited = visited.issuperset
    while stack:
        node = pop()
        if node is None:
            emit(pop())  # type: ignore[arg-type]
            continue
        if node in visited:
            continue
        while True:  # enter `node`
            visited.add(node)
            node._sum = None
            parents = node._parents
            if len(parents) == 1:
                parent = parents[0]
                if parent.requires_grad and parent not in visited:
                    push(node)
                    push(None)
                    node = parent
                    continue
                emit(node)
                break
            if looking and node._op is RELU_NEURON_OF_FINITE_SUM:
                looking, found = False, node
            if all_visited(parents):
                emit(node)
            else:
                push(node)
                push(None)
                for parent in reversed(parents):
                    if not parent.requires_grad:
                        if gather is not None:
                            gather(parent)
                    elif parent not in visited:
                        push(parent)
            break
    order.reverse()
    if reads is not None:
        reads.neuron_of_finite_sum = found
    return order


def backward(
    self: Value, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Apply the chain rule from this Value to every Value it depends on: leaves add this
    pass's gradient to `.grad` (twice doubles it), intermediates show this pass's. The
    graph is kept, so calling it again is allowed (`retain_graph` changes nothing); for
    `create_graph=True`, use grad()."""
    guards.check_backward_options(create_graph)
    if not _fast_walk_starts(self):
        return engine.backward(self, gradient)
    try:
        _value_walk(self, gradient)
    finally:
        _one_walk.release()


def _fast_walk_starts(root: Node) -> bool:
    """Whether a fast walk from `root` starts, taking `_one_walk` (the caller releases it). Else
    engine.py's walk runs: in anomaly mode (its checks), from a node without gradient (it says
    why), while some node has hooks (it runs them), or while a fast walk is under way (a hook's
    own backward(), another thread): the fast walks keep their running sums in the nodes, so
    one runs at a time."""
    if modes._modes.anomaly or not root.requires_grad or hooks.hooked_nodes:
        return False
    return _one_walk.acquire(blocking=False)


_one_walk = threading.Lock()


def _value_walk(self: Value, gradient: Any) -> None:
    """The fast walk from the Value `self`, then each node storing its total."""
    seed = 1.0 if gradient is None else self._raw(gradient)
    with no_grad():
        order = _walk_values(self, seed)
    guards.last_pass.root = weakref.ref(self)
    for node in order:  # Value._store_grad, written out
        total = node._sum
        node._sum = None
        if node._op is None:
            if total is not None:
                node.grad += total
            node._passes += 1
        else:
            node.grad = 0.0 if total is None else total


@quiet  # (as engine.backward's walk: numpy float64 data gives inf and nan, never an error or warning)
def _walk_values(self: Value, seed: Any) -> list[Node]:
    """Each node's contributions, in the order returned, summed into its parents' `_sum`."""
    reads = _Reads()
    order = _order(self, reads)
    now = guards.clock[0]
    if now:  # something was changed in place once: look for nodes made before it
        for node in order:
            if node._born != now and node._op is not None:
                guards.check_inputs_unchanged(node)
    self._sum = seed
    undefined: set[Node] = set()  # nodes that rules' None reached: no gradient, unless...
    silent: list[Node] = []  # ...a neuron that sent nothing reached them too (then it is 0.0)
    reached: set[Node] = set()  # (the inputs of the neurons taken from `silent` so far)
    finite = reads.neuron_of_finite_sum is None or _data_finite(order, reads.outside)
    kernels = KERNELS if finite else KERNELS_CHECKING_EACH_NEURON
    for node in order:
        op = node._op
        if op is None:
            continue
        g = node._sum
        if g is None:
            if not _reached(node, undefined, silent, reached):
                undefined.update(node._parents)
                continue
            g = node._sum = 0.0  # reached, but only neurons that sent nothing led here
        kernel = kernels.get(op)
        if kernel is not None:
            if kernel(g, node):
                silent.append(node)
            continue
        parents = node._parents
        if len(parents) == 1:  # most nodes have one input: their rule called directly, no lists
            parent = parents[0]
            try:  # (ieee.call's try, inline: a call per node less)
                contributions = op.backward(g, node.data, parent.data)
            except ArithmeticError as error:
                contributions = ieee.redo(error, op.backward, g, node.data, parent.data)
            if not isinstance(contributions, (tuple, list)) or len(contributions) != 1:
                guards.refuse_contributions(node, contributions)  # (as engine.local_gradients)
            c = contributions[0]
            if c is None:
                undefined.add(parent)
            elif parent.requires_grad:
                previous = parent._sum
                parent._sum = c if previous is None else previous + c
            continue
        for parent, c in zip(parents, engine.local_gradients(node, g)):
            if c is None:
                undefined.add(parent)
            elif parent.requires_grad:
                _add_to(parent, c)
    return order


def _reached(node: Node, undefined: set[Node], silent: list[Node], reached: set[Node]) -> bool:
    """Whether a node without a sum was reached: by a neuron that sent nothing (its zeros, which
    the reference walk sums), not only by rules' None. The silent neurons' inputs are gathered
    into `reached` only here, for a node that None reached (rare): never in a plain step."""
    if node not in undefined:
        return True
    while silent:
        reached.update(silent.pop()._parents)
    return node in reached


def tensor_backward(
    self: Tensor,
    gradient: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Apply the chain rule from this Tensor to every Tensor it depends on.

    `gradient` is required unless the Tensor has one element. Leaves add this pass's
    gradient to `.grad` (so calling it twice doubles it); intermediate Tensors keep theirs
    only after `retain_grad()`. The graph is kept, so calling it again is allowed
    (`retain_graph` changes nothing); for `create_graph=True`, use grad(). With `inputs` (a
    Tensor or several, leaves or intermediates), as PyTorch's, only those add up theirs.
    """
    if inputs is not None:  # (the reference pass: engine.backward's `only`)
        return _reference_tensor_backward(self, gradient, retain_graph, create_graph, inputs)
    guards.check_backward_options(create_graph)
    # engine.backward's pass, bit for bit: the same order, the same rules on the same arrays,
    # the same sums in the same order, with the running sums in the nodes (`Node._sum`).
    if self.data.dtype.kind != "f" or not _fast_walk_starts(self):  # (int64, bool: check_roots refuses)
        return engine.backward(self, gradient)
    try:
        seed = self._seed() if gradient is None else self._raw(gradient)
        with no_grad():
            order = _order(self)
            self._sum = seed
            _tensor_walk(order)
        guards.last_pass.root = weakref.ref(self)
        for node in order:  # leaves and retain_grad() nodes store their total (Node._store_grad)
            total = node._sum
            node._sum = None
            if node._op is None or node._retains_grad:  # type: ignore[attr-defined]  # (all Tensors)
                node._store_grad(total)
    finally:
        _one_walk.release()
    return None


@quiet  # (an inf and a -inf summed give nan, without a RuntimeWarning)
def _tensor_walk(order: list[Node]) -> None:
    """Each node's rule, in `order`, its contributions summed into its parents' `_sum`."""
    now = guards.clock[0]
    faster = FASTER_RULES
    for node in order:
        op = node._op
        g = node._sum
        if op is None or g is None:  # a leaf, or only rules' None reached it
            continue
        if node._born != now:  # something changed in place since the node was made
            guards.check_inputs_unchanged(node)
        parents = node._parents
        rule = faster.get(op, op.backward)
        try:  # (ieee.call's try, inline: a call per node less)
            contributions = rule(g, node.data, *[p.data for p in parents])
        except ArithmeticError as error:
            contributions = ieee.redo(error, rule, g, node.data, *[p.data for p in parents])
        if not isinstance(contributions, (tuple, list)) or len(contributions) != len(parents):
            guards.refuse_contributions(node, contributions)  # (as engine.local_gradients)
        for parent, c in zip(parents, contributions):
            if c is not None and parent.requires_grad:
                previous = parent._sum
                parent._sum = c if previous is None else previous + c


_BITS = {np.dtype(np.float64): np.int64, np.dtype(np.float32): np.int32}  # an integer of each float's size


def _faster_relu_rule(rule: Callable[..., Any]) -> Callable[..., Any]:
    """relu's rule on arrays (`engine.relu_gradient`: g where relu's output is not 0, else
    0.0), the same bits ten times faster than its np.where on a large layer: the bits of g
    ANDed with all ones where the output is not 0, with all zeros (0.0's bits) where it is."""

    def faster(g: Any, out: Any, x: Any) -> tuple[Any]:
        same = type(g) is np.ndarray and g.ndim and g.shape == out.shape == x.shape
        bits = _BITS.get(g.dtype) if same else None
        if bits is None:  # (a 0-d gradient, say: nothing to gain)
            return rule(g, out, x)  # type: ignore[no-any-return]
        mask = (out != 0).astype(bits)
        np.negative(mask, out=mask)  # 1 -> -1: every bit set
        return (np.bitwise_and(g.view(bits), mask).view(g.dtype),)

    return faster


# The rules of Tensor ops that the fast walk computes faster, bit for bit (each tested against
# its rule in tests/engine/test_fast_equals_reference.py).
FASTER_RULES = {
    op: _faster_relu_rule(op.backward) for op in (_on_arrays(RELU, (False,)), _on_arrays(RELU, (True,)))
}


# -- switching ------------------------------------------------------------------------------------

_OPERATORS = {"__add__": engine.ADD, "__sub__": engine.SUB, "__mul__": engine.MUL, "__truediv__": engine.DIV}
_UNARY = {
    "__neg__": engine.NEG,
    "relu": RELU,
    "tanh": engine.TANH,
    "exp": engine.EXP,
    "sigmoid": engine.SIGMOID,
}
_REFERENCE: dict[str, Any] = {name: Value.__dict__[name] for name in ("backward", *_UNARY)}
_REFERENCE.update(
    {name: Value.__dict__[name] for op in _OPERATORS for name in (op, op.replace("__", "__r", 1))}
)
_FAST: dict[str, Any] = {"backward": backward}
_FAST.update({name: _unary_method(op) for name, op in _UNARY.items()})
for _name, _op in _OPERATORS.items():
    _FAST[_name], _FAST[_name.replace("__", "__r", 1)] = (
        _binary_operator(_op),
        _binary_operator(_op, swapped=True),
    )
_reference_neurons = engine.neurons
_reference_tensor_backward = Tensor.backward
# They become methods: Python's own messages (an unknown keyword) name them as the user calls them.
backward.__qualname__, tensor_backward.__qualname__ = "Value.backward", "Tensor.backward"
_current = ["reference"]


def set_engine(name: str) -> str:
    """Run Values and Tensors on the "fast" engine (the default) or the "reference" one
    (engine.py as you read it); returns the previous name. Both give the same numbers (but for
    the sign of a zero intermediate Value's gradient); Value graphs differ: the fast engine
    makes a neuron one node."""
    pieces = {"reference": _REFERENCE, "fast": {**_FAST, "backward": backward}}.get(name)
    if pieces is None:
        raise ValueError(f"set_engine() takes 'reference' or 'fast', got {name!r}")
    previous = _current[0]
    for attribute, method in pieces.items():
        setattr(Value, attribute, method)
    Tensor.backward = tensor_backward if name == "fast" else _reference_tensor_backward  # type: ignore[method-assign]
    engine.neurons = neurons if name == "fast" else _reference_neurons  # type: ignore[assignment]
    _current[0] = name
    return previous


def current_engine() -> str:
    return _current[0]


_chosen = os.environ.get("MICROGRAD_PLUS_ENGINE", "") or "fast"
if _chosen not in ("reference", "fast"):
    raise ImportError(f"MICROGRAD_PLUS_ENGINE must be 'reference' or 'fast' (or unset), got {_chosen!r}")
set_engine(_chosen)
