"""The course's nbgrader preprocessors (autograder/preprocessors.py)."""
from __future__ import annotations

import nbformat
import pytest

from autograder.preprocessors import RemoveAnswerNotes


def _run(source: str) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source), nbformat.v4.new_code_cell("x = 1")])
    out, _ = RemoveAnswerNotes().preprocess(nb, {})
    assert out.cells[1].source == "x = 1"
    return out.cells[0].source


def test_answer_notes_are_removed_and_the_questions_kept():
    text = _run("### Check yourself\n1. Why?\n\n### BEGIN ANSWER NOTES\n1. Because.\n### END ANSWER NOTES\n")
    assert text == "### Check yourself\n1. Why?"
    assert _run("no notes here") == "no notes here"


@pytest.mark.parametrize("source", ["### BEGIN ANSWER NOTES\nsecret", "### END ANSWER NOTES",
                                    "### BEGIN ANSWER NOTES\n### BEGIN ANSWER NOTES\n### END ANSWER NOTES"])
def test_unbalanced_regions_are_refused(source):
    with pytest.raises(RuntimeError, match="ANSWER NOTES"):
        _run(source)
