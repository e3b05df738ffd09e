"""What one training step costs in Keras' ``fit`` against a plain torch loop of the same model.

    python benchmarks/keras_steps.py [--epochs 20] [--threads 1]

The two models the course trains for real, on their real data:

* week 1b: the banknote fcNN, Input(2) -> Dense(16, sigmoid) -> Dense(1, sigmoid), SGD(2.0),
  binary cross-entropy, batch 32 (two standardised features, the notebook's split);
* week 3: the MNIST classifier, Input(784) -> Dense(100, relu) -> Dense(50, relu) ->
  Dense(10, softmax), Adam(2e-3), categorical cross-entropy, batch 256 (the offline MNIST
  sample when MNIST is not staged).

Each is trained by ``model.fit`` as the notebooks call it (accuracy metric, no validation),
by ``fit`` without the accuracy metric, with ``--jit`` by ``fit`` with ``jit_compile=True``
(``torch.compile`` of the train step, Keras' one setting for speed on this backend:
``steps_per_execution`` must be 1 with torch), and by a plain torch loop of the same layers, initialisation scheme,
optimiser and loss (accuracy computed too), in the same process with the same number of
threads (1 by default: the autograder's setting, ``course.setup()`` while grading).  Prints
milliseconds per step (the median of the runs) and the ratio to torch.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from course.data import load_banknote, load_mnist, train_val_test_split  # noqa: E402


def banknote():
    X, y = load_banknote(verbose=False)
    X = X[:, :2]  # variance and skewness, as in the notebook
    X_train, _, _, y_train, _, _ = train_val_test_split(X, y, seed=0)
    X_train = (X_train - X_train.mean(0)) / X_train.std(0)
    return X_train.astype("float32"), y_train.astype("float32").reshape(-1, 1)


def mnist():
    data = load_mnist(verbose=False)
    x = data.x_train.reshape(len(data.x_train), -1).astype("float32") / 255.0
    return x, np.eye(10, dtype="float32")[data.y_train]


MODELS = {
    "week 1b banknote fcNN": dict(data=banknote, layers=[(16, "sigmoid"), (1, "sigmoid")], optimizer=("SGD", 2.0),
                                  loss="binary_crossentropy", batch=32),
    "week 3 MNIST 100-50": dict(data=mnist, layers=[(100, "relu"), (50, "relu"), (10, "softmax")],
                                optimizer=("Adam", 2e-3), loss="categorical_crossentropy", batch=256),
}


def keras_seconds_per_step(spec, x, y, epochs: int, metrics: bool = True, jit: bool = False) -> float:
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(x.shape[1],)),
                              *(layers.Dense(units, activation=act) for units, act in spec["layers"])])
    name, lr = spec["optimizer"]
    model.compile(optimizer=getattr(keras.optimizers, name)(learning_rate=lr), loss=spec["loss"],
                  metrics=["accuracy"] if metrics else [], jit_compile=jit)
    model.fit(x[:spec["batch"] * 4], y[:spec["batch"] * 4], batch_size=spec["batch"], epochs=1, verbose=0)  # warm up
    steps = epochs * -(-len(x) // spec["batch"])
    start = time.perf_counter()
    model.fit(x, y, batch_size=spec["batch"], epochs=epochs, verbose=0)
    return (time.perf_counter() - start) / steps


def torch_seconds_per_step(spec, x, y, epochs: int) -> float:
    from torch import nn

    torch.manual_seed(0)
    mods, width = [], x.shape[1]
    for units, act in spec["layers"]:
        linear = nn.Linear(width, units)
        nn.init.xavier_uniform_(linear.weight)  # Keras' Dense default (glorot uniform, zero bias)
        nn.init.zeros_(linear.bias)
        mods += [linear, {"sigmoid": nn.Sigmoid(), "relu": nn.ReLU(), "softmax": nn.Identity()}[act]]
        width = units
    model = nn.Sequential(*mods)
    name, lr = spec["optimizer"]
    optimizer = getattr(torch.optim, name)(model.parameters(), lr=lr)
    binary = spec["loss"] == "binary_crossentropy"
    loss_fn = nn.BCELoss() if binary else nn.CrossEntropyLoss()  # softmax folded into the loss
    xt, yt = torch.from_numpy(x), torch.from_numpy(y if binary else y.argmax(1))
    batch, n = spec["batch"], len(x)
    steps = epochs * -(-n // batch)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            optimizer.zero_grad()
            out = model(xt[idx])
            loss = loss_fn(out, yt[idx])
            loss.backward()
            optimizer.step()
            with torch.no_grad():  # the accuracy Keras computes as its metric
                (((out > 0.5).float() == yt[idx]) if binary else (out.argmax(1) == yt[idx])).float().mean()
    return (time.perf_counter() - start) / steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for both (default 1, as when grading)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jit", action="store_true", help="also fit with jit_compile=True (minutes: torch.compile)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"ms per training step (median of {args.repeat}), {args.threads} thread(s), torch {torch.__version__}")
    variants = {"fit": {}, "no metric": {"metrics": False}, **({"jit_compile": {"jit": True}} if args.jit else {})}
    print(f"{'model':24} {'steps/epoch':>11} " + " ".join(f"{k:>12}" for k in variants) + f" {'torch loop':>11} "
          + " ".join(f"{k + '/torch':>18}" for k in variants))
    for name, spec in MODELS.items():
        x, y = spec["data"]()
        runs: dict[str, list[float]] = {k: [] for k in [*variants, "torch"]}
        for _ in range(args.repeat):
            for k, options in variants.items():
                runs[k].append(keras_seconds_per_step(spec, x, y, args.epochs, **options))
            runs["torch"].append(torch_seconds_per_step(spec, x, y, args.epochs))
        ms = {k: 1000 * statistics.median(v) for k, v in runs.items()}
        print(f"{name:24} {-(-len(x) // spec['batch']):11d} " + " ".join(f"{ms[k]:12.2f}" for k in variants)
              + f" {ms['torch']:11.2f} " + " ".join(f"{ms[k] / ms['torch']:18.1f}" for k in variants))
    return 0


if __name__ == "__main__":
    sys.exit(main())
