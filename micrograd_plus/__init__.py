"""micrograd_plus: a small autograd engine to learn, draw and test backpropagation."""

from .autograd import AnomalyError, Op, detect_anomaly, enable_grad, grad, no_grad
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
from .engine import Value
from .losses import binary_cross_entropy_with_logits, cross_entropy, hinge_loss, mse_loss
from .nn import MLP, Layer, Module, Neuron
from .optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .plot import decision_grid, plot_decision_boundary, plot_fit, plot_loss

__version__ = "0.1.0"
