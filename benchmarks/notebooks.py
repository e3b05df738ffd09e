"""Time each source notebook and measure its kernel's peak memory.

    python benchmarks/notebooks.py [--repeat N] [--no-autograde] [--cells N]

For every notebook in source/ it prints, as a table:

* ``run``: the notebook executed top to bottom (as CI and students do);
* ``grading``: the same with ``NBGRADER_EXECUTION=autograde`` set, as nbgrader
  sets it while autograding (notebooks may train less then);
* ``peak MB``: the largest resident memory of the kernel process (with its
  children), sampled every 20 ms;
* ``autograde``: wall time of ``nbgrader autograde`` for one student (the
  instructor's solution) of the whole assignment, kernel start included
  (shown on each notebook row of that assignment).

Run it with COURSE_DATA_DIR set (see README).  Times are the median of
``--repeat`` runs.  Notebooks with a budget in ``BUDGETS`` (seconds to run, seconds of
``nbgrader autograde`` of one student, peak MB) get a verdict column, and the script exits 1
if one is over it.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

from autograder.course_root import CourseRoot, assignments, notebooks

REPO = Path(__file__).resolve().parents[1]


INLINE = "module://matplotlib_inline.backend_inline"
# assignment/notebook: (run s, autograde s, peak MB) that the notebook must stay within
BUDGETS = {"week2b_backprop/04b_backprop": (30.0, 15.0, 600.0)}


@contextlib.contextmanager
def environ(**changes: str | None):
    """Set (or, with None, unset) environment variables for the kernels started inside; restore after."""
    def apply(values: dict) -> None:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    before = {key: os.environ.get(key) for key in changes}
    try:
        apply(changes)
        yield
    finally:
        apply(before)


class PeakMemory:
    """Samples the resident memory of a process and its children in a thread."""

    def __init__(self, pid: int, interval: float = 0.02):
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def execute(path: Path, grading: bool, allow_errors: bool = False,
            cell_times: list | None = None) -> tuple[float, float]:
    """(wall seconds, peak kernel MB) of one top-to-bottom run of a notebook; with ``cell_times``,
    appends (seconds, index, first line) of every code cell to it."""
    nb = nbformat.read(path, as_version=4)
    # the kernel draws its figures as in Jupyter (inline PNGs), whatever this process uses
    with environ(NBGRADER_EXECUTION="autograde" if grading else None, MPLBACKEND=INLINE):
        client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=allow_errors, resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        with client.setup_kernel():
            pid = client.km.provisioner.process.pid
            with PeakMemory(pid) as mem:
                for index, cell in enumerate(nb.cells):
                    t0 = time.perf_counter()
                    client.execute_cell(cell, index)
                    if cell_times is not None and cell.cell_type == "code":
                        first = (cell.source.strip().splitlines() or [""])[0][:60]
                        cell_times.append((time.perf_counter() - t0, index, first))
        return time.perf_counter() - start, mem.peak / 2**20


def autograde_time(assignment: str) -> float:
    """Seconds of `nbgrader autograde` for one student who handed in the solution."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        root = CourseRoot.create(Path(tmp) / "course", [assignment], REPO)
        root.generate(assignment)
        root.submit("bench_student", assignment, root.student_notebooks(assignment, {}))
        with environ(MPLBACKEND=None):     # nbgrader's kernels draw as in Jupyter
            start = time.perf_counter()
            root.autograde(assignment, "bench_student")
            return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-autograde", action="store_true")
    parser.add_argument("--assignments", nargs="+", default=None, help="default: every assignment in source/")
    parser.add_argument("--cells", type=int, default=0, metavar="N",
                        help="also print the N slowest cells of each notebook in grading mode")
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "torch")
    print(f"{os.cpu_count()} cores; COURSE_DATA_DIR={os.environ.get('COURSE_DATA_DIR', '(not set)')}; "
          f"median of {args.repeat} run(s)")
    header = f"{'notebook':45} {'run s':>7} {'grading s':>10} {'peak MB':>8} {'autograde s':>12}  budget"
    over = 0
    print(header)
    print("-" * len(header))
    for assignment in args.assignments or assignments(REPO):
        graded = "-" if args.no_autograde else f"{statistics.median(autograde_time(assignment) for _ in range(args.repeat)):.1f}"
        for name in notebooks(assignment, REPO):
            path = REPO / "source" / assignment / f"{name}.ipynb"
            runs = [execute(path, grading=False) for _ in range(args.repeat)]
            cells: list = []
            grading = [execute(path, grading=True, cell_times=cells if i == 0 else None)
                       for i in range(args.repeat)]
            peak = max(m for _, m in runs + grading)
            run_s = statistics.median(t for t, _ in runs)
            verdict = ""
            if f"{assignment}/{name}" in BUDGETS:
                budget = BUDGETS[f"{assignment}/{name}"]
                within = run_s < budget[0] and (graded == "-" or float(graded) < budget[1]) and peak < budget[2]
                over += not within
                verdict = f"{'within' if within else 'OVER'} {budget[0]:g} s / {budget[1]:g} s / {budget[2]:g} MB"
            print(f"{assignment + '/' + name:45} {run_s:7.1f} "
                  f"{statistics.median(t for t, _ in grading):10.1f} {peak:8.0f} {graded:>12}  {verdict}", flush=True)
            for seconds, index, first in sorted(cells, reverse=True)[:args.cells]:
                print(f"    grading, cell {index:3d}: {seconds:6.2f} s  {first}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
