"""Gradient checks: finite differences, gradcheck, and checks of each op's local derivative."""

from .gradcheck import (
    GradcheckError,
    check_gradient_function,
    check_local_derivatives,
    compare_gradients,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)
