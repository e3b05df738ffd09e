"""Sliders that retrain a Keras model: what the learning rate and the layers do.

Week 3 (MNIST) ends with this explorer. Move a slider and a new model is
built with *your* ``build_mnist_model`` and trained on a subset of the
training images in the background; the loss and accuracy curves (training and
validation) are redrawn after every epoch, so the first new curve shows within
a second. **Keep** adds the current result to the comparison table.

In a notebook::

    from course.explorer import TrainingExplorer
    explorer = TrainingExplorer(build_mnist_model, x_train, y_train, x_val, y_val)
    explorer                      # displays sliders, curves and the table

``build_model(hidden_layers=..., activation=..., learning_rate=...)`` must
return a compiled Keras model with an accuracy metric; labels are one-hot.
While nbgrader grades a notebook, nothing is trained until ``retrain()``.
"""
from __future__ import annotations

import atexit
import io
import threading
import weakref
import time
from typing import Any, Callable

import numpy as np

from course.training import ResultsTable, _accuracy_key, grading_mode

__all__ = ["TrainingExplorer"]


class TrainingExplorer:
    """Learning rate, hidden layers, units, activation and epochs as controls over live curves.

    Attributes (read them in tests):
        controls: the widgets by name: ``"learning_rate"``, ``"hidden_layers"``,
            ``"units"``, ``"activation"``, ``"epochs"``.
        buttons: ``"keep"`` and ``"retrain"``.
        history: {"loss", "val_loss", "accuracy", "val_accuracy"} per epoch of the current run.
        result: the current run's configuration and final numbers (a dict), or None.
        table: the kept results (a :class:`course.training.ResultsTable`).
        error: the exception that stopped the last run, or None.
        renders: how many times the figure was drawn.
        first_curve_seconds: from the start of the current run to its first drawn epoch.
        widget: the box to display.
    """

    def __init__(self, build_model: Callable[..., Any], x_train: np.ndarray, y_train: np.ndarray,
                 x_val: np.ndarray, y_val: np.ndarray, *, subset: int = 2000, val_subset: int = 1000,
                 batch_size: int = 64, epochs: int = 10, learning_rate: float = 1e-3,
                 hidden_layers: int = 2, units: int = 64, activation: str = "relu", seed: int = 0,
                 start: bool | None = None) -> None:
        import ipywidgets as widgets
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if len(x_train) != len(y_train) or len(x_val) != len(y_val):
            raise ValueError("x_train/y_train and x_val/y_val must have the same number of rows.")
        if np.asarray(y_train).ndim != 2:
            raise ValueError("the explorer trains with categorical cross-entropy: give one-hot labels "
                             f"(shape (n, 10)); y_train has shape {np.shape(y_train)}.")
        rng = np.random.default_rng(seed)
        pick = rng.permutation(len(x_train))[:subset]
        vpick = rng.permutation(len(x_val))[:val_subset]
        self.x_train, self.y_train = np.asarray(x_train)[pick], np.asarray(y_train)[pick]
        self.x_val, self.y_val = np.asarray(x_val)[vpick], np.asarray(y_val)[vpick]
        self.build_model, self.batch_size, self.seed = build_model, batch_size, seed

        self.history: dict[str, list[float]] = {}
        self.result: dict | None = None
        self.error: BaseException | None = None
        self.table = ResultsTable()
        self.renders = 0
        self.first_curve_seconds: float | None = None
        self._run = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._draw_lock = threading.Lock()

        style = dict(continuous_update=False, style={"description_width": "initial"},
                     layout=widgets.Layout(width="300px"))
        self.controls: dict[str, Any] = {
            "learning_rate": widgets.FloatLogSlider(value=learning_rate, base=10, min=-4, max=0, step=0.1,
                                                    readout_format=".1e", description="learning rate", **style),
            "hidden_layers": widgets.IntSlider(value=hidden_layers, min=0, max=4, description="hidden layers",
                                               **style),
            "units": widgets.IntSlider(value=units, min=8, max=256, step=8, description="units per layer",
                                       **style),
            "activation": widgets.Dropdown(options=["relu", "sigmoid", "tanh"], value=activation,
                                           description="activation", style=style["style"],
                                           layout=widgets.Layout(width="300px")),
            "epochs": widgets.IntSlider(value=epochs, min=1, max=30, description="epochs", **style),
        }
        self.buttons = {
            "keep": widgets.Button(description="Keep this result", icon="plus",
                                   tooltip="add the current run to the comparison table"),
            "retrain": widgets.Button(description="Retrain", icon="refresh"),
        }
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="760px"))
        self.table_view = widgets.HTML()
        c = self.controls
        self.widget = widgets.VBox([
            widgets.HBox([c["learning_rate"], c["hidden_layers"], c["units"]]),
            widgets.HBox([c["activation"], c["epochs"], self.buttons["retrain"], self.buttons["keep"]]),
            self.status, self.image, self.table_view,
        ])
        for control in c.values():
            control.observe(lambda change: self.retrain(), names="value")
        self.buttons["retrain"].on_click(lambda _: self.retrain())
        self.buttons["keep"].on_click(lambda _: self.keep())

        self._fig = Figure(figsize=(9.5, 3.4), dpi=80)
        FigureCanvasAgg(self._fig)
        self._fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.84, wspace=0.25)
        self._ax_loss, self._ax_acc = self._fig.subplots(1, 2)
        self._lines = {}
        for ax, metric in ((self._ax_loss, "loss"), (self._ax_acc, "accuracy")):
            for key, style_, label in ((metric, "-", "training"), (f"val_{metric}", "--", "validation")):
                (self._lines[key],) = ax.plot([], [], style_, marker="o", ms=3, label=label)
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric if metric == "accuracy" else "loss (categorical cross-entropy)")
            ax.grid(alpha=0.3)
            ax.legend(loc="best")
        if not grading_mode():  # see course.training.grading_mode: nobody sees this frame
            self._draw()
        # A run still going when the kernel exits is stopped first (torch aborts the
        # process if its threads are torn down mid-step).
        atexit.register(_stop_at_exit, weakref.ref(self))
        if start if start is not None else not grading_mode():
            self.retrain()
        else:
            self.status.value = "Not trained yet: move a slider or press <b>Retrain</b>."

    # ------------------------------------------------------------------ state
    @property
    def config(self) -> dict:
        """The configuration the controls describe."""
        c = self.controls
        return {"hidden_layers": tuple([int(c["units"].value)] * int(c["hidden_layers"].value)),
                "activation": c["activation"].value, "learning_rate": float(c["learning_rate"].value),
                "epochs": int(c["epochs"].value)}

    @property
    def training(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def describe(self, config: dict | None = None) -> str:
        cfg = config or self.config
        layers = "-".join(map(str, cfg["hidden_layers"])) or "none"
        return f"hidden {layers}, {cfg['activation']}, lr {cfg['learning_rate']:.1e}"

    # --------------------------------------------------------------- training
    def retrain(self) -> None:
        """Stop the current run (if any) and train a new model with the controls' values."""
        self.stop()
        self._run += 1
        self._stop = threading.Event()
        config, run, stop = self.config, self._run, self._stop
        self.history = {k: [] for k in ("loss", "val_loss", "accuracy", "val_accuracy")}
        self.result, self.error, self.first_curve_seconds = None, None, None
        self.status.value = f"Training ({self.describe(config)}) on {len(self.x_train)} images ..."
        self._thread = threading.Thread(target=self._train, args=(config, run, stop), daemon=True,
                                        name=f"explorer-run-{run}")
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the current run after its current batch, and wait for it."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def wait(self, timeout: float | None = 120.0) -> dict | None:
        """Wait until the current run ends; return its result (None if it failed)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.result

    def _train(self, config: dict, run: int, stop: threading.Event) -> None:
        import keras

        explorer = self
        started = time.perf_counter()

        class Live(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if stop.is_set():
                    self.model.stop_training = True

            def on_epoch_end(self, epoch, logs=None):
                if stop.is_set() or run != explorer._run:
                    self.model.stop_training = True
                    return
                logs = dict(logs or {})
                for prefix in ("", "val_"):  # metrics=[CategoricalAccuracy()] logs "categorical_accuracy"
                    found = _accuracy_key(logs, prefix)
                    logs.setdefault(prefix + "accuracy", logs[found] if found else np.nan)
                for key in explorer.history:
                    explorer.history[key].append(float(logs.get(key, np.nan)))
                if explorer.first_curve_seconds is None:
                    explorer.first_curve_seconds = time.perf_counter() - started
                explorer.status.value = (f"{explorer.describe(config)}: epoch {epoch + 1}/{config['epochs']}, "
                                         f"validation accuracy {explorer.history['val_accuracy'][-1]:.3f} "
                                         f"({time.perf_counter() - started:.1f} s)")
                explorer._draw(config)

        try:
            keras.utils.set_random_seed(self.seed)
            model = self.build_model(hidden_layers=config["hidden_layers"], activation=config["activation"],
                                     learning_rate=config["learning_rate"])
            if model is None:
                raise TypeError("build_model returned None: it must return the compiled model.")
            model.fit(self.x_train, self.y_train, validation_data=(self.x_val, self.y_val),
                      epochs=config["epochs"], batch_size=self.batch_size, verbose=0, callbacks=[Live()])
        except Exception as exc:  # shown in the widget: the student's function may be unfinished
            if run == self._run:
                self.error = exc
                hint = (" Finish the exercise that defines it first." if isinstance(exc, NotImplementedError)
                        else "")
                self.status.value = (f"<b>Training failed:</b> {type(exc).__name__}: {exc}.{hint}")
            return
        if run != self._run or stop.is_set() or not self.history["loss"]:
            return
        self.result = {**{k: v for k, v in config.items() if k != "epochs"},
                       "epochs": len(self.history["loss"]),
                       "train_accuracy": self.history["accuracy"][-1],
                       "val_accuracy": self.history["val_accuracy"][-1],
                       "best_val_accuracy": max(self.history["val_accuracy"]),
                       "seconds": round(time.perf_counter() - started, 1)}
        self.status.value = (f"{self.describe(config)}: done, validation accuracy "
                             f"{self.result['val_accuracy']:.3f} after {self.result['epochs']} epochs "
                             f"({self.result['seconds']} s). {self.advice()}")

    def advice(self) -> str:
        """One sentence on the current result: diverged, stuck at chance, or fine."""
        if self.result is None:
            return ""
        if not np.isfinite(self.history["loss"][-1]):
            return "<b>The loss diverged: lower the learning rate.</b>"
        if self.result["val_accuracy"] < 0.3:
            if self.result["learning_rate"] >= 0.03:
                return ("<b>The model is no better than guessing (accuracy near 0.1): "
                        "the learning rate is too high; lower it.</b>")
            return "<b>Hardly learning yet: raise the learning rate or train more epochs.</b>"
        return ""

    def keep(self) -> bool:
        """Add the current result to the comparison table (False if there is none yet)."""
        if self.result is None:
            self.status.value += " <i>(nothing to keep yet: wait for the run to finish)</i>"
            return False
        r = self.result
        self.table.add(self.describe(r), epochs=r["epochs"], train_accuracy=r["train_accuracy"],
                       val_accuracy=r["val_accuracy"], best_val_accuracy=r["best_val_accuracy"],
                       seconds=r["seconds"])
        self.table_view.value = self.table._repr_html_()
        return True

    # ---------------------------------------------------------------- drawing
    def _draw(self, config: dict | None = None) -> None:
        with self._draw_lock:
            for key, line in self._lines.items():
                values = self.history.get(key, [])
                line.set_data(np.arange(1, len(values) + 1), values)
            epochs = (config or self.config)["epochs"]
            for ax in (self._ax_loss, self._ax_acc):
                ax.set_xlim(0.5, max(epochs, 1) + 0.5)
            self._ax_loss.relim()
            self._ax_loss.autoscale_view(scalex=False)
            self._ax_acc.set_ylim(0, 1.02)
            self._fig.suptitle(self.describe(config), fontsize=11)
            buf = io.BytesIO()
            self._fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
            self.image.value = buf.getvalue()
            self.renders += 1

    def png(self) -> bytes:
        """The current figure as PNG bytes."""
        return bytes(self.image.value)

    def close(self) -> None:
        """Stop training and close the widgets."""
        self.stop()
        self.widget.close()
        for w in [*self.controls.values(), *self.buttons.values(), self.status, self.image, self.table_view]:
            w.close()

    def _ipython_display_(self) -> None:  # noqa: D105
        from IPython.display import display

        display(self.widget)


def _stop_at_exit(ref: "weakref.ref[TrainingExplorer]") -> None:
    explorer = ref()
    if explorer is not None:
        explorer.stop(timeout=10)
