"""The exceptions micrograd_plus raises on purpose, in one place.

A small, documented set, so a caller knows what to catch (the README's safety section has
the table of which function raises what):

- `TypeError`: an argument of the wrong type (a list where a number goes, a non-Module...).
- `ValueError`: an argument of the right type but a wrong value: a wrong shape, an empty
  input, a negative size, a non-finite learning rate, a number too large for a float.
  `LoadError` and `ExpressionError` are ValueErrors too. (`load_state_dict` reports a shape
  that does not fit as PyTorch does, a RuntimeError "size mismatch for ...".)
- `LoadError`: `load()` was given a file that is not a valid parameter file for the module.
- `ExpressionError`: the command line's expression parser refused the text.
- `GradcheckError`: a gradient check found a mismatch (a `RuntimeError`, as in PyTorch).
- `AnomalyError`: under `detect_anomaly()`, an operation produced nan or inf (a `RuntimeError`).
- `RuntimeError` with PyTorch's words for the graph misuses PyTorch reports that way:
  `backward()` on a result that does not require grad, an implicit gradient for a
  non-scalar output, `retain_grad()` without grad, `requires_grad_()` on a non-leaf, and
  `grad()` of an input the outputs do not use.
- `IndexError`: indexing a Tensor out of range (`t[i]`, `index_select`, `gather`), as for lists,
  numpy and PyTorch.
- `DimensionError`: a dim (axis) argument out of range (`x.size(5)`, `x.sum(dim=5)`): both an
  `IndexError`, as PyTorch raises, and a `ValueError`, as this library raised before.
- `OSError`: from the operating system, for functions that read or write a file
  (`save`, `load`, `render`, `export_html`, the plots) when the path cannot be used.
"""

from __future__ import annotations

from .check.reports import GradcheckError
from .cli.expression import ExpressionError
from .io import LoadError
from .modes import AnomalyError
from .tensors import DimensionError

# What a bad argument can raise from any public function (besides the documented
# RuntimeErrors, IndexError and OSError above, each for its own situation).
ARGUMENT_ERRORS: tuple[type[Exception], ...] = (TypeError, ValueError)

# The library's own exception classes.
LIBRARY_ERRORS: tuple[type[Exception], ...] = (AnomalyError, ExpressionError, GradcheckError, LoadError)

__all__ = [
    "ARGUMENT_ERRORS",
    "LIBRARY_ERRORS",
    "AnomalyError",
    "DimensionError",
    "ExpressionError",
    "GradcheckError",
    "LoadError",
]
