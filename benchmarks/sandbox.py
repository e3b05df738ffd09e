"""What the sandbox costs per kernel: start, a first cell, an import-heavy cell, and stop.

    python benchmarks/sandbox.py [--repeat 5]

Starts the plain ``python3`` kernel and the sandboxed ``course-sandbox`` kernel (the one
``python -m autograder autograde`` uses) alternately, ``--repeat`` times each, the way nbgrader
does (jupyter_client, a kernel in the notebook's folder), and prints the median seconds of

* ``start``: start until the kernel answers (bwrap, the proxy, the kernel inside);
* ``first cell``: ``1 + 1`` (in the sandbox, the integrity guard's snapshot of numpy and
  the course helpers is taken here);
* ``imports``: ``import numpy, torch, keras, matplotlib.pyplot`` timed inside the kernel;
* ``stop``: an immediate stop, as the batch grader does it;

and the difference per kernel.  A student's whole course is 5 notebooks, so 5 times the
difference is the sandbox's cost per student.  As root it also starts ``warm`` kernels: the
sandboxed kernel as a fork of :class:`autograder.sandbox.WarmKernels` (the batch grader's
default there), which has imported numpy, torch, Keras and matplotlib already.  Run it with
COURSE_DATA_DIR set.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import KernelManager

from autograder import sandbox

IMPORTS = ("import time; t = time.perf_counter(); import numpy, torch, keras, matplotlib.pyplot; "
           "print(time.perf_counter() - t)")


def one_kernel(name: str, folder: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    """Times of one kernel: the plain ``python3`` or, with ``env`` (sandbox.kernel_env), the sandbox's."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    km = (KernelManager(kernel_name=name) if env is None else
          KernelManager(kernel_name=name, kernel_spec_manager=sandbox.kernel_specs()))
    km.start_kernel(cwd=str(folder), env={**os.environ, **(env or {})})
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    out["start"] = time.perf_counter() - start
    t = time.perf_counter()
    kc.execute_interactive("1 + 1", timeout=120, output_hook=lambda msg: None)
    out["first cell"] = time.perf_counter() - t
    printed: list[str] = []
    kc.execute_interactive(IMPORTS, timeout=300, output_hook=lambda msg: printed.append(
        msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
    out["imports"] = float("".join(printed).split()[-1])
    t = time.perf_counter()
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    out["stop"] = time.perf_counter() - t
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="kernels of each kind (default 5)")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    warm = sandbox.WarmKernels() if sandbox.warm_kernels_possible() else contextlib.nullcontext()
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp, warm:
        sandbox.require()
        specs = {"sandbox": sandbox.kernel_env(workdir=Path(tmp))}
        if isinstance(warm, sandbox.WarmKernels) and warm.socket:
            specs["warm"] = sandbox.kernel_env(workdir=Path(tmp), warm=warm.socket)
        folder = Path(tmp) / "notebook"
        folder.mkdir()
        runs: dict[str, list[dict[str, float]]] = {"plain": [], **{kind: [] for kind in specs}}
        for _ in range(args.repeat):  # alternately, so that a busy moment hits all
            runs["plain"].append(one_kernel("python3", folder))
            for kind, env in specs.items():  # the same kernel spec; the environment says cold or warm
                runs[kind].append(one_kernel(sandbox.KERNEL_NAME, folder, env))
    steps = ["start", "first cell", "imports", "stop"]
    median = {kind: {s: statistics.median(r[s] for r in rs) for s in steps} for kind, rs in runs.items()}
    kinds = list(runs)[1:]
    print(f"median of {args.repeat} kernels each, seconds (extra: against plain)")
    print(f"{'step':12} {'plain':>8}" + "".join(f" {k:>8} {'extra':>7}" for k in kinds))
    total = {k: sum(m.values()) for k, m in median.items()}
    for s in [*steps, "total"]:
        row = total if s == "total" else {k: median[k][s] for k in runs}
        print(f"{s:12} {row['plain']:8.2f}" + "".join(f" {row[k]:8.2f} {row[k] - row['plain']:+7.2f}" for k in kinds))
    for k in kinds:  # the imports apart: only 2 of a student's 5 notebooks import Keras and torch
        extra = total[k] - median[k]["imports"] - (total["plain"] - median["plain"]["imports"])
        print(f"{k} kernel against plain, imports apart: {extra:+.2f} s per kernel, per student (5 notebooks) "
              f"{5 * extra:+.1f} s; the imports: {median[k]['imports'] - median['plain']['imports']:+.2f} s "
              f"per notebook that imports Keras (2 per student)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
