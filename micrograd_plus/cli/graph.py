"""The `graph` and `trace` commands: draw an expression's graph, or narrate its forward
and backward pass step by step (in the terminal, or as an HTML player).

    micrograd-plus graph "a*b + c" --set a=2 --set b=-3 --set c=10 -o graph.svg --backward
    micrograd-plus trace "tanh(a*b + c)" --set a=2 --set b=-3 --set c=10 --html trace.html

Expressions go through the whitelisting parser in `expression.py`; a bad one is a
one-line error on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import shlex
from typing import Any

from ..engine import Value
from ..viz.draw import GraphvizNotFoundError, draw_dot, render
from ..viz.player import export_html
from ..viz.trace import backward_steps, format_value, forward_steps, graph_nodes
from .expression import ExpressionError, build_graph, parse_assignments
from .output import fail, writable_file

EXPRESSION_HELP = (
    "arithmetic on names and numbers: + - * / **, unary minus and exp log tanh sigmoid relu sin cos abs sqrt, "
    'for example "tanh(a*b + c)"; to start with a minus sign write " -a*b" (leading space)'
)


def add_graph_commands(subparsers: Any) -> None:
    """Register `graph` and `trace` on the `micrograd-plus` command's subparsers."""
    graph = subparsers.add_parser(
        "graph",
        help="draw the computation graph of an expression",
        description="Draw the graph of an expression as SVG (PNG and PDF need system Graphviz).",
    )
    graph.add_argument("expression", help=EXPRESSION_HELP)
    _add_set(graph)
    graph.add_argument(
        "-o", "--output", default="graph.svg", help="file to write, .svg/.png/.pdf (default graph.svg)"
    )
    graph.add_argument(
        "--backward", action="store_true", help="run backward first and draw the backward view"
    )
    graph.add_argument("--legend", action="store_true", help="add a key to the node colours and edges")
    graph.set_defaults(func=run_graph)

    trace = subparsers.add_parser(
        "trace",
        help="narrate the forward and backward pass of an expression step by step",
        description="Print every step of the forward and the backward pass with its numbers.",
    )
    trace.add_argument("expression", help=EXPRESSION_HELP)
    _add_set(trace)
    trace.add_argument("--html", metavar="PATH", help="also write an HTML page that plays the steps")
    trace.add_argument("--interactive", action="store_true", help="wait for Enter between steps (q quits)")
    trace.set_defaults(func=run_trace)


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="NAME=NUMBER",
        help="the value of a name in the expression (repeat for each name)",
    )


def _build(args: argparse.Namespace) -> Value:
    values = parse_assignments(args.assignments)
    root = build_graph(args.expression, values)
    if not root.requires_grad:
        raise ExpressionError(
            "the expression uses no names, so there is nothing to differentiate; use names with --set"
        )
    return root


def run_graph(args: argparse.Namespace) -> int:
    """`micrograd-plus graph`: draw the expression's graph into the output file; the exit status."""
    problem = writable_file(args.output, "graph.svg")
    if problem:
        return fail(problem)
    try:
        root = _build(args)
        if args.backward:
            root.backward()
        view = "backward" if args.backward else "forward"
        path = render(draw_dot(root, view=view, legend=args.legend), args.output)
    except (ExpressionError, ValueError) as error:
        return fail(str(error))
    except (GraphvizNotFoundError, OSError) as error:
        return fail(str(error), status=1)
    print(f"wrote {path}")
    return 0


def _not_html(args: argparse.Namespace) -> str | None:
    """Why --html's file name does not suit an HTML page (None when it does): in a drawing
    format, the command that draws it is shown."""
    suffix = os.path.splitext(args.html)[1].lower()
    if suffix in (".html", ".htm"):
        return None
    problem = f"--html writes an HTML page: end the file name with .html or .htm, got {args.html!r}"
    if suffix:
        sets = "".join(f" --set {shlex.quote(a)}" for a in args.assignments)
        problem += (
            f"; to draw the graph as {suffix}: micrograd-plus graph {shlex.quote(args.expression)}{sets} "
            f"-o {shlex.quote(args.html)}"
        )
    return problem


def run_trace(args: argparse.Namespace) -> int:
    """`micrograd-plus trace`: print the narrated forward and backward steps (and write the
    player page with --html); the exit status."""
    problem = args.html and (writable_file(args.html, "trace.html") or _not_html(args))
    if problem:
        return fail(problem)
    try:
        root = _build(args)
        if args.html:
            export_html(root, args.html)
    except (ExpressionError, ValueError) as error:
        return fail(str(error))
    except (GraphvizNotFoundError, OSError) as error:
        return fail(str(error), status=1)
    if args.html:
        print(f"wrote {args.html}")
    pause = _pause if args.interactive else (lambda: True)
    print("Forward pass:")
    for forward in forward_steps(root):
        print(f"  {forward}")
        if not pause():
            return 0
    print("Backward pass:")
    for backward in backward_steps(root):
        lines = backward.lines()
        print(f"  step {backward.index}: {lines[0]}")
        for line in lines[1:]:
            print(f"  {line}")
        if not pause():
            return 0
    leaves = [n for n in graph_nodes(root) if n._op is None and n.label]
    print("Gradients: " + ", ".join(f"{n.label}.grad = {format_value(n.grad)}" for n in leaves))
    return 0


def _pause() -> bool:
    """Wait for Enter; False when the learner types q (or input ends)."""
    try:
        answer = input("    [Enter: next step, q: quit] ")
    except EOFError:
        print()
        return False
    return answer.strip().lower() not in ("q", "quit")
