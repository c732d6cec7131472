"""PyTorch's `torch.utils` names: `utils.data` (Dataset, DataLoader, random_split, ...)."""

from . import data
