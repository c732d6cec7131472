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

from .io import (
    NUMBERS,
    STRUCTURE_KEY,
    LoadError,
    PathLike,
    check_path,
    checked_max_bytes,
    read_bounded,
    safetensors_header,
    torch_pickle_message,
    write_atomically,
)

MAX_DEPTH = 64  # nesting deeper than this is refused (a checkpoint is a few levels deep)
MAX_STRUCTURE_BYTES = 16 * 2**20  # a checkpoint's JSON is kilobytes: more is refused unparsed
_CONTAINERS = {"dict": dict, "Counter": Counter}  # the mappings kept, by their JSON tag
_SEQUENCES = {"list": list, "tuple": tuple}
_PLAIN = (bool, int, float, str)  # kept in the JSON as they are (exactly these types)
_USE_LOAD = "read it with load(path) or load(model, path)"


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
    target = check_path(path, "save_checkpoint", "run.safetensors")
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
    except Exception as error:  # a float dtype the format has no code for, such as float128
        raise ValueError(f"save_checkpoint() cannot write this checkpoint: {error}") from error
    write_atomically(target, lambda file: file.write(content))


def load_checkpoint(path: PathLike, max_bytes: int = 2**30) -> dict[str, Any]:
    """The checkpoint `save_checkpoint` wrote to `path`, as it was saved (tuples stay tuples,
    int keys stay ints). Pass its parts to `model.load_state_dict`, `optimizer.load_state_dict`.

    Raises LoadError (a ValueError) for a file that is not such a checkpoint: not safetensors,
    damaged, without the checkpoint's metadata, or whose metadata and tensors disagree; and for
    a file over `max_bytes` (1 GiB by default), refused before it is read to its end.
    """
    source = check_path(path, "load_checkpoint", "run.safetensors")
    limit = checked_max_bytes(max_bytes, "load_checkpoint")
    content = read_bounded(source, limit, f"max_bytes={limit}: pass a larger max_bytes to load it")
    not_ours = f"{source!r} is not a checkpoint written by save_checkpoint()"
    try:
        arrays = safetensors.numpy.load(content)
    except KeyError as error:  # a dtype numpy has no type for (bfloat16, float8)
        raise LoadError(
            f"{not_ours}: it holds a tensor of dtype {error.args[0]}, which numpy lacks"
        ) from error
    except Exception as error:
        torch_file = torch_pickle_message(content, source)
        if torch_file:
            raise LoadError(torch_file) from error
        if content.startswith(b"PK"):  # a zip: an .npz archive
            raise LoadError(
                f"{not_ours}: it is an .npz archive of named arrays, as save() writes: {_USE_LOAD}"
            ) from error
        raise LoadError(f"{not_ours}: {type(error).__name__}: {error}") from error
    header = safetensors_header(content)
    metadata = header.get("__metadata__", {})
    if STRUCTURE_KEY not in metadata:
        raise LoadError(
            f"{not_ours}: it holds named tensors alone (a state dict, as save() and safetensors' "
            f"save_file write): {_USE_LOAD}"
        )
    text = metadata[STRUCTURE_KEY]
    if not text or len(text) > MAX_STRUCTURE_BYTES:
        raise LoadError(f"{not_ours}: its metadata has no {STRUCTURE_KEY!r} entry of at most 16 MiB")
    try:
        structure = json.loads(text)
    except Exception as error:  # (a RecursionError too, for JSON nested too deep)
        raise LoadError(f"{not_ours}: its metadata is not JSON: {type(error).__name__}: {error}") from error
    if not (isinstance(structure, dict) and structure.keys() & _CONTAINERS.keys()):
        raise LoadError(f"{source!r}: its metadata does not hold a dict, as save_checkpoint() writes")
    used: set[str] = set()
    checkpoint = _decoded(structure, arrays, used, source, 0)
    if used != arrays.keys():
        unused = sorted(arrays.keys() - used)
        raise LoadError(f"{source!r}: its metadata does not describe its tensors (unused: {unused[:5]})")
    return checkpoint  # type: ignore[no-any-return]


def _encoded(value: Any, where: str | None, arrays: dict[str, np.ndarray], depth: int) -> Any:
    """`value` as JSON: plain values as themselves, containers as {"tag": items}, arrays as
    {"array": name} with the array put in `arrays` under its dotted path `where` (None: the top,
    always a dict)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"save_checkpoint(): nested more than {MAX_DEPTH} deep at {where!r}")
    if value is None or type(value) in _PLAIN:
        return value
    if type(value) is np.ndarray or isinstance(value, np.generic):  # (np.float64 is a float too)
        assert where is not None
        array = np.asarray(value, order="C")  # (0-d stays 0-d)
        if array.dtype.kind not in NUMBERS:
            raise TypeError(f"save_checkpoint(): the array at {where!r} holds {array.dtype}, not numbers")
        if where in arrays or where == "__metadata__":  # (a name safetensors keeps for itself)
            raise ValueError(f"save_checkpoint(): an array cannot be stored as {where!r}; rename a key")
        arrays[where] = array
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
        f"save_checkpoint() stores numpy arrays, numbers, strings and their dicts and lists; the value "
        f"at {where!r} is a {tag}: save its arrays (a Tensor's .data, a module's state_dict()) instead"
    )


def _joined(where: str | None, key: str | int) -> str:
    return str(key) if where is None else f"{where}.{key}"


def _decoded(value: Any, arrays: dict[str, np.ndarray], used: set[str], source: str, depth: int) -> Any:
    """What `_encoded` made, back; anything it cannot have made raises LoadError."""
    if value is None or type(value) in _PLAIN:
        return value
    if depth <= MAX_DEPTH and isinstance(value, dict) and len(value) == 1:
        ((tag, items),) = value.items()
        named = isinstance(items, str) and items in arrays and items not in used
        if tag == "array" and named and arrays[items].dtype.kind in NUMBERS:
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
