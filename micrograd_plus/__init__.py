"""micrograd_plus: a small autograd engine to learn, draw and test backpropagation."""

from types import ModuleType as _ModuleType

from . import autograd  # `mg.autograd.grad(...)`, as `torch.autograd.grad(...)`
from .check import (
    GradcheckError,
    check_gradient_function,
    check_local_derivatives,
    compare_gradients,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)
from .checkpoints import load_checkpoint, save_checkpoint
from .data.batches import batches
from .data.datasets import (
    load_diabetes,
    load_digits,
    load_iris,
    make_circles,
    make_linear,
    make_moons,
    make_sine,
    make_spiral,
)
from .data.loader import DataLoader, TensorDataset
from .devices import accelerator, cuda, device
from .engine import Op, Value
from .factories import (
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .fast import set_engine
from .functions import *  # noqa: F403 - the Tensor methods as functions, made from functions.METHODS*
from .functions import (  # (the ones written out, named again so that type checkers see them)
    ValuesIndices,
    add,
    allclose,
    dot,
    flatten,
    is_tensor,
    isclose,
    log_softmax,
    matmul,
    max,
    min,
    mm,
    mul,
    permute,
    reshape,
    softmax,
    sub,
    transpose,
)
from .grad_fn import GradFn
from .gradients import grad
from .io import LoadError, load, save
from .modes import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .nn.activations import GELU, Identity, LeakyReLU, LogSoftmax, Softmax
from .nn.containers import ModuleDict, ModuleList
from .nn.dropout import Dropout
from .nn.layers import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BCELoss,
    BCEWithLogitsLoss,
    Conv2d,
    CrossEntropyLoss,
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
    clip_grad_norm_,
)
from .nn.losses import (
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
from .nn.mlp import MLP, Layer, Neuron
from .nn.module import Module, Parameter
from .nn.normalization import BatchNorm1d, BatchNorm2d
from .optim import ASGD, LBFGS, SGD, Adagrad, Adam, Adamax, AdamW, Optimizer, RMSprop, Rprop, lr_scheduler
from .optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)
from .pointwise import argmax, argmin, cos, exp, log, relu, sigmoid, sin, sqrt, tanh
from .tensors import DimensionError, Tensor, cat, concat, stack, where
from .viz import display as _display
from .viz.draw import draw_dot, render
from .viz.explain import explain_grad
from .viz.player import export_html, play
from .viz.plot import decision_grid, plot_decision_boundary, plot_fit, plot_loss
from .viz.trace import backward_steps, forward_steps

__version__ = "0.1.0"

# Notebook displays (`_repr_html_`) for Value, Tensor, reports, steps, models and optimizers:
# given here, so that the engine, nn and check need not know about notebooks.
_display.install()

# `from micrograd_plus import *` gives every public name but the submodules (`io` would hide
# Python's) and those that would hide Python's builtins (`mg.max`, `mg.sum` are there, as `torch.max`).
_BUILTINS = ("abs", "all", "any", "max", "min", "pow", "round", "sum")
__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_") and name not in _BUILTINS and not isinstance(value, _ModuleType)
)
