"""Optimizers, as `torch.optim`: each updates the parameters it was given from their `.grad`;
`lr_scheduler` changes their learning rates over the epochs, as `torch.optim.lr_scheduler`."""

from . import lr_scheduler
from .optimizers import ASGD, LBFGS, SGD, Adagrad, Adam, Adamax, AdamW, Optimizer, RMSprop, Rprop
