"""The student edition: a standalone repository for students, generated from this one.

This repository is the instructors': ``source/`` holds every solution and hidden test, and
``autograder/`` the catalogue of wrong answers (correct alternatives among them).  Students get
the *student edition* instead, written by ``make student-repo OUT=DIR``
(``python -m autograder student-repo DIR``, ``make student-repo OUT=DIR``) and pushed to its own public repository, the one
that ``[tool.intro-dl-course] student-repository`` in ``pyproject.toml`` names (the one place for
that name: the Binder badges of both READMEs point there).  The edition holds:

    notebooks/<assignment>/   the student notebooks of release/
    course/                   the helper package the notebooks import
    pyproject.toml            installs ``course`` with a student's dependencies (pyproject.toml's
                              ``dependencies``, no extras) and the Jupyter settings of
    jupyter-config/           deploy/jupyterhub/student/: nbgrader's Validate and Assignments
                              tab stay; Formgrader, Create Assignment and Course List are off
    requirements.txt          the set-up (student/requirements.txt): PyTorch's CPU index, the
                              lock's pins, the course
    requirements.lock         this repository's lock, unchanged: students run what CI tested
    binder/                   runtime.txt (the Python), requirements.txt (-r ../requirements.txt),
                              postBuild, start
    README.md, LICENSE, .gitignore
    .student-edition          marks the folder as an edition, so that a later run may replace it

and nothing else: no ``source/``, no ``autograder/``, no tests, no course-root
``nbgrader_config.py``.  Before writing, the generator checks that ``release/`` is what
``source/`` generates and that the lock is in step with ``pyproject.toml``; it writes only into a
new or empty folder or over an earlier edition (whose ``.git`` it keeps, so the instructor can
commit and push the new edition from there).  Anything else is refused with a message, and the
folder is left as it was.  The edition is built in a scratch folder beside the target and
scanned for nbgrader's solution and hidden-test markers before it replaces anything.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path
from string import Template

import nbformat

from autograder import cli, lockfile
from autograder.course_root import here
from autograder.release import differences, generate_all

MARKER = ".student-edition"
NOTEBOOKS = "notebooks"
CONFIG = "jupyter-config"
# Jupyter reads a .d folder's files in name order, the last one winning: after nbgrader.json,
# which turns all of nbgrader's server extensions on.
CONFIG_NAME = "zz-intro-dl-course-student.json"
LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN ANSWER NOTES",
                "END ANSWER NOTES")
# what the instructors' repository must never hand to students (checked on every edition)
INSTRUCTOR_ONLY = ("source", "autograder", "tests", "benchmarks", "deploy", "nbgrader_config.py", "Makefile",
                   "gradebook.db")


class EditionError(RuntimeError):
    """The edition cannot be written; nothing was changed."""


def student_repository(repo: Path | None = None) -> str:
    """``owner/name`` of the public student repository (pyproject.toml's one setting)."""
    return tomllib.loads((here(repo) / "pyproject.toml").read_text())["tool"]["intro-dl-course"]["student-repository"]


def binder_url(repository: str) -> str:
    """The Binder launch link for the student repository: JupyterLab on the notebooks."""
    return f"https://mybinder.org/v2/gh/{repository}/HEAD?urlpath=lab/tree/{NOTEBOOKS}"


def build(out: Path, repo: Path | None = None) -> Path:
    """Write the student edition of the course repository ``repo`` (default: here) into ``out``;
    return ``out``.  Raises :class:`EditionError`."""
    out = Path(out).resolve()
    repo = here(repo).resolve()
    _check_target(out, repo)
    try:
        lockfile.check(repo)
    except lockfile.LockError as err:
        raise EditionError(str(err)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".student-edition-", dir=out.parent) as tmp:
        generated = generate_all(Path(tmp) / "course-root", repo=repo)
        diff = differences(generated, repo / "release")
        if diff:
            raise EditionError("release/ is out of step with source/; run `make release` first and commit it:\n  "
                               + "\n  ".join(diff))
        staged = Path(tmp) / "edition"
        _write(staged, repo)
        leaks = scan(staged)
        if leaks:
            raise EditionError("the edition would give away instructor material:\n  " + "\n  ".join(leaks))
        _replace(out, staged)
    return out


def scan(edition: Path) -> list[str]:
    """Instructor material in an edition: nbgrader's markers in any file, instructor-only paths."""
    found = [f"{name}: instructor-only" for name in INSTRUCTOR_ONLY if (edition / name).exists()]
    for path in sorted(edition.rglob("*")):
        if ".git" in path.relative_to(edition).parts or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [f"{path.relative_to(edition)}: contains {m!r}" for m in LEAK_MARKERS if m in text]
    return found


def setup_commands(edition: Path) -> list[str]:
    """The student README's local set-up: the lines of its first bash block (two commands)."""
    block = re.search(r"```bash\n(.*?)```", (edition / "README.md").read_text(), re.S)
    if block is None:
        raise EditionError(f"{edition / 'README.md'} has no bash block with the set-up commands")
    return [line for line in block.group(1).splitlines() if line.strip()]


def _check_target(out: Path, repo: Path) -> None:
    if out == repo or repo in out.parents or out in repo.parents:
        raise EditionError(f"{out} is (inside) the instructors' repository {repo}: the edition must go into a "
                           "folder of its own, outside it")
    if out.exists() and not out.is_dir():
        raise EditionError(f"{out} is a file, not a folder; nothing was changed")
    if out.is_dir() and any(p.name != ".git" for p in out.iterdir()) and not (out / MARKER).is_file():
        raise EditionError(f"{out} holds files that are not a student edition (no {MARKER}); nothing was changed. "
                           "Give a new or empty folder, or a clone of the student repository")


def _write(dest: Path, repo: Path) -> None:
    dest.mkdir(parents=True)
    shutil.copytree(repo / "release", dest / NOTEBOOKS, ignore=_junk)
    shutil.copytree(repo / "course", dest / "course", ignore=_junk)
    shutil.copytree(repo / "binder", dest / "binder", ignore=_junk)
    shutil.copy2(repo / lockfile.LOCK, dest / lockfile.LOCK)
    shutil.copy2(repo / "student" / "requirements.txt", dest / "requirements.txt")
    shutil.copy2(repo / "student" / "gitignore", dest / ".gitignore")
    shutil.copy2(repo / "LICENSE", dest / "LICENSE")
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    student = repo / "deploy" / "jupyterhub" / "student"
    configs = {"jupyter_server_config.d": student / "jupyter_server_config.json",
               "labconfig/page_config.d": student / "labconfig" / "page_config.json"}
    for folder, source in configs.items():
        (dest / CONFIG / folder).mkdir(parents=True)
        shutil.copy2(source, dest / CONFIG / folder / CONFIG_NAME)
    (dest / "pyproject.toml").write_text(_pyproject(project, configs))
    repository = student_repository(repo)
    (dest / "README.md").write_text(Template((repo / "student" / "README.md").read_text()).substitute(
        binder_url=binder_url(repository), repository=repository,
        python_versions=_python_versions(project["requires-python"]),
        notebook_table=_notebook_table(dest / NOTEBOOKS)))
    (dest / MARKER).write_text(
        "This repository is generated from the course's instructor repository (make student-repo).\n"
        "Do not edit it here: a new edition replaces every file but .git.\n")


def _pyproject(project: dict, configs: dict[str, Path]) -> str:
    q = json.dumps       # TOML's basic strings are JSON's
    data_files = "\n".join(f"{q('etc/jupyter/' + folder)} = [{q(f'{CONFIG}/{folder}/{CONFIG_NAME}')}]"
                           for folder in configs)
    deps = "".join(f"    {q(d)},\n" for d in project["dependencies"])
    return f"""\
# The course's helper package and what the notebooks need; installed by `pip install -r requirements.txt`.
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = {q(project["name"])}
version = {q(project["version"])}
description = {q(project["description"])}
requires-python = {q(project["requires-python"])}
license = {{ text = {q(project["license"]["text"])} }}
dependencies = [
{deps}]

[tool.setuptools.packages.find]
include = ["course*"]

# Jupyter settings for students: nbgrader's Formgrader, Create Assignment and Course List are off.
[tool.setuptools.data-files]
{data_files}
"""


def _python_versions(requires: str) -> str:
    low = requires.strip()
    return f"{low[2:]} or newer" if low.startswith(">=") and "," not in low else low


def _notebook_table(notebooks: Path) -> str:
    rows = []
    for path in sorted(notebooks.rglob("*.ipynb"), key=lambda p: p.name):       # 01_, 02_, ...: course order
        nb = nbformat.read(path, as_version=4)
        title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells
                      if c.cell_type == "markdown" and c.source.strip()), path.stem)
        rows.append(f"| `{path.relative_to(notebooks.parent)}` | {title} |")
    return "\n".join(rows)


def _replace(out: Path, staged: Path) -> None:
    out.mkdir(exist_ok=True)
    for old in out.iterdir():
        if old.name == ".git":
            continue
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        else:
            old.unlink()
    for new in staged.iterdir():
        shutil.move(str(new), out / new.name)


def _junk(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", ".ipynb_checkpoints") or n.endswith((".pyc", ".egg-info"))}


def add_arguments(parser) -> None:
    parser.add_argument("out", type=Path, help="a new or empty folder, or an earlier edition (its .git is kept)")
    cli.add_course_dir(parser)


def run(args) -> int:
    try:
        out = build(args.out, args.course_dir)
    except EditionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    files = sum(1 for p in out.rglob("*") if p.is_file() and ".git" not in p.relative_to(out).parts)
    name = student_repository(args.course_dir)
    print(f"student edition written to {out} ({files} files), for github.com/{name}.\n"
          f"Publish it: cd {out} && git init -b main (first time) && git add -A && git commit -m 'New edition' "
          f"&& git push (to github.com/{name})")
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
