"""The `micrograd-plus` command. It only calls the public API."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

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


class _Parser(argparse.ArgumentParser):
    """argparse's parser (its subcommands' too), with a word more on its most puzzling error:
    an expression that starts with a minus sign ("-a*b") reads as an option, so argparse says
    that the expression is missing. The hint is given only where an argument starts with a
    minus sign and is none of the options."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        given = getattr(self, "_given", [])
        unknown = [
            a for a in given if a.startswith("-") and a.split("=")[0] not in self._option_string_actions
        ]
        if message.endswith("required: expression") and unknown:
            message += (
                f" ({unknown[0]!r} reads as an option: an expression that starts with a minus sign, "
                'as "-a*b", is written with a leading space, " -a*b", or last, after --: '
                f'{self.prog} [options] -- "-a*b")'
            )
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    """The command line: `demo`, `graph` and `trace`, each calling its function through `func`."""
    parser = _Parser(prog="micrograd-plus", description="Learn, draw and test backpropagation.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="train micrograd's two-moons MLP and plot the result")
    demo.add_argument("--steps", type=_positive, default=100, help="training steps (default 100)")
    demo.add_argument("--seed", type=int, default=0, help="seed for the data and the weights (default 0)")
    demo.add_argument("--hidden", type=_sizes, default=[16, 16], help="hidden layer sizes (default 16,16)")
    demo.add_argument(
        "--out", default="micrograd_plus_out", help="folder for the plots (default micrograd_plus_out)"
    )
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.set_defaults(func=_run_demo)

    add_graph_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `micrograd-plus` command on `argv` (the process's arguments when None); the exit
    status: 0 done, 1 a system problem (or the reader of the output went away), 2 bad input,
    130 interrupted."""
    try:
        args = build_parser().parse_args(argv)
        status = int(args.func(args))
    except KeyboardInterrupt:  # Ctrl-C: one line and the shell's usual status, no traceback
        print("micrograd-plus: interrupted", file=sys.stderr)
        status = 130
    except BrokenPipeError:
        return _reader_gone(1)
    try:
        sys.stdout.flush()  # a reader gone away shows here, not in the flush at exit
    except BrokenPipeError:
        return _reader_gone(status or 1)
    return status


def _reader_gone(status: int) -> int:
    """The reader of the output closed it (`| head -2`): stop, quietly, with `status`. As
    Python's docs advise (signal module, "Note on SIGPIPE"), stdout then points at devnull, so
    that the interpreter's flush at exit does not fail on it again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return status


if __name__ == "__main__":
    sys.exit(main())
