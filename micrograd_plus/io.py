"""Save and load a module's state as `.npz` or `.safetensors`, never with pickle.

Pickle runs code while it loads, so a parameter file from the internet could do anything.
Both formats hold only plain arrays, one per entry of `module.state_dict()`, under its
dotted name (a Value as a 0-d float64 array, a Tensor or buffer as its array):

- `.npz`: a zip of `<name>.npy` members, which `np.load` reads without this library;
- `.safetensors`: the format PyTorch users share models in, written and read by the
  `safetensors` package, so `safetensors.torch.load_file` hands a model to PyTorch.

The path's suffix picks the format. A file is checked against the module before anything
is copied into it, and the memory a load takes is bounded by what the module's own entries
need, however the file was crafted.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import zipfile
from collections import Counter
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np
import safetensors.numpy

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


class LoadError(ValueError):
    """A parameter file could not be loaded into the module: not an `.npz` archive or a
    safetensors file, damaged, holding pickled objects, or holding other names, shapes or
    dtypes than the module's."""


def save(module: Module, path: PathLike) -> None:
    """Write `module.state_dict()` to `path`: a `.safetensors` file when the path ends with
    that suffix, an `.npz` archive otherwise (the path is used as given, no suffix added).

    The write is atomic: the file goes to a temporary file in the same folder, which then
    replaces `path` in one step (`os.replace`), so an interrupted save leaves any previous
    file intact. Raises TypeError for a non-Module or a path that is not a str or
    os.PathLike, ValueError for an entry whose dtype safetensors cannot store (such as
    complex128), and OSError when the folder cannot be written.
    """
    _check_module(module, "save")
    target = check_path(path, "save")
    arrays = _state_arrays(module)
    write = _write_safetensors if _is_safetensors(target) else _write_archive
    write_atomically(target, lambda file: write(file, arrays))


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
        data = safetensors.numpy.save(arrays)
    except Exception as error:  # a dtype the format has no code for, such as complex128
        raise ValueError(
            f"save() cannot write this module as .safetensors: {error}; convert its parameters to "
            "float32 or float64, or save it as .npz"
        ) from error
    file.write(data)


def load(module: Module, path: PathLike) -> None:
    """Load a file written by `save` (or by `np.savez`, or `safetensors` from PyTorch) from
    `path` into `module`, in place; the suffix `.safetensors` picks that format, any other
    an `.npz` archive.

    Nothing in the file can execute code: `.npy` members are read with `allow_pickle=False`
    and safetensors holds no objects. Every name of `module.state_dict()` must be in the
    file once, with its shape and a dtype it accepts (real numbers for a float parameter,
    converted to its dtype; integers for an integer buffer), and nothing else; the module is
    changed only when every entry is valid (all or nothing).

    Raises LoadError (a ValueError), and nothing else, for any file that is not a valid
    parameter file for this module: random bytes, a truncated or empty file, pickled data,
    missing, repeated or extra names, wrong shapes or non-numeric arrays, or a file larger
    than this module's entries can need. Raises TypeError for a non-Module or a path that is
    not a str or os.PathLike, and OSError (such as FileNotFoundError) when the file cannot be
    opened.
    """
    _check_module(module, "load")
    source = check_path(path, "load")
    current = _state_arrays(module)
    with open(source, "rb") as file:
        content = _read_bounded(file, source, current)
    read = _read_safetensors if _is_safetensors(source) else _read_archive
    state = read(content, source, current)
    try:
        module.load_state_dict(state)
    except (TypeError, ValueError) as error:  # pragma: no cover - the reader validated all of it
        raise LoadError(f"{source!r}: {error}") from error


def _read_bounded(file: Any, source: str, current: dict[str, np.ndarray]) -> bytes:
    """The file's bytes, refused unread beyond what the module's entries can fill: neither a
    zip directory nor a safetensors header can then take much memory, and a file that never
    ends (a pipe, a device) is not read to its end."""
    limit = _FILE_ALLOWANCE + sum(
        _WIDEST * array.size + _ENTRY_ALLOWANCE + 8 * len(name.encode()) for name, array in current.items()
    )
    content = file.read(limit + 1)
    if len(content) > limit:
        raise LoadError(
            f"{source!r} is larger than the {len(current)} entries of this module can fill "
            f"({limit} bytes at most): was it saved from a bigger model?"
        )
    return content


def _read_archive(content: bytes, source: str, current: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every member of the zip, opened by its own directory entry (never looked up by a name
    that could match another member), checked, then read to exactly its declared size."""
    if content.startswith(b"\x93NUMPY"):
        raise LoadError(
            f"{source!r} holds a single .npy array, not an .npz archive of named parameters "
            "saved by micrograd_plus.save()"
        )
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
        _check_names(source, [info.filename[: -len(".npy")] for info in members], current)
        return {
            info.filename[: -len(".npy")]: _read_member(archive, info, source, current) for info in members
        }


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str, current: dict[str, np.ndarray]
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
            _check_entry(source, name, dtype, shape, current[name])
            declared = member.tell() + dtype.itemsize * current[name].size
            if info.file_size != declared:
                raise LoadError(
                    f"{source!r}: entry {name!r} is {info.file_size} bytes, but its header declares "
                    f"{declared}: the file is damaged or crafted"
                )
            data = member.read(declared - member.tell())
        return np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order else "C")
    except LoadError:
        raise
    except Exception as error:
        raise LoadError(
            f"{source!r}: entry {name!r} cannot be read, the file is damaged: {_why(error)}"
        ) from error


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


def _read_safetensors(content: bytes, source: str, current: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The file through `safetensors.numpy`, whose parser checks the header's offsets and
    sizes against the data; then names, dtypes and shapes."""
    try:
        arrays = safetensors.numpy.load(content)
        names = _safetensors_names(content)
    except KeyError as error:  # a dtype safetensors.numpy has no numpy type for (bfloat16, float8)
        raise LoadError(
            f"{source!r} holds a tensor of dtype {error.args[0]}, which safetensors cannot give to numpy: "
            "convert the model to float32 or float64 before saving it"
        ) from error
    except Exception as error:
        raise LoadError(f"{source!r} is not a valid safetensors file: {_why(error)}") from error
    _check_names(source, names, current)
    for name, entry in current.items():  # in the module's order, so the first problem is named first
        _check_entry(source, name, arrays[name].dtype, arrays[name].shape, entry)
    return arrays


def _safetensors_names(content: bytes) -> list[str]:
    """Every tensor name in the header, repeats included: the parser keeps only the last of
    a repeated name, and a file that gives one name two meanings is refused, not guessed."""
    header = safetensors_header(content, object_pairs_hook=lambda pairs: pairs)
    return [name for name, _ in header if name != "__metadata__"]


def safetensors_header(content: bytes, object_pairs_hook: Callable[[Any], Any] | None = None) -> Any:
    """The JSON header of a safetensors file that `safetensors.numpy.load` has parsed already
    (which checked its length and offsets): what that parser does not return, such as repeated
    names or the metadata."""
    length = int.from_bytes(content[:8], "little")
    return json.loads(content[8 : 8 + length], object_pairs_hook=object_pairs_hook)


def _check_names(source: str, names: list[str], current: dict[str, np.ndarray]) -> None:
    counts = Counter(names)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise LoadError(f"{source!r} holds {_some(repeated)} more than once: which one is meant is ambiguous")
    missing = sorted(set(current) - set(counts))
    unexpected = sorted(set(counts) - set(current))
    if missing or unexpected:
        raise LoadError(
            f"{source!r} holds {len(counts)} parameters and does not fit the {len(current)} of this "
            f"module: missing {_some(missing)}, unexpected {_some(unexpected)}; was it saved from a "
            "model of another shape?"
        )


def _check_entry(
    source: str, name: str, dtype: np.dtype, shape: tuple[int, ...], current: np.ndarray
) -> None:
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


def _check_module(module: Any, function: str) -> None:
    if not isinstance(module, Module):
        raise TypeError(
            f"{function}() takes a Module (such as an MLP), got {type(module).__name__}: {module!r:.60}"
        )


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
