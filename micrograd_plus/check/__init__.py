"""Gradient checks: compare derivatives with central finite differences. A file per question:

- `gradcheck(f, inputs)` (gradcheck.py): is the gradient autograd computes for `f` right? (like
  `torch.autograd.gradcheck`; on failure a table says which elements differ and by how much,
  and the cause: the op whose rule is wrong, or a hint such as a cut graph);
- `gradgradcheck(f, inputs)`: are its second derivatives right? (`create_graph=True`);
- `check_local_derivatives(root)` (local.py): *which* operation's rule is wrong? Every node's
  `backward` rule is checked on its own, against finite differences of its `forward`;
- `check_gradient_function(f, grad_f, inputs)` (handwritten.py): is my hand-written backprop right?
- `compare_gradients(output, {node: my_gradient})`: which step of my hand-written backprop
  is wrong? (each node's gradient, intermediates too, against autograd's)

numerical.py holds the finite differences they share, reports.py their reports.
Everything works on any autograd `Node` (Value with float data, Tensor with ndarray
data) and, where it makes sense, on plain floats and float64 arrays. Finite differences
need float64: with float32 a step of 1e-6 is lost in rounding, so such inputs are refused.
"""

from .gradcheck import gradcheck, gradgradcheck
from .handwritten import check_gradient_function, compare_gradients
from .local import check_local_derivatives
from .numerical import numerical_grad
from .reports import GradcheckError, GradcheckReport, GradientRow, LocalDerivativeReport, NodeCheck

__all__ = [
    "GradcheckError",
    "GradcheckReport",
    "GradientRow",
    "LocalDerivativeReport",
    "NodeCheck",
    "check_gradient_function",
    "check_local_derivatives",
    "compare_gradients",
    "gradcheck",
    "gradgradcheck",
    "numerical_grad",
]
