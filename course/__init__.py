"""Helpers for the introductory deep-learning course.

Each notebook starts with one call::

    import course
    course.setup()

which selects the Keras backend (torch), seeds every random number generator,
sets plot defaults and prints the versions in use; ``course.reseed()`` seeds them
again with the same seed (the checks that build or train a model start with it).
The submodules hold what the notebooks share: ``course.data`` (data loaders and
splits) and ``course.feedback`` (the messages students see when a check fails).

Nothing in this package solves an exercise.
"""
from course import data, feedback, plots
from course._setup import reseed, setup

__all__ = ["data", "feedback", "plots", "reseed", "setup"]
__version__ = "0.1.0"
