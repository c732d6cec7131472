"""Shared test set-up: hypothesis profiles and the optional references (PyTorch, Chromium).

CI sets MICROGRAD_PLUS_REQUIRE_TORCH=1 and MICROGRAD_PLUS_REQUIRE_BROWSER=1, so there the
cross-checks fail loudly instead of skipping when torch or chromium is missing.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from micrograd_plus import Linear, Sequential, Tanh, Value

matplotlib.use("Agg")

# "ci" (the default) draws the same examples on every run, so that a run of the suite is
# repeatable and a red CI always means a change broke something; "explore" draws new ones
# each time, ten times as many (HYPOTHESIS_PROFILE=explore pytest), to hunt for new failures.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=50,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.register_profile(  # (derandomize given: hypothesis's default is True where CI is set)
    "explore",
    deadline=None,
    max_examples=500,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.register_profile(
    "dev", deadline=None, max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _required(name: str) -> bool:
    return os.environ.get(f"MICROGRAD_PLUS_REQUIRE_{name}", "") not in ("", "0")


def require_torch() -> ModuleType:
    """PyTorch in float64, or a skip (a failure where CI requires it)."""
    if _required("TORCH"):
        import torch
    else:
        torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    return torch


def close_to_torch(ours: object, theirs: object) -> bool:
    """The agreed tolerance with PyTorch float64, |ours - torch| <= 1e-9 * max(1, |torch|),
    elementwise for floats or arrays; nan must match nan and inf must match exactly."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    if a.shape != b.shape:
        return False
    with np.errstate(all="ignore"):
        finite = np.isfinite(b)
        ok_finite = np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(b))
        ok_other = np.where(np.isnan(b), np.isnan(a), a == b)
    return bool(np.all(np.where(finite, ok_finite, ok_other)))


def twin_models(seed: int = 0) -> tuple[Sequential, Any]:
    """Linear(3, 4), Tanh, Linear(4, 2) here and in PyTorch, with the same weights."""
    torch = require_torch()
    ours = Sequential(Linear(3, 4, seed=seed), Tanh(), Linear(4, 2, seed=seed + 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def assert_results_agree(ours: dict, theirs: dict) -> None:
    """A tutorial's results on both libraries, by name (a dict of them: by name again), agree
    to `close_to_torch`."""
    assert ours.keys() == theirs.keys()
    for key in theirs:
        if isinstance(theirs[key], dict):
            assert ours[key].keys() == theirs[key].keys(), key
            for name in theirs[key]:
                assert close_to_torch(ours[key][name], theirs[key][name]), (key, name)
        else:
            assert close_to_torch(ours[key], theirs[key]), (key, ours[key], theirs[key])


def browser_required() -> bool:
    return _required("BROWSER")


def docs_required() -> bool:
    """MICROGRAD_PLUS_REQUIRE_DOCS=1 (CI) turns a missing mkdocs into a failure."""
    return _required("DOCS")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def sync_playwright_or_skip() -> Any:
    """playwright's `sync_playwright`, or a skip (a failure where CI requires a browser) when
    playwright or /usr/bin/chromium is missing."""
    have = os.path.exists(CHROMIUM) and shutil.which(CHROMIUM) is not None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if (sync_playwright is None or not have) and not browser_required():
        pytest.skip("chromium or playwright is not installed (CI requires them)")
    assert sync_playwright is not None, "playwright must be installed (MICROGRAD_PLUS_REQUIRE_BROWSER is set)"
    assert have, f"{CHROMIUM} must exist (MICROGRAD_PLUS_REQUIRE_BROWSER is set)"
    return sync_playwright


# Floats for the bit-for-bit tests of the Value engine's speed paths: mostly small, sometimes
# a value where IEEE arithmetic is special.
finite = st.floats(-4.0, 4.0, allow_nan=False, width=64)
special = st.sampled_from([0.0, -0.0, 1e308, -1e308, math.inf, -math.inf, math.nan])
numbers = st.one_of(finite, finite, finite, special)


def same(a: float, b: float) -> bool:
    """Equal bit for bit as floats: nan matches nan, and 0.0 does not match -0.0."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def neuron() -> tuple[Value, tuple[Value, ...]]:
    """micrograd's neuron, o = tanh(x1*w1 + x2*w2 + b) (b chosen so n = 0.8814), labelled as in
    its README; returns o and the leaves x1, x2, w1, w2, b."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, (x1, x2, w1, w2, b)


# -- the two engines -----------------------------------------------------------------------------
#
# The suites of tests/engine, tests/check and tests/viz/test_trace.py run once under each engine
# (their conftest, or the module, uses `each_engine`). A test about one engine alone says so
# with `@pytest.mark.engine("fast")`, and runs under that one only.

ENGINES = ("reference", "fast")


@pytest.fixture(params=ENGINES)
def each_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    from micrograd_plus import set_engine

    previous = set_engine(request.param)
    try:
        yield request.param
    finally:
        set_engine(previous)


@contextlib.contextmanager
def using_engine(name: str) -> Iterator[None]:
    """The block runs under engine `name`."""
    from micrograd_plus import set_engine

    previous = set_engine(name)
    try:
        yield
    finally:
        set_engine(previous)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "engine(name): the test is about that engine alone")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("engine")
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("each_engine") if callspec is not None else None
        if marker is not None and engine is not None and engine != marker.args[0]:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
