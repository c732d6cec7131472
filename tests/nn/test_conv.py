"""Conv2d and MaxPool2d: values, gradients and second derivatives against PyTorch float64 and
central differences, for hypothesis-drawn shapes, strides and paddings; the modules' shapes,
initialisation and errors; and a small CNN that learns."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Tensor, grad, gradcheck, nn
from micrograd_plus.check import check_local_derivatives
from micrograd_plus.nn import functional as F
from micrograd_plus.nn.losses import cross_entropy
from micrograd_plus.optim import Adam


@st.composite
def conv_cases(draw: st.DrawFn) -> dict:
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * ph), 7))
    w = draw(st.integers(max(1, kw - 2 * pw), 7))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n, c, o = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return {
        "x": rng.normal(size=(n, c, h, w)),
        "w": rng.normal(size=(o, c, kh, kw)),
        "b": rng.normal(size=(o,)),
        "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "padding": (ph, pw),
        "upstream_seed": seed,
    }


def _upstream(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed + 1).normal(size=shape)


@given(conv_cases())
def test_conv2d_values_and_gradients_match_torch(case: dict) -> None:
    torch = require_torch()
    x, w, b = (Tensor(case[k], requires_grad=True) for k in ("x", "w", "b"))
    out = F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"])
    tx, tw, tb = (torch.tensor(case[k], requires_grad=True) for k in ("x", "w", "b"))
    ref = torch.nn.functional.conv2d(tx, tw, tb, stride=case["stride"], padding=case["padding"])
    assert out.shape == tuple(ref.shape)
    assert close_to_torch(out.data, ref.detach().numpy())
    g = _upstream(out.shape, case["upstream_seed"])
    out.backward(g)
    ref.backward(torch.tensor(g))
    for mine, theirs, name in ((x, tx, "input"), (w, tw, "weight"), (b, tb, "bias")):
        assert close_to_torch(mine.grad, theirs.grad.numpy()), f"gradient of the {name}"


@given(conv_cases())
def test_conv2d_second_derivatives_match_torch(case: dict) -> None:
    """grad(..., create_graph=True) through a convolution, then backward again: the three
    bilinear ops (conv, input_grad, weight_grad) differentiate each other."""
    torch = require_torch()
    x, w = Tensor(case["x"], requires_grad=True), Tensor(case["w"], requires_grad=True)
    out = F.conv2d(x, w, stride=case["stride"], padding=case["padding"])
    loss = (out * out.sin()).sum()
    gx, gw = grad(loss, [x, w], create_graph=True)
    ((gx * gx).sum() + (gw * gw.cos()).sum()).backward()
    tx, tw = torch.tensor(case["x"], requires_grad=True), torch.tensor(case["w"], requires_grad=True)
    tout = torch.nn.functional.conv2d(tx, tw, stride=case["stride"], padding=case["padding"])
    tgx, tgw = torch.autograd.grad((tout * tout.sin()).sum(), [tx, tw], create_graph=True)
    ((tgx * tgx).sum() + (tgw * tgw.cos()).sum()).backward()
    assert close_to_torch(gx.data, tgx.detach().numpy())
    assert close_to_torch(gw.data, tgw.detach().numpy())
    assert close_to_torch(x.grad, tx.grad.numpy())
    assert close_to_torch(w.grad, tw.grad.numpy())


@st.composite
def pool_cases(draw: st.DrawFn) -> dict:
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(kh, 8)), draw(st.integers(kw, 8))
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).normal(size=(n, c, h, w))
    return {"x": x, "kernel": (kh, kw), "stride": stride}


@given(pool_cases())
def test_max_pool2d_values_and_gradients_match_torch(case: dict) -> None:
    """Overlapping windows too (stride < kernel): an element that wins two windows gets both gradients."""
    torch = require_torch()
    x = Tensor(case["x"], requires_grad=True)
    out = F.max_pool2d(x, case["kernel"], case["stride"])
    tx = torch.tensor(case["x"], requires_grad=True)
    ref = torch.nn.functional.max_pool2d(tx, case["kernel"], case["stride"])
    assert out.shape == tuple(ref.shape)
    assert close_to_torch(out.data, ref.detach().numpy())
    g = _upstream(out.shape, int(abs(case["x"].sum()) * 1000))
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert close_to_torch(x.grad, tx.grad.numpy())


@given(pool_cases())
def test_max_pool2d_second_derivatives_match_torch(case: dict) -> None:
    torch = require_torch()
    x = Tensor(case["x"], requires_grad=True)
    out = F.max_pool2d(x, case["kernel"], case["stride"])
    (gx,) = grad((out**3).sum(), [x], create_graph=True)
    (gx * gx).sum().backward()
    tx = torch.tensor(case["x"], requires_grad=True)
    tout = torch.nn.functional.max_pool2d(tx, case["kernel"], case["stride"])
    (tgx,) = torch.autograd.grad((tout**3).sum(), [tx], create_graph=True)
    (tgx * tgx).sum().backward()
    assert close_to_torch(gx.data, tgx.detach().numpy())
    assert close_to_torch(x.grad, tx.grad.numpy())


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum_like_torch() -> None:
    torch = require_torch()
    data = np.array([[[[1.0, 1.0, 0.0], [1.0, 0.5, 2.0], [2.0, 2.0, 2.0]]]])
    x = Tensor(data, requires_grad=True)
    F.max_pool2d(x, 2, 1).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    torch.nn.functional.max_pool2d(tx, 2, 1).sum().backward()
    assert np.array_equal(x.grad, tx.grad.numpy())


def test_conv_and_pool_pass_gradcheck_and_local_derivative_checks() -> None:
    rng = np.random.default_rng(3)
    x = Tensor(rng.normal(size=(2, 2, 5, 5)), requires_grad=True)
    w = Tensor(rng.normal(size=(3, 2, 3, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=(3,)), requires_grad=True)

    def f(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        return F.max_pool2d(F.conv2d(x, w, b, stride=1, padding=1).tanh(), 2).sum()

    assert gradcheck(f, [x, w, b])
    report = check_local_derivatives(f(x, w, b))
    assert report, str(report)
    names = {c.op for c in report.checks}
    assert {"conv2d", "max_pool2d"} <= names, names


def test_conv_ops_are_named_nodes_of_the_shared_graph() -> None:
    x = Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    out = MaxPool2d(2)(Conv2d(1, 2, 3, padding=1, seed=0)(x))
    assert out.op == "max_pool2d"
    conv_plus_bias = out.parents[0]
    assert conv_plus_bias.op == "+" and conv_plus_bias.parents[0].op == "conv2d"
    (gx,) = grad(out.sum(), [x], create_graph=True)
    assert gx.op == "conv2d_input_grad"


def test_first_layer_input_gets_no_gradient_work() -> None:
    x = Tensor(np.ones((1, 1, 4, 4)))  # does not require grad
    conv = Conv2d(1, 2, 3, seed=0)
    conv(x).sum().backward()
    assert x.grad is None and conv.weight.grad is not None


# --- the modules ---------------------------------------------------------------------------------


def test_conv2d_module_shapes_and_pytorch_initialisation() -> None:
    torch = require_torch()
    conv = Conv2d(3, 16, kernel_size=(5, 3), stride=2, padding=1, seed=0)
    assert conv.weight.shape == (16, 3, 5, 3) and conv.bias.shape == (16,)
    bound = 1 / math.sqrt(3 * 5 * 3)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.95 * bound, "weights should fill U(-bound, bound)"
    theirs = torch.nn.Conv2d(3, 16, kernel_size=(5, 3), stride=2, padding=1)
    largest = float(theirs.weight.detach().abs().max())
    assert 0.95 * bound < largest <= bound
    assert [n for n, _ in conv.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    out = conv(np.zeros((2, 3, 9, 8)))
    assert out.shape == tuple(theirs(torch.zeros(2, 3, 9, 8)).shape) == (2, 16, 4, 4)
    assert np.array_equal(Conv2d(3, 16, 3, seed=7).weight.data, Conv2d(3, 16, 3, seed=7).weight.data)
    assert Conv2d(3, 16, 3, bias=False, seed=0).bias is None


def test_conv2d_module_matches_torch_module_with_copied_weights() -> None:
    torch = require_torch()
    ours = Sequential(
        Conv2d(2, 4, 3, padding=1, seed=1), ReLU(), MaxPool2d(2), Flatten(), Linear(4 * 3 * 3, 5, seed=2)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(36, 5),
    )
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(3, 2, 6, 7))
    labels = np.array([0, 4, 2])
    loss = cross_entropy(ours(Tensor(x)), labels)
    loss.backward()
    tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(labels))
    tloss.backward()
    assert close_to_torch(loss.item(), tloss.item())
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert close_to_torch(p.grad, tp.grad.numpy()), name


def test_max_pool2d_module_defaults_stride_to_kernel() -> None:
    pool = MaxPool2d(3)
    assert pool.stride == (3, 3)
    assert pool(np.arange(36.0).reshape(1, 1, 6, 6)).data.ravel().tolist() == [14.0, 17.0, 32.0, 35.0]


def test_nn_namespace_has_the_conv_layers() -> None:
    assert nn.Conv2d is Conv2d and nn.MaxPool2d is MaxPool2d and nn.Flatten is Flatten


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv2d(0, 3, 3), "in_channels must be a positive int"),
        (lambda: Conv2d(1, 3, 0), "kernel_size must be >= 1"),
        (lambda: Conv2d(1, 3, 3, stride=0), "stride must be >= 1"),
        (lambda: Conv2d(1, 3, 3, padding=-1), "padding must be >= 0"),
        (lambda: MaxPool2d((2, 2, 2)), "kernel_size must be an int or a pair"),
    ],
)
def test_bad_module_arguments_raise(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_bad_inputs_name_the_shapes() -> None:
    conv = Conv2d(3, 4, 3, seed=0)
    with pytest.raises(
        ValueError, match=r"input of shape \(2, 1, 5, 5\) does not fit a weight of shape \(4, 3, 3, 3\)"
    ):
        conv(np.zeros((2, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"reshape\(1, C, H, W\)"):
        conv(np.zeros((3, 5, 5)))
    with pytest.raises(ValueError, match=r"padded input \(2 x 2\) is smaller than the kernel \(3 x 3\)"):
        conv(np.zeros((1, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"smaller than the kernel \(3, 3\)"):
        MaxPool2d(3)(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, C, H, W\), got \(4, 4\)"):
        MaxPool2d(2)(np.zeros((4, 4)))


def test_a_small_cnn_learns_to_tell_stripes_apart() -> None:
    """Vertical against horizontal stripes, with noise: the loss falls and the accuracy is perfect."""
    rng = np.random.default_rng(0)
    images, labels = [], []
    for k in range(64):
        img = np.zeros((6, 6))
        line = rng.integers(0, 6)
        if k % 2:
            img[:, line] = 1.0
        else:
            img[line, :] = 1.0
        images.append(img + 0.1 * rng.normal(size=(6, 6)))
        labels.append(k % 2)
    X, y = np.array(images)[:, None], np.array(labels)
    model = Sequential(
        Conv2d(1, 4, 3, padding=1, seed=0), ReLU(), MaxPool2d(2), Flatten(), Linear(36, 2, seed=1)
    )
    optimizer = Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(40):
        loss = cross_entropy(model(Tensor(X)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    accuracy = (model(Tensor(X)).data.argmax(axis=1) == y).mean()
    assert losses[-1] < 0.1 * losses[0], losses
    assert accuracy == 1.0


def test_drawing_and_stepping_show_the_conv_ops() -> None:
    from micrograd_plus.viz.draw import draw_dot
    from micrograd_plus.viz.trace import backward_steps

    model = Sequential(
        Conv2d(1, 2, 3, padding=1, seed=0), ReLU(), MaxPool2d(2), Flatten(), Linear(8, 3, seed=1)
    )
    loss = cross_entropy(model(Tensor(np.ones((1, 1, 4, 4)))), [1])
    source = draw_dot(loss).source
    assert "conv2d" in source and "max_pool2d" in source and "linear" in source
    narration = "\n".join(str(step) for step in backward_steps(loss))
    assert "conv2d" in narration and "max_pool2d" in narration
