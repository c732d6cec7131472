"""The losses PyTorch tutorials use (issue 16): NLLLoss, L1Loss, HuberLoss, SmoothL1Loss, and
CrossEntropyLoss with weight, ignore_index and label_smoothing; functional forms and modules,
every reduction, against PyTorch float64 (values and gradients, for the input and for a target
that requires grad), with hypothesis over shapes and values, gradchecks, and bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import micrograd_plus as mg
from micrograd_plus import (
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    NLLLoss,
    SmoothL1Loss,
    Tensor,
    Value,
    cross_entropy,
    huber_loss,
    l1_loss,
    nll_loss,
    smooth_l1_loss,
)

REDUCTIONS = ["mean", "sum", "none"]
seeds = st.integers(0, 2**32 - 1)


def backward_both(loss: Tensor, ref: Any, seed: int) -> None:
    torch = require_torch()
    g = np.random.default_rng(seed).normal(size=loss.shape)
    loss.backward(g)
    ref.backward(torch.tensor(g))


# --- class losses: cross_entropy and nll_loss with weight, ignore_index, label_smoothing ---------------


@st.composite
def class_problems(draw: Any) -> dict[str, Any]:
    """Logits (N, C) or (C,), labels (some equal to ignore_index), options and a reduction."""
    c = draw(st.integers(1, 5))
    single = draw(st.booleans())
    n = 1 if single else draw(st.integers(1, 6))
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(c,) if single else (n, c)) * draw(st.sampled_from([0.5, 4.0]))
    ignore_index = draw(st.sampled_from([-100, 0, c - 1, 7]))
    labels = rng.integers(0, c, size=n)
    labels[rng.random(n) < draw(st.sampled_from([0.0, 0.3]))] = ignore_index  # some ignored
    return {
        "logits": logits,
        "labels": labels.reshape(()) if single else labels,
        "weight": rng.uniform(0.1, 3.0, size=c) if draw(st.booleans()) else None,
        "ignore_index": ignore_index,
        "label_smoothing": draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])),
        "reduction": draw(st.sampled_from(REDUCTIONS)),
        "label_kind": draw(st.sampled_from(["int64", "int32", "float", "list"])),
        "seed": seed,
    }


def our_labels(labels: np.ndarray, kind: str) -> Any:
    if kind == "list":
        return labels.tolist()
    return labels.astype(np.float64 if kind == "float" else kind)


@given(class_problems())
def test_cross_entropy_with_weight_ignore_index_and_label_smoothing_matches_torch(problem: dict) -> None:
    torch = require_torch()
    p = problem
    ours, theirs = Tensor(p["logits"], requires_grad=True), torch.tensor(p["logits"], requires_grad=True)
    options = {"ignore_index": p["ignore_index"], "label_smoothing": p["label_smoothing"]}
    loss = cross_entropy(
        ours, our_labels(p["labels"], p["label_kind"]), p["reduction"], weight=p["weight"], **options
    )
    ref = torch.nn.functional.cross_entropy(
        theirs,
        torch.tensor(p["labels"]),
        weight=None if p["weight"] is None else torch.tensor(p["weight"]),
        reduction=p["reduction"],
        **options,
    )
    assert loss.shape == tuple(ref.shape)
    assert close_to_torch(loss.data, ref.detach().numpy()), (loss.data, ref)
    backward_both(loss, ref, p["seed"])
    assert close_to_torch(ours.grad, theirs.grad.numpy())
    module = CrossEntropyLoss(p["weight"], reduction=p["reduction"], **options)
    np.testing.assert_array_equal(module(Tensor(p["logits"]), p["labels"]).data, loss.data)


@given(class_problems())
def test_nll_loss_after_log_softmax_matches_torch(problem: dict) -> None:
    torch = require_torch()
    p = problem
    ours, theirs = Tensor(p["logits"], requires_grad=True), torch.tensor(p["logits"], requires_grad=True)
    weight = p["weight"]
    loss = nll_loss(
        ours.log_softmax(-1),
        our_labels(p["labels"], p["label_kind"]),
        p["reduction"],
        weight=weight,
        ignore_index=p["ignore_index"],
    )
    ref = torch.nn.functional.nll_loss(
        theirs.log_softmax(-1),
        torch.tensor(p["labels"]),
        weight=None if weight is None else torch.tensor(weight),
        ignore_index=p["ignore_index"],
        reduction=p["reduction"],
    )
    assert loss.shape == tuple(ref.shape)
    assert close_to_torch(loss.data, ref.detach().numpy())
    backward_both(loss, ref, p["seed"])
    assert close_to_torch(ours.grad, theirs.grad.numpy())
    module = NLLLoss(weight, ignore_index=p["ignore_index"], reduction=p["reduction"])
    np.testing.assert_array_equal(module(Tensor(p["logits"]).log_softmax(-1), p["labels"]).data, loss.data)


@given(
    st.integers(1, 5),
    st.integers(1, 4),
    st.sampled_from(REDUCTIONS),
    st.sampled_from([0.0, 0.2, 1.0]),
    st.booleans(),
    seeds,
)
def test_cross_entropy_with_class_probabilities_weight_and_smoothing_matches_torch(
    n: int, c: int, reduction: str, smoothing: float, weighted: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    logits, probs = rng.normal(size=(n, c)) * 3, rng.dirichlet(np.ones(c), size=n)
    weight = rng.uniform(0.1, 2.0, size=c) if weighted else None
    probabilities_match_torch(logits, probs, reduction, smoothing, weight, seed)


def probabilities_match_torch(
    logits: np.ndarray, probs: np.ndarray, reduction: str, smoothing: float, weight: Any, seed: int
) -> Tensor:
    """cross_entropy with class-probability targets: value and gradients (to the logits and to
    the targets) against torch's; returns our loss."""
    torch = require_torch()
    x, tx = Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    t, tt = Tensor(probs, requires_grad=True), torch.tensor(probs, requires_grad=True)
    loss = cross_entropy(x, t, reduction, weight=weight, label_smoothing=smoothing)
    ref = torch.nn.functional.cross_entropy(
        tx,
        tt,
        weight=None if weight is None else torch.tensor(weight),
        reduction=reduction,
        label_smoothing=smoothing,
    )
    assert loss.shape == tuple(ref.shape)
    assert close_to_torch(loss.data, ref.detach().numpy())
    backward_both(loss, ref, seed)
    assert close_to_torch(x.grad, tx.grad.numpy()) and close_to_torch(t.grad, tt.grad.numpy())
    return loss


def test_class_probabilities_take_a_negative_ignore_index_as_torch_does() -> None:
    torch = require_torch()
    logits, probs = np.random.default_rng(2).normal(size=(3, 4)), np.full((3, 4), 0.25)
    ours = cross_entropy(Tensor(logits), probs, ignore_index=-1)
    theirs = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(probs), ignore_index=-1)
    assert close_to_torch(ours.data, theirs.numpy())


def test_ignored_samples_count_for_nothing_even_with_nan_logits_as_in_torch() -> None:
    torch = require_torch()
    logits = np.array([[np.nan, 1.0, 2.0], [0.5, -np.inf, 1.0], [0.1, 0.2, 0.3]])
    labels = np.array([-100, 2, 0])
    for reduction in REDUCTIONS:
        for smoothing in (0.0, 0.3):
            x, tx = Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
            loss = cross_entropy(x, labels, reduction, label_smoothing=smoothing)
            ref = torch.nn.functional.cross_entropy(
                tx, torch.tensor(labels), reduction=reduction, label_smoothing=smoothing
            )
            assert close_to_torch(loss.data, ref.detach().numpy()), (reduction, smoothing, loss, ref)
            backward_both(loss, ref, 0)
            assert close_to_torch(x.grad, tx.grad.numpy())
    everything_ignored = np.full(3, -100)
    loss = cross_entropy(Tensor(logits[2:]).reshape(1, 3), everything_ignored[:1])
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits[2:]), torch.tensor(everything_ignored[:1]))
    assert np.isnan(loss.item()) and np.isnan(ref.item())  # 0 / 0, as in PyTorch


def test_gradcheck_of_the_class_losses() -> None:
    rng = np.random.default_rng(7)
    x = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    labels, weight = np.array([0, 2, -100, 1]), np.array([0.5, 2.0, 1.5])
    assert mg.gradcheck(lambda x: cross_entropy(x, labels, weight=weight, label_smoothing=0.2), (x,))
    assert mg.gradcheck(lambda x: nll_loss(x.log_softmax(1), labels, "sum", weight=weight), (x,))


# --- class losses on K-dimensional input: a class at each position (N, C, d1, ..., dK) ----------------


@st.composite
def spatial_class_problems(draw: Any) -> dict[str, Any]:
    """Logits (N, C, d1, ..., dK) (K from 1 to 3, sizes from 0), labels (N, d1, ..., dK) (some
    equal to ignore_index), options and a reduction."""
    c = draw(st.integers(1, 4))
    n, *dims = draw(st.lists(st.integers(0, 3), min_size=2, max_size=4))
    seed = draw(seeds)
    rng = np.random.default_rng(seed)
    ignore_index = draw(st.sampled_from([-100, 0, c - 1, 7]))
    labels = rng.integers(0, c, size=(n, *dims))
    labels[rng.random(labels.shape) < draw(st.sampled_from([0.0, 0.3]))] = ignore_index
    return {
        "logits": rng.normal(size=(n, c, *dims)) * draw(st.sampled_from([0.5, 4.0])),
        "labels": labels,
        "weight": rng.uniform(0.1, 3.0, size=c) if draw(st.booleans()) else None,
        "ignore_index": ignore_index,
        "label_smoothing": draw(st.sampled_from([0.0, 0.1, 1.0])),
        "reduction": draw(st.sampled_from(REDUCTIONS)),
        # (an empty list has lost the shape of the labels: an array then)
        "label_kind": draw(st.sampled_from(["int64", "int32", "float", "list" if labels.size else "int64"])),
        "seed": seed,
    }


@given(spatial_class_problems())
def test_cross_entropy_and_nll_loss_on_k_dimensional_input_match_torch(problem: dict) -> None:
    torch = require_torch()
    p = problem
    weight = None if p["weight"] is None else torch.tensor(p["weight"])
    options = {"ignore_index": p["ignore_index"], "reduction": p["reduction"]}
    smoothing = p["label_smoothing"]
    cases = [
        (
            lambda x: cross_entropy(
                x,
                our_labels(p["labels"], p["label_kind"]),
                weight=p["weight"],
                label_smoothing=smoothing,
                **options,
            ),
            lambda x: CrossEntropyLoss(p["weight"], label_smoothing=smoothing, **options)(x, p["labels"]),
            lambda t: torch.nn.functional.cross_entropy(
                t, torch.tensor(p["labels"]), weight, label_smoothing=smoothing, **options
            ),
        ),
        (
            lambda x: nll_loss(
                x.log_softmax(1), our_labels(p["labels"], p["label_kind"]), weight=p["weight"], **options
            ),
            lambda x: NLLLoss(p["weight"], **options)(x.log_softmax(1), p["labels"]),
            lambda t: torch.nn.functional.nll_loss(
                t.log_softmax(1), torch.tensor(p["labels"]), weight, **options
            ),
        ),
    ]
    for functional, module, theirs in cases:
        x, tx = Tensor(p["logits"], requires_grad=True), torch.tensor(p["logits"], requires_grad=True)
        loss, ref = functional(x), theirs(tx)
        assert loss.shape == tuple(ref.shape)
        assert close_to_torch(loss.data, ref.detach().numpy()), (loss.data, ref)
        backward_both(loss, ref, p["seed"])
        assert close_to_torch(x.grad, tx.grad.numpy())
        np.testing.assert_array_equal(module(Tensor(p["logits"])).data, loss.data)


@given(
    st.lists(st.integers(1, 3), min_size=2, max_size=4),
    st.integers(1, 4),
    st.sampled_from(REDUCTIONS),
    st.sampled_from([0.0, 0.2, 1.0]),
    st.booleans(),
    seeds,
)
def test_cross_entropy_with_class_probabilities_on_k_dimensional_input_matches_torch(
    sizes: list[int], c: int, reduction: str, smoothing: float, weighted: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n, *dims = sizes
    logits = rng.normal(size=(n, c, *dims)) * 3
    probs = np.moveaxis(rng.dirichlet(np.ones(c), size=(n, *dims)), -1, 1)  # (N, C, d1, ...)
    weight = rng.uniform(0.1, 2.0, size=c) if weighted else None
    loss = probabilities_match_torch(logits, probs, reduction, smoothing, weight, seed)
    plain = cross_entropy(Tensor(logits), probs, reduction, weight=weight, label_smoothing=smoothing)
    np.testing.assert_array_equal(plain.data, loss.data)  # (an array of probabilities is read the same)


def test_gradcheck_of_the_class_losses_on_k_dimensional_input() -> None:
    rng = np.random.default_rng(8)
    x = Tensor(rng.normal(size=(2, 3, 2, 3)), requires_grad=True)
    labels = np.array([[[0, 2, -100], [1, 1, 0]], [[2, 2, 1], [-100, 0, 1]]])
    probs = Tensor(np.moveaxis(rng.dirichlet(np.ones(3), size=(2, 2, 3)), -1, 1), requires_grad=True)
    weight = np.array([0.5, 2.0, 1.5])
    assert mg.gradcheck(lambda x: cross_entropy(x, labels, weight=weight, label_smoothing=0.2), (x,))
    assert mg.gradcheck(lambda x: nll_loss(x.log_softmax(1), labels, "none", weight=weight), (x,))
    assert mg.gradcheck(
        lambda x, t: cross_entropy(x, t, "sum", weight=weight, label_smoothing=0.1), (x, probs)
    )


def test_k_dimensional_labels_of_the_wrong_shape_are_named() -> None:
    x = Tensor(np.zeros((2, 3, 4, 5)))
    with pytest.raises(
        ValueError,
        match=r"cross_entropy\(\): class labels of shape \(2, 5, 4\) do not fit logits of shape \(2, 3, 4, 5\): "
        r"logits must have shape \(N, C\) or \(C,\) for labels \(N,\) or \(\), or \(N, C, d1, ...\) for "
        r"labels \(N, d1, ...\), here \(2, 4, 5\)",
    ):
        cross_entropy(x, np.zeros((2, 5, 4), dtype=np.int64))
    with pytest.raises(
        ValueError,
        match=r"nll_loss\(\): class labels of shape \(2, 4\) do not fit log_probs .* here \(2, 4, 5\)",
    ):
        NLLLoss()(x, np.zeros((2, 4), dtype=np.int64))
    with pytest.raises(ValueError, match=r"class labels must be whole numbers in \[0, 2\]"):
        cross_entropy(x, np.full((2, 4, 5), 3))
    probabilities_as_ints = np.zeros((2, 3, 4, 5), dtype=np.int64)
    with pytest.raises(ValueError, match=r"class probabilities, which must be floats, not int64"):
        cross_entropy(x, probabilities_as_ints)
    with pytest.raises(ValueError, match=r"here \(2, 4, 5\)$"):  # nll_loss takes no probabilities
        nll_loss(x, probabilities_as_ints)
    with pytest.raises(
        ValueError, match=r"logits must have shape \(N, C\), \(C,\) or \(N, C, d1, ...\), got \(\)"
    ):
        cross_entropy(Tensor(1.0), 0)


# --- regression losses: l1, huber, smooth_l1 ---------------------------------------------------------------


def regression(name: str, parameter: float) -> tuple[Any, Any]:
    torch = require_torch()
    F = torch.nn.functional
    return {
        "l1": (
            lambda p, t, r: l1_loss(p, t, r),
            lambda p, t, r: F.l1_loss(p, t, reduction=r),
        ),
        "huber": (
            lambda p, t, r: huber_loss(p, t, r, delta=parameter),
            lambda p, t, r: F.huber_loss(p, t, reduction=r, delta=parameter),
        ),
        "smooth_l1": (
            lambda p, t, r: smooth_l1_loss(p, t, r, beta=parameter),
            lambda p, t, r: F.smooth_l1_loss(p, t, reduction=r, beta=parameter),
        ),
    }[name]


same_shape_pairs = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4).flatmap(
    lambda shape: st.tuples(
        # a grid of 1/4: differences land exactly on 0 and on delta = beta = 0.5 or 1 at times
        hnp.arrays(np.float64, shape, elements=st.integers(-12, 12).map(lambda i: i / 4)),
        hnp.arrays(np.float64, shape, elements=st.integers(-12, 12).map(lambda i: i / 4)),
    )
)


@given(
    same_shape_pairs,
    st.sampled_from(["l1", "huber", "smooth_l1"]),
    st.sampled_from([0.5, 1.0, 2.3]),
    st.sampled_from(REDUCTIONS),
    st.booleans(),
    seeds,
)
def test_regression_losses_match_torch_for_input_and_target_gradients(
    arrays: tuple[np.ndarray, np.ndarray],
    name: str,
    parameter: float,
    reduction: str,
    target_grad: bool,
    seed: int,
) -> None:
    torch = require_torch()
    a, b = arrays
    ours_fn, theirs_fn = regression(name, parameter)
    p, tp = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    t, tt = Tensor(b, requires_grad=target_grad), torch.tensor(b, requires_grad=target_grad)
    loss, ref = ours_fn(p, t, reduction), theirs_fn(tp, tt, reduction)
    assert loss.shape == tuple(ref.shape)
    assert close_to_torch(loss.data, ref.detach().numpy())
    backward_both(loss, ref, seed)
    assert close_to_torch(p.grad, tp.grad.numpy()), (p.grad, tp.grad)
    if target_grad:
        assert close_to_torch(t.grad, tt.grad.numpy())
    else:
        assert t.grad is None


def test_regression_losses_with_nan_inf_and_beta_zero_match_torch() -> None:
    torch = require_torch()
    a = np.array([np.nan, np.inf, -np.inf, 1e200, 0.3, -2.0])
    b = np.array([0.0, 1.0, 5.0, -1e200, 0.3, 1.0])
    for name, parameter in [("l1", 1.0), ("huber", 1.5), ("smooth_l1", 0.5), ("smooth_l1", 0.0)]:
        ours_fn, theirs_fn = regression(name, parameter)
        for reduction in REDUCTIONS:
            p, tp = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
            loss, ref = ours_fn(p, Tensor(b), reduction), theirs_fn(tp, torch.tensor(b), reduction)
            assert close_to_torch(loss.data, ref.detach().numpy()), (name, loss, ref)
            backward_both(loss, ref, 1)
            assert close_to_torch(p.grad, tp.grad.numpy()), (name, p.grad, tp.grad)


def test_huber_second_derivative_matches_torch() -> None:
    torch = require_torch()
    a, b = np.array([-3.0, -0.4, 0.2, 2.5]), np.array([0.0, 0.1, -0.3, 0.5])
    for name in ("huber", "smooth_l1"):
        ours_fn, theirs_fn = regression(name, 1.0)
        p, tp = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        (g,) = mg.grad(ours_fn(p, Tensor(b), "sum"), [p], create_graph=True)
        (h,) = mg.grad((g * g).sum(), [p])
        (tg,) = torch.autograd.grad(theirs_fn(tp, torch.tensor(b), "sum"), [tp], create_graph=True)
        (th,) = torch.autograd.grad((tg * tg).sum(), [tp])
        assert close_to_torch(g.data, tg.detach().numpy()) and close_to_torch(h.data, th.numpy())


def test_gradcheck_of_the_regression_losses() -> None:
    rng = np.random.default_rng(8)
    p = Tensor(rng.normal(size=(3, 4)) * 2, requires_grad=True)
    t = Tensor(rng.normal(size=(3, 4)) * 2, requires_grad=True)
    for loss in (
        lambda p, t: l1_loss(p, t),
        lambda p, t: huber_loss(p, t, delta=0.8),
        lambda p, t: smooth_l1_loss(p, t, "sum", beta=1.7),
    ):
        assert mg.gradcheck(loss, (p, t))


def test_modules_are_the_functional_forms() -> None:
    rng = np.random.default_rng(9)
    p, t = Tensor(rng.normal(size=(5, 2))), Tensor(rng.normal(size=(5, 2)))
    np.testing.assert_array_equal(L1Loss()(p, t).data, l1_loss(p, t).data)
    np.testing.assert_array_equal(HuberLoss(delta=0.3)(p, t).data, huber_loss(p, t, delta=0.3).data)
    np.testing.assert_array_equal(HuberLoss("sum", 2.0)(p, t).data, huber_loss(p, t, "sum", 2.0).data)
    np.testing.assert_array_equal(SmoothL1Loss(beta=0.0)(p, t).data, l1_loss(p, t).data)
    np.testing.assert_array_equal(
        SmoothL1Loss(reduction="none")(p, t).data, smooth_l1_loss(p, t, "none").data
    )
    assert L1Loss()([Value(1.0), Value(-2.0)], [0.5, 0.0]).data == pytest.approx(1.25)  # on Values too


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: cross_entropy(Tensor(np.zeros((2, 3))), [0, 1], weight=[1.0, 2.0]),
            ValueError,
            r"shape \(3,\)",
        ),
        (
            lambda: cross_entropy(Tensor(np.zeros((2, 3))), [0, 1], weight="abc"),
            TypeError,
            "weight must be numbers",
        ),
        (
            lambda: cross_entropy(Tensor(np.zeros((2, 3))), [0, 5]),
            ValueError,
            r"\[0, 2\] \(or ignore_index, -100\)",
        ),
        (lambda: cross_entropy(Tensor(np.zeros((2, 3))), [0, -1]), ValueError, "or ignore_index"),
        (
            lambda: cross_entropy(Tensor(np.zeros((2, 3))), [0, 1], label_smoothing=1.5),
            ValueError,
            "label_smoothing",
        ),
        (
            lambda: cross_entropy([Value(0.0), Value(1.0)], 0, weight=[1.0, 1.0]),
            TypeError,
            "work on Tensor logits",
        ),
        (lambda: nll_loss(Tensor(np.zeros((2, 3, 1))), [0, 1]), ValueError, r"shape \(N, C\) or \(C,\)"),
        (
            lambda: nll_loss(Tensor(np.zeros((2, 3))), [0, 1], reduction="avg"),
            ValueError,
            "reduction must be one of",
        ),
        (lambda: nll_loss(Tensor(np.zeros((2, 3))), [0]), ValueError, "2 class labels"),
        (
            lambda: huber_loss(Tensor([1.0]), Tensor([1.0]), delta=0.0),
            ValueError,
            "delta must be a finite number > 0",
        ),
        (
            lambda: smooth_l1_loss(Tensor([1.0]), Tensor([1.0]), beta=-1.0),
            ValueError,
            "beta must be a finite number >= 0",
        ),
        (lambda: l1_loss(Tensor([1.0, 2.0]), Tensor([1.0])), ValueError, r"predictions of shape \(2,\)"),
        (lambda: huber_loss(Tensor([[1.0]]), Tensor([1.0])), ValueError, "but targets of shape"),
        (lambda: CrossEntropyLoss("sum"), TypeError, "pass reduction=... by name"),
        (lambda: NLLLoss(ignore_index=1.5), TypeError, "ignore_index must be an int"),
        (
            lambda: nll_loss(Tensor(np.zeros((2, 3))), [0, 1], ignore_index="x"),
            TypeError,
            "ignore_index must be an int",
        ),
        (lambda: CrossEntropyLoss(label_smoothing=-0.1), ValueError, "label_smoothing"),
        (lambda: HuberLoss(delta=10**400), ValueError, "too large for a float"),
        (lambda: SmoothL1Loss(beta="1"), TypeError, "beta must be a number"),
        (  # class probabilities have no sample to ignore: torch refuses an ignore_index >= 0 with them
            lambda: CrossEntropyLoss(ignore_index=0)(Tensor(np.zeros((2, 3))), np.full((2, 3), 1 / 3)),
            ValueError,
            r"ignore_index=0 works with class-index targets.*class probabilities",
        ),
    ],
)
def test_bad_input_is_named(call, error: type, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        call()
