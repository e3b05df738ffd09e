"""What the integrity guard (autograder/sandbox/inside.py) costs per statement of a cell.

    python benchmarks/guard.py [--statements 2000] [--cells 200]

In one process with what a Keras notebook's kernel has loaded (numpy, scipy, matplotlib, torch,
Keras, the course's modules), it runs a one-line statement compiled as a notebook cell's code,
``--statements`` times, without and then with the guard installed, and prints the median
milliseconds per statement of 5 rounds; then the same with every statement a cell of its own (the
guard compares more as a cell starts).  IPython runs each top-level statement of a cell this way,
so a notebook pays the first number per statement and the second per cell.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")


def per_run(codes: list, rounds: int = 5) -> float:
    """Median seconds per exec of ``codes`` (run one after the other) over ``rounds`` rounds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for code in codes:
            exec(code, {})  # noqa: S102 (the point: an exec audit event, as IPython raises per statement)
        times.append((time.perf_counter() - start) / len(codes))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--cells", type=int, default=200)
    args = parser.parse_args()
    import sys

    import keras  # noqa: F401
    import matplotlib.pyplot  # noqa: F401
    import numpy.testing  # noqa: F401
    import scipy.special  # noqa: F401
    import torch  # noqa: F401

    from autograder.sandbox.inside import import_course, install_guard

    import_course()  # every module of the course, as a kernel in the sandbox has them

    one_cell = [compile("x = 1", "/tmp/ipykernel_1/1.py", "exec")] * args.statements
    cells = [compile("x = 1", f"/tmp/ipykernel_1/{i}.py", "exec") for i in range(args.cells)]
    without, without_cells = per_run(one_cell), per_run(cells)
    install_guard()
    exec(compile("pass", "/tmp/ipykernel_1/0.py", "exec"), {})  # the first cell: the guard's snapshot
    with_guard, with_cells = per_run(one_cell), per_run(cells)
    print(f"{len(sys.modules)} modules loaded")
    print(f"per statement:           {without * 1e3:.3f} ms without the guard, {with_guard * 1e3:.3f} ms with it")
    print(f"per statement, new cell: {without_cells * 1e3:.3f} ms without the guard, {with_cells * 1e3:.3f} ms with it")


if __name__ == "__main__":
    main()
