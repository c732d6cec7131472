"""Optimizers, as `torch.optim`: each updates the parameters it was given from their `.grad`."""

from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
