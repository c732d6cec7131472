"""`torch.sin(x)` and its kin as functions: PyTorch code calls the elementwise functions both as
methods (`x.sin()`) and as functions of the package (`torch.sin(x)`); here each function is the
Tensor method of its name."""

from __future__ import annotations

from collections.abc import Callable

from .tensors import Tensor


def _function(name: str) -> Callable[[Tensor], Tensor]:
    def function(input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{name}() takes a Tensor (as torch.{name}), got {type(input).__name__}: {input!r:.60}; "
                "make one with tensor(...) first"
            )
        return getattr(input, name)()  # type: ignore[no-any-return]

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"`x.{name}()` as a function, as `torch.{name}(x)`."
    return function


exp, log, sqrt, sin, cos, tanh, sigmoid, relu = map(
    _function, ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu"]
)
