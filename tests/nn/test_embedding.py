"""Embedding and F.embedding against PyTorch float64: values and the weight's gradient (rows used
twice add up, padding_idx's row gets none, scale_grad_by_freq divides by the counts) for
hypothesis-drawn tables and indices, under both engines; second derivatives; the index forms this
package takes (whole-number Tensors, int arrays, lists, ints) and the ones it refuses;
from_pretrained (shared numbers, frozen but still a parameter); initialisation; and one_hot."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import Embedding, Tensor, gradcheck, gradgradcheck
from micrograd_plus.nn import functional as F


@st.composite
def embedding_cases(draw: st.DrawFn) -> dict:
    rows = draw(st.integers(1, 6))
    index_shape = draw(st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple))
    return {
        "rows": rows,
        "dim": draw(st.integers(1, 4)),
        "indices": np.random.default_rng(draw(st.integers(0, 2**16))).integers(0, rows, size=index_shape),
        "padding_idx": draw(st.one_of(st.none(), st.integers(-rows, rows - 1))),
        "scale_grad_by_freq": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@given(embedding_cases())
def test_values_and_the_weights_gradient_match_torch(each_engine: str, case: dict) -> None:
    torch = require_torch()
    options = {k: case[k] for k in ("padding_idx", "scale_grad_by_freq")}
    ours = Embedding(case["rows"], case["dim"], seed=case["seed"], **options)
    theirs = torch.nn.Embedding(case["rows"], case["dim"], **options)
    assert repr(ours) == repr(theirs) and ours.padding_idx == theirs.padding_idx
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
    indices = case["indices"]
    out, ref = ours(indices), theirs(torch.tensor(indices))
    assert out.shape == tuple(ref.shape) == (*indices.shape, case["dim"])
    assert np.array_equal(out.data, ref.detach().numpy())  # a pick: exactly the rows
    g = np.random.default_rng(case["seed"]).normal(size=out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert close_to_torch(ours.weight.grad, theirs.weight.grad.numpy())


def test_a_row_used_twice_gets_both_gradients_and_the_padding_row_none() -> None:
    weight = Tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    out = F.embedding([[1, 1], [3, 0]], weight, padding_idx=0)
    assert np.array_equal(out.data, [[[2, 3], [2, 3]], [[6, 7], [0, 1]]])  # the padding row is looked up
    g = np.array([[[1.0, 2.0], [10.0, 20.0]], [[100.0, 200.0], [np.nan, np.inf]]])
    out.backward(g)
    assert np.array_equal(weight.grad, [[0, 0], [11, 22], [0, 0], [100, 200]])  # nan and inf kept out


def test_scale_grad_by_freq_divides_each_rows_gradient_by_its_count() -> None:
    weight = Tensor(np.zeros((3, 1)), requires_grad=True)
    F.embedding([2, 2, 2, 0], weight, scale_grad_by_freq=True).backward(
        np.array([[3.0], [6.0], [9.0], [5.0]])
    )
    assert np.array_equal(weight.grad, [[5.0], [0.0], [6.0]])  # (3 + 6 + 9) / 3


@pytest.mark.parametrize("options", [{}, {"padding_idx": 2}, {"scale_grad_by_freq": True, "padding_idx": -1}])
def test_second_and_third_derivatives_match_torch(options: dict) -> None:
    """With scale_grad_by_freq too: PyTorch scales the first gradient only, not its derivative."""
    torch = require_torch()
    rng = np.random.default_rng(4)
    table, indices = rng.normal(size=(5, 3)), np.array([[0, 2, 2], [4, 1, 0]])
    w = Tensor(table, requires_grad=True)
    out = F.embedding(indices, w, **options)
    (gw,) = mg.grad((out * out.sin()).sum(), [w], create_graph=True)
    (ggw,) = mg.grad((gw * gw.cos()).sum(), [w], create_graph=True)
    (ggw * ggw).sum().backward()
    tw = torch.tensor(table, requires_grad=True)
    tout = torch.nn.functional.embedding(torch.tensor(indices), tw, **options)
    (tgw,) = torch.autograd.grad((tout * tout.sin()).sum(), [tw], create_graph=True)
    (tggw,) = torch.autograd.grad((tgw * tgw.cos()).sum(), [tw], create_graph=True)
    (tggw * tggw).sum().backward()
    assert close_to_torch(gw.data, tgw.detach().numpy())
    assert close_to_torch(ggw.data, tggw.detach().numpy())
    assert close_to_torch(w.grad, tw.grad.numpy())


def test_gradients_match_central_differences_to_second_order() -> None:
    rng = np.random.default_rng(5)
    w = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    indices = np.array([[3, 0, 3], [1, 1, 2]])
    assert gradcheck(lambda w: F.embedding(indices, w).tanh(), [w])
    # padding_idx and scale_grad_by_freq change the gradient on purpose (so no gradcheck), but the
    # gradient they give is itself differentiated right
    for options in (
        {},
        {"padding_idx": 1},
        {"scale_grad_by_freq": True},
        {"scale_grad_by_freq": True, "padding_idx": 3},
    ):
        assert gradgradcheck(lambda w, options=options: F.embedding(indices, w, **options).tanh(), [w])


@pytest.mark.parametrize(
    "indices",
    [
        [[0, 3], [2, 2]],
        np.array([[0, 3], [2, 2]], dtype=np.int32),
        np.array([[0, 3], [2, 2]], dtype=np.uint8),
        np.array([[0.0, 3.0], [2.0, 2.0]]),
        Tensor([[0.0, 3.0], [2.0, 2.0]]),
        Tensor([[0.0, 3.0], [2.0, 2.0]], dtype=np.float32),
    ],
    ids=["list", "int32", "uint8", "float array", "Tensor", "float32 Tensor"],
)
def test_indices_are_whole_numbers_in_any_of_the_usual_forms(indices) -> None:
    layer = Embedding(4, 2, seed=0)
    assert np.array_equal(layer(indices).data, layer.weight.data[[[0, 3], [2, 2]]])


def test_one_index_gives_one_row_and_no_indices_give_no_rows() -> None:
    torch = require_torch()
    layer = Embedding(4, 2, seed=1)
    assert np.array_equal(layer(3).data, layer.weight.data[3]) and layer(np.int64(3)).shape == (2,)
    assert layer(Tensor(2.0)).shape == tuple(torch.nn.Embedding(4, 2)(torch.tensor(2)).shape) == (2,)
    assert layer(np.zeros((2, 0), dtype=int)).shape == (2, 0, 2)


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        ([0, 4], ValueError, r"whole numbers in \[0, 3\] \(rows of a weight of shape \(4, 2\)\), got \[4\]"),
        ([-1, 2], ValueError, r"in \[0, 3\].*got \[-1\]"),
        ([0.5, 2.0, 1.25], ValueError, r"got \[0.5  1.25\]"),
        (Tensor([np.nan, 1.0]), ValueError, r"got \[nan\]"),
        (Tensor([np.inf]), ValueError, r"got \[inf\]"),
        (Tensor([1.0], requires_grad=True), TypeError, r"require grad.*indices.detach\(\)"),
        (np.array([True, False]), TypeError, "must be whole numbers"),
        ("abc", TypeError, "must be whole numbers"),
        ([[0, 1], [2]], TypeError, "must be whole numbers"),
        (mg.Value(1.0), TypeError, "got a Value"),
    ],
)
def test_bad_indices_are_named(indices, error, message) -> None:
    with pytest.raises(error, match=message):
        Embedding(4, 2, seed=0)(indices)


def test_bad_arguments_say_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"padding_idx must be within num_embeddings, in \[-4, 3\], got 4"):
        Embedding(4, 2, padding_idx=4)
    with pytest.raises(ValueError, match=r"in \[-4, 3\], got -5"):
        F.embedding([0], Tensor(np.zeros((4, 2))), padding_idx=-5)
    with pytest.raises(TypeError, match="padding_idx must be an int or None"):
        Embedding(4, 2, padding_idx=1.0)
    with pytest.raises(ValueError, match="max_norm=1.0.*leave it None"):
        Embedding(4, 2, max_norm=1.0)
    with pytest.raises(ValueError, match="sparse=True.*leave sparse=False"):
        F.embedding([0], Tensor(np.zeros((4, 2))), sparse=True)
    with pytest.raises(ValueError, match=r"2-d Tensor \(num_embeddings, embedding_dim\), got shape \(4,\)"):
        F.embedding([0], Tensor(np.zeros(4)))
    with pytest.raises(ValueError, match="num_embeddings must be a positive int"):
        Embedding(0, 2)
    with pytest.raises(ValueError, match="embedding_dim must be a positive int"):
        Embedding(3, 2.0)
    with pytest.raises(ValueError, match=r"embeddings must be 2-d .*got shape \(3,\)"):
        Embedding.from_pretrained(mg.zeros(3))


def test_the_weight_starts_standard_normal_from_the_seed_with_a_zero_padding_row() -> None:
    a, b = Embedding(400, 50, padding_idx=-1, seed=3), Embedding(400, 50, padding_idx=-1, seed=3)
    assert np.array_equal(a.weight.data, b.weight.data) and a.weight.requires_grad
    assert a.padding_idx == 399 and not a.weight.data[399].any()
    assert abs(a.weight.data[:399].mean()) < 0.02 and abs(a.weight.data[:399].std() - 1.0) < 0.02
    mg.manual_seed(7)
    first = Embedding(3, 2).weight.data
    mg.manual_seed(7)
    assert np.array_equal(Embedding(3, 2).weight.data, first)  # the package's stream, restarted
    small = Embedding(3, 2, dtype=np.float32, seed=0)
    assert small.weight.dtype == np.float32 and small(Tensor([1.0])).dtype == np.float32


def test_from_pretrained_shares_the_numbers_and_freezes_them_as_a_parameter() -> None:
    torch = require_torch()
    table = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    frozen = Embedding.from_pretrained(table, padding_idx=1)
    reference = torch.nn.Embedding.from_pretrained(torch.tensor(table.data), padding_idx=1)
    assert repr(frozen) == repr(reference)
    assert list(frozen.state_dict()) == list(reference.state_dict()) == ["weight"]
    assert frozen.parameters() == [frozen.weight] and not frozen.weight.requires_grad
    assert np.array_equal(frozen(1).data, [3.0, 4.0])  # padding_idx's row keeps its numbers
    table.data[0, 0] = 9.0
    assert frozen.weight.data[0, 0] == 9.0  # shared, as PyTorch's
    assert not frozen(Tensor([0.0])).requires_grad  # frozen: its lookups need no graph
    trained = Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    trained(Tensor([0.0, 1.0, 1.0])).sum().backward()
    assert np.array_equal(trained.weight.grad, [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])


def test_frozen_embedding_in_a_model_is_saved_and_skipped_by_the_optimizer() -> None:
    model = mg.Sequential(Embedding.from_pretrained(Tensor(np.eye(3))), mg.Linear(3, 1, seed=0))
    assert list(model.state_dict()) == ["0.weight", "1.weight", "1.bias"]
    optimizer = mg.SGD(model.parameters(), lr=0.1)
    model(Tensor([0.0, 2.0])).sum().backward()
    optimizer.step()
    assert model[0].weight.grad is None and np.array_equal(model[0].weight.data, np.eye(3))


# --- one_hot -------------------------------------------------------------------------------------


@given(
    labels=st.lists(st.integers(0, 5), max_size=6).map(np.array),
    extra=st.one_of(st.none(), st.integers(0, 3)),
    rows=st.sampled_from([None, 2]),
)
def test_one_hot_matches_torch_as_an_int64_tensor(
    labels: np.ndarray, extra: int | None, rows: int | None
) -> None:
    torch = require_torch()
    if rows and labels.size % rows == 0:
        labels = labels.reshape(rows, -1)
    if extra is None and labels.size == 0:
        return  # torch cannot infer the classes either (see the next test)
    classes = -1 if extra is None else int(labels.max(initial=0)) + 1 + extra
    ours = F.one_hot(Tensor(labels.astype(float)), classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(labels, dtype=torch.int64), classes)
    assert ours.dtype == np.int64 and not ours.requires_grad
    assert np.array_equal(ours.data, theirs.numpy()) and ours.shape == tuple(theirs.shape)
    assert np.array_equal(F.one_hot(labels, classes).data, ours.data)  # an int array alike


def test_one_hot_refuses_what_it_cannot_encode() -> None:
    with pytest.raises(ValueError, match=r"in \[0, 2\] \(for num_classes=3\), got \[3\]"):
        F.one_hot([0, 3], 3)
    with pytest.raises(ValueError, match=r"0 or more, got \[-1\]"):
        F.one_hot([0, -1])
    with pytest.raises(ValueError, match=r"got \[0.5\]"):
        F.one_hot(Tensor([0.5]))
    with pytest.raises(ValueError, match=r"0 or more, got \[1.e\+19\]; an index is an int64, below 2\*\*63"):
        F.one_hot(Tensor([1e19]))  # (it cast to garbage and gave an empty Tensor)
    with pytest.raises(
        ValueError, match="cannot infer the number of classes from no labels; give num_classes"
    ):
        F.one_hot(np.array([], dtype=int))
    assert F.one_hot(np.array([], dtype=int), 3).shape == (0, 3)
    for classes in (-2, 0):  # (PyTorch refuses 0 classes too, with or without labels)
        with pytest.raises(
            ValueError, match=rf"num_classes \(-1 to infer it\) must be a positive int, got {classes}"
        ):
            F.one_hot(np.array([], dtype=int), classes)
    with pytest.raises(ValueError, match="num_classes .* must be a positive int, got 2.0"):
        F.one_hot([0], 2.0)
