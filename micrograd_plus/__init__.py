"""micrograd_plus: a small autograd engine to learn, draw and test backpropagation."""

from .autograd import AnomalyError, Op, detect_anomaly, enable_grad, grad, no_grad
from .data_loader import batches
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
from .draw import draw_dot, render
from .engine import Value
from .explain import explain_grad
from .gradcheck import (
    GradcheckError,
    check_gradient_function,
    check_local_derivatives,
    gradcheck,
    numerical_grad,
)
from .io import LoadError, load, save
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
from .nn import MLP, Layer, Module, Neuron
from .optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .player import export_html
from .plot import decision_grid, plot_decision_boundary, plot_fit, plot_loss
from .tensor import Tensor, concat, stack
from .trace import backward_steps, forward_steps

__version__ = "0.1.0"
