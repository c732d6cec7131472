"""Dropout: in training, zero each element with probability p and scale the rest by 1 / (1 - p);
in eval mode, the identity. Its coin flips come from its own numpy Generator, made from `seed`,
or, without one, from the package's stream at each call (as PyTorch's, from `manual_seed`);
never from numpy's global state, so a seeded model trains the same way every run."""

from __future__ import annotations

from typing import Any

from ..factories import SeedLike, make_generator
from ..tensors import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    """Randomly zeroes about p of the elements in training (`model.train()`), scaling the others by
    1 / (1 - p) so the expected output is the input; the identity after `model.eval()`.
    `inplace` as for ReLU: accepted and checked, the result computed out of place."""

    def __init__(self, p: float = 0.5, inplace: bool = False, *, seed: SeedLike = None):
        self.p = F.dropout_probability(p)
        self.inplace = F.check_inplace(inplace, "Dropout")
        self.generator = None if seed is None else make_generator(seed)  # None: the default, when called

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
