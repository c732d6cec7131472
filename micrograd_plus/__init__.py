"""micrograd_plus: a small autograd engine to learn, draw and test backpropagation."""

from .check.gradcheck import (
    GradcheckError,
    check_gradient_function,
    check_local_derivatives,
    gradcheck,
    numerical_grad,
)
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
from .engine import Op, Value
from .fast import set_engine
from .gradients import grad
from .io import LoadError, load, save
from .modes import AnomalyError, detect_anomaly, enable_grad, no_grad
from .nn.layers import (
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
from .nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
)
from .nn.mlp import MLP, Layer, Neuron
from .nn.module import Module
from .nn.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .tensors import Tensor, concat, stack
from .viz.draw import draw_dot, render
from .viz.explain import explain_grad
from .viz.player import export_html
from .viz.plot import decision_grid, plot_decision_boundary, plot_fit, plot_loss
from .viz.trace import backward_steps, forward_steps

__version__ = "0.1.0"
