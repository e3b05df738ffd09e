"""Shared test set-up: Keras on torch, and plots without a screen."""
from __future__ import annotations

import os


def pytest_configure(config):
    # Set before any test imports Keras or matplotlib (tests run in worker processes
    # of pytest-xdist, and nbgrader's kernels inherit the environment).
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("MPLBACKEND", "Agg")
