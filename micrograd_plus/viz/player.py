"""A self-contained HTML page that plays a graph's forward and then its backward pass,
one step per frame: buttons (Prev, Next, Play), a slider, the arrow keys, zoom (buttons,
the + and - keys, ctrl+wheel), the drawing of each step and its narration. The drawing
follows the current node: it is scrolled into view at each step.

Each step's drawing is rendered by Graphviz, but the page holds one SVG per run of steps
with the same picture structure (the forward steps, the backward steps) and, for each step,
only what changes from the step before: classes, colours, line styles and texts of the
nodes and edges (`encode_drawings`). That keeps the page of a large graph small (one SVG
per step made an `MLP(2, [16, 16, 1])` page 14 MB; docs/stepping.md states its size now);
the positions are those of the run's last step, which shows every number the run shows.

The page loads nothing: no scripts, styles, fonts or images from anywhere (a
Content-Security-Policy forbids it too), so it works offline and can be mailed around.
"""

from __future__ import annotations

import html
import json
import pathlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
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


# -- the drawings: one SVG per run of steps, and each step's change -----------------------

_SVG_NS = "{http://www.w3.org/2000/svg}"
# Attributes that place or size an element: taken from the run's SVG, never patched.
GEOMETRY = frozenset(
    {"x", "y", "points", "d", "width", "height", "viewBox", "transform", "cx", "cy", "rx", "ry"}
)

# (element key, child index or -1 for the <g> itself) -> (attributes to show, its text or None)
_State = dict[tuple[str, int], tuple[tuple[tuple[str, str], ...], "str | None"]]


@dataclass
class EncodedDrawings:
    """The pictures of a player: `bases` (SVGs), and per step the base it is drawn
    on and its patch: [element key, child index (-1: the <g>), attributes, text or None] for
    each element that differs from the step before (from the base for a run's first step)."""

    bases: list[str]
    steps: list[tuple[int, list[list[Any]]]]


def _state(svg: str) -> tuple[dict[str, tuple[str, ...]], _State]:
    """The structure of a Graphviz SVG (each element's key and its children's tags) and
    what each element shows apart from its geometry. An element (node, edge, cluster) is
    keyed by its <title> (the DOT name), with `#k` for the k-th of that title: Graphviz's
    own ids are not stable from one drawing of a graph to the next."""
    structure: dict[str, tuple[str, ...]] = {}
    state: _State = {}
    seen: dict[str, int] = {}
    for g in ET.fromstring(svg).iter(f"{_SVG_NS}g"):
        title = g.find(f"{_SVG_NS}title")
        if title is None:
            continue
        name = title.text or ""
        key = f"{name}#{seen.get(name, 0)}"
        seen[name] = seen.get(name, 0) + 1
        children = list(g)
        structure[key] = tuple(c.tag for c in children)
        for index, element in [(-1, g), *enumerate(children)]:
            if index >= 0 and element.tag in (f"{_SVG_NS}title", f"{_SVG_NS}g"):
                continue
            attrs = tuple(sorted((k, v) for k, v in element.attrib.items() if _patchable(k)))
            text = element.text if element.tag == f"{_SVG_NS}text" else None
            state[(key, index)] = (attrs, text)
    return structure, state


def _patchable(attribute: str) -> bool:
    """Whether a step may change this attribute: not geometry, not the id, not one in a
    namespace (`xml:space`, which ElementTree spells `{...}space`, is the same in every step)."""
    return attribute not in GEOMETRY and attribute != "id" and not attribute.startswith("{")


def _patch(before: _State, after: _State) -> list[list[Any]]:
    return [
        [gid, index, dict(attrs), text]
        for (gid, index), (attrs, text) in after.items()
        if before.get((gid, index)) != (attrs, text)
    ]


def encode_drawings(svgs: list[str], runs: list[str]) -> EncodedDrawings:
    """Encode one SVG per step as a few base SVGs and one patch per step. A new base starts
    where `runs` changes (the forward and the backward view place arrowheads differently)
    or where the picture's structure does: each base is the last SVG of its run."""
    parsed = [_state(svg) for svg in svgs]
    bases: list[str] = []
    steps: list[tuple[int, list[list[Any]]]] = []
    k = 0
    while k < len(svgs):
        end = k + 1
        while end < len(svgs) and runs[end] == runs[k] and parsed[end][0] == parsed[k][0]:
            end += 1
        base = len(bases)
        bases.append(svgs[end - 1])
        previous = parsed[end - 1][1]
        for i in range(k, end):
            steps.append((base, _patch(previous, parsed[i][1])))
            previous = parsed[i][1]
        k = end
    return EncodedDrawings(bases, steps)


def render_frames(scene: Scene, frames: list[tuple[str, str, Frame]], renderer: str = "auto") -> list[str]:
    """The SVG of every frame (one graph id for all, so that their elements correspond)."""
    return [
        render_bytes(scene.draw(frame, graph_id="drawing").source, "svg", renderer).decode("utf-8")
        for _, _, frame in frames
    ]


def _json_for_html(data: Any) -> str:
    """JSON that can sit in a <script> element: no `<`, `>` or `&` that could end it."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# -- the page -------------------------------------------------------------------------------


def player_html(frames: list[tuple[str, str, Frame]], drawings: EncodedDrawings, prefix: str = "") -> str:
    """The player itself (controls, narration, drawing, data and script) as one HTML
    element, for a page of its own or for a notebook. `prefix` starts every element id,
    so that several players can share a page."""
    sections = []
    for k, (heading, narration, frame) in enumerate(frames):
        phase = "forward" if frame.view == "forward" else "backward"
        sections.append(
            f'<section class="step" data-phase="{phase}" data-index="{k}"{"" if k == 0 else " hidden"}>\n'
            f"<h2>{html.escape(heading)}</h2>\n"
            f'<pre class="narration">{html.escape(narration)}</pre>\n'
            "</section>"
        )
    bases = "\n".join(f'<template class="base">{inline_svg(svg)}</template>' for svg in drawings.bases)
    data = _json_for_html([[base, patch] for base, patch in drawings.steps])
    return _PLAYER.format(
        id=html.escape(prefix + "player"),
        prefix=html.escape(prefix),
        last=len(frames) - 1,
        total=len(frames),
        legend=_legend(),
        sections="\n".join(sections),
        bases=bases,
        data=data,
        script=_SCRIPT,
        geometry=json.dumps(sorted(GEOMETRY | {"id"})),
    )


def player_page(
    root: Node,
    *,
    module: Any = None,
    collapse: Any = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    rankdir: str = "LR",
    gradient: Any = None,
    title: str = "micrograd_plus: stepping through backpropagation",
    renderer: str = "auto",
    caller: str = "player_page",
) -> tuple[str, int]:
    """The player as one self-contained HTML page, and its number of steps: what
    `export_html` writes and what `play` shows in a notebook. No `.grad` is changed."""
    if not isinstance(root, Node):
        raise TypeError(f"{caller}() takes a Value or Tensor, got {type(root).__name__}")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}: {title!r:.60}")
    scene = Scene(root, module=module, collapse=collapse, max_nodes=max_nodes, rankdir=rankdir)
    frames = player_frames(scene, gradient)
    drawings = encode_drawings(render_frames(scene, frames, renderer), [frame.view for _, _, frame in frames])
    return _PAGE.format(title=html.escape(title), player=player_html(frames, drawings)), len(frames)


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
    """Write one HTML file (`path` ends in .html or .htm) that plays the forward and then
    the backward pass of the graph that computed `root`; returns its path. No `.grad` is changed.

    Open it in any browser: Prev / Next / Play buttons, a slider, and the left and
    right arrow keys move between steps (backward step 0 is the seed, as in
    `backward_steps` and `draw_dot(root, step=k)`); the zoom buttons, the + and - keys
    and ctrl+wheel zoom the drawing, which keeps the current node in view. The page
    needs no network. In a notebook, `play(root)` shows the same player inline.
    """
    path = _html_path(path, "export_html")  # before the work of rendering every step
    page, _ = player_page(
        root,
        module=module,
        collapse=collapse,
        max_nodes=max_nodes,
        rankdir=rankdir,
        gradient=gradient,
        title=title,
        renderer=renderer,
        caller="export_html",
    )
    path.write_text(page, encoding="utf-8")
    return path


def _html_path(path: str | pathlib.Path, caller: str) -> pathlib.Path:
    """`path` as a Path, refusing a suffix other than .html and .htm (in any case), as render
    refuses a suffix that names no format it writes: the file is an HTML page."""
    path = pathlib.Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(
            f"{caller}() writes an HTML page: end the file name with .html or .htm, got {str(path)!r}"
            + (" (render(root, path) draws the graph as .svg, .png or .pdf)" if path.suffix else "")
        )
    return path


# Shown instead of the player where a front end strips the iframe: JupyterLab does so for the
# outputs of a notebook opened from disk that it does not trust (it keeps this text).
_UNTRUSTED = (
    "The step player appears here when this cell runs (a notebook's saved outputs are shown "
    "only once the notebook is trusted): run the cell, or save the player with .save(path)."
)


class Player:
    """The step player of one graph, ready to show: displayed in a notebook (Jupyter,
    JupyterLab, VS Code) it appears inline; `save(path)` writes it as an HTML file.

    Inline, the page sits in an `<iframe srcdoc>`: it runs its own script with its own
    element ids, styles and arrow keys, so any number of players share a notebook without
    clashing, and no notebook front end has to run a script of the output itself.
    """

    def __init__(self, page: str, steps: int, title: str):
        self.page = page
        self.steps = steps
        self.title = title

    def save(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write the player as a self-contained HTML file (as `export_html` does); returns the path."""
        path = _html_path(path, "Player.save")
        path.write_text(self.page, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return (
            f'<iframe class="micrograd-plus-player" title="{html.escape(self.title)}" '
            f'srcdoc="{html.escape(self.page, quote=True)}" '
            f'style="width: 100%; height: 640px; border: 1px solid #dee2e6;">{_UNTRUSTED}</iframe>'
        )

    def __repr__(self) -> str:
        return f"<Player of {self.steps} steps: display it in a notebook, or .save('player.html')>"


def play(
    root: Node,
    *,
    module: Any = None,
    collapse: Any = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    rankdir: str = "LR",
    gradient: Any = None,
    title: str = "micrograd_plus: stepping through backpropagation",
    renderer: str = "auto",
) -> Player:
    """The step player of the graph that computed `root`, to show inline in a notebook
    (make it a cell's last expression, or `display(play(root))`); `.save(path)` writes it
    as a file. The same player as `export_html`, with the same options; no `.grad` is changed."""
    page, steps = player_page(
        root,
        module=module,
        collapse=collapse,
        max_nodes=max_nodes,
        rankdir=rankdir,
        gradient=gradient,
        title=title,
        renderer=renderer,
        caller="play",
    )
    return Player(page, steps, title)


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
</style>
</head>
<body>
<h1>{title}</h1>
{player}
</body>
</html>
"""

# The player's element: its style is scoped to it, its script finds everything inside it.
_PLAYER = """<div class="mgp-player" id="{id}">
<style>
.mgp-player .controls {{ position: sticky; top: 0; z-index: 1; background: #fff; padding: 0.5em 0; display: flex; gap: 0.6em; align-items: center; flex-wrap: wrap; }}
.mgp-player .controls button {{ font-size: 1em; padding: 0.3em 1em; }}
.mgp-player .controls .zoom button {{ padding: 0.3em 0.6em; }}
.mgp-player .slider {{ flex: 1; min-width: 10em; max-width: 40em; }}
.mgp-player .narration {{ background: #f8f9fa; border-left: 4px solid #1c64f2; padding: 0.6em 1em; white-space: pre-wrap; font-size: 0.95em; max-height: 9em; overflow: auto; }}
.mgp-player .drawing {{ overflow: auto; max-height: 75vh; border: 1px solid #dee2e6; }}
.mgp-player .drawing svg {{ display: block; }}
.mgp-player h2 {{ font-size: 1.05em; margin: 0.4em 0; }}
.mgp-player .swatch {{ border: 1px solid #868e96; padding: 0 0.4em; margin-right: 0.3em; font-size: 0.85em; }}
</style>
<div class="controls">
<button id="{prefix}prev" class="prev" type="button">Prev</button>
<button id="{prefix}play" class="play" type="button">Play</button>
<button id="{prefix}next" class="next" type="button">Next</button>
<input id="{prefix}slider" class="slider" type="range" min="0" max="{last}" value="0" aria-label="step">
<span id="{prefix}counter" class="counter">1 / {total}</span>
<span class="zoom"><button class="zoom-out" type="button" title="zoom out (-)" aria-label="Zoom out">&minus;</button>
<button class="zoom-fit" type="button" title="fit the drawing to the width (0)" aria-label="Fit">Fit</button>
<button class="zoom-in" type="button" title="zoom in (+)" aria-label="Zoom in">+</button>
<span class="zoom-level">100%</span></span>
</div>
<p class="legend">{legend} &middot; keys: &larr; previous, &rarr; next, + and &minus; zoom (or ctrl+wheel)</p>
{sections}
<div class="drawing" tabindex="0"></div>
{bases}
<script type="application/json" class="steps">{data}</script>
<script>
(function (player, geometry) {{
{script}
}})(document.getElementById("{id}"), {geometry});
</script>
</div>"""

_SCRIPT = """  function $(name) { return player.querySelector("." + name); }
  var steps = Array.prototype.slice.call(player.querySelectorAll("section.step"));
  var bases = Array.prototype.slice.call(player.querySelectorAll("template.base"));
  var patches = JSON.parse($("steps").textContent);
  var drawing = $("drawing"), slider = $("slider"), counter = $("counter"), play = $("play");
  var index = -1, drawn = -1, svg = null, zoom = null, timer = null;

  // The drawing of step i: the base SVG of its run, then the patch of every step of the run up
  // to i (only the steps after the one drawn, when moving on within a run).
  function draw(i) {
    var base = patches[i][0], from = i;
    while (from > 0 && patches[from - 1][0] === base) { from -= 1; }
    if (svg === null || drawn < from || drawn > i || patches[drawn][0] !== base) {
      svg = bases[base].content.firstElementChild.cloneNode(true);
      drawing.replaceChildren(svg);
      drawn = from - 1;
      applyZoom();
    }
    var byKey = {}, seen = {};
    svg.querySelectorAll("g > title").forEach(function (title) {
      var name = title.textContent, n = seen[name] || 0;
      seen[name] = n + 1;
      byKey[name + "#" + n] = title.parentNode;
    });
    for (var k = drawn + 1; k <= i; k++) {
      patches[k][1].forEach(function (change) { patchElement(byKey[change[0]], change[1], change[2], change[3]); });
    }
    drawn = i;
  }
  function patchElement(g, child, attrs, text) {
    var element = child < 0 ? g : g.children[child];
    Array.prototype.slice.call(element.attributes).forEach(function (a) {
      var fixed = geometry.indexOf(a.name) >= 0 || a.name.indexOf(":") >= 0;
      if (!fixed && !(a.name in attrs)) { element.removeAttribute(a.name); }
    });
    Object.keys(attrs).forEach(function (name) { element.setAttribute(name, attrs[name]); });
    if (text !== null) { element.textContent = text; }
  }

  // Zoom: the SVG's own size (in pt) times the zoom; "Fit" fits the drawing's width.
  function natural() {
    return [parseFloat(svg.getAttribute("width")), parseFloat(svg.getAttribute("height"))];
  }
  function fit() { return Math.min(1, drawing.clientWidth / (natural()[0] * 4 / 3)); }
  function applyZoom() {
    if (zoom === null) { zoom = fit() >= 0.5 ? fit() : 0.75; }  // all of a small graph; a large one readable
    var size = natural();
    svg.style.width = (size[0] * zoom) + "pt";
    svg.style.height = (size[1] * zoom) + "pt";
    drawing.dataset.zoom = String(zoom);
    $("zoom-level").textContent = Math.round(zoom * 100) + "%";
  }
  function setZoom(value) {
    zoom = Math.max(0.05, Math.min(4, value));
    applyZoom();
    follow();
  }

  // Keep the current node in view: scroll the drawing (not the page) to it when it is not.
  function follow() {
    var current = svg.querySelector("g.node.current.value") || svg.querySelector("g.node.current");
    if (current === null) { return; }
    var box = current.getBoundingClientRect(), view = drawing.getBoundingClientRect();
    var width = drawing.clientWidth, height = drawing.clientHeight;
    var left = box.left - view.left, top = box.top - view.top;
    if (left < 0 || left + box.width > width) {
      drawing.scrollLeft += left + box.width / 2 - width / 2;
    }
    if (top < 0 || top + box.height > height) {
      drawing.scrollTop += top + box.height / 2 - height / 2;
    }
  }

  function show(i) {
    index = Math.max(0, Math.min(steps.length - 1, i));
    steps.forEach(function (s, k) { s.hidden = k !== index; });
    draw(index);
    follow();
    slider.value = String(index);
    counter.textContent = (index + 1) + " / " + steps.length;
    fitFrame();
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "Play";
  }
  $("prev").addEventListener("click", function () { stop(); show(index - 1); });
  $("next").addEventListener("click", function () { stop(); show(index + 1); });
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
  $("zoom-in").addEventListener("click", function () { setZoom(zoom * 1.25); });
  $("zoom-out").addEventListener("click", function () { setZoom(zoom / 1.25); });
  $("zoom-fit").addEventListener("click", function () { setZoom(fit()); });
  drawing.addEventListener("wheel", function (event) {
    if (!event.ctrlKey) { return; }
    event.preventDefault();
    setZoom(zoom * (event.deltaY < 0 ? 1.1 : 1 / 1.1));
  }, { passive: false });
  document.addEventListener("keydown", function (event) {
    if (event.target === slider || !player.isConnected) { return; }
    if (document.querySelectorAll(".mgp-player").length > 1 && !player.contains(event.target)) { return; }
    var keys = {
      ArrowRight: function () { stop(); show(index + 1); },
      ArrowLeft: function () { stop(); show(index - 1); },
      "+": function () { setZoom(zoom * 1.25); },
      "=": function () { setZoom(zoom * 1.25); },
      "-": function () { setZoom(zoom / 1.25); },
      "0": function () { setZoom(fit()); }
    };
    if (keys.hasOwnProperty(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      keys[event.key]();
      event.preventDefault();
    }
  });
  // Shown inline in a notebook (play()), the page sits in an iframe: make the iframe as tall as
  // the tallest page seen, so the notebook neither scrolls inside it nor jumps while stepping.
  var tallest = 0;
  function fitFrame() {
    var frame = window.frameElement;
    if (!frame) { return; }
    tallest = Math.max(tallest, document.documentElement.scrollHeight);
    frame.style.height = Math.ceil(tallest) + "px";
  }
  show(0);
  window.addEventListener("resize", fitFrame);"""
