"""Grades to the LMS (autograder.exporters): ``nbgrader export --exporter=...`` run for real on a small
gradebook built with nbgrader's API, its files checked against the import layout each LMS documents and
against the scores of plain ``nbgrader export``.

The official layouts, stated here apart from the code under test:

* Canvas, "How do I import grades in the Gradebook?"
  (https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807),
  as Canvas's importer reads a file (https://github.com/instructure/canvas-lms/blob/master/lib/gradebook_importer.rb)
  and its exporter writes one (https://github.com/instructure/canvas-lms/blob/master/lib/gradebook_exporter.rb):
  the header ``Student, ID, SIS User ID, SIS Login ID, Section`` then one column per assignment (``Title (id)``
  for an existing one), an optional row starting ``Points Possible``, then one row per student.
* Moodle, "Grade import" (https://docs.moodle.org/en/Grade_import): a header row, a column that identifies the
  user, mapped to one of the user fields of the import form, userid, Username, ID number or Email address
  (https://github.com/moodle/moodle/blob/main/grade/import/grade_import_form.php), then one column per grade item.
"""
from __future__ import annotations

import csv
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from nbgrader.api import Gradebook

from autograder.gradebook import totals
from autograder.runner import nbgrader_env, run_nbgrader

# nbgrader's own add_submission builds the submission before adding it to the session
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")

COURSE = "lms-export"
CANVAS_STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_POSSIBLE = "Points Possible"
MOODLE_USER_FIELDS = {"ID number", "Email address", "Username"}  # Moodle's "Map to" choices, as its export names them
CANVAS = "--exporter=autograder.exporters.CanvasExportPlugin"
MOODLE = "--exporter=autograder.exporters.MoodleExportPlugin"
DUE = datetime(2024, 3, 1, 12, tzinfo=timezone.utc)

# {assignment: {grade cell: max points}}
CELLS = {"week1": {"q1": 4.0, "q2": 6.0}, "week2": {"q1": 3.0, "q2": 5.5}}
# {student: (first, last, lms_user_id, {assignment: ({cell: points}, hours after the deadline, late penalty)})}
CLASS = {
    "ana": ("Ana", "Alves", "1001", {"week1": ({"q1": 4, "q2": 5}, -2, 0.0), "week2": ({"q1": 3, "q2": 5.5}, -1, 0.0)}),
    "ben": ("Ben", "Brown", "1002", {"week1": ({"q1": 4, "q2": 6}, 5, 3.0),      # late: 10 less 3
                                     "week2": ({"q1": 1.5, "q2": 0}, 30, 5.0)}),  # late: never below 0
    "cho": ("Cho", "Chen", None, {}),                                             # never submitted
    "dan": ("Dan", "Diaz", "1004", {"week1": ({"q1": 2, "q2": 2.25}, -3, 0.0)}),  # not in the rosters
}
# The rosters the LMS exports: Canvas (Grades > Export) and Moodle (Export > Plain text file); zoe is
# in the LMS only, dan in nbgrader only.
CANVAS_ROSTER = """\
Student,ID,SIS User ID,SIS Login ID,Section,week1 (501),Quiz 1 (502),Current Score,Unposted Current Score,Final Score,Unposted Final Score
    Points Possible,,,,,10.00,5.00,(read only),(read only),(read only),(read only)
"Alves, Ana",1001,S-1,ana,Deep Learning 2024,,4.00,80.00,80.00,26.67,26.67
"Brown, Ben",1002,S-2,ben,Deep Learning 2024,,,,,,
"Chen, Cho",1003,S-3,cho,Deep Learning 2024,,,,,,
"Zapata, Zoe",1005,S-5,zoe,Deep Learning 2024,,5.00,100.00,100.00,33.33,33.33
"""
MOODLE_ROSTER = """\
First name,Last name,ID number,Institution,Department,Email address,Assignment: week1,Course total,Last downloaded from this course
Ana,Alves,ana,Uni,CS,ana@example.edu,-,-,1709294400
Ben,Brown,ben,Uni,CS,ben@example.edu,-,-,1709294400
Cho,Chen,cho,Uni,CS,cho@example.edu,-,-,1709294400
Zoe,Zapata,zoe,Uni,CS,zoe@example.edu,-,-,1709294400
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course root with its gradebook (nbgrader's API), the two rosters, and ``nbgrader export``'s
    grades.csv read back: {(student, assignment): row}."""
    root = tmp_path_factory.mktemp("course")
    (root / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.course_id = {COURSE!r}\n")
    (root / "canvas_export.csv").write_text(CANVAS_ROSTER)
    (root / "moodle_export.csv").write_text(MOODLE_ROSTER)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", nbgrader_env()["PATH"])  # a new gradebook asks `alembic` for its version
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE) as gb:
            for name, cells in CELLS.items():
                gb.add_assignment(name, duedate=DUE)
                gb.add_notebook("nb", name)
                for cell, top in cells.items():
                    gb.add_grade_cell(cell, "nb", name, max_score=top, cell_type="code")
            for sid, (first, last, lms_id, work) in CLASS.items():
                gb.add_student(sid, first_name=first, last_name=last, lms_user_id=lms_id)
                for name, (scores, hours, penalty) in work.items():
                    gb.add_submission(name, sid, timestamp=DUE + timedelta(hours=hours))
                    for cell, value in scores.items():
                        gb.find_grade(cell, "nb", name, sid).auto_score = value
                    gb.find_submission_notebook("nb", name, sid).late_submission_penalty = penalty
                    gb.db.commit()
    run = nbgrader(root, "export", "--to=grades.csv")  # nbgrader's own CSV export: the reference
    assert run.returncode == 0, run.stderr
    return root, {(r["student_id"], r["assignment"]): r for r in read(root / "grades.csv", dicts=True)}


def nbgrader(root, *args) -> subprocess.CompletedProcess:
    """``nbgrader ARGS`` in ``root``, run the way the course's tools run it (autograder.runner: a fork
    of a process that has imported nbgrader, 0.1 s against 3 s for a new Python); its output is both
    ``stdout`` and ``stderr``."""
    code, output, _ = run_nbgrader(list(args), root, nbgrader_env(), 120)
    return subprocess.CompletedProcess(args, code, output, output)


def read(path, dicts=False):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f) if dicts else csv.reader(f))


def test_the_totals_are_those_of_nbgrader_export(course):
    root, exported = course
    ours = {(t.student, t.assignment): t for t in totals(f"sqlite:///{root / 'gradebook.db'}", COURSE)}
    assert set(ours) == set(exported) == {(s, a) for s in CLASS for a in CELLS}
    for key, t in ours.items():
        row = exported[key]
        assert (t.score, t.max_score, t.late_penalty) == pytest.approx(
            (float(row["score"]), float(row["max_score"]), float(row["late_submission_penalty"])))
    # the class is what CLASS says: a late penalty taken off, one clamped at 0, no submission scored 0
    scores, _, penalty = CLASS["ben"][3]["week1"]
    assert ours["ben", "week1"].late_penalty == penalty > 0
    assert ours["ben", "week1"].score == sum(scores.values()) - penalty
    assert ours["ben", "week2"].raw_score > 0 and ours["ben", "week2"].score == 0
    assert not ours["cho", "week1"].submitted and ours["cho", "week1"].score == 0


def test_canvas_file_has_canvas_layout_and_the_scores_of_nbgrader_export(course):
    root, exported = course
    run = nbgrader(root, "export", CANVAS, "--CanvasExportPlugin.roster=canvas_export.csv")
    assert run.returncode == 0, run.stderr
    header, points_possible, *rows = read(root / "canvas_grades.csv")  # the default file name
    # week1 is the Canvas assignment of that title (its exported "Title (id)" header); week2 is new
    assert header == [*CANVAS_STUDENT_COLUMNS, "week1 (501)", "week2"]
    assert points_possible[0] == CANVAS_POINTS_POSSIBLE and points_possible[1:5] == ["", "", "", ""]
    assert [float(p) for p in points_possible[5:]] == [float(exported["ana", a]["max_score"]) for a in CELLS]
    # the roster's students nbgrader has, in the roster's order, with the roster's Canvas columns
    assert [r[:5] for r in rows] == [r[:5] for r in list(csv.reader(CANVAS_ROSTER.splitlines()))[2:5]]
    for r in rows:
        for assignment, cell in zip(CELLS, r[5:]):
            assert float(cell) == pytest.approx(float(exported[r[3], assignment]["score"]))
    raw, penalty = (float(exported["ben", "week1"][k]) for k in ("raw_score", "late_submission_penalty"))
    assert rows[1][3] == "ben" and float(rows[1][5]) == raw - penalty < raw  # the late penalty is taken off
    assert rows[2][3] == "cho" and [float(v) for v in rows[2][5:]] == [0, 0]  # no submission: 0
    warned = run.stderr
    assert "not in the roster canvas_export.csv (column 'SIS Login ID'), so NOT in the file (1): dan" in warned
    assert "Roster students without grades in nbgrader" in warned and "(1): Zapata, Zoe (SIS Login ID: zoe)" in warned


def test_moodle_file_has_moodle_layout_and_the_scores_of_nbgrader_export(course):
    root, exported = course
    run = nbgrader(root, "export", MOODLE, "--MoodleExportPlugin.roster=moodle_export.csv")
    assert run.returncode == 0, run.stderr
    header, *rows = read(root / "moodle_grades.csv")
    assert header[0] in MOODLE_USER_FIELDS and header == ["ID number", *CELLS]
    assert [r[0] for r in rows] == ["ana", "ben", "cho"]
    for r in rows:
        assert [float(v) for v in r[1:]] == pytest.approx([float(exported[r[0], a]["score"]) for a in CELLS])
    # no place for the maximum in the file: the log says what to set in Moodle
    maxima = ", ".join(f"{a} {float(exported['ana', a]['max_score']):g}" for a in CELLS)
    assert "Map from 'ID number', Map to 'ID number'" in run.stderr and maxima in run.stderr
    assert "not in the roster moodle_export.csv (column 'ID number'), so NOT in the file (1): dan" in run.stderr
    assert "(1): Zoe Zapata (ID number: zoe)" in run.stderr


def test_without_a_roster_the_lms_user_id_identifies_a_student(course):
    root, exported = course
    run = nbgrader(root, "export", CANVAS, "--CanvasExportPlugin.id_column=ID", "--to=by_lms_id.csv")
    assert run.returncode == 0, run.stderr
    header, _, *rows = read(root / "by_lms_id.csv")
    assert header[:5] == CANVAS_STUDENT_COLUMNS
    by_id = {r[1]: r for r in rows}
    assert set(by_id) == {"1001", "1002", "1004"} and by_id["1004"][0] == "Diaz, Dan"
    assert [float(v) for v in by_id["1004"][5:]] == [float(exported["dan", a]["score"]) for a in CELLS]
    assert "nbgrader students without an lms_user_id, so NOT in the file" in run.stderr and "(1): cho" in run.stderr


def test_assignment_and_student_filters_as_for_nbgrader_export(course):
    root, exported = course
    run = nbgrader(root, "export", MOODLE, "--MoodleExportPlugin.roster=moodle_export.csv", "--to=week2.csv",
                   "--assignment=week2", "--student=ana", "--student=dan")
    assert run.returncode == 0, run.stderr
    assert read(root / "week2.csv") == [["ID number", "week2"], ["ana", exported["ana", "week2"]["score"]]]
    assert "NOT in the file (1): dan" in run.stderr and "Ben" not in run.stderr  # ben: left out by --student


@pytest.mark.parametrize("args, says", [
    (["--CanvasExportPlugin.roster=no_such.csv"], ["CanvasExportPlugin.roster: no file", "no_such.csv",
                                                   "Export the class from the LMS's gradebook"]),
    (["--CanvasExportPlugin.roster=moodle_export.csv"], ["has no column 'SIS Login ID'", "'ID number'",
                                                         "Set --CanvasExportPlugin.id_column"]),
    ([MOODLE, "--MoodleExportPlugin.id_column=Student"], ["MoodleExportPlugin.id_column 'Student'", "'Email address'"]),
])
def test_bad_input_is_a_clear_error(course, args, says):
    root, _ = course
    run = nbgrader(root, "export", *([CANVAS] if args[0] != MOODLE else []), *args, "--to=bad.csv")
    assert run.returncode == 1 and not (root / "bad.csv").exists()
    assert "Traceback" not in run.stderr
    for text in says:
        assert text in run.stderr, run.stderr


def test_a_canvas_export_with_semicolons_names_apart_and_a_hidden_row_is_read(tmp_path):
    from autograder.exporters import CanvasExportPlugin, read_roster

    export = tmp_path / "canvas.csv"  # Canvas's export in a locale with decimal commas, with a BOM
    export.write_text("\ufeffLastName;FirstName;ID;SIS Login ID;Section;week1 (501)\n"
                      ";;;;;Manual Posting\n    Points Possible;;;;;10,00\nAlves;Ana;1001;ana;DL;4,00\n")
    header, rows = read_roster(str(export), "SIS Login ID", "CanvasExportPlugin")
    assert header == ["LastName", "FirstName", "ID", "SIS Login ID", "Section", "week1 (501)"]
    students = [r for r in map(CanvasExportPlugin().student_row, rows) if r]
    assert [(r["Student"], r["ID"], r["SIS Login ID"]) for r in students] == [("Alves, Ana", "1001", "ana")]


def test_an_assignment_no_one_handed_in_is_exported_with_a_warning(tmp_path):
    """As nbgrader export does: every student 0 (here: no student yet, so only the header); the
    warning says the import would write those zeros over the LMS's grades."""
    (tmp_path / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.course_id = {COURSE!r}\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", nbgrader_env()["PATH"])
        with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", COURSE) as gb:
            gb.add_assignment("week9", duedate=DUE)
            gb.add_notebook("nb", "week9")
            gb.add_grade_cell("q1", "nb", "week9", max_score=7.0, cell_type="code")
    run = nbgrader(tmp_path, "export", CANVAS, "--CanvasExportPlugin.id_column=ID")
    assert run.returncode == 0, run.stderr
    header, points_possible, *rows = read(tmp_path / "canvas_grades.csv")
    assert header == [*CANVAS_STUDENT_COLUMNS, "week9"] and float(points_possible[5]) == 7 and rows == []
    assert "No one has handed in week9 yet" in run.stderr
