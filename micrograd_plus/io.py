"""Save and load a module's parameters as a NumPy `.npz` archive, never with pickle.

Pickle runs code while it loads, so a parameter file from the internet could do anything;
an `.npz` archive read with `allow_pickle=False` holds only plain arrays. One array per
parameter, stored under the parameter's dotted name (a Value as a 0-d float64 array, a
Tensor as its array), so `np.load` can read the file without this library too.
"""

from __future__ import annotations

import os
import secrets
import zipfile
from typing import Any

import numpy as np

from .nn.module import Module

PathLike = str | os.PathLike

# An .npy member may be this much larger than its data (its header); anything bigger is
# refused before it is decompressed, so a crafted file cannot exhaust memory.
_HEADER_ALLOWANCE = 64 * 1024


class LoadError(ValueError):
    """A parameter file could not be loaded into the module: not an `.npz` archive,
    damaged, holding pickled objects, or holding other names or shapes than the module's."""


def save(module: Module, path: PathLike) -> None:
    """Write `module`'s parameters to `path` as an `.npz` archive (written as given, no suffix added).

    The write is atomic: the archive goes to a temporary file in the same folder, which then
    replaces `path` in one step (`os.replace`), so an interrupted save leaves any previous
    file intact. Raises TypeError for a non-Module or a path that is not a str or
    os.PathLike, and OSError when the folder cannot be written.
    """
    _check_module(module, "save")
    target = _check_path(path, "save")
    arrays = {name: _as_array(data) for name, data in module.state_dict().items()}
    folder = os.path.dirname(os.path.abspath(target))
    temporary = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never reuse an existing file; mode 0o666 lets the umask decide, as open() does.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            _write_archive(file, arrays)
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


def load(module: Module, path: PathLike) -> None:
    """Load parameters saved by `save` from `path` into `module`, in place.

    The file is read with `allow_pickle=False`: nothing in it can execute code. Every
    parameter name of the module must be in the file, with the parameter's shape, and
    nothing else; the module is changed only when every entry is valid (all or nothing).

    Raises LoadError (a ValueError), and nothing else, for any file that is not a valid
    parameter file for this module: random bytes, a truncated or empty file, pickled data,
    missing or extra names, wrong shapes or non-numeric arrays. Raises TypeError for a
    non-Module or a path that is not a str or os.PathLike, and OSError (such as
    FileNotFoundError) when the file cannot be opened.
    """
    _check_module(module, "load")
    source = _check_path(path, "load")
    expected = {name: np.shape(data) for name, data in module.state_dict().items()}
    with open(source, "rb") as file:
        state = _read_archive(file, source, expected)
    try:
        module.load_state_dict(state)
    except (TypeError, ValueError) as error:  # pragma: no cover - _read_archive validated all of it
        raise LoadError(f"{source!r}: {error}") from error


def _read_archive(file: Any, source: str, expected: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Read and validate every entry; any failure of a damaged file becomes a LoadError."""
    try:
        archive = np.load(file, allow_pickle=False)
    except Exception as error:
        raise LoadError(
            f"{source!r} is not a parameter file saved by micrograd_plus.save(): {_why(error)}"
        ) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise LoadError(
            f"{source!r} holds a single .npy array, not an .npz archive of named parameters "
            "saved by micrograd_plus.save()"
        )
    with archive:
        names = set(archive.files)
        missing = sorted(set(expected) - names)
        unexpected = sorted(names - set(expected))
        if missing or unexpected:
            raise LoadError(
                f"{source!r} holds {len(names)} parameters and does not fit the {len(expected)} of this "
                f"module: missing {_some(missing)}, unexpected {_some(unexpected)}; was it saved from a "
                "model of another shape?"
            )
        state = {}
        for name, shape in expected.items():
            state[name] = _read_entry(archive, name, shape, source)
    return state


def _read_entry(archive: Any, name: str, shape: tuple[int, ...], source: str) -> np.ndarray:
    """One parameter's array, after its size, dtype and shape were checked from the zip
    directory and the .npy header: a crafted header cannot make numpy allocate a huge array."""
    member = f"{name}.npy"
    limit = int(np.prod(shape, dtype=np.int64)) * 16 + _HEADER_ALLOWANCE
    try:
        size = archive.zip.getinfo(member).file_size
        if size > limit:
            raise LoadError(
                f"{source!r}: entry {name!r} is {size} bytes, far more than a parameter of shape {shape}"
            )
        with archive.zip.open(member) as file:
            file_shape, dtype = _npy_header(file, name, source)
        if dtype.kind not in "fiu":
            raise LoadError(f"{source!r}: entry {name!r} holds {dtype}, not real numbers")
        if file_shape != shape:
            raise LoadError(
                f"{source!r}: parameter {name!r} has shape {file_shape} in the file but {shape} in the module"
            )
        array = archive[name]
    except LoadError:
        raise
    except Exception as error:
        raise LoadError(
            f"{source!r}: entry {name!r} cannot be read, the file is damaged: {_why(error)}"
        ) from error
    if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != dtype:  # pragma: no cover
        raise LoadError(f"{source!r}: entry {name!r} changed while it was read")
    return array


def _npy_header(file: Any, name: str, source: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype an .npy member declares, read without reading its data."""
    version = np.lib.format.read_magic(file)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(file)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(file)
    else:
        raise LoadError(
            f"{source!r}: entry {name!r} uses .npy format version {version}, which save() never writes"
        )
    return tuple(shape), dtype


def _some(names: list[str], limit: int = 5) -> str:
    """A list of names for a message: the first `limit`, and how many more."""
    if not names:
        return "none"
    shown = repr(names[:limit])
    return shown if len(names) <= limit else f"{shown[:-1]}, ... ({len(names) - limit} more)]"


def _why(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, zipfile.BadZipFile) or "pickled" in text:
        return text
    return f"{type(error).__name__}: {text}"


def _as_array(data: Any) -> np.ndarray:
    return data if isinstance(data, np.ndarray) else np.asarray(data, dtype=np.float64)


def _check_module(module: Any, function: str) -> None:
    if not isinstance(module, Module):
        raise TypeError(
            f"{function}() takes a Module (such as an MLP), got {type(module).__name__}: {module!r:.60}"
        )


def _check_path(path: Any, function: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{function}() takes a file path (str or os.PathLike), got {type(path).__name__}: {path!r:.60}"
        )
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError(f"{function}() takes a str path, got {type(text).__name__}: {text!r:.60}")
    if not text:
        raise ValueError(f"{function}() got an empty path: give a file name such as 'model.npz'")
    return text
