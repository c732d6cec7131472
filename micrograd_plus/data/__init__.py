"""Data sets (generated and packaged) and mini-batches."""

from .batches import batches
from .datasets import (
    load_diabetes,
    load_digits,
    load_iris,
    make_circles,
    make_linear,
    make_moons,
    make_sine,
    make_spiral,
)
