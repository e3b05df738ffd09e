"""The instructor's commands: ``python -m autograder COMMAND`` (or ``course-grader COMMAND``).

    autograde ASSIGNMENT [ASSIGNMENT ...]
                           autograde every submission, several students at once
    report                 class report from the gradebook: CSV, plots, index.html
    lifecycle              the nbgrader command for each step of the course
    release                regenerate release/ from source/ (python -m autograder.release)
    catalogue ASSIGNMENT   autograde the catalogue of wrong answers (python -m autograder.catalogue)

Run it in the course root (the folder with nbgrader_config.py), or give --course-dir.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

LIFECYCLE = """\
The course, step by step, with nbgrader's commands (run in the course root, in the
course's environment; `nbgrader COMMAND --help` for options):

  1. write or edit        source/<assignment>/*.ipynb (JupyterLab, Create Assignment toolbar)
  2. student version      nbgrader generate_assignment ASSIGNMENT      (or: python -m autograder release)
  3. check the grading    python -m autograder catalogue ASSIGNMENT    (wrong answers lose points)
  4. release              nbgrader release_assignment ASSIGNMENT
  5. students             nbgrader fetch_assignment ASSIGNMENT --course intro-dl
                          nbgrader submit ASSIGNMENT --course intro-dl
  6. collect              nbgrader collect ASSIGNMENT
  7. autograde            python -m autograder autograde ASSIGNMENT --workers N
                          (nbgrader autograde ASSIGNMENT --student=ID --force per student, side by
                          side, in a sandbox; one student at a time: nbgrader autograde ASSIGNMENT)
  8. manual grading       nbgrader formgrader (JupyterLab's Formgrader tab): written answers, and
                          the submissions flagged by step 7
  9. feedback             nbgrader generate_feedback ASSIGNMENT
                          nbgrader release_feedback ASSIGNMENT
                          (students: nbgrader fetch_feedback ASSIGNMENT --course intro-dl)
 10. grades               nbgrader export                  (grades.csv, one row per student and assignment)
                          python -m autograder report      (scores per task, plots, index.html)
"""


def _autograde(args) -> int:
    from autograder.batch import BatchError, autograde_assignments

    with _executor(args.dask, args.workers) as executor:
        try:
            results = autograde_assignments(Path(args.course_dir), args.assignment, students=args.student or None,
                                            workers=args.workers, executor=executor, sandbox=not args.no_sandbox,
                                            progress=not args.quiet,
                                            max_submission_mb=args.max_submission_mb, timeout=args.timeout)
        except BatchError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    for name, result in results.items():
        print(f"{name}:\n{result.summary()}" if len(results) > 1 else result.summary())
    return 1 if any(r.failed for r in results.values()) else 0


@contextlib.contextmanager
def _executor(dask: str | None, workers: int | None):
    if not dask:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SystemExit("--dask needs Dask: pip install 'dask[distributed]'") from None
    if dask == "local":
        with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client.get_executor()
    else:
        with Client(dask) as client:
            yield client.get_executor()


def _report(args) -> int:
    from autograder.report import write_report

    out = write_report(Path(args.course_dir), Path(args.out), assignments=args.assignment or None)
    print(f"report written to {out / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # the existing modules keep their own command lines
    if argv and argv[0] == "release":
        from autograder import release

        return release.main(argv[1:])
    if argv and argv[0] == "catalogue":
        from autograder import catalogue

        return catalogue.main(argv[1:])

    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1] + "\n" + LIFECYCLE)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("autograde", help="autograde a whole class, several students at once",
                       description="Autograde every submission of each ASSIGNMENT in submitted/ with nbgrader, "
                                   "several students at once; write the grades into the course's gradebook "
                                   "and the notebooks into autograded/. Exit 1 if a student could not be "
                                   "graded (they get zero points and are flagged), 2 if nothing could.")
    p.add_argument("assignment", nargs="+", help="one or more: all their students share the workers")
    p.add_argument("--workers", type=int, default=None, help="students at once (default: number of CPUs)")
    p.add_argument("--no-sandbox", action="store_true", help="run the kernels without the bubblewrap sandbox")
    p.add_argument("--dask", metavar="ADDRESS|local",
                   help="grade on a Dask cluster (scheduler address), or 'local' for a local one")
    p.add_argument("--student", action="append", metavar="ID", help="only this student (repeatable)")
    p.add_argument("--timeout", type=float, default=None, help="wall-clock seconds per notebook (default 900)")
    p.add_argument("--max-submission-mb", type=float, default=None,
                   help="larger submissions are not graded (default 20)")
    p.add_argument("--course-dir", default=".", help="the course root (default: here)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_autograde)

    p = sub.add_parser("report", help="class report: scores per task (CSV), plots, index.html")
    p.add_argument("--out", default="reports", help="folder for the report (default: reports/)")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p.add_argument("--course-dir", default=".", help="the course root (default: here)")
    p.set_defaults(run=_report)

    sub.add_parser("lifecycle", help="the nbgrader command for each step of the course").set_defaults(
        run=lambda _: print(LIFECYCLE) or 0)
    sub.add_parser("release", help="regenerate release/ from source/ (see python -m autograder.release -h)")
    sub.add_parser("catalogue", help="autograde the catalogue of wrong answers "
                                     "(see python -m autograder.catalogue -h)")

    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
