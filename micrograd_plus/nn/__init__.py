"""Neural networks: Module; micrograd's Neuron, Layer and MLP on Values; Tensor layers,
their functional forms and losses (as `torch.nn`); containers (ModuleList, ModuleDict,
ParameterList, ParameterDict), activations and Dropout; `nn.init` (weight initialisation) and
`nn.utils` (gradient clipping, parameters as one vector), as PyTorch's."""

from . import functional, init, utils
from .activations import ELU, GELU, Identity, LeakyReLU, LogSoftmax, Mish, SiLU, Softmax, Softplus
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList
from .dropout import Dropout
from .layers import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv2d,
    CrossEntropyLoss,
    Embedding,
    Flatten,
    HuberLoss,
    L1Loss,
    Linear,
    MaxPool2d,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    SmoothL1Loss,
    Tanh,
)
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .mlp import MLP, Layer, Neuron
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .utils import clip_grad_norm_
