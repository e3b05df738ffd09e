"""How fast the playground widget (course.playground) trains and draws.

    python benchmarks/playground.py [--seconds 3]

For a relu network of 8 units per hidden layer, with 2 and with 4 hidden
layers, on the "circles" data (500 points, 90 % of them for training, batch
size 10), it prints:

* ``epoch ms``: mean time of one training epoch over all 500 points;
* ``render ms``: mean time of one frame's drawing (heatmap, points and loss
  curves into a PNG), and ``full ms``: a full redraw, needed only when the
  data or the loss axes' limits change;
* ``first frame ms``: from ``play()`` to the first frame drawn by the thread;
* ``frames/s`` and ``epochs/s`` while playing for ``--seconds`` seconds.

Targets: first frame < 1000 ms, >= 10 frames/s. The script exits with status
1 if a target is missed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from course.playground import Playground, make_dataset  # noqa: E402

FIRST_FRAME_TARGET_MS = 1000.0
FPS_TARGET = 10.0


def _mean_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.mean(times)


def measure(hidden_layers: int, seconds: float) -> dict[str, float]:
    pg = Playground(dataset="circles", hidden_layers=hidden_layers, neurons=8,
                    activation="relu", train_ratio=90, batch_size=10, n_points=500)
    try:
        X, y = make_dataset("circles", 500, noise=0.1)
        rng = np.random.default_rng(0)
        lr = pg.controls["learning_rate"].value
        epoch_ms = _mean_ms(lambda: pg.model.train_epoch(X, y, lr, 10, rng), 30)
        pg.reset()
        render_ms = _mean_ms(pg.render, 20)

        def full_redraw():
            pg._background = None     # force the full draw that a new data set needs
            pg.render()

        full_ms = _mean_ms(full_redraw, 5)
        pg.reset()

        frames, start = pg.frames, time.perf_counter()
        pg.play()
        while pg.frames == frames and time.perf_counter() - start < 10:
            time.sleep(0.001)
        first_ms = 1e3 * (time.perf_counter() - start)
        frames, epochs, start = pg.frames, pg.epoch, time.perf_counter()
        time.sleep(seconds)
        frames, epochs = pg.frames - frames, pg.epoch - epochs
        elapsed = time.perf_counter() - start
        pg.pause()
        return {"epoch ms": epoch_ms, "render ms": render_ms, "full ms": full_ms,
                "first frame ms": first_ms, "frames/s": frames / elapsed,
                "epochs/s": epochs / elapsed}
    finally:
        pg.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to play")
    args = parser.parse_args()
    columns = ["epoch ms", "render ms", "full ms", "first frame ms", "frames/s", "epochs/s"]
    print("relu, 8 units per hidden layer, 'circles', 500 points, batch size 10")
    print(f"{'network':<18}" + "".join(f"{c:>16}" for c in columns))
    ok = True
    for hidden in (2, 4):
        row = measure(hidden, args.seconds)
        print(f"{f'{hidden} hidden layers':<18}" + "".join(f"{row[c]:>16.1f}" for c in columns))
        ok &= row["first frame ms"] < FIRST_FRAME_TARGET_MS and row["frames/s"] >= FPS_TARGET
    print(f"targets: first frame < {FIRST_FRAME_TARGET_MS:.0f} ms, >= {FPS_TARGET:.0f} frames/s"
          f" -> {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
