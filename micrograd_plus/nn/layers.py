"""Tensor layers as PyTorch users know them: Linear, Embedding, Conv2d, MaxPool2d, AvgPool2d,
AdaptiveAvgPool2d, Flatten, Sequential and the loss modules (the activations are in
activations.py; ReLU, Tanh and Sigmoid are importable from here too, and `clip_grad_norm_`, whose
home is utils.py).

Each is an `nn.Module`, so a model written as `class Net(nn.Module)` with these as attributes
finds its parameters by itself. Weights start as PyTorch's defaults do (kaiming_uniform with
a = sqrt(5), which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias;
Embedding's N(0, 1)), drawn from a numpy Generator made from `seed`, or else from the package's stream (which
`manual_seed` restarts): never from numpy's global random state.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..arguments import positive_int, real_number
from ..factories import SeedLike, make_generator
from ..tensors import Tensor
from . import functional as F
from . import losses
from .activations import ReLU, Sigmoid, Tanh
from .module import Module, Parameter, checked_child_name
from .utils import clip_grad_norm_  # (its home is nn/utils.py, as torch.nn.utils)

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "Conv2d",
    "CrossEntropyLoss",
    "Embedding",
    "Flatten",
    "HuberLoss",
    "L1Loss",
    "Linear",
    "MSELoss",
    "MaxPool2d",
    "NLLLoss",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SmoothL1Loss",
    "Tanh",
    "clip_grad_norm_",
]


def _dtype(dtype: Any) -> np.dtype:
    try:
        result = np.dtype(np.float64 if dtype is None else dtype)
    except Exception:  # numpy raises TypeError, ValueError, OverflowError... for odd specs
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r:.60}") from None
    if result not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {result}")
    return result


def _uniform_parameter(
    rng: np.random.Generator, bound: float, shape: tuple[int, ...], dtype: np.dtype
) -> Tensor:
    return Tensor(rng.uniform(-bound, bound, size=shape).astype(dtype, copy=False), requires_grad=True)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features)."""

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, seed: SeedLike = None, dtype: Any = None
    ):
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        rng = make_generator(seed)
        kind = _dtype(dtype)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = _uniform_parameter(rng, bound, (self.out_features, self.in_features), kind)
        self.bias = _uniform_parameter(rng, bound, (self.out_features,), kind) if bias else None

    def forward(self, x: Any) -> Tensor:
        return F.linear(_as_tensor(x), self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Embedding(Module):
    """A table of num_embeddings vectors of embedding_dim numbers, looked up by whole-number
    indices (token ids), as PyTorch's `Embedding`: input of any shape, output of shape
    input.shape + (embedding_dim,). The weight starts N(0, 1), as PyTorch's, with padding_idx's
    row 0 and never given a gradient (a padding token stays as it is). Indices are an int64 Tensor (as
    PyTorch's), a float Tensor of whole numbers, a numpy int array or a list; see
    `functional.embedding` for the rest. max_norm and sparse=True are refused."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Any = None,
        _freeze: bool = False,
        *,
        seed: SeedLike = None,
        dtype: Any = None,
    ):
        F.refuse_embedding_options("Embedding", max_norm, sparse)
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim")
        self.padding_idx = F.padding_index(padding_idx, self.num_embeddings, "Embedding")
        self.max_norm, self.sparse = max_norm, sparse
        self.norm_type = real_number(norm_type, "Embedding: norm_type")
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        if _weight is None:
            table = make_generator(seed).standard_normal((self.num_embeddings, self.embedding_dim))
            if self.padding_idx is not None:
                table[self.padding_idx] = 0.0
            self.weight = Tensor(table.astype(_dtype(dtype), copy=False), requires_grad=True)
        else:  # the given Tensor's numbers, shared (as PyTorch's Parameter(_weight)): see from_pretrained
            shape = (self.num_embeddings, self.embedding_dim)
            if tuple(_weight.shape) != shape:
                raise ValueError(f"Embedding: _weight must have shape {shape}, got {tuple(_weight.shape)}")
            self.weight = Parameter(_weight)
        if _freeze:
            self.weight.requires_grad = False  # still a parameter, in state_dict, as in PyTorch

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Any,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose weight is `embeddings` (num_embeddings, embedding_dim), sharing its
        numbers, as PyTorch's: frozen (requires_grad False, still a parameter in state_dict) unless
        freeze=False. padding_idx's row keeps its numbers but gets no gradient."""
        table = _as_tensor(embeddings)
        if table.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-d (num_embeddings, embedding_dim), got shape {table.shape}"
            )
        rows, cols = table.shape
        return cls(
            rows,
            cols,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=table,
            _freeze=freeze,
        )

    def forward(self, input: Any) -> Tensor:
        return F.embedding(
            input, self.weight, self.padding_idx, None, self.norm_type, self.scale_grad_by_freq
        )

    def extra_repr(self) -> str:
        shown = [f"{self.num_embeddings}, {self.embedding_dim}"]
        shown += [f"padding_idx={self.padding_idx}"] if self.padding_idx is not None else []
        shown += [f"norm_type={self.norm_type}"] if self.norm_type != 2 else []
        shown += ["scale_grad_by_freq=True"] if self.scale_grad_by_freq else []
        return ", ".join(shown)


class Conv2d(Module):
    """2-D convolution (cross-correlation, as PyTorch) on (N, C, H, W) inputs; weight of shape
    (out_channels, in_channels / groups, kh, kw), initialised like PyTorch's (fan_in =
    in_channels / groups * kh * kw). `padding` is an int, a pair, "valid" or "same"."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        seed: SeedLike = None,
        dtype: Any = None,
    ):
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.kernel_size = F.pair("kernel_size", kernel_size, 1)
        self.stride = F.pair("stride", stride, 1)
        self.dilation = F.pair("dilation", dilation, 1)
        self.groups = positive_int(groups, "groups")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"in_channels ({self.in_channels}) and out_channels ({self.out_channels}) must both be "
                f"divisible by groups ({self.groups})"
            )
        F.conv_padding(
            padding, self.kernel_size, self.stride, self.dilation
        )  # checked now, not at the first call
        self.padding = padding if isinstance(padding, str) else F.pair("padding", padding, 0)
        rng = make_generator(seed)
        kind = _dtype(dtype)
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = _uniform_parameter(
            rng, bound, (self.out_channels, self.in_channels // self.groups, *self.kernel_size), kind
        )
        self.bias = _uniform_parameter(rng, bound, (self.out_channels,), kind) if bias else None

    def forward(self, x: Any) -> Tensor:
        return F.conv2d(
            _as_tensor(x), self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        # PyTorch's: the sizes and stride, then only the settings that differ from the defaults
        shown = [
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        ]
        shown += [f"padding={self.padding}"] if self.padding != (0, 0) else []
        shown += [f"dilation={self.dilation}"] if self.dilation != (1, 1) else []
        shown += [f"groups={self.groups}"] if self.groups != 1 else []
        shown += ["bias=False"] if self.bias is None else []
        return ", ".join(shown)


class MaxPool2d(Module):
    """The largest value of each kernel_size window, moving by stride (default: kernel_size);
    padding (at most half the kernel) is never the largest. With ceil_mode the output size
    rounds up. (ceil_mode is keyword-only: PyTorch's fifth argument is return_indices.)"""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        *,
        ceil_mode: bool = False,
    ):
        self.kernel_size = F.pair("kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else F.pair("stride", stride, 1)
        self.padding = F.pair("padding", padding, 0)
        self.dilation = F.pair("dilation", dilation, 1)
        self.ceil_mode = ceil_mode
        # as given, for the repr: PyTorch shows `kernel_size=2`, not the pair used here
        self._given = (kernel_size, kernel_size if stride is None else stride, padding, dilation)

    def forward(self, x: Any) -> Tensor:
        return F.max_pool2d(
            _as_tensor(x), self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )

    def extra_repr(self) -> str:
        kernel_size, stride, padding, dilation = self._given
        return (
            f"kernel_size={kernel_size}, stride={stride}, padding={padding}, dilation={dilation}, "
            f"ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """The mean of each kernel_size window, moving by stride (default: kernel_size); zero
    padding counts in the mean unless count_include_pad=False. With ceil_mode the output size
    rounds up, and a window hanging past the padded input counts only its part inside."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ):
        self.kernel_size = F.pair("kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else F.pair("stride", stride, 1)
        self.padding = F.pair("padding", padding, 0)
        self._given = (kernel_size, kernel_size if stride is None else stride, padding)  # for the repr
        self.ceil_mode = ceil_mode
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x: Any) -> Tensor:
        return F.avg_pool2d(
            _as_tensor(x),
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        kernel_size, stride, padding = (
            self._given
        )  # (PyTorch's shows neither ceil_mode nor count_include_pad)
        return f"kernel_size={kernel_size}, stride={stride}, padding={padding}"


class AdaptiveAvgPool2d(Module):
    """The mean over each of output_size windows that tile the image (an int, or a pair whose
    None keeps that size), whatever the input's size: `AdaptiveAvgPool2d(1)` averages each
    channel to one number, so a model fits images of any size."""

    def __init__(self, output_size: Any):
        F._adaptive_size(output_size)  # checked now, not at the first call
        self.output_size = output_size

    def forward(self, x: Any) -> Tensor:
        return F.adaptive_avg_pool2d(_as_tensor(x), self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size!r}"


class Flatten(Module):
    """The axes from start_dim to end_dim joined into one, as `torch.nn.Flatten`; by default
    the first axis (the batch) stays and the rest are flattened: (N, C, H, W) -> (N, C*H*W)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Sequential(Module):
    """Modules applied in order, named as in PyTorch: "0", "1", ... when given as arguments, or
    by the keys of one OrderedDict (then `model.fc1` reads, assigns and deletes the layer
    "fc1"). Parameters are named "0.weight" or "fc1.weight", so state dicts line up with a
    PyTorch `nn.Sequential` of the same layers. `model[0]`, slices, `len`, `append` and
    `del model[i]` go by position; `layers` is the tuple of the layers in order."""

    def __init__(self, *modules: Module | OrderedDict[str, Module]):
        self._layers: dict[str, Module] = {}  # name -> layer, in order: the one record of both
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, value in modules[0].items():
                checked = _checked_layer(value, f"the OrderedDict's entry {name!r}")
                self._layers[_layer_name(name, self)] = checked
            return
        for i, item in enumerate(modules):
            self._layers[str(i)] = _checked_layer(item, f"argument {i}")

    @property
    def layers(self) -> tuple[Module, ...]:
        return tuple(self._layers.values())

    def append(self, module: Module) -> Sequential:
        """Add a layer at the end, named by its position (as PyTorch's `append`); returns self."""
        name = str(len(self._layers))
        if name in self._layers:
            raise ValueError(f"append(): the name {name!r} is taken by another layer; build a new Sequential")
        self._layers[name] = _checked_layer(module, "the appended module")
        return self

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from self._layers.items()
        yield from Module._members(self)  # Tensors assigned as attributes (a module is a layer)

    def __getattr__(self, name: str) -> Module:
        # Only asked when no attribute has the name: a layer by its name, as PyTorch's `model.fc1`.
        layers = vars(self).get("_layers", {})
        if name in layers:
            return layers[name]  # type: ignore[no-any-return]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        layers = vars(self).get("_layers", {})
        if name in layers:  # `model.fc1 = Linear(...)` replaces that layer, as in PyTorch
            layers[name] = _checked_layer(value, f"the layer {name!r}")
        elif isinstance(value, Module) and "_layers" in vars(self):
            # a new module attribute becomes the last layer, as PyTorch registers it (forward runs it)
            layers[_layer_name(name, self)] = value
        else:
            super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        layers = vars(self).get("_layers", {})
        if name in layers:  # `del model.fc1` removes that layer, as in PyTorch
            del layers[name]
        else:
            super().__delattr__(name)

    def forward(self, x: Any) -> Any:
        for m in self._layers.values():
            x = m(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        """A layer, or for a slice a Sequential of those layers under their names (as in PyTorch)."""
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._layers.items())[index]))
        return self.layers[index]

    def __setitem__(self, index: int, module: Module) -> None:
        """Replace the layer at a position, keeping its name."""
        name = list(self._layers)[index]
        self._layers[name] = _checked_layer(module, f"the layer {name!r}")

    def __delitem__(self, index: int | slice) -> None:
        """Remove the layers at a position or slice; the rest are renamed by their positions,
        "0", "1", ..., as PyTorch does."""
        names = list(self._layers)[index]
        for name in [names] if isinstance(names, str) else names:
            del self._layers[name]
        self._layers = dict(zip(map(str, range(len(self._layers))), self._layers.values()))

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers.values())


def _checked_layer(module: Any, where: str) -> Module:
    if not isinstance(module, Module):
        hint = (
            "; to name the layers, pass one OrderedDict of name -> module" if isinstance(module, dict) else ""
        )
        raise TypeError(
            f"Sequential takes modules, but {where} is a {type(module).__name__}: {module!r:.60}{hint}"
        )
    return module


def _layer_name(name: Any, sequential: Sequential) -> str:
    """A key of Sequential's OrderedDict, checked as PyTorch's `add_module` checks it, and not
    the name of one of Sequential's own attributes."""
    checked_child_name(name, "Sequential's layer names")
    if hasattr(sequential, name):
        raise ValueError(
            f"Sequential's layer name {name!r:.60} is taken by an attribute or method of Sequential: "
            "choose another name"
        )
    return name


# --- loss modules ------------------------------------------------------------------------------


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        losses._check_reduction(reduction)
        self.reduction = reduction


class MSELoss(_Loss):
    """Mean squared error between predictions and targets of the same shape."""

    def forward(self, input: Any, target: Any) -> Any:
        return losses.mse_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities (after a sigmoid) against targets in [0, 1]; the
    logs are clamped at -100 as PyTorch does, so p = 0 or 1 gives a large finite loss."""

    def forward(self, input: Any, target: Any) -> Any:
        return losses.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one numerically stable step (takes logits)."""

    def forward(self, input: Any, target: Any) -> Any:
        return losses.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)


class _ClassLoss(_Loss):
    """A loss over class labels, with PyTorch's `weight` (first, as there) and `ignore_index`."""

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        # (an array, not a Tensor: no parameter, so no gradient and no optimizer step, as PyTorch's buffer)
        self.weight = None if weight is None else losses.weight_array(weight, type(self).__name__)
        self.ignore_index = losses.check_ignore_index(ignore_index)


class CrossEntropyLoss(_ClassLoss):
    """Softmax cross-entropy: logits (N, C) and integer class labels (N,) (or class
    probabilities of shape (N, C)), or (N, C, d1, ..., dK) and labels (N, d1, ..., dK); `weight`,
    `ignore_index` and `label_smoothing` as in PyTorch (see `cross_entropy`)."""

    def __init__(
        self,
        weight: Any = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, ignore_index=ignore_index, reduction=reduction)
        self.label_smoothing = losses._label_smoothing(label_smoothing)

    def forward(self, input: Any, target: Any) -> Any:
        if self.weight is None and self.ignore_index == -100 and not self.label_smoothing:
            return losses.cross_entropy(input, target, reduction=self.reduction)  # also on Values
        return losses.cross_entropy(
            input,
            target,
            reduction=self.reduction,
            weight=self.weight,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_ClassLoss):
    """Negative log-likelihood of class labels, given log-probabilities (N, C) (a LogSoftmax's
    output) or (N, C, d1, ..., dK) with labels (N, d1, ..., dK): LogSoftmax(dim=1) then NLLLoss
    is CrossEntropyLoss. `weight` and `ignore_index` as in PyTorch."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return losses.nll_loss(
            input, target, reduction=self.reduction, weight=self.weight, ignore_index=self.ignore_index
        )


class L1Loss(_Loss):
    """Mean absolute error between predictions and targets of the same shape."""

    def forward(self, input: Any, target: Any) -> Any:
        return losses.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Squared error for errors below `delta`, delta times the absolute error above (see `huber_loss`)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = losses._positive("HuberLoss: delta", delta, allow_zero=False)

    def forward(self, input: Any, target: Any) -> Tensor:
        return losses.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """HuberLoss divided by `beta` (see `smooth_l1_loss`); beta = 0 is L1Loss."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = losses._positive("SmoothL1Loss: beta", beta, allow_zero=True)

    def forward(self, input: Any, target: Any) -> Tensor:
        return losses.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)
