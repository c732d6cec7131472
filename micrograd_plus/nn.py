"""Neural-network building blocks: Module, and micrograd's Neuron, Layer and MLP on Values.

`Module` works as PyTorch users know it: assign parameters (Values or Tensors that require
grad) and sub-modules as attributes, or in lists of them, and `parameters()` finds them,
in the order they were assigned. A subclass writes only `__init__` and `forward`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .autograd import Node
from .engine import Value, dot, dots

Seed = int | random.Random | None


def make_rng(seed: Seed) -> random.Random:
    """A private random generator: an int seeds a new one, a Random is used as it is,
    None draws fresh entropy. The global `random` state is never touched."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None or (isinstance(seed, int) and not isinstance(seed, bool)):
        return random.Random(seed)
    raise TypeError(f"seed must be an int, a random.Random or None, got {type(seed).__name__}: {seed!r}")


class Module:
    """Base class: finds parameters and sub-modules among the attributes."""

    training: bool = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, member) for each attribute that is a node or a module, lists unrolled."""
        for name, value in vars(self).items():
            if isinstance(value, (Node, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Node, Module)):
                        yield f"{name}.{i}", item

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, with dotted names ('' for this one). A module
        used twice is listed once, under its first name (as in PyTorch)."""
        return _first_of_each(self._all_modules(prefix))

    def _all_modules(self, prefix: str) -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, member in self._members():
            if isinstance(member, Module):
                yield from member._all_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> list[Module]:
        return [m for _, m in self.named_modules()]

    def children(self) -> list[Module]:
        return [m for _, m in self._members() if isinstance(m, Module)]

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """(dotted name, parameter) for every node that requires grad, in assignment order.
        A parameter reached twice (a layer used twice) is listed once, under its first name,
        as in PyTorch: an optimizer must not step it twice."""
        return _first_of_each(self._all_parameters(prefix))

    def _all_parameters(self, prefix: str) -> Iterator[tuple[str, Node]]:
        for name, member in self._members():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(member, Module):
                yield from member._all_parameters(full)
            elif member.requires_grad:
                yield full, member

    def parameters(self) -> list[Any]:
        """The live parameter nodes, as `named_parameters()` lists them: write `.data` to
        change the model."""
        if type(self).named_parameters is not Module.named_parameters:  # a subclass's own listing
            return [p for _, p in self.named_parameters()]
        found: list[Any] = []
        self._collect_parameters(found, set())
        return found

    def _collect_parameters(self, found: list[Any], seen: set[int]) -> None:
        # `_all_parameters` without the names and (unless a subclass lists its own members) the
        # generators: a training step asks for its parameters two or three times (penalty,
        # zero_grad, update), and they were most of the cost.
        if type(self)._members is Module._members:
            members: Iterable[Any] = (
                member
                for value in vars(self).values()
                for member in (value if isinstance(value, (list, tuple)) else (value,))
            )
        else:
            members = (member for _, member in self._members())
        for member in members:
            if isinstance(member, Module):
                member._collect_parameters(found, seen)
            elif isinstance(member, Node) and member.requires_grad and id(member) not in seen:
                seen.add(id(member))
                found.append(member)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient (Value: 0.0, Tensor: None)."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def state_dict(self) -> dict[str, Any]:
        """A copy of every parameter's data by name: a float for a Value, an array for a Tensor."""
        return {name: _copy_data(p.data) for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy data into the parameters; names and shapes must match exactly."""
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict() takes a dict of name -> data, got {type(state).__name__}")
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise ValueError(
                f"state does not fit {type(self).__name__}: missing {missing or 'none'}, "
                f"unexpected {unexpected or 'none'}; was it saved from a model of another shape?"
            )
        new_data = {}
        for name, p in params.items():
            new_data[name] = _checked_data(name, p.data, state[name])
        for name, p in params.items():  # only after every entry was validated: all or nothing
            p.data = new_data[name]


def _first_of_each(named: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """The (name, object) pairs with each object kept at its first appearance only."""
    seen: set[int] = set()
    for name, item in named:
        if id(item) not in seen:
            seen.add(id(item))
            yield name, item


def _copy_data(data: Any) -> Any:
    return data.copy() if isinstance(data, np.ndarray) else data


def _checked_data(name: str, current: Any, given: Any) -> Any:
    """`given` as the data of a parameter like `current`: real numbers of its shape, copied."""
    if isinstance(current, np.ndarray):
        array = np.asarray(given)
        if array.shape != current.shape or array.dtype.kind not in "iuf":
            raise ValueError(
                f"parameter {name!r}: expected real numbers of shape {current.shape}, got {array.dtype} of shape {array.shape}"
            )
        return array.astype(current.dtype, copy=True)
    array = np.asarray(given)
    if array.size != 1 or array.dtype.kind not in "iuf":
        raise ValueError(f"parameter {name!r}: expected one real number, got {given!r:.80}")
    return float(array.reshape(()))


_ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


def _activation(activation: str | None, nonlin: bool | None) -> str:
    if nonlin is not None:  # micrograd's spelling
        return "relu" if nonlin else "linear"
    if activation is None:
        return "linear"
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {activation!r}")
    return activation


def _check_size(name: str, size: Any) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{name} must be a positive int, got {size!r}")
    return int(size)


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
        nin = _check_size("nin", nin)
        rng = make_rng(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = _activation(activation, nonlin)

    @property
    def nonlin(self) -> bool:
        return self.activation != "linear"

    def forward(self, x: Sequence[Any]) -> Value:
        """One node, `activation(w . x + b)` (see engine.NEURON_OPS: for speed, the
        activation is not a node of its own)."""
        if len(x) != len(self.w):
            raise ValueError(f"Neuron expects {len(self.w)} inputs, got {len(x)}")
        return dot(self.w, x, self.b, self.activation)

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
        nout = _check_size("nout", nout)
        rng = make_rng(seed)
        self.neurons = [Neuron(nin, activation, rng, nonlin=nonlin) for _ in range(nout)]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        neurons = self.neurons
        # Speed: a layer's neurons share their inputs, so plain Neurons of one activation are
        # made by one `dots` call, which checks and reads the inputs once for all of them.
        # The nodes and numbers are those of calling each neuron.
        activation = neurons[0].activation
        rows, biases = [], []
        for n in neurons:
            if type(n) is not Neuron or len(n.w) != len(x) or n.activation != activation:
                out = [n(x) for n in neurons]  # a subclass's own forward, mixed activations, or an error
                break
            rows.append(n.w)
            biases.append(n.b)
        else:
            out = dots(rows, biases, x, activation)
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: every layer but the last is non-linear (as micrograd).

    `MLP(2, [16, 16, 1])`; unlike micrograd, a hidden layer of width 1 works.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu", seed: Seed = None):
        nin = _check_size("nin", nin)
        if isinstance(nouts, (int, np.integer)) or not isinstance(nouts, Sequence) or len(nouts) == 0:
            raise ValueError(
                f"nouts must be a non-empty list of layer sizes, like [16, 16, 1]; got {nouts!r}"
            )
        sizes = [nin] + [_check_size(f"nouts[{i}]", n) for i, n in enumerate(nouts)]
        activation = _activation(activation, None)
        rng = make_rng(seed)
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", rng)
            for i in range(len(nouts))
        ]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        out: Any = x
        for layer in self.layers:
            out = layer(out)
            if isinstance(out, Value):
                out = [out]
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def __getattr__(name: str) -> Any:
    """`nn.Linear`, `nn.Conv2d`, ... as in PyTorch: the Tensor layers live in layers.py (which
    imports Module from here, so they are looked up on first use rather than imported above)."""
    from . import layers

    if name in layers.__all__:
        return getattr(layers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
