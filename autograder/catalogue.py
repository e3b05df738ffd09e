"""Autograde the catalogue of wrong answers of an assignment with nbgrader.

Every case becomes one student: the instructor's solution with the case's
answer cells swapped in, filled into the generated student notebook.  Two
more students come along: ``solution`` (the instructor's answers) and
``blank`` (the untouched student notebook).  nbgrader's own ``autograde``
grades them all; the grades are read back from nbgrader's gradebook.

Usage (in the course root, or with ``--course-dir``)::

    python -m autograder catalogue week1_forward_pass [--workers 2]

prints one line per case and exits non-zero if any case is graded wrongly.
"""
from __future__ import annotations

import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import cells, cli
from autograder.course_root import CourseRoot, code_cells
from autograder.runner import NbgraderError
from autograder.wrong_answers import Case, cases

SOLUTION, BLANK = "solution", "blank"


@dataclass
class Outcome:
    student: str
    case: Case | None
    grades: dict[str, tuple[float, float]]  # grade_id -> (score, max)
    shown: str = ""  # what the graded test cells printed: errors (with hints) and streams

    @property
    def score(self) -> float:
        return sum(s for s, _ in self.grades.values())

    @property
    def max_score(self) -> float:
        return sum(m for _, m in self.grades.values())

    @property
    def lost(self) -> list[str]:
        return sorted(g for g, (s, m) in self.grades.items() if s < m)

    def problem(self) -> str:
        """Why this student's grade is not what the catalogue expects ('' if it is)."""
        if not self.grades:
            return "no grades in the gradebook"
        if self.student == SOLUTION or (self.case and self.case.kind == "right"):
            return f"expected full marks, lost points in {self.lost}" if self.lost else ""
        if self.student == BLANK:
            return f"expected 0, got {self.score:g}" if self.score else ""
        missing = [g for g in self.case.loses if g not in self.lost]
        if missing:
            return f"expected to lose points in {missing}; lost in {self.lost}"
        if self.case.hint and " ".join(self.case.hint.split()) not in " ".join(self.shown.split()):
            return f"the feedback does not show the hint {self.case.hint!r}"
        return ""


def student_id(case: Case) -> str:
    return re.sub(r"[^a-z0-9_]", "_", case.name.lower())


def _check_cells_exist(assignment: str, catalogue: list[Case], course_dir: Path | None) -> None:
    known, graded = code_cells(assignment, "solution", course_dir), code_cells(assignment, "grade", course_dir)
    for case in catalogue:
        unknown = [k for k in case.answers if k not in known] + [g for g in case.loses if g not in graded]
        if unknown:
            raise KeyError(f"catalogue case {case.name!r} names cells that {assignment} does not have: {unknown}")


def _autograde(root: CourseRoot, assignment: str) -> None:
    """``nbgrader autograde`` of every student in ``root``.  nbgrader grades the others when one
    student's run fails, then exits 1; a student whose run failed is graded once more alone, since
    on a loaded machine a kernel can fail to start in time.  A second failure is raised."""
    try:
        root.autograde(assignment)
    except NbgraderError as err:
        failed = re.findall(r"error processing assignment '[^']*' for student '([^']+)'", err.output)
        if not failed:
            raise
        for student in dict.fromkeys(failed):
            print(f"catalogue: nbgrader could not grade {student} of {assignment} (see the log below); "
                  f"grading {student} again\n{str(err)[:3000]}", file=sys.stderr)
            root.autograde(assignment, student)


def grade(assignment: str, workdir: Path, *, workers: int = 2, progress: bool = True,
          course_dir: Path | None = None) -> list[Outcome]:
    """Generate, submit every case, autograde with nbgrader, and return the outcomes.

    ``course_dir``: the course root whose source/ and nbgrader_config.py are used (default: here)."""
    catalogue = cases(assignment)
    _check_cells_exist(assignment, catalogue, course_dir)
    base = CourseRoot.create(workdir / "base", [assignment], course_dir)
    base.generate(assignment)

    students: list[tuple[str, Case | None, dict[str, str] | None]] = [
        (SOLUTION, None, {}), (BLANK, None, None),
        *((student_id(c), c, c.answers) for c in catalogue),
    ]
    workers = max(1, min(workers, len(students)))
    roots = [base.copy(workdir / f"worker{i}") for i in range(workers)]
    shares: list[list[str]] = [[] for _ in roots]
    for i, (sid, _, answers) in enumerate(students):
        roots[i % workers].submit(sid, assignment, base.student_notebooks(assignment, answers))
        shares[i % workers].append(sid)

    start = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:  # each worker is one `nbgrader autograde` process
        list(pool.map(lambda r: _autograde(r, assignment), roots))
    if progress:
        print(f"autograded {len(students)} submissions of {assignment} with {workers} nbgrader "
              f"processes in {time.monotonic() - start:.1f} s", file=sys.stderr)

    grades: dict[str, dict[str, tuple[float, float]]] = {}
    shown: dict[str, str] = {}
    for root, sids in zip(roots, shares):
        grades.update(root.grades(assignment))
        shown.update({sid: shown_by_tests(root.path / "autograded" / sid / assignment) for sid in sids})
    return [Outcome(sid, case, grades.get(sid, {}), shown.get(sid, "")) for sid, case, _ in students]


def shown_by_tests(folder: Path) -> str:
    """What the test cells of a student's autograded notebooks showed: error messages and printed text."""
    texts = []
    for path in sorted(folder.glob("*.ipynb")):
        for _, out in cells.graded_outputs(nbformat.read(path, as_version=4)):
            texts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}" if out.get("output_type") == "error"
                         else str(out.get("text", "")))
    return "\n".join(texts)


def add_arguments(parser) -> None:
    parser.add_argument("assignment")
    parser.add_argument("--workers", type=int, default=2, help="nbgrader processes at once (default 2)")
    cli.add_course_dir(parser)


def run(args) -> int:
    with tempfile.TemporaryDirectory(prefix="catalogue-") as tmp:
        outcomes = grade(args.assignment, Path(tmp), workers=args.workers, course_dir=args.course_dir.resolve())
    bad = 0
    for o in outcomes:
        kind = o.case.kind if o.case else o.student
        problem = o.problem()
        bad += bool(problem)
        print(f"{'FAIL' if problem else 'ok  '} {kind:8} {o.student:45} {o.score:4g}/{o.max_score:g}"
              f"  {problem or ('lost: ' + ', '.join(o.lost) if o.lost else '')}")
    hinted = [o for o in outcomes if o.case and o.case.hint]
    print(f"{len(outcomes) - bad} graded as expected, {bad} not; "
          f"{sum(not o.problem() for o in hinted)} of {len(hinted)} hints shown as the catalogue expects")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
