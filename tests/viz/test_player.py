"""The HTML player: one self-contained page per trace, checked as text and in headless
Chromium (pressing Next and the right arrow must change the narration and the highlight)."""

from __future__ import annotations

import re

import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS, neuron, sync_playwright_or_skip

from micrograd_plus import MLP, Value, backward_steps, export_html, forward_steps
from micrograd_plus.viz.player import inline_svg


def test_the_page_has_one_inline_svg_and_narration_per_step_and_no_links_out(tmp_path):
    o, leaves = neuron()
    path = export_html(o, tmp_path / "trace.html")
    assert path == tmp_path / "trace.html" and [p.name for p in tmp_path.iterdir()] == ["trace.html"]
    page = path.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="step".*?</section>', page, re.DOTALL)
    n_forward, n_backward = len(list(forward_steps(o))), len(list(backward_steps(neuron()[0])))
    assert len(sections) == 1 + n_forward + n_backward
    assert all(s.count("<svg") == 1 and s.count('<pre class="narration">') == 1 for s in sections)
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


def test_the_player_steps_in_headless_chromium(tmp_path):
    sync_playwright = sync_playwright_or_skip()
    from playwright.sync_api import expect

    o, _ = neuron()
    path = export_html(o, tmp_path / "trace.html")
    requests: list[str] = []
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
            page.goto(path.as_uri())

            def state():
                visible = page.locator("section.step:not([hidden])")
                assert visible.count() == 1
                narration = visible.locator("pre.narration").inner_text()
                current = visible.locator("g.node.current > title").evaluate_all(
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
