"""tril, triu, diag, outer, bmm and einsum: values and gradients against PyTorch float64 for
many shapes, finite differences and second derivatives, and errors that name the shapes."""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pytest
from conftest import require_torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_parity import arrays, assert_matches_torch, finite

import micrograd_plus as mg
from micrograd_plus import Tensor

LETTERS = string.ascii_uppercase + string.ascii_lowercase
special = st.one_of(finite, st.sampled_from([np.inf, -np.inf, np.nan]))
matrices = hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4)


@given(x=arrays(matrices, special), diagonal=st.integers(-5, 5), name=st.sampled_from(["tril", "triu"]))
def test_tril_and_triu_are_torchs_for_batches_offsets_and_infinities(
    x: np.ndarray, diagonal: int, name: str
) -> None:
    assert_matches_torch(lambda t: getattr(t, name)(diagonal), lambda t: getattr(t, name)(diagonal), x)
    assert_matches_torch(
        lambda t: getattr(mg, name)(t, diagonal=diagonal), lambda t: getattr(t, name)(diagonal=diagonal), x
    )


@given(x=arrays(matrices), diagonal=st.integers(-3, 3), name=st.sampled_from(["tril", "triu"]))
def test_tril_and_triu_have_the_finite_differences_and_second_derivatives(
    x: np.ndarray, diagonal: int, name: str
) -> None:
    f = lambda t: getattr(t, name)(diagonal) * t  # noqa: E731
    assert mg.gradcheck(f, [Tensor(x, requires_grad=True)])
    assert mg.gradgradcheck(f, [Tensor(x, requires_grad=True)])


def test_offsets_beyond_the_matrix_keep_all_or_nothing_whatever_their_size() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert x.tril(10**30).tolist() == x.tolist() and not x.tril(-(10**30)).data.any()
    assert x.triu(-(2**63)).tolist() == x.tolist() and not x.triu(10**400).data.any()
    assert x.diag(10**400).shape == (0,) and x.diag(-(10**30)).shape == (0,)
    with pytest.raises(
        ValueError, match=r"diag\(\): a vector of length 3 on diagonal -1000000000 makes a matrix too large"
    ):
        Tensor([1.0, 2.0, 3.0]).diag(-(10**9))


def test_a_causal_mask_from_tril() -> None:
    mask = mg.ones(3, 3).tril()
    assert mask.tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert mg.ones(2, 3).triu(1).tolist() == [[0, 1, 1], [0, 0, 1]]


@given(
    x=arrays(hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=5), special),
    diagonal=st.integers(-6, 6),
)
def test_diag_makes_a_matrix_of_a_vector_and_takes_the_diagonal_of_a_matrix_as_torch(
    x: np.ndarray, diagonal: int
) -> None:
    assert_matches_torch(lambda t: t.diag(diagonal), lambda t: t.diag(diagonal), x)
    assert_matches_torch(lambda t: mg.diag(t, diagonal), lambda t: t.diag(diagonal), x)
    f = lambda t: t.diag(diagonal) * t.diag(diagonal)  # noqa: E731
    assert mg.gradgradcheck(f, [Tensor(np.nan_to_num(x, posinf=2.0, neginf=-2.0), requires_grad=True)])


@given(a=arrays(hnp.array_shapes(min_dims=1, max_dims=1, min_side=0, max_side=5)), data=st.data())
def test_outer_is_torchs(a: np.ndarray, data: st.DataObject) -> None:
    b = data.draw(arrays(hnp.array_shapes(min_dims=1, max_dims=1, min_side=0, max_side=5)))
    assert_matches_torch(lambda x, y: x.outer(y), lambda x, y: x.outer(y), a, b)
    assert_matches_torch(lambda x, y: mg.outer(x, y), lambda x, y: x.outer(y), a, b)
    assert mg.gradgradcheck(
        lambda x, y: mg.outer(x, y) ** 2, [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)]
    )


@given(sizes=st.tuples(*[st.integers(0, 4)] * 4), data=st.data())
def test_bmm_is_torchs(sizes: tuple[int, int, int, int], data: st.DataObject) -> None:
    batch, n, m, p = sizes
    a = data.draw(arrays(st.just((batch, n, m))))
    b = data.draw(arrays(st.just((batch, m, p))))
    assert_matches_torch(lambda x, y: x.bmm(y), lambda x, y: x.bmm(y), a, b)
    assert_matches_torch(lambda x, y: mg.bmm(x, y), lambda x, y: x.bmm(y), a, b)
    assert mg.gradgradcheck(
        lambda x, y: mg.bmm(x, y) ** 2, [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)]
    )


# (equation, shapes of the operands): matrix products, batches, traces and diagonals, transposes,
# sums, broadcasting of a size 1, `...`, implicit outputs, three operands, 0-d and empty operands.
EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("iij,jk->ik", [(2, 2, 3), (3, 1)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i", [(3,), (3,)]),
    ("ab,cd->", [(2, 3), (4, 5)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("ij,j->i", [(2, 1), (3,)]),
    ("ii,i->i", [(1, 1), (3,)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("...ij,...jk", [(5, 1, 2, 3), (4, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 3), (4, 3, 2)]),
    ("i...->...", [(5, 1, 2)]),
    ("i...i->...", [(3, 2, 3)]),
    ("...", [(2, 3)]),
    ("ba", [(2, 3)]),
    ("Ba", [(2, 3)]),
    ("bB", [(2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij,jk,ki", [(2, 3), (3, 4), (4, 2)]),
    (",i->i", [(), (3,)]),
    ("->", [()]),
    ("i->", [(0,)]),
    ("ij,jk", [(2, 0), (0, 3)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize(("equation", "shapes"), EQUATIONS, ids=[e for e, _ in EQUATIONS])
@given(data=st.data())
def test_einsum_gives_torchs_values_and_gradients(
    equation: str, shapes: list[Any], data: st.DataObject
) -> None:
    operands = [data.draw(arrays(st.just(shape))) for shape in shapes]
    assert_matches_torch(
        lambda *xs: mg.einsum(equation, *xs), lambda *ts: require_torch().einsum(equation, *ts), *operands
    )


@pytest.mark.parametrize(("equation", "shapes"), EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_has_the_finite_differences_and_second_derivatives(equation: str, shapes: list[Any]) -> None:
    """The gradient is einsum again (on Tensors under create_graph), so second derivatives hold."""
    rng = np.random.default_rng(len(equation))
    operands = [rng.standard_normal(shape) for shape in shapes]
    squared = lambda *xs: mg.einsum(equation, *xs) ** 2  # noqa: E731
    assert mg.gradcheck(squared, [Tensor(a, requires_grad=True) for a in operands])
    assert mg.gradgradcheck(squared, [Tensor(a, requires_grad=True) for a in operands])


def test_einsum_takes_the_operands_as_a_list_and_constants_get_no_gradient() -> None:
    torch = require_torch()
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    x = Tensor(a, requires_grad=True)
    out = mg.einsum("ij,jk", [x, Tensor(b)])
    assert np.array_equal(out.data, torch.einsum("ij,jk", [torch.tensor(a), torch.tensor(b)]).numpy())
    out.sum().backward()
    assert np.array_equal(x.grad, np.ones((2, 4)) @ b.T)
    assert out.grad_fn.name() == "einsum" and mg.einsum("ij->", Tensor(a)).requires_grad is False


def test_einsum_spells_the_common_operations() -> None:
    rng = np.random.default_rng(2)
    a, b, v = (
        Tensor(rng.standard_normal((3, 3))),
        Tensor(rng.standard_normal((3, 4))),
        Tensor(rng.standard_normal(3)),
    )
    batch = Tensor(rng.standard_normal((2, 3, 3)))
    assert mg.allclose(mg.einsum("ij,jk->ik", a, b), a @ b, rtol=1e-13, atol=1e-13)
    assert mg.allclose(mg.einsum("bij,bjk->bik", batch, batch), mg.bmm(batch, batch), rtol=1e-13, atol=1e-13)
    assert mg.allclose(mg.einsum("ii", a), a.diag().sum(), rtol=1e-13, atol=1e-13)
    assert mg.allclose(mg.einsum("i,j->ij", v, v), mg.outer(v, v), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("equation", "shapes", "message"),
    [
        ("ij,jk", [(3, 3)], r"einsum\('ij,jk'\): the equation names 2 operand\(s\) but 1 were given"),
        ("ij", [(3, 3), (3,)], r"the equation names 1 operand\(s\) but 2 were given"),
        (
            "ij",
            [(3, 3, 3)],
            r"operand 0 has 3 dimensions \(shape \(3, 3, 3\)\) but its subscripts 'ij' name 2",
        ),
        ("i", [()], r"operand 0 has 0 dimensions \(shape \(\)\) but its subscripts 'i' name 1"),
        (
            "ij...k",
            [(2, 3)],
            r"operand 0 has 2 dimensions \(shape \(2, 3\)\) but its subscripts 'ij...k' name 3",
        ),
        ("ii->i", [(2, 3)], r"subscript 'i' repeats in operand 0 \(shape \(2, 3\)\) with sizes 2 and 3"),
        (
            "i,i",
            [(2,), (3,)],
            r"subscript 'i' has size 3 in operand 1 \(shape \(3,\)\) but 2 in an operand before",
        ),
        (
            "...i,...i",
            [(2, 3, 4), (5, 3, 4)],
            r"einsum\('...i,...i'\): '...' \(its dim 2 counted from the right\) has size 5 in operand 1",
        ),
        ("ij->ii", [(3, 3)], r"output subscript 'i' appears more than once"),
        ("ij->k", [(3, 3)], r"output subscript 'k' does not appear in any operand's subscripts"),
        ("i1", [(3, 3)], r"einsum\('i1'\): '1' at index 1 is not a subscript; subscripts are letters"),
        ("ij->j->i", [(3, 3)], r"'-' and '>' may appear only once, together, as '->'"),
        ("i>j", [(3, 3)], r"'-' and '>' may appear only once"),
        ("ij->i,j", [(3, 3)], r"the output \(after '->'\) is one term, without commas"),
        ("i.j", [(3, 3)], r"the term 'i.j' has a '.' that is not part of one '...'"),
        ("...i...", [(3, 3)], r"the term '...i...' has a '.' that is not part of one '...'"),
        (
            LETTERS[:51] + "...",
            [(1,) * 53],
            r"too many subscripts: '...' stands for 2 dims and the gradient needs 0 more, beyond the 1 letters",
        ),
        (LETTERS + "aa", [(1,) * 54], r"the gradient needs 2 more, beyond the 0 letters"),
    ],
)
def test_a_bad_einsum_equation_says_what_is_wrong(equation: str, shapes: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mg.einsum(equation, *[mg.ones(s) for s in shapes])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: mg.einsum(3, mg.ones(2)),
            TypeError,
            r"einsum\(\): the equation must be a str such as 'ij,jk->ik', got 3",
        ),
        (lambda: mg.einsum("i", "abc"), TypeError, r"einsum\(\): cannot use a str as an input"),
        (
            lambda: mg.ones(3).tril(),
            ValueError,
            r"tril\(\): the Tensor must have at least 2 dimensions .* got shape \(3,\)",
        ),
        (lambda: mg.triu(mg.ones(())), ValueError, r"triu\(\): the Tensor must have at least 2 dimensions"),
        (lambda: mg.ones(2, 2).tril(0.5), TypeError, r"tril\(\): diagonal must be an int, got float: 0.5"),
        (
            lambda: mg.ones(2, 2, 2).diag(),
            ValueError,
            r"diag\(\): takes a vector .* or a matrix .* got shape \(2, 2, 2\)",
        ),
        (lambda: mg.diag(mg.ones(())), ValueError, r"diag\(\): takes a vector .* got shape \(\)"),
        (
            lambda: mg.outer(mg.ones(2, 2), mg.ones(3)),
            ValueError,
            r"outer\(\): input must be a vector \(1-D\), got shape \(2, 2\)",
        ),
        (
            lambda: mg.outer(mg.ones(2), mg.ones(())),
            ValueError,
            r"outer\(\): vec2 must be a vector \(1-D\), got shape \(\)",
        ),
        (
            lambda: mg.bmm(mg.ones(2, 3), mg.ones(2, 3, 4)),
            ValueError,
            r"bmm\(\): input must be a batch of matrices \(3-D\), got shape \(2, 3\)",
        ),
        (
            lambda: mg.bmm(mg.ones(2, 3, 4), mg.ones(4, 4)),
            ValueError,
            r"bmm\(\): mat2 must be a batch of matrices \(3-D\), got shape \(4, 4\)",
        ),
        (
            lambda: mg.bmm(mg.ones(2, 3, 4), mg.ones(1, 4, 4)),
            ValueError,
            r"bmm\(\): input holds 2 matrices and mat2 1 \(shapes \(2, 3, 4\) and \(1, 4, 4\)\)",
        ),
        (
            lambda: mg.bmm(mg.ones(2, 3, 4), mg.ones(2, 3, 4)),
            ValueError,
            r"bmm\(\): input's matrices are 3x4 and mat2's 3x4 .* the columns of the first must match the rows of the second",
        ),
    ],
)
def test_bad_arguments_say_what_is_wrong(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    ("equation", "shapes", "optimized"),
    [
        ("ij,jk->ik", [(64, 64), (64, 64)], True),  # big: in pairs, a BLAS product as `@`
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)], True),  # three operands: the order of the pairs
        ("ij,jk->ik", [(2, 3), (3, 4)], False),  # small: finding the pairs would cost more
    ],
)
def test_einsum_optimizes_three_operands_or_a_big_product_only(
    equation: str, shapes: list[Any], optimized: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    plain_einsum = np.einsum

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("optimize", False))
        return plain_einsum(*args, **kwargs)

    monkeypatch.setattr(np, "einsum", spy)
    rng = np.random.default_rng(0)
    mg.einsum(equation, *(Tensor(rng.standard_normal(shape)) for shape in shapes))
    assert seen == [optimized]
