"""``course.setup()``: one call at the top of every notebook."""
from __future__ import annotations

import os
import platform
import random
import sys
from importlib import metadata

import numpy as np

BACKEND = "torch"


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
    _select_backend()
    random.seed(seed)
    np.random.seed(seed)
    if keras:
        import keras as _keras  # noqa: F401  (import after the backend is set)

        _keras.utils.set_random_seed(seed)  # seeds random, numpy and torch too
        if os.environ.get("NBGRADER_EXECUTION"):
            # The autograder runs several students' kernels at once: one core each.
            sys.modules["torch"].set_num_threads(1)
    elif "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
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
