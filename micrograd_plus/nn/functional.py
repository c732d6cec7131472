"""The operations layers are made of: linear, conv2d, max_pool2d and clamp_min, each an
`engine.Op` on Tensors (like `torch.nn.functional`).

Each op computes its forward on raw numpy arrays and states its backward rule once. The rules
are written with the dispatching helpers below (`conv2d`, `conv2d_input_grad`, ...): on arrays
they compute, on Tensors they record new nodes, so `grad(..., create_graph=True)` differentiates
a convolution's gradient with the very same code. A convolution is bilinear in (input, weight),
so its two gradients are again bilinear maps, and each one's gradient is one of the other two:
three ops close the family.

Ops that take arguments (stride, padding, indices) are made per call, as closures over those
arguments and never over a node, so a graph holds no reference cycle.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..engine import Node, Op
from ..tensors import Tensor, quiet

Pair = tuple[int, int]


def _op(name: str, forward: Any, backward: Any) -> Op:
    """An Op whose forward and backward follow IEEE quietly: inf and nan, never a RuntimeWarning."""
    return Op(name, quiet(forward), quiet(backward))


def _apply(op: Op, *inputs: Any) -> Tensor:
    return Tensor.apply(op, *inputs)


def _is_node(*xs: Any) -> bool:
    return any(isinstance(x, Node) for x in xs)


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Node) else x


def _needs(*xs: Any) -> tuple[bool, ...]:
    """Which inputs want a gradient: a rule skips the work for the others (a first conv
    layer's input, say). Plain booleans, read when the op is made."""
    return tuple(isinstance(x, Node) and x.requires_grad for x in xs)


def pair(name: str, value: Any, minimum: int) -> Pair:
    """An int or a pair of ints (height, width), each at least `minimum`."""
    items = value if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in items):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in items):
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(items[0]), int(items[1])


# --- linear ---------------------------------------------------------------------------


@functools.cache  # four ops in all: made once, not per call (nothing changes an op once made)
def _linear_op(need_x: bool, need_w: bool) -> Op:
    def forward(x: Any, w: Any, b: Any = None) -> Any:
        out = x @ w.T
        if b is not None:
            if b.dtype == out.dtype:
                out += b  # `out` is a fresh array: adding in place saves one temporary
            else:
                out = out + b  # numpy's promotion, as `x @ w.T + b` (float32 + float64 is float64)
        return out

    def backward(g: Any, out: Any, x: Any, w: Any, b: Any = None) -> tuple[Any, ...]:
        n_out, n_in = w.shape
        rows = math.prod(g.shape[:-1])  # (not -1 in the reshapes: a size may be 0)
        g2 = g.reshape(rows, n_out)
        gx = g @ w if need_x else None
        gw = g2.T @ x.reshape(rows, n_in) if need_w else None
        if b is None:
            return gx, gw
        return gx, gw, g2.sum(axis=0)

    return _op("linear", forward, backward)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`x @ weight.T + bias` as one node: x (..., in), weight (out, in), bias (out,)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    w_shape = np.shape(_data(weight))
    if len(w_shape) != 2:
        hint = "; for one output feature use weight.reshape(1, -1)" if len(w_shape) == 1 else ""
        raise ValueError(
            f"linear(): the weight must have shape (out_features, in_features), got shape {w_shape}{hint}"
        )
    if x.shape[-1:] != w_shape[1:]:
        raise ValueError(
            f"linear(): input of shape {x.shape} does not fit a weight of shape {w_shape} "
            f"(out_features, in_features): the last axis must have size {w_shape[1]}"
        )
    if bias is not None and np.shape(_data(bias)) != w_shape[:1]:
        raise ValueError(
            f"linear(): the bias must have shape ({w_shape[0]},), one number per output feature of the "
            f"weight of shape {w_shape}, got shape {np.shape(_data(bias))}"
        )
    op = _linear_op(*_needs(x, weight))
    if bias is None:
        return _apply(op, x, weight)
    return _apply(op, x, weight, bias)


# --- conv2d: im2col on raw arrays ----------------------------------------------------------


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _columns(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """im2col: every receptive field as a row, shape (N * Ho * Wo, C * kh * kw)."""
    ph, pw = padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = sliding_window_view(x, kernel, axis=(2, 3))[:, :, :: stride[0], :: stride[1]]
    n, c, ho, wo, kh, kw = windows.shape
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)


def _conv_forward(x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pair) -> np.ndarray:
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho, wo = _out_size(h, kh, stride[0], padding[0]), _out_size(wd, kw, stride[1], padding[1])
    out = _columns(x, (kh, kw), stride, padding) @ w.reshape(o, -1).T  # (N*Ho*Wo, O)
    return np.ascontiguousarray(out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2))


def _conv_input_grad(
    g: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], stride: Pair, padding: Pair
) -> np.ndarray:
    """col2im: each kernel offset adds its share of the gradient back onto the input."""
    n, c, h, wd = x_shape
    o, _, kh, kw = w.shape
    _, _, ho, wo = g.shape
    cols = (g.transpose(0, 2, 3, 1).reshape(-1, o) @ w.reshape(o, -1)).reshape(n, ho, wo, c, kh, kw)
    ph, pw = padding
    sh, sw = stride
    padded = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=np.result_type(g, w))
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw] += cols[:, :, :, :, i, j].transpose(
                0, 3, 1, 2
            )
    return padded[:, :, ph : ph + h, pw : pw + wd]


def _conv_weight_grad(
    x: np.ndarray, g: np.ndarray, w_shape: tuple[int, ...], stride: Pair, padding: Pair
) -> np.ndarray:
    o = w_shape[0]
    cols = _columns(x, w_shape[2:], stride, padding)  # type: ignore[arg-type]
    return (g.transpose(1, 0, 2, 3).reshape(o, -1) @ cols).reshape(w_shape)


# The three bilinear maps, each dispatching: arrays compute, Tensors record a node.
# conv(x, w) = y;  input_grad(g, w) = dL/dx;  weight_grad(x, g) = dL/dw.


def conv2d_raw(x: Any, w: Any, stride: Pair, padding: Pair) -> Any:
    """y = conv(x, w) without bias, on arrays or Tensors."""
    if not _is_node(x, w):
        return _conv_forward(x, w, stride, padding)
    needs = _needs(x, w)

    def backward(g: Any, out: Any, x: Any, w: Any) -> tuple[Any, Any]:
        return (
            conv2d_input_grad(g, w, x.shape, stride, padding) if needs[0] else None,
            conv2d_weight_grad(x, g, w.shape, stride, padding) if needs[1] else None,
        )

    op = _op("conv2d", lambda x, w: _conv_forward(x, w, stride, padding), backward)
    return _apply(op, x, w)


def conv2d_input_grad(g: Any, w: Any, x_shape: tuple[int, ...], stride: Pair, padding: Pair) -> Any:
    """dL/dx of conv(x, w) given g = dL/dy: linear in g and in w."""
    x_shape = tuple(x_shape)
    if not _is_node(g, w):
        return _conv_input_grad(g, w, x_shape, stride, padding)
    needs = _needs(g, w)

    def backward(h: Any, out: Any, g: Any, w: Any) -> tuple[Any, Any]:
        # <h, input_grad(g, w)> = <conv(h, w), g>
        return (
            conv2d_raw(h, w, stride, padding) if needs[0] else None,
            conv2d_weight_grad(h, g, w.shape, stride, padding) if needs[1] else None,
        )

    op = _op("conv2d_input_grad", lambda g, w: _conv_input_grad(g, w, x_shape, stride, padding), backward)
    return _apply(op, g, w)


def conv2d_weight_grad(x: Any, g: Any, w_shape: tuple[int, ...], stride: Pair, padding: Pair) -> Any:
    """dL/dw of conv(x, w) given g = dL/dy: linear in x and in g."""
    w_shape = tuple(w_shape)
    if not _is_node(x, g):
        return _conv_weight_grad(x, g, w_shape, stride, padding)
    needs = _needs(x, g)

    def backward(k: Any, out: Any, x: Any, g: Any) -> tuple[Any, Any]:
        # <k, weight_grad(x, g)> = <conv(x, k), g>
        return (
            conv2d_input_grad(g, k, x.shape, stride, padding) if needs[0] else None,
            conv2d_raw(x, k, stride, padding) if needs[1] else None,
        )

    op = _op("conv2d_weight_grad", lambda x, g: _conv_weight_grad(x, g, w_shape, stride, padding), backward)
    return _apply(op, x, g)


def conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0
) -> Tensor:
    """2-D cross-correlation as PyTorch's: x (N, C, H, W), weight (O, C, kh, kw), bias (O,)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    stride, padding = pair("stride", stride, 1), pair("padding", padding, 0)
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
        raise ValueError(
            f"conv2d(): input of shape {x.shape} does not fit a weight of shape {weight.shape}: "
            f"expected input (N, {weight.shape[1]}, H, W); a single image needs reshape(1, C, H, W)"
        )
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < weight.shape[2] or w < weight.shape[3]:
        raise ValueError(
            f"conv2d(): the padded input ({h} x {w}) is smaller than the kernel "
            f"({weight.shape[2]} x {weight.shape[3]}); use a smaller kernel or more padding"
        )
    out = conv2d_raw(x, weight, stride, padding)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out


# --- max_pool2d: a gather of each window's largest element ------------------------------


def _gather(
    x: Any, index: np.ndarray, out_shape: tuple[int, ...], x_shape: tuple[int, ...], name: str
) -> Any:
    """Pick x's elements at `index` (flat positions in each (N, C) plane) into `out_shape`."""
    if not _is_node(x):
        planes = x.reshape(x_shape[0] * x_shape[1], x_shape[2] * x_shape[3])  # (not -1: N may be 0)
        return np.take_along_axis(planes, index, axis=1).reshape(out_shape)
    op = _op(
        name,
        lambda x: _gather(x, index, out_shape, x_shape, name),
        lambda g, out, x: (_scatter(g, index, out_shape, x_shape, name),),
    )
    return _apply(op, x)


def _scatter(
    g: Any, index: np.ndarray, out_shape: tuple[int, ...], x_shape: tuple[int, ...], name: str
) -> Any:
    """Add g's elements back at `index` into zeros of `x_shape` (the gather's adjoint)."""
    if not _is_node(g):
        planes = index.shape[0]
        size = int(np.prod(x_shape[2:]))
        flat = (index + (np.arange(planes) * size)[:, None]).ravel()
        summed = np.bincount(flat, weights=g.reshape(-1), minlength=planes * size)
        return summed.astype(g.dtype, copy=False).reshape(x_shape)
    op = _op(
        f"{name}_backward",
        lambda g: _scatter(g, index, out_shape, x_shape, name),
        lambda h, out, g: (_gather(h, index, out_shape, x_shape, name),),
    )
    return _apply(op, g)


def _argmax_index(x: np.ndarray, kernel: Pair, stride: Pair) -> tuple[np.ndarray, tuple[int, ...]]:
    """Flat index (within its H*W plane) of each window's largest element; the first one on
    ties, and nan wins as in PyTorch."""
    n, c, h, w = x.shape
    windows = sliding_window_view(x, kernel, axis=(2, 3))[:, :, :: stride[0], :: stride[1]]
    ho, wo = windows.shape[2:4]
    local = windows.reshape(n, c, ho, wo, kernel[0] * kernel[1]).argmax(axis=-1)  # (not -1: N may be 0)
    row = local // kernel[1] + (np.arange(ho) * stride[0])[:, None]
    col = local % kernel[1] + (np.arange(wo) * stride[1])[None, :]
    return (row * w + col).reshape(n * c, ho * wo), (n, c, ho, wo)


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None) -> Tensor:
    """The largest value of each window (NCHW); the gradient goes to that element only."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    kernel = pair("kernel_size", kernel_size, 1)
    strides = kernel if stride is None else pair("stride", stride, 1)
    if x.ndim != 4:
        raise ValueError(f"max_pool2d(): expected an input of shape (N, C, H, W), got {x.shape}")
    if x.shape[2] < kernel[0] or x.shape[3] < kernel[1]:
        raise ValueError(
            f"max_pool2d(): the input ({x.shape[2]} x {x.shape[3]}) is smaller than the kernel {kernel}"
        )
    index, out_shape = _argmax_index(x.data, kernel, strides)
    return _gather(x, index, out_shape, tuple(x.shape), "max_pool2d")


# --- clamp_min --------------------------------------------------------------------------------


def clamp_min(x: Any, low: float) -> Any:
    """max(x, low) elementwise, on a Value or a Tensor; like PyTorch, the gradient passes where
    x >= low (nan passes through)."""
    op = _op(
        "clamp_min",
        lambda a: (
            np.maximum(a, low) if isinstance(a, np.ndarray) else (a if a >= low or a != a else float(low))
        ),
        lambda g, out, a: (g * _at_least(a, low),),
    )
    return type(x).apply(op, x)


def _at_least(a: Any, low: float) -> Any:
    data = _data(a)
    if isinstance(data, np.ndarray):
        return (~(data < low)).astype(data.dtype)
    return 0.0 if data < low else 1.0
