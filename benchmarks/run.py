"""Run every benchmark and print a table of medians and ratios.

    python benchmarks/run.py            # everything (several minutes)
    python benchmarks/run.py --quick    # a smoke run of every part, under a minute (CI)
    python benchmarks/run.py --only scalar,scale --markdown results.md

Parts: `scalar` (micrograd 0.1.0 against our Value engine on micrograd's demo step), `scale`
(backward through long chains and a wide fan-in: time and memory per node) and `tensor`
(PyTorch and hand-written numpy backprop against our Tensor engine, per training step).
Speed is measured here, never by timed tests. The exit status is 1 if a target was missed,
or if the two engines' losses disagree (which voids a comparison); `--quick` only checks that
everything runs and agrees, since a smoke run is too short to judge speed.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import summary  # noqa: E402
from common import Results, Row, environment, print_environment, table  # noqa: E402

PARTS = ("scalar", "scale", "tensor")
NEEDS = {
    "scalar": ["micrograd"],
    "scale": [],
    "tensor": ["torch", "threadpoolctl"],
}  # the contenders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run of every part (for CI)")
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated parts to run, of {', '.join(PARTS)}"
    )
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        help="also write the environment and the README's summary tables to FILE",
    )
    parser.add_argument("--part-results", metavar="FILE", help=argparse.SUPPRESS)  # see run_part()
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from {', '.join(PARTS)}")

    if args.part_results:
        return run_parts_here(parts, args.quick, args.part_results)

    command = "python benchmarks/run.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    env = environment(command.strip())
    results = Results()
    started = time.perf_counter()
    for part in parts:
        print(f"== {part}", flush=True)
        run_part(part, args.quick, results)
    elapsed = time.perf_counter() - started

    # the thread pools as loaded by the benchmarks, in the part processes and the tensor workers
    env = {**env, "blas": environment(command)["blas"] + sorted(results.thread_pools)}
    print()
    print_environment(env)
    print(f"took:     {elapsed:.0f} s")
    print()
    text = table(results.rows)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(summary.markdown(env, results.rows))
    if results.failures:
        print("\nTargets missed:" if not args.quick else "\nProblems:")
        for failure in results.failures:
            print(f"- {failure}")
        return 1
    return 0


def run_part(part: str, quick: bool, results: Results) -> None:
    """Run one part in a fresh process and collect its rows. A part leaves its heap behind
    (micrograd's garbage, a million-node graph), which would slow the next part down."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "results.json")
        args = [sys.executable, os.path.abspath(__file__), "--only", part, "--part-results", path]
        done = subprocess.run(args + (["--quick"] if quick else []), check=False)
        if not os.path.exists(path):
            results.check(False, f"{part}: the benchmark process failed (exit status {done.returncode})")
            return
        with open(path, encoding="utf-8") as f:
            found = json.load(f)
    results.rows += [Row(**row) for row in found["rows"]]
    results.failures += found["failures"]
    results.thread_pools.update(found["thread_pools"])


def run_parts_here(parts: list[str], quick: bool, path: str) -> int:
    results = Results()
    for part in parts:
        missing = [m for m in NEEDS[part] if importlib.util.find_spec(m) is None]
        if missing:
            results.check(
                False,
                f"{part}: not run, {' and '.join(missing)} not installed (pip install -e '.[bench]' torch)",
            )
            continue
        if part == "scalar":
            import scalar_demo

            scalar_demo.run(results, quick)
        elif part == "scale":
            import graph_scale

            graph_scale.run(results, quick)
        elif part == "tensor":
            import tensor_models

            tensor_models.run(results, quick)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "rows": [dataclasses.asdict(row) for row in results.rows],
                "failures": results.failures,
                "thread_pools": sorted(results.thread_pools),
            },
            f,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
