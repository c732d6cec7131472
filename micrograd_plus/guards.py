"""The checks the engine makes on the way, kept out of the engine's text: numbers given to a
Value, anomaly mode (the first nan or inf, named with its op and line) and stale graphs (an
input changed in place after a node was made from it, as PyTorch's version counter catches).

In-place changes are seen where they go through the public API (optimizer steps, `t -= x`,
`add_`, `t[...] = x`, `load_state_dict`), each calling `mark_changed`, and a change to a Tensor's
memory is seen by every Tensor sharing it (`detach()`). Direct assignment (`v.data = ...`,
`t.data[...] = ...`) is not seen.
"""

from __future__ import annotations

import numbers
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import modes
from .modes import AnomalyError

# -- numbers ---------------------------------------------------------------------------------------


def is_real(x: Any) -> bool:
    return isinstance(x, (float, int)) or isinstance(x, numbers.Real)


def to_float(data: Any, what: str = "Value data") -> float:
    if is_real(data):
        try:
            return float(data)
        except OverflowError:  # an int beyond 1.8e308: Python refuses to round it to inf
            raise ValueError(
                f"{what} {str(data)[:20]}... is too large for a float (at most 1.8e308)"
            ) from None
    if isinstance(data, np.ndarray) and data.size == 1 and np.issubdtype(data.dtype, np.number):
        return float(data.reshape(()))
    raise TypeError(
        f"{what} must be a real number (int or float), got {type(data).__name__}: {data!r:.60}. "
        "Convert it with float(...) first, or use Tensor for arrays."
    )


def forward_result_to_float(op: Any, data: Any) -> float:
    """A custom Op's forward gave a number that is not a float: as a float, or say what it gave."""
    return to_float(data, f"the forward of Op {op.name!r} returned a value that")


def operand_to_float(x: Any) -> float:
    """A plain number used in an operation with Values, as a float."""
    if not is_real(x):
        raise TypeError(
            f"unsupported operand: Value and {type(x).__name__} ({x!r:.60}); use a number or a Value"
        )
    return to_float(x, "the other operand")


def check_op(name: Any, forward: Any, backward: Any) -> None:
    """`Op(name, forward, backward)` takes a str and two functions."""
    if not isinstance(name, str) or not callable(forward) or not callable(backward):
        raise TypeError(
            "Op(name, forward, backward) takes a str and two functions, got "
            f"{type(name).__name__}, {type(forward).__name__}, {type(backward).__name__}"
        )


def check_op_first(op: Any, op_type: type) -> None:
    """`Value.apply` and `Tensor.apply` take an Op first."""
    if not isinstance(op, op_type):
        raise TypeError(f"apply() takes an Op first, got {type(op).__name__}: {op!r:.60}")


def check_label(label: Any) -> None:
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")


def check_terms(terms: Sequence[Any]) -> None:
    if len(terms) == 0:
        raise ValueError("value_sum() of an empty sequence: give at least one term")


def check_layer(
    weight_rows: Sequence[Sequence[Any]],
    biases: Sequence[Any],
    inputs: Sequence[Any],
    activation: str,
    known: Any,
) -> None:
    """The arguments of a layer of neurons (engine.neurons) fit together."""
    if activation not in known:
        raise ValueError(f"activation must be one of {tuple(known)}, got {activation!r}")
    if len(weight_rows) != len(biases):
        raise ValueError(
            f"{len(weight_rows)} rows of weights but {len(biases)} biases; give one bias per row"
        )
    for weights in weight_rows:
        if len(weights) != len(inputs):
            raise ValueError(
                f"dot(): {len(weights)} weights but {len(inputs)} inputs; give one weight per input"
            )


def check_backward_options(create_graph: Any) -> None:
    """PyTorch's options of `backward()`: the graph is always kept here (`retain_graph` changes
    nothing), and `.grad` holds raw data, so `create_graph=True` is refused, naming grad()."""
    if create_graph:
        raise ValueError(
            "backward(create_graph=True) is not supported: .grad holds plain numbers here (arrays, floats), "
            "not nodes with a graph; use mg.autograd.grad(outputs, inputs, create_graph=True), which "
            "returns the gradients as Tensors (or Values) that can be differentiated again"
        )


def check_roots(roots: Sequence[Any]) -> None:
    """A backward pass needs outputs (`roots`, in order) that require grad; PyTorch's words,
    naming the first that does not by its place."""
    for index, root in enumerate(roots):
        dtype = getattr(root.data, "dtype", None)
        if dtype is not None and dtype.kind != "f":  # (a Tensor's requires_grad refuses True for these)
            raise RuntimeError(
                f"element {index} of tensors is a Tensor of {dtype}: only floating point Tensors can "
                "require grad (PyTorch's rule), and an int64 or bool one never gets a gradient here; "
                "compute from a float Tensor (k.float()) instead"
            )
        if not root.requires_grad:
            raise RuntimeError(
                f"element {index} of tensors does not require grad and does not have a grad_fn: "
                f"this {type(root).__name__} was computed from nodes that do not require grad "
                "(constants, requires_grad=False, detach() or no_grad()). Make an input require "
                "grad before computing it."
            )


def refuse_contributions(node: Any, contributions: Any) -> None:
    """An Op's backward must give one contribution (or None) per input, in a tuple or list."""
    got = (
        f"{len(contributions)} of them"
        if isinstance(contributions, (tuple, list))
        else type(contributions).__name__
    )
    raise TypeError(
        f"the backward of Op {node.op!r} must return a tuple with one gradient (or None) per input, "
        f"{len(node._parents)} in all, but returned {got}: write `return (g * ...,)` for one input"
    )


class _LastPass(threading.local):
    roots: tuple[Callable[[], Any], ...] = ()  # weak references
    inputs: tuple[Callable[[], Any], ...] | None = None  # autograd.backward's `inputs=`, if given

    @property
    def root(self) -> Callable[[], Any] | None:
        return self.roots[0] if self.roots else None

    @root.setter
    def root(self, ref: Callable[[], Any] | None) -> None:  # a pass from one output, to every leaf
        self.roots, self.inputs = (() if ref is None else (ref,)), None


# Weak references to the outputs the latest backward() of this thread ran from (several after
# autograd.backward([a, b])) and to the `inputs=` it stored gradients in, if given, so that
# explain_grad() can tell a node that this pass never reached (or reached but left out).
last_pass = _LastPass()


# -- anomaly mode ------------------------------------------------------------------------------


def _data(x: Any) -> Any:
    return x.data if hasattr(x, "_parents") else x  # a node's data, else x itself


def check_forward(op: Any, parents: Sequence[Any], data: Any, where: str) -> None:
    """Refuse an operation that turned finite inputs into nan or inf."""
    if not np.isfinite(data).all() and all(np.isfinite(p.data).all() for p in parents):
        raise AnomalyError(
            f"'{op.name}' turned finite inputs ({format_datas([p.data for p in parents])}) into "
            f"{short_repr(data)} at {where}. Check that line for a division by zero, a log of 0 or an overflow."
        )


def check_backward(node: Any, g: Any, contributions: Sequence[Any]) -> None:
    """Refuse a rule that sent a non-finite gradient."""
    for index, (parent, c) in enumerate(zip(node._parents, contributions)):
        if c is not None and parent.requires_grad and not np.isfinite(_data(c)).all():
            where = (
                f"the node was created at {node._where}: look there for a division by zero, a log of 0 "
                "or an overflow"
                if node._where
                else "the node was created before detect_anomaly() was switched on, so its line is unknown: "
                "build the graph inside detect_anomaly() to see it"
            )
            raise AnomalyError(
                f"backward of '{node.op}' with inputs ({format_datas([p.data for p in node._parents])}) and "
                f"output gradient {short_repr(_data(g))} produced a non-finite gradient "
                f"{short_repr(_data(c))} for input {index}; {where}."
            )


def format_datas(datas: Sequence[Any], limit: int = 8) -> str:
    """The input values of an operation for an error message, the first `limit` of them."""
    shown = ", ".join(short_repr(d) for d in datas[:limit])
    return shown if len(datas) <= limit else f"{shown}, ... ({len(datas)} inputs)"


def short_repr(data: Any, width: int = 100) -> str:
    """repr() on one line, cut to `width` characters (an array can be long)."""
    text = " ".join(repr(data).split())
    return text if len(text) <= width else text[: width - 3] + "..."


# -- in-place changes: a graph used after one of its inputs changed is refused ---------------------

# A clock that counts the in-place changes made through the public API. Each node records it when
# made (`_born`), and a leaf records it again each time its data is changed in place, so an input
# changed after a node was made has a later `_born` than the node. The walk looks at a node's
# inputs only when the clock has moved since the node was made, so micrograd's loop (a new graph
# each step) pays nothing; an optimizer step pays one slot write and one dict update a parameter.
clock = [0]
_versions: dict[int, int] = {}  # id(node) -> its in-place changes; an entry leaves with its node
# id(array owning the memory) -> the clock when it was last changed in place: a Tensor sharing
# that memory (`w.detach()`, `from_numpy`) saw the change too (PyTorch's detach() shares the
# version). An entry leaves with its array; a later array at the same id was made after the change.
_memory_changed: dict[int, int] = {}


def version_of(node: Any) -> int:
    """How many in-place changes the public API made to `node` (PyTorch's `_version`)."""
    return _versions.get(id(node), 0)


def mark_changed(node: Any) -> None:
    """Record that `node.data` was just changed in place: nodes made from it before are stale."""
    clock[0] += 1
    node._born = clock[0]
    if node._op is not None:  # a computed node's own rule may read it: the clock moves on past
        clock[0] += 1  # it, so the walk looks at the node itself (check_inputs_unchanged)
    key = id(node)
    if key in _versions:
        _versions[key] += 1
    else:
        _versions[key] = 1
        weakref.finalize(node, _versions.pop, key, None)  # before the id can be reused
    if isinstance(node.data, np.ndarray):
        memory = _memory_of(node.data)
        if id(memory) not in _memory_changed:
            weakref.finalize(memory, _memory_changed.pop, id(memory), None)
        _memory_changed[id(memory)] = node._born


def _memory_of(array: np.ndarray) -> np.ndarray:
    """The array that owns `array`'s memory (itself, or the base of a view)."""
    return array if array.base is None or not isinstance(array.base, np.ndarray) else array.base


def _changed_at(node: Any) -> int:
    """The clock when `node`'s data was last changed in place, through it or through another
    Tensor sharing its memory."""
    if isinstance(node.data, np.ndarray) and _memory_changed:
        return max(node._born, _memory_changed.get(id(_memory_of(node.data)), 0))
    return node._born  # type: ignore[no-any-return]


def check_inputs_unchanged(node: Any) -> None:
    """Refuse to apply the rule of a node whose inputs changed since it was made (as PyTorch), or
    whose own output did (a rule may read it: exp's, tanh's; PyTorch refuses where it does)."""
    if node._op is not None and version_of(node) > 0:
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: the output of '{node.op}' (a {type(node).__name__}, now at version "
            f"{version_of(node)}) changed after it was made. Run the forward pass again to build a new graph."
        )
    for index, parent in enumerate(node._parents):
        if _changed_at(parent) > node._born:
            version = version_of(parent)
            if parent._origin == "detach_" and version == 0 and parent._born > node._born:
                raise RuntimeError(
                    f"input {index} of '{node.op}' (a {type(parent).__name__}) was detached in place "
                    "by detach_() after this graph was made, so the gradient through it would be lost. "
                    "Call detach_() after backward(), use detach() (a new Tensor), or run the forward "
                    "pass again to build a new graph."
                )
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: input {index} of '{node.op}' (a {type(parent).__name__}, now at version "
                f"{version}) changed after the node was made. Run the forward pass again to build a new graph."
            )


_OPERATOR_NAMES = {
    "+": "__add__",
    "-": "__sub__",
    "*": "__mul__",
    "/": "__truediv__",
    "//": "__floordiv__",
    "%": "__mod__",
}


def check_writeable(node: Any, what: str) -> None:
    """An in-place change needs data it may write: not a read-only view (np.broadcast_to, a
    frozen array given to from_numpy)."""
    data = node.data
    if not isinstance(data, np.ndarray) or data.flags.writeable:
        return
    if any(step == 0 and n > 1 for step, n in zip(data.strides, data.shape)):  # expand, broadcast_to
        raise ValueError(
            f"{what}: this Tensor is a broadcast view (an expand() to shape {data.shape}) whose repeated "
            "elements refer to one memory location, so here it is read-only (PyTorch refuses most such "
            "writes too: add_, copy_, t[:, 0] = ...); change a copy, t = t.clone()"
        )
    raise ValueError(
        f"{what}: this Tensor's data is a read-only view (of shape {data.shape}); change a copy, t = t.clone()"
    )


def _cannot_write(symbol: str, result: Any, t: Any) -> RuntimeError:
    return RuntimeError(
        f"t {symbol}= x: the result, of {result.data.dtype}, cannot be written into t, of {t.data.dtype} "
        f"(PyTorch refuses it too): write t = t {symbol} x, or convert t first (t.float())"
    )


def in_place(symbol: str, refuse_leaf: bool = False) -> Callable[[Any, Any], Any]:
    """`t -= x` (and `+=`, `*=`, `/=`, a Tensor's `//=`, `%=`) as PyTorch's: where no graph must record the change (under
    `no_grad()`, or when neither side requires grad) it is made in t's own data, so t stays the
    same node and the module holding it sees the new values: `with no_grad(): w -= lr * w.grad`.
    Otherwise `t = t - x`, a new node; with `refuse_leaf` (Tensors, as PyTorch) a leaf that
    requires grad is refused instead (Values keep micrograd's `total += x`)."""
    name = _OPERATOR_NAMES[symbol]

    def method(self: Any, other: Any) -> Any:
        operator = getattr(type(self), name)  # (looked up now: set_engine may have replaced it)
        if modes.is_grad_enabled() and (self.requires_grad or getattr(other, "requires_grad", False)):
            if refuse_leaf and self.requires_grad and self._op is None:
                raise RuntimeError(
                    f"a leaf {type(self).__name__} that requires grad cannot be changed in place "
                    f"(t {symbol}= ...) while gradients are recorded, as in PyTorch: update it inside "
                    "`with no_grad():`"
                )
            result = operator(self, other)
            if isinstance(self.data, np.ndarray) and not np.can_cast(
                result.data.dtype, self.data.dtype, "same_kind"
            ):
                raise _cannot_write(symbol, result, self)  # (an int64 t += x that requires grad)
            return result
        with modes.no_grad():
            result = operator(self, other)
        if result is NotImplemented:
            return result
        if isinstance(self.data, np.ndarray):
            check_writeable(self, f"t {symbol}= x")
            if result.shape != self.shape:
                raise ValueError(
                    f"t {symbol}= x: the result has shape {result.shape}, but t has shape {self.shape}; an "
                    f"in-place change keeps t's shape (PyTorch refuses it too): write t = t {symbol} x"
                )
            try:
                np.copyto(self.data, result.data, casting="same_kind")
            except TypeError:  # e.g. an int64 Tensor += 1.5 (numpy's same_kind rule is PyTorch's)
                raise _cannot_write(symbol, result, self) from None
        else:
            self.data = result.data
        mark_changed(self)
        return self

    return method
