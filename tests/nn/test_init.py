"""nn.init as torch.nn.init: calculate_gain and the fans equal torch's, every fill stays within
its bounds with the mean and spread it promises (big tensors, within sampling tolerance), writes
into the Tensor's own array outside any graph and returns it, repeats under manual_seed, seed=
and generator=, and refuses what torch refuses (fewer than 2 dimensions, unknown modes, ...)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import assume, given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import Tensor, nn
from micrograd_plus.nn import init

NONLINEARITIES = [
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
]

# Every random fill, as f(tensor, **kwargs) with kwargs valid for a 2-d tensor.
RANDOM_FILLS: list[tuple[Callable[..., Tensor], dict[str, Any]]] = [
    (init.uniform_, {"a": -2.0, "b": 3.0}),
    (init.normal_, {"mean": 1.0, "std": 0.5}),
    (init.trunc_normal_, {"std": 0.02}),
    (init.xavier_uniform_, {"gain": 2.0}),
    (init.xavier_normal_, {}),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}),
    (init.orthogonal_, {"gain": 1.5}),
]
ALL_FILLS = RANDOM_FILLS + [
    (init.constant_, {"val": 0.25}),
    (init.ones_, {}),
    (init.zeros_, {}),
    (init.eye_, {}),
]


def _stats(t: Tensor, mean: float, std: float) -> None:
    """The sample's mean and standard deviation within 6 standard errors of the promised ones."""
    values = t.data.ravel()
    tolerance = 6 * std / math.sqrt(values.size)
    assert abs(values.mean() - mean) <= tolerance, (values.mean(), mean)
    assert abs(values.std() - std) <= tolerance, (values.std(), std)


# --- calculate_gain and the fans -----------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity: str) -> None:
    torch = require_torch()
    assert close_to_torch(init.calculate_gain(nonlinearity), torch.nn.init.calculate_gain(nonlinearity))


@given(st.floats(-1e3, 1e3) | st.integers(-100, 100))
def test_calculate_gain_of_leaky_relu_takes_the_slope_as_torch(slope: float) -> None:
    torch = require_torch()
    ours = init.calculate_gain("leaky_relu", slope)
    assert close_to_torch(ours, torch.nn.init.calculate_gain("leaky_relu", slope))
    assert close_to_torch(init.calculate_gain("relu", slope), math.sqrt(2.0))  # the param is for leaky_relu


def test_calculate_gain_refuses_what_torch_refuses() -> None:
    torch = require_torch()
    for args in [("swish",), ("leaky_relu", True), ("leaky_relu", "0.1")]:
        with pytest.raises(ValueError):
            torch.nn.init.calculate_gain(*args)
        with pytest.raises(ValueError, match="Unsupported nonlinearity|not a valid number"):
            init.calculate_gain(*args)


@given(st.lists(st.integers(0, 6), min_size=2, max_size=5))
def test_fans_equal_torch(shape: list[int]) -> None:
    torch = require_torch()
    ours, theirs = mg.zeros(*shape), torch.zeros(*shape)
    assert init._calculate_fan_in_and_fan_out(ours) == torch.nn.init._calculate_fan_in_and_fan_out(theirs)
    for mode in ["fan_in", "fan_out", "FAN_IN"]:
        assert init._calculate_correct_fan(ours, mode) == torch.nn.init._calculate_correct_fan(theirs, mode)


@pytest.mark.parametrize("shape", [(), (7,)])
@pytest.mark.parametrize(
    "fill", [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_]
)
def test_fewer_than_two_dimensions_have_no_fans_as_in_torch(shape: tuple[int, ...], fill: Callable) -> None:
    torch = require_torch()
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        getattr(torch.nn.init, fill.__name__)(torch.zeros(shape))
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(this one has shape"):
        fill(mg.zeros(shape))


def test_eye_and_orthogonal_refuse_the_shapes_torch_refuses() -> None:
    torch = require_torch()
    for name, shape in [("eye_", (3,)), ("eye_", (2, 2, 2)), ("orthogonal_", (3,)), ("orthogonal_", ())]:
        with pytest.raises(ValueError, match="Only tensors with 2"):
            getattr(torch.nn.init, name)(torch.zeros(shape))
        with pytest.raises(ValueError, match="Only tensors with 2"):
            getattr(init, name)(mg.zeros(shape))


# --- bounds and statistics -----------------------------------------------------------------------------


def test_uniform_and_normal_draw_what_they_promise() -> None:
    mg.manual_seed(0)
    t = init.uniform_(mg.zeros(400, 500), a=-2.0, b=3.0)
    assert t.data.min() >= -2.0 and t.data.max() < 3.0
    _stats(t, 0.5, 5.0 / math.sqrt(12))
    _stats(init.normal_(mg.zeros(400, 500), mean=1.0, std=0.5), 1.0, 0.5)
    assert np.all(init.normal_(mg.zeros(3), mean=2.0, std=0.0).data == 2.0)
    assert np.all(init.uniform_(mg.zeros(3), 1.5, 1.5).data == 1.5)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize(
    ("nonlinearity", "a"), [("leaky_relu", 0), ("leaky_relu", math.sqrt(5)), ("relu", 0), ("tanh", 0)]
)
def test_kaiming_bounds_and_spread_are_torchs(mode: str, nonlinearity: str, a: float) -> None:
    torch = require_torch()
    shape = (64, 32, 5, 5)
    fan = torch.nn.init._calculate_correct_fan(torch.zeros(shape), mode)
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    mg.manual_seed(1)
    uniform = init.kaiming_uniform_(mg.zeros(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    bound = math.sqrt(3.0) * std
    assert np.abs(uniform.data).max() <= bound and np.abs(uniform.data).max() > 0.99 * bound
    _stats(uniform, 0.0, std)
    _stats(init.kaiming_normal_(mg.zeros(*shape), a=a, mode=mode, nonlinearity=nonlinearity), 0.0, std)


def test_kaiming_uniform_with_a_sqrt5_is_the_default_linear_bound() -> None:
    """PyTorch's Linear weight: kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    layer = nn.Linear(300, 200)
    mg.manual_seed(2)
    init.kaiming_uniform_(layer.weight, a=math.sqrt(5))
    bound = 1 / math.sqrt(300)
    assert np.abs(layer.weight.data).max() <= bound * (1 + 1e-12)
    _stats(layer.weight, 0.0, bound / math.sqrt(3))


@pytest.mark.parametrize("shape", [(300, 200), (40, 20, 3, 3)])
def test_xavier_bounds_and_spread_are_torchs(shape: tuple[int, ...]) -> None:
    torch = require_torch()
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    std = 2.0 * math.sqrt(2.0 / (fan_in + fan_out))
    mg.manual_seed(3)
    uniform = init.xavier_uniform_(mg.zeros(*shape), gain=2.0)
    assert np.abs(uniform.data).max() <= math.sqrt(3) * std
    _stats(uniform, 0.0, std)
    _stats(init.xavier_normal_(mg.zeros(*shape), gain=2.0), 0.0, std)


def _truncated_moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """The mean and standard deviation of N(mean, std**2) truncated to [a, b]; the mass through
    erfc in a tail, where a difference of CDFs would be 1 - 1."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi) if math.isfinite(x) else 0.0
    tail = lambda x: math.erfc(x / math.sqrt(2)) / 2  # P(X > x)
    mass = tail(alpha) - tail(beta) if alpha > 0 else tail(-beta) - tail(-alpha)
    x_pdf = lambda x: x * pdf(x) if math.isfinite(x) else 0.0
    shift = (pdf(alpha) - pdf(beta)) / mass
    var = std**2 * (1 + (x_pdf(alpha) - x_pdf(beta)) / mass - shift**2)
    return mean + std * shift, math.sqrt(var)


@pytest.mark.filterwarnings("ignore:mean is more than 2 std from")
@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [
        (0.0, 1.0, -2.0, 2.0),
        (0.0, 0.02, -2.0, 2.0),
        (0.5, 2.0, -1.0, 3.0),
        (1.0, 1.0, 1.5, 4.0),  # mass 0.31: normal numbers, those outside drawn again
        (0.0, 1.0, 1.0, 4.0),  # mass 0.16: uniform numbers kept by density
        (0.0, 1.0, 10.0, 12.0),  # a far tail, where the mass is below a double's resolution
        (0.0, 1.0, -math.inf, -6.0),
        (2.0, 0.5, 3.0, math.inf),
        (0.0, 1.0, -0.1, 0.2),  # a narrow interval around the mean
    ],
)
def test_trunc_normal_stays_within_a_and_b_with_the_truncated_moments(
    mean: float, std: float, a: float, b: float
) -> None:
    mg.manual_seed(4)
    t = init.trunc_normal_(mg.zeros(500, 400), mean=mean, std=std, a=a, b=b)
    assert t.data.min() >= a and t.data.max() <= b
    _stats(t, *_truncated_moments(mean, std, a, b))


@pytest.mark.filterwarnings("ignore:mean is more than 2 std from")
def test_trunc_normal_samples_a_far_tail_instead_of_piling_at_its_end() -> None:
    values = init.trunc_normal_(mg.zeros(2000), a=10.0, b=12.0, seed=0).data
    assert values.min() >= 10.0 and values.max() <= 12.0
    assert np.count_nonzero(values == 10.0) == 0 and len(np.unique(values)) == values.size
    exact_mean, exact_std = _truncated_moments(0.0, 1.0, 10.0, 12.0)
    assert abs(values.mean() - exact_mean) <= 6 * exact_std / math.sqrt(values.size)


def test_trunc_normal_fills_a_transformer_sized_weight_in_one_go() -> None:
    """768 x 3072 numbers (a GPT-2 MLP weight, std=0.02 as in ViT and GPT recipes), drawn as
    arrays, not one by one."""
    t = init.trunc_normal_(mg.zeros(768, 3072, dtype=mg.float32), std=0.02, seed=0)
    assert t.dtype == mg.float32 and t.data.min() >= -2.0 and t.data.max() <= 2.0
    _stats(t, 0.0, 0.02)


@pytest.mark.filterwarnings("ignore:mean is more than 2 std from")
@given(
    st.floats(-1e6, 1e6),
    st.floats(1e-3, 1e3),
    st.lists(st.floats(-1e6, 1e6) | st.sampled_from([-math.inf, math.inf]), min_size=2, max_size=2),
)
def test_trunc_normal_values_are_finite_and_within_a_and_b(
    mean: float, std: float, ends: list[float]
) -> None:
    a, b = sorted(ends)
    assume(not (a == b and math.isinf(a)))  # no finite number between (refused, tested below)
    values = init.trunc_normal_(mg.zeros(64), mean, std, a, b, seed=0).data
    assert np.all(np.isfinite(values)) and values.min() >= a and values.max() <= b


def test_trunc_normal_warns_as_torch_when_the_mean_is_far_from_a_b() -> None:
    torch = require_torch()
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        torch.nn.init.trunc_normal_(torch.zeros(3), mean=10.0)
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        t = init.trunc_normal_(mg.zeros(3), mean=10.0)
    assert np.all((t.data >= -2.0) & (t.data <= 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.trunc_normal_(mg.zeros(3), mean=3.9)  # within 2 std of b: no warning


@pytest.mark.parametrize("shape", [(5, 5), (3, 8), (8, 3), (6, 2, 3, 1)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape: tuple[int, ...]) -> None:
    mg.manual_seed(5)
    flat = init.orthogonal_(mg.zeros(*shape), gain=1.5).data.reshape(shape[0], -1)
    product = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(product, 2.25 * np.eye(len(product)), atol=1e-12)


def test_the_fixed_fills_equal_torchs() -> None:
    torch = require_torch()
    for name, args in [("constant_", (0.25,)), ("ones_", ()), ("zeros_", ()), ("eye_", ())]:
        for shape in [(3, 3), (2, 5), (4, 1)] + ([] if name == "eye_" else [(), (2, 3, 4)]):
            ours = getattr(init, name)(mg.full(shape, 7.0), *args)
            theirs = getattr(torch.nn.init, name)(torch.full(shape, 7.0), *args)
            assert close_to_torch(ours.data, theirs.numpy())


def test_zero_element_tensors_are_left_as_torch_leaves_them() -> None:
    torch = require_torch()
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        torch.nn.init.kaiming_uniform_(torch.zeros(0, 3))
    for fill in [init.kaiming_uniform_, init.kaiming_normal_]:
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            assert fill(mg.zeros(0, 3)).shape == (0, 3)
    assert init.xavier_uniform_(mg.zeros(0, 3)).shape == (0, 3)
    assert init.orthogonal_(mg.zeros(0, 3)).shape == (0, 3)


# --- in place, outside the graph, seeded -----------------------------------------------------------------


@pytest.mark.parametrize(("fill", "kwargs"), ALL_FILLS, ids=lambda x: getattr(x, "__name__", ""))
@pytest.mark.parametrize("dtype", [mg.float64, mg.float32])
def test_each_fill_writes_into_the_parameters_own_array_outside_the_graph(
    fill: Callable[..., Tensor], kwargs: dict[str, Any], dtype: Any
) -> None:
    weight = nn.Linear(6, 4, dtype=dtype).weight  # a leaf that requires grad
    array, before = weight.data, weight.data.copy()
    assert fill(weight, **kwargs) is weight
    assert weight.data is array and weight.dtype == dtype
    assert weight.requires_grad and weight.grad_fn is None and weight.grad is None
    assert not np.any(array == before)  # every number was written
    loss = (weight * weight).sum()  # and the weight trains as before
    loss.backward()
    np.testing.assert_allclose(weight.grad, 2 * array)


def test_a_graph_made_before_the_fill_sees_the_weight_changed() -> None:
    weight = mg.ones(2, 2, requires_grad=True)
    y = (weight * 3).sum()
    init.normal_(weight)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize(("fill", "kwargs"), RANDOM_FILLS, ids=lambda x: getattr(x, "__name__", ""))
def test_random_fills_repeat_under_manual_seed_seed_and_generator(
    fill: Callable[..., Tensor], kwargs: dict[str, Any]
) -> None:
    def draw(**how: Any) -> np.ndarray:
        return fill(mg.zeros(7, 5), **kwargs, **how).data.copy()

    mg.manual_seed(11)
    first, second = draw(), draw()
    mg.manual_seed(11)
    assert np.array_equal(draw(), first) and np.array_equal(draw(), second)
    assert not np.array_equal(first, second)  # the stream goes on
    assert np.array_equal(draw(seed=3), draw(generator=np.random.default_rng(3)))
    assert not np.array_equal(draw(seed=3), draw(seed=4))
    mg.manual_seed(11)
    draw(seed=3)  # its own stream: the package's is untouched
    assert np.array_equal(draw(), first)


# --- the idioms of a PyTorch script ----------------------------------------------------------------------


@pytest.mark.parametrize(("fill", "kwargs"), ALL_FILLS, ids=lambda x: getattr(x, "__name__", ""))
def test_a_float_array_is_filled_in_place_as_weight_data_in_torch(
    fill: Callable[..., Any], kwargs: dict[str, Any]
) -> None:
    """`nn.init.normal_(m.weight.data, 0.0, 0.02)`, DCGAN's weights_init: `.data` is a numpy array
    here, filled as the Tensor would be."""
    weight = nn.Linear(6, 4, dtype=mg.float32).weight
    array = weight.data
    assert fill(array, **kwargs, **({"seed": 2} if (fill, kwargs) in RANDOM_FILLS else {})) is array
    assert weight.data is array and array.dtype == np.float32
    if (fill, kwargs) in RANDOM_FILLS:  # the same numbers as the Tensor gets
        expected = fill(mg.zeros(4, 6, dtype=mg.float32), **kwargs, seed=2).data
    else:
        expected = fill(mg.full((4, 6), 7.0, dtype=mg.float32), **kwargs).data
    assert np.array_equal(array, expected)


def test_dcgan_weights_init_runs_as_written_for_torch() -> None:
    def weights_init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight.data, 0.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(100, 200), nn.ReLU(), nn.Linear(200, 50)).apply(weights_init)
    for layer in (model[0], model[2]):
        _stats(layer.weight, 0.0, 0.02)
        assert np.all(layer.bias.data == 0.0) and layer.weight.requires_grad


def test_model_apply_init_weights_as_in_a_pytorch_script() -> None:
    def init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight, gain=nn.init.calculate_gain("relu"))
            nn.init.zeros_(m.bias)

    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    assert model.apply(init_weights) is model
    for layer, (fan_in, fan_out) in [(model[0], (8, 16)), (model[2], (16, 2))]:
        bound = math.sqrt(2.0) * math.sqrt(6.0 / (fan_in + fan_out))
        assert np.abs(layer.weight.data).max() <= bound and np.all(layer.bias.data == 0.0)
    assert model(mg.randn(3, 8)).shape == (3, 2)


def test_a_ported_reset_parameters_runs_as_written_for_torch() -> None:
    class MyLinear(nn.Module):
        def __init__(self, n_in: int, n_out: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(mg.empty(n_out, n_in))
            self.bias = nn.Parameter(mg.empty(n_out))
            self.reset_parameters()

        def reset_parameters(self) -> None:  # torch's Linear.reset_parameters, word for word
            nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            nn.init.uniform_(self.bias, -bound, bound)

    layer = MyLinear(50, 30)
    assert np.abs(layer.weight.data).max() <= 1 / math.sqrt(50) * (1 + 1e-12)
    assert np.abs(layer.bias.data).max() <= 1 / math.sqrt(50) and np.any(layer.bias.data != 0)
    assert len(layer.parameters()) == 2


# --- bad input ---------------------------------------------------------------------------------------------


def test_bad_arguments_are_refused_with_what_was_wrong() -> None:
    t = mg.zeros(3, 4)
    with pytest.raises(TypeError, match=r"uniform_\(\) fills a Tensor .* got a numpy array of int64"):
        init.uniform_(np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(TypeError, match=r"normal_\(\) fills a Tensor .* got list"):
        init.normal_([0.0, 0.0])
    with pytest.raises(ValueError, match="a and b must be finite with a <= b.*a=1.0, b=0.0"):
        init.uniform_(t, 1.0, 0.0)
    with pytest.raises(ValueError, match="a and b must be finite"):
        init.uniform_(t, -math.inf, 0.0)
    with pytest.raises(ValueError, match=r"normal_\(\): std must be >= 0, got -1.0"):
        init.normal_(t, std=-1.0)
    with pytest.raises(ValueError, match="needs std > 0 and a <= b"):
        init.trunc_normal_(t, a=1.0, b=-1.0)
    with pytest.raises(ValueError, match="needs std > 0 and a <= b .*a=inf, b=inf"):
        init.trunc_normal_(t, a=math.inf, b=math.inf)
    with pytest.raises(ValueError, match=r"trunc_normal_\(\): std must be a finite number, got inf"):
        init.trunc_normal_(t, std=math.inf)  # (torch gives uniform numbers on [a, b])
    with pytest.raises(ValueError, match=r"trunc_normal_\(\): mean must be a finite number, got nan"):
        init.trunc_normal_(t, mean=math.nan)
    with pytest.raises(
        ValueError, match=r"Mode 'fan_avg' not supported, please use one of \['fan_in', 'fan_out'\]"
    ):
        init.kaiming_normal_(t, mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'swish'"):
        init.kaiming_uniform_(t, nonlinearity="swish")
    with pytest.raises(TypeError, match=r"constant_\(\): val must be a number, got str"):
        init.constant_(t, "1")
    with pytest.raises(ValueError, match="give seed or generator, not both"):
        init.normal_(t, generator=np.random.default_rng(0), seed=0)
    assert np.all(t.data == 0.0)  # nothing was written
