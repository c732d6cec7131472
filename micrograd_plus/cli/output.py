"""The command's output paths, checked before any work starts, and its one-line errors."""

from __future__ import annotations

import os
import sys


def writable_folder(folder: str) -> str | None:
    """Why `folder` cannot receive files (None when it can): checked before any work starts,
    so a long run never ends in a traceback over its output path."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        return f"the output path {folder!r} is not a folder"
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        return f"cannot create the output folder {folder!r}: {error.strerror or error}"
    if not os.access(folder, os.W_OK):
        return f"the output folder {folder!r} is not writable"
    return None


def writable_file(path: str, example: str) -> str | None:
    """Why a file cannot be written at `path` (None when it can), without creating it; where
    `path` is a folder, the message suggests the file name `example` in it."""
    if os.path.isdir(path):
        return (
            f"the output path {path!r} is a folder; give a file name such as {os.path.join(path, example)!r}"
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"the folder of the output file {path!r} does not exist; create it first"
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        return f"cannot write the output file {path!r}: permission denied"
    return None


def fail(message: str, status: int = 2) -> int:
    """One line on stderr, and the exit status to return."""
    print(f"micrograd-plus: error: {' '.join(str(message).split())}", file=sys.stderr)
    return status
