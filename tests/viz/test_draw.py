"""Drawing graphs: what each node shows, colours by role, views, steps, module clusters,
escaping, the node limit, and rendering with and without system Graphviz."""

from __future__ import annotations

import re
import shutil
import sys
import warnings
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_plus import MLP, Op, Tensor, Value, backward_steps, draw_dot, render
from micrograd_plus.engine import dot, value_sum
from micrograd_plus.viz import draw as draw_module
from micrograd_plus.viz.draw import DEFAULT_MAX_NODES, GraphvizNotFoundError, to_svg
from micrograd_plus.viz.trace import graph_nodes

SVG = "{http://www.w3.org/2000/svg}"
HAVE_DOT = shutil.which("dot") is not None


def svg_nodes(svg: str) -> dict[str, tuple[list[str], list[str]]]:
    """node id -> (its SVG classes, the texts it shows)."""
    out = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        classes = (g.get("class") or "").split()
        if "node" in classes:
            title = g.find(f"{SVG}title").text
            out[title] = (classes, [t.text or "" for t in g.iter(f"{SVG}text")])
    return out


def node_lines(drawing) -> dict[str, str]:
    """node id -> its DOT line (nodes only)."""
    lines = {}
    for line in drawing.source.splitlines():
        m = re.match(r"\s*([nogm]\d+) \[(.*)\]$", line)
        if m:
            lines[m.group(1)] = m.group(2)
    return lines


def edge_lines(drawing) -> list[tuple[str, str, str]]:
    return [
        (m.group(1), m.group(2), m.group(3))
        for m in (re.match(r"\s*(\w+) -> (\w+) \[(.*)\]$", line) for line in drawing.source.splitlines())
        if m
    ]


def classic():
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * 2
    L.label = "L"
    return a, b, c, e, d, L


# -- what a drawing shows -----------------------------------------------------------------


def test_value_nodes_show_name_data_grad_and_ops_sit_between_inputs_and_output():
    a, b, c, e, d, L = classic()
    L.backward()
    drawing = draw_dot(L)
    assert isinstance(drawing, graphviz.Digraph)
    nodes = svg_nodes(to_svg(drawing))
    shown = {texts[0]: texts for _, texts in nodes.values()}
    assert shown["a"] == ["a", "data 2.0", "grad -6.0"]
    assert shown["e"] == ["e", "data -6.0", "grad 2.0"]
    assert shown["L"] == ["L", "data 8.0", "grad 1.0"]
    assert shown["2.0"] == ["2.0"]  # the plain number, as a constant node
    ops = sorted(texts[0] for classes, texts in nodes.values() if "op" in classes)
    assert ops == ["*", "*", "+"]
    edges = {(s, t) for s, t, _ in edge_lines(drawing)}
    index = {n: i for i, n in enumerate(graph_nodes(L))}
    # a -> (*) -> e -> (+) -> d: each op between its inputs and its output
    assert {
        (f"n{index[a]}", f"o{index[e]}"),
        (f"o{index[e]}", f"n{index[e]}"),
        (f"n{index[e]}", f"o{index[d]}"),
    } <= edges


def test_unlabelled_nodes_get_short_automatic_names():
    x = Value(1.0)
    y = (x * 3).exp()
    texts = [t[0] for _, t in svg_nodes(to_svg(draw_dot(y))).values() if t and t[0] not in ("*", "exp")]
    assert sorted(texts) == ["3.0", "L", "v1", "v2"]


def test_colours_give_each_node_its_role():
    model = MLP(2, [1], seed=0)
    x = Value(0.5, label="x")
    out = model([x, Value(1.0, label="data", requires_grad=False)])
    loss = (out - 1.0) ** 2
    lines = node_lines(draw_dot(loss, module=model))
    role = {
        re.search(r'label="\{ ([^|]*?) (\||\})', attrs).group(1): re.search(
            r'class="value (\w+)', attrs
        ).group(1)
        for attrs in lines.values()
        if 'class="value' in attrs
    }
    assert role["x"] == "input" and role["data"] == "input"
    assert role["w.0"] == "parameter" and role["b"] == "parameter"
    assert role["1.0"] == "constant" and role["L"] == "output"
    assert role["v1"] == "intermediate"
    fills = {r: draw_module.COLOURS[r] for r in ("input", "parameter", "constant", "intermediate", "output")}
    assert len(set(fills.values())) == 5
    for attrs in lines.values():
        m = re.search(r'class="value (\w+)', attrs)
        if m and "group" not in attrs:
            assert f'fillcolor="{fills[m.group(1)]}"' in attrs


def test_fused_dot_and_sum_nodes_are_drawn_with_every_input():
    ws = [Value(w, label=f"w{i}") for i, w in enumerate([0.5, -1.0, 2.0])]
    xs = [Value(x, label=f"x{i}") for i, x in enumerate([1.0, 2.0, 3.0])]
    n = dot(ws, xs, 0.25)
    s = value_sum([n, n.tanh(), ws[0]])
    drawing = draw_dot(s)
    lines = node_lines(drawing)
    index = {node: i for i, node in enumerate(graph_nodes(s))}
    assert 'label="dot"' in lines[f"o{index[n]}"] and 'label="sum"' in lines[f"o{index[s]}"]
    into_dot = [e for e in edge_lines(drawing) if e[1] == f"o{index[n]}"]
    assert len(into_dot) == 2 * 3 + 1
    assert len([e for e in edge_lines(drawing) if e[1] == f"o{index[s]}"]) == 3


def test_tensor_nodes_show_shape_and_a_summary_of_data_and_grad():
    W = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, label="W")
    x = Tensor([1.0, 0.0, -1.0, 2.0], label="x")
    L = (W @ x).sum()
    L.backward()
    shown = {t[0]: t for _, t in svg_nodes(to_svg(draw_dot(L))).values()}
    assert shown["W"] == ["W", "shape (3, 4)", "data mean 5.5 in [0.0, 11.0]", "grad mean 0.5 in [-1.0, 2.0]"]
    assert shown["x"] == ["x", "shape (4,)", "data [1.0, 0.0, -1.0, 2.0]", "no grad"]
    assert shown["t1"][1:] == ["shape (3,)", "data [4.0, 12.0, 20.0]", "grad None"]  # intermediates keep none


def test_backward_view_points_from_output_to_inputs_with_width_by_gradient():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = a * b
    L.backward()
    drawing = draw_dot(L, view="backward")
    widths = {}
    for src, dst, attrs in edge_lines(drawing):
        assert 'dir="back"' in attrs  # arrows point from the output back to the inputs
        widths[(src, dst)] = float(re.search(r'penwidth="([\d.]+)"', attrs).group(1))
    # dL/da = b = -3 is the largest gradient, dL/db = 2, dL/dL = 1
    assert widths[("n0", "o2")] == 5.0
    assert widths[("n1", "o2")] == pytest.approx(1 + 4 * 2 / 3, abs=0.01)
    assert widths[("o2", "n2")] == pytest.approx(1 + 4 * 1 / 3, abs=0.01)
    forward = draw_dot(L)
    assert all('dir="back"' not in attrs for *_, attrs in edge_lines(forward))
    both = draw_dot(L, view="both")
    kinds = [("forward" in attrs, "gradient" in attrs) for *_, attrs in edge_lines(both)]
    assert kinds.count((True, False)) == kinds.count((False, True)) == 3


def test_non_finite_gradients_are_drawn_loud():
    x = Value(0.0, label="x")
    y = x.log()
    y.backward()
    edge = next(attrs for src, dst, attrs in edge_lines(draw_dot(y, view="backward")) if src == "n0")
    assert 'penwidth="5"' in edge and draw_module.NON_FINITE_EDGE in edge


# -- a backward step highlighted ---------------------------------------------------------


def grad_field(line: str) -> str:
    return re.search(r"\| (grad [^|}]*?) \}", line).group(1)


def test_draw_step_k_shows_the_graph_as_it_stands_after_step_k():
    a, b, c, e, d, L = classic()
    twin = classic()
    index = {n: i for i, n in enumerate(graph_nodes(L))}
    live = backward_steps(twin[-1])
    n_steps = len(list(backward_steps(classic()[-1])))
    for k in range(n_steps):
        step = next(live)
        drawing = draw_dot(L, step=k)
        lines = node_lines(drawing)
        # the grads drawn are the live grads after k+1 steps of backward_steps
        for mine, theirs in zip((a, b, c, e, d, L), twin):
            assert grad_field(lines[f"n{index[mine]}"]) == f"grad {draw_module.short_value(theirs.grad)}"
        current = [nid for nid, attrs in lines.items() if "current" in attrs]
        here = index[(a, b, c, e, d, L)[(twin).index(step.node)]]
        expected = [f"n{here}"] + ([f"o{here}"] if step.node._op is not None else [])
        assert sorted(current) == sorted(expected)
        active = [(s, t) for s, t, attrs in edge_lines(drawing) if "active" in attrs]
        if k > 0:  # the edges the current node sends gradient along
            twin_index = {n: i for i, n in enumerate(graph_nodes(twin[-1]))}  # the same layout
            assert {s for s, t in active if t == f"o{here}"} == {
                f"n{twin_index[p]}"
                for p in step.node.parents
                if p.requires_grad  # constants get none
            }
    assert (a.grad, L.grad) == (0.0, 0.0)  # drawing a step changes no .grad


def test_step_defaults_to_the_backward_view_and_must_be_in_range():
    *_, L = classic()
    assert all('dir="back"' in attrs for *_, attrs in edge_lines(draw_dot(L, step=0)))
    with pytest.raises(
        ValueError, match=r"step=4 is out of range: this graph has 4 backward steps, numbered 0 to 3"
    ):
        draw_dot(L, step=4)
    with pytest.raises(TypeError, match="step must be an int"):
        draw_dot(L, step=True)


# -- models: clusters and boxes ----------------------------------------------------------


def clusters_of(drawing) -> dict[str, list[str]]:
    """node id -> the labels of the clusters around it, outermost first."""
    stack, where = [], {}
    for line in drawing.source.splitlines():
        line = line.strip()
        m = re.match(r'subgraph cluster_\d+ \{ label="([^"]*)"', line)
        if m:
            stack.append(m.group(1))
        elif line == "}":
            if stack:
                stack.pop()
        else:
            n = re.match(r"([nogm]\d+) \[", line)
            if n:
                where[n.group(1)] = list(stack)
    return where


def small_model():
    model = MLP(2, [3, 1], seed=1)
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    loss = (out - 1.0) ** 2
    loss.backward()
    return model, out, loss


def legend_labels(drawing) -> list[str]:
    """The labels inside the legend cluster, in order (empty when there is no legend)."""
    source = drawing.source
    if "subgraph cluster_legend {" not in source:
        return []
    body = source.split("subgraph cluster_legend {", 1)[1].split("}", 1)[0]
    return re.findall(r'legend_\w+ \[label="([^"]*)"', body)


def test_the_legend_names_the_kinds_of_node_drawn_and_the_edges_of_the_view():
    a, b, c, e, d, L = classic()
    assert legend_labels(draw_dot(d)) == [], "no legend unless asked for"
    forward = legend_labels(draw_dot(d, legend=True))
    assert forward == ["input (a leaf)", "intermediate value", "output", "operation", "values flow"]
    L.backward()
    backward = legend_labels(draw_dot(L, view="backward", legend=True))
    assert "constant" in backward and backward[-2:] == [
        "gradients flow back (wider: larger)",
        "no gradient needed",
    ]
    stepped = legend_labels(draw_dot(L, step=1, legend=True))
    assert "this step's node" in stepped and stepped[-2:] == ["this step", "not reached yet"]
    model = MLP(2, [1], seed=0)
    drawn = legend_labels(draw_dot(model([Value(1.0), Value(2.0)]), module=model, legend=True))
    assert drawn[:2] == ["input (a leaf)", "parameter"]
    assert "a module, collapsed" not in drawn and "leaves drawn as one" not in drawn


def test_the_legend_names_collapsed_modules_and_grouped_leaves_when_drawn():
    model = MLP(3, [4, 4, 1], seed=0)
    out = model([Value(1.0), Value(2.0), Value(3.0)])
    assert "a module, collapsed" in legend_labels(draw_dot(out, module=model, collapse="Neuron", legend=True))
    grouped = legend_labels(draw_dot(out, module=model, collapse="leaves", legend=True))
    assert "leaves drawn as one" in grouped and "a module, collapsed" not in grouped


def test_the_legend_renders_to_svg():
    *_, L = classic()
    L.backward()
    svg = to_svg(draw_dot(L, view="both", legend=True))
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert "legend" in texts and "values flow" in texts and "gradients flow back (wider: larger)" in texts


def test_a_model_draws_a_cluster_per_layer_and_neuron():
    model, out, loss = small_model()
    drawing = draw_dot(loss, module=model)
    where = clusters_of(drawing)
    index = {n: i for i, n in enumerate(graph_nodes(loss))}
    w = model.layers[0].neurons[1].w[0]
    assert where[f"n{index[w]}"] == ["MLP", "Layer layers.0", "Neuron layers.0.neurons.1"]
    assert where[f"n{index[out]}"] == ["MLP", "Layer layers.1", "Neuron layers.1.neurons.0"]
    x0 = next(n for n in index if n.label == "x0")
    assert where[f"n{index[x0]}"] == [] and where[f"n{index[loss]}"] == []  # inputs and the loss sit outside
    assert drawing.source.count("subgraph cluster_") == 1 + 2 + 4


def test_collapse_draws_one_box_per_module_with_its_outputs():
    model, out, loss = small_model()
    neurons = draw_dot(loss, module=model, collapse="Neuron")
    boxes = {nid: attrs for nid, attrs in node_lines(neurons).items() if "value module" in attrs}
    assert len(boxes) == 4
    assert any(
        "Neuron layers.1.neurons.0 \\| 4 parameters \\| out data" in a.replace(" | ", " \\| ")
        for a in boxes.values()
    )
    layers = draw_dot(loss, module=model, collapse="Layer")
    assert sum("value module" in a for a in node_lines(layers).values()) == 2
    shown = {t[0] for _, t in svg_nodes(to_svg(layers)).values()}
    assert {"Layer layers.0", "Layer layers.1", "L", "x0", "x1"} <= shown
    assert not any(t.startswith("w.") for t in shown)  # the parameters are inside the boxes


def test_a_duck_typed_model_needs_only_named_parameters():
    w = Value(0.5)
    x = Value(2.0, label="x")

    class Tiny:
        def named_parameters(self):
            yield "weight", w

    lines = node_lines(draw_dot(w * x, module=Tiny()))
    assert any('label="{ weight |' in a and "parameter" in a for a in lines.values())


def test_module_options_are_checked_with_helpful_errors():
    model, out, loss = small_model()
    with pytest.raises(ValueError, match=r"names no module class.*\['Layer', 'MLP', 'Neuron'\]"):
        draw_dot(loss, module=model, collapse="Conv")
    with pytest.raises(ValueError, match="needs the model: draw_dot\\(out, module=model"):
        draw_dot(loss, collapse="Neuron")
    with pytest.raises(TypeError, match="named_parameters"):
        draw_dot(loss, module=object())
    with pytest.raises(TypeError, match="call the model on an input first"):
        draw_dot(model)
    with pytest.raises(ValueError, match="collapse must be"):
        draw_dot(loss, collapse=3)
    with pytest.raises(ValueError, match="view must be one of"):
        draw_dot(loss, view="sideways")
    with pytest.raises(ValueError, match="rankdir must be one of"):
        draw_dot(loss, rankdir="up")


# -- size limits ---------------------------------------------------------------------------


def test_the_default_limit_draws_mlp_2_16_16_1_on_one_input():
    model = MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -1.0])
    assert len(graph_nodes(out)) > DEFAULT_MAX_NODES  # so it is collapsed automatically
    drawing = draw_dot(out)
    assert "value group" in drawing.source
    assert len(svg_nodes(to_svg(drawing))) > 50
    assert len(svg_nodes(to_svg(draw_dot(out, module=model)))) > 50
    with pytest.raises(ValueError, match="more than max_nodes=200"):
        draw_dot(out, collapse=False)


def test_too_many_nodes_is_an_error_that_suggests_collapse_or_a_higher_limit():
    v = Value(1.0)
    for _ in range(300):
        v = v.tanh()
    with pytest.raises(ValueError, match=r"301 value nodes.*collapse=.*max_nodes=\d+ or more"):
        draw_dot(v, max_nodes=100)
    assert len(node_lines(draw_dot(v, max_nodes=301))) == 301 + 300
    with pytest.raises(ValueError, match="max_nodes must be a positive int"):
        draw_dot(v, max_nodes=0)


def test_a_million_node_graph_fails_fast_without_recursion():
    v = Value(1.0)
    for _ in range(1_000_000):
        v = -v
    assert sys.getrecursionlimit() < 1_000_000
    with pytest.raises(ValueError, match="1000001 value nodes"):
        draw_dot(v)
    w = Value(1.0)
    for _ in range(5000):  # deep, and within a raised limit: drawn iteratively
        w = -w
    with pytest.warns(UserWarning, match="backward"):  # (backward was not called)
        assert len(node_lines(draw_dot(w, max_nodes=10_000, view="backward"))) == 5001 + 5000


# -- escaping ------------------------------------------------------------------------------

TRICKY = '"{}|<>\\\n\t;=[]-é漢💡\x00' + "ab"


@given(st.text(alphabet=TRICKY, min_size=1, max_size=12), st.text(alphabet=TRICKY, min_size=1, max_size=6))
def test_labels_and_op_names_can_neither_break_nor_inject(label, op_name):
    x = Value(1.5, label=label)
    weird = Op(op_name, lambda a: 2 * a, lambda g, out, a: (2 * g,))
    y = Value.apply(weird, x)
    y.label = "y"
    nodes = svg_nodes(to_svg(draw_dot(y), renderer="wasm"))
    assert sorted(nodes) == ["n0", "n1", "o1"]  # nothing injected, nothing lost
    shown = "\n".join(nodes["n0"][1][:-2])  # the label's lines, before data and grad
    expected = label.replace("\t", "\\x09").replace("\x00", "\\x00")
    assert [s.strip() for s in shown.split("\n") if s.strip()] == [
        s.strip() for s in expected.split("\n") if s.strip()
    ]
    assert nodes["n0"][1][-2:] == ["data 1.5", "grad 0.0"]
    op_text = "".join(nodes["o1"][1])
    assert op_text.replace(" ", "") == op_name.replace("\t", "\\x09").replace("\x00", "\\x00").replace(
        "\n", ""
    ).replace(" ", "")


def test_an_injection_attempt_stays_a_label():
    x = Value(1.0, label='a" ] ; injected [label="x"] ; n0 -> n0 [')
    y = x * Value(2.0, label="}|{<p0> \\N \\G")
    svg = to_svg(draw_dot(y))
    nodes = svg_nodes(svg)
    assert "injected" not in nodes and len(nodes) == 4
    texts = [t for _, ts in nodes.values() for t in ts]
    assert 'a" ] ; injected [label="x"] ; n0 -> n0 [' in texts and "}|{<p0> \\N \\G" in texts


# -- rendering -----------------------------------------------------------------------------


@pytest.mark.skipif(not HAVE_DOT, reason="system Graphviz is not installed")
def test_svg_uses_system_dot_when_it_is_on_path(tmp_path, monkeypatch):
    calls = []
    real_run = draw_module.subprocess.run
    monkeypatch.setattr(
        draw_module.subprocess, "run", lambda *a, **k: calls.append(a[0]) or real_run(*a, **k)
    )
    *_, L = classic()
    path = render(draw_dot(L), tmp_path / "graph.svg")
    assert path == tmp_path / "graph.svg" and [p.name for p in tmp_path.iterdir()] == ["graph.svg"]
    assert calls and calls[0][0] == shutil.which("dot")
    assert len(svg_nodes(path.read_text())) == 10


def test_svg_falls_back_to_the_in_process_renderer_without_system_dot(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setattr(draw_module.subprocess, "run", None)  # no program may be started
    *_, L = classic()
    path = render(L, tmp_path / "graph.svg")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]
    svg = path.read_text()
    assert "Generated by graphviz version 16" in svg  # the WebAssembly build
    assert len(svg_nodes(svg)) == 10
    bundle = draw_dot(L)._repr_mimebundle_()  # Jupyter shows it through the same fallback
    assert list(bundle) == ["image/svg+xml"] and "<svg" in bundle["image/svg+xml"]


def test_png_and_pdf_without_system_dot_say_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    *_, L = classic()
    for suffix in ("png", "pdf"):
        with pytest.raises(
            GraphvizNotFoundError,
            match=rf"{suffix.upper()} needs the Graphviz `dot` program.*apt-get install graphviz.*\.svg",
        ):
            render(L, tmp_path / f"graph.{suffix}")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="SVG only"):
        render(L, tmp_path / "graph.png", renderer="wasm")


@pytest.mark.skipif(not HAVE_DOT, reason="system Graphviz is not installed")
def test_png_and_pdf_with_system_dot(tmp_path):
    *_, L = classic()
    assert render(L, tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert render(L, tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.pdf", "g.png"]


def test_the_format_comes_from_the_suffix(tmp_path):
    *_, L = classic()
    with pytest.raises(ValueError, match=r"end the file name with one of \.svg, \.png, \.pdf, \.dot, \.gv"):
        render(L, tmp_path / "graph.jpg")
    source = render(L, tmp_path / "graph.dot").read_text()
    assert source == draw_dot(L).source
    with pytest.raises(TypeError, match="render\\(\\) takes"):
        render("a*b", tmp_path / "x.svg")


# -- a model's parameters, its clusters, and backward not yet run --------------------------


def test_a_models_parameters_are_named_and_coloured_as_parameters_without_passing_it():
    model = MLP(2, [2, 1], seed=0)
    x = Value(0.5, label="x")
    out = model([x, Value(1.0)])  # a plain Value leaf of the user's stays an input
    lines = node_lines(draw_dot(out, legend=True))
    index = {n: i for i, n in enumerate(graph_nodes(out))}
    for name, p in model.named_parameters():
        line = lines[f"n{index[p]}"]
        assert f'label="{{ {name} |' in line and 'class="value parameter"' in line
        assert f'fillcolor="{draw_module.COLOURS["parameter"]}"' in line
    for leaf in (n for n in index if n._op is None and n not in set(model.parameters())):
        assert 'class="value input"' in lines[f"n{index[leaf]}"]
    assert draw_module.COLOURS["parameter"] != draw_module.COLOURS["input"]
    assert legend_labels(draw_dot(out, legend=True))[:2] == ["input (a leaf)", "parameter"]
    # a leaf that belongs to no model, even one that requires grad, is an input
    assert "parameter" not in legend_labels(draw_dot(x * Value(2.0) + 1, legend=True))


def test_module_clusters_come_in_the_models_order_not_string_order():
    model = MLP(1, [1] * 12, seed=0)
    drawing = draw_dot(model([Value(1.0, label="x")]), module=model)
    labels = re.findall(r'subgraph cluster_\d+ \{ label="(\w+ [\w.]+)"', drawing.source)
    layers = [label.split()[1] for label in labels if label.startswith("Layer")]
    assert layers == [f"layers.{i}" for i in range(12)]
    assert (
        labels.index("Layer layers.2")
        < labels.index("Neuron layers.2.neurons.0")
        < labels.index("Layer layers.10")
    )


def test_drawing_gradients_before_backward_warns_to_call_backward_first():
    model = MLP(2, [2, 1], seed=0)
    out = model([Value(0.5), Value(-1.0)])
    for view in ("backward", "both"):
        with pytest.warns(UserWarning, match=r"call \.backward\(\) on the output first"):
            draw_dot(out, view=view)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_dot(out)  # the forward view shows no gradients
        draw_dot(out, step=2)  # a step shows the pass it narrates
        out.backward(0.0)  # a real pass that gives zeros everywhere
        assert all(p.grad == 0.0 for p in model.parameters()) and out.grad == 0.0
        draw_dot(out, view="backward")
        no_grad_needed = Value(1.0, requires_grad=False) * 2
        draw_dot(no_grad_needed, view="backward")  # nothing to call backward on
    model.zero_grad()  # the next training step, before its backward
    out = model([Value(0.5), Value(-1.0)])
    with pytest.warns(UserWarning, match="none since the last zero_grad"):
        draw_dot(out, view="backward")
    out.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_dot(out, view="backward")


def test_tensor_graphs_collapse_and_step_by_identity_not_by_elementwise_equality():
    """Tensor == is elementwise (as torch.eq), so the drawing must find its nodes by identity:
    a module box with two outputs, and the group of leaves at every step of the pass."""
    from micrograd_plus import nn

    model = nn.Sequential(nn.Linear(3, 2, seed=0), nn.ReLU(), nn.Linear(2, 1, seed=1))
    x = Tensor(np.ones((4, 3)))
    loss = model(x).sum() + (model[0].weight * model[0].weight).sum()  # the weight leaves the box too
    boxes = [
        a for a in node_lines(draw_dot(loss, module=model, collapse="Linear")).values() if "value module" in a
    ]
    assert len(boxes) == 2 and sum(a.count("out data") for a in boxes) >= 3

    one = Tensor([1.0], requires_grad=True)
    other = Tensor([1.0], requires_grad=True)  # equal numbers: == says True, `is` says no
    s = one * other
    loss = s + s * 3
    steps = len(list(backward_steps(loss)))
    for k in range(steps):
        lines = node_lines(draw_dot(loss, collapse="leaves", step=k))
        groups = [a for nid, a in lines.items() if nid.startswith("g")]
        assert groups and not any("current" in a for a in groups), k  # no leaf's rule runs
        assert sum("current" in a for nid, a in lines.items() if nid[0] in "ng") == 1, k  # one value node
