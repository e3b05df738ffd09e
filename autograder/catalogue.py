"""Autograde the catalogue of wrong answers of an assignment with nbgrader.

Every case becomes one student: the instructor's solution with the case's
answer cells swapped in, filled into the generated student notebook.  Two
more students come along: ``solution`` (the instructor's answers) and
``blank`` (the untouched student notebook).  The batch grader
(:mod:`autograder.batch`: nbgrader's own ``autograde`` per student, in the
sandbox, warm kernels and all) grades them all, exactly as it grades a class;
the grades are read back from nbgrader's gradebook, and the hints from the
autograded notebooks.

Usage (in the course root, or with ``--course-dir``)::

    python -m autograder catalogue week1_forward_pass [--workers 2]

prints one line per case and exits non-zero if any case is graded wrongly.
"""
from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import batch, cells, cli
from autograder.course_root import CourseRoot, code_cells
from autograder.wrong_answers import Case, cases

SOLUTION, BLANK = "solution", "blank"


@dataclass
class Outcome:
    student: str
    case: Case | None
    grades: dict[str, tuple[float, float]]  # grade_id -> (score, max)
    shown: str = ""  # what the graded test cells printed: errors (with hints) and streams
    error: str = ""  # why the batch grader could not grade this student ('' if it did)

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
        if self.error:
            return f"not graded: {self.error}"
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


def _check_cells_exist(assignment: str, catalogue: list[Case], course_dir: Path | None) -> None:
    known, graded = code_cells(assignment, "solution", course_dir), code_cells(assignment, "grade", course_dir)
    for case in catalogue:
        unknown = [k for k in case.answers if k not in known] + [g for g in case.loses if g not in graded]
        if unknown:
            raise KeyError(f"catalogue case {case.name!r} names cells that {assignment} does not have: {unknown}")


def _autograde(root: CourseRoot, assignment: str, workers: int, progress: bool) -> dict[str, str]:
    """Autograde every student of ``root`` with the batch grader; a student it could not grade is
    graded once more.  Returns {student: why} of those that failed twice."""
    result = batch.autograde_class(root.path, assignment, workers=workers, progress=progress)
    errors = {sid: result.students[sid].message for sid in result.failed}
    if not errors:
        return {}
    print(f"catalogue: {len(errors)} students of {assignment} could not be graded; grading them again: {errors}",
          file=sys.stderr)
    again = batch.autograde_class(root.path, assignment, students=sorted(errors), workers=workers, progress=False)
    return {sid: again.students[sid].message for sid in again.failed}


def grade(assignment: str, workdir: Path, *, workers: int = 2, progress: bool = True,
          course_dir: Path | None = None) -> list[Outcome]:
    """Generate, submit every case as a student, autograde the class with the batch grader (in the
    sandbox, as real submissions are graded), and return the outcomes.

    ``course_dir``: the course root whose source/ and nbgrader_config.py are used (default: here).
    A student the batch grader could not grade (on a loaded machine a kernel can fail to start in
    time) is graded once more; a second failure is the outcome's ``error``."""
    catalogue = cases(assignment)
    _check_cells_exist(assignment, catalogue, course_dir)
    root = CourseRoot.create(workdir / "course", [assignment], course_dir)
    root.generate(assignment)
    students: list[tuple[str, Case | None, dict[str, str] | None]] = [
        (SOLUTION, None, {}), (BLANK, None, None),
        *((c.student, c, c.answers) for c in catalogue),
    ]
    for sid, _, answers in students:
        root.submit(sid, assignment, root.student_notebooks(assignment, answers))

    start = time.monotonic()
    errors = _autograde(root, assignment, workers, progress)
    if progress:
        print(f"autograded {len(students)} submissions of {assignment} with {workers} workers "
              f"in {time.monotonic() - start:.1f} s", file=sys.stderr)
    grades = root.grades(assignment)
    return [Outcome(sid, case, grades.get(sid, {}), shown_by_tests(root.path / "autograded" / sid / assignment),
                    errors.get(sid, "")) for sid, case, _ in students]


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
    parser.add_argument("--workers", type=int, default=2, help="students at once (default 2)")
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
