"""The graph walk shared by Value and Tensor: topological order, the backward pass,
grad mode and anomaly mode.

A node holds its `data`, its `grad`, its parents (a tuple, in argument order) and the
`Op` that made it. An `Op` knows how to compute its output from raw data (`forward`) and
how to turn the gradient of its output into gradients for its inputs (`backward`).
Nothing here knows whether `data` is a float or a numpy array: that is what lets one
walk serve both kinds of node, and lets `grad(..., create_graph=True)` differentiate a
gradient by running the very same rules on nodes instead of raw numbers.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .modes import AnomalyError, _modes, enable_grad, no_grad


class Op:
    """An operation: a name, a forward on raw data, and its local derivative rule.

    `forward(*input_datas)` returns the output data. `backward(g, out, *inputs)`
    returns one gradient contribution per input (or None where an input needs none):
    the chain rule's "upstream gradient times local derivative". During an ordinary
    backward pass `g`, `out` and `inputs` are raw data (floats or arrays); under
    `grad(..., create_graph=True)` they are nodes, so the same expression records a
    new graph. A rule is therefore written once, with operators and the dispatching
    helpers of its engine, and serves first and higher derivatives alike.
    """

    __slots__ = ("name", "forward", "backward", "accumulate")

    def __init__(
        self,
        name: str,
        forward: Callable[..., Any],
        backward: Callable[..., Any],
        accumulate: Callable[[Any, Node], None] | None = None,
    ):
        if not isinstance(name, str) or not callable(forward) or not callable(backward):
            raise TypeError(
                "Op(name, forward, backward) takes a str and two functions, got "
                f"{type(name).__name__}, {type(forward).__name__}, {type(backward).__name__}"
            )
        if accumulate is not None and not callable(accumulate):
            raise TypeError(f"Op accumulate must be a function or None, got {type(accumulate).__name__}")
        self.name = name
        self.forward = forward
        self.backward = backward
        # Optional, only for speed: `accumulate(g, node)` does in one step what the walk
        # does with `backward`'s result in an ordinary pass on raw data: add each input's
        # contribution into its `_gsum` (inputs that require grad only). Worth it for ops
        # with many inputs (engine.DOT, engine.SUM), where building the lists of input data
        # and of contributions costs more than the arithmetic, and for engine.RELU, 40%
        # of the nodes of a training step. It must give exactly, bit for bit, what
        # `backward` gives (tests/engine/test_fast_equals_reference.py checks them against the plain rules).
        self.accumulate = accumulate

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


class _Nothing(float):
    __slots__ = ()


# What a rule returns for an input to which it sends nothing because the contribution would
# be a zero, which changes no sum (see engine._sends_nothing). Unlike None, which says that no
# gradient flows to the input, the input still has a gradient: 0.0 if nothing else reaches it.
# It is a float 0.0, so code that does not know it adds a zero.
NOTHING = _Nothing(0.0)


class _LastPass(threading.local):
    """A weak reference to the output the latest `backward()` of this thread ran from,
    so `explain_grad()` can tell a node that this pass never reached."""

    root: Callable[[], Node | None] | None = None


_last_pass = _LastPass()


class Node:
    """What Value and Tensor share: data, grad, parents and the op that made them.

    `_gsum` is scratch space of the backward pass (the gradient summed so far in this
    pass); `_passes` counts the backward passes a leaf has accumulated since its last
    `zero_grad`; `_origin` says why a node has no graph ("no_grad", "detach") and
    `_where` is the line of user code that created it (recorded in anomaly mode only).
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "label",
        "_parents",
        "_op",
        "_gsum",
        "_passes",
        "_origin",
        "_where",
        "__weakref__",
    )

    data: Any
    grad: Any
    requires_grad: bool
    label: str
    _parents: tuple[Node, ...]
    _op: Op | None
    _gsum: Any
    _passes: int
    _origin: str | None
    _where: str | None

    @property
    def parents(self) -> tuple[Node, ...]:
        """The nodes this one was computed from, in argument order."""
        return self._parents

    @property
    def op(self) -> str:
        """The name of the operation that made this node ('' for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def is_leaf(self) -> bool:
        """A node made by the user (or cut from the graph), not by an operation."""
        return self._op is None

    def _store_grad(self, total: Any) -> None:
        """Receive this pass's total gradient (each kind decides what it keeps)."""
        raise NotImplementedError

    @staticmethod
    def _store_grads(order: list[Node]) -> None:
        """Hand each node of a finished pass its total (`_store_grad`) and clear `_gsum`."""
        for node in order:
            total = node._gsum
            node._gsum = None
            if total is not None:
                node._store_grad(total)

    def _zero_total(self) -> Any:
        """The gradient of a node that a pass reached but sent nothing (see NOTHING): 0.0
        for a Value; None here (a Tensor op always sends something, or a real None)."""
        return None

    def _seed(self) -> Any:
        """The default gradient of an output with respect to itself."""
        raise NotImplementedError

    def _raw(self, value: Any) -> Any:
        """Turn a gradient given by the user into raw data of this node's kind."""
        raise NotImplementedError

    def _check_finite(self, data: Any) -> bool:
        raise NotImplementedError

    def _backward_ieee(self, op: Op, g: Any, datas: list[Any]) -> Sequence[Any]:
        """Run `op.backward` again where raw arithmetic raised (see Value)."""
        raise NotImplementedError


def topological_order(root: Node) -> list[Node]:
    """Every node that `root` depends on and that requires grad, each listed before
    the nodes it was computed from (root first). An explicit stack, never recursion,
    so a chain of a million nodes is fine; parents are visited in argument order, so
    the order is deterministic."""
    return _depth_first_order(root, clear_sums=False)


def _depth_first_order(root: Node, clear_sums: bool) -> list[Node]:
    """topological_order(); with `clear_sums`, it also resets each node's `_gsum` for a
    backward pass as it goes (speed: one walk over a big graph's memory instead of two)."""
    order: list[Node] = []
    visited: set[Node] = set()
    # A node is entered when it is popped: it goes back on the stack under a None marker,
    # with its parents above it (the first parent on top). When the marker comes up again,
    # all its parents are done and the node is emitted: the order of a recursive
    # depth-first walk. Speed: the stack holds only nodes and None, so the walk allocates
    # nothing per node (a tuple and an iterator per node made a big graph trigger the
    # cyclic garbage collector again and again: long chains were several times slower).
    stack: list[Node | None] = [root]
    push, pop, emit = stack.append, stack.pop, order.append
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
            if clear_sums:
                node._gsum = None
            parents = node._parents
            if len(parents) == 1:
                # Speed: the common one-input node, without the loop below; and a chain of
                # them is followed straight on, without pushing and popping each parent.
                parent = parents[0]
                if parent.requires_grad and parent not in visited:
                    push(node)
                    push(None)
                    node = parent
                    continue
                emit(node)
            elif all_visited(parents):
                # Speed: a leaf, or a node whose parents were all seen (a neuron's weights
                # after the first sample), is emitted at once; the check runs in C.
                emit(node)
            else:
                push(node)
                push(None)
                for parent in reversed(parents):
                    if parent.requires_grad and parent not in visited:
                        push(parent)
            break
    order.reverse()
    return order


def format_datas(datas: Sequence[Any], limit: int = 8) -> str:
    """The input values of an operation for an error message, the first `limit` of them."""
    shown = ", ".join(short_repr(d) for d in datas[:limit])
    return shown if len(datas) <= limit else f"{shown}, ... ({len(datas)} inputs)"


def short_repr(data: Any, width: int = 100) -> str:
    """repr() on one line, cut to `width` characters (an array can be long)."""
    text = " ".join(repr(data).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _anomaly_in_backward(node: Node, contributions: Sequence[Any]) -> None:
    for index, (parent, c) in enumerate(zip(node._parents, contributions)):
        if c is not None and parent.requires_grad and not node._check_finite(_data_of(c)):
            if node._where:
                where = f"the node was created at {node._where}: look there for a division by zero, a log of 0 or an overflow"
            else:
                where = (
                    "the node was created before detect_anomaly() was switched on, so its line is "
                    "unknown: build the graph inside detect_anomaly() to see it"
                )
            inputs = format_datas([p.data for p in node._parents])
            raise AnomalyError(
                f"backward of '{node.op}' with inputs ({inputs}) and output gradient "
                f"{short_repr(_data_of(node._gsum))} produced a non-finite gradient {short_repr(_data_of(c))} for input "
                f"{index}; {where}."
            )


def _data_of(x: Any) -> Any:
    return x.data if isinstance(x, Node) else x


def _run_pass(
    roots: Sequence[Node], seeds: Sequence[Any], create_graph: bool
) -> tuple[list[Node], set[Node]]:
    """Apply every node's rule once, in reverse topological order, summing into
    `_gsum`. Returns the order, and the nodes that rules sent None (no gradient flows to
    them, unless another rule sends some); the caller reads and clears `_gsum`."""
    if len(roots) == 1:
        order = _depth_first_order(roots[0], clear_sums=True)
    else:
        # Several outputs: one order over their union (a fake root whose parents they are).
        hub = _Hub(tuple(roots))
        order = _depth_first_order(hub, clear_sums=True)[1:]  # type: ignore[arg-type]
    for root, seed in zip(roots, seeds):  # (the walk above reset every `_gsum` to None)
        root._gsum = seed if root._gsum is None else root._gsum + seed
    anomaly = _modes.anomaly
    fused = not (create_graph or anomaly)  # whether an Op's `accumulate` may stand in (see Op)
    undefined: set[Node] = set()
    for node in order:
        op = node._op
        if op is None:  # a leaf
            continue
        g = node._gsum
        if g is None:
            if node in undefined:  # only rules' None reached it: no gradient, as in PyTorch
                undefined.update(node._parents)
                continue
            # The pass reached it but sent it nothing (an inactive neuron's input, see NOTHING).
            # A Value's gradient is then 0.0, and its rule runs all the same, so that a 0 * inf
            # further back gives nan, as in PyTorch; a Tensor's stays None, and is skipped.
            g = node._gsum = node._zero_total()
            if g is None:
                continue
        if op.accumulate is not None and fused:
            op.accumulate(g, node)  # the same sums as below, made in one loop
            continue
        parents = node._parents
        if len(parents) == 1 and fused:
            # Speed: most nodes have one input (activations, exp, ...); this saves the
            # list of input data and the loop below for them (same rule, same sum).
            parent = parents[0]
            try:
                contributions = op.backward(g, node.data, parent.data)
            except ArithmeticError:
                contributions = node._backward_ieee(op, g, [parent.data])
            if type(contributions) is not tuple or len(contributions) != 1:
                _check_contributions(node, contributions)
            c = contributions[0]
            if c is None:
                undefined.add(parent)
            elif parent.requires_grad and c is not NOTHING:
                previous = parent._gsum
                parent._gsum = c if previous is None else previous + c
            continue
        if create_graph:
            contributions = op.backward(g, node, *parents)
        else:
            datas = [p.data for p in parents]
            try:
                contributions = op.backward(g, node.data, *datas)
            except ArithmeticError:  # Python floats raise on 1/0 and overflow; IEEE does not
                contributions = node._backward_ieee(op, g, datas)
        if type(contributions) is not tuple or len(contributions) != len(parents):
            _check_contributions(node, contributions)
        if anomaly:
            _anomaly_in_backward(node, contributions)
        for parent, c in zip(parents, contributions):
            if c is None:
                undefined.add(parent)
            elif parent.requires_grad and c is not NOTHING:
                previous = parent._gsum
                parent._gsum = c if previous is None else previous + c
    return order, undefined


def _check_contributions(node: Node, contributions: Any) -> None:
    """An Op's backward must give one contribution (or None) per input, in a tuple or list."""
    if isinstance(contributions, (tuple, list)) and len(contributions) == len(node._parents):
        return
    got = (
        f"{len(contributions)} of them"
        if isinstance(contributions, (tuple, list))
        else type(contributions).__name__
    )
    raise TypeError(
        f"the backward of Op {node.op!r} must return a tuple with one gradient (or None) per input, "
        f"{len(node._parents)} in all, but returned {got}: write `return (g * ...,)` for one input"
    )


class _Hub:
    """A stand-in root joining several outputs, so one walk orders them all."""

    __slots__ = ("_parents", "requires_grad", "_gsum")

    def __init__(self, parents: tuple[Node, ...]):
        self._parents = parents
        self.requires_grad = True
        self._gsum = None


def backward(root: Node, gradient: Any = None) -> None:
    """Backpropagate from `root`: leaves add this pass's total to `.grad` once."""
    if not root.requires_grad:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: "
            f"this {type(root).__name__} was computed from nodes that do not require grad "
            "(constants, requires_grad=False, detach() or no_grad()). Make an input require "
            "grad before computing it."
        )
    seed = root._seed() if gradient is None else root._raw(gradient)
    with no_grad():
        order, _ = _run_pass([root], [seed], create_graph=False)
    _last_pass.root = weakref.ref(root)
    type(root)._store_grads(order)


def grad(
    outputs: Node | Sequence[Node],
    inputs: Node | Sequence[Node],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """Gradients of `outputs` with respect to `inputs`, without touching any `.grad`.

    With `create_graph=True` the results are nodes in a new graph, so they can be
    differentiated again (second derivatives). Like `torch.autograd.grad`, an input
    that the outputs do not depend on is an error unless `allow_unused=True`, in
    which case its gradient is None, as it is for an input that only rules' None reach.
    A Value input to which the pass sent nothing (an inactive neuron's input) gets 0.0.
    """
    outs = [outputs] if isinstance(outputs, Node) or not isinstance(outputs, Iterable) else list(outputs)
    ins = [inputs] if isinstance(inputs, Node) or not isinstance(inputs, Iterable) else list(inputs)
    for name, nodes in (("outputs", outs), ("inputs", ins)):
        if not nodes or not all(isinstance(n, Node) for n in nodes):
            raise TypeError(f"grad(): {name} must be a Value or Tensor or a non-empty sequence of them")
    for out in outs:
        if not out.requires_grad:
            raise RuntimeError("grad(): an output does not require grad; make an input require grad first")
    if grad_outputs is None:
        seeds = [out._seed() for out in outs]
    else:
        given = (
            [grad_outputs]
            if len(outs) == 1 and not isinstance(grad_outputs, (list, tuple))
            else list(grad_outputs)
        )
        if len(given) != len(outs):
            raise ValueError(f"grad(): {len(outs)} outputs but {len(given)} grad_outputs")
        seeds = [out._raw(_data_of(s)) for out, s in zip(outs, given)]  # (which also checks each)
        if create_graph:  # a node given as grad_output stays in the graph: v in a Hessian-vector product
            seeds = [s if type(s) is type(out) else raw for out, s, raw in zip(outs, given, seeds)]
    if create_graph:
        seeds = [out._constant_like(s) for out, s in zip(outs, seeds)]  # type: ignore[attr-defined]
        with enable_grad():
            order, undefined = _run_pass(outs, seeds, create_graph=True)
    else:
        with no_grad():
            order, undefined = _run_pass(outs, seeds, create_graph=False)
    reached = set(order)
    results = []
    for node in ins:
        total = None
        if node in reached:
            total = node._gsum
            if total is None and node not in undefined:  # sent nothing: see NOTHING
                total = node._zero_total()
        if total is None and not allow_unused:
            _clear(order)
            raise RuntimeError(
                "grad(): one of the inputs was not used to compute the outputs (or does not "
                "require grad); pass allow_unused=True to get None for it"
            )
        if total is not None and not isinstance(total, Node):  # raw data (or a zero): a new leaf
            total = node._constant_like(total)  # type: ignore[attr-defined]
        results.append(total)
    _clear(order)
    return tuple(results)


def _clear(order: Iterable[Node]) -> None:
    for node in order:
        node._gsum = None
