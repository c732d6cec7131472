"""`mg.autograd.Function`, PyTorch's custom autograd function: each class is written once, as a
function of the library, so the same lines run as `torch.autograd.Function` and as ours, and
values, first and second derivatives must agree with torch float64 and finite differences."""

from __future__ import annotations

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
from micrograd_plus.testing import tensors

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines


# -- the classes, written once for both libraries (PyTorch's documentation examples) -------------


def exp_function(lib: ModuleType) -> Any:
    class Exp(lib.autograd.Function):  # torch.autograd.Function's docstring: saves its result
        @staticmethod
        def forward(ctx, i):  # type: ignore[no-untyped-def]
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):  # type: ignore[no-untyped-def]
            (result,) = ctx.saved_tensors
            return grad_output * result

    return Exp


def mul_constant_function(lib: ModuleType) -> Any:
    class MulConstant(lib.autograd.Function):  # "Extending PyTorch": a non-Tensor argument
        @staticmethod
        def forward(ctx, tensor, constant):  # type: ignore[no-untyped-def]
            ctx.constant = constant
            return tensor * constant

        @staticmethod
        def backward(ctx, grad_output):  # type: ignore[no-untyped-def]
            return grad_output * ctx.constant, None

    return MulConstant


def linear_function(lib: ModuleType) -> Any:
    class LinearFunction(lib.autograd.Function):  # "Extending PyTorch": needs_input_grad, an optional bias
        @staticmethod
        def forward(ctx, input, weight, bias=None):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(input, weight, bias)
            output = input @ weight.t()  # torch's docs: input.mm(weight.t()), and bias added in place
            if bias is not None:
                output = output + bias
            return output

        @staticmethod
        def backward(ctx, grad_output):  # type: ignore[no-untyped-def]
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output @ weight
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t() @ input
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    return LinearFunction


def legendre_function(lib: ModuleType) -> Any:
    class LegendrePolynomial3(lib.autograd.Function):  # "Learning PyTorch with Examples"
        @staticmethod
        def forward(ctx, input):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):  # type: ignore[no-untyped-def]
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    return LegendrePolynomial3


def first_and_second(lib: ModuleType, fn: Any, data: np.ndarray, *rest: Any) -> tuple[Any, ...]:
    """fn.apply(x, *rest): its value, dL/dx and d(sum(dL/dx * w))/dx for L = sum(w * out)."""
    x = lib.tensor(data, requires_grad=True)
    w = np.linspace(0.5, 1.5, data.size).reshape(data.shape)
    weights = lib.tensor(w)
    out = fn.apply(x, *rest)
    (first,) = lib.autograd.grad((out * weights).sum(), x, create_graph=True)
    if first.requires_grad:
        (second,) = lib.autograd.grad((first * weights).sum(), x)
    else:  # a first derivative that does not depend on x (both libraries agree on that)
        second = lib.zeros_like(x)
    return tuple(np.asarray(t.detach().numpy()) for t in (out, first, second))


arrays = hnp.arrays(
    "float64", hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), elements=st.floats(-3, 3)
)


@given(arrays)
def test_exp_saving_its_result_matches_torch_to_the_second_derivative(data: np.ndarray) -> None:
    torch = require_torch()
    ours = first_and_second(mg, exp_function(mg), data)
    theirs = first_and_second(torch, exp_function(torch), data)
    assert all(close_to_torch(a, b) for a, b in zip(ours, theirs)), (ours, theirs)


@given(tensors(domain="any", max_magnitude=3.0))
def test_exp_passes_gradcheck_and_gradgradcheck(x: Tensor) -> None:
    """The second derivative goes through the saved result: the node of the graph, not a copy."""
    Exp = exp_function(mg)  # noqa: N806
    assert mg.autograd.gradcheck(Exp.apply, [x])
    assert mg.autograd.gradgradcheck(Exp.apply, [x])


def test_saved_output_is_the_node_of_the_graph_so_the_second_derivative_sees_it() -> None:
    Exp = exp_function(mg)  # noqa: N806
    x = Tensor([0.5, -1.0], requires_grad=True)
    (first,) = mg.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
    (second,) = mg.autograd.grad(first.sum(), x)
    assert np.allclose(second.data, np.exp(x.data))  # d/dx e^x = e^x, through the saved e^x


@given(arrays, st.floats(-4, 4))
def test_a_number_argument_passes_through_and_gets_none(data: np.ndarray, constant: float) -> None:
    torch = require_torch()
    ours = first_and_second(mg, mul_constant_function(mg), data, constant)
    theirs = first_and_second(torch, mul_constant_function(torch), data, constant)
    assert all(close_to_torch(a, b) for a, b in zip(ours, theirs))
    x = Tensor(data, requires_grad=True)
    assert mg.gradcheck(lambda t: mul_constant_function(mg).apply(t, constant), [x])


@given(
    st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            hnp.arrays("float64", (n, 3), elements=st.floats(-2, 2)),
            hnp.arrays("float64", (2, 3), elements=st.floats(-2, 2)),
            hnp.arrays("float64", (2,), elements=st.floats(-2, 2)),
        )
    ),
    st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_linear_function_with_needs_input_grad_matches_torch(arrays3: tuple, needs: tuple) -> None:
    torch = require_torch()

    def run(lib: ModuleType) -> list[Any]:
        leaves = [lib.tensor(a, requires_grad=n) for a, n in zip(arrays3, needs)]
        out = linear_function(lib).apply(*leaves)
        if not out.requires_grad:
            return [out.detach().numpy()]
        (out * lib.tensor(np.arange(out.numel()).reshape(out.shape) / 7.0)).sum().backward()
        return [out.detach().numpy()] + [None if t.grad is None else np.asarray(t.grad) for t in leaves]

    ours, theirs = run(mg), run(torch)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None) and (a is None or close_to_torch(a, b))


def test_needs_input_grad_is_one_flag_per_argument_and_forward_does_not_record() -> None:
    seen: dict[str, Any] = {}

    class Probe(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k, name):  # type: ignore[no-untyped-def]
            seen["needs"] = ctx.needs_input_grad
            seen["recorded"] = (x * 2).requires_grad  # grad mode is off in forward, as in torch
            return x * y * k

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            seen["g"] = g
            return g, None, None, None

    x = Tensor([1.0, 2.0], requires_grad=True)
    out = Probe.apply(x, Tensor([3.0, 4.0]), 2, "name")
    assert seen == {"needs": (True, False, False, False), "recorded": False}
    assert out.requires_grad and out.grad_fn.name() == "Probe"
    out.backward(np.array([1.0, 10.0]))
    assert isinstance(seen["g"], Tensor) and np.array_equal(seen["g"].data, [1.0, 10.0])
    assert np.array_equal(x.grad, [1.0, 10.0])
    with mg.no_grad():
        assert not Probe.apply(x, Tensor([3.0, 4.0]), 2, "name").requires_grad


def test_a_function_works_on_values_too() -> None:
    torch = require_torch()
    lp3 = legendre_function(mg)
    for point in (-1.3, 0.2, 0.9):
        v = Value(point)
        out = lp3.apply(v)
        out.backward()
        t = torch.tensor(point, requires_grad=True)
        expected = legendre_function(torch).apply(t)
        expected.backward()
        assert isinstance(out, Value) and out.op == "LegendrePolynomial3"
        assert close_to_torch(out.data, expected.item()) and close_to_torch(v.grad, t.grad.item())
    assert mg.gradcheck(lp3.apply, [Value(0.4)]) and mg.gradgradcheck(lp3.apply, [Value(0.4)])


@given(arrays)
def test_legendre_polynomial3_line_for_line_matches_torch_and_finite_differences(data: np.ndarray) -> None:
    torch = require_torch()
    ours = first_and_second(mg, legendre_function(mg), data)
    theirs = first_and_second(torch, legendre_function(torch), data)
    assert all(close_to_torch(a, b) for a, b in zip(ours, theirs))
    numerical = mg.numerical_grad(lambda t: legendre_function(mg).apply(t).sum(), [Tensor(data)])[0]
    assert np.allclose(ours[1] / np.linspace(0.5, 1.5, data.size).reshape(data.shape), numerical, atol=1e-5)


# -- what backward may return -------------------------------------------------------------------


def returning(make: Any) -> Any:
    class Returning(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):  # type: ignore[no-untyped-def]
            return x * k

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            return make(g)

    return Returning


def backward_of(make: Any, shape: tuple[int, ...] = (2, 3)) -> np.ndarray:
    x = Tensor(np.ones(shape), requires_grad=True)
    returning(make).apply(x, 2.0).sum().backward()
    return x.grad  # type: ignore[return-value]


def test_trailing_nones_are_allowed_as_in_torch() -> None:
    assert np.array_equal(backward_of(lambda g: (g * 2, None, None, None)), np.full((2, 3), 2.0))


def test_a_gradient_that_broadcasts_is_summed_to_the_input_shape_as_torch() -> None:
    torch = require_torch()
    ours = backward_of(lambda g: (Tensor(np.arange(24.0).reshape(4, 2, 3)), None))

    class Same(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):  # type: ignore[no-untyped-def]
            return x * k

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            return torch.arange(24.0).reshape(4, 2, 3), None

    x = torch.ones(2, 3, requires_grad=True)
    Same.apply(x, 2.0).sum().backward()
    assert close_to_torch(ours, x.grad.numpy())


def test_an_array_or_a_float32_gradient_becomes_the_input_dtype_and_a_fresh_array() -> None:
    shared = np.ones((2, 3))
    grad = backward_of(lambda g: (shared, None))
    assert grad.dtype == np.float64 and np.array_equal(grad, shared) and grad is not shared
    grad = backward_of(lambda g: (g.float(), None))
    assert grad.dtype == np.float64 and np.array_equal(grad, np.ones((2, 3)))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda g: g, "returned an incorrect number of gradients (expected 2, got 1)"),
        (lambda g: (g, None, g), "returned an incorrect number of gradients (expected 2, got 3)"),
        (
            lambda g: (g, g),
            "different than None for argument 1 of forward, which is not a Tensor but a float",
        ),
        (
            lambda g: (g[0], None),
            "invalid gradient for argument 0: shape (3,), but that argument has shape (2, 3)",
        ),
        (lambda g: (np.ones((3, 3)), None), "shape (3, 3), but that argument has shape (2, 3)"),
        (lambda g: (1.0, None), "returned a float as the gradient of argument 0; expected Tensor or ndarray"),
        (lambda g: ("g", None), "returned a str as the gradient of argument 0"),
    ],
)
def test_wrong_backward_output_is_named_with_the_function_the_argument_and_the_shapes(
    make: Any, words: str
) -> None:
    with pytest.raises(RuntimeError) as error:
        backward_of(make)
    assert "function Returning.backward" in str(error.value) and words in str(error.value)


def test_forward_must_return_one_tensor() -> None:
    class Two(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            return x, x * 2

    class Number(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            return 3.0

    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"Two.forward returned a tuple of 2 outputs.*return one Tensor"):
        Two.apply(x)
    with pytest.raises(TypeError, match=r"Number.forward must return a Tensor.*got float 3.0"):
        Number.apply(x)


def test_misuse_is_refused_with_torch_s_words() -> None:
    class NoBackward(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(x)
            return x * 2

    class SavesANumber(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(x, 3)
            return x

    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="You must implement either the backward"):
        NoBackward.apply(x).sum().backward()
    with pytest.raises(NotImplementedError, match="You must implement the forward"):
        mg.autograd.Function.apply(x)
    with pytest.raises(TypeError, match="argument 1 is of type int"):
        SavesANumber.apply(x)
    with pytest.raises(RuntimeError, match=r"call NoBackward.apply\(...\) on the class"):
        NoBackward()(x)
    with pytest.raises(TypeError, match="Values and Tensors cannot be arguments of one call"):
        mul_constant_function(mg).apply(x, Value(2.0))


def test_setup_context_style_fills_ctx_after_a_forward_without_it() -> None:
    class Square(mg.autograd.Function):
        @staticmethod
        def forward(x):  # type: ignore[no-untyped-def]
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = Tensor([1.5, -2.0], requires_grad=True)
    Square.apply(x).sum().backward()
    assert np.array_equal(x.grad, [3.0, -4.0])


# -- the node shows like any other ------------------------------------------------------------------


def test_the_node_is_named_after_the_class_in_grad_fn_steps_and_drawings() -> None:
    LegendrePolynomial3 = legendre_function(mg)  # noqa: N806
    x = Tensor([0.5, 1.5], requires_grad=True, label="x")
    loss = LegendrePolynomial3.apply(x).sum()
    assert loss.grad_fn.next_functions[0][0].name() == "LegendrePolynomial3"
    steps = list(mg.backward_steps(loss))
    assert [s.node.op for s in steps if not s.is_seed] == ["sum", "LegendrePolynomial3"]
    assert np.allclose(steps[-1].shares[0].contribution, 1.5 * (5 * x.data**2 - 1))
    assert "LegendrePolynomial3" in mg.draw_dot(loss).source
    assert np.allclose(x.grad, 1.5 * (5 * x.data**2 - 1))  # stepped to its end, the pass is done


def test_a_wrong_backward_is_found_by_gradcheck_and_named_by_its_diagnosis() -> None:
    class WrongSquare(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            (x,) = ctx.saved_tensors
            return 3 * g * x

    report = mg.gradcheck(WrongSquare.apply, [Tensor([1.0, 2.0], requires_grad=True)], raise_exception=False)
    assert not report and "op 'WrongSquare' has a wrong derivative rule" in report.advice[0]
    local = mg.check_local_derivatives(WrongSquare.apply(Tensor([1.0, 2.0], requires_grad=True)).sum(), raise_exception=False)  # fmt: skip
    assert local.first_failure is not None and local.first_failure.op == "WrongSquare"


def test_a_backward_computing_with_numpy_fails_gradgradcheck_as_in_torch() -> None:
    class NumpySin(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(x)
            return Tensor(np.sin(x.data))

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            (x,) = ctx.saved_tensors
            return g * Tensor(np.cos(x.data))  # right numbers, but no graph to differentiate

    x = Tensor([1.0, 2.0], requires_grad=True)
    assert mg.gradcheck(NumpySin.apply, [x])
    assert not mg.gradgradcheck(NumpySin.apply, [x], raise_exception=False)


def test_anomaly_mode_points_at_the_line_of_backward_that_made_inf() -> None:
    class Square(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            (x,) = ctx.saved_tensors
            return g / x  # inf at 0

    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError, match=r"test_autograd_function.py:\d+"):
        Square.apply(Tensor([0.0, 1.0], requires_grad=True)).sum().backward()


def test_check_local_derivatives_passes_a_correct_float32_function() -> None:
    class Square(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            (x,) = ctx.saved_tensors
            return 2 * g * x

    x = Tensor(np.array([1.1, 2.3], dtype=np.float32), requires_grad=True)
    out = Square.apply(x)
    assert out.data.dtype == np.float32
    assert mg.check_local_derivatives(out.sum(), raise_exception=False).ok


# -- keyword arguments: bound to forward's parameters, as in PyTorch 2 -----------------------------


def scale_function(lib: ModuleType, setup_context: bool) -> Any:
    """x * k (* y): keywords for k and y, forward with ctx or with setup_context."""
    seen: list[tuple[bool, ...]] = []

    def gradients(ctx: Any, g: Any) -> tuple[Any, ...]:
        seen.append(tuple(ctx.needs_input_grad))
        y = ctx.y
        return (g * ctx.k if y is None else g * ctx.k * y), None, (None if y is None else g * ctx.k * ctx.x)

    if setup_context:

        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, k=2.0, y=None):  # type: ignore[no-untyped-def]
                return x * k if y is None else x * k * y

            @staticmethod
            def setup_context(ctx, inputs, output):  # type: ignore[no-untyped-def]
                ctx.x, ctx.k, ctx.y = inputs

            backward = staticmethod(gradients)

    else:

        class Scale(lib.autograd.Function):  # type: ignore[no-redef]
            @staticmethod
            def forward(ctx, x, k=2.0, y=None):  # type: ignore[no-untyped-def]
                ctx.x, ctx.k, ctx.y = x, k, y
                return x * k if y is None else x * k * y

            backward = staticmethod(gradients)

    Scale.seen = seen
    return Scale


@pytest.mark.parametrize("setup_context", [False, True])
@pytest.mark.parametrize("keywords", ["k", "k y", "y k", "x k y"])
def test_keyword_arguments_are_bound_to_forward_s_parameters_as_torch(
    setup_context: bool, keywords: str
) -> None:
    torch = require_torch()

    def run(lib: ModuleType) -> tuple[Any, ...]:
        Scale = scale_function(lib, setup_context)  # noqa: N806
        x, y = lib.tensor([1.0, -2.0], requires_grad=True), lib.tensor([0.5, 3.0], requires_grad=True)
        given = {"x": x, "k": 3.0, "y": y}
        names = keywords.split()
        args = [] if "x" in names else [x]
        out = Scale.apply(*args, **{name: given[name] for name in names})
        out.sum().backward()
        grads = [None if t.grad is None else np.asarray(t.grad) for t in (x, y)]
        return np.asarray(out.detach().numpy()), grads, Scale.seen

    (ours, our_grads, our_flags), (theirs, their_grads, their_flags) = run(mg), run(torch)
    assert close_to_torch(ours, theirs) and our_flags == their_flags
    for a, b in zip(our_grads, their_grads):
        assert (a is None) == (b is None) and (a is None or close_to_torch(a, b))


def test_keywords_refused_where_torch_refuses_them_with_the_reason() -> None:
    torch = require_torch()
    for lib in (mg, torch):
        x, y = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([1.0, 3.0], requires_grad=True)
        with pytest.raises(TypeError, match="'z'"):
            scale_function(lib, setup_context=False).apply(x, z=1.0)
        with pytest.raises(TypeError, match="'k'"):  # forward with ctx: y's place needs k's before it
            scale_function(lib, setup_context=False).apply(x, y=y)
        with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 1\)"):
            one_gradient_function(lib).apply(x, k=3.0).sum().backward()  # k by keyword: an argument


def one_gradient_function(lib: ModuleType) -> Any:
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k=2.0):  # type: ignore[no-untyped-def]
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            return g * ctx.k

    return Scale
