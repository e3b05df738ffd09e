"""Time class-scale autograding: nbgrader's serial autograde against autograder.batch.

    python benchmarks/autograde.py [--students 12] [--assignments A [A ...]] [--no-serial] [--repeat N]

It builds a course root with the assignments (default: every one in source/),
and ``--students`` submissions of each (a mix: the instructor's solution,
wrong answers from the catalogue, untouched notebooks), then autogrades the
same submissions

* ``serial``: ``nbgrader autograde ASSIGNMENT`` (every student, one after the other);
* ``ours 1w``, ``ours 2w``: :func:`autograder.batch.autograde_assignments` (``python -m
  autograder autograde`` with every assignment) with 1 and 2 workers, kernels in the
  bubblewrap sandbox, warm (forks of :class:`autograder.sandbox.WarmKernels`, as root);
* ``ours 1w cold``: the same with every kernel started as a new Python
  (``COURSE_WARM_KERNELS=0``): what warm kernels save;
* ``ours 1w nosb``: 1 worker without the sandbox (cold kernels: warm ones exist only in the
  sandbox), against ``ours 1w cold``: the sandbox's own overhead; with ``--repeat N``, the
  1-worker runs are repeated N times alternately and the medians count, since the machine's
  speed drifts between runs by about as much as the target.

After an untimed warm-up (two students), it prints the wall time and seconds per student (all
notebooks of a student) of each, the speed-up of 2 workers over 1 (next to the machine's own ceiling: two
processes of a pure-Python loop against one, measured before and after, since on a
virtual machine the second core is not always a whole core), the sandbox overhead, and checks
that every run gave the same grades.  Targets: <= 15 s per student with the grader's own kernels
(``ours 1w``: warm where the grader runs as root, else cold), >= 1.8x with 2 workers, sandbox
overhead < 10%.

Where warm kernels run, the cold run beside them is reported, not held to the 15 s: next to it the
script prints what a cold student's kernel starts alone cost (:func:`cold_starts`: for each notebook,
a new kernel of this Python running only the notebook's first code cell, its imports and
``course.setup()``; the best of 3, without the sandbox), which is most of what warm kernels save.
Run it with COURSE_DATA_DIR set.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.batch import BatchError, autograde_assignments, check_sandbox
from autograder.course_root import CourseRoot, assignments, notebooks, source_notebook
from autograder.sandbox import warm_kernels_possible
from autograder.wrong_answers import cases

REPO = Path(__file__).resolve().parents[1]
TARGET_PER_STUDENT, TARGET_SPEEDUP, TARGET_OVERHEAD = 15.0, 1.8, 10.0


def build(base: Path, names: list[str], n: int) -> tuple[CourseRoot, list[str]]:
    """A course root with ``names`` generated and ``n`` students' submissions of each."""
    root = CourseRoot.create(base, names, REPO)
    for name in names:
        root.generate(name)
    students = [f"s{i:03d}" for i in range(n)]
    for i, sid in enumerate(students):
        for name in names:
            wrong = [c for c in cases(name) if c.kind == "wrong"]
            kind = i % 4
            answers = None if kind == 0 else {} if kind == 1 else wrong[(i * 7 + kind) % len(wrong)].answers
            root.submit(sid, name, root.student_notebooks(name, answers))
    return root, students


def _spin(_: int = 0) -> float:
    """Seconds of a fixed pure-Python loop (no I/O, no memory traffic)."""
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def machine_scaling(workers: int = 2) -> float:
    """How much faster ``workers`` processes get through the loop than one: the ceiling of the
    speed-up on this machine at this moment (2.0 on two idle cores; less if the cores are shared)."""
    from concurrent.futures import ProcessPoolExecutor

    alone, together = [], []
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_spin, range(workers)))  # start the processes
        for _ in range(3):  # alternately: the machine's speed drifts
            alone.append(pool.submit(_spin).result())
            start = time.perf_counter()
            list(pool.map(_spin, range(workers)))
            together.append(time.perf_counter() - start)
    return workers * statistics.median(alone) / statistics.median(together)


def grade(root: CourseRoot, names: list[str], how: tuple[int, bool, bool], students: list[str] | None = None) -> dict:
    """The batch grader on ``root``: ``how`` is (workers, sandbox, warm kernels); all students by default."""
    os.environ["COURSE_WARM_KERNELS"] = "1" if how[2] else "0"
    return autograde_assignments(root.path, names, students, workers=how[0], sandbox=how[1], progress=False)


def cold_starts(names: list[str], repeat: int = 3) -> dict[str, float]:
    """{notebook: seconds from a new kernel's start to the end of its first code cell} (the best of
    ``repeat``): what every notebook pays before its first exercise when its kernel starts cold."""
    import nbformat
    from nbclient import NotebookClient

    seconds = {}
    for name in names:
        for stem in notebooks(name, REPO):
            first = next((c for c in source_notebook(name, stem, REPO).cells if c.cell_type == "code"), None)
            times = []
            for _ in range(repeat if first is not None else 0):
                nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(first.source)])
                client = NotebookClient(nb, kernel_name="python3",
                                        resources={"metadata": {"path": str(REPO / "source" / name)}})
                start = time.perf_counter()
                try:
                    with client.setup_kernel(stderr=subprocess.DEVNULL):   # its warnings are not ours
                        client.execute_cell(nb.cells[0], 0)
                        times.append(time.perf_counter() - start)   # not the kernel's shutdown
                except Exception as err:  # noqa: BLE001 (the runs above are printed all the same)
                    print(f"cold start of {stem} failed: {str(err)[-300:]}", file=sys.stderr)
                    break
            seconds[stem] = min(times, default=float("nan"))   # nan: not measured
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=12, help="submissions per assignment (default 12)")
    parser.add_argument("--assignments", nargs="+", default=None, help="default: every assignment in source/")
    parser.add_argument("--no-serial", action="store_true", help="skip the serial nbgrader run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run 'ours 1w' and 'ours 1w nosb' this many times, alternately, and report the "
                             "medians (the machine's speed drifts by more than the 10%% overhead target)")
    args = parser.parse_args(argv)
    names = args.assignments or assignments(REPO)
    try:
        check_sandbox()
        sandbox, why = True, ""
    except Exception as err:  # noqa: BLE001 (no sandbox here: measure without it and say so)
        sandbox, why = False, str(err)
        print(f"NOTE: no sandbox runs: {why}", file=sys.stderr)

    warm = sandbox and warm_kernels_possible()
    ceiling = [machine_scaling()]
    runs: dict[str, float] = {}
    grades: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        t0 = time.perf_counter()
        base, students = build(Path(tmp) / "base", names, args.students)
        print(f"{len(students)} students x {len(names)} assignment(s) ({', '.join(names)}); "
              f"set up in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

        plan = [] if args.no_serial else [("serial", None)]
        plan += [("ours 2w", (2, sandbox, warm))]
        for _ in range(max(1, args.repeat)):
            plan.append(("ours 1w", (1, sandbox, warm)))
            if warm:
                plan.append(("ours 1w cold", (1, True, False)))
            if sandbox:
                plan.append(("ours 1w nosb", (1, False, False)))
        # untimed, first: two students graded as the timed runs grade, so that the first timed run ('ours 2w')
        # does not pay alone for the machine's first touches (files read into memory; fresh memory, which is
        # slow on this virtual machine), which lowered the 2-worker speed-up
        t0 = time.perf_counter()
        grade(base.copy(Path(tmp) / "warm-up"), names, (2, sandbox, warm), students[:2])
        print(f"warm-up (2 students, untimed) {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        times: dict[str, list[float]] = {}
        for i, (label, how) in enumerate(plan):
            root = base.copy(Path(tmp) / f"{i}_{label.replace(' ', '_')}")
            start = time.perf_counter()
            failed = []
            if how is None:  # nbgrader grades one assignment per command
                for name in names:
                    try:
                        root.autograde(name)
                    except Exception as err:  # noqa: BLE001 (nbgrader exits 1 if any notebook failed)
                        failed.append(f"{name}: {str(err)[:200]}")
            else:  # python -m autograder autograde A B C D: one batch, the students share the workers
                results = grade(root, names, how)
                failed += [f"{name}/{s}: {r.students[s].message}" for name, r in results.items() for s in r.failed]
            times.setdefault(label, []).append(time.perf_counter() - start)
            runs[label] = statistics.median(times[label])
            grades[f"{i} {label}"] = {name: root.grades(name) for name in names}
            print(f"{label:14} {times[label][-1]:7.1f} s  {times[label][-1] / len(students):6.1f} s/student"
                  + (f"  ({len(failed)} failed: {failed[:2]})" if failed else ""), file=sys.stderr)

    ceiling.append(machine_scaling())
    print(f"\n{'run':14} {'seconds':>8} {'s/student':>10}" + ("  (median of: ...)" if args.repeat > 1 else ""))
    for label, seconds in runs.items():
        print(f"{label:14} {seconds:8.1f} {seconds / len(students):10.1f}"
              + (f"  ({', '.join(f'{t:.1f}' for t in times[label])})" if len(times[label]) > 1 else ""))
    ok = True
    first = next(iter(grades))
    same = all(g == grades[first] for g in grades.values())
    print(f"grades identical across runs: {same}")
    ok &= same
    one = "ours 1w"
    per_student = runs[one] / len(students)
    print(f"seconds per student (1 worker{', sandbox' if sandbox else ''}{', warm kernels' if warm else ''}): "
          f"{per_student:.1f} (target <= {TARGET_PER_STUDENT:g})")
    if warm:
        print(f"warm kernels save {(runs['ours 1w cold'] - runs['ours 1w']) / len(students):.1f} s per student "
              f"({runs['ours 1w cold'] / len(students):.1f} s/student when every kernel starts cold)")
    starts = cold_starts(names)
    print(f"cold kernel starts alone (a new kernel running each notebook's first cell, best of 3, no sandbox): "
          f"{sum(starts.values()):.1f} s per student: "
          + ", ".join(f"{nb} {t:.1f}" for nb, t in starts.items()))
    ok &= per_student <= TARGET_PER_STUDENT
    speedup = runs["ours 1w"] / runs["ours 2w"]
    print(f"speed-up 2 workers vs 1: {speedup:.2f}x (target >= {TARGET_SPEEDUP:g}x); this machine's own "
          f"ceiling (2 processes of a pure-Python loop against 1): {ceiling[0]:.2f}x before, {ceiling[1]:.2f}x after")
    print(f"seconds per student with 2 workers (the default here: one per core): "
          f"{runs['ours 2w'] / len(students):.1f}")
    ok &= speedup >= TARGET_SPEEDUP
    if sandbox:  # like with like: warm kernels exist only in the sandbox, so cold against cold
        sandboxed = runs["ours 1w cold" if warm else "ours 1w"]
        overhead = 100 * (sandboxed / runs["ours 1w nosb"] - 1)
        print(f"sandbox overhead (cold kernels, sandbox against none): {overhead:+.1f}% (target < {TARGET_OVERHEAD:g}%)")
        if warm:
            print(f"grading in the sandbox with warm kernels against grading without it: "
                  f"{100 * (runs['ours 1w'] / runs['ours 1w nosb'] - 1):+.1f}%")
        ok &= overhead < TARGET_OVERHEAD
    else:
        print(f"sandbox overhead: not measured ({why})")
    if "serial" in runs:
        print(f"ours 2w vs serial nbgrader: {runs['serial'] / runs['ours 2w']:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BatchError as err:
        sys.exit(f"error: {err}")
