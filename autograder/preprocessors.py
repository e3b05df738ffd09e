"""nbgrader preprocessors of the course, configured in ``nbgrader_config.py``.

:class:`HideHiddenTests` is an nbgrader preprocessor for ``generate_feedback``:
nbgrader's feedback shows the test cells as autograded, hidden tests included
(jupyter/nbgrader#917).  It removes the ``### BEGIN HIDDEN TESTS`` ...
``### END HIDDEN TESTS`` region from test cells and shortens the errors those
cells raised to their message (a traceback quotes the failing test's code).
Enable it in ``nbgrader_config.py``::

    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "autograder.preprocessors.HideHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]

``RemoveAnswerNotes`` runs in ``nbgrader generate_assignment``: a markdown cell of the instructor's
notebook may hold notes for the teacher between ``### BEGIN ANSWER NOTES`` and
``### END ANSWER NOTES`` (the answers to a notebook's self-check questions); the student version
keeps the rest of the cell and loses the region.  nbgrader's own solution regions cannot do this:
it accepts a markdown solution cell only as a graded answer.
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

BEGIN, END = "### BEGIN ANSWER NOTES", "### END ANSWER NOTES"


class RemoveAnswerNotes(NbGraderPreprocessor):
    """Drop the answer-notes regions of markdown cells from the student version."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "markdown" or (BEGIN not in cell.source and END not in cell.source):
            return cell, resources
        kept, inside = [], False
        for line in cell.source.split("\n"):
            if line.strip() == BEGIN:
                if inside:
                    raise RuntimeError(f"nested {BEGIN!r} in a markdown cell: {cell.source[:200]!r}")
                inside = True
            elif line.strip() == END:
                if not inside:
                    raise RuntimeError(f"{END!r} without {BEGIN!r} in a markdown cell: {cell.source[:200]!r}")
                inside = False
            elif not inside:
                kept.append(line)
        if inside:
            raise RuntimeError(f"{BEGIN!r} without {END!r} in a markdown cell: {cell.source[:200]!r}")
        cell.source = "\n".join(kept).rstrip("\n")
        return cell, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback without hidden tests: their code is removed and their errors keep only the message."""

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS", help="Marks the start of hidden tests").tag(config=True)
    end_test_delimeter = Unicode("END HIDDEN TESTS", help="Marks the end of hidden tests").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or self.begin_test_delimeter not in cell.source:
            return cell, resources
        kept, hidden = [], False
        for line in cell.source.split("\n"):
            if self.begin_test_delimeter in line:
                hidden = True
                kept.append(line.replace(self.begin_test_delimeter, "hidden tests (not shown)"))
            elif self.end_test_delimeter in line:
                hidden = False
            elif not hidden:
                kept.append(line)
        cell.source = "\n".join(kept)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        return cell, resources
