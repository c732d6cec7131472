"""Neural networks: Module; micrograd's Neuron, Layer and MLP on Values; Tensor layers,
their functional forms, losses and optimizers (as `torch.nn` and `torch.optim`)."""

from . import functional, lr_scheduler
from .layers import (
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
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)
from .mlp import MLP, Layer, Neuron
from .module import Module
from .optim import ASGD, LBFGS, SGD, Adagrad, Adam, Adamax, AdamW, Optimizer, RMSprop, Rprop
