"""Shared test set-up: where the repository is, and the staged data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def pytest_configure(config):
    # Notebooks and nbgrader runs read the banknote data: CI stages it in
    # COURSE_DATA_DIR (see README).  Without it the loaders would try to download.
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("MPLBACKEND", "Agg")
