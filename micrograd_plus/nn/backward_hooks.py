"""Backward hooks on modules, as PyTorch's `register_full_backward_pre_hook` and
`register_full_backward_hook`: functions a backward pass runs once per call of the module, with
the gradients flowing out of it (grad_output, which a pre-hook may replace) and into its Tensor
inputs (grad_input, which a full hook may replace): to watch or clip what flows through a layer.

How, as PyTorch's BackwardHook: a call of a module with backward hooks (forward_hooks.py's
`ForwardHooks.call`) threads its positional Tensor inputs, and its output Tensors, through nodes
of their own. Each side is one *gather* node whose parents are the Tensors it stands for; each
Tensor handed on is a child of it with that Tensor's data, whose rule sends its gradient back as
one entry of a `Gathered` (a sum of them joins their entries). So the gather node's rule runs
once per pass with all the gradients of its side together, as PyTorch's one node of several
outputs: on the output side it runs the pre-hooks, on the input side the full hooks, and each
hands the gradients (replaced or not) on to the Tensors it stands for. Plain Ops of the graph:
both engines, `grad()` and `create_graph=True` run them as any other. Their hooks stand aside
(hooks.rule_hooks) in a viewer's replay, and where a gather node is not on the way to the inputs
of `grad()` or `backward(inputs=)`, as PyTorch runs only that part of the graph.

Modules of micrograd Values (Neuron, Layer, MLP) are refused: their inputs are lists of Values,
and a Value's own `register_hook` does the same work there.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import hooks, modes
from ..engine import Node, Op, Value
from ..hooks import _hook_result, left_alone
from ..tensors import Tensor

NAME = "BackwardHookFunction"  # the nodes' Op name, as PyTorch's BackwardHookFunctionBackward


class Gathered(dict):  # type: ignore[type-arg]
    """The gradients of one side's Tensors by position, as the walk sums them into the gather
    node: a sum joins the entries (a position reached twice is added up). Its `data`, every
    entry's numbers in one array, is what anomaly mode checks and shows (guards.check_backward)."""

    _parents = ()  # (read as a node's: guards look at its `data`)

    @property
    def data(self) -> np.ndarray:
        return np.concatenate([np.ravel(g.data if isinstance(g, Node) else g) for g in self.values()])

    def __add__(self, other: Gathered) -> Gathered:
        joined = Gathered(self)
        for position, g in other.items():
            joined[position] = g if position not in joined else joined[position] + g
        return joined


class Call:
    """One call of a module with backward hooks: its hooks as they were at the call (as
    PyTorch's), and the grad_output its output side hands to its input side in each pass."""

    def __init__(self, module: Any, pre: list[Callable[..., Any]], full: list[Callable[..., Any]], args: tuple[Any, ...]):  # fmt: skip
        self.module, self.pre, self.full = module, pre, full
        self.args = args  # the positional inputs, as given (grad_input has one entry each)
        self.inputs_gathered = False  # whether some input requires grad (else the output side runs `full`)
        self.grad_output: tuple[Any, ...] | None = None

    def wrap_inputs(self) -> tuple[Any, ...]:
        """The inputs forward gets: those that require grad through the input side's nodes."""
        self.inputs_gathered = _gathering(self.args)
        return _wrapped(self.args, self._input_rule) if self.inputs_gathered else self.args

    def wrap_output(self, result: Any) -> Any:
        """forward's result with its Tensors (one, or a tuple's) through the output side's nodes."""
        _refuse_values(self.module, result)
        if not isinstance(result, (Tensor, tuple)):
            modes.warn(
                "For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                f"but received {type(result)}"
            )
            return result
        outputs = (result,) if isinstance(result, Tensor) else result
        if not _gathering(outputs):
            return result
        wrapped = _wrapped(outputs, self._output_rule)
        return wrapped[0] if isinstance(result, Tensor) else wrapped

    def _output_rule(self, outputs: tuple[Any, ...], positions: list[int], nodes: Nodes) -> Callable[..., list[Any]]:  # fmt: skip
        """The output side's rule: the pre-hooks on grad_output (None for an output no gradient
        reached), kept for the full hooks; without inputs that require grad, the full hooks too.
        As PyTorch's, it hands on zeros where a gradient is None (none reached that output, or a
        pre-hook returned None for it): the input side runs in each pass through this one."""

        def rule(g: Gathered, out: Any, *parents: Any) -> list[Any]:
            # (on the way too if an output is an input of backward(inputs=), as PyTorch's)
            if hooks.rule_hooks.stand_aside(ref() for ref in nodes):
                return _zeros_for_none(outputs, positions, _unhooked(g, positions), out)
            grad_output = given = _hook_arguments(outputs, positions, g)
            for hook in self.pre:
                result = hooks.call_at_rest(hook, self.module, grad_output)
                if result is not None:
                    grad_output = _replaced(
                        hook, "Backward pre hook", "grad_output", grad_output, result, outputs
                    )
            self.grad_output = grad_output
            if not self.inputs_gathered:
                self._full_hooks_without_inputs()
            handed = [_handed_on(grad_output[i], given[i], g.get(k)) for k, i in enumerate(positions)]
            return _zeros_for_none(outputs, positions, handed, out)

        return rule

    def _input_rule(self, args: tuple[Any, ...], positions: list[int], nodes: Nodes) -> Callable[..., list[Any]]:  # fmt: skip
        """The input side's rule: the full hooks on grad_input (zeros for a Tensor input that
        does not require grad, None for an argument that is not a Tensor, as PyTorch's)."""

        def rule(g: Gathered, out: Any, *parents: Any) -> list[Any]:
            if hooks.rule_hooks.stand_aside([nodes[0]()]):  # (the gather node)
                return _unhooked(g, positions)
            grad_input = given = tuple(
                a._constant_like(np.zeros_like(a.data))
                if isinstance(a, Tensor) and not a.requires_grad
                else h
                for a, h in zip(args, _hook_arguments(args, positions, g))
            )
            # As PyTorch, none when this pass did not come through the outputs' side (an output
            # that is not a Tensor or tuple, or a gradient flowing to the inputs some other way)
            for hook in self.full if self.grad_output is not None else ():
                result = hooks.call_at_rest(hook, self.module, grad_input, self.grad_output)
                if result is not None:
                    grad_input = _replaced(hook, "Backward hook", "grad_input", grad_input, result, args)
            self.grad_output = None
            return [_handed_on(grad_input[i], given[i], g.get(k)) for k, i in enumerate(positions)]

        return rule

    def _full_hooks_without_inputs(self) -> None:
        """As PyTorch, with no input that requires grad the full hooks run on the output side,
        grad_input all None, with a warning; they may only return None (or Nones)."""
        modes.warn(
            "Full backward hook is firing when gradients are computed with respect to module outputs since "
            "no inputs require gradients. See "
            "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.register_full_backward_hook "
            "for more details."
        )
        grad_input = (None,) * len(self.args)
        for hook in self.full:
            result = hooks.call_at_rest(hook, self.module, grad_input, self.grad_output)
            if result is not None and not (
                isinstance(result, (tuple, list)) and all(r is None for r in result)
            ):
                raise RuntimeError(
                    "Backward hook for Modules where no input requires gradient should always return None or "
                    "None for all gradients."
                )
        self.grad_output = None


def _gathering(entries: Sequence[Any]) -> bool:
    """Whether a side gets its nodes: some Tensor of it requires grad, and the graph is recorded."""
    return modes._modes.grad_enabled and any(isinstance(t, Tensor) and t.requires_grad for t in entries)


Nodes = list[weakref.ref[Any]]  # a gather node and its children, for its rule (made before them)
Rule = Callable[[tuple[Any, ...], list[int], Nodes], Callable[..., list[Any]]]


def _wrapped(entries: tuple[Any, ...], make_rule: Rule) -> tuple[Any, ...]:
    """`entries` with each Tensor that requires grad replaced by a child of one gather node (its
    rule made by `make_rule(entries, their positions, the gather node and its children)`) with
    its data, whose rule sends its gradient back to the gather node as one entry of a `Gathered`."""
    positions = [i for i, t in enumerate(entries) if isinstance(t, Tensor) and t.requires_grad]
    nodes: Nodes = []
    gather = Tensor.apply(Op(NAME, lambda *datas: np.zeros(()), make_rule(entries, positions, nodes)), *[entries[i] for i in positions])  # fmt: skip
    wrapped = list(entries)
    for k, i in enumerate(positions):
        wrapped[i] = Tensor.apply(Op(NAME, lambda _, data=entries[i].data: data, _send_back(k)), gather)
    nodes.extend(weakref.ref(node) for node in (gather, *(wrapped[i] for i in positions)))
    hooks.rule_hooked.add(gather)
    return tuple(wrapped)


def _send_back(position: int) -> Callable[..., tuple[Gathered]]:
    return lambda g, out, gather: (Gathered({position: g}),)


def _hook_arguments(entries: tuple[Any, ...], positions: list[int], g: Gathered) -> tuple[Any, ...]:
    """The gradients of a side's entries as hooks get them: a Tensor of the entry's dtype (under
    create_graph, the node itself), None where none reached it or it is not gathered."""
    grads: list[Any] = [None] * len(entries)
    for k, i in enumerate(positions):
        raw = g.get(k)
        if raw is not None:
            grads[i] = (
                raw
                if isinstance(raw, Node)
                else entries[i]._constant_like(np.array(raw, dtype=entries[i].data.dtype))
            )
    return tuple(grads)


def _unhooked(g: Gathered, positions: list[int]) -> list[Any]:
    """What a gather node hands on when its hooks stand aside (hooks.rule_hooks: a viewer's
    replay, or a node not on the way to the inputs of grad() or backward(inputs=)): the gradients
    as the walk gave them, no hook run (as register_hook's there), its Call left alone."""
    raws = [g.get(k) for k in range(len(positions))]
    return [raw if raw is None or isinstance(raw, Node) else np.array(raw) for raw in raws]


def _zeros_for_none(entries: tuple[Any, ...], positions: list[int], grads: list[Any], out: Any) -> list[Any]:  # fmt: skip
    """`grads` (one per gathered entry) with zeros of the entry's shape and dtype for a None: a
    constant Tensor under create_graph (`out` is then the gather node itself), else an array."""
    handed = list(grads)
    for k, i in enumerate(positions):
        if handed[k] is None:
            zeros = np.zeros_like(entries[i].data)
            handed[k] = entries[i]._constant_like(zeros) if isinstance(out, Node) else zeros
    return handed


def _handed_on(now: Any, hook_argument: Any, raw: Any) -> Any:
    """What a gather node hands on for one gradient: `raw` (as the walk gave it) if the hooks left
    it as they got it (nor replaced, nor changed in place: hooks.left_alone), else theirs; a node
    under create_graph, else a fresh array (a leaf may keep it)."""
    if isinstance(raw, Node):
        return raw if now is hook_argument else now
    if raw is not None and left_alone(raw, hook_argument, now):
        return np.array(raw)
    return None if now is None else np.array(now.data)


def _replaced(hook: Any, kind: str, name: str, grads: tuple[Any, ...], result: Any, entries: Sequence[Any]) -> tuple[Any, ...]:  # fmt: skip
    """A hook's result, checked as PyTorch checks it: as many gradients as it was given, each
    None or a Tensor of its entry's shape and dtype."""
    count = len(result) if isinstance(result, (tuple, list)) else None
    if count != len(grads):
        got = count if count is not None else f"a {type(result).__name__}"
        raise RuntimeError(
            f"{kind} returned an invalid number of {name}, got {got}, but expected {len(grads)}: return a "
            f"tuple of one gradient (or None) per entry of {name}, or None to leave them as they are"
        )
    return tuple(
        new
        if new is None or new is given or not isinstance(entry, Tensor)
        else _hook_result(hook, entry, entry if given is None else given, new, False)
        for entry, given, new in zip(entries, grads, result)
    )


def _refuse_values(module: Any, result: Any) -> None:
    """Backward hooks follow Tensors: a module that returns Values (micrograd's) is refused."""
    items = result if isinstance(result, (tuple, list)) else (result,)
    if any(isinstance(v, Value) for v in items):
        raise TypeError(
            f"backward hooks on modules work with Tensors, but this {type(module).__name__} computes with Values: "
            "for micrograd's Neuron, Layer and MLP, register a hook on each Value instead "
            "(v.register_hook(hook) on the outputs, inside a forward hook), or use Tensor layers (nn.Linear)"
        )


def refuse_value_module(module: Any) -> None:
    """Refused at registration: a module whose parameters are Values (micrograd's)."""
    if any(isinstance(p, Value) for p in module.parameters()):
        _refuse_values(module, Value(0.0))
