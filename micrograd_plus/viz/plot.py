"""Plots for training runs: loss curves, 2-D decision boundaries and fitted curves, saved as PNG.

Each function builds its own `matplotlib.figure.Figure` (never pyplot), so it leaves no global
figure state behind, works under any backend (the Agg renderer is used to write the file) and is
safe to call from scripts, tests and threads. Each writes the PNG at `path`, creating parent
folders, and returns the path.

matplotlib is imported on the first plot, not with the package: it is most of the package's
import time and, once loaded, two thirds of the objects the cyclic garbage collector scans on
every full collection, which a training loop on Values pays for.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PathLike = Union[str, "os.PathLike[str]"]
Series = Union[Sequence[float], np.ndarray]

__all__ = ["decision_grid", "plot_decision_boundary", "plot_fit", "plot_loss"]

_DPI = 100
# One colour per class: the region is a pale tint of its points' colour.
_PALETTE = ("#d7301f", "#2b8cbe", "#31a354", "#756bb1", "#fd8d3c", "#636363", "#e7298a", "#a6761d")


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure  # lazily: see the module docstring

    return Figure(figsize=(width, height))


def _save(fig: Figure, path: PathLike) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format="png", dpi=_DPI, bbox_inches="tight")
    return target


def _floats(name: str, values: object) -> np.ndarray:
    """Numbers as a float64 array; accepts lists of Values and Tensors too (anything float() takes)."""
    if hasattr(values, "numpy") and callable(values.numpy):
        values = values.numpy()
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        pass
    try:
        return np.asarray([float(v) for v in values], dtype=np.float64)  # type: ignore[attr-defined]
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"{name} must hold numbers, got {type(values).__name__}: {error}") from None


def plot_loss(
    history: Series | Mapping[str, Series],
    path: PathLike,
    title: str = "Training loss",
    *,
    xlabel: str = "step",
    ylabel: str = "loss",
    log_scale: bool = False,
) -> Path:
    """Plot one loss curve (a sequence of numbers) or several (a mapping name -> sequence, e.g.
    {"train": ..., "valid": ...}) against the step number, and write it as a PNG at `path`.

    `log_scale=True` uses a logarithmic y axis, which shows slow late progress better.
    """
    curves = dict(history) if isinstance(history, Mapping) else {"": history}
    if not curves:
        raise ValueError("history is an empty mapping: give at least one curve")
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    for name, values in curves.items():
        series = _floats(f"history[{name!r}]" if name else "history", values)
        if series.ndim != 1 or series.size == 0:
            raise ValueError(
                f"history{f'[{name!r}]' if name else ''} must be a non-empty 1-D sequence of numbers, "
                f"got shape {series.shape}"
            )
        ax.plot(np.arange(series.size), series, label=name or None, linewidth=1.5)
    if log_scale:
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if any(curves):
        ax.legend()
    return _save(fig, path)


def decision_grid(
    predict: Callable[[np.ndarray], Any],
    X: np.ndarray,
    resolution: int = 100,
    margin: float = 0.5,
    threshold: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The class predicted at each point of a grid covering X (plus `margin` on each side).

    `predict` gets one (resolution², 2) array and returns scores: one per point (class 1 where
    score > threshold, e.g. 0 for a max-margin score or 0.5 for a probability), or one row of class
    scores per point (the argmax wins). Returns the grid's xs, ys (each (resolution, resolution))
    and the predicted classes, of the same shape.
    """
    points = _floats("X", X)
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        raise ValueError(f"X must have shape (n, 2) with n >= 1, got {points.shape}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    low = points.min(axis=0) - margin
    high = points.max(axis=0) + margin
    xs, ys = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.column_stack([xs.ravel(), ys.ravel()])
    scores = _floats("predict(grid)", predict(grid))
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.shape[:1] != (grid.shape[0],) or scores.ndim > 2:
        raise ValueError(
            f"predict must return one score (or one row of class scores) per point: given an array of "
            f"shape {grid.shape} it returned shape {scores.shape}"
        )
    classes = scores.argmax(axis=1) if scores.ndim == 2 else (scores > threshold).astype(np.int64)
    return xs, ys, classes.reshape(xs.shape)


def plot_decision_boundary(
    predict: Callable[[np.ndarray], Any],
    X: np.ndarray,
    y: Series,
    path: PathLike,
    title: str = "Decision boundary",
    *,
    resolution: int = 100,
    margin: float = 0.5,
    threshold: float = 0.0,
    class_names: Sequence[str] | None = None,
) -> Path:
    """Colour the plane by the class `predict` gives each point, scatter the data (X, y) on top,
    with a legend naming each class, and write the PNG at `path`.

    `predict` maps an (m, 2) array to scores, as `decision_grid` explains; it is called once with
    resolution² points, so lower `resolution` for a slow scalar model. Labels `y` may be {0, 1},
    {-1, 1} or 0..k-1; `class_names` names the classes in the legend (by default "y = -1" and
    "y = +1" for max-margin labels, "class k" otherwise).
    """
    points = _floats("X", X)
    labels = _floats("y", y)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {points.shape}")
    if labels.shape != (points.shape[0],):
        raise ValueError(f"y must have one label per row of X: X has shape {points.shape}, y {labels.shape}")
    xs, ys, classes = decision_grid(predict, points, resolution, margin, threshold)
    # Labels -1/+1 (max-margin) are classes 0/1; other labels are class indices already.
    signed = set(np.unique(labels)) <= {-1.0, 1.0}
    label_classes = (labels > 0).astype(np.int64) if signed else labels
    n_classes = int(max(classes.max(), label_classes.max())) + 1
    if class_names is None:
        class_names = ["y = -1", "y = +1"] if signed else [f"class {k}" for k in range(n_classes)]
    elif len(class_names) < n_classes:
        raise ValueError(
            f"class_names has {len(class_names)} names for {n_classes} classes: give one per class"
        )
    from matplotlib.colors import ListedColormap

    colours = ListedColormap([_PALETTE[k % len(_PALETTE)] for k in range(n_classes)])
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(xs, ys, classes, levels=levels, cmap=colours, vmin=-0.5, vmax=n_classes - 0.5, alpha=0.35)
    for k in range(n_classes):
        members = label_classes == k
        if members.any():
            ax.scatter(
                points[members, 0],
                points[members, 1],
                color=colours(k),
                label=class_names[k],
                s=30,
                edgecolors="black",
                linewidths=0.5,
            )
    ax.legend(loc="best", framealpha=0.85)
    ax.set_xlim(xs.min(), xs.max())
    ax.set_ylim(ys.min(), ys.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    return _save(fig, path)


def plot_fit(
    x: Series,
    y: Series,
    curves: Mapping[str, Series | tuple[Series, Series]],
    path: PathLike,
    title: str = "Fit",
    *,
    xlabel: str = "x",
    ylabel: str = "y",
) -> Path:
    """Scatter the data (x, y) and draw each fitted curve, then write the PNG at `path`.

    `curves` maps a legend name to predictions at the data's x (one per point; drawn sorted by x)
    or to an (xs, ys) pair for a curve on its own grid, e.g.
    `{"linear": model_a(x), "sin(x)^3": (grid, np.sin(grid) ** 3)}`.
    """
    xs = _floats("x", x).reshape(-1)
    ys = _floats("y", y).reshape(-1)
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same number of points, got {xs.shape[0]} and {ys.shape[0]}")
    fig = _figure(6.4, 4.4)
    ax = fig.add_subplot()
    ax.scatter(xs, ys, s=12, color="0.45", alpha=0.7, label="data")
    order = np.argsort(xs, kind="stable")
    if not isinstance(curves, Mapping):
        raise TypeError(
            f"curves must be a dict of legend name -> predictions, got {type(curves).__name__}: {curves!r:.60}"
        )
    for name, curve in curves.items():
        if isinstance(curve, tuple) and len(curve) == 2 and np.ndim(curve[0]) >= 1:
            cx = _floats(f"curves[{name!r}][0]", curve[0]).reshape(-1)
            cy = _floats(f"curves[{name!r}][1]", curve[1]).reshape(-1)
            if cx.shape != cy.shape:
                raise ValueError(
                    f"curves[{name!r}] must be an (xs, ys) pair of equal length, got {cx.size} and {cy.size}"
                )
            line_order = np.argsort(cx, kind="stable")
            ax.plot(cx[line_order], cy[line_order], linewidth=2, label=name)
        else:
            cy = _floats(f"curves[{name!r}]", curve).reshape(-1)
            if cy.shape != xs.shape:
                raise ValueError(
                    f"curves[{name!r}] must hold one prediction per data point ({xs.size}), got {cy.size}; "
                    "or pass an (xs, ys) pair"
                )
            ax.plot(xs[order], cy[order], linewidth=2, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(fig, path)
