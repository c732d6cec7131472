"""mkdocs hooks: what the site shows is made while it is built, never copied in by hand.

- `neuron_player.html`: the step player of micrograd's neuron, written by
  `micrograd_plus.export_html`, which the stepping page embeds (it plays offline);
- the tutorials' figures and printed results: each `<!-- quick-run: examples/NAME.py -->`
  marker in a page is replaced by what `python examples/NAME.py --quick` prints, and the
  PNG files it writes are added to the site under `tutorials/NAME/`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- quick-run: (examples/\w+\.py) -->")
PLAYER = "neuron_player.html"

# One run per process: `mkdocs serve` rebuilds on every edit and the examples do not change.
_quick_runs: dict[str, tuple[str, dict[str, bytes]]] = {}


def _player_page() -> bytes:
    sys.path.insert(0, str(ROOT))  # the checkout's package, installed or not
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from make_figures import player_html
    finally:
        del sys.path[:2]
    return player_html()


def _quick_run(script: str) -> tuple[str, dict[str, bytes]]:
    """What `python <script> --quick` prints (less its "wrote FILE" lines) and the figures it writes."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
        done = subprocess.run(
            [sys.executable, script, "--quick", "--out", folder],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"python {script} --quick failed:\n{done.stdout}\n{done.stderr}")
        printed = "\n".join(line for line in done.stdout.splitlines() if not line.startswith("wrote "))
        figures = {path.name: path.read_bytes() for path in sorted(Path(folder).glob("*.png"))}
    return printed, figures


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, PLAYER, content=_player_page()))
    scripts = sorted({m for page in files.documentation_pages() for m in MARKER.findall(page.content_string)})
    missing = [s for s in scripts if s not in _quick_runs]
    with ThreadPoolExecutor(max_workers=2) as pool:
        _quick_runs.update(zip(missing, pool.map(_quick_run, missing)))
    for script in scripts:
        for name, data in _quick_runs[script][1].items():
            files.append(File.generated(config, f"tutorials/{Path(script).stem}/{name}", content=data))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    def output(match: re.Match[str]) -> str:
        script = match.group(1)
        printed, figures = _quick_runs[script]
        stem = Path(script).stem
        pictures = "\n".join(f"![{stem}: {name}](tutorials/{stem}/{name})" for name in figures)
        return f"`python {script} --quick` prints:\n\n```text\n{printed}\n```\n\n{pictures}\n"

    return MARKER.sub(output, markdown)
