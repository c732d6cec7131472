"""Module's utilities as PyTorch's: `requires_grad_` (freezing), `get_submodule`,
`get_parameter` (dotted names, PyTorch's AttributeErrors), `add_module` / `register_module`
(PyTorch's checks and errors); each against the same model in PyTorch float64."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch, using_engine
from hypothesis import given

import micrograd_plus as mg
from micrograd_plus import MLP, Linear, Module, ModuleList, ReLU, Sequential, Tanh, Tensor
from micrograd_plus.testing import mlps


class Net(Module):
    def __init__(self):
        self.fc = Linear(3, 4, seed=0)
        self.body = Sequential(Linear(4, 4, seed=1), ReLU())
        self.register_buffer("stat", np.zeros(2))

    def forward(self, x):
        return self.body(self.fc(x))


def twin_nets() -> tuple[Net, Any]:
    torch = require_torch()

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 4)
            self.body = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())
            self.register_buffer("stat", torch.zeros(2))

        def forward(self, x):
            return self.body(self.fc(x))

    TorchNet.__name__ = "Net"  # (PyTorch's messages name the class)
    ours, theirs = Net(), TorchNet()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def error_of(call: Any) -> tuple[type, str]:
    try:
        call()
    except Exception as e:
        return type(e), str(e).strip("'\"")
    raise AssertionError("no error")


# -- requires_grad_ --------------------------------------------------------------------------------


def test_requires_grad_freezes_a_part_as_in_torch_and_the_rest_trains_the_same():
    torch = require_torch()
    ours, theirs = twin_nets()
    assert ours.fc.requires_grad_(False) is ours.fc
    theirs.fc.requires_grad_(False)
    assert [p.requires_grad for p in ours.parameters()] == [p.requires_grad for p in theirs.parameters()]
    assert [p.requires_grad for p in ours.parameters()] == [False, False, True, True]
    assert list(ours.state_dict()) == list(theirs.state_dict())  # frozen ones stay parameters
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    out, out_t = ours(Tensor(x)), theirs(torch.tensor(x))
    (out * out).sum().backward()
    (out_t * out_t).sum().backward()
    for (name, p), p_t in zip(ours.named_parameters(), theirs.parameters()):
        if name.startswith("fc."):
            assert p.grad is None and p_t.grad is None
        else:
            assert close_to_torch(p.grad, p_t.grad.numpy()), name
    before = ours.fc.weight.data.copy()
    mg.SGD(ours.parameters(), lr=0.1).step()
    assert np.array_equal(ours.fc.weight.data, before)  # the optimizer skips it


def test_requires_grad_unfreezes_every_parameter_and_refuses_a_non_bool():
    ours, _ = twin_nets()
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters()) and len(ours.parameters()) == 4
    assert ours.requires_grad_() is ours
    assert all(p.requires_grad for p in ours.parameters())
    with pytest.raises(TypeError, match="argument 'requires_grad' must be bool, not int"):
        ours.requires_grad_(0)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_a_frozen_layer_of_an_mlp_gets_no_gradient_and_the_others_get_theirs(engine):
    x = [0.5, -1.5]
    with using_engine(engine):
        plain, frozen = MLP(2, [3, 3, 1], seed=2), MLP(2, [3, 3, 1], seed=2)
        frozen.layers[0].requires_grad_(False)
        for model in (plain, frozen):
            model(x).backward()
        assert len(frozen.parameters()) == len(plain.parameters())
        frozen_ids = {id(p) for p in frozen.layers[0].parameters()}
        for p, q in zip(plain.parameters(), frozen.parameters()):
            assert q.grad == (0.0 if id(q) in frozen_ids else p.grad)
        assert any(p.grad != 0.0 for p in plain.layers[0].parameters())  # (so the zeros above say something)
        frozen.requires_grad_()
        frozen.zero_grad()
        frozen(x).backward()
        assert [p.grad for p in frozen.parameters()] == [p.grad for p in plain.parameters()]


STEPS = {  # (optimizer, options, whether it steps once before the layer is frozen)
    "SGD momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}, True),
    "Adam weight decay": ("Adam", {"lr": 0.1, "weight_decay": 0.1}, True),
    "fresh SGD weight decay": ("SGD", {"lr": 0.1, "weight_decay": 0.1}, False),
}


@pytest.mark.parametrize("engine", ["reference", "fast"])
@pytest.mark.parametrize("step", list(STEPS))
def test_a_frozen_layer_of_an_mlp_is_not_moved_by_the_optimizer_as_in_torch(engine, step):
    """A Value's grad is a number (0.0 when frozen), never None: the optimizer must still leave
    a frozen Value alone, as PyTorch's leave a frozen parameter (grad None), else momentum,
    weight decay or Adam's state would move it. The rest trains as PyTorch trains it."""
    torch = require_torch()
    name, options, step_first = STEPS[step]
    with using_engine(engine):
        mlp = MLP(2, [3, 3, 1], activation="tanh", seed=4)
        theirs = torch.nn.Sequential(
            torch.nn.Linear(2, 3),
            torch.nn.Tanh(),
            torch.nn.Linear(3, 3),
            torch.nn.Tanh(),
            torch.nn.Linear(3, 1),
        )
        theirs.load_state_dict({k: torch.tensor(v) for k, v in mlp.to_sequential().state_dict().items()})
        ours_opt = getattr(mg.optim, name)(mlp.parameters(), **options)
        their_opt = getattr(torch.optim, name)(theirs.parameters(), **options)
        x = [0.5, -1.5]

        def train_step() -> None:
            ours_opt.zero_grad()
            their_opt.zero_grad()
            (mlp(x) ** 2).backward()
            (theirs(torch.tensor([x])) ** 2).sum().backward()
            ours_opt.step()
            their_opt.step()

        if step_first:
            train_step()
        mlp.layers[0].requires_grad_(False)
        theirs[0].requires_grad_(False)
        frozen = [p.data for p in mlp.layers[0].parameters()]
        trained = [p.data for layer in mlp.layers[1:] for p in layer.parameters()]
        train_step()
        assert [p.data for p in mlp.layers[0].parameters()] == frozen
        assert all(
            p.data != d for p, d in zip((p for layer in mlp.layers[1:] for p in layer.parameters()), trained)
        )
        state = mlp.to_sequential().state_dict()
        for key, value in theirs.state_dict().items():
            assert close_to_torch(state[key], value.numpy()), key


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_lbfgs_takes_a_frozen_value_as_a_parameter_without_a_gradient(engine):
    """LBFGS flattens the gradients with zeros where a parameter has none, as PyTorch's; a frozen
    Value's gradient left from before it was frozen is not one, so it does not move."""
    with using_engine(engine):
        mlp = MLP(2, [3, 1], activation="tanh", seed=0)
        x = [0.5, -1.5]

        def closure() -> Any:  # (no zero_grad: the frozen layer keeps its gradient from before)
            loss = mlp(x) ** 2
            loss.backward()
            return loss

        closure()
        mlp.layers[0].requires_grad_(False)
        assert any(p.grad != 0.0 for p in mlp.layers[0].parameters())  # (so the test says something)
        frozen = [p.data for p in mlp.layers[0].parameters()]
        trained = [p.data for p in mlp.layers[1].parameters()]
        mg.optim.LBFGS(mlp.parameters(), lr=0.1, max_iter=1).step(closure)
        assert [p.data for p in mlp.layers[0].parameters()] == frozen
        assert all(p.data != d for p, d in zip(mlp.layers[1].parameters(), trained))


def test_a_frozen_tensor_with_a_gradient_from_before_is_stepped_with_it_as_in_torch():
    """PyTorch's optimizers skip a parameter only when its grad is None, not when it is frozen:
    a Tensor keeps that rule (only a Value, whose grad cannot be None, is skipped for being frozen)."""
    torch = require_torch()
    ours, theirs = twin_nets()
    x = np.array([[0.5, -1.0, 2.0]])
    ours(Tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    ours.fc.requires_grad_(False)
    theirs.fc.requires_grad_(False)
    before = ours.fc.weight.data.copy()
    mg.SGD(ours.parameters(), lr=0.1, weight_decay=0.1).step()
    torch.optim.SGD(theirs.parameters(), lr=0.1, weight_decay=0.1).step()
    assert not np.array_equal(ours.fc.weight.data, before)
    for (name, p), p_t in zip(ours.named_parameters(), theirs.parameters()):
        assert close_to_torch(p.data, p_t.detach().numpy()), name


# -- get_submodule, get_parameter ----------------------------------------------------------------

FOUND = ["", "fc", "body", "body.0", "body.1"]
MISSING = [
    "nope",
    "body.5",
    "fc.weight",
    "fc.nope",
    "body.0.weight.x",
    "forward",
    "stat",
    "training",
    "fc..x",
]
PARAMETERS = ["fc.weight", "fc.bias", "body.0.weight"]
NOT_PARAMETERS = ["stat", "fc", "fc.nope", "body.5.weight", "nope.weight", "training", "", "body.0.forward"]


@pytest.mark.parametrize("target", FOUND)
def test_get_submodule_finds_what_torch_finds(target):
    ours, theirs = twin_nets()
    got, got_t = ours.get_submodule(target), theirs.get_submodule(target)
    assert type(got).__name__ == type(got_t).__name__
    assert got is dict(ours.named_modules())[target]


@pytest.mark.parametrize("target", MISSING)
def test_get_submodule_refuses_what_torch_refuses_with_its_message(target):
    ours, theirs = twin_nets()
    assert error_of(lambda: ours.get_submodule(target)) == error_of(lambda: theirs.get_submodule(target))
    assert error_of(lambda: ours.get_submodule(target))[0] is AttributeError


@pytest.mark.parametrize("target", PARAMETERS)
def test_get_parameter_finds_what_torch_finds(target):
    ours, theirs = twin_nets()
    assert ours.get_parameter(target) is dict(ours.named_parameters())[target]
    assert close_to_torch(ours.get_parameter(target).data, theirs.get_parameter(target).detach().numpy())


@pytest.mark.parametrize("target", NOT_PARAMETERS)
def test_get_parameter_refuses_what_torch_refuses_with_its_message(target):
    ours, theirs = twin_nets()
    assert error_of(lambda: ours.get_parameter(target)) == error_of(lambda: theirs.get_parameter(target))


def test_a_frozen_parameter_is_still_found_and_a_constant_is_not():
    ours, _ = twin_nets()
    ours.fc.weight.requires_grad = False
    assert ours.get_parameter("fc.weight") is ours.fc.weight
    ours.fc.constant = mg.tensor([1.0])  # a Tensor that does not require grad: not a parameter
    with pytest.raises(AttributeError, match="^`constant` is not an nn.Parameter$"):
        ours.get_parameter("fc.constant")


@given(mlps())
def test_every_name_named_modules_and_named_parameters_give_leads_back_to_its_object(mlp):
    """Items of a list attribute are one step ("layers.0.neurons.1.w.0"), as those names spell them."""
    for name, m in mlp.named_modules():
        assert mlp.get_submodule(name) is m
    for name, p in mlp.named_parameters():
        assert mlp.get_parameter(name) is p


def test_a_list_attribute_item_that_is_missing_is_named_whole():
    mlp = MLP(2, [3, 1], seed=0)
    with pytest.raises(AttributeError, match="^MLP has no attribute `layers.7`$"):
        mlp.get_submodule("layers.7")
    with pytest.raises(AttributeError, match="^Layer has no attribute `neurons.3`$"):
        mlp.get_parameter("layers.0.neurons.3.b")
    with pytest.raises(AttributeError, match="^`w` is not an nn.Parameter$"):
        mlp.get_parameter("layers.0.neurons.1.w")
    with pytest.raises(TypeError, match="dotted name"):
        mlp.get_submodule(0)  # type: ignore[arg-type]


# -- add_module, register_module ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["add_module", "register_module"])
def test_add_module_registers_a_child_as_in_torch(method):
    torch = require_torch()
    ours, theirs = twin_nets()
    assert getattr(ours, method)("head", Linear(4, 2, seed=3)) is None
    getattr(theirs, method)("head", torch.nn.Linear(4, 2))
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.add_module("head", Linear(4, 5, seed=4))  # a child's name again: replaced
    assert ours.head.weight.shape == (5, 4)


BAD = [  # (name, module, our message where it is not PyTorch's)
    ("x", 3, None),  # not a module
    ("forward", "module", None),  # a method's name
    ("stat", "module", None),  # a buffer's name
    (3, "module", "module name must be str, got int: 3"),  # (the checker of every sub-module name)
    ("a.b", "module", "module name must be non-empty and without '.'"),
    ("", "module", "module name must be non-empty and without '.'"),
]


@pytest.mark.parametrize(("name", "module", "message"), BAD)
def test_add_module_refuses_what_torch_refuses_with_its_error(name, module, message):
    torch = require_torch()
    ours, theirs = twin_nets()
    mine = Linear(1, 1, seed=0) if module == "module" else module
    theirs_module = torch.nn.Linear(1, 1) if module == "module" else module
    kind, text = error_of(lambda: ours.add_module(name, mine))
    their_kind, their_text = error_of(lambda: theirs.add_module(name, theirs_module))
    assert kind is their_kind
    assert text.startswith(message) if message else text == their_text


class WithNoneBuffer(Module):
    def __init__(self):
        self.register_buffer("stat", None)


def test_add_module_refuses_a_name_that_holds_none_unless_it_is_a_sub_modules_place_as_in_torch():
    """A None bias or buffer is not a place for a sub-module (PyTorch: "already exists"); a
    sub-module's place left empty, by `add_module(name, None)` or by setting the sub-module to
    None, is, and `del` ends it."""
    torch = require_torch()

    def outcomes(bias_free: Any, none_buffer: Any, net: Any, tanh: Any) -> list[Any]:
        def attempt(call: Any) -> Any:
            try:
                call()
            except KeyError as e:
                return str(e).strip("'\"")
            return "ok"

        results = [
            attempt(lambda: bias_free.add_module("bias", tanh())),
            attempt(lambda: none_buffer.add_module("stat", tanh())),
        ]
        net.add_module("later", None)
        results.append(attempt(lambda: net.add_module("later", tanh())))
        net.fc = None
        results.append(attempt(lambda: net.add_module("fc", tanh())))
        del net.fc
        net.fc = None  # a plain attribute now
        results.append(attempt(lambda: net.add_module("fc", tanh())))
        return results

    class TorchWithNoneBuffer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("stat", None)

    ours, theirs = twin_nets()
    assert (
        outcomes(Linear(2, 2, bias=False, seed=0), WithNoneBuffer(), ours, Tanh)
        == outcomes(torch.nn.Linear(2, 2, bias=False), TorchWithNoneBuffer(), theirs, torch.nn.Tanh)
        == [
            "attribute 'bias' already exists",
            "attribute 'stat' already exists",
            "ok",
            "ok",
            "attribute 'fc' already exists",
        ]
    )
    assert (
        [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()] == ["body", "later"]
    )


def test_add_module_on_a_sequential_adds_a_layer_that_forward_runs_as_in_torch():
    torch = require_torch()
    ours = Sequential(Linear(3, 4, seed=0), Tanh())
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh())
    ours.add_module("out", Linear(4, 2, seed=1))
    theirs.add_module("out", torch.nn.Linear(4, 2))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.array([[0.5, -1.0, 2.0]])
    assert close_to_torch(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy())
    assert error_of(lambda: ours.add_module("layers", Tanh())) == (
        KeyError,
        "attribute 'layers' already exists",
    )


def test_add_module_on_a_module_list_replaces_or_appends_items_as_in_torch():
    torch = require_torch()
    ours = ModuleList([Linear(2, 2, seed=0)])
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 2)])
    for model, linear in ((ours, lambda n: Linear(2, n, seed=0)), (theirs, lambda n: torch.nn.Linear(2, n))):
        model.add_module("0", linear(3))
        model.add_module("1", linear(4))
    assert len(ours) == len(theirs) == 2
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [m.weight.shape[0] for m in ours] == [m.weight.shape[0] for m in theirs] == [3, 4]
    with pytest.raises(KeyError, match="the list has 2 items"):
        ours.add_module("5", Linear(2, 2, seed=0))


def test_a_tensor_assigned_to_a_buffer_is_kept_as_its_array_and_a_deleted_buffer_leaves_the_state() -> None:
    torch = require_torch()
    ours, theirs = mg.nn.Module(), torch.nn.Module()
    ours.register_buffer("b", mg.ones(2))
    theirs.register_buffer("b", torch.ones(2, dtype=torch.float64))
    ours.b, theirs.b = mg.zeros(2), torch.zeros(2, dtype=torch.float64)  # torch-style code
    assert isinstance(ours.b, np.ndarray) and np.array_equal(ours.b, theirs.b.numpy())
    ours.load_state_dict({"b": np.full(2, 3.0)})  # the state loads back
    theirs.load_state_dict({"b": torch.full((2,), 3.0, dtype=torch.float64)})
    assert np.array_equal(ours.b, theirs.b.numpy())
    del ours.b, theirs.b
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []


def test_modulelist_add_module_of_none_at_an_items_name_is_refused_in_words() -> None:
    items = mg.nn.ModuleList([mg.Linear(2, 2)])
    with pytest.raises(TypeError, match=r"an item of the list cannot be emptied here .* use del ml\[i\]"):
        items.add_module("0", None)
    assert list(items.state_dict()) == ["0.weight", "0.bias"]
