"""The `micrograd-plus` command: the demo, and drawing or tracing an expression given as text
(read by a safe parser, never eval). It calls only the public API."""

from .main import main
