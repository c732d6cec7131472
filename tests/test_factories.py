"""The factories (issue 16): `tensor`, `zeros`, `ones`, `full`, `eye`, `arange`, `linspace`,
`rand`, `randn`, `zeros_like`, `ones_like`, against PyTorch float64 (shapes and values), with
sizes given as in PyTorch; dtype, requires_grad, and random numbers from a private Generator
(seeded: the same numbers every time; numpy's global state never read or changed)."""

from __future__ import annotations

import types

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import Tensor

sizes = st.lists(st.integers(0, 4), max_size=3).map(tuple)


def test_micrograd_plus_tensor_is_the_factory_as_torch_tensor_is() -> None:
    assert isinstance(mg.tensor, types.FunctionType)
    t = mg.tensor([[1, 2], [3, 4]], requires_grad=True)
    assert isinstance(t, Tensor) and t.requires_grad and t.dtype == np.float64
    np.testing.assert_array_equal(t.data, [[1.0, 2.0], [3.0, 4.0]])
    source = np.array([1.0, 2.0])
    copied = mg.tensor(source, dtype=np.float32)
    source[0] = 9.0  # a copy, as torch.tensor copies
    assert copied.dtype == np.float32 and copied.data.tolist() == [1.0, 2.0]
    import micrograd_plus.tensors

    assert micrograd_plus.tensors.Tensor is Tensor  # the class lives in the module `tensors`


@given(sizes)
def test_zeros_ones_and_full_take_sizes_as_torch_does(size: tuple[int, ...]) -> None:
    torch = require_torch()
    for ours, theirs in [
        (mg.zeros(*size), torch.zeros(size)),  # (torch.zeros() with no size at all refuses; ours is 0-d)
        (mg.zeros(size), torch.zeros(size)),
        (mg.ones(*size), torch.ones(size)),
        (mg.ones(list(size)), torch.ones(list(size))),
        (mg.full(size, -2.5), torch.full(size, -2.5)),
    ]:
        assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float64
        assert close_to_torch(ours.data, theirs.numpy())
    assert mg.full(3, 1.0).shape == (3,)


@given(sizes, st.sampled_from([None, np.float32, "float32", np.float64]), st.booleans())
def test_dtype_and_requires_grad_are_kept(size: tuple[int, ...], dtype: object, requires_grad: bool) -> None:
    expected = np.float64 if dtype in (None, np.float64) else np.float32
    made = [
        mg.zeros(size, dtype=dtype, requires_grad=requires_grad),
        mg.ones(*size, dtype=dtype, requires_grad=requires_grad),
        mg.full(size, 0.1, dtype=dtype, requires_grad=requires_grad),
        mg.rand(size, dtype=dtype, requires_grad=requires_grad, seed=0),
        mg.randn(*size, dtype=dtype, requires_grad=requires_grad, seed=0),
        mg.eye(3, dtype=dtype, requires_grad=requires_grad),
        mg.arange(4, dtype=dtype, requires_grad=requires_grad),
        mg.linspace(0, 1, 5, dtype=dtype, requires_grad=requires_grad),
        mg.tensor([1.0], dtype=dtype, requires_grad=requires_grad),
    ]
    for t in made:
        assert t.dtype == expected and t.requires_grad == requires_grad and t.is_leaf


def test_like_factories_copy_shape_and_dtype() -> None:
    torch = require_torch()
    single = Tensor(np.ones((2, 3)), dtype=np.float32)
    for ours, theirs in [
        (mg.zeros_like(single), torch.zeros_like(torch.ones(2, 3, dtype=torch.float32))),
        (mg.ones_like(single), torch.ones_like(torch.ones(2, 3, dtype=torch.float32))),
    ]:
        assert ours.shape == (2, 3) and ours.dtype == np.float32
        assert close_to_torch(ours.data, theirs.numpy())
    assert mg.zeros_like(single, dtype=np.float64).dtype == np.float64
    assert mg.ones_like(np.zeros((4,), dtype=int)).dtype == np.float64
    # a float32 array keeps its dtype too, as Tensor(array) does
    assert Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert mg.zeros_like(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert mg.ones_like(np.ones((2, 1), dtype=np.float32)).dtype == np.float32
    assert mg.ones_like(np.ones(2, dtype=np.float32), dtype=np.float64).dtype == np.float64
    assert mg.ones_like(single, requires_grad=True).requires_grad


@given(st.integers(0, 5), st.one_of(st.none(), st.integers(0, 5)))
def test_eye_matches_torch(n: int, m: int | None) -> None:
    torch = require_torch()
    ours = mg.eye(n, m)
    theirs = torch.eye(n) if m is None else torch.eye(n, m)
    assert ours.shape == tuple(theirs.shape) and close_to_torch(ours.data, theirs.numpy())


numbers = st.one_of(st.integers(-20, 20), st.floats(-20, 20, allow_nan=False).map(lambda v: round(v, 3)))


@given(
    numbers,
    numbers,
    st.one_of(st.integers(1, 5), st.floats(0.05, 5).map(lambda v: round(v, 3))),
    st.booleans(),
)
def test_arange_matches_torch(start: float, end: float, step: float, down: bool) -> None:
    torch = require_torch()
    if down:
        start, end, step = max(start, end), min(start, end), -step
    elif start > end:
        start, end = end, start
    ours = mg.arange(start, end, step)
    theirs = torch.arange(start, end, step, dtype=torch.float64)
    assert ours.shape == tuple(theirs.shape)
    assert close_to_torch(ours.data, theirs.numpy())


def test_arange_with_one_or_two_arguments() -> None:
    torch = require_torch()
    for args in [(5,), (0.5,), (2, 7), (-3, 3), (1, 1)]:
        ours, theirs = mg.arange(*args), torch.arange(*args, dtype=torch.float64)
        assert ours.shape == tuple(theirs.shape) and close_to_torch(ours.data, theirs.numpy())
    assert mg.arange(mg.tensor(3.0)).tolist() == [0.0, 1.0, 2.0]


@given(numbers, numbers, st.integers(0, 50))
def test_linspace_matches_torch(start: float, end: float, steps: int) -> None:
    torch = require_torch()
    ours, theirs = mg.linspace(start, end, steps), torch.linspace(start, end, steps)
    assert ours.shape == tuple(theirs.shape)
    assert close_to_torch(ours.data, theirs.numpy())


def test_random_factories_use_their_own_generator() -> None:
    np.random.seed(12345)
    before = np.random.get_state()[1].copy()
    a = mg.randn(3, 4, seed=7)
    b = mg.randn((3, 4), seed=7)
    np.testing.assert_array_equal(a.data, b.data)  # seeded: the same numbers every time
    assert not np.array_equal(a.data, mg.randn(3, 4, seed=8).data)
    np.testing.assert_array_equal(a.data, np.random.default_rng(7).standard_normal((3, 4)))
    u = mg.rand(1000, seed=1)
    assert u.data.min() >= 0.0 and u.data.max() < 1.0
    shared = np.random.default_rng(5)
    first, second = mg.rand(2, generator=shared), mg.rand(2, generator=shared)
    assert not np.array_equal(first.data, second.data)  # one stream, drawn on
    np.testing.assert_array_equal(
        np.concatenate([first.data, second.data]), np.random.default_rng(5).random(4)
    )
    mg.rand(5)  # no seed: fresh entropy, still not numpy's global state
    assert np.array_equal(np.random.get_state()[1], before)


@given(sizes, st.sampled_from([np.float32, np.float64]), st.sampled_from(["rand_like", "randn_like"]))
def test_rand_like_and_randn_like_take_the_shape_and_dtype_of_their_input_as_torch(
    size: tuple[int, ...], kind: type, name: str
) -> None:
    torch = require_torch()
    ours = getattr(mg, name)(mg.zeros(size, dtype=kind), seed=3)
    theirs = getattr(torch, name)(
        torch.zeros(size, dtype=torch.float32 if kind is np.float32 else torch.float64)
    )
    assert ours.shape == tuple(theirs.shape) and ours.dtype == kind and not ours.requires_grad
    draw = getattr(np.random.default_rng(3), "random" if name == "rand_like" else "standard_normal")
    np.testing.assert_array_equal(ours.data, draw(size).astype(kind))  # the numbers of rand/randn(seed=3)
    other = mg.float64 if kind is np.float32 else mg.float32  # dtype= overrides, as torch's
    like_array = getattr(mg, name)(np.zeros(size, dtype=kind), dtype=other, requires_grad=True, seed=3)
    assert like_array.dtype == other and like_array.requires_grad


def test_float32_and_float64_are_the_dtypes_by_torchs_names() -> None:
    torch = require_torch()
    x = mg.rand_like(mg.tensor([[1, 2], [3, 4]]), dtype=mg.float32, seed=0)
    assert x.dtype == mg.float32 == np.float32 and mg.tensor(1.0).dtype == mg.float64
    assert mg.zeros(2, dtype=mg.float32).dtype == np.float32
    assert str(mg.float64) == str(torch.float64).removeprefix("torch.")


def test_randn_and_rand_have_the_right_distribution() -> None:
    normal = mg.randn(200_000, seed=0).data
    uniform = mg.rand(200_000, seed=0).data
    # about 5 standard errors of each estimate
    assert abs(normal.mean()) < 0.012 and abs(normal.std() - 1.0) < 0.01
    assert abs(uniform.mean() - 0.5) < 0.004 and abs(uniform.var() - 1 / 12) < 0.001


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: mg.zeros(2.0), TypeError, r"zeros\(\): size must be an int"),
        (lambda: mg.ones(2, -1), ValueError, r"ones\(\): size must be >= 0, got -1"),
        (lambda: mg.full((2,), "x"), TypeError, r"full\(\): fill_value must be a number"),
        (lambda: mg.eye(-2), ValueError, r"eye\(\): n must be >= 0"),
        (lambda: mg.arange(0, 1, 0), ValueError, "step must be nonzero"),
        (lambda: mg.arange(0, 1, -1), ValueError, "the step goes away from end"),
        (lambda: mg.arange(0, float("inf")), ValueError, "must be finite"),
        (lambda: mg.arange(0, 1e300, 1e-300), ValueError, "too many for an array"),
        (lambda: mg.linspace(0, 1, 2.5), TypeError, r"linspace\(\): steps must be an int"),
        (lambda: mg.randn(2, seed=1, generator=np.random.default_rng()), ValueError, "seed or generator"),
        (lambda: mg.rand(2, generator=1), TypeError, "generator must be a numpy Generator"),
        (lambda: mg.rand(2, seed=-1), ValueError, "seed must be >= 0"),
        (lambda: mg.zeros(2, dtype=np.int64), TypeError, "dtype must be float64 or float32"),
        (lambda: mg.zeros_like([1, 2]), TypeError, r"zeros_like\(\) takes a Tensor or a numpy array"),
        (lambda: mg.rand_like([1, 2]), TypeError, r"rand_like\(\) takes a Tensor or a numpy array"),
        (lambda: mg.randn_like(mg.ones(2), seed=1.5), TypeError, "seed must be an int"),
        (lambda: mg.tensor("abc"), TypeError, "must be numbers"),
    ],
)
def test_bad_arguments_are_named(call, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        call()


FACTORY_CALLS = {
    "tensor": lambda lib, **kw: lib.tensor([1.0, 2.0], **kw),
    "zeros": lambda lib, **kw: lib.zeros(2, 3, **kw),
    "ones": lambda lib, **kw: lib.ones((2,), **kw),
    "full": lambda lib, **kw: lib.full((), 0.3, **kw),
    "zeros_like": lambda lib, **kw: lib.zeros_like(lib.ones(2), **kw),
    "ones_like": lambda lib, **kw: lib.ones_like(lib.ones(2), **kw),
    "eye": lambda lib, **kw: lib.eye(3, **kw),
    "arange": lambda lib, **kw: lib.arange(0, 1, 0.25, **kw),
    "linspace": lambda lib, **kw: lib.linspace(-1, 1, 5, **kw),
    "rand": lambda lib, **kw: lib.rand(2, **kw),
    "randn": lambda lib, **kw: lib.randn((), **kw),
    "rand_like": lambda lib, **kw: lib.rand_like(lib.ones(2, 3), **kw),
    "randn_like": lambda lib, **kw: lib.randn_like(lib.ones(4), **kw),
}


@pytest.mark.parametrize("name", sorted(FACTORY_CALLS))
def test_device_cpu_is_accepted_by_every_factory_as_in_torch(name: str) -> None:
    torch = require_torch()
    call = FACTORY_CALLS[name]
    for device in ("cpu", torch.device("cpu"), None):
        ours = call(mg, device=device, dtype=np.float64, requires_grad=True)
        theirs = call(torch, device=device, dtype=torch.float64, requires_grad=True)
        assert ours.shape == tuple(theirs.shape) and ours.requires_grad
        if not name.startswith("rand"):
            assert close_to_torch(ours.data, theirs.detach().numpy())


@pytest.mark.parametrize("name", sorted(FACTORY_CALLS))
def test_another_device_or_a_dtype_as_device_is_refused_by_name(name: str) -> None:
    call = FACTORY_CALLS[name]
    with pytest.raises(ValueError, match=rf"{name}\('cuda'\): micrograd_plus computes on the CPU only"):
        call(mg, device="cuda")
    with pytest.raises(TypeError, match=rf'{name}\(\): device= takes a device \("cpu"\), got the dtype'):
        call(mg, device=np.float32)
