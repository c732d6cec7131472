"""`gradcheck(f, inputs)`: is the gradient autograd computes for `f` right? Like
`torch.autograd.gradcheck`: on failure a table says which elements differ and by how much, and
the cause (the op whose rule is wrong, found by `check_local_derivatives`, or a hint such as a
cut graph). `gradgradcheck(f, inputs)` asks the same of the second derivatives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Node, local_gradients, topological_order
from ..gradients import RULES_ON_NODES, grad
from ..modes import enable_grad
from .local import check_local_derivatives
from .numerical import (
    _as_args,
    _check_callable,
    _check_tolerances,
    _evaluator,
    _fill,
    _finite_differences,
    _inputs_to_perturb,
    _node_output,
    _output_array,
    _plus_minus,
    _probe_weights,
    _raw_of,
    _Slopes,
)
from .reports import (
    GradcheckReport,
    GradientRow,
    _analytic_grads,
    _finish,
    _rows_for,
    _shape_problem,
    _short,
)

__all__ = ["gradcheck", "gradgradcheck"]


def gradcheck(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    *,
    nondet_tol: float = 0.0,
    fast_mode: bool = False,
) -> GradcheckReport:
    """Compare autograd's gradient of `f(*inputs)` with central differences.

    Like `torch.autograd.gradcheck`: every input that requires grad is checked element
    by element; an element passes when `|analytic - numeric| <= atol + rtol * |numeric|`.
    On failure it raises `GradcheckError` whose message is a table (one row per input
    element with the analytic and numeric values, their absolute and relative error,
    and the wrong rows marked) and the cause: the op whose own derivative rule is wrong
    (found by `check_local_derivatives` on f's graph), or a hint where no rule is; with
    `raise_exception=False` it returns the report, which is truthy when everything matches.
    For an output with more than one element, the gradient of `sum(w * f)` is checked for
    fixed random weights `w`.

    A second backward pass, from half the output's gradient, must give half the gradients
    within `nondet_tol`: a rule that forgets to multiply by its upstream gradient g fails
    (where g is 1 the rows cannot show it), and so does one that depends on state or
    randomness (PyTorch's "not reentrant"). `fast_mode=True` checks each
    input along one random direction instead of element by element: two evaluations of `f`
    per input instead of two per element, for large inputs.
    """
    _check_callable(f, "f")
    _check_tolerances(eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol)
    args = _as_args(inputs)
    perturbed = _inputs_to_perturb("gradcheck", args, autograd=True)
    report = _gradcheck("gradcheck", f, args, perturbed, eps, atol, rtol, nondet_tol, fast_mode)
    return _finish(report, raise_exception)


def _gradcheck(
    title: str,
    f: Callable[..., Any],
    args: tuple[Any, ...],
    perturbed: tuple[list[int], list[str]],
    eps: float,
    atol: float,
    rtol: float,
    nondet_tol: float,
    fast_mode: bool,
) -> GradcheckReport:
    """The report of gradcheck (or gradgradcheck, which checks a function of its own), for the
    inputs at the positions `perturbed` names (checked by _inputs_to_perturb before f runs)."""
    positions, names = perturbed
    out = _node_output(title, f(*args), args)
    out_data = np.asarray(out.data, dtype=np.float64)
    weights = None if out_data.size == 1 else _probe_weights(out_data.shape)
    nodes = [args[i] for i in positions]
    analytic = _analytic_grads(out, nodes, weights)
    problems = [_shape_problem(names[i], a, args[i].data, "autograd") for i, a in zip(positions, analytic)]
    problems = [p for p in problems if p]
    unscaled = _not_scaled_by_g(out, nodes, weights, analytic, [names[i] for i in positions], nondet_tol)
    problems += unscaled
    checked = [(i, a) for i, a in zip(positions, analytic) if a.shape == np.shape(args[i].data)]
    rows: list[GradientRow] = []
    if fast_mode:
        rows = _directional_rows(f, args, checked, names, eps, weights, atol, rtol)
    else:
        slopes = _finite_differences(f, args, [i for i, _ in checked], eps, weights, "f")
        for i, a in checked:
            rows += _rows_for(i, names[i], a, slopes[i], atol, rtol)
    notes = []
    if weights is not None:
        notes.append(
            f"the output has shape {out_data.shape}: checked d(sum(w * f)) for fixed random weights w"
        )
    report = GradcheckReport(title, rows, eps, atol, rtol, problems, notes=notes)
    if fast_mode:  # how to find the wrong elements, said only when a direction is wrong
        elements = sum(np.size(args[i].data) for i, _ in checked)
        report.unit = f"random direction{{s}} over {elements} element{'s' if elements != 1 else ''}"
        report.notes.append(
            "fast_mode: each input checked along one random direction u (d/dt F(x + t u) against "
            "sum(gradient * u))"
            + ("; run with fast_mode=False to see which elements are wrong" if report.failures else "")
        )
    if report.failures or unscaled:
        report.advice = _diagnosis(f, args, positions, out, report)
    return report


_SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)


def _not_scaled_by_g(
    out: Node,
    nodes: list[Node],
    weights: np.ndarray | None,
    first: list[np.ndarray],
    names: list[str],
    nondet_tol: float,
) -> list[str]:
    """Problems where a second backward pass through the same graph, from half the output's
    gradient, does not give half the first pass's gradients within nondet_tol (bit for bit at
    0: halving is exact in float64, but below the smallest normal number, 2.2e-308, where it
    rounds: a difference that small is rounding). Elements that are inf or nan in either pass
    are left to the rows: there an intermediate overflowed in one pass and not in the other."""
    problems = []
    for name, a, half in zip(names, first, _analytic_grads(out, nodes, weights, scale=0.5)):
        with np.errstate(all="ignore"):
            b = 2 * half
            finite = np.isfinite(a) & np.isfinite(b)
            if a.shape != b.shape or np.array_equal(a[finite], b[finite]):
                continue
            difference = float(np.max(np.abs(a - b)[finite]))
        if difference > max(nondet_tol, _SMALLEST_NORMAL):
            problems.append(
                f"{name}: backward is not multiplied by its upstream gradient g: a second backward pass "
                f"from half the output's gradient did not give half the gradients (off by "
                f"{difference:.1e}, nondet_tol={nondet_tol:g})"
            )
    return problems


def _direction(shape: tuple[int, ...], i: int) -> np.ndarray:
    """A fixed random direction for input i: magnitudes in [0.5, 1.5], random signs."""
    rng = np.random.default_rng(20240608 + i)
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _directional_rows(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    checked: list[tuple[int, np.ndarray]],
    names: list[str],
    eps: float,
    weights: np.ndarray | None,
    atol: float,
    rtol: float,
) -> list[GradientRow]:
    """fast_mode: one row per input, the slope of F along a random direction u of the input's
    shape (central differences with the step eps * u) against sum(analytic * u)."""
    evaluate = _evaluator(f, weights, "f")
    f0 = evaluate(args)
    rows: list[GradientRow] = []
    for i, a in checked:
        u = _direction(a.shape, i)
        slopes = _Slopes(np.empty(()), np.empty(()), np.empty(()))
        _fill(slopes.central, slopes.left, slopes.right, 0, f0, _plus_minus(evaluate, args, i, eps * u), eps)
        with np.errstate(all="ignore"):
            along = np.asarray(np.sum(a * u))
        rows += _rows_for(i, f"{names[i]} along u", along, slopes, atol, rtol)
    return rows


def _diagnosis(
    f: Callable[..., Any], args: tuple[Any, ...], positions: list[int], out: Node, report: GradcheckReport
) -> list[str]:
    """Why gradients are wrong: the op whose own rule is wrong (the local checks of f's graph,
    kept in `report.local`), else a hint at what else makes autograd disagree."""
    local = check_local_derivatives(
        out, report.eps, report.atol, report.rtol, raise_exception=False, allow_skips=True
    )
    report.local = local
    first = local.first_failure
    if first is not None:
        return [
            f"cause: op {first.op!r} has a wrong derivative rule (node {first.position} of "
            f"{len(local.checks)} in forward order, found by check_local_derivatives on f's graph): "
            "fix its backward; report.local compares the rule with finite differences"
        ]
    if not report.failures:  # only the second backward pass disagrees, and no rule ignores g
        return [
            "hint: every op's own rule is right at the upstream gradient report.local shows, so a "
            "backward rule depends on state or randomness (the backward pass is not reentrant): make "
            "it deterministic, or pass nondet_tol= to allow that much (so too where the gradients pass "
            "through numbers below 1e-308, which halving rounds)"
        ]
    outputs = [_output_array(f(*args), "f") for _ in range(2)]
    if not np.array_equal(outputs[0], outputs[1], equal_nan=True):
        return [
            f"hint: f gives different outputs for the same inputs ({_short(outputs[0])}, then "
            f"{_short(outputs[1])}): finite differences need a deterministic f (fix its random seed, "
            "keep no state between calls)"
        ]
    if all(r.note for r in report.failures):
        return []  # each wrong row says why already (a kink, f not finite nearby)
    cut = _cut_leaves(f, args, positions)
    if cut:
        return [
            f"hint: f's graph has {len(cut)} leaf node(s) that are not inputs but move with the inputs "
            f"(data {', '.join(_short(n.data) for n in cut[:3])}): the graph is cut there (f, or a "
            "backward rule, took a number out with .data, .item(), float(...) or detach() and made "
            "a new node of it), so autograd cannot see that path"
        ]
    return [
        "hint: no single cause found: every op's own rule matches finite differences at its inputs "
        "(for the upstream gradient report.local shows), f is deterministic and its graph is not "
        f"cut; try another eps (this check used {report.eps:g}), or the rules at other upstream gradients"
    ]


def _leaves(out: Any, inputs: list[Any]) -> list[Node]:
    """The leaf nodes of out's graph other than `inputs`, in a fixed order (depth first)."""
    if not isinstance(out, Node):
        return []
    leaves: list[Node] = []
    seen: set[int] = {id(x) for x in inputs}
    stack = [out]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._op is None:
            leaves.append(node)
        stack.extend(reversed(node._parents))
    return leaves


def _cut_leaves(f: Callable[..., Any], args: tuple[Any, ...], positions: list[int]) -> list[Node]:
    """Leaves of f's graph, other than the inputs, whose data moves when the inputs move: a
    number taken out of the graph and put back as a new node, where autograd cannot follow."""
    inputs = [args[i] for i in positions]
    before = _leaves(f(*args), inputs)
    bases = [x.data for x in inputs]
    try:
        for x, base in zip(inputs, bases):
            x.data = base * (1 + 1e-3) + 1e-3
        after = _leaves(f(*args), inputs)
    except Exception:  # noqa: BLE001 - f refuses inputs moved that far: no verdict on cuts
        return []
    finally:
        for x, base in zip(inputs, bases):
            x.data = base
    if len(before) != len(after):
        return []  # another graph: the leaves cannot be matched up
    with np.errstate(all="ignore"):
        return [
            b
            for b, a in zip(before, after)
            if np.shape(b.data) == np.shape(a.data) and np.any(b.data != a.data)
        ]


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    *,
    nondet_tol: float = 0.0,
    fast_mode: bool = False,
) -> GradcheckReport:
    """Check second derivatives: `gradcheck` of the gradients `grad(..., create_graph=True)`
    computes, as `torch.autograd.gradgradcheck` does.

    The function checked is `sum_i sum(v_i * dF/dx_i)` for fixed random weights `v_i` of each
    input's shape, where `F = sum(grad_outputs * f)` (`grad_outputs` defaults to 1 for a scalar
    output, to fixed random weights otherwise): its gradient is the Hessian of F times v, so
    every second derivative takes part. It catches a backward rule that gives the right
    numbers but is not differentiable as written: one that computes with raw numbers (`.data`,
    `np.exp`) instead of the operators of the Values or Tensors it is given. Unlike PyTorch,
    `grad_outputs` are constants here, not checked as inputs.
    """
    _check_callable(f, "f")
    _check_tolerances(eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol)
    args = _as_args(inputs)
    perturbed = _inputs_to_perturb("gradgradcheck", args, autograd=True)  # before f runs
    given = None if grad_outputs is None else np.asarray(_raw_of(grad_outputs), dtype=np.float64)

    def first_derivatives(*call_args: Any) -> Any:
        return _projected_gradient(f(*call_args), call_args, given)

    out = f(*args)  # outside any handler: an error of f's own is shown as it is
    refused: Exception | None = None
    try:
        _projected_gradient(out, args, given)
    except Exception as error:  # noqa: BLE001 - perhaps a backward rule that cannot run on nodes
        refused = error
    if refused is not None:  # probed here, not in the handler: one traceback if f raises
        refusing = _rule_refusing_nodes(out)
        if refusing is None:
            raise refused
        problem, cause = refusing
        report = GradcheckReport("gradgradcheck", [], eps, atol, rtol, [problem], advice=[cause])
        return _finish(report, raise_exception)
    report = _gradcheck(
        "gradgradcheck", first_derivatives, args, perturbed, eps, atol, rtol, nondet_tol, fast_mode
    )
    report.notes.insert(
        0, "checked the gradient of sum_i sum(v_i * dF/dx_i) for fixed random weights v_i: second derivatives"
    )
    return _finish(report, raise_exception)


def _projected_gradient(out: Any, args: tuple[Any, ...], given: np.ndarray | None) -> Any:
    """The function gradgradcheck checks: sum_i sum(v_i * dF/dx_i) as a node, from f's output
    `out` at `args` (an `out` that is not a node is returned for _gradcheck to refuse)."""
    if not isinstance(out, Node):
        return out
    nodes = [a for a in args if isinstance(a, Node) and a.requires_grad]
    weights = given
    if weights is None and np.size(out.data) != 1:
        weights = _probe_weights(np.shape(out.data))
    grads = grad(out, nodes, grad_outputs=weights, create_graph=True, allow_unused=True)
    total = None
    for k, (node, g) in enumerate(zip(nodes, grads)):
        if g is None:
            continue
        if isinstance(node.data, np.ndarray):
            term = (g * _direction(node.data.shape, k)).sum()
        else:
            term = g * float(_direction((), k))
        total = term if total is None else total + term
    if total is None:
        raise ValueError("gradgradcheck: f does not depend on any input that requires grad")
    return total


def _rule_refusing_nodes(out: Any) -> tuple[str, str] | None:
    """The problem and its cause where an op's backward rule cannot run on nodes (as
    create_graph=True runs it): the error it raises (numpy's own, say), and how to write the
    rule instead; None if every rule runs."""
    if not isinstance(out, Node):
        return None
    for node in reversed(topological_order(out)):
        if node._op is None:
            continue
        ones = np.ones(np.shape(node.data)) if isinstance(node.data, np.ndarray) else 1.0
        try:
            with enable_grad():
                local_gradients(node, node._constant_like(ones), create_graph=True)
        except Exception as error:  # noqa: BLE001 - this rule is the one that refuses nodes
            kind = type(node).__name__
            return (
                f"the first derivatives cannot be differentiated: the backward rule of op {node.op!r} "
                f"cannot run on {kind}s ({type(error).__name__}: {error})",
                f"cause: op {node.op!r} has a backward rule written for numbers: under create_graph=True "
                f"a rule gets {kind}s, not numbers, so {RULES_ON_NODES}",
            )
    return None
