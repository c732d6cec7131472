"""Tensor layers: Linear (PyTorch's initialisation, values and gradients vs PyTorch float64),
Sequential, the activation modules, module discovery in a user's `nn.Module`, clip_grad_norm_
and batches."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import (
    SGD,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    Tensor,
    Value,
    batches,
    clip_grad_norm_,
    grad,
    gradcheck,
    nn,
)
from micrograd_plus.nn import functional as F

# --- Linear: initialisation ---------------------------------------------------------------------


def test_linear_has_pytorchs_shapes_names_and_initial_range() -> None:
    torch = require_torch()
    layer = Linear(400, 30, seed=0)
    theirs = torch.nn.Linear(400, 30)
    assert layer.weight.shape == tuple(theirs.weight.shape) == (30, 400)
    assert layer.bias.shape == tuple(theirs.bias.shape) == (30,)
    assert [n for n, _ in layer.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) for the weight, the same bound for the bias
    for ours, reference in ((layer.weight.data, theirs.weight), (layer.bias.data, theirs.bias)):
        largest = float(reference.detach().abs().max())
        assert largest <= bound and np.abs(ours).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound
    assert abs(layer.weight.data.mean()) < 0.05 * bound
    # the variance of U(-b, b) is b^2 / 3: the spread is the uniform one, not a normal one
    assert abs(layer.weight.data.var() / (bound**2 / 3) - 1) < 0.05


def test_linear_initialisation_comes_from_the_seed_only() -> None:
    np_state, py_state = np.random.get_state()[1].copy(), random.getstate()
    a, b, c = Linear(3, 4, seed=5), Linear(3, 4, seed=5), Linear(3, 4, seed=6)
    assert np.array_equal(a.weight.data, b.weight.data) and np.array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    shared = np.random.default_rng(1)
    first, second = Linear(3, 4, seed=shared), Linear(3, 4, seed=shared)
    assert not np.array_equal(first.weight.data, second.weight.data), "one Generator is one stream"
    r1, r2 = Linear(3, 4, seed=random.Random(9)), Linear(3, 4, seed=random.Random(9))
    assert np.array_equal(r1.weight.data, r2.weight.data)
    assert np.array_equal(np.random.get_state()[1], np_state) and random.getstate() == py_state


def test_linear_options() -> None:
    layer = Linear(2, 3, bias=False, seed=0)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    assert np.array_equal(layer(np.ones((4, 2))).data, np.ones((4, 2)) @ layer.weight.data.T)
    single = Linear(2, 3, seed=0, dtype=np.float32)
    assert single.weight.dtype == np.float32 and single(np.ones((1, 2), dtype=np.float32)).dtype == np.float32
    assert repr(Linear(2, 3, seed=0)) == "Linear(in_features=2, out_features=3, bias=True)"
    assert layer.weight.requires_grad and layer.weight.is_leaf


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Linear(0, 3), ValueError, "in_features must be a positive int, got 0"),
        (lambda: Linear(2, 2.5), ValueError, "out_features must be a positive int, got 2.5"),
        (lambda: Linear(2, 3, seed="x"), TypeError, "seed must be an int"),
        (lambda: Linear(2, 3, seed=-1), ValueError, "seed must be >= 0"),
        (lambda: Linear(2, 3, dtype=np.int64), TypeError, "dtype must be float32 or float64"),
    ],
)
def test_bad_linear_arguments_raise(make, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        make()


def test_linear_input_of_the_wrong_width_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"input of shape \(5, 3\) does not fit a weight of shape \(4, 2\)"):
        Linear(2, 4, seed=0)(np.zeros((5, 3)))


# --- Linear: values and gradients ------------------------------------------------------------------


@st.composite
def linear_cases(draw: st.DrawFn) -> dict:
    n_in, n_out = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    lead = draw(st.sampled_from([(), (1,), (4,), (2, 3)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.normal(size=(*lead, n_in)),
        "w": rng.normal(size=(n_out, n_in)),
        "b": rng.normal(size=(n_out,)),
        "g": rng.normal(size=(*lead, n_out)),
        "bias": draw(st.booleans()),
    }


@given(linear_cases())
def test_linear_values_and_gradients_match_torch(case: dict) -> None:
    torch = require_torch()
    x, w, b = (Tensor(case[k], requires_grad=True) for k in "xwb")
    tx, tw, tb = (torch.tensor(case[k], requires_grad=True) for k in "xwb")
    out = F.linear(x, w, b if case["bias"] else None)
    ref = torch.nn.functional.linear(tx, tw, tb if case["bias"] else None)
    assert close_to_torch(out.data, ref.detach().numpy())
    out.backward(case["g"])
    ref.backward(torch.tensor(case["g"]))
    assert close_to_torch(x.grad, tx.grad.numpy())
    assert close_to_torch(w.grad, tw.grad.numpy())
    if case["bias"]:
        assert close_to_torch(b.grad, tb.grad.numpy())
    else:
        assert b.grad is None


@given(linear_cases())
def test_linear_second_derivatives_match_torch(case: dict) -> None:
    torch = require_torch()
    x, w, b = (Tensor(case[k], requires_grad=True) for k in "xwb")
    tx, tw, tb = (torch.tensor(case[k], requires_grad=True) for k in "xwb")
    gx, gw = grad(F.linear(x, w, b).tanh().sum(), [x, w], create_graph=True)
    ((gx * gx).sum() + (gw * gw * gw).sum()).backward()
    tgx, tgw = torch.autograd.grad(
        torch.nn.functional.linear(tx, tw, tb).tanh().sum(), [tx, tw], create_graph=True
    )
    ((tgx * tgx).sum() + (tgw * tgw * tgw).sum()).backward()
    for mine, theirs in (
        (gx.data, tgx),
        (gw.data, tgw),
        (x.grad, tx.grad),
        (w.grad, tw.grad),
        (b.grad, tb.grad),
    ):
        assert close_to_torch(mine, theirs.detach().numpy())


def test_linear_passes_gradcheck() -> None:
    rng = np.random.default_rng(0)
    x, w, b = (Tensor(rng.normal(size=s), requires_grad=True) for s in [(3, 4), (2, 4), (2,)])
    assert gradcheck(lambda x, w, b: F.linear(x, w, b).sigmoid(), [x, w, b])


def test_linear_skips_the_gradient_of_an_input_that_does_not_want_one() -> None:
    layer = Linear(3, 2, seed=0)
    x = Tensor(np.ones((4, 3)))
    layer(x).sum().backward()
    assert x.grad is None and layer.weight.grad.shape == (2, 3)
    assert np.array_equal(layer.bias.grad, [4.0, 4.0])


# --- modules: discovery, Sequential, activations ------------------------------------------------------


class Net(nn.Module):
    """A user's model, written as for PyTorch."""

    def __init__(self) -> None:
        self.hidden = nn.Linear(3, 5, seed=0)
        self.relu = nn.ReLU()
        self.blocks = [nn.Linear(5, 5, seed=1), nn.Tanh()]
        self.out = nn.Linear(5, 2, seed=2)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.hidden(x))
        for block in self.blocks:
            x = block(x)
        return self.out(x)


def test_a_users_module_finds_its_layers_and_matches_torch() -> None:
    torch = require_torch()

    class TorchNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hidden = torch.nn.Linear(3, 5)
            self.relu = torch.nn.ReLU()
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(5, 5), torch.nn.Tanh()])
            self.out = torch.nn.Linear(5, 2)

        def forward(self, x):  # type: ignore[no-untyped-def]
            x = self.relu(self.hidden(x))
            for block in self.blocks:
                x = block(x)
            return self.out(x)

    ours, theirs = Net(), TorchNet()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(7, 3))
    out, ref = ours(Tensor(x)), theirs(torch.tensor(x))
    assert close_to_torch(out.data, ref.detach().numpy())
    (out**2).mean().backward()
    (ref**2).mean().backward()
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert close_to_torch(p.grad, tp.grad.numpy()), name
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())


def test_sequential_names_parameters_like_torch() -> None:
    torch = require_torch()
    ours = Sequential(Linear(2, 4, seed=0), ReLU(), Linear(4, 4, seed=1), Sigmoid(), Linear(4, 1, seed=2))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 4),
        torch.nn.ReLU(),
        torch.nn.Linear(4, 4),
        torch.nn.Sigmoid(),
        torch.nn.Linear(4, 1),
    )
    assert (
        list(ours.state_dict())
        == list(theirs.state_dict())
        == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    )
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(5, 2))
    assert close_to_torch(ours(x).data, theirs(torch.tensor(x)).detach().numpy())
    assert len(ours) == 5 and isinstance(ours[1], ReLU) and list(ours)[4] is ours[4]
    head = ours[:2]
    assert isinstance(head, Sequential) and head[0] is ours[0] and len(head) == 2
    assert "(0): Linear(in_features=2, out_features=4, bias=True)" in repr(ours)


def test_sequential_refuses_what_is_not_a_module() -> None:
    with pytest.raises(TypeError, match="argument 1 is a ufunc"):
        Sequential(Linear(2, 2, seed=0), np.tanh)


def test_sequential_of_value_modules() -> None:
    """Sequential and the activations also serve the scalar engine."""
    model = Sequential(
        nn.Layer(2, 3, activation=None, seed=0), Tanh(), nn.Layer(3, 1, activation=None, seed=1)
    )
    out = model([Value(0.5), Value(-1.0)])
    assert isinstance(out, Value)
    hidden = [n([0.5, -1.0]).tanh() for n in model[0].neurons]
    assert out.data == pytest.approx(model[2].neurons[0](hidden).data, abs=1e-15)
    assert len(model.parameters()) == 3 * 3 + 4


@pytest.mark.parametrize(("module", "method"), [(ReLU(), "relu"), (Tanh(), "tanh"), (Sigmoid(), "sigmoid")])
def test_activation_modules_work_on_tensors_values_and_lists(module: nn.Module, method: str) -> None:
    data = np.array([-2.0, -0.5, 0.0, 0.7, 3.0])
    assert np.array_equal(module(Tensor(data)).data, getattr(Tensor(data), method)().data)
    assert module(Value(0.7)).data == getattr(Value(0.7), method)().data
    assert [v.data for v in module([Value(x) for x in data])] == [
        getattr(Value(x), method)().data for x in data
    ]
    assert repr(module) == type(module).__name__ + "()"


def test_flatten_keeps_the_batch_axis() -> None:
    x = Tensor(np.arange(24.0).reshape(2, 3, 2, 2), requires_grad=True)
    out = nn.Flatten()(x)
    assert out.shape == (2, 12)
    out.sum().backward()
    assert np.array_equal(x.grad, np.ones((2, 3, 2, 2)))


@given(
    shape=st.lists(st.integers(0, 3), min_size=1, max_size=4),
    start=st.integers(-5, 4),
    end=st.integers(-5, 4),
)
def test_flatten_takes_start_and_end_dim_as_torch(shape: list[int], start: int, end: int) -> None:
    torch = require_torch()
    x = np.arange(float(math.prod(shape))).reshape(shape)
    ours, theirs = nn.Flatten(start, end), torch.nn.Flatten(start, end)
    assert repr(ours) == repr(theirs) == f"Flatten(start_dim={start}, end_dim={end})"
    try:
        expected = theirs(torch.tensor(x)).numpy()
    except (IndexError, RuntimeError) as error:  # a dim out of range, or start after end
        with pytest.raises(IndexError if isinstance(error, IndexError) else ValueError):
            ours(Tensor(x))
        return
    assert np.array_equal(ours(Tensor(x)).data, expected)
    assert ours(Tensor(x)).shape == expected.shape


def test_flatten_of_a_1d_or_0d_tensor_is_torchs() -> None:
    with pytest.raises(IndexError, match=r"in range of \[-1, 0\], but got 1"):
        nn.Flatten()(Tensor(np.zeros(3)))
    with pytest.raises(IndexError, match=r"in range of \[-1, 0\], but got 1"):  # start_dim 1 of a 0-d one
        nn.Flatten()(Tensor(1.0))
    for dims in [(0,), (-1,), (0, -1), (0, 0)]:  # a 0-d Tensor flattened from axis 0: one element
        assert nn.Flatten(*dims)(Tensor(1.0)).shape == (1,)


# --- clip_grad_norm_ -----------------------------------------------------------------------------------


@given(
    st.lists(st.lists(st.floats(-10, 10), min_size=1, max_size=6), min_size=1, max_size=4),
    st.floats(0.01, 20.0),
    st.sampled_from([1.0, 2.0, 3.0, math.inf]),
)
def test_clip_grad_norm_matches_torch(grads: list[list[float]], max_norm: float, norm_type: float) -> None:
    torch = require_torch()
    ours = [Tensor(np.zeros(len(g)), requires_grad=True) for g in grads]
    theirs = [torch.zeros(len(g), requires_grad=True) for g in grads]
    values = [Value(0.0) for _ in grads]
    for p, tp, v, g in zip(ours, theirs, values, grads):
        p.grad = np.array(g)
        tp.grad = torch.tensor(g)
        v.grad = g[0]
    total = clip_grad_norm_(ours, max_norm, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, Tensor) and close_to_torch(total, ref.item())  # a 0-d Tensor, as torch
    for p, tp in zip(ours, theirs):
        assert close_to_torch(p.grad, tp.grad.numpy())
    # Values: their gradients are floats
    value_ref = [torch.zeros(1, requires_grad=True) for _ in grads]
    for tp, g in zip(value_ref, grads):
        tp.grad = torch.tensor([g[0]])
    assert close_to_torch(
        clip_grad_norm_(values, max_norm, norm_type),
        torch.nn.utils.clip_grad_norm_(value_ref, max_norm, norm_type).item(),
    )
    assert close_to_torch([v.grad for v in values], [tp.grad.item() for tp in value_ref])


def test_clip_grad_norm_skips_missing_gradients_and_takes_one_node() -> None:
    a, b = Tensor([3.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    a.grad = np.array([4.0])
    assert clip_grad_norm_([a, b], 1.0) == 4.0 and b.grad is None
    assert a.grad[0] == pytest.approx(1.0, rel=1e-6)
    assert clip_grad_norm_(b, 1.0) == 0.0
    assert clip_grad_norm_(a, 10.0) == pytest.approx(1.0, rel=1e-6)


def test_clip_grad_norm_does_not_touch_a_gradient_array_in_place() -> None:
    p = Tensor([1.0], requires_grad=True)
    original = np.array([10.0])
    p.grad = original
    clip_grad_norm_([p], 1.0)
    assert original[0] == 10.0 and p.grad[0] == pytest.approx(1.0, rel=1e-6)


def test_clip_grad_norm_bad_arguments() -> None:
    p = Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"clip_grad_norm_\(\): max_norm must be >= 0, got -1.0"):
        clip_grad_norm_([p], -1.0)
    for bad in [0.0, -1.0, -math.inf, math.nan]:  # (torch's 0, negative and -inf orders are not here)
        with pytest.raises(ValueError, match=r"norm_type must be > 0 or math.inf, got"):
            clip_grad_norm_([p], 1.0, norm_type=bad)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray"):
        clip_grad_norm_([np.zeros(2)], 1.0)


# --- batches -------------------------------------------------------------------------------------------


@given(st.integers(1, 40), st.integers(1, 50), st.booleans(), st.integers(0, 2**32 - 1))
def test_batches_cover_every_row_once(n: int, batch_size: int, drop_last: bool, seed: int) -> None:
    X = np.arange(n * 2, dtype=float).reshape(n, 2)
    y = np.arange(n)
    seen = []
    sizes = []
    for xb, yb in batches(X, y, batch_size, seed=seed, drop_last=drop_last):
        assert np.array_equal(xb[:, 0], 2 * yb), "rows of X and y stay paired"
        seen += yb.tolist()
        sizes.append(len(yb))
    expected = n - n % batch_size if drop_last else n
    assert len(seen) == expected and len(set(seen)) == expected
    assert all(s == batch_size for s in sizes[:-1]) and (not sizes or sizes[-1] <= batch_size)
    if drop_last:
        assert all(s == batch_size for s in sizes)


def test_batches_shuffle_from_the_seed_only() -> None:
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    state = np.random.get_state()[1].copy()
    order = [yb.tolist() for _, yb in batches(X, y, 3, seed=4)]
    assert order == [yb.tolist() for _, yb in batches(X, y, 3, seed=4)]
    assert np.array_equal(np.random.get_state()[1], state)
    assert [yb.tolist() for _, yb in batches(X, y, 3, shuffle=False)] == [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
        [9],
    ]
    rng = np.random.default_rng(0)
    epoch1 = [yb.tolist() for _, yb in batches(X, y, 10, seed=rng)]
    epoch2 = [yb.tolist() for _, yb in batches(X, y, 10, seed=rng)]
    assert epoch1 != epoch2, "a shared Generator gives a new order every epoch"


def test_batches_of_tensors_are_tensors() -> None:
    X = Tensor(np.arange(8.0).reshape(4, 2))
    xb, yb = next(iter(batches(X, np.arange(4), 2, shuffle=False)))
    assert isinstance(xb, Tensor) and not xb.requires_grad and isinstance(yb, np.ndarray)
    assert np.array_equal(xb.data, [[0.0, 1.0], [2.0, 3.0]])


def test_batches_bad_arguments() -> None:
    with pytest.raises(ValueError, match="got sizes 3, 2"):
        list(batches(np.zeros((3, 1)), np.zeros(2), 1))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        list(batches(np.zeros((3, 1)), np.zeros(3), 0))


# --- a training step through the layers ---------------------------------------------------------------


def test_training_steps_match_torch() -> None:
    torch = require_torch()
    ours = Sequential(Linear(3, 8, seed=0), Tanh(), Linear(8, 1, seed=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    opt, topt = (
        SGD(ours.parameters(), lr=0.1, momentum=0.9),
        torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9),
    )
    for _ in range(5):
        loss = nn.MSELoss()(ours(X), Tensor(y))
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(ours.parameters(), 0.5)
        opt.step()
        tloss = torch.nn.MSELoss()(theirs(torch.tensor(X)), torch.tensor(y))
        topt.zero_grad()
        tloss.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.5)
        topt.step()
        assert close_to_torch(loss.item(), tloss.item())


def test_a_layer_used_twice_is_one_set_of_parameters_stepped_once_like_torch() -> None:
    torch = require_torch()
    shared = Linear(2, 2, seed=0)
    model = Sequential(shared, ReLU(), shared)
    reference = torch.nn.Linear(2, 2)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(shared.weight.data))
        reference.bias.copy_(torch.tensor(shared.bias.data))
    theirs = torch.nn.Sequential(reference, torch.nn.ReLU(), reference)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(model.modules()) == len(list(theirs.modules()))
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    optimizer, reference_optimizer = (
        SGD(model.parameters(), lr=0.1),
        torch.optim.SGD(theirs.parameters(), lr=0.1),
    )
    model(Tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    optimizer.step()
    reference_optimizer.step()
    assert close_to_torch(shared.weight.data, reference.weight.detach().numpy())
    assert close_to_torch(shared.bias.data, reference.bias.detach().numpy())
