"""Instructor tooling around nbgrader: course roots, the catalogue of wrong answers.

The course lifecycle (generate, release, collect, autograde, feedback) is
nbgrader's own; this package drives it and checks that the course's grading
is right.
"""
