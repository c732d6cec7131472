"""Tensor: a numpy array that records how it was computed, so `backward()` can apply the chain rule.

Value is for seeing, Tensor is for running: both are nodes of the one graph walk in
`engine.py` (which fast.py runs faster, bit for bit), so nothing about the chain rule is
written twice. The elementwise operations
(+ - * / **, exp, relu, ...) are the rule table's entries of engine.py, applied to arrays
through one wrapper that undoes broadcasting (`_on_arrays`). The operations only Tensors
have (matmul, reductions, indexing, softmax, `//` `%` fmod) state their forward and their
derivative side by side below; a derivative is one expression that works on arrays (the ordinary
backward pass) and on Tensors (`grad(..., create_graph=True)`), written with operators and helpers
(`broadcast_to`, `unbroadcast`, `scatter`, and engine.py's) that dispatch on the type.

Broadcasting follows numpy. A gradient flowing back to an input that was broadcast is
summed back to that input's shape (`unbroadcast`).

A Tensor holds float64 (the default) or float32, or, as PyTorch's indices, labels and masks,
int64 or bool, which never require grad: comparisons and `argmax` give them. An operation meets
them in one place per kind (`_operators`, `_as_operands`, `_unary`, `_elementwise`): with a
float operand they become its dtype, so the gradient flows to the float side (`x * (x > 0)`);
alone, the operations PyTorch keeps integer keep their dtype, the float functions give float64,
and the rest are refused with the advice to call `.float()` (`_integer_inputs`).

Floating point follows IEEE like PyTorch float64 (`log(0) = -inf`, `1/0 = inf`,
`(-8) ** (1/3) = nan`) and never warns: every forward and every rule runs with numpy's
floating-point error reports switched off (`quiet`, about 0.2 us where `np.errstate`
costs 1 us, which matters for small arrays).

How it stays fast (see also issue 7): `__slots__`; results are built without going
through `__init__` or any validation; an operation's Op is chosen by which inputs require
grad, so a rule never computes a gradient nobody wants
(the data batch of a matmul, the exponent 2 of a square); parents are recorded only
when some input requires grad; and a leaf keeps the gradient array the walk hands it
without copying it. That last point rests on one rule every Tensor op keeps: a rule
may hand its incoming gradient `g` (or a view of it) to at most one input, so no two
nodes ever receive the same memory.
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Union, overload

import numpy as np

from . import devices, division, engine, gradients, guards, modes
from .arguments import real_number, true_or_false
from .devices import CPU, DEVICE_TYPES
from .engine import (
    ABS,
    ADD,
    COS,
    DIV,
    EXP,
    LOG,
    MUL,
    NEG,
    POW,
    RELU,
    RULES,
    SIGMOID,
    SIN,
    SQRT,
    SUB,
    TANH,
    Node,
    Op,
    data_of,
    elementwise,
    exp,
    piecewise_constant,
)
from .engine import where as engine_where  # (`where` below is torch.where, for Tensors)
from .grad_fn import GradFn, grad_fn_of
from .modes import AnomalyError, user_frame

Shape = tuple[int, ...]
ArrayLike = Any
Operand = Union["Tensor", float, int, np.ndarray]

_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
# Integer and bool Tensors (indices, labels, masks) hold no gradient, as in PyTorch.
_INT64, _BOOL = np.dtype(np.int64), np.dtype(np.bool_)
_TENSOR_DTYPES = (*_FLOAT_DTYPES, _INT64, _BOOL)
_modes = modes._modes

# --- floating point without warnings ------------------------------------------------------------
#
# numpy keeps its error state (what to do on overflow, 0/0, ...) in a context variable.
# `np.errstate` builds a new state object on every entry; setting a prebuilt "ignore all"
# state directly is 5x cheaper. If a numpy version lacks the private names, fall back to
# the public (slower) `np.errstate`.
try:
    from numpy._core.umath import _extobj_contextvar, _make_extobj

    _IGNORE_ALL: Any = _make_extobj(all="ignore")
    _enter_quiet = _extobj_contextvar.set
    _leave_quiet = _extobj_contextvar.reset
except (ImportError, AttributeError, TypeError):  # pragma: no cover - depends on the numpy version
    _IGNORE_ALL = None

    def _enter_quiet(_state: Any) -> Any:
        manager = np.errstate(all="ignore")
        manager.__enter__()
        return manager

    def _leave_quiet(manager: Any) -> None:
        manager.__exit__(None, None, None)


def quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with numpy's floating-point warnings off: IEEE results (inf, nan), no RuntimeWarning.

    Wrap the forward and backward of a custom op with it when they may overflow or divide by 0.
    """

    def run_quietly(*args: Any) -> Any:
        token = _enter_quiet(_IGNORE_ALL)
        try:
            return fn(*args)
        finally:
            _leave_quiet(token)

    # (no functools.wraps: ops with arguments are made per call, and wraps costs 1.5 us)
    return run_quietly


def _quiet_array(data: Any, dtype: np.dtype) -> np.ndarray:
    """A new array of `dtype` (float64 numbers beyond float32's range become inf quietly)."""
    token = _enter_quiet(_IGNORE_ALL)
    try:
        return np.array(data, dtype=dtype)
    finally:
        _leave_quiet(token)


def _quiet_op(name: str, forward: Callable[..., Any], backward: Callable[..., Any]) -> Op:
    return Op(name, quiet(forward), quiet(backward))


# --- helpers for derivative rules: on a Tensor they record the graph, on an array they compute ----


def _gradient_where(takes: Any, g: Any, x: Any) -> Any:
    """g where `takes` holds, else exactly 0 (0 * g would be nan where g is inf), x kept a parent
    (derivative 0) on nodes: the rule of a function that is flat where `takes` fails (clamp's)."""
    return piecewise_constant(engine_where(takes, g, 0.0), x)


def broadcast_to(x: Any, shape: Shape) -> Any:
    """x repeated to `shape` by numpy broadcasting (a read-only view for arrays)."""
    if isinstance(x, Tensor):
        return Tensor.apply(_broadcast_to_op(tuple(shape)), x)
    if isinstance(x, (np.ndarray, np.generic)) and x.size == 1 and x.ndim <= len(shape):
        # One number everywhere (the gradient of a sum or mean of all): a view of it with every
        # stride 0, made in a quarter of the time np.broadcast_to takes to check its arguments.
        view = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    return np.broadcast_to(x, shape)


def unbroadcast(g: Any, shape: Shape) -> Any:
    """Sum `g` back to `shape`: the derivative of broadcasting an input of that shape.

    Axes that broadcasting added in front are summed away; axes where the input had size 1
    are summed keeping size 1.
    """
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead < 0:
        raise ValueError(
            f"unbroadcast(): a gradient of shape {g.shape} cannot come from an input of shape {shape}"
        )
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def scatter(g: Any, index: Any, shape: Shape) -> Any:
    """Zeros of `shape` with `g` added at `index` (repeated indices add up): the derivative of `x[index]`."""
    if isinstance(g, Tensor):
        return Tensor.apply(_scatter_op(index, tuple(shape)), g)
    return _scatter_array(g, index, tuple(shape))


def _scatter_array(g: Any, index: Any, shape: Shape) -> np.ndarray:
    full = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic_index(index):
        full[index] = g  # slices and ints never repeat an element: plain assignment is enough
    else:
        np.add.at(full, index, g)
    return full


def _swap_last(x: Any) -> Any:
    """x with its last two axes swapped (matmul's transpose)."""
    if isinstance(x, Tensor):
        return x.mT
    return np.swapaxes(x, -1, -2)


def _column_major(x: Any) -> bool:
    return type(x) is np.ndarray and x.flags.f_contiguous and not x.flags.c_contiguous


def _fit(c: Any, x: Any) -> Any:
    """A contribution to input x summed back to x's shape (None: no contribution)."""
    return c if c is None or c.shape == x.shape else unbroadcast(c, x.shape)


# --- elementwise operations: the rule table's entries (engine.py), on arrays --------------------------


@functools.cache
def _on_arrays(entry: Op, needs: tuple[bool, ...]) -> Op:
    """The rule table's `entry` for Tensors whose inputs need a gradient as `needs` says: its
    forward on arrays, and its derivatives, only those of the inputs that need one (no gradient
    for the data batch of a product, the exponent 2 of a square), each summed back to its
    input's shape (broadcasting undone), all without numpy warnings. (One rule per number of
    inputs: the walk calls it on every step of a training loop.)"""
    derivatives = entry.derivatives
    rule: Callable[..., tuple[Any, ...]]
    if derivatives is None:  # an entry with a rule of its own (dot, sum, where, ...)

        def rule(g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
            fitted: list[Any] = []
            for c, x in zip(entry.backward(g, out, *inputs), inputs):
                c = _fit(c, x)
                if type(c) is np.ndarray and any(c is other for other in fitted):
                    c = c.copy()  # never hand one array to two inputs (see the module's doc)
                fitted.append(c)
            return tuple(fitted)

    elif len(derivatives) == 1:
        (d,) = derivatives
        rule = lambda g, out, a: (_fit(d(g, out, a), a),)  # noqa: E731
    else:
        da, db = derivatives
        need_a, need_b = needs

        def rule(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
            ga = _fit(da(g, out, a, b), a) if need_a else None
            gb = _fit(db(g, out, a, b), b) if need_b else None
            if gb is ga and type(gb) is np.ndarray:
                gb = gb.copy()  # never hand one array to two inputs (see the module's doc)
            return ga, gb

    return Op(entry.name, quiet(entry.array_forward), quiet(rule))


# --- matmul ---------------------------------------------------------------------------------------


def _matmul_rule(need_a: bool, need_b: bool) -> Callable[..., Any]:
    def rule(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
        if a.ndim == 2 and b.ndim == 2:  # the common case, short and fast
            # Each gradient comes out in its input's memory order: for `x @ W.T` the gradient
            # of W.T is column-major, so W's gradient (its transpose) is row-major like W,
            # and an optimizer's elementwise update runs at full speed.
            ga = ((b @ g.T).T if _column_major(a) else g @ b.T) if need_a else None
            gb = ((g.T @ a).T if _column_major(b) else a.T @ g) if need_b else None
            return ga, gb
        if a.ndim == 1 and b.ndim == 1:  # a dot product: g is a scalar
            return (g * b if need_a else None, g * a if need_b else None)
        # 1-D operands act as a row (a) or a column (b), as in numpy; batch axes broadcast.
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
        if b.ndim == 1:
            g2 = g2.reshape(g2.shape + (1,))
        ga = unbroadcast(g2 @ _swap_last(b2), a2.shape).reshape(a.shape) if need_a else None
        gb = unbroadcast(_swap_last(a2) @ g2, b2.shape).reshape(b.shape) if need_b else None
        return ga, gb

    return quiet(rule)


_matmul_forward = quiet(np.matmul)
MATMUL = (
    Op("@", _matmul_forward, _matmul_rule(True, True)),
    Op("@", _matmul_forward, _matmul_rule(False, True)),
    Op("@", _matmul_forward, _matmul_rule(True, False)),
    Op("@", _matmul_forward, _matmul_rule(True, True)),
)


# --- shape operations: no arithmetic, so no need to silence warnings --------------------------------

_REVERSE_AXES = Op("transpose", lambda x: x.T, lambda g, out, x: (g.T,))
_MATRIX_TRANSPOSE = Op("mT", lambda x: np.swapaxes(x, -1, -2), lambda g, out, x: (_swap_last(g),))


def _reshape_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g.reshape(x.shape),)


def _transpose_op(axes: Shape) -> Op:
    inverse = tuple(int(i) for i in np.argsort(axes))
    return Op("transpose", lambda x: x.transpose(axes), lambda g, out, x: (g.transpose(inverse),))


def _is_basic_index(index: Any) -> bool:
    """Ints, slices, `...` and None only: each element is picked at most once."""
    items = index if type(index) is tuple else (index,)
    for item in items:
        if not (
            item is None
            or item is Ellipsis
            or type(item) is slice
            or (isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)))
        ):
            return False
    return True


def _check_index(index: Any) -> Any:
    items = index if type(index) is tuple else (index,)
    if any(isinstance(item, Tensor) for item in items):  # PyTorch's t[labels]: see _tensor_index
        items = tuple(_tensor_index(item) if isinstance(item, Tensor) else item for item in items)
        index = items if type(index) is tuple else items[0]
    for item in items:
        if isinstance(item, Node):
            raise TypeError(
                f"cannot index with a {type(item).__name__}; index with ints, slices, an int array "
                "or a boolean mask (e.g. t[labels.data.astype(int)] or t[t.data > 0])"
            )
        _refuse_nodes_inside(item, "an index")
    return index


def _tensor_index(index: Tensor) -> np.ndarray:
    """A Tensor used as an index, as PyTorch uses one: an int64 one's positions or a bool one's
    mask; a float one's values must be whole numbers (class labels, positions), taken as a new
    int64 array."""
    if index.data.dtype.kind != "f":
        return index.data.copy()  # type: ignore[no-any-return]
    if index.requires_grad:
        raise TypeError(
            "cannot index with a Tensor that requires grad (an index has no gradient); index with "
            "t[labels.detach()], ints, slices, an int array or a boolean mask"
        )
    ints = _whole_numbers(index.data)
    if ints is None:
        raise IndexError(
            f"a Tensor used as an index must hold whole numbers (positions, class labels), got "
            f"{index.data.ravel()[:6]}; round it first, or index with an int array"
        )
    return ints


def _whole_numbers(data: np.ndarray) -> np.ndarray | None:
    """Whole numbers (within int64's range) of a float array as a new int64 array, else None."""
    if not (np.all(np.abs(data) < 2.0**63) and np.all(data == np.floor(data))):
        return None
    return data.astype(np.int64)


def _own_index(index: Any) -> Any:
    """The index with its arrays and lists copied into new arrays: the graph keeps the index
    for backward, so a later change to the caller's array must not reach it."""
    if type(index) is tuple:
        if all(_is_basic_item(item) for item in index):
            return index  # the common case: nothing mutable inside
        return tuple(_own_index_item(item) for item in index)
    return _own_index_item(index)


def _is_basic_item(item: Any) -> bool:
    return item is None or item is Ellipsis or type(item) is slice or type(item) is int


def _own_index_item(item: Any) -> Any:
    if isinstance(item, np.ndarray):
        return item.copy()
    if isinstance(item, list):
        arr = np.array(item)
        if arr.size == 0 and arr.dtype.kind == "f":
            return arr.astype(np.intp)  # an empty list picks nothing, as numpy reads it (not a float index)
        return item if arr.dtype == object else arr  # (an object array: numpy rejects it, as the list)
    return item


def _getitem_op(index: Any) -> Op:
    return Op("getitem", lambda x: x[index], lambda g, out, x: (scatter(g, index, x.shape),))


def _scatter_op(index: Any, shape: Shape) -> Op:
    return _quiet_op("scatter", lambda g: _scatter_array(g, index, shape), lambda h, out, g: (h[index],))


def _broadcast_to_op(shape: Shape) -> Op:
    return Op(
        "broadcast_to",
        lambda x: np.broadcast_to(x, shape),
        quiet(lambda g, out, x: (unbroadcast(g, x.shape),)),
    )


# --- reductions -------------------------------------------------------------------------------------


def sizes_given(sizes: tuple[Any, ...]) -> tuple[Any, ...]:
    """Sizes (or axes) given one by one or as one tuple or list: `x.reshape(2, 3)` and
    `x.reshape((2, 3))`, as PyTorch takes both."""
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes


def _axes(axis: Any, shape: Shape, who: str) -> tuple[int, ...]:
    """The axes `who` reduces as sorted non-negative ints, or a clear error naming the shape. A
    0-d Tensor takes axis 0 or -1 (reducing nothing), as PyTorch's dim."""
    ndim = len(shape)
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    span = max(ndim, 1)
    axes = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")
        axes.append(_dim(a, span, who, shape, "axis"))
    if len(set(axes)) != len(axes):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(sorted(axes)) if ndim else ()


def _axis_or_dim(axis: Any, keepdims: bool, dim: Any, keepdim: bool) -> tuple[Any, bool]:
    """numpy's `axis`/`keepdims` or PyTorch's `dim`/`keepdim`: the same arguments by two names."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"give axis or dim, not both (got axis={axis!r}, dim={dim!r})")
        axis = dim
    return axis, bool(keepdims) or bool(keepdim)


def _variance(x: Tensor, dim: Any, unbiased: bool | None, keepdim: bool, correction: Any, who: str) -> Tensor:
    """var's arguments read as `torch.var` reads them (`who` names var or std in an error)."""
    if isinstance(dim, bool) and unbiased is None:  # PyTorch's `x.var(False)`: that is `unbiased`
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{who}(): give unbiased or correction, not both (got {unbiased!r}, {correction!r})")
    if unbiased is not None and not isinstance(unbiased, bool):
        raise TypeError(f"{who}(): unbiased must be True or False, got {unbiased!r:.60}")
    if x.data.dtype.kind != "f":
        _integer_inputs(who, (x,))  # (refused, naming var or std)
    correction = (
        (0.0 if unbiased is False else 1.0) if correction is None else real_number(correction, "correction")
    )
    shape = x.data.shape
    axes = _axes(dim, shape, who)
    count = math.prod(shape[a] for a in axes)
    divisor = max(count - correction, 0.0)  # as PyTorch: no negative variance
    return _unary(_var_op(axes, bool(keepdim), _kept_shape(shape, axes), count, divisor), x)


def _kept_shape(shape: Shape, axes: tuple[int, ...]) -> Shape:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# The reductions call the ufunc's `reduce` directly: `np.sum` adds 2-3 us of Python dispatch.
_add_reduce: Callable[..., Any] = np.add.reduce
_max_reduce: Callable[..., Any] = np.maximum.reduce
_min_reduce: Callable[..., Any] = np.minimum.reduce
_SUM_ALL = _quiet_op(
    "sum", lambda x: np.add.reduce(x, axis=None), lambda g, out, x: (broadcast_to(g, x.shape),)
)


@functools.lru_cache(maxsize=256)  # nothing changes an op once made: reuse one per argument set
def _sum_op(axes: tuple[int, ...], keepdims: bool, kept: Shape) -> Op:
    return _quiet_op(
        "sum",
        lambda x: _add_reduce(x, axis=axes, keepdims=keepdims),
        lambda g, out, x: (broadcast_to(g.reshape(kept), x.shape),),
    )


@functools.lru_cache(maxsize=256)  # nothing changes an op once made: reuse one per argument set
def _mean_op(axes: tuple[int, ...], keepdims: bool, kept: Shape, count: int) -> Op:
    # The sum divided by the count is exactly what np.mean computes, without its warning
    # on an empty slice (0 / 0 is then a quiet nan).
    return _quiet_op(
        "mean",
        lambda x: _add_reduce(x, axis=axes, keepdims=keepdims) / count,
        lambda g, out, x: (broadcast_to(g.reshape(kept) / count, x.shape),),
    )


@functools.lru_cache(maxsize=256)  # nothing changes an op once made: reuse one per argument set
def _var_op(axes: tuple[int, ...], keepdims: bool, kept: Shape, count: int, divisor: float) -> Op:
    # The rule is PyTorch's, g * 2 (x - mean) / divisor: without the path through the mean (the
    # deviations sum to 0), which would make every gradient nan where an element is inf.
    scale = 2.0 / divisor if divisor != 0 else math.inf
    deviations = lambda x: x - x.sum(axes, keepdims=True) / count  # (arrays and Tensors alike)

    def forward(x: Any) -> Any:
        d = deviations(x)
        return _add_reduce(d * d, axis=axes, keepdims=keepdims) / divisor

    return _quiet_op("var", forward, lambda g, out, x: (g.reshape(kept) * scale * deviations(x),))


@functools.lru_cache(maxsize=256)  # nothing changes an op once made: reuse one per argument set
def _max_op(axes: tuple[int, ...], keepdims: bool, kept: Shape, nan_shares: bool = False) -> Op:
    def rule(g: Any, out: Any, x: Any) -> tuple[Any]:
        # Ties share the gradient evenly, as PyTorch's amax does; a nan result is shared by the
        # nans where `nan_shares` (PyTorch's max() of a whole Tensor), else its gradient is nan.
        xd, result = engine.data_of(x), engine.data_of(out).reshape(kept)
        mask = xd == result
        if nan_shares:
            mask |= np.isnan(xd) & np.isnan(result)
        count = mask.sum(axis=axes, keepdims=True).astype(xd.dtype)
        return ((g.reshape(kept) / count) * mask,)

    return _quiet_op("max", lambda x: _max_reduce(x, axis=axes, keepdims=keepdims), rule)


@functools.lru_cache(maxsize=256)  # nothing changes an op once made: reuse one per argument set
def _min_op(axes: tuple[int, ...], keepdims: bool, kept: Shape, nan_shares: bool = False) -> Op:
    # max's rule serves: the gradient goes to the elements equal to the result, ties sharing it.
    forward = quiet(lambda x: _min_reduce(x, axis=axes, keepdims=keepdims))
    return Op("min", forward, _max_op(axes, keepdims, kept, nan_shares).backward)


# --- softmax ----------------------------------------------------------------------------------------


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:  # an empty axis (or none along the others): nothing to normalise, as PyTorch
        return np.zeros_like(x)
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))  # shifted: exp never overflows
    return e / np.add.reduce(e, axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:  # an empty axis (or none along the others): nothing to normalise, as PyTorch
        return np.zeros_like(x)
    shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


@functools.lru_cache(maxsize=256)  # nothing changes an op once made: reuse one per argument set
def _softmax_op(axis: int) -> Op:
    return _quiet_op(
        "softmax",
        lambda x: _softmax(x, axis),
        lambda g, out, x: (out * (g - (g * out).sum(axis=axis, keepdims=True)),),
    )


@functools.lru_cache(maxsize=256)  # nothing changes an op once made: reuse one per argument set
def _log_softmax_op(axis: int) -> Op:
    return _quiet_op(
        "log_softmax",
        lambda x: _log_softmax(x, axis),
        lambda g, out, x: (g - exp(out) * g.sum(axis=axis, keepdims=True),),
    )


# --- building results -------------------------------------------------------------------------------


def _result(data: Any, parents: tuple[Tensor, ...], op: Op, needs_grad: bool) -> Tensor:
    """The output node: records `op` and `parents` only when some input requires grad."""
    if type(data) is not np.ndarray:
        data = np.asarray(data)  # numpy returns scalars, not 0-d arrays, from 0-d operations
    out = _new_tensor(Tensor)
    out.data = data
    out.grad = None
    out.label = ""
    out._sum = None
    out._passes = 0
    out._born = guards.clock[0]
    out._retains_grad = False
    out._where = None
    modes = _modes
    if needs_grad and modes.grad_enabled:
        out._requires_grad = True
        out._parents = parents
        out._op = op
        out._origin = None
    else:
        out._requires_grad = False
        out._parents = ()
        out._op = None
        out._origin = None if modes.grad_enabled else "no_grad"
    if modes.anomaly:
        out._where = user_frame()
        _check_forward(op, parents, data, out._where)
    return out


def _unary(op: Op, x: Tensor) -> Tensor:
    if x.data.dtype.kind != "f":
        (x,) = _integer_inputs(op.name, (x,))
        if x.data.dtype.kind != "f":  # (relu's forward is np.maximum(0.0, a): a float64 array)
            return _index_result(np.maximum(x.data, 0) if op.name == "relu" else op.forward(x.data))
    return _result(op.forward(x.data), (x,), op, x._requires_grad)


# The operations that keep an int64 or bool Tensor's dtype, as PyTorch's do (numpy's dtype
# rules agree with PyTorch's for these); the float functions, which turn one into float64 (the
# default dtype) first; mean and var, which PyTorch refuses for one. Any other is refused here.
_KEEPS_INTEGERS = frozenset(
    "+ - * ** // % fmod @ neg abs relu maximum minimum where clamp sum max min prod cumsum getitem gather "
    "reshape transpose mT concat stack clone flip roll round nan_to_num tril triu".split()
)
_FLOAT_FUNCTIONS = frozenset("/ exp log tanh sigmoid sqrt sin cos softmax log_softmax logsumexp".split())


def _integer_inputs(name: str, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """The inputs of operation `name` when one is an int64 or bool Tensor: with a float one, all
    of its dtype (`_promoted`); else as they are where PyTorch keeps their dtype, as float64 for a
    float function, or refused."""
    inputs = _promoted(inputs)
    if inputs[0].data.dtype.kind == "f":  # (then all are)
        return inputs
    dtype = inputs[0].data.dtype
    if name in _KEEPS_INTEGERS:
        if dtype == _BOOL and name == "relu":
            raise RuntimeError("Boolean inputs not supported for relu (PyTorch's error); call .long() first")
        if dtype == _BOOL and name in ("neg", "-") and all(x.data.dtype == _BOOL for x in inputs):
            raise RuntimeError(
                f"'{name}' on bool Tensors is not supported (as in PyTorch); to invert a mask, use "
                "~mask (or a ^ b for two masks), or call .long() or .float() first"
            )
        if name in ("//", "%", "fmod") and all(x.data.dtype == _BOOL for x in inputs):
            raise NotImplementedError(
                f"'{name}' of two bool Tensors is not implemented (as in PyTorch); call .long() first"
            )
        return inputs
    if name in _FLOAT_FUNCTIONS:
        return tuple(_cast(x, _FLOAT64) for x in inputs)
    if name in ("mean", "var", "std"):
        words = (
            "could not infer output dtype. Input dtype must be a floating point dtype"
            if name == "mean"
            else "std and var only support floating point dtypes"
        )
        raise RuntimeError(
            f"{name}(): {words}, got {dtype} (PyTorch's error); call .float() first, e.g. "
            "(preds == labels).float().mean()"
        )
    raise RuntimeError(
        f"'{name}' is not defined for a Tensor of {dtype} here (an index, label or mask); call .float() "
        "first to compute with its values"
    )


def _elementwise(entry: Op, *inputs: Tensor, cache: bool = True) -> Tensor:
    """A rule table entry applied to Tensors (see `_on_arrays`); `cache=False` for an entry made
    for one call (`where`'s mask), which is not kept."""
    if any(x.data.dtype.kind != "f" for x in inputs):
        inputs = _integer_inputs(entry.name, inputs)
    needs = tuple([x._requires_grad for x in inputs])
    op = _on_arrays(entry, needs) if cache else _on_arrays.__wrapped__(entry, needs)
    try:
        data = op.forward(*[x.data for x in inputs])
    except ValueError as error:
        raise _not_broadcasting(entry, inputs, error) from None
    return _result(data, inputs, op, True in needs)


def _binary(entry: Op) -> Callable[[Tensor, Tensor], Tensor]:
    """`_elementwise` of a binary entry, written out for the operators (+ - * / **): the four
    Ops, one per pair of `needs`, found at once."""
    ops = [_on_arrays(entry, (need_a, need_b)) for need_a in (False, True) for need_b in (False, True)]
    forward = entry.array_forward

    def combine(a: Tensor, b: Tensor) -> Tensor:
        ra = a._requires_grad
        rb = b._requires_grad
        token = _enter_quiet(_IGNORE_ALL)  # (the Op's forward, quiet, without its wrapper's call)
        try:
            data = forward(a.data, b.data)
        except ValueError as error:
            raise _not_broadcasting(entry, (a, b), error) from None
        finally:
            _leave_quiet(token)
        return _result(data, (a, b), ops[2 * ra + rb], ra or rb)

    return combine


_NEEDED = (True,)  # a unary entry's one Op: its rule runs only where its input needs a gradient


def _not_broadcasting(entry: Op, inputs: Sequence[Tensor], error: ValueError) -> ValueError:
    """numpy's ValueError of an elementwise operation, said in words: shapes that do not broadcast
    (the usual cause), else numpy's own message."""
    shapes = [x.shape for x in inputs]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        pass
    else:
        return ValueError(f"'{entry.name}' of shapes {' and '.join(map(str, shapes))}: {error}")
    return ValueError(
        f"'{entry.name}': shapes {' and '.join(map(str, shapes))} do not broadcast; numpy "
        "broadcasting needs each trailing axis to be equal or 1. Reshape an operand, e.g. with .reshape(-1, 1)."
    )


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    try:
        data = _matmul_forward(a.data, b.data)
    except ValueError:
        raise ValueError(
            f"'@': shapes {a.shape} and {b.shape} do not match for matrix multiplication: the last "
            "axis of the first must equal the second-to-last axis of the second (or the only axis "
            "of a 1-D operand); neither may be 0-d. Transpose or reshape an operand."
        ) from None
    ra = a._requires_grad
    rb = b._requires_grad
    return _result(data, (a, b), MATMUL[2 * ra + rb], ra or rb)


def _check_forward(op: Op, parents: Sequence[Tensor], data: np.ndarray, where: str) -> None:
    if np.isfinite(data).all() or not all(np.isfinite(p.data).all() for p in parents):
        return
    first = np.unravel_index(int(np.argmin(np.isfinite(data))), data.shape) if data.ndim else ()
    shapes = ", ".join(str(p.shape) for p in parents)
    raise AnomalyError(
        f"'{op.name}' turned finite inputs ({guards.format_datas([p.data for p in parents])}; "
        f"shapes {shapes}) into {float(data[first])!r} at index "
        f"{tuple(int(i) for i in first)} at {where}. Check that line for a division by zero, a log of 0 "
        "or an overflow."
    )


def _constant(data: np.ndarray) -> Tensor:
    """An array or number used in an operation: a node that collects no gradient."""
    t = _new_tensor(Tensor)
    t.data = data
    t.grad = None
    t._requires_grad = False
    t.label = ""
    t._parents = ()
    t._op = None
    t._sum = None
    t._passes = 0
    t._born = guards.clock[0]
    t._origin = "constant"
    t._where = None
    t._retains_grad = False
    return t


# The types of plain numbers in a list: one C-speed pass over a list's item types (`set(map(type,
# items))`) shows that it holds nothing else, so a list of numbers costs no per-item Python code.
_NUMBER_TYPES = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.int32, np.bool_})


def _is_container(x: Any) -> bool:
    """A list, a tuple or an object array: numpy reads the numbers of the nodes inside."""
    return isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.dtype.kind == "O")


def _node_inside(items: Any) -> Node | None:
    """The first Tensor or Value nested anywhere in these lists, tuples or object arrays, or None.
    Each container is looked at once (a list that holds itself is left for numpy to refuse)."""
    pending = [items]
    seen = {id(items)}
    while pending:
        items = pending.pop()
        if isinstance(items, np.ndarray):
            items = items.ravel().tolist()
        if set(map(type, items)) <= _NUMBER_TYPES:
            continue
        for item in items:
            if isinstance(item, Node):
                return item
            if _is_container(item) and id(item) not in seen:
                seen.add(id(item))
                pending.append(item)
    return None


def _refuse_nodes_inside(data: Any, who: str) -> None:
    """A list or tuple about to become constant data must hold no Tensor or Value: numpy would
    read their numbers, and they would silently get no gradient. A TypeError, as in PyTorch."""
    if not _is_container(data):
        return
    node = _node_inside(data)
    if node is None:
        return
    kind = type(node).__name__
    if isinstance(node, Tensor):
        hint = (
            "join Tensors with stack([a, b]) (or concat) so that each gets its gradient; for a "
            "constant, use t.detach()"
        )
    else:
        hint = (
            "Values and Tensors do not share a graph: keep to Values, or use "
            "Tensor([v.data for v in values]) for a constant"
        )
    raise TypeError(
        f"{who}: this {type(data).__name__} holds a {kind} ({node!r:.60}); it would become a constant "
        f"array, and the {kind} would silently get no gradient. Instead, {hint}"
    )


def _operand(x: Any, dtype: np.dtype, who: str = "an operand") -> Any:
    """The other operand of a binary operation with a Tensor of `dtype`, as a Tensor.

    Python numbers take the Tensor's dtype (numpy 2's rule: `float32 * 2.0` stays float32);
    int and bool arrays too (PyTorch's rule); float arrays and numpy scalars keep theirs. With
    an int64 or bool Tensor, PyTorch's promotion: a float is float64, an int int64 (bool + 1).
    Returns NotImplemented for types we do not know, so Python can try the other side.
    """
    t = type(x)
    if t is float or t is int or t is bool:
        if dtype.kind != "f" and t is not bool:
            dtype = _FLOAT64 if t is float else _INT64
        token = _enter_quiet(_IGNORE_ALL)  # 1e300 as float32 is inf, without a warning
        try:
            return _constant(np.array(x, dtype=dtype))
        except OverflowError:  # an int beyond the float range
            limit = "a float (about 1.8e308 at most)" if dtype.kind == "f" else "an int64 (2**63 - 1 at most)"
            raise ValueError(f"the number {str(x)[:20]}... is too large for {limit}") from None
        finally:
            _leave_quiet(token)
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Node):
        raise TypeError(
            f"cannot combine a Tensor with a {type(x).__name__} in one operation; use Tensor(value.data) "
            "to make a Tensor of a Value's number, or float(tensor) for the other way"
        )
    if isinstance(x, (list, tuple)):
        _refuse_nodes_inside(x, who)
        arr = np.asarray(x)
    elif isinstance(x, (np.ndarray, np.generic)):
        arr = np.asarray(x)
    elif isinstance(x, numbers.Real):  # e.g. a Fraction
        arr = np.asarray(float(x))
    else:
        return NotImplemented
    if arr.dtype not in _FLOAT_DTYPES:
        if arr.dtype.kind not in "biuf":
            _refuse_nodes_inside(arr, who)  # (an object array of Tensors: say what to do)
            raise TypeError(f"cannot combine a Tensor with an array of dtype {arr.dtype}; use numbers")
        if dtype.kind != "f" and arr.dtype.kind != "b":  # an int Tensor and an int or float array
            dtype = _INT64 if arr.dtype.kind in "iu" else _FLOAT64
        arr = arr.astype(dtype)
    return _constant(arr)


def _as_operands(inputs: Sequence[Any], who: str) -> tuple[Tensor, ...]:
    """The inputs as Tensors: arrays and numbers become constants of the first Tensor's dtype
    (float64 if none is a Tensor), then promoted together (`_promoted`). Anything else is a
    TypeError that names `who` took it."""
    dtype = next((x.data.dtype for x in inputs if isinstance(x, Tensor)), _FLOAT64)
    nodes = []
    for x in inputs:
        node = _operand(x, dtype, who)
        if node is NotImplemented:
            raise TypeError(f"{who}: cannot use a {type(x).__name__} as an input: {x!r:.60}")
        nodes.append(node)
    return _promoted(nodes)


def _promoted(inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """PyTorch's type promotion, where it matters: with a float operand, int64 and bool operands
    become that float dtype (they hold no gradient, so the gradient flows to the float ones:
    `x * (x > 0)`). Floats with floats, and ints with bools, numpy combines as PyTorch does."""
    kinds = [x.data.dtype.kind == "f" for x in inputs]
    if all(kinds) or not any(kinds):
        return tuple(inputs)
    floating = next(x.data.dtype for x, is_float in zip(inputs, kinds) if is_float)
    return tuple(x if is_float else _cast(x, floating) for x, is_float in zip(inputs, kinds))


def float_dtype(spec: Any) -> np.dtype | None:
    """The numpy dtype `spec` names (np.float32, "float64", ...) if it is a float one a Tensor
    holds, else None."""
    dtype = tensor_dtype(spec)
    return dtype if dtype in _FLOAT_DTYPES else None


def tensor_dtype(spec: Any) -> np.dtype | None:
    """The numpy dtype `spec` names (np.float32, "int64", bool, torch.bool...) if it is one a
    Tensor holds (float64, float32, int64, bool), else None."""
    if type(spec).__module__.startswith("torch"):
        spec = str(spec).removeprefix("torch.")
    try:
        dtype = np.dtype(spec)
    except Exception:  # numpy raises TypeError, ValueError, OverflowError... for odd specs
        return None
    # (`np.dtype("float64") == None` is True in numpy: `spec` None is not taken for float64)
    return dtype if spec is not None and dtype in _TENSOR_DTYPES else None


def _as_array(data: Any, dtype: Any, who: str = "Tensor data") -> np.ndarray:
    """A new array holding `data` (copied, as torch.tensor copies): float64 unless `dtype` says
    float32, int64 or bool, or `data` is a Tensor (its dtype is kept). `who` names the data in
    the errors."""
    if isinstance(data, Tensor):
        dtype = data.data.dtype if dtype is None else dtype
        data = data.data
    elif isinstance(data, Node):
        raise TypeError(
            f"Tensor() takes numbers or arrays, not a {type(data).__name__}; use Tensor(value.data)"
        )
    _refuse_nodes_inside(data, "Tensor()")
    wanted = None
    if dtype is not None:
        wanted = tensor_dtype(dtype)
        if wanted is None:
            raise TypeError(f"Tensor dtype must be float64, float32, int64 or bool, got {dtype!r}")
    source = _numbers_to_make_int64(data, who) if wanted == _INT64 else None
    token = _enter_quiet(_IGNORE_ALL)  # 1e300 as float32 is inf, nan as int64 -2**63: quietly
    try:
        arr = np.array(data, dtype=wanted)
    except OverflowError:  # an int beyond int64, or a Python float (numpy refuses those itself)
        raise _beyond_int64(source, None, who) or ValueError(
            f"{who} {data!r:.60} does not fit in {wanted}, which holds -2**63 to 2**63 - 1; leave "
            "dtype= out for float64"
        ) from None
    except (ValueError, TypeError) as error:  # (a Python nan made int64 is a ValueError)
        raise _beyond_int64(source, None, who) or TypeError(
            f"{who} must be a number or a (nested) sequence / array of numbers of one shape, "
            f"got {type(data).__name__}: {data!r:.60} ({error})"
        ) from None
    finally:
        _leave_quiet(token)
    if source is not None:
        _refuse_beyond_int64(source, arr, who)
    if arr.dtype not in _TENSOR_DTYPES or wanted is None and arr.dtype.kind != "f":
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"{who} must be numbers (bool, int or float), got dtype {arr.dtype}: {data!r:.60}"
            )
        arr = arr.astype(np.float64)
    return arr


def _numbers_to_make_int64(data: Any, who: str) -> np.ndarray | None:
    """`data` as numpy reads it, checked before numpy makes int64 of it (which parses text, "5"
    is 5, and drops imaginary parts); None where numpy cannot read it alone (ragged, or ints
    beyond int64: the conversion says so)."""
    try:
        source = np.asarray(data)
    except (ValueError, TypeError):
        return None
    if source.dtype.kind not in "biufO":
        raise TypeError(f"{who} must be numbers (bool, int or float), got dtype {source.dtype}: {data!r:.60}")
    return source


def _beyond_int64(floats: np.ndarray | None, ints: np.ndarray | None, who: str) -> ValueError | None:
    """The error for floats made int64 (truncated toward 0) that int64 cannot hold (nan, inf,
    1e30), which numpy turns into -2**63 without a word (as PyTorch does in `.long()` and for an
    array; it refuses a number); None if they fit. `ints` is what the conversion made (None
    where numpy refused it): an int that only looks beyond (2**63 - 1 in a list with floats,
    which np.asarray rounds to 2.0**63) was converted right, and passes."""
    if floats is None or floats.dtype.kind != "f":
        return None
    beyond = ~((floats >= -(2.0**63)) & (floats < 2.0**63))  # (nan fits nowhere)
    if ints is not None and beyond.any():
        beyond &= ints.astype(np.float64) != floats
    if not beyond.any():
        return None
    bad = floats[beyond]
    worst = float(bad[np.argmax(np.where(np.isnan(bad), np.inf, np.abs(bad)))])  # (not a rounded int)
    return ValueError(
        f"{who} holds {worst!r}, which does not fit in int64, which holds -2**63 to 2**63 - 1 (no nan "
        "or inf; numpy and PyTorch would make -2**63 of it, silently); keep it float, or clamp or "
        "nan_to_num the floats first"
    )


def _refuse_beyond_int64(floats: np.ndarray, ints: np.ndarray, who: str) -> None:
    """`ints`, made of `floats`, must hold them (see `_beyond_int64`)."""
    error = _beyond_int64(floats, ints, who)
    if error is not None:
        raise error


# --- the Tensor ---------------------------------------------------------------------------------------


def _may_require_grad(dtype: np.dtype, requires_grad: Any) -> bool:
    """`requires_grad` as a bool, or PyTorch's RuntimeError for an int64 or bool Tensor."""
    if requires_grad and dtype.kind != "f":
        raise RuntimeError(
            f"Only Tensors of floating point dtype can require gradients (PyTorch's rule); this one is "
            f"{dtype}. Make it with dtype=mg.float64, or call .float() first"
        )
    return bool(requires_grad)


def _refuse_negative_int_exponent(exponent: Any) -> None:
    """PyTorch's error for an int64 or bool Tensor to a negative Python int power (`k ** -1`);
    an int64 Tensor exponent gives 1 / k rounded toward 0 instead (`division.integer_power`)."""
    if isinstance(exponent, numbers.Integral) and not isinstance(exponent, bool) and exponent < 0:
        raise RuntimeError(
            f"Integers to negative integer powers are not allowed (PyTorch's error, for k ** {exponent}); "
            f"call .float() on the base first, e.g. k.float() ** {exponent}"
        )


def _operators(
    combine: Callable[[Tensor, Tensor], Tensor], name: str
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """A binary operator `name` of Tensor and its reflected twin (`2 - t`), from the function that
    combines two Tensors; a number or an array becomes a constant of the Tensor's dtype, and an
    int64 or bool operand is promoted (`_integer_inputs`)."""

    def with_integers(a: Tensor, b: Tensor) -> Tensor:
        a, b = _integer_inputs(name, (a, b))
        return combine(a, b)

    def operator(self: Tensor, other: Operand) -> Tensor:
        b = other if type(other) is Tensor else _operand(other, self.data.dtype)
        if b is NotImplemented:
            return b
        if self.data.dtype.kind == "f" and b.data.dtype.kind == "f":  # (the usual case: one call)
            return combine(self, b)
        if name == "**" and self.data.dtype.kind != "f":
            _refuse_negative_int_exponent(other)
        return with_integers(self, b)

    def reflected(self: Tensor, other: Operand) -> Tensor:
        a = _operand(other, self.data.dtype)
        if a is NotImplemented:
            return a
        if self.data.dtype.kind == "f" and a.data.dtype.kind == "f":
            return combine(a, self)
        return with_integers(a, self)

    return operator, reflected


def _no_derivative(g: Any, out: Any, a: Any, b: Any) -> Any:
    """Floor division's derivative: PyTorch has none, and says so when a backward reaches it."""
    raise RuntimeError(
        "derivative for floor_divide is not implemented (PyTorch's error: its gradient would be 0 almost "
        "everywhere); for a gradient of 0 use (a / b).floor(), or detach the inputs: a.detach() // b"
    )


# `//`, `%` and fmod (division.py computes them as PyTorch, ints too). The derivatives are
# PyTorch's: 1 for a, and for b, minus the quotient rounded as the operation rounds it, a constant.
FLOOR_DIVIDE = elementwise("//", division.floor_divide, _no_derivative, _no_derivative)
REMAINDER = elementwise(
    "%",
    division.remainder,
    lambda g, out, a, b: g,
    lambda g, out, a, b: -g * division.floor_divide(data_of(a), data_of(b)),
)
FMOD = elementwise(
    "fmod", division.fmod, lambda g, out, a, b: g, lambda g, out, a, b: -g * np.trunc(data_of(a) / data_of(b))
)
_fmod, _ = _operators(_binary(FMOD), FMOD.name)


class Tensor(Node):
    """A numpy array that records how it was computed, so `backward()` can apply the chain rule.

    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([[2., 4.],
           [6., 8.]])

    As in PyTorch, Tensors do not require grad unless asked (a Value does); `grad` is None until
    a backward reaches the tensor, then an array of its shape and dtype. Leaves add up gradients
    over backward calls; intermediate Tensors keep theirs only after `retain_grad()`.
    """

    __slots__ = ("_retains_grad", "_requires_grad")
    __array_ufunc__ = None  # numpy defers to us: ndarray * Tensor is a Tensor

    _retains_grad: bool
    _requires_grad: bool  # (requires_grad's own: results and constants set it unchecked)

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None, label: str = ""):
        self.data = _as_array(data, dtype)
        self.grad = None
        self._requires_grad = _may_require_grad(
            self.data.dtype, true_or_false(requires_grad, "requires_grad")
        )
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.label = label
        self._parents = ()
        self._op = None
        self._sum = None
        self._passes = 0
        self._born = guards.clock[0]
        self._origin = None
        self._retains_grad = False
        self._where = user_frame() if _modes.anomaly else None

    def _set_requires_grad(self, requires_grad: Any) -> None:
        self._switch_requires_grad(true_or_false(requires_grad, "requires_grad"), assigned=True)

    def _switch_requires_grad(self, flag: bool, assigned: bool) -> None:
        """PyTorch's rules for `t.requires_grad = flag` (`assigned`) and `t.requires_grad_(flag)`:
        a computed Tensor's flag follows its inputs (turning it off would drop the gradient of
        what it was computed from; `requires_grad_(True)` on one changes nothing), and only
        floats may require grad."""
        op = getattr(self, "_op", None)  # (unset while copy.deepcopy restores the slots: _op comes later)
        if op is not None and (assigned or not flag):
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables (PyTorch's error); this Tensor "
                f"was computed by '{op.name}'. Use t.detach() to get a leaf with the same data, "
                "which requires no grad"
            )
        self._requires_grad = _may_require_grad(self.data.dtype, flag)

    # `t.requires_grad = flag` is checked as PyTorch checks it. Reading it calls a C getter (about
    # 20 ns more than a plain attribute, which is why the hot paths below read `_requires_grad`).
    if not TYPE_CHECKING:  # (a type checker sees a typed one, declared at the end of the class)
        requires_grad = property(operator.attrgetter("_requires_grad"), _set_requires_grad)

    # -- making results -------------------------------------------------------------------------

    @staticmethod
    def apply(op: Op, *inputs: Any) -> Tensor:
        """Apply an operation to Tensors (arrays and numbers become constants). The way to
        define a custom operation:

        >>> square = Op("square", lambda x: x * x, lambda g, out, x: (g * 2 * x,))
        >>> Tensor.apply(square, Tensor([1.0, 3.0])).data
        array([1., 9.])

        The rule receives arrays in a normal backward pass and Tensors under
        `grad(..., create_graph=True)`. It may return `g` itself for at most one input (return
        a copy for the others), and None for inputs that need no gradient.
        """
        guards.check_op_first(op, Op)
        if all(type(x) is Tensor for x in inputs):  # Speed: the usual case, nothing to convert
            parents = inputs
        else:
            parents = _as_operands(inputs, op.name)
        if RULES.get(op.name) is op:  # an entry of the rule table: as Tensor's own operators apply it
            return _elementwise(op, *parents)
        token = _enter_quiet(_IGNORE_ALL)
        try:
            data = op.array_forward(*[p.data for p in parents])
        finally:
            _leave_quiet(token)
        if type(data) is not np.ndarray or data.dtype not in _FLOAT_DTYPES:
            data = np.asarray(data)  # an int64 or bool result of int64 or bool inputs stays one
            if data.dtype not in _FLOAT_DTYPES and (
                data.dtype not in _TENSOR_DTYPES or any(p.data.dtype.kind == "f" for p in parents)
            ):
                data = data.astype(np.float64)
        return _result(data, parents, op, any(p.requires_grad for p in parents))

    def _seed(self) -> np.ndarray:
        if self.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this Tensor has shape "
                f"{self.shape}. Reduce it first (e.g. .sum() or .mean()) or give its gradient, an array "
                f"of shape {self.shape}: backward(gradient=...), or grad_outputs=... in grad()."
            )
        return np.ones(self.data.shape, dtype=self.data.dtype)

    def _raw(self, value: Any) -> np.ndarray:
        data = value.data if isinstance(value, Node) else value
        _refuse_nodes_inside(data, "the gradient")
        try:
            arr = _quiet_array(data, self.data.dtype)  # a copy: the walk may keep it as a .grad
        except OverflowError:
            raise ValueError(f"gradient {value!r:.60} holds an int too large for a float") from None
        except (ValueError, TypeError):
            raise TypeError(
                f"gradient must be an array of numbers, got {type(value).__name__}: {value!r:.60}"
            ) from None
        if arr.shape != self.data.shape:
            raise ValueError(
                f"gradient has shape {arr.shape} but the Tensor has shape {self.data.shape}; they must be equal"
            )
        return arr

    def _constant_like(self, value: Any) -> Tensor:
        if isinstance(value, Tensor):
            return value
        if type(value) is np.ndarray and value.dtype == self.data.dtype and value.flags.writeable:
            return _constant(value)
        return _constant(_quiet_array(value, self.data.dtype))  # e.g. a read-only broadcast view

    def _grad_after(self, grad: Any, total: Any) -> Any:
        if total is None or (self._op is not None and not self._retains_grad):
            return grad  # intermediate Tensors keep no gradient (memory), unless retain_grad()
        dtype = self.data.dtype
        if total.shape != self.data.shape:
            raise RuntimeError(
                f"internal error: a gradient of shape {total.shape} reached a Tensor of shape "
                f"{self.data.shape}; a custom Op's backward must return one array per input, of its shape"
            )
        if grad is None:
            if (
                type(total) is np.ndarray
                and total.dtype == dtype
                and total.flags.writeable
                and self._op is None
            ):
                return total  # this pass made it for this leaf alone: keep it, no copy
            return _quiet_array(total, dtype)
        token = _enter_quiet(_IGNORE_ALL)  # a float32 sum may overflow to inf: no warning
        try:
            return grad + (total if total.dtype == dtype else total.astype(dtype))
        finally:
            _leave_quiet(token)

    # -- the public surface -------------------------------------------------------------------------

    @property
    def shape(self) -> Shape:
        return self.data.shape  # type: ignore[no-any-return]

    @property
    def ndim(self) -> int:
        return self.data.ndim  # type: ignore[no-any-return]

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype  # type: ignore[no-any-return]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    def size(self, dim: int | None = None) -> Any:
        """The shape (PyTorch's `x.size()`), or the length of axis `dim` (`x.size(0)`)."""
        if dim is None:
            return self.shape
        return self.shape[_dim(dim, self.ndim, "size", self.shape)]

    def dim(self) -> int:
        """The number of axes (PyTorch's name for `ndim`)."""
        return self.ndim

    def numpy(self) -> np.ndarray:
        """The data array itself (shared, not copied, as in PyTorch)."""
        return self.data  # type: ignore[no-any-return]

    def item(self) -> Any:
        """The one number of a one-element Tensor: a float, or an int or bool for an int64 or
        bool Tensor."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): a Tensor with {self.data.size} elements (shape {self.shape}) is not one number"
            )
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """A one-element int64 or bool Tensor as an index, as PyTorch's: `classes[predicted[j]]`."""
        if self.data.dtype.kind == "f" or self.data.size != 1:
            raise TypeError(
                f"only integer Tensors of a single element can be converted to an index (PyTorch's rule); "
                f"this one is {self.dtype} of shape {self.shape}"
            )
        return int(self.item())

    def __format__(self, spec: str) -> str:
        """f"{loss:.4f}" works for a one-element Tensor, as in PyTorch."""
        if spec and self.data.size == 1:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d Tensor")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is None and not copy:
            return self.data  # type: ignore[no-any-return]
        return np.array(self.data, dtype=dtype)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = []
        if self.data.dtype != np.float64:
            extras.append(f"dtype={self.data.dtype}")
        if self._op is not None:
            extras.append(f"op={self._op.name!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.label:
            extras.append(f"label={self.label!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    def backward(
        self,
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
        guards.check_backward_options(create_graph)
        if inputs is None:
            engine.backward(self, gradient)
        else:
            gradients.backward_into([self], [gradient], inputs)

    def zero_grad(self) -> None:
        """Forget the gradient: `.grad` becomes None (PyTorch 2's default)."""
        self.grad = None
        self._passes = 0

    def retain_grad(self) -> None:
        """Keep this intermediate Tensor's gradient in `.grad` on the next backward passes."""
        if not self.requires_grad:
            raise RuntimeError(
                "can't retain_grad on Tensor that has requires_grad=False: it gets no gradient; "
                "compute it from a Tensor that requires grad"
            )
        if self._op is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """Whether backward keeps this intermediate Tensor's gradient in `.grad`: True after
        `retain_grad()`, False on leaves (they always keep theirs), as PyTorch's."""
        return self._retains_grad

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient tracking of a leaf on (or off), in place; returns self."""
        self._switch_requires_grad(
            true_or_false(requires_grad, "requires_grad_(): requires_grad"), assigned=False
        )
        return self

    def detach(self) -> Tensor:
        """A new leaf sharing this data, cut from the graph (it does not require grad)."""
        t = _constant(self.data)
        t.label = self.label
        t._origin = "detach"
        return t

    def detach_(self) -> Tensor:
        """This Tensor cut from the graph that made it, in place: a leaf that does not require
        grad, its data kept (an RNN's state between minibatches: `state.detach_()`); returns it.
        Its data and `_version` do not change (Tensors sharing its memory are not touched). A
        graph made from a computed Tensor before is refused afterwards, since it would lose the
        gradient through it (PyTorch's refuses where it saved the Tensor, runs elsewhere). Views
        are not tracked here: PyTorch refuses `h[0:1].detach_()`, here it detaches that Tensor."""
        if self._op is not None:  # a graph made from it before would be cut here: make it stale
            guards.clock[0] += 1
            self._born = guards.clock[0]
        self._parents, self._op, self.requires_grad, self._origin = (), None, False, "detach_"
        return self

    def float(self) -> Tensor:
        """As float32 (this Tensor itself if it is): PyTorch's `.float()`. The gradient goes
        back in this Tensor's dtype."""
        return _cast(self, _FLOAT32)

    def double(self) -> Tensor:
        """As float64 (this Tensor itself if it is): PyTorch's `.double()`."""
        return _cast(self, _FLOAT64)

    def long(self) -> Tensor:
        """As int64, without gradient (floats truncated toward 0): PyTorch's `.long()`. A float
        int64 cannot hold (nan, inf, 1e30) is a ValueError (PyTorch makes -2**63 of it)."""
        return _cast(self, _INT64)

    def to(self, *targets: Any, device: Any = None, dtype: Any = None) -> Tensor:
        """PyTorch's `x.to(device)`, `x.to(dtype)`, `x.to(device, dtype)`: the CPU is the one
        device here (a device "cpu" changes nothing); a dtype float32, float64, int64 or bool
        casts as `float()`, `double()`, `long()` and `bool()` do."""
        wanted = requested_dtype((*targets, device, dtype), "to", integers=True)
        return self if wanted is None else _cast(self, wanted)

    def type(self, dtype: Any) -> Tensor:
        """PyTorch's `x.type(dtype)`: `x.to(dtype)` (a dtype is required here)."""
        return self.to(dtype=dtype)

    def cpu(self) -> Tensor:
        """This Tensor: it is on the CPU already (PyTorch's `x.cpu()`, as in `x.detach().cpu().numpy()`)."""
        return self

    @property
    def device(self) -> devices.device:
        """The device of the data: the CPU, the one device here (PyTorch's `x.device`; it equals "cpu")."""
        return CPU

    @property
    def grad_fn(self) -> GradFn | None:
        """The step of the graph that made this Tensor, with its `next_functions` (PyTorch's
        `x.grad_fn`); None for a leaf, a constant, or a result made under no_grad()."""
        return grad_fn_of(self)

    # -- PyTorch's in-place methods: t's own array changes, where no graph must record it ----------------

    def _refuse_recorded_change(self, what: str, other: Any = None) -> None:
        """PyTorch records an in-place change in the graph; here a graph never records one, so a
        change that would need it is refused with what to write instead."""
        if not _modes.grad_enabled:
            return
        if self.requires_grad and self._op is None:
            raise RuntimeError(
                f"{what}: a leaf Variable that requires grad is being used in an in-place operation "
                "(PyTorch's words: it cannot change while gradients are recorded); change it inside "
                "`with no_grad():`"
            )
        if self.requires_grad or (isinstance(other, Tensor) and other.requires_grad):
            raise RuntimeError(
                f"{what}: this change would have to be recorded in the graph (a Tensor in it requires "
                "grad), which micrograd_plus does not do; make a new Tensor instead (t = t + x, "
                "mg.where(mask, x, t), mg.cat), or change it inside `with no_grad():`"
            )

    def _assign(self, index: Any, value: Any, what: str) -> None:
        """t[index] = value in t's own array (numpy broadcasting), as PyTorch's `t[index] = value`."""
        self._refuse_recorded_change(what, value)
        if isinstance(value, Node) and not isinstance(value, Tensor):
            raise TypeError(f"{what}: cannot write a {type(value).__name__} into a Tensor; use its .data")
        guards.check_writeable(self, what)
        # Numbers only, as Tensor() takes them; into int64 converted exactly (2**63 - 1 stays), and
        # a float int64 cannot hold refused (numpy would write -2**63; PyTorch refuses a number).
        try:
            source = _as_array(value, _INT64 if self.data.dtype == _INT64 else None)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{what}: {error}") from None
        try:
            with np.errstate(all="ignore"):  # 1e300 into float32 is inf, as Tensor() makes it
                self.data[index] = source
        except (ValueError, TypeError) as error:
            raise type(error)(f"{what} on a Tensor of shape {self.shape}: {error}") from None
        guards.mark_changed(self)

    def __setitem__(self, index: Any, value: Any) -> None:
        """`t[:, 1] = 0`, as PyTorch: written into t's own array (numpy indexing and broadcasting),
        where no graph must record it (t and value need no gradient, or under no_grad())."""
        self._assign(_check_index(index), value, "t[...] = value")

    def copy_(self, src: Any) -> Tensor:
        """`src`'s numbers (broadcast to t's shape) written into t's own array; returns t."""
        self._assign(Ellipsis, src, "copy_()")
        return self

    def zero_(self) -> Tensor:
        """Zeros written into t's own array; returns t."""
        self._assign(Ellipsis, 0.0, "zero_()")
        return self

    def t(self) -> Tensor:
        """A matrix transposed, as PyTorch's `t()` (a 0-d or 1-d Tensor as it is)."""
        if self.data.ndim > 2:
            raise ValueError(
                f"t() expects a Tensor with <= 2 dimensions, got shape {self.shape}; use permute or mT"
            )
        return self.T

    def t_(self) -> Tensor:
        """t transposed in place (a view of the same memory); returns t."""
        transposed = self.t()  # (checks the shape)
        self._refuse_recorded_change("t_()")
        self.data = transposed.data
        guards.mark_changed(self)
        return self

    # -- arithmetic -------------------------------------------------------------------------------------

    __add__, __radd__ = _operators(_binary(ADD), ADD.name)
    __sub__, __rsub__ = _operators(_binary(SUB), SUB.name)
    __mul__, __rmul__ = _operators(_binary(MUL), MUL.name)
    __truediv__, __rtruediv__ = _operators(_binary(DIV), DIV.name)
    __pow__, __rpow__ = _operators(_binary(POW), POW.name)
    __floordiv__, __rfloordiv__ = _operators(_binary(FLOOR_DIVIDE), FLOOR_DIVIDE.name)
    __mod__, __rmod__ = _operators(_binary(REMAINDER), REMAINDER.name)
    # t -= x changes t itself under no_grad() (PyTorch's update); a leaf requiring grad refuses it.
    __iadd__, __isub__, __imul__, __itruediv__, __ifloordiv__, __imod__ = (
        guards.in_place(s, refuse_leaf=True) for s in ("+", "-", "*", "/", "//", "%")
    )

    def add_(self, other: Operand) -> Tensor:
        """`t += other` in t's own array, as PyTorch's `add_`; returns t."""
        return _in_place_method(self, other, "add_", "__iadd__")

    def sub_(self, other: Operand) -> Tensor:
        """`t -= other` in t's own array, as PyTorch's `sub_`; returns t."""
        return _in_place_method(self, other, "sub_", "__isub__")

    def mul_(self, other: Operand) -> Tensor:
        """`t *= other` in t's own array, as PyTorch's `mul_`; returns t."""
        return _in_place_method(self, other, "mul_", "__imul__")

    def div_(self, other: Operand) -> Tensor:
        """`t /= other` in t's own array, as PyTorch's `div_`; returns t."""
        return _in_place_method(self, other, "div_", "__itruediv__")

    def add(self, other: Operand) -> Tensor:
        """`self + other`, by PyTorch's name."""
        return self + other  # type: ignore[no-any-return]

    def sub(self, other: Operand) -> Tensor:
        """`self - other`, by PyTorch's name."""
        return self - other  # type: ignore[no-any-return]

    def mul(self, other: Operand) -> Tensor:
        """`self * other`, by PyTorch's name."""
        return self * other  # type: ignore[no-any-return]

    def div(self, other: Operand) -> Tensor:
        """`self / other`, by PyTorch's name."""
        return self / other  # type: ignore[no-any-return]

    def pow(self, exponent: Any) -> Tensor:
        """`self ** exponent`, by PyTorch's name."""
        return self**exponent  # type: ignore[no-any-return]

    def floor_divide(self, other: Operand) -> Tensor:
        """`self // other`, rounded toward minus infinity, as `torch.floor_divide` (PyTorch has no
        derivative for it: backward through it raises, as there)."""
        return self // other  # type: ignore[no-any-return]

    def remainder(self, other: Operand) -> Tensor:
        """`self % other`, with the sign of `other` (Python's %), as `torch.remainder`. Gradient 1
        for self, -(self // other) for other."""
        return self % other  # type: ignore[no-any-return]

    def fmod(self, other: Operand) -> Tensor:
        """The remainder of self / other rounded toward 0, with the sign of self (C's fmod), as
        `torch.fmod`. Gradient 1 for self, -trunc(self / other) for other."""
        result = _fmod(self, other)
        if result is NotImplemented:
            raise TypeError(f"fmod() takes a Tensor, an array or a number, got {type(other).__name__}")
        return result  # type: ignore[no-any-return]

    __matmul__, __rmatmul__ = _operators(lambda a, b: _matmul(a, b), "@")

    def matmul(self, other: Operand) -> Tensor:
        """Matrix product like `np.matmul`: 1-D operands and batch axes as numpy treats them."""
        return self.__matmul__(other)  # type: ignore[no-any-return]

    def __neg__(self) -> Tensor:
        return _unary(_on_arrays(NEG, _NEEDED), self)

    def __pos__(self) -> Tensor:
        return self

    def __invert__(self) -> Tensor:
        """`~mask`: not, of a bool Tensor (bitwise not of an int64 one), as PyTorch's."""
        if self.data.dtype.kind == "f":
            raise TypeError(
                f"'~' takes an int64 or bool Tensor (a mask), got {self.dtype}; use 1 - x for floats"
            )
        return _index_result(np.invert(self.data))

    def __abs__(self) -> Tensor:
        return _unary(_on_arrays(ABS, _NEEDED), self)

    def neg(self) -> Tensor:
        return _unary(_on_arrays(NEG, _NEEDED), self)

    def exp(self) -> Tensor:
        return _unary(_on_arrays(EXP, _NEEDED), self)

    def log(self) -> Tensor:
        return _unary(_on_arrays(LOG, _NEEDED), self)

    def tanh(self) -> Tensor:
        return _unary(_on_arrays(TANH, _NEEDED), self)

    def sigmoid(self) -> Tensor:
        return _unary(_on_arrays(SIGMOID, _NEEDED), self)

    def relu(self) -> Tensor:
        return _unary(_on_arrays(RELU, _NEEDED), self)

    def abs(self) -> Tensor:
        return _unary(_on_arrays(ABS, _NEEDED), self)

    def sqrt(self) -> Tensor:
        return _unary(_on_arrays(SQRT, _NEEDED), self)

    def sin(self) -> Tensor:
        return _unary(_on_arrays(SIN, _NEEDED), self)

    def cos(self) -> Tensor:
        return _unary(_on_arrays(COS, _NEEDED), self)

    # -- reductions -------------------------------------------------------------------------------------

    def sum(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False
    ) -> Tensor:
        """Sum over `axis` (None: all; an int or a tuple of ints), like `np.sum`; PyTorch's
        `dim` and `keepdim` are the same arguments."""
        if dim is not None or keepdim:  # (a test, not a call: sum() is on every training step's path)
            axis, keepdims = _axis_or_dim(axis, keepdims, dim, keepdim)
        if axis is None and not keepdims:
            return _unary(_SUM_ALL, self)
        axes = _axes(axis, self.data.shape, "sum")
        return _unary(_sum_op(axes, bool(keepdims), _kept_shape(self.data.shape, axes)), self)

    def mean(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False
    ) -> Tensor:
        """Mean over `axis` (None: all; an int or a tuple of ints), like `np.mean`; PyTorch's
        `dim` and `keepdim` are the same arguments."""
        if dim is not None or keepdim:
            axis, keepdims = _axis_or_dim(axis, keepdims, dim, keepdim)
        shape = self.data.shape
        axes = _axes(axis, shape, "mean")
        count = math.prod(shape[a] for a in axes)
        return _unary(_mean_op(axes, bool(keepdims), _kept_shape(shape, axes), count), self)

    def var(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
    ) -> Tensor:
        """The variance over `dim` (None: all), as `torch.var`: the squared deviations from the
        mean summed and divided by N - `correction` (1 unless given: the unbiased estimate;
        `unbiased=False` is correction 0). Fewer than correction + 1 elements give nan or inf."""
        return _variance(self, dim, unbiased, keepdim, correction, "var")

    def std(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None
    ) -> Tensor:
        """The standard deviation, `var(...).sqrt()` (the same arguments as `var`). Where it is 0,
        its gradient is 0, as in PyTorch."""
        return _root_with_zero_gradient_at_zero(_variance(self, dim, unbiased, keepdim, correction, "std"))

    def norm(self, p: Any = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
        """The vector norm over `dim` (None: all elements), as `torch.norm`: p=2 (or "fro"), the
        square root of the sum of squares, whose gradient is 0 where it is 0, as in PyTorch;
        p=1, the sum of absolute values."""
        _axes(dim, self.data.shape, "norm")  # (checked here too, so that an error names norm)
        if p == 1 and not isinstance(p, bool):
            return abs(self).sum(dim, keepdims=keepdim)  # type: ignore[no-any-return]
        if p not in (2, "fro") or isinstance(p, bool):
            raise ValueError(f'norm(): p must be 1, 2 or "fro", got {p!r:.60}')
        return _root_with_zero_gradient_at_zero((self * self).sum(dim, keepdims=keepdim))

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool = False) -> Any:
        """As PyTorch's `x.max`: without `dim`, the largest element (a 0-d Tensor; tied maxima share
        the gradient); with `dim` (an int), the pair `(values, indices)` along it, as in
        `_, predicted = outputs.max(1)`: the first index on ties (nan counts as largest), the
        gradient going to that element; with a Tensor, `maximum(other)`. `amax` gives the values
        only, ties sharing the gradient."""
        return self._extreme_or_pair("max", dim, keepdim, axis, keepdims)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool = False) -> Any:
        """As PyTorch's `x.min`: the smallest element; `(values, indices)` along `dim`; with a
        Tensor, `minimum(other)` (see `max`)."""
        return self._extreme_or_pair("min", dim, keepdim, axis, keepdims)

    def amax(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False
    ) -> Tensor:
        """Largest values over `axis` or `dim` (None: all; an int or a tuple), as `torch.amax` and
        `np.max` (nan wins); tied maxima share the gradient evenly."""
        return self._extreme("amax", _max_op, *_axis_or_dim(axis, keepdims, dim, keepdim))

    def amin(
        self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool = False
    ) -> Tensor:
        """Smallest values over `axis` or `dim` (None: all; an int or a tuple), as `torch.amin` and
        `np.min` (nan wins); tied minima share the gradient evenly."""
        return self._extreme("amin", _min_op, *_axis_or_dim(axis, keepdims, dim, keepdim))

    def maximum(self, other: Operand) -> Tensor:
        """The larger of the two at each element (broadcast), as `torch.maximum` (nan wins): the
        gradient goes to the larger, and a tie splits it in half between the two, as PyTorch's."""
        return _elementwise(_MAXIMUM, *_as_operands((self, other), "maximum()"))

    def minimum(self, other: Operand) -> Tensor:
        """The smaller of the two at each element, as `torch.minimum` (nan wins; ties as `maximum`)."""
        return _elementwise(_MINIMUM, *_as_operands((self, other), "minimum()"))

    def _extreme_or_pair(self, name: str, dim: Any, keepdim: bool, axis: Any, keepdims: bool) -> Any:
        """max and min: of all elements, along one dim (values and indices), or of two Tensors."""
        dim, keepdim = _axis_or_dim(axis, keepdims, dim, keepdim)
        if isinstance(dim, (Tensor, np.ndarray)):  # PyTorch's `x.max(other)`
            if keepdim:
                raise TypeError(f"{name}(other): keepdim has no meaning for two Tensors")
            return self.maximum(dim) if name == "max" else self.minimum(dim)
        if dim is None:
            if keepdim:
                raise TypeError(
                    f"{name}(): keepdim needs a dim, as in PyTorch (or use a{name}(keepdim=True))"
                )
            make_op = functools.partial(_max_op if name == "max" else _min_op, nan_shares=True)
            return self._extreme(name, make_op, None, False)
        if isinstance(dim, (tuple, list)):
            raise TypeError(f"{name}(dim) takes one int dim, got {dim!r:.60}; a{name}(dim) takes a tuple")
        picks = self._arg_extreme(f"arg{name}", dim, True, None, who=name)  # (checks dim: not empty)
        if self.data.ndim == 0:  # one number along dim 0 or -1
            values = self.reshape(1).gather(dim, picks.reshape(1))
        else:
            values = self.gather(dim, picks)  # the gradient goes to the element picked
        if not keepdim or self.data.ndim == 0:
            values, picks = values.squeeze(dim), picks.squeeze(dim)
        return ValuesIndices(values, picks)

    def _extreme(self, name: str, make_op: Callable[..., Op], axis: Any, keepdims: bool) -> Tensor:
        shape = self.data.shape
        axes = _axes(axis, shape, name)
        if any(shape[a] == 0 for a in axes):
            raise ValueError(f"{name}() of an empty axis (shape {shape}, axis {axis!r}) has no value")
        return _unary(make_op(axes, keepdims, _kept_shape(shape, axes)), self)

    # -- shapes -----------------------------------------------------------------------------------------

    def reshape(self, *shape: Any) -> Tensor:
        """The same numbers in a new shape, given as sizes or one tuple; one size may be -1."""
        shape = sizes_given(shape)
        try:
            data = self.data.reshape(shape)
        except (ValueError, TypeError) as error:
            raise type(error)(
                f"cannot reshape a Tensor of shape {self.shape} into {shape}: {error}"
            ) from None
        op = Op("reshape", lambda x: x.reshape(shape), _reshape_rule)
        return _result(data, (self,), op, self._requires_grad)

    def transpose(self, *axes: Any) -> Tensor:
        """Two dims swapped, as PyTorch's `x.transpose(0, 1)`; otherwise axes permuted as
        `np.transpose`'s: reversed without arguments, else in the order given (one tuple, or three
        or more dims; numpy's two-dim order on a matrix, `(1, 0)`, is the swap too)."""
        if not axes or axes == (None,):
            return _unary(_REVERSE_AXES, self)
        if len(axes) == 2 and all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
            ndim = self.ndim or 1  # a 0-d Tensor takes dim 0 or -1, as in PyTorch
            first, second = (_dim(a, ndim, "transpose", self.shape) for a in axes)
            order = list(range(self.ndim))
            if self.ndim:
                order[first], order[second] = order[second], order[first]
            return self.permute(order)
        axes = sizes_given(axes)
        try:
            data = self.data.transpose(axes)
        except (ValueError, TypeError) as error:
            raise _error_kind(error)(
                f"transpose{axes}: not a permutation of the axes of shape {self.shape} ({error})"
            ) from None
        ndim = self.data.ndim
        return _result(data, (self,), _transpose_op(tuple(int(a) % ndim for a in axes)), self._requires_grad)

    @property
    def T(self) -> Tensor:
        """The axes reversed (a matrix transposed)."""
        return _unary(_REVERSE_AXES, self)

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of matrices, each transposed)."""
        if self.data.ndim < 2:
            raise ValueError(f"mT needs at least 2 dimensions, got shape {self.shape}")
        return _unary(_MATRIX_TRANSPOSE, self)

    def __getitem__(self, index: Any) -> Tensor:
        """numpy indexing: ints, slices, `...`, None, int arrays, boolean masks. The gradient goes
        back to the picked elements; an element picked twice gets both gradients."""
        index = _own_index(_check_index(index))
        try:
            data = self.data[index]
        except OverflowError:  # an int index beyond int64
            raise IndexError(
                f"index {index!r:.60} is out of range for a Tensor of shape {self.shape}"
            ) from None
        return _result(data, (self,), _getitem_op(index), self._requires_grad)

    # -- softmax ----------------------------------------------------------------------------------------

    def softmax(self, axis: int = -1, dtype: Any = None, *, dim: int | None = None) -> Tensor:
        """exp(x) / sum(exp(x)) along `axis` (PyTorch's `dim`), computed after subtracting the
        maximum (no overflow); in `dtype` (float32 or float64) if given, as PyTorch's."""
        x, axis = self._softmax_input(axis, dim, dtype, "softmax")
        if x.data.ndim == 0:  # one number along its only "axis", as PyTorch: softmax 1, log_softmax 0
            return x.reshape(1).softmax(0).reshape(())
        return _unary(_softmax_op(axis), x)

    def log_softmax(self, axis: int = -1, dtype: Any = None, *, dim: int | None = None) -> Tensor:
        """log(softmax(x)) along `axis` (PyTorch's `dim`), computed stably (no exp overflow, no
        log of 0); in `dtype` (float32 or float64) if given, as PyTorch's."""
        x, axis = self._softmax_input(axis, dim, dtype, "log_softmax")
        if x.data.ndim == 0:
            return x.reshape(1).log_softmax(0).reshape(())
        return _unary(_log_softmax_op(axis), x)

    def _softmax_input(self, axis: int, dim: int | None, dtype: Any, name: str) -> tuple[Tensor, int]:
        """The Tensor a softmax works on (converted to `dtype`) and its axis, checked (0-d: 0 or -1)."""
        if dim is not None:
            if axis != -1:  # (as concat's `_join_axis`: the same argument by its two names)
                raise TypeError(f"{name}(): give axis or dim, not both (got axis={axis!r}, dim={dim!r})")
            axis = dim
        _dim(axis, max(self.data.ndim, 1), name, self.shape, "axis" if dim is None else "dim")
        return (self if dtype is None else _cast(self, dtype_argument(dtype, f"{name}()"))), axis

    # -- comparisons: bool Tensors, == too (as PyTorch's); hash stays by identity --------------------

    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        """Elementwise, as `torch.eq`: a bool Tensor, `(preds == labels).float().mean()`. Sets and dicts of Tensors still
        work (they hash by identity and look at identity first), but `in` on a list and
        `list.index` compare elementwise, as in PyTorch: use `is` for identity. A Tensor equals
        no Value, string or None (`t == "mean"` is False, as in PyTorch)."""
        return _compared(self, other, operator.eq) if _comparable(other) else NotImplemented

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return _compared(self, other, operator.ne) if _comparable(other) else NotImplemented

    __hash__ = Node.__hash__

    def __lt__(self, other: Any) -> Tensor:
        return _compared(self, other, operator.lt)

    def __le__(self, other: Any) -> Tensor:
        return _compared(self, other, operator.le)

    def __gt__(self, other: Any) -> Tensor:
        return _compared(self, other, operator.gt)

    def __ge__(self, other: Any) -> Tensor:
        return _compared(self, other, operator.ge)

    # -- PyTorch's names: shapes, indices of extremes, clamp and gather (issue 16) ----------------------

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's name for `reshape` (numpy copies where a view is impossible, so any order works)."""
        return self.reshape(*shape)

    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of size 1 at position `dim` (from -ndim-1 to ndim), as `torch.unsqueeze`."""
        d = _dim(dim, self.data.ndim + 1, "unsqueeze", self.shape)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim: Any = None) -> Tensor:
        """The axes of size 1 removed: all of them, or those among `dim` (an int or a tuple);
        an axis named in `dim` whose size is not 1 stays, as in PyTorch."""
        shape = self.shape
        if dim is None:
            drop = {i for i, n in enumerate(shape) if n == 1}
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            ndim = max(len(shape), 1)  # a 0-d Tensor takes dim 0 or -1, as in PyTorch
            drop = {
                d for d in (_dim(d, ndim, "squeeze", shape) for d in dims) if d < len(shape) and shape[d] == 1
            }
        return self.reshape(tuple(n for i, n in enumerate(shape) if i not in drop))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """The axes from `start_dim` to `end_dim` (both included) joined into one, as `torch.flatten`;
        a 0-d Tensor becomes 1-d."""
        shape = self.shape
        ndim = max(len(shape), 1)
        start = _dim(start_dim, ndim, "flatten", shape)
        end = _dim(end_dim, ndim, "flatten", shape)
        if start > end:
            raise ValueError(
                f"flatten(start_dim={start_dim}, end_dim={end_dim}): start_dim comes after end_dim "
                f"for a Tensor of shape {shape}"
            )
        if not shape:
            return self.reshape(1)
        return self.reshape(shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])

    def permute(self, *dims: Any) -> Tensor:
        """The axes in the order given (one entry per axis), as `torch.permute`."""
        dims = sizes_given(dims)
        if len(dims) != self.data.ndim:
            raise ValueError(
                f"permute{dims}: a Tensor of shape {self.shape} needs one entry per axis ({self.data.ndim})"
            )
        return self.transpose(dims) if dims else self

    def argmax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        """Indices (an int64 Tensor, without gradient) of the largest values along `dim`, or of
        the flattened Tensor when None; the first one on ties, nan counting as largest, as in
        PyTorch."""
        return self._arg_extreme("argmax", dim, keepdim, axis)

    def argmin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        """Indices (an int64 Tensor, without gradient) of the smallest values along `dim`
        (flattened when None); the first on ties, nan counting as smallest, as in PyTorch."""
        return self._arg_extreme("argmin", dim, keepdim, axis)

    def _arg_extreme(self, name: str, dim: Any, keepdim: bool, axis: Any, who: str = "") -> Tensor:
        """np.argmax or np.argmin (`name`) as PyTorch's, errors naming `who` (max(dim): "max")."""
        axis, keepdims = _axis_or_dim(axis, keepdim, dim, False)
        data, who = self.data, who or name
        if axis is None:
            if data.size == 0:
                raise ValueError(f"{who}() of an empty Tensor (shape {self.shape}) has no index; give a dim")
        else:
            d = _dim(axis, max(data.ndim, 1), who, self.shape)
            if data.ndim and data.shape[d] == 0:
                raise ValueError(f"{who}() along dim {axis} of shape {self.shape}: that axis is empty")
            axis = d if data.ndim else None
        found = getattr(np, name)(data, axis=axis, keepdims=keepdims)
        return _index_result(np.asarray(found, dtype=np.int64))

    @property
    def values(self) -> Tensor:
        """Not a Tensor's: `x.max(dim).values` is the pair's; this raises an AttributeError that says so."""
        raise AttributeError(_NO_VALUES_OR_INDICES.format("values"))

    @property
    def indices(self) -> Tensor:
        """Not a Tensor's: `x.max(dim).indices` is the pair's; this raises an AttributeError that says so."""
        raise AttributeError(_NO_VALUES_OR_INDICES.format("indices"))

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """Each element limited to [min, max] (either may be None), as `torch.clamp`: the gradient
        passes where min <= x <= max, and nowhere for a nan; min > max gives max everywhere.
        Tensor bounds broadcast with x and get the gradient where the output is theirs."""
        if min is None and max is None:
            raise ValueError(
                "clamp(): give min, max or both (numbers or Tensors); at least one must not be None"
            )
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return _clamp_by_tensors(self, min, max)
        low, high = _bound(min, "min"), _bound(max, "max")
        if self.data.dtype.kind != "f" and all(
            isinstance(v, (int, np.integer)) for v in (min, max) if v is not None
        ):
            low, high = (None if v is None else int(v) for v in (min, max))  # int64 stays int64, as torch's
        return _unary(_clamp_op(low, high), self)

    def gather(self, dim: int, index: Any) -> Tensor:
        """Pick along `dim` by `index`, as `torch.gather`: `out[i][j] = self[index[i][j]][j]` for
        dim 0, `out[i][j] = self[i][index[i][j]]` for dim 1. `index` (int array, or whole numbers)
        has this Tensor's number of axes, and no other axis longer than this Tensor's. An element
        picked twice gets both gradients."""
        if self.data.ndim == 0:
            raise ValueError("gather() needs a Tensor with at least one axis; reshape(1) a 0-d one")
        d = _dim(dim, self.data.ndim, "gather", self.shape)
        picks = _gather_index(index, d, self.shape)
        grid: list[np.ndarray] = list(np.indices(picks.shape, sparse=True))
        grid[d] = picks
        full = tuple(grid)
        return _result(self.data[full], (self,), _gather_op(full), self.requires_grad)

    # The methods that tensor_methods.py, sorting.py, tensor_algebra.py and sampling.py attach
    # when they are imported (they build on this class), declared here with their types for type
    # checkers (tests/test_typed_user_code.py checks them); requires_grad, a property of C getter
    # above, as the bool it is. (These two first: `bool` below hides Python's bool.)
    if TYPE_CHECKING:

        @property
        def requires_grad(self) -> bool: ...
        @requires_grad.setter
        def requires_grad(self, requires_grad: bool) -> None: ...
        @overload  # (x.nonzero(as_tuple=True) is a tuple)
        def nonzero(self, *, as_tuple: Literal[False] = False) -> Tensor: ...
        @overload
        def nonzero(self, *, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...
        @overload
        def nonzero(self, *, as_tuple: bool) -> Tensor | tuple[Tensor, ...]: ...
        def nonzero(self, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]: ...

        clone: Callable[[], Tensor]
        contiguous: Callable[[], Tensor]
        is_contiguous: Callable[[], bool]
        expand: Callable[..., Tensor]
        expand_as: Callable[..., Tensor]
        repeat: Callable[..., Tensor]
        flip: Callable[..., Tensor]
        split: Callable[..., tuple[Tensor, ...]]
        chunk: Callable[..., tuple[Tensor, ...]]
        unbind: Callable[..., tuple[Tensor, ...]]
        square: Callable[[], Tensor]
        sign: Callable[[], Tensor]
        floor: Callable[[], Tensor]
        ceil: Callable[[], Tensor]
        round: Callable[..., Tensor]
        is_floating_point: Callable[[], bool]  # (before the next line, which hides Python's bool)
        bool: Callable[[], Tensor]  # (tensor_methods.py: here it would hide Python's bool)
        eq: Callable[..., Tensor]
        ne: Callable[..., Tensor]
        lt: Callable[..., Tensor]
        le: Callable[..., Tensor]
        gt: Callable[..., Tensor]
        ge: Callable[..., Tensor]
        isnan: Callable[[], Tensor]
        isinf: Callable[[], Tensor]
        isfinite: Callable[[], Tensor]
        all: Callable[..., Tensor]
        any: Callable[..., Tensor]
        __and__: Callable[..., Tensor]
        __rand__: Callable[..., Tensor]
        __or__: Callable[..., Tensor]
        __ror__: Callable[..., Tensor]
        __xor__: Callable[..., Tensor]
        __rxor__: Callable[..., Tensor]
        logsumexp: Callable[..., Tensor]
        prod: Callable[..., Tensor]
        cumsum: Callable[..., Tensor]
        masked_fill: Callable[..., Tensor]
        masked_fill_: Callable[..., Tensor]
        clamp_: Callable[..., Tensor]
        new_tensor: Callable[..., Tensor]
        new_zeros: Callable[..., Tensor]
        new_ones: Callable[..., Tensor]
        index_select: Callable[..., Tensor]
        roll: Callable[..., Tensor]
        lerp: Callable[..., Tensor]
        nan_to_num: Callable[..., Tensor]
        sort: Callable[..., ValuesIndices]
        argsort: Callable[..., Tensor]
        topk: Callable[..., ValuesIndices]
        tril: Callable[..., Tensor]
        triu: Callable[..., Tensor]
        diag: Callable[..., Tensor]
        outer: Callable[..., Tensor]
        bmm: Callable[..., Tensor]
        multinomial: Callable[..., Tensor]

        argwhere: Callable[[], Tensor]
        int: Callable[[], Tensor]  # (always refused: int32; last, as it hides Python's int from here on)


_new_tensor = object.__new__


def _in_place_method(t: Tensor, other: Any, name: str, in_place_operator: str) -> Tensor:
    """`t.add_(x)` and its kin: the in-place operator (`t += x`), where no graph must record it."""
    t._refuse_recorded_change(f"{name}()", other)
    result = getattr(t, in_place_operator)(other)
    if result is NotImplemented:
        raise TypeError(f"{name}() takes a Tensor, an array or a number, got {type(other).__name__}")
    return result  # type: ignore[no-any-return]


def _comparable(x: Any) -> bool:
    """What == and != compare elementwise: Tensors, arrays, lists and numbers (else identity)."""
    return isinstance(x, (Tensor, np.ndarray, list, tuple, numbers.Real))


def _compared(x: Tensor, other: Any, compare: Callable[[Any, Any], Any]) -> Tensor:
    """`compare` (<, ==, ...) of x's data with other's, elementwise: a bool Tensor."""
    data = _compare_data(other)
    try:
        np.broadcast_shapes(x.shape, np.shape(data))
    except ValueError:
        raise ValueError(
            f"cannot compare a Tensor of shape {x.shape} with shape {np.shape(data)}: the shapes do "
            "not broadcast (each trailing axis must be equal or 1); reshape one of them"
        ) from None
    return _index_result(np.asarray(compare(x.data, data)))


def _compare_data(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, Node):
        raise TypeError(f"cannot compare a Tensor with a {type(x).__name__}; compare with its .data")
    _refuse_nodes_inside(x, "a comparison")
    if isinstance(x, int) and not -(2**1024) < x < 2**1024:  # numpy raises OverflowError
        raise ValueError(f"cannot compare a Tensor with {str(x)[:20]}...: too large for a float")
    return x


# --- joining tensors ------------------------------------------------------------------------------------


def _as_inputs(tensors: Sequence[Any], name: str) -> tuple[Tensor, ...]:
    if isinstance(tensors, (Tensor, np.ndarray)) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}() takes a list or tuple of Tensors, got {type(tensors).__name__}")
    if len(tensors) == 0:
        raise ValueError(f"{name}() needs at least one Tensor")
    return _as_operands(tensors, f"{name}()")


_FLOAT64, _FLOAT32 = _FLOAT_DTYPES


@functools.cache  # (four dtypes)
def _cast_op(dtype: np.dtype) -> Op:
    """The data as `dtype`; the gradient goes back in the input's dtype."""
    return _quiet_op(f"to {dtype}", lambda x: x.astype(dtype), lambda g, out, x: (_cast(g, x.dtype),))


def _cast(x: Any, dtype: np.dtype) -> Any:
    """`x` (an array, or a Tensor: then recorded) as `dtype`: itself if it is of that dtype."""
    if x.dtype == dtype:
        return x
    if not isinstance(x, Tensor):
        return x.astype(dtype)
    if dtype.kind != "f" or x.data.dtype.kind != "f":  # an int64 or bool side: no gradient
        token = _enter_quiet(_IGNORE_ALL)
        try:
            data = x.data.astype(dtype)
        finally:
            _leave_quiet(token)
        if dtype == _INT64:
            _refuse_beyond_int64(x.data, data, f"a {x.data.dtype} Tensor made int64 (.long(), .to(int64))")
        return _result(data, (x,), _cast_op(dtype), False)
    return _unary(_cast_op(dtype), x)


def _index_result(data: Any) -> Tensor:
    """An int64 or bool result (a comparison's, argmax's): no gradient, as in PyTorch. (numpy's
    other dtypes, such as round's float16 of bools, become int64 or float64.)"""
    data = np.asarray(data)
    if data.dtype not in _TENSOR_DTYPES:
        data = data.astype(_INT64 if data.dtype.kind in "iu" else _FLOAT64)
    return _result(data, (), _INDICES, False)


_INDICES = Op("indices", lambda: None, lambda g, out: ())  # (names an index result; never run)


def _root_with_zero_gradient_at_zero(x: Tensor) -> Tensor:
    """sqrt(x), with gradient 0 (PyTorch's choice for std and norm) rather than nan where x is
    0: there sqrt's derivative is inf, and inf times the 0 below it is nan."""
    nonzero = x.data != 0
    return where(nonzero, where(nonzero, x, 1.0).sqrt(), 0.0)


def dtype_argument(spec: Any, who: str) -> np.dtype:
    """The dtype a `dtype=` argument names, float32 or float64: numpy's (`np.float32`, "float64")
    or PyTorch's (`torch.float32`)."""
    dtype = float_dtype(spec)
    if dtype is None:
        raise TypeError(
            f"{who}: dtype must be float32 or float64 (mg.float32, np.float64, "
            f"'float64' or torch.float64), got {spec!r:.60}; leave dtype out to keep the input's dtype"
        )
    return dtype


def requested_dtype(targets: Sequence[Any], who: str, integers: bool = False) -> np.dtype | None:
    """The dtype that PyTorch's `.to(...)` arguments ask for (None: none): devices and dtypes,
    None where not given. The CPU is the one device here; any other is refused. A dtype is
    numpy's (`np.float32`, "float32"), or torch's by its name (`torch.float32`); int64 and bool
    only if `integers` (a Tensor's `.to`, a factory; not a Module's)."""
    wanted = None
    known = tensor_dtype if integers else float_dtype
    for target in targets:
        if target is None:
            continue
        from_torch = type(target).__module__.startswith("torch")
        name = (
            str(target).removeprefix("torch.") if from_torch or isinstance(target, devices.device) else target
        )
        if isinstance(name, str) and name.partition(":")[0] in DEVICE_TYPES:
            if devices.device(name).type != "cpu":  # (a bad index is refused there)
                raise ValueError(
                    f"{who}({target!r}): micrograd_plus computes on the CPU only (with numpy); "
                    'use "cpu", or leave the call out'
                )
            continue
        dtype = known(name)
        if dtype is None or (wanted is not None and dtype != wanted):
            kinds = "float32, float64, int64 or bool" if integers else "float32 or float64"
            raise TypeError(f'{who}() takes a device ("cpu") and a dtype ({kinds}), got {target!r:.60}')
        wanted = dtype
    return wanted


def _join_axis(axis: Any, dim: Any, name: str) -> int:
    """numpy's `axis` or PyTorch's `dim` (the same argument), an int."""
    if dim is not None:
        if axis != 0:
            raise TypeError(f"{name}(): give axis or dim, not both (got axis={axis!r}, dim={dim!r})")
        axis = dim
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}(): axis must be an int, got {axis!r:.60}")
    return int(axis)


def concat(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """The Tensors joined along an existing `axis` (or `dim`), like `np.concatenate` and
    `torch.cat`; each gets its slice of the gradient back."""
    inputs = _as_inputs(tensors, "concat")
    axis = _join_axis(axis, dim, "concat")
    datas = [t.data for t in inputs]
    try:
        data = np.concatenate(datas, axis=axis)
    except (ValueError, TypeError, OverflowError) as error:
        shapes = ", ".join(str(d.shape) for d in datas)
        raise _error_kind(error)(f"concat(axis={axis!r}) of shapes {shapes}: {error}") from None
    ax = int(axis) % data.ndim
    bounds = np.cumsum([0] + [d.shape[ax] for d in datas]).tolist()
    needs = [t.requires_grad for t in inputs]
    lead = (slice(None),) * ax

    def rule(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(
            g[lead + (slice(lo, hi),)] if need else None for need, lo, hi in zip(needs, bounds, bounds[1:])
        )

    op = Op("concat", lambda *xs: np.concatenate(xs, axis=axis), rule)
    return _result(data, inputs, op, any(needs))


cat = concat  # PyTorch's name


def stack(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """The Tensors (all of one shape) joined along a new `axis` (or `dim`), like `np.stack` and
    `torch.stack`."""
    inputs = _as_inputs(tensors, "stack")
    axis = _join_axis(axis, dim, "stack")
    datas = [t.data for t in inputs]
    try:
        data = np.stack(datas, axis=axis)
    except (ValueError, TypeError, OverflowError) as error:
        shapes = ", ".join(str(d.shape) for d in datas)
        raise _error_kind(error)(f"stack(axis={axis!r}) of shapes {shapes}: {error}") from None
    ax = int(axis) % data.ndim
    needs = [t.requires_grad for t in inputs]
    lead = (slice(None),) * ax

    def rule(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(g[lead + (i,)] if need else None for i, need in enumerate(needs))

    op = Op("stack", lambda *xs: np.stack(xs, axis=axis), rule)
    return _result(data, inputs, op, any(needs))


# --- PyTorch's names: the helpers of the methods above, and where() (issue 16) ----------------------


class DimensionError(IndexError, ValueError):
    """A dim (an axis) out of range: an IndexError, as PyTorch raises, and a ValueError, as
    micrograd_plus raised before; either `except` catches it."""


def _error_kind(error: Exception) -> type[ValueError]:
    """What to raise for numpy's error: its AxisError (an axis out of range) as a DimensionError."""
    return DimensionError if isinstance(error, IndexError) else ValueError


def _dim(dim: Any, ndim: int, who: str, shape: Shape, noun: str = "dim") -> int:
    """`dim` as an axis from 0 to ndim - 1 (negative counts from the end), or a clear error
    in PyTorch's words: the dim and axis arguments of Tensor's methods are checked here (cat,
    stack, transpose and permute leave it to numpy, whose AxisError becomes a DimensionError)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{who}(): {noun} must be an int, got {dim!r:.60}")
    if not -ndim <= dim < ndim:
        if ndim:
            why = f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})"
            advice = f"use one from {-ndim} to {ndim - 1}"
        else:
            why, advice = (
                f"Dimension specified as {dim} but tensor has no dimensions",
                "a 0-d Tensor has no dims",
            )
        raise DimensionError(
            f"{who}(): {noun} {dim} is out of range for a Tensor of shape {shape}: {why}; {advice}"
        )
    return int(dim) % ndim


# (a PyTorch habit on the pair that `x.max(dim)` gives, tried on a Tensor: `x.amax(dim).values`)
_NO_VALUES_OR_INDICES = (
    "a Tensor has no attribute '{}': x.max(dim) and x.min(dim) give the pair (values, indices), "
    "x.amax(dim) and x.amin(dim) the values alone (a Tensor); write `values, indices = x.max(dim)`"
)


class ValuesIndices(NamedTuple):
    """What `x.max(dim)` and `x.min(dim)` give, as PyTorch's `torch.return_types.max`:
    `values, indices = x.max(1)`, or `.values`, `.indices`."""

    values: Tensor  # the extremes, with their gradient
    indices: Tensor  # int64 indices, as `argmax` gives them (an index has no gradient)


# torch.maximum's and torch.minimum's rule: g to the input that wins, half of g to each on a tie,
# and all of g to both where a nan is involved (it neither wins nor ties).
def _winner_share(g: Any, x: Any, other: Any, loses: Callable[[Any, Any], Any]) -> Any:
    a, b = data_of(x), data_of(other)
    return piecewise_constant(engine_where(loses(a, b), 0.0, engine_where(a == b, g * 0.5, g)), x)


_MAXIMUM = elementwise(
    "maximum",
    np.maximum,
    lambda g, out, a, b: _winner_share(g, a, b, operator.lt),
    lambda g, out, a, b: _winner_share(g, b, a, operator.lt),
)
_MINIMUM = elementwise(
    "minimum",
    np.minimum,
    lambda g, out, a, b: _winner_share(g, a, b, operator.gt),
    lambda g, out, a, b: _winner_share(g, b, a, operator.gt),
)


def _bound(value: Any, name: str) -> float | None:
    if isinstance(value, np.ndarray):
        raise TypeError(
            f"clamp(): {name} must be a number or a Tensor, got an array of shape {value.shape}: "
            "wrap it, Tensor(array)"
        )
    return None if value is None else real_number(value, f"clamp(): {name}")


def _clamp(x: np.ndarray, low: Any, high: Any) -> np.ndarray:
    """x limited to [low, high] (numbers, arrays or None): max(x, low), then min(., high)."""
    if low is not None:
        x = np.maximum(x, low)  # (np.maximum keeps nan, as PyTorch's clamp)
    if high is not None:
        x = np.minimum(x, high)
    return x


def _clamp_takes(x: np.ndarray, low: Any, high: Any) -> tuple[Any, Any, Any]:
    """Where x, low and high each get clamp's gradient, as PyTorch's clamp_backward: x where
    low <= x <= high (a tie goes to x), low where x < low < high, high where x > high or
    high < low. A nan (in any of them) matches no mask, nor does x < low == high: no gradient."""
    take_x = (True if low is None else x >= low) & (True if high is None else x <= high)
    take_low = None if low is None else (x < low) & (True if high is None else low < high)
    take_high = None if high is None else (x > high) | (False if low is None else high < low)
    return np.asarray(take_x), take_low, take_high


def _clamp_op(low: float | None, high: float | None) -> Op:
    def rule(g: Any, out: Any, x: Any) -> tuple[Any]:
        inside = _clamp_takes(data_of(x), low, high)[0]
        return (_gradient_where(inside, g, x),)

    return _quiet_op("clamp", lambda x: _clamp(x, low, high), rule)


def _clamp_by_tensors(x: Tensor, low: Any, high: Any) -> Tensor:
    """x.clamp(low, high) with a Tensor among the bounds (the other a number, a Tensor or None):
    all broadcast together, and each input gets the gradient where `_clamp_takes` says."""
    given = [b for b in (low, high) if b is not None]
    inputs = _as_operands([x, *given], "clamp()")
    has_low, has_high = low is not None, high is not None

    def split(xs: Sequence[Any]) -> tuple[Any, Any, Any]:  # (x, low or None, high or None)
        return xs[0], xs[1] if has_low else None, xs[-1] if has_high else None

    def rule(g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        takes = [t for t in _clamp_takes(*split([data_of(v) for v in xs])) if t is not None]
        return tuple(_gradient_where(t, g, v) for t, v in zip(takes, xs))

    entry = Op("clamp", lambda *xs: _clamp(*split(xs)), rule)
    return _elementwise(entry, *inputs, cache=False)


def int_array(index: Any, who: str) -> np.ndarray:
    """`index` (ints, an int array, or whole numbers: a Tensor of labels) as a new int array, or
    a TypeError naming `who`."""
    picks = np.array(index.data if isinstance(index, Tensor) else index)
    if picks.dtype.kind == "f":  # whole numbers in a float array (a Tensor of labels)
        whole = _whole_numbers(picks)
        picks = picks if whole is None else whole
    if picks.dtype.kind not in "iu":
        hint = "; a float index must hold whole numbers (labels)" if picks.dtype.kind == "f" else ""
        raise TypeError(f"{who}(): index must hold integers, got dtype {picks.dtype}: {index!r:.60}{hint}")
    return picks


def _gather_index(index: Any, dim: int, shape: Shape) -> np.ndarray:
    """`index` as a new int64 array that gather() may use on a Tensor of `shape`, or a clear error."""
    picks = int_array(index, "gather")
    if picks.ndim != len(shape):
        raise ValueError(
            f"gather(): index of shape {picks.shape} needs as many axes as the Tensor of shape {shape}"
        )
    if any(p > n for i, (p, n) in enumerate(zip(picks.shape, shape)) if i != dim):
        raise ValueError(
            f"gather(): index of shape {picks.shape} is longer than the Tensor of shape {shape} along an "
            f"axis other than dim {dim}"
        )
    if picks.size and (picks.min() < 0 or picks.max() >= shape[dim]):
        raise IndexError(
            f"gather(): index values must lie in [0, {shape[dim] - 1}] for dim {dim} of shape {shape}, "
            f"got values from {picks.min()} to {picks.max()}"
        )
    return picks.astype(np.int64)


def _gather_op(index: tuple[np.ndarray, ...]) -> Op:
    return Op("gather", lambda x: x[index], lambda g, out, x: (scatter(g, index, x.shape),))


_NOT_GIVEN: Any = object()


@overload
def where(condition: Any) -> tuple[Tensor, ...]: ...
@overload
def where(condition: Any, x: Operand, y: Operand) -> Tensor: ...


def where(condition: Any, x: Operand = _NOT_GIVEN, y: Operand = _NOT_GIVEN) -> Any:
    """x where `condition` holds, else y, as `torch.where` (all three broadcast together). The
    condition is a bool array or numbers (a Tensor or an array: nonzero means true); x and y are
    Tensors or numbers. x gets the gradient where the condition holds, y elsewhere.

    `where(condition)` alone is `condition.nonzero(as_tuple=True)`, as in PyTorch: a tuple of
    int64 Tensors, the indices of the true elements along each axis."""
    mask = _condition(condition, "where()")
    if x is _NOT_GIVEN and y is _NOT_GIVEN:
        return _index_result(mask).nonzero(as_tuple=True)
    if x is _NOT_GIVEN or y is _NOT_GIVEN:
        raise TypeError("where() takes a condition and both x and y, or the condition alone (its indices)")
    a, b = _as_operands((x, y), "where()")
    try:
        np.broadcast_shapes(mask.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"where(): condition of shape {mask.shape}, x of shape {a.shape} and y of shape {b.shape} "
            "do not broadcast together; reshape one of them"
        ) from None
    entry = elementwise(
        "where",
        lambda p, q: np.where(mask, p, q),
        lambda g, out, p, q: engine_where(mask, g, 0.0),
        lambda g, out, p, q: engine_where(mask, 0.0, g),
    )
    return _elementwise(entry, a, b, cache=False)


def _condition(condition: Any, who: str, noun: str = "condition") -> np.ndarray:
    """`where`'s condition (and `masked_fill`'s mask) as our own bool array (a graph keeps it):
    bools, or numbers (a Tensor or an array), nonzero meaning true."""
    if isinstance(condition, Node) and not isinstance(condition, Tensor):
        raise TypeError(f"{who}: {noun} must be a bool array or a Tensor, got a {type(condition).__name__}")
    flags = np.asarray(data_of(condition))
    if flags.dtype.kind not in "biuf":
        raise TypeError(
            f"{who}: {noun} must be a bool array or numbers (x > 0 gives one), got dtype {flags.dtype}"
        )
    return flags != 0 if flags.dtype.kind != "b" else flags.copy()
