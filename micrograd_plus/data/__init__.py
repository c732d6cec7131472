"""Data sets (generated and packaged), mini-batches, the DataLoader and its Dataset classes
(as `torch.utils.data`, which `micrograd_plus.utils.data` mirrors)."""

from .batches import batches
from .dataset import Dataset, Subset
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
from .splits import random_split
