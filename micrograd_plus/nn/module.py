"""Module: the base class of every layer and model, as PyTorch users know it.

`Module` works as PyTorch users know it: assign parameters (Values or Tensors that require
grad) and sub-modules as attributes, or in lists of them, and `parameters()` finds them,
in the order they were assigned. A subclass writes only `__init__` and `forward`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..engine import Node
from ..guards import mark_changed

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
            mark_changed(p)  # graphs made from the old data are stale (see guards.py)


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
