"""How quickly the gradient-descent explorer answers a slider move.

    python benchmarks/descent.py

Moves the learning-rate slider of ``DescentExplorer`` (as the browser would, by
setting its value) on each surface with 100 steps, and prints the median and
the worst time from the change to the new PNG.  Target: under 200 ms.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from course.descent import SURFACES, DescentExplorer


def main() -> None:
    print(f"{'surface':16} {'median ms':>10} {'max ms':>8}")
    for name in SURFACES:
        ex = DescentExplorer(name, steps=100)
        times = []
        for lr in np.geomspace(1e-3, 10, 15):
            start = time.perf_counter()
            ex.controls["lr"].value = float(lr)
            ex.png()
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:16} {statistics.median(times):10.0f} {max(times):8.0f}")
    print("target: a slider move shows the new plot in under 200 ms")


if __name__ == "__main__":
    main()
