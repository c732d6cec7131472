"""PyTorch's `torch.utils.data`, so that `from micrograd_plus.utils.data import DataLoader,
TensorDataset, Dataset, Subset, random_split` ports a PyTorch script's import line as it is.
The classes live in `micrograd_plus/data/` (dataset.py, loader.py, splits.py)."""

from ..data.dataset import Dataset, Subset
from ..data.loader import DataLoader, TensorDataset, default_collate
from ..data.splits import random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
