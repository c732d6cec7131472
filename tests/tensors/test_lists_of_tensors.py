"""A Tensor or a Value inside a Python list or tuple that is about to become constant data is a
TypeError (as PyTorch's `w * [a, b]`), never a constant that silently gives its Tensors no
gradient (issue 13). Lists of plain numbers keep working everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import (
    Linear,
    Tensor,
    Value,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    concat,
    cross_entropy,
    grad,
    hinge_loss,
    mse_loss,
    stack,
)
from micrograd_plus.nn import functional as F


def leaves() -> tuple[Tensor, Tensor]:
    return Tensor(1.0, requires_grad=True), Tensor(2.0, requires_grad=True)


def test_the_issue_example_raises_instead_of_dropping_the_gradients() -> None:
    a, b = leaves()
    w = Tensor([1.0, 1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"stack\(\[a, b\]\)") as error:
        (w * [a, b]).sum().backward()
    assert "no gradient" in str(error.value)
    assert a.grad is None and b.grad is None
    # What the message says to do gives both their gradients.
    (w * stack([a, b])).sum().backward()
    assert a.grad == 1.0 and b.grad == 1.0


def test_stack_and_concat_of_a_nested_list_of_tensors_raise() -> None:
    a, b = leaves()
    with pytest.raises(TypeError, match="stack"):
        stack([[a, b]])
    with pytest.raises(TypeError, match="concat"):
        concat([a.reshape(1), [a, b]])


def test_an_object_array_of_tensors_is_refused_too_even_with_a_dtype() -> None:
    a, b = leaves()
    objects = np.array([a, b], dtype=object)
    for make in (
        lambda: Tensor(objects, dtype=np.float64),
        lambda: Tensor([objects]),
        lambda: Tensor([1.0, 2.0]) * objects,
    ):
        with pytest.raises(TypeError, match=r"(ndarray|list) holds a Tensor.*no gradient.*stack\(\[a, b\]\)"):
            make()


def test_a_list_that_holds_itself_is_refused_by_numpy_not_looped_over_forever() -> None:
    loop: list[Any] = [1.0]
    loop.append(loop)
    with pytest.raises((TypeError, ValueError, RecursionError)):
        Tensor([1.0, 2.0]) * loop
    shared = [1.0, 2.0]
    assert Tensor([shared] * 3).shape == (3, 2)  # a row used many times is fine


# Every place an operand list is turned into an array: (name, call with the list, a list of
# plain numbers that this call takes).
PLAIN = [1.0, 0.0]
USES: list[tuple[str, Callable[[Tensor, Any], Any], list[float]]] = [
    ("+", lambda w, xs: w + xs, PLAIN),
    ("radd", lambda w, xs: xs + w, PLAIN),
    ("-", lambda w, xs: w - xs, PLAIN),
    ("rsub", lambda w, xs: xs - w, PLAIN),
    ("*", lambda w, xs: w * xs, PLAIN),
    ("rmul", lambda w, xs: xs * w, PLAIN),
    ("/", lambda w, xs: w / xs, PLAIN),
    ("rdiv", lambda w, xs: xs / w, PLAIN),
    ("**", lambda w, xs: w**xs, PLAIN),
    ("rpow", lambda w, xs: xs**w, PLAIN),
    ("@", lambda w, xs: w @ xs, PLAIN),
    ("rmatmul", lambda w, xs: xs @ w, PLAIN),
    ("matmul", lambda w, xs: w.matmul(xs), PLAIN),
    ("<", lambda w, xs: w < xs, PLAIN),
    ("<=", lambda w, xs: w <= xs, PLAIN),
    (">", lambda w, xs: w > xs, PLAIN),
    (">=", lambda w, xs: w >= xs, PLAIN),
    ("Tensor()", lambda w, xs: Tensor(xs), PLAIN),
    ("Tensor(float64)", lambda w, xs: Tensor(xs, dtype="float64"), PLAIN),
    ("Tensor(float32)", lambda w, xs: Tensor(xs, dtype=np.float32), PLAIN),
    ("stack", lambda w, xs: stack([w, xs]), PLAIN),
    ("concat", lambda w, xs: concat([w, xs]), PLAIN),
    (
        "apply",
        lambda w, xs: Tensor.apply(F._op("add", np.add, lambda g, o, a, b: (g, g.copy())), w, xs),
        PLAIN,
    ),
    ("index", lambda w, xs: w[xs], [1, 0]),
    ("index tuple", lambda w, xs: w[(xs,)], [1, 0]),
    ("backward gradient", lambda w, xs: (w * 2).backward(xs), PLAIN),
    ("grad_outputs", lambda w, xs: grad([w * 2], [w], grad_outputs=[xs], create_graph=True), PLAIN),
    ("linear input", lambda w, xs: F.linear(xs, Tensor([[1.0, 2.0]])), PLAIN),
    ("linear weight", lambda w, xs: F.linear(w, [xs]), PLAIN),
    ("Linear layer", lambda w, xs: Linear(2, 1, seed=0)(xs), PLAIN),
    ("mse_loss", lambda w, xs: mse_loss(w, xs), PLAIN),
    ("bce", lambda w, xs: binary_cross_entropy(w.sigmoid(), xs), PLAIN),
    ("bce_with_logits", lambda w, xs: binary_cross_entropy_with_logits(w, xs), PLAIN),
    ("hinge_loss", lambda w, xs: hinge_loss(w, xs), [1.0, -1.0]),
    ("cross_entropy targets", lambda w, xs: cross_entropy(w.reshape(1, 2), [xs]), PLAIN),
]
IDS = [name for name, _, _ in USES]
INDEX = USES[IDS.index("index")][1]


@pytest.mark.parametrize(("use", "plain"), [u[1:] for u in USES], ids=IDS)
@pytest.mark.parametrize("holder", [list, tuple], ids=["list", "tuple"])
def test_every_operand_conversion_refuses_a_tensor_or_value_in_a_list(
    use: Any, plain: list[float], holder: type
) -> None:
    a, _ = leaves()
    w = Tensor([1.0, 0.0], requires_grad=True)
    for inside in (a, Value(1.0), Tensor(1.0)):  # (a constant Tensor too: PyTorch refuses it as well)
        message = f"{type(inside).__name__}.*no gradient"
        if use is INDEX and holder is tuple:  # t[(a, 0)] indexes two axes, one of them with a node
            if type(inside) is Tensor and not inside.requires_grad:
                continue  # a constant Tensor of whole numbers is an index (PyTorch's int64 labels)
            message = f"cannot index with a {type(inside).__name__}"
        with pytest.raises(TypeError, match=message):
            use(w, holder([inside, plain[1]]))
    assert a.grad is None and w.grad is None


@pytest.mark.parametrize(("use", "plain"), [u[1:] for u in USES], ids=IDS)
def test_lists_of_plain_numbers_keep_working_everywhere(use: Any, plain: list[float]) -> None:
    w = Tensor([1.0, 0.0], requires_grad=True)
    use(w, plain)  # (no error: the operand is a constant, as it should be)
    if use is not INDEX:  # (t[(1, 0)] is numpy's index of two axes)
        use(w, tuple(plain))
    use(w, list(np.array(plain)))  # numpy scalars (float64 or int64)


@st.composite
def nested_lists_with_a_node(draw: st.DrawFn) -> tuple[Any, Any]:
    """A rectangular nested list (or tuple) of numbers of a random shape, with one element
    replaced by a 0-d Tensor or a Value at a random position."""
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    size = int(np.prod(shape))
    numbers = draw(st.lists(st.floats(-5, 5) | st.integers(-5, 5), min_size=size, max_size=size))
    position = draw(st.integers(0, size - 1))
    node = draw(st.sampled_from([Tensor(1.0, requires_grad=True), Tensor(1.0), Value(1.0)]))
    holders = draw(st.lists(st.sampled_from([list, tuple]), min_size=len(shape), max_size=len(shape)))
    flat: list[Any] = list(numbers)
    flat[position] = node

    def build(items: list[Any], dims: list[int], depth: int) -> Any:
        if len(dims) == 1:
            return holders[depth](items)
        step = len(items) // dims[0]
        return holders[depth](
            build(items[i * step : (i + 1) * step], dims[1:], depth + 1) for i in range(dims[0])
        )

    return build(flat, shape, 0), build(list(numbers), shape, 0)


@given(nested_lists_with_a_node(), st.sampled_from(["Tensor", "*", "+", "stack", "<"]))
def test_a_node_hidden_anywhere_in_nested_lists_is_a_type_error(lists: tuple[Any, Any], use: str) -> None:
    with_node, plain = lists
    w = Tensor(np.ones(np.shape(plain)), requires_grad=True)
    calls: dict[str, Callable[[Any], Any]] = {
        "Tensor": Tensor,
        "*": lambda xs: w * xs,
        "+": lambda xs: xs + w,
        "stack": lambda xs: stack([w, xs]),
        "<": lambda xs: w < xs,
    }
    with pytest.raises(TypeError, match="no gradient"):
        calls[use](with_node)
    assert w.grad is None
    calls[use](plain)  # the same list of plain numbers works
