"""Plots: each writes a real PNG where asked, colours what `predict` says, and leaks no pyplot state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_rgb

import micrograd_plus
from micrograd_plus import Value, make_moons
from micrograd_plus.viz import plot as plot_module
from micrograd_plus.viz.plot import decision_grid, plot_decision_boundary, plot_fit, plot_loss

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path: Path) -> np.ndarray:
    """The file is a non-trivial PNG; returns its pixels (rows, columns, RGBA floats in [0, 1])."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 2000
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 150 and pixels.shape[1] > 150
    assert pixels[..., :3].std() > 0.01  # not a blank image
    return pixels


def region_tint(class_index: int) -> np.ndarray:
    """The colour a decision region of this class is painted: its class colour at 35% over white."""
    colour = np.array(to_rgb(plot_module._PALETTE[class_index]))
    return 1.0 - 0.35 * (1.0 - colour)


def count_pixels_of(pixels: np.ndarray, rgb: np.ndarray) -> int:
    return int(np.count_nonzero(np.all(np.abs(pixels[..., :3] - rgb) < 2.5 / 255, axis=-1)))


@pytest.fixture(autouse=True)
def no_pyplot_figures_left_behind():  # type: ignore[no-untyped-def]
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


# ----------------------------------------------------------------------------- plot_loss


def test_plot_loss_writes_a_png_in_new_folders(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "loss.png"
    returned = plot_loss([3.0, 2.0, 1.5, 1.2, 1.1], target, title="loss")
    assert returned == target
    assert_png(target)


def test_plot_loss_takes_several_named_curves_values_and_a_log_scale(tmp_path: Path) -> None:
    history = {"train": [Value(1.0), Value(0.5), Value(0.25)], "valid": np.array([1.0, 0.7, 0.6])}
    assert_png(plot_loss(history, tmp_path / "curves.png", log_scale=True))
    # a str path works as well as a Path
    assert plot_loss([1.0, 2.0], str(tmp_path / "s.png")) == tmp_path / "s.png"


@settings(max_examples=8)
@given(history=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300))
def test_plot_loss_any_finite_history(tmp_path_factory: pytest.TempPathFactory, history: list[float]) -> None:
    path = tmp_path_factory.mktemp("loss") / "loss.png"
    assert plot_loss(history, path) == path
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_loss_bad_histories(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"history must be a non-empty 1-D sequence of numbers, got shape \(0,\)"
    ):
        plot_loss([], tmp_path / "x.png")
    with pytest.raises(ValueError, match="history is an empty mapping"):
        plot_loss({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"history\['valid'\] must be a non-empty 1-D .* shape \(2, 2\)"):
        plot_loss({"train": [1.0], "valid": [[1.0, 2.0], [3.0, 4.0]]}, tmp_path / "x.png")
    with pytest.raises(TypeError, match="history must hold numbers"):
        plot_loss(["a", "b"], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


# ----------------------------------------------------------------------------- decision boundary


def test_decision_grid_classifies_by_the_sign_of_the_score() -> None:
    X = np.array([[0.0, 0.0], [1.0, 2.0]])
    xs, ys, classes = decision_grid(lambda grid: grid[:, 0] - 0.5, X, resolution=21, margin=0.5)
    assert xs.shape == ys.shape == classes.shape == (21, 21)
    assert xs.min() == -0.5 and xs.max() == 1.5 and ys.min() == -0.5 and ys.max() == 2.5
    np.testing.assert_array_equal(classes, (xs > 0.5).astype(int))


def test_decision_grid_threshold_argmax_and_scalar_values() -> None:
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])
    _, ys, probabilities = decision_grid(lambda g: 1 / (1 + np.exp(-g[:, 1])), X, resolution=9, threshold=0.5)
    np.testing.assert_array_equal(probabilities, (ys > 0).astype(int))
    xs, ys, argmax = decision_grid(lambda g: np.column_stack([g[:, 0], g[:, 1], -g[:, 0]]), X, resolution=9)
    expected = np.argmax(np.stack([xs, ys, -xs], axis=-1), axis=-1)
    np.testing.assert_array_equal(argmax, expected)
    # a model of scalar Values returning a list of Values, and an (m, 1) column, both work
    xs, _, from_values = decision_grid(lambda g: [Value(float(a)) for a in g[:, 0]], X, resolution=5)
    np.testing.assert_array_equal(from_values, (xs > 0).astype(int))
    _, _, from_column = decision_grid(lambda g: g[:, :1], X, resolution=5)
    np.testing.assert_array_equal(from_column, from_values)


def test_decision_grid_bad_arguments() -> None:
    good = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\) with n >= 1, got \(3, 3\)"):
        decision_grid(lambda g: g[:, 0], np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"resolution must be an int >= 2, got 1"):
        decision_grid(lambda g: g[:, 0], good, resolution=1)
    with pytest.raises(ValueError, match=r"margin must be a finite number >= 0, got -1"):
        decision_grid(lambda g: g[:, 0], good, margin=-1)
    with pytest.raises(ValueError, match=r"shape \(100, 2\) it returned shape \(3,\)"):
        decision_grid(lambda g: np.zeros(3), good, resolution=10)


def test_plot_decision_boundary_paints_each_side_in_its_class_colour(tmp_path: Path) -> None:
    X, y = make_moons(60, noise=0.1, seed=1)
    split = plot_decision_boundary(lambda g: g[:, 0] - 0.5, X, y * 2 - 1, tmp_path / "a" / "split.png")
    pixels = assert_png(split)
    assert count_pixels_of(pixels, region_tint(0)) > 5000
    assert count_pixels_of(pixels, region_tint(1)) > 5000
    # a model that says "class 1" everywhere paints no class-0 region
    everywhere = plot_decision_boundary(lambda g: np.ones(len(g)), X, y, tmp_path / "ones.png", resolution=20)
    pixels = assert_png(everywhere)
    assert count_pixels_of(pixels, region_tint(0)) == 0
    assert count_pixels_of(pixels, region_tint(1)) > 10000


def test_plot_decision_boundary_three_classes(tmp_path: Path) -> None:
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([0, 1, 2])
    path = plot_decision_boundary(
        lambda g: np.column_stack([-g.sum(axis=1), g[:, 0], g[:, 1]]), X, y, tmp_path / "3.png"
    )
    pixels = assert_png(path)
    for k in range(3):
        assert count_pixels_of(pixels, region_tint(k)) > 1000


def test_plot_decision_boundary_label_mismatch(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"y must have one label per row of X: X has shape \(3, 2\), y \(2,\)"
    ):
        plot_decision_boundary(lambda g: g[:, 0], np.zeros((3, 2)), [0, 1], tmp_path / "x.png")


# ----------------------------------------------------------------------------- plot_fit


def test_plot_fit_draws_data_and_curves(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 80)
    y = np.sin(x) ** 3 + rng.normal(0, 0.1, 80)
    grid = np.linspace(0, 10, 300)
    curves = {"linear": 0.1 * x - 0.4, "target": (grid, np.sin(grid) ** 3)}
    path = plot_fit(x, y, curves, tmp_path / "fits" / "fit.png", title="sin(x)^3")
    assert path == tmp_path / "fits" / "fit.png"
    assert_png(path)


def test_plot_fit_bad_curves(tmp_path: Path) -> None:
    x = np.arange(5.0)
    with pytest.raises(ValueError, match=r"x and y must have the same number of points, got 5 and 4"):
        plot_fit(x, x[:4], {}, tmp_path / "x.png")
    with pytest.raises(
        ValueError, match=r"curves\['model'\] must hold one prediction per data point \(5\), got 3"
    ):
        plot_fit(x, x, {"model": [1.0, 2.0, 3.0]}, tmp_path / "x.png")
    with pytest.raises(
        ValueError, match=r"curves\['pair'\] must be an \(xs, ys\) pair of equal length, got 3 and 2"
    ):
        plot_fit(x, x, {"pair": (np.arange(3.0), np.arange(2.0))}, tmp_path / "x.png")


def test_public_names_are_top_level() -> None:
    for name in plot_module.__all__:
        assert getattr(micrograd_plus, name) is getattr(plot_module, name)


def _captured_figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Figures as they are saved (the PNG alone cannot show a legend's words)."""
    figures: list[Any] = []
    real_save = plot_module._save

    def save(fig: Any, path: Any) -> Path:
        figures.append(fig)
        return real_save(fig, path)

    monkeypatch.setattr(plot_module, "_save", save)
    return figures


def test_plot_decision_boundary_has_a_legend_of_the_classes(tmp_path: Path, monkeypatch) -> None:
    figures = _captured_figures(monkeypatch)
    X, y = make_moons(40, noise=0.1, seed=2)
    plot_decision_boundary(lambda g: g[:, 0] - 0.5, X, y * 2 - 1, tmp_path / "signed.png")
    plot_decision_boundary(lambda g: g[:, 0] - 0.5, X, y, tmp_path / "named.png", class_names=["blue", "red"])
    legends = [[t.get_text() for t in fig.axes[0].get_legend().get_texts()] for fig in figures]
    assert legends == [["y = -1", "y = +1"], ["blue", "red"]]
    with pytest.raises(ValueError, match="class_names has 1 names for 2 classes"):
        plot_decision_boundary(lambda g: g[:, 0], X, y, tmp_path / "x.png", class_names=["only one"])


def test_the_demo_plots_its_loss_on_a_log_scale(tmp_path: Path, monkeypatch) -> None:
    from micrograd_plus.cli.demo import run_demo

    figures = _captured_figures(monkeypatch)
    run_demo(out=str(tmp_path), steps=3, hidden=[4], progress=False)
    boundary, loss = figures
    assert loss.axes[0].get_yscale() == "log"
    assert [t.get_text() for t in boundary.axes[0].get_legend().get_texts()] == ["y = -1", "y = +1"]
