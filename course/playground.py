"""An interactive playground for small neural networks on 2-D data.

Modelled on TensorFlow Playground (https://playground.tensorflow.org): pick a
data set, the number of hidden layers and neurons, an activation function, a
learning rate and a batch size, press Play and watch the decision surface
P(class 1 | x) and the train/test loss curves change while the network learns.
It lets students *feel* what depth, width and the learning rate do before they
train the same kind of model with Keras.

Usage in a notebook::

    from course.playground import Playground
    Playground()

Everything also works from Python without a browser (handy in tests and for
demonstrations in a slide)::

    pg = Playground(dataset="xor", hidden_layers=2, neurons=4)
    pg.controls["learning_rate"].value = 0.1   # same as moving the slider
    pg.step(50)                                 # train 50 epochs, then redraw
    pg.history["test_loss"][-1]

Public API of :class:`Playground`:

* ``pg.widget``: the displayable ipywidgets box (a bare ``Playground()`` in a
  cell displays it too);
* ``pg.controls``: dict of the control widgets, by name: ``"dataset"``,
  ``"noise"`` (percent, 0-50), ``"train_ratio"`` (percent, 10-90),
  ``"hidden_layers"`` (0-4), ``"neurons"`` (1-8), ``"activation"``,
  ``"learning_rate"`` (log slider, 1e-4 to 10), ``"batch_size"`` (1-100);
  ``pg.buttons``: dict of the ``"play"``, ``"pause"``, ``"step"`` and
  ``"reset"`` buttons. Changing the data set, noise, train ratio, layers,
  neurons or activation resets the model; the learning rate and batch size
  take effect from the next epoch on;
* ``pg.play()`` (trains in a background thread, a few epochs per frame),
  ``pg.pause()`` (stops and joins that thread), ``pg.step(n_epochs=1)``,
  ``pg.reset()``, ``pg.render()`` (redraw now; returns the PNG bytes),
  ``pg.close()`` (stops training and closes the widgets); ``pg.playing`` and
  ``pg.thread`` tell whether the training thread runs;
* ``pg.epoch``, ``pg.history`` (``{"train_loss": [...], "test_loss": [...]}``,
  one value per epoch), ``pg.frames`` (number of images drawn), ``pg.image``
  (the ``ipywidgets.Image``), ``pg.status`` (the label with epoch and losses),
  ``pg.message`` (warnings such as "the banknote data could not be loaded" or
  "training diverged"; ``pg.diverged`` is then true until the next reset);
* ``pg.predict_proba(X)``, ``pg.accuracy(which="test")``, ``pg.weights`` and
  ``pg.biases`` (lists of arrays, one per layer), ``pg.model`` (the :class:`MLP`),
  ``pg.X_train``, ``pg.y_train``, ``pg.X_test``, ``pg.y_test``.

The network is :class:`MLP`, a few lines of NumPy: a forward pass, binary
cross-entropy and backpropagation, trained with mini-batch stochastic gradient
descent. Read it: it is the same algorithm Keras runs for you.
"""
from __future__ import annotations

import io
import threading
import time
from typing import Any, Callable

import numpy as np

from course.training import grading_mode

__all__ = ["ACTIVATIONS", "DATASETS", "MLP", "Playground", "load_banknote_2d",
           "make_dataset"]

DATASETS = ("circles", "xor", "gaussian", "spiral", "banknote")
SYNTHETIC = ("circles", "xor", "gaussian", "spiral")
MAX_BANKNOTE_POINTS = 500


# ----------------------------------------------------------------- data sets
def _two_classes(n_points: int) -> tuple[int, int]:
    """How many points of class 0 and of class 1 (class 0 gets the odd one)."""
    return n_points - n_points // 2, n_points // 2


def make_dataset(name: str, n_points: int = 500, noise: float = 0.1,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic 2-D data set of two classes, as ``(X, y)``.

    Args:
        name: ``"circles"`` (a disc inside a ring), ``"xor"`` (the four
            quadrants), ``"gaussian"`` (two blobs) or ``"spiral"`` (two arms).
        n_points: number of rows of ``X``; half are class 0, half class 1.
        noise: fraction 0-0.5; Gaussian noise added to the coordinates (for
            ``"gaussian"``: the spread of the blobs grows).
        seed: the same seed and noise always give the same points; changing
            only the noise moves the same points by more or less.
    Returns:
        ``X`` float64 (n_points, 2), roughly within [-1.5, 1.5]; ``y`` int64
        (n_points,) of 0 and 1.
    """
    if name not in SYNTHETIC:
        raise ValueError(f"unknown synthetic data set {name!r}; choose one of {SYNTHETIC}")
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2 (one per class), got {n_points}")
    if not 0 <= noise <= 1:
        raise ValueError(f"noise is a fraction between 0 and 0.5, got {noise}")
    rng = np.random.default_rng(seed)
    n0, n1 = _two_classes(n_points)
    y = np.repeat([0, 1], [n0, n1])
    jitter = rng.normal(size=(n_points, 2))     # drawn first: same for every noise level
    if name == "circles":                        # class 1 inside radius 0.5, class 0 in a ring
        radius = np.where(y == 1, rng.uniform(0, 0.5, n_points), rng.uniform(0.7, 1.0, n_points))
        angle = rng.uniform(0, 2 * np.pi, n_points)
        X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
        X += 0.5 * noise * jitter
    elif name == "xor":                          # class 1 where x1 and x2 have the same sign
        X = rng.uniform(-1, 1, (4 * n_points, 2))
        X += np.sign(X) * 0.05                   # keep a small gap along the axes
        same = X[:, 0] * X[:, 1] > 0
        X = np.concatenate([X[~same][:n0], X[same][:n1]])
        X += 0.5 * noise * jitter
    elif name == "gaussian":                     # two round blobs
        centre = np.where(y[:, None] == 1, 0.5, -0.5)
        X = centre + (0.2 + 0.8 * noise) * jitter
    else:                                        # spiral: two interleaved arms
        t = np.sqrt(rng.uniform(0, 1, n_points))  # more points on the outer turns
        angle = 3.5 * np.pi * t + np.pi * y
        X = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
        X += 0.5 * noise * jitter
    order = rng.permutation(n_points)
    return X[order], y[order]


def load_banknote_2d(max_points: int = MAX_BANKNOTE_POINTS,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Banknote data reduced to 2 features: skewness and entropy, standardised.

    Uses :func:`course.data.load_banknote` (so ``COURSE_DATA_DIR`` is honoured)
    and keeps a seeded random subsample of at most ``max_points`` rows.
    Raises what ``load_banknote`` raises when the file cannot be found or is damaged.
    """
    from course.data import load_banknote

    X, y = load_banknote(verbose=False)
    X = X[:, [1, 3]]                             # skewness, entropy
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    if len(X) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(X), max_points, replace=False))
        X, y = X[keep], y[keep]
    return X, y.astype(np.int64)


# ----------------------------------------------------------------- the network
def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))       # = 1 / (1 + exp(-z)), without overflow


#: name -> (activation g(z), its derivative g'(z) written with z and a = g(z))
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "sigmoid": (_sigmoid, lambda z, a: a * (1.0 - a)),
    "linear": (lambda z: z, lambda z, a: np.ones_like(z)),
}


class MLP:
    """A fully connected network for binary classification, in plain NumPy.

    ``layer_sizes`` = [2, 4, 4, 1] means 2 inputs, two hidden layers of 4
    neurons (activation ``activation``) and one output neuron with a sigmoid,
    so the output is P(class 1 | x). Layer l computes ``A_l = g(A_{l-1} W_l + b_l)``.
    Weights start random (He scaling for relu, Glorot-like otherwise, seeded),
    biases start at zero. The loss is the binary cross-entropy.
    """

    def __init__(self, layer_sizes: list[int], activation: str = "tanh", seed: int = 0):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; "
                             f"choose one of {list(ACTIVATIONS)}")
        self.layer_sizes = list(layer_sizes)
        self.activation = activation
        rng = np.random.default_rng(seed)
        gain = 2.0 if activation == "relu" else 1.0
        self.weights = [rng.normal(0.0, np.sqrt(gain / n_in), size=(n_in, n_out))
                        for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:])]
        self.biases = [np.zeros(n_out) for n_out in layer_sizes[1:]]

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Return the output logits z (n,) and, per hidden layer, (Z, A) for backprop."""
        g, _ = ACTIVATIONS[self.activation]
        A, cache = X, []
        for W, b in zip(self.weights[:-1], self.biases[:-1]):
            Z = A @ W + b
            A = g(Z)
            cache.append((Z, A))
        z_out = (A @ self.weights[-1] + self.biases[-1])[:, 0]
        return z_out, cache

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(class 1 | x) for each row of X, shape (n,)."""
        return _sigmoid(self.forward(np.asarray(X, dtype=float))[0])

    @staticmethod
    def _bce(z: np.ndarray, y: np.ndarray) -> float:
        # -[y log p + (1-y) log(1-p)] with p = sigmoid(z) equals log(1 + e^z) - y z
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """Mean binary cross-entropy of the network on (X, y)."""
        return self._bce(self.forward(np.asarray(X, dtype=float))[0], y)

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[list, list]:
        """Backpropagation: return (dL/dW per layer, dL/db per layer) of the mean loss."""
        _, g_prime = ACTIVATIONS[self.activation]
        z_out, cache = self.forward(X)
        # Output layer: for sigmoid + cross-entropy, dL/dz = (p - y) / n.
        dZ = ((_sigmoid(z_out) - y) / len(X))[:, None]
        dWs, dbs = [], []
        for layer in range(len(self.weights) - 1, -1, -1):
            A_prev = cache[layer - 1][1] if layer > 0 else X   # the input of this layer
            dWs.append(A_prev.T @ dZ)
            dbs.append(dZ.sum(axis=0))
            if layer > 0:                                      # back through g to layer - 1
                Z_prev = cache[layer - 1][0]
                dZ = (dZ @ self.weights[layer].T) * g_prime(Z_prev, A_prev)
        return dWs[::-1], dbs[::-1]

    def train_epoch(self, X: np.ndarray, y: np.ndarray, lr: float, batch_size: int,
                    rng: np.random.Generator) -> None:
        """One pass over (X, y) in shuffled mini-batches, one SGD step per batch."""
        order = rng.permutation(len(X))
        X, y = X[order], y[order]                              # shuffle once per epoch
        for start in range(0, len(X), batch_size):
            dWs, dbs = self.gradients(X[start:start + batch_size], y[start:start + batch_size])
            for W, b, dW, db in zip(self.weights, self.biases, dWs, dbs):
                W -= lr * dW                                   # step against the gradient
                b -= lr * db


# ----------------------------------------------------------------- the widget
_CLASS_COLOURS = ("#2166ac", "#b2182b")          # blue = class 0, red = class 1 (as RdBu_r)


class Playground:
    """A TensorFlow-Playground-like widget: train a small network, watch it learn.

    Keyword arguments set the initial control values (``noise`` and
    ``train_ratio`` in percent); ``n_points`` is the size of the synthetic data
    sets, ``seed`` fixes the data, the split and the initial weights (a reset
    always starts from the same weights for the same architecture), and
    ``grid_size`` is the resolution of the heatmap. See the module docstring
    for the attributes and methods.
    """

    #: one frame of Play trains for about this long (seconds), then draws
    frame_budget = 0.02
    #: ... but at most this many epochs, so the curves grow at a visible pace
    epochs_per_frame = 5

    def __init__(self, dataset: str = "circles", *, noise: int = 10, train_ratio: int = 50,
                 hidden_layers: int = 2, neurons: int = 4, activation: str = "tanh",
                 learning_rate: float = 0.03, batch_size: int = 10, n_points: int = 500,
                 seed: int = 0, grid_size: int = 60):
        # ipywidgets and matplotlib are imported here, not with the module, as in descent.py and
        # explorer.py: every grading kernel imports all of the course's modules
        import ipywidgets as widgets

        self.n_points, self.seed, self.grid_size = n_points, seed, grid_size
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._banknote: tuple[np.ndarray, np.ndarray] | None = None
        self.error: BaseException | None = None
        self.frames = 0
        self.diverged = False
        self._ready = False  # observers do nothing until the first frame is drawn
        self._build_controls(dataset, noise, train_ratio, hidden_layers, neurons, activation,
                             learning_rate, batch_size)
        self.widget = widgets.HBox(
            [widgets.VBox(list(self.controls.values())
                          + [widgets.HBox(list(self.buttons.values()))]),
             widgets.VBox([self.image, self.status, self.message])])
        self._current_dataset = "circles"
        with self._lock:
            self._load_data(dataset)
            self._reset_model()
            self._build_figure()
            if not grading_mode():  # see course.training.grading_mode: nobody sees this frame
                self.render()
        self._ready = True

    # ---------------------------------------------------------- controls
    def _build_controls(self, dataset, noise, train_ratio, hidden_layers, neurons, activation,
                        learning_rate, batch_size) -> None:
        import ipywidgets as widgets

        style = {"description_width": "140px"}
        layout = widgets.Layout(width="360px")
        kw = dict(style=style, layout=layout)
        self.controls: dict[str, widgets.ValueWidget] = {
            "dataset": widgets.Dropdown(options=DATASETS, value=dataset,
                                        description="Data set", **kw),
            "noise": widgets.IntSlider(value=noise, min=0, max=50, description="Noise (%)",
                                       continuous_update=False, **kw),
            "train_ratio": widgets.IntSlider(value=train_ratio, min=10, max=90, step=5,
                                             description="Training data (%)",
                                             continuous_update=False, **kw),
            "hidden_layers": widgets.IntSlider(value=hidden_layers, min=0, max=4,
                                               description="Hidden layers",
                                               continuous_update=False, **kw),
            "neurons": widgets.IntSlider(value=neurons, min=1, max=8,
                                         description="Neurons per layer",
                                         continuous_update=False, **kw),
            "activation": widgets.Dropdown(options=tuple(ACTIVATIONS), value=activation,
                                           description="Activation", **kw),
            "learning_rate": widgets.FloatLogSlider(value=learning_rate, base=10, min=-4,
                                                    max=1, step=0.25, readout_format=".4g",
                                                    description="Learning rate", **kw),
            "batch_size": widgets.IntSlider(value=batch_size, min=1, max=100,
                                            description="Batch size", **kw),
        }
        self.buttons = {name: widgets.Button(description=name.capitalize(), icon=icon,
                                             layout=widgets.Layout(width="80px"))
                        for name, icon in (("play", "play"), ("pause", "pause"),
                                           ("step", "step-forward"), ("reset", "undo"))}
        self.buttons["pause"].disabled = True
        self.buttons["play"].on_click(lambda _: self.play())
        self.buttons["pause"].on_click(lambda _: self.pause())
        self.buttons["step"].on_click(lambda _: self.step())
        self.buttons["reset"].on_click(lambda _: self.reset())
        # Setting .value from Python (or the browser) calls these observers.
        self.controls["dataset"].observe(self._on_dataset, names="value")
        for name in ("noise", "train_ratio"):
            self.controls[name].observe(self._on_data_option, names="value")
        for name in ("hidden_layers", "neurons", "activation"):
            self.controls[name].observe(self._on_architecture, names="value")
        self.image = widgets.Image(format="png")
        self.status = widgets.Label()
        self.message = widgets.HTML()

    def _on_dataset(self, change: dict) -> None:
        if not self._ready:
            return
        with self._lock:
            self._load_data(change["new"])
            self._reset_model()
            self.render()

    def _on_data_option(self, change: dict) -> None:
        self._on_dataset({"new": self.controls["dataset"].value})

    def _on_architecture(self, change: dict) -> None:
        if self._ready:
            self.reset()

    # ---------------------------------------------------------- data and model
    def _load_data(self, name: str) -> None:
        """Make or load the data set ``name`` and split it (caller holds the lock)."""
        self.message.value = ""
        if name == "banknote":
            try:
                if self._banknote is None:
                    self._banknote = load_banknote_2d(seed=self.seed)
            except (OSError, ValueError) as exc:  # not found / damaged file
                first_line = (str(exc).strip().splitlines() or [""])[0]
                fallback = self._current_dataset
                self.message.value = (
                    "<b>The banknote data could not be loaded</b> "
                    f"({type(exc).__name__}: {first_line}). Set the environment variable "
                    "COURSE_DATA_DIR to the folder holding data_banknote_authentication.txt "
                    f"and restart the kernel. Showing <i>{fallback}</i> instead.")
                msg = self.message.value
                self.controls["dataset"].value = fallback   # no-op if already shown
                self.message.value = msg
                name = fallback
            else:
                X, y = self._banknote
        if name != "banknote":
            X, y = make_dataset(name, self.n_points, self.controls["noise"].value / 100,
                                self.seed)
        self._current_dataset = name
        self.controls["noise"].disabled = name == "banknote"
        test_size = 1 - self.controls["train_ratio"].value / 100
        from course.data import train_test_split
        self.X_train, self.X_test, self.y_train, self.y_test = train_test_split(
            X, y, test_size=test_size, seed=self.seed)
        self.class_names = (("genuine", "forged") if name == "banknote"
                            else ("class 0", "class 1"))
        self.feature_names = (("skewness (standardised)", "entropy (standardised)")
                              if name == "banknote" else ("$x_1$", "$x_2$"))
        self._set_grid(X)
        if hasattr(self, "_fig"):
            self._update_data_artists()

    def _set_grid(self, X: np.ndarray) -> None:
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.1 * (hi - lo)
        self._extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
        xs = np.linspace(self._extent[0], self._extent[1], self.grid_size)
        ys = np.linspace(self._extent[2], self._extent[3], self.grid_size)
        xx, yy = np.meshgrid(xs, ys)
        self._grid = np.column_stack([xx.ravel(), yy.ravel()])

    def _reset_model(self) -> None:
        """New seeded weights for the current architecture; epoch 0 (caller holds the lock)."""
        c = self.controls
        sizes = [2] + [c["neurons"].value] * c["hidden_layers"].value + [1]
        self.model = MLP(sizes, c["activation"].value, seed=self.seed)
        self._rng = np.random.default_rng(self.seed)
        self.epoch = 0
        self.history: dict[str, list[float]] = {"train_loss": [], "test_loss": []}
        self.diverged = False

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight matrices W_1 ... W_L of the current network."""
        return self.model.weights

    @property
    def biases(self) -> list[np.ndarray]:
        """The bias vectors b_1 ... b_L of the current network."""
        return self.model.biases

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(class 1 | x) of the current network for each row of X (n, 2); shape (n,)."""
        with self._lock:
            return self.model.predict_proba(X)

    def accuracy(self, which: str = "test") -> float:
        """Fraction of the ``"train"`` or ``"test"`` points classified right."""
        X, y = (self.X_test, self.y_test) if which == "test" else (self.X_train, self.y_train)
        return float(np.mean((self.predict_proba(X) > 0.5) == y))

    # ---------------------------------------------------------- training
    def _train_one_epoch(self) -> None:
        if self.diverged:
            return
        lr, batch = self.controls["learning_rate"].value, self.controls["batch_size"].value
        with np.errstate(all="ignore"):  # a too large learning rate may overflow
            self.model.train_epoch(self.X_train, self.y_train, lr, batch, self._rng)
            train_loss = self.model.loss(self.X_train, self.y_train)
            test_loss = self.model.loss(self.X_test, self.y_test)
        self.epoch += 1
        self.history["train_loss"].append(train_loss)
        self.history["test_loss"].append(test_loss)
        if not (np.isfinite(train_loss) and all(np.isfinite(W).all() for W in self.weights)):
            self.diverged = True
            self.message.value = ("<b>Training diverged</b> (the weights overflowed): "
                                  "lower the learning rate and press Reset.")

    def step(self, n_epochs: int = 1, render: bool = True) -> None:
        """Train ``n_epochs`` epochs now, then redraw the figure (unless ``render=False``)."""
        with self._lock:
            for _ in range(n_epochs):
                self._train_one_epoch()
            if render:
                self.render()

    def reset(self) -> None:
        """Start again from the initial (seeded) weights, at epoch 0, and redraw."""
        with self._lock:
            self._reset_model()
            self.message.value = ""
            self.render()

    # ---------------------------------------------------------- play / pause
    @property
    def thread(self) -> threading.Thread | None:
        """The background training thread while playing (else None or a finished thread)."""
        return self._thread

    @property
    def playing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def play(self) -> None:
        """Train in a background thread, redrawing after each few epochs, until pause()."""
        if self.playing:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="playground", daemon=True)
        self.buttons["play"].disabled, self.buttons["pause"].disabled = True, False
        self._thread.start()

    def pause(self, timeout: float = 10.0) -> None:
        """Stop the training thread and wait for it to finish its current frame."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self.buttons["play"].disabled, self.buttons["pause"].disabled = False, True

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                with self._lock:
                    start = time.perf_counter()
                    for _ in range(self.epochs_per_frame):
                        self._train_one_epoch()
                        if (self._stop.is_set()
                                or time.perf_counter() - start > self.frame_budget):
                            break
                    self.render()
                    if self.diverged:
                        break
                self._stop.wait(0.005)  # let the kernel handle widget messages
        except Exception as exc:  # shown to the student, kept for debugging
            self.error = exc
            self.message.value = f"<b>Training stopped by an error:</b> {type(exc).__name__}: {exc}"
            raise
        finally:
            self.buttons["play"].disabled, self.buttons["pause"].disabled = False, True

    def close(self) -> None:
        """Stop training and close all widgets (call it before dropping the playground)."""
        self.pause()
        self.widget.close()
        for w in [*self.controls.values(), *self.buttons.values(), self.image,
                  self.status, self.message]:
            w.close()

    # ---------------------------------------------------------- drawing
    def _build_figure(self) -> None:
        """Create the figure and its artists once; frames only update their data.

        Drawing text (ticks, labels, legends) is what makes matplotlib slow, so
        the figure is drawn in full only when that text changes (new data, the
        loss axes need wider limits). Each frame restores that background and
        draws just the heatmap, the points and the loss curves on top of it.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self._fig = fig = Figure(figsize=(9.0, 4.2), dpi=80)
        self._canvas = FigureCanvasAgg(fig)
        self._ax = ax = fig.add_axes((0.07, 0.11, 0.41, 0.72))
        cax = fig.add_axes((0.49, 0.11, 0.013, 0.72))
        self._ax_loss = axl = fig.add_axes((0.63, 0.11, 0.35, 0.72))
        self._im = ax.imshow(np.full((2, 2), 0.5), origin="lower", cmap="RdBu_r", vmin=0,
                             vmax=1, alpha=0.75, aspect="auto", interpolation="bilinear",
                             animated=True)
        fig.colorbar(self._im, cax=cax).set_label("P(class 1)")
        self._points = {}
        for part, filled in (("train", True), ("test", False)):
            for k, colour in enumerate(_CLASS_COLOURS):
                self._points[part, k], = ax.plot(
                    [], [], "o", ms=5 if filled else 5.5, mew=0.6 if filled else 1.4,
                    mfc=colour if filled else "none", mec="white" if filled else colour,
                    animated=True)
        self._train_line, = axl.plot([], [], "-", color="C0", label="train loss",
                                     animated=True)
        self._test_line, = axl.plot([], [], "--", color="C1", label="test loss",
                                    animated=True)
        axl.set_xlabel("epoch")
        axl.set_ylabel("loss (binary cross-entropy)")
        axl.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
        axl.grid(alpha=0.3)
        self._update_data_artists()

    def _update_data_artists(self) -> None:
        """Point the artists at the current data (after a data set change)."""
        ax = self._ax
        for part, X, y in (("train", self.X_train, self.y_train),
                           ("test", self.X_test, self.y_test)):
            for k in (0, 1):
                line = self._points[part, k]
                line.set_data(X[y == k, 0], X[y == k, 1])
                label = f"{self.class_names[k]}, {part}" + (" (hollow)" if part == "test" else "")
                line.set_label(label)
        self._im.set_extent(self._extent)
        ax.set_xlim(self._extent[:2])
        ax.set_ylim(self._extent[2:])
        ax.set_xlabel(self.feature_names[0])
        ax.set_ylabel(self.feature_names[1])
        ax.legend(handles=[self._points[p, k] for p in ("train", "test") for k in (0, 1)],
                  loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=9,
                  frameon=False)
        self._background = None                                # axes changed: full redraw

    def _loss_limits(self) -> tuple[float, float]:
        """Limits of the loss axes: they only grow (x doubles), so redraws are rare."""
        x_max, y_max = self._ax_loss.get_xlim()[1], self._ax_loss.get_ylim()[1]
        if self.epoch == 0:
            x_max, y_max = 50.0, 1.0
        while self.epoch > x_max:
            x_max *= 2
        finite = [v for v in self.history["train_loss"][-20:] + self.history["test_loss"][-20:]
                  if np.isfinite(v)]
        if finite and max(finite) > y_max and y_max < 5:
            y_max = min(5.0, np.ceil(max(finite) * 1.2 * 2) / 2)  # next 0.5 step, at most 5
        return x_max, y_max

    def render(self) -> bytes:
        """Redraw the figure for the current network into ``self.image``; return the PNG."""
        from PIL import Image as PILImage

        with self._lock:
            with np.errstate(all="ignore"):
                probs = self.model.predict_proba(self._grid)     # one vectorised pass
            self._im.set_data(probs.reshape(self.grid_size, self.grid_size))
            epochs = np.arange(1, self.epoch + 1)
            train, test = self.history["train_loss"], self.history["test_loss"]
            self._train_line.set_data(epochs, train)
            self._test_line.set_data(epochs, test)
            limits = self._loss_limits()
            if limits != (self._ax_loss.get_xlim()[1], self._ax_loss.get_ylim()[1]):
                self._ax_loss.set_xlim(0, limits[0])
                self._ax_loss.set_ylim(0, limits[1])
                self._background = None
            if self._background is None:                       # full draw (text and all)
                self._canvas.draw()
                self._background = self._canvas.copy_from_bbox(self._fig.bbox)
            else:
                self._canvas.restore_region(self._background)
            for artist in [self._im, *self._points.values()]:
                self._ax.draw_artist(artist)
            self._ax_loss.draw_artist(self._train_line)
            self._ax_loss.draw_artist(self._test_line)
            buf = io.BytesIO()
            rgba = PILImage.frombuffer("RGBA", self._canvas.get_width_height(),
                                       self._canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
            rgba.convert("RGB").save(buf, format="png", compress_level=1)
            png = buf.getvalue()
            self.image.value = png
            self.frames += 1
            if self.epoch:
                self.status.value = (f"Epoch {self.epoch}   train loss {train[-1]:.3f}   "
                                     f"test loss {test[-1]:.3f}   "
                                     f"test accuracy {self.accuracy('test'):.1%}")
            else:
                self.status.value = "Epoch 0: press Play or Step to train."
            return png

    # ---------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        c = self.controls
        return (f"Playground(dataset={c['dataset'].value!r}, hidden_layers="
                f"{c['hidden_layers'].value}, neurons={c['neurons'].value}, activation="
                f"{c['activation'].value!r}, learning_rate={c['learning_rate'].value:g}, "
                f"epoch={self.epoch})")
