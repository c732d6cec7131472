"""PyTorch's `torch.utils.data`, so that `from micrograd_plus.utils.data import DataLoader,
TensorDataset, Dataset, Subset, random_split` ports a PyTorch script's import line as it is.
The classes live in `micrograd_plus/data/` (loader.py, splits.py)."""

from ..data.loader import DataLoader, Dataset, TensorDataset, default_collate
from ..data.splits import Subset, random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
