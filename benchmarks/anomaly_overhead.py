"""What anomaly mode costs when it is off: the demo training step with and without the checks.

`detect_anomaly()` promises to cost (almost) nothing outside the mode: one flag test per
created node and a few per backward pass (in `fast`, the default engine, and `engine`). This
script builds a second version of every function of `engine` and `fast` that reads an anomaly
flag, compiled from its own source (via `ast`, so it follows any change to them) as it
would read without anomaly mode: every flag read becomes False and the conditions are
simplified away, and the `_where = None` stores go too. Then it times micrograd's
two-moons training step (`demo.demo_loss` + `zero_grad` + `backward` + SGD `step`) with
each version, step by step side by side, and prints the overhead. The goal is <= 2%.

    python benchmarks/anomaly_overhead.py                        # about ten seconds
    python benchmarks/anomaly_overhead.py --rounds 1 --steps 2   # a quick look
"""

from __future__ import annotations

import argparse
import ast
import gc
import inspect
import os
import statistics
import sys
import textwrap
import time
from types import CodeType, FunctionType, ModuleType

# The package next to this folder (this checkout), whether or not another copy is installed.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from micrograd_plus import SGD, engine, fast
from micrograd_plus.cli.demo import demo_loss
from micrograd_plus.data.datasets import make_moons
from micrograd_plus.nn import MLP

LIMIT_PERCENT = 2.0


# The flags anomaly mode is read through: the per-thread `_modes.anomaly` (and local copies
# named `anomaly`), and the count of threads in the mode, `anomaly_threads[0]`.
FLAG = "anomaly"
COUNTER = "anomaly_threads"


def _names(node: ast.AST) -> set[str]:
    return {
        n.id if isinstance(n, ast.Name) else n.attr
        for n in ast.walk(node)
        if isinstance(n, (ast.Name, ast.Attribute))
    }


def _is_constant(node: ast.AST, value: bool) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


class _RemoveAnomalyCode(ast.NodeTransformer):
    """The code as it would be without anomaly mode: every read of an anomaly flag becomes
    False and the conditions are simplified (`if ... and modes.anomaly:` disappears,
    `not (create_graph or anomaly)` becomes `not create_graph`); the flag assignments and
    the `out._where = None` stores go."""

    def __init__(self) -> None:
        self.removed = 0

    def _false(self) -> ast.Constant:
        self.removed += 1
        return ast.Constant(False)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return self._false() if isinstance(node.ctx, ast.Load) and node.id == FLAG else node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.ctx, ast.Load) and node.attr == FLAG:
            return self._false()
        return self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:  # anomaly_threads[0]
        if not isinstance(node.ctx, ast.Load):
            return node  # the counter's own updates stay as they are
        return self._false() if COUNTER in _names(node.value) else self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        absorbing, neutral = (False, True) if isinstance(node.op, ast.And) else (True, False)
        if any(_is_constant(v, absorbing) for v in node.values):
            return ast.Constant(absorbing)
        values = [v for v in node.values if not _is_constant(v, neutral)]
        if not values:
            return ast.Constant(neutral)
        return values[0] if len(values) == 1 else ast.BoolOp(op=node.op, values=values)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Constant):
            return ast.Constant(not node.operand.value)
        return node

    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt] | None:
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            kept = node.body if node.test.value else node.orelse
            return kept or None
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST | None:
        stores_where = any(isinstance(t, ast.Attribute) and t.attr == "_where" for t in node.targets)
        stores_flag = any(isinstance(t, ast.Name) and t.id == FLAG for t in node.targets)
        if stores_where or stores_flag:
            self.removed += 1
            return None
        return self.generic_visit(node)


def without_anomaly_checks(function: FunctionType) -> FunctionType | None:
    """The same function compiled again from its source with the anomaly code removed,
    or None if it has none."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return None
    remover = _RemoveAnomalyCode()
    tree = ast.fix_missing_locations(remover.visit(ast.parse(source)))
    if remover.removed == 0:
        return None
    # Compile the edited source and take the function's code object out of the module's
    # constants: a new function on the same globals, made without exec().
    module_code = compile(tree, f"<{function.__name__} without anomaly checks>", "exec")
    code = next(
        c for c in module_code.co_consts if isinstance(c, CodeType) and c.co_name == function.__name__
    )
    return FunctionType(
        code, function.__globals__, function.__name__, function.__defaults__, function.__closure__
    )


def build_without_checks(modules: list[ModuleType]) -> dict[tuple[ModuleType, str], FunctionType]:
    """Every module-level function of `modules` that holds anomaly code, stripped of it."""
    stripped = {}
    for module in modules:
        for name, obj in vars(module).items():
            if isinstance(obj, FunctionType) and obj.__module__ == module.__name__:
                without = without_anomaly_checks(obj)
                if without is not None:
                    stripped[(module, name)] = without
        if not any(m is module for m, _ in stripped):
            sys.exit(f"found no anomaly code in {module.__name__}: update this benchmark")
    return stripped


class TrainingRun:
    """micrograd's demo: MLP(2, [16, 16, 1]) on 100 moons, hinge loss + L2, SGD with lr decay."""

    def __init__(self, steps: int, seed: int):
        X, labels = make_moons(n_samples=100, noise=0.1, seed=seed)
        self.X, self.y = X, labels * 2 - 1
        self.model = MLP(2, [16, 16, 1], seed=seed)
        self.optimizer = SGD(self.model.parameters(), lr=1.0)
        self.steps = steps
        self.losses: list[float] = []

    def step(self, k: int) -> None:
        """One training step: forward (the graph is built here), zero_grad, backward, update."""
        loss, _ = demo_loss(self.model, self.X, self.y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.lr = 1.0 - 0.9 * k / self.steps
        self.optimizer.step()
        self.losses.append(loss.data)


def swapped_in(functions: dict[tuple[ModuleType, str], FunctionType]) -> None:
    for (module, name), function in functions.items():
        setattr(module, name, function)
    fast.set_engine(fast.current_engine())  # Value's methods and the neuron builder: the ones just set


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12, help="fresh training runs per build (default 12)")
    parser.add_argument("--steps", type=int, default=10, help="training steps per run (default 10)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.steps < 1:
        parser.error("--rounds and --steps must be positive")

    without = build_without_checks([engine, fast])
    checked = {key: getattr(*key) for key in without}
    builds = {"with checks": checked, "without checks": without}
    # The two builds train two identical models side by side, step k of one right after step
    # k of the other (in alternating order), so a busy machine slows both members of a pair
    # alike; CPU time (not wall time) leaves out the moments the process waits for a core.
    times: dict[str, list[float]] = {name: [] for name in builds}
    ratios = []
    try:
        for round_ in range(args.rounds):
            runs = {name: TrainingRun(args.steps, seed=1337) for name in builds}
            for k in range(args.steps):
                names = list(builds) if (round_ + k) % 2 == 0 else list(builds)[::-1]
                pair = {}
                for name in names:
                    swapped_in(builds[name])
                    gc.collect()
                    start = time.process_time()
                    runs[name].step(k)
                    pair[name] = time.process_time() - start
                    times[name].append(pair[name])
                ratios.append(pair["with checks"] / pair["without checks"])
            if runs["with checks"].losses != runs["without checks"].losses:
                print("the two builds computed different losses: the benchmark is broken")
                return 2
    finally:
        swapped_in(checked)

    median_with, median_without = (
        statistics.median(times["with checks"]),
        statistics.median(times["without checks"]),
    )
    overhead = (statistics.median(ratios) - 1) * 100
    total = (sum(times["with checks"]) / sum(times["without checks"]) - 1) * 100
    print(f"demo training step (MLP(2, [16, 16, 1]), 100 moons), {len(ratios)} paired steps;")
    print("anomaly code removed from " + ", ".join(f"{m.__name__}.{n}" for m, n in without) + ":")
    print(f"  with the anomaly checks, mode off: {median_with * 1e3:8.2f} ms CPU (median)")
    print(f"  with the checks removed:           {median_without * 1e3:8.2f} ms CPU (median)")
    print(
        f"anomaly overhead outside detect_anomaly(): {overhead:+.2f}% (median of paired steps; "
        f"{total:+.2f}% in total CPU time); limit {LIMIT_PERCENT:.0f}%"
    )
    within = overhead <= LIMIT_PERCENT
    print(f"{'within' if within else 'OVER'} the {LIMIT_PERCENT:.0f}% budget")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
