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

# Autograding runs student code, so every path that autogrades (`nbgrader autograde`, with or
# without --student, the Formgrader's Autograde button, `python -m autograder autograde`) runs
# each kernel in the course's bubblewrap sandbox: nbgrader's own steps, with Execute replaced by
# the course's SandboxedExecute (autograder/preprocessors.py; the sandbox: autograder/sandbox/).
# Without bubblewrap (`apt-get install bubblewrap`) grading refuses and says so.  To grade
# without the sandbox, knowingly (student code then runs with your rights):
#     c.SandboxedExecute.sandbox = False
from autograder.preprocessors import AUTOGRADE_PREPROCESSORS  # noqa: E402

c.Autograde.autograde_preprocessors = list(AUTOGRADE_PREPROCESSORS)
# What one student's kernel may use; the defaults (autograder/sandbox/limits.py) are 2 GiB of
# memory, 900 CPU-seconds, 512 processes, 100 MB per file, 20 MB of output and 900 s per notebook.
# For example: c.SandboxedExecute.limits = {"memory_mb": 4096}
c.SandboxedExecute.limits = {}

# A cell that runs for more than 2 minutes is stopped (an infinite loop must not hold up the
# class).
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# A student who deletes a locked test cell is still tested: nbgrader puts the
# instructor's cell back (from the gradebook) and runs it.
c.OverwriteCells.add_missing_cells = True

# Feedback: nbgrader shows the test cells as autograded, hidden tests included
# (jupyter/nbgrader#917).  The course's steps (autograder/preprocessors.py) run the notebook again in
# the sandbox without its hidden tests, so no output shown can hold what they passed the student's
# code; remove the hidden-test code; replace what the hidden tests printed or raised by a summary
# that never names their inputs or expected values (autograder/hidden.py); and shorten the errors
# of the visible tests to their message (a traceback quotes the test code).
from autograder.preprocessors import FEEDBACK_PREPROCESSORS  # noqa: E402

c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)

# Feedback on submission (the JupyterHub service course-feedback, or `python -m autograder
# feedback-service`; deploy/jupyterhub/README.md): the assignments it grades as soon as a student
# submits (none by default), graded submissions per student per hour (more: "queue" or
# "refuse"), and what happens after the due date ("feedback", or "nothing").
c.FeedbackService.assignments = []
c.FeedbackService.per_hour = 6
c.FeedbackService.over_limit = "queue"
c.FeedbackService.after_deadline = "feedback"
# Only submissions whose inbound folder belongs to the student's system user (or to the grader) are
# graded: nbgrader's collect trusts a folder's name.  Off where students are not system users.
c.FeedbackService.check_owner = True
