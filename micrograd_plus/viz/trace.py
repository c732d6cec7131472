"""Stepping through a graph: the forward and the backward pass one operation at a time,
each step narrated with its numbers.

Nothing here knows a derivative, nor how to walk a graph backward: the backward steps are
those of the engine's own pass (`engine.backward_pass`), which this module only formats.

The forward walk here uses an explicit stack, never recursion: a million nodes are fine.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import engine, guards, hooks
from ..engine import Node, no_grad
from ..nn.module import parameter_names

# The operations written between their operands: the table's arithmetic, and Tensor's matmul.
INFIX = {op.name for op in (engine.ADD, engine.SUB, engine.MUL, engine.DIV, engine.POW)} | {"@"}
# The fast engine's neuron node (`relu(dot)`, ...) by its op's name, and its activation.
NEURONS = {f"{name}(dot)": name for name in engine.ACTIVATIONS}


# -- the graph --------------------------------------------------------------------------


def graph_nodes(root: Node) -> list[Node]:
    """Every node `root` was computed from (constants and nodes that need no gradient
    included), each listed after its parents: the order a forward pass could compute
    them in, `root` last. Iterative, so a graph of a million nodes is fine."""
    if not isinstance(root, Node):
        raise TypeError(
            f"expected a Value or Tensor (a node of the graph), got {type(root).__name__}: {root!r:.60}"
        )
    order: list[Node] = []
    visited = {root}
    stack: list[tuple[Node, Iterator[Node]]] = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def is_constant(node: Node) -> bool:
    """A plain number (or array) that an operation turned into a node."""
    return node._op is None and node._origin == "constant"


def node_names(nodes: Sequence[Node], root: Node, given: dict[Node, str] | None = None) -> dict[Node, str]:
    """A short name for every node: its label (else a name from `given`, by default a
    parameter's name in the model that holds it, see `nn.module.parameter_names`), its
    number for a constant, `L` for an unlabelled root, otherwise `v1`, `v2`, ... (`t1`,
    ... for arrays) in forward order, never clashing with a label. A label that several
    nodes carry names the first of them; the others get `_2`, `_3`, ... after it, so that
    in a narration one name is one node."""
    if given is None:
        given = parameter_names(nodes)
    used = {n.label or given.get(n, "") for n in nodes} - {""}
    names: dict[Node, str] = {}
    labelled: set[str] = set()  # the labels already given to a node
    counter = 0
    for node in nodes:
        if node.label or node in given:
            name = node.label or given[node]
            if name in labelled:
                k = 2
                while f"{name}_{k}" in used:
                    k += 1
                name = f"{name}_{k}"
                used.add(name)
            labelled.add(name)
            names[node] = name
        elif node is root and "L" not in used:
            names[node] = "L"
        elif is_constant(node):
            names[node] = format_value(node.data)
        else:
            prefix = "t" if isinstance(node.data, np.ndarray) else "v"
            counter += 1
            while f"{prefix}{counter}" in used:
                counter += 1
            names[node] = f"{prefix}{counter}"
    return names


# -- numbers in narration ---------------------------------------------------------------


def format_number(x: Any) -> str:
    """A float as Python writes it when that is short (2.0, -6.0, 0.5), else 6 digits."""
    value = float(x) + 0.0  # (-0.0 is written 0.0)
    text = repr(value)
    if len(text) <= 9:
        return text
    text = f"{value:.6g}"
    return text if any(c in text for c in ".ein") else text + ".0"


def format_value(x: Any) -> str:
    """A float, or a short description of an array (its values when there are few)."""
    if x is None:
        return "None"
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return format_number(x)
        if x.size <= 6:
            flat = [format_number(v) for v in x.reshape(-1).tolist()]
            if x.ndim == 1:
                return "[" + ", ".join(flat) + "]"
            return f"array{x.shape} [" + ", ".join(flat) + "]"
        finite = x[np.isfinite(x)] if np.issubdtype(x.dtype, np.number) else x
        if finite.size == 0:
            return f"array{x.shape} (no finite values)"
        return (
            f"array{x.shape} mean {format_number(finite.mean())}, "
            f"range [{format_number(finite.min())}, {format_number(finite.max())}]"
        )
    # a node, or the gradients a module's backward hooks gather (nn/backward_hooks.py)
    if hasattr(x, "_parents"):
        return format_value(x.data)
    return format_number(x)


def _copy(x: Any) -> Any:
    return x.copy() if isinstance(x, np.ndarray) else x


# -- forward ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ForwardStep:
    """One operation of the forward pass: `node` computed from its parents."""

    index: int
    node: Node
    names: dict[Node, str] = field(repr=False)

    @property
    def name(self) -> str:
        return self.names[self.node]

    def __str__(self) -> str:
        return f"{self.name} = {describe_operation(self.node, self.names)} = {format_value(self.node.data)}"


def describe_operation(node: Node, names: dict[Node, str], with_numbers: bool = True) -> str:
    """`a * b`, `tanh(c)`, `w1*x1 + w2*x2 + b`: how `node` was computed, by name, and
    (with_numbers) the same with the parents' data."""
    op = node.op
    parents = node._parents
    symbols = [names[p] for p in parents]
    numbers = [format_value(p.data) for p in parents]

    def show(items: list[str]) -> str:
        if op in INFIX and len(items) == 2:
            left = items[0]
            if op == "**" and left.startswith("-"):
                left = f"({left})"  # -2.0 ** 2.0 would read as -(2.0 ** 2.0)
            return f"{left} {op} {items[1]}"
        if op == "neg" and len(items) == 1:
            return f"-{items[0]}" if items is symbols else f"-({items[0]})"
        if op in ("dot", *NEURONS) and len(items) % 2 == 1 and len(items) >= 3:
            n = (len(items) - 1) // 2
            terms = [f"{w}*{x}" for w, x in zip(items[:n], items[n:-1])]
            weighted_sum = " + ".join([*terms, items[-1]])
            return weighted_sum if op == "dot" else f"{NEURONS[op]}({weighted_sum})"
        if op == "sum" and len(items) >= 2:
            return " + ".join(items)
        return f"{op}({', '.join(items)})"

    symbolic = show(symbols)
    if not with_numbers:
        return symbolic
    with_data = show(numbers)
    return symbolic if with_data == symbolic else f"{symbolic} = {with_data}"


def forward_steps(root: Node) -> Iterator[ForwardStep]:
    """The forward pass that made `root`, one operation at a time, parents first.

    `str(step)` narrates it, for example `c = a * b = 2.0 * -3.0 = -6.0`. Nothing is
    recomputed or changed: the numbers are the data the graph holds.
    """
    nodes = graph_nodes(root)
    names = node_names(nodes, root)

    def steps() -> Iterator[ForwardStep]:
        index = 0
        for node in nodes:
            if node._op is None:
                continue
            yield ForwardStep(index, node, names)
            index += 1

    return steps()


# -- backward ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GradientShare:
    """What one input of a node receives in a backward step.

    `local` is the local derivative d node / d input (None for arrays, where it is a
    Jacobian, or where no gradient flows), `contribution` the gradient this input
    receives (upstream times local), `total_before`/`total_after` this pass's running
    sum for the input, and `grad_before`/`grad_after` its `.grad` around the step.
    `skipped` says why nothing flowed ('' when something did).
    """

    input: Node
    name: str
    local: Any
    contribution: Any
    total_before: Any
    total_after: Any
    grad_before: Any
    grad_after: Any
    skipped: str = ""


@dataclass(frozen=True, eq=False)
class HookChange:
    """A node's hooks (register_hook) replacing its gradient, in the real pass (`backward_steps`):
    this pass's sum `before` and `after` them, and the node's `.grad` around it."""

    node: Node
    name: str
    before: Any
    after: Any
    grad_before: Any
    grad_after: Any


@dataclass(frozen=True, eq=False)
class BackwardStep:
    """One step of the backward pass: the seed (index 0), or one node applying its
    rule and sending gradient to each of its inputs (`shares`, in argument order).
    `grad_before`/`grad_after` is the root's own `.grad` around the seed step; None otherwise.
    `hooks`: in the real pass, the hooks that replaced a gradient since the step before (the
    node's own, and leaves'); a last step with no rule (`node` the root, no upstream) shows
    the hooks of leaves that ran after the last rule."""

    index: int
    node: Node
    names: dict[Node, str] = field(repr=False)
    root: Node = field(repr=False)
    upstream: Any
    shares: tuple[GradientShare, ...] = field(default=())
    is_seed: bool = False
    grad_before: Any = None
    grad_after: Any = None
    hooks: tuple[HookChange, ...] = ()

    @property
    def name(self) -> str:
        return self.names[self.node]

    @property
    def root_name(self) -> str:
        return self.names[self.root]

    @property
    def operation(self) -> str:
        """How the node was computed, by name (`a * b`); '' for a leaf."""
        return "" if self.node._op is None else describe_operation(self.node, self.names, with_numbers=False)

    def lines(self) -> list[str]:
        """The narration, one line for the seed or a header and one line per input."""
        d_root = f"d{self.root_name}"
        if self.is_seed:
            return [
                f"{d_root}/d{self.name} = {format_value(self.upstream)}, the seed   "
                f"({self._grad_change(self.name, self.grad_before, self.grad_after)})"
            ]
        hooks = [
            f"the hook on {h.name} replaced {d_root}/d{h.name}: {format_value(h.before)} -> "
            f"{format_value(h.after)}   ({self._grad_change(h.name, h.grad_before, h.grad_after)})"
            for h in self.hooks
        ]
        if self.upstream is None:  # after the last rule: the leaves' hooks
            return hooks
        sends = f"sends {d_root}/d{self.name} = {format_value(self.upstream)} back to its inputs:"
        lines = [*hooks, f"{self.name} = {self.operation} {sends}"]
        is_array = isinstance(self.node.data, np.ndarray)
        for share in self.shares:
            lines.append("  " + self._share_line(share, d_root, is_array))
        return lines

    def _share_line(self, share: GradientShare, d_root: str, is_array: bool) -> str:
        if share.skipped:
            return f"{share.name} {share.skipped}"
        target = f"{d_root}/d{share.name}"
        if is_array or share.local is None:
            text = (
                f"{target} += {self.node.op}'s rule applied to {d_root}/d{self.name} "
                f"= {format_value(share.contribution)}"
            )
        else:
            text = (
                f"{target} += {d_root}/d{self.name} * d{self.name}/d{share.name} = "
                f"{format_value(self.upstream)} * {format_value(share.local)} = {format_value(share.contribution)}"
            )
        if share.total_before is not None:
            text += (
                f", so {target} = {format_value(share.total_before)} + {format_value(share.contribution)} "
                f"= {format_value(share.total_after)}"
            )
        return f"{text}   ({self._grad_change(share.name, share.grad_before, share.grad_after)})"

    @staticmethod
    def _grad_change(name: str, before: Any, after: Any) -> str:
        if after is None:
            return f"{name}.grad not kept: an intermediate Tensor keeps it after retain_grad()"
        return f"{name}.grad: {format_value(before)} -> {format_value(after)}"

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _check_root(root: Node) -> None:
    if not isinstance(root, Node):
        raise TypeError(f"expected a Value or Tensor, got {type(root).__name__}: {root!r:.60}")
    if not root.requires_grad:
        raise RuntimeError(
            f"this {type(root).__name__} does not require grad: it was computed from nodes that do not "
            "require grad (constants, requires_grad=False, detach() or no_grad()), so there is no backward "
            "pass to step through. Make an input require grad before computing it."
        )


def backward_steps(root: Node, gradient: Any = None) -> Iterator[BackwardStep]:
    """The backward pass from `root`, one node at a time: the engine's own walk
    (`engine.backward_pass`), narrated.

    Step 0 is the seed (the gradient of `root` with respect to itself, 1 by default or
    `gradient`); each later step applies one node's rule, and the `.grad` of its inputs shows
    the sums so far, so you can look at the graph between steps. `str(step)` narrates it, one
    line per input. This is the real pass: running the steps to the end is `root.backward(gradient)`
    on the reference engine (leaves add to what they held, intermediates show this pass; the
    fast engine gives the same numbers, but for the sign of a zero an intermediate may show).
    Hooks (register_hook) run as in backward(); a step's `hooks` says which replaced a gradient
    (a last step without a rule, if any, for leaves' hooks after the last rule). To look without
    changing any `.grad` or running hooks, use `record_backward`, `draw_dot(root, step=k)` or
    `export_html`.
    """
    _check_root(root)
    seed = root._seed() if gradient is None else root._raw(gradient)
    return _narrate(root, seed, live=True)


def record_backward(root: Node, gradient: Any = None) -> list[BackwardStep]:
    """All backward steps of one pass from zero, whatever passes already ran, changing no
    `.grad` (for drawings and players): every `grad: before -> after` starts from a fresh
    gradient, and the last step shows what a first `backward()` gives without hooks: a viewer
    runs none (register_hook), so it shows the chain rule alone and a drawing has no side effect.
    `backward_steps` is the real pass, hooks included."""
    _check_root(root)
    seed = root._seed() if gradient is None else root._raw(gradient)
    return list(_narrate(root, seed, live=False))


def _fresh_grad(node: Node) -> Any:
    return None if isinstance(node.data, np.ndarray) else 0.0  # a Value's 0.0, a Tensor's None


def _narrate(root: Node, seed: Any, live: bool) -> Iterator[BackwardStep]:
    """The steps of `engine.backward_pass`, narrated. `live`: as the real pass, hooks run
    (register_hook), showing the sums so far in each `.grad` and storing the totals at the end;
    else changing nothing, running no hook, and showing the sums from a fresh gradient."""
    names = node_names(graph_nodes(root), root)
    saved: dict[Node, Any] = {}  # (live) each node's .grad before the pass

    def shown(node: Node, total: Any) -> Any:
        """What node.grad shows with this pass's sum so far."""
        if not live:
            return _copy(node._grad_after(_fresh_grad(node), total))
        before = saved.setdefault(node, _copy(node.grad))
        node.grad = node._grad_after(_copy(before), total)
        return _copy(node.grad)

    before = _copy(root.grad) if live else _fresh_grad(root)
    yield BackwardStep(
        0, root, names, root, seed, is_seed=True, grad_before=before, grad_after=shown(root, seed)
    )
    latest: dict[Node, Any] = {root: seed}  # each node's running sum, as narrated so far
    totals = _WrittenSums()
    walk = engine.backward_pass([root], [seed], totals, hooks_of=None if live else ())

    def hooks_since(parents: set[int]) -> tuple[HookChange, ...]:
        """The gradients hooks replaced: the sums written for nodes that are not among `parents`
        (the ids of the inputs the step's rule added to)."""
        changes = []
        for n, total in totals.written:
            # (a hook that only looked hands back the very sum it was given: nothing replaced)
            if id(n) not in parents and total is not latest.get(n):
                before, latest[n] = latest.get(n), total
                grads = _copy(n.grad), shown(n, total)
                changes.append(HookChange(n, names[n], _copy(before), _copy(total), *grads))
        return tuple(changes)

    index = 1
    while True:
        try:
            # IEEE sums (inf + -inf is nan), no warnings; `replay`: the hooks inside rules stand aside
            with no_grad(), np.errstate(all="ignore"), hooks.rule_hooks_as(replay=not live):
                step = next(walk, None)
        except BaseException:  # a rule or a hook failed: as backward(), the pass stores nothing
            for node, grad in saved.items():
                node.grad = grad
            raise
        if step is None:
            break
        node, gradient, contributions = step
        parents = {id(parent) for parent in node._parents}
        replaced = hooks_since(parents)
        # the sums the rule added to (the others are hooks' replacements, narrated above)
        sums = iter([(n, total) for n, total in totals.written if id(n) in parents])
        totals.written.clear()
        locals_ = _local_derivatives(node)
        shares = []
        for i, (parent, c) in enumerate(zip(node._parents, contributions)):
            name = names[parent]
            if not parent.requires_grad:
                why = (
                    "is a constant: no gradient"
                    if is_constant(parent)
                    else "does not require grad: no gradient"
                )
                shares.append(GradientShare(parent, name, None, None, None, None, None, None, skipped=why))
                continue
            if c is None:
                skipped = "receives no gradient from this rule"
                shares.append(
                    GradientShare(parent, name, None, None, None, None, None, None, skipped=skipped)
                )
                continue
            summed, total = next(sums)
            assert summed is parent, "the walk added its contributions in the order of the parents"
            previous = latest.get(parent)
            latest[parent] = total
            grad_before = _copy(parent.grad) if live else shown(parent, previous)
            local = locals_[i] if locals_ is not None else None
            shares.append(
                GradientShare(
                    parent, name, local, c, _copy(previous), _copy(total), grad_before, shown(parent, total)
                )
            )
        yield BackwardStep(index, node, names, root, _copy(gradient), tuple(shares), hooks=replaced)
        index += 1
    late = hooks_since(set())  # leaves' hooks after the last rule
    if late:
        yield BackwardStep(index, root, names, root, None, hooks=late)
    if live:  # the end of the pass: each node stores its total, as backward() does
        for node, total in totals.items():
            node.grad = saved.get(node, node.grad)
            node._store_grad(total)
        guards.last_pass.root = weakref.ref(root)


class _WrittenSums(dict):  # type: ignore[type-arg]
    """The walk's `totals`, noting each running sum the walk writes into it, in order: the
    narration shows every addition as it was made (twice for a parent a node uses twice)."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[tuple[Node, Any]] = []
        self.seeded = False

    def __setitem__(self, node: Node, total: Any) -> None:
        super().__setitem__(node, total)
        if self.seeded:
            self.written.append((node, total))
        self.seeded = True  # (the walk's first write is the seed, which step 0 narrates)


def _local_derivatives(node: Node) -> Sequence[Any] | None:
    """d node / d input for each input of a scalar node: the rule applied to an upstream
    gradient of 1 (every rule is upstream times local derivative). None for arrays."""
    if not isinstance(node.data, float):
        return None
    try:
        with no_grad():
            values = engine.local_gradients(node, 1.0)
    except Exception:  # a custom rule that cannot take 1.0: narrate without the factor
        return None
    return [float(v) if isinstance(v, (int, float)) else None for v in values]
