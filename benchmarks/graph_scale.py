"""How the Value engine scales: backward through long chains (under the fast and the reference
engine) and through one wide node.

A chain of n `tanh` nodes is as deep as a graph gets (a recursive walk, like micrograd's,
stops near 1000 with RecursionError); a sum of n leaves is as wide. Time and memory should
grow linearly with n: the target is at most 12x the time for 10x the nodes.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from typing import Any

from common import Results, peak_memory


def chain(n: int) -> tuple[Any, Any]:
    from micrograd_plus import Value

    x = Value(0.5)
    v = x
    for _ in range(n):
        v = v.tanh()
    return x, v


def fan_in(n: int) -> tuple[Any, Any]:
    from micrograd_plus import Value
    from micrograd_plus.engine import value_sum

    xs = [Value(float(i)) for i in range(n)]
    return xs[0], value_sum(xs)


def measure(build: Any, n: int, repeats: int, passes: int = 3) -> tuple[float, float, int]:
    """Median seconds to build the graph and to run one backward pass, and peak bytes of both.
    The garbage collector is run (untimed) between building and the backward passes, so the
    collections the build has made due are not charged to backward."""
    build_times, backward_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        x, out = build(n)
        build_times.append(time.perf_counter() - start)
        gc.collect()
        for _ in range(passes):
            start = time.perf_counter()
            out.backward()
            backward_times.append(time.perf_counter() - start)
        del x, out

    def build_and_backward() -> None:
        x, out = build(n)
        out.backward()

    memory = peak_memory(build_and_backward)
    return statistics.median(build_times), statistics.median(backward_times), memory


def micrograd_chain_fails(n: int) -> str:
    """What micrograd 0.1.0 does with a chain of n nodes (its topological sort recurses)."""
    try:
        from micrograd.engine import Value
    except ImportError:
        return "micrograd not installed"
    v = Value(0.5)
    for _ in range(n):
        v = v.relu()  # micrograd 0.1.0 has no tanh; any unary op makes the chain
    try:
        v.backward()
    except RecursionError:
        return f"RecursionError (recursion limit {sys.getrecursionlimit()})"
    return "ok"


def run(results: Results, quick: bool) -> None:
    from micrograd_plus import set_engine

    for engine in ("fast", "reference"):
        previous = set_engine(engine)
        try:
            run_chains(results, quick, engine)
        finally:
            set_engine(previous)
    run_fan_in(results, quick)


def run_chains(results: Results, quick: bool, engine: str) -> None:
    section = "graph scale (Value)" if engine == "fast" else "graph scale (Value, reference engine)"
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    backward: dict[int, float] = {}
    for n in sizes:
        t_build, t_back, memory = measure(chain, n, repeats=3 if n < 1_000_000 else 2)
        backward[n] = t_back
        case = f"chain of {n:,} tanh nodes"
        results.add(section, case, "forward, per node", t_build / n)
        results.add(section, case, "backward, per node", t_back / n, note=f"backward total {t_back:.3f} s")
        results.add(
            section,
            case,
            "peak memory, per node",
            memory / n,
            unit="B",
            note=f"{memory / 2**20:.0f} MiB in all",
        )
        print(
            f"  {engine} engine, {case}: build {t_build / n * 1e9:.0f} ns/node, backward "
            f"{t_back / n * 1e9:.0f} ns/node, {memory / n:.0f} B/node",
            flush=True,
        )
    for small, big in zip(sizes, sizes[1:]):
        growth = backward[big] / backward[small]
        results.add(
            section,
            f"chain {small:,} -> {big:,}",
            "backward time growth",
            growth,
            unit="x",
            note="target <= 12x",
        )
        if not quick:
            results.check(
                growth <= 12,
                f"{engine} engine: chain backward time grew {growth:.1f}x from {small:,} to {big:,} nodes "
                "(target 12x)",
            )


def run_fan_in(results: Results, quick: bool) -> None:
    section = "graph scale (Value)"
    n = 10_000 if quick else 100_000
    t_build, t_back, memory = measure(fan_in, n, repeats=3)
    case = f"sum of {n:,} leaves (one node)"
    results.add(section, case, "forward, per input", t_build / n)
    results.add(section, case, "backward, per input", t_back / n)
    results.add(section, case, "peak memory, per input", memory / n, unit="B")
    print(
        f"  {case}: build {t_build / n * 1e9:.0f} ns/input, backward {t_back / n * 1e9:.0f} ns/input",
        flush=True,
    )
    outcome = micrograd_chain_fails(10_000)
    results.add(
        section, "chain of 10,000 tanh nodes", "micrograd 0.1.0 backward", float("nan"), unit="", note=outcome
    )
    print(f"  micrograd 0.1.0, chain of 10,000: {outcome}", flush=True)
