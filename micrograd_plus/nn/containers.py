"""ModuleList and ModuleDict: sub-modules held in a list or a dict, as in PyTorch.

A model that keeps its layers in one of them has its parameters found by `parameters()` and
named as PyTorch names them (`layers.0.weight`, `blocks.encoder.weight`), so state dicts line
up with the PyTorch model of the same shape. Neither has a forward: loop over them in yours.
(Sequential, which also runs its modules in order, lives in layers.py.)

A module assigned as an attribute is registered, as PyTorch registers it: `md.extra = m` is
`md["extra"] = m`; on a ModuleList it is a sub-module of its own (in `parameters()`,
`state_dict()` and the repr, as "extra"), not an item (PyTorch would count it in `len`, yet
`ml[len(ml) - 1]` fails there).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module, checked_child_name


def _checked_module(module: Any, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{where} must be a Module, got {type(module).__name__}: {module!r:.60}")
    return module


class ModuleList(Module):
    """A list of modules, indexed like a list; their parameters are named "0.weight", "1.weight", ..."""

    def __init__(self, modules: Iterable[Module] | None = None):
        self._modules: list[Module] = []
        if modules is not None:
            self.extend(modules)

    def _members(self) -> Iterator[tuple[str, Any]]:
        for i, m in enumerate(self._modules):
            yield str(i), m
        # then what was assigned as an attribute (`ml.extra = Linear(2, 2)`), as PyTorch registers it
        yield from ((name, m) for name, m in Module._members(self) if not name.startswith("_modules."))

    def append(self, module: Module) -> ModuleList:
        self._modules.append(_checked_module(module, f"ModuleList item {len(self._modules)}"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError(f"extend() takes an iterable of modules, got a single {type(modules).__name__}")
        for m in modules:
            self.append(m)
        return self

    def add_module(self, name: str, module: Module | None) -> None:
        """As PyTorch's: an item's name ("0", "1", ...) replaces that item and the next one
        (`str(len(ml))`) appends; any other name is a sub-module of its own (see the module doc)."""
        if isinstance(name, str) and name.isdecimal() and module is not None:
            index = int(name)
            if index > len(self._modules):
                raise KeyError(
                    f"ModuleList.add_module({name!r}): the list has {len(self._modules)} items, so the "
                    f"names of items go up to {len(self._modules)!r} (that one appends); use append()"
                )
            if index == len(self._modules):
                self.append(module)
            else:
                self[index] = module
        else:
            super().add_module(name, module)

    def insert(self, index: int, module: Module) -> None:
        self._modules.insert(index, _checked_module(module, "ModuleList.insert()'s module"))

    def __getitem__(self, index: int | slice) -> Any:
        """A module, or for a slice a ModuleList of those modules (as in PyTorch)."""
        if isinstance(index, slice):
            return ModuleList(self._modules[index])
        return self._modules[index]

    def __setitem__(self, index: int, module: Module) -> None:
        self._modules[index] = _checked_module(module, f"ModuleList item {index}")

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)

    def _child_reprs(self) -> list[tuple[str, str]]:
        """A run of items that print alike is shown once, as PyTorch's: `(0-11): 12 x Block(...)`."""
        runs: list[tuple[int, int, str]] = []  # (first index, last index, repr)
        for i, m in enumerate(self._modules):
            text = repr(m)
            if runs and runs[-1][2] == text:
                runs[-1] = (runs[-1][0], i, text)
            else:
                runs.append((i, i, text))
        items = [
            (str(first), text) if first == last else (f"{first}-{last}", f"{last - first + 1} x {text}")
            for first, last, text in runs
        ]
        return items + super()._child_reprs()[len(self._modules) :]


class ModuleDict(Module):
    """Modules by name, in insertion order; their parameters are named "<name>.weight", ..."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        self._modules: dict[str, Module] = {}
        if modules is not None:
            self.update(modules)

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from self._modules.items()
        yield from Module._members(self)  # Tensors assigned as attributes (a module is an item)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Module) and "_modules" in vars(
            self
        ):  # `md.extra = m` is `md["extra"] = m`, as in PyTorch
            vars(self).pop(name, None)
            self[name] = value
        else:
            super().__setattr__(name, value)

    def __getattr__(self, name: str) -> Module:
        # Only asked when no attribute has the name: an item by its key, as PyTorch's `md.extra`.
        modules = vars(self).get("_modules", {})
        if name in modules:
            return modules[name]  # type: ignore[no-any-return]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setitem__(self, key: str, module: Module) -> None:
        self._modules[checked_child_name(key, "ModuleDict keys")] = _checked_module(
            module, f"ModuleDict[{key!r}]"
        )

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(
                    f"ModuleDict.update() takes a mapping or (name, module) pairs, got {pair!r:.60}"
                )
            self[pair[0]] = pair[1]
