"""nbgrader configuration of the course (used by every nbgrader command run here).

The course root is the folder you run nbgrader in: this repository for the
instructor, or a copy of it.  Instructor notebooks live in ``source/``, the
generated student versions in ``release/`` (committed).  ``submitted/``,
``autograded/``, ``feedback/`` and ``gradebook.db`` are created by nbgrader and
never committed.
"""
import os

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = os.environ.get("NBGRADER_COURSE_ID", "intro-dl")
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Where nbgrader's exchange lives (release, fetch, submit, collect).  On a
# shared machine or JupyterHub it is a folder every user can reach.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# The student version: nbgrader's own steps, plus one that drops the teacher's answer notes
# (### BEGIN ANSWER NOTES ... ### END ANSWER NOTES in markdown cells; autograder/preprocessors.py).
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "autograder.preprocessors.RemoveAnswerNotes",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# What students see in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding: a cell that runs for more than 2 minutes is stopped (an
# infinite loop must not hold up the class); the kernel is the course's Python.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.kernel_name = "python3"

# A student who deletes a locked test cell is still tested: nbgrader puts the
# instructor's cell back (from the gradebook) and runs it.
c.OverwriteCells.add_missing_cells = True

# Feedback: nbgrader shows the test cells as autograded, hidden tests included
# (jupyter/nbgrader#917).  This filter removes the hidden-test code and shortens
# the errors of those cells to their message (a traceback quotes the test code).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.preprocessors.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
