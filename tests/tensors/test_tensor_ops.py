"""Every Tensor operation, on hypothesis-drawn shapes (with broadcasting) and values:
gradients against central differences always, values and gradients against PyTorch float64
where torch is installed, second derivatives (`grad(..., create_graph=True)`) against PyTorch,
and float32 kept through forward and backward.

Each case draws its input arrays, the keyword arguments of the operation and the
function in both libraries. A random subset of the inputs requires grad, so the rules that
skip unwanted gradients are exercised too.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import Tensor, concat, no_grad, stack

# -- drawing inputs -----------------------------------------------------------------------------

ANY = st.floats(-3, 3, allow_nan=False, width=64)
POSITIVE = st.floats(0.2, 3, allow_nan=False)
# Away from the kinks of relu and abs (finite differences straddling 0 would be wrong there).
NONZERO = st.one_of(st.floats(-3, -0.05), st.floats(0.05, 3))
# On a grid, so distinct values are far apart compared with a finite-difference step.
GRID = st.integers(-30, 30).map(lambda i: i / 10)


def array(
    data: st.DataObject,
    shape: tuple[int, ...],
    elements: st.SearchStrategy[float] = ANY,
    unique: bool = False,
) -> np.ndarray:
    return data.draw(hnp.arrays(np.float64, shape, elements=elements, unique=unique))


def broadcast_pair(data: st.DataObject) -> tuple[tuple[int, ...], tuple[int, ...]]:
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    return shapes.input_shapes  # type: ignore[return-value]


def small_shape(data: st.DataObject, min_dims: int = 0) -> tuple[int, ...]:
    return data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=3))


def axis_argument(data: st.DataObject, ndim: int) -> Any:
    """None, an int (maybe negative) or a non-empty tuple of distinct axes."""
    if ndim == 0:
        return None
    kind = data.draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return data.draw(st.integers(-ndim, ndim - 1))
    axes = data.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if data.draw(st.booleans()) else a for a in axes)


def torch_dims(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return axis if isinstance(axis, tuple) else (axis,)


# -- the catalogue ------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    # draw(data) -> (input arrays, keyword arguments shared by ours and theirs)
    draw: Callable[[st.DataObject], tuple[list[np.ndarray], dict[str, Any]]]
    ours: Callable[..., Tensor]
    theirs: Callable[..., Any]  # the same function in PyTorch (gets `torch` as keyword `t`)


def binary(
    elements_a: st.SearchStrategy[float] = ANY, elements_b: st.SearchStrategy[float] = ANY
) -> Callable:
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        sa, sb = broadcast_pair(data)
        return [array(data, sa, elements_a), array(data, sb, elements_b)], {}

    return draw


def unary(elements: st.SearchStrategy[float] = ANY, unique: bool = False) -> Callable:
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        return [array(data, small_shape(data), elements, unique)], {}

    return draw


def draw_matmul(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    kind = data.draw(
        st.sampled_from(["2d", "vector-matrix", "matrix-vector", "dot", "batched", "batch-vector"])
    )
    if kind == "2d":
        sa, sb = (n, k), (k, m)
    elif kind == "vector-matrix":
        sa, sb = (k,), (k, m)
    elif kind == "matrix-vector":
        sa, sb = (n, k), (k,)
    elif kind == "dot":
        sa, sb = (k,), (k,)
    else:
        batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2))
        ba, bb = batch.input_shapes
        sa = ba + (n, k) if kind == "batched" or data.draw(st.booleans()) else (k,)
        sb = bb + (k, m) if kind == "batched" or len(sa) == 1 else (k,)
    return [array(data, sa), array(data, sb)], {}


def draw_reduction(unique: bool = False) -> Callable:
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        shape = small_shape(data)
        return [array(data, shape, GRID if unique else ANY, unique=unique)], {
            "axis": axis_argument(data, len(shape)),
            "keepdims": data.draw(st.booleans()),
        }

    return draw


def torch_reduce(name: str) -> Callable:
    def theirs(x: Any, t: Any, axis: Any, keepdims: bool) -> Any:
        dims = torch_dims(axis, x.ndim)
        if name in ("amax", "amin"):
            return getattr(t, name)(x, dim=dims, keepdim=keepdims)
        if x.ndim == 0:
            return getattr(t, name)(x)
        return getattr(t, name)(x, dim=dims, keepdim=keepdims)

    return theirs


def draw_spread(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    """For var and std: distinct values, at least two along every axis (so N - correction > 0)."""
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    return [array(data, shape, GRID, unique=True)], {
        "axis": axis_argument(data, len(shape)),
        "keepdims": data.draw(st.booleans()),
        "correction": data.draw(st.sampled_from([0, 1])),
    }


def torch_spread(name: str) -> Callable:
    def theirs(x: Any, t: Any, axis: Any, keepdims: bool, correction: int) -> Any:
        return getattr(t, name)(x, dim=torch_dims(axis, x.ndim), keepdim=keepdims, correction=correction)

    return theirs


def draw_norm(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Away from 0, where abs has its kink and the 2-norm's gradient is a convention (ours 0,
    as PyTorch's; see test_tensor_porting_idioms.py)."""
    p = data.draw(st.sampled_from([1, 2]))
    shape = small_shape(data, min_dims=1)
    x = array(data, shape, NONZERO)
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    return [x], {"p": p, "dim": dim, "keepdim": data.draw(st.booleans())}


def torch_norm(x: Any, t: Any, p: int, dim: Any, keepdim: bool) -> Any:
    return t.linalg.vector_norm(x, ord=p, dim=dim, keepdim=keepdim)


def draw_power(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    return [array(data, small_shape(data), POSITIVE)], {
        "exponent": data.draw(st.sampled_from([2, 0.5, -1.5]))
    }


def draw_reshape(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = small_shape(data)
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(size,), (-1,), (1, size), (size, 1), shape[::-1], (1, -1, 1)]))
    return [array(data, shape)], {"shape": target}


def draw_transpose(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = small_shape(data)
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    return [array(data, shape)], {"perm": perm}


def draw_matrix_batch(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    return [array(data, small_shape(data, min_dims=2))], {}


def draw_index(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = small_shape(data, min_dims=1)
    x = array(data, shape)
    kind = data.draw(st.sampled_from(["basic", "ints", "ints-and-slice", "mask", "row-mask", "two-arrays"]))
    if kind == "basic":
        items: list[Any] = []
        for n in shape:
            choice = data.draw(st.sampled_from(["int", "slice", "all"]))
            if choice == "int":
                items.append(data.draw(st.integers(-n, n - 1)))
            elif choice == "slice":
                start = data.draw(st.integers(0, n - 1))
                items.append(slice(start, data.draw(st.integers(start + 1, n)), data.draw(st.integers(1, 2))))
            else:
                items.append(slice(None))
        if data.draw(st.booleans()):
            items.insert(data.draw(st.integers(0, len(items))), None)
        index: Any = tuple(items)
    elif kind in ("ints", "ints-and-slice"):
        picks = np.array(
            data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5))
        )  # repeats likely
        index = picks if kind == "ints" else (picks, Ellipsis)
    elif kind == "mask":
        index = data.draw(hnp.arrays(np.bool_, shape))
    elif kind == "row-mask":
        index = data.draw(hnp.arrays(np.bool_, shape[:1]))
    else:
        rows = np.array(data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4)))
        if len(shape) == 1:
            index = rows
        else:  # (rows, columns) pairs, as in a cross-entropy pick
            index = (rows, np.array([data.draw(st.integers(-shape[1], shape[1] - 1)) for _ in rows]))
    return [x], {"index": index}


def torch_index(index: Any, t: Any) -> Any:
    def convert(item: Any) -> Any:
        return t.from_numpy(item) if isinstance(item, np.ndarray) else item

    return tuple(convert(i) for i in index) if isinstance(index, tuple) else convert(index)


def draw_join(new_axis: bool) -> Callable:
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        shape = small_shape(data, min_dims=1)
        count = data.draw(st.integers(1, 3))
        ndim = len(shape) + new_axis
        axis = data.draw(st.integers(-ndim, ndim - 1))
        arrays = []
        for _ in range(count):
            s = list(shape)
            if not new_axis:
                s[axis] = data.draw(st.integers(1, 3))
            arrays.append(array(data, tuple(s)))
        return arrays, {"axis": axis}

    return draw


def draw_softmax(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = small_shape(data, min_dims=1)
    return [array(data, shape, st.floats(-10, 10))], {
        "axis": data.draw(st.integers(-len(shape), len(shape) - 1))
    }


def draw_unsqueeze(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = small_shape(data)
    return [array(data, shape)], {"dim": data.draw(st.integers(-len(shape) - 1, len(shape)))}


def draw_squeeze(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = small_shape(data, min_dims=1)
    kind = data.draw(st.sampled_from(["none", "int", "tuple"]))
    ndim = len(shape)
    dim: Any = None
    if kind == "int":
        dim = data.draw(st.integers(-ndim, ndim - 1))
    elif kind == "tuple":
        dim = tuple(data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim)))
        dim = tuple(sorted({d % ndim for d in dim}))
    return [array(data, shape)], {"dim": dim}


def torch_squeeze(x: Any, t: Any, dim: Any) -> Any:
    return x.squeeze() if dim is None else x.squeeze(dim)


def draw_flatten(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = small_shape(data)
    ndim = max(len(shape), 1)
    start = data.draw(st.integers(0, ndim - 1))
    end = data.draw(st.integers(start, ndim - 1))
    negative = data.draw(st.booleans())
    return [array(data, shape)], {"start": start - ndim if negative else start, "end": end}


def draw_clamp(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    # Elements on a grid of 0.1, bounds halfway between grid points: central differences never
    # straddle a bound (the kinks at the bounds are checked against PyTorch elsewhere).
    low = data.draw(st.one_of(st.none(), st.integers(-30, 30).map(lambda i: i / 10 + 0.05)))
    high = data.draw(st.integers(-30, 30).map(lambda i: i / 10 + 0.05)) if low is None else None
    if low is not None and data.draw(st.booleans()):
        high = data.draw(st.integers(-30, 30).map(lambda i: i / 10 + 0.05))  # may lie below low
    return [array(data, small_shape(data), GRID)], {"low": low, "high": high}


def draw_clamp_by_tensors(bounds: int) -> Callable:
    # x on the grid of 0.1, min and max off it by 0.05 and 0.025: central differences never
    # straddle a kink (x at a bound, or min == max; those are checked against PyTorch elsewhere).
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=1 + bounds, max_dims=3, max_side=3))
        x, *limits = shapes.input_shapes
        offsets = [st.integers(-30, 30).map(lambda i, d=d: i / 10 + d) for d in (0.05, 0.025)]
        kwargs = {"which": data.draw(st.sampled_from(["min", "max"]))} if bounds == 1 else {}
        return [array(data, x, GRID), *(array(data, s, o) for s, o in zip(limits, offsets))], kwargs

    return draw


def torch_clamp_by_tensors(x: Any, low: Any, high: Any, t: Any) -> Any:
    # (torch 2.13's backward fails when two Tensor bounds broadcast to a larger shape: expanded)
    shape = t.broadcast_shapes(x.shape, low.shape, high.shape)
    return x.expand(shape).clamp(low.expand(shape), high.expand(shape))


def draw_gather(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = small_shape(data, min_dims=1)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(
        data.draw(st.integers(1, 4)) if i == dim % len(shape) else data.draw(st.integers(1, n))
        for i, n in enumerate(shape)
    )
    index = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, shape[dim] - 1)))
    return [array(data, shape)], {"dim": dim, "index": index}


def draw_where(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
    condition, sa, sb = shapes.input_shapes
    return [array(data, sa), array(data, sb)], {"condition": data.draw(hnp.arrays(np.bool_, condition))}


CASES = [
    Case("add", binary(), lambda a, b: a + b, lambda a, b, t: a + b),
    Case("sub", binary(), lambda a, b: a - b, lambda a, b, t: a - b),
    Case("mul", binary(), lambda a, b: a * b, lambda a, b, t: a * b),
    Case("div", binary(ANY, NONZERO), lambda a, b: a / b, lambda a, b, t: a / b),
    Case("pow", binary(POSITIVE, st.floats(-2, 2)), lambda a, b: a**b, lambda a, b, t: a**b),
    Case("matmul", draw_matmul, lambda a, b: a @ b, lambda a, b, t: t.matmul(a, b)),
    Case("neg", unary(), lambda x: -x, lambda x, t: -x),
    Case("exp", unary(), lambda x: x.exp(), lambda x, t: x.exp()),
    Case("log", unary(POSITIVE), lambda x: x.log(), lambda x, t: x.log()),
    Case("tanh", unary(), lambda x: x.tanh(), lambda x, t: x.tanh()),
    Case("sigmoid", unary(), lambda x: x.sigmoid(), lambda x, t: x.sigmoid()),
    Case("relu", unary(NONZERO), lambda x: x.relu(), lambda x, t: x.relu()),
    Case("abs", unary(NONZERO), lambda x: abs(x), lambda x, t: x.abs()),
    Case("sqrt", unary(POSITIVE), lambda x: x.sqrt(), lambda x, t: x.sqrt()),
    Case("sin", unary(), lambda x: x.sin(), lambda x, t: x.sin()),
    Case("cos", unary(), lambda x: x.cos(), lambda x, t: x.cos()),
    Case("sum", draw_reduction(), lambda x, axis, keepdims: x.sum(axis, keepdims), torch_reduce("sum")),
    Case(
        "mean",
        draw_reduction(),
        lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
        torch_reduce("mean"),
    ),
    Case(
        "amax",
        draw_reduction(unique=True),
        lambda x, axis, keepdims: x.amax(axis, keepdims),
        torch_reduce("amax"),
    ),
    Case("reshape", draw_reshape, lambda x, shape: x.reshape(*shape), lambda x, t, shape: x.reshape(shape)),
    Case("transpose", draw_transpose, lambda x, perm: x.transpose(perm), lambda x, t, perm: x.permute(perm)),
    Case("T", unary(), lambda x: x.T, lambda x, t: x.permute(tuple(reversed(range(x.ndim))))),
    Case("mT", draw_matrix_batch, lambda x: x.mT, lambda x, t: x.mT),
    Case("getitem", draw_index, lambda x, index: x[index], lambda x, t, index: x[torch_index(index, t)]),
    Case(
        "concat",
        draw_join(False),
        lambda *xs, axis: concat(list(xs), axis=axis),
        lambda *xs, t, axis: t.cat(xs, dim=axis),
    ),
    Case(
        "stack",
        draw_join(True),
        lambda *xs, axis: stack(xs, axis),
        lambda *xs, t, axis: t.stack(xs, dim=axis),
    ),
    Case("softmax", draw_softmax, lambda x, axis: x.softmax(axis), lambda x, t, axis: t.softmax(x, dim=axis)),
    Case(
        "log_softmax",
        draw_softmax,
        lambda x, axis: x.log_softmax(axis=axis),
        lambda x, t, axis: t.log_softmax(x, dim=axis),
    ),
    # PyTorch's names (issue 16)
    Case(
        "amin",
        draw_reduction(unique=True),
        lambda x, axis, keepdims: x.amin(axis, keepdims),
        torch_reduce("amin"),
    ),
    Case("view", draw_reshape, lambda x, shape: x.view(*shape), lambda x, t, shape: x.view(shape)),
    Case("unsqueeze", draw_unsqueeze, lambda x, dim: x.unsqueeze(dim), lambda x, t, dim: x.unsqueeze(dim)),
    Case("squeeze", draw_squeeze, lambda x, dim: x.squeeze(dim), torch_squeeze),
    Case(
        "flatten",
        draw_flatten,
        lambda x, start, end: x.flatten(start, end),
        lambda x, t, start, end: x.flatten(start, end),
    ),
    Case("permute", draw_transpose, lambda x, perm: x.permute(*perm), lambda x, t, perm: x.permute(perm)),
    Case(
        "clamp",
        draw_clamp,
        lambda x, low, high: x.clamp(low, high),
        lambda x, t, low, high: x.clamp(low, high),
    ),
    Case(
        "clamp by Tensors",
        draw_clamp_by_tensors(2),
        lambda x, low, high: x.clamp(low, high),
        torch_clamp_by_tensors,
    ),
    Case(
        "clamp by a Tensor",
        draw_clamp_by_tensors(1),
        lambda x, bound, which: x.clamp(**{which: bound}),
        lambda x, bound, t, which: x.clamp(**{which: bound}),
    ),
    Case(
        "gather",
        draw_gather,
        lambda x, dim, index: x.gather(dim, index),
        lambda x, t, dim, index: x.gather(dim, t.from_numpy(index)),
    ),
    Case(
        "var",
        draw_spread,
        lambda x, axis, keepdims, correction: x.var(axis, keepdim=keepdims, correction=correction),
        torch_spread("var"),
    ),
    Case(
        "std",
        draw_spread,
        lambda x, axis, keepdims, correction: x.std(axis, keepdim=keepdims, correction=correction),
        torch_spread("std"),
    ),
    Case("norm", draw_norm, lambda x, p, dim, keepdim: x.norm(p, dim, keepdim), torch_norm),
    Case("pow", draw_power, lambda x, exponent: x.pow(exponent), lambda x, t, exponent: x.pow(exponent)),
    Case(
        "where",
        draw_where,
        lambda a, b, condition: mg.where(condition, a, b),
        lambda a, b, t, condition: t.where(t.from_numpy(condition), a, b),
    ),
]
IDS = [c.name for c in CASES]


def draw_case(
    case: Case, data: st.DataObject
) -> tuple[list[np.ndarray], dict[str, Any], list[bool], np.ndarray]:
    """Inputs, keyword arguments, which inputs require grad (at least one), and an output weight."""
    arrays, kwargs = case.draw(data)
    wants = [data.draw(st.booleans()) for _ in arrays]
    wants[data.draw(st.integers(0, len(arrays) - 1))] = True
    with no_grad():
        out_shape = case.ours(*[Tensor(a) for a in arrays], **kwargs).shape
    weight = array(data, out_shape, st.floats(-2, 2))
    return arrays, kwargs, wants, weight


# -- central differences ----------------------------------------------------------------------------


def central_differences(
    f: Callable[[list[np.ndarray]], float], arrays: list[np.ndarray], index: int, h: float = 1e-6
) -> np.ndarray:
    """d f / d arrays[index], elementwise, by (f(x + h) - f(x - h)) / 2h."""
    grad = np.zeros_like(arrays[index])
    for position in np.ndindex(arrays[index].shape):
        shifted = [a.copy() for a in arrays]
        shifted[index][position] += h
        up = f(shifted)
        shifted[index][position] -= 2 * h
        down = f(shifted)
        grad[position] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_gradients_match_central_differences(case: Case, data: st.DataObject) -> None:
    arrays, kwargs, wants, weight = draw_case(case, data)

    def weighted_output(xs: list[np.ndarray]) -> float:
        with no_grad():
            return float((case.ours(*[Tensor(x) for x in xs], **kwargs).data * weight).sum())

    tensors = [Tensor(a, requires_grad=w) for a, w in zip(arrays, wants)]
    out = case.ours(*tensors, **kwargs)
    out.backward(weight)
    for i, (t, want) in enumerate(zip(tensors, wants)):
        if not want:
            assert t.grad is None
            continue
        expected = central_differences(weighted_output, arrays, i)
        assert t.grad.shape == t.shape and t.grad.dtype == np.float64
        np.testing.assert_allclose(t.grad, expected, rtol=1e-5, atol=1e-6, err_msg=f"{case.name} input {i}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_values_and_gradients_match_torch(case: Case, data: st.DataObject) -> None:
    torch = require_torch()
    arrays, kwargs, wants, weight = draw_case(case, data)
    ours = [Tensor(a, requires_grad=w) for a, w in zip(arrays, wants)]
    theirs = [torch.tensor(a, requires_grad=w) for a, w in zip(arrays, wants)]
    out = case.ours(*ours, **kwargs)
    expected = case.theirs(*theirs, t=torch, **kwargs)
    assert out.shape == tuple(expected.shape)
    assert close_to_torch(out.data, expected.detach().numpy())
    out.backward(weight)
    expected.backward(torch.tensor(weight))
    for mine, reference in zip(ours, theirs):
        if reference.grad is None:
            assert mine.grad is None
        else:
            assert close_to_torch(mine.grad, reference.grad.numpy()), (case.name, mine.grad, reference.grad)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_second_derivatives_match_torch(case: Case, data: st.DataObject) -> None:
    """The rules run on Tensors under create_graph=True: differentiate the weighted gradient again."""
    torch = require_torch()
    arrays, kwargs, wants, weight = draw_case(case, data)
    probes = [array(data, a.shape, st.floats(-2, 2)) for a in arrays]
    ours = [Tensor(a, requires_grad=w) for a, w in zip(arrays, wants)]
    theirs = [torch.tensor(a, requires_grad=w) for a, w in zip(arrays, wants)]
    wanted_ours = [t for t, w in zip(ours, wants) if w]
    wanted_theirs = [t for t, w in zip(theirs, wants) if w]
    wanted_probes = [p for p, w in zip(probes, wants) if w]

    grads = mg.grad(case.ours(*ours, **kwargs), wanted_ours, grad_outputs=Tensor(weight), create_graph=True)
    reference = torch.autograd.grad(
        case.theirs(*theirs, t=torch, **kwargs),
        wanted_theirs,
        grad_outputs=torch.tensor(weight),
        create_graph=True,
    )
    for g, r in zip(grads, reference):
        assert close_to_torch(g.data, r.detach().numpy())
    total = sum((g * p).sum() for g, p in zip(grads, wanted_probes))
    total_ref = sum((r * torch.tensor(p)).sum() for r, p in zip(reference, wanted_probes))
    if total_ref.requires_grad:
        total_ref.backward()
    if total.requires_grad:
        total.backward()
    for mine, ref in zip(ours, theirs):
        want = np.zeros(mine.shape) if ref.grad is None else ref.grad.numpy(force=True)
        got = np.zeros(mine.shape) if mine.grad is None else mine.grad
        assert close_to_torch(got, want), (case.name, got, want)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@given(data=st.data())
def test_float32_stays_float32_through_forward_and_backward(case: Case, data: st.DataObject) -> None:
    arrays, kwargs, wants, weight = draw_case(case, data)
    singles = [Tensor(a, requires_grad=w, dtype=np.float32) for a, w in zip(arrays, wants)]
    doubles = [Tensor(a.astype(np.float32), requires_grad=w) for a, w in zip(arrays, wants)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out32 = case.ours(*singles, **kwargs)
        out64 = case.ours(*doubles, **kwargs)
        assert out32.dtype == np.float32
        out32.backward(weight)
        out64.backward(weight)
    np.testing.assert_allclose(out32.data, out64.data, rtol=1e-4, atol=1e-5)
    for single, double in zip(singles, doubles):
        if single.grad is not None:
            assert single.grad.dtype == np.float32 and single.grad.shape == single.shape
            np.testing.assert_allclose(single.grad, double.grad, rtol=1e-3, atol=1e-4)


# -- kinks, ties and repeated indices against PyTorch (where central differences cannot judge) ---------


@given(data=st.data())
def test_relu_abs_and_max_at_kinks_and_ties_match_torch(data: st.DataObject) -> None:
    torch = require_torch()
    x = array(data, small_shape(data, min_dims=1), st.sampled_from([-1.0, 0.0, 0.0, 2.0, 2.0]))
    axis = axis_argument(data, x.ndim)
    keepdims = data.draw(st.booleans())
    for ours_fn, theirs_fn in (
        (lambda t: t.relu(), lambda t: t.relu()),
        (lambda t: abs(t), lambda t: t.abs()),
        (
            lambda t: t.amax(axis, keepdims),
            lambda t: torch.amax(t, dim=torch_dims(axis, t.ndim), keepdim=keepdims),
        ),
    ):
        ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = ours_fn(ours), theirs_fn(theirs)
        weight = np.arange(1.0, out.data.size + 1).reshape(out.shape)
        out.backward(weight)
        ref.backward(torch.tensor(weight))
        assert close_to_torch(out.data, ref.detach().numpy())
        assert close_to_torch(ours.grad, theirs.grad.numpy())
