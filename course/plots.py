"""Plots the notebooks share.

``plot_classes`` and ``plot_decision_boundary`` are introduced in week 1a (the
forward pass) and used again for the Keras models of week 1b;
``plot_history`` draws training curves from week 1b on.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

ProbFn = Callable[[np.ndarray], Any]


def _as_prob_fn(model_or_fn: Any) -> ProbFn:
    """A function (n, 2) -> probabilities from a Keras model or any callable."""
    if hasattr(model_or_fn, "predict") and callable(model_or_fn.predict):
        return lambda grid: model_or_fn.predict(grid, verbose=0, batch_size=len(grid))
    if callable(model_or_fn):
        return model_or_fn
    raise TypeError(
        f"plot_decision_boundary needs a Keras model or a function that maps an (n, 2) "
        f"array to probabilities; got {type(model_or_fn).__name__}."
    )


def grid_probabilities(
    model_or_fn: Any, X: np.ndarray, *, resolution: int = 200, margin: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate P(y=1 | x) on a grid over the range of ``X``, in one vectorised call.

    Returns ``(xx, yy, probs)``, each of shape (resolution, resolution).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2) to draw a 2-D boundary; got {X.shape}.")
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)
    probs = np.asarray(_as_prob_fn(model_or_fn)(grid), dtype=float)
    if probs.ndim == 2 and probs.shape[1] == 2:  # softmax over two classes: P(class 1)
        probs = probs[:, 1]
    if probs.size != grid.shape[0]:
        raise ValueError(
            f"the model returned {probs.size} values for {grid.shape[0]} grid points; "
            "it must return one probability per row."
        )
    return xx, yy, probs.reshape(xx.shape)


def plot_decision_boundary(
    model_or_fn: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    ax: Any = None,
    class_names: Sequence[str] = ("class 0", "class 1"),
    feature_names: Sequence[str] = ("$x_1$", "$x_2$"),
    title: str | None = None,
    resolution: int = 200,
) -> Any:
    """Scatter the points of two classes over the model's P(y=1|x), with the 0.5 contour.

    Args:
        model_or_fn: a Keras model, or a function mapping an (n, 2) array to
            probabilities of class 1 (shape (n,) or (n, 1)).
        X: (n, 2) features; y: (n,) labels 0/1.
        class_names: legend labels of class 0 and class 1, in that order.
    Returns:
        the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    y = np.asarray(y).ravel()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    xx, yy, probs = grid_probabilities(model_or_fn, X, resolution=resolution)
    filled = ax.contourf(xx, yy, probs, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(xx, yy, probs, levels=[0.5], colors="k", linewidths=1.5)
    handles = _scatter_classes(ax, X, y, class_names)
    (boundary,) = ax.plot([], [], "k-", lw=1.5, label="boundary: P = 0.5")
    ax.figure.colorbar(filled, ax=ax, label=f"P({class_names[1]} | x)")
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False, fontsize="small",
              markerscale=2.0, handles=[*handles, boundary])
    if title:
        ax.set_title(title)
    return ax


def _scatter_classes(ax: Any, X: np.ndarray, y: np.ndarray, class_names: Sequence[str]) -> list:
    X, y = np.asarray(X), np.asarray(y).ravel()
    handles = []
    for label, colour, marker in ((0, "tab:blue", "o"), (1, "tab:red", "^")):
        pts = X[y == label]
        handles.append(ax.scatter(pts[:, 0], pts[:, 1], s=12, c=colour, marker=marker, edgecolors="none",
                                  alpha=0.8, label=f"{class_names[label]} (y={label})"))
    return handles


def plot_classes(
    X: np.ndarray,
    y: np.ndarray,
    *,
    ax: Any = None,
    class_names: Sequence[str] = ("class 0", "class 1"),
    feature_names: Sequence[str] = ("$x_1$", "$x_2$"),
    title: str | None = None,
) -> Any:
    """Scatter plot of two classes in two features, with a legend naming each class.

    The legend is built from the labels themselves (class 0 is ``class_names[0]``),
    so it cannot swap the classes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 4.0))
    _scatter_classes(ax, X, y, class_names)
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.legend(markerscale=2.0)
    if title:
        ax.set_title(title)
    return ax


def plot_history(history: Any, *, metrics: Sequence[str] | None = None, title: str | None = None) -> Any:
    """Training curves from ``model.fit``: one panel per metric, training and validation.

    ``history`` is the object ``fit`` returns (or its ``.history`` dict).
    Returns the array of Axes.
    """
    import matplotlib.pyplot as plt

    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise TypeError("plot_history needs what model.fit returned (a History), or its .history dict.")
    names = list(metrics) if metrics else [k for k in logs if not k.startswith("val_")]
    missing = [m for m in names if m not in logs]
    if missing:
        raise KeyError(f"no {missing} in the history; it has {sorted(logs)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], label="training")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], label="validation")
        ax.set(xlabel="epoch", ylabel=name, title=name)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return axes[0]
