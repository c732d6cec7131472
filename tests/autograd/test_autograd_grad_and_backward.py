"""`mg.autograd` as a namespace: there right after `import micrograd_plus`, with torch's
`grad` and `backward` (their signatures, several outputs, grad_tensors, inputs=) against
`torch.autograd` in float64, and the checks and modes torch.autograd also offers."""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from conftest import close_to_torch, require_torch
from hypothesis import given
from hypothesis import strategies as st

import micrograd_plus as mg
from micrograd_plus import Tensor, Value

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

pairs = hnp.array_shapes(min_dims=0, max_dims=2, max_side=4).flatmap(
    lambda shape: st.tuples(*(hnp.arrays("float64", shape, elements=st.floats(-2, 2)) for _ in range(3)))
)


def test_the_namespace_is_there_after_import_and_a_star_import_binds_no_submodule() -> None:
    assert mg.autograd.functional.jacobian is not None and mg.autograd.Function is not None
    assert mg.autograd.gradcheck is mg.gradcheck and mg.autograd.gradgradcheck is mg.gradgradcheck
    assert mg.autograd.no_grad is mg.no_grad and mg.autograd.detect_anomaly is mg.detect_anomaly
    assert "autograd" not in mg.__all__
    namespace: dict[str, Any] = {}
    exec("from micrograd_plus import *", namespace)  # noqa: S102 - our own fixed text
    assert "autograd" not in namespace and "Tensor" in namespace


def grads_of(lib: ModuleType, arrays: tuple[np.ndarray, ...], **options: Any) -> list[Any]:
    """autograd.grad of two outputs sharing x and y, with torch's keyword arguments."""
    x, y, w = (lib.tensor(a, requires_grad=i < 2) for i, a in enumerate(arrays))
    first = (x * y.sin() * w).sum()
    second = (x.exp() * y).sum()
    found = lib.autograd.grad([first, second], [x, y], retain_graph=True, **options)
    return [g.detach().numpy() for g in found]


@given(pairs)
def test_grad_with_torch_s_keywords_matches_torch(arrays: tuple[np.ndarray, ...]) -> None:
    torch = require_torch()
    for options in ({}, {"grad_outputs": [None, None]}, {"create_graph": True}):
        ours, theirs = grads_of(mg, arrays, **options), grads_of(torch, arrays, **options)
        assert all(close_to_torch(a, b) for a, b in zip(ours, theirs))


@given(pairs)
def test_grad_with_create_graph_gives_second_derivatives_as_torch(arrays: tuple[np.ndarray, ...]) -> None:
    torch = require_torch()

    def second(lib: ModuleType) -> Any:
        x, y, w = (lib.tensor(a, requires_grad=True) for a in arrays)
        (gx,) = lib.autograd.grad((x.sin() * y * x).sum(), x, create_graph=True)
        return [g.detach().numpy() for g in lib.autograd.grad((gx * w).sum(), [x, y, w])]

    assert all(close_to_torch(a, b) for a, b in zip(second(mg), second(torch)))


@given(pairs)
def test_grad_and_backward_match_finite_differences(arrays: tuple[np.ndarray, ...]) -> None:
    x, y, w = (Tensor(a, requires_grad=True) for a in arrays)

    def f(x: Tensor, y: Tensor) -> Tensor:
        return (x * y.sin() * w).sum() + (x.exp() * y).sum()

    numerical = mg.numerical_grad(f, [Tensor(arrays[0]), Tensor(arrays[1])])
    found = mg.autograd.grad(f(x, y), [x, y])
    assert all(np.allclose(g.data, n, atol=1e-5) for g, n in zip(found, numerical))
    mg.autograd.backward([(x * y.sin() * w).sum(), (x.exp() * y).sum()], inputs=[x, y])
    assert all(np.allclose(t.grad, n, atol=1e-5) for t, n in zip((x, y), numerical)) and w.grad is None


def test_materialize_grads_gives_zeros_for_an_unused_input_as_torch() -> None:
    torch = require_torch()

    def found(lib: ModuleType, **options: Any) -> Any:
        x, unused = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
        return lib.autograd.grad((x * x).sum(), [x, unused], **options)

    ours, theirs = found(mg, materialize_grads=True), found(torch, materialize_grads=True)
    assert all(close_to_torch(a.data, b.numpy()) for a, b in zip(ours, theirs))
    assert found(mg, allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        found(mg)
    with pytest.raises(ValueError, match="allow_unused=False"):
        found(mg, materialize_grads=True, allow_unused=False)
    with pytest.raises(ValueError, match="is_grads_batched=True"):
        found(mg, is_grads_batched=True)


def backward_of(lib: ModuleType, arrays: tuple[np.ndarray, ...], inputs: bool) -> list[Any]:
    """backward from two outputs at once, one with a given gradient, into all leaves or only x."""
    x, y, w = (lib.tensor(a, requires_grad=True) for a in arrays)
    first = (x * y).sum()
    second = x.exp() * w
    lib.autograd.backward(
        [first, second], [None, lib.tensor(np.ones(second.shape) * 0.5)], inputs=[x] if inputs else None
    )
    return [None if t.grad is None else np.asarray(t.grad) for t in (x, y, w)]


@pytest.mark.parametrize("inputs", [False, True])
@given(pairs)
def test_backward_from_several_outputs_matches_torch(inputs: bool, arrays: tuple[np.ndarray, ...]) -> None:
    torch = require_torch()
    ours, theirs = backward_of(mg, arrays, inputs), backward_of(torch, arrays, inputs)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None) and (a is None or close_to_torch(a, b))


def test_backward_of_one_output_is_its_backward_and_works_on_values() -> None:
    x = Tensor([1.0, -2.0], requires_grad=True)
    mg.autograd.backward(x * x, np.array([1.0, 3.0]))
    assert np.array_equal(x.grad, [2.0, -12.0])
    mg.autograd.backward([(x * x).sum()])
    assert np.array_equal(x.grad, [4.0, -16.0])  # added, as backward() adds
    a, b = Value(2.0), Value(3.0)
    mg.autograd.backward([a * b, a + b])
    assert (a.grad, b.grad) == (4.0, 3.0)


def test_backward_refuses_what_it_cannot_do_and_says_what_to_use() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(ValueError, match=r"create_graph=True.*mg.autograd.grad"):
        mg.autograd.backward(y.sum(), create_graph=True)
    with pytest.raises(ValueError, match="grad_tensors has 1 entries for 2 tensors"):
        mg.autograd.backward([y.sum(), y.sum()], [None])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        mg.autograd.backward([y.sum(), y])
    with pytest.raises(RuntimeError, match=r"shape \(2,\): backward\(gradient=\.\.\.\), or grad_outputs="):
        mg.autograd.grad(y, x)  # the way to give the gradient is named for grad() too
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.autograd.backward([y.sum(), Tensor(1.0)])
    with pytest.raises(TypeError, match="tensors must be a Value or Tensor"):
        mg.autograd.backward([])


def test_materialize_grads_on_values_gives_a_zero_value() -> None:
    a, b = Value(2.0), Value(3.0)
    found = mg.autograd.grad(a * a, [a, b], materialize_grads=True)
    assert [type(g) for g in found] == [Value, Value] and [g.data for g in found] == [4.0, 0.0]


def test_inputs_given_as_a_generator_are_read_once() -> None:
    torch = require_torch()

    def found(lib: ModuleType, **options: Any) -> Any:
        x, w = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
        return lib.autograd.grad((x * x).sum(), (t for t in [x, w]), **options)

    for options in ({"materialize_grads": True}, {"allow_unused": True}):
        ours, theirs = found(mg, **options), found(torch, **options)
        assert len(ours) == len(theirs) == 2
        for a, b in zip(ours, theirs):
            assert (a is None) == (b is None) and (a is None or close_to_torch(a.data, b.numpy()))


def test_materialized_zeros_require_grad_under_create_graph_as_torch() -> None:
    torch = require_torch()

    def found(lib: ModuleType, create_graph: bool) -> list[bool]:
        x, w = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
        grads = lib.autograd.grad((x * x).sum(), [x, w], materialize_grads=True, create_graph=create_graph)
        return [g.requires_grad for g in grads]

    for create_graph in (False, True):
        assert found(mg, create_graph) == found(torch, create_graph)


def error_of(call: Any) -> str:
    with pytest.raises(RuntimeError) as caught:
        call()
    return str(caught.value)


def index_errors(lib: ModuleType) -> list[str]:
    """The errors of an output that does not require grad (the second of two), an unused input
    (the first of two) and an input that does not require grad."""
    x, w, c = (lib.tensor([1.0, 2.0], requires_grad=i < 2) for i in range(3))
    return [
        error_of(lambda: lib.autograd.backward([(x * x).sum(), lib.tensor(1.0)])),
        error_of(lambda: lib.autograd.grad([(x * x).sum(), c.sum()], [x])),
        error_of(lambda: lib.autograd.grad((x * x).sum(), [w, x])),
        error_of(lambda: lib.autograd.grad((x * c).sum(), [x, c], allow_unused=True)),
    ]


def test_errors_name_the_output_or_input_by_its_index_as_torch() -> None:
    torch = require_torch()
    expected = [
        "element 1 of tensors does not require grad",
        "element 1 of tensors does not require grad",
        "at index 0",
        "One of the differentiated Tensors does not require grad",
    ]
    for errors in (index_errors(mg), index_errors(torch)):
        assert all(text in error for text, error in zip(expected, errors))
    a, b = Value(2.0), Value(3.0)
    assert "the input at index 1 (a Value)" in error_of(lambda: mg.grad(a * a, [a, b]))


def backward_to_inputs(lib: ModuleType) -> list[Any]:
    """backward(inputs=[a]) with retained intermediates on the way to a, above it, and elsewhere."""
    a, b = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([0.5, -1.0], requires_grad=True)
    y, u = a * a, b * b
    above = y * 2
    for t in (y, u, above):
        t.retain_grad()
    lib.autograd.backward((above * 3).sum() + (u * u).sum(), inputs=[a])
    return [None if t.grad is None else np.asarray(t.grad) for t in (a, b, y, u, above)]


def test_backward_to_inputs_fills_the_retained_intermediates_on_the_way_only_as_torch() -> None:
    torch = require_torch()
    ours, theirs = backward_to_inputs(mg), backward_to_inputs(torch)
    assert [g is None for g in theirs] == [False, True, False, True, False]
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None) and (a is None or close_to_torch(a, b))


def test_a_gradient_of_the_wrong_shape_names_its_output() -> None:
    ours = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"grad_tensors\[1\] for tensors\[1\]: gradient has shape \(3,\)"):
        mg.autograd.backward([ours * 2, ours.sum()], [mg.ones(2), mg.ones(3)])
    assert ours.grad is None  # refused before any gradient was added
    with pytest.raises(TypeError, match=r"grad_tensors\[0\] for tensors\[0\]"):
        mg.autograd.backward([mg.Value(2.0) * 3], ["one"])


@pytest.mark.usefixtures("each_engine")
@given(data=hnp.arrays(np.float64, st.integers(1, 4), elements=st.floats(-3, 3)))
def test_a_nodes_own_backward_takes_torchs_options(data: np.ndarray) -> None:
    """`loss.backward(retain_graph=True)` twice adds twice, as PyTorch's (the graph is always
    kept here); `create_graph=True` is refused naming grad(); an unknown option names the method."""
    torch = require_torch()
    x = Tensor(data, requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward(None, False)  # PyTorch's positions: gradient, retain_graph
    tx = torch.tensor(data, requires_grad=True)
    theirs = (tx * tx).sum()
    theirs.backward(retain_graph=True)
    theirs.backward()
    assert close_to_torch(x.grad, tx.grad.numpy())
    v = mg.Value(float(data[0]))
    square = v * v
    square.backward(retain_graph=True)
    assert v.grad == 2 * float(data[0])
    for node in (loss, square):
        with pytest.raises(ValueError, match=r"backward\(create_graph=True\).*mg.autograd.grad"):
            node.backward(create_graph=True)
    with pytest.raises(TypeError, match=r"Value\.backward\(\) got an unexpected keyword argument 'inputs'"):
        square.backward(inputs=[v])


# -- Tensor.backward(inputs=...) -----------------------------------------------------------------


def backward_with_inputs(lib: ModuleType, arrays: tuple[np.ndarray, ...], choice: str) -> list[Any]:
    """loss.backward(inputs=...) twice (so leaves and intermediates add up), into a leaf, a list
    of leaves, an intermediate, a generator, or an input the loss does not reach; a retained
    intermediate on the way and one elsewhere; then a plain loss.backward() (an intermediate
    input stays retained: it adds up there too); then every .grad (None where none)."""
    x, y, w = (lib.tensor(a, requires_grad=True) for a in arrays)
    h = x * y.sin()
    on_the_way, elsewhere = h * 2, w.exp()
    on_the_way.retain_grad()
    elsewhere.retain_grad()
    loss = (on_the_way * w).sum() + elsewhere.sum()
    unreached = lib.tensor(arrays[0], requires_grad=True)
    inputs = {
        "leaf": x,
        "leaves": [x, w],
        "intermediate": [h],
        "generator": (t for t in (y, h)),
        "unreached": [unreached, y],
    }[choice]
    for _ in range(2):
        if choice == "generator":
            inputs = (t for t in (y, h))
        loss.backward(inputs=inputs, retain_graph=True)
    loss.backward()
    with warnings.catch_warnings():  # (torch's, on reading .grad of an intermediate it did not fill)
        warnings.simplefilter("ignore", UserWarning)
        found = [t.grad for t in (x, y, w, h, on_the_way, elsewhere, unreached)]
    return [None if g is None else np.array(g.numpy() if hasattr(g, "numpy") else g) for g in found]


@pytest.mark.parametrize("choice", ["leaf", "leaves", "intermediate", "generator", "unreached"])
@given(pairs)
def test_tensor_backward_with_inputs_adds_up_only_theirs_as_torch(
    choice: str, arrays: tuple[np.ndarray, ...]
) -> None:
    torch = require_torch()
    ours, theirs = backward_with_inputs(mg, arrays, choice), backward_with_inputs(torch, arrays, choice)
    assert [g is None for g in ours] == [g is None for g in theirs]
    assert all(a is None or close_to_torch(a, b) for a, b in zip(ours, theirs))


@given(hnp.arrays(np.float64, st.integers(1, 4), elements=st.floats(-3, 3)))
def test_tensor_backward_with_inputs_and_a_gradient_matches_finite_differences(data: np.ndarray) -> None:
    x, w = Tensor(data, requires_grad=True), Tensor(data[::-1].copy(), requires_grad=True)
    (x * w).tanh().backward(np.ones_like(data) * 0.5, inputs=x)
    numerical = mg.numerical_grad(lambda x: ((x * w).tanh() * 0.5).sum(), [Tensor(data)])
    assert np.allclose(x.grad, numerical[0], atol=1e-5) and w.grad is None


def test_tensor_backward_with_inputs_runs_only_the_hooks_on_the_way_as_torch() -> None:
    torch = require_torch()

    def hooks_run(lib: ModuleType) -> list[str]:
        ran: list[str] = []
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        h = w * 2
        w.register_hook(lambda g: ran.append("w"))
        h.register_hook(lambda g: ran.append("h"))
        (h * 3).sum().backward(inputs=[h])
        return ran

    assert hooks_run(mg) == hooks_run(torch) == ["h"]


def test_tensor_backward_refuses_inputs_as_torch_does() -> None:
    torch = require_torch()

    def error(lib: ModuleType, inputs: Any) -> str:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            (x * x).sum().backward(inputs=inputs(lib))
        assert x.grad is None  # refused before any gradient was added
        return str(info.value)

    for inputs, words in (
        (lambda lib: [], "`inputs` argument to `backward()` cannot be empty"),
        (lambda lib: (), "`inputs` argument to `backward()` cannot be empty"),
        (lambda lib: [1.0], "all inputs have to be Tensors or GradientEdges, but got float"),
        (lambda lib: lib.tensor(1.0), "can't retain_grad on Tensor that has requires_grad=False"),
    ):
        assert error(mg, inputs).startswith(words) and error(torch, inputs).startswith(words)
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"backward\(create_graph=True\).*mg.autograd.grad"):
        (x * x).sum().backward(create_graph=True, inputs=[x])


def test_autograd_backward_takes_an_intermediate_input_as_torch() -> None:
    torch = require_torch()

    def grads(lib: ModuleType) -> list[Any]:
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = x * x
        for _ in range(2):
            lib.autograd.backward((y.exp() * 3).sum(), inputs=[y], retain_graph=True)
        return [x.grad, np.array(y.grad.numpy() if hasattr(y.grad, "numpy") else y.grad)]

    ours, theirs = grads(mg), grads(torch)
    assert ours[0] is None and theirs[0] is None and close_to_torch(ours[1], theirs[1])
