"""Every warning the package gives points at the user's line (its `filename` is this file), never
inside the package, however deep the package reached it: a module's backward hook warns from
inside a backward pass, under either engine (modes.warn)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import micrograd_plus as mg
from micrograd_plus import Linear, Module, Tensor, Value, nn
from micrograd_plus.data import random_split
from micrograd_plus.viz.draw import draw_dot

pytestmark = pytest.mark.usefixtures("each_engine")  # every test under both engines


def warnings_of(action: Callable[[], Any]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    assert caught, "no warning"
    return caught


def points_here(caught: list[warnings.WarningMessage], line: int) -> bool:
    return all((w.filename, w.lineno) == (__file__, line) for w in caught)


def line_of(fn: Callable[..., Any]) -> int:
    """The line of `fn`'s one call: a lambda's, on one line."""
    return fn.__code__.co_firstlineno


def test_a_full_backward_hook_of_a_module_whose_inputs_need_no_grad() -> None:
    model = Linear(3, 2, seed=0)
    model.register_full_backward_hook(lambda m, grad_input, grad_output: None)
    loss = model(Tensor(np.ones((2, 3)))).sum()
    backward = lambda: loss.backward()  # noqa: E731
    caught = warnings_of(backward)
    assert "Full backward hook is firing" in str(caught[0].message)
    assert points_here(caught, line_of(backward))


def test_a_full_backward_hook_warning_inside_grad() -> None:
    model = Linear(3, 2, seed=0)
    model.register_full_backward_hook(lambda m, grad_input, grad_output: None)
    loss = model(Tensor(np.ones((2, 3)))).sum()
    take = lambda: mg.grad(loss, [model.weight])  # noqa: E731
    assert points_here(warnings_of(take), line_of(take))


def test_a_hooked_module_that_returns_a_list() -> None:
    class Listed(Module):
        def forward(self, a: Tensor) -> list[Tensor]:
            return [a * 2, a * 3]

    m = Listed()
    m.register_full_backward_hook(lambda m, grad_input, grad_output: None)
    call = lambda: m(Tensor([1.0, 2.0], requires_grad=True))  # noqa: E731
    caught = warnings_of(call)
    assert "module output should be a Tensor" in str(caught[0].message)
    assert points_here(caught, line_of(call))


def test_an_always_call_forward_hook_that_fails_after_forward_failed() -> None:
    class Failing(Module):
        def forward(self, x: Any) -> Any:
            raise ValueError("forward failed")

    m = Failing()
    m.register_forward_hook(lambda m, args, out: 1 / 0, always_call=True)

    def call() -> None:
        with pytest.raises(ValueError, match="forward failed"):
            m(1.0)

    caught = warnings_of(call)
    assert "silenced" in str(caught[0].message)
    assert points_here(caught, line_of(call) + 2)


def test_initializing_a_tensor_without_elements() -> None:
    for fill in (nn.init.kaiming_uniform_, nn.init.kaiming_normal_):
        start = lambda fill=fill: fill(mg.zeros(0, 3))  # noqa: E731
        assert points_here(warnings_of(start), line_of(start))


def test_a_truncated_normal_far_from_its_interval() -> None:
    start = lambda: nn.init.trunc_normal_(mg.zeros(2, 3), mean=10.0, std=1.0, a=-1.0, b=1.0)  # noqa: E731
    assert points_here(warnings_of(start), line_of(start))


def test_a_split_of_length_zero() -> None:
    split = lambda: random_split(list(range(3)), [0.0, 1.0], seed=0)  # noqa: E731
    assert points_here(warnings_of(split), line_of(split))


def test_drawing_gradients_before_any_backward() -> None:
    y = Value(2.0) * Value(3.0)
    draw = lambda: draw_dot(y, view="backward")  # noqa: E731
    assert points_here(warnings_of(draw), line_of(draw))


def test_a_filter_on_the_users_module_matches_the_packages_warnings() -> None:
    # (docs/semantics.md) The warning's module is the user's: a filter naming it catches it, one
    # naming the package does not.
    split = lambda: random_split(list(range(3)), [0.0, 1.0], seed=0)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("error", module="micrograd_plus")
        split()  # no error: the warning is not the package's module's
        warnings.filterwarnings("error", module=__name__)
        with pytest.raises(UserWarning, match="Length of split at index 0 is 0"):
            split()
