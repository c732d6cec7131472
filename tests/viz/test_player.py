"""The HTML player: one self-contained page per trace, checked as text and in headless
Chromium (pressing Next and the right arrow must change the narration and the highlight)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS, neuron, sync_playwright_or_skip

from micrograd_plus import MLP, Value, backward_steps, export_html, forward_steps, play
from micrograd_plus.viz.draw import COLOURS, Frame, Scene
from micrograd_plus.viz.player import (
    _json_for_html,
    _state,
    encode_drawings,
    inline_svg,
    player_frames,
    render_frames,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_page_has_a_narration_per_step_a_drawing_per_view_and_no_links_out(tmp_path):
    o, leaves = neuron()
    path = export_html(o, tmp_path / "trace.html")
    assert path == tmp_path / "trace.html" and [p.name for p in tmp_path.iterdir()] == ["trace.html"]
    page = path.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="step".*?</section>', page, re.DOTALL)
    n_forward, n_backward = len(list(forward_steps(o))), len(list(backward_steps(neuron()[0])))
    assert len(sections) == 1 + n_forward + n_backward
    assert all(s.count('<pre class="narration">') == 1 and "<svg" not in s for s in sections)
    # one drawing for the forward steps and one for the backward steps, and each step's changes
    assert page.count('<template class="base"><svg') == 2
    data = re.search(r'<script type="application/json" class="steps">(.*?)</script>', page, re.DOTALL)
    assert [base for base, _ in json.loads(data.group(1))] == [0] * (1 + n_forward) + [1] * n_backward
    assert "x1 = 2.0, w1 = -3.0, x2 = 0.0, w2 = 1.0, b = 6.88137" in sections[0]
    assert "n = v3 + b = -6.0 + 6.88137 = 0.881374" in page
    assert "do/dn += do/do * do/dn = 1.0 * 0.5 = 0.5   (n.grad: 0.0 -&gt; 0.5)" in page
    for name in ("Prev", "Next", "Play"):
        assert f">{name}</button>" in page
    assert 'type="range"' in page and "ArrowRight" in page and "ArrowLeft" in page
    # self-contained: nothing to fetch, nowhere to go
    assert not re.search(r"https?://", page)
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "default-src 'none'" in page
    assert all(leaf.grad == 0.0 for leaf in leaves) and o.grad == 0.0  # no .grad was changed


def test_labels_cannot_inject_into_the_page(tmp_path):
    x = Value(1.0, label="</pre><script>alert(1)</script>")
    y = x * 2
    page = export_html(y, tmp_path / "t.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    assert page.count("<script>") == 1


def test_inline_svg_drops_the_prolog_and_namespace_urls():
    svg = '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "x" "http://www.w3.org/x.dtd">\n<!-- c -->\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="1"><g/></svg>'
    assert inline_svg(svg) == '<svg width="1"><g/></svg>'


def test_a_model_player_uses_the_same_collapsing_and_limits(tmp_path):
    model = MLP(2, [2, 1], seed=0)
    out = model([0.5, -1.0])
    page = export_html(out, tmp_path / "m.html", module=model, collapse="Neuron").read_text()
    assert page.count('class="node value module') >= 3
    with pytest.raises(ValueError, match="max_nodes=3"):
        export_html(out, tmp_path / "too_big.html", max_nodes=3)
    with pytest.raises(TypeError, match="export_html\\(\\) takes a Value or Tensor"):
        export_html(model, tmp_path / "x.html")


@pytest.mark.parametrize("name", ["x.svg", "x.png", "x.PDF", "x.txt", "x"])
def test_a_page_is_written_only_to_an_html_file(name, tmp_path, monkeypatch):
    player = play(Value(2.0) * 3)
    rendered = []
    monkeypatch.setattr("micrograd_plus.viz.player.player_page", lambda *a, **k: rendered.append(1))
    for write, caller in [
        (lambda p: export_html(Value(2.0) * 3, p), "export_html"),
        (player.save, "Player.save"),
    ]:
        with pytest.raises(ValueError) as caught:
            write(tmp_path / name)
        assert str(caught.value).startswith(
            f"{caller}() writes an HTML page: end the file name with .html or .htm, got {str(tmp_path / name)!r}"
        )
        assert ("render(root, path) draws the graph" in str(caught.value)) == (name != "x")
    assert list(tmp_path.iterdir()) == [] and rendered == []  # refused before any rendering


@pytest.mark.parametrize("name", ["p.html", "p.htm", "P.HTML"])
def test_html_and_htm_in_any_case_are_written(name, tmp_path):
    assert (
        export_html(Value(2.0) * 3, tmp_path / name).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    )
    assert play(Value(2.0) * 3).save(tmp_path / f"saved-{name}").exists()


def rebuilt(encoded) -> list[dict]:
    """What each step shows when its patches are applied to its base, as the page's script does."""
    shown, out = {}, []
    for k, (base, patch) in enumerate(encoded.steps):
        if k == 0 or base != encoded.steps[k - 1][0]:
            shown = dict(_state(encoded.bases[base])[1])
        for key, child, attrs, text in patch:
            shown[(key, child)] = (tuple(sorted(attrs.items())), text)
        out.append(dict(shown))
    return out


def test_the_steps_changes_rebuild_every_steps_drawing_exactly():
    """Applying a step's patches to its base gives what that step's own SVG shows (every
    attribute but the geometry, every text); a step of another structure starts a new base."""
    model = MLP(2, [2, 1], seed=3)
    for root, module in ((neuron()[0], None), (model([Value(0.5), Value(-1.0)]), model)):
        scene = Scene(root, module=module)
        frames = player_frames(scene)
        svgs = render_frames(scene, frames)
        encoded = encode_drawings(svgs, [frame.view for _, _, frame in frames])
        assert len(encoded.bases) == 2 and len(encoded.steps) == len(svgs)
        assert rebuilt(encoded) == [_state(svg)[1] for svg in svgs]
        assert sum(len(patch) for _, patch in encoded.steps[1:]) < len(_state(svgs[0])[1]) * len(svgs) / 3
    other = render_frames(Scene(Value(1.0) * 2), [("", "", Frame("forward"))])
    mixed = [svgs[0], svgs[1], *other, svgs[2]]
    encoded = encode_drawings(mixed, ["forward"] * 4)
    assert [base for base, _ in encoded.steps] == [0, 0, 1, 2] and encoded.bases[1] == other[0]
    assert rebuilt(encoded) == [_state(svg)[1] for svg in mixed]


def test_data_in_the_page_cannot_end_its_script_element():
    text = "</script><script>alert(1)</script> & <!--"
    encoded = _json_for_html([text])
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert json.loads(encoded) == [text]


def test_an_mlp_player_page_is_small_and_the_docs_state_its_size():
    sys.path.insert(0, str(DOCS))
    try:
        import make_figures
    finally:
        sys.path.pop(0)
    page = make_figures.mlp_player_html()  # MLP(2, [16, 16, 1]) on one input: one SVG per step made 14 MB
    assert len(page) < 3_000_000
    assert make_figures.size_sentence(page) in (DOCS / "stepping.md").read_text(encoding="utf-8"), (
        "docs/stepping.md states another size: run python docs/make_figures.py"
    )


@pytest.mark.parametrize("renderer", ["auto", "wasm"])
def test_the_player_steps_in_headless_chromium(tmp_path, renderer):
    sync_playwright = sync_playwright_or_skip()
    from playwright.sync_api import expect

    o, _ = neuron()
    path = export_html(o, tmp_path / "trace.html", renderer=renderer)
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user data dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        try:
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(path.as_uri())

            def state():
                visible = page.locator("section.step:not([hidden])")
                assert visible.count() == 1
                narration = visible.locator("pre.narration").inner_text()
                current = page.locator(".drawing g.node.current > title").evaluate_all(
                    "els => els.map(e => e.textContent)"
                )
                return narration, current, page.locator("#counter").inner_text()

            first = state()
            assert first[0].startswith("given: x1 = 2.0") and first[1] == [] and first[2].startswith("1 / ")
            page.get_by_role("button", name="Next").click()
            second = state()
            assert second[0] == "v1 = x1 * w1 = 2.0 * -3.0 = -6.0" and second[2].startswith("2 / ")
            assert len(second[1]) == 2  # the new value and its operation are highlighted
            page.keyboard.press("ArrowRight")
            third = state()
            assert third[0].startswith("v2 = x2 * w2") and third[1] != second[1]
            page.keyboard.press("ArrowLeft")
            assert state() == second
            page.locator("#slider").fill(str(page.locator("section.step").count() - 1))
            last = state()
            assert last[0].startswith("v1 = x1 * w1 sends do/dv1 = 0.5") and "do/dw1 += " in last[0]
            assert last[1] and last[1] != third[1]
            page.get_by_role("button", name="Prev").click()
            assert state()[0] != last[0]
            page.get_by_role("button", name="Play").click()  # plays on to the last step, then stops
            total = page.locator("section.step").count()
            expect(page.locator("#counter")).to_have_text(f"{total} / {total}", timeout=10_000)
            expect(page.locator("#play")).to_have_text("Play")
            assert state() == last
            page.screenshot(path=str(tmp_path / "player.png"), full_page=True)
        finally:
            context.close()
    assert (tmp_path / "player.png").stat().st_size > 10_000
    assert requests == [path.as_uri()]  # the page itself, nothing else
    assert errors == []


def test_a_large_graphs_player_follows_the_current_node_and_zooms(tmp_path):
    sync_playwright = sync_playwright_or_skip()

    model = MLP(2, [16, 16, 1], seed=0)
    out = model([Value(0.5, label="x1"), Value(-1.0, label="x2")])
    path = export_html(out, tmp_path / "mlp.html", module=model)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(path.as_uri())
            drawing = page.locator(".drawing")

            def current():
                """The narrated node's name, the highlighted value node (its texts and fill),
                and whether it lies inside the drawing's visible box."""
                name = page.locator("section.step:not([hidden]) pre.narration").inner_text().split(" = ")[0]
                node = page.locator(".drawing g.node.value.current")
                assert node.count() == 1
                texts = node.locator("text").evaluate_all("els => els.map(e => e.textContent)")
                fill = node.locator("polygon").first.get_attribute("fill")
                box, view = node.bounding_box(), drawing.bounding_box()
                inside = (
                    view["x"] <= box["x"]
                    and box["x"] + box["width"] <= view["x"] + view["width"]
                    and view["y"] <= box["y"]
                    and box["y"] + box["height"] <= view["y"] + view["height"]
                )
                return name, texts, fill, inside

            total = page.locator("section.step").count()
            scrolled = []
            for k in (total // 3, total // 2 + 5, total - 1):  # a forward, then backward steps far apart
                page.locator("#slider").fill(str(k))
                name, texts, fill, inside = current()
                assert texts[0] == name and fill == COLOURS["current"] and inside, (k, name, texts, fill)
                scrolled.append((drawing.evaluate("d => d.scrollLeft"), drawing.evaluate("d => d.scrollTop")))
            assert len(set(scrolled)) == 3  # the drawing was scrolled to follow the node
            page.get_by_role("button", name="Prev").click()
            assert current()[1][0] == current()[0] and current()[3]

            def scale():
                return float(drawing.get_attribute("data-zoom")), page.locator(".drawing svg").bounding_box()[
                    "width"
                ]

            before = scale()
            page.get_by_role("button", name="Zoom in").click()
            zoomed = scale()
            assert zoomed[0] > before[0] and zoomed[1] > before[1] * 1.2
            assert current()[3]  # still in view after zooming
            page.get_by_role("button", name="Zoom out").click()
            page.get_by_role("button", name="Zoom out").click()
            assert scale()[1] < before[1]
            drawing.hover()
            page.keyboard.down("Control")
            page.mouse.wheel(0, -200)
            page.keyboard.up("Control")
            assert scale()[1] > zoomed[1] / 1.25 / 1.25 * 1.05  # ctrl+wheel zooms in
            page.get_by_role("button", name="Fit").click()
            assert (
                abs(
                    page.locator(".drawing svg").bounding_box()["width"]
                    - drawing.evaluate("d => d.clientWidth")
                )
                < 2
            )
            for name in ("Prev", "Play", "Next"):
                assert page.get_by_role("button", name=name).inner_text() == name
            assert errors == []
        finally:
            browser.close()
