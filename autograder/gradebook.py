"""Reading and copying nbgrader's gradebooks, through nbgrader's :class:`~nbgrader.api.Gradebook`
API (or sqlite's backup for a copy): every grade of a course as rows, every student's total of
every assignment (as ``nbgrader export`` computes it), one student's scores, and the template
gradebook a student is graded against (the course's assignments, no student data).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Row:
    student: str
    assignment: str
    notebook: str
    task: str
    score: float
    max_score: float
    cell_type: str


def rows(db_url: str, course_id: str, assignments: list[str] | None = None) -> list[Row]:
    """Every grade of every submission in the gradebook (nbgrader's API), sorted."""
    from nbgrader.api import Gradebook

    out = []
    with Gradebook(db_url, course_id) as gb:
        for assignment in gb.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for sub in gb.assignment_submissions(assignment.name):
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        out.append(Row(sub.student.id, assignment.name, nb.name, grade.name, float(grade.score),
                                        float(grade.max_score), grade.cell.cell_type))
    return sorted(out, key=lambda r: (r.assignment, r.student, r.notebook, r.task))


@dataclass
class Total:
    """One student's total of one assignment, as ``nbgrader export`` writes it."""

    student: str
    assignment: str
    submitted: bool
    raw_score: float     # the submission's score: every graded cell, manual grades included
    late_penalty: float  # nbgrader's late penalty (its LateSubmissionPlugin, extensions counted)
    score: float         # raw score less the penalty, never below 0; 0 without a submission
    max_score: float     # the assignment's


def totals(db_url: str, course_id: str, assignments: list[str] | None = None) -> list[Total]:
    """Every student of the gradebook, for every assignment, with nbgrader's own rule for its
    export (``nbgrader export``): the submission's score less its late penalty, never below 0; 0 for
    a student without a submission; the assignment's maximum.  Sorted by assignment, then student."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        return totals_of(gb, assignments)


def totals_of(gb, assignments: list[str] | None = None) -> list[Total]:
    """:func:`totals` of an open nbgrader :class:`~nbgrader.api.Gradebook` (what an nbgrader export
    plugin is given: :mod:`autograder.exporters`)."""
    from nbgrader.api import MissingEntry

    out = []
    for assignment in gb.assignments:
        if assignments and assignment.name not in assignments:
            continue
        top = float(assignment.max_score)
        for student in gb.students:
            try:
                sub = gb.find_submission(assignment.name, student.id)
            except MissingEntry:
                out.append(Total(student.id, assignment.name, False, 0.0, 0.0, 0.0, top))
                continue
            raw, penalty = float(sub.score), float(sub.late_submission_penalty or 0.0)
            out.append(Total(student.id, assignment.name, True, raw, penalty, max(0.0, raw - penalty), top))
    return sorted(out, key=lambda t: (t.assignment, t.student))


STUDENT_TABLES = ("grade", "comment", "submitted_notebook", "submitted_assignment", "student")


def template(gb, assignment: str, course_id: str, db_url: str = "") -> bytes:
    """An sqlite gradebook with the course's assignments (notebooks, cells, due dates) and no student data,
    as bytes: a copy of the course's sqlite gradebook with the students' rows deleted (fast), or else one
    built with nbgrader's API from the assignment alone."""
    import sqlite3

    if db_url.startswith("sqlite:///"):
        with tempfile.TemporaryDirectory(prefix="gradebook-") as tmp:
            path = Path(tmp) / "gradebook.db"
            src_db = sqlite3.connect(db_url[len("sqlite:///"):])
            dst = sqlite3.connect(path)
            try:
                src_db.backup(dst)
                tables = {r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if set(STUDENT_TABLES) <= tables:
                    for table in STUDENT_TABLES:
                        dst.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)
                    dst.commit()
                    dst.execute("VACUUM")
                    dst.close()
                    return path.read_bytes()
            finally:
                src_db.close()
                dst.close()
    return built(gb, assignment, course_id)


def built(gb, assignment: str, course_id: str) -> bytes:
    from nbgrader.api import Gradebook

    src = gb.find_assignment(assignment)
    with tempfile.TemporaryDirectory(prefix="gradebook-") as tmp:
        path = Path(tmp) / "gradebook.db"
        with Gradebook(f"sqlite:///{path}", course_id) as new:
            new.add_assignment(assignment, duedate=src.duedate)
            for nb in src.notebooks:
                new.add_notebook(nb.name, assignment)
                for c in nb.grade_cells:
                    new.add_grade_cell(c.name, nb.name, assignment, max_score=c.max_score, cell_type=c.cell_type)
                for c in nb.solution_cells:
                    new.add_solution_cell(c.name, nb.name, assignment)
                for c in nb.task_cells:
                    new.add_task_cell(c.name, nb.name, assignment, max_score=c.max_score, cell_type=c.cell_type)
                for c in nb.source_cells:
                    new.add_source_cell(c.name, nb.name, assignment, cell_type=c.cell_type, locked=c.locked,
                                        source=c.source, checksum=c.checksum)
        return path.read_bytes()


def student_scores(db_url: str, course_id: str, assignment: str, student: str):
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(db_url, course_id) as gb:
        sub = gb.find_submission(assignment, student)
        for nb in sub.notebooks:
            out[nb.name] = {
                "grades": {g.name: (g.auto_score, g.max_score, g.needs_manual_grade) for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments},
                "late_penalty": nb.late_submission_penalty,
            }
        return out, sub.timestamp


def open_course_gradebook(settings):
    from nbgrader.api import Gradebook

    return Gradebook(settings.db_url, settings.course_id)
