"""``course.setup()``: one call at the top of every notebook."""
from __future__ import annotations

import importlib
import os
import platform
import random
import sys
from importlib import metadata

import numpy as np

BACKEND = "torch"
_seed = 0  # the seed of the last course.setup(): course.reseed() seeds with it again


class BackendError(RuntimeError):
    """Keras was imported with another backend before ``course.setup()``."""


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _select_backend() -> None:
    keras = sys.modules.get("keras")
    if keras is not None:
        active = keras.backend.backend()
        if active != BACKEND:
            raise BackendError(
                f"Keras is already imported with the {active!r} backend, but this course "
                f"needs {BACKEND!r}. The backend is chosen once, when Keras is first "
                "imported. Restart the kernel (Kernel > Restart) and run "
                "`course.setup()` before any `import keras`."
            )
    os.environ["KERAS_BACKEND"] = BACKEND


def _plot_defaults() -> None:
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (6.0, 4.0),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "font.size": 11,
        }
    )


def setup(seed: int = 0, *, keras: bool = True, quiet: bool = False) -> None:
    """Prepare a notebook: Keras backend, seeds, plot defaults, versions.

    Args:
        seed: seed for Python's ``random``, NumPy's global generator, torch and Keras.
        keras: import Keras (on torch) and seed it.  Notebooks that use NumPy
            only pass ``keras=False``: importing Keras and torch takes seconds.
            The backend is selected either way, so a later ``import keras``
            uses torch.
        quiet: do not print the versions line.

    Raises:
        BackendError: Keras was already imported with a backend other than torch.
    """
    global _seed
    _select_backend()
    _seed = seed
    if keras:
        importlib.import_module("keras")  # after the backend is set; reseed() seeds it

        if os.environ.get("NBGRADER_EXECUTION"):
            # The autograder runs several students' kernels at once: one core each.
            sys.modules["torch"].set_num_threads(1)
    reseed()
    _plot_defaults()
    if not quiet:
        parts = [
            f"Python {platform.python_version()}",
            f"NumPy {np.__version__}",
            f"Keras {_version('keras')} (backend: {BACKEND})",
            f"torch {_version('torch')}",
            f"seed {seed}",
        ]
        print(" | ".join(parts))


def reseed() -> None:
    """Seed every random generator again, with the seed of ``course.setup()``: Python's ``random``,
    NumPy's global generator, and torch and Keras if they are imported.  What follows draws the same
    numbers whatever ran before it.  The checks that build or train a model start with it, so that
    their result does not depend on how often the cells above them ran."""
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(_seed)  # seeds random, numpy and torch too
        return
    random.seed(_seed)
    np.random.seed(_seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(_seed)
