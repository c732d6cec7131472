"""Drawing categories by their weights, as PyTorch's `multinomial`: how makemore samples names,
`ix = mg.multinomial(p, num_samples=1, replacement=True, generator=g).item()`.

The draws come from the package's random streams (factories.py): `seed=` or `generator=` (a
numpy Generator) for a stream of their own, else the one `manual_seed` restarts. They are
indices, an int64 Tensor as `argmax` gives (an index has no gradient); the numbers differ
from PyTorch's, whose generator is another.

Importing this module attaches the method to Tensor (functions.py imports it, so the package's
`__init__` does), as tensor_methods.py does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .arguments import positive_int, true_or_false
from .factories import generator_from
from .tensor_methods import attach
from .tensors import Tensor, _index_result, quiet


def _weights(self: Tensor) -> np.ndarray:
    """The weights as rows (one per draw), each finite, >= 0 and with a positive sum."""
    if self.ndim not in (1, 2):
        raise ValueError(
            f"multinomial(): takes a vector of weights (1-D) or a matrix of them, a row per draw "
            f"(2-D), got shape {self.shape}"
        )
    if self.shape[-1] == 0:
        raise ValueError(
            f"multinomial(): no categories to draw from: the last dim of shape {self.shape} has size 0"
        )
    rows = self.data.reshape(-1, self.shape[-1])
    bad = ~np.isfinite(rows) | (rows < 0)
    if bad.any():
        where = np.unravel_index(int(np.argmax(bad)), self.shape)
        raise ValueError(
            f"multinomial(): weights must be finite and >= 0, got {self.data[where]} at index "
            f"{tuple(int(i) for i in where)}"
        )
    empty = rows.max(axis=1, initial=0.0) == 0  # (no positive weight)
    if empty.any():
        raise ValueError(
            f"multinomial(): the weights of row {int(np.argmax(empty))} add up to 0; each row needs a "
            "positive weight"
        )
    return rows


def multinomial(
    self: Tensor,
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Any = None,
    seed: Any = None,
) -> Tensor:
    """`num_samples` category indices drawn with probabilities proportional to the weights
    (nonnegative, not necessarily adding up to 1), as `torch.multinomial`: for a vector of
    weights, shape (num_samples,); for a matrix, one row of draws per row of weights. Without
    `replacement`, no category is drawn twice (so at most as many as have a nonzero weight);
    a category of weight 0 is never drawn. An int64 Tensor; `.item()` of one draw is an
    int, as makemore's `ix` is. `generator=` (a numpy Generator) or `seed=` gives a stream of
    their own, else the package's (`manual_seed`)."""
    rows = _weights(self)
    count = positive_int(num_samples, "multinomial(): num_samples")
    replacement = true_or_false(replacement, "multinomial(): replacement")
    rng = generator_from(seed, generator)
    if replacement:
        # Inverse of the running sums, scaled to end at exactly 1: u in [0, 1) falls in the step
        # of one category, of width its weight (a weight of 0 has no step). (The weights are
        # scaled by the largest first: sums of weights near 1e308 do not overflow.)
        steps = np.cumsum(rows / rows.max(axis=1, keepdims=True), axis=1)
        steps /= steps[:, -1:]
        draws = rng.random((len(rows), count))
        picks = np.array([np.searchsorted(s, u, side="right") for s, u in zip(steps, draws)])
    else:
        fewest = int((rows > 0).sum(axis=1).min(initial=rows.shape[1]))
        if count > fewest:
            raise ValueError(
                f"multinomial(): cannot draw {count} samples without replacement from a row with "
                f"{fewest} categories of nonzero weight (shape {self.shape}); give replacement=True, "
                f"or num_samples <= {fewest}"
            )
        # The `count` largest of log(w) - log(E), E exponential draws, are draws without
        # replacement in order (weight 0 gives -inf: never among them).
        log = quiet(np.log)
        keys = log(rows) - log(rng.exponential(size=rows.shape))
        picks = np.argsort(-keys, axis=1, kind="stable")[:, :count]
    return _index_result(np.asarray(picks, dtype=np.int64).reshape(self.shape[:-1] + (count,)))


# The methods by their names on Tensor.
METHODS: dict[str, Callable[..., Any]] = {"multinomial": multinomial}
attach(METHODS)  # importing this module attaches them to Tensor
