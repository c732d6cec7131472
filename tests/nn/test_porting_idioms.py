"""Idioms that PyTorch tutorials use and ported code keeps: `inplace=` on ReLU, LeakyReLU,
Dropout and their functional forms, `named_children()`, `apply(fn)` and
`Sequential(OrderedDict(...))`, the losses in `nn.functional` (`F.cross_entropy`); each against
PyTorch float64. (`zero_grad(set_to_none=...)`:
tests/optim/test_zero_grad.py.)"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import Dropout, LeakyReLU, Linear, ReLU, Tanh, Tensor, Value, gradcheck, nn
from micrograd_plus.nn import functional as F
from micrograd_plus.nn import losses

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
grid = st.integers(-40, 40).map(lambda i: i / 8)  # holds 0, where ReLU and LeakyReLU have their kink
# PyTorch's in-place LeakyReLU refuses a negative slope in backward, so only these compare.
slopes = st.sampled_from([0.0, 0.01, 0.2, 1.5])


def against_torch_in_place(ours: Any, theirs: Any, x: np.ndarray) -> None:
    """`ours` (a function of a Tensor) against `theirs` (PyTorch's in-place form, on a Tensor
    that is not a leaf, where PyTorch allows it): output and the leaf's gradient; and our
    input is left unchanged."""
    torch = require_torch()
    leaf, their_leaf = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    h, their_h = leaf * 1.0, their_leaf * 1.0
    out, ref = ours(h), theirs(their_h)
    assert np.array_equal(h.data, x)  # computed out of place
    assert close_to_torch(out.data, ref.detach().numpy())
    g = np.random.default_rng(0).normal(size=out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert close_to_torch(leaf.grad, their_leaf.grad.numpy())


@given(x=hnp.arrays(np.float64, shapes, elements=grid), slope=slopes, inplace=st.booleans())
def test_relu_and_leaky_relu_with_inplace_match_torch_in_place(
    x: np.ndarray, slope: float, inplace: bool
) -> None:
    torch = require_torch()
    tf = torch.nn.functional
    against_torch_in_place(ReLU(inplace=inplace), torch.nn.ReLU(inplace=True), x)
    against_torch_in_place(lambda t: F.relu(t, inplace=inplace), lambda t: tf.relu(t, inplace=True), x)
    against_torch_in_place(LeakyReLU(slope, inplace), torch.nn.LeakyReLU(slope, inplace=True), x)
    against_torch_in_place(
        lambda t: F.leaky_relu(t, slope, inplace), lambda t: tf.leaky_relu(t, slope, inplace=True), x
    )


@given(
    x=hnp.arrays(np.float64, shapes, elements=st.floats(-3, 3)),
    p=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**16),
)
def test_dropout_with_inplace_is_dropout_and_matches_torch_in_place(
    x: np.ndarray, p: float, seed: int
) -> None:
    torch = require_torch()
    plain = Dropout(p, seed=seed)(Tensor(x)).data
    for layer in (Dropout(p, True, seed=seed), Dropout(p, inplace=False, seed=seed)):
        assert np.array_equal(layer(Tensor(x)).data, plain)  # the same coin flips
    in_place = F.dropout(Tensor(x), p, True, True, generator=np.random.default_rng(seed)).data
    assert np.array_equal(in_place, F.dropout(Tensor(x), p, generator=np.random.default_rng(seed)).data)
    # PyTorch's in-place dropout multiplies by mask / (1 - p); with our mask (where ones are kept):
    kept = Dropout(p, inplace=True, seed=seed)(Tensor(np.ones_like(x))).data != 0
    scale = torch.tensor(kept / (1.0 - p))
    against_torch_in_place(Dropout(p, inplace=True, seed=seed), lambda t: t.mul_(scale), x)


@given(x=hnp.arrays(np.float64, shapes, elements=st.floats(-3, 3)), p=st.sampled_from([0.0, 0.3, 1.0]))
def test_dropout_with_inplace_matches_torch_where_it_is_not_random(x: np.ndarray, p: float) -> None:
    torch = require_torch()
    tf = torch.nn.functional
    if p in (0.0, 1.0):  # training: the identity, or all zero
        against_torch_in_place(Dropout(p, inplace=True), torch.nn.Dropout(p, inplace=True), x)
        against_torch_in_place(
            lambda t: F.dropout(t, p, True, True), lambda t: tf.dropout(t, p, True, True), x
        )
    against_torch_in_place(Dropout(p, inplace=True).eval(), torch.nn.Dropout(p, inplace=True).eval(), x)
    against_torch_in_place(lambda t: F.dropout(t, p, False, True), lambda t: tf.dropout(t, p, False, True), x)


def test_gradcheck_with_inplace() -> None:
    x = Tensor(np.random.default_rng(1).normal(size=(3, 4)) * 2, requires_grad=True)  # none near 0
    for fn in (
        ReLU(inplace=True),
        LeakyReLU(0.3, inplace=True),
        lambda t: F.leaky_relu(t, -0.5, inplace=True),  # a slope PyTorch refuses in place
        lambda t: Dropout(0.4, inplace=True, seed=0)(t),  # a fresh layer per call: the same mask
    ):
        assert gradcheck(fn, (x,))


def test_relu_inplace_works_on_values_and_lists_of_values() -> None:
    assert ReLU(inplace=True)(Value(-2.0)).data == 0.0
    assert [v.data for v in ReLU(inplace=True)([Value(-1.0), Value(3.0)])] == [0.0, 3.0]


@pytest.mark.parametrize("bad", [1, 0, "True", None])
def test_a_non_bool_inplace_is_refused(bad: Any) -> None:
    x = Tensor([1.0, -1.0])
    makers = [
        lambda: ReLU(inplace=bad),
        lambda: LeakyReLU(0.1, inplace=bad),
        lambda: Dropout(0.5, inplace=bad),
        lambda: F.relu(x, inplace=bad),
        lambda: F.leaky_relu(x, 0.1, inplace=bad),
        lambda: F.dropout(x, 0.5, True, bad),
    ]
    for make in makers:
        with pytest.raises(TypeError, match="inplace must be True or False, got"):
            make()


@pytest.mark.parametrize("flag", [np.True_, np.False_])
def test_numpy_bools_are_flags_where_torch_takes_them(flag: np.bool_, tmp_path: Any) -> None:
    """A numpy bool (as a comparison of numpy numbers gives) is True or False to load_state_dict's strict,
    zero_grad's set_to_none, inplace and load's weights_only, as to PyTorch."""
    torch = require_torch()
    ours, theirs = Linear(2, 2, seed=0), torch.nn.Linear(2, 2).double()

    def loads(model: Any, state: dict[str, Any]) -> bool:
        try:
            model.load_state_dict(state, strict=flag)
        except RuntimeError:
            return False
        return True

    assert loads(ours, {**ours.state_dict(), "extra": np.zeros(1)}) == loads(
        theirs, {**theirs.state_dict(), "extra": torch.zeros(1)}
    )
    ours(Tensor(np.ones((1, 2)))).sum().backward()
    theirs(torch.ones(1, 2, dtype=torch.float64)).sum().backward()
    ours.zero_grad(set_to_none=flag)
    theirs.zero_grad(set_to_none=flag)
    assert (ours.weight.grad is None) == (theirs.weight.grad is None)
    assert repr(ReLU(inplace=flag)) == repr(torch.nn.ReLU(inplace=flag))
    assert repr(LeakyReLU(0.1, inplace=flag)) == repr(torch.nn.LeakyReLU(0.1, inplace=flag))
    x = np.array([1.0, -2.0])
    assert np.array_equal(
        F.relu(Tensor(x), inplace=flag).data, torch.nn.functional.relu(torch.tensor(x)).numpy()
    )
    mg.save(ours.state_dict(), tmp_path / "net.pt")
    if flag:
        assert mg.load(tmp_path / "net.pt", weights_only=flag).keys() == ours.state_dict().keys()
    else:  # PyTorch's weights_only=False unpickles anything, which is never done here
        with pytest.raises(ValueError, match="never unpickles"):
            mg.load(tmp_path / "net.pt", weights_only=flag)


def test_relu_refuses_an_unknown_argument_as_torch_does() -> None:
    torch = require_torch()
    with pytest.raises(TypeError):
        torch.nn.ReLU(implace=True)
    with pytest.raises(TypeError):
        ReLU(implace=True)  # a misspelling once passed unnoticed


def test_reprs_show_inplace_as_torch_does() -> None:
    torch = require_torch()
    assert repr(ReLU(inplace=True)) == repr(torch.nn.ReLU(inplace=True))
    assert repr(ReLU()) == repr(torch.nn.ReLU())
    assert repr(LeakyReLU(0.2, inplace=True)) == repr(torch.nn.LeakyReLU(0.2, inplace=True))
    assert repr(Dropout(0.25, inplace=True)) == repr(torch.nn.Dropout(0.25, inplace=True))


# --- named_children() and apply(fn) ---------------------------------------------------------------


def twin_trees() -> tuple[Any, Any]:
    """The same tree of modules here and in PyTorch: plain attributes, a Sequential, a
    ModuleList, a ModuleDict, and one Linear held twice."""
    torch = require_torch()

    class Ours(nn.Module):
        def __init__(self) -> None:
            self.stem = Linear(3, 4, seed=0)
            self.body = nn.Sequential(Linear(4, 4, seed=1), ReLU(), nn.Sequential(ReLU()))
            self.heads = nn.ModuleList([Linear(4, 2, seed=2), Dropout(0.1)])
            self.named = nn.ModuleDict({"a": Linear(4, 1, seed=3), "b": nn.Tanh()})
            self.again = self.stem

    class Theirs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = torch.nn.Linear(3, 4)
            self.body = torch.nn.Sequential(
                torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.ReLU())
            )
            self.heads = torch.nn.ModuleList([torch.nn.Linear(4, 2), torch.nn.Dropout(0.1)])
            self.named = torch.nn.ModuleDict({"a": torch.nn.Linear(4, 1), "b": torch.nn.Tanh()})
            self.again = self.stem

    return Ours(), Theirs()


def test_named_children_and_children_as_torch() -> None:
    ours, theirs = twin_trees()
    for a, b in (
        (ours, theirs),
        (ours.body, theirs.body),
        (ours.heads, theirs.heads),
        (ours.named, theirs.named),
    ):
        assert [n for n, _ in a.named_children()] == [n for n, _ in b.named_children()]
        assert [type(m).__name__ for m in a.children()] == [type(m).__name__ for m in b.children()]
    assert dict(ours.named_children())["body"] is ours.body
    assert list(Linear(2, 2, seed=0).named_children()) == []


def test_apply_visits_children_first_and_self_last_as_torch() -> None:
    ours, theirs = twin_trees()
    visits: dict[str, list[str]] = {"ours": [], "theirs": []}
    for key, model in (("ours", ours), ("theirs", theirs)):
        names = {id(m): name for name, m in model.named_modules()}
        assert model.apply(lambda m, key=key, names=names: visits[key].append(names[id(m)])) is model
    assert visits["ours"] == visits["theirs"]
    assert (
        visits["ours"].count("stem") == 1 and visits["ours"][-1] == ""
    )  # a module held twice: once; self last


@given(fill=st.floats(-2, 2))
def test_apply_initialises_weights_as_torch(fill: float) -> None:
    torch = require_torch()
    ours, theirs = twin_trees()

    def init_ours(m: Any) -> None:
        if isinstance(m, Linear):
            m.weight.data = np.full(m.weight.shape, fill)

    def init_theirs(m: Any) -> None:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.constant_(m.weight, fill)

    ours.apply(init_ours)
    theirs.apply(init_theirs)
    theirs_state = theirs.state_dict()
    for name, value in ours.state_dict().items():
        if name.endswith("weight"):
            assert close_to_torch(value, theirs_state[name].numpy())


# --- Sequential(OrderedDict(...)) -----------------------------------------------------------------


def named_twins(seed: int) -> tuple[Any, Any]:
    torch = require_torch()
    ours = nn.Sequential(
        OrderedDict(
            [
                ("fc1", Linear(3, 5, seed=seed)),
                ("act", ReLU()),
                ("drop", Dropout(0.5)),
                ("fc2", Linear(5, 2, seed=seed + 1)),
            ]
        )
    )
    theirs = torch.nn.Sequential(
        OrderedDict(
            [
                ("fc1", torch.nn.Linear(3, 5)),
                ("act", torch.nn.ReLU()),
                ("drop", torch.nn.Dropout(0.5)),
                ("fc2", torch.nn.Linear(5, 2)),
            ]
        )
    )
    return ours.eval(), theirs.eval()


@given(seed=st.integers(0, 2**16), x=hnp.arrays(np.float64, (4, 3), elements=st.floats(-3, 3)))
def test_sequential_of_an_ordered_dict_loads_into_torch_strictly(seed: int, x: np.ndarray) -> None:
    torch = require_torch()
    ours, theirs = named_twins(seed)
    assert (
        list(ours.state_dict())
        == list(theirs.state_dict())
        == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    )
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()}, strict=True)
    out, ref = ours(Tensor(x)), theirs(torch.tensor(x))
    assert close_to_torch(out.data, ref.detach().numpy())


def test_sequential_of_an_ordered_dict_reads_as_torch() -> None:
    ours, theirs = named_twins(0)
    assert ours.fc1 is ours[0] and ours.fc2 is ours[-1] and isinstance(ours.act, ReLU)
    assert len(ours) == len(theirs) == 4
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours[1:].named_children()] == [n for n, _ in theirs[1:].named_children()]
    torch = require_torch()
    three, torch_three = (
        nn.Sequential(ReLU(), Tanh(), ReLU()),
        torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.ReLU()),
    )
    assert [n for n, _ in three[1:].named_children()] == [n for n, _ in torch_three[1:].named_children()]
    assert (
        repr(ours).splitlines()[1]
        == repr(theirs).splitlines()[1]
        == "  (fc1): Linear(in_features=3, out_features=5, bias=True)"
    )
    with pytest.raises(AttributeError, match="no attribute 'fc3'"):
        ours.fc3


def test_assigning_a_named_layer_replaces_it_as_torch() -> None:
    ours, _ = named_twins(0)
    new = Linear(3, 5, seed=9)
    ours.fc1 = new
    assert ours[0] is new and ours.fc1 is new
    assert ours.named_parameters().__next__()[1] is new.weight
    with pytest.raises(TypeError, match="the layer 'fc1' is a int"):
        ours.fc1 = 3


@pytest.mark.parametrize(
    "pairs, error, message",
    [
        ([("fc1", Linear(2, 2, seed=0)), ("act", np.tanh)], TypeError, "entry 'act' is a ufunc"),
        ([("fc.1", ReLU())], ValueError, "without '.'"),
        ([("", ReLU())], ValueError, "non-empty"),
        ([(1, ReLU())], TypeError, "names must be str, got int"),
        ([("forward", ReLU())], ValueError, "taken by an attribute or method"),
    ],
)
def test_sequential_refuses_bad_names_and_values(pairs: Any, error: type, message: str) -> None:
    torch = require_torch()
    with pytest.raises(error, match=message):
        nn.Sequential(OrderedDict(pairs))
    their_pairs = [(k, torch.nn.ReLU() if isinstance(v, nn.Module) else v) for k, v in pairs]
    with pytest.raises((TypeError, KeyError)):  # PyTorch refuses each one too
        torch.nn.Sequential(OrderedDict(their_pairs))


def test_sequential_refuses_the_name_of_its_own_list_of_layers() -> None:
    """(PyTorch has no attribute `layers`, so it takes the name.)"""
    with pytest.raises(ValueError, match="'layers' is taken by an attribute or method"):
        nn.Sequential(OrderedDict([("layers", ReLU())]))


def test_a_plain_dict_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match="pass one OrderedDict"):
        nn.Sequential({"fc1": Linear(2, 2, seed=0)})


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_and_load_keep_the_names(tmp_path: Any, suffix: str) -> None:
    from micrograd_plus.io import load, save

    ours, _ = named_twins(0)
    save(ours, tmp_path / f"model{suffix}")
    other, _ = named_twins(7)
    load(other, tmp_path / f"model{suffix}")
    assert all(np.array_equal(v, other.state_dict()[k]) for k, v in ours.state_dict().items())
    with pytest.raises(ValueError, match="fc1.weight"):
        load(
            nn.Sequential(Linear(3, 5, seed=0), ReLU(), Dropout(0.5), Linear(5, 2, seed=1)),
            tmp_path / f"model{suffix}",
        )


# -- model.to(device), model.to(dtype), model.float(), model.double(), model.cpu() ------------------


def test_model_to_dtype_converts_parameters_gradients_and_buffers_as_torch() -> None:
    torch = require_torch()
    ours = mg.Sequential(mg.Linear(3, 4, seed=0), mg.BatchNorm1d(4), mg.ReLU(), mg.Linear(4, 2, seed=1))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    ).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()}, strict=True)
    x = np.random.default_rng(0).standard_normal((5, 3))
    ours(mg.tensor(x)).sum().backward()
    assert ours.to("cpu") is ours and ours.cpu() is ours
    assert ours.float() is ours and theirs.float() is theirs
    for (name, mine), (_, reference) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert mine.dtype == reference.numpy().dtype, name  # num_batches_tracked stays int64
    assert all(p.grad.dtype == np.float32 for p in ours.parameters())
    out, expected = ours(mg.tensor(x, dtype=np.float32)), theirs(torch.tensor(x, dtype=torch.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    ours.double()
    theirs.double()
    out, expected = ours(mg.tensor(x)), theirs(torch.tensor(x))
    assert out.dtype == np.float64 and close_to_torch(out.data, expected.detach().numpy())


def test_model_to_dtype_makes_graphs_built_before_it_stale() -> None:
    model = mg.Linear(2, 1, seed=0)
    out = model(mg.ones(1, 2)).sum()
    model.to(np.float32)
    with pytest.raises(RuntimeError, match="modified by an inplace operation: input 1 of 'linear'"):
        out.backward()


def test_a_model_of_values_stays_float64_and_refuses_float32() -> None:
    model = mg.MLP(2, [3, 1], seed=0)
    assert model.double() is model and model.to("cpu") is model
    with pytest.raises(TypeError, match=r"hold Python floats \(float64\); use Tensor layers"):
        model.float()


def test_model_to_another_device_says_there_is_only_the_cpu() -> None:
    with pytest.raises(ValueError, match="computes on the CPU only"):
        mg.Linear(2, 2, seed=0).to("cuda")


def test_sequential_is_edited_as_torchs_and_its_parameters_follow() -> None:
    """append, del model.name, model[i] = ..., del model[i] (which renames the rest by
    position, as torch does): the layers, their names and the parameters (what an optimizer
    steps and a state dict saves) stay one record."""
    torch = require_torch()
    ours, theirs = named_twins(0)
    extra = Linear(2, 2, seed=3)
    assert ours.append(extra) is ours
    theirs.append(torch.nn.Linear(2, 2).double())
    assert ours.parameters()[-1] is extra.bias and ours.layers[-1] is extra
    edits = [
        lambda m, lib: delattr(m, "act"),
        lambda m, lib: m.__setitem__(0, lib.Linear(3, 5)),
        lambda m, lib: m.__delitem__(1),
        lambda m, lib: m.__delitem__(slice(0, 1)),
    ]
    for edit in edits:
        edit(ours, mg)
        edit(theirs, torch.nn)
        assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert len(ours.parameters()) == len(list(theirs.parameters()))
    with pytest.raises(AttributeError, match="no attribute 'fc1'"):
        ours.fc1
    with pytest.raises(AttributeError):
        ours.layers = ()  # a read-only view: edit the Sequential itself


def test_appending_under_a_taken_name_is_refused() -> None:
    model = nn.Sequential(ReLU(), ReLU())
    delattr(model, "0")  # "1" is left, so the next position's name, "1", is taken
    with pytest.raises(ValueError, match="the name '1' is taken by another layer"):
        model.append(ReLU())


def test_parameter_is_a_leaf_sharing_its_data_that_a_module_finds_as_torchs() -> None:
    torch = require_torch()

    class Scale(nn.Module):
        def __init__(self, start: Tensor) -> None:
            super().__init__()
            self.w = nn.Parameter(start)

        def forward(self, x: Any) -> Any:
            return self.w * x

    start = mg.tensor([1.0, -2.0])
    ours = Scale(start)
    theirs = torch.nn.Module()
    theirs.w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    assert ours.w.requires_grad and ours.w._op is None
    assert ours.w.data is start.data and not start.requires_grad  # shares the array, as torch's
    ours(mg.tensor([3.0, 4.0])).sum().backward()
    assert ours.w.grad.tolist() == [3.0, 4.0]


def test_parameter_takes_a_tensor_that_requires_grad() -> None:
    with pytest.raises(
        ValueError, match=r"requires_grad=False.*missing from parameters\(\).*register_buffer"
    ):
        nn.Parameter(mg.ones(2), requires_grad=False)
    with pytest.raises(TypeError, match=r"Parameter\(\) takes a Tensor, got ndarray.*Parameter\(tensor"):
        nn.Parameter(np.ones(2))  # type: ignore[arg-type]


F_LOSSES = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]


@pytest.mark.parametrize("name", F_LOSSES)
def test_the_losses_are_in_nn_functional_with_torchs_signatures(name: str) -> None:
    """`loss_func = F.cross_entropy` (What is torch.nn really?): torch.nn.functional holds them,
    with torch's parameters, in torch's order, with torch's defaults; the top-level losses keep
    their own (reduction third)."""
    torch = require_torch()
    ours = inspect.signature(getattr(F, name)).parameters.values()
    theirs = inspect.signature(getattr(torch.nn.functional, name)).parameters.values()
    assert [(p.name, p.kind, p.default) for p in ours] == [(p.name, p.kind, p.default) for p in theirs]
    assert getattr(mg, name) is getattr(nn, name) is getattr(losses, name)
    assert list(inspect.signature(getattr(mg, name)).parameters)[2] == "reduction"


@st.composite
def f_loss_calls(draw: st.DrawFn) -> tuple[str, np.ndarray, np.ndarray, dict[str, Any]]:
    """A loss of F_LOSSES, its input and target (class labels, or numbers in [0, 1]), and the
    other arguments by torch's names: the class weights, ignore_index and label_smoothing
    where torch has them, delta or beta, and the reduction."""
    name = draw(st.sampled_from(F_LOSSES))
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-4, 4)))
    named: dict[str, Any] = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    if name in ("cross_entropy", "nll_loss"):
        target = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
        named["weight"] = draw(hnp.arrays(np.float64, (c,), elements=st.floats(0.1, 2)))
        named["ignore_index"] = draw(st.sampled_from([-100, c - 1]))
        if name == "cross_entropy":
            named["label_smoothing"] = draw(st.sampled_from([0.0, 0.25]))
        return name, x, target, named
    target = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(0, 1)))
    if name == "binary_cross_entropy":
        x = 1.0 / (1.0 + np.exp(-x))  # probabilities
    if name in ("huber_loss", "smooth_l1_loss"):
        named["delta" if name == "huber_loss" else "beta"] = draw(st.floats(0.1, 3))
    return name, x, target, named


def _loss_and_gradients(
    f: Any, make: Any, call: tuple[str, np.ndarray, np.ndarray, dict[str, Any]], by_name: bool
) -> list[np.ndarray]:
    """The loss `f` of `make`'s tensors (ours or torch's), called as torch's: all arguments by
    name, or positionally in the order of torch's signature (None for the ones left out); then
    the gradients of input and (float) target."""
    name, x, target, named = call
    inputs = [make(x, requires_grad=True), make(target, requires_grad=target.dtype.kind == "f")]
    args = {key: make(v) if isinstance(v, np.ndarray) else v for key, v in named.items()}
    if by_name:
        loss = f(input=inputs[0], target=inputs[1], **args)
    else:
        torchs_order = list(inspect.signature(getattr(require_torch().nn.functional, name)).parameters)[2:]
        last = max(torchs_order.index(key) for key in args)
        loss = f(*inputs, *(args.get(key) for key in torchs_order[: last + 1]))
    seed = np.random.default_rng(0).normal(size=tuple(loss.shape))
    (loss * make(seed)).sum().backward()
    grads = [np.zeros(x.shape) if t.grad is None else np.asarray(t.grad) for t in inputs if t.requires_grad]
    return [np.asarray(loss.detach().numpy() if hasattr(loss, "detach") else loss.data), *grads]


@given(f_loss_calls(), st.booleans())
def test_f_losses_take_torchs_arguments_positionally_and_by_name(
    call: tuple[str, np.ndarray, np.ndarray, dict[str, Any]], by_name: bool
) -> None:
    """Each F loss called as torch calls it (weight third where torch has it, or input= and
    target= by name): the loss and the gradients of input and target are torch's."""
    torch = require_torch()
    name = call[0]
    ours = _loss_and_gradients(getattr(F, name), Tensor, call, by_name)
    theirs = _loss_and_gradients(getattr(torch.nn.functional, name), torch.tensor, call, by_name)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert close_to_torch(a, b), (name, ["loss", "input gradient", "target gradient"][i])


_x, _labels, _p = Tensor(np.zeros((2, 3))), np.array([0, 2]), Tensor(np.full((2, 3), 0.5))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: F.cross_entropy(_x, _labels, size_average=True),
            ValueError,
            r"cross_entropy\(\): size_average=True is deprecated in PyTorch.*use reduction=",
        ),
        (
            lambda: F.nll_loss(_x, _labels, reduce=False),
            ValueError,
            r"nll_loss\(\): reduce=False is deprecated",
        ),
        (lambda: F.smooth_l1_loss(_x, _x, False), ValueError, "size_average=False is deprecated"),
        (
            lambda: F.mse_loss(_x, _x, "sum"),
            TypeError,
            r"mse_loss\(\): got 'sum' for size_average.*pass reduction='sum' by name",
        ),
        (
            lambda: F.binary_cross_entropy(_p, _p, "none"),
            TypeError,
            "got 'none' for weight.*pass reduction='none' by name",
        ),
        (
            lambda: F.cross_entropy(_x, _labels, "sum"),
            TypeError,
            r"weight comes before reduction.*the third of F.cross_entropy.*pass reduction=\.\.\. by name",
        ),
        *(
            (
                lambda f=f: f(_p, _p, weight=Tensor(np.ones(3))),
                NotImplementedError,
                rf"{f.__name__}\(\): weight= is a PyTorch option this loss does not support.*reduction='none'",
            )
            for f in (
                F.mse_loss,
                F.l1_loss,
                F.huber_loss,
                F.binary_cross_entropy,
                F.binary_cross_entropy_with_logits,
            )
        ),
        (
            lambda: F.binary_cross_entropy_with_logits(_x, _p, pos_weight=Tensor(np.ones(3))),
            NotImplementedError,
            r"binary_cross_entropy_with_logits\(\): pos_weight= is a PyTorch option this loss does not support",
        ),
    ],
)
def test_f_losses_refuse_what_they_cannot_do_and_say_what_to_use(
    call: Any, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        call()


@given(
    logits=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 4)), elements=st.floats(-5, 5)),
    data=st.data(),
)
def test_f_cross_entropy_takes_labels_as_a_tensor_of_whole_numbers_as_torch_takes_int64(
    logits: np.ndarray, data: st.DataObject
) -> None:
    torch = require_torch()
    n, c = logits.shape
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    ours, theirs = Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(ours, mg.tensor(labels))
    expected = torch.nn.functional.cross_entropy(theirs, torch.tensor(labels))
    assert close_to_torch(loss.data, expected.detach().numpy())
    loss.backward()
    expected.backward()
    assert close_to_torch(ours.grad, theirs.grad.numpy())


def test_a_frozen_parameter_stays_in_parameters_and_state_dict_as_torchs(tmp_path: Any) -> None:
    """The 60 Minute Blitz's fine-tuning: freeze every parameter, replace the last layer, optimize."""
    torch = require_torch()
    models = []
    for lib in (torch, mg):
        model = lib.nn.Sequential(OrderedDict([("conv", lib.nn.Linear(3, 4)), ("fc", lib.nn.Linear(4, 2))]))
        for param in model.parameters():
            param.requires_grad = False
        model.fc = lib.nn.Linear(4, 5)
        models.append(model)
    theirs, ours = models
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [p.requires_grad for p in ours.parameters()] == [False, False, True, True]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    mg.save(ours, tmp_path / "m.safetensors")  # the frozen weights are saved too
    fresh = mg.nn.Sequential(OrderedDict([("conv", mg.nn.Linear(3, 4)), ("fc", mg.nn.Linear(4, 5))]))
    mg.load(fresh, tmp_path / "m.safetensors")
    assert close_to_torch(fresh.conv.weight.data, theirs.conv.weight.detach().numpy())
    optimizer = mg.SGD(ours.parameters(), lr=0.1, momentum=0.9)  # frozen ones have no grad: skipped
    before = ours.conv.weight.data.copy()
    (ours(mg.ones(2, 3)) ** 2).sum().backward()
    optimizer.step()
    assert ours.conv.weight.grad is None and np.array_equal(ours.conv.weight.data, before)
    assert ours.fc.weight.grad is not None


def test_only_what_required_grad_when_assigned_is_a_parameter() -> None:
    class Holder(nn.Module):
        def __init__(self) -> None:
            self.w = mg.tensor([1.0], requires_grad=True)
            self.constant = mg.tensor([2.0])  # not a parameter, as a plain tensor attribute in torch
            self.ws = [Value(1.0), Value(2.0)]  # micrograd's lists of Values

    holder = Holder()
    holder.w.requires_grad = False
    holder.ws[0].requires_grad = False
    assert [n for n, _ in holder.named_parameters()] == ["w", "ws.0", "ws.1"]
    assert len(holder.parameters()) == 3
    holder.w = mg.tensor([3.0])  # assigned anew without requires_grad: no longer a parameter
    assert [n for n, _ in holder.named_parameters()] == ["ws.0", "ws.1"]
    holder.constant.requires_grad = True  # (as before: a Tensor that requires grad is found)
    assert [n for n, _ in holder.named_parameters()] == ["constant", "ws.0", "ws.1"]


def test_load_state_dict_copies_into_the_parameters_own_arrays_as_torch() -> None:
    torch = require_torch()
    theirs, ours = torch.nn.Linear(3, 2), mg.nn.Linear(3, 2, seed=0)
    theirs_view, ours_view = theirs.weight.detach().numpy(), ours.weight.numpy()
    state = {"weight": np.arange(6.0).reshape(2, 3), "bias": np.array([-1.0, 1.0])}
    stale = ours(mg.ones(1, 3)).sum()  # made before: stale afterwards, as in PyTorch
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    ours.load_state_dict(state)
    assert ours.weight.numpy() is ours_view and close_to_torch(ours_view, theirs_view)
    assert close_to_torch(ours.bias.data, theirs.bias.detach().numpy())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        stale.backward()
    state["weight"][0, 0] = 99.0  # a copy: the model does not share the given arrays
    assert ours.weight.data[0, 0] == 0.0
