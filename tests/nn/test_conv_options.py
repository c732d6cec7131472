"""Conv2d's stride, padding ("same", "valid"), dilation and groups; MaxPool2d's padding and
dilation; AvgPool2d and AdaptiveAvgPool2d: values, gradients and second derivatives against
PyTorch float64 for
hypothesis-drawn shapes and options, central differences, the modules against torch's, and
the errors for options PyTorch refuses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import assume, example, given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import AdaptiveAvgPool2d, AvgPool2d, Conv2d, MaxPool2d, Tensor, grad, gradcheck, nn
from micrograd_plus.nn import functional as F


def _spatial(draw: st.DrawFn, kernel: int, dilation: int, padding: int) -> int:
    """An image size the (dilated, padded) kernel fits in."""
    span = (kernel - 1) * dilation + 1
    return draw(st.integers(max(1, span - 2 * padding), span + 4))


@st.composite
def conv_cases(draw: st.DrawFn) -> dict:
    groups = draw(st.integers(1, 3))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["same", "valid", "pair", "pair"]))
    stride = (1, 1) if padding == "same" else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad_numbers = (draw(st.integers(0, 2)), draw(st.integers(0, 2))) if padding == "pair" else (0, 0)
    size = [_spatial(draw, kernel[i], dilation[i], pad_numbers[i]) for i in range(2)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {
        "x": rng.normal(size=(draw(st.integers(1, 2)), c, *size)),
        "w": rng.normal(size=(o, c // groups, *kernel)),
        "b": rng.normal(size=o),
        "options": {
            "stride": stride,
            "padding": pad_numbers if padding == "pair" else padding,
            "dilation": dilation,
            "groups": groups,
        },
        "g_seed": int(rng.integers(2**32)),
    }


def _compare_first_and_second_order(torch, ours, theirs, arrays: list[np.ndarray], g_seed: int) -> None:
    """Values and gradients of every input, then the gradient of a function of those
    gradients (grad with create_graph=True), against torch. (A tanh after the op makes the
    first gradient depend on the inputs even where the op is linear.)"""
    mine = [Tensor(a, requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = ours(*mine), theirs(*refs)
    assert out.shape == tuple(tout.shape)
    assert close_to_torch(out.data, tout.detach().numpy())
    g = np.random.default_rng(g_seed).normal(size=out.shape)
    first = grad((out.tanh() * Tensor(g)).sum(), mine, create_graph=True)
    tfirst = torch.autograd.grad((tout.tanh() * torch.tensor(g)).sum(), refs, create_graph=True)
    for i, (a, b) in enumerate(zip(first, tfirst)):
        assert close_to_torch(a.data, b.detach().numpy()), f"gradient of input {i}"
    sum((a * a.sin()).sum() for a in first).backward()
    sum((b * b.sin()).sum() for b in tfirst).backward()
    for i, (a, b) in enumerate(zip(mine, refs)):
        theirs_grad = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        ours_grad = np.zeros(a.shape) if a.grad is None else a.grad
        assert close_to_torch(ours_grad, theirs_grad), f"second derivative reaching input {i}"


@given(conv_cases())
def test_conv2d_options_match_torch_to_second_order(case: dict) -> None:
    torch = require_torch()
    opts = case["options"]
    _compare_first_and_second_order(
        torch,
        lambda x, w, b: F.conv2d(x, w, b, **opts),
        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **opts),
        [case["x"], case["w"], case["b"]],
        case["g_seed"],
    )


@st.composite
def pool_cases(draw: st.DrawFn) -> dict:
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = [_spatial(draw, kernel[i], dilation[i], padding[i]) for i in range(2)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size))
    if draw(st.booleans()):  # rows of -inf: windows whose real elements are all -inf
        x[:, :, : draw(st.integers(1, size[0])), :] = -math.inf
    return {
        "x": x,
        "kernel": kernel,
        "stride": draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3))),
        "padding": padding,
        "dilation": dilation,
        "count_include_pad": draw(st.booleans()),
        "divisor_override": draw(st.none() | st.integers(1, 5)),
        "g_seed": int(rng.integers(2**32)),
    }


@given(pool_cases())
def test_max_pool2d_padding_and_dilation_match_torch_to_second_order(case: dict) -> None:
    _max_pool2d_matches_torch(case, {k: case[k] for k in ("stride", "padding", "dilation")})


def _max_pool2d_matches_torch(case: dict, opts: dict) -> None:
    torch = require_torch()
    _compare_first_and_second_order(
        torch,
        lambda x: F.max_pool2d(x, case["kernel"], **opts),
        lambda x: torch.nn.functional.max_pool2d(x, case["kernel"], **opts),
        [case["x"]],
        case["g_seed"],
    )


@given(pool_cases())
def test_avg_pool2d_matches_torch_to_second_order(case: dict) -> None:
    opts = {k: case[k] for k in ("stride", "padding", "count_include_pad", "divisor_override")}
    _avg_pool2d_matches_torch(case, opts)


def _avg_pool2d_matches_torch(case: dict, opts: dict) -> None:
    torch = require_torch()
    x = np.where(np.isinf(case["x"]), 1.5, case["x"])  # (an average of -inf is no test of pooling)
    _compare_first_and_second_order(
        torch,
        lambda x: F.avg_pool2d(x, case["kernel"], **opts),
        lambda x: torch.nn.functional.avg_pool2d(x, case["kernel"], **opts),
        [x],
        case["g_seed"],
    )


@st.composite
def ceil_pool_cases(draw: st.DrawFn) -> dict:
    """pool_cases with ceil_mode, on sizes and strides where the rounding up adds a window
    (or would, but for PyTorch's rule that a window starts inside the input or its near
    padding); none of whose windows holds padding alone (PyTorch's max_pool2d gives -inf there
    and its backward crashes)."""
    torch = require_torch()
    case = draw(pool_cases())
    case["stride"] = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    case["ceil_mode"] = True
    opts = {k: case[k] for k in ("stride", "padding", "dilation", "ceil_mode")}
    probe = torch.nn.functional.max_pool2d(torch.zeros(case["x"].shape), case["kernel"], **opts)
    assume(not torch.isinf(probe).any())
    return case


_PADDING_ALONE = {"x": np.ones((1, 1, 1, 2)), "kernel": (2, 2), "stride": (1, 1), "padding": (1, 1), "dilation": (2, 2)}  # fmt: skip


@given(pool_cases(), st.booleans())
@example(_PADDING_ALONE, False)  # (rare among the drawn cases: a 1-row input, dilated past it)
@example(_PADDING_ALONE, True)
def test_max_pool2d_refuses_windows_of_padding_alone_exactly_where_torch_gives_minus_infinity(
    case: dict, ceil_mode: bool
) -> None:
    """Where a window covers no element of the input, PyTorch's forward gives -inf and its
    backward crashes; ours says which options lead there, and works everywhere else."""
    torch = require_torch()
    opts = {
        "stride": case["stride"],
        "padding": case["padding"],
        "dilation": case["dilation"],
        "ceil_mode": ceil_mode,
    }
    probe = torch.nn.functional.max_pool2d(torch.zeros(case["x"].shape), case["kernel"], **opts)
    if torch.isinf(probe).any():
        with pytest.raises(ValueError, match="windows that cover only padding"):
            F.max_pool2d(Tensor(case["x"]), case["kernel"], **opts)
    else:
        assert F.max_pool2d(Tensor(case["x"]), case["kernel"], **opts).shape == tuple(probe.shape)


def _ceil_sizes(case: dict, dilated: bool) -> tuple[int, int]:
    """PyTorch's output size with ceil_mode, from its documented formula (per axis)."""
    sizes = []
    for n, k, s, p, d in zip(
        case["x"].shape[2:], case["kernel"], case["stride"], case["padding"], case["dilation"]
    ):
        d = d if dilated else 1
        out = math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1
        sizes.append(out - 1 if (out - 1) * s >= n + p else out)
    return sizes[0], sizes[1]


@given(ceil_pool_cases())
def test_max_pool2d_ceil_mode_matches_torch_to_second_order(case: dict) -> None:
    opts = {k: case[k] for k in ("stride", "padding", "dilation", "ceil_mode")}
    out = F.max_pool2d(Tensor(case["x"]), case["kernel"], **opts)
    assert out.shape[2:] == _ceil_sizes(case, dilated=True)
    _max_pool2d_matches_torch(case, opts)


@given(ceil_pool_cases())
def test_avg_pool2d_ceil_mode_divisors_match_torch_to_second_order(case: dict) -> None:
    """A window hanging past the padded input divides by its part inside it (with
    count_include_pad), or by its real elements (without), or by divisor_override."""
    opts = {k: case[k] for k in ("stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")}
    assert F.avg_pool2d(Tensor(case["x"]), case["kernel"], **opts).shape[2:] == _ceil_sizes(
        case, dilated=False
    )
    _avg_pool2d_matches_torch(case, opts)


def test_ceil_mode_adds_the_hanging_window_and_its_divisor_counts_what_is_inside() -> None:
    """5 wide, kernel 2, stride 2: floor gives 2 windows, ceil 3; the third holds one element."""
    x = Tensor(np.arange(5.0).reshape(1, 1, 1, 5), requires_grad=True)
    assert F.max_pool2d(x, (1, 2)).data.ravel().tolist() == [1.0, 3.0]
    assert F.max_pool2d(x, (1, 2), ceil_mode=True).data.ravel().tolist() == [1.0, 3.0, 4.0]
    out = F.avg_pool2d(x, (1, 2), ceil_mode=True)
    assert out.data.ravel().tolist() == [0.5, 2.5, 4.0]
    out.sum().backward()
    assert x.grad.ravel().tolist() == [0.5, 0.5, 0.5, 0.5, 1.0]
    # 6 wide, kernel 3, stride 2, padding 1: the fourth window covers x[5], a padding cell and
    # a cell past the padding: it divides by 2 with count_include_pad, by 1 without.
    y = Tensor(np.arange(6.0).reshape(1, 1, 1, 6))
    opts = {"stride": (1, 2), "padding": (0, 1), "ceil_mode": True}
    assert F.avg_pool2d(y, (1, 3), **opts).data.ravel().tolist() == [1 / 3, 2.0, 4.0, 2.5]
    assert F.avg_pool2d(y, (1, 3), count_include_pad=False, **opts).data.ravel().tolist() == [
        0.5,
        2.0,
        4.0,
        5.0,
    ]
    # 5 wide, kernel 2, stride 2, padding 1: a fourth window would lie in the far padding alone,
    # so ceil_mode keeps 3, as PyTorch's rule says.
    z = Tensor(np.arange(5.0).reshape(1, 1, 1, 5))
    assert F.max_pool2d(z, (1, 2), stride=(1, 2), padding=(0, 1), ceil_mode=True).shape == (1, 1, 1, 3)


def test_ceil_mode_passes_gradcheck() -> None:
    rng = np.random.default_rng(7)
    x = Tensor(rng.normal(size=(2, 2, 7, 6)), requires_grad=True)

    def f(x: Tensor) -> Tensor:
        y = F.max_pool2d(x.tanh(), 3, stride=2, padding=1, ceil_mode=True)
        return F.avg_pool2d(y, 2, stride=(2, 3), ceil_mode=True, count_include_pad=False)

    assert gradcheck(f, [x])


def test_the_options_pass_gradcheck() -> None:
    rng = np.random.default_rng(5)
    x = Tensor(rng.normal(size=(2, 4, 6, 5)), requires_grad=True)
    w = Tensor(rng.normal(size=(6, 2, 2, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=6), requires_grad=True)

    def f(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        y = F.conv2d(x, w, b, padding="same", dilation=(2, 1), groups=2).tanh()
        y = F.max_pool2d(y, 3, stride=2, padding=1, dilation=(1, 2))
        return F.avg_pool2d(y, 2, stride=1, padding=1, count_include_pad=False)

    assert gradcheck(f, [x, w, b])
    narrow = Tensor(rng.normal(size=(4, 2, 1, 3)), requires_grad=True)
    assert gradcheck(lambda x, w: F.conv2d(x, w, stride=(2, 3), padding=(1, 2), groups=2), [x, narrow])


def test_padding_same_keeps_the_size_and_valid_pads_nothing() -> None:
    x = Tensor(np.random.default_rng(0).normal(size=(1, 2, 5, 6)))
    for kernel in [(1, 1), (2, 2), (3, 4), (4, 3)]:
        w = Tensor(np.ones((3, 2, *kernel)))
        assert F.conv2d(x, w, padding="same", dilation=(1, 2)).shape == (1, 3, 5, 6), kernel
        assert F.conv2d(x, w, padding="valid").shape == F.conv2d(x, w, padding=0).shape


def test_groups_keep_the_channel_groups_apart() -> None:
    """With groups=2, output channels 0-1 see only input channel 0, channels 2-3 only channel 1."""
    x = np.zeros((1, 2, 3, 3))
    x[0, 1] = 1.0  # only the second group's input is non-zero
    out = F.conv2d(Tensor(x), Tensor(np.ones((4, 1, 3, 3))), groups=2).data
    assert out.ravel().tolist() == [0.0, 0.0, 9.0, 9.0]


# --- the modules ---------------------------------------------------------------------------------


def test_conv2d_module_with_groups_and_dilation_matches_torchs() -> None:
    torch = require_torch()
    ours = Conv2d(4, 6, (3, 2), stride=(1, 2), padding=1, dilation=(2, 1), groups=2, seed=0)
    theirs = torch.nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=1, dilation=(2, 1), groups=2)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    bound = 1 / math.sqrt(2 * 3 * 2)  # fan_in = in_channels / groups * kh * kw
    assert 0.9 * bound < np.abs(ours.weight.data).max() <= bound
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(2, 4, 7, 6))
    assert close_to_torch(ours(x).data, theirs(torch.tensor(x)).detach().numpy())
    same = Conv2d(4, 2, 4, padding="same", seed=1)
    tsame = torch.nn.Conv2d(4, 2, 4, padding="same")
    tsame.load_state_dict({k: torch.tensor(v) for k, v in same.state_dict().items()})
    assert close_to_torch(same(x).data, tsame(torch.tensor(x)).detach().numpy())
    # PyTorch's repr: the sizes and stride, then only what differs from the defaults
    assert repr(ours) == repr(theirs) and repr(same) == repr(tsame)


def test_pool_modules_match_torchs() -> None:
    torch = require_torch()
    x = np.random.default_rng(2).normal(size=(2, 3, 7, 8))
    pairs = [
        (MaxPool2d(3, stride=2, padding=1, dilation=(1, 2)), torch.nn.MaxPool2d(3, 2, 1, dilation=(1, 2))),
        (AvgPool2d(3), torch.nn.AvgPool2d(3)),
        (AvgPool2d((3, 2), stride=1, padding=1), torch.nn.AvgPool2d((3, 2), stride=1, padding=1)),
        (
            AvgPool2d(2, padding=1, count_include_pad=False),
            torch.nn.AvgPool2d(2, padding=1, count_include_pad=False),
        ),
    ]
    for ours, theirs in pairs:
        assert close_to_torch(ours(x).data, theirs(torch.tensor(x)).numpy()), repr(ours)
        assert ours.state_dict() == {} == theirs.state_dict()
    assert AvgPool2d(3).stride == (3, 3) and nn.AvgPool2d is AvgPool2d


def test_pool_modules_take_ceil_mode_in_torchs_places_and_show_it_as_torch() -> None:
    torch = require_torch()
    x = np.random.default_rng(3).normal(size=(2, 3, 7, 8))
    pairs = [
        (MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (
            MaxPool2d((2, 3), 2, dilation=(1, 2), ceil_mode=True),
            torch.nn.MaxPool2d((2, 3), 2, dilation=(1, 2), ceil_mode=True),
        ),
        (AvgPool2d(3, 2, 1, True), torch.nn.AvgPool2d(3, 2, 1, True)),  # (ceil_mode 4th, as torch)
        (AvgPool2d(3, 2, 1, True, False, 2), torch.nn.AvgPool2d(3, 2, 1, True, False, 2)),
    ]
    for ours, theirs in pairs:
        out, ref = ours(x), theirs(torch.tensor(x))
        assert out.shape == tuple(ref.shape) and close_to_torch(out.data, ref.numpy()), repr(ours)
    assert repr(MaxPool2d(2, ceil_mode=True)) == repr(torch.nn.MaxPool2d(2, ceil_mode=True))
    assert repr(MaxPool2d(2)).endswith(", ceil_mode=False)")
    assert "ceil_mode" not in repr(AvgPool2d(2, ceil_mode=True)) + repr(torch.nn.AvgPool2d(2, ceil_mode=True))
    with pytest.raises(TypeError):  # (torch's fifth argument is return_indices, which is not here)
        MaxPool2d(2, 2, 0, 1, True)  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"max_pool2d\(\): ceil_mode must be True or False, got str: 'yes'"):
        MaxPool2d(2, ceil_mode="yes")(x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"avg_pool2d\(\): ceil_mode must be True or False, got int: 1"):
        F.avg_pool2d(Tensor(x), 2, ceil_mode=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Conv2d(3, 4, 3, groups=2),
            r"in_channels \(3\) and out_channels \(4\) must both be divisible by groups \(2\)",
        ),
        (lambda: Conv2d(2, 4, 3, groups=0), "groups must be a positive int"),
        (lambda: Conv2d(2, 4, 3, dilation=0), "dilation must be >= 1"),
        (lambda: Conv2d(2, 4, 3, stride=2, padding="same"), "padding='same' is not supported for strided"),
        (
            lambda: Conv2d(2, 4, 3, padding="full"),
            "padding must be an int, a pair of ints, 'valid' or 'same'",
        ),
        (lambda: MaxPool2d(2, dilation=0), "dilation must be >= 1"),
        (lambda: AvgPool2d(2, padding=-1), "padding must be >= 0"),
    ],
)
def test_bad_options_raise(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_bad_pool_inputs_say_what_is_wrong() -> None:
    x = np.zeros((1, 1, 5, 5))
    with pytest.raises(
        ValueError, match=r"padding \(2, 2\) must be at most half of the kernel size \(3, 3\)"
    ):
        MaxPool2d(3, padding=2)(x)
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half"):
        AvgPool2d(2, padding=2)(x)
    with pytest.raises(ValueError, match=r"smaller than the kernel \(7, 7\) \(dilation included\)"):
        MaxPool2d(4, dilation=2)(x)
    with pytest.raises(ValueError, match="divisor_override must be a positive int"):
        AvgPool2d(2, divisor_override=0)(x)
    with pytest.raises(ValueError, match=r"weight of shape \(4, 1, 3, 3\) with groups=2"):
        F.conv2d(Tensor(np.zeros((1, 3, 5, 5))), Tensor(np.zeros((4, 1, 3, 3))), groups=2)


def test_max_pool2d_never_picks_padding_even_when_a_window_holds_only_minus_infinity() -> None:
    """Padding is -inf too: where every real element of a window is -inf, PyTorch picks the
    first real one, and so must the gradient here (never a padding cell)."""
    torch = require_torch()
    data = np.full((1, 1, 4, 4), -math.inf)
    data[0, 0, 3, 3] = 1.0
    x, tx = Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    F.max_pool2d(x, 3, stride=1, padding=1, dilation=(1, 2)).backward(np.ones((1, 1, 4, 2)))
    torch.nn.functional.max_pool2d(tx, 3, stride=1, padding=1, dilation=(1, 2)).backward(
        torch.ones(1, 1, 4, 2)
    )
    assert np.array_equal(x.grad, tx.grad.numpy()) and x.grad.sum() == 8.0


# --- AdaptiveAvgPool2d ----------------------------------------------------------------------------


@st.composite
def adaptive_cases(draw: st.DrawFn) -> dict:
    """An (N, C, H, W) or (C, H, W) input and an output size: an int, or a pair of sizes or None,
    smaller or larger than the input (windows then overlap, or repeat one cell)."""
    size = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    leading = draw(st.sampled_from([(), (2,)]))
    one = st.integers(1, 9)
    output = draw(st.one_of(one, st.tuples(one | st.none(), one | st.none())))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return {"x": rng.normal(size=(*leading, 2, *size)), "output": output, "g_seed": int(rng.integers(2**32))}


@given(adaptive_cases())
@example({"x": np.arange(10.0).reshape(1, 1, 2, 5), "output": (1, 3), "g_seed": 0})  # overlapping windows
def test_adaptive_avg_pool2d_matches_torch_to_second_order(case: dict) -> None:
    torch = require_torch()
    size = case["output"]
    _compare_first_and_second_order(
        torch,
        lambda x: F.adaptive_avg_pool2d(x, size),
        lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size),
        [case["x"]],
        case["g_seed"],
    )


# Where to put an inf or nan: (a position, taken modulo the array's size; the number).
non_finite_places = st.lists(
    st.tuples(st.integers(0, 10**6), st.sampled_from([math.inf, -math.inf, math.nan])), max_size=3
)


def _with_non_finite(array: np.ndarray, places: list) -> np.ndarray:
    array = array.copy()
    for position, number in places:
        array.flat[position % array.size] = number
    return array


@given(adaptive_cases(), non_finite_places, non_finite_places)
@example({"x": np.array([[[math.inf, 1.0], [1.0, 1.0]]]), "output": 2, "g_seed": 0}, [], [])
@example(
    {"x": np.arange(10.0).reshape(1, 1, 2, 5), "output": (1, 3), "g_seed": 0},
    [(2, math.nan)],
    [(1, math.inf)],
)
def test_adaptive_avg_pool2d_keeps_inf_and_nan_in_their_own_windows_as_torch(
    case: dict, x_places: list, g_places: list
) -> None:
    """An inf or nan in the input reaches only the outputs whose windows hold it, and one in the
    output's gradient only the inputs of its window: values and gradients as torch's, nan
    where torch has nan."""
    torch = require_torch()
    size, data = case["output"], _with_non_finite(case["x"], x_places)
    x, tx = Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, ref = F.adaptive_avg_pool2d(x, size), torch.nn.functional.adaptive_avg_pool2d(tx, size)
    assert close_to_torch(out.data, ref.detach().numpy())
    g = _with_non_finite(np.random.default_rng(case["g_seed"]).normal(size=out.shape), g_places)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert close_to_torch(x.grad, tx.grad.numpy())


def test_adaptive_avg_pool2d_passes_gradcheck_and_is_avg_pool2d_where_the_size_divides() -> None:
    x = Tensor(np.random.default_rng(4).normal(size=(2, 3, 6, 5)), requires_grad=True)
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x.tanh(), (4, 3)), [x])
    assert np.allclose(F.adaptive_avg_pool2d(x, (3, 1)).data, F.avg_pool2d(x, (2, 5)).data, rtol=1e-14)
    assert np.allclose(AdaptiveAvgPool2d(1)(x).data, x.data.mean(axis=(2, 3), keepdims=True), rtol=1e-14)


def test_adaptive_avg_pool2d_module_fits_any_image_size_as_torchs() -> None:
    torch = require_torch()
    for output in [1, (2, 3), (None, 2)]:
        ours, theirs = AdaptiveAvgPool2d(output), torch.nn.AdaptiveAvgPool2d(output)
        for shape in [(2, 3, 8, 8), (1, 2, 5, 9), (3, 4, 4)]:
            x = np.random.default_rng(len(shape)).normal(size=shape)
            out, ref = ours(x), theirs(torch.tensor(x))
            assert out.shape == tuple(ref.shape) and close_to_torch(out.data, ref.numpy()), (output, shape)
        assert repr(ours) == repr(theirs) and ours.state_dict() == {} == theirs.state_dict()
    assert nn.AdaptiveAvgPool2d is AdaptiveAvgPool2d
    assert not hasattr(F, "adaptive_size")  # (a helper, private: torch.nn.functional has no such name)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: AdaptiveAvgPool2d(0), ValueError, "output_size must be a positive int, got 0"),
        (
            lambda: AdaptiveAvgPool2d((2, 2, 2)),
            TypeError,
            r"an int or a pair of ints \(or None\), got \(2, 2, 2\)",
        ),
        (lambda: AdaptiveAvgPool2d(2.5), ValueError, "output_size must be a positive int, got 2.5"),
        (
            lambda: F.adaptive_avg_pool2d(Tensor(np.zeros((4, 4))), 1),
            ValueError,
            r"shape \(N, C, H, W\) or \(C, H, W\) with H, W >= 1, got \(4, 4\)",
        ),
        (lambda: F.adaptive_avg_pool2d(Tensor(np.zeros((1, 2, 0, 3))), 1), ValueError, r"got \(1, 2, 0, 3\)"),
    ],
)
def test_adaptive_avg_pool2d_refuses_bad_sizes_and_inputs(make, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        make()


def test_adaptive_avg_pool2d_of_the_input_size_is_a_new_tensor_as_torchs() -> None:
    x = mg.randn(1, 2, 3, 4, seed=0, requires_grad=True)
    y = F.adaptive_avg_pool2d(x, (3, 4))
    assert y is not x and y.grad_fn is not None
    np.testing.assert_array_equal(y.data, x.data)
    with mg.no_grad():
        y.zero_()
    assert np.all(x.data != 0)  # changing the result leaves the input alone
