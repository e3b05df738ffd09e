"""Shared test set-up: Keras on torch, plots without a screen, and this repository as the course root."""
from __future__ import annotations

import os

from tests.helpers import REPO


def pytest_configure(config):
    # Set before any test imports Keras or matplotlib (tests run in worker processes
    # of pytest-xdist, and nbgrader's kernels inherit the environment).
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("MPLBACKEND", "Agg")
    # The instructor's commands work on the course root they are run in (or --course-dir); the
    # tests' course is this repository, wherever pytest was started.
    os.chdir(REPO)
