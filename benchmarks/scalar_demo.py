"""micrograd 0.1.0 against our Value engine on micrograd's own demo training step.

The step is the code of micrograd's demo notebook (`demo.ipynb`), unchanged: the moons data
as numpy arrays, `list(map(Value, xrow))` inputs, the max-margin loss summed with the builtin
`sum`, L2 regularisation `alpha * sum((p*p for p in model.parameters()))`, `zero_grad`,
`backward` and the SGD update `p.data -= learning_rate * p.grad`. Only `Value` and the model
differ. Both models start from the same weights (copied from micrograd's), so the losses of
every step must agree to 1e-9 relative, or the timing compares different work and is void.

Neither engine touches the `gc` module's settings: the step costs what it costs in a user's
loop, garbage collection included. The harness runs each engine for a block of consecutive
steps and calls `gc.collect()` between blocks (untimed), so one engine never pays for
collecting the other's garbage; the first step of a block is not timed either (it also sets
the engine, with `set_engine`, which the block's other steps find set).
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from common import Results, peak_memory, ratio_text

LOSS_TOLERANCE = 1e-9
REFERENCE = "micrograd_plus Value, reference engine"


def notebook_loss(model: Any, Value: Callable[[Any], Any], X: np.ndarray, y: np.ndarray) -> tuple[Any, float]:
    """micrograd demo notebook, the `loss()` cell (full batch), word for word."""
    Xb, yb = X, y
    inputs = [list(map(Value, xrow)) for xrow in Xb]

    # forward the model to get scores
    scores = list(map(model, inputs))

    # svm "max-margin" loss
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def notebook_step(model: Any, Value: Callable[[Any], Any], X: np.ndarray, y: np.ndarray, k: int) -> float:
    """micrograd demo notebook, one iteration of the optimisation loop."""
    # forward
    total_loss, acc = notebook_loss(model, Value, X, y)

    # backward
    model.zero_grad()
    total_loss.backward()

    # update (sgd)
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad

    return float(total_loss.data)


class Trainer:
    """One engine's model, trained step by step, remembering the loss of each step. `engine`
    names micrograd_plus's engine the steps run on (set_engine), None for micrograd."""

    def __init__(
        self, model: Any, Value: Callable[[Any], Any], X: np.ndarray, y: np.ndarray, engine: str | None = None
    ):
        self.model, self.Value, self.X, self.y, self.engine = model, Value, X, y, engine
        self.losses: list[float] = []

    def step(self) -> None:
        if self.engine is not None:
            # Switched here, and left on: in a block of steps only its first (untimed) step
            # switches, as a user's loop never does (a switch rewrites Value's methods, and
            # Python's caches of them warm again).
            from micrograd_plus import fast

            if fast.current_engine() != self.engine:
                fast.set_engine(self.engine)
        self.losses.append(notebook_step(self.model, self.Value, self.X, self.y, len(self.losses)))


def make_trainers(hidden: int) -> tuple[Trainer, Trainer, Trainer]:
    from micrograd import engine as mg_engine
    from micrograd import nn as mg_nn

    import micrograd_plus as mp
    from micrograd_plus.data.datasets import make_moons

    X, y = make_moons(n_samples=100, noise=0.1, seed=1337)
    y = y * 2 - 1  # make y be -1 or 1
    random.seed(1337)  # micrograd draws its initial weights from the global generator
    theirs = mg_nn.MLP(2, [hidden, hidden, 1])
    ours, reference = mp.MLP(2, [hidden, hidden, 1]), mp.MLP(2, [hidden, hidden, 1])
    their_params = theirs.parameters()
    for model in (ours, reference):
        our_params = model.parameters()
        assert len(their_params) == len(our_params), (len(their_params), len(our_params))
        for p, q in zip(their_params, our_params):  # same order: each neuron's weights, then its bias
            q.data = float(p.data)
    return (
        Trainer(theirs, mg_engine.Value, X, y),
        Trainer(ours, mp.Value, X, y, engine="fast"),
        Trainer(reference, mp.Value, X, y, engine="reference"),
    )


def time_blocks(trainers: dict[str, Trainer], blocks: int, timed_per_block: int) -> dict[str, float]:
    """Median seconds per step, engines alternating block by block (see the module doc)."""
    samples: dict[str, list[float]] = {name: [] for name in trainers}
    names = list(trainers)
    for b in range(blocks):
        for i in range(len(names)):
            name = names[(i + b) % len(names)]
            trainer = trainers[name]
            gc.collect()
            trainer.step()  # untimed: its garbage is what the timed steps live with
            for _ in range(timed_per_block):
                start = time.perf_counter()
                trainer.step()
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(v) for name, v in samples.items()}


def collector_share(trainer: Trainer, steps: int) -> tuple[float, float, float]:
    """Full garbage collections per step of `trainer`, the seconds they take per step, and the
    seconds of the whole step: why micrograd's time swings from run to run (each full pass
    walks every object of the process, at the speed of the machine's memory traffic)."""
    count, spent, started = [0], [0.0], [0.0]

    def note(phase: str, info: dict[str, int]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                started[0] = time.perf_counter()
            else:
                count[0] += 1
                spent[0] += time.perf_counter() - started[0]

    gc.collect()
    trainer.step()  # untimed, as in time_blocks
    gc.callbacks.append(note)
    try:
        begin = time.perf_counter()
        for _ in range(steps):
            trainer.step()
        total = time.perf_counter() - begin
    finally:
        gc.callbacks.remove(note)
    return count[0] / steps, spent[0] / steps, total / steps


def losses_agree(a: list[float], b: list[float]) -> tuple[bool, float]:
    n = min(len(a), len(b))
    worst = max((abs(x - y) / max(abs(x), 1e-300) for x, y in zip(a[:n], b[:n])), default=0.0)
    return worst <= LOSS_TOLERANCE and n > 0, worst


def step_peak_memory(trainer: Trainer) -> int:
    """Peak bytes of one demo step (after two warm-up steps, their garbage collected)."""
    trainer.step()
    trainer.step()
    return peak_memory(trainer.step)


PROCESSES = 5  # fresh processes the small step is timed in (see `run`)


def measure(hidden: int, quick: bool) -> dict[str, Any]:
    """One process's comparison: each contender's median seconds per step, and whether the
    losses agree (micrograd's and ours to 1e-9, our two engines' bit for bit)."""
    theirs, ours, reference = make_trainers(hidden)
    trainers = {"micrograd 0.1.0": theirs, "micrograd_plus Value": ours, REFERENCE: reference}
    # micrograd's backward sorts the graph recursively, and the L2 term's builtin `sum`
    # chains one node per parameter: past ~1000 parameters it needs a higher limit.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        if quick:
            medians = time_blocks(trainers, blocks=1, timed_per_block=1)
        else:
            medians = time_blocks(
                trainers, blocks=5 if hidden == 16 else 2, timed_per_block=3 if hidden == 16 else 1
            )
    finally:
        sys.setrecursionlimit(limit)
    agree, worst = losses_agree(theirs.losses, ours.losses)
    return {
        "medians": medians,
        "steps": min(len(theirs.losses), len(ours.losses)),
        "agree": agree,
        "worst": worst,
        "agree_reference": reference.losses == ours.losses[: len(reference.losses)],
    }


def measure_in_fresh_processes(hidden: int, count: int, quick: bool = False) -> list[dict[str, Any]]:
    """`measure` in `count` processes, one after another. micrograd's step swings by a third
    from one process to the next (its garbage collector walks a heap laid out differently
    each time) while ours stays within a few percent, so one process is one sample, as in
    pyperf."""
    import micrograd_plus

    # The children import the package this process imported (a checkout's, not an installed one).
    root = os.path.dirname(os.path.dirname(os.path.abspath(micrograd_plus.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, os.path.abspath(__file__), str(hidden), *(["--quick"] if quick else [])]
    found = []
    for _ in range(count):
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"the timing process failed:\n{done.stderr[-2000:]}")
        found.append(json.loads(done.stdout.splitlines()[-1]))
    return found


def run(results: Results, quick: bool) -> None:
    section = "scalar demo step"
    widths = [16] if quick else [16, 64]
    for hidden in widths:
        case = f"MLP(2, [{hidden}, {hidden}, 1]), 100 moons"
        processes = 1 if quick or hidden != 16 else PROCESSES  # width 64: minutes per process
        runs = [measure(hidden, quick)] if processes == 1 else measure_in_fresh_processes(hidden, processes)
        # Each contender's median over the processes; a ratio is of those medians.
        t_theirs, t_ours, t_reference = (
            statistics.median(r["medians"][name] for r in runs)
            for name in ("micrograd 0.1.0", "micrograd_plus Value", REFERENCE)
        )
        speedup = t_theirs / t_ours
        worst = max(r["worst"] for r in runs)
        agree = all(r["agree"] for r in runs)
        note = f"losses agree over {runs[0]['steps']} steps (max rel. diff {worst:.1e})"
        if not agree:
            note = f"VOID: losses differ (max rel. diff {worst:.1e})"
        spread = ""
        if processes > 1:
            case += f", median of {processes} processes"
            micrograd = [r["medians"]["micrograd 0.1.0"] for r in runs]
            fast = [t / r["medians"]["micrograd_plus Value"] for t, r in zip(micrograd, runs)]
            slow = [t / r["medians"][REFERENCE] for t, r in zip(micrograd, runs)]
            spread = (
                f"; in each process: micrograd {' '.join(f'{t * 1e3:.0f}' for t in micrograd)} ms, "
                f"ours {min(fast):.1f}x to {max(fast):.1f}x, reference {min(slow):.1f}x to {max(slow):.1f}x"
            )
        results.add(section, case, "micrograd 0.1.0", t_theirs, note=note)
        results.add(
            section, case, "micrograd_plus Value", t_ours, ratio=ratio_text(t_theirs, t_ours, "faster")
        )
        results.add(section, case, REFERENCE, t_reference, ratio=ratio_text(t_theirs, t_reference, "faster"))
        print(
            f"  {case}: micrograd {t_theirs * 1e3:.1f} ms, ours {t_ours * 1e3:.2f} ms, {speedup:.1f}x, "
            f"reference engine {t_reference * 1e3:.2f} ms, {t_theirs / t_reference:.1f}x; {note}{spread}",
            flush=True,
        )
        results.check(
            all(r["agree_reference"] for r in runs),
            f"{case}: the reference and fast engines gave different losses (must be bit for bit)",
        )
        results.check(agree, f"{case}: losses of micrograd and micrograd_plus differ ({worst:.1e} relative)")
        if not quick:
            results.check(speedup >= 80, f"{case}: only {speedup:.1f}x faster than micrograd (target 80x)")
            results.check(
                t_theirs / t_reference >= 25,
                f"{case}: the reference engine is only {t_theirs / t_reference:.1f}x faster than micrograd (target 25x)",
            )
        if hidden == 16:
            case = f"MLP(2, [{hidden}, {hidden}, 1]), 100 moons"
            theirs, ours, _ = make_trainers(hidden)
            collections, in_collections, step = collector_share(theirs, steps=1 if quick else 3)
            steady = step - in_collections  # micrograd's own work: what moves little from run to run
            print(
                f"  micrograd's step: {collections:.1f} full garbage collections, {in_collections * 1e3:.0f} ms "
                f"of its {step * 1e3:.0f} ms ({in_collections / step:.0%}); against the other "
                f"{steady * 1e3:.0f} ms, ours is {steady / t_ours:.1f}x and the reference engine "
                f"{steady / t_reference:.1f}x faster",
                flush=True,
            )
            m_theirs, m_ours = step_peak_memory(theirs), step_peak_memory(ours)
            results.add(section, case + ", peak memory", "micrograd 0.1.0", m_theirs, unit="B")
            results.add(
                section,
                case + ", peak memory",
                "micrograd_plus Value",
                m_ours,
                unit="B",
                ratio=f"{m_ours / m_theirs:.2f} of micrograd's",
            )
            print(
                f"  peak memory per step: micrograd {m_theirs / 2**20:.1f} MiB, ours {m_ours / 2**20:.2f} MiB",
                flush=True,
            )
            results.check(
                m_ours * 4 <= m_theirs,
                f"{case}: peak memory {m_ours} B is above a quarter of micrograd's {m_theirs} B",
            )


if __name__ == "__main__":  # one process of measure_in_fresh_processes: its result as JSON
    print(json.dumps({**measure(int(sys.argv[1]), quick="--quick" in sys.argv), "process": os.getpid()}))
