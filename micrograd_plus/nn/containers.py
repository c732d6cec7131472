"""ModuleList and ModuleDict: sub-modules held in a list or a dict, as in PyTorch; and
ParameterList and ParameterDict: parameters held so.

A model that keeps its layers in one of them has its parameters found by `parameters()` and
named as PyTorch names them (`layers.0.weight`, `blocks.encoder.weight`), so state dicts line
up with the PyTorch model of the same shape. None has a forward: loop over them in yours.
(Sequential, which also runs its modules in order, lives in layers.py.)

A module assigned as an attribute is registered, as PyTorch registers it: `md.extra = m` is
`md["extra"] = m`; on a ModuleList it is a sub-module of its own (in `parameters()`,
`state_dict()` and the repr, as "extra"), not an item (PyTorch would count it in `len`, yet
`ml[len(ml) - 1]` fails there).

A ParameterList's parameters are named "0", "1", ... and a ParameterDict's by their keys, as
PyTorch names them (`params.0` in a model's state dict, as there). A Tensor put in one becomes
a parameter, as in PyTorch: see `_parameter`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..engine import Node
from ..tensors import Tensor
from .module import Module, Parameter, checked_child_name


def _checked_module(module: Any, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{where} must be a Module, got {type(module).__name__}: {module!r:.60}")
    return module


class _Held:
    """The items of a container, found by identity (a Tensor's == is elementwise), for one batch of
    additions (an extend(), an update(), a constructor's items), with what the batch adds and
    what it replaces (`add`): adding n parameters takes O(n) steps, not a search of the items
    for each. The container's items are indexed at the first question (ModuleList's checks ask
    none). A replaced item still counts as held for the rest of the batch, whether or not a
    question came before: `update([("a", q), ("b", p)])`, p the frozen item at "a", keeps p
    at "b", as PyTorch keeps a frozen Parameter (by its type)."""

    def __init__(self, items: Iterable[Any]):
        self._items = items
        self._by_id: dict[int, Any] = {}  # (the values keep their ids from being reused)
        self._indexed = False

    def __contains__(self, value: object) -> bool:
        if not self._indexed:
            self._by_id.update((id(item), item) for item in self._items)
            self._indexed = True
        return self._by_id.get(id(value)) is value

    def add(self, item: Any) -> None:
        self._by_id[id(item)] = item


def _parameter(value: Any, where: str, held: _Held) -> Tensor:
    """A parameter as PyTorch's containers make one: a leaf Tensor that requires grad is kept as it
    is, and so is a (frozen) parameter the container holds already (`pd["b"] = pd["a"]`: PyTorch
    keeps the same Parameter); any other Tensor becomes a parameter sharing its numbers,
    `Parameter(t)` (a frozen one too: freeze it once it is in the container)."""
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{where} must be a Tensor (a parameter), got {type(value).__name__}: {value!r:.60}; "
            "wrap it: mg.tensor(array)"
        )
    if value.is_leaf and (value.requires_grad or value in held):
        return value
    return Parameter(value)


class _List(Module):
    """The list containers' shared part: items in `_items`, named "0", "1", ... Each subclass
    says what an item may be (`_checked`, and `_noun` for the errors)."""

    _noun = "item"

    def __init__(self, items: Iterable[Any] | None = None):
        self._items: list[Any] = []
        if items is not None:
            self.extend(items)

    def _checked(self, item: Any, where: str, held: _Held) -> Any:
        raise NotImplementedError

    def _members(self) -> Iterator[tuple[str, Any]]:
        for i, item in enumerate(self._items):
            yield str(i), item
        # then what was assigned as an attribute (`ml.extra = Linear(2, 2)`), as PyTorch registers it
        yield from ((name, m) for name, m in Module._members(self) if not name.startswith("_items."))

    def append(self, item: Any) -> Any:
        self._add([item])
        return self

    def extend(self, items: Iterable[Any]) -> Any:
        if isinstance(items, (Module, Tensor)) and not isinstance(items, _List):
            raise TypeError(
                f"extend() takes an iterable of {self._noun}s, got a single {type(items).__name__}; use append()"
            )
        if isinstance(items, type(self)):  # checked already: a frozen parameter stays the same one
            self._items.extend(items._items)
            return self
        self._add(items)
        return self

    def _add(self, items: Iterable[Any]) -> None:
        held = _Held(self._items)  # (one index of the items for the whole batch)
        for item in items:
            checked = self._checked(item, f"{type(self).__name__} item {len(self._items)}", held)
            self._items.append(checked)
            held.add(checked)

    def __iadd__(self, items: Iterable[Any]) -> Any:
        return self.extend(items)

    def insert(self, index: int, item: Any) -> None:
        self._items.insert(
            index, self._checked(item, f"{type(self).__name__}.insert()'s item", _Held(self._items))
        )

    def __getitem__(self, index: int | slice) -> Any:
        """An item, or for a slice a container of the same kind holding those items (as in PyTorch)."""
        if isinstance(index, slice):
            part = type(self)()
            part._items.extend(self._items[index])  # the same items: a frozen parameter stays one
            return part
        return self._items[index]

    def __setitem__(self, index: int, item: Any) -> None:
        self._items[index] = self._checked(item, f"{type(self).__name__} item {index}", _Held(self._items))

    def __delitem__(self, index: int | slice) -> None:
        """Remove an item (or a slice of them), as PyTorch's ModuleList: the rest are renumbered."""
        del self._items[index]

    def pop(self, index: int | slice) -> Any:
        """Remove and return the item at `index` (a slice: a container of those), as PyTorch's ModuleList."""
        item = self[index]
        del self[index]
        return item

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)


class _Dict(Module):
    """The dict containers' shared part: items in `_items` by name, in insertion order; `d.name`
    reads an item. Each subclass says what an item may be (`_checked`, and `_noun` for the errors)."""

    _noun = "item"

    def __init__(self, items: Mapping[str, Any] | _Dict | Iterable[tuple[str, Any]] | None = None):
        self._items: dict[str, Any] = {}
        if items is not None:
            self.update(items)

    def _checked(self, item: Any, where: str, held: _Held) -> Any:
        raise NotImplementedError

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from self._items.items()
        yield from Module._members(self)  # what was assigned as an attribute (the dict is not unrolled)

    def __getattr__(self, name: str) -> Any:
        # Only asked when no attribute has the name: an item by its key, as PyTorch's `md.extra`.
        items = vars(self).get("_items", {})
        if name in items:
            return items[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setitem__(self, key: str, item: Any) -> None:
        self._put(key, item, _Held(self._items.values()))

    def _put(self, key: str, item: Any, held: _Held) -> None:
        name = checked_child_name(key, f"{type(self).__name__} keys")
        if name in self._items:
            held.add(self._items[name])  # (replaced: still held, see _Held)
        self._items[name] = checked = self._checked(item, f"{type(self).__name__}[{key!r}]", held)
        held.add(checked)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __delitem__(self, key: str) -> None:
        del self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def keys(self) -> Iterable[str]:
        return self._items.keys()

    def values(self) -> Iterable[Any]:
        return self._items.values()

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._items.items()

    def pop(self, key: str) -> Any:
        return self._items.pop(key)

    def clear(self) -> None:
        self._items.clear()

    def update(self, items: Mapping[str, Any] | _Dict | Iterable[tuple[str, Any]]) -> None:
        if isinstance(items, type(self)):  # checked already: a frozen parameter stays the same one
            self._items.update(items._items)
            return
        pairs = items.items() if isinstance(items, (Mapping, _Dict)) else items
        held = _Held(self._items.values())  # (one index of the items for the whole batch)
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(
                    f"{type(self).__name__}.update() takes a mapping or (name, {self._noun}) pairs, got {pair!r:.60}"
                )
            self._put(pair[0], pair[1], held)


class ModuleList(_List):
    """A list of modules, indexed like a list; their parameters are named "0.weight", "1.weight", ..."""

    _noun = "module"

    def _checked(self, item: Any, where: str, held: _Held) -> Module:
        return _checked_module(item, where)

    def add_module(self, name: str, module: Module | None) -> None:
        """As PyTorch's: an item's name ("0", "1", ...) replaces that item and the next one
        (`str(len(ml))`) appends; any other name is a sub-module of its own (see the module doc)."""
        if isinstance(name, str) and name.isdecimal():
            if module is None:
                raise TypeError(
                    f"ModuleList.add_module({name!r}, None): an item of the list cannot be emptied here "
                    "(PyTorch keeps a None in its place); use del ml[i] to remove it"
                )
            index = int(name)
            if index > len(self._items):
                raise KeyError(
                    f"ModuleList.add_module({name!r}): the list has {len(self._items)} items, so the "
                    f"names of items go up to {len(self._items)!r} (that one appends); use append()"
                )
            if index == len(self._items):
                self.append(module)
            else:
                self[index] = module
        else:
            super().add_module(name, module)

    def _child_reprs(self) -> list[tuple[str, str]]:
        """A run of items that print alike is shown once, as PyTorch's: `(0-11): 12 x Block(...)`."""
        runs: list[tuple[int, int, str]] = []  # (first index, last index, repr)
        for i, m in enumerate(self._items):
            text = repr(m)
            if runs and runs[-1][2] == text:
                runs[-1] = (runs[-1][0], i, text)
            else:
                runs.append((i, i, text))
        items = [
            (str(first), text) if first == last else (f"{first}-{last}", f"{last - first + 1} x {text}")
            for first, last, text in runs
        ]
        return items + super()._child_reprs()[len(self._items) :]


class ModuleDict(_Dict):
    """Modules by name, in insertion order; their parameters are named "<name>.weight", ..."""

    _noun = "module"

    def _checked(self, item: Any, where: str, held: _Held) -> Module:
        return _checked_module(item, where)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Module) and "_items" in vars(self):  # `md.extra = m` is `md["extra"] = m`
            vars(self).pop(name, None)
            self[name] = value
        else:
            super().__setattr__(name, value)


def _parameter_lines(named: Iterable[tuple[str, Tensor]], kind: Any) -> str:
    """PyTorch's lines for the parameters of its containers' repr (their shapes, not their
    numbers); `kind` names a parameter's dtype as the container's repr does."""
    return "\n".join(
        f"  ({label}): Parameter containing: [{kind(p)} of size {'x'.join(map(str, p.shape))}]"
        for label, p in named
    )


class ParameterList(_List):
    """Parameters in a list, as PyTorch's `ParameterList`: `parameters()` and `state_dict()` find
    them, named "0", "1", ...; a Tensor added becomes a parameter (see `_parameter`)."""

    _noun = "Tensor"

    def _checked(self, item: Any, where: str, held: _Held) -> Tensor:
        return _parameter(item, where, held)

    def _was_assigned_as_parameter(self, name: str, member: Node) -> bool:
        # Every item was made a parameter when added: it stays one when frozen, as in PyTorch. An
        # item is found by its name; an attribute aliasing one (`pl.foo = pl[0]`) by a search of
        # the items (attributes are few: parameters() stays linear).
        if name.isdecimal() and int(name) < len(self._items):
            return self._items[int(name)] is member
        return any(member is p for p in self._items) or super()._was_assigned_as_parameter(name, member)

    def extra_repr(self) -> str:
        return _parameter_lines(
            ((str(i), p) for i, p in enumerate(self._items)), lambda p: f"torch.{p.dtype}"
        )


_OLD_TYPE_NAMES = {"float64": "torch.DoubleTensor", "float32": "torch.FloatTensor"}


class ParameterDict(_Dict):
    """Parameters by name, in insertion order, as PyTorch's `ParameterDict`: `parameters()` and
    `state_dict()` find them under their keys; a Tensor added becomes a parameter (see
    `_parameter`); `pd.name` reads an item."""

    _noun = "Tensor"

    def _checked(self, item: Any, where: str, held: _Held) -> Tensor:
        return _parameter(item, where, held)

    def _was_assigned_as_parameter(self, name: str, member: Node) -> bool:
        # As ParameterList's: an item by its key, an attribute aliasing one (`pd.foo = pd["a"]`)
        # by a search of the items.
        if name in self._items:
            return self._items[name] is member
        return any(member is p for p in self._items.values()) or super()._was_assigned_as_parameter(
            name, member
        )

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)

    def setdefault(self, key: str, default: Tensor) -> Tensor:
        """The item at `key`, after putting `default` there when there is none (as a dict's;
        PyTorch's would store None there, a Tensor is needed here)."""
        if key not in self._items:
            self[key] = default
        return self._items[key]

    def popitem(self) -> tuple[str, Tensor]:
        """Remove and return the last (key, parameter) added, as a dict's."""
        return self._items.popitem()

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters in the same order (not copies of them)."""
        return ParameterDict(self)

    def fromkeys(self, keys: Iterable[str], default: Tensor) -> ParameterDict:
        """A new ParameterDict with `default` made a parameter under each key, as PyTorch's."""
        return ParameterDict(OrderedDict((key, default) for key in keys))

    def update(self, items: Mapping[str, Any] | _Dict | Iterable[tuple[str, Any]]) -> None:
        """Add or replace items, as PyTorch's: a plain dict's go in sorted by key (an
        OrderedDict's, a ParameterDict's and pairs' in their order), so state dicts line up."""
        if isinstance(items, Mapping) and not isinstance(items, OrderedDict):
            items = sorted(items.items())
        super().update(items)

    def extra_repr(self) -> str:
        # PyTorch's names the dtype the old way here (torch.DoubleTensor), where its list says torch.float64
        return _parameter_lines(self._items.items(), lambda p: _OLD_TYPE_NAMES[str(p.dtype)])
