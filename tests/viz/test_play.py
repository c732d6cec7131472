"""play(): the step player shown inline in a notebook. Its HTML is one iframe holding the very
page export_html writes (so no notebook front end must run a script of the output itself, and
players cannot clash); in headless Chromium two players on one page step independently."""

from __future__ import annotations

import html
import re

import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS, neuron, sync_playwright_or_skip

import micrograd_plus
from micrograd_plus import MLP, Value, export_html, play
from micrograd_plus.viz.player import Player


def srcdoc(markup: str) -> str:
    (attribute,) = re.findall(r'srcdoc="([^"]*)"', markup)
    return html.unescape(attribute)


def test_play_shows_the_export_html_page_in_one_iframe_and_saves_it(tmp_path):
    o, _ = neuron()
    player = play(o, title="the neuron")
    assert isinstance(player, Player) and micrograd_plus.play is play
    markup = player._repr_html_()
    assert markup.startswith("<iframe ") and markup.endswith("</iframe>") and markup.count("<iframe") == 1
    assert "<script" not in markup.lower()  # the output runs nothing itself: the script is in the srcdoc
    # what a front end that strips iframes (JupyterLab, for an untrusted notebook) shows instead
    assert markup.endswith(
        ">The step player appears here when this cell runs (a notebook's saved outputs "
        "are shown only once the notebook is trusted): run the cell, or save the player "
        "with .save(path).</iframe>"
    )
    page = srcdoc(markup)
    file_page = export_html(o, tmp_path / "file.html", title="the neuron").read_text(encoding="utf-8")
    assert page == file_page == player.page
    assert player.save(tmp_path / "saved.html") == tmp_path / "saved.html"
    assert (tmp_path / "saved.html").read_text(encoding="utf-8") == file_page
    for name in ("Prev", "Play", "Next"):
        assert f">{name}</button>" in page
    assert player.steps == page.count('<section class="step"') == 12
    assert repr(player) == "<Player of 12 steps: display it in a notebook, or .save('player.html')>"
    assert o.grad == 0.0  # a viewer changes no gradient


def test_play_escapes_labels_and_title_and_takes_export_htmls_options():
    x = Value(1.0, label='"><script>alert(1)</script>')
    player = play(x * 2, title='<b onload="x">t</b>')
    markup = player._repr_html_()
    assert "<script" not in markup.lower() and "<b " not in markup
    page = srcdoc(markup)
    assert page.count("<script>") == 1 and "<script>alert(1)" not in page
    model = MLP(2, [2, 1], seed=0)
    out = model([0.5, -1.0])
    assert play(out, module=model, collapse="Neuron").page.count('class="node value module') >= 3
    with pytest.raises(ValueError, match="max_nodes=3"):
        play(out, max_nodes=3)
    with pytest.raises(TypeError, match=r"play\(\) takes a Value or Tensor, got MLP"):
        play(model)
    with pytest.raises(TypeError, match="title must be a str, got int: 5"):
        play(out, title=5)


def test_two_inline_players_step_independently_in_headless_chromium(tmp_path):
    sync_playwright = sync_playwright_or_skip()
    first, second = play(neuron()[0]), play(Value(3.0, label="a") * Value(2.0, label="b"))
    notebook = tmp_path / "notebook.html"
    notebook.write_text(
        f"<!DOCTYPE html><html><body><p>cell 1</p>{first._repr_html_()}"
        f"<p>cell 2</p>{second._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(notebook.as_uri())
            frames = [page.frame_locator("iframe.micrograd-plus-player").nth(k) for k in range(2)]

            def narration(k):
                return frames[k].locator("section.step:not([hidden]) pre.narration").inner_text()

            assert narration(0).startswith("given: x1 = 2.0") and narration(1) == "given: a = 3.0, b = 2.0"
            frames[0].get_by_role("button", name="Next").click()
            assert narration(0) == "v1 = x1 * w1 = 2.0 * -3.0 = -6.0"
            assert narration(1) == "given: a = 3.0, b = 2.0"  # the other player did not move
            frames[1].get_by_role("button", name="Next").click()
            frames[1].get_by_role("button", name="Next").click()
            assert narration(1).startswith("dL/dL = 1.0, the seed") and narration(0).startswith("v1 = ")
            frames[1].locator("body").press("ArrowLeft")  # keys move the focused player only
            assert narration(1) == "L = a * b = 3.0 * 2.0 = 6.0" and narration(0).startswith("v1 = ")
            # each iframe is made as tall as its tallest step: nothing scrolls inside it
            for k in range(2):
                frame = page.locator("iframe.micrograd-plus-player").nth(k)
                inner = frames[k].locator("html").evaluate("e => e.scrollHeight")
                assert frame.evaluate("e => e.clientHeight") >= inner
        finally:
            browser.close()
    assert requests == [notebook.as_uri()]  # nothing fetched: the players are self-contained
