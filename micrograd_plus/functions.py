"""PyTorch's functions of Tensors by their `torch.` names (`torch.matmul(a, b, out=y)`,
`torch.sum(x, dim=1)`, `torch.max(outputs, 1)`): each is the Tensor method of its name, and
`out=` writes the result into a Tensor given, as PyTorch's does.

Most are made by `_method_as_function`, one line each, each the function that calls the
method of its name; the rest, whose arguments differ from the method's
(`softmax`, `add` with `alpha=`, ...), are written out after them. Names that are Python
builtins (`sum`, `abs`, `pow`, `round`, `all`, `any`, `max`, `min`) stay out of
`from micrograd_plus import *` (the package's `__init__` keeps them out).
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

# (importing tensor_methods, sorting, tensor_algebra and sampling attaches clone, sort, tril, ... to Tensor)
from . import modes, sampling, sorting, tensor_algebra, tensor_methods  # noqa: F401
from .arguments import real_number
from .tensors import Operand, Tensor, _index_result
from .tensors import ValuesIndices as ValuesIndices  # what max and min give along a dim (re-exported)


def _tensor(input: Any, name: str) -> Tensor:
    if isinstance(input, Tensor):
        return input
    if isinstance(input, np.ndarray):  # as PyTorch's `torch.max(outputs.data, 1)`: our .data is an array
        return Tensor(input)
    raise TypeError(
        f"{name}() takes a Tensor (as torch.{name}), got {type(input).__name__}: {input!r:.60}; "
        "make one with tensor(...) first"
    )


def _into(out: Any, result: Tensor, name: str) -> Tensor:
    """`result`, or (given `out`) its numbers written into `out`, which is returned."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): out= takes a Tensor, got {type(out).__name__}: {out!r:.60}")
    if modes.is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad (as in PyTorch); leave out= out, or call it "
            "inside `with no_grad():`"
        )
    if out.shape != result.shape:
        raise ValueError(
            f"{name}(): out= has shape {out.shape} but the result has shape {result.shape}; give an "
            "out of the result's shape (PyTorch resizes it, with a warning)"
        )
    if out.dtype != result.dtype and name in _OUT_OF_THE_RESULTS_DTYPE:
        raise RuntimeError(
            f"{name}(): Found dtype {out.dtype} but expected {result.dtype}: torch.{name} writes only "
            f"into an out= of its result's dtype; give an out of dtype {result.dtype}, or copy the "
            f"result in with out.copy_(mg.{name}(...)), which converts it"
        )
    return out.copy_(result)  # (float64 into float32 rounds, as PyTorch's casting does)


# PyTorch converts a result into an `out=` of the other float dtype, except for these functions,
# which refuse it ("Found dtype Float but expected Double"); and the sums below add up in out's
# dtype (as if given it as `dtype=`), so they get the input converted to it first.
_OUT_OF_THE_RESULTS_DTYPE = frozenset(
    "abs amax amin bmm ceil clamp clip diag dot floor index_select matmul mm nan_to_num neg norm round sign "
    "tril triu".split()
)
_SUMS_IN_OUTS_DTYPE = frozenset(
    {"cumsum", "logsumexp", "mean", "prod", "std", "sum", "var"}
)  # (in out's dtype, as PyTorch)


# The Tensor methods that are functions of the same name with torch's arguments: `torch.sum(x, 1,
# keepdim=True)` is `x.sum(1, keepdim=True)`. Adding one is one line below (and a
# `::: micrograd_plus.<name>` line in docs/api.md); each line names its function for type checkers.
MADE_FROM_METHODS: dict[str, str] = {}  # each function made below -> the method it calls


def _method_as_function(name: str, with_out: bool, method: str | None = None) -> Callable[..., Any]:
    """`torch.<name>(input, ...)`: `input.<method>(...)` (the method of that name by default),
    written into `out=` if `with_out`."""
    method = name if method is None else method
    MADE_FROM_METHODS[name] = method

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_tensor(input, name), method)(*args, **kwargs)

    def function_with_out(input: Any, *args: Any, out: Tensor | None = None, **kwargs: Any) -> Any:
        if name in _SUMS_IN_OUTS_DTYPE and isinstance(out, Tensor):
            input = _tensor(input, name).to(out.dtype)
        return _into(out, function(input, *args, **kwargs), name)

    made: Any = function_with_out if with_out else function
    made.__name__ = made.__qualname__ = name
    made.__module__ = __name__
    of = getattr(Tensor, method)
    made.__doc__ = (
        f"`torch.{name}(input, ...)`: the Tensor method `input.{method}(...)`"
        f"{' (written into `out` if given)' if with_out else ''}.\n\n{inspect.getdoc(of) or ''}"
    )
    # help() and the API reference show the method's arguments, `self` named `input` as in torch
    parameters = list(inspect.signature(of).parameters.values())
    parameters[0] = parameters[0].replace(name="input")
    if with_out:
        where = next((i for i, p in enumerate(parameters) if p.kind is p.VAR_KEYWORD), len(parameters))
        parameters.insert(where, inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None))
    made.__signature__ = inspect.Signature(parameters)
    return made


# fmt: off
# With `out=`:
abs = _method_as_function("abs", with_out=True)
amax = _method_as_function("amax", with_out=True)
amin = _method_as_function("amin", with_out=True)
bmm = _method_as_function("bmm", with_out=True)
ceil = _method_as_function("ceil", with_out=True)
clamp = _method_as_function("clamp", with_out=True)
cumsum = _method_as_function("cumsum", with_out=True)
diag = _method_as_function("diag", with_out=True)
div = _method_as_function("div", with_out=True)
floor = _method_as_function("floor", with_out=True)
floor_divide = _method_as_function("floor_divide", with_out=True)
fmod = _method_as_function("fmod", with_out=True)
index_select = _method_as_function("index_select", with_out=True)
lerp = _method_as_function("lerp", with_out=True)
logsumexp = _method_as_function("logsumexp", with_out=True)
maximum = _method_as_function("maximum", with_out=True)
mean = _method_as_function("mean", with_out=True)
minimum = _method_as_function("minimum", with_out=True)
nan_to_num = _method_as_function("nan_to_num", with_out=True)
neg = _method_as_function("neg", with_out=True)
norm = _method_as_function("norm", with_out=True)
outer = _method_as_function("outer", with_out=True)
pow = _method_as_function("pow", with_out=True)
prod = _method_as_function("prod", with_out=True)
remainder = _method_as_function("remainder", with_out=True)
round = _method_as_function("round", with_out=True)
sign = _method_as_function("sign", with_out=True)
square = _method_as_function("square", with_out=True)
std = _method_as_function("std", with_out=True)
sum = _method_as_function("sum", with_out=True)
tril = _method_as_function("tril", with_out=True)
triu = _method_as_function("triu", with_out=True)
var = _method_as_function("var", with_out=True)
clip = _method_as_function("clip", with_out=True, method="clamp")  # torch's other name
# The comparisons and tests give bool Tensors, indices int64 Tensors, and the rest no
# single Tensor or have no `out=` in torch either: no `out=`.
all = _method_as_function("all", with_out=False)
any = _method_as_function("any", with_out=False)
argwhere = _method_as_function("argwhere", with_out=False)
argsort = _method_as_function("argsort", with_out=False)
chunk = _method_as_function("chunk", with_out=False)
clone = _method_as_function("clone", with_out=False)
eq = _method_as_function("eq", with_out=False)
flip = _method_as_function("flip", with_out=False)
ge = _method_as_function("ge", with_out=False)
gt = _method_as_function("gt", with_out=False)
is_floating_point = _method_as_function("is_floating_point", with_out=False)
isinf = _method_as_function("isinf", with_out=False)
isnan = _method_as_function("isnan", with_out=False)
le = _method_as_function("le", with_out=False)
lt = _method_as_function("lt", with_out=False)
masked_fill = _method_as_function("masked_fill", with_out=False)
multinomial = _method_as_function("multinomial", with_out=False)
ne = _method_as_function("ne", with_out=False)
nonzero = _method_as_function("nonzero", with_out=False)
numel = _method_as_function("numel", with_out=False)
roll = _method_as_function("roll", with_out=False)
sort = _method_as_function("sort", with_out=False)
split = _method_as_function("split", with_out=False)
squeeze = _method_as_function("squeeze", with_out=False)
topk = _method_as_function("topk", with_out=False)
unbind = _method_as_function("unbind", with_out=False)
unsqueeze = _method_as_function("unsqueeze", with_out=False)
# fmt: on


def matmul(input: Tensor, other: Operand, *, out: Tensor | None = None) -> Tensor:
    """`input @ other`, as `torch.matmul` (written into `out` if given)."""
    return _into(out, _tensor(input, "matmul") @ other, "matmul")


def mul(input: Tensor, other: Operand, *, out: Tensor | None = None) -> Tensor:
    """`input * other`, as `torch.mul` (written into `out` if given)."""
    return _into(out, _tensor(input, "mul") * other, "mul")


def add(input: Tensor, other: Operand, *, alpha: float = 1, out: Tensor | None = None) -> Tensor:
    """`input + alpha * other`, as `torch.add` (written into `out` if given)."""
    return _into(out, _tensor(input, "add") + _scaled(other, alpha, "add"), "add")


def sub(input: Tensor, other: Operand, *, alpha: float = 1, out: Tensor | None = None) -> Tensor:
    """`input - alpha * other`, as `torch.sub` (written into `out` if given)."""
    return _into(out, _tensor(input, "sub") - _scaled(other, alpha, "sub"), "sub")


def _scaled(other: Operand, alpha: Any, name: str) -> Operand:
    if not isinstance(other, (Tensor, numbers.Real, list, tuple, np.ndarray)):
        raise TypeError(
            f"{name}(): other must be a Tensor or numbers, got {type(other).__name__}: {other!r:.60}"
        )
    factor = real_number(alpha, f"{name}(): alpha")
    if factor == 1:
        return other
    return other * factor if isinstance(other, Tensor) else np.multiply(other, factor)  # (a list: numbers)


def mm(input: Tensor, mat2: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The product of two matrices, as `torch.mm`: both must be 2-D (`matmul` takes the other
    shapes)."""
    a, b = _tensor(input, "mm"), _tensor(mat2, "mm")
    for what, t in (("input", a), ("mat2", b)):
        if t.ndim != 2:
            raise ValueError(
                f"mm(): {what} must be a matrix (2-D), got shape {t.shape}; matmul takes other shapes"
            )
    if a.shape[1] != b.shape[0]:
        raise ValueError(
            f"mm(): mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]}): the columns of the first must match the rows of the second"
        )
    return _into(out, a @ b, "mm")


def dot(input: Tensor, tensor: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The dot product of two 1-D Tensors of one length (a 0-d Tensor), as `torch.dot`."""
    a, b = _tensor(input, "dot"), _tensor(tensor, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(
            f"dot(): 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors (shapes {a.shape} and "
            f"{b.shape}); matmul takes other shapes"
        )
    if a.shape != b.shape:
        raise ValueError(
            f"dot(): inconsistent tensor size: {a.shape[0]} and {b.shape[0]} elements; give two of one length"
        )
    return _into(out, a @ b, "dot")


def reshape(input: Tensor, shape: Any) -> Tensor:
    """`input.reshape(shape)`, as `torch.reshape(x, (2, 3))`: one size may be -1."""
    return _tensor(input, "reshape").reshape(tuple(shape) if isinstance(shape, (tuple, list)) else (shape,))


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """`input` with axes `dim0` and `dim1` swapped, as `torch.transpose`: the method."""
    return _tensor(input, "transpose").transpose(dim0, dim1)


def permute(input: Tensor, dims: Any) -> Tensor:
    """`input.permute(dims)`: the axes in the order given, as `torch.permute(x, (2, 0, 1))`."""
    return _tensor(input, "permute").permute(tuple(dims))


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """`input.softmax(dim)`, as `torch.softmax(x, dim=1)` (in `dtype`, float32 or float64, if given)."""
    return _tensor(input, "softmax").softmax(dim, dtype)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """`input.log_softmax(dim)`, as `torch.log_softmax(x, dim=1)` (in `dtype`, if given)."""
    return _tensor(input, "log_softmax").log_softmax(dim, dtype)


def is_tensor(obj: Any) -> bool:
    """Whether `obj` is a Tensor, as `torch.is_tensor`."""
    return isinstance(obj, Tensor)


def isclose(
    input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """Elementwise |input - other| <= atol + rtol * |other|, as `torch.isclose` (its defaults;
    infinities close only to themselves, nan to nan only with `equal_nan`): a bool Tensor, as
    comparisons give. Tensors or numpy arrays (a `.grad` is one), broadcast together."""
    return _index_result(_isclose(input, other, rtol, atol, equal_nan, "isclose"))


def allclose(
    input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether every element of `isclose(input, other, ...)` is true, as `torch.allclose`."""
    return bool(_isclose(input, other, rtol, atol, equal_nan, "allclose").all())


def _isclose(input: Any, other: Any, rtol: float, atol: float, equal_nan: bool, name: str) -> np.ndarray:
    a, b = _numbers(input, name, "input"), _numbers(other, name, "other")
    for what, tolerance in (("rtol", rtol), ("atol", atol)):
        if not 0 <= real_number(tolerance, f"{name}(): {what}") < math.inf:
            raise ValueError(f"{name}(): {what} must be a finite number >= 0, got {tolerance!r:.60}")
    try:
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    except ValueError:
        raise ValueError(
            f"{name}(): shapes {a.shape} and {b.shape} do not broadcast; give Tensors of one shape"
        ) from None


def _numbers(x: Any, name: str, what: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(
        f"{name}(): {what} must be a Tensor or a numpy array (as torch.{name}), got {type(x).__name__}: "
        f"{x!r:.60}"
    )


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """`input.flatten(start_dim, end_dim)`, as `torch.flatten(x, 1)`."""
    return _tensor(input, "flatten").flatten(start_dim, end_dim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """`torch.max`: the method `input.max(dim, keepdim)`: the largest element without `dim`; with
    `dim`, the pair (values, indices) along it, as in `_, predicted = torch.max(outputs, 1)`; with
    a Tensor, the elementwise maximum."""
    return _tensor(input, "max").max(dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """`torch.min`: the method `input.min(dim, keepdim)` (see `max`)."""
    return _tensor(input, "min").min(dim, keepdim)


# The public names, the generated ones too: `from .functions import *` in __init__ takes them all.
__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_") and getattr(value, "__module__", None) == __name__
)
