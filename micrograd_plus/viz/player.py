"""A self-contained HTML page that plays a graph's forward and then its backward pass,
one step per frame: buttons (Prev, Next, Play), a slider, the arrow keys, the drawing of
each step (pre-rendered inline SVG) and its narration.

The page loads nothing: no scripts, styles, fonts or images from anywhere (a
Content-Security-Policy forbids it too), so it works offline and can be mailed around.
"""

from __future__ import annotations

import html
import pathlib
import re
from typing import Any

from ..engine import Node
from .draw import COLOURS, DEFAULT_MAX_NODES, Frame, Scene, backward_frame, render_bytes
from .trace import format_value, forward_steps, record_backward

_XML_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.DOTALL)
_NAMESPACES = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def inline_svg(svg: str) -> str:
    """SVG text made fit to sit inside HTML: no XML prolog, doctype, comments or
    namespace URLs (HTML knows the SVG namespace)."""
    svg = _XML_PROLOG.sub("", svg)
    return _NAMESPACES.sub("", svg).strip()


def player_frames(scene: Scene, gradient: Any = None) -> list[tuple[str, str, Frame]]:
    """(heading, narration, frame) for every picture of the player, without changing any
    `.grad`: the inputs, each forward operation, then each backward step."""
    root = scene.root
    leaves = [n for n in scene.nodes if n._op is None]
    known = set(leaves)
    givens = [f"{scene.names[n]} = {format_value(n.data)}" for n in leaves if n._origin != "constant"]
    frames = [
        (
            "The inputs",
            "given: " + (", ".join(givens) or "constants only"),
            Frame("forward", computed=set(known)),
        )
    ]
    forward = list(forward_steps(root))
    for k, step in enumerate(forward):
        known.add(step.node)
        frames.append(
            (
                f"Forward step {k + 1} of {len(forward)}",
                str(step),
                Frame("forward", current=step.node, computed=set(known)),
            )
        )
    if root.requires_grad:
        steps = record_backward(root, gradient)
        for k, backward in enumerate(steps):
            frames.append((f"Backward step {k} of {len(steps) - 1}", str(backward), backward_frame(steps, k)))
    return frames


def export_html(
    root: Node,
    path: str | pathlib.Path,
    *,
    module: Any = None,
    collapse: Any = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    rankdir: str = "LR",
    gradient: Any = None,
    title: str = "micrograd_plus: stepping through backpropagation",
    renderer: str = "auto",
) -> pathlib.Path:
    """Write one HTML file that plays the forward and then the backward pass of the
    graph that computed `root`; returns its path. No `.grad` is changed.

    Open it in any browser: Prev / Next / Play buttons, a slider, and the left and
    right arrow keys move between steps (backward step 0 is the seed, as in
    `backward_steps` and `draw_dot(root, step=k)`). The page needs no network.
    """
    if not isinstance(root, Node):
        raise TypeError(f"export_html() takes a Value or Tensor, got {type(root).__name__}")
    scene = Scene(root, module=module, collapse=collapse, max_nodes=max_nodes, rankdir=rankdir)
    frames = player_frames(scene, gradient)
    sections = []
    for k, (heading, narration, frame) in enumerate(frames):
        svg = render_bytes(scene.draw(frame, graph_id=f"s{k}").source, "svg", renderer).decode("utf-8")
        phase = "forward" if frame.view == "forward" else "backward"
        sections.append(
            f'<section class="step" data-phase="{phase}" data-index="{k}"{"" if k == 0 else " hidden"}>\n'
            f"<h2>{html.escape(heading)}</h2>\n"
            f'<pre class="narration">{html.escape(narration)}</pre>\n'
            f'<div class="drawing">{inline_svg(svg)}</div>\n'
            "</section>"
        )
    page = _PAGE.format(
        title=html.escape(title),
        last=len(frames) - 1,
        total=len(frames),
        legend=_legend(),
        sections="\n".join(sections),
        script=_SCRIPT,
    )
    path = pathlib.Path(path)
    path.write_text(page, encoding="utf-8")
    return path


def _legend() -> str:
    items = ["input", "parameter", "constant", "intermediate", "output", "current"]
    return " ".join(
        f'<span class="swatch" style="background:{COLOURS[name]}">{"current step" if name == "current" else name}</span>'
        for name in items
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1em 2em; color: #212529; }}
#controls {{ position: sticky; top: 0; background: #fff; padding: 0.5em 0; display: flex; gap: 0.6em; align-items: center; }}
#controls button {{ font-size: 1em; padding: 0.3em 1em; }}
#slider {{ flex: 1; max-width: 40em; }}
.narration {{ background: #f8f9fa; border-left: 4px solid #1c64f2; padding: 0.6em 1em; white-space: pre-wrap; font-size: 0.95em; }}
.drawing svg {{ max-width: 100%; height: auto; }}
h2 {{ font-size: 1.05em; margin: 0.4em 0; }}
.swatch {{ border: 1px solid #868e96; padding: 0 0.4em; margin-right: 0.3em; font-size: 0.85em; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div id="controls">
<button id="prev" type="button">Prev</button>
<button id="play" type="button">Play</button>
<button id="next" type="button">Next</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="step">
<span id="counter">1 / {total}</span>
</div>
<p class="legend">{legend} &middot; keys: &larr; previous, &rarr; next</p>
{sections}
<script>
{script}
</script>
</body>
</html>
"""

_SCRIPT = """(function () {
  var steps = Array.prototype.slice.call(document.querySelectorAll("section.step"));
  var slider = document.getElementById("slider");
  var counter = document.getElementById("counter");
  var play = document.getElementById("play");
  var index = 0;
  var timer = null;
  function show(i) {
    index = Math.max(0, Math.min(steps.length - 1, i));
    steps.forEach(function (s, k) { s.hidden = k !== index; });
    slider.value = String(index);
    counter.textContent = (index + 1) + " / " + steps.length;
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "Play";
  }
  document.getElementById("prev").addEventListener("click", function () { stop(); show(index - 1); });
  document.getElementById("next").addEventListener("click", function () { stop(); show(index + 1); });
  play.addEventListener("click", function () {
    if (timer !== null) { stop(); return; }
    if (index === steps.length - 1) { show(0); }
    play.textContent = "Pause";
    timer = setInterval(function () {
      if (index >= steps.length - 1) { stop(); return; }
      show(index + 1);
    }, 1200);
  });
  slider.addEventListener("input", function () { stop(); show(Number(slider.value)); });
  document.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }
    if (event.key === "ArrowRight") { stop(); show(index + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft") { stop(); show(index - 1); event.preventDefault(); }
  });
  show(0);
})();"""
