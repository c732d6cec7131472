"""Save and load a training checkpoint, as `torch.save({...}, f)` / `torch.load(f)` are used,
without pickle: one `.safetensors` file.

A checkpoint is a dict of what a run needs to resume: `model.state_dict()`,
`optimizer.state_dict()`, a scheduler's, the epoch, a note. Its arrays are the file's tensors,
each under its dotted path (`model.0.weight`, `optimizer.state.0.exp_avg`), so
`safetensors.torch.load_file` reads them in PyTorch; everything else (numbers, strings, bools,
None, and the nesting of dicts, lists, tuples and Counters) is JSON in the file's metadata.
Nothing in the file can run code when it is read: unlike pickle, it holds no objects.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import safetensors.numpy

from .io import LoadError, PathLike, check_path, write_atomically

STRUCTURE_KEY = "micrograd_plus.checkpoint"  # the metadata entry that holds the JSON
MAX_DEPTH = 64  # nesting deeper than this is refused (a checkpoint is a few levels deep)
_CONTAINERS = {"dict": dict, "Counter": Counter}  # the mappings kept, by their JSON tag
_SEQUENCES = {"list": list, "tuple": tuple}
_PLAIN = (bool, int, float, str)  # kept in the JSON as they are (exactly these types)


def save_checkpoint(checkpoint: dict[str, Any], path: PathLike) -> None:
    """Write `checkpoint` (a dict of state dicts, arrays and plain values) to `path`, a
    `.safetensors` file; `load_checkpoint(path)` gives it back, equal to what was saved.

    >>> save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
    ...                  "epoch": epoch}, "checkpoint.safetensors")  # doctest: +SKIP

    Holds numpy arrays of numbers (a numpy scalar is kept as a 0-d array), int, float, bool,
    str and None, in dicts (with str or int keys), lists, tuples and Counters. Anything else
    (a Tensor, a Module, a function) raises TypeError naming where it is: save the arrays,
    `tensor.data` or `module.state_dict()`. The write is atomic, as `save`'s.
    """
    target = check_path(path, "save_checkpoint")
    if not target.lower().endswith(".safetensors"):
        raise ValueError(
            f"save_checkpoint() writes .safetensors files: end the path {target!r} with .safetensors"
        )
    if not isinstance(checkpoint, dict):
        raise TypeError(
            f"save_checkpoint() takes a dict, got {type(checkpoint).__name__}: {checkpoint!r:.60}"
        )
    arrays: dict[str, np.ndarray] = {}
    structure = _encoded(checkpoint, None, arrays, 0)
    metadata = {STRUCTURE_KEY: json.dumps(structure, allow_nan=True)}
    try:
        content = safetensors.numpy.save(arrays, metadata=metadata)
    except Exception as error:  # a dtype the format has no code for, such as complex128
        raise ValueError(f"save_checkpoint() cannot write this checkpoint: {error}") from error
    write_atomically(target, lambda file: file.write(content))


def load_checkpoint(path: PathLike, max_bytes: int = 2**30) -> dict[str, Any]:
    """The checkpoint `save_checkpoint` wrote to `path`, as it was saved (tuples stay tuples,
    int keys stay ints). Pass its parts to `model.load_state_dict`, `optimizer.load_state_dict`.

    Raises LoadError (a ValueError) for a file that is not such a checkpoint: not safetensors,
    damaged, without the checkpoint's metadata, or whose metadata and tensors disagree; and for
    a file over `max_bytes` (1 GiB by default), refused before it is read to its end.
    """
    source = check_path(path, "load_checkpoint")
    with open(source, "rb") as file:
        content = file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise LoadError(
            f"{source!r} is larger than max_bytes={max_bytes}: pass a larger max_bytes to load it"
        )
    try:
        arrays = safetensors.numpy.load(content)
        header = json.loads(content[8 : 8 + int.from_bytes(content[:8], "little")])
        structure = json.loads(header["__metadata__"][STRUCTURE_KEY])
    except Exception as error:
        raise LoadError(
            f"{source!r} is not a checkpoint written by save_checkpoint(): {type(error).__name__}: {error}"
        ) from error
    used: set[str] = set()
    checkpoint = _decoded(structure, arrays, used, source, 0)
    if not isinstance(checkpoint, dict) or used != arrays.keys():
        unused = sorted(arrays.keys() - used)
        raise LoadError(f"{source!r}: its metadata does not describe its tensors (unused: {unused[:5]})")
    return checkpoint


def _encoded(value: Any, where: str | None, arrays: dict[str, np.ndarray], depth: int) -> Any:
    """`value` as JSON: plain values as themselves, containers as {"tag": items}, arrays as
    {"array": name} with the array put in `arrays` under its dotted path `where` (None: the top)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"save_checkpoint(): nested more than {MAX_DEPTH} deep at {where!r}")
    if value is None or type(value) in _PLAIN:
        return value
    if isinstance(value, (np.ndarray, np.generic)):  # (before floats: np.float64 is a float)
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"save_checkpoint(): the array at {where!r} holds {array.dtype}, not numbers")
        if where is None or where in arrays:  # (the top is a dict: None never gets here)
            raise ValueError(f"save_checkpoint(): two arrays would be stored as {where!r}; rename a key")
        arrays[where] = np.asarray(array, order="C")  # (0-d stays 0-d)
        return {"array": where}
    tag = type(value).__name__
    if type(value) in _CONTAINERS.values():
        items = []
        for key, item in value.items():
            if type(key) not in (str, int):
                raise TypeError(f"save_checkpoint(): the key {key!r} at {where!r} is not a str or an int")
            items.append([key, _encoded(item, _joined(where, key), arrays, depth + 1)])
        return {tag: items}
    if type(value) in _SEQUENCES.values():
        return {tag: [_encoded(item, _joined(where, i), arrays, depth + 1) for i, item in enumerate(value)]}
    raise TypeError(
        f"save_checkpoint() stores arrays, numbers, strings and their dicts and lists; the value at "
        f"{where!r} is a {tag}: save its arrays (a Tensor's .data, a module's state_dict()) instead"
    )


def _joined(where: str | None, key: str | int) -> str:
    return str(key) if where is None else f"{where}.{key}"


def _decoded(value: Any, arrays: dict[str, np.ndarray], used: set[str], source: str, depth: int) -> Any:
    """What `_encoded` made, back; anything it cannot have made raises LoadError."""
    if value is None or type(value) in _PLAIN:
        return value
    if depth > MAX_DEPTH or not isinstance(value, dict) or len(value) != 1:
        raise LoadError(
            f"{source!r}: its metadata holds {str(value)[:60]!r}, which save_checkpoint() never writes"
        )
    ((tag, items),) = value.items()
    if tag == "array" and isinstance(items, str) and items in arrays and items not in used:
        used.add(items)
        return arrays[items]
    if tag in _CONTAINERS and isinstance(items, list):
        if all(isinstance(i, list) and len(i) == 2 and type(i[0]) in (str, int) for i in items):
            mapping = {key: _decoded(item, arrays, used, source, depth + 1) for key, item in items}
            if len(mapping) == len(items):  # (no key given twice)
                return _CONTAINERS[tag](mapping)
    if tag in _SEQUENCES and isinstance(items, list):
        return _SEQUENCES[tag](_decoded(item, arrays, used, source, depth + 1) for item in items)
    raise LoadError(
        f"{source!r}: its metadata holds {str(value)[:60]!r}, which save_checkpoint() never writes"
    )
