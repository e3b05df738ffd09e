"""The instructor's commands: every one a subcommand of ``python -m autograder``, each working on
the course root it is given, from an installed package as well as from this checkout."""
from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.__main__ import COMMANDS, main
from autograder.course_root import CourseRoot
from autograder.wrong_answers import cases
from tests.helpers import REPO

A = "week1_forward_pass"


def test_every_command_is_a_subcommand(capsys):
    assert main([]) == 2
    listed = capsys.readouterr().out
    for name in [*COMMANDS, "lifecycle"]:
        assert name in listed
        with pytest.raises(SystemExit) as end:
            main([name, "--help"])
        assert end.value.code == 0
        assert "--course-dir" in capsys.readouterr().out or name == "lifecycle"


def test_a_folder_that_is_not_a_course_root_is_a_clear_error(tmp_path, capsys):
    assert main(["release", "--check", "--course-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not a course root (no source/ folder)" in err and "--course-dir" in err


@pytest.mark.slow
def test_release_check_on_another_course_root(tmp_path, capsys):
    """--course-dir, not the package's location, says which course: a copy with release/ out of date is found."""
    course = tmp_path / "course"
    CourseRoot.create(course, [A], REPO)
    shutil.copytree(REPO / "release" / A, course / "release" / A)
    assert main(["release", "--check", "--course-dir", str(course)]) == 0
    (course / "release" / A / "01_forward_pass.ipynb").write_text("{}")
    assert main(["release", "--check", "--course-dir", str(course)]) == 1
    assert "differs from what source/ generates" in capsys.readouterr().out


@pytest.mark.slow
def test_course_grader_from_a_non_editable_install(tmp_path):
    """``course-grader --course-dir DIR autograde`` from the package installed into another environment
    (not this checkout, not editable), run outside the checkout: the sandboxed grades are right."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    # the dependencies come from this environment; a plain path in a .pth file does not run this
    # environment's own .pth files, so the checkout's editable install stays out of the new one
    (purelib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "course", "autograder"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy2)(REPO / name, src / name)
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", str(src)],
                   check=True, cwd=tmp_path)
    shutil.rmtree(src)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([python, "-c", "import autograder, course; print(autograder.__file__, course.__file__)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path, env=env).stdout.split()
    assert all(Path(w).is_relative_to(purelib) for w in where), where

    course = CourseRoot.create(tmp_path / "course", [A], REPO)
    course.generate(A)
    wrong = next(c for c in cases(A) if c.kind == "wrong")
    course.submit("solution", A, course.student_notebooks(A, {}))
    course.submit("wrong", A, course.student_notebooks(A, wrong.answers))
    proc = subprocess.run([venv / "bin" / "course-grader", "autograde", A, "--course-dir", str(course.path),
                           "--workers", "2", "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    grades = course.grades(A)
    assert all(s == m for s, m in grades["solution"].values()), grades["solution"]
    lost = sorted(g for g, (s, m) in grades["wrong"].items() if s < m)
    assert set(wrong.loses) <= set(lost), (wrong.name, lost)
