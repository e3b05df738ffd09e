"""nbgrader's cell metadata, read in one place.

nbgrader marks the cells of a notebook in ``cell.metadata["nbgrader"]``: ``grade_id`` names
a cell, ``solution`` marks an answer cell, ``grade`` a test cell (with ``points``), ``task``
a task, ``locked`` a cell the student may not change.  Everything in this package that needs
to know which cell is which asks here.
"""
from __future__ import annotations

import re

import nbformat

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)
ROLES = ("grade", "solution", "task", "locked")


def meta(cell) -> dict:
    """The nbgrader metadata of a cell ({} for a cell nbgrader does not know)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def has_role(cell, role: str) -> bool:
    """``role``: grade, solution, task, locked, or "any" (graded, an answer or a task)."""
    m = meta(cell)
    if role == "any":
        return bool(m.get("grade") or m.get("solution") or m.get("task"))
    return bool(m.get(role))


def grade_ids(nb: nbformat.NotebookNode, role: str = "grade") -> list[str]:
    """grade_ids of the cells of a notebook with the nbgrader role ``role`` (grade/solution/any), in order."""
    return [meta(cell)["grade_id"] for cell in nb.cells if has_role(cell, role) and meta(cell).get("grade_id")]


def code_cells(nb: nbformat.NotebookNode, role: str) -> dict[str, float]:
    """{grade_id: points} of the code cells of a notebook with the nbgrader role ``role``."""
    return {meta(cell)["grade_id"]: meta(cell).get("points", 0) for cell in nb.cells
            if cell.cell_type == "code" and has_role(cell, role)}


def find(nb: nbformat.NotebookNode, grade_id: str):
    """The cell with this grade_id; KeyError (naming the ids there are) if there is none."""
    for cell in nb.cells:
        if meta(cell).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell {grade_id!r}; cells: {[g for g in (meta(c).get('grade_id') for c in nb.cells) if g]}")


def solution_code(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    """{grade_id: the instructor's answer without the solution markers} of solution cells."""
    return {meta(cell)["grade_id"]: SOLUTION_MARKERS.sub("", cell.source) for cell in source_nb.cells
            if has_role(cell, "solution")}


def fill_in(student_nb: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of a student notebook with the given answer cells replaced.

    Raises KeyError if an answer names a cell that is not a solution cell.
    """
    nb = nbformat.from_dict(student_nb)
    by_id = {meta(c).get("grade_id"): c for c in nb.cells if has_role(c, "solution")}
    for grade_id, code in answers.items():
        if grade_id not in by_id:
            raise KeyError(f"{grade_id!r} is not an answer cell; answer cells: {sorted(k for k in by_id if k)}")
        by_id[grade_id].source = code
    return nb


def graded_outputs(nb: nbformat.NotebookNode):
    """(grade_id, output) of every output of the notebook's test cells, in order."""
    for cell in nb.cells:
        if cell.cell_type == "code" and has_role(cell, "grade"):
            for out in cell.get("outputs", []):
                yield meta(cell).get("grade_id"), out


def without_duplicate_ids(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of a notebook in which only the last cell with each grade id keeps its nbgrader metadata."""
    nb = nbformat.from_dict(nb)
    seen: set[str] = set()
    for cell in reversed(nb.cells):
        gid = meta(cell).get("grade_id")
        if gid and any(has_role(cell, r) for r in ROLES):
            if gid in seen:
                del cell.metadata["nbgrader"]
            seen.add(gid)
    return nb
