"""The class report (autograder.report): CSV from the gradebook, plots, index.html."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest
from nbgrader.api import Gradebook

from autograder import report, similarity
from autograder.__main__ import main
from autograder.course_root import CourseRoot, code_cells
from autograder.wrong_answers import cases

pytestmark = pytest.mark.slow

A = "week1_forward_pass"
WRONG = next(c for c in cases(A) if c.kind == "wrong" and "sigmoid" in c.answers)


MANUAL = ("01_forward_pass", "why_nonlinear", 1.5)  # a written answer, graded by hand for one student


def grade_and_report(tmp):
    """A class as nbgrader keeps it: on time (solution, blank), late (wrong, after the deadline; this
    course takes all the points of a late submission), never submitted (absent), partly graded by hand
    (solution's written answer; wrong's is not graded)."""
    root = CourseRoot.create(tmp / "course", [A])
    with open(root.path / "nbgrader_config.py", "a") as config:
        config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    root.generate(A)
    due = datetime.now(timezone.utc)
    db = f"sqlite:///{root.path / 'gradebook.db'}"
    with Gradebook(db, "intro-dl") as gb:
        gb.update_or_create_assignment(A, duedate=due)
        gb.update_or_create_student("absent")
    root.submit("solution", A, root.student_notebooks(A, {}), timestamp=due - timedelta(hours=1))
    root.submit("blank", A, root.student_notebooks(A, None), timestamp=due - timedelta(hours=1))
    root.submit("wrong", A, root.student_notebooks(A, WRONG.answers), timestamp=due + timedelta(hours=2))
    # the command line: python -m autograder autograde ... (exit 0: every student graded)
    assert main(["autograde", A, "--course-dir", str(root.path), "--workers", "2", "--no-sandbox", "--quiet"]) == 0
    assert set(root.grades(A)) == {"solution", "blank", "wrong"}
    with Gradebook(db, "intro-dl") as gb:
        notebook, cell, points = MANUAL
        gb.find_grade(cell, notebook, A, "solution").manual_score = points
        gb.db.commit()
    out = root.path / "reports"
    assert main(["report", "--course-dir", str(root.path), "--out", str(out)]) == 0
    return root, out


def check_report_files_exist(graded):
    _, out = graded
    for name in ("scores.csv", "totals.csv", "index.html", "score_distribution.png", "failing_tests.png",
                 "failing_checks.png"):
        assert (out / name).stat().st_size > 0, name


def check_csv_matches_the_gradebook(graded):
    root, out = graded
    with open(out / "scores.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    from_csv: dict[str, dict[str, tuple[float, float]]] = {}
    for r in rows:
        assert r["assignment"] == A and r["notebook"] == "01_forward_pass"
        from_csv.setdefault(r["student"], {})[r["task"]] = (float(r["score"]), float(r["max_score"]))
    code = set(code_cells(A, "grade"))
    assert {s: {t: v for t, v in g.items() if t in code} for s, g in from_csv.items()} == root.grades(A)
    with open(out / "totals.csv", newline="") as f:
        totals = {r["student"]: float(r[A]) for r in csv.DictReader(f)}
    # the totals are nbgrader's: those of `nbgrader export`, run here
    root.nbgrader("export", "--to", str(root.path / "grades.csv"))
    with open(root.path / "grades.csv", newline="") as f:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f) if r["assignment"] == A}
    assert totals == exported
    full = sum(code_cells(A, "grade").values())
    assert totals == {"solution": full + MANUAL[2], "blank": 0, "wrong": 0, "absent": 0}
    assert sum(v[0] for v in from_csv["wrong"].values()) > 0, "wrong's points are taken off as late, not lost"


def check_pngs_are_valid_images(graded):
    import matplotlib.image

    _, out = graded
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        img = matplotlib.image.imread(png)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100, png


def check_html_shows_the_plots_and_the_table(graded):
    root, out = graded
    page = (out / "index.html").read_text()
    for png in out.glob("*.png"):
        assert f'src="{png.name}"' in page
    assert 'href="scores.csv"' in page
    for student in ("solution", "blank", "wrong", "absent"):
        assert f"<td>{student}</td>" in page
    assert "0 (no submission)" in page and "late penalty)" in page
    # the similar pairs of the assignment: a section, and its page side by side
    pairs = similarity.find_pairs(root.path, A)
    assert f'<tr><td><a href="similarity-{A}.html">{A}</a></td><td>{len(pairs)}</td>' in page
    assert "never a penalty" in (out / f"similarity-{A}.html").read_text()


def check_failing_checks_come_from_the_autograded_error_outputs(graded):
    root, _ = graded
    checks = report.failing_checks(root.path / "autograded", [A])[A]
    assert checks, "no failing checks found in the autograded notebooks"
    sigmoid = [m for m in checks if m.startswith("sigmoid_tests: ")]
    assert sigmoid, list(checks)
    assert all("\n" not in m and "\x1b" not in m for m in checks)
    # the blank notebook fails the test cells of its unanswered functions with NotImplementedError
    assert sum(n for m, n in checks.items() if "NotImplementedError" in m) >= 3



def test_class_report(tmp_path):
    """One test: three students autograded with the CLI, then the report (split into tests, pytest-xdist
    would grade them once per worker)."""
    graded = grade_and_report(tmp_path)
    check_report_files_exist(graded)
    check_csv_matches_the_gradebook(graded)
    check_pngs_are_valid_images(graded)
    check_html_shows_the_plots_and_the_table(graded)
    check_failing_checks_come_from_the_autograded_error_outputs(graded)


def test_cli_lifecycle_and_pass_through(capsys):
    assert main(["lifecycle"]) == 0
    text = capsys.readouterr().out
    for command in ("generate_assignment", "release_assignment", "fetch_assignment", "submit", "collect",
                    "python -m autograder autograde", "generate_feedback", "release_feedback", "export"):
        assert command in text
    with pytest.raises(SystemExit) as exit_:
        main(["release", "--help"])
    assert exit_.value.code == 0 and "--check" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["catalogue", "--help"])
    assert "assignment" in capsys.readouterr().out
