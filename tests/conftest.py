"""Shared test set-up: Keras on torch, plots without a screen, this repository as the course root,
and the order in which `make test`'s two pytest-xdist workers take the tests."""
from __future__ import annotations

import os

import pytest

from tests.helpers import REPO


def pytest_configure(config):
    # Set before any test imports Keras or matplotlib (tests run in worker processes
    # of pytest-xdist, and nbgrader's kernels inherit the environment).
    os.environ.setdefault("KERAS_BACKEND", "torch")
    os.environ.setdefault("MPLBACKEND", "Agg")
    # One thread per process for torch and NumPy's BLAS, as under grading: `make test` keeps both
    # cores busy with two workers and their kernels, and the threads of an oversubscribed pool
    # spin while they wait (the week 3 notebook in JupyterLab beside two busy processes: 82 s
    # with two threads, 32 s with one).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # The instructor's commands work on the course root they are run in (or --course-dir); the
    # tests' course is this repository, wherever pytest was started.  A relative COURSE_DATA_DIR
    # (the README's ../shared/data) names a folder from where pytest was started, as under make.
    from autograder.sandbox import anchor_data_dir

    anchor_data_dir()
    os.chdir(REPO)


def xdist_scope(nodeid: str) -> str:
    """The unit of work of pytest-xdist's ``--dist loadscope`` (`make test`): a test's class, or its
    module.  A scope's tests run on one worker, so its class and module fixtures are built once."""
    return nodeid.rsplit("::", 1)[0]


def _slow(item: pytest.Item) -> bool:
    """Marked slow, or not a Python test at all (nbmake's executed notebooks)."""
    return item.get_closest_marker("slow") is not None or not isinstance(item, pytest.Function)


@pytest.hookimpl(trylast=True)  # after pytest's own reordering (by fixture parameters)
def pytest_collection_modifyitems(config, items):
    """Put the scopes with slow tests first, each scope's tests together and in their own order.
    A worker takes the next scope whenever it is free, in this order: so the long scopes start
    early, and the unit tests, seconds in all, fill the gaps at the end."""
    by_scope: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_scope.setdefault(xdist_scope(item.nodeid), []).append(item)
    groups = list(by_scope.values())
    items[:] = [item for slow in (True, False) for group in groups if any(map(_slow, group)) == slow
                for item in group]


@pytest.fixture(scope="session")
def warm_kernels():
    """The socket of one warm-kernel server per pytest worker (None where kernels start cold: not
    root), for the tests that grade with the course's own limits and do not test the server itself:
    the catalogues, their feedback pages, two batches of test_batch.py.  Each batch would otherwise
    start its own (3-4 s of imports); the kernels forked from it are the same."""
    from autograder import batch, sandbox
    from autograder.course_root import course_settings

    with sandbox.WarmKernels(batch.check_sandbox(course_settings(REPO))) as warm:
        yield warm.socket
