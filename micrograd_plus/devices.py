"""PyTorch's devices, so its boilerplate ports unchanged: `torch.device("cpu")`, `x.device.type`,
and `torch.device("cuda" if torch.cuda.is_available() else "cpu")`, which picks the CPU here.

micrograd_plus computes on the CPU with numpy. Every place that takes `device=` takes a
`device` or its name ("cpu"); a device of another type ("cuda") can be named, as in
PyTorch, and is refused where it is used (`x.to(device)`, `zeros(2, device=device)`)."""

from __future__ import annotations

import numbers
from types import ModuleType
from typing import Any

# PyTorch's usual device types; "cpu" is the one that computes here.
DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla")


class device:  # noqa: N801 (PyTorch's name)
    """PyTorch's `torch.device`: `device("cpu")`, `device("cpu", 0)`, `device("cuda:1")`, with its
    `.type` and `.index`. It equals the string of its name, so `x.device == "cpu"` holds."""

    __slots__ = ("_type", "_index")

    def __init__(self, type: Any = "cpu", index: Any = None) -> None:  # noqa: A002 (PyTorch's name)
        if isinstance(type, device) and index is None:
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f'device() takes a device type such as "cpu", got {type!r:.60}')
        kind, colon, number = type.partition(":")
        if kind not in DEVICE_TYPES:
            raise ValueError(
                f'device({type!r:.60}): expected one of {", ".join(DEVICE_TYPES)}; here use "cpu"'
            )
        if colon and index is not None:
            raise ValueError(
                f"device({type!r:.60}, {index!r:.20}): give the index once, in the string or as index="
            )
        if colon:
            if not (number.isascii() and number.isdigit()):
                raise ValueError(f"device({type!r:.60}): the index after ':' must be a whole number >= 0")
            index = int(number)
        if index is not None and (
            isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0
        ):
            raise ValueError(f"device(): index must be a whole number >= 0, got {index!r:.60}")
        self._type, self._index = kind, None if index is None else int(index)

    @property
    def type(self) -> str:  # (read-only, as PyTorch's: every Tensor shares the one CPU device)
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (device, str)) or type(other).__module__.startswith("torch"):
            return str(self) == str(other)  # (a name, or PyTorch's device of that name)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


CPU = device("cpu")
"""The one device that computes here: every Tensor's `.device`."""


def _namespace(name: str, doc: str, **functions: Any) -> ModuleType:
    """A stand-in for one of PyTorch's submodules (a module, as theirs: no star import binds it)."""
    namespace = ModuleType(f"micrograd_plus.{name}", doc)
    namespace.__dict__.update(functions)
    return namespace


cuda = _namespace(
    "cuda",
    "PyTorch's `torch.cuda`, as seen from here: no GPU (`is_available()` is False).",
    is_available=lambda: False,
    device_count=lambda: 0,
)
accelerator = _namespace(
    "accelerator",
    "PyTorch's `torch.accelerator`, as seen from here: none (`current_accelerator()` is None).",
    is_available=lambda: False,
    device_count=lambda: 0,
    current_accelerator=lambda: None,
)
