"""More of PyTorch's Tensor methods, the ones ported code calls beside tensors.py's own: copies
and shapes (clone, expand, repeat, flip, split, chunk, unbind, index_select, roll), elementwise
ones (square, lerp, nan_to_num), rounding (sign, floor, ceil, round), tests that give bool Tensors
(eq, isnan, all, ...) and the operators of masks (& | ^ ~), reductions (logsumexp, prod, cumsum), in-place fills and the `new_*`
factories.

Most are composed in plain sight from the operations of tensors.py (square is x * x, repeat is
reshape and broadcasting, expand is broadcasting, index_select is indexing, logsumexp is max,
exp, sum and log), so their gradients come from rules written once there; flip and roll (copies),
lerp, nan_to_num, prod and cumsum state their own rules. Importing this module attaches them to
Tensor (functions.py imports it, so the package's `__init__` does): tensors.py need not import
it, so the import graph stays one-way. sorting.py, tensor_algebra.py and sampling.py attach theirs
the same way (`attach`).
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from typing import Any, Literal, overload

import numpy as np

from . import ieee
from .arguments import positive_int, whole_number
from .engine import Op, data_of
from .engine import where as engine_where
from .factories import _shape
from .tensors import (
    Operand,
    Shape,
    Tensor,
    _as_array,
    _as_operands,
    _axes,
    _cast,
    _comparable,
    _compared,
    _condition,
    _dim,
    _elementwise,
    _gradient_where,
    _index_result,
    _integer_inputs,
    _kept_shape,
    _quiet_op,
    _unary,
    broadcast_to,
    int_array,
    real_number,
    sizes_given,
    where,
)

# --- copies and shapes -------------------------------------------------------------------------------

_CLONE = Op("clone", lambda x: x.copy(), lambda g, out, x: (g,))


def clone(self: Tensor) -> Tensor:
    """A copy of the data in the graph, as `torch.clone`: a change to it leaves x alone, and the
    gradient passes through to x unchanged."""
    return _unary(_CLONE, self)


def contiguous(self: Tensor) -> Tensor:
    """x itself when its data is C-contiguous, else a C-contiguous copy in the graph (a `clone`),
    as `torch.contiguous`: a change to the copy leaves x alone, and an `expand`ed (read-only)
    Tensor's copy may be written to."""
    return self if is_contiguous(self) else clone(self)


def is_contiguous(self: Tensor) -> bool:
    """Whether the data is C-contiguous (numpy's flag), as `torch.is_contiguous`: False for a
    transpose, an `expand` or a slice with steps, as PyTorch's. It describes numpy's layout,
    so where numpy lays a result out otherwise than PyTorch would, the answers may differ."""
    return bool(self.data.flags.c_contiguous)


def _sizes(sizes: tuple[Any, ...], who: str) -> tuple[int, ...]:
    """Sizes given as ints or as one tuple or list (`x.expand(2, 3)`, `x.expand((2, 3))`)."""
    sizes = sizes_given(sizes)
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{who}(): sizes must be ints, got {sizes!r:.60}")
    return tuple(int(n) for n in sizes)


def expand(self: Tensor, *sizes: Any) -> Tensor:
    """The Tensor broadcast to `sizes` (-1 keeps an axis's size), as `torch.expand`: axes of size
    1 repeat and new axes go in front; the gradient is summed back. A view of x: where nothing
    repeats (the same sizes, new axes of size 1) it may be written through to x, as PyTorch's;
    where elements repeat, they share memory, so it is read-only (clone() it to write)."""
    shape, wanted = self.shape, _sizes(sizes, "expand")
    lead = len(wanted) - len(shape)
    if lead < 0:
        raise ValueError(
            f"expand{wanted}: the number of sizes ({len(wanted)}) must be at least the number of axes "
            f"of the Tensor of shape {shape}"
        )
    target = list(wanted)
    for i, n in enumerate(wanted):
        have = shape[i - lead] if i >= lead else None
        if n == -1 and have is not None:
            target[i] = have
        elif n < 0 or (have is not None and have != 1 and have != n):
            where_ = f"its size {have} at dim {i}" if have is not None else f"new leading dim {i}"
            raise ValueError(
                f"expand{wanted}: size {n} does not fit {where_} of shape {shape}; an axis of size 1 "
                "may take any size, others keep theirs (-1), new axes go in front with sizes >= 0"
            )
    if tuple(target[lead:]) == shape and all(n == 1 for n in target[:lead]):
        return self.reshape(tuple(target))  # nothing repeats: a view as reshape's, writable as x is
    return broadcast_to(self, tuple(target))  # type: ignore[no-any-return]


def expand_as(self: Tensor, other: Any) -> Tensor:
    """`x.expand(other.shape)`."""
    return expand(self, np.shape(data_of(other)))


def repeat(self: Tensor, *sizes: Any) -> Tensor:
    """The Tensor tiled `sizes` times along each axis (more sizes than axes: new axes in front),
    as `torch.repeat` (numpy's `tile`), a copy, made as PyTorch's: each axis of size n spread to
    (1, n), broadcast to (times, n) and joined, so the gradient is broadcasting's sum."""
    shape, times = self.shape, _sizes(sizes, "repeat")
    if len(times) < len(shape) or any(n < 0 for n in times):
        raise ValueError(
            f"repeat{times}: give one count >= 0 per axis of the Tensor of shape {shape} (more put new "
            "axes in front)"
        )
    full = (1,) * (len(times) - len(shape)) + shape
    spread = self.reshape(tuple(m for n in full for m in (1, n)))
    tiled = clone(broadcast_to(spread, tuple(m for n, r in zip(full, times) for m in (r, n))))
    return tiled.reshape(tuple(n * r for n, r in zip(full, times)))


def flip(self: Tensor, dims: Any) -> Tensor:
    """The order of the elements reversed along `dims` (an int or a tuple), as `torch.flip`: a
    copy (a change to it leaves x alone); the gradient is g flipped back."""
    reversed_axes = _axes(dims, self.shape, "flip")
    index = tuple(slice(None, None, -1) if a in reversed_axes else slice(None) for a in range(self.ndim))
    rule = lambda g, out, x: (g[index],)  # noqa: E731 (arrays and Tensors alike)
    return _unary(Op("flip", lambda x: x[index].copy(), rule), self)


def _along(self: Tensor, dim: int, piece: Any) -> Tensor:
    return self[(slice(None),) * dim + (piece,)]


def split(self: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces along `dim`, as `torch.split`: of `split_size` each (the last may be smaller), or
    of the sizes in a list, which must add up to the axis's length."""
    if self.ndim == 0:
        raise ValueError("split() needs a Tensor with at least one axis; reshape(1) a 0-d one")
    d = _dim(dim, self.ndim, "split", self.shape)
    n = self.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = _sizes((split_size_or_sections,), "split")
        if sum(sizes) != n or any(k < 0 for k in sizes):
            raise ValueError(
                f"split(): sizes {list(sizes)} must be >= 0 and add up to {n}, the length of dim {d} of "
                f"shape {self.shape}"
            )
    else:
        size = _sizes((split_size_or_sections,), "split")[0]
        if size < 0 or (size == 0 and n > 0):
            raise ValueError(f"split(): split_size must be positive for dim {d} of length {n}, got {size}")
        sizes = tuple(min(size, n - start) for start in range(0, n, size)) if n else (0,)
    starts = np.cumsum((0,) + sizes).tolist()
    return tuple(_along(self, d, slice(a, b)) for a, b in zip(starts, starts[1:]))


def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most `chunks` pieces along `dim`, each of ceil(length / chunks), as `torch.chunk`."""
    count = positive_int(chunks, "chunk(): chunks")
    if self.ndim == 0:
        raise ValueError("chunk() needs a Tensor with at least one axis; reshape(1) a 0-d one")
    n = self.shape[_dim(dim, self.ndim, "chunk", self.shape)]
    return split(
        self, [0] * count if n == 0 else math.ceil(n / count), dim
    )  # (an empty axis: `chunks` empty pieces)


def unbind(self: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along `dim`, that axis removed, as `torch.unbind`: `a, b = x.unbind(1)`."""
    if self.ndim == 0:
        raise ValueError("unbind() needs a Tensor with at least one axis")
    d = _dim(dim, self.ndim, "unbind", self.shape)
    return tuple(_along(self, d, i) for i in range(self.shape[d]))


def index_select(self: Tensor, dim: int, index: Any) -> Tensor:
    """The slices at `index` (a vector of ints, or a Tensor of whole numbers) along `dim`, in
    that order, as `torch.index_select`: `x.index_select(0, idx)` is `x[idx]`. An index given
    twice gives its slice twice, and its gradient adds up. An index out of range is an
    IndexError, as in indexing; negative ones are refused, as PyTorch refuses them."""
    picks = int_array(index, "index_select")
    if picks.ndim > 1:
        raise ValueError(f"index_select(): index must be a vector (1-D), got shape {picks.shape}")
    if self.ndim == 0:  # one number, along dim 0 or -1: its index is 0, and it stays 0-d
        _dim(dim, 1, "index_select", self.shape)
        if picks.size != 1:
            raise ValueError(f"index_select(): a 0-d Tensor takes one index (0), got {picks.size}")
        return index_select(self.reshape(1), 0, picks.reshape(1)).reshape(())
    d = _dim(dim, self.ndim, "index_select", self.shape)
    n = self.shape[d]
    if picks.size and (picks.min() < 0 or picks.max() >= n):
        raise IndexError(
            f"index_select(): index values must lie in [0, {n - 1}] for dim {d} of shape {self.shape}, "
            f"got values from {picks.min()} to {picks.max()}"
        )
    return _along(self, d, picks.reshape(-1))


def _ints(value: Any, what: str) -> tuple[int, ...]:
    """One int or a tuple or list of them, as a tuple."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return tuple(whole_number(v, what) for v in items)


def roll(self: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """The elements moved `shifts` places along `dims` (ints, or tuples of one length), those
    that fall off the end coming back at the start, as `torch.roll`; without `dims`, along the
    flattened Tensor, its shape kept. The gradient is g rolled back."""
    moves = _ints(shifts, "roll(): shifts")
    if dims is None:
        if len(moves) != 1:
            raise ValueError(
                f"roll(): without dims, give one shift (the Tensor rolls flattened), got shifts={shifts!r:.60}"
            )
        return roll(self.reshape(-1), moves, 0).reshape(self.shape)
    axes = _ints(dims, "roll(): dims")
    if len(axes) != len(moves):
        raise ValueError(f"roll(): shifts={shifts!r:.60} and dims={dims!r:.60} must align: one shift per dim")
    total = [0] * self.ndim  # (a dim given twice rolls by both shifts)
    for a, s in zip(axes, moves):
        total[_dim(a, self.ndim, "roll", self.shape)] += s
    total = [s % n if n else 0 for s, n in zip(total, self.shape)]  # (in Python: a shift of any size)
    # out[i] = x[(i - s) % n], so x's element j gets g[(j + s) % n]
    back = np.ix_(*[(np.arange(n) + s) % max(n, 1) for n, s in zip(self.shape, total)])
    forward = lambda x: np.roll(x, total, axis=tuple(range(x.ndim)))  # noqa: E731
    return _unary(Op("roll", forward, lambda g, out, x: (g[back],)), self)


# --- elementwise ---------------------------------------------------------------------------------------


def square(self: Tensor) -> Tensor:
    """x * x, as `torch.square`."""
    return self * self  # type: ignore[no-any-return]


def _no_gradient(g: Any, out: Any, x: Any) -> tuple[Any]:
    """The rule of a function constant between its steps: exactly 0 (PyTorch's, at the steps too),
    clamp's rule with nowhere inside; on arrays and on Tensors alike."""
    return (_gradient_where(np.zeros(g.shape, dtype=bool), g, x),)


def _stepwise(name: str, fn: Callable[[np.ndarray], np.ndarray], doc: str) -> Callable[[Tensor], Tensor]:
    op = _quiet_op(name, fn, _no_gradient)

    def method(self: Tensor) -> Tensor:
        if self.data.dtype.kind != "f":  # int64 stays int64, as PyTorch's (sign of a mask: itself)
            return _index_result(
                np.sign(self.data) if self.data.dtype.kind == "i" and name == "sign" else self.data.copy()
            )
        return _unary(op, self)

    method.__doc__ = doc
    return method


sign = _stepwise(
    "sign",
    lambda x: ieee.sign(np.asarray(x)),
    "-1, 0 or 1 by the sign of each element (nan gives 0), as `torch.sign`; gradient 0.",
)
floor = _stepwise("floor", np.floor, "Each element rounded down, as `torch.floor`; gradient 0.")
ceil = _stepwise("ceil", np.ceil, "Each element rounded up, as `torch.ceil`; gradient 0.")
_ROUND = _quiet_op("round", np.round, _no_gradient)


def round_(self: Tensor, *, decimals: int = 0) -> Tensor:
    """Each element rounded to `decimals` decimal places (the nearest whole number by default;
    a negative count rounds to tens, hundreds, ...), halves to even, as `torch.round`; gradient 0.
    Computed as PyTorch's, in the Tensor's dtype: x * 10**decimals rounded, divided back (for a
    negative count, x / 10**-decimals rounded, multiplied back), so 10**decimals beyond the
    dtype's range gives nan."""
    if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral):
        raise TypeError(
            f"round(): decimals must be an int (decimals=2 rounds to hundredths, -1 to tens), got "
            f"{type(decimals).__name__}: {decimals!r:.60}"
        )
    if decimals == 0:
        return _unary(_ROUND, self)
    # (as PyTorch's kernel: the power of ten is a double, then the Tensor's dtype; inf past 1e308)
    power = math.inf if abs(decimals) > 308 else 10.0 ** abs(decimals)

    def forward(x: np.ndarray) -> np.ndarray:
        ten = x.dtype.type(power)
        return np.rint(x * ten) / ten if decimals > 0 else np.rint(x / ten) * ten

    return _unary(_quiet_op(f"round(decimals={int(decimals)})", forward, _no_gradient), self)


def _lerp(start: np.ndarray, end: np.ndarray, weight: np.ndarray) -> np.ndarray:
    # PyTorch's formula: exactly `start` at weight 0 and exactly `end` at weight 1
    small = np.abs(weight) < 0.5
    return np.where(small, start + weight * (end - start), end - (end - start) * (1 - weight))


_LERP = Op("lerp", _lerp, lambda g, out, start, end, w: (g * (1 - w), g * w, g * (end - start)))


def lerp(self: Tensor, end: Operand, weight: Operand) -> Tensor:
    """start + weight * (end - start), elementwise (all three broadcast together), as
    `torch.lerp`; `weight` a number or a Tensor. Each input gets its gradient, weight too."""
    return _elementwise(_LERP, *_as_operands((self, end, weight), "lerp()"))


def nan_to_num(
    self: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """nan, inf and -inf replaced by `nan`, `posinf` and `neginf` (by default 0, the dtype's
    largest and its most negative number), as `torch.nan_to_num`. The gradient passes where x
    is finite, and is g * 0 elsewhere (nan for an inf g), as PyTorch's."""
    fill = real_number(nan, "nan_to_num(): nan")
    high = None if posinf is None else real_number(posinf, "nan_to_num(): posinf")
    low = None if neginf is None else real_number(neginf, "nan_to_num(): neginf")
    forward = lambda x: np.nan_to_num(x, nan=fill, posinf=high, neginf=low)  # noqa: E731
    rule = lambda g, out, x: (g * np.isfinite(data_of(x)),)  # noqa: E731
    return _unary(_quiet_op("nan_to_num", forward, rule), self)


# --- tests: bool Tensors (without gradient), as the comparison operators give ------------------------


def _comparison(compare: Callable[[Any, Any], Any], name: str) -> Callable[[Tensor, Operand], Tensor]:
    def method(self: Tensor, other: Operand) -> Tensor:
        if not _comparable(other):
            raise TypeError(
                f"{name}() compares with a Tensor, an array or a number, got {type(other).__name__}"
            )
        return _compared(self, other, compare)

    method.__doc__ = (
        f"`x {name} other` elementwise (broadcast), as `torch.{name}`: a bool Tensor, as the "
        "operator gives, with no gradient."
    )
    return method


eq, ne = _comparison(operator.eq, "eq"), _comparison(operator.ne, "ne")
lt, le = _comparison(operator.lt, "lt"), _comparison(operator.le, "le")
gt, ge = _comparison(operator.gt, "gt"), _comparison(operator.ge, "ge")


def isnan(self: Tensor) -> Tensor:
    """Where the elements are nan, as `torch.isnan`: a bool Tensor, as `==` gives."""
    return _index_result(np.isnan(self.data))


def isinf(self: Tensor) -> Tensor:
    """Where the elements are inf or -inf, as `torch.isinf`: a bool Tensor, as `==` gives."""
    return _index_result(np.isinf(self.data))


def isfinite(self: Tensor) -> Tensor:
    """Where the elements are neither nan nor infinite, as `torch.isfinite`: a bool Tensor."""
    return _index_result(np.isfinite(self.data))


def all_(self: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether every element along `dim` (None: all) is nonzero (nan counts as true), as
    `torch.all`: a bool Tensor, as `==` gives; True for none."""
    found = np.all(self.data != 0, axis=_axes(dim, self.shape, "all"), keepdims=bool(keepdim))
    return _index_result(np.asarray(found))


def any_(self: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether some element along `dim` (None: all) is nonzero, as `torch.any`: a bool Tensor."""
    found = np.any(self.data != 0, axis=_axes(dim, self.shape, "any"), keepdims=bool(keepdim))
    return _index_result(np.asarray(found))


def _bitwise(name: str, compute: Callable[..., Any]) -> Callable[..., Tensor]:
    """`&`, `|` or `^` of int64 or bool Tensors (bool: and, or, xor of masks), as PyTorch's (each
    is symmetric: its own reflected twin, `array & mask`)."""

    def operator_(self: Tensor, other: Any) -> Tensor:
        a, b = _as_operands((self, other), name)
        if a.data.dtype.kind == "f" or b.data.dtype.kind == "f":
            raise TypeError(
                f"'{name}' takes int64 or bool Tensors (masks: (x > 0) {name} (x < 1)), got {a.dtype} and "
                f"{b.dtype}; compare first, or call .long() or .bool()"
            )
        return _index_result(compute(a.data, b.data))

    return operator_


and_, or_, xor = _bitwise("&", np.bitwise_and), _bitwise("|", np.bitwise_or), _bitwise("^", np.bitwise_xor)


def to_bool(self: Tensor) -> Tensor:
    """As bool (nonzero is True), without gradient: PyTorch's `.bool()`."""
    return _cast(self, np.dtype(np.bool_))


def is_floating_point(self: Tensor) -> bool:
    """Whether this Tensor holds floats (float64 or float32), not int64 or bool: PyTorch's
    `x.is_floating_point()`."""
    return self.data.dtype.kind == "f"


def to_int32(self: Tensor) -> Tensor:
    """PyTorch's `.int()` makes int32, which no Tensor holds here: refused, saying to use `.long()`."""
    raise TypeError(
        f".int() would make int32, which Tensors do not hold here (float64, float32, int64 and bool "
        f"do); use .long() for int64 (this Tensor is {self.dtype})"
    )


# --- where the nonzero elements are ------------------------------------------------------------------


@overload
def nonzero(self: Tensor, *, as_tuple: Literal[False] = False) -> Tensor: ...
@overload
def nonzero(self: Tensor, *, as_tuple: Literal[True]) -> tuple[Tensor, ...]: ...
@overload
def nonzero(self: Tensor, *, as_tuple: bool) -> Tensor | tuple[Tensor, ...]: ...


def nonzero(self: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The indices of the nonzero (True, nan) elements, in row-major order, as `torch.nonzero`: an
    int64 Tensor of shape (count, ndim), or with `as_tuple=True` a tuple of one int64 Tensor of
    the count per axis, as PyTorch's (a 0-d Tensor gives one too, of 0 or 1 element), which
    indexes a Tensor of one or more dimensions: `x[x.nonzero(as_tuple=True)]`."""
    if as_tuple:
        return tuple(_index_result(axis) for axis in np.nonzero(np.atleast_1d(self.data)))
    return _index_result(np.argwhere(self.data))


def argwhere(self: Tensor) -> Tensor:
    """`x.nonzero()`: the indices of the nonzero elements, shape (count, ndim), as `torch.argwhere`."""
    return nonzero(self)


# --- reductions ---------------------------------------------------------------------------------------


def logsumexp(self: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) along `dim` (an int or a tuple), as `torch.logsumexp`, computed after
    subtracting the largest element (a constant: no overflow, and the gradient is softmax, as
    PyTorch's); a row of -inf gives -inf (and a nan gradient, as PyTorch's)."""
    axes = _axes(dim, self.shape, "logsumexp")
    if self.data.dtype.kind != "f":  # an int64 or bool Tensor: float64 (a float function's rule)
        (self,) = _integer_inputs("logsumexp", (self,))
    peak = np.maximum.reduce(self.data, axis=axes, keepdims=True, initial=-np.inf)
    peak = np.where(np.isfinite(peak), peak, 0.0)  # (an inf or nan peak is no shift)
    total = (self - peak).exp().sum(axes, keepdims=True).log() + peak
    return total if keepdim else total.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))


def _prod_rule(axes: tuple[int, ...], kept: Shape) -> Callable[..., tuple[Any]]:
    # Each element's derivative is the product of the others along its slice, written so that
    # its own derivatives are right too (grad(..., create_graph=True)), at zeros as PyTorch's:
    # a nonzero x_i gets out / x_i; a zero gets the product of the nonzero others times, when one
    # other is 0 too, that other (the sum of the zeros minus x_i), and 0 when more are.
    def rule(g: Any, out: Any, x: Any) -> tuple[Any]:
        zero = data_of(x) == 0
        zeros = zero.sum(axis=axes, keepdims=True)
        g, out = g.reshape(kept), out.reshape(kept)
        safe = engine_where(zero, 1.0, x)  # (no division by 0, even in a branch `where` drops)
        other_zero = engine_where(zero, x, 0.0).sum(axis=axes, keepdims=True) - x
        at_zero = safe.prod(axis=axes, keepdims=True) * engine_where(zeros == 1, 1.0, other_zero)
        return (g * engine_where(zero, engine_where(zeros <= 2, at_zero, 0.0), out / safe),)

    return rule


def prod(
    self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: bool = False
) -> Tensor:
    """The product over `dim` (None: all; an int, or here a tuple too), as `torch.prod`, with
    PyTorch's gradient where elements are 0 (see `_prod_rule`); `axis`/`keepdims` as numpy."""
    if axis is not None:
        dim = axis
    keep = bool(keepdim) or bool(keepdims)
    axes = _axes(dim, self.shape, "prod")
    forward = lambda x: np.prod(x, axis=axes, keepdims=keep)  # noqa: E731
    return _unary(_quiet_op("prod", forward, _prod_rule(axes, _kept_shape(self.shape, axes))), self)


def cumsum(self: Tensor, dim: int) -> Tensor:
    """Running sums along `dim`, as `torch.cumsum`; the gradient is the running sum of g taken
    from the other end."""
    if self.ndim == 0:
        _dim(dim, 1, "cumsum", self.shape)
        return cumsum(self.reshape(1), 0).reshape(())
    d = _dim(dim, self.ndim, "cumsum", self.shape)
    back = (slice(None),) * d + (slice(None, None, -1),)
    rule = lambda g, out, x: (g[back].cumsum(d)[back],)  # noqa: E731 (arrays and Tensors alike)
    return _unary(_quiet_op("cumsum", lambda x: np.cumsum(x, axis=d), rule), self)


# --- filling, and new Tensors like this one ------------------------------------------------------------


def _mask(mask: Any, shape: Shape, who: str, in_place: bool = False) -> np.ndarray:
    """A mask that broadcasts with `shape` (`in_place`: to it): a bool array, or numbers (a
    Tensor: nonzero is true)."""
    flags = _condition(mask, who, "mask")
    if not _broadcasts(flags.shape, shape) or (in_place and np.broadcast_shapes(flags.shape, shape) != shape):
        raise ValueError(
            f"{who}: a mask of shape {flags.shape} does not broadcast to the Tensor's shape {shape}; "
            "give a mask of that shape, or of a shape that broadcasts to it"
        )
    return flags


def _broadcasts(a: Shape, b: Shape) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _fill_value(value: Any, dtype: np.dtype, who: str) -> Any:
    """A number, or a 0-d Tensor as `dtype` (x's, as PyTorch keeps it)."""
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ValueError(
            f"{who}: value must be a number or a 0-d Tensor, got a Tensor of shape {value.shape}"
        )
    if dtype.kind != "f":  # taken in x's dtype, as PyTorch's: an int64 Tensor stays int64
        if not isinstance(value, Tensor):
            real_number(value, f"{who}: value")  # (a number, not a bool)
        return _as_array(value, dtype, f"{who}: value")  # (nan, inf, 1e30 refused for int64)
    if isinstance(value, Tensor):
        return _cast(value, dtype)
    return value


def masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
    """`value` where `mask` holds, else x (both broadcast with the mask), as `torch.masked_fill`:
    x gets the gradient elsewhere (and a 0-d Tensor `value` the sum of it where the mask holds)."""
    flags = _mask(mask, self.shape, "masked_fill()")
    return where(flags, _fill_value(value, self.dtype, "masked_fill()"), self)


def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    """`masked_fill` written into x's own array, as `t[mask] = value` (where no graph must record
    it; 1e300 into float32 is inf, as there); returns x."""
    flags = np.broadcast_to(_mask(mask, self.shape, "masked_fill_()", in_place=True), self.shape)
    self._assign(flags, _fill_value(value, self.dtype, "masked_fill_()"), "masked_fill_()")
    return self


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """`clamp(min, max)` written into x's own array (where no graph must record it: a bound that
    requires grad makes the clamped Tensor require it, which `_assign` refuses); returns x."""
    self._assign(Ellipsis, self.clamp(min, max), "clamp_()")
    return self


def _new(self: Tensor, data: Any, dtype: Any, requires_grad: bool) -> Tensor:
    return Tensor(data, requires_grad=requires_grad, dtype=self.dtype if dtype is None else dtype)


def new_tensor(self: Tensor, data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf of `data` (copied) in this Tensor's dtype unless given, as `x.new_tensor`."""
    return _new(self, data_of(data), dtype, requires_grad)  # (ints straight to int64: 2**63 - 1 stays)


def new_zeros(self: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of `size` in this Tensor's dtype unless given, as `x.new_zeros`."""
    return _new(self, np.zeros(_shape(size, "new_zeros")), dtype, requires_grad)


def new_ones(self: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of `size` in this Tensor's dtype unless given, as `x.new_ones`."""
    return _new(self, np.ones(_shape(size, "new_ones")), dtype, requires_grad)


# The methods by their names on Tensor (`round`, `all` and `any` would hide Python's here).
METHODS: dict[str, Callable[..., Any]] = {
    "clone": clone, "contiguous": contiguous, "is_contiguous": is_contiguous, "expand": expand,
    "expand_as": expand_as, "repeat": repeat, "flip": flip, "split": split, "chunk": chunk,
    "unbind": unbind, "square": square, "sign": sign, "floor": floor, "ceil": ceil, "round": round_,
    "eq": eq, "ne": ne, "lt": lt, "le": le, "gt": gt, "ge": ge, "isnan": isnan, "isinf": isinf,
    "isfinite": isfinite, "bool": to_bool, "__and__": and_, "__rand__": and_, "__or__": or_, "__ror__": or_,
    "__xor__": xor, "__rxor__": xor,
    "all": all_, "any": any_, "logsumexp": logsumexp, "prod": prod, "cumsum": cumsum,
    "masked_fill": masked_fill, "masked_fill_": masked_fill_, "clamp_": clamp_,
    "new_tensor": new_tensor, "new_zeros": new_zeros, "new_ones": new_ones,
    "index_select": index_select, "roll": roll, "lerp": lerp, "nan_to_num": nan_to_num,
    "is_floating_point": is_floating_point, "int": to_int32, "nonzero": nonzero, "argwhere": argwhere,
}  # fmt: skip


def attach(methods: dict[str, Callable[..., Any]]) -> None:
    """Make `methods` Tensor's, by their names (the modules that add methods call it on import;
    tensors.py declares them for type checkers)."""
    for name, method in methods.items():
        method.__name__, method.__qualname__ = name, f"Tensor.{name}"  # (errors name x.round(), not round_())
        setattr(Tensor, name, method)


attach(METHODS)  # importing this module attaches them to Tensor
