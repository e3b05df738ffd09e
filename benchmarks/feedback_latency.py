"""Time from submit to feedback available, with the feedback service (autograder.feedback_service).

    python benchmarks/feedback_latency.py [--per-assignment 3] [--assignments A [A ...]]

It builds a course root with every assignment (or those given) turned on for feedback on
submission, releases them into a fresh exchange, and for each assignment lets students submit
with nbgrader's own ``submit`` (the instructor's solution, a wrong answer of the catalogue, an
untouched notebook, in turn).  After each submission the service takes one look at the exchange
(``Service.step``: collect, autograde in the sandbox, generate and release feedback); the time
from the end of ``nbgrader submit`` to the feedback in the exchange is the latency, to which a
running service adds up to one polling interval (``FeedbackService.interval``, 5 s by default).
Each submission's feedback is then fetched with ``nbgrader fetch_feedback`` to prove it arrived.

Prints the median and the worst latency per assignment against the targets: 60 s for the NumPy
notebooks, 120 s for the Keras ones.  Run it with COURSE_DATA_DIR set.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder import runner  # noqa: E402
from autograder.cells import fill_in, solution_code  # noqa: E402
from autograder.course_root import CourseRoot, assignments, notebooks, source_notebook  # noqa: E402
from autograder.feedback_service import Service  # noqa: E402
from autograder.wrong_answers import cases  # noqa: E402

COURSE = "intro-dl"
TARGET_NUMPY, TARGET_KERAS = 60.0, 120.0


def uses_keras(assignment: str) -> bool:
    return any("import keras" in c.source for n in notebooks(assignment) for c in source_notebook(assignment, n).cells
               if c.cell_type == "code")


def as_student(cwd: Path, student: str, home: Path, *args: str) -> str:
    env = runner.nbgrader_env(USER=student, LOGNAME=student, HOME=str(home))
    env.pop("NBGRADER_EXCHANGE", None)
    extra = [f"--student={student}"] if args[0] in ("submit", "fetch_feedback") else []
    return runner.nbgrader(cwd, *args, *extra, env=env, timeout=600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-assignment", type=int, default=3, help="submissions per assignment (default 3)")
    parser.add_argument("--assignments", nargs="+", default=None)
    args = parser.parse_args(argv)
    names = args.assignments or assignments()
    rows, ok = [], True
    with tempfile.TemporaryDirectory(prefix="feedback-latency-") as tmp:
        tmp = Path(tmp)
        exchange = tmp / "exchange"
        exchange.mkdir()
        exchange.chmod(0o777)
        ex = [f"--Exchange.root={exchange}"]
        root = CourseRoot.create(tmp / "instructor", names, REPO)
        with open(root.path / "nbgrader_config.py", "a") as f:
            f.write(f"\nc.FeedbackService.assignments = {names!r}\nc.FeedbackService.per_hour = 1000\n")
        service = Service(root.path, exchange, out=open(tmp / "service.log", "w"))
        for a in names:
            runner.nbgrader(root.path, "generate_assignment", a, "--force", f"--CourseDirectory.course_id={COURSE}")
            runner.nbgrader(root.path, "release_assignment", a, f"--CourseDirectory.course_id={COURSE}", *ex)
            wrong = [c for c in cases(a) if c.kind == "wrong"]
            took = []
            for i in range(args.per_assignment):
                student = f"s{i:02d}"
                home = tmp / "home" / a / student
                home.mkdir(parents=True)
                as_student(home, student, home, "fetch_assignment", a, "--course", COURSE, *ex)
                kind = i % 3
                for nb in notebooks(a):
                    path = home / a / f"{nb}.ipynb"
                    answers = {} if kind == 0 else wrong[i % len(wrong)].answers if kind == 1 else None
                    if answers is not None:
                        solution = solution_code(source_notebook(a, nb))
                        if not solution:
                            continue  # nothing to answer in this notebook
                        mine = {**solution, **{k: v for k, v in answers.items() if k in solution}}
                        nbformat.write(fill_in(nbformat.read(path, as_version=4), mine), path)
                as_student(home, student, home, "submit", a, "--course", COURSE, *ex)
                start = time.monotonic()
                entries = service.step()
                took.append(time.monotonic() - start)
                statuses = [e["status"] for e in entries]
                as_student(home, student, home, "fetch_feedback", a, "--course", COURSE, *ex)
                fetched = sorted((home / a / "feedback").rglob("*.html"))
                if statuses != ["graded"] or len(fetched) != len(notebooks(a)):
                    ok = False
                    print(f"  {a} {student}: {statuses}, {len(fetched)} feedback pages fetched", file=sys.stderr)
            target = TARGET_KERAS if uses_keras(a) else TARGET_NUMPY
            rows.append((a, len(notebooks(a)), statistics.median(took), max(took), target))
    print(f"{'assignment':22} {'notebooks':>9} {'median s':>9} {'worst s':>8} {'target s':>9}")
    for a, n, med, worst, target in rows:
        print(f"{a:22} {n:>9} {med:>9.1f} {worst:>8.1f} {target:>9.0f}  {'ok' if worst <= target else 'OVER'}")
    print("submit -> feedback in the exchange, one look of the service; a running service adds up to its "
          "polling interval (5 s by default)")
    met = all(worst <= target for *_, worst, target in rows)
    return 0 if ok and met else 1


if __name__ == "__main__":
    sys.exit(main())
