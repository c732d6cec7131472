"""Module, Neuron, Layer, MLP: parameter discovery, initialisation, micrograd compatibility."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import MLP, Layer, Module, Neuron, Value
from micrograd_plus.nn import module
from micrograd_plus.nn.module import make_rng


class TwoNeurons(Module):
    def __init__(self):
        self.first = Neuron(2, seed=1)
        self.scale = Value(2.0)
        self.frozen = Value(3.0, requires_grad=False)
        self.extra = [Neuron(1, "tanh", seed=2), Value(0.5)]

    def forward(self, x):
        return self.first(x) * self.scale + self.extra[0]([x[0]]) * self.extra[1]


def test_module_finds_parameters_and_submodules_in_assignment_order():
    model = TwoNeurons()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["first.w.0", "first.w.1", "first.b", "scale", "extra.0.w.0", "extra.0.b", "extra.1"]
    assert model.parameters()[3] is model.scale  # live nodes, not copies
    assert [name for name, _ in model.named_modules()] == ["", "first", "extra.0"]
    assert model.children() == [model.first, model.extra[0]]
    out = model([1.0, 2.0])
    assert isinstance(out, Value)


def test_call_runs_forward_and_a_module_without_forward_says_so():
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        Empty()(1)


def test_parameters_are_each_neurons_weights_then_bias_like_micrograd():
    model = MLP(3, [4, 2], seed=0)
    params = model.parameters()
    assert len(params) == 4 * (3 + 1) + 2 * (4 + 1)
    expected = [p for layer in model.layers for n in layer.neurons for p in [*n.w, n.b]]
    assert all(a is b for a, b in zip(params, expected))


def test_every_layer_but_the_last_is_nonlinear():
    model = MLP(2, [16, 16, 1], seed=0)
    kinds = [{n.activation for n in layer.neurons} for layer in model.layers]
    assert kinds == [{"relu"}, {"relu"}, {"linear"}]
    assert repr(model.layers[2]) == "Layer of [LinearNeuron(16)]"


def test_a_hidden_layer_of_width_one_works():
    model = MLP(2, [16, 1, 1], seed=0)
    out = model([0.5, -0.5])
    assert isinstance(out, Value)
    out.backward()


@given(st.integers(0, 2**32 - 1))
def test_initialisation_depends_on_the_seed_only(seed):
    random.seed(0)
    first = [p.data for p in MLP(2, [3, 1], seed=seed).parameters()]
    random.seed(1)
    second = [p.data for p in MLP(2, [3, 1], seed=seed).parameters()]
    assert first == second
    assert all(-1 <= w <= 1 for w in first)
    rng = random.Random(seed)
    assert [p.data for p in MLP(2, [3, 1], seed=rng).parameters()] == first


def test_global_random_state_is_untouched():
    random.seed(42)
    before = random.getstate()
    MLP(2, [4, 1], seed=None)
    Neuron(3)
    assert random.getstate() == before


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MLP(0, [1]), "nin must be a positive int, got 0"),
        (lambda: MLP(2, []), "nouts must be a non-empty list"),
        (lambda: MLP(2, 3), "nouts must be a non-empty list"),
        (lambda: MLP(2, [4, -1]), r"nouts\[1\] must be a positive int, got -1"),
        (lambda: MLP(2, [4, 1.5]), r"nouts\[1\] must be a positive int, got 1.5"),
        (lambda: Layer(2, 0), "nout must be a positive int, got 0"),
        (lambda: Neuron(2, activation="gelu"), "activation must be one of"),
    ],
)
def test_bad_sizes_name_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_seed_is_a_type_error():
    with pytest.raises(TypeError, match="seed must be an int"):
        make_rng("0")


@given(seed=st.integers(0, 2**80))
def test_an_int_seed_is_randoms_own_seed_with_no_numpy_generator_made(seed):
    def no_generator(seed):
        raise AssertionError("make_rng(int) made a numpy Generator only to throw it away")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "make_generator", no_generator)
        assert make_rng(seed).random() == random.Random(seed).random()
        assert make_rng(np.uint64(seed % 2**64)).random() == random.Random(seed % 2**64).random()
        with pytest.raises(AssertionError):  # a numpy Generator or None goes through it (and its checks)
            make_rng(None)


@pytest.mark.parametrize(("bad", "error"), [(-1, ValueError), (True, TypeError), (1.0, TypeError)])
def test_make_rng_refuses_what_make_generator_refuses(bad, error):
    with pytest.raises(error, match="seed must be"):
        make_rng(bad)


def test_wrong_number_of_inputs_is_a_clear_error():
    with pytest.raises(ValueError, match="Neuron expects 2 inputs, got 3"):
        Neuron(2, seed=0)([1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "make, nin, example",
    [
        (lambda: MLP(2, [3, 1], seed=0), 2, "model([x1, x2])"),
        (lambda: Layer(1, 3, seed=0), 1, "model([x1])"),
        (lambda: Neuron(5, seed=0), 5, "model([x1, x2, ..., x5])"),
    ],
)
@pytest.mark.parametrize("given", [1.0, 3, Value(1.0), "ab", np.float64(2.0), np.array(2.0), None], ids=repr)
def test_an_input_that_is_not_a_list_is_a_clear_error(make, nin, example, given):
    model = make()
    with pytest.raises(TypeError) as caught:
        model(given)
    kind = type(model).__name__
    inputs = "1 input" if nin == 1 else f"{nin} inputs"
    assert str(caught.value) == (
        f"{kind} expects a list of {inputs} (numbers or Values), got {type(given).__name__} {given!r:.40}: "
        f"call it with one input per weight, {example}"
    )


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=4), st.integers(0, 2**16))
def test_a_list_a_tuple_or_an_array_of_inputs_gives_the_same_output(x, seed):
    model = MLP(len(x), [3, 1], seed=seed)
    assert model(x).data == model(tuple(x)).data == model(np.array(x)).data


def test_state_dict_round_trip_and_validation():
    model = MLP(2, [3, 1], seed=0)
    state = model.state_dict()
    other = MLP(2, [3, 1], seed=1)
    other.load_state_dict(state)
    assert [p.data for p in other.parameters()] == [p.data for p in model.parameters()]
    state["layers.0.neurons.0.w.0"] = 99.0
    assert model.parameters()[0].data != 99.0  # a copy, not the live data
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "layers.1.neurons.0.b"'):
        other.load_state_dict({k: v for k, v in state.items() if k != "layers.1.neurons.0.b"})
    before = [p.data for p in other.parameters()]
    for wrong in ([1.0, 2.0], 1 + 2j, True, "1.0"):  # not one real number: refused, nothing changed
        with pytest.raises(ValueError, match="'layers.1.neurons.0.b': expected one real number"):
            other.load_state_dict({**state, "layers.1.neurons.0.b": wrong})
    assert [p.data for p in other.parameters()] == before  # all or nothing
    for one in (np.array([5.0]), np.array([[5.0]]), np.array(5)):  # a Value's entry: any one number
        other.load_state_dict({**state, "layers.1.neurons.0.b": one})
        assert other.layers[1].neurons[0].b.data == 5.0


def test_copying_weights_from_micrograd_gives_identical_forward_and_gradients():
    from micrograd.engine import Value as MicroValue
    from micrograd.nn import MLP as MicroMLP

    theirs = MicroMLP(2, [16, 16, 1])
    ours = MLP(2, [16, 16, 1], seed=0)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        p.data = q.data
    x = [0.3, -1.2]
    out = ours([Value(v) for v in x])
    ref = theirs([MicroValue(v) for v in x])
    (out * out).backward()
    (ref * ref).backward()
    assert out.data == pytest.approx(ref.data, rel=1e-12, abs=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert p.grad == pytest.approx(q.grad, rel=1e-9, abs=1e-12)


def test_parameters_are_what_named_parameters_lists_without_repeats() -> None:
    from micrograd_plus import Linear, ReLU, Sequential

    class Twice(Module):
        def __init__(self) -> None:
            self.a = Value(1.0)
            self.b = self.a  # one parameter under two names
            self.inner = MLP(2, [3, 1], seed=0)
            self.again = self.inner

    class Renamed(Module):
        def __init__(self) -> None:
            self.w = Value(1.0)
            self.hidden = Value(2.0)

        def named_parameters(self, prefix: str = ""):  # a subclass's own listing is followed
            yield "w", self.w

    shared = Linear(2, 2, seed=0)
    for model in (MLP(2, [4, 4, 1], seed=0), Twice(), Sequential(shared, ReLU(), shared), Renamed()):
        named = [p for _, p in model.named_parameters()]
        assert model.parameters() == named
        assert len({id(p) for p in named}) == len(named), "no parameter twice"
    assert len(Twice().parameters()) == 1 + len(MLP(2, [3, 1]).parameters())
    assert Renamed().parameters()[0].data == 1.0 and len(Renamed().parameters()) == 1


# --- arguments a module does not take (Module.__init__ refuses them, as PyTorch's does) -----------


@pytest.mark.parametrize("name", ["Tanh", "Sigmoid", "Sequential", "ModuleList"])
def test_a_module_without_arguments_still_builds_without_any(name):
    assert isinstance(getattr(mg, name)(), Module)


@pytest.mark.parametrize("name", ["Tanh", "Sigmoid"])
@pytest.mark.parametrize(
    "args, kwargs, named",
    [((1,), {}, "1"), ((), {"inplace": True}, "inplace=True"), ((0.5, "x"), {}, "0.5, 'x'")],
)
def test_a_module_that_takes_no_arguments_refuses_them_by_name_as_torch(name, args, kwargs, named):
    torch = require_torch()
    with pytest.raises(TypeError):
        getattr(torch.nn, name)(*args, **kwargs)
    with pytest.raises(TypeError, match=rf"^{name}\(\) takes no arguments, got {re.escape(named)}$"):
        getattr(mg, name)(*args, **kwargs)


def test_a_user_module_calling_super_init_works_and_one_passing_arguments_up_is_told():
    class Good(Module):
        def __init__(self, scale):
            super().__init__()
            self.scale = Value(scale)

    class Bad(Module):
        def __init__(self, width):
            super().__init__(width)

    assert Good(2.0).parameters()[0].data == 2.0
    with pytest.raises(TypeError, match=r"Bad\(\) takes no arguments, got 3"):
        Bad(3)


def test_micrograds_modules_take_the_seeds_the_tensor_layers_take() -> None:
    weights = lambda model: [p.data for p in model.parameters()]  # noqa: E731
    assert weights(MLP(2, [3, 1], seed=np.int64(7))) == weights(MLP(2, [3, 1], seed=7))
    shared = [MLP(2, [3, 1], seed=np.random.default_rng(0)) for _ in range(2)]
    assert weights(shared[0]) == weights(MLP(2, [3, 1], seed=np.random.default_rng(0)))
    stream = np.random.default_rng(0)
    assert weights(MLP(2, [3, 1], seed=stream)) != weights(
        MLP(2, [3, 1], seed=stream)
    )  # one stream, drawn on
    for bad, error, message in [(-1, ValueError, "seed must be >= 0"), (True, TypeError, "seed must be an int"), ("7", TypeError, "seed must be an int")]:  # fmt: skip
        for make, args in ((MLP, (2, [3, 1])), (Neuron, (2,)), (mg.Linear, (2, 1))):
            with pytest.raises(error, match=message):
                make(*args, seed=bad)


def test_load_state_dict_strict_and_its_result_as_pytorchs():
    torch = require_torch()
    ours, theirs = (
        mg.Sequential(mg.Linear(2, 3), mg.ReLU()),
        torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()),
    )
    assert repr(ours.load_state_dict(ours.state_dict())) == repr(theirs.load_state_dict(theirs.state_dict()))
    assert str(ours.load_state_dict(ours.state_dict())) == "<All keys matched successfully>"
    given = {"0.weight": np.full((3, 2), 7.0), "extra": np.zeros(1)}
    result = ours.load_state_dict(given, strict=False)
    expected = theirs.load_state_dict({k: torch.tensor(v) for k, v in given.items()}, strict=False)
    assert (result.missing_keys, result.unexpected_keys) == (expected.missing_keys, expected.unexpected_keys)
    assert result == (["0.bias"], ["extra"]) and isinstance(result, tuple)  # a NamedTuple, as torch's
    assert repr(result) == repr(expected)
    assert (ours[0].weight.data == 7.0).all()  # the names both have are loaded
    with pytest.raises(RuntimeError) as torch_error:
        theirs.load_state_dict({k: torch.tensor(v) for k, v in given.items()})
    with pytest.raises(RuntimeError) as error:
        ours.load_state_dict(given)
    assert str(error.value).startswith(str(torch_error.value))  # (then a hint of ours)


@given(
    rows=st.integers(1, 4),
    saved_rows=st.integers(1, 4),
    saved_bias=st.integers(1, 4),
    drop_bias=st.booleans(),
    strict=st.booleans(),
)
def test_load_state_dict_lists_every_size_mismatch_as_pytorch_and_copies_nothing(
    rows: int, saved_rows: int, saved_bias: int, drop_bias: bool, strict: bool
) -> None:
    torch = require_torch()
    ours = mg.Sequential(mg.Linear(2, rows), mg.Linear(rows, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, rows), torch.nn.Linear(rows, 1)).double()
    given = {"0.weight": np.full((saved_rows, 2), 7.0), "1.bias": np.zeros(saved_bias), "extra": np.zeros(1)}
    if not drop_bias:
        given["0.bias"] = np.zeros(rows)
    before = {name: value.copy() for name, value in ours.state_dict().items()}
    mismatched = saved_rows != rows or saved_bias != 1
    fails = mismatched or strict  # strict: "extra" is unexpected either way
    as_torch = {k: torch.tensor(v) for k, v in given.items()}
    if not fails:
        assert repr(ours.load_state_dict(given, strict=strict)) == repr(
            theirs.load_state_dict(as_torch, strict=strict)
        )
        assert (ours[0].weight.data == 7.0).all()
        return
    with pytest.raises(RuntimeError) as torch_error:
        theirs.load_state_dict(as_torch, strict=strict)
    with pytest.raises(RuntimeError) as error:
        ours.load_state_dict(given, strict=strict)
    # Torch's lines, but for its shape notation, then a hint of ours.
    expected = re.sub(r"torch\.Size\(\[(\d+)\]\)", r"(\1,)", str(torch_error.value))
    expected = re.sub(r"torch\.Size\(\[(\d+), (\d+)\]\)", r"(\1, \2)", expected)
    assert str(error.value).startswith(expected + "\n\t(was the state saved from a model of another shape?")
    assert all(np.array_equal(ours.state_dict()[name], value) for name, value in before.items())


_ENTRY_SHAPES = st.sampled_from([(), (1,), (1, 1), (2,), (0,)])


@given(
    saved=st.fixed_dictionaries({name: _ENTRY_SHAPES for name in ("scalar", "stat", "one", "count")}),
    missing=st.sampled_from([None, "scalar", "stat", "one", "count"]),
    strict=st.booleans(),
)
def test_load_state_dict_takes_a_one_element_entry_into_a_0_d_one_as_pytorch(
    saved: dict[str, tuple[int, ...]], missing: str | None, strict: bool
) -> None:
    """PyTorch loads a (1,) entry into a 0-d parameter or buffer (its 0.3 saved scalars so), and
    nothing else of another shape: not (1, 1), not a 0-d entry into a (1,) one; an integer
    buffer as a float one; with a key missing, strict or not."""
    torch = require_torch()

    class Net(Module):
        def __init__(self) -> None:
            self.scalar = mg.Tensor(1.0, requires_grad=True)
            self.one = mg.Tensor([1.0], requires_grad=True)
            self.register_buffer("stat", np.array(2.0))
            self.register_buffer("count", np.array(0))

    class TorchNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scalar = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
            self.one = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
            self.register_buffer("stat", torch.tensor(2.0, dtype=torch.float64))
            self.register_buffer("count", torch.tensor(0))

    ours, theirs = Net(), TorchNet()
    TorchNet.__name__ = "Net"  # the model's name starts the message
    entries = {
        name: np.full(shape, 5 if name == "count" else 5.0)
        for name, shape in saved.items()
        if name != missing
    }
    try:
        torch_result = theirs.load_state_dict(
            {name: torch.tensor(value) for name, value in entries.items()}, strict
        )
    except RuntimeError as torch_error:
        with pytest.raises(RuntimeError) as error:
            ours.load_state_dict(entries, strict)
        expected = re.sub(
            r"torch\.Size\(\[([\d, ]*)\]\)",
            lambda sizes: str(tuple(int(n) for n in sizes[1].split(", ") if n)),
            str(torch_error),
        )
        assert str(error.value).startswith(expected)
        return
    result = ours.load_state_dict(entries, strict)
    assert result.missing_keys == torch_result.missing_keys == ([missing] if missing else [])
    for name, value in theirs.state_dict().items():
        assert ours.state_dict()[name].shape == tuple(value.shape)
        assert np.array_equal(ours.state_dict()[name], value.numpy())
