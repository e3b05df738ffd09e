"""Check one student's submission before it is autograded, and say what is wrong.

:func:`check_submission` looks at ``submitted/<student>/<assignment>/`` (read
only: it never changes a file there) and returns a :class:`Check`: which
notebooks to hand to ``nbgrader autograde`` under which name, and a message
per problem that says what is wrong and what the instructor can do.

What happens with each kind of bad input (the batch always goes on with the
other students):

=================================  ==============================================
problem                            decision
=================================  ==============================================
submission larger than the limit   not graded: zero for every cell, flagged
no notebook at all                 not graded: zero for every cell, flagged
corrupt notebook (not JSON, not    that notebook gets zero; the others are graded
nbformat 4)
missing notebook                   that notebook gets zero (nbgrader's own rule);
                                   the others are graded
renamed notebook (e.g.             graded under its right name when its grade
``01_forward_pass-Copy1.ipynb``)   cells say which notebook it is (the file in
                                   ``submitted/`` is left as it is)
notebook of another assignment     that notebook gets zero
duplicate grade ids (copied        graded: as nbgrader's ``DeduplicateIds`` means
cells)                             to, the last cell with an id counts and the
                                   copies before it become plain cells (nbgrader
                                   0.9.6 itself fails on such a notebook: it
                                   leaves an empty ``nbgrader`` metadata dict that
                                   its metadata check rejects)
deleted grade cells                graded: with this course's
                                   ``c.OverwriteCells.add_missing_cells = True``
                                   nbgrader restores and runs a deleted test cell;
                                   without it, nbgrader scores it 0 and marks it
                                   for manual grading
=================================  ==============================================
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.cells import grade_ids, without_duplicate_ids

DEFAULT_MAX_SUBMISSION_MB = 20.0


@dataclass
class Check:
    """The verdict on one submission."""

    student: str
    assignment: str
    #: {expected notebook name: path of the submitted file to grade as it}
    notebooks: dict[str, Path] = field(default_factory=dict)
    #: problems that still let the submission be graded (shown to the instructor)
    warnings: list[str] = field(default_factory=list)
    #: a problem that stops the whole submission from being graded ('' if none)
    error: str = ""
    #: {expected notebook name: repaired copy to grade instead of the file} (the file is not changed)
    repaired: dict[str, nbformat.NotebookNode] = field(default_factory=dict)

    @property
    def gradable(self) -> bool:
        return not self.error and bool(self.notebooks)


def expected_cells(source_dir: Path, assignment: str) -> dict[str, set[str]]:
    """{notebook name: its grade and solution cell ids} from ``<source_dir>/<assignment>/``."""
    out = {}
    for path in sorted((Path(source_dir) / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        out[path.stem] = set(grade_ids(nb, "grade")) | set(grade_ids(nb, "solution"))
    return out


def read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """(notebook, '') or (None, what is wrong with the file)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except UnicodeDecodeError:
        return None, "is not a text file (not UTF-8)"
    except json.JSONDecodeError as err:
        return None, f"is not valid notebook JSON ({err.msg} at line {err.lineno}, column {err.colno})"
    try:
        nb = nbformat.from_dict(data)
        if nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
            return None, f"is not an nbformat-4 notebook (nbformat={nb.get('nbformat')!r})"
        return nb, ""
    except Exception as err:  # noqa: BLE001 (any malformed structure)
        return None, f"is not a readable notebook ({type(err).__name__}: {err})"


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def check_submission(course_dir: Path, assignment: str, student: str, *,
                     max_mb: float = DEFAULT_MAX_SUBMISSION_MB,
                     expected: dict[str, set[str]] | None = None,
                     others: dict[str, dict[str, set[str]]] | None = None,
                     source_dir: Path | None = None, submitted_dir: Path | None = None) -> Check:
    """Validate ``submitted/<student>/<assignment>/`` of the course in ``course_dir``.

    ``source_dir``, ``submitted_dir``: the course's folders (default: ``source``, ``submitted``).
    ``expected``: the assignment's {notebook: cell ids} (read from source/ if not given);
    ``others``: the same for the course's other assignments, to recognise a notebook
    handed in for the wrong assignment.
    """
    course_dir = Path(course_dir)
    source_dir = Path(source_dir or course_dir / "source")
    folder = Path(submitted_dir or course_dir / "submitted") / student / assignment
    check = Check(student, assignment)
    where = f"submitted/{student}/{assignment}"
    if expected is None:
        expected = expected_cells(source_dir, assignment)
    if others is None:
        others = {a.name: expected_cells(source_dir, a.name) for a in source_dir.iterdir()
                  if a.is_dir() and a.name != assignment}

    if not folder.is_dir():
        check.error = f"no submission: {where}/ does not exist. Run `nbgrader collect {assignment}` first."
        return check
    size = _size_mb(folder)
    if size > max_mb:
        check.error = (f"submission is {size:.1f} MB, over the limit of {max_mb:g} MB: not graded. Look at "
                       f"{where}/ (large outputs or data files?); ask the student to clear outputs and "
                       f"resubmit, or raise the limit (--max-submission-mb).")
        return check

    readable: dict[str, nbformat.NotebookNode] = {}
    for path in sorted(folder.glob("*.ipynb")):
        nb, problem = read_notebook(path)
        if problem:
            if path.stem in expected:
                check.warnings.append(
                    f"{path.name} {problem}: that notebook gets 0 points, the others are graded. Ask the "
                    f"student for a working copy (e.g. from their .ipynb_checkpoints/) and autograde again.")
            else:
                check.warnings.append(f"{path.name} {problem} and is not one of {sorted(expected)}: ignored.")
            continue
        readable[path.stem] = nb

    # a notebook handed in under its own name, unless its cells belong to another assignment
    for name, ids in expected.items():
        nb = readable.get(name)
        if nb is None:
            continue
        found = set(grade_ids(nb, "grade")) | set(grade_ids(nb, "solution"))
        if ids and not (found & ids):
            other = _belongs_to(found, others)
            check.warnings.append(
                f"{name}.ipynb has none of this notebook's cells"
                + (f" (it is {other} of another assignment)" if other else "")
                + ": that notebook gets 0 points. Ask the student to hand in the right notebook.")
            continue
        check.notebooks[name] = folder / f"{name}.ipynb"

    # renamed notebooks: another file whose cells say which notebook it is
    for name, ids in expected.items():
        if name in check.notebooks or name in readable:
            continue
        candidates = [n for n, nb in readable.items() if n not in expected
                      and ids & (set(grade_ids(nb, "grade")) | set(grade_ids(nb, "solution")))]
        if len(candidates) == 1:
            check.notebooks[name] = folder / f"{candidates[0]}.ipynb"
            check.warnings.append(
                f"{name}.ipynb is missing, but {candidates[0]}.ipynb has its cells: graded as {name}.ipynb "
                f"(the submitted file is left as it is). Tell the student to keep the notebook's name.")
        elif len(candidates) > 1:
            check.warnings.append(
                f"{name}.ipynb is missing, and several files have its cells ({', '.join(sorted(candidates))}"
                f".ipynb): that notebook gets 0 points. Rename the right one to {name}.ipynb in a copy of the "
                f"submission and autograde again.")
        elif not any(name in w for w in check.warnings):
            check.warnings.append(f"{name}.ipynb is missing: that notebook gets 0 points (nbgrader's rule), the "
                                  f"others are graded.")

    for stem in sorted(set(readable) - set(expected) - {p.stem for p in check.notebooks.values()}):
        other = _belongs_to(set(grade_ids(readable[stem], "grade")) | set(grade_ids(readable[stem], "solution")),
                            others)
        check.warnings.append(f"{stem}.ipynb is not part of {assignment}"
                              + (f" (it is {other} of another assignment)" if other else "") + ": ignored.")

    # cell-level problems nbgrader handles itself: say what it will do
    for name, path in check.notebooks.items():
        nb = readable[path.stem]
        counts = Counter(grade_ids(nb, "any"))
        dups = sorted(g for g, n in counts.items() if n > 1)
        if dups:
            check.repaired[name] = without_duplicate_ids(nb)
            check.warnings.append(
                f"{name}.ipynb has copied cells with the same grade id ({', '.join(dups)}): graded with the last "
                f"cell of each id (nbgrader's rule); the copies before it count as ordinary cells.")
        source_grades = set(_source_grade_cells(source_dir, assignment, name))
        deleted = sorted(source_grades - set(counts))
        if deleted:
            check.warnings.append(
                f"{name}.ipynb lacks the test cells {', '.join(deleted)} (deleted?): with "
                f"c.OverwriteCells.add_missing_cells = True (this course's nbgrader_config.py) nbgrader puts them "
                f"back and runs them; without it, nbgrader scores them 0 and marks them for manual grading.")

    if not check.notebooks:
        check.error = ("no gradable notebook: " + " ".join(check.warnings) if check.warnings
                       else f"no notebook in {where}/; expected {', '.join(n + '.ipynb' for n in expected)}.")
    return check


def _source_grade_cells(source_dir: Path, assignment: str, name: str) -> list[str]:
    nb = nbformat.read(source_dir / assignment / f"{name}.ipynb", as_version=4)
    return grade_ids(nb, "grade")


def _belongs_to(ids: set[str], others: dict[str, dict[str, set[str]]]) -> str:
    """'<assignment>/<notebook>.ipynb' of another assignment whose cells these are ('' if none)."""
    best, overlap = "", 0
    for assignment, nbs in others.items():
        for name, cell_ids in nbs.items():
            if len(ids & cell_ids) > overlap:
                best, overlap = f"{assignment}/{name}.ipynb", len(ids & cell_ids)
    return best
