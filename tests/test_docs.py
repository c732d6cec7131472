"""The documentation: every code block of the README and of every docs page runs, the README is a
short front door, and the site builds strictly, lists every public name and plays its step
player offline in headless Chromium."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import inspect
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS, docs_required, sync_playwright_or_skip

import micrograd_plus

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.glob("*.md"))


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def public_names() -> set[str]:
    return {
        n
        for n in dir(micrograd_plus)
        if not n.startswith("_") and not inspect.ismodule(getattr(micrograd_plus, n))
    }


# -- every code block runs ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: p.name)
def test_every_python_block_runs_and_prints_what_it_says(path, tmp_path, monkeypatch, capsys):
    """A page's blocks run in order in one namespace, as a reader pastes them, in a scratch
    folder; `print(x)  # text` promises that `text` is printed (`# text ...`: a line starting with
    `text`); the copy-and-paste tests a page
    defines (functions named test_*) run too."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{path.stem}"}
    blocks = python_blocks(path)
    for index, code in enumerate(blocks):
        exec(compile(code, f"{path.name} python block {index}", "exec"), namespace)
    for name, test in list(namespace.items()):
        if name.startswith("test_") and callable(test):
            test()
    printed = capsys.readouterr().out
    for code in blocks:
        for promised in re.findall(r"print\(.*\)\s+# (.*)", code):
            assert promised.strip().removesuffix("...").rstrip() in printed, (
                f"{path.name}: {promised!r} not printed"
            )


def test_the_block_runner_sees_every_kind_of_block():
    """The runner would run nothing if the fences were read wrongly: count what it finds."""
    counts = {path.name: len(python_blocks(path)) for path in [README, *PAGES]}
    assert counts["README.md"] == 5 and counts["getting-started.md"] >= 3 and counts["checking.md"] >= 5
    assert sum(counts.values()) >= 30
    assert not any("```py\n" in p.read_text(encoding="utf-8") for p in [README, *PAGES])


# -- the README: a short front door --------------------------------------------------------------


def test_the_readme_is_a_short_front_door_in_the_agreed_order():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    headings = re.findall(r"^## (.*)$", text, flags=re.M)
    assert headings == [
        "Quick start",
        "The engine in five lines",
        "Draw it",
        "Step through it",
        "Read `engine.py`",
        "An MLP and the demo",
        "Checking gradients",
        "Safety",
        "The documentation",
    ]
    before_quick_start = text[: text.index("## Quick start")]
    assert before_quick_start.count("![") == 1 and "**Contents:**" in before_quick_start
    for anchor in re.findall(r"\]\(#([^)]+)\)", before_quick_start):
        assert anchor in {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}, anchor


def test_every_figure_and_link_of_the_readme_exists_and_names_its_command():
    text = README.read_text(encoding="utf-8")
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert figures == ["docs/neuron_backward.svg", "docs/player_screenshot.png"]
    assert "`python docs/make_figures.py`" in text  # the command that makes both
    for target in re.findall(r"\]\(((?:docs|micrograd_plus)/[^)#]+)\)", text):
        assert (ROOT / target).exists(), target


def test_the_readme_shell_commands_run(tmp_path):
    """`make demo` and `make test` are run by CI itself; the `micrograd-plus` lines run here."""
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    lines = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert lines[:2] == ["make demo", "make test"]
    commands = [shlex.split(line) for line in lines[2:]]
    assert commands and all(words[0] == "micrograd-plus" for words in commands)
    for words in commands:
        done = subprocess.run(
            [sys.executable, "-m", "micrograd_plus", *words[1:]],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "trace.html").read_text(encoding="utf-8").count('<section class="step"') > 5


# -- the site --------------------------------------------------------------------------------------


def test_every_page_is_in_the_navigation_and_every_public_name_in_the_api_reference():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert {p.name for p in PAGES} == set(re.findall(r"^  - [^:]+: (\S+\.md)$", config, flags=re.M))
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    referenced = set(re.findall(r"^::: micrograd_plus\.(\w+)$", api, flags=re.M))
    assert referenced - {"testing"} == public_names()


def test_the_architecture_table_names_every_module_of_the_package_and_only_those():
    """The table of docs/architecture.md is where a reader looks a file up: each path it names
    exists, and each module of the package (but `__init__`, `__main__`) has its row."""
    table = [
        line
        for line in (DOCS / "architecture.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    ]
    named = {path for line in table for path in re.findall(r"`([\w/]+\.py)`", line.split("|")[1])}
    package = ROOT / "micrograd_plus"
    modules = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    assert named == modules, (sorted(named - modules), sorted(modules - named))


def test_every_tutorial_shows_what_its_quick_run_prints_and_draws():
    page = (DOCS / "tutorials.md").read_text(encoding="utf-8")
    scripts = sorted(p.name for p in (ROOT / "examples").glob("[0-9]*.py"))
    assert re.findall(r"<!-- quick-run: examples/(\S+) -->", page) == scripts


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built as `make docs` builds it (strict: a warning fails), into a scratch folder."""
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        if not docs_required():
            pytest.skip("mkdocs is not installed (pip install -e '.[docs]'; CI requires it)")
        raise
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_the_site_builds_strictly_with_every_page_the_api_and_the_tutorial_figures(site):
    for page in PAGES:
        assert (site / page.with_suffix(".html").name).is_file(), page.name
    api = (site / "api.html").read_text(encoding="utf-8")
    for name in public_names() | {"Value.backward", "Tensor.backward"}:
        assert f'id="micrograd_plus.{name}"' in api, name
    tutorials = (site / "tutorials.html").read_text(encoding="utf-8")
    assert "p(pass | 7 hours)" in tutorials and "test accuracy: 15/15" in tutorials
    assert "<!-- quick-run" not in tutorials
    for image in re.findall(r'<img [^>]*src="(tutorials/[^"]+\.png)"', tutorials):
        assert (site / image).stat().st_size > 5_000, image
    assert len(re.findall(r'<img [^>]*src="tutorials/', tutorials)) >= 9
    sys.path.insert(0, str(DOCS))
    try:
        import make_figures
    finally:
        sys.path.pop(0)
    assert (site / "neuron_player.html").read_bytes() == make_figures.player_html()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """An HTTP server for `folder` on 127.0.0.1 and a free port, stopped on exit."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_stepping_page_plays_its_embedded_player_offline(site, tmp_path):
    sync_playwright = sync_playwright_or_skip()
    requests: list[str] = []
    with serve(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto(f"{base}/stepping.html")
            player = page.frame_locator('iframe[src="neuron_player.html"]')

            def narration() -> str:
                return player.locator("section.step:not([hidden]) pre.narration").inner_text()

            def counter() -> str:
                return player.locator("#counter").inner_text()

            first = narration()
            assert first.startswith("given: x1 = 2.0") and counter().startswith("1 / ")
            player.get_by_role("button", name="Next").click()
            assert (
                narration() != first
                and narration().startswith("x1w1 = x1 * w1")
                and counter().startswith("2 / ")
            )
            for _ in range(7):
                player.get_by_role("button", name="Next").click()
            assert "sends do/dn = 0.5 back to its inputs" in narration()  # into the backward pass
            player.get_by_role("button", name="Prev").click()
            assert narration().startswith("o = tanh(n) sends do/do = 1.0")
            page.screenshot(path=str(tmp_path / "stepping.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "stepping.png").stat().st_size > 10_000
    assert requests and all(url.startswith(base + "/") for url in requests), [
        url for url in requests if not url.startswith(base)
    ]


def test_make_figures_takes_a_screenshot_stamped_with_the_player_it_shows(tmp_path):
    sync_playwright_or_skip()
    done = subprocess.run(
        [sys.executable, str(DOCS / "make_figures.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(DOCS))
    try:
        import make_figures
    finally:
        sys.path.pop(0)
    png = (tmp_path / "player_screenshot.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert make_figures.png_player_hash(png) == hashlib.sha256(make_figures.player_html()).hexdigest()
    assert make_figures.png_player_hash(png.replace(b"player-sha256", b"something-els")) is None
