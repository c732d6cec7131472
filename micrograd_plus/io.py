"""Save and load a module's state as `.npz` or `.safetensors`, never with pickle.

`save(model, path)` and `load(model, path)` move a model's weights; PyTorch's habit
`torch.save(net.state_dict(), PATH)` / `net.load_state_dict(torch.load(PATH))` works too:
`save` takes a state dict, and `load(path)` gives one back.

Pickle runs code while it loads, so a parameter file from the internet could do anything.
Both formats hold only plain arrays, one per entry of `module.state_dict()`, under its
dotted name (a Value as a 0-d float64 array, a Tensor or buffer as its array):

- `.npz`: a zip of `<name>.npy` members, which `np.load` reads without this library;
- `.safetensors`: the format PyTorch users share models in, written and read by the
  `safetensors` package, so `safetensors.torch.load_file` hands a model to PyTorch.

The path's suffix picks the format. A file is checked against the module before anything
is copied into it, and the memory a load takes is bounded by what the module's own entries
need (`max_bytes` without a module), however the file was crafted. What holds more than named
arrays (an optimizer's state, a whole run) is a checkpoint: see checkpoints.py.
"""

from __future__ import annotations

import io
import json
import math
import os
import secrets
import zipfile
from collections import Counter
from collections.abc import Callable
from typing import Any, BinaryIO, overload

import numpy as np
import safetensors.numpy

from .arguments import true_or_false
from .engine import Node
from .guards import short_repr
from .nn.module import Module

PathLike = str | os.PathLike

# Room beyond the arrays' data: one member's or tensor's header and its name, and once per
# file the zip directory's end or the safetensors metadata. A file bigger than its module's
# entries need with this slack is refused before it is parsed.
_ENTRY_ALLOWANCE = 1024
_FILE_ALLOWANCE = 64 * 1024
_WIDEST = 16  # bytes per number of the widest dtype accepted (numpy's long double)

# The dtype kinds an entry accepts, by the kind of the module's own entry: real numbers are
# converted to a float parameter's dtype (as PyTorch's load_state_dict copies them), while an
# integer buffer such as a step count takes integers only.
_ACCEPTED = {"f": ("fiu", "real numbers"), "i": ("iu", "integers"), "u": ("iu", "integers")}
NUMBERS = "biuf"  # the dtype kinds a state dict (or a checkpoint) holds: bool, int, unsigned, float

STRUCTURE_KEY = "micrograd_plus.checkpoint"  # the metadata entry that marks a checkpoint's file
# The metadata entry holding the names in the state dict's order: the safetensors writer lays
# tensors out by dtype and name, and its reader returns them in a random order.
ORDER_KEY = "micrograd_plus.order"
# A safetensors header is at most this long (the format's own limit): a longer one is not looked for.
_MAX_HEADER = 100 * 2**20
_USE_CHECKPOINTS = (
    "save_checkpoint(obj, path) and load_checkpoint(path), which keep nested dicts, lists and "
    "numbers (an optimizer's state_dict(), a whole run)"
)


class LoadError(ValueError):
    """A parameter file could not be loaded into the module: not an `.npz` archive or a
    safetensors file, damaged, holding pickled objects, or holding other names, shapes or
    dtypes than the module's."""


def save(obj: Module | dict[str, Any], path: PathLike) -> None:
    """Write a module's `state_dict()`, or a state dict itself (PyTorch's
    `torch.save(net.state_dict(), PATH)`), to `path`: a `.safetensors` file when the path ends
    with that suffix, an `.npz` archive otherwise (the path is used as given, no suffix added).

    A state dict is a flat dict of name -> array: numpy arrays of numbers, Tensors (their
    arrays) and numbers (a bool as a 0-d bool array, as numpy's bool, since safetensors has
    bool tensors). Nested dicts, lists and other values (an optimizer's state dict) are refused
    with a TypeError naming `save_checkpoint`, which keeps them. `load(path)` gives the entries
    back in their order, as `torch.load` does.

    The write is atomic: the file goes to a temporary file in the same folder, which then
    replaces `path` in one step (`os.replace`), so an interrupted save leaves any previous
    file intact. Raises TypeError for anything else than a Module or a state dict, or a path
    that is not a str or os.PathLike or an entry that is not numbers (complex128 included),
    ValueError for a `.safetensors` entry whose dtype that format cannot store (float128), and
    OSError when the folder cannot be written.
    """
    arrays = _state_arrays(obj) if isinstance(obj, Module) else _given_arrays(obj)
    target = check_path(path, "save")
    write = _write_safetensors if _is_safetensors(target) else _write_archive
    write_atomically(target, lambda file: write(file, arrays))


def _given_arrays(state: Any) -> dict[str, np.ndarray]:
    """A state dict given to `save` as contiguous arrays, or a TypeError saying what to use."""
    if not isinstance(state, dict):
        raise TypeError(
            f"save() takes a Module (such as an MLP) or a state dict (a dict of name -> array, as "
            f"model.state_dict() gives), got {type(state).__name__}: {short_repr(state, 60)}"
        )
    if _is_optimizer_state(state):
        raise TypeError(
            "save() got an optimizer's state_dict(), which holds nested dicts and lists, not named "
            f"arrays: use {_USE_CHECKPOINTS}"
        )
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise TypeError(
                f"save(): a state dict's keys are parameter names (non-empty str other than "
                f"'__metadata__'), got {short_repr(name, 60)}; for other keys use {_USE_CHECKPOINTS}"
            )
        data = value.data if isinstance(value, Node) else value
        if not isinstance(data, (np.ndarray, np.generic, int, float)):
            raise TypeError(
                f"save(state_dict, path) writes a dict of name -> array; the entry {name!r} is of type "
                f"{type(value).__name__}: {short_repr(value, 60)}; use {_USE_CHECKPOINTS}"
            )
        array = np.asarray(data, order="C")
        if array.dtype.kind not in NUMBERS:
            raise TypeError(
                f"save(): the entry {name!r} holds {array.dtype}, not numbers: a state dict's arrays "
                "hold bools, integers or floats"
            )
        arrays[name] = array
    return arrays


def _is_optimizer_state(state: dict[Any, Any]) -> bool:
    """Whether `state` is what `optimizer.state_dict()` gives (exactly its two keys, a dict and
    a list), not a model whose parameters happen to be called "state" and "param_groups"."""
    return (
        state.keys() == {"state", "param_groups"}
        and isinstance(state["state"], dict)
        and isinstance(state["param_groups"], list)
    )


def write_atomically(target: str, write: Callable[[BinaryIO], object]) -> None:
    """`write(file)` into a temporary file beside `target`, which then replaces `target` in one
    step (`os.replace`): an interrupted write leaves any previous file intact."""
    folder = os.path.dirname(os.path.abspath(target))
    # (the name's start only, so a name near the file system's 255-byte limit still has room)
    temporary = os.path.join(folder, f".{os.path.basename(target)[:64]}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never reuse an existing file; mode 0o666 lets the umask decide, as open() does.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _write_archive(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """What `np.savez` writes (one `<name>.npy` member per array), without passing names as
    keyword arguments, so a parameter called `file` or `allow_pickle` is no problem."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _write_safetensors(file: Any, arrays: dict[str, np.ndarray]) -> None:
    try:
        data = safetensors.numpy.save(arrays, metadata={ORDER_KEY: json.dumps(list(arrays))})
    except Exception as error:  # a dtype the format has no code for, such as complex128
        raise ValueError(
            f"save() cannot write these arrays as .safetensors: {error}; convert them to "
            "float32 or float64, or save them as .npz"
        ) from error
    file.write(data)


@overload
def load(
    f: PathLike,
    path: None = None,
    *,
    module: None = None,
    max_bytes: int | None = None,
    weights_only: bool | None = None,
    map_location: Any = None,
) -> dict[str, np.ndarray]: ...
@overload
def load(
    f: None = None,
    *,
    path: PathLike,
    module: None = None,
    max_bytes: int | None = None,
    weights_only: bool | None = None,
    map_location: Any = None,
) -> dict[str, np.ndarray]: ...
@overload
def load(
    f: Module,
    path: PathLike,
    *,
    module: None = None,
    max_bytes: None = None,
    weights_only: bool | None = None,
    map_location: Any = None,
) -> None: ...
@overload
def load(
    f: PathLike | None = None,
    path: PathLike | None = None,
    *,
    module: Module,
    max_bytes: None = None,
    weights_only: bool | None = None,
    map_location: Any = None,
) -> None: ...
def load(
    f: Module | PathLike | None = None,
    path: PathLike | None = None,
    *,
    module: Module | None = None,
    max_bytes: int | None = None,
    weights_only: bool | None = None,
    map_location: Any = None,
) -> dict[str, np.ndarray] | None:
    """`load(model, path)`: load a file written by `save` (or by `np.savez`, or `safetensors`
    from PyTorch) into `model`, in place. `load(path)` (or `load(f=path)`, `load(path=path)`):
    the state dict the file holds, as `model.state_dict()` gives one (name -> numpy array; a
    Value's number as a 0-d array; in the saved order), for PyTorch's habit
    `net.load_state_dict(torch.load(PATH, weights_only=True))`. The suffix `.safetensors`
    picks that format, any other an `.npz` archive. (`load(module=model, path=path)`, the
    keywords of before, works too.)

    `weights_only` and `map_location` are PyTorch's: weights only is what is ever read here, so
    True (or None) is accepted and False refused; the CPU is the one device, so `map_location`
    may be "cpu" or `device("cpu")` (or None).

    Nothing in the file can execute code: `.npy` members are read with `allow_pickle=False`
    and safetensors holds no objects; a file written by `torch.save` (a pickle) is refused,
    saying how to convert it. Into a model, every name of `model.state_dict()` must
    be in the file once, with its shape and a dtype it accepts (real numbers for a float
    parameter, converted to its dtype; integers for an integer buffer), and nothing else; the
    model is changed only when every entry is valid (all or nothing). Without a model, every
    entry must be an array of numbers (bool, int or float).

    Raises LoadError (a ValueError), and nothing else, for any file that is not a valid
    parameter file (for this model): random bytes, a truncated or empty file, pickled data, a
    checkpoint (read it with `load_checkpoint`), missing, repeated or extra names, wrong shapes
    or non-numeric arrays, or a file larger than the model's entries can need (than
    `max_bytes`, 1 GiB by default, without a model). Raises TypeError for a first argument that
    is neither a Module nor a path, or a path that is not a str or os.PathLike, ValueError for
    `weights_only=False`, a `map_location` other than the CPU or a negative `max_bytes`, and
    OSError (such as FileNotFoundError) when the file cannot be opened.
    """
    _check_torch_options(weights_only, map_location)
    if isinstance(f, Module):
        if module is not None:
            raise TypeError("load() got two models: pass load(model, path) or load(module=model, path=path)")
        f, module = None, f
    if module is not None and not isinstance(module, Module):
        raise TypeError(
            f"load(): module must be a Module, got {type(module).__name__}: {short_repr(module, 60)}"
        )
    if f is not None and path is not None:
        raise TypeError(
            f"load() takes a Module (such as an MLP) and a path, or a path alone, got "
            f"{type(f).__name__}: {short_repr(f, 60)} and the path {short_repr(path, 60)}"
        )
    file = f if path is None else path
    if file is None:
        if module is not None:
            raise TypeError(
                f"load() got a {type(module).__name__} and no file: load(model, path) loads the file "
                "into the model, load(path) returns the state dict it holds"
            )
        raise TypeError(
            "load() needs a file: load(path) returns its state dict, load(model, path) fills a model"
        )
    if module is None:
        return _load_state(file, max_bytes)
    if max_bytes is not None:
        raise TypeError("load(model, path) takes no max_bytes: the model's own entries bound what is read")
    source = check_path(file, "load")
    current = _state_arrays(module)
    limit = _FILE_ALLOWANCE + sum(
        _WIDEST * array.size + _ENTRY_ALLOWANCE + 8 * len(name.encode()) for name, array in current.items()
    )
    content = read_bounded(
        source,
        limit,
        f"the {len(current)} entries of this module can fill ({limit} bytes at most): was it "
        "saved from a bigger model?",
        refuse_checkpoint=True,
    )
    state = _read(content, source, current)
    try:
        module.load_state_dict(state)
    except (
        TypeError,
        ValueError,
        RuntimeError,
    ) as error:  # pragma: no cover - the reader validated all of it
        raise LoadError(f"{source!r}: {error}") from error
    return None


def _check_torch_options(weights_only: Any, map_location: Any) -> None:
    """PyTorch's `torch.load` options, as far as they have a meaning here."""
    if weights_only is not None and not true_or_false(weights_only, "load(): weights_only"):
        raise ValueError(
            "load(weights_only=False): that is torch.load's way to unpickle any object, which can run "
            "code; micrograd_plus never unpickles, it reads weights only: pass weights_only=True or leave it out"
        )
    # "cpu", device("cpu") (or PyTorch's): its str is "cpu", and a device's type is "cpu" too
    if map_location is not None and (str(map_location), getattr(map_location, "type", "cpu")) != (
        "cpu",
        "cpu",
    ):
        raise ValueError(
            f"load(map_location={short_repr(map_location, 60)}): the arrays are loaded on the CPU, the one "
            'device here; pass map_location="cpu" or leave it out'
        )


def checked_max_bytes(max_bytes: Any, function: str) -> int:
    """A bound on what is read, given by the user: a whole number of bytes, >= 0."""
    if type(max_bytes) is not int:
        raise TypeError(
            f"{function}(): max_bytes must be a whole number of bytes, got {short_repr(max_bytes, 60)}"
        )
    if max_bytes < 0:
        raise ValueError(f"{function}(): max_bytes must be >= 0, got {max_bytes}")
    return max_bytes


def _load_state(path: Any, max_bytes: int | None) -> dict[str, np.ndarray]:
    """`load(path)`: the file's arrays, read without a module to check them against, so
    bounded by `max_bytes` instead; writable, in native byte order, as `state_dict()` gives."""
    source = check_path(path, "load")
    limit = 2**30 if max_bytes is None else checked_max_bytes(max_bytes, "load")
    content = read_bounded(
        source, limit, f"max_bytes={limit}: pass a larger max_bytes to load it", refuse_checkpoint=True
    )
    arrays = _read(content, source, None, limit)
    return {
        name: array
        if array.flags.writeable and array.dtype.isnative
        else np.array(array, dtype=array.dtype.newbyteorder("="))
        for name, array in arrays.items()
    }


def _read(
    content: bytes, source: str, current: dict[str, np.ndarray] | None, max_bytes: int = 0
) -> dict[str, np.ndarray]:
    """The arrays of a file's `content`, checked against a module's `current` entries, or
    (None) checked to be numbers and to expand to no more than `max_bytes`."""
    if _is_safetensors(source):
        return _read_safetensors(content, source, current)
    return _read_archive(content, source, current, max_bytes)


def _refuse_checkpoint(content: bytes, source: str) -> None:
    """A checkpoint's tensors are named by their place in it (`model.0.weight`), not as the
    model's: its file is refused, naming the function that reads it. Only what can be a
    safetensors header is parsed (a plausible length, then "{"): an .npz is not scanned."""
    length = int.from_bytes(content[:8], "little")
    if not (2 <= length <= min(len(content) - 8, _MAX_HEADER) and content[8:9] == b"{"):
        return
    try:
        metadata = safetensors_header(content).get("__metadata__")
        marked = isinstance(metadata, dict) and STRUCTURE_KEY in metadata
    except Exception:  # not safetensors, or cut: the readers say what is wrong
        return
    if marked:
        raise LoadError(
            f"{source!r} is a checkpoint written by save_checkpoint(), not a state dict: read it with "
            "load_checkpoint(path) and pass its model's part to model.load_state_dict(...)"
        )


def read_bounded(source: str, limit: int, beyond: str, refuse_checkpoint: bool = False) -> bytes:
    """The file's bytes, refused unread beyond `limit` (saying it is larger than `beyond`):
    neither a zip directory nor a safetensors header can then take much memory, and a file
    that never ends (a pipe, a device) is not read to its end. With `refuse_checkpoint`, a
    checkpoint, bigger than its model's file, is named as one first."""
    with open(source, "rb") as file:
        content = file.read(limit + 1)
    if refuse_checkpoint:
        _refuse_checkpoint(content, source)
    if len(content) > limit:
        raise LoadError(f"{source!r} is larger than {beyond}")
    return content


def torch_pickle_message(content: bytes, source: str) -> str | None:
    """What to say about a file `torch.save` wrote (a zip holding `<name>/data.pkl`), or None:
    its zip directory is read, never its pickle."""
    if not content.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except Exception:
        return None
    if not any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        return None
    return (
        f"{source!r} is a PyTorch file written by torch.save(), a pickle, which micrograd_plus never "
        "loads (unpickling can run any code). Convert it in PyTorch: `from safetensors.torch import "
        'save_file; save_file(model.state_dict(), "model.safetensors")`, then mg.load("model.safetensors")'
    )


def _read_archive(
    content: bytes, source: str, current: dict[str, np.ndarray] | None, max_bytes: int
) -> dict[str, np.ndarray]:
    """Every member of the zip, opened by its own directory entry (never looked up by a name
    that could match another member), checked, then read to exactly its declared size. Without
    a module's `current` entries to bound them, the members may expand to `max_bytes` in all."""
    if content.startswith(b"\x93NUMPY"):
        raise LoadError(
            f"{source!r} holds a single .npy array, not an .npz archive of named parameters "
            "saved by micrograd_plus.save()"
        )
    torch_file = torch_pickle_message(content, source)
    if torch_file:
        raise LoadError(torch_file)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except Exception as error:
        pickled = content.startswith(b"\x80")
        why = "it holds pickled data, which load() never unpickles" if pickled else _why(error)
        raise LoadError(
            f"{source!r} is not a parameter file saved by micrograd_plus.save(): {why}"
        ) from error
    with archive:
        members = archive.infolist()
        for info in members:
            if not info.filename.endswith(".npy"):
                raise LoadError(
                    f"{source!r} holds a member {info.filename!r} that is not an .npy array: "
                    "save() writes one <name>.npy member per entry and nothing else"
                )
        names = [info.filename[: -len(".npy")] for info in members]
        _check_names(source, names, current)
        expanded = sum(info.file_size for info in members)
        if current is None and expanded > max_bytes:
            raise LoadError(
                f"{source!r} expands to {expanded} bytes, more than max_bytes={max_bytes}: pass a "
                "larger max_bytes to load it"
            )
        return {
            name: _read_member(archive, info, source, None if current is None else current[name])
            for name, info in zip(names, members)
        }


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str, expected: np.ndarray | None
) -> np.ndarray:
    """One `.npy` member: its header is read and checked first, so a crafted header cannot
    make numpy allocate a huge array, and no more bytes are decompressed than it declares."""
    name = info.filename[: -len(".npy")]
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise LoadError(
            f"{source!r}: entry {name!r} is compressed with zip method {info.compress_type}; only stored "
            "and deflated members (as np.savez and np.savez_compressed write them) are read"
        )
    try:
        with archive.open(info) as member:
            shape, fortran_order, dtype = _npy_header(member, name, source)
            _check_entry(source, name, dtype, shape, expected)
            size = math.prod(shape) if expected is None else expected.size
            declared = member.tell() + dtype.itemsize * size
            if info.file_size != declared:
                raise LoadError(
                    f"{source!r}: entry {name!r} is {info.file_size} bytes, but its header declares "
                    f"{declared}: the file is damaged or crafted"
                )
            array = np.empty(size, dtype)  # (writable: load(path) hands it over without a copy)
            _read_into(member, array.view(np.uint8), name, source)
        if fortran_order:  # C-contiguous, as state_dict() gives
            return np.ascontiguousarray(array.reshape(shape[::-1]).T)
        return array.reshape(shape)
    except LoadError:
        raise
    except Exception as error:
        raise LoadError(
            f"{source!r}: entry {name!r} cannot be read, the file is damaged: {_why(error)}"
        ) from error


def _read_into(member: Any, buffer: np.ndarray, name: str, source: str) -> None:
    """Fill `buffer` (bytes) from `member`, which holds exactly that many (checked before), a
    piece at a time: a zip member's readinto reads a copy first, which stays that small."""
    view, filled = buffer.data, 0
    while filled < len(view):
        count = member.readinto(view[filled : filled + 2**24])
        if not count:
            raise LoadError(f"{source!r}: entry {name!r} ends early: the file is damaged")
        filled += count


def _npy_header(file: Any, name: str, source: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The shape, order and dtype an .npy member declares, read without reading its data."""
    version = np.lib.format.read_magic(file)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(file)
    elif version == (2, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(file)
    else:
        raise LoadError(
            f"{source!r}: entry {name!r} uses .npy format version {version}, which save() never writes"
        )
    return tuple(shape), fortran_order, dtype


def _read_safetensors(
    content: bytes, source: str, current: dict[str, np.ndarray] | None
) -> dict[str, np.ndarray]:
    """The file through `safetensors.numpy`, whose parser checks the header's offsets and
    sizes against the data; then names, dtypes and shapes."""
    try:
        loaded = safetensors.numpy.load(content)
        names = _safetensors_names(content)
    except KeyError as error:  # a dtype safetensors.numpy has no numpy type for (bfloat16, float8)
        raise LoadError(
            f"{source!r} holds a tensor of dtype {error.args[0]}, which safetensors cannot give to numpy: "
            "convert the model to float32 or float64 before saving it"
        ) from error
    except Exception as error:
        raise LoadError(f"{source!r} is not a valid safetensors file: {_why(error)}") from error
    _check_names(source, names, current)
    arrays = {name: loaded[name] for name in names}  # (the parser's dict is in a random order)
    # in the module's order, so the first problem is named first
    for name in names if current is None else current:
        _check_entry(
            source, name, arrays[name].dtype, arrays[name].shape, None if current is None else current[name]
        )
    return arrays


def _safetensors_names(content: bytes) -> list[str]:
    """Every tensor name in the header, repeats included (the parser keeps only the last of a
    repeated name, and a file that gives one name two meanings is refused, not guessed), in
    the order `save` was given them (kept in the metadata), else in the order of their data."""
    pairs = safetensors_header(content, object_pairs_hook=lambda pairs: pairs)
    entries = [(name, value) for name, value in pairs if name != "__metadata__"]
    names = [name for name, _ in sorted(entries, key=lambda entry: _offset(entry[1]))]
    metadata = dict(next((value for name, value in pairs if name == "__metadata__"), None) or [])
    try:
        saved = json.loads(metadata[ORDER_KEY])
        return saved if Counter(saved) == Counter(names) else names  # type: ignore[no-any-return]
    except Exception:  # none (written elsewhere), or not a list of the names: the data's order
        return names


def _offset(entry: Any) -> Any:
    """Where a header entry's data starts (the parser has checked the offsets already)."""
    return dict(entry).get("data_offsets", [0])[0] if isinstance(entry, list) else 0


def safetensors_header(content: bytes, object_pairs_hook: Callable[[Any], Any] | None = None) -> Any:
    """The JSON header of a safetensors file that `safetensors.numpy.load` has parsed already
    (which checked its length and offsets): what that parser does not return, such as repeated
    names or the metadata."""
    length = int.from_bytes(content[:8], "little")
    return json.loads(content[8 : 8 + length], object_pairs_hook=object_pairs_hook)


def _check_names(source: str, names: list[str], current: dict[str, np.ndarray] | None) -> None:
    """Each name once and, given a module's `current` entries, exactly theirs."""
    counts = Counter(names)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise LoadError(f"{source!r} holds {_some(repeated)} more than once: which one is meant is ambiguous")
    if current is None:
        return
    missing = sorted(set(current) - set(counts))
    unexpected = sorted(set(counts) - set(current))
    if missing or unexpected:
        raise LoadError(
            f"{source!r} holds {len(counts)} parameters and does not fit the {len(current)} of this "
            f"module: missing {_some(missing)}, unexpected {_some(unexpected)}; was it saved from a "
            "model of another shape?"
        )


def _check_entry(
    source: str, name: str, dtype: np.dtype, shape: tuple[int, ...], current: np.ndarray | None
) -> None:
    """An entry of `dtype` and `shape` fits the module's `current` one, or (None) holds numbers."""
    if current is None:
        if dtype.kind not in NUMBERS:
            raise LoadError(f"{source!r}: entry {name!r} holds {dtype}, not numbers (bool, int or float)")
        return
    kinds, what = _ACCEPTED.get(current.dtype.kind, (current.dtype.kind, str(current.dtype)))
    if dtype.kind not in kinds:
        raise LoadError(f"{source!r}: entry {name!r} holds {dtype}, not {what}")
    if shape != current.shape:
        raise LoadError(
            f"{source!r}: parameter {name!r} has shape {shape} in the file but {current.shape} in the module"
        )


def _some(names: list[str], limit: int = 5) -> str:
    """A list of names for a message: the first `limit`, and how many more."""
    if not names:
        return "none"
    shown = repr(names[:limit])
    return shown if len(names) <= limit else f"{shown[:-1]}, ... ({len(names) - limit} more)]"


def _why(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, zipfile.BadZipFile):
        return text
    return f"{type(error).__name__}: {text}"


def _state_arrays(module: Module) -> dict[str, np.ndarray]:
    """`module.state_dict()` as contiguous arrays: a Value's float as 0-d float64, arrays
    (parameters and buffers) with their own dtype."""
    return {
        name: np.asarray(data, order="C")
        if isinstance(data, np.ndarray)
        else np.asarray(data, dtype=np.float64)
        for name, data in module.state_dict().items()
    }


def _is_safetensors(path: str) -> bool:
    return path.lower().endswith(".safetensors")


def check_path(path: Any, function: str, example: str = "model.npz") -> str:
    """`path` as a str, or a TypeError/ValueError that names `function` and an `example` name."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{function}() takes a file path (str or os.PathLike), got {type(path).__name__}: {path!r:.60}"
        )
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError(f"{function}() takes a str path, got {type(text).__name__}: {text!r:.60}")
    if not text:
        raise ValueError(f"{function}() got an empty path: give a file name such as {example!r}")
    return text
