"""Central finite differences, and the inputs they perturb: `numerical_grad` and what
gradcheck and the hand-written checks build on. Finite differences need float64: with float32
a step of 1e-6 is lost in rounding, so such inputs are refused."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import Node

# -- reading inputs -------------------------------------------------------------------


def _check_callable(f: Any, name: str) -> None:
    if not callable(f):
        raise TypeError(
            f"{name} must be a function, called as {name}(*inputs); got {type(f).__name__}: {f!r:.60}"
        )


def _as_args(inputs: Any) -> tuple[Any, ...]:
    """`inputs` as the tuple of arguments of `f` (a lone node or array is one argument)."""
    return tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)


def _is_float_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)


def _raw_of(x: Any) -> Any:
    return x.data if isinstance(x, Node) else x


def _differentiable(x: Any) -> bool:
    """Whether finite differences can perturb this argument (a float or float array,
    bare or as a node's data); anything else (ints, strings, None) is passed through."""
    raw = _raw_of(x)
    if isinstance(raw, bool):
        return False
    return isinstance(raw, (float, np.floating)) or _is_float_array(raw)


def _inputs_to_perturb(title: str, args: tuple[Any, ...], autograd: bool) -> tuple[list[int], list[str]]:
    """The positions of the inputs finite differences perturb, and every input's name, for
    gradcheck and gradgradcheck (`autograd`: the nodes that require grad) and numerical_grad
    (every float, float array, or node with such data). Refuses, before f runs, what
    finite differences cannot use: no such input, data that is not float, or not float64, or
    is nan or inf."""
    names = [_name(a, i) for i, a in enumerate(args)]
    if autograd:
        positions = [i for i, a in enumerate(args) if isinstance(a, Node) and a.requires_grad]
        wanted = "input that requires grad (a Value, or a Tensor with requires_grad=True)"
        for i in positions:
            if not _differentiable(args[i]):
                raise ValueError(
                    f"{names[i]} requires grad but its data is not floating point: {args[i].data!r:.60}"
                )
    else:
        positions = [i for i, a in enumerate(args) if _differentiable(a)]
        wanted = "float input to perturb (a float, a float array, or a Value or Tensor of floats)"
    frozen = [names[i] for i, a in enumerate(args) if isinstance(a, Node) and not a.requires_grad]
    if not positions and autograd and frozen:
        raise ValueError(
            f"{title} expects at least one {wanted}; {', '.join(frozen)} "
            f"{'does' if len(frozen) == 1 else 'do'} not require grad: make the inputs to check with "
            "requires_grad=True"
        )
    if not positions:
        got = ", ".join(f"{type(a).__name__} {a!r:.40}" for a in args) or "no inputs"
        raise ValueError(f"{title} expects at least one {wanted}; got {got}")
    _require_finite_float64(args, positions, names)
    return positions, names


def _require_finite_float64(args: Sequence[Any], positions: Sequence[int], names: Sequence[str]) -> None:
    """Refuse inputs to perturb that are not float64 (a step of 1e-6 is lost in float32
    rounding) or hold nan or inf (where no slope is defined), naming the input."""
    for i in positions:
        raw = _raw_of(args[i])
        if _is_float_array(raw) and raw.dtype != np.float64:
            raise ValueError(
                f"{names[i]} has dtype {raw.dtype}; finite differences need float64 (a step of 1e-6 "
                f"is lost in float32 rounding). Pass float64 data: {_to_float64_hint(args[i])}."
            )
        array = np.asarray(raw, dtype=np.float64)
        bad = np.argwhere(~np.isfinite(array))
        if len(bad):
            where = tuple(int(k) for k in bad[0])
            what = f"is {float(array[where])}"
            if where:
                what += f" at element [{', '.join(map(str, where))}]"
            if len(bad) > 1:
                what += f" (and {len(bad) - 1} more nan or inf)"
            raise ValueError(
                f"{names[i]} {what}: finite differences need finite inputs (there is no slope at nan "
                "or inf), so nothing was checked; give it finite data"
            )


def _node_output(title: str, out: Any, args: tuple[Any, ...]) -> Any:
    """f's output `out`, refusing a number where f was given nodes: f took its result out of
    the graph (`.data`, `.item()`), which gradcheck cannot differentiate and numerical_grad
    should not hide."""
    if any(isinstance(a, Node) for a in args) and not isinstance(out, Node):
        several = isinstance(out, (list, tuple))
        raise TypeError(
            f"{title}: f must return the Value or Tensor it computed from its inputs, got "
            f"{type(out).__name__} {out!r:.60}; "
            + (
                f"return one Value or Tensor, not a {type(out).__name__}"
                if several
                else "return the node itself, not its .data"
            )
        )
    return out


def _to_float64_hint(x: Any) -> str:
    if isinstance(x, Node):
        return "x.double(), or Tensor(..., dtype='float64')"
    return "x.astype(np.float64)"


def _name(x: Any, i: int, names: Sequence[str] | None = None) -> str:
    if names is not None and i < len(names):
        return f"input {i} {names[i]!r}"
    label = getattr(x, "label", "") if isinstance(x, Node) else ""
    return f"input {i} {label!r}" if label else f"input {i}"


def _output_array(out: Any, what: str) -> np.ndarray:
    raw = _raw_of(out)
    try:
        array = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{what} must return a number, an array, a Value or a Tensor; got {type(out).__name__}: {out!r:.80}"
        ) from None
    return array


def _probe_weights(shape: tuple[int, ...]) -> np.ndarray:
    """Fixed, distinct, non-unit weights: checking d(sum(w * f)) instead of d(sum(f))
    also catches a rule that forgets the upstream gradient or mixes up elements."""
    return np.random.default_rng(20240607).uniform(0.5, 1.5, size=shape)


# -- finite differences ----------------------------------------------------------------


_LARGEST = float(np.finfo(np.float64).max)


def _is_number(x: Any) -> bool:
    """An int or float (numpy's too), not a bool: what a step or a tolerance may be."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _check_tolerances(**values: Any) -> None:
    """Refuse, before f runs, a step `eps` that is not a positive finite number and a tolerance
    (atol, rtol, nondet_tol) that is not a finite number >= 0: with a negative or nan one every
    comparison fails, and a report would blame a right rule. (nan, inf and ints too large for
    a float are refused too.)"""
    for name, value in values.items():
        step = name == "eps"
        if not (_is_number(value) and (0 < value if step else 0 <= value) and value <= _LARGEST):
            wanted = "a positive finite number" if step else "a finite number >= 0"
            raise ValueError(f"{name} must be {wanted}, got {value!r}")


@dataclass
class _Slopes:
    """Central, left and right differences for one input (float64 arrays of its shape)."""

    central: np.ndarray
    left: np.ndarray
    right: np.ndarray


def _finite_differences(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    positions: Sequence[int],
    eps: float,
    weights: np.ndarray | None,
    what: str,
) -> dict[int, _Slopes]:
    """Slopes of F = sum(weights * f(*args)) with respect to each element of the arguments
    at `positions`. Node inputs are perturbed by replacing their `.data` (restored after),
    plain floats and arrays by passing perturbed copies."""
    evaluate = _evaluator(f, weights, what)
    f0 = evaluate(args)
    slopes: dict[int, _Slopes] = {}
    for i in positions:
        base = _raw_of(args[i])
        shape = np.shape(base)
        central, left, right = np.empty(shape), np.empty(shape), np.empty(shape)
        for j in range(int(np.prod(shape))):
            step = np.zeros(shape)
            step.flat[j] = eps
            _fill(central, left, right, j, f0, _plus_minus(evaluate, args, i, step), eps)
        slopes[i] = _Slopes(central, left, right)
    return slopes


def _evaluator(f: Callable[..., Any], weights: np.ndarray | None, what: str) -> Callable[..., float]:
    """F(args) = sum(weights * f(*args)) as a float (f(*args) itself if weights is None)."""

    def evaluate(call_args: tuple[Any, ...]) -> float:
        out = _output_array(f(*call_args), what)
        if weights is None:
            if out.size != 1:
                raise ValueError(
                    f"{what} returned shape {out.shape}; finite differences of a non-scalar need "
                    "grad_output= (the weights of each output element), or reduce it with .sum()"
                )
            return float(out.reshape(()))
        if out.shape != weights.shape:
            raise ValueError(f"{what} returned shape {out.shape} but grad_output has shape {weights.shape}")
        with np.errstate(all="ignore"):
            return float(np.sum(weights * out))

    return evaluate


def _plus_minus(
    evaluate: Callable[..., float], args: tuple[Any, ...], i: int, step: np.ndarray
) -> tuple[float, float]:
    """F with argument i moved by +step and by -step (a node's `.data` is restored after)."""
    arg = args[i]
    base = _raw_of(arg)
    values = []
    for sign in (1.0, -1.0):
        moved = base + sign * step if isinstance(base, np.ndarray) else float(base) + sign * float(step)
        if isinstance(arg, Node):
            arg.data = moved
            try:
                values.append(evaluate(args))
            finally:
                arg.data = base
        else:
            values.append(evaluate(args[:i] + (moved,) + args[i + 1 :]))
    return values[0], values[1]


def _fill(
    central: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    j: int,
    f0: float,
    plus_minus: tuple[float, float],
    eps: float,
) -> None:
    """Element j of the central and one-sided differences, from F at x, x + step and x - step."""
    plus, minus = plus_minus
    with np.errstate(all="ignore"):
        central.flat[j] = (plus - minus) / (2 * eps)
        left.flat[j] = (f0 - minus) / eps
        right.flat[j] = (plus - f0) / eps


def _shaped(array: np.ndarray, like: Any) -> Any:
    """A float for a scalar input, an array for an array input."""
    return array if isinstance(_raw_of(like), np.ndarray) else float(array.reshape(()))


def numerical_grad(
    f: Callable[..., Any], inputs: Any, eps: float = 1e-6, grad_output: Any = None
) -> tuple[Any, ...]:
    """Central differences `(f(x + eps) - f(x - eps)) / (2 eps)` for every element of
    every input: one gradient per input (a float for a Value or float, an array for a
    Tensor or array; None for arguments that are not floats, which are passed through).

    `f(*inputs)` may return a Value or a Tensor, or, for inputs that are plain floats and
    arrays, a float or an array (as gradcheck, it refuses a number taken out of the graph
    of Value or Tensor inputs: return the node, not its `.data`). For an output with
    more than one element give `grad_output` (as for `backward(gradient)`): the result
    is then the gradient of `sum(grad_output * f)`. `.grad` is never touched.
    """
    _check_callable(f, "f")
    _check_tolerances(eps=eps)
    args = _as_args(inputs)
    positions, _ = _inputs_to_perturb("numerical_grad", args, autograd=False)
    try:
        weights = None if grad_output is None else np.asarray(_raw_of(grad_output), dtype=np.float64)
    except OverflowError:
        raise ValueError(f"grad_output holds a number too large for a float: {grad_output!r:.60}") from None

    def checked(*call_args: Any) -> Any:  # each evaluation refuses a number taken out of the graph
        return _node_output("numerical_grad", f(*call_args), call_args)

    slopes = _finite_differences(checked, args, positions, eps, weights, "f")
    return tuple(_shaped(slopes[i].central, args[i]) if i in slopes else None for i in range(len(args)))
