"""F.pad against PyTorch float64: every mode (constant, reflect, replicate, circular), widths
that grow and that crop, for hypothesis-drawn shapes; values and the input's gradient (an
element copied twice gets both); second derivatives; float32; and the refusals PyTorch makes."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import Tensor, gradcheck, gradgradcheck
from micrograd_plus.nn import functional as F


@st.composite
def pad_cases(draw: st.DrawFn) -> dict:
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    if mode == "constant":
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
        padded = draw(st.integers(1, len(shape)))
    else:  # the last 1, 2 or 3 axes of an input with 1 or 2 axes more
        padded = draw(st.integers(1, 3))
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=padded + 1, max_size=padded + 2)))
    pad: list[int] = []
    for size in reversed(shape[-padded:]):  # torch's order: the last axis first
        low = {
            "constant": -size - 2,  # cropping more than the axis holds too: refused, as torch refuses it
            "reflect": -(size - 1),
            "replicate": -(size - 1),
            "circular": -(size - 1),
        }
        high = {"constant": 3, "reflect": size - 1, "replicate": 3, "circular": size}[mode]
        before = draw(st.integers(low[mode], high))
        after = draw(
            st.integers(low[mode] if mode == "constant" else max(low[mode], -size - before + 1), high)
        )
        pad += [before, after]
    return {
        "mode": mode,
        "shape": shape,
        "pad": tuple(pad),
        "value": draw(st.sampled_from([None, 0.0, -2.5])) if mode == "constant" else None,
        "seed": draw(st.integers(0, 2**16)),
    }


def _wraps_twice(shape: tuple[int, ...], pad: tuple[int, ...]) -> bool:
    """Whether circular padding would wrap around what is left of an axis after cropping more than once."""
    for i in range(0, len(pad), 2):
        before, after = pad[i], pad[i + 1]
        kept = shape[-1 - i // 2] - max(-before, 0) - max(-after, 0)
        if before > kept or after > kept:
            return True
    return False


@given(pad_cases())
def test_pad_matches_torch(each_engine: str, case: dict) -> None:
    torch = require_torch()
    rng = np.random.default_rng(case["seed"])
    x = rng.normal(size=case["shape"])
    options = {"mode": case["mode"], "value": case["value"]}
    mine, ref = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if case["mode"] == "circular" and _wraps_twice(case["shape"], case["pad"]):
        # refused: PyTorch raises an error about overlapping memory, or returns uninitialised numbers
        with pytest.raises(ValueError, match="what is left after cropping"):
            F.pad(mine, case["pad"], **options)
        return
    try:
        tout = torch.nn.functional.pad(ref, case["pad"], **options)
    except RuntimeError:  # a crop of more than an axis holds
        with pytest.raises(ValueError, match="crop"):
            F.pad(mine, case["pad"], **options)
        return
    out = F.pad(mine, case["pad"], **options)
    assert out.shape == tuple(tout.shape)
    assert np.array_equal(out.data, tout.detach().numpy())  # copies and fills: exactly
    g = rng.normal(size=out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert close_to_torch(mine.grad, ref.grad.numpy())


def test_reflect_replicate_and_circular_on_one_row() -> None:
    row = Tensor([[[1.0, 2.0, 3.0]]])
    assert F.pad(row, (2, 1), mode="reflect").data.tolist() == [[[3, 2, 1, 2, 3, 2]]]
    assert F.pad(row, (2, 1), mode="replicate").data.tolist() == [[[1, 1, 1, 2, 3, 3]]]
    assert F.pad(row, (2, 1), mode="circular").data.tolist() == [[[2, 3, 1, 2, 3, 1]]]
    assert F.pad(row, (1, -1), value=7.0).data.tolist() == [[[7, 1, 2]]]


def test_an_element_copied_twice_gets_both_gradients() -> None:
    x = Tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    F.pad(x, (2, 2), mode="replicate").backward(np.arange(7.0).reshape(1, 1, 7))
    assert x.grad.tolist() == [[[0 + 1 + 2, 3, 4 + 5 + 6]]]


def test_the_gradient_is_a_new_array_not_a_view_of_the_one_given() -> None:
    x = Tensor(np.zeros((2, 2)), requires_grad=True)
    g = np.ones((4, 4))
    F.pad(x, (1, 1, 1, 1)).backward(g)
    x.grad[:] = 5.0
    assert np.array_equal(g, np.ones((4, 4)))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_second_derivatives_match_torch_and_central_differences(mode: str) -> None:
    torch = require_torch()
    x_data = np.random.default_rng(1).normal(size=(1, 2, 3, 3))
    pad = (1, 2, 2, -1)
    x = Tensor(x_data, requires_grad=True)
    out = F.pad(x, pad, mode=mode)
    (gx,) = mg.grad((out * out.sin()).sum(), [x], create_graph=True)
    (gx * gx).sum().backward()
    tx = torch.tensor(x_data, requires_grad=True)
    tout = torch.nn.functional.pad(tx, pad, mode=mode)
    (tgx,) = torch.autograd.grad((tout * tout.sin()).sum(), [tx], create_graph=True)
    (tgx * tgx).sum().backward()
    assert close_to_torch(gx.data, tgx.detach().numpy())
    assert close_to_torch(x.grad, tx.grad.numpy())
    small = Tensor(x_data[:, :1, :2], requires_grad=True)
    assert gradcheck(lambda x: F.pad(x, (1, 1, 1, 0), mode=mode).tanh(), [small])
    assert gradgradcheck(lambda x: F.pad(x, (1, 1, 1, 0), mode=mode).tanh(), [small])


@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_float32_stays_float32(mode: str) -> None:
    x = Tensor(np.ones((1, 2, 3)), dtype=np.float32, requires_grad=True)
    out = F.pad(x, (1, 2), mode=mode)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (((2, 3), (1,)), {}, ValueError, r"pairs \(before, after\), got 1 numbers"),
        (((2, 3), (1, 1, 1, 1, 1, 1)), {}, ValueError, r"3 pairs of widths for an input of shape \(2, 3\)"),
        (((2, 3), (-2, -2)), {}, ValueError, r"widths \(-2, -2\) would crop axis 1 of size 3 below nothing"),
        (
            ((5,), (2, -6)),
            {},
            ValueError,
            r"widths \(2, -6\) crop 6 from axis 0 of size 5, more than it holds",
        ),
        (((2, 5), (-7, 3)), {}, ValueError, r"crop 7 from axis 1 of size 5"),
        (((2, 3), (1.5, 1)), {}, TypeError, "pad must be a tuple of ints"),
        (((2, 3), 1), {}, TypeError, "pad must be a tuple of ints"),
        (((2, 3), (1, 1)), {"mode": "wrap"}, ValueError, "mode must be one of 'constant', 'reflect'"),
        (((1, 2, 3), (1, 1)), {"mode": "reflect", "value": 2.0}, ValueError, "'reflect' takes no value"),
        (((1, 2, 3), (1, 1)), {"mode": "circular", "value": -1}, ValueError, "'circular' takes no value"),
        (((3,), (1, 1)), {"mode": "reflect"}, ValueError, r"the last 1, 2 or 3 axes .* shape \(3,\)"),
        (((2, 3), (1, 1, 1, 1)), {"mode": "replicate"}, ValueError, "last 1, 2 or 3 axes"),
        (
            ((1, 2, 3), (3, 1)),
            {"mode": "reflect"},
            ValueError,
            r"axis 2 of size 3 by at most 2 .* got \(3, 1\)",
        ),
        (((1, 2, 3), (1, 4)), {"mode": "circular"}, ValueError, r"by at most 3 on each side, got \(1, 4\)"),
        (((1, 2, 3), (1, 1)), {"value": "x"}, TypeError, "value must be a number"),
    ],
)
def test_bad_widths_and_modes_are_refused_as_torch_refuses_them(args, kwargs, error, message) -> None:
    torch = require_torch()
    shape, pad = args
    with pytest.raises(error, match=message):
        F.pad(Tensor(np.zeros(shape)), pad, **kwargs)
    with pytest.raises((RuntimeError, NotImplementedError, TypeError, ValueError)):
        torch.nn.functional.pad(torch.zeros(shape), pad, **kwargs)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_value_0_is_taken_by_every_mode_as_torch_takes_it(mode: str) -> None:
    torch = require_torch()
    x = np.arange(6.0).reshape(1, 2, 3)
    for value in (0, 0.0):
        out = F.pad(Tensor(x), (2, 1), mode, value)
        assert np.array_equal(out.data, torch.nn.functional.pad(torch.tensor(x), (2, 1), mode, value).numpy())
        assert np.array_equal(out.data, F.pad(Tensor(x), (2, 1), mode).data)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_nothing_to_pad_still_gives_a_new_node_and_array(mode: str) -> None:
    x = Tensor(np.arange(6.0).reshape(1, 2, 3), requires_grad=True)
    out = F.pad(x, (0, 0), mode)
    assert out is not x and not out.is_leaf and not np.shares_memory(out.data, x.data)
    (out * np.arange(3.0)).sum().backward()
    assert x.grad.tolist() == [[[0, 1, 2], [0, 1, 2]]]
