"""Backward hooks on modules, as PyTorch's `register_full_backward_hook` and
`register_full_backward_pre_hook`: what grad_input and grad_output hold, what a returned tuple
replaces, order, `prepend`, handles, PyTorch's errors and warnings, several inputs and outputs, a
module called twice, `grad(create_graph=True)`, each against the same model in PyTorch float64
(to 1e-9), under both engines; and a module without them keeps the plain graph."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch, twin_models
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import MLP, Linear, Module, Tensor, Value
from micrograd_plus.viz.trace import record_backward

pytestmark = pytest.mark.usefixtures("each_engine")

inputs = hnp.arrays(np.float64, (2, 3), elements=st.floats(-3.0, 3.0, allow_nan=False, width=64))


def as_numpy(grads: tuple[Any, ...] | None) -> list[Any]:
    """A hook's tuple of gradients as arrays (None stays None), of either library."""
    assert isinstance(grads, tuple)
    return [
        None if g is None else np.array(g.detach().numpy() if hasattr(g, "numpy") else g.data) for g in grads
    ]


def agree(ours: list[Any], theirs: list[Any]) -> bool:
    return len(ours) == len(theirs) and all(
        (a is None and b is None) or (a is not None and b is not None and close_to_torch(a, b))
        for a, b in zip(ours, theirs)
    )


def record_every_layer(model: Any) -> list[tuple[str, str, list[Any], list[Any]]]:
    """A full backward hook and a pre-hook on every module: (kind, name, grads, grad_output)
    in the order they run."""
    seen: list[tuple[str, str, list[Any], list[Any]]] = []
    for name, module in model.named_modules():
        module.register_full_backward_pre_hook(
            lambda m, go, name=name: seen.append(("pre", name, as_numpy(go), []))
        )
        module.register_full_backward_hook(
            lambda m, gi, go, name=name: seen.append(("full", name, as_numpy(gi), as_numpy(go)))
        )
    return seen


def both_backward(ours: Any, theirs: Any, x: np.ndarray, x_requires_grad: bool = True) -> tuple[Any, Any]:
    """loss = (model(x) ** 2).sum() and its backward in both; returns the two inputs."""
    torch = require_torch()
    a, b = Tensor(x, requires_grad=x_requires_grad), torch.tensor(x, requires_grad=x_requires_grad)
    (ours(a) ** 2).sum().backward()
    (theirs(b) ** 2).sum().backward()
    return a, b


def assert_same_parameter_grads(ours: Any, theirs: Any) -> None:
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert close_to_torch(p.grad, q.grad.numpy()), name


@given(inputs)
def test_hooks_on_every_layer_see_the_gradients_flowing_out_of_and_into_it_as_in_torch(x: np.ndarray) -> None:
    ours, theirs = twin_models()
    seen_ours, seen_theirs = record_every_layer(ours), record_every_layer(theirs)
    a, b = both_backward(ours, theirs, x)
    assert [s[:2] for s in seen_ours] == [s[:2] for s in seen_theirs]  # the same hooks in the same order
    assert len(seen_ours) == 8  # a pre-hook and a full hook per module (the Sequential and its three)
    for (kind, name, grads, grad_output), (_, _, their_grads, their_grad_output) in zip(
        seen_ours, seen_theirs
    ):
        assert agree(grads, their_grads), (kind, name)
        assert agree(grad_output, their_grad_output), (kind, name)
    assert close_to_torch(a.grad, b.grad.numpy())
    assert_same_parameter_grads(ours, theirs)


@given(inputs, st.floats(0.01, 2.0), st.floats(-3.0, 3.0))
def test_a_hook_that_clips_or_scales_grad_input_changes_the_gradients_upstream_as_in_torch(
    x: np.ndarray, bound: float, scale: float
) -> None:
    ours, theirs = twin_models()
    for model in (ours, theirs):
        model[2].register_full_backward_hook(lambda m, gi, go: (gi[0].clamp(-bound, bound) * scale,))
        model[0].register_full_backward_pre_hook(lambda m, go: (go[0] * scale,))
    a, b = both_backward(ours, theirs, x)
    assert close_to_torch(a.grad, b.grad.numpy())
    assert_same_parameter_grads(ours, theirs)
    # not what a pass without the hooks gives (the hooks are what changed it)
    plain = twin_models()[0]
    c = Tensor(x, requires_grad=True)
    (plain(c) ** 2).sum().backward()
    if abs(scale) != 1 and np.abs(c.grad).max() > 1e-6:
        assert not np.allclose(a.grad, c.grad)


def test_hooks_run_in_the_order_registered_prepend_first_and_a_removed_one_no_more() -> None:
    torch = require_torch()
    x = np.arange(6.0).reshape(2, 3)

    def calls(model: Any, make: Any) -> list[str]:
        order: list[str] = []
        handles = {}
        for name in "abc":
            handles[name] = model.register_full_backward_hook(lambda m, gi, go, name=name: order.append(name))
            model.register_full_backward_pre_hook(lambda m, go, name=name: order.append("pre " + name))
        model.register_full_backward_hook(lambda m, gi, go: order.append("first"), prepend=True)
        model.register_full_backward_pre_hook(lambda m, go: order.append("pre first"), prepend=True)
        handles["b"].remove()
        handles["b"].remove()  # (again: nothing)
        with handles["c"]:
            pass
        model(make(x, requires_grad=True)).sum().backward()
        return order

    ours = calls(Linear(3, 2, seed=0), Tensor)
    assert ours == calls(torch.nn.Linear(3, 2), torch.tensor)
    assert ours == ["pre first", "pre a", "pre b", "pre c", "first", "a"]


def test_hooks_run_once_per_pass_through_each_call_and_a_call_twice_runs_them_twice() -> None:
    torch = require_torch()
    ours = Linear(3, 3, seed=0)
    theirs = torch.nn.Linear(3, 3)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    seen_ours: list[Any] = []
    seen_theirs: list[Any] = []
    ours.register_full_backward_hook(lambda m, gi, go: seen_ours.append(as_numpy(gi) + as_numpy(go)))
    theirs.register_full_backward_hook(lambda m, gi, go: seen_theirs.append(as_numpy(gi) + as_numpy(go)))
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    a, b = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, z = ours(ours(a)).tanh().sum(), theirs(theirs(b)).tanh().sum()
    y.backward()
    z.backward(retain_graph=True)
    assert len(seen_ours) == len(seen_theirs) == 2  # once per call, the outer call's first
    y.backward()  # a second pass over the same graph: once more per call
    z.backward()
    assert len(seen_ours) == 4
    assert all(agree(o, t) for o, t in zip(seen_ours, seen_theirs))
    assert close_to_torch(a.grad, b.grad.numpy())


@pytest.mark.parametrize("use_second", [True, False])
def test_several_inputs_and_outputs_as_in_torch(use_second: bool) -> None:
    """grad_input: zeros for a Tensor that does not require grad, None for a number; grad_output:
    None for an output the loss does not use; a replaced grad_input is what reaches the inputs."""
    torch = require_torch()
    x, y = np.array([0.5, -1.0]), np.array([2.0, 3.0])

    def run(module: Any, make: Any) -> tuple[list[Any], Any]:
        class Inner(module):  # type: ignore[misc,valid-type]
            def forward(self, a: Any, b: Any, c: Any, k: float = 2.0) -> tuple[Any, Any]:
                return a * b * k + c, (a + b).exp()

        m = Inner()
        seen: list[Any] = []
        m.register_full_backward_pre_hook(lambda m, go: seen.append(as_numpy(go)))
        m.register_full_backward_hook(
            lambda m, gi, go: (seen.append(as_numpy(gi)), (gi[0] * 3, gi[1], None))[1]
        )
        a, b = make(x, requires_grad=True), make(y)
        first, second = m(a, b, 1.5, k=0.5)
        loss = (first * first).sum() + (second.sum() if use_second else 0.0)
        loss.backward()
        return seen, a.grad

    seen_ours, grad_ours = run(Module, Tensor)
    seen_theirs, grad_theirs = run(torch.nn.Module, torch.tensor)
    assert [len(s) for s in seen_ours] == [2, 3]
    assert (seen_ours[0][1] is None) == (not use_second)
    assert seen_ours[1][1] is not None and not seen_ours[1][1].any() and seen_ours[1][2] is None
    assert all(agree(o, t) for o, t in zip(seen_ours, seen_theirs, strict=True))
    assert close_to_torch(grad_ours, grad_theirs.numpy())


def test_a_module_whose_inputs_do_not_require_grad_runs_its_full_hooks_with_none_and_a_warning() -> None:
    torch = require_torch()
    for model, make in ((Linear(3, 2, seed=0), Tensor), (torch.nn.Linear(3, 2), torch.tensor)):
        seen: list[Any] = []
        model.register_full_backward_hook(lambda m, gi, go, seen=seen: seen.append((gi, len(go))))
        model.register_full_backward_pre_hook(lambda m, go, seen=seen: seen.append("pre"))
        with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are computed with respect to module outputs"):  # fmt: skip
            model(make(np.ones((2, 3)))).sum().backward()
        assert seen == ["pre", ((None,), 1)]
        assert model.weight.grad is not None
        model.register_full_backward_hook(lambda m, gi, go, make=make: (make(np.ones((2, 3))),))
        with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="where no input requires gradient should always return None"):  # fmt: skip
            model(make(np.ones((2, 3)))).sum().backward()


def test_a_hook_that_returns_the_wrong_number_or_shape_of_gradients_gets_torchs_error() -> None:
    torch = require_torch()
    for make_model, make in (
        (lambda: Linear(3, 2, seed=0), Tensor),
        (lambda: torch.nn.Linear(3, 2), torch.tensor),
    ):
        cases = [
            (
                "full",
                lambda m, gi, go: (gi[0], gi[0]),
                "Backward hook returned an invalid number of grad_input, got 2, but expected 1",
            ),  # fmt: skip
            (
                "pre",
                lambda m, go: (go[0], go[0]),
                "Backward pre hook returned an invalid number of grad_output, got 2, but expected 1",
            ),  # fmt: skip
            ("full", lambda m, gi, go: (gi[0][0],), "hook '.*' has changed the size of value"),
        ]
        for kind, hook, message in cases:
            model = make_model()
            if kind == "full":
                model.register_full_backward_hook(hook)
            else:
                model.register_full_backward_pre_hook(hook)
            with pytest.raises(RuntimeError, match=message):
                model(make(np.ones((4, 3)), requires_grad=True)).sum().backward()
    model = Linear(3, 2, seed=0)
    model.register_full_backward_hook(lambda m, gi, go: gi[0])  # a Tensor, not a tuple of them
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got a Tensor, but expected 1"):
        model(Tensor(np.ones((4, 3)), requires_grad=True)).sum().backward()
    with pytest.raises(TypeError, match="backward hook must be a function, got int"):
        model.register_full_backward_hook(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="backward pre-hook must be a function"):
        model.register_full_backward_pre_hook("print")  # type: ignore[arg-type]


def test_a_hook_returning_none_for_an_input_stops_its_gradient_as_in_torch() -> None:
    torch = require_torch()
    for model, make in ((Linear(3, 2, seed=0), Tensor), (torch.nn.Linear(3, 2), torch.tensor)):
        model.register_full_backward_hook(lambda m, gi, go: (None,))
        x = make(np.ones((4, 3)), requires_grad=True)
        model(x).sum().backward()
        assert x.grad is None and model.weight.grad is not None


def test_a_list_output_is_not_hooked_with_torchs_warning() -> None:
    class Listed(Module):
        def forward(self, a: Tensor) -> list[Tensor]:
            return [a * 2, a * 3]

    m = Listed()
    seen: list[Any] = []
    m.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="module output should be a Tensor or a tuple of Tensors but received <class 'list'>"):  # fmt: skip
        out = m(x)
    (out[0] + out[1]).sum().backward()
    assert seen == [] and x.grad.tolist() == [5.0, 5.0]


def test_grad_create_graph_runs_the_hooks_and_their_result_is_differentiated_again() -> None:
    torch = require_torch()
    results = []
    for model, make, grad in (
        (Linear(3, 1, seed=0), Tensor, mg.autograd.grad),
        (torch.nn.Linear(3, 1), torch.tensor, torch.autograd.grad),
    ):
        if make is torch.tensor:
            model.load_state_dict({k: torch.tensor(v) for k, v in results[0][0].items()})
        calls = []
        model.register_full_backward_hook(
            lambda m, gi, go, calls=calls: (calls.append(1), (gi[0] * gi[0],))[1]
        )
        x = make(np.array([[0.5, -1.0, 2.0]]), requires_grad=True)
        (g,) = grad(model(x).tanh().sum(), x, create_graph=True)
        (gg,) = grad(g.sum(), x)
        results.append(
            (model.state_dict(), np.array(g.detach().numpy() if make is torch.tensor else g.data), gg, calls)
        )
    (_, g_ours, gg_ours, calls_ours), (_, g_theirs, gg_theirs, calls_theirs) = results
    assert calls_ours == calls_theirs == [1, 1]  # the second pass goes through the module's call again
    assert close_to_torch(g_ours, g_theirs)
    assert close_to_torch(gg_ours.data, gg_theirs.numpy())


def test_micrograd_value_modules_are_refused_in_words() -> None:
    with pytest.raises(
        TypeError, match="backward hooks on modules work with Tensors.*MLP computes with Values"
    ):
        MLP(2, [3, 1], seed=0).register_full_backward_hook(lambda m, gi, go: None)

    class Square(Module):  # no parameters: found out when it returns a Value
        def forward(self, v: Value) -> Value:
            return v * v

    m = Square()
    m.register_full_backward_pre_hook(lambda m, go: None)
    with pytest.raises(TypeError, match="this Square computes with Values: .*v.register_hook"):
        m(Value(2.0))


def test_the_deprecated_register_backward_hook_names_the_full_one() -> None:
    with pytest.raises(RuntimeError, match=r"deprecated.*use register_full_backward_hook\(hook\)"):
        Linear(2, 2, seed=0).register_backward_hook(lambda m, gi, go: None)


def test_zero_grad_state_dict_and_deepcopy_are_as_without_hooks() -> None:
    model, _ = twin_models()
    keys = list(model.state_dict())
    seen: list[Any] = []
    handle = model[0].register_full_backward_hook(lambda m, gi, go: seen.append(m))
    assert list(model.state_dict()) == keys
    twin = copy.deepcopy(model)  # the copy keeps the hook (as PyTorch's), called with the copy
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    twin(x).sum().backward()
    assert seen == [twin[0]]
    model(x).sum().backward()
    assert seen == [twin[0], model[0]] and all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    handle.remove()
    assert "_forward_hooks" not in vars(model[0])  # its last hook gone: back to the plain call


def test_no_hook_no_extra_node_and_no_grad_calls_make_none(monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = twin_models()
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    assert "BackwardHookFunction" not in {n.op for n in mg.engine.topological_order(model(x))}
    model[0].register_full_backward_hook(lambda m, gi, go: None)
    assert "BackwardHookFunction" in {n.op for n in mg.engine.topological_order(model(x))}
    made: list[str] = []  # the names of the ops applied (a hook node is one, graph or not)
    apply = Tensor.apply
    monkeypatch.setattr(
        Tensor, "apply", staticmethod(lambda op, *args: made.append(op.name) or apply(op, *args))
    )
    with mg.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        model(x)
    assert made and "BackwardHookFunction" not in made


def test_a_float32_module_hooks_get_float32_gradients_and_anomaly_mode_checks_what_they_return() -> None:
    model = Linear(3, 2, seed=0, dtype="float32")
    seen: list[Any] = []
    model.register_full_backward_hook(lambda m, gi, go: seen.append((gi[0].dtype, go[0].dtype)))
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    with mg.autograd.detect_anomaly():
        model(x).sum().backward()
    assert seen == [(np.float32, np.float32)] and x.grad.dtype == np.float32
    model.register_full_backward_hook(lambda m, gi, go: (gi[0] * np.float32(np.inf),))
    with mg.autograd.detect_anomaly(), pytest.raises(mg.AnomalyError, match="backward of 'BackwardHookFunction'.*non-finite"):  # fmt: skip
        model(x).sum().backward()


def test_the_narrated_pass_runs_the_hooks_once_and_shows_their_nodes() -> None:
    model = Linear(2, 2, seed=0)
    calls: list[int] = []
    model.register_full_backward_hook(lambda m, gi, go: (calls.append(1), (gi[0] * 2,))[1])
    x = Tensor([1.0, 2.0], requires_grad=True)
    steps = [str(step) for step in mg.backward_steps(model(x).sum())]
    assert calls == [1] and "BackwardHookFunction" in steps[-1]
    plain = Tensor([1.0, 2.0], requires_grad=True)
    (model.weight @ plain).sum().backward()  # (the same layer without its call: no hook)
    assert calls == [1] and np.array_equal(x.grad, 2 * plain.grad)


def test_the_viewers_run_no_module_hook_and_show_the_chain_rule_alone(tmp_path: Any) -> None:
    """As register_hook's (tests/engine/test_hooks.py): a viewer replays a pass from zero, its
    gather nodes hand the gradients through, and no hook runs, nor does any .grad change."""
    model = Linear(2, 2, seed=0)
    calls: list[str] = []
    model.register_full_backward_pre_hook(lambda m, go: calls.append("pre"))
    model.register_full_backward_hook(lambda m, gi, go: (calls.append("full"), (gi[0] * 2,))[1])
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = model(x).sum()
    loss.backward()
    assert calls == ["pre", "full"]
    grads = [x.grad.copy(), model.weight.grad.copy(), model.bias.grad.copy()]
    steps = record_backward(loss)
    mg.draw_dot(loss, step=2)
    mg.export_html(loss, tmp_path / "player.html")
    assert calls == ["pre", "full"]
    assert all(np.array_equal(a, b) for a, b in zip([x.grad, model.weight.grad, model.bias.grad], grads))
    plain = Tensor([1.0, 2.0], requires_grad=True)
    (model.weight @ plain + model.bias).sum().backward()  # the same layer without its call's hooks
    (share,) = steps[-1].shares
    assert share.input is x and np.array_equal(share.grad_after, plain.grad)
    assert np.array_equal(x.grad, 2 * plain.grad)  # (the real pass doubled it)


@pytest.mark.parametrize("pre_hook", ["none", "all None", "first None"])
@pytest.mark.parametrize("use_second", [True, False])
def test_an_output_without_gradient_hands_on_zeros_and_the_full_hooks_run_in_that_pass_as_in_torch(
    pre_hook: str, use_second: bool
) -> None:
    """A None grad_output (an output the loss does not use, or one a pre-hook returned None for)
    flows on as zeros, as PyTorch's: the full hooks run in that pass with zeros, the inputs get
    zeros; and a later pass that reaches the inputs another way runs no full hook."""
    torch = require_torch()
    pre = {
        "none": None,
        "all None": lambda m, go: (None, None),
        "first None": lambda m, go: (None, go[1]),
    }[pre_hook]

    def run(module: Any, make: Any) -> tuple[list[Any], list[Any]]:
        class Inner(module):  # type: ignore[misc,valid-type]
            def forward(self, a: Any, b: Any) -> tuple[Any, Any]:
                self.inner = a * 5
                return a * 3, b * b

        m = Inner()
        seen: list[Any] = []
        if pre is not None:
            m.register_full_backward_pre_hook(pre)
        m.register_full_backward_hook(lambda m, gi, go: seen.append((as_numpy(gi), as_numpy(go))))
        a, b = make(np.array([1.0, -2.0]), requires_grad=True), make(np.array([0.5, 3.0]), requires_grad=True)
        first, second = m(a, b)
        (first.sum() + (second.sum() if use_second else 0.0)).backward()
        grads = as_numpy((a.grad, b.grad))  # (copies)
        seen.append("second pass")
        m.inner.sum().backward()  # (to a, not through the outputs: no full hook, as PyTorch)
        return seen, grads + as_numpy((a.grad,))

    (seen_ours, grads_ours), (seen_theirs, grads_theirs) = (
        run(Module, Tensor),
        run(torch.nn.Module, torch.tensor),
    )
    assert len(seen_ours) == len(seen_theirs) == 2 and seen_ours[1] == seen_theirs[1] == "second pass"
    (gi_ours, go_ours), (gi_theirs, go_theirs) = seen_ours[0], seen_theirs[0]
    assert agree(gi_ours, gi_theirs) and agree(go_ours, go_theirs)
    assert all(close_to_torch(o, t) for o, t in zip(grads_ours, grads_theirs, strict=True))


@given(inputs, st.floats(-3.0, 3.0, allow_nan=False))
def test_a_hook_that_changes_its_gradients_in_place_changes_what_flows_on_as_in_torch(
    x: np.ndarray, scale: float
) -> None:
    """As a Tensor's register_hook (hooks.left_alone): grad_output scaled in place by a pre-hook
    reaches the parameters and the inputs, grad_input scaled in place reaches the inputs."""
    ours, theirs = twin_models()
    for model in (ours, theirs):
        model[2].register_full_backward_pre_hook(lambda m, go: (go[0].mul_(scale), None)[1])
        model[0].register_full_backward_hook(lambda m, gi, go: (gi[0].mul_(10), None)[1])
    a, b = both_backward(ours, theirs, x)
    assert close_to_torch(a.grad, b.grad.numpy())
    assert_same_parameter_grads(ours, theirs)


def hooks_on_the_way(lib: Any, how: str, to: str) -> tuple[list[tuple[str, str]], list[Any]]:
    """Two calls, h = first(x) (a Linear) and k = second(w), loss = (h * k).sum(); `how` (grad or
    backward(inputs=)) `to` one of x, w, h, k, first.weight: which hooks ran, and the gradients."""
    torch = require_torch()
    if lib is mg:
        first, module, make = Linear(2, 2, seed=0), Module, Tensor
    else:
        first, module, make = torch.nn.Linear(2, 2), torch.nn.Module, torch.tensor
        first.load_state_dict({k: torch.tensor(v) for k, v in Linear(2, 2, seed=0).state_dict().items()})

    class Scale(module):  # type: ignore[misc,valid-type]
        def forward(self, a: Any) -> Any:
            return a * 3

    ran: list[tuple[str, str]] = []
    second = Scale()
    for name, m in (("first", first), ("second", second)):
        m.register_full_backward_pre_hook(lambda m, go, name=name: ran.append(("pre", name)))
        m.register_full_backward_hook(lambda m, gi, go, name=name: ran.append(("full", name)))
    x, w = make(np.array([1.0, -2.0]), requires_grad=True), make(np.array([0.5, 0.25]), requires_grad=True)
    h, k = first(x), second(w)
    loss = (h * k).sum()
    target = {"x": x, "w": w, "h": h, "k": k, "first.weight": first.weight}[to]
    if how == "grad":
        grads = list(lib.autograd.grad(loss, [target]))
    else:
        loss.backward(inputs=[target])
        grads = [target.grad]
    return ran, as_numpy(tuple(grads))


@pytest.mark.parametrize("to", ["x", "w", "h", "k", "first.weight"])
@pytest.mark.parametrize("how", ["grad", "backward"])
def test_grad_and_backward_inputs_run_only_the_module_hooks_on_the_way_as_in_torch(how: str, to: str) -> None:
    """As PyTorch: a call's pre-hooks run if the gradient reaches its outputs on the way to the
    inputs (an output that is backward(inputs=)'s own input too, not grad()'s), its full hooks if
    it goes on to its inputs."""
    torch = require_torch()
    ran_ours, grads_ours = hooks_on_the_way(mg, how, to)
    ran_theirs, grads_theirs = hooks_on_the_way(torch, how, to)
    assert ran_ours == ran_theirs
    assert agree(grads_ours, grads_theirs)


def test_a_backward_started_inside_a_hook_during_grad_runs_its_own_module_hooks_as_in_torch() -> None:
    """A pass a hook starts is a walk of its own: grad() runs only the module hooks on its way,
    but a backward() inside one of its hooks runs every module hook on that inner pass's way."""
    torch = require_torch()

    def run(lib: Any, base: type, make: Any) -> list[float]:
        class Scale(base):  # type: ignore[misc, valid-type]
            def forward(self, a: Any) -> Any:
                return a * 3

        inner = Scale()
        inner.register_full_backward_hook(lambda m, gi, go: (gi[0].clamp(-1, 1),))
        y, x = make([1.0, 3.0]), make([1.0, 2.0])

        def start_a_pass(g: Any) -> None:
            with lib.enable_grad():
                inner(y).sum().backward()

        t = x * 2
        t.register_hook(start_a_pass)
        lib.autograd.grad((t * t).sum(), [x])
        return list(y.grad.tolist())

    ours = run(mg, Module, lambda a: Tensor(a, requires_grad=True))
    theirs = run(torch, torch.nn.Module, lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True))
    assert ours == theirs == [1.0, 1.0]  # the clipping hook ran (3.0 each without it)


def test_grad_walks_the_graph_once_more_only_while_a_module_hook_node_lives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """grad() finds the nodes on the way to its inputs (one more topological order) only while some
    graph holds module hook nodes: not before any, nor after that graph is gone."""
    import gc

    from micrograd_plus import engine, gradients

    orders = [0]
    real = engine.topological_order

    def counted(*roots: Any) -> Any:
        orders[0] += 1
        return real(*roots)

    monkeypatch.setattr(gradients, "topological_order", counted)

    def orders_of_a_grad(model: Any) -> int:
        loss = model(Tensor(np.ones((5, 3)), requires_grad=True)).sum()
        orders[0] = 0
        mg.grad(loss, list(model.parameters()))
        return orders[0]

    model, _ = twin_models()
    before = orders_of_a_grad(model)
    handle = model[0].register_full_backward_hook(lambda m, gi, go: None)
    while_hooked = orders_of_a_grad(model)
    handle.remove()
    gc.collect()
    assert (before, while_hooked, orders_of_a_grad(model)) == (before, before + 1, before)


def test_a_viewer_shows_the_zeros_a_hooked_call_hands_to_an_unused_outputs_input() -> None:
    """A hooked call hands zeros on for an output the loss does not use (PyTorch's rule), in the
    viewers' replay too: the narrated share of that output's input is the live pass's gradient."""

    class Two(Module):
        def forward(self, a: Any, b: Any) -> Any:
            return a * 3, b * b

    model = Two()
    model.register_full_backward_hook(lambda m, gi, go: None)
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([0.5, 3.0], requires_grad=True)
    loss = model(a, b)[0].sum()
    loss.backward()
    assert b.grad is not None and np.array_equal(b.grad, [0.0, 0.0])
    shares = [share for step in record_backward(loss) for share in step.shares if share.input is b]
    assert shares and np.array_equal(shares[-1].grad_after, b.grad)
