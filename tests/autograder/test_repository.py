"""Repository hygiene: clean source notebooks, release/ generated from source/, pins."""
from __future__ import annotations

import json
import re
import tomllib

import nbformat
import pytest

from autograder.course_root import assignments
from autograder.release import differences, generate_all
from tests.helpers import REPO

SOURCE_NOTEBOOKS = sorted((REPO / "source").rglob("*.ipynb"))
RELEASE_NOTEBOOKS = sorted((REPO / "release").rglob("*.ipynb"))


def test_there_are_notebooks():
    assert SOURCE_NOTEBOOKS, "no notebooks in source/"
    assert len(RELEASE_NOTEBOOKS) == len(SOURCE_NOTEBOOKS)


@pytest.mark.parametrize("path", SOURCE_NOTEBOOKS + RELEASE_NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_notebook_is_clean(path):
    """Committed notebooks carry no outputs, execution counts or widget state."""
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them (Edit > Clear Outputs of All Cells)"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: has saved widget state in its metadata"
    nbformat.validate(nbformat.reads(path.read_text(), as_version=4))


def test_release_is_generated_from_source(tmp_path):
    """`nbgrader generate_assignment` reproduces the committed release/ exactly."""
    generated = generate_all(tmp_path / "course")
    diff = differences(generated, REPO / "release")
    assert not diff, "release/ is out of date; run `make release`:\n" + "\n".join(diff)


@pytest.mark.parametrize("path", RELEASE_NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_release_gives_nothing_away(path):
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "ANSWER NOTES"):
        assert marker not in text, f"{path.name} contains {marker!r}"


def test_every_assignment_has_a_catalogue():
    from autograder.wrong_answers import cases

    for name in assignments():
        assert cases(name), f"{name} has an empty catalogue of wrong answers"


def _requirement_names(lines):
    return {re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
            for line in lines if line.strip() and not line.strip().startswith(("#", "-"))}


def test_one_pinned_environment():
    """requirements.lock pins everything pyproject.toml asks for (the lock module's own check), torch
    at the CPU build used here; the Makefile installs under it, the Binder through the edition's set-up."""
    from autograder.lockfile import pins, problems

    assert problems(REPO) == []
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = _requirement_names(project["dependencies"] + project["optional-dependencies"]["test"])
    assert wanted <= set(pins(REPO / "requirements.lock"))
    assert pins(REPO / "requirements.lock")["torch"] == ["2.13.0"]
    makefile = (REPO / "Makefile").read_text()
    assert "pip install -c $(LOCK)" in makefile and "LOCK   := requirements.lock" in makefile
    assert not (REPO / "constraints.txt").exists(), "one lock file, not two sets of pins"
    assert (REPO / "binder" / "requirements.txt").read_text().splitlines()[-1] == "-r ../requirements.txt"
    assert "-c requirements.lock" in (REPO / "student" / "requirements.txt").read_text().splitlines()


def test_gitignore_keeps_out_student_data():
    ignored = (REPO / ".gitignore").read_text().split()
    for entry in (".venv/", "gradebook.db", "submitted/", "autograded/", "feedback/", "__pycache__/"):
        assert entry in ignored, f".gitignore should list {entry}"
