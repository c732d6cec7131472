"""The factories (issue 16): `tensor`, `as_tensor`, `zeros`, `ones`, `full`, `empty`, `eye`, `arange`,
`linspace`, `rand`, `randn`, `normal`, `randint`, `randperm` and the `_like` forms, against PyTorch float64 (shapes and values), with
sizes given as in PyTorch; dtype, requires_grad, and random numbers from a private Generator
(seeded: the same numbers every time; numpy's global state never read or changed)."""

from __future__ import annotations

import math
import types
from typing import Any

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


@given(
    sizes,
    st.floats(-1e3, 1e3),
    st.floats(0, 1e3),
    st.sampled_from([None, np.float32, np.float64]),
    st.booleans(),
)
def test_normal_of_a_mean_a_std_and_a_size_as_torchs(
    size: tuple[int, ...], mean: float, std: float, kind: Any, by_keyword: bool
) -> None:
    """`torch.normal(0, 0.01, size=(2, 1), requires_grad=True)`, as d2l writes it: torch's shape,
    dtype and flags; numpy's numbers of the seed, mean + std * standard normal."""
    torch = require_torch()
    kwargs = {"size": size} if by_keyword else {}
    args = () if by_keyword else (size,)
    dtype = {None: {}, np.float32: {"dtype": torch.float32}, np.float64: {"dtype": torch.float64}}[kind]
    ours = mg.normal(mean, std, *args, dtype=kind, requires_grad=True, seed=4, **kwargs)
    theirs = torch.normal(mean, std, *args, requires_grad=True, **dtype, **kwargs)
    assert ours.shape == tuple(theirs.shape) and ours.requires_grad and ours.grad_fn is None
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    expected = np.random.default_rng(4).normal(mean, std, size).astype(ours.dtype)
    np.testing.assert_array_equal(ours.data, expected)


def test_normal_has_the_right_distribution_and_says_what_it_takes() -> None:
    drawn = mg.normal(3.0, 0.5, (200_000,), seed=0).data
    assert abs(drawn.mean() - 3.0) < 0.006 and abs(drawn.std() - 0.5) < 0.005  # about 5 standard errors
    assert np.array_equal(mg.normal(2, 0, (3,)).data, [2.0, 2.0, 2.0])  # std 0, as torch's
    with pytest.raises(TypeError, match=r"normal\(\) takes numbers mean and std and a size, as normal\(0.0"):
        mg.normal(0.0, 1.0)  # torch.normal(mean, std) of Tensors is not here
    with pytest.raises(ValueError, match=r"normal\(\): std must be >= 0, got -1.0"):
        mg.normal(0, -1, (2,))  # torch: RuntimeError "normal expects std >= 0.0"
    with pytest.raises(
        TypeError, match=r"normal\(\): mean must be a number or a 0-d Tensor .* shape \(2,\);"
    ):
        mg.normal(mg.zeros(2), 1.0, (2,))  # torch: "received an invalid combination of arguments"
    with pytest.raises(
        TypeError, match=r"normal\(\): std must be .* shape \(\) that requires grad; .* randn\(size\)"
    ):
        mg.normal(0.0, mg.tensor(1.0, requires_grad=True), (2,))  # torch refuses it too
    with pytest.raises(ValueError, match=r"normal\(\): std must be >= 0, got nan"):
        mg.normal(0, math.nan, (2,))  # torch: "normal expects std >= 0.0, but found std nan"
    with pytest.raises(NotImplementedError, match=r"normal\(\): draws floats"):
        mg.normal(0, 1, (2,), dtype=mg.long)


@given(
    st.sampled_from([True, False, 2, -1.5, "0-d float", "0-d int64", "0-d bool"]),
    st.sampled_from([True, 0.5, "0-d float", "0-d bool"]),
)
def test_normal_takes_bools_and_0d_tensors_as_numbers_as_torchs(mean: Any, std: Any) -> None:
    """`torch.normal(True, 1, size)` and `torch.normal(torch.tensor(2.0), 1, size)` run: each is
    taken as its number (a 0-d Tensor that requires grad is refused, in both libraries)."""
    torch = require_torch()
    made = {"0-d float": (2.5, "float64"), "0-d int64": (3, "int64"), "0-d bool": (True, "bool")}

    def argument(library: Any, x: Any) -> Any:
        return library.tensor(made[x][0], dtype=getattr(library, made[x][1])) if x in made else x

    ours = mg.normal(argument(mg, mean), argument(mg, std), (3,), seed=2)
    theirs = torch.normal(argument(torch, mean), argument(torch, std), (3,))
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    numbers = [float(made[x][0] if x in made else x) for x in (mean, std)]
    assert np.array_equal(ours.data, np.random.default_rng(2).normal(*numbers, 3))


def test_normal_of_an_infinite_std_gives_both_infinities_as_torchs() -> None:
    """mean + std * z with z of either sign: -inf as often as inf (and nan where an infinite mean
    meets the other sign), in both libraries."""
    torch = require_torch()
    inf = math.inf
    for mean, expected in ((0.0, {inf, -inf}), (inf, {inf, "nan"}), (-inf, {-inf, "nan"})):
        for drawn in (mg.normal(mean, inf, (200,)).tolist(), torch.normal(mean, inf, (200,)).tolist()):
            assert {"nan" if math.isnan(x) else x for x in drawn} == expected


@pytest.mark.parametrize("name", ["rand", "randn"])
def test_rand_and_randn_take_the_size_by_torchs_keyword(name: str) -> None:
    """`torch.randn(size=shape, device=device)` (d2l's RNN): the same numbers as randn(*shape)."""
    torch = require_torch()
    draw = getattr(mg, name)
    ours = draw(size=(2, 3), device="cpu", seed=1)
    assert ours.shape == tuple(getattr(torch, name)(size=(2, 3)).shape) == (2, 3)
    assert np.array_equal(ours.data, draw(2, 3, seed=1).data)
    assert draw(size=4, seed=1).shape == (4,)
    with pytest.raises(
        TypeError, match=rf"{name}\(\): give the sizes once, as {name}\(2, 3\) or {name}\(size="
    ):
        draw(2, size=(3,))  # torch: "received an invalid combination of arguments"


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
        (lambda: mg.zeros(2, dtype=np.int32), TypeError, "dtype must be float64, float32, int64 or bool"),
        (lambda: mg.zeros_like([1, 2]), TypeError, r"zeros_like\(\) takes a Tensor or a numpy array"),
        (lambda: mg.rand_like([1, 2]), TypeError, r"rand_like\(\) takes a Tensor or a numpy array"),
        (lambda: mg.randn_like(mg.ones(2), seed=1.5), TypeError, "seed must be an int"),
        (lambda: mg.tensor("abc"), TypeError, "must be numbers"),
        (
            lambda: mg.randint(5, 5, (3,)),
            ValueError,
            r"randint\(\): low must be less than high .* low=5 >= high=5",
        ),
        (lambda: mg.randint(6, 5, (3,)), ValueError, r"low=6 >= high=5"),
        (lambda: mg.randint(0, 10.5, (3,)), TypeError, r"randint\(\): high must be an int, got float"),
        (lambda: mg.randint(0, 10), TypeError, r"randint\(\) needs a size"),
        (lambda: mg.randint(0, 2**60, (1,), dtype=mg.float64), ValueError, r"float64 holds.*up to 2\*\*53"),
        (
            lambda: mg.randint(0, 2**64, (1,)),
            ValueError,
            r"int64 holds -2\*\*63 to 2\*\*63 - 1.* to 18446744073709551615",
        ),
        (lambda: mg.randperm(-1), ValueError, r"randperm\(\): n must be >= 0, got -1"),
        (lambda: mg.randperm(2.0), TypeError, r"randperm\(\): n must be an int"),
        (lambda: mg.full_like(mg.ones(2), None), TypeError, r"full_like\(\): fill_value must be a number"),
        (lambda: mg.empty(-1), ValueError, r"empty\(\): size must be >= 0"),
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
    "normal": lambda lib, **kw: lib.normal(0.5, 2.0, (2, 3), **kw),
    "rand_like": lambda lib, **kw: lib.rand_like(lib.ones(2, 3), **kw),
    "randn_like": lambda lib, **kw: lib.randn_like(lib.ones(4), **kw),
    "full_like": lambda lib, **kw: lib.full_like(lib.ones(2, 1), -2.5, **kw),
    "empty": lambda lib, **kw: lib.empty(2, 3, **kw),
    "empty_like": lambda lib, **kw: lib.empty_like(lib.ones(3), **kw),
    "randint": lambda lib, **kw: lib.randint(0, 5, (2, 3), **kw),
    "randperm": lambda lib, **kw: lib.randperm(4, **kw),
}


@pytest.mark.parametrize("name", sorted(FACTORY_CALLS))
def test_device_cpu_is_accepted_by_every_factory_as_in_torch(name: str) -> None:
    torch = require_torch()
    call = FACTORY_CALLS[name]
    for device in ("cpu", torch.device("cpu"), None):
        ours = call(mg, device=device, dtype=np.float64, requires_grad=True)
        theirs = call(torch, device=device, dtype=torch.float64, requires_grad=True)
        assert ours.shape == tuple(theirs.shape) and ours.requires_grad
        if not name.startswith(("rand", "normal", "empty")):  # (random; torch's empty memory is unset)
            assert close_to_torch(ours.data, theirs.detach().numpy())


@pytest.mark.parametrize("name", sorted(FACTORY_CALLS))
def test_another_device_or_a_dtype_as_device_is_refused_by_name(name: str) -> None:
    call = FACTORY_CALLS[name]
    with pytest.raises(ValueError, match=rf"{name}\('cuda'\): micrograd_plus computes on the CPU only"):
        call(mg, device="cuda")
    with pytest.raises(TypeError, match=rf'{name}\(\): device= takes a device \("cpu"\), got the dtype'):
        call(mg, device=np.float32)


# -- randint, randperm (float64 whole numbers here, int64 in torch), full_like, empty, as_tensor ----


@given(
    low=st.integers(-20, 20),
    span=st.integers(1, 30),
    size=sizes,
    form=st.sampled_from(["low, high, size", "high, size", "keywords"]),
)
def test_randint_draws_whole_numbers_in_torchs_range_and_shape(
    low: int, span: int, size: tuple, form: str
) -> None:
    torch = require_torch()
    if form == "high, size":
        low = 0
    args, kwargs = {
        "low, high, size": ((low, low + span, size), {}),
        "high, size": ((low + span, size), {}),
        "keywords": ((), {"low": low, "high": low + span, "size": size}),
    }[form]
    ours, theirs = mg.randint(*args, **kwargs, seed=0), torch.randint(*args, **kwargs)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.int64 and theirs.dtype == torch.int64
    assert np.all((ours.data >= low) & (ours.data < low + span) & (ours.data == np.round(ours.data)))
    np.testing.assert_array_equal(ours.data, np.random.default_rng(0).integers(low, low + span, size))


def test_randint_covers_its_range_evenly() -> None:
    counts = np.bincount(mg.randint(3, 8, (50_000,), seed=1).data.astype(int) - 3)
    assert len(counts) == 5 and np.all(np.abs(counts / 50_000 - 0.2) < 0.01)  # about 5 standard errors


@given(n=st.integers(0, 50))
def test_randperm_is_a_permutation_as_torchs(n: int) -> None:
    torch = require_torch()
    ours = mg.randperm(n, seed=2)
    assert (
        ours.shape == tuple(torch.randperm(n).shape) == (n,)
        and ours.dtype == np.int64 == torch.randperm(n).numpy().dtype
    )
    assert sorted(ours.tolist()) == list(range(n))


def test_randint_and_randperm_index_tensors_and_are_cross_entropy_labels_as_torchs() -> None:
    torch = require_torch()
    a = np.random.default_rng(5).standard_normal((6, 3))
    rows, labels = mg.randperm(6, seed=3), mg.randint(0, 3, (6,), seed=4)
    trows, tlabels = torch.tensor(rows.data, dtype=torch.int64), torch.tensor(labels.data, dtype=torch.int64)
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    assert np.array_equal(x[rows].data, tx[trows].detach().numpy())  # rows shuffled
    assert np.array_equal(x[mg.arange(6), labels].data, tx[torch.arange(6), tlabels].detach().numpy())
    ours, theirs = mg.cross_entropy(x[rows], labels), torch.nn.functional.cross_entropy(tx[trows], tlabels)
    assert close_to_torch(ours.data, theirs.detach().numpy())
    ours.backward()
    theirs.backward()
    assert close_to_torch(x.grad, tx.grad.numpy())


@given(sizes, st.sampled_from([np.float32, np.float64]), st.floats(-5, 5, allow_nan=False))
def test_full_like_empty_and_empty_like_as_torch(size: tuple[int, ...], kind: type, value: float) -> None:
    torch = require_torch()
    source = mg.ones(size, dtype=kind)
    ours, theirs = mg.full_like(source, value), torch.full_like(torch.ones(size, dtype=torch.float64), value)
    assert ours.dtype == kind and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.numpy().astype(kind))
    for empty in (mg.empty(*size, dtype=kind), mg.empty_like(source), mg.empty_like(source.data)):
        assert empty.shape == tuple(torch.empty(size).shape) and empty.dtype == kind
        assert not empty.data.any()  # zeros here: nothing unset to read


def test_as_tensor_shares_what_it_can_as_torch() -> None:
    torch = require_torch()
    array = np.array([1.0, 2.0])
    shared, theirs = mg.as_tensor(array), torch.as_tensor(array)
    array[0] = 5.0  # a float64 array is shared, as torch's
    assert shared.tolist() == theirs.tolist() == [5.0, 2.0]
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    assert mg.as_tensor(t) is t and torch.as_tensor(torch.tensor([1.0])).dtype == torch.float64
    half = mg.as_tensor(t, dtype=mg.float32)  # another dtype: converted (in the graph, as .to)
    assert half.dtype == np.float32 and half is not t
    copied = mg.as_tensor(array, dtype=mg.float32)
    array[1] = 7.0
    assert copied.tolist() == [5.0, 2.0] and mg.as_tensor([1, 2]).tolist() == torch.as_tensor([1, 2]).tolist()
    assert mg.as_tensor(array, device="cpu").tolist() == [5.0, 7.0]


@pytest.mark.parametrize(
    "call",
    [
        lambda: mg.randperm(2**24 + 2, dtype=mg.float32),
        lambda: mg.randint(0, 2**30, (3,), dtype=mg.float32),
        lambda: mg.randint(-(2**25), 0, (3,), dtype=np.float32),
    ],
)
def test_whole_numbers_float32_cannot_hold_exactly_are_refused(call: Any) -> None:
    with pytest.raises(ValueError, match="float32 holds whole numbers exactly only up to 2\\*\\*24"):
        call()


def test_whole_numbers_float32_holds_are_drawn_in_float32() -> None:
    drawn = mg.randint(2**24 - 3, 2**24 + 1, (50,), dtype=mg.float32, seed=0)
    assert drawn.dtype == np.float32 and set(drawn.data.tolist()) <= {
        2.0**24 - 3,
        2.0**24 - 2,
        2.0**24 - 1,
        2.0**24,
    }
    assert sorted(mg.randperm(7, dtype=mg.float32, seed=1).data.tolist()) == list(range(7))
