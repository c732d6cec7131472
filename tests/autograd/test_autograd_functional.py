"""`mg.autograd.functional`: jacobian, hessian, vjp, jvp, hvp and vhp against
`torch.autograd.functional` in float64 (values and the nesting of the results: a Tensor given
alone comes back alone, a tuple as a tuple) and against finite differences."""

from __future__ import annotations

from collections.abc import Callable
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
from micrograd_plus.autograd import functional

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines

# Functions written once: `x` and `y` are either library's tensors. Each name says how many
# inputs and outputs (one Tensor, or a tuple).
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "one-one": lambda x: (x.sin() * x**2 + x.exp()).tanh(),
    "tuple-one": lambda x, y: x * y.sin() + x**2 * y,
    "one-tuple": lambda x: (x.sin(), (x**3).sum(), x * 2.0),
    "tuple-tuple": lambda x, y: ((x * y).exp(), x.cos() + y**3),
}
SCALAR_FUNCTIONS: dict[str, Callable[..., Any]] = {  # for hessian, hvp, vhp
    "one": lambda x: (x.sin() * x**2).sum() + (x**4).sum(),
    "tuple": lambda x, y: (x * y).exp().sum() + (x**3 * y.sin()).sum(),
}
N_INPUTS = {"one-one": 1, "tuple-one": 2, "one-tuple": 1, "tuple-tuple": 2, "one": 1, "tuple": 2}

shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
elements = st.floats(-1.5, 1.5)


@st.composite
def inputs_of(draw: Any, n: int) -> list[np.ndarray]:
    shape = draw(shapes)
    return [draw(hnp.arrays("float64", shape, elements=elements)) for _ in range(n)]


def given_as(lib: ModuleType, arrays: list[np.ndarray], as_tuple: bool) -> Any:
    tensors = tuple(lib.tensor(a) for a in arrays)
    return tensors if as_tuple else tensors[0]


def same(ours: Any, theirs: Any) -> bool:
    """The same nesting (Tensor or tuple, and lengths) and close_to_torch values throughout."""
    if isinstance(theirs, tuple):
        return isinstance(ours, tuple) and len(ours) == len(theirs) and all(map(same, ours, theirs))
    return isinstance(ours, Tensor) and close_to_torch(ours.data, theirs.detach().numpy())


def run(name: str, lib: ModuleType, arrays: list[np.ndarray], kind: str, **options: Any) -> Any:
    functions = {**FUNCTIONS, **SCALAR_FUNCTIONS}
    return getattr(lib.autograd.functional, name)(
        functions[kind], given_as(lib, arrays, kind.startswith("tuple")), **options
    )


@pytest.mark.parametrize("kind", FUNCTIONS)
@given(data=st.data())
def test_jacobian_matches_torch_in_values_and_nesting(kind: str, data: st.DataObject) -> None:
    torch = require_torch()
    arrays = data.draw(inputs_of(N_INPUTS[kind]))
    assert same(run("jacobian", mg, arrays, kind), run("jacobian", torch, arrays, kind))


@pytest.mark.parametrize("kind", SCALAR_FUNCTIONS)
@given(data=st.data())
def test_hessian_matches_torch_in_values_and_nesting(kind: str, data: st.DataObject) -> None:
    torch = require_torch()
    arrays = data.draw(inputs_of(N_INPUTS[kind]))
    assert same(run("hessian", mg, arrays, kind), run("hessian", torch, arrays, kind))


def vectors_like(lib: ModuleType, refs: Any) -> Any:
    """A fixed vector of each ref's shape, in the nesting of refs."""
    if isinstance(refs, tuple):
        return tuple(vectors_like(lib, r) for r in refs)
    shape = tuple(refs.shape)
    return lib.tensor(np.linspace(-1.0, 2.0, int(np.prod(shape))).reshape(shape))


@pytest.mark.parametrize("kind", FUNCTIONS)
@given(data=st.data())
def test_vjp_and_jvp_match_torch(kind: str, data: st.DataObject) -> None:
    torch = require_torch()
    arrays = data.draw(inputs_of(N_INPUTS[kind]))
    outputs = FUNCTIONS[kind](*(torch.tensor(a) for a in arrays))
    ours = run("vjp", mg, arrays, kind, v=vectors_like(mg, outputs))
    theirs = run("vjp", torch, arrays, kind, v=vectors_like(torch, outputs))
    assert same(ours, theirs)
    given_inputs = given_as(torch, arrays, kind.startswith("tuple"))
    ours = run("jvp", mg, arrays, kind, v=vectors_like(mg, given_inputs))
    theirs = run("jvp", torch, arrays, kind, v=vectors_like(torch, given_inputs))
    assert same(ours, theirs)


@pytest.mark.parametrize("name", ["hvp", "vhp"])
@pytest.mark.parametrize("kind", SCALAR_FUNCTIONS)
@given(data=st.data())
def test_hvp_and_vhp_match_torch(name: str, kind: str, data: st.DataObject) -> None:
    torch = require_torch()
    arrays = data.draw(inputs_of(N_INPUTS[kind]))
    given_inputs = given_as(torch, arrays, kind == "tuple")
    ours = run(name, mg, arrays, kind, v=vectors_like(mg, given_inputs))
    theirs = run(name, torch, arrays, kind, v=vectors_like(torch, given_inputs))
    assert same(ours, theirs)


@given(inputs_of(1))
def test_every_function_matches_finite_differences(arrays: list[np.ndarray]) -> None:
    """J and H by central differences, row by row (the gradient of f's element k, and of
    grad(h)'s), and the four products from them."""
    (x,) = arrays
    f, h = FUNCTIONS["one-one"], SCALAR_FUNCTIONS["one"]
    gradient = lambda t: functional.vjp(h, t)[1]  # noqa: E731 - grad(h) as a Tensor, for any t
    rows_j, rows_h = [], []
    for k in range(x.size):
        seed = np.zeros(x.shape)
        seed.flat[k] = 1.0
        rows_j.append(mg.numerical_grad(f, [Tensor(x)], grad_output=seed)[0].ravel())
        rows_h.append(mg.numerical_grad(gradient, [Tensor(x)], grad_output=seed)[0].ravel())
    jac, hess = np.array(rows_j), np.array(rows_h)
    v = np.linspace(-1.0, 2.0, x.size)
    vt = Tensor(v.reshape(x.shape))
    close = lambda ours, numbers: np.allclose(ours.data.ravel(), numbers, atol=1e-5)  # noqa: E731
    assert close(functional.jacobian(f, Tensor(x)), jac.ravel())
    assert close(functional.hessian(h, Tensor(x)), hess.ravel())
    assert close(functional.vjp(f, Tensor(x), vt)[1], v @ jac)
    assert close(functional.jvp(f, Tensor(x), vt)[1], jac @ v)
    assert close(functional.vhp(h, Tensor(x), vt)[1], v @ hess)
    assert close(functional.hvp(h, Tensor(x), vt)[1], hess @ v)


@pytest.mark.parametrize("name", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
@given(arrays=inputs_of(1))
def test_create_graph_keeps_the_results_connected_to_the_inputs_as_torch(
    name: str, arrays: list[np.ndarray]
) -> None:
    """With create_graph=True a result can be differentiated again with respect to the given
    input: the gradient of its sum agrees with torch's."""
    torch = require_torch()
    kind = "one-one" if name in ("jacobian", "vjp", "jvp") else "one"

    def second(lib: ModuleType) -> Any:
        x = lib.tensor(arrays[0], requires_grad=True)
        f = {**FUNCTIONS, **SCALAR_FUNCTIONS}[kind]
        options: dict[str, Any] = {"create_graph": True}
        if name not in ("jacobian", "hessian"):
            options["v"] = vectors_like(lib, x)
        result = getattr(lib.autograd.functional, name)(f, x, **options)
        result = result if name in ("jacobian", "hessian") else result[1]
        assert result.requires_grad
        return lib.autograd.grad((result * result).sum(), x)[0]

    ours, theirs = second(mg), second(torch)
    assert close_to_torch(ours.data, theirs.numpy())


def test_results_are_cut_from_the_graph_without_create_graph_and_inputs_are_left_alone() -> None:
    x = Tensor([0.3, -0.8], requires_grad=True)
    out, product = functional.vjp(FUNCTIONS["one-one"], x, Tensor([1.0, 1.0]))
    assert not out.requires_grad and not product.requires_grad and x.grad is None
    assert not functional.jacobian(FUNCTIONS["one-one"], x).requires_grad


def test_an_unused_input_gets_zeros_or_in_strict_mode_an_error_as_torch() -> None:
    torch = require_torch()
    arrays = [np.array([0.5, 1.0]), np.array([2.0, -1.0])]
    f = lambda x, y: x.exp()  # noqa: E731 - y unused
    ours = functional.jacobian(f, (Tensor(arrays[0]), Tensor(arrays[1])))
    theirs = torch.autograd.functional.jacobian(f, tuple(torch.tensor(a) for a in arrays))
    assert same(ours, theirs) and not ours[1].data.any()
    with pytest.raises(
        RuntimeError, match="Output 0 of the user-provided function is independent of input 1"
    ):
        functional.jacobian(f, (Tensor(arrays[0]), Tensor(arrays[1])), strict=True)
    with pytest.raises(
        RuntimeError, match="The output of the user-provided function is independent of input 1"
    ):
        functional.vjp(lambda x, y: x.exp().sum(), (Tensor(arrays[0]), Tensor(arrays[1])), strict=True)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 0"):
        functional.hessian(lambda x: (x * 3.0).sum(), Tensor(arrays[0]), strict=True)
    linear = functional.hessian(lambda x: (x * 3.0).sum(), Tensor(arrays[0]))  # zeros, not strict
    assert linear.shape == (2, 2) and not linear.data.any()


def test_v_may_be_left_out_only_for_one_number() -> None:
    out, product = functional.vjp(lambda x: (x**2).sum(), Tensor([1.0, 3.0]))
    assert np.array_equal(product.data, [2.0, 6.0]) and out.item() == 10.0
    out, product = functional.jvp(lambda x: x**2, Tensor(3.0))
    assert product.item() == 6.0
    with pytest.raises(
        RuntimeError, match="v can only be None if the user-provided function returns a single"
    ):
        functional.vjp(lambda x: x**2, Tensor([1.0, 3.0]))
    with pytest.raises(RuntimeError, match="v can only be None if the input to the user-provided function"):
        functional.hvp(lambda x: (x**3).sum(), Tensor([1.0, 3.0]))


def test_bad_arguments_are_refused_with_what_to_do() -> None:
    x = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"vectorize=True.*vmap.*vectorize=False"):
        functional.jacobian(FUNCTIONS["one-one"], x, vectorize=True)
    with pytest.raises(ValueError, match=r'strategy="forward-mode"'):
        functional.jacobian(FUNCTIONS["one-one"], x, strategy="forward-mode")
    with pytest.raises(ValueError, match="outer_jacobian_strategy"):
        functional.hessian(SCALAR_FUNCTIONS["one"], x, outer_jacobian_strategy="forward-mode")
    with pytest.raises(ValueError, match="strategy must be"):
        functional.jacobian(FUNCTIONS["one-one"], x, strategy="sideways")
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be \(2,\) but got \(3,\)"):
        functional.jvp(FUNCTIONS["one-one"], x, Tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1"):
        functional.jvp(FUNCTIONS["tuple-one"], (x, x), (x,))
    with pytest.raises(TypeError, match=r"inputs given to jacobian must be either a Tensor.*list"):
        functional.jacobian(FUNCTIONS["one-one"], [1.0, 2.0])
    with pytest.raises(TypeError, match=r"has type Value \(Values: use mg.grad"):
        functional.jacobian(lambda v: v * 2, Value(1.0))
    with pytest.raises(TypeError, match="outputs of the user-provided function given to vjp"):
        functional.vjp(lambda t: t.data, x, x)
    with pytest.raises(RuntimeError, match=r"should contain a single element \(it has shape \(2,\)\)"):
        functional.hessian(lambda t: t**2, x)
    with pytest.raises(RuntimeError, match="The function given to vhp should return a single Tensor"):
        functional.vhp(lambda t: (t.sum(), t.sum()), x, x)


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_with_create_graph_the_result_depends_on_v_as_torch(name: str) -> None:
    torch = require_torch()
    f = SCALAR_FUNCTIONS["one"] if name in ("hvp", "vhp") else FUNCTIONS["one-one"]

    def dv(lib: ModuleType) -> Any:
        x = lib.tensor([0.3, -0.7, 1.1], requires_grad=True)
        v = lib.tensor([1.0, 2.0, -1.0], requires_grad=True)
        _, product = getattr(lib.autograd.functional, name)(f, x, v, create_graph=True)
        return lib.autograd.grad((product * product).sum(), [x, v])

    ours, theirs = dv(mg), dv(torch)
    assert all(close_to_torch(a.data, b.numpy()) for a, b in zip(ours, theirs))


# Strict mode's refusals, each case a call on either library's Tensors `t` (and `w`, a Tensor
# that requires grad but is not an input): the message must be torch's, word for word.
STRICT_CASES: dict[str, Callable[[Any, Any, Any], Any]] = {
    "vjp: output independent of input 1": lambda F, t, w: F.vjp(lambda a, b: a * 2, (t, t), t, strict=True),
    "vjp create_graph: jacobian constant": lambda F, t, w: F.vjp(
        lambda a, b: a * 2 + b * b, (t, t), t, strict=True, create_graph=True
    ),
    "jvp: output independent of input 1": lambda F, t, w: F.jvp(
        lambda a, b: a.sum(), (t, t), (t, t), strict=True
    ),
    "jvp create_graph: the same": lambda F, t, w: F.jvp(
        lambda a, b: a.sum(), (t, t), (t, t), strict=True, create_graph=True
    ),
    "jvp: output 1 independent of all inputs": lambda F, t, w: F.jvp(
        lambda a: (a * 2, w * 1.0), t, t, strict=True
    ),
    "jvp create_graph: jacobian constant": lambda F, t, w: F.jvp(
        lambda a: a * 2, t, t, strict=True, create_graph=True
    ),
    "jacobian create_graph: constant": lambda F, t, w: F.jacobian(
        lambda a, b: a * 2 + b * b, (t, t), strict=True, create_graph=True
    ),
    "jacobian: output 0 independent of input 0": lambda F, t, w: F.jacobian(
        lambda a, b: (b * b, a * 2), (t, t), strict=True, create_graph=True
    ),
    "vhp: linear in an input": lambda F, t, w: F.vhp(
        lambda a, b: (a * a + b).sum(), (t, t), (t, t), strict=True, create_graph=True
    ),
    "hvp: linear in an input": lambda F, t, w: F.hvp(
        lambda a, b: (a * a + b).sum(), (t, t), (t, t), strict=True
    ),
    "hessian create_graph: constant": lambda F, t, w: F.hessian(
        lambda a, b: (a * a + b * b * b).sum(), (t, t), strict=True, create_graph=True
    ),
    "vhp create_graph: hessian constant": lambda F, t, w: F.vhp(
        lambda a: (a * a).sum(), t, t, strict=True, create_graph=True
    ),
    "hvp create_graph: hessian constant": lambda F, t, w: F.hvp(
        lambda a: (a * a).sum(), t, t, strict=True, create_graph=True
    ),
    "vhp: gradient independent of input 1": lambda F, t, w: F.vhp(
        lambda a, b: (a * a).sum() + (b * w).sum(), (t, t), (t, t), strict=True
    ),
    "hvp: hessian independent of entry 1": lambda F, t, w: F.hvp(
        lambda a, b: (a * a).sum() + (b * w).sum(), (t, t), (t, t), strict=True
    ),
}


def strict_error(lib: ModuleType, case: str) -> str:
    t, w = lib.tensor([1.0, 2.0]), lib.tensor([0.5, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError) as caught:
        STRICT_CASES[case](lib.autograd.functional, t, w)
    return str(caught.value)


@pytest.mark.parametrize("case", STRICT_CASES)
def test_strict_mode_refuses_with_torch_s_words(case: str) -> None:
    torch = require_torch()
    assert strict_error(mg, case) == strict_error(torch, case)
