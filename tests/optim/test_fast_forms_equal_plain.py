"""The speed paths of the Tensor engine give exactly what the plain rules give.

Speed itself is measured by `benchmarks/run.py`, never here. What is checked here is that each
shortcut taken for speed (issue 7) changes no number and lets no memory leak between arrays a
user can see:

- the in-place optimizer updates (`_update_array`, piece by piece into scratch buffers, and
  Adam's fused numba kernel) against the plain formula (`_update`), bit for bit, for every
  option of SGD, Adam and AdamW (tests/optim/test_adam_kernel.py adds special values and random settings);
- the parameter's gradient is never written, and no state, gradient or parameter shares memory
  with the optimizer's scratch space or with another parameter's arrays;
- relu's rule against `np.where(out <= 0, 0, g)`, with inf and nan in the gradient and nan in
  the output;
- cross-entropy as one node against the composed `-log_softmax(x)[rows, labels]`, bit for bit
  in value and gradient, and against PyTorch in the second derivative (and the labels array is
  copied, not kept).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import (
    SGD,
    Adam,
    AdamW,
    Linear,
    ReLU,
    Sequential,
    Tensor,
    cross_entropy,
    grad,
)
from micrograd_plus.optim import adam_kernel
from micrograd_plus.optim import optimizers as optim

OPTIMIZERS: list[tuple[type, dict[str, Any]]] = [
    (SGD, {"lr": 0.1}),
    (SGD, {"lr": 0.1, "momentum": 0.9}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    (SGD, {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True}),
    (SGD, {"lr": 0.1, "weight_decay": 0.05}),
    (Adam, {"lr": 0.01}),
    (Adam, {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.2}),
    (AdamW, {"lr": 0.1, "weight_decay": 0.3}),
    (SGD, {"lr": 0.1, "momentum": 0.9, "maximize": True}),
    (Adam, {"lr": 0.1, "amsgrad": True}),
    (AdamW, {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True, "maximize": True}),
]
SHAPES = [(), (1,), (7,), (3, 5), (4, 3, 2), (40, 30)]
# Adam's in-place form runs in numpy, or in numba's fused kernel where numba is installed
# (the test extra installs it): both are checked, each forced in turn.
FORMS = [
    (cls, kwargs, form)
    for cls, kwargs in OPTIMIZERS
    for form in (["numpy", "fused"] if issubclass(cls, Adam) else ["numpy"])
]


def use_form(patch: pytest.MonkeyPatch, form: str, only_adam: bool = True) -> None:
    """Force Adam's numpy form, or its fused kernel (and, where only Adam runs, fail if the numpy
    pieces run instead)."""
    if form == "numpy":
        patch.setattr(adam_kernel, "_adam_kernel", None)
        return
    assert adam_kernel.adam_kernel() is not None, "numba is part of the test extra: pip install -e '.[test]'"
    if not only_adam:
        return

    def no_pieces(*arrays: np.ndarray) -> Any:
        raise AssertionError("the fused kernel declined a C-contiguous float array")

    patch.setattr(optim, "_pieces", no_pieces)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype and shape, nan where the other has nan, and bit for bit elsewhere (so -0.0
    differs from 0.0)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    nan = np.isnan(a)
    return bool(np.array_equal(nan, np.isnan(b)) and a[~nan].tobytes() == b[~nan].tobytes())


def plain_run(cls: type, kwargs: dict[str, Any], start: np.ndarray, grads: list[np.ndarray]) -> Any:
    """The reference: the plain formula `_update`, whole arrays, a new temporary per operation."""
    p = Tensor(start, requires_grad=True)
    opt = cls([p], **kwargs)
    for g in grads:
        p.data = opt._update(p.data, -g if opt.maximize else g.copy(), opt.state[p])  # as step() calls it
    return p.data, opt.state[p]


def fast_run(cls: type, kwargs: dict[str, Any], start: np.ndarray, grads: list[np.ndarray]) -> Any:
    p = Tensor(start, requires_grad=True)
    array = p.data
    opt = cls([p], **kwargs)
    for g in grads:
        p.grad = g.copy()
        kept = p.grad.copy()
        opt.step()
        assert same_bits(p.grad, kept), "the optimizer wrote into the parameter's gradient"
    assert p.data is array, "the parameter must keep its array"
    return p.data, opt.state[p]


def assert_same_runs(plain: Any, fast: Any) -> None:
    (plain_data, plain_state), (fast_data, fast_state) = plain, fast
    assert same_bits(fast_data, plain_data)
    assert plain_state.keys() == fast_state.keys()
    for key in plain_state:
        assert same_bits(fast_state[key], plain_state[key]), key


def gradients(shape: tuple[int, ...], dtype: Any, seed: int, steps: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(steps)]


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of 64 bytes, so that small arrays take the piece-by-piece path too."""
    monkeypatch.setattr(optim, "_PIECE_BYTES", 64)


@pytest.mark.parametrize("pieces", ["whole", "small pieces"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls,kwargs,form", FORMS, ids=lambda x: getattr(x, "__name__", str(x)))
@given(shape=st.sampled_from(SHAPES), seed=st.integers(0, 2**32 - 1))
def test_in_place_updates_equal_the_plain_formula_bit_for_bit(
    pieces: str, dtype: Any, cls: type, kwargs: dict[str, Any], form: str, shape: tuple[int, ...], seed: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        use_form(patch, form)
        if pieces == "small pieces":
            patch.setattr(optim, "_PIECE_BYTES", 64)
        start = np.random.default_rng(seed + 1).standard_normal(shape).astype(dtype)
        grads = gradients(shape, dtype, seed)
        assert_same_runs(plain_run(cls, kwargs, start, grads), fast_run(cls, kwargs, start, grads))


@pytest.mark.parametrize("cls,kwargs,form", FORMS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_in_place_updates_of_a_large_parameter_equal_the_plain_formula(
    cls: type, kwargs: dict[str, Any], form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 70,000 float64 numbers: three pieces of the default size, the last one short
    use_form(monkeypatch, form)
    start = np.random.default_rng(3).standard_normal((350, 200))
    grads = gradients((350, 200), np.float64, 4, steps=3)
    assert_same_runs(plain_run(cls, kwargs, start, grads), fast_run(cls, kwargs, start, grads))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf in the update, as in the plain formula
@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_column_major_and_special_values_take_the_same_numbers(
    small_pieces: None, cls: type, kwargs: dict[str, Any]
) -> None:
    # A column-major parameter (not cut into pieces) and gradients holding inf, nan and -0.0.
    start = np.asfortranarray(np.random.default_rng(5).standard_normal((6, 4)))
    grads = gradients((6, 4), np.float64, 6)
    grads[1][0, 0], grads[1][2, 1], grads[2][3, 3], grads[0][1, 2] = math.inf, math.nan, -math.inf, -0.0
    plain, fast = plain_run(cls, kwargs, start, grads), fast_run(cls, kwargs, start, grads)
    assert fast[0].flags.f_contiguous
    assert_same_runs(plain, fast)


def test_a_gradient_of_another_dtype_or_shape_takes_the_plain_formula() -> None:
    p = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    q = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    p.grad = np.array([0.5, 1e-9, 3.0])  # float64 for a float32 parameter: set by hand
    q.grad = np.float32(2.0)  # a scalar gradient broadcasts, as in the plain formula
    expected_p = np.float32(1) - 0.1 * p.grad
    SGD([p, q], lr=0.1).step()
    assert p.data.dtype == np.float32 and same_bits(p.data, expected_p.astype(np.float32))
    assert same_bits(q.data, np.full(3, np.float32(1) - np.float32(0.2), dtype=np.float32))


@pytest.mark.parametrize("form", ["numpy", "fused"])
def test_no_array_a_user_sees_shares_memory_with_another(
    small_pieces: None, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_form(monkeypatch, form, only_adam=False)
    model = Sequential(Linear(3, 5, seed=1), ReLU(), Linear(5, 2, seed=2))
    params = model.parameters()
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    for opt in (Adam(params, lr=0.01), SGD(params, lr=0.1, momentum=0.9)):
        for _ in range(3):
            opt.zero_grad()
            (model(x) ** 2).mean().backward()
            opt.step()
        visible = [p.data for p in params] + [p.grad for p in params]
        visible += [a for state in opt.state.values() for a in state.values() if isinstance(a, np.ndarray)]
        scratch = list(opt._scratch.values())
        if form == "numpy" or isinstance(opt, SGD):
            assert scratch, "the in-place path was not taken"
        for i, a in enumerate(visible):
            for b in visible[i + 1 :] + scratch:
                assert not np.shares_memory(a, b)


def test_changing_a_gradient_after_the_step_changes_no_state() -> None:
    p = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    state = {k: np.copy(v) for k, v in opt.state[p].items()}
    data = p.data.copy()
    p.grad[...] = 1e6  # the user's array: nothing else may see this
    assert all(same_bits(opt.state[p][k], v) for k, v in state.items() if isinstance(v, np.ndarray))
    assert same_bits(p.data, data)


# --- relu's rule ------------------------------------------------------------------------------

specials = st.sampled_from([0.0, -0.0, 1.5, -2.0, math.inf, -math.inf, math.nan])
numbers = st.one_of(st.floats(-3, 3, width=64), specials)


@given(
    inputs=st.lists(numbers, min_size=1, max_size=12),
    upstream=st.lists(numbers, min_size=12, max_size=12),
)
def test_relu_gradient_is_zero_exactly_where_the_output_is_at_most_zero(
    inputs: list[float], upstream: list[float]
) -> None:
    x = Tensor(inputs, requires_grad=True)
    g = np.array(upstream[: len(inputs)])
    x.relu().backward(g)
    out = np.maximum(np.array(inputs), 0)
    with np.errstate(invalid="ignore"):
        expected = np.where(out <= 0, 0.0, g)  # a nan output passes its gradient, as in PyTorch
    # (equal as numbers, nan matching nan; the rule's product may give -0.0 where np.where gives 0.0)
    np.testing.assert_array_equal(x.grad, expected)


def test_relu_second_derivative_still_records_a_graph() -> None:
    x = Tensor([-1.0, 0.0, 2.0, 3.0], requires_grad=True)
    (first,) = grad((x.relu() * x).sum(), x, create_graph=True)  # 2 x where x > 0
    np.testing.assert_array_equal(first.data, [0.0, 0.0, 4.0, 6.0])
    (second,) = grad(first.sum(), x)
    np.testing.assert_array_equal(second.data, [0.0, 0.0, 2.0, 2.0])


# --- cross-entropy as one node ----------------------------------------------------------------


def composed_cross_entropy(logits: Tensor, labels: np.ndarray) -> Tensor:
    """The plain composition the fused node stands in for."""
    return -logits.log_softmax(axis=1)[np.arange(len(labels)), labels]


@given(
    rows=st.integers(1, 6),
    classes=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1.0, 30.0, 800.0]),
    column_major=st.booleans(),
)
def test_cross_entropy_node_equals_the_composed_log_softmax(
    rows: int, classes: int, seed: int, scale: float, column_major: bool
) -> None:
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((rows, classes)) * scale
    if column_major:  # a Tensor keeps its input's memory order (x.T is column-major too)
        data = np.asfortranarray(data)
    labels = rng.integers(0, classes, rows)
    ours, plain = Tensor(data, requires_grad=True), Tensor(data, requires_grad=True)
    loss = cross_entropy(ours, labels, reduction="none")
    reference = composed_cross_entropy(plain, labels)
    assert same_bits(loss.data, reference.data)  # the forward is the same arithmetic
    weights = rng.uniform(-2.0, 2.0, rows)
    (loss * Tensor(weights)).sum().backward()
    (reference * Tensor(weights)).sum().backward()
    assert same_bits(ours.grad, plain.grad)


def test_cross_entropy_node_keeps_inf_and_nan_as_the_composition_does() -> None:
    data = np.array([[0.0, -math.inf, 1.0], [math.inf, 0.0, 0.0], [math.nan, 1.0, 2.0], [-math.inf] * 3])
    labels = np.array([1, 0, 2, 0])
    ours, plain = Tensor(data, requires_grad=True), Tensor(data, requires_grad=True)
    loss = cross_entropy(ours, labels, reduction="none")
    reference = composed_cross_entropy(plain, labels)
    assert same_bits(loss.data, reference.data)
    weights = Tensor([1.0, -1.0, 2.0, -0.5])  # negative ones too: the sign of each zero must match
    (loss * weights).sum().backward()
    (reference * weights).sum().backward()
    assert same_bits(ours.grad, plain.grad)


def test_cross_entropy_node_reuses_its_log_softmax_only_at_the_input_it_was_computed_for() -> None:
    rng = np.random.default_rng(3)
    data, other, labels = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    x = Tensor(data, requires_grad=True)
    loss = cross_entropy(x, labels, reduction="none")
    op = loss._op
    at_other = Tensor(other, requires_grad=True)
    composed_cross_entropy(at_other, labels).sum().backward()
    (asked_elsewhere,) = op.backward(np.ones(5), loss.data, other)  # as a local derivative check asks
    assert same_bits(asked_elsewhere, at_other.grad)
    op.forward(other)  # a probe elsewhere (a check runs the forward at other points)
    loss.sum().backward()
    loss.sum().backward()  # twice: twice the gradient of the first pass
    plain = Tensor(data, requires_grad=True)
    composed_cross_entropy(plain, labels).sum().backward()
    assert same_bits(x.grad, 2 * plain.grad)


def test_cross_entropy_second_derivative_matches_torch() -> None:
    torch = require_torch()
    rng = np.random.default_rng(8)
    data, labels, v = rng.standard_normal((4, 3)), np.array([2, 0, 1, 1]), rng.standard_normal((4, 3))
    x = Tensor(data, requires_grad=True)
    (g,) = grad(cross_entropy(x, labels), x, create_graph=True)
    (hv,) = grad((g * Tensor(v)).sum(), x)  # a Hessian-vector product
    tx = torch.tensor(data, requires_grad=True)
    (tg,) = torch.autograd.grad(
        torch.nn.functional.cross_entropy(tx, torch.tensor(labels)), tx, create_graph=True
    )
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    assert close_to_torch(g.data, tg.detach().numpy())
    assert close_to_torch(hv.data, thv.numpy())


def test_cross_entropy_keeps_its_own_copy_of_the_labels() -> None:
    x = Tensor([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]], requires_grad=True)
    labels = np.array([2, 0])
    loss = cross_entropy(x, labels)
    labels[:] = [0, 1]  # the caller reuses its array before calling backward
    loss.backward()
    p = np.exp(x.data) / np.exp(x.data).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad, (p - np.eye(3)[[2, 0]]) / 2, rtol=1e-12)


@pytest.mark.parametrize("cls,kwargs", OPTIMIZERS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_a_parameter_array_swapped_for_another_dtype_keeps_the_plain_numbers(
    cls: type, kwargs: dict[str, Any]
) -> None:
    # Two steps in float64, then the user replaces the array by a float32 one: the state stays
    # float64, and the update must round where the plain formula rounds.
    start = np.random.default_rng(9).standard_normal((5, 3))
    grads = gradients((5, 3), np.float64, 10)
    plain, fast = Tensor(start, requires_grad=True), Tensor(start, requires_grad=True)
    plain_opt, fast_opt = cls([plain], **kwargs), cls([fast], **kwargs)
    for k, g in enumerate(grads):
        if k == 2:
            plain.data, fast.data = plain.data.astype(np.float32), fast.data.astype(np.float32)
        g = g.astype(plain.data.dtype)
        plain.data = plain_opt._update(
            plain.data, -g if plain_opt.maximize else g.copy(), plain_opt.state[plain]
        )
        fast.grad = g.copy()
        fast_opt.step()
    assert_same_runs((plain.data, plain_opt.state[plain]), (fast.data, fast_opt.state[fast]))


class SignSGD(SGD):
    """A user's optimizer: SGD's constructor, its own formula (returning a new array)."""

    def _update(self, data: Any, grad: Any, state: dict[str, Any]) -> Any:
        return data - self.lr * np.sign(grad)


def test_a_subclass_that_overrides_update_alone_gets_its_own_formula() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    p.grad = np.array([3.0, -0.5])
    SignSGD([p], lr=0.1).step()
    assert same_bits(p.data, np.array([0.9, 2.1]))


def test_read_only_state_arrays_take_the_plain_formula() -> None:
    # State restored from a read-only buffer (np.frombuffer gives one) cannot be written in place.
    start, grads = np.arange(1.0, 4.0), gradients((3,), np.float64, 11, steps=2)
    plain, fast = Tensor(start, requires_grad=True), Tensor(start, requires_grad=True)
    plain_opt, fast_opt = SGD([plain], lr=0.1, momentum=0.9), SGD([fast], lr=0.1, momentum=0.9)
    for opt in (plain_opt, fast_opt):
        opt.state[opt.params[0]]["momentum_buffer"] = np.frombuffer(np.ones(3).tobytes())
    for g in grads:
        plain.data = plain_opt._update(
            plain.data, -g if plain_opt.maximize else g.copy(), plain_opt.state[plain]
        )
        fast.grad = g.copy()
        fast_opt.step()
    assert_same_runs((plain.data, plain_opt.state[plain]), (fast.data, fast_opt.state[fast]))
