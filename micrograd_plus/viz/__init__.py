"""The learner's view of a graph: narrated steps (trace), drawings (draw), the step player,
`explain_grad`, and training plots. Viewers never change a gradient."""

from .draw import draw_dot, render
from .explain import explain_grad
from .player import export_html, play
from .plot import decision_grid, plot_decision_boundary, plot_fit, plot_loss
from .trace import backward_steps, forward_steps
