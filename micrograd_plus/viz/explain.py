"""`explain_grad(node)`: why a node's gradient is what it is, in words.

A learner who sees `grad == 0.0` cannot tell a node that backward never reached from one
whose gradient really is zero, nor a gradient summed over three forgotten backward calls
from the gradient of one pass. The node already records the facts (where it came from,
whether it requires grad, how many passes a leaf has accumulated since `zero_grad`), and
the engine remembers the outputs the latest `backward()` of this thread ran from (one, or
several after `autograd.backward([a, b])`); this module reads them, says which case applies
and what to do about it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import guards
from ..engine import Node
from ..nn.module import parameter_names


def explain_grad(node: Node) -> str:
    """Explain, in a few sentences, why `node.grad` holds what it holds.

    The cases: a constant, a result computed under `no_grad()`, a `detach()`ed copy,
    `requires_grad=False`, backward not yet run, not connected to the output of the latest
    `backward()` (of this thread), reset by `zero_grad()`, a leaf accumulated over N
    backward calls since its last `zero_grad()`, and an intermediate node (a Value shows
    the latest pass; a Tensor keeps a gradient only after `retain_grad()`).

    >>> from micrograd_plus import Value
    >>> x = Value(2.0, label="x"); y = x * x
    >>> y.backward(); y.backward()
    >>> print(explain_grad(x))  # doctest: +ELLIPSIS
    Value 'x' (a leaf) has grad 8.0: ... summed over 2 backward() calls since its last zero_grad()...
    """
    if not isinstance(node, Node):
        raise TypeError(f"explain_grad() takes a Value or Tensor, got {type(node).__name__}: {node!r:.60}")
    return f"{_describe(node)} has grad {_grad_text(node.grad)}: {_reason(node)}"


def _reason(node: Node) -> str:
    origin = node._origin
    if origin == "constant":
        return (
            "it is a constant, a plain number used in an operation. Constants do not require grad, "
            "so backward() never gives them a gradient. Make it a Value(...) of your own and use that "
            "if you want its gradient."
        )
    if origin == "no_grad":
        return (
            "it was computed under no_grad(), so no graph was recorded: it is a leaf that does not "
            "require grad, and backward() reaches neither it nor the nodes it was computed from. "
            "Compute it outside no_grad() to get gradients."
        )
    if origin == "detach":
        return (
            "it was made by detach(): a copy of the data cut from the graph, which does not require "
            "grad. Use the original node (not the detached copy) in the computation whose gradient "
            "you want."
        )
    if origin == "detach_":
        return (
            "it was cut from its graph in place by detach_(): it is now a leaf that does not require "
            "grad, and backward() reaches neither it nor the nodes it was computed from. Call "
            "detach_() only after the backward passes that need its gradient."
        )
    if not node.requires_grad:
        if node.is_leaf:
            switch = ".requires_grad_()" if hasattr(node, "requires_grad_") else ".requires_grad = True"
            return (
                "it has requires_grad=False, so backward() skips it. Create it with "
                f"requires_grad=True (or use {switch} on it before computing with it)."
            )
        return (
            f"none of the inputs of its operation '{node.op}' requires grad, so it does not either "
            "and backward() skips it. Make one of the inputs require grad before computing it."
        )
    if node.is_leaf:
        return _leaf_reason(node)
    return _intermediate_reason(node)


def _leaf_reason(node: Node) -> str:
    passes = node._passes
    if passes:
        calls = "1 backward() call" if passes == 1 else f"{passes} backward() calls"
        text = (
            f"it is a leaf, so each backward() adds its gradient to grad: this is the gradient "
            f"summed over {calls} since its last zero_grad()."
        )
        if passes > 1:
            text += " For the gradient of one pass, call zero_grad() before each backward()."
        return text
    latest = _latest_pass()
    if latest is None:
        return _never_run(node)
    roots, gone = latest
    reaching = [root for root in roots if _reaches(root, node)]
    if reaching and _left_out(node):
        return (
            f"the latest backward() ran from {_outputs(roots)}{_which_reach(roots, reaching)}, but it "
            "was given inputs=[...] without it, so it stored no gradient in it. Add it to inputs, or "
            "leave inputs out to fill every leaf's grad."
        )
    if reaching:
        return (
            f"the latest backward() ran from {_outputs(roots)}{_which_reach(roots, reaching)}, but "
            "zero_grad() has reset it since. Call backward() again to see a gradient."
        )
    if gone:
        return (
            f"no backward() has reached it since its last zero_grad(), and {_gone(roots)}, so whether "
            "it is connected to it cannot be checked. Call backward() on the output that uses it."
        )
    return _not_connected(roots)


def _intermediate_reason(node: Node) -> str:
    if node.grad is None and not _retains_grad(node):
        return (
            f"it is an intermediate {type(node).__name__}, and backward() "
            "does not keep the gradients of intermediate Tensors, to save memory. Call "
            ".retain_grad() on it before backward() to keep its gradient."
        )
    if _retains_grad(node):
        kind = (
            f"it is an intermediate {type(node).__name__} that keeps its "
            "gradient because of retain_grad(): as for a leaf, each backward() adds its gradient to "
            "grad, until zero_grad()."
        )
    else:
        kind = (
            "it is not a leaf, so its grad shows the gradient of the latest backward() pass that "
            "reached it (recomputed on every pass, never accumulated)."
        )
    latest = _latest_pass()
    if latest is None:
        return f"{kind} {_never_run(node)}"
    roots, gone = latest
    reaching = [root for root in roots if root is not node and _reaches(root, node)]
    if any(root is node for root in roots):
        if len(roots) == 1:
            return f"{kind} It is the output the latest backward() started from, so its grad is the seed."
        sent = f", plus what {_outputs(reaching, 'the output')} sent it" if reaching else ""
        return (
            f"{kind} It is one of {_outputs(roots)}, which the latest backward() started from, so its "
            f"grad is its seed{sent}."
        )
    if reaching and _off_the_way(node):
        return (
            f"{kind} The latest backward() ran from {_outputs(roots)} and reached it, but was given "
            "inputs=[...] that it does not lead to: only the nodes between the outputs and those inputs "
            "stored their gradient, so what it shows is left from an earlier pass. Leave inputs out to "
            "update every node's grad."
        )
    if reaching:
        if len(roots) == 1:
            return f"{kind} The latest backward() ran from {_outputs(roots)} and reached it."
        return f"{kind} The latest backward() ran from {_outputs(roots)}{_which_reach(roots, reaching)}."
    if gone:
        return f"{kind} {_gone(roots).capitalize()}, so whether that pass reached it cannot be checked."
    return (
        f"{kind} {_not_connected(roots)} What it shows is left from an earlier pass (or its initial value)."
    )


def _never_run(node: Node) -> str:
    initial = "0.0" if isinstance(node.grad, float) else "None"
    return (
        f"backward() has not been run yet (in this thread), so grad is still its initial {initial}. "
        "Call backward() on the output (the loss) first."
    )


def _not_connected(roots: list[Node]) -> str:
    those = "that output" if len(roots) == 1 else "those outputs"
    return (
        f"it is not connected to {_outputs(roots, 'the output of the latest backward(),')}: no path "
        f"through nodes that require grad leads from {those} to it, so the pass never reached "
        "it. Check that it is used to compute the output, and not only through detach(), no_grad() "
        "or a plain number taken from it (float(x), x.data)."
    )


def _outputs(roots: list[Node], one: str = "") -> str:
    """`Tensor 'loss' ...` for one output (after `one`, if given); for several, `the outputs
    Tensor 'a' ... and Tensor 'b' ...` (with `one` in the plural: "the outputs of ...")."""
    names = [_describe(root) for root in roots]
    if len(names) == 1:
        return f"{one} {names[0]}" if one else names[0]
    many = one.replace("the output", "the outputs") if one else "the outputs"
    return f"{many} {', '.join(names[:-1])} and {names[-1]}"


def _which_reach(roots: list[Node], reaching: list[Node]) -> str:
    """Which of the outputs of the latest pass reach the node (`reaching`, at least one)."""
    if len(roots) == 1:
        return ", which does reach it"
    if len(reaching) == len(roots):
        return ", each of which reaches it"
    names = [_describe(root) for root in reaching]
    verb = "reaches" if len(names) == 1 else "reach"
    return f", of which {' and '.join(names)} {verb} it"


def _gone(roots: list[Node]) -> str:
    """What is missing when an output of the latest pass was garbage-collected."""
    which = "the output" if not roots else "an output"
    return f"{which} of the latest backward() of this thread no longer exists"


def _left_out(node: Node) -> bool:
    """Whether the latest backward() was given `inputs=` (autograd.backward) without `node`."""
    inputs = guards.last_pass.inputs
    return inputs is not None and not any(ref() is node for ref in inputs)


def _off_the_way(node: Node) -> bool:
    """Whether the latest backward() was given `inputs=` none of which `node` leads to (so
    `node` stored nothing, as in PyTorch)."""
    inputs = guards.last_pass.inputs
    return inputs is not None and not any((i := ref()) is not None and _reaches(node, i) for ref in inputs)


def _latest_pass() -> tuple[list[Node], bool] | None:
    """The outputs of this thread's latest backward() that still exist, and whether any no
    longer does (garbage-collected); None if there was no backward()."""
    refs = guards.last_pass.roots
    if not refs:
        return None
    outputs = [ref() for ref in refs]
    roots = list({id(root): root for root in outputs if root is not None}.values())  # (each once)
    return roots, any(root is None for root in outputs)


def _reaches(root: Node, target: Node) -> bool:
    """Whether a backward pass from `root` reaches `target`: a path through nodes that
    require grad. An explicit stack, so a graph of a million nodes is fine."""
    if root is target:
        return True
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop()._parents:
            if parent is target and parent.requires_grad:
                return True
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return False


def _retains_grad(node: Node) -> bool:
    return bool(getattr(node, "_retains_grad", False))


def _describe(node: Node) -> str:
    """`Value 'x' (a leaf)`: its label, else its name in the model that holds it."""
    kind = type(node).__name__
    label = node.label or parameter_names([node]).get(node, "")
    name = f" {label!r}" if label else ""
    shape = getattr(node.data, "shape", None)
    if shape is not None:
        kind = f"{kind}{name} of shape {tuple(shape)}"
    else:
        kind = f"{kind}{name}" if name else f"{kind}(data={node.data!r})"
    role = " (a leaf)" if node.is_leaf else f" (the result of '{node.op}')"
    return kind + role


def _grad_text(grad: Any) -> str:
    if isinstance(grad, np.ndarray):
        if grad.size <= 8:
            return np.array2string(grad, separator=", ")
        return f"an array of shape {grad.shape}"
    return repr(grad)
