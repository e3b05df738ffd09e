"""Training helpers: short progress lines while Keras trains, and grading mode."""
from __future__ import annotations

import os
import time


def grading_mode() -> bool:
    """True while nbgrader autogrades (it sets ``NBGRADER_EXECUTION``).

    The notebooks train less then (only what a graded cell needs), and the widgets
    (:mod:`course.descent`, :mod:`course.playground`, :mod:`course.explorer`) do not draw their
    first frame: nobody sees an autograded notebook's widgets (feedback pages carry no widget
    state), and a frame costs 0.1-0.25 s of every student's grading.  What a widget computes is
    there all the same, and whatever the notebook asks of it afterwards is drawn as usual."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def progress(epochs: int, every: int | None = None):
    """A Keras callback that prints one line every few epochs (about 8 lines in all).

    ``model.fit(..., verbose=0, callbacks=[course.training.progress(epochs)])`` shows
    that training runs, and how loss and accuracy move, without one line per epoch.
    """
    import keras

    step = every or max(1, epochs // 8)

    class Progress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            done = epoch + 1
            if done % step and done != epochs:
                return
            values = ", ".join(f"{k} {v:.3f}" for k, v in (logs or {}).items())
            print(f"epoch {done:>{len(str(epochs))}}/{epochs} ({time.monotonic() - self.start:4.1f} s): {values}",
                  flush=True)

    return Progress()


_ACCURACY_NAMES = ("accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy", "acc")


def _accuracy_key(logs: dict, prefix: str = "") -> str | None:
    """The key of the accuracy metric in Keras' logs, whatever the metric was called."""
    for name in _ACCURACY_NAMES:
        if prefix + name in logs:
            return prefix + name
    return None


def uniform_names(history):
    """Give a History's accuracy curves the names ``accuracy`` and ``val_accuracy``.

    ``metrics=["accuracy"]`` logs "accuracy"; ``metrics=[keras.metrics.CategoricalAccuracy()]``
    logs "categorical_accuracy". Both are right, so plots and tables use one name.
    Returns the history (changed in place).
    """
    logs = getattr(history, "history", history)
    for prefix in ("", "val_"):
        key = _accuracy_key(logs, prefix)
        if key is not None and prefix + "accuracy" not in logs:
            logs[prefix + "accuracy"] = logs[key]
    return history


def keep_best():
    """A Keras callback that keeps the weights of the epoch with the best validation accuracy.

    At the end of training the model gets those weights back. ``best`` is that
    accuracy and ``best_epoch`` its epoch (counting from 1). Like
    ``EarlyStopping(monitor="val_accuracy", restore_best_weights=True)`` without
    stopping early, and whatever the accuracy metric is called.
    """
    import keras

    class KeepBest(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best: float | None = None
            self.best_epoch: int | None = None
            self._weights = None

        def on_epoch_end(self, epoch, logs=None):
            key = _accuracy_key(logs or {}, "val_")
            if key is None:
                raise ValueError("keep_best() needs validation data and an accuracy metric in fit(); "
                                 f"the logs have {sorted(logs or {})}.")
            value = float(logs[key])
            if self.best is None or value > self.best:
                self.best, self.best_epoch = value, epoch + 1
                self._weights = [w.copy() for w in self.model.get_weights()]

        def on_train_end(self, logs=None):
            if self._weights is not None:
                self.model.set_weights(self._weights)

    return KeepBest()


class ResultsTable:
    """A small table of training results, one row per model, shown as HTML in a notebook.

    ::

        table = ResultsTable()
        table.add("Dense(10)", epochs=10, test_accuracy=0.91, seconds=4.2)
        table                     # displays the table

    Values are formatted for reading: floats in [0, 1] with 3 decimals, other
    floats with 3 significant digits. ``rows`` holds the raw values.
    """

    def __init__(self, rows: list[dict] | None = None) -> None:
        self.rows: list[dict] = [dict(r) for r in rows or []]

    def add(self, name: str, **values) -> None:
        self.rows.append({"model": name, **values})

    @property
    def columns(self) -> list[str]:
        cols: list[str] = []
        for row in self.rows:
            cols += [k for k in row if k not in cols]
        return cols

    @staticmethod
    def _fmt(value) -> str:
        if isinstance(value, float):
            return f"{value:.3f}" if 0 <= value <= 1 else f"{value:.3g}"
        return "" if value is None else str(value)

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        cols = self.columns
        cells = [[c.replace("_", " ") for c in cols]] + [[self._fmt(r.get(c)) for c in cols] for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
        return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])

    def _repr_html_(self) -> str:
        from html import escape

        cols = self.columns
        head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{escape(self._fmt(r.get(c)))}</td>" for c in cols) + "</tr>"
                       for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
