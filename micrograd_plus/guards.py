"""The checks the engine makes on the way, kept out of the engine's text: anomaly mode (the
first nan or inf, named with its op and line) and stale graphs (an input changed in place
after a node was made from it, as PyTorch's version counter catches).

In-place changes are seen where they go through the public API: optimizer steps (nn/optim.py)
call `mark_changed`. Direct assignment (`v.data = ...`, `t.data[...] = ...`) is not seen.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from .modes import AnomalyError

# -- anomaly mode ------------------------------------------------------------------------------


def _data(x: Any) -> Any:
    return x.data if hasattr(x, "_parents") else x  # a node's data, else x itself


def check_forward(op: Any, parents: Sequence[Any], data: Any, where: str) -> None:
    """Refuse an operation that turned finite inputs into nan or inf."""
    if not np.isfinite(data).all() and all(np.isfinite(p.data).all() for p in parents):
        raise AnomalyError(
            f"'{op.name}' turned finite inputs ({format_datas([p.data for p in parents])}) into "
            f"{short_repr(data)} at {where}. Check that line for a division by zero, a log of 0 or an overflow."
        )


def check_backward(node: Any, g: Any, contributions: Sequence[Any]) -> None:
    """Refuse a rule that sent a non-finite gradient."""
    for index, (parent, c) in enumerate(zip(node._parents, contributions)):
        if c is not None and parent.requires_grad and not np.isfinite(_data(c)).all():
            where = (
                f"the node was created at {node._where}: look there for a division by zero, a log of 0 "
                "or an overflow"
                if node._where
                else "the node was created before detect_anomaly() was switched on, so its line is unknown: "
                "build the graph inside detect_anomaly() to see it"
            )
            raise AnomalyError(
                f"backward of '{node.op}' with inputs ({format_datas([p.data for p in node._parents])}) and "
                f"output gradient {short_repr(_data(g))} produced a non-finite gradient "
                f"{short_repr(_data(c))} for input {index}; {where}."
            )


def format_datas(datas: Sequence[Any], limit: int = 8) -> str:
    """The input values of an operation for an error message, the first `limit` of them."""
    shown = ", ".join(short_repr(d) for d in datas[:limit])
    return shown if len(datas) <= limit else f"{shown}, ... ({len(datas)} inputs)"


def short_repr(data: Any, width: int = 100) -> str:
    """repr() on one line, cut to `width` characters (an array can be long)."""
    text = " ".join(repr(data).split())
    return text if len(text) <= width else text[: width - 3] + "..."


# -- in-place changes: a graph used after one of its inputs changed is refused ---------------------

# A clock that counts the in-place changes made through the public API. Each node records it when
# made (`_born`); the walk looks at a node's inputs only when the clock has moved since then, so
# micrograd's loop (a new graph each step) pays nothing.
clock = [0]
_changes: weakref.WeakKeyDictionary[Any, tuple[int, int]] = weakref.WeakKeyDictionary()


def version_of(node: Any) -> int:
    """How many in-place changes the public API made to `node` (PyTorch's `_version`)."""
    return _changes.get(node, (0, 0))[0]


def mark_changed(node: Any) -> None:
    """Record that `node.data` was just changed in place: nodes made from it before are stale."""
    clock[0] += 1
    _changes[node] = (version_of(node) + 1, clock[0])


def check_inputs_unchanged(node: Any) -> None:
    """Refuse to apply the rule of a node whose inputs changed since it was made (as PyTorch)."""
    for index, parent in enumerate(node._parents):
        version, changed_at = _changes.get(parent, (0, 0))
        if changed_at > node._born:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: input {index} of '{node.op}' (a {type(parent).__name__}, now at version "
                f"{version}) changed after the node was made. Run the forward pass again to build a new graph."
            )
