"""Regenerate ``release/`` (the student notebooks) from ``source/`` with nbgrader.

``release/`` is never edited by hand: ``make release`` runs this module
(``python -m autograder release [--course-dir DIR]``), which runs ``nbgrader
generate_assignment`` for every assignment in a scratch course root (so no
gradebook is left in the course root) and copies the result over ``release/``.
``--check`` only compares, and exits non-zero if ``release/`` is out of date.
"""
from __future__ import annotations

import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from autograder import cli
from autograder.course_root import CourseRoot, assignments, here


def generate_all(dest: Path, names: list[str] | None = None, repo: Path | None = None) -> Path:
    """Generate the student version of each assignment of the course root ``repo`` into
    ``dest/release``; return that folder."""
    names = names or assignments(repo)
    root = CourseRoot.create(dest, names, repo)
    for name in names:
        root.generate(name)
    return dest / "release"


def differences(generated: Path, committed: Path) -> list[str]:
    """Files that differ between two release folders (relative paths), both ways."""
    out = []
    for path in sorted(set(_files(generated)) | set(_files(committed))):
        a, b = generated / path, committed / path
        if not a.exists():
            out.append(f"{path}: in release/ but not generated from source/")
        elif not b.exists():
            out.append(f"{path}: generated from source/ but missing in release/")
        elif not filecmp.cmp(a, b, shallow=False):
            out.append(f"{path}: differs from what source/ generates")
    return out


def _files(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def add_arguments(parser) -> None:
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if release/ is out of date")
    cli.add_course_dir(parser)


def run(args) -> int:
    course = here(args.course_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        generated = generate_all(Path(tmp) / "course", repo=course)
        diff = differences(generated, course / "release")
        if args.check:
            print("\n".join(diff) if diff else "release/ is up to date with source/")
            return 1 if diff else 0
        shutil.rmtree(course / "release", ignore_errors=True)
        shutil.copytree(generated, course / "release")
    print(f"release/ regenerated from source/ ({len(diff)} file(s) changed)")
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
