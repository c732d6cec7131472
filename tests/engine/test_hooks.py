"""Gradient hooks (`register_hook`) on Tensors and Values, as PyTorch's: what a hook receives,
how its result replaces the gradient that flows on and is stored, which passes call it, its
handle, and its errors. Against PyTorch float64 where PyTorch has the same case."""

from __future__ import annotations

import gc
import math
import weakref
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch, same, using_engine
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import Tensor, Value, hooks
from micrograd_plus.engine import dot
from micrograd_plus.viz.trace import backward_steps, format_value, record_backward

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

finite = st.floats(-3.0, 3.0, allow_nan=False, width=64)
vectors = st.lists(finite, min_size=3, max_size=3)


def _graph(lib: Any, x: Any, w: Any, scale: float, shift: float, seen: dict[str, list[Any]]) -> Any:
    """loss = sum(tanh(u) * u + tanh(u)), u = x * w: u is reached twice. Hooks: u's gradient
    scaled, x's shifted (a leaf), w's only looked at; the loss's seed doubled (the root)."""

    def look(name: str, change: Any) -> Any:
        def hook(g: Any) -> Any:
            seen[name].append(np.array(g.detach().numpy() if lib is not mg else g.data, dtype=float))
            return change(g)

        return hook

    u = x * w
    u.retain_grad()
    u.register_hook(look("u", lambda g: g * scale))
    x.register_hook(look("x", lambda g: g + shift))
    w.register_hook(look("w", lambda g: None))
    v = u.tanh()
    loss = (v * u + v).sum()
    loss.register_hook(look("loss", lambda g: g * 2))
    loss.backward()
    return u


@given(vectors, vectors, finite, finite)
def test_hooks_that_scale_replace_and_look_give_pytorchs_gradients(xs, ws, scale, shift):
    torch = require_torch()
    ours: dict[str, list[Any]] = {"u": [], "x": [], "w": [], "loss": []}
    theirs: dict[str, list[Any]] = {"u": [], "x": [], "w": [], "loss": []}
    x, w = Tensor(xs, requires_grad=True), Tensor(ws, requires_grad=True)
    tx, tw = torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True)
    u = _graph(mg, x, w, scale, shift, ours)
    tu = _graph(torch, tx, tw, scale, shift, theirs)
    for name in ours:  # each hook called once, with the total (u: both uses summed)
        assert len(ours[name]) == len(theirs[name]) == 1
        assert close_to_torch(ours[name][0], theirs[name][0]), name
    assert close_to_torch(x.grad, tx.grad.numpy()) and close_to_torch(w.grad, tw.grad.numpy())
    assert close_to_torch(u.grad, tu.grad.numpy())  # retain_grad keeps the hook's result


def _value_graph(lib: Any, make: Any, scale: float, shift: float, seen: list[Any]) -> tuple[Any, ...]:
    a, b = make(1.5), make(-0.5)
    c = a * b
    c.register_hook(lambda g: seen.append(float(g)) or g * scale)
    a.register_hook(lambda g: g + shift)
    d = (c.tanh() * c + c.exp()) * b
    d.backward()
    return a, b


@given(finite, finite)
def test_value_hooks_receive_and_return_floats_as_pytorchs_scalars(scale, shift):
    torch = require_torch()
    ours: list[Any] = []
    theirs: list[Any] = []
    kinds: list[type] = []
    a, b = _value_graph(mg, Value, scale, shift, ours)
    ta, tb = _value_graph(torch, lambda x: torch.tensor(x, requires_grad=True), scale, shift, theirs)
    assert close_to_torch(ours, theirs)
    assert close_to_torch(a.grad, ta.grad.item()) and close_to_torch(b.grad, tb.grad.item())
    c = Value(scale)
    c.register_hook(lambda g: kinds.append(type(g)))
    (c * shift).backward()
    assert kinds == [float]


def test_several_hooks_run_in_order_each_given_the_one_befores_result():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen: list[Any] = []
    y.register_hook(lambda g: seen.append(g.data.copy()) or g + 1)
    y.register_hook(lambda g: seen.append(g.data.copy()) or g * 10)
    y.register_hook(lambda g: seen.append(g.data.copy()))  # returns None: leaves it
    y.sum().backward()
    assert [s.tolist() for s in seen] == [[1.0, 1.0], [2.0, 2.0], [20.0, 20.0]]
    assert x.grad.tolist() == [60.0, 60.0]


def test_a_leaf_hook_sees_each_passs_gradient_before_it_is_added_to_grad():
    x = Tensor([1.0, -2.0], requires_grad=True)
    seen: list[Any] = []
    x.register_hook(lambda g: seen.append(g.data.tolist()) or g * 2)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0], [3.0, 3.0]]  # not the sum so far
    assert x.grad.tolist() == [12.0, 12.0]  # each pass's replacement added


def test_removing_a_handle_stops_its_hook_alone_and_twice_is_fine():
    v = Value(2.0)
    calls: list[str] = []
    first = v.register_hook(lambda g: calls.append("first"))
    v.register_hook(lambda g: calls.append("second") or g * 5)
    first.remove()
    first.remove()
    (v * v).backward()
    assert calls == ["second"] and v.grad == 20.0
    with v.register_hook(lambda g: calls.append("inside")):
        pass
    v.zero_grad()
    (v * v).backward()
    assert calls == ["second", "second"] and v.grad == 20.0


def test_a_hook_that_removes_itself_runs_once():
    v = Value(3.0)
    calls: list[float] = []

    def once(g: float) -> None:
        calls.append(g)
        handle.remove()

    handle = v.register_hook(once)
    (v * 2).backward()
    (v * 2).backward()
    assert calls == [2.0] and v.grad == 4.0


def test_a_change_in_place_to_the_hooks_argument_is_the_new_gradient_and_no_one_elses():
    torch = require_torch()
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    ta = torch.tensor([1.0, 2.0], requires_grad=True)
    a.register_hook(lambda g: g.mul_(5))  # '+' sends the same gradient to a and b
    ta.register_hook(lambda g: g.mul_(5))
    (a + b).sum().backward()
    (ta * 1).sum().backward()
    assert close_to_torch(a.grad, ta.grad.numpy()) and b.grad.tolist() == [1.0, 1.0]


def test_grad_applies_the_hooks_on_the_way_to_the_inputs_only():
    torch = require_torch()
    ours: list[str] = []
    theirs: list[str] = []

    def make(lib: Any, seen: list[str]) -> Any:
        new = (
            (lambda xs: Tensor(xs, requires_grad=True))
            if lib is mg
            else (lambda xs: torch.tensor(xs, requires_grad=True))
        )
        a, b = new([1.0, 2.0]), new([3.0, 4.0])
        a.register_hook(lambda g: seen.append("a") or g * 2)
        b.register_hook(lambda g: seen.append("b"))
        u, v = a * 2, b * 3
        u.register_hook(lambda g: seen.append("u") or g + 1)
        v.register_hook(lambda g: seen.append("v"))
        return lib.autograd.grad((u * v).sum(), [a])[0]

    ga, tga = make(mg, ours), make(torch, theirs)
    assert sorted(ours) == sorted(theirs) == ["a", "u"]
    assert close_to_torch(ga.data, tga.numpy())


def test_backward_to_some_inputs_calls_the_hooks_on_the_way_to_them_only():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    seen: list[str] = []
    a.register_hook(lambda g: seen.append("a") or g * 2)
    b.register_hook(lambda g: seen.append("b"))
    v = b * 3
    v.register_hook(lambda g: seen.append("v"))
    mg.autograd.backward([(a * v).sum()], inputs=[a])
    assert seen == ["a"] and a.grad.tolist() == [18.0, 24.0] and b.grad is None


@given(vectors)
def test_under_create_graph_a_hook_receives_and_returns_nodes_that_record(xs):
    torch = require_torch()
    x, tx = Tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)
    received: list[Any] = []
    u, tu = x * x, tx * tx
    u.register_hook(lambda g: received.append(g) or g * x)  # the result depends on x: recorded
    tu.register_hook(lambda g: g * tx)
    (gx,) = mg.grad(u.sum(), x, create_graph=True)
    (tgx,) = torch.autograd.grad(tu.sum(), tx, create_graph=True)
    assert isinstance(received[0], Tensor) and gx.requires_grad
    assert close_to_torch(gx.data, tgx.detach().numpy())
    (second,) = mg.grad(gx.sum(), x)
    (tsecond,) = torch.autograd.grad(tgx.sum(), tx)
    assert close_to_torch(second, tsecond.numpy())


def test_a_value_hook_under_create_graph_gets_a_value_and_may_return_a_number():
    x = Value(3.0)
    kinds: list[type] = []
    y = x * x
    y.register_hook(lambda g: kinds.append(type(g)) or g * x)
    (gx,) = mg.grad(y, x, create_graph=True)  # 2x * x = 2x^2
    assert kinds == [Value] and gx.data == 18.0
    assert mg.grad(gx, x)[0].data == 12.0  # d(2x^2)/dx = 4x: the hook's x recorded
    z = x * 2
    z.register_hook(lambda g: 7)
    assert mg.grad(z, x, create_graph=True)[0].data == 14.0


def test_a_node_that_only_rules_none_reach_calls_no_hook():
    first_only = mg.Op("first", lambda a, b: a + 0.0 * b, lambda g, out, a, b: (g, None))
    a, b = Value(1.0), Value(2.0)
    seen: list[str] = []
    b.register_hook(lambda g: seen.append("b"))
    Value.apply(first_only, a, b).backward()
    assert seen == []


def test_registering_on_a_node_that_does_not_require_grad_is_pytorchs_error():
    with pytest.raises(
        RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"
    ):
        Tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="this Value has requires_grad=False"):
        Value(1.0, requires_grad=False).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="takes a function hook"):
        Value(1.0).register_hook(3)


@pytest.mark.parametrize(
    ("change", "torchs", "error", "words"),
    [
        (
            lambda g: g.sum(),
            lambda g: g.sum(),
            RuntimeError,
            r"hook '<lambda>' has changed the size of value: .*shape \(\) for a Tensor of shape \(2,\)",
        ),
        (
            lambda g: g.float(),
            lambda g: g.float(),
            RuntimeError,
            r"has changed the type of value \(was float64 got float32\)",
        ),
        (lambda g: 3.0, lambda g: 3.0, TypeError, "expected Tensor, but hook '<lambda>' returned 'float'"),
        (lambda g: g.data * 2, lambda g: g.numpy() * 2, TypeError, "returned 'ndarray'"),
    ],
)
def test_a_tensor_hook_returning_another_shape_dtype_or_kind_is_refused_before_any_grad_is_stored(
    change, torchs, error, words
):
    torch = require_torch()
    x = Tensor([1.0, 2.0], requires_grad=True)
    u = x * 2
    u.register_hook(change)
    with pytest.raises(error, match=words):
        u.sum().backward()
    assert x.grad is None
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    tu = tx * 2
    tu.register_hook(torchs)
    with pytest.raises(error):  # PyTorch refuses each too, with the same kind of error
        tu.sum().backward()


def test_a_value_hook_returning_a_non_number_is_refused():
    v = Value(1.0)
    v.register_hook(lambda g: "twice")
    with pytest.raises(TypeError, match="expected a number, but hook '<lambda>' returned 'str'"):
        (v * 2).backward()
    assert v.grad == 0.0


def test_a_hook_whose_closure_refers_to_its_node_lets_the_graph_be_collected():
    def graph() -> tuple[list[float], list[Any]]:
        x = Tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        x.register_hook(lambda g: g * x.data)  # the closure holds x (a cycle, as in PyTorch)
        y.register_hook(lambda g: g * y.data)
        (y * y).sum().backward()
        return x.grad.tolist(), [weakref.ref(x), weakref.ref(y)]

    gc.collect()
    before = len(hooks.hooked_nodes)  # (nodes of other tests still alive, if any)
    grad, dead = graph()
    assert grad == [6.0 * 3 * 3 * 1, 12.0 * 6 * 3 * 2]  # (y's hook, then x's)
    assert len(hooks.hooked_nodes) == before + 2
    gc.collect()
    assert [ref() for ref in dead] == [None, None]
    assert len(hooks.hooked_nodes) == before  # and the walks look for their hooks no more


def test_a_node_whose_last_hook_is_removed_is_no_longer_looked_at():
    v = Value(1.0)
    first, second = v.register_hook(lambda g: None), v.register_hook(lambda g: g * 2)
    assert id(v) in hooks.hooked_nodes
    first.remove()
    assert id(v) in hooks.hooked_nodes
    second.remove()
    assert id(v) not in hooks.hooked_nodes and not hooks.hooked([v])
    (v * 3).backward()
    assert v.grad == 3.0


def _hooked_value_graph(calls: list[str], with_hooks: bool = True) -> tuple[Value, Value, Value, Value]:
    x, w = Value(2.0, label="x"), Value(-1.5, label="w")
    u = x * w
    u.label = "u"
    loss = u.tanh()
    if with_hooks:
        u.register_hook(lambda g: calls.append("u") or g * 3)
        x.register_hook(lambda g: calls.append("x") or g + 1)  # a leaf's: after the last rule
        loss.register_hook(lambda g: calls.append("loss") or g * 2)  # the root's
    return x, w, u, loss


def test_the_viewers_run_no_hook_and_show_the_chain_rule_alone(tmp_path):
    calls: list[str] = []
    x, w, u, loss = _hooked_value_graph(calls)
    steps = record_backward(loss)
    mg.draw_dot(loss, step=2)
    mg.export_html(loss, tmp_path / "player.html")
    assert calls == [] and (x.grad, w.grad, u.grad) == (0.0, 0.0, 0.0)
    plain = _hooked_value_graph(calls, with_hooks=False)
    plain[3].backward()
    assert [share.grad_after for share in steps[-1].shares] == [plain[0].grad, plain[1].grad]
    assert [step.upstream for step in steps] == [1.0, 1.0, plain[2].grad]
    assert all(not step.hooks for step in steps)


def test_backward_steps_is_the_real_pass_and_narrates_each_hooks_replacement():
    calls: list[str] = []
    x, w, u, loss = _hooked_value_graph(calls)
    steps = list(backward_steps(loss))
    live = (x.grad, w.grad, u.grad, loss.grad)
    assert calls == ["loss", "u", "x"]
    x.zero_grad(), w.zero_grad()
    loss.backward()
    assert live == (x.grad, w.grad, u.grad, loss.grad)
    root_hook, u_hook, x_hook = (change for step in steps for change in step.hooks)
    assert (root_hook.node, root_hook.before, root_hook.after) == (loss, 1.0, 2.0)
    upstream = 2.0 * (1 - math.tanh(-3.0) ** 2)
    assert (u_hook.node, u_hook.before, u_hook.after) == (u, upstream, upstream * 3)
    assert steps[2].upstream == upstream * 3  # u's rule received its hook's result
    # x's hook runs after the last rule: a last step narrates it, with x.grad as backward() leaves it
    assert steps[-1].upstream is None and steps[-1].hooks == (x_hook,)
    assert (x_hook.before, x_hook.after, x_hook.grad_after) == (upstream * 3 * -1.5, x.grad, x.grad)
    assert str(steps[1]).startswith("the hook on L replaced dL/dL: 1.0 -> 2.0")
    assert str(steps[-1]) == (
        f"the hook on x replaced dL/dx: {format_value(x_hook.before)} -> {format_value(x.grad)}   "
        f"(x.grad: {format_value(x_hook.before)} -> {format_value(x.grad)})"
    )


@pytest.mark.engine("fast")
@given(st.lists(finite, min_size=6, max_size=6), finite)
def test_both_engines_give_the_same_bits_with_hooks_on_neurons_and_leaves(numbers, scale):
    results = []
    for name in ("reference", "fast"):
        with using_engine(name):
            ws = [Value(n) for n in numbers[:3]]
            xs = [Value(n) for n in numbers[3:]]
            seen: list[float] = []
            h = dot(ws, xs, 0.5, "relu")
            h.register_hook(lambda g, seen=seen: seen.append(g) or g * scale)
            ws[0].register_hook(lambda g, seen=seen: seen.append(g) or g - scale)
            out = h * h + h
            out.backward()
            results.append([*seen, *(v.grad for v in ws + xs)])
    assert len(results[0]) == len(results[1])
    for ours, fast in zip(*results):  # (bit for bit, but for the sign of a zero: see fast.py)
        assert same(ours, fast) or ours == fast == 0.0


def test_grad_of_an_intermediate_input_is_its_hooks_result_as_pytorchs():
    torch = require_torch()
    x, tx = Tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    u, tu = x * 3, tx * 3
    u.register_hook(lambda g: g * 10)
    tu.register_hook(lambda g: g * 10)
    (gu,) = mg.grad((u * u).sum(), u)
    (tgu,) = torch.autograd.grad((tu * tu).sum(), tu)
    assert close_to_torch(gu, tgu.numpy())


@pytest.mark.engine("fast")
@given(vectors, vectors, finite)
def test_both_engines_give_the_same_bits_with_hooks_on_tensors(xs, ws, scale):
    results = []
    for name in ("reference", "fast"):
        with using_engine(name):
            x, w = Tensor(xs, requires_grad=True), Tensor(ws, requires_grad=True)
            u = (x * w).relu()
            u.register_hook(lambda g: g * scale)
            w.register_hook(lambda g: g - scale)
            (u * u + u.tanh()).sum().backward()
            results.append(np.concatenate([x.grad, w.grad]))
    assert results[0].tobytes() == results[1].tobytes()


float32s = st.lists(st.floats(-2.0, 2.0, allow_nan=False, width=32), min_size=3, max_size=3)
# (no number near the subnormals: there 2 * (g * 3.3) and (2 * g) * 3.3 round apart)
normal = st.lists(st.floats(-3.0, 3.0).filter(lambda v: v == 0 or abs(v) > 1e-200), min_size=3, max_size=3)


def _mixed_graph(lib: Any, xs: list[float], ws: list[float], hook: Any = None) -> tuple[Any, Any]:
    """u = x * 3.3, x float32, times a float64 w: the walk sums u's gradient in float64."""
    if lib is mg:
        x, w = Tensor(np.array(xs, np.float32), requires_grad=True), Tensor(ws)
    else:
        x, w = lib.tensor(xs, dtype=lib.float32, requires_grad=True), lib.tensor(ws, dtype=lib.float64)
    u = x * 3.3
    if hook is not None:
        u.register_hook(hook)
    return x, (u * w).exp().sum()


@given(float32s, vectors)
def test_a_hook_that_only_looks_changes_no_bit_of_a_float32_and_float64_graph(xs, ws):
    torch = require_torch()
    seen: list[Any] = []
    x, y = _mixed_graph(mg, xs, ws)
    y.backward()
    looked, z = _mixed_graph(mg, xs, ws, lambda g: seen.append(g.dtype))
    z.backward()
    assert looked.grad.tobytes() == x.grad.tobytes() and looked.grad.dtype == np.float32
    tx, ty = _mixed_graph(torch, xs, ws, lambda g: seen.append(g.dtype))
    ty.backward()
    assert seen == [np.float32, torch.float32]  # the hook gets the node's dtype, as PyTorch's
    assert np.allclose(x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-30)  # (float32's precision)


@given(float32s, vectors)
def test_a_hook_that_changes_its_argument_in_place_or_returns_it_changed_gives_the_same_bits(xs, ws):
    torch = require_torch()
    x, y = _mixed_graph(mg, xs, ws, lambda g: g * 2)
    y.backward()
    inplace, z = _mixed_graph(mg, xs, ws, lambda g: g.mul_(2))
    z.backward()
    assert inplace.grad.tobytes() == x.grad.tobytes()
    tx, ty = _mixed_graph(torch, xs, ws, lambda g: g * 2)
    ty.backward()
    assert np.allclose(x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-30)


@given(float32s, normal)
def test_under_create_graph_a_hook_is_judged_by_the_dtype_of_the_gradient_it_was_given(xs, ws):
    x, y = _mixed_graph(mg, xs, ws)
    (plain,) = mg.grad(y, x, create_graph=True)
    x, y = _mixed_graph(mg, xs, ws, lambda g: g * 2)
    (doubled,) = mg.grad(y, x, create_graph=True)  # the walk's float64 node, returned doubled
    assert doubled.data.tobytes() == (plain.data * 2).tobytes()
    x, y = _mixed_graph(mg, xs, ws, lambda g: g.float())
    with pytest.raises(RuntimeError, match=r"changed the type of value \(was float64 got float32\)"):
        mg.grad(y, x, create_graph=True)


def test_a_hook_on_a_float32_node_returning_float64_is_refused_as_pytorch_does():
    torch = require_torch()
    x, y = _mixed_graph(mg, [1.0, 2.0, 3.0], [0.5, 0.25, 0.125], lambda g: g.double())
    with pytest.raises(RuntimeError, match=r"changed the type of value \(was float32 got float64\)"):
        y.backward()
    assert x.grad is None
    tx, ty = _mixed_graph(torch, [1.0, 2.0, 3.0], [0.5, 0.25, 0.125], lambda g: g.double())
    with pytest.raises(RuntimeError, match="has changed the type of value"):
        ty.backward()


@given(vectors, finite)
def test_a_hook_registered_by_a_hook_during_a_pass_runs_in_that_pass_as_pytorchs(xs, scale):
    torch = require_torch()

    def run(x: Any) -> Any:
        u = x * 3
        u.register_hook(lambda g: x.register_hook(lambda h: h * scale) and None)  # (None: only registers)
        (u * u).sum().backward()
        return x.grad

    ours = run(Tensor(xs, requires_grad=True))
    theirs = run(torch.tensor(xs, requires_grad=True))
    assert close_to_torch(ours, theirs.numpy())


@given(finite, finite)
def test_a_value_hook_registered_during_a_pass_runs_in_it_under_both_walks(a, scale):
    torch = require_torch()

    def run(x: Any) -> Any:
        u = x * 2
        u.register_hook(lambda g: x.register_hook(lambda h: h * scale) and None)
        (u * u + x).backward()
        return x.grad

    ours = run(Value(a))
    theirs = run(torch.tensor(a, requires_grad=True))
    assert close_to_torch(ours, theirs.item())


def test_a_hook_that_runs_its_own_backward_leaves_the_outer_pass_right_as_pytorch():
    """The fast walk keeps its running sums in the nodes: a backward() inside a hook (or while
    another fast walk is under way) runs engine.py's walk, so the outer pass keeps its sums."""
    torch = require_torch()
    results = []
    for lib in (mg, torch):
        a = lib.tensor([2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([5.0], dtype=lib.float64, requires_grad=True)
        c = a * b
        loss = (c * a).sum()

        def hook(g: Any, a: Any = a, lib: Any = lib) -> None:
            with lib.enable_grad():
                (a * 3).sum().backward()

        c.register_hook(hook)
        loss.backward()
        results.append(float(a.grad[0]))
    assert results[0] == results[1] == 23.0  # 2ab + b = 25 - ... : 20 + 3 from the hook's pass
    v, w = Value(2.0), Value(5.0)
    u = v * w

    def value_hook(g: float) -> None:
        with mg.enable_grad():  # (a pass runs under no_grad)
            (v * 3).backward()

    u.register_hook(value_hook)
    (u * v).backward()
    assert v.grad == 23.0


def test_a_rule_that_runs_a_backward_inside_a_fast_walk_gets_the_reference_walk():
    """No hook at all: a custom rule calling backward() while the walk runs (a fast walk is
    under way) is given engine.py's walk, so both engines agree bit for bit."""
    a, b = Value(2.0), Value(5.0)

    def rule(g: float, out: float, x: float) -> tuple[float]:
        with mg.enable_grad():  # (a pass runs under no_grad)
            (a * 3).backward()  # a second pass, from inside the first
        return (g * 2 * x,)

    square = mg.Op("square", lambda x: x * x, rule)
    loss = Value.apply(square, a * b) * a
    loss.backward()
    assert a.grad == 2 * 10 * 5 * 2 + 100 + 3  # d/da (ab)^2 a = 3 a^2 b^2 = 300, plus 3


def test_a_hook_that_sees_the_sign_of_a_zero_sees_the_same_on_both_engines():
    w, x = Value(-1.0), Value(2.0)
    x.register_hook(lambda g: math.copysign(1.0, g))
    dot([w], [x], 0.0, "relu").backward()  # an inactive neuron: x's gradient is -0.0 (0 * -1)
    assert x.grad == -1.0


def test_steps_narrate_only_hooks_that_replaced_a_gradient():
    x = Value(1.5, label="x")
    c = x * 2
    c.label = "c"
    loss = c * c
    loss.register_hook(lambda g: None)  # looks
    c.register_hook(lambda g: None)  # looks
    x.register_hook(lambda g: None)  # looks
    steps = list(backward_steps(loss))
    assert all(not step.hooks for step in steps) and "hook" not in "\n".join(map(str, steps))
    assert x.grad == 12.0  # d/dx (2x)^2 = 8x, once


def test_a_hook_that_fails_during_the_steps_leaves_every_grad_as_backward_would():
    x = Value(1.0)
    y = x * 3
    z = y * x
    y.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        list(backward_steps(z))
    assert (x.grad, y.grad, z.grad) == (0.0, 0.0, 0.0)
    with pytest.raises(ZeroDivisionError):
        z.backward()
    assert (x.grad, y.grad, z.grad) == (0.0, 0.0, 0.0)
