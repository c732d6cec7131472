"""micrograd's Neuron, Layer and MLP on Values: a neuron is `activation(dot(w, x, b))`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import engine
from ..arguments import positive_int
from ..engine import Value
from . import forward_hooks
from .activations import ReLU, Sigmoid, Tanh
from .layers import Linear, Sequential
from .module import Module, Seed, make_rng

_ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
_ACTIVATION_MODULES: dict[str, type[Module]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}


def _activation(activation: str | None, nonlin: bool | None) -> str:
    if nonlin is not None:  # micrograd's spelling
        return "relu" if nonlin else "linear"
    if activation is None:
        return "linear"
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {activation!r}")
    return activation


def _require_a_list(model: Module, x: Any, nin: int) -> None:
    """Refuse an input that is not a list (a lone number, a string): Neuron, Layer and MLP take
    one input per weight, as micrograd's do, in a list (or tuple, or 1-d array)."""
    try:
        len(x)
    except TypeError:
        pass
    else:
        if not isinstance(x, (str, bytes)):
            return
    names = [f"x{i}" for i in range(1, nin + 1)]
    example = ", ".join(names if nin <= 3 else [*names[:2], "...", names[-1]])
    raise TypeError(
        f"{type(model).__name__} expects a list of {nin} input{'s' if nin != 1 else ''} (numbers or Values), got "
        f"{type(x).__name__} {x!r:.40}: call it with one input per weight, model([{example}])"
    )


class Neuron(Module):
    """One neuron: activation(w . x + b). Weights start uniform in [-1, 1], bias 0, as in micrograd."""

    def __init__(
        self,
        nin: int,
        activation: str | None = "relu",
        seed: Seed = None,
        *,
        nonlin: bool | None = None,
    ):
        nin = positive_int(nin, "nin")
        rng = make_rng(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = _activation(activation, nonlin)

    @property
    def nonlin(self) -> bool:
        return self.activation != "linear"

    def forward(self, x: Sequence[Any]) -> Value:
        """`activation(dot(w, x, b))`: two nodes on the reference engine, one on the fast one."""
        _require_a_list(self, x, len(self.w))
        if len(x) != len(self.w):
            raise ValueError(f"Neuron expects {len(self.w)} inputs, got {len(x)}")
        return engine.dot(self.w, x, self.b, self.activation)

    def __repr__(self) -> str:
        kind = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Linear"}[self.activation]
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons reading the same inputs. Like micrograd, a layer of one neuron
    returns a Value rather than a list of one."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "relu",
        seed: Seed = None,
        *,
        nonlin: bool | None = None,
    ):
        nout = positive_int(nout, "nout")
        rng = make_rng(seed)
        self.neurons = [Neuron(nin, activation, rng, nonlin=nonlin) for _ in range(nout)]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        neurons = self.neurons
        _require_a_list(self, x, len(neurons[0].w))
        # Plain Neurons of one activation are made by one `engine.neurons` call (the fast
        # engine reads their shared inputs once); the nodes are those of calling each neuron.
        # A neuron with forward hooks is called, so that they run (as PyTorch runs a sub-module's);
        # they are looked for only once some module had one (a training step has none).
        activation = neurons[0].activation
        rows, biases = [], []
        look_for_hooks = forward_hooks.ever_registered
        for n in neurons:
            if (
                type(n) is not Neuron
                or len(n.w) != len(x)
                or n.activation != activation
                or (look_for_hooks and n._forward_hooks is not None)
            ):
                # a subclass's own forward, mixed activations, hooks, or an error:
                out = [n(x) for n in neurons]
                break
            rows.append(n.w)
            biases.append(n.b)
        else:
            out = engine.neurons(rows, biases, x, activation)
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: every layer but the last is non-linear (as micrograd).

    `MLP(2, [16, 16, 1])`; unlike micrograd, a hidden layer of width 1 works.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu", seed: Seed = None):
        nin = positive_int(nin, "nin")
        if isinstance(nouts, (int, np.integer)) or not isinstance(nouts, Sequence) or len(nouts) == 0:
            raise ValueError(
                f"nouts must be a non-empty list of layer sizes, like [16, 16, 1]; got {nouts!r}"
            )
        sizes = [nin] + [positive_int(n, f"nouts[{i}]") for i, n in enumerate(nouts)]
        activation = _activation(activation, None)
        rng = make_rng(seed)
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", rng)
            for i in range(len(nouts))
        ]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        _require_a_list(self, x, len(self.layers[0].neurons[0].w))
        out: Any = x
        for layer in self.layers:
            out = layer(out)
            if isinstance(out, Value):
                out = [out]
        return out[0] if len(out) == 1 else out

    def to_sequential(self) -> Sequential:
        """The same network as Tensor layers: a `Sequential` of `Linear` layers (float64, with
        these weights copied) and `ReLU`/`Tanh`/`Sigmoid` modules, which takes a batch (N, nin)
        at once and whose `state_dict()` loads into the equivalent `torch.nn.Sequential`: the
        way from a scalar model to PyTorch."""
        modules: list[Module] = []
        for i, layer in enumerate(self.layers):
            activations = {n.activation for n in layer.neurons}
            if len(activations) != 1:
                raise ValueError(
                    f"layer {i} mixes the activations {sorted(activations)}: a Linear layer applies one to all its outputs"
                )
            linear = Linear(len(layer.neurons[0].w), len(layer.neurons), seed=0)  # weights replaced below
            linear.weight.data = np.array([[w.data for w in n.w] for n in layer.neurons], dtype=np.float64)
            assert linear.bias is not None  # (Linear has a bias unless told otherwise)
            linear.bias.data = np.array([n.b.data for n in layer.neurons], dtype=np.float64)
            modules.append(linear)
            activation = activations.pop()
            if activation != "linear":
                modules.append(_ACTIVATION_MODULES[activation]())
        return Sequential(*modules)

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
