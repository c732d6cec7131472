"""Data sets (generated and packaged), mini-batches and the DataLoader."""

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
from .loader import DataLoader, TensorDataset
