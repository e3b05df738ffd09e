"""The class report (autograder.report): CSV from the gradebook, plots, index.html."""
from __future__ import annotations

import csv

import pytest

from autograder import report
from autograder.__main__ import main
from autograder.course_root import CourseRoot, code_cells
from autograder.wrong_answers import cases

pytestmark = pytest.mark.slow

A = "week1_forward_pass"
WRONG = next(c for c in cases(A) if c.kind == "wrong" and "sigmoid" in c.answers)


def grade_and_report(tmp):
    root = CourseRoot.create(tmp / "course", [A])
    root.generate(A)
    root.submit("solution", A, root.student_notebooks(A, {}))
    root.submit("blank", A, root.student_notebooks(A, None))
    root.submit("wrong", A, root.student_notebooks(A, WRONG.answers))
    # the command line: python -m autograder autograde ... (exit 0: every student graded)
    assert main(["autograde", A, "--course-dir", str(root.path), "--workers", "2", "--no-sandbox", "--quiet"]) == 0
    assert set(root.grades(A)) == {"solution", "blank", "wrong"}
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
    assert totals == {s: sum(v[0] for v in g.values()) for s, g in from_csv.items()}
    assert totals["blank"] == 0 and totals["solution"] == sum(code_cells(A, "grade").values())


def check_pngs_are_valid_images(graded):
    import matplotlib.image

    _, out = graded
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        img = matplotlib.image.imread(png)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100, png


def check_html_shows_the_plots_and_the_table(graded):
    _, out = graded
    page = (out / "index.html").read_text()
    for png in out.glob("*.png"):
        assert f'src="{png.name}"' in page
    assert 'href="scores.csv"' in page
    for student in ("solution", "blank", "wrong"):
        assert f"<td>{student}</td>" in page


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
