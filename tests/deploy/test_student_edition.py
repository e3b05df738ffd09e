"""The student edition (``make student-repo``): complete, standalone, and no solution in it.

- File by file: no nbgrader marker, no line of a solution or of a hidden test, no instructor
  tooling, no course-root ``nbgrader_config.py``.
- Bad input is refused with a message and changes nothing: a folder that is not an edition, the
  instructors' own repository, ``release/`` out of step with ``source/``, a lock out of step
  with ``pyproject.toml``.  An earlier edition is replaced, its ``.git`` kept.
- Binder: the real repo2docker (``--no-build --debug``) says which Python it would install for
  the edition; pip must resolve the edition's Binder requirements for exactly that Python.
- The edition's own set-up command (from its README) builds an environment on this machine's
  Python; there a notebook answered with the instructor's solutions runs and passes every visible
  check, Keras runs on torch (CPU build), nbgrader's Validate is on and its instructor tools off,
  and no test or instructor tool is installed.  That environment is what Binder installs too
  (``binder/requirements.txt`` is ``-r ../requirements.txt``), so ``postBuild`` and ``start``
  are run in it as well.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import cells, lockfile, student_edition
from autograder.cells import fill_in, solution_code
from autograder.course_root import assignments, notebooks, source_notebook
from autograder.student_edition import EditionError, build
from tests.helpers import REPO

SOLVED = ("week1_forward_pass", "01_forward_pass")      # NumPy only: the quickest solved notebook


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("edition") / "intro-dl-course-student")


def _edition_files(edition: Path) -> dict[str, str]:
    return {str(p.relative_to(edition)): p.read_bytes().decode("utf-8", errors="replace")
            for p in edition.rglob("*") if p.is_file() and ".git" not in p.relative_to(edition).parts}


def _split(source: str) -> tuple[list[str], list[str]]:
    """(lines inside the solution, hidden-test and answer-notes regions, lines outside them)."""
    inside, outside, secret = [], [], False
    for line in source.splitlines():
        if re.search(r"### BEGIN (SOLUTION|HIDDEN TESTS|ANSWER NOTES)", line):
            secret = True
        elif re.search(r"### END (SOLUTION|HIDDEN TESTS|ANSWER NOTES)", line):
            secret = False
        else:
            (inside if secret else outside).append(line.strip())
    return inside, outside


# Lines of a solution that are also everyday code of the course package (not anyone's answer):
# a seeded generator, and the mini-batch loop of the playground's network (course/playground.py).
EVERYDAY = {"rng = np.random.default_rng(seed)", "order = rng.permutation(len(X))",
            "for start in range(0, len(X), batch_size):"}


def _instructor_lines() -> dict[str, set[str]]:
    """Non-trivial lines of every solution and hidden test of source/: {where: lines}.

    Non-trivial: 16 characters or more, not a comment, and not also given to students elsewhere in
    source/ (the code around the answers, the visible checks, a later week's hand-out)."""
    secret: dict[str, set[str]] = {}
    given: set[str] = set()
    for assignment in assignments():
        for name in notebooks(assignment):
            for cell in source_notebook(assignment, name).cells:
                meta = cells.meta(cell)
                inside, outside = _split(cell.source)
                if meta.get("solution") and cell.cell_type == "markdown" and not inside:
                    inside, outside = outside, []                 # a written answer: the model answer
                given.update(outside)
                kept = {ln for ln in inside if len(ln) >= 16 and not ln.startswith("#")}
                if kept:
                    secret.setdefault(f"{assignment}/{name}:{meta.get('grade_id')}", set()).update(kept)
    return {where: lines - given - EVERYDAY for where, lines in secret.items() if lines - given - EVERYDAY}


# --- what is in it ------------------------------------------------------------------------------

def test_edition_is_complete(edition):
    files = _edition_files(edition)
    release = sorted(str(p.relative_to(REPO / "release")) for p in (REPO / "release").rglob("*.ipynb"))
    assert sorted(f.removeprefix("notebooks/") for f in files if f.endswith(".ipynb")) == release
    for path in ("course/__init__.py", "course/feedback.py", "pyproject.toml", "requirements.txt",
                 "requirements.lock", "binder/requirements.txt", "binder/runtime.txt", "binder/postBuild",
                 "binder/start", "README.md", "LICENSE", ".gitignore", student_edition.MARKER):
        assert path in files, f"the edition lacks {path}"
    assert files["requirements.lock"] == (REPO / "requirements.lock").read_text(), \
        "the edition's lock differs from the one CI tests"
    # the course package exactly as the notebooks import it here
    for path in (REPO / "course").glob("*.py"):
        assert files[f"course/{path.name}"] == path.read_text()


def test_edition_holds_no_instructor_material(edition):
    files = _edition_files(edition)
    assert student_edition.scan(edition) == []
    for name in student_edition.INSTRUCTOR_ONLY:
        assert not (edition / name).exists(), name
    assert not [f for f in files if f.startswith(("autograder/", "source/", "tests/")) or "wrong_answers" in f]
    assert not [f for f in files if Path(f).name == "nbgrader_config.py"], "a course-root nbgrader_config.py"
    for marker in student_edition.LEAK_MARKERS:
        assert not [f for f, text in files.items() if marker in text], marker


def _lines(path: str, text: str) -> set[str]:
    """A file's lines, stripped; a notebook's by cell (as a student reads them, not its JSON)."""
    if path.endswith(".ipynb"):
        return {ln.strip() for cell in nbformat.reads(text, as_version=4).cells for ln in cell.source.splitlines()}
    return {ln.strip() for ln in text.splitlines()}


def test_no_line_of_a_solution_or_hidden_test_is_in_the_edition(edition):
    files = {path: _lines(path, text) for path, text in _edition_files(edition).items()}
    secrets = _instructor_lines()
    assert sum(len(v) for v in secrets.values()) > 100, "found too few solution lines to mean anything"
    found = [f"{where}: {line!r} in {path}" for where, lines in secrets.items() for line in lines
             for path, text in files.items() if line in text]
    assert not found, "instructor lines in the student edition:\n" + "\n".join(found[:20])


def test_scan_finds_a_leak(edition, tmp_path):
    """The generator's own last check (scan) sees a marker and an instructor folder."""
    leaky = tmp_path / "leaky"
    shutil.copytree(edition, leaky)
    nb = leaky / "notebooks" / SOLVED[0] / f"{SOLVED[1]}.ipynb"
    nb.write_text(nb.read_text().replace("raise NotImplementedError()", "### BEGIN SOLUTION", 1))
    (leaky / "autograder").mkdir()
    found = student_edition.scan(leaky)
    assert any("BEGIN SOLUTION" in f for f in found) and any(f.startswith("autograder") for f in found), found


def test_readmes_point_binder_at_the_student_repository(edition):
    repository = student_edition.student_repository()
    url = student_edition.binder_url(repository)
    student_readme = (edition / "README.md").read_text()
    assert url in student_readme and "$" not in student_readme.split("```")[0]
    instructor_readme = (REPO / "README.md").read_text()
    badges = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", instructor_readme)
    assert badges == [url], f"the instructor README's Binder badge must launch the student edition: {badges}"
    # the student README tells how to set up (two commands), how to hand in, and the Python
    assert "Validate" in student_readme and "Submit" in student_readme
    assert "Python 3.11 or newer" in student_readme
    assert len(student_edition.setup_commands(edition)) == 2


def test_versions_agree():
    """requires-python, the lock's Python, Binder's runtime.txt and both READMEs say the same."""
    import tomllib

    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    low = re.fullmatch(r">=(\d+\.\d+)", requires).group(1)
    assert re.search(rf"^LOCK_PYTHON := {re.escape(low)}$", (REPO / "Makefile").read_text(), re.M)
    assert (REPO / "binder" / "runtime.txt").read_text().strip() == f"python-{low}"
    assert f"Python {low} or newer" in (REPO / "README.md").read_text()
    assert student_edition._python_versions(requires) == f"{low} or newer"
    assert sys.version_info[:2] >= tuple(map(int, low.split(".")))


# --- bad input ----------------------------------------------------------------------------------

def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_refuses_a_folder_that_is_not_an_edition(tmp_path):
    target = tmp_path / "thesis"
    target.mkdir()
    (target / "chapter1.tex").write_text("my work")
    (target / "data").mkdir()
    (target / "data" / "results.csv").write_text("1,2,3")
    before = _snapshot(target)
    with pytest.raises(EditionError, match="(?s)not a student edition.*nothing was changed"):
        build(target)
    assert _snapshot(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["thesis"], "scratch folders left behind"


def test_refuses_the_instructors_repository():
    for target in (REPO, REPO / "student-edition", REPO.parent):
        with pytest.raises(EditionError, match="instructors' repository"):
            build(target)
    assert not (REPO / "student-edition").exists()


def test_replaces_an_earlier_edition_and_keeps_its_git(edition, tmp_path):
    target = tmp_path / "clone"
    shutil.copytree(edition, target)
    (target / ".git").mkdir()
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (target / "notebooks" / "old_week").mkdir()
    (target / "notebooks" / "old_week" / "gone.ipynb").write_text("{}")
    build(target)
    assert (target / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (target / "notebooks" / "old_week").exists(), "a file of the old edition survived"
    assert _edition_files(target) == _edition_files(edition)


def _repo_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "instructors"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".cache", "artifacts", "__pycache__", "*.egg-info", ".pytest_cache", "benchmarks", "tests"))
    return copy


def test_refuses_a_release_out_of_step_with_source(tmp_path):
    repo = _repo_copy(tmp_path)
    nb_path = repo / "source" / SOLVED[0] / f"{SOLVED[1]}.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("A new paragraph, not yet released."))
    nbformat.write(nb, nb_path)
    target = tmp_path / "edition"
    with pytest.raises(EditionError, match=r"(?s)release/ is out of step with source/.*make release") as err:
        build(target, repo=repo)
    assert f"{SOLVED[1]}.ipynb" in str(err.value)
    assert not target.exists()


def test_refuses_a_lock_out_of_step_with_pyproject(tmp_path):
    repo = _repo_copy(tmp_path)
    text = (repo / "pyproject.toml").read_text()
    # a new dependency, and a range the pinned keras no longer meets
    text = text.replace('"keras>=3.5",', '"keras>=99",\n    "seaborn>=0.13",')
    (repo / "pyproject.toml").write_text(text)
    problems = lockfile.problems(repo)
    assert any("seaborn" in p and "not pinned" in p for p in problems), problems
    assert any(p.startswith("requirements.lock pins keras==") and "keras>=99" in p for p in problems), problems
    target = tmp_path / "edition"
    with pytest.raises(EditionError, match=r"(?s)out of step with pyproject.toml.*make lock"):
        build(target, repo=repo)
    assert not target.exists()
    proc = subprocess.run([sys.executable, "-m", "autograder.lockfile", "--check", "--repo", str(repo)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "seaborn" in proc.stderr and "make lock" in proc.stderr


def test_lock_is_in_step_and_pins_everything():
    assert lockfile.problems(REPO) == []
    pins = lockfile.pins(REPO / "requirements.lock")
    assert pins["torch"] == ["2.13.0"]
    # transitive dependencies are pinned too, not only what pyproject.toml names
    for transitive in ("pandas", "scikit-learn", "sqlalchemy", "jinja2", "pyzmq", "tornado"):
        assert transitive in pins, transitive


# --- Binder and a student's own install (slow: pip) -----------------------------------------------

def _run(cmd, *, env, cwd, timeout, what):
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          shell=isinstance(cmd, str))
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)     # no terminal colours
    assert proc.returncode == 0, f"{what} failed (exit {proc.returncode}):\n{out[-6000:]}"
    print(f"{what}: {time.monotonic() - t0:.1f} s")
    return out


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTHON", "JUPYTER", "KERAS", "MPL"))}
    # (PIP_* stay: this machine's pip finds torch 2.13.0, CPU build, through them)
    env.update(HOME=str(tmp_path / "home"), COURSE_CACHE_DIR=str(tmp_path / "cache"),
               # PyTorch's CPU index is unreachable here: fail fast, never retry
               PIP_RETRIES="0", PIP_TIMEOUT="5", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_PROGRESS_BAR="off",
               # pip's --no-compile (PIP_NO_COMPILE=1 would mean the opposite): no bytecode for every module
               # installed, half of the install's time here (30 of 60 s); Python compiles what a command
               # imports when it imports it, and nothing the tests check depends on it
               PIP_COMPILE="false")
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(extra)
    return env


def _binder_python(edition: Path) -> str:
    """The exact Python repo2docker would install for the edition (major.minor.micro)."""
    r2d = Path(sys.executable).parent / "jupyter-repo2docker"
    out = subprocess.run([str(r2d), "--no-build", "--debug", str(edition)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert "Python version unspecified" not in text, text[:2000]
    minor = re.search(r"Building conda environment for python=(\d+\.\d+)", text).group(1)
    # the conda lock file the Dockerfile installs (named with repo2docker's escaping: -2e for
    # ".", -2d for "-") names the exact interpreter
    found = re.search(r"environment-2epy-2d(\d+)-2e(\d+)-2dlinux-2d64-2elock", text)
    assert found and f"{found.group(1)}.{found.group(2)}" == minor, text[-3000:]
    lock_name = f"environment.py-{minor}-linux-64.lock"
    import repo2docker.buildpacks.conda as conda
    lock = (Path(conda.__file__).parent / lock_name).read_text()
    micro = re.search(rf"/python-({re.escape(minor)}\.\d+)-", lock).group(1)
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in text
    return micro


@pytest.mark.slow
def test_binder_picks_the_pinned_python_and_pip_resolves_for_it(edition, tmp_path):
    python = _binder_python(edition)
    pinned = (edition / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    assert python.startswith(pinned + "."), (python, pinned)
    env = _clean_env(tmp_path)
    out = _run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--target",
                str(tmp_path / "target"), "--python-version", python, "--only-binary=:all:",
                "-r", "binder/requirements.txt"], env=env, cwd=edition, timeout=900,
               what=f"pip install --dry-run --python-version {python} -r binder/requirements.txt")
    would = dict(token.rsplit("-", 1) for token in out.split("Would install", 1)[1].splitlines()[0].split())
    pins = lockfile.pins(edition / "requirements.lock")
    assert would["torch"].split("+")[0] == "2.13.0" and would["keras"] in pins["keras"], would
    assert not [n for n in would if n.lower().startswith("nvidia")], "Binder would install CUDA libraries"
    for test_tool in ("pytest", "playwright", "jupyterhub", "distributed", "dask"):
        assert test_tool not in {n.lower() for n in would}, test_tool


@pytest.mark.slow
def test_student_install_runs_a_solved_notebook(edition, tmp_path):
    """The README's two commands, on this machine's python3; then what Binder adds (postBuild, start)."""
    work = tmp_path / "student"
    shutil.copytree(edition, work)
    setup, lab = student_edition.setup_commands(work)
    assert lab.startswith(".venv/bin/jupyter lab")
    env = _clean_env(tmp_path)
    _run(setup, env=env, cwd=work, timeout=1500, what=setup)
    py = str(work / ".venv" / "bin" / "python")
    env.update(PATH=os.pathsep.join([str(work / ".venv" / "bin"), env.get("PATH", "/usr/bin:/bin")]),
               VIRTUAL_ENV=str(work / ".venv"))

    # the lock's versions, the CPU build of torch, and no instructor or test tools
    listed = json.loads(_run([py, "-m", "pip", "list", "--format=json"], env=env, cwd=work, timeout=120,
                             what="pip list"))
    installed = {p["name"].lower().replace("_", "-"): p["version"] for p in listed}
    pins = lockfile.pins(work / "requirements.lock")
    off = {n: (v, pins[n]) for n, v in installed.items() if n in pins and v.split("+")[0] not in pins[n]}
    assert not off, f"installed versions differ from requirements.lock (installed, pinned): {off}"
    assert installed["torch"] == "2.13.0+cpu"
    assert not [n for n in installed if n.startswith("nvidia")], "CUDA libraries installed"
    for tool in ("pytest", "playwright", "jupyterhub", "distributed", "dask", "nbmake", "uv",
                 "jupyter-repo2docker"):
        assert tool not in installed, f"a student does not need {tool}"

    # nbgrader: Validate and the Assignments tab on; Formgrader, Create Assignment, Course List off
    server = _run([py, "-m", "jupyter", "server", "extension", "list"], env=env, cwd=work, timeout=300,
                  what="jupyter server extension list")
    assert re.search(r"nbgrader\.server_extensions\.validate_assignment\s+enabled", server), server
    assert re.search(r"nbgrader\.server_extensions\.assignment_list\s+enabled", server), server
    assert re.search(r"nbgrader\.server_extensions\.formgrader\s+disabled", server), server
    lab_ext = _run([py, "-m", "jupyter", "labextension", "list"], env=env, cwd=work, timeout=300,
                   what="jupyter labextension list")
    disabled = lab_ext.split("Disabled extensions:", 1)[1]
    for plugin in ("formgrader", "create-assignment", "course-list"):
        assert f"@jupyter/nbgrader:{plugin}" in disabled, lab_ext
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    assert "@jupyter-widgets/jupyterlab-manager" in lab_ext

    # Binder's additions: postBuild (keras.json; the data from COURSE_DATA_DIR, nothing downloaded)
    _run(["bash", "binder/postBuild"], env=env, cwd=work, timeout=600, what="binder/postBuild")
    assert json.loads((tmp_path / "home" / ".keras" / "keras.json").read_text())["backend"] == "torch"

    # a notebook answered with the instructor's solutions, under binder/start, with no KERAS_BACKEND
    assignment, name = SOLVED
    folder = work / "notebooks" / assignment
    nb = fill_in(nbformat.read(folder / f"{name}.ipynb", as_version=4), solution_code(source_notebook(*SOLVED)))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, keras, torch\nprint('STUDENT-CHECK', sys.prefix, keras.config.backend(), torch.__version__)"))
    nbformat.write(nb, folder / "solved.ipynb")
    _run(["bash", str(work / "binder" / "start"), py, "-m", "jupyter", "nbconvert", "--to", "notebook",
          "--execute", "--ExecutePreprocessor.timeout=600", "--output", "solved.out.ipynb", "solved.ipynb"],
         env=env, cwd=folder, timeout=900, what=f"nbconvert --execute {name} (solved)")
    done = nbformat.read(folder / "solved.out.ipynb", as_version=4)
    code = [c for c in done.cells if c.cell_type == "code"]
    errors = [f"{o.ename}: {o.evalue}" for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert all(c.execution_count for c in code), "not every cell ran"
    visible = [c for c in done.cells if cells.has_role(c, "grade")]
    assert len(visible) >= 5, "the solved notebook has too few visible checks to mean anything"
    last = "".join(o.get("text", "") for o in code[-1].outputs)
    assert f"STUDENT-CHECK {work / '.venv'} torch 2.13.0+cpu" in last, last
