"""What every example shares: the `--out DIR`, `--quick` and `--no-progress` flags, progress
bars, and finding the package.

The examples are scripts (`python examples/02_linear_regression.py --quick`); this helper
lives in a sub-folder so that every `.py` directly in `examples/` is a runnable tutorial.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]

try:  # run from a clone without installing: use the package next to this folder
    import micrograd_plus  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the example is started
    sys.path.insert(0, str(_REPO))

import matplotlib
from tqdm import tqdm

matplotlib.use("Agg")

# Progress bars show while a person watches (stderr is a terminal) and --no-progress is not given.
_show_progress = sys.stderr.isatty()


def training(epochs: int, description: str = "training") -> tqdm:
    """`range(epochs)` with a progress bar; `bar.set_postfix(loss=...)` shows the loss in it."""
    return tqdm(range(epochs), desc=description, unit="epoch", disable=not _show_progress, leave=False)


def parse_args(name: str, description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The two flags every example takes; `args.out` is created and returned as a Path."""
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=description)
    parser.add_argument(
        "--out",
        default=os.path.join("examples_out", name),
        help=f"folder for the plots (default: ./examples_out/{name})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run (seconds), for tests and a first look"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    global _show_progress
    _show_progress = sys.stderr.isatty() and not args.no_progress
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def report(name: str, value: object) -> None:
    """Print one final figure as `name: value`, the line the tests and the README quote."""
    print(f"{name}: {value}", flush=True)


def wrote(path: object) -> None:
    print(f"wrote {path}", flush=True)
