"""Plots the notebooks share.

``plot_classes`` and ``plot_decision_boundary`` are introduced in week 1a (the
forward pass) and used again for the Keras models of week 1b;
``plot_history`` draws training curves from week 1b on; ``compare_histories``,
``plot_digits``, ``plot_class_balance`` and ``plot_confusion_matrix`` are the
MNIST pictures of week 3.
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


def compare_histories(histories: dict[str, Any], metric: str = "val_accuracy", *, ax: Any = None,
                      title: str | None = None) -> Any:
    """One curve per training run: ``metric`` per epoch, e.g. validation accuracy.

    ``histories`` maps a label ("ReLU", "sigmoid") to what ``model.fit`` returned
    (or its ``.history`` dict). Returns the Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.8))
    for label, history in histories.items():
        logs = getattr(history, "history", history)
        if metric not in logs:
            raise KeyError(f"the run {label!r} has no {metric!r}; it has {sorted(logs)}")
        values = logs[metric]
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, label=label)
    ax.set(xlabel="epoch", ylabel=metric.replace("_", " "), title=title or metric.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_digits(
    images: np.ndarray,
    labels: Sequence[int],
    predicted: Sequence[int] | None = None,
    *,
    ncols: int = 10,
    title: str | None = None,
) -> Any:
    """A grid of digit images with their labels (and, if given, the predicted labels).

    ``images`` is (n, 28, 28) or (n, 784), any scale. With ``predicted``, each title
    reads "true 4, predicted 9", in red where they differ. Returns the figure.

    The grid is one picture in one set of axes (each image scaled to its own range, as
    ``imshow`` would), with the titles written above the images: twenty axes of their own
    take matplotlib four to five times as long to build and save (0.8-1.3 s against 0.2-0.3 s).
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype=float)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        images = images.reshape(len(images), side, side)
    n = len(images)
    if n == 0:
        raise ValueError("plot_digits needs at least one image.")
    labels = np.asarray(labels).ravel()
    rows = -(-n // ncols)
    cols = min(ncols, n)
    h, w = images.shape[1:]
    gap, band = 4, (10 if predicted is not None else 6)   # pixels between images, above each for its title
    pitch_x, pitch_y = w + gap, h + band
    grid = np.zeros((rows * pitch_y, cols * pitch_x))      # 0: white in gray_r
    for k, img in enumerate(images):
        lo, hi = img.min(), img.max()
        r, c = divmod(k, cols)
        grid[r * pitch_y + band:(r + 1) * pitch_y, c * pitch_x + gap // 2:c * pitch_x + gap // 2 + w] = \
            (img - lo) / (hi - lo) if hi > lo else 0.0
    inch = 1.15 / pitch_x                                   # figure inches per pixel of the grid
    top = 0.4 if title else 0.0
    fig = plt.figure(figsize=(cols * pitch_x * inch, rows * pitch_y * inch + top))
    ax = fig.add_axes((0, 0, 1, rows * pitch_y * inch / fig.get_figheight()))
    ax.imshow(grid, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    ax.axis("off")
    for k in range(n):
        r, c = divmod(k, cols)
        x, y = c * pitch_x + pitch_x / 2, r * pitch_y + band - 1
        if predicted is None:
            ax.text(x, y, str(labels[k]), ha="center", va="bottom", fontsize=10)
        else:
            wrong = int(predicted[k]) != int(labels[k])
            ax.text(x, y, f"true {labels[k]}\npred. {predicted[k]}", ha="center", va="bottom", fontsize=8,
                    color="tab:red" if wrong else "black", linespacing=1.0)
    if title:
        fig.suptitle(title, y=1 - 0.08 / fig.get_figheight())
    return fig


def plot_class_balance(y_train: np.ndarray, y_test: np.ndarray | None = None, *, ax: Any = None) -> Any:
    """Bar chart of how many examples each class has (share of the set, in %)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.0))
    parts = [("training", np.asarray(y_train))] + ([("test", np.asarray(y_test))] if y_test is not None else [])
    classes = np.unique(np.concatenate([y for _, y in parts]))
    width = 0.8 / len(parts)
    for i, (name, y) in enumerate(parts):
        share = np.array([np.mean(y == c) for c in classes]) * 100
        ax.bar(classes + (i - (len(parts) - 1) / 2) * width, share, width, label=f"{name} ({len(y)})")
    ax.set(xticks=classes, xlabel="class (digit)", ylabel="share of the set (%)", title="Class balance")
    ax.legend()
    return ax


def plot_confusion_matrix(cm: np.ndarray, *, class_names: Sequence[str] | None = None, ax: Any = None,
                          title: str = "Confusion matrix") -> Any:
    """Draw a confusion matrix: rows are the true class, columns the predicted class.

    Each cell shows its count; the colour is the share of the true class (the row),
    so that rare classes are as visible as common ones. Returns the Axes.
    """
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix is square; got shape {cm.shape}.")
    k = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * k + 2.0, 0.55 * k + 1.5))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.nan_to_num(cm / cm.sum(axis=1, keepdims=True))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, f"{cm[i, j]:g}", ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")
    ax.set(xticks=range(k), yticks=range(k), xticklabels=names, yticklabels=names,
           xlabel="predicted class", ylabel="true class", title=title)
    return ax
