"""Our Tensor engine against PyTorch and hand-written numpy backprop, per training step, in
float64 and float32, each with one thread and with its default threads.

One step is what a training loop repeats: forward, loss, zero_grad, backward, optimizer step.
Every contender starts from the same weights (drawn once with numpy, copied into each) and sees
the same batch, so the first step's loss must agree (1e-9 relative in float64, 1e-4 in float32)
or the comparison is void.

Each contender runs in its own worker process, and the driver has them take turns, block by
block, so a burst of load from elsewhere hits them all alike. Separate processes rather than one:
PyTorch's OpenMP threads and numpy's OpenBLAS threads keep spinning for a while after each call,
and in one process they fight over the cores and slow each other down several times over. One
thread means `torch.set_num_threads(1)` for PyTorch and `threadpoolctl.threadpool_limits(1)` for
numpy's BLAS (which our engine and the hand-written version use); OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are left as found.

Workloads, each with the optimizer of its tutorial:
- moons: MLP 2-16-16-1 (ReLU), batch 100, max-margin loss + 1e-4 L2, SGD (micrograd's demo);
- iris: 4-10-3 (sigmoid), batch 150, cross-entropy, Adam;
- sine: the Keras-style 1-256x7-1 (ReLU), batch 20, MSE, Adam;
- wide: MLP 784-256-256-10 (ReLU), batch 128 of random inputs, cross-entropy, SGD.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from common import Results

L2 = 1e-4


@dataclass
class Workload:
    name: str
    sizes: list[int]
    activation: str  # "relu" or "sigmoid", after every layer but the last
    loss: str  # "hinge" (+ L2), "cross_entropy" or "mse"
    optimizer: str  # "sgd" or "adam"
    lr: float
    X: np.ndarray
    y: np.ndarray  # (N, 1) floats for hinge and mse, (N,) ints for cross-entropy
    small: bool  # framework overhead dominates: the target is PyTorch's time itself

    def weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """PyTorch's default initialisation, drawn once in float64."""
        rng = np.random.default_rng(0)
        layers = []
        for fan_in, fan_out in zip(self.sizes, self.sizes[1:]):
            bound = 1 / math.sqrt(fan_in)
            layers.append(
                (rng.uniform(-bound, bound, (fan_out, fan_in)), rng.uniform(-bound, bound, fan_out))
            )
        return layers


def workloads() -> list[Workload]:
    from micrograd_plus.data.datasets import load_iris, make_moons

    X_moons, y_moons = make_moons(n_samples=100, noise=0.1, seed=1337)
    X_iris, y_iris, _ = load_iris()
    x_sine = np.arange(0.0, 2.0, 0.1).reshape(-1, 1)  # one mini-batch of 20
    rng = np.random.default_rng(1)
    return [
        Workload(
            "moons MLP 2-16-16-1, batch 100", [2, 16, 16, 1], "relu", "hinge", "sgd", 0.05,
            X_moons, (y_moons * 2.0 - 1.0).reshape(-1, 1), small=True,
        ),
        Workload("iris 4-10-3, batch 150", [4, 10, 3], "sigmoid", "cross_entropy", "adam", 0.01, X_iris, y_iris, small=True),
        Workload(
            "Keras-style sine 1-256x7-1, batch 20", [1] + [256] * 7 + [1], "relu", "mse", "adam", 0.001,
            x_sine, np.sin(x_sine), small=True,
        ),
        Workload(
            "MLP 784-256-256-10, batch 128", [784, 256, 256, 10], "relu", "cross_entropy", "sgd", 0.01,
            rng.normal(size=(128, 784)), rng.integers(0, 10, 128), small=False,
        ),
    ]  # fmt: skip


# -- the contenders: each returns a `step()` that trains once and returns the loss ---------------


def ours(w: Workload, dtype: Any) -> Callable[[], float]:
    import micrograd_plus as mp

    modules: list[Any] = []
    for i, (W, b) in enumerate(w.weights()):
        linear = mp.nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        linear.weight.data[...] = W
        linear.bias.data[...] = b
        modules.append(linear)
        if i < len(w.sizes) - 2:
            modules.append(mp.nn.ReLU() if w.activation == "relu" else mp.nn.Sigmoid())
    model = mp.nn.Sequential(*modules)
    params = model.parameters()
    optimizer = mp.SGD(params, lr=w.lr) if w.optimizer == "sgd" else mp.Adam(params, lr=w.lr)
    X = mp.Tensor(w.X, dtype=dtype)
    y = w.y if w.loss == "cross_entropy" else mp.Tensor(w.y, dtype=dtype)

    def step() -> float:
        out = model(X)
        if w.loss == "hinge":
            loss = mp.hinge_loss(out, y) + L2 * sum((p * p).sum() for p in params)
        elif w.loss == "cross_entropy":
            loss = mp.cross_entropy(out, y)
        else:
            loss = mp.mse_loss(out, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def pytorch(w: Workload, dtype: Any) -> Callable[[], float]:
    import torch

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    modules: list[Any] = []
    for i, (W, b) in enumerate(w.weights()):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if i < len(w.sizes) - 2:
            modules.append(torch.nn.ReLU() if w.activation == "relu" else torch.nn.Sigmoid())
    model = torch.nn.Sequential(*modules)
    params = list(model.parameters())
    optimizer = (
        torch.optim.SGD(params, lr=w.lr) if w.optimizer == "sgd" else torch.optim.Adam(params, lr=w.lr)
    )
    X = torch.from_numpy(w.X.astype(dtype))
    y = torch.from_numpy(w.y) if w.loss == "cross_entropy" else torch.from_numpy(w.y.astype(dtype))
    F = torch.nn.functional

    def step() -> float:
        out = model(X)
        if w.loss == "hinge":
            loss = torch.relu(1 - y * out).mean() + L2 * sum((p * p).sum() for p in params)
        elif w.loss == "cross_entropy":
            loss = F.cross_entropy(out, y)
        else:
            loss = F.mse_loss(out, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def numpy_by_hand(w: Workload, dtype: Any) -> Callable[[], float]:
    """Forward and backward written out with numpy, as a textbook (or CS231n) would."""
    params = [p.astype(dtype) for W, b in w.weights() for p in (W, b)]
    X = w.X.astype(dtype)
    y = w.y if w.loss == "cross_entropy" else w.y.astype(dtype)
    n = X.shape[0]
    adam = {"t": 0, "m": [np.zeros_like(p) for p in params], "v": [np.zeros_like(p) for p in params]}
    relu = w.activation == "relu"

    def step() -> float:
        # forward, keeping each layer's input (the previous activation's output) for backward
        inputs, h = [], X
        last = len(params) // 2 - 1
        for i in range(last + 1):
            W, b = params[2 * i], params[2 * i + 1]
            inputs.append(h)
            h = h @ W.T + b
            if i < last:
                h = np.maximum(h, 0) if relu else 1 / (1 + np.exp(-h))
        if w.loss == "hinge":
            margins = 1 - y * h
            l2 = sum(float((p * p).sum()) for p in params)
            loss = float(np.maximum(margins, 0).mean()) + L2 * l2
            g = np.where(margins > 0, -y, 0).astype(dtype) / n
        elif w.loss == "cross_entropy":
            shifted = h - h.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            loss = float(-log_probs[np.arange(n), y].mean())
            g = np.exp(log_probs)
            g[np.arange(n), y] -= 1
            g /= n
        else:
            diff = h - y
            loss = float((diff * diff).mean())
            g = 2 * diff / diff.size
        # backward
        grads: list[np.ndarray] = [np.empty(0)] * len(params)
        for i in range(last, -1, -1):
            a = inputs[i]
            grads[2 * i] = g.T @ a
            grads[2 * i + 1] = g.sum(axis=0)
            if i > 0:  # through the weights, then through the activation that made `a`
                g = g @ params[2 * i]
                g = g * (a > 0) if relu else g * a * (1 - a)
        if w.loss == "hinge":
            grads = [gr + 2 * L2 * p for gr, p in zip(grads, params)]
        # update
        if w.optimizer == "sgd":
            for p, gr in zip(params, grads):
                p -= w.lr * gr
        else:
            adam["t"] += 1
            t = adam["t"]
            for p, gr, m, v in zip(params, grads, adam["m"], adam["v"]):
                m *= 0.9
                m += 0.1 * gr
                v *= 0.999
                v += 0.001 * gr * gr
                p -= (w.lr / (1 - 0.9**t)) * m / (np.sqrt(v) / math.sqrt(1 - 0.999**t) + 1e-8)
        return loss

    return step


NO_NUMBA = "micrograd_plus Tensor, no numba"
CONTENDERS: dict[str, tuple[Any, ...]] = {
    # name: (maker, threads: None = the library's default, extra environment)
    "micrograd_plus Tensor": ("ours", None),
    "micrograd_plus Tensor, 1 thread": ("ours", 1),
    # without the optional numba kernel for Adam (micrograd_plus/optim/adam_kernel.py): numpy alone
    NO_NUMBA: ("ours", None, {"MICROGRAD_PLUS_NUMBA": "0"}),
    "PyTorch": ("pytorch", None),
    "PyTorch, 1 thread": ("pytorch", 1),
    "numpy by hand": ("numpy_by_hand", None),
    "numpy by hand, 1 thread": ("numpy_by_hand", 1),
}
OURS = ("micrograd_plus Tensor", "micrograd_plus Tensor, 1 thread")
TORCH = ("PyTorch", "PyTorch, 1 thread")
NUMPY = ("numpy by hand", "numpy by hand, 1 thread")


def worker(maker_name: str, threads: int | None) -> None:
    """Serve the driver: one JSON command per line on stdin, one JSON answer per line on stdout."""
    import json
    import sys
    import time

    from threadpoolctl import threadpool_info, threadpool_limits

    if maker_name == "pytorch":
        import torch

        if threads is not None:
            torch.set_num_threads(threads)
        threads_used = torch.get_num_threads()
    else:
        if threads is not None:
            threadpool_limits(threads)
        threads_used = threads
    maker = {"ours": ours, "pytorch": pytorch, "numpy_by_hand": numpy_by_hand}[maker_name]
    all_workloads = workloads()
    step: Callable[[], float] | None = None
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "setup":
            step = maker(all_workloads[command["workload"]], np.dtype(command["dtype"]).type)
            first_loss = step()  # also the warm-up
            pools = [
                f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
                for p in threadpool_info()
            ]
            answer = {"loss": first_loss, "threads": threads_used, "pools": pools}
        elif command["cmd"] == "time":
            assert step is not None
            start, cpu_start = time.perf_counter(), time.process_time()
            for _ in range(command["number"]):
                step()
            answer = {
                "seconds": (time.perf_counter() - start) / command["number"],
                "cpu": (time.process_time() - cpu_start) / command["number"],  # all threads
            }
        else:
            return
        print(json.dumps(answer), flush=True)


class Worker:
    """A contender's process, spoken to over pipes."""

    def __init__(self, maker_name: str, threads: int | None, env: dict[str, str] | None = None):
        import os
        import subprocess
        import sys

        args = [sys.executable, __file__, "--worker", maker_name]
        if threads is not None:
            args += ["--threads", str(threads)]
        self.process = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        import json

        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"benchmark worker {self.process.args} died (exit status {self.process.wait()})"
            )
        return json.loads(line)

    def close(self) -> None:
        try:
            self.ask(cmd="quit")
        except (BrokenPipeError, RuntimeError):
            pass
        self.process.wait(timeout=30)


def run(results: Results, quick: bool) -> None:
    import statistics
    import time

    workers = {name: Worker(*spec) for name, spec in CONTENDERS.items()}
    try:
        dtypes = ["float64"] if quick else ["float64", "float32"]
        for index, w in enumerate(workloads()):
            for dtype in dtypes:
                setup = {
                    name: wk.ask(cmd="setup", workload=index, dtype=dtype) for name, wk in workers.items()
                }
                number = 3 if quick else (20 if w.small else 5)
                rounds = 2 if quick else 11
                samples: dict[str, list[float]] = {name: [] for name in workers}
                cpu: dict[str, list[float]] = {name: [] for name in workers}
                names = list(workers)
                for r in range(rounds):
                    for i in range(len(names)):
                        name = names[(i + r) % len(names)]
                        # Let the previous worker's idle BLAS threads stop spinning: OpenBLAS's spin
                        # for about 0.1 s, and with a 0.05 s pause PyTorch's two-thread step of the
                        # 784-256-256-10 model took 12 ms instead of 2.3 ms.
                        time.sleep(0.2)
                        answer = workers[name].ask(cmd="time", number=number)
                        samples[name].append(answer["seconds"])
                        cpu[name].append(answer["cpu"])
                medians = {name: statistics.median(v) for name, v in samples.items()}
                cpu_medians = {name: statistics.median(v) for name, v in cpu.items()}
                losses = {name: s["loss"] for name, s in setup.items()}
                report(results, w, dtype, medians, cpu_medians, losses, quick)
        results.thread_pools.update(f"{name} worker: {', '.join(s['pools'])}" for name, s in setup.items())
    finally:
        for wk in workers.values():
            wk.close()


def report(
    results: Results,
    w: Workload,
    dtype: str,
    medians: dict[str, float],
    cpu_medians: dict[str, float],
    losses: dict[str, float],
    quick: bool,
) -> None:
    section = f"tensor step, {dtype}"
    reference = losses["numpy by hand"]
    tolerance = 1e-9 if dtype == "float64" else 1e-4
    worst = max(abs(v - reference) / max(abs(reference), 1e-30) for v in losses.values())
    agree = worst <= tolerance
    ours_best = min(medians[n] for n in OURS)
    torch_best = min(medians[n] for n in TORCH)
    numpy_best = min(medians[n] for n in NUMPY)
    for name, seconds in medians.items():
        if name in OURS or name == NO_NUMBA:
            ratio = f"{seconds / torch_best:.2f}x PyTorch's best, {seconds / numpy_best:.2f}x numpy's"
        else:
            ratio = ""
        note = ""
        if name == OURS[0]:
            note = (
                f"first losses agree ({worst:.0e} rel.)"
                if agree
                else f"VOID: first losses differ ({worst:.1e} rel.)"
            )
        results.add(section, w.name, name, seconds, ratio=ratio, note=note)
    print(
        f"  {w.name}, {dtype}: "
        + ", ".join(f"{k} {v * 1e6:.0f} µs (CPU {cpu_medians[k] * 1e6:.0f})" for k, v in medians.items())
        + f"; ours/PyTorch {ours_best / torch_best:.2f}, ours/numpy {ours_best / numpy_best:.2f}",
        flush=True,
    )
    results.check(agree, f"{w.name} {dtype}: first-step losses differ by {worst:.1e} (relative)")
    if not quick:
        limit = 1.0 if w.small else 1.25
        results.check(
            ours_best <= limit * torch_best,
            f"{w.name} {dtype}: {ours_best / torch_best:.2f}x PyTorch's time (target {limit}x)",
        )


if __name__ == "__main__":
    import argparse
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description="a benchmark worker (started by run.py)")
    parser.add_argument("--worker", required=True, choices=["ours", "pytorch", "numpy_by_hand"])
    parser.add_argument("--threads", type=int, default=None)
    options = parser.parse_args()
    worker(options.worker, options.threads)
