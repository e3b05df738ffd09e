"""A whole course run with nbgrader's own commands and a temporary exchange:

generate_assignment -> release_assignment -> three students fetch, answer and
submit -> collect -> autograde (autograder.batch) -> generate_feedback ->
release_feedback / fetch_feedback -> export.

The students: ``alice`` hands in the instructor's solution, ``bob`` three wrong
answers from the catalogue, ``carol`` the untouched notebook.  Their grades per
task are checked, as is the feedback: it exists for everyone and shows neither
hidden tests nor (to a student who did nothing) the solutions.
"""
from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from autograder.batch import autograde_class
from autograder.cells import fill_in, solution_code
from autograder.course_root import CourseRoot, code_cells, source_notebook
from autograder.wrong_answers import cases
from tests.helpers import checksums, nbgrader, page_text

pytestmark = pytest.mark.slow

A = "week1_forward_pass"
NB = "01_forward_pass"
COURSE = "intro-dl"
BOB_WRONG = ("relu_abs", "perceptron_no_bias", "collapse_sum")


def regions(text: str, begin: str, end: str) -> list[str]:
    """The lines between ``### BEGIN x`` and ``### END x`` markers."""
    out, inside = [], False
    for line in text.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            out.append(line.strip())
    return out


def run_course(tmp: Path):
    """The whole course run; returns what the checks below look at."""
    exchange = tmp / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    ex = [f"--Exchange.root={exchange}"]
    root = CourseRoot.create(tmp / "instructor", [A])  # with the course's own nbgrader_config.py
    course = [f"--CourseDirectory.course_id={COURSE}"]

    nbgrader(root.path, "generate_assignment", A, *course)
    nbgrader(root.path, "release_assignment", A, *course, *ex)

    catalogue = {c.name: c for c in cases(A)}
    solution = solution_code(source_notebook(A, NB))
    wrong = {k: v for name in BOB_WRONG for k, v in catalogue[name].answers.items()}
    answers = {"alice": solution, "bob": {**solution, **wrong}, "carol": None}
    for student, mine in answers.items():
        home = tmp / "home" / student
        home.mkdir(parents=True)
        nbgrader(home, "fetch_assignment", A, "--course", COURSE, *ex, user=student, home=home)
        path = home / A / f"{NB}.ipynb"
        if mine is not None:
            nbformat.write(fill_in(nbformat.read(path, as_version=4), mine), path)
        nbgrader(home, "submit", A, "--course", COURSE, *ex, user=student, home=home)

    nbgrader(root.path, "collect", A, *course, *ex)
    before = checksums(root.path / "submitted")
    result = autograde_class(root.path, A, workers=2, sandbox=False, progress=False)
    nbgrader(root.path, "generate_feedback", A, *course)
    nbgrader(root.path, "release_feedback", A, *course, *ex)
    nbgrader(tmp / "home" / "alice", "fetch_feedback", A, "--course", COURSE, *ex, user="alice",
             home=tmp / "home" / "alice")
    nbgrader(root.path, "export", *course)
    after = checksums(root.path / "submitted")
    return root, result, before, after, tmp


def expected_grades() -> dict[str, dict[str, float]]:
    points = code_cells(A, "grade")
    catalogue = {c.name: c for c in cases(A)}
    bob_loses = {g for name in BOB_WRONG for g in catalogue[name].loses}
    return {
        "alice": dict(points),
        "bob": {g: (0.0 if g in bob_loses else p) for g, p in points.items()},
        "carol": {g: 0.0 for g in points},
    }


def check_students_submitted_and_were_collected(course_run):
    root, _, before, _, _ = course_run
    for student in ("alice", "bob", "carol"):
        assert f"{student}/{A}/{NB}.ipynb" in before
        assert f"{student}/{A}/timestamp.txt" in before


def check_grades_per_student_and_task(course_run):
    root, result, _, _, _ = course_run
    assert result.failed == [], result.summary()
    grades = root.grades(A)
    points = code_cells(A, "grade")
    for student, expected in expected_grades().items():
        assert {g: s for g, (s, _) in grades[student].items()} == expected, student
        assert {g: m for g, (_, m) in grades[student].items()} == points


def check_export_csv_has_every_students_total(course_run):
    root, _, _, _, _ = course_run
    with open(root.path / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == A}
    assert set(rows) == {"alice", "bob", "carol"}
    for student, expected in expected_grades().items():
        # the export's score includes the written answer (manually graded, 0 until graded)
        assert float(rows[student]["score"]) == pytest.approx(sum(expected.values())), student


def check_feedback_exists_for_everyone_and_reaches_the_student(course_run):
    root, _, _, _, tmp = course_run
    for student in ("alice", "bob", "carol"):
        assert (root.path / "feedback" / student / A / f"{NB}.html").stat().st_size > 0
    fetched = list((tmp / "home" / "alice" / A / "feedback").rglob(f"{NB}.html"))
    assert fetched, "alice did not get her feedback"


def check_feedback_hides_the_hidden_tests(course_run):
    root, _, _, _, _ = course_run
    source = "\n".join(c.source for c in source_notebook(A, NB).cells)
    visible = "\n".join(line.strip() for line in source.splitlines())
    hidden = [line for line in regions(source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
              if len(line) >= 12 and visible.count(line) == 1]  # lines found only in hidden tests
    assert len(hidden) >= 5, "the notebook should have hidden tests"
    autograded = (root.path / "autograded" / "bob" / A / f"{NB}.ipynb").read_text()
    assert any(json_line in autograded for json_line in (h.replace('"', '\\"') for h in hidden)), \
        "the autograded notebook (source of the feedback) should contain the hidden tests"
    for student in ("alice", "bob", "carol"):
        text = page_text(root.path / "feedback" / student / A / f"{NB}.html")
        shown = [line for line in hidden if line in text]
        assert not shown, f"{student}'s feedback shows hidden test code: {shown[:3]}"


def check_feedback_of_a_blank_notebook_shows_no_solution(course_run):
    root, _, _, _, _ = course_run
    release = "\n".join(c.source for c in nbformat.read(root.path / "release" / A / f"{NB}.ipynb",
                                                          as_version=4).cells)
    source = "\n".join(c.source for c in source_notebook(A, NB).cells)
    solution = [line for line in regions(source, "BEGIN SOLUTION", "END SOLUTION")
                if len(line) >= 12 and line not in release]
    assert len(solution) >= 5
    text = page_text(root.path / "feedback" / "carol" / A / f"{NB}.html")
    shown = [line for line in solution if line in text]
    assert not shown, f"a blank notebook's feedback shows solution code: {shown[:3]}"


def check_submitted_files_never_change(course_run):
    _, _, before, after, _ = course_run
    assert before == after


def test_a_course_from_release_to_grades(tmp_path):
    """One test (its run takes a minute: split into tests, pytest-xdist would run it on both workers)."""
    course_run = run_course(tmp_path)
    check_students_submitted_and_were_collected(course_run)
    check_grades_per_student_and_task(course_run)
    check_export_csv_has_every_students_total(course_run)
    check_feedback_exists_for_everyone_and_reaches_the_student(course_run)
    check_feedback_hides_the_hidden_tests(course_run)
    check_feedback_of_a_blank_notebook_shows_no_solution(course_run)
    check_submitted_files_never_change(course_run)
