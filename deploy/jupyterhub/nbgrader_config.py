"""Global nbgrader configuration for every user of the course's JupyterHub.

Install as /etc/jupyter/nbgrader_config.py (or put this folder on JUPYTER_CONFIG_PATH, as
jupyterhub_config.py here does).  nbgrader reads it in each user's single-user server (the
Assignments tab, Validate, the formgrader) and in nbgrader commands run in a user's terminal.
"""
import os

c = get_config()  # noqa: F821 (provided by nbgrader)

# One course on this hub.  Students fetch and submit with this id; it must match the
# course id in the instructor's course root (its nbgrader_config.py reads the same variable).
c.CourseDirectory.course_id = os.environ.get("NBGRADER_COURSE_ID", "intro-dl")

# The exchange: one folder every user's server can reach (a shared disk on a multi-host hub).
# Instructors release into <root>/<course>/outbound and collect from <root>/<course>/inbound.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# Autograding in the sandbox, as the course root's nbgrader_config.py sets it: the Formgrader reads
# the course root's config once, when the server starts, but this file on every request, so
# Autograde is sandboxed even in a course root cloned after the server started.  (Students'
# servers never autograde; their environment may lack the instructor's tools.)
# The same holds for feedback, which runs the notebook again without its hidden tests.
try:
    from autograder.preprocessors import AUTOGRADE_PREPROCESSORS, FEEDBACK_PREPROCESSORS
except ImportError:
    pass
else:
    c.Autograde.autograde_preprocessors = list(AUTOGRADE_PREPROCESSORS)
    c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)

# Instructors only: the course root (a clone of the course repository).  The hub sets
# NBGRADER_COURSE_ROOT for instructors; students have none and never see the formgrader.
if os.environ.get("NBGRADER_COURSE_ROOT"):
    c.CourseDirectory.root = os.environ["NBGRADER_COURSE_ROOT"]
