"""Matrices and contractions, as PyTorch's: the triangles `tril` and `triu`, `diag`, `outer`,
`bmm` and `einsum`.

tril and triu keep a triangle and give the gradient back in the same triangle; diag picks a
diagonal (indexing) or places a vector on one (`scatter`), outer is broadcasting's product and bmm
is `@`, so their gradients come from rules written once in tensors.py. einsum states its own rule,
one line of thought: the gradient of an operand is einsum again, with the output's subscripts (g's)
in the place of that operand's, and the operand's own subscripts as the output.

Importing this module attaches the methods to Tensor (functions.py imports it, so the package's
`__init__` does), as tensor_methods.py does; `einsum` is a function only, as in PyTorch.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .arguments import whole_number
from .engine import Op, data_of
from .engine import where as engine_where
from .tensor_methods import attach
from .tensors import (
    Shape,
    Tensor,
    _as_operands,
    _unary,
    broadcast_to,
    quiet,
    scatter,
    unbroadcast,
)

# --- triangles and diagonals ------------------------------------------------------------------------


def _triangle(x: Tensor, diagonal: Any, who: str) -> Tensor:
    """tril or triu (`who`) of the last two axes: the elements on and below (tril) or above
    (triu) the `diagonal`-th diagonal kept, the others 0; the gradient is g's same triangle."""
    if x.ndim < 2:
        raise ValueError(
            f"{who}(): the Tensor must have at least 2 dimensions (a matrix, or a batch of them), got "
            f"shape {x.shape}"
        )
    rows, cols = x.shape[-2:]
    k = min(max(whole_number(diagonal, f"{who}(): diagonal"), -rows), cols)  # (beyond: all or nothing)
    below = np.tri(rows, cols, k, dtype=bool)  # on and below diagonal k
    keep = below if who == "tril" else ~np.tri(rows, cols, k - 1, dtype=bool)
    op = Op(
        who,
        lambda x: np.where(keep, x, np.zeros((), x.dtype)),
        lambda g, out, x: (engine_where(keep, g, 0.0),),
    )
    return _unary(op, x)


def tril(self: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the matrix (of each matrix of a batch: the last two axes), the rest
    0, as `torch.tril`: elements on and below the diagonal (`diagonal` > 0: that many above it,
    < 0: below it); a causal mask is `ones(n, n).tril()`. The gradient passes in the triangle."""
    return _triangle(self, diagonal, "tril")


def triu(self: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the matrix (of each matrix of a batch), the rest 0, as `torch.triu`:
    elements on and above the diagonal (`diagonal` moves it, as in `tril`)."""
    return _triangle(self, diagonal, "triu")


def _diagonal_index(rows: int, cols: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of diagonal k of a rows x cols matrix (k > 0 above the main one)."""
    count = max(0, min(rows + min(k, 0), cols - max(k, 0)))
    if count == 0:  # (beyond the matrix: nothing, whatever the size of k)
        return np.arange(0), np.arange(0)
    steps = np.arange(count)
    return steps - min(k, 0), steps + max(k, 0)


def diag(self: Tensor, diagonal: int = 0) -> Tensor:
    """As `torch.diag`: of a vector, the square matrix with it on diagonal `diagonal` (0 the main
    one, > 0 above it, < 0 below) and 0 elsewhere; of a matrix, that diagonal as a vector (empty
    beyond the matrix). The gradient is g's diagonal, or g placed on it."""
    k = whole_number(diagonal, "diag(): diagonal")
    if self.ndim == 1:
        n = self.shape[0] + abs(k)
        try:
            return scatter(self, _diagonal_index(n, n, k), (n, n))  # type: ignore[no-any-return]
        except (MemoryError, OverflowError):  # (numpy's words for a size beyond memory, or beyond int64)
            raise ValueError(
                f"diag(): a vector of length {self.shape[0]} on diagonal {k!s:.30} makes a matrix too large "
                "for memory; use a diagonal closer to 0"
            ) from None
    if self.ndim == 2:
        rows, cols = self.shape
        return self[_diagonal_index(rows, cols, k)]
    raise ValueError(
        f"diag(): takes a vector (1-D: it makes the matrix with it on a diagonal) or a matrix (2-D: "
        f"it takes a diagonal), got shape {self.shape}"
    )


# --- products ----------------------------------------------------------------------------------------


def outer(self: Tensor, vec2: Any) -> Tensor:
    """The outer product of two vectors, as `torch.outer`: `out[i, j] = x[i] * vec2[j]`, a
    matrix (broadcasting's product, `x.reshape(-1, 1) * vec2`)."""
    a, b = _as_operands((self, vec2), "outer()")
    for name, t in (("input", a), ("vec2", b)):
        if t.ndim != 1:
            raise ValueError(f"outer(): {name} must be a vector (1-D), got shape {t.shape}")
    return a.reshape(-1, 1) * b  # type: ignore[no-any-return]


def bmm(self: Tensor, mat2: Any) -> Tensor:
    """A batch of matrix products, as `torch.bmm`: `out[b] = x[b] @ mat2[b]` for x of shape
    (B, n, m) and mat2 of shape (B, m, p), giving (B, n, p). It does not broadcast (`matmul`
    does)."""
    a, b = _as_operands((self, mat2), "bmm()")
    for name, t in (("input", a), ("mat2", b)):
        if t.ndim != 3:
            raise ValueError(
                f"bmm(): {name} must be a batch of matrices (3-D), got shape {t.shape}; matmul takes "
                "other shapes (and broadcasts the batch)"
            )
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"bmm(): input holds {a.shape[0]} matrices and mat2 {b.shape[0]} (shapes {a.shape} and "
            f"{b.shape}); give batches of one size (matmul broadcasts a batch of 1)"
        )
    if a.shape[2] != b.shape[1]:
        raise ValueError(
            f"bmm(): input's matrices are {a.shape[1]}x{a.shape[2]} and mat2's {b.shape[1]}x{b.shape[2]} "
            f"(shapes {a.shape} and {b.shape}): the columns of the first must match the rows of the second"
        )
    return a @ b  # type: ignore[no-any-return]


# --- einsum --------------------------------------------------------------------------------------------

# The subscripts, in the order of an implicit output (as PyTorch's: upper case before lower case).
_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _spelled_out(equation: Any, shapes: Sequence[Shape]) -> tuple[list[str], str]:
    """The subscripts of each operand and of the output, `...` spelled out in letters the
    equation does not use and the implicit output made explicit, all checked against the
    operands' shapes; or a ValueError that names what is wrong."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a str such as 'ij,jk->ik', got {equation!r:.60}")
    said = f"einsum('{equation}')"
    for i, c in enumerate(equation):
        if c not in _LETTERS and c not in ",->. ":
            raise ValueError(
                f"{said}: {c!r} at index {i} is not a subscript; subscripts are letters a-z, A-Z"
            )
    text = equation.replace(" ", "")
    left, arrow, right = text.partition("->")
    if "-" in left + right or ">" in left + right:
        raise ValueError(f"{said}: '-' and '>' may appear only once, together, as '->' before the output")
    if "," in right:
        raise ValueError(f"{said}: the output (after '->') is one term, without commas")
    terms = [_ellipsis_split(term, said) for term in left.split(",")]
    if len(terms) != len(shapes):
        raise ValueError(
            f"{said}: the equation names {len(terms)} operand(s) but {len(shapes)} were given; give one "
            "Tensor per comma-separated term"
        )
    broadcast = 0  # the number of dims that `...` stands for, the most of any operand's
    for j, ((before, dots, after), shape) in enumerate(zip(terms, shapes)):
        named = len(before) + len(after)
        if len(shape) < named or (len(shape) != named and not dots):
            raise ValueError(
                f"{said}: operand {j} has {len(shape)} dimensions (shape {shape}) but its subscripts "
                f"'{before}{dots}{after}' name {named}{'' if dots else ' (and no ... stands for the rest)'}"
            )
        broadcast = max(broadcast, len(shape) - named if dots else 0)
    unused = [c for c in _LETTERS if c not in text]
    repeats = max(len(before + after) - len(set(before + after)) for before, _, after in terms)
    if broadcast + repeats > len(unused):  # (a gradient takes a new letter for each repeated subscript)
        raise ValueError(
            f"{said}: too many subscripts: '...' stands for {broadcast} dims and the gradient needs "
            f"{repeats} more, beyond the {len(unused)} letters the equation leaves unused"
        )
    spare = "".join(unused[:broadcast])  # the letters of `...`'s dims, aligned from the right
    inputs = [
        before + (spare[broadcast - (len(shape) - len(before) - len(after)) :] if dots else "") + after
        for (before, dots, after), shape in zip(terms, shapes)
    ]
    sizes = _sizes(inputs, shapes, said, spare)
    if arrow:
        before, dots, after = _ellipsis_split(right, said)
        output = before + (spare if dots else "") + after
        for c in output:
            if output.count(c) > 1:
                raise ValueError(f"{said}: output subscript {c!r} appears more than once; give it once")
            if c not in sizes:
                raise ValueError(
                    f"{said}: output subscript {c!r} does not appear in any operand's subscripts"
                )
    else:  # as PyTorch's: `...`'s dims, then each subscript that appears once, in alphabetical order
        once = sorted(
            (c for c in set(left) if c in _LETTERS and "".join(inputs).count(c) == 1), key=_LETTERS.index
        )
        output = spare + "".join(once)
    return inputs, output


def _ellipsis_split(term: str, said: str) -> tuple[str, str, str]:
    """A term's subscripts before and after its `...` (the middle: "..." or "")."""
    before, dots, after = term.partition("...")
    if "." in before + after:
        raise ValueError(
            f"{said}: the term '{term}' has a '.' that is not part of one '...' (a term may hold one "
            "ellipsis, three dots)"
        )
    return before, dots, after


def _sizes(inputs: list[str], shapes: Sequence[Shape], said: str, spare: str) -> dict[str, int]:
    """Each subscript's size: equal where it repeats in one operand, and equal or 1 (broadcast)
    across operands, as PyTorch's. (`spare`: the letters given to the dims of `...`, which an
    error names as those dims, not as letters the user never wrote.)"""
    sizes: dict[str, int] = {}
    for j, (subscripts, shape) in enumerate(zip(inputs, shapes)):
        own: dict[str, int] = {}
        for c, n in zip(subscripts, shape):
            if own.setdefault(c, n) != n:
                raise ValueError(
                    f"{said}: subscript {c!r} repeats in operand {j} (shape {shape}) with sizes "
                    f"{own[c]} and {n}; a repeated subscript takes a diagonal, so the sizes must match"
                )
        for c, n in own.items():
            seen = sizes.setdefault(c, n)
            if seen != n and 1 not in (seen, n):
                what = f"subscript {c!r}"
                if c in spare:
                    what = f"'...' (its dim {len(spare) - spare.index(c)} counted from the right)"
                raise ValueError(
                    f"{said}: {what} has size {n} in operand {j} (shape {shape}) but {seen} in "
                    "an operand before it; sizes must match or be 1 (broadcast)"
                )
            sizes[c] = max(seen, n)
    return sizes


def _contract(inputs: Sequence[str], output: str, operands: Sequence[Any]) -> Any:
    """numpy's einsum of arrays; of Tensors (a rule's under `create_graph`), ours, recorded."""
    spec = ",".join(inputs) + "->" + output
    if any(isinstance(x, Tensor) for x in operands):
        return einsum(spec, *operands)
    size: dict[str, int] = {}
    for term, x in zip(inputs, operands):
        size.update((c, max(n, size.get(c, 1))) for c, n in zip(term, np.shape(x)))
    # numpy's optimized einsum works in pairs, each a BLAS product where it can be (as `@` and
    # PyTorch's), where its plain one loops over every subscript at once; but finding the pairs is
    # a fixed cost per call, more than a small product takes: so only for three operands or more
    # (where the order of the pairs matters) or a product of all subscript sizes above about 3e4.
    return np.einsum(spec, *operands, optimize=len(operands) > 2 or math.prod(size.values()) > 30_000)


def _operand_gradient(i: int, g: Any, operands: Sequence[Any], inputs: list[str], output: str) -> Any:
    """The gradient of operand i: einsum again, g (with the output's subscripts) in its place, its
    subscripts as the output. A subscript it repeats (a diagonal) gets a new letter and an identity
    matrix joining the two; one it alone has (summed away) gets a vector of ones to spread it back;
    where it was broadcast (size 1), the gradient is summed back (`unbroadcast`), and where the
    others were, spread to its size."""
    mine, shape = inputs[i], data_of(operands[i]).shape
    dtype = data_of(g).dtype
    elsewhere = set(output).union(*(s for j, s in enumerate(inputs) if j != i))
    spare = iter(c for c in _LETTERS if c not in elsewhere and c not in mine)
    terms = [output] + [s for j, s in enumerate(inputs) if j != i]
    factors = [g] + [x for j, x in enumerate(operands) if j != i]
    target = ""
    for c, n in zip(mine, shape):
        if c in target:  # a diagonal: g lands where the two indices are equal
            new = next(spare)
            terms.append(c + new)
            factors.append(np.eye(n, dtype=dtype))
            c = new
        elif c not in elsewhere:  # summed away in the forward: every element had the same share
            terms.append(c)
            factors.append(np.ones(n, dtype=dtype))
        target += c
    found = _contract(terms, target, factors)
    # Broadcasting undone both ways: a size 1 (of operand i, or of all the others) met size n.
    return unbroadcast(broadcast_to(found, np.broadcast_shapes(found.shape, shape)), shape)


def _einsum_op(inputs: list[str], output: str, needs: Sequence[bool]) -> Op:
    def rule(g: Any, out: Any, *operands: Any) -> tuple[Any, ...]:
        return tuple(
            _operand_gradient(i, g, operands, inputs, output) if need else None
            for i, need in enumerate(needs)
        )

    return Op("einsum", lambda *xs: _contract(inputs, output, xs), quiet(rule))


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sums of products named by subscripts, as `torch.einsum`: `einsum('ij,jk->ik', a, b)` is
    `a @ b`, `einsum('bij,bjk->bik', a, b)` is `bmm`, `einsum('ii', a)` the trace, `einsum('i,j->ij',
    u, v)` `outer`. Each operand has one letter per dimension; a letter in two operands pairs
    their dims (sizes equal, or 1 to broadcast), a letter repeated in one takes its diagonal, and
    the letters not in the output (after `->`) are summed over. Without `->`, the output is the
    letters that appear once, in alphabetical order (upper case first). `...` stands for the
    dims not named (broadcast, aligned from the right, and first in an implicit output).
    Operands may come as one list. Each gets its gradient (einsum again; see `_operand_gradient`)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])  # as PyTorch's einsum('ij,jk', [a, b])
    tensors = _as_operands(operands, "einsum()")
    inputs, output = _spelled_out(equation, [t.shape for t in tensors])
    needs = [t.requires_grad for t in tensors]
    return Tensor.apply(_einsum_op(inputs, output, needs), *tensors)


# The methods by their names on Tensor.
METHODS: dict[str, Callable[..., Any]] = {
    "tril": tril, "triu": triu, "diag": diag, "outer": outer, "bmm": bmm,
}  # fmt: skip
attach(METHODS)  # importing this module attaches them to Tensor
