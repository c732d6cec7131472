"""Neural networks: Module; micrograd's Neuron, Layer and MLP on Values; Tensor layers,
their functional forms and losses (as `torch.nn`)."""

from . import functional
from .layers import (
    AvgPool2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv2d,
    CrossEntropyLoss,
    Flatten,
    Linear,
    MaxPool2d,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    clip_grad_norm_,
)
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
)
from .mlp import MLP, Layer, Neuron
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d
