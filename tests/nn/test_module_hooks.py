"""Forward hooks on modules, as PyTorch's `register_forward_pre_hook` / `register_forward_hook`:
the order they run in, what their results replace, `with_kwargs`, `always_call`, the handles, and
the "visualise each layer's activations" use, each checked against the same model in PyTorch
float64 (outputs and gradients to 1e-9); micrograd's Neuron inside a Layer; and a module without
hooks keeps the plain call."""

from __future__ import annotations

import copy
import gc
import weakref
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch, twin_models, using_engine
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import MLP, Linear, Module, Sequential, Tanh, Tensor, Value
from micrograd_plus.nn import forward_hooks

floats = st.floats(-3.0, 3.0, allow_nan=False, width=64)


def run_both(ours: Sequential, theirs: Any, x: np.ndarray) -> None:
    """The same forward and backward in both: outputs and every weight's gradient agree."""
    torch = require_torch()
    out = ours(Tensor(x))
    out_t = theirs(torch.tensor(x))
    assert close_to_torch(out.data, out_t.detach().numpy())
    (out * out).sum().backward()
    (out_t * out_t).sum().backward()
    for (name, p), (name_t, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == name_t
        assert close_to_torch(p.grad, p_t.grad.numpy()), name


def add_logging_hooks(model: Any, log: list[str]) -> None:
    """Pre-hooks and forward hooks on every layer, some put first with prepend=True."""
    for name, layer in list(model.named_children()):
        layer.register_forward_hook(lambda m, args, out, name=name: log.append(f"post {name}"))
        layer.register_forward_pre_hook(lambda m, args, name=name: log.append(f"pre {name}"))
        layer.register_forward_pre_hook(
            lambda m, args, name=name: log.append(f"first pre {name}"), prepend=True
        )
        layer.register_forward_hook(
            lambda m, args, out, name=name: log.append(f"first post {name}"), prepend=True
        )
    model.register_forward_pre_hook(lambda m, args: log.append("pre model"))
    model.register_forward_hook(lambda m, args, out: log.append("post model"))


def test_hooks_run_in_the_order_torch_runs_them():
    ours, theirs = twin_models()
    ours_log: list[str] = []
    theirs_log: list[str] = []
    add_logging_hooks(ours, ours_log)
    add_logging_hooks(theirs, theirs_log)
    run_both(ours, theirs, np.linspace(-1, 1, 6).reshape(2, 3))
    assert ours_log == theirs_log
    assert ours_log[:4] == ["pre model", "first pre 0", "pre 0", "first post 0"]


@given(
    x=hnp.arrays(np.float64, (2, 3), elements=floats),
    scale=floats,
    shift=floats,
)
def test_what_the_hooks_return_replaces_the_input_and_the_output_as_in_torch(x, scale, shift):
    ours, theirs = twin_models()
    for model in (ours, theirs):
        # a forward hook's result replaces the output; the next hook is given it
        model[0].register_forward_hook(lambda m, args, out: out * scale)
        model[0].register_forward_hook(lambda m, args, out: out + shift)
        # a pre-hook's single value is taken as a tuple of one (the Linear's input)
        model[2].register_forward_pre_hook(lambda m, args: args[0] - shift)
        model[2].register_forward_pre_hook(lambda m, args: None)  # None: unchanged
        model[2].register_forward_hook(lambda m, args, out: None)
    run_both(ours, theirs, x)


def test_the_replaced_output_is_what_flows_on():
    model = Sequential(Linear(3, 2, seed=0))
    x = Tensor(np.ones((1, 3)))
    plain = model(x).data
    handle = model[0].register_forward_hook(lambda m, args, out: out * 0 + 7)
    assert np.array_equal(model(x).data, np.full((1, 2), 7.0))
    handle.remove()
    assert np.array_equal(model(x).data, plain)


class Scaled(Module):
    """forward(x, scale=...): a keyword argument for the with_kwargs hooks to see and change."""

    def __init__(self):
        self.linear = Linear(2, 2, seed=3)

    def forward(self, x: Any, scale: float = 1.0) -> Any:
        return self.linear(x) * scale


def test_with_kwargs_hooks_see_and_replace_the_keyword_arguments_as_in_torch():
    torch = require_torch()

    class TorchScaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 2)

        def forward(self, x, scale=1.0):
            return self.linear(x) * scale

    ours, theirs = Scaled(), TorchScaled()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    seen: dict[str, list[Any]] = {"ours": [], "theirs": []}
    for key, model in (("ours", ours), ("theirs", theirs)):

        def pre(m, args, kwargs, key=key):
            seen[key].append(("pre", len(args), dict(kwargs)))
            return args, {"scale": kwargs["scale"] * 3}

        def post(m, args, kwargs, out, key=key):
            seen[key].append(("post", len(args), dict(kwargs)))
            return out + kwargs["scale"]

        model.register_forward_pre_hook(pre, with_kwargs=True)
        model.register_forward_hook(post, with_kwargs=True)
    x = np.array([[0.5, -1.5], [2.0, 0.25]])
    out = ours(Tensor(x), scale=2.0)
    out_t = theirs(torch.tensor(x), scale=2.0)
    assert seen["ours"] == seen["theirs"] == [("pre", 1, {"scale": 2.0}), ("post", 1, {"scale": 6.0})]
    assert close_to_torch(out.data, out_t.detach().numpy())
    out.sum().backward()
    out_t.sum().backward()
    assert close_to_torch(ours.linear.weight.grad, theirs.linear.weight.grad.numpy())


def test_a_with_kwargs_pre_hook_must_return_a_pair_as_in_torch():
    torch = require_torch()
    ours, theirs = Linear(2, 2, seed=0), torch.nn.Linear(2, 2)
    messages = []
    for model, x in ((ours, Tensor(np.ones(2))), (theirs, torch.ones(2))):
        model.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple of") as error:
            model(x)
        messages.append(str(error.value).split(", but got")[0])
    assert messages[0] == messages[1]


def failing_twins() -> tuple[Module, Any]:
    """A module whose forward raises, here and in PyTorch."""
    torch = require_torch()

    class Failing(Module):
        def forward(self, x):
            raise ValueError("forward failed")

    class TorchFailing(torch.nn.Module):
        def forward(self, x):
            raise ValueError("forward failed")

    return Failing(), TorchFailing()


def test_an_always_call_hook_runs_when_forward_raises_as_in_torch():
    def run(model: Any) -> list[Any]:
        log: list[Any] = []
        model.register_forward_hook(lambda m, args, out: log.append(("plain", out)))
        model.register_forward_hook(lambda m, args, out: log.append(("always", args, out)), always_call=True)
        with pytest.raises(ValueError, match="forward failed"):
            model(1.5)
        return log

    ours, theirs = failing_twins()
    assert run(ours) == run(theirs) == [("always", (1.5,), None)]


def test_an_always_call_hook_that_fails_too_is_a_warning_and_the_first_error_goes_on():
    for model in failing_twins():
        model.register_forward_hook(lambda m, args, out: 1 / 0, always_call=True)
        with pytest.warns(UserWarning, match="always_call=True.*silenced.*division by zero"):
            with pytest.raises(ValueError, match="forward failed"):
                model(1.0)


def test_an_always_call_hook_that_already_ran_is_not_run_again_when_a_later_hook_raises():
    torch = require_torch()

    def run(model: Any, x: Any) -> list[str]:
        log: list[str] = []
        model.register_forward_hook(lambda m, args, out: log.append("always"), always_call=True)
        model.register_forward_hook(lambda m, args, out: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            model(x)
        return log

    assert (
        run(Linear(2, 2, seed=0), Tensor(np.ones(2)))
        == run(torch.nn.Linear(2, 2), torch.ones(2))
        == ["always"]
    )


def test_a_hook_that_removes_another_during_a_call_changes_the_next_call_only_as_in_torch():
    torch = require_torch()

    def run(model: Any, x: Any) -> list[str]:
        log: list[str] = []
        handles: list[Any] = []
        handles.append(model.register_forward_hook(lambda m, a, o: (log.append("a"), handles[1].remove())[0]))
        handles.append(model.register_forward_hook(lambda m, a, o: log.append("b")))
        model(x)
        model(x)
        return log

    assert (
        run(Linear(2, 2, seed=0), Tensor(np.ones(2)))
        == run(torch.nn.Linear(2, 2), torch.ones(2))
        == ["a", "b", "a"]
    )


@pytest.mark.parametrize("forward_raises", [False, True])
def test_a_one_shot_pre_hook_that_arms_a_forward_hook_runs_it_in_the_same_call_as_in_torch(forward_raises):
    """The pre-hook removes itself (the module's last hook, so its hooks go) and registers a forward
    hook (so new ones come): the forward hooks are read after forward, or after its error, as
    PyTorch reads them, so the new hook runs in this very call."""
    torch = require_torch()

    def run(model: Any, x: Any) -> list[Any]:
        log: list[Any] = []
        handles: dict[str, Any] = {}

        def once(module: Any, args: Any) -> None:
            handles["pre"].remove()
            module.register_forward_hook(lambda m, a, out: log.append(out is None), always_call=True)
            log.append("pre")

        handles["pre"] = model.register_forward_pre_hook(once)
        for _ in range(2):
            try:
                model(x)
            except (RuntimeError, ValueError):  # (a shape error: PyTorch's kind, and ours)
                log.append("raised")
            log.append("|")
        return log

    if forward_raises:
        ours, theirs = (
            run(Linear(3, 2, seed=0), Tensor(np.ones(2))),
            run(torch.nn.Linear(3, 2), torch.ones(2)),
        )
        expected = ["pre", True, "raised", "|", True, "raised", "|"]
    else:
        ours, theirs = (
            run(Linear(2, 2, seed=0), Tensor(np.ones(2))),
            run(torch.nn.Linear(2, 2), torch.ones(2)),
        )
        expected = ["pre", False, "|", False, "|"]
    assert ours == theirs == expected


def test_a_handle_removes_once_works_as_a_context_manager_and_keeps_no_model_alive():
    model = Linear(2, 2, seed=0)
    calls = []
    with model.register_forward_hook(lambda m, a, o: calls.append(1)) as handle:
        model(Tensor(np.ones(2)))
    model(Tensor(np.ones(2)))
    assert calls == [1]
    handle.remove()  # again: nothing happens
    assert "_forward_hooks" not in vars(model)  # its last hook gone: the plain call again
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
    handle.remove()  # its module gone: nothing happens


def test_hooks_belong_to_their_module_alone():
    a, b = Linear(2, 2, seed=0), Linear(2, 2, seed=0)
    a.register_forward_hook(lambda m, args, out: out * 0)
    x = Tensor(np.ones(2))
    assert np.all(a(x).data == 0) and not np.all(b(x).data == 0)
    assert Module._forward_hooks is None and "_forward_hooks" not in vars(b)


def test_only_a_call_of_the_module_runs_its_hooks_not_forward():
    torch = require_torch()

    def calls(model: Any, x: Any) -> int:
        seen: list[int] = []
        model.register_forward_hook(lambda m, a, o: seen.append(1))
        model.forward(x)
        model(x)
        return len(seen)

    assert calls(Linear(2, 2, seed=0), Tensor(np.ones(2))) == calls(torch.nn.Linear(2, 2), torch.ones(2)) == 1


def test_a_hook_must_be_a_function():
    model = Linear(2, 2, seed=0)
    with pytest.raises(TypeError, match="forward hook must be a function, got int"):
        model.register_forward_hook(3)
    with pytest.raises(TypeError, match="forward pre-hook must be a function, got str"):
        model.register_forward_pre_hook("print")


# -- micrograd's Neuron, Layer, MLP --------------------------------------------------------------


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_a_hooked_neuron_inside_a_layer_runs_its_hooks_and_changes_nothing_else(engine):
    """Layer makes its neurons in one `engine.neurons` call without calling them; once a neuron has
    hooks, the layer calls each neuron, so they run (as PyTorch runs a sub-module's hooks when it is
    called), and the values and gradients are bit for bit those without hooks."""
    x = [0.5, -1.25, 2.0]
    with using_engine(engine):
        plain, hooked = MLP(3, [4, 4, 1], seed=7), MLP(3, [4, 4, 1], seed=7)
        seen = []
        hooked.layers[1].neurons[2].register_forward_hook(lambda m, args, out: seen.append((args[0], out)))
        for model in (plain, hooked):
            out = model(x)
            out.backward()
        assert len(seen) == 1
        inputs, out = seen[0]
        assert [v.data for v in inputs] == [v.data for v in hooked.layers[0](x)]
        assert out.data == hooked.layers[1].neurons[2](inputs).data
        assert hooked(x).data == plain(x).data
        for p, q in zip(plain.parameters(), hooked.parameters()):
            assert p.grad == q.grad


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_a_copy_of_a_hooked_mlp_made_where_no_hook_was_registered_runs_its_neurons_hooks(engine, monkeypatch):
    """Layer looks for its neurons' hooks only once some module had hooks: a hooked model
    unpickled or copied in a fresh process (where none was registered) must count. The flag is
    reset here, as in a fresh process, before the copy."""
    x = [0.5, -1.25]
    with using_engine(engine):
        model = MLP(2, [3, 1], activation="tanh", seed=0)
        plain = model(x).data
        model.layers[0].neurons[1].register_forward_hook(lambda m, args, out: out * 0)
        monkeypatch.setattr(forward_hooks, "ever_registered", False)
        copied = copy.deepcopy(model)
        assert forward_hooks.ever_registered
        assert copied(x).data == model(x).data != plain
        assert copied.layers[0](x)[1].data == 0.0


def test_a_neuron_hook_that_returns_a_value_replaces_that_neurons_output():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    before = model.layers[0]([1.0, 2.0])
    assert before[1].data != 0.0
    model.layers[0].neurons[1].register_forward_hook(lambda m, args, out: out * 0)
    after = model.layers[0]([1.0, 2.0])
    assert after[1].data == 0.0
    assert [after[0].data, after[2].data] == [before[0].data, before[2].data]


def collect_activations(model: Any, kinds: tuple[type, ...]) -> tuple[dict[str, Any], list[Any]]:
    """The tutorial's way to see inside a model: a forward hook on each module of `kinds` stores
    its output under the module's name; returns the dict and the handles."""
    activations: dict[str, Any] = {}

    def keep(name: str) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            activations[name] = output

        return hook

    handles = [
        m.register_forward_hook(keep(name)) for name, m in model.named_modules() if isinstance(m, kinds)
    ]
    return activations, handles


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_each_layers_activations_of_an_mlp_match_torch(engine):
    torch = require_torch()
    with using_engine(engine):
        mlp = MLP(2, [4, 4, 1], activation="tanh", seed=5)
        theirs = torch.nn.Sequential(
            torch.nn.Linear(2, 4),
            torch.nn.Tanh(),
            torch.nn.Linear(4, 4),
            torch.nn.Tanh(),
            torch.nn.Linear(4, 1),
        )
        theirs.load_state_dict({k: torch.tensor(v) for k, v in mlp.to_sequential().state_dict().items()})
        ours_acts, handles = collect_activations(mlp, (mg.Layer,))
        theirs_acts, _ = collect_activations(theirs, (torch.nn.Tanh, torch.nn.Linear))
        x = [0.3, -0.7]
        out = mlp(x)
        out_t = theirs(torch.tensor([x]))
        assert list(ours_acts) == ["layers.0", "layers.1", "layers.2"]
        assert ours_acts["layers.2"] is out  # the output itself, in the graph
        for ours_name, theirs_name in (("layers.0", "1"), ("layers.1", "3"), ("layers.2", "4")):
            got = ours_acts[ours_name]
            got = [v.data for v in got] if isinstance(got, list) else [got.data]
            assert close_to_torch(got, theirs_acts[theirs_name].detach().numpy()[0])
        out.backward()
        out_t.sum().backward()
        weights = np.array([[w.grad for w in n.w] for n in mlp.layers[0].neurons])
        assert close_to_torch(weights, theirs[0].weight.grad.numpy())
        for handle in handles:
            handle.remove()
        assert all("_forward_hooks" not in vars(m) for m in mlp.modules())


def test_each_layers_activations_of_a_sequential_match_torch():
    torch = require_torch()
    ours, theirs = twin_models(seed=4)
    ours_acts, _ = collect_activations(ours, (Linear, Tanh))
    theirs_acts, _ = collect_activations(theirs, (torch.nn.Linear, torch.nn.Tanh))
    x = np.array([[0.1, 0.2, 0.3], [-1.0, 0.5, 2.0]])
    run_both(ours, theirs, x)
    assert list(ours_acts) == list(theirs_acts) == ["0", "1", "2"]
    for name in ours_acts:
        assert close_to_torch(ours_acts[name].data, theirs_acts[name].detach().numpy())


def test_a_value_model_hook_sees_values():
    class Double(Module):
        def forward(self, x):
            return x * 2

    model = Double()
    model.register_forward_pre_hook(lambda m, args: (args[0] + 1,))
    model.register_forward_hook(lambda m, args, out: out - 1)
    x = Value(3.0)
    out = model(x)
    assert out.data == 7.0
    out.backward()
    assert x.grad == 2.0
