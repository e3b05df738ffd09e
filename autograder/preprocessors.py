"""nbgrader preprocessors of the course, configured in ``nbgrader_config.py``.

``RemoveAnswerNotes`` runs in ``nbgrader generate_assignment``: a markdown cell of the instructor's
notebook may hold notes for the teacher between ``### BEGIN ANSWER NOTES`` and
``### END ANSWER NOTES`` (the answers to a notebook's self-check questions); the student version
keeps the rest of the cell and loses the region.  nbgrader's own solution regions cannot do this:
it accepts a markdown solution cell only as a graded answer.
"""
from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

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
