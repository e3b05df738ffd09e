"""Autograde the catalogue of wrong answers of an assignment with nbgrader.

A student's submission is the instructor's solution with a case's answer
cells swapped in, filled into the generated student notebook.  The right
answers (alternatives that must keep full marks) are packed: one student holds
as many of them as answer different cells and call none of each other's
functions (:func:`right_packs`), since a right answer leaves every later cell
the same inputs the solution gives it.  A pack with full marks gives each of
its answers full marks; a pack that loses points is graded again answer by
answer, so the report names the answer at fault.  Two more students come
along: ``solution`` (the instructor's answers) and ``blank`` (the untouched
student notebook).

Wrong answers are packed too, where they cannot meet (:func:`wrong_packs`): the
test cells an answer cell can influence are read from the code of the notebook
as the pack hands it in (:func:`autograder.influence.influence`: the names each
statement reads, binds or changes, followed from cell to cell, and the random
state that Keras, torch and NumPy's global generator share), and one student
holds wrong answers whose cells influence no test cell in common, so that each
test cell is graded as it would be with one answer of the pack alone.  Each
answer is judged on the test cells it influences.  A pack counts only if its
grades are what its answers explain: every point it lost is in a test cell one
of its answers influences, and each answer loses what the catalogue says it
loses and shows its hint there.  Otherwise its answers are graded again one by
one, each a student of its own, as is every wrong answer that fits no pack.
The batch grader (:mod:`autograder.batch`: nbgrader's own ``autograde`` per
student, in the sandbox, warm kernels and all) grades them all, exactly as it
grades a class; the grades are read back from nbgrader's gradebook, and the
hints from the autograded notebooks.

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
from typing import Callable

import nbformat

from autograder import batch, cells, cli
from autograder.course_root import CourseRoot, code_cells, notebooks, source_notebook
from autograder.influence import influence
from autograder.wrong_answers import Case, cases

SOLUTION, BLANK = "solution", "blank"
RIGHT_PACK = "right_answers_{}"  # the student id of the n-th pack of right answers (from 1)
WRONG_PACK = "wrong_answers_{}"  # the n-th pack of two or more wrong answers (from 1)


@dataclass
class Outcome:
    student: str
    case: Case | None
    grades: dict[str, tuple[float, float]]  # grade_id -> (score, max)
    shown: str = ""  # what the graded test cells printed: errors (with hints) and streams
    error: str = ""  # why the batch grader could not grade this student ('' if it did)
    graded_as: str = ""  # the pack of right answers it was graded in ('' if graded on its own)

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


def _functions(code: str) -> tuple[set[str], set[str]]:
    """The names a piece of answer code defines at its top level (functions, classes, imports,
    assignments), and the names it calls."""
    import ast

    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set(), set()
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return defined, called


def right_packs(catalogue: list[Case]) -> list[list[Case]]:
    """The right answers of ``catalogue`` in packs, each answer in the first pack it fits (catalogue
    order).  Two answers go into different packs if they answer the same cell, or if one calls a
    function the other defines: a right answer may ask more of another answer than its exercise
    does (``predict_hidden`` written with ``predict_no_hidden`` needs several output units, which a
    right ``predict_no_hidden`` need not handle)."""
    right = [c for c in catalogue if c.kind == "right"]
    defined, called = {}, {}
    for c in right:
        found = [_functions(code) for code in c.answers.values()]
        defined[c.name] = set().union(*(d for d, _ in found))
        called[c.name] = set().union(*(k for _, k in found))

    def apart(a: Case, b: Case) -> bool:
        return bool(a.answers.keys() & b.answers.keys() or defined[a.name] & called[b.name]
                    or defined[b.name] & called[a.name])

    packs: list[list[Case]] = []
    for case in right:
        fits = next((p for p in packs if not any(apart(case, other) for other in p)), None)
        if fits is None:
            packs.append([case])
        else:
            fits.append(case)
    return packs


Reading = Callable[[dict[str, str]], dict[str, set[str]]]


def influence_of(assignment: str, course_dir: Path | None = None) -> Reading:
    """A function of answers ({grade_id: code}) that gives :func:`influence` of every notebook of the
    assignment with those answers in it, together."""
    sources = [source_notebook(assignment, name, course_dir) for name in notebooks(assignment, course_dir)]

    def read(answers: dict[str, str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for nb in sources:
            for answer, tests in influence(nb, answers).items():
                out.setdefault(answer, set()).update(tests)
        return out

    return read


def _reach(case: Case, reach: dict[str, set[str]]) -> set[str]:
    return set().union(*(reach.get(cell, set()) for cell in case.answers))


def _answers(pack: list[Case]) -> dict[str, str]:
    """The answers of a pack's cases, together: what its student hands in."""
    return {k: v for case in pack for k, v in case.answers.items()}


def _apart(members: list[Case], reach: dict[str, set[str]]) -> bool:
    """Each answer loses points only where its cells reach, and no two reach a test cell in common."""
    seen: set[str] = set()
    for case in members:
        mine = _reach(case, reach)
        if not set(case.loses) <= mine or mine & seen:
            return False
        seen |= mine
    return True


def wrong_packs(catalogue: list[Case], read: Reading) -> list[tuple[list[Case], dict[str, set[str]]]]:
    """The wrong answers of ``catalogue`` in packs, each in the first pack it fits (catalogue order),
    with what the pack's cells influence: its answers answer different cells, and in the notebooks
    with all of them in (``read``: :func:`influence_of`) no two influence a test cell in common.  A
    wrong answer said to lose points in a test cell that its cells do not influence (the reading
    would then miss something) is packed with nothing."""
    packs: list[tuple[list[Case], dict[str, set[str]]]] = []   # those that may take more answers
    single: list[tuple[list[Case], dict[str, set[str]]]] = []
    for case in (c for c in catalogue if c.kind == "wrong"):
        alone = read(case.answers)
        if not _apart([case], alone):
            single.append(([case], alone))
            continue
        for i, (members, reach) in enumerate(packs):
            if any(case.answers.keys() & m.answers.keys() or _reach(case, alone) & _reach(m, reach)
                   for m in members):
                continue  # (a quick test first: apart as they are alone and as the pack is)
            together = read(_answers([*members, case]))
            if _apart([*members, case], together):
                packs[i] = ([*members, case], together)
                break
        else:
            packs.append(([case], alone))
    return packs + single


def _autograde(root: CourseRoot, assignment: str, workers: int, progress: bool,
               students: list[str] | None = None, warm: str | None = None) -> dict[str, str]:
    """Autograde ``students`` (default: all) of ``root`` with the batch grader; a student it could
    not grade is graded once more.  Returns {student: why} of those that failed twice."""
    result = batch.autograde_class(root.path, assignment, students=students, workers=workers, progress=progress,
                                   warm=warm)
    errors = {sid: result.students[sid].message for sid in result.failed}
    if not errors:
        return {}
    print(f"catalogue: {len(errors)} students of {assignment} could not be graded; grading them again: {errors}",
          file=sys.stderr)
    again = batch.autograde_class(root.path, assignment, students=sorted(errors), workers=workers, progress=False,
                                  warm=warm)
    return {sid: again.students[sid].message for sid in again.failed}


def grade(assignment: str, workdir: Path, *, workers: int = 2, progress: bool = True,
          course_dir: Path | None = None, warm: str | None = None) -> list[Outcome]:
    """Generate, submit every pack of wrong answers and every pack of right answers as a student,
    autograde the class with the batch grader (in the sandbox, as real submissions are graded), and
    return the outcomes: the solution's, the blank notebook's, then one per case in catalogue order.

    ``course_dir``: the course root whose source/ and nbgrader_config.py are used (default: here).
    A student the batch grader could not grade (on a loaded machine a kernel can fail to start in
    time) is graded once more; a second failure is the outcome's ``error``.  ``warm``: the socket of a
    running :class:`autograder.sandbox.WarmKernels` server to fork the kernels from (by default each
    batch starts its own)."""
    catalogue = cases(assignment)
    _check_cells_exist(assignment, catalogue, course_dir)
    root = CourseRoot.create(workdir / "course", [assignment], course_dir)
    root.generate(assignment)
    packs = {RIGHT_PACK.format(n): pack for n, pack in enumerate(right_packs(catalogue), 1)}
    wrong: dict[str, list[Case]] = {}
    reach: dict[str, dict[str, set[str]]] = {}  # what the cells of each pack of wrong answers influence
    several = (p for p in wrong_packs(catalogue, influence_of(assignment, course_dir)) if len(p[0]) > 1)
    for n, (members, influenced) in enumerate(several, 1):
        wrong[WRONG_PACK.format(n)], reach[WRONG_PACK.format(n)] = members, influenced
    packs.update(wrong)
    packed = {c.student for p in wrong.values() for c in p}
    taken = {SOLUTION, BLANK, *packs} & {c.student for c in catalogue}
    if taken:
        raise ValueError(f"catalogue cases of {assignment} take student ids the catalogue needs: {sorted(taken)}")
    students: dict[str, dict[str, str] | None] = {SOLUTION: {}, BLANK: None}
    students.update((c.student, c.answers) for c in catalogue if c.kind == "wrong" and c.student not in packed)
    students.update((pid, _answers(pack)) for pid, pack in packs.items())
    for sid, answers in students.items():
        root.submit(sid, assignment, root.student_notebooks(assignment, answers))

    start = time.monotonic()
    errors = _autograde(root, assignment, workers, progress, warm=warm)
    grades = root.grades(assignment)

    def outcome(sid: str, case: Case | None, graded_as: str = "") -> Outcome:
        """``graded_as`` a pack of wrong answers: the grades and feedback of the test cells the case's
        answers influence (the other answers of the pack influence none of them)."""
        by = graded_as or sid
        only = _reach(case, reach[graded_as]) if graded_as in wrong else None
        mine = {g: v for g, v in grades.get(by, {}).items() if only is None or g in only}
        return Outcome(sid, case, mine, shown_by_tests(root.path / "autograded" / by / assignment, only),
                       errors.get(by, ""), graded_as)

    def explained(pid: str) -> bool:
        """The pack's grades are what its answers alone explain (see the module's docstring)."""
        got = grades.get(pid)
        if errors.get(pid) or not got:
            return False
        lost = {g for g, (s, m) in got.items() if s < m}
        if pid not in wrong:
            return not lost
        return lost <= set().union(*(_reach(c, reach[pid]) for c in packs[pid])) and \
            not any(outcome(c.student, c, pid).problem() for c in packs[pid])

    failed = [pid for pid in packs if not explained(pid)]
    alone = [c for pid in failed for c in packs[pid]]  # graded again one by one, to name the answer at fault
    if alone:
        for case in alone:
            root.submit(case.student, assignment, root.student_notebooks(assignment, case.answers))
        errors.update(_autograde(root, assignment, workers, False, students=[c.student for c in alone], warm=warm))
        grades = root.grades(assignment)
    if progress:
        print(f"autograded {len(students) + len(alone)} submissions of {assignment} ({len(catalogue)} cases; "
              f"right answers in {len(packs) - len(wrong)} packs, wrong ones in {len(wrong)} packs and "
              f"{len(students) - len(packs) - 2} alone; {len(alone)} graded again alone) with {workers} "
              f"workers in {time.monotonic() - start:.1f} s", file=sys.stderr)

    by_case = {c.student: outcome(c.student, c) for c in alone}
    by_case.update((c.student, outcome(c.student, c, pid)) for pid, pack in packs.items() if pid not in failed
                   for c in pack)
    by_case.update((c.student, outcome(c.student, c)) for c in catalogue
                   if c.kind == "wrong" and c.student not in packed)
    return [outcome(SOLUTION, None), outcome(BLANK, None), *(by_case[c.student] for c in catalogue)]


def shown_by_tests(folder: Path, only: set[str] | None = None) -> str:
    """What the test cells of a student's autograded notebooks showed (those named in ``only``, if
    given): error messages and printed text."""
    texts = []
    for path in sorted(folder.glob("*.ipynb")):
        for grade_id, out in cells.graded_outputs(nbformat.read(path, as_version=4)):
            if only is not None and grade_id not in only:
                continue
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
              f"  {problem or ('lost: ' + ', '.join(o.lost) if o.lost else '')}"
              f"{'  (graded in ' + o.graded_as + ')' if o.graded_as else ''}")
    hinted = [o for o in outcomes if o.case and o.case.hint]
    print(f"{len(outcomes) - bad} graded as expected, {bad} not; "
          f"{sum(not o.problem() for o in hinted)} of {len(hinted)} hints shown as the catalogue expects")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
