"""The `micrograd-plus` command. It only calls the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from .demo import run_demo
from .graph import add_graph_commands
from .output import fail, writable_folder


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes like 16,16; got {text!r}"
        ) from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive; got {text!r}")
    return sizes


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _run_demo(args: argparse.Namespace) -> int:
    problem = writable_folder(args.out)
    if problem:
        return fail(problem)

    result, paths = run_demo(
        out=args.out, steps=args.steps, seed=args.seed, hidden=args.hidden, progress=not args.no_progress
    )
    print(
        f"after {args.steps} steps: loss {result.final_loss:.4f}, training accuracy {result.final_accuracy:.0%}"
    )
    for path in paths:
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line: `demo`, `graph` and `trace`, each calling its function through `func`."""
    parser = argparse.ArgumentParser(
        prog="micrograd-plus", description="Learn, draw and test backpropagation."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="train micrograd's two-moons MLP and plot the result")
    demo.add_argument("--steps", type=_positive, default=100, help="training steps (default 100)")
    demo.add_argument("--seed", type=int, default=0, help="seed for the data and the weights")
    demo.add_argument("--hidden", type=_sizes, default=[16, 16], help="hidden layer sizes (default 16,16)")
    demo.add_argument("--out", default="micrograd_plus_out", help="folder for the plots")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(func=_run_demo)

    add_graph_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `micrograd-plus` command on `argv` (the process's arguments when None); the exit
    status: 0 done, 1 a system problem, 2 bad input, 130 interrupted."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except KeyboardInterrupt:  # Ctrl-C: one line and the shell's usual status, no traceback
        print("micrograd-plus: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
