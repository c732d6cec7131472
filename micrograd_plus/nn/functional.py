"""The operations layers are made of: linear, conv2d, max_pool2d and avg_pool2d, each an
`engine.Op` on Tensors (like `torch.nn.functional`), and adaptive_avg_pool2d; the
activations and dropout, as `torch.nn.functional` names them (relu, softmax, log_softmax,
leaky_relu, gelu, dropout); and the loss functions of losses.py under PyTorch's names and
signatures (`F.cross_entropy(input, target, weight, ...)`, `F.mse_loss`, ...).

Each op computes its forward on raw numpy arrays and states its backward rule once. The rules
are written with the dispatching helpers below (`conv2d`, `conv2d_input_grad`, ...): on arrays
they compute, on Tensors they record new nodes, so `grad(..., create_graph=True)` differentiates
a convolution's gradient with the very same code. A convolution is bilinear in (input, weight),
so its two gradients are again bilinear maps, and each one's gradient is one of the other two:
three ops close the family. Average pooling (`avg_pool2d`) is one of them too: a convolution
of each channel with a kernel of ones, divided by the window's size.

Ops that take arguments (stride, padding, indices) are made per call, as closures over those
arguments and never over a node, so a graph holds no reference cycle.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..arguments import positive_int, real_number, true_or_false
from ..engine import Node, Op, exp
from ..engine import where as engine_where
from ..factories import generator_from
from ..tensors import Tensor, quiet, scatter, stack, where
from . import losses as _losses

Pair = tuple[int, int]
Shape = tuple[int, ...]


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


class Geometry(NamedTuple):
    """How a kernel moves over an image, per axis (height, width): its stride, the zeros padded
    on each side, the dilation (the step between kernel taps); the channel groups (each group
    of output channels sees only its own group of input channels); and the tail, cells added
    after the far padding where a pooling's last window (ceil_mode) hangs past the input."""

    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    tail: Pair = (0, 0)


def _span(kernel: Pair, dilation: Pair) -> Pair:
    """The extent of a dilated kernel: (k - 1) * d + 1 per axis."""
    return (kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1


def _windows(x: np.ndarray, kernel: Pair, geo: Geometry, fill: Any = 0) -> np.ndarray:
    """Every receptive field, a view of shape (N, C, Ho, Wo, kh, kw) into x padded with `fill`."""
    (ph, pw), (th, tw) = geo.padding, geo.tail
    if ph or pw or th or tw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph + th), (pw, pw + tw)), constant_values=fill)
    (sh, sw), (dh, dw) = geo.stride, geo.dilation
    return sliding_window_view(x, _span(kernel, geo.dilation), axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]


def _columns(x: np.ndarray, kernel: Pair, geo: Geometry) -> np.ndarray:
    """im2col: every receptive field as a row, one matrix per group: (G, N * Ho * Wo, C/G * kh * kw)."""
    windows = _windows(x, kernel, geo)
    n, c, ho, wo, kh, kw = windows.shape
    g = geo.groups
    grouped = windows.reshape(n, g, c // g, ho, wo, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
    return grouped.reshape(g, n * ho * wo, c // g * kh * kw)


def _conv_forward(x: np.ndarray, w: np.ndarray, geo: Geometry) -> np.ndarray:
    n = x.shape[0]
    o, cg, kh, kw = w.shape
    g = geo.groups
    cols = _columns(x, (kh, kw), geo)
    ho, wo = _out_shape(x.shape, (kh, kw), geo)
    out = cols @ w.reshape(g, o // g, cg * kh * kw).transpose(0, 2, 1)  # (G, N*Ho*Wo, O/G)
    return out.reshape(g, n, ho, wo, o // g).transpose(1, 0, 4, 2, 3).reshape(n, o, ho, wo)


def _out_shape(x_shape: tuple[int, ...], kernel: Pair, geo: Geometry) -> Pair:
    span = _span(kernel, geo.dilation)
    return (
        (x_shape[2] + 2 * geo.padding[0] + geo.tail[0] - span[0]) // geo.stride[0] + 1,
        (x_shape[3] + 2 * geo.padding[1] + geo.tail[1] - span[1]) // geo.stride[1] + 1,
    )


def _conv_input_grad(g: np.ndarray, w: np.ndarray, x_shape: tuple[int, ...], geo: Geometry) -> np.ndarray:
    """col2im: each kernel tap adds its share of the gradient back onto the input."""
    n, c, h, wd = x_shape
    o, cg, kh, kw = w.shape
    _, _, ho, wo = g.shape
    groups = geo.groups
    g_rows = (
        g.reshape(n, groups, o // groups, ho, wo)
        .transpose(1, 0, 3, 4, 2)
        .reshape(groups, n * ho * wo, o // groups)
    )
    cols = g_rows @ w.reshape(groups, o // groups, cg * kh * kw)  # (G, N*Ho*Wo, C/G*kh*kw)
    taps = (
        cols.reshape(groups, n, ho, wo, cg, kh, kw)
        .transpose(5, 6, 1, 0, 4, 2, 3)
        .reshape(kh, kw, n, c, ho, wo)
    )
    (ph, pw), (sh, sw), (dh, dw) = geo.padding, geo.stride, geo.dilation
    th, tw = geo.tail
    padded = np.zeros((n, c, h + 2 * ph + th, wd + 2 * pw + tw), dtype=np.result_type(g, w))
    for i in range(kh):
        for j in range(kw):
            padded[
                :, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw
            ] += taps[i, j]
    return padded[:, :, ph : ph + h, pw : pw + wd]


def _conv_weight_grad(x: np.ndarray, g: np.ndarray, w_shape: tuple[int, ...], geo: Geometry) -> np.ndarray:
    o, groups = w_shape[0], geo.groups
    n, _, ho, wo = g.shape
    cols = _columns(x, w_shape[2:], geo)  # type: ignore[arg-type]
    g_rows = (
        g.reshape(n, groups, o // groups, ho, wo)
        .transpose(1, 2, 0, 3, 4)
        .reshape(groups, o // groups, n * ho * wo)
    )
    return (g_rows @ cols).reshape(w_shape)


# The three bilinear maps, each dispatching: arrays compute, Tensors record a node.
# conv(x, w) = y;  input_grad(g, w) = dL/dx;  weight_grad(x, g) = dL/dw.


def conv2d_raw(x: Any, w: Any, geo: Geometry) -> Any:
    """y = conv(x, w) without bias, on arrays or Tensors."""
    if not _is_node(x, w):
        return _conv_forward(x, w, geo)
    needs = _needs(x, w)

    def backward(g: Any, out: Any, x: Any, w: Any) -> tuple[Any, Any]:
        return (
            conv2d_input_grad(g, w, x.shape, geo) if needs[0] else None,
            conv2d_weight_grad(x, g, w.shape, geo) if needs[1] else None,
        )

    op = _op("conv2d", lambda x, w: _conv_forward(x, w, geo), backward)
    return _apply(op, x, w)


def conv2d_input_grad(g: Any, w: Any, x_shape: tuple[int, ...], geo: Geometry) -> Any:
    """dL/dx of conv(x, w) given g = dL/dy: linear in g and in w."""
    x_shape = tuple(x_shape)
    if not _is_node(g, w):
        return _conv_input_grad(g, w, x_shape, geo)
    needs = _needs(g, w)

    def backward(h: Any, out: Any, g: Any, w: Any) -> tuple[Any, Any]:
        # <h, input_grad(g, w)> = <conv(h, w), g>
        return (
            conv2d_raw(h, w, geo) if needs[0] else None,
            conv2d_weight_grad(h, g, w.shape, geo) if needs[1] else None,
        )

    op = _op("conv2d_input_grad", lambda g, w: _conv_input_grad(g, w, x_shape, geo), backward)
    return _apply(op, g, w)


def conv2d_weight_grad(x: Any, g: Any, w_shape: tuple[int, ...], geo: Geometry) -> Any:
    """dL/dw of conv(x, w) given g = dL/dy: linear in x and in g."""
    w_shape = tuple(w_shape)
    if not _is_node(x, g):
        return _conv_weight_grad(x, g, w_shape, geo)
    needs = _needs(x, g)

    def backward(k: Any, out: Any, x: Any, g: Any) -> tuple[Any, Any]:
        # <k, weight_grad(x, g)> = <conv(x, k), g>
        return (
            conv2d_input_grad(g, k, x.shape, geo) if needs[0] else None,
            conv2d_raw(x, k, geo) if needs[1] else None,
        )

    op = _op("conv2d_weight_grad", lambda x, g: _conv_weight_grad(x, g, w_shape, geo), backward)
    return _apply(op, x, g)


def conv_padding(padding: Any, kernel: Pair, stride: Pair, dilation: Pair) -> tuple[Pair, bool]:
    """Conv2d's padding (an int or pair, "valid" or "same") as (zeros on each side per axis,
    whether "same" asks to drop the first output row or column). "same" keeps the input's
    size: an axis whose dilated kernel spans an even number of pixels needs an odd number of
    zeros, and PyTorch puts the extra one on the far side, which is the same as padding both
    sides by the larger half and dropping the first output row (or column) of that axis."""
    if not isinstance(padding, str):
        return pair("padding", padding, 0), False
    if padding == "valid":
        return (0, 0), False
    if padding != "same":
        raise ValueError(f"padding must be an int, a pair of ints, 'valid' or 'same', got {padding!r:.60}")
    if stride != (1, 1):
        raise ValueError(
            f"padding='same' is not supported for strided convolutions (stride={stride}); use stride=1"
        )
    span = _span(kernel, dilation)
    return (span[0] // 2, span[1] // 2), True


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation as PyTorch's: x (N, C, H, W), weight (O, C / groups, kh, kw),
    bias (O,); padding an int, a pair, "valid" or "same"."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    stride, dilation = pair("stride", stride, 1), pair("dilation", dilation, 1)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r:.60}")
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ValueError(
            f"conv2d(): input of shape {x.shape} does not fit a weight of shape {weight.shape} with groups={groups}: "
            f"expected input (N, {weight.shape[1] * groups}, H, W) and out_channels ({weight.shape[0]}) divisible "
            "by groups; a single image needs reshape(1, C, H, W)"
        )
    kernel = (weight.shape[2], weight.shape[3])
    padding, drop_first = conv_padding(padding, kernel, stride, dilation)
    span = _span(kernel, dilation)
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < span[0] or w < span[1]:
        raise ValueError(
            f"conv2d(): the padded input ({h} x {w}) is smaller than the kernel ({span[0]} x {span[1]})"
            f"{' (dilation included)' if dilation != (1, 1) else ''}; use a smaller kernel or more padding"
        )
    out = conv2d_raw(x, weight, Geometry(stride, padding, dilation, int(groups)))
    if drop_first and (span[0] % 2 == 0 or span[1] % 2 == 0):
        out = out[:, :, 1 - span[0] % 2 :, 1 - span[1] % 2 :]
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


def _argmax_index(x: np.ndarray, kernel: Pair, geo: Geometry) -> tuple[np.ndarray, tuple[int, ...]]:
    """Flat index (within its H*W plane) of each window's largest element; the first one on
    ties, and nan wins as in PyTorch. Padding is -inf and never chosen: a window whose real
    elements are all -inf picks the first of them, as PyTorch does."""
    n, c, h, w = x.shape
    windows = _windows(x, kernel, geo, fill=-np.inf)
    ho, wo = windows.shape[2:4]
    local = windows.reshape(n, c, ho, wo, kernel[0] * kernel[1]).argmax(axis=-1)  # (not -1: N may be 0)
    (sh, sw), (ph, pw), (dh, dw) = geo.stride, geo.padding, geo.dilation
    top, left = (np.arange(ho) * sh - ph)[:, None], (np.arange(wo) * sw - pw)[None, :]
    row = local // kernel[1] * dh + top
    col = local % kernel[1] * dw + left
    if ph or pw:
        outside = (row < 0) | (col < 0) | (row >= h) | (col >= w)
        row = np.where(outside, top + np.maximum(0, -(top // dh)) * dh, row)
        col = np.where(outside, left + np.maximum(0, -(left // dw)) * dw, col)
        if (row >= h).any() or (col >= w).any():  # no real element in some window
            raise ValueError(
                f"max_pool2d(): an input of height {h} and width {w} with kernel {kernel}, padding "
                f"{geo.padding} and dilation {geo.dilation} has windows that cover only padding "
                "(PyTorch gives -inf there and cannot backpropagate it): use less padding or dilation"
            )
    return (row * w + col).reshape(n * c, ho * wo), (n, c, ho, wo)


def _ceil_tail(size: int, span: int, stride: int, pad: int) -> int:
    """The cells a pooling with ceil_mode adds after the far padding of an axis of `size`: the
    output length rounds up, as PyTorch's, but the last window must start inside the input or
    its near padding."""
    count = -(-(size + 2 * pad - span) // stride) + 1
    if (count - 1) * stride >= size + pad:
        count -= 1
    return max(0, (count - 1) * stride + span - (size + 2 * pad))


def _pool_geometry(
    name: str,
    x: Tensor,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> tuple[Pair, Geometry]:
    """The kernel and geometry of a pooling, checked as PyTorch checks them."""
    kernel = pair("kernel_size", kernel_size, 1)
    geo = Geometry(
        kernel if stride is None else pair("stride", stride, 1),
        pair("padding", padding, 0),
        pair("dilation", dilation, 1),
    )
    ceil_mode = true_or_false(ceil_mode, f"{name}(): ceil_mode")
    if x.ndim != 4:
        raise ValueError(f"{name}(): expected an input of shape (N, C, H, W), got {x.shape}")
    if geo.padding[0] > kernel[0] // 2 or geo.padding[1] > kernel[1] // 2:
        raise ValueError(f"{name}(): padding {geo.padding} must be at most half of the kernel size {kernel}")
    if ceil_mode:
        spans = _span(kernel, geo.dilation)
        th, tw = map(_ceil_tail, x.shape[2:], spans, geo.stride, geo.padding)
        geo = geo._replace(tail=(th, tw))
    ho, wo = _out_shape(x.shape, kernel, geo)
    if ho < 1 or wo < 1:
        raise ValueError(
            f"{name}(): the input ({x.shape[2]} x {x.shape[3]}, padding {geo.padding}) is smaller than the kernel "
            f"{_span(kernel, geo.dilation)} (dilation included)"
        )
    return kernel, geo


def max_pool2d(
    x: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """The largest value of each window (NCHW); the gradient goes to that element only.
    Padding (at most half the kernel) is -inf, so it is never the largest. With `ceil_mode`
    the output size rounds up: a last window may hang past the input (as PyTorch's)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    kernel, geo = _pool_geometry("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    index, out_shape = _argmax_index(x.data, kernel, geo)
    return _gather(x, index, out_shape, tuple(x.shape), "max_pool2d")


# --- avg_pool2d: a convolution with a kernel of ones, divided --------------------------


def avg_pool2d(
    x: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window (NCHW), as PyTorch's: each channel's window sums are a
    convolution with a kernel of ones (groups = channels), divided by the window's size, or
    without `count_include_pad` by the number of its elements that are not padding. With
    `ceil_mode` the output size rounds up, and a window hanging past the padded input counts
    only its part inside it."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    kernel, geo = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    channels = x.shape[1]
    geo = geo._replace(groups=max(channels, 1))
    sums = conv2d_raw(x, np.ones((channels, 1, *kernel), x.dtype), geo)
    if divisor_override is not None:
        if (
            isinstance(divisor_override, bool)
            or not isinstance(divisor_override, (int, np.integer))
            or divisor_override < 1
        ):
            raise ValueError(f"divisor_override must be a positive int or None, got {divisor_override!r:.60}")
        return sums / float(divisor_override)
    # The divisor: how many cells of each window are counted, a convolution of ones over them.
    geo = geo._replace(groups=1)
    counted = x.shape[2:]
    if count_include_pad:
        if geo.tail == (0, 0):
            return sums / float(kernel[0] * kernel[1])
        counted = (counted[0] + 2 * geo.padding[0], counted[1] + 2 * geo.padding[1])
        geo = geo._replace(padding=(0, 0))
    ones = np.ones((1, 1, *counted), x.dtype)
    return sums / _conv_forward(ones, np.ones((1, 1, *kernel), x.dtype), geo)


# --- adaptive_avg_pool2d: the mean of each window, one axis at a time ---------------------


def adaptive_avg_pool2d(x: Tensor, output_size: Any) -> Tensor:
    """The mean of each of `output_size` (an int, or a pair whose None keeps that size) windows
    that tile the last two axes, as PyTorch's: window i of an axis of n over out covers
    [floor(i n / out), ceil((i + 1) n / out)), so any input size gives the output size asked for.
    On (N, C, H, W) or (C, H, W). The means along H, then along W (a window's mean is the mean of
    its column means), each the mean of its own slice: an inf or nan reaches only the windows that
    hold it, forward and backward, as in PyTorch (a product with a matrix of window weights would
    spread it, as 0 * inf is nan). Composed of slices, means and stacks, so its gradient (and the
    gradient's gradient) is theirs."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.ndim not in (3, 4) or 0 in x.shape[-2:]:
        raise ValueError(
            f"adaptive_avg_pool2d(): expected an input of shape (N, C, H, W) or (C, H, W) with H, W >= 1, "
            f"got {x.shape}"
        )
    oh, ow = (n if size is None else size for size, n in zip(_adaptive_size(output_size), x.shape[-2:]))
    pooled = _window_means(_window_means(x, -2, oh), -1, ow)
    return x * 1.0 if pooled is x else pooled  # a new Tensor always, as PyTorch's (not x itself)


def _adaptive_size(output_size: Any) -> tuple[int | None, int | None]:
    """An adaptive pooling's output size, checked: an int, or a pair of ints or None."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise TypeError(f"output_size must be an int or a pair of ints (or None), got {output_size!r:.60}")
    height, width = (None if size is None else positive_int(size, "output_size") for size in sizes)
    return height, width


def _window_means(x: Tensor, axis: int, out: int) -> Tensor:
    """The means of adaptive pooling's `out` windows along `axis`, stacked along it."""
    n = x.shape[axis]
    if out == n:  # each window is one cell
        return x
    index: list[slice] = [slice(None)] * x.ndim
    means = []
    for i in range(out):
        index[axis] = slice(i * n // out, -(-(i + 1) * n // out))
        means.append(x[tuple(index)].mean(axis=axis))
    return stack(means, axis=axis)


# --- activations and dropout (issue 16) --------------------------------------------------------


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def check_inplace(inplace: Any, where: str) -> bool:
    """PyTorch's `inplace` flag, accepted so that ported code runs, and checked: True or False.
    It changes nothing here: every result is computed out of place, so the input keeps its
    values, while the output and the gradients equal those of PyTorch's in-place form wherever
    PyTorch allows it (it refuses, for example, a leaf that requires grad)."""
    return true_or_false(inplace, f"{where}: inplace")


def relu(x: Any, inplace: bool = False) -> Tensor:
    """max(0, x) elementwise, as `torch.nn.functional.relu`; `inplace` as in `check_inplace`."""
    check_inplace(inplace, "relu()")
    return _tensor(x).relu()


def softmax(x: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, as `torch.nn.functional.softmax` (in `dtype`, float32
    or float64, if given)."""
    return _tensor(x).softmax(dim, dtype)


def log_softmax(x: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably, as `torch.nn.functional.log_softmax` (in
    `dtype`, if given)."""
    return _tensor(x).log_softmax(dim, dtype)


def leaky_relu(x: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x; at 0 the slope is negative_slope, as in PyTorch.
    `inplace` as in `check_inplace` (PyTorch's in-place form also refuses a negative slope in
    backward; here it is allowed)."""
    check_inplace(inplace, "leaky_relu()")
    x = _tensor(x)
    return where(x.data > 0, x, x * real_number(negative_slope, "leaky_relu(): negative_slope"))


_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is exact to an ulp (as PyTorch's)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.asarray(_erf(x * _SQRT_HALF), dtype=x.dtype))


# Phi(x), the standard normal's distribution function; its derivative is the density
# exp(-x^2 / 2) / sqrt(2 pi), written with `exp` so that it also records a graph (create_graph).
_NORMAL_CDF = _op("normal_cdf", _normal_cdf, lambda g, out, x: (g * exp(x * x * -0.5) * _INV_SQRT_2PI,))
_TANH_SCALE = math.sqrt(2.0 / math.pi)


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal's distribution function (the exact form, through erf),
    as `torch.nn.functional.gelu`; `approximate="tanh"` gives PyTorch's tanh approximation."""
    x = _tensor(x)
    if approximate == "none":
        return x * _apply(_NORMAL_CDF, x)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + (_TANH_SCALE * (x + 0.044715 * x * x * x)).tanh())
    raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r:.60}")


def silu(x: Any, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish), as `torch.nn.functional.silu`; composed of `*` and
    sigmoid, so its gradient (and the gradient's gradient) is theirs. `inplace` as in `check_inplace`."""
    check_inplace(inplace, "silu()")
    x = _tensor(x)
    return x * x.sigmoid()


def _softplus_op(beta: float, threshold: float) -> Op:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as PyTorch's, where
    the two differ by less than exp(-threshold)): exp never overflows into the chosen result.
    The slope is sigmoid(beta x), and exactly 1 past the threshold. Under create_graph the slope
    is a node whose own derivative is PyTorch's (softplus_double_backward): beta sigmoid'(beta x)
    below the threshold, 0 from the threshold on."""

    def forward(x: np.ndarray) -> np.ndarray:
        scaled = x * beta
        return np.where(scaled > threshold, x, np.log1p(np.exp(scaled)) / beta)  # type: ignore[no-any-return]

    def backward(g: Any, out: Any, x: Any) -> tuple[Any]:
        scaled = _data(x) * beta
        slope = _losses._sigmoid(x * beta)
        if isinstance(slope, Node):
            slope = engine_where(scaled < threshold, slope, slope.data)  # (a constant at the threshold)
        return (g * engine_where(scaled > threshold, 1.0, slope),)

    return _op("softplus", forward, backward)


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """A smooth relu, log(1 + exp(beta x)) / beta, as `torch.nn.functional.softplus`: x itself
    where beta x > threshold."""
    beta = real_number(beta, "softplus(): beta")
    threshold = real_number(threshold, "softplus(): threshold")
    return _apply(_softplus_op(beta, threshold), _tensor(x))


def mish(x: Any, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)), as `torch.nn.functional.mish`; composed, so its gradient is the chain
    rule through softplus and tanh. `inplace` as in `check_inplace`."""
    check_inplace(inplace, "mish()")
    x = _tensor(x)
    return x * softplus(x).tanh()


def _elu_op(alpha: float) -> Op:
    """alpha (exp(x) - 1) where x <= 0 (expm1: exact near 0), else x. The slope is alpha exp(x)
    there (alpha at 0), else 1 (so a nan's gradient passes, as PyTorch's). Under create_graph the
    slope is a node whose own derivative is PyTorch's: alpha exp(x) below 0, and 0 from 0 on.
    exp sees min(x, 0) only, so it never overflows, not even where `where` leaves it out."""

    def forward(x: np.ndarray) -> np.ndarray:
        return np.where(x <= 0, alpha * np.expm1(np.minimum(x, 0.0)), x)  # type: ignore[no-any-return]

    def backward(g: Any, out: Any, x: Any) -> tuple[Any]:
        negative = engine_where(_data(x) < 0, x, 0.0)
        return (g * engine_where(_data(x) <= 0, exp(negative) * alpha, 1.0),)

    return _op("elu", forward, backward)


def elu(x: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1), as `torch.nn.functional.elu`: slope alpha at 0.
    `inplace` as in `check_inplace`."""
    check_inplace(inplace, "elu()")
    return _apply(_elu_op(real_number(alpha, "elu(): alpha")), _tensor(x))


def dropout_probability(p: Any) -> float:
    """p as a float in [0, 1], or a clear error."""
    probability = real_number(p, "dropout probability")
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r:.60}")
    return probability


def dropout(
    x: Any,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """In training, each element zeroed with probability p and the others scaled by 1 / (1 - p),
    so the expected output is x, as `torch.nn.functional.dropout`; the identity otherwise (and for
    p = 0). The coin flips come from `generator` (a numpy Generator; the package's stream, which
    `manual_seed` restarts, when None), never from numpy's global state. The gradient passes,
    scaled the same, where the element was kept. `inplace` as in `check_inplace`: the same coin flips whether it is True or False."""
    check_inplace(inplace, "dropout()")
    x = _tensor(x)
    p = dropout_probability(p)
    if not training or p == 0.0:
        return x
    if p == 1.0:  # every element dropped (1 / (1 - p) would be 1 / 0)
        return x * np.zeros(x.shape, dtype=x.dtype)
    rng = generator_from(None, generator)
    kept = rng.random(x.shape) >= p  # each with probability 1 - p
    return x * (kept.astype(x.dtype) / np.asarray(1.0 - p, dtype=x.dtype))


# --- embedding and one_hot: whole-number indices --------------------------------------------------


def index_array(indices: Any, who: str, upper: int | None = None, what: str = "") -> np.ndarray:
    """Indices (rows of a table, class labels) as a new int64 array, checked to be whole numbers
    in [0, upper) (only >= 0 when upper is None). PyTorch wants an int64 Tensor; here an int64
    Tensor, a float Tensor of whole numbers, a numpy int array, a list and an int are taken, as
    indexing and the losses take labels. `what` says what the range is, for the error."""
    if isinstance(indices, Node):
        if not isinstance(indices, Tensor):
            raise TypeError(
                f"{who}: indices must be a Tensor, an int array or a list, got a {type(indices).__name__}"
            )
        if indices.requires_grad:
            raise TypeError(
                f"{who}: the indices require grad, but an index has no gradient; pass indices.detach()"
            )
        data = indices.data
    else:
        try:
            data = np.asarray(indices)
        except (TypeError, ValueError):
            data = np.asarray(None)  # (ragged lists and the like: refused just below)
    if data.dtype.kind not in "iuf":
        raise TypeError(
            f"{who}: indices must be whole numbers (a Tensor, an int array or a list), got {indices!r:.60}"
        )
    with np.errstate(invalid="ignore"):  # (no upper bound: int64's, so the cast below is exact)
        bad = ~((data == np.floor(data)) & (data >= 0) & (data < (2.0**63 if upper is None else upper)))
    if bad.any():
        bounds = "0 or more" if upper is None else f"in [0, {upper - 1}]"
        huge = "; an index is an int64, below 2**63" if upper is None and np.any(data[bad] >= 2.0**63) else ""
        raise ValueError(f"{who}: indices must be whole numbers {bounds}{what}, got {data[bad][:8]}{huge}")
    return data.astype(np.int64)


def _embedding_op(rows: np.ndarray, padding_idx: int | None, scale: np.ndarray | None, shape: Shape) -> Op:
    """weight[rows], for a weight of `shape`. Its gradient adds each output row's gradient onto
    the weight row it came from (an index used twice gets both), none onto padding_idx's row
    (exactly 0, even where g is inf or nan), each multiplied by `scale` (scale_grad_by_freq's
    1 / count) when given. That gradient is a node of its own under create_graph, whose gradient
    picks the rows again, padding_idx's as 0 and without the scale, as PyTorch's
    `embedding_dense_double_backward` ("the first backward takes care of scaling"): so the
    second derivative is PyTorch's."""
    kept = None if padding_idx is None else (rows != padding_idx)[..., None]

    def masked(g: Any) -> Any:
        return g if kept is None else engine_where(kept, g, 0.0)

    def weight_grad(g: np.ndarray) -> np.ndarray:
        return scatter(masked(g) if scale is None else masked(g) * scale, rows, shape)  # type: ignore[no-any-return]

    grad_op = _op("embedding_backward", weight_grad, lambda h, out, g: (masked(h[rows]),))

    def backward(g: Any, out: Any, weight: Any) -> tuple[Any]:
        return (_apply(grad_op, g) if isinstance(g, Node) else grad_op.forward(g),)

    return _op("embedding", lambda weight: weight[rows], backward)


def padding_index(padding_idx: Any, rows: int, who: str) -> int | None:
    """padding_idx as a row of a table of `rows` rows (a negative one counts from the end, as
    PyTorch's), or None."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"{who}: padding_idx must be an int or None, got {padding_idx!r:.60}")
    if not -rows <= padding_idx < rows:
        raise ValueError(
            f"{who}: padding_idx must be within num_embeddings, in [{-rows}, {rows - 1}], got {padding_idx}"
        )
    return int(padding_idx) % rows


def refuse_embedding_options(who: str, max_norm: Any, sparse: Any) -> None:
    """PyTorch's max_norm (rows renormalised in place at each lookup) and sparse gradients are
    not supported here: refused (a ValueError, as for other arguments) with what to do instead."""
    if max_norm is not None:
        raise ValueError(
            f"{who}: max_norm={max_norm!r:.20} (renormalising the looked-up rows in place) is not supported "
            "here; leave it None (clip the rows yourself under no_grad() if you need it)"
        )
    if sparse is not False:
        raise ValueError(
            f"{who}: sparse={sparse!r:.20}: gradients are dense numpy arrays here; leave sparse=False"
        )


def embedding(
    input: Any,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """The rows of `weight` (num_embeddings, embedding_dim) picked by `input`, whole-number
    indices of any shape (see `index_array`): the output has shape input.shape + (embedding_dim,),
    as `torch.nn.functional.embedding`. Row padding_idx gets no gradient. With
    scale_grad_by_freq each row's gradient is divided by how often its index occurs in `input`.
    (max_norm and sparse=True are refused; norm_type only matters with max_norm.)"""
    refuse_embedding_options("embedding()", max_norm, sparse)
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(
            "embedding(): the weight must be a 2-d Tensor (num_embeddings, embedding_dim), got "
            f"{f'shape {weight.shape}' if isinstance(weight, Tensor) else type(weight).__name__}"
        )
    count = weight.shape[0]
    rows = index_array(input, "embedding()", count, f" (rows of a weight of shape {weight.shape})")
    scale = None
    if scale_grad_by_freq:
        counts = np.bincount(rows.ravel(), minlength=count)
        scale = (1.0 / np.maximum(counts[rows], 1)).astype(weight.dtype)[..., None]
    op = _embedding_op(rows, padding_index(padding_idx, count, "embedding()"), scale, weight.shape)
    return _apply(op, weight)


def one_hot(input: Any, num_classes: int = -1) -> Tensor:
    """Each whole-number label k as a row of num_classes numbers, 1 at k and 0 elsewhere: shape
    input.shape + (num_classes,), as `torch.nn.functional.one_hot`, num_classes = -1 meaning one
    more than the largest label. An int64 Tensor, as PyTorch's; with a float Tensor
    (`one_hot(y) @ W`) it becomes that Tensor's dtype here (PyTorch's `@` wants `.float()` first)."""
    if num_classes != -1:
        num_classes = positive_int(num_classes, "one_hot(): num_classes (-1 to infer it)")
    if num_classes == -1:
        labels = index_array(input, "one_hot()")
        if labels.size == 0:
            raise ValueError("one_hot(): cannot infer the number of classes from no labels; give num_classes")
        num_classes = int(labels.max()) + 1
    else:
        labels = index_array(input, "one_hot()", int(num_classes), f" (for num_classes={num_classes})")
    return Tensor(labels[..., None] == np.arange(num_classes), dtype=np.int64)


# --- layer_norm: normalisation composed of Tensor operations --------------------------------------


def standardize(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(var + eps) over `axes`, with the mean and the (biased) variance (kept
    dims): batch and layer normalisation alike. Composed of Tensor operations, so its gradient
    (and the gradient of that gradient) is the chain rule through them."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / (var + eps).sqrt(), mean, var


def normalized_shape_of(normalized_shape: Any, who: str) -> tuple[int, ...]:
    """The trailing shape a LayerNorm normalises over: an int or a sequence of positive ints."""
    sizes = normalized_shape if isinstance(normalized_shape, (tuple, list)) else (normalized_shape,)
    if not sizes:
        raise ValueError(
            f"{who}: normalized_shape must name at least one axis size, got {normalized_shape!r}"
        )
    return tuple(positive_int(size, f"{who}: normalized_shape's sizes") for size in sizes)


def layer_norm(
    input: Any,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Each sample normalised over its last axes, those of `normalized_shape` (to mean 0 and
    variance 1, the variance biased), then scaled by weight and shifted by bias (each of
    normalized_shape, if given), as `torch.nn.functional.layer_norm`."""
    x = _tensor(input)
    shape = normalized_shape_of(normalized_shape, "layer_norm()")
    if x.shape[x.ndim - len(shape) :] != shape:
        raise ValueError(
            f"layer_norm(): normalized_shape={shape} expects an input of shape (*, {', '.join(map(str, shape))}), "
            f"got {x.shape}"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and np.shape(_data(tensor)) != shape:
            raise ValueError(
                f"layer_norm(): {name} must have normalized_shape {shape}, got shape {np.shape(_data(tensor))}"
            )
    out, _, _ = standardize(
        x, tuple(range(x.ndim - len(shape), x.ndim)), real_number(eps, "layer_norm(): eps")
    )
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


# --- pad -----------------------------------------------------------------------------------------

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Any, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """`input` padded as `torch.nn.functional.pad`: `pad` holds (before, after) pairs from the
    last axis backwards, (left, right, top, bottom, ...); a negative width crops. mode
    "constant" fills with `value` (0 when None; a crop of more than an axis holds is refused,
    as torch refuses it); the others take no value but 0 (torch's default): "reflect" mirrors
    the input at its edges (without repeating the edge), "replicate" repeats the edge,
    "circular" wraps around, each for the last 1, 2 or 3 axes of an input with one or two axes
    more, as in PyTorch. Gradients flow back to the elements the output holds (the non-constant
    modes pick them with an index, so an element copied twice gets both)."""
    x = _tensor(input)
    widths = _pad_widths(pad, x.shape)
    if mode == "constant":
        return _constant_pad(x, widths, 0.0 if value is None else real_number(value, "pad(): value"))
    if mode not in PAD_MODES:
        raise ValueError(f"pad(): mode must be one of {', '.join(map(repr, PAD_MODES))}, got {mode!r:.60}")
    if value is not None and real_number(value, "pad(): value") != 0:  # 0 is the default: torch takes it
        raise ValueError(f'pad(): mode {mode!r} takes no value (only mode="constant" fills with one)')
    padded = len(pad) // 2
    if x.ndim not in (padded + 1, padded + 2):
        raise ValueError(
            f"pad(): mode {mode!r} pads the last 1, 2 or 3 axes of an input with 1 or 2 axes more (batch, "
            f"channels); {len(pad)} widths for an input of shape {x.shape} is not one of those"
        )
    for axis, (before, after) in enumerate(widths):
        if before or after:
            positions = _pad_positions(mode, x.shape[axis], before, after, axis)
            x = x[(slice(None),) * axis + (positions,)]
    return x if x is not input else x.clone()  # a new node and array with nothing to pad, as torch


def _pad_widths(pad: Any, shape: tuple[int, ...]) -> list[tuple[int, int]]:
    """(before, after) for each axis, from the first, given torch's pairs from the last axis backwards."""
    if not isinstance(pad, (tuple, list)) or any(
        isinstance(w, bool) or not isinstance(w, (int, np.integer)) for w in pad
    ):
        raise TypeError(
            f"pad(): pad must be a tuple of ints, (left, right, top, bottom, ...), got {pad!r:.60}"
        )
    if len(pad) % 2:
        raise ValueError(f"pad(): pad must hold pairs (before, after), got {len(pad)} numbers: {pad}")
    if len(pad) > 2 * len(shape):
        raise ValueError(
            f"pad(): {len(pad) // 2} pairs of widths for an input of shape {shape}: at most one pair per axis"
        )
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    widths = [(0, 0)] * (len(shape) - len(pairs)) + pairs[::-1]
    for axis, ((before, after), size) in enumerate(zip(widths, shape)):
        if size + before + after < 0:
            raise ValueError(
                f"pad(): widths ({before}, {after}) would crop axis {axis} of size {size} below nothing"
            )
    return widths


def _constant_pad(x: Tensor, widths: list[tuple[int, int]], value: float) -> Tensor:
    """Crop (negative widths) by slicing, then one node that adds `value` around; its gradient is
    the slice of g where the input sits."""
    for axis, ((before, after), size) in enumerate(zip(widths, x.shape)):
        cropped = -min(before, 0) - min(after, 0)
        if cropped > size:  # torch refuses it too, even when the other side grows enough
            raise ValueError(
                f"pad(): widths ({before}, {after}) crop {cropped} from axis {axis} of size {size}, "
                f"more than it holds; crop at most {size} in all"
            )
    crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, x.shape))
    if any(b < 0 or a < 0 for b, a in widths):
        x = x[crop]
    grow = [(max(b, 0), max(a, 0)) for b, a in widths]
    inside = tuple(slice(b, b + n) for (b, _), n in zip(grow, x.shape))

    def backward(g: Any, out: Any, x: Any) -> tuple[Any]:
        return (g[inside] if isinstance(g, Tensor) else g[inside].copy(),)  # (a new array, not a view of g)

    return _apply(_op("constant_pad", lambda x: np.pad(x, grow, constant_values=value), backward), x)


def _pad_positions(mode: str, size: int, before: int, after: int, axis: int) -> np.ndarray:
    """Where each output position along an axis of `size` takes its element from. A negative
    width crops; "circular" then wraps what is left, as PyTorch's does."""
    first = max(-before, 0) if mode == "circular" else 0
    kept = size - first - (max(-after, 0) if mode == "circular" else 0)  # what "circular" wraps
    limit = {"reflect": size - 1, "circular": kept, "replicate": math.inf}[mode]
    if size == 0 or before > limit or after > limit:
        raise ValueError(
            f"pad(): mode {mode!r} pads axis {axis} of size {size} by at most {max(limit, 0)} on each "
            f"side{' (what is left after cropping)' if kept < size else ''}, got ({before}, {after})"
        )
    positions = np.arange(-before, size + after)
    if mode == "reflect":
        positions = np.abs(positions)
        return np.where(positions >= size, 2 * (size - 1) - positions, positions)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    return first + (np.arange(-max(before, 0), kept + max(after, 0)) % kept)


# --- the losses, as torch.nn.functional takes them --------------------------------------------
# `loss_func = F.cross_entropy` in ported code calls these with torch's parameter names and
# order (weight third where torch has it); each maps them onto its loss in losses.py, whose
# own signature (reduction third, for Values and Tensors alike) stays as it is.


def _refuse_torch_options(who: str, **options: Any) -> None:
    """Each of `options` (torch parameters the loss here does not take) must be None: the
    deprecated size_average and reduce, which torch replaced with reduction=, and the weights
    some losses lack. A reduction string landing in one of them was meant as reduction= (the
    third argument of losses.py's functions, not of torch's)."""
    for name, value in options.items():
        if value is None:
            continue
        if isinstance(value, str):
            raise TypeError(
                f"{who}(): got {value!r:.20} for {name}; in torch.nn.functional's order, reduction comes "
                f"later: pass reduction={value!r:.20} by name"
            )
        if name in ("size_average", "reduce"):
            raise ValueError(
                f"{who}(): {name}={value!r:.20} is deprecated in PyTorch and not supported here: "
                "use reduction='mean', 'sum' or 'none'"
            )
        raise NotImplementedError(
            f"{who}(): {name}= is a PyTorch option this loss does not support; leave it None"
            + ("" if name != "weight" else ", or weight the losses of reduction='none' yourself")
        )


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Any:
    """`torch.nn.functional.cross_entropy`: `losses.cross_entropy` under torch's signature."""
    _refuse_torch_options("cross_entropy", size_average=size_average, reduce=reduce)
    return _losses.cross_entropy(
        input, target, reduction, weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing
    )


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """`torch.nn.functional.nll_loss`: `losses.nll_loss` under torch's signature."""
    _refuse_torch_options("nll_loss", size_average=size_average, reduce=reduce)
    return _losses.nll_loss(input, target, reduction, weight=weight, ignore_index=ignore_index)


def mse_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    """`torch.nn.functional.mse_loss`: `losses.mse_loss` under torch's signature (no weight)."""
    _refuse_torch_options("mse_loss", size_average=size_average, reduce=reduce, weight=weight)
    return _losses.mse_loss(input, target, reduction)


def l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> Any:
    """`torch.nn.functional.l1_loss`: `losses.l1_loss` under torch's signature (no weight)."""
    _refuse_torch_options("l1_loss", size_average=size_average, reduce=reduce, weight=weight)
    return _losses.l1_loss(input, target, reduction)


def huber_loss(
    input: Any, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None
) -> Tensor:
    """`torch.nn.functional.huber_loss`: `losses.huber_loss` under torch's signature (no weight)."""
    _refuse_torch_options("huber_loss", weight=weight)
    return _losses.huber_loss(input, target, reduction, delta)


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """`torch.nn.functional.smooth_l1_loss`: `losses.smooth_l1_loss` under torch's signature."""
    _refuse_torch_options("smooth_l1_loss", size_average=size_average, reduce=reduce)
    return _losses.smooth_l1_loss(input, target, reduction, beta)


def binary_cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    """`torch.nn.functional.binary_cross_entropy`: `losses.binary_cross_entropy` under torch's
    signature (no weight)."""
    _refuse_torch_options("binary_cross_entropy", weight=weight, size_average=size_average, reduce=reduce)
    return _losses.binary_cross_entropy(input, target, reduction)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Any:
    """`torch.nn.functional.binary_cross_entropy_with_logits`:
    `losses.binary_cross_entropy_with_logits` under torch's signature (no weight, no pos_weight)."""
    _refuse_torch_options(
        "binary_cross_entropy_with_logits",
        weight=weight,
        size_average=size_average,
        reduce=reduce,
        pos_weight=pos_weight,
    )
    return _losses.binary_cross_entropy_with_logits(input, target, reduction)
