"""Instructor tooling around nbgrader: grade a class safely and quickly, check that the course's
grading is right, and publish the student edition.

The course lifecycle (generate, release, collect, autograde, feedback) is nbgrader's own; this
package drives it through nbgrader's commands, configuration and gradebook API.  Its modules, in
the order a newcomer would read them:

``__main__``, ``cli``
    ``python -m autograder COMMAND`` (``course-grader``): every command a subcommand, each
    working on a course root (``--course-dir``, default: here).
``course_root``
    a course root (``nbgrader_config.py``, ``source/``): its assignments and settings, scratch
    copies of it, and nbgrader run in it.
``cells``
    nbgrader's cell metadata (grade ids, answer and test cells), read in one place.
``runner``
    the one way to run an nbgrader command (a fork of :mod:`zygote`, or a new process).
``gradebook``
    nbgrader's gradebook read through its API: the batch grader's template and scores read back,
    and every student's totals as ``nbgrader export`` computes them.
``batch``
    ``autograde``: a class graded student by student side by side, in the sandbox.
``sandbox``
    the bubblewrap sandbox every student kernel runs in (:mod:`autograder.sandbox`).
``validate``
    a submission checked before grading: broken input gets a clear message.
``preprocessors``
    the course's nbgrader preprocessors (every autograded kernel in the sandbox, answer notes
    out of the student version, hidden tests out of the feedback).
``report``
    the class report from the gradebook.
``exporters``
    grades to the LMS: nbgrader export plugins for Canvas's and Moodle's gradebook import.
``similarity``
    pairs of students whose answer cells are suspiciously alike (evidence to look at, not a verdict).
``release``, ``student_edition``, ``lockfile``
    the student notebooks, the student edition, and the lock file's check.
``catalogue``, ``wrong_answers``, ``red_team``
    the proof that grading is right (a catalogue of wrong answers) and safe (hostile code).
"""
