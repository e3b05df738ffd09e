"""Grades to the LMS: nbgrader export plugins that write the gradebook import file of Canvas or of
Moodle, with the numbers of ``nbgrader export``.

    nbgrader export --exporter=autograder.exporters.CanvasExportPlugin --CanvasExportPlugin.roster=canvas.csv
    nbgrader export --exporter=autograder.exporters.MoodleExportPlugin --MoodleExportPlugin.roster=moodle.csv

or the same in the course's ``nbgrader_config.py`` (``c.ExportApp.plugin_class =
"autograder.exporters.CanvasExportPlugin"``, ``c.CanvasExportPlugin.roster = "canvas.csv"``).  The
traits of each plugin: ``roster`` (path), ``id_column`` (a roster column), ``columns`` ({nbgrader
assignment: LMS column header}); ``--to FILE`` (default ``canvas_grades.csv``,
``moodle_grades.csv``), ``--assignment`` and ``--student`` work as for nbgrader's CSV export.

Design
------
* The points: one column per nbgrader assignment, its value the student's total as ``nbgrader
  export`` writes it (:func:`autograder.gradebook.totals_of`, the one implementation): the
  submission's score less nbgrader's late penalty, never below 0; 0 for a student without a
  submission.
* The students: the instructor gives a roster, the CSV the LMS exports itself (Canvas: Grades >
  Export; Moodle: Grades > Export > Plain text file), and ``id_column``, the roster column that
  holds nbgrader's student ids (Canvas: ``SIS Login ID``, Moodle: ``ID number`` by default).  The
  file has a row for every roster student nbgrader has, in the roster's order; the LMS's own
  columns are copied from the roster.  Without a roster, each nbgrader student's ``lms_user_id``
  (``nbgrader db student add ID --lms-user-id=...``) is written in the ``id_column`` column.
* Nothing is dropped silently: a warning names every nbgrader student not in the roster (or, without
  a roster, without an ``lms_user_id``) and every roster student nbgrader has no grades for; neither
  has a row in the file, so their LMS grades stay as they are.  A missing roster or id column stops
  the export with a message that says what to do (exit code 1).

Canvas: "Gradebook import CSV"
------------------------------
Instructor guide: https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807;
the layout below is read from Canvas's own gradebook importer and exporter,
https://github.com/instructure/canvas-lms/blob/master/lib/gradebook_importer.rb and
https://github.com/instructure/canvas-lms/blob/master/lib/gradebook_exporter.rb:

* header: ``Student, ID, SIS User ID, SIS Login ID, Section`` (the first cell must contain
  "Student", the second "ID", the last student column is "Section"), then one column per
  assignment.  A column named ``Title (id)``, as Canvas exports it, is that Canvas assignment; a
  bare title is the assignment of that title, or a new one.  Here an assignment's header is the
  roster's ``Title (id)`` column of that title, else the nbgrader name (``columns`` overrides both).
* an optional row whose first cell is ``Points Possible``: each assignment's points possible (a new
  assignment's maximum); here, nbgrader's maximum.
* a student row is matched by ``ID`` (Canvas's user id), else ``SIS User ID``, else ``SIS Login
  ID``, else the name in ``Student``.

Moodle: "Import grades from CSV"
--------------------------------
https://docs.moodle.org/en/Grade_import (CSV import): "The import file format is the same as the
corresponding export format"; on upload, "Map from" picks the identifying column and "Map to" the
user field it holds (userid, Username, ID number, Email address:
https://github.com/moodle/moodle/blob/main/grade/import/grade_import_form.php), and each other
column is mapped to a grade item, or to "New grade item" (named after the column).  So the file
is: the identifying column (``id_column``: ``ID number``, ``Email address`` or ``Username``, as
Moodle's export names them), then one column per assignment (header: the assignment's name, or
``columns``).  The format has no place for maximum points (a new grade item gets Moodle's default
maximum, 100: https://github.com/moodle/moodle/blob/main/lib/grade/grade_item.php); the export logs
each assignment's maximum, to set in Moodle before importing.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Unicode, default

from autograder.gradebook import Total, totals_of

CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"
CANVAS_TITLE_WITH_ID = re.compile(r"(.*) \((\d+)\)")  # an assignment column of Canvas's export
# the user fields Moodle's import can "Map to", as its export names their columns
MOODLE_USER_FIELDS = ("ID number", "Email address", "Username")


class ExportError(Exception):
    """Input the exporter cannot use; the message says what to do."""


def points(value: float) -> str:
    return format(value, ".15g")


def read_roster(path: str, id_column: str, plugin: str) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of the LMS's CSV at ``path`` (comma, semicolon or tab separated)."""
    where = Path(path)
    if not where.is_file():
        raise ExportError(f"{plugin}.roster: no file {str(where.resolve())!r}. Export the class from the LMS's "
                          f"gradebook as CSV and give its path (relative to the folder nbgrader export runs in), e.g. "
                          f"--{plugin}.roster=lms_export.csv")
    text = where.read_text(encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text.partition("\n")[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    header = [h.strip() for h in rows[0]] if rows else []
    if id_column not in header:
        raise ExportError(f"{plugin}.roster {path!r} has no column {id_column!r} (its columns: {header}). Set "
                          f"--{plugin}.id_column to the column that holds nbgrader's student ids.")
    return header, [dict(zip(header, (cell.strip() for cell in row))) for row in rows[1:] if any(row)]


class LmsExportPlugin(ExportPlugin):
    """What both LMS exporters share: the totals, the roster, the matching and its warnings."""

    roster = Unicode("", help="The CSV the LMS exports of the class (its gradebook export). Without it, each "
                              "student's lms_user_id is used.").tag(config=True)
    id_column = Unicode(help="The roster column that holds nbgrader's student ids; without a roster, the column "
                             "nbgrader's lms_user_id is written to.").tag(config=True)
    columns = Dict(key_trait=Unicode(), value_trait=Unicode(),
                   help="{nbgrader assignment: LMS column header} where the header is not the assignment's "
                        "name.").tag(config=True)

    lms = default_to = ""
    roster_header: tuple[str, ...] = ()

    def export(self, gradebook) -> None:
        dest = self.to or self.default_to
        try:
            header, extra, rows = self.table(gradebook)
        except ExportError as err:
            self.log.error("%s", err)
            raise SystemExit(1) from None
        with open(dest, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *extra, *rows])
        self.log.info("Wrote %s for %s: %d students, %d assignments (the scores of nbgrader export: late "
                      "penalties taken off)", dest, self.lms, len(rows), len(header) - len(self.student_columns()))

    def table(self, gb) -> tuple[list[str], list[list[str]], list[list[str]]]:
        self.check_id_column()
        selected = {str(s) for s in self.student}
        wanted = [str(a) for a in self.assignment]
        totals: dict[str, dict[str, Total]] = {}
        maxima = {a.name: float(a.max_score) for a in gb.assignments if not wanted or a.name in wanted}
        handed_in = set()
        for t in totals_of(gb, wanted or None):
            if t.submitted:
                handed_in.add(t.assignment)
            if not selected or t.student in selected:
                totals.setdefault(t.student, {})[t.assignment] = t
        unsubmitted = sorted(set(maxima) - handed_in)
        if unsubmitted:
            self.log.warning("No one has handed in %s yet: every student gets 0 for it, which the import writes over "
                             "the %s grades; leave it out with --assignment if that is not meant",
                             ", ".join(unsubmitted), self.lms)
        if not maxima:
            raise ExportError(f"No assignment to export: the gradebook has {[a.name for a in gb.assignments]}, "
                              f"--assignment asks for {list(self.assignment)}.")
        students = {s.id: s for s in gb.students}
        records = self.matched(students, set(totals)) if self.roster else self.from_lms_ids(students, set(totals))
        order = sorted(maxima)
        header = [*self.student_columns(), *map(self.header_of, order)]
        rows = [[record.get(c, "") for c in self.student_columns()] + [points(totals[sid][a].score) for a in order]
                for sid, record in records]
        return header, self.extra_rows(order, maxima), rows

    def matched(self, students, graded: set[str]) -> list[tuple[str, dict[str, str]]]:
        """(nbgrader id, roster row) of every roster student with nbgrader grades; warnings for the others."""
        header, rows = read_roster(self.roster, self.id_column, type(self).__name__)
        self.roster_header = tuple(header)
        out, unknown, keys = [], [], set()
        for row in filter(None, map(self.student_row, rows)):
            key = row.get(self.id_column, "")
            keys.add(key)
            if key in graded:
                out.append((key, row))
            elif key not in students:  # a student left out by --student is left out knowingly
                unknown.append(f"{self.label(row)} ({self.id_column}: {key or 'empty'})")
        if unknown:
            self.log.warning("Roster students without grades in nbgrader, so without a row (their %s grades stay "
                             "as they are; `nbgrader db student add ID` gives a student 0s) (%d): %s",
                             self.lms, len(unknown), ", ".join(unknown))
        missing = sorted(graded - keys)
        if missing:
            self.log.warning("nbgrader students not in the roster %s (column %r), so NOT in the file (%d): %s",
                             self.roster, self.id_column, len(missing), ", ".join(missing))
        return out

    def from_lms_ids(self, students, graded: set[str]) -> list[tuple[str, dict[str, str]]]:
        """Without a roster: the nbgrader students, identified by their lms_user_id."""
        out, missing = [], []
        for sid in sorted(graded):
            s = students[sid]
            if s.lms_user_id:
                name = ", ".join(n for n in (s.last_name, s.first_name) if n) or sid
                out.append((sid, {"Student": name, self.id_column: s.lms_user_id}))
            else:
                missing.append(sid)
        if missing:
            self.log.warning("nbgrader students without an lms_user_id, so NOT in the file (give a roster, "
                             "--%s.roster=FILE, or set it: nbgrader db student add ID --lms-user-id=...) (%d): %s",
                             type(self).__name__, len(missing), ", ".join(missing))
        return out

    def header_of(self, assignment: str) -> str:
        return self.columns.get(assignment, assignment)

    def student_row(self, row: dict[str, str]) -> dict[str, str] | None:
        """The roster row of a student, or None for another row of the LMS's export."""
        return row

    def label(self, row: dict[str, str]) -> str:
        return row.get(self.id_column, "")

    def check_id_column(self) -> None:
        pass

    def student_columns(self) -> tuple[str, ...]:
        raise NotImplementedError

    def extra_rows(self, order: list[str], maxima: dict[str, float]) -> list[list[str]]:
        return []


class CanvasExportPlugin(LmsExportPlugin):
    """Canvas's gradebook import CSV (Grades > Import)."""

    lms, default_to = "Canvas", "canvas_grades.csv"

    @default("id_column")
    def _default_id_column(self):
        return "SIS Login ID"

    def check_id_column(self):
        if not self.roster and self.id_column not in CANVAS_STUDENT_COLUMNS[1:4]:
            raise ExportError(f"CanvasExportPlugin.id_column {self.id_column!r}: without a roster, lms_user_id goes "
                              f"in one of {list(CANVAS_STUDENT_COLUMNS[1:4])}; set it to the one it holds.")

    def student_columns(self):
        return CANVAS_STUDENT_COLUMNS

    def extra_rows(self, order, maxima):
        blank = [""] * (len(CANVAS_STUDENT_COLUMNS) - 1)
        return [[CANVAS_POINTS_ROW, *blank, *(points(maxima[a]) for a in order)]]

    def header_of(self, assignment):
        """The roster's ``Title (id)`` column of the assignment, if it has one (``columns`` first)."""
        exported = {m[1]: h for h in self.roster_header if (m := CANVAS_TITLE_WITH_ID.fullmatch(h))}
        return self.columns.get(assignment) or exported.get(assignment, assignment)

    def student_row(self, row):
        """None for the Points Possible row and the Muted / Manual Posting row of Canvas's export."""
        if CANVAS_POINTS_ROW in next(iter(row.values()), "") or all(
                re.fullmatch(r"(Muted|Manual Posting.*)?", v, re.I) for v in row.values()):
            return None
        if "Student" not in row and "LastName" in row:  # exported with last and first names apart
            return {**row, "Student": ", ".join(n for n in (row["LastName"], row.get("FirstName", "")) if n)}
        return row

    def label(self, row):
        return row.get("Student") or super().label(row)


class MoodleExportPlugin(LmsExportPlugin):
    """Moodle's grade import CSV (Grades > Import > CSV file)."""

    lms, default_to = "Moodle", "moodle_grades.csv"

    @default("id_column")
    def _default_id_column(self):
        return "ID number"

    def check_id_column(self):
        if self.id_column not in MOODLE_USER_FIELDS:
            raise ExportError(f"MoodleExportPlugin.id_column {self.id_column!r}: Moodle identifies a student by one "
                              f"of {list(MOODLE_USER_FIELDS)}; set it to the one that holds nbgrader's student ids.")

    def student_columns(self):
        return (self.id_column,)

    def extra_rows(self, order, maxima):
        """None: Moodle's file has no place for the maximum, so the log says what to set in Moodle."""
        self.log.info("In Moodle, Grades > Import > CSV file: Map from %r, Map to %r; map each assignment column "
                      "to its grade item (or New grade item), whose maximum grade must be: %s", self.id_column,
                      self.id_column,
                      ", ".join(f"{self.header_of(a)} {points(maxima[a])}" for a in order))
        return []

    def label(self, row):
        return " ".join(row[c] for c in ("First name", "Last name", "Surname") if row.get(c)) or super().label(row)
