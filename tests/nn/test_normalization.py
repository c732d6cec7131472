"""BatchNorm1d and BatchNorm2d against PyTorch float64: outputs, gradients and running
statistics over several training steps, then eval mode, for hypothesis-drawn shapes and
hyper-parameters; their state dicts (buffers included) as PyTorch's; central differences and
second derivatives; and Module's buffers (register_buffer, named_buffers, state_dict order)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import (
    BatchNorm1d,
    BatchNorm2d,
    Linear,
    Module,
    Sequential,
    Tensor,
    grad,
    gradcheck,
    load,
    nn,
    save,
)


@st.composite
def batchnorm_cases(draw: st.DrawFn) -> dict:
    two_d = draw(st.booleans())
    channels = draw(st.integers(1, 4))
    n = draw(st.integers(1, 4))
    if two_d:
        shape = (n, channels, draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    else:
        shape = (n, channels) + draw(st.sampled_from([(), (1,), (3,)]))
    if shape[0] * int(np.prod(shape[2:])) == 1:  # batch statistics need two values per channel
        shape = (2, *shape[1:])
    return {
        "two_d": two_d,
        "shape": shape,
        "eps": draw(st.sampled_from([1e-5, 1e-3, 0.5])),
        "momentum": draw(st.one_of(st.none(), st.floats(0.0, 1.0))),
        "affine": draw(st.booleans()),
        "bias": draw(st.booleans()),  # PyTorch 2.13's: with affine, a scale without a shift
        "track_running_stats": draw(st.booleans()),
        "steps": draw(st.integers(1, 4)),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def _pair(torch, case: dict) -> tuple[Module, object]:
    """Our layer and torch's, alike; torch's affine parameters made non-trivial, ours copied."""
    options = {k: case[k] for k in ("eps", "momentum", "affine", "bias", "track_running_stats")}
    ours = (BatchNorm2d if case["two_d"] else BatchNorm1d)(case["shape"][1], **options)
    theirs = (torch.nn.BatchNorm2d if case["two_d"] else torch.nn.BatchNorm1d)(case["shape"][1], **options)
    if case["affine"]:
        rng = np.random.default_rng(case["seed"] + 7)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.normal(size=case["shape"][1])))
            if case["bias"]:
                theirs.bias.copy_(torch.tensor(rng.normal(size=case["shape"][1])))
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _step(torch, ours: Module, theirs, x: np.ndarray, g: np.ndarray) -> None:
    """One forward and backward of both layers on the same batch, compared."""
    mine, ref = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(mine), theirs(ref)
    assert close_to_torch(out.data, tout.detach().numpy())
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert close_to_torch(mine.grad, ref.grad.numpy()), "gradient of the input"
    if ours.affine:
        assert close_to_torch(ours.weight.grad, theirs.weight.grad.numpy()), "gradient of the weight"
    if ours.bias is not None:
        assert close_to_torch(ours.bias.grad, theirs.bias.grad.numpy()), "gradient of the bias"
    assert (ours.bias is None) == (theirs.bias is None)


def _same_state(ours: Module, theirs) -> None:
    mine = ours.state_dict()
    ref = theirs.state_dict()
    assert list(mine) == list(ref)
    for name, value in ref.items():
        assert isinstance(mine[name], np.ndarray), name
        assert mine[name].shape == tuple(value.shape) and mine[name].dtype == value.numpy().dtype, name
        assert close_to_torch(mine[name], value.numpy()), name


@given(batchnorm_cases())
def test_batchnorm_matches_torch_in_training_then_in_eval(case: dict) -> None:
    torch = require_torch()
    ours, theirs = _pair(torch, case)
    rng = np.random.default_rng(case["seed"])
    for _ in range(case["steps"]):
        x = rng.normal(2.0, 3.0, size=case["shape"])
        _step(torch, ours, theirs, x, rng.normal(size=case["shape"]))
        _same_state(ours, theirs)  # running mean, unbiased running variance, num_batches_tracked
    ours.eval()
    theirs.eval()
    for _ in range(2):  # eval mode leaves the running statistics alone
        _step(torch, ours, theirs, rng.normal(size=case["shape"]), rng.normal(size=case["shape"]))
        _same_state(ours, theirs)


def test_eval_mode_uses_the_running_statistics_and_training_the_batch_statistics() -> None:
    bn = BatchNorm1d(2, momentum=None)  # cumulative average
    batches = [np.array([[1.0, 10.0], [3.0, 30.0]]), np.array([[5.0, -2.0], [9.0, 0.0]])]
    for x in batches:
        out = bn(Tensor(x))
        assert np.allclose(out.data.mean(axis=0), 0.0) and np.allclose(out.data.var(axis=0), 1.0, atol=1e-4)
    assert np.allclose(bn.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0))
    assert np.allclose(bn.running_var, np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert int(bn.num_batches_tracked) == 2
    bn.eval()
    x = np.array([[0.0, 1.0]])  # one row is fine in eval mode
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    assert np.allclose(bn(Tensor(x)).data, expected)
    assert int(bn.num_batches_tracked) == 2


def test_without_running_stats_batch_statistics_are_used_in_eval_too() -> None:
    bn = BatchNorm2d(3, track_running_stats=False, affine=False).eval()
    x = np.random.default_rng(0).normal(size=(2, 3, 2, 2))
    out = bn(Tensor(x)).data
    assert np.allclose(out.mean(axis=(0, 2, 3)), 0.0)
    assert bn.state_dict() == {} and bn.parameters() == [] and bn.buffers() == []


@pytest.mark.parametrize("two_d", [False, True])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("track", [False, True])
def test_state_dict_keys_shapes_and_dtypes_are_torchs_and_buffers_are_not_parameters(
    two_d: bool, affine: bool, track: bool
) -> None:
    torch = require_torch()
    layer = (BatchNorm2d if two_d else BatchNorm1d)(3, affine=affine, track_running_stats=track)
    ref = (torch.nn.BatchNorm2d if two_d else torch.nn.BatchNorm1d)(
        3, affine=affine, track_running_stats=track
    )
    _same_state(layer, ref)
    assert [name for name, _ in layer.named_parameters()] == [name for name, _ in ref.named_parameters()]
    assert [name for name, _ in layer.named_buffers()] == [name for name, _ in ref.named_buffers()]
    assert all(isinstance(p, Tensor) for p in layer.parameters())


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_in_float32_keeps_its_dtype(momentum: float | None) -> None:
    bn = BatchNorm1d(2, dtype=np.float32, momentum=momentum)
    out = bn(Tensor(np.arange(6.0).reshape(3, 2), dtype=np.float32))
    assert out.dtype == np.float32
    assert bn.running_mean.dtype == np.float32 and bn.running_var.dtype == np.float32
    assert bn.num_batches_tracked.dtype == np.int64


@pytest.mark.parametrize("shape", [(4, 3), (3, 3, 2)])
def test_training_gradients_match_central_differences(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    bn = BatchNorm1d(3, track_running_stats=False)
    bn.weight.data = rng.normal(size=3)
    bn.bias.data = rng.normal(size=3)
    x = Tensor(rng.normal(size=shape), requires_grad=True)
    assert gradcheck(lambda x, w, b: bn(x), [x, bn.weight, bn.bias])


def test_eval_gradients_match_central_differences() -> None:
    rng = np.random.default_rng(2)
    bn = BatchNorm2d(2)
    bn.running_mean = rng.normal(size=2)
    bn.running_var = rng.uniform(0.5, 2.0, size=2)
    bn.eval()
    x = Tensor(rng.normal(size=(2, 2, 3, 3)), requires_grad=True)
    assert gradcheck(lambda x, w, b: bn(x), [x, bn.weight, bn.bias])


def test_second_derivatives_match_torch() -> None:
    torch = require_torch()
    rng = np.random.default_rng(3)
    x_data, w_data = rng.normal(size=(4, 3, 2)), rng.normal(size=3)
    bn = BatchNorm1d(3)
    bn.weight.data = w_data.copy()
    x = Tensor(x_data, requires_grad=True)
    out = bn(x)
    (gx,) = grad((out * out.sin()).sum(), [x], create_graph=True)
    (gx * gx).sum().backward()
    ref = torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(w_data))
    tx = torch.tensor(x_data, requires_grad=True)
    tout = ref(tx)
    (tgx,) = torch.autograd.grad((tout * tout.sin()).sum(), [tx], create_graph=True)
    (tgx * tgx).sum().backward()
    assert close_to_torch(gx.data, tgx.detach().numpy())
    assert close_to_torch(x.grad, tx.grad.numpy())
    assert close_to_torch(bn.weight.grad, ref.weight.grad.numpy())


def test_bad_inputs_and_arguments_say_what_to_do() -> None:
    with pytest.raises(
        ValueError, match=r"BatchNorm1d\(3\) expects a 2-d or 3-d input with 3 channels.*\(4, 2\)"
    ):
        BatchNorm1d(3)(Tensor(np.zeros((4, 2))))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) expects a 4-d input .*\(4, 3\)"):
        BatchNorm2d(3)(Tensor(np.zeros((4, 3))))
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\).*eval\(\)"):
        BatchNorm1d(3)(Tensor(np.zeros((1, 3))))
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        BatchNorm1d(0)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0.0, 1.0\]"):
        BatchNorm1d(2, momentum=2.0)
    with pytest.raises(ValueError, match="eps must be a number"):
        BatchNorm1d(2, eps=-1.0)


# --- Module buffers ---------------------------------------------------------------------------------


class _Counter(Module):
    """A module with a parameter, a buffer and a sub-module, in that order of assignment."""

    def __init__(self) -> None:
        self.scale = Tensor(np.ones(2), requires_grad=True)
        self.register_buffer("count", np.zeros(2))
        self.inner = BatchNorm1d(2)


def test_buffers_are_named_listed_and_saved_in_torchs_order() -> None:
    model = Sequential(Linear(2, 2, seed=0), _Counter())
    assert [name for name, _ in model.named_buffers()] == [
        "1.count",
        "1.inner.running_mean",
        "1.inner.running_var",
        "1.inner.num_batches_tracked",
    ]
    assert list(model.state_dict()) == [
        "0.weight",
        "0.bias",
        "1.scale",
        "1.count",
        "1.inner.weight",
        "1.inner.bias",
        "1.inner.running_mean",
        "1.inner.running_var",
        "1.inner.num_batches_tracked",
    ]
    assert len(model.parameters()) == 5 and len(model.buffers()) == 4
    state = model.state_dict()
    state["1.count"][:] = 7.0  # a copy: the module's buffer is unchanged
    assert np.array_equal(model[1].count, np.zeros(2))


def test_load_state_dict_fills_buffers_all_or_nothing() -> None:
    model = _Counter()
    state = model.state_dict()
    state["count"] = np.array([1.0, 2.0])
    state["inner.num_batches_tracked"] = np.array(5)
    model.load_state_dict(state)
    assert np.array_equal(model.count, [1.0, 2.0]) and int(model.inner.num_batches_tracked) == 5
    assert model.inner.num_batches_tracked.dtype == np.int64
    bad = dict(state, count=np.array([9.0, 9.0]))
    bad["inner.num_batches_tracked"] = np.array(1.5)  # a step count takes integers only
    with pytest.raises(ValueError, match=r"'inner.num_batches_tracked': expected integers of shape \(\)"):
        model.load_state_dict(bad)
    assert np.array_equal(model.count, [1.0, 2.0])  # nothing was copied


def test_a_one_element_float_entry_into_an_int_buffer_is_named_by_the_shape_given() -> None:
    model = _Counter()
    bad = dict(model.state_dict())
    bad["inner.num_batches_tracked"] = np.array([1.5])  # (1,) loads as 0-d, but floats do not
    expected = "'inner.num_batches_tracked': expected integers of shape (), got float64 of shape (1,)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        model.load_state_dict(bad)


def test_register_buffer_refuses_bad_names_and_values() -> None:
    module = Module()
    with pytest.raises(TypeError, match="must be a numpy array, a Tensor or None, got list"):
        module.register_buffer("b", [1.0])
    with pytest.raises(ValueError, match="identifier without dots"):
        module.register_buffer("a.b", np.zeros(1))
    module.x = 1
    for taken in ("x", "training", "forward"):
        with pytest.raises(KeyError, match=f"'{taken}' already exists"):
            module.register_buffer(taken, np.zeros(1))
    module.register_buffer("b", None)  # as PyTorch: registered, left out of the state until set
    assert module.state_dict() == {}
    module.b = np.zeros(3)
    assert list(module.state_dict()) == ["b"]


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_and_load_keep_the_running_statistics(tmp_path, suffix: str) -> None:
    trained = nn.Sequential(Linear(3, 2, seed=0), BatchNorm1d(2))
    for seed in range(3):
        trained(Tensor(np.random.default_rng(seed).normal(size=(5, 3))))
    save(trained, tmp_path / f"model{suffix}")
    fresh = nn.Sequential(Linear(3, 2, seed=1), BatchNorm1d(2))
    load(fresh, tmp_path / f"model{suffix}")
    for name, value in trained.state_dict().items():
        assert np.array_equal(fresh.state_dict()[name], value), name
    assert fresh[1].num_batches_tracked.dtype == np.int64 and int(fresh[1].num_batches_tracked) == 3


def test_register_buffer_keeps_a_tensors_array_as_pytorch_code_passes_one() -> None:
    torch = require_torch()
    ours, theirs = Module(), torch.nn.Module()
    ours.register_buffer("tril", Tensor(np.ones((3, 3))).tril())
    theirs.register_buffer("tril", torch.ones(3, 3, dtype=torch.float64).tril())
    assert isinstance(ours.tril, np.ndarray)  # a buffer is an array here, the same numbers
    assert np.array_equal(ours.tril, theirs.tril.numpy())
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["tril"]
    shared = Tensor(np.zeros(2))
    ours.register_buffer("count", shared)
    shared.data[0] = 5.0  # the Tensor's own array is kept, not a copy
    assert ours.count[0] == 5.0
