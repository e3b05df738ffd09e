"""A course root for nbgrader: its assignments, its settings, and the nbgrader commands run in it.

A course root is the folder with ``nbgrader_config.py`` and ``source/``: the instructor's
repository, or a scratch copy.  It is always an argument (``course_dir``; where it is left
out, the current folder, as for nbgrader itself), never the place this package is installed.

Everything here drives nbgrader's own command line and gradebook API: the
course lifecycle itself (generate, autograde, feedback) is nbgrader's.
These helpers only set up folders, run the commands, and read grades back.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import nbformat

from autograder import cells, gradebook, runner
from autograder.cells import fill_in, solution_code


def here(course_dir: Path | str | None) -> Path:
    """The course root: ``course_dir``, or the current folder."""
    return Path(course_dir) if course_dir is not None else Path.cwd()


def assignments(repo: Path | None = None) -> list[str]:
    """The assignments in ``source/``, in order."""
    repo = here(repo)
    if not (repo / "source").is_dir():
        raise FileNotFoundError(f"{repo.resolve()} is not a course root (no source/ folder): "
                                "run in the course root or give --course-dir")
    return sorted(p.name for p in (repo / "source").iterdir() if p.is_dir() and not p.name.startswith("."))


def notebooks(assignment: str, repo: Path | None = None) -> list[str]:
    """Names (without .ipynb) of an assignment's notebooks."""
    repo = here(repo)
    folder = repo / "source" / assignment
    if not folder.is_dir():
        raise FileNotFoundError(f"no assignment {assignment!r} in {repo / 'source'}; have: {assignments(repo)}")
    return sorted(p.stem for p in folder.glob("*.ipynb"))


def source_notebook(assignment: str, name: str, repo: Path | None = None) -> nbformat.NotebookNode:
    """The instructor's notebook ``source/<assignment>/<name>.ipynb``."""
    return nbformat.read(here(repo) / "source" / assignment / f"{name}.ipynb", as_version=4)


def code_cells(assignment: str, role: str, repo: Path | None = None) -> dict[str, float]:
    """{grade_id: points} of the assignment's code cells whose nbgrader role is ``role``
    ("grade" for test cells, "solution" for answer cells)."""
    out = {}
    for name in notebooks(assignment, repo):
        out.update(cells.code_cells(source_notebook(assignment, name, repo), role))
    return out


@dataclass(frozen=True)
class CourseSettings:
    course_id: str
    db_url: str
    source: Path
    submitted: Path
    autograded: Path
    feedback: Path
    sandboxed: bool = False  # autograding runs notebooks with autograder.preprocessors.SandboxedExecute only
    config: Any = field(default=None, compare=False, repr=False)  # the loaded nbgrader_config.py (traitlets)


def course_settings(course_dir: Path) -> CourseSettings:
    """The folders and gradebook of a course root, as its ``nbgrader_config.py`` sets them, and
    whether its autograding runs the kernels in the sandbox."""
    from traitlets.config.loader import PyFileConfigLoader

    course_dir = Path(course_dir).resolve()
    config = {}
    if (course_dir / "nbgrader_config.py").exists():
        cwd = os.getcwd()
        try:  # the config may use relative paths
            os.chdir(course_dir)
            config = PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
        finally:
            os.chdir(cwd)
    cfg = config.get("CourseDirectory", {})
    from autograder.preprocessors import runs_sandboxed

    sandboxed = runs_sandboxed(config.get("Autograde", {}).get("autograde_preprocessors", []))

    def folder(key: str, default: str) -> Path:
        return course_dir / cfg.get(key, default)

    db_url = cfg.get("db_url") or f"sqlite:///{course_dir / 'gradebook.db'}"
    return CourseSettings(cfg.get("course_id", "default_course"), db_url, folder("source_directory", "source"),
                          folder("submitted_directory", "submitted"), folder("autograded_directory", "autograded"),
                          folder("feedback_directory", "feedback"), sandboxed, config)


@dataclass
class CourseRoot:
    """A folder nbgrader runs in: config, source/, and what nbgrader makes."""

    path: Path

    @classmethod
    def create(cls, path: Path, assignments_: list[str], repo: Path | None = None) -> "CourseRoot":
        """A new course root at ``path`` with the settings and the given assignments of the course ``repo``."""
        repo = here(repo)
        path.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / "nbgrader_config.py", path / "nbgrader_config.py")
        for name in assignments_:
            shutil.copytree(repo / "source" / name, path / "source" / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        return cls(path)

    def copy(self, dest: Path) -> "CourseRoot":
        shutil.copytree(self.path, dest)
        return CourseRoot(dest)

    def nbgrader(self, *args: str, timeout: float = 1800) -> str:
        """Run ``nbgrader ARGS`` in this course root; return its output."""
        return runner.nbgrader(self.path, *args, timeout=timeout)

    def generate(self, assignment: str) -> str:
        return self.nbgrader("generate_assignment", assignment, "--force")

    def autograde(self, assignment: str, student: str | None = None) -> str:
        """``nbgrader autograde``: every submission of the assignment, or one student's."""
        return self.nbgrader("autograde", assignment, "--force", *([f"--student={student}"] if student else []))

    def release_notebook(self, assignment: str, name: str) -> nbformat.NotebookNode:
        return nbformat.read(self.path / "release" / assignment / f"{name}.ipynb", as_version=4)

    def student_notebooks(self, assignment: str, answers: dict[str, str] | None = None) -> dict:
        """The assignment's generated notebooks filled in as a student would hand them in.

        ``answers=None``: untouched; otherwise the instructor's solution with the cells
        named in ``answers`` replaced (``{}``: the solution itself).
        """
        out = {}
        for name in notebooks(assignment, self.path):
            release = self.release_notebook(assignment, name)
            if answers is None:
                out[name] = release
                continue
            mine = solution_code(source_notebook(assignment, name, self.path))
            mine.update({k: v for k, v in answers.items() if k in mine})
            out[name] = fill_in(release, mine)
        return out

    def submit(self, student: str, assignment: str, nbs: dict[str, nbformat.NotebookNode],
               timestamp: datetime | None = None) -> Path:
        """Place a student's notebooks where ``nbgrader collect`` would put them, handed in at
        ``timestamp`` (default: now)."""
        folder = self.path / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, nb in nbs.items():
            nbformat.write(nb, folder / f"{name}.ipynb")
        when = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
        (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
        return folder

    def grades(self, assignment: str) -> dict[str, dict[str, tuple[float, float]]]:
        """{student: {grade_id: (score, max_score)}} of the autograded (code) cells, from the gradebook.

        Manually graded answers are left out: they have no score until a teacher grades them.
        """
        settings = course_settings(self.path)
        out: dict[str, dict[str, tuple[float, float]]] = {}
        for row in gradebook.rows(settings.db_url, settings.course_id, [assignment]):
            if row.cell_type == "code":
                out.setdefault(row.student, {})[row.task] = (row.score, row.max_score)
        return out
