"""course.setup(): backend, seeds, plot defaults, versions line."""
from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**clean, **env}, timeout=120)


def test_setup_seeds_python_and_numpy(capsys):
    import course

    course.setup(seed=3, keras=False)
    a = (random.random(), np.random.rand())
    course.setup(seed=3, keras=False)
    assert (random.random(), np.random.rand()) == a
    course.reseed()  # the seed of course.setup() again, after other draws
    assert (random.random(), np.random.rand()) == a
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("Python ") and "NumPy" in line and "Keras" in line and "torch" in line
    assert "seed 3" in line
    assert os.environ["KERAS_BACKEND"] == "torch"


def test_setup_with_keras_selects_torch_and_seeds_it():
    proc = run_python(
        "import course; course.setup(seed=1, quiet=True)\n"
        "import keras, torch\n"
        "a = torch.rand(3).tolist(); b = keras.random.uniform((2,), seed=None)\n"
        "course.setup(seed=1, quiet=True)\n"
        "assert torch.rand(3).tolist() == a\n"
        "keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)])  # draws its weights\n"
        "course.reseed()  # seed 1 again\n"
        "assert torch.rand(3).tolist() == a and keras.random.uniform((2,), seed=None).tolist() == b.tolist()\n"
        "print(keras.backend.backend())"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "torch"


def test_keras_imported_with_another_backend_is_a_clear_error(monkeypatch):
    """Only torch is installed here, so a Keras already loaded on JAX is stood in for by
    a module object that answers keras.backend.backend() like Keras does."""
    import types

    import pytest

    import course
    from course._setup import BackendError

    fake = types.SimpleNamespace(backend=types.SimpleNamespace(backend=lambda: "jax"))
    monkeypatch.setitem(sys.modules, "keras", fake)
    with pytest.raises(BackendError, match="already imported with the 'jax' backend") as err:
        course.setup(keras=False)
    assert "Restart the kernel" in str(err.value)


def test_keras_already_on_torch_is_fine():
    proc = run_python("import keras\nimport course\ncourse.setup(quiet=True)\nprint('ok')", KERAS_BACKEND="torch")
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_setup_sets_plot_defaults():
    import matplotlib as mpl

    import course

    mpl.rcParams["axes.grid"] = False
    course.setup(keras=False, quiet=True)
    assert mpl.rcParams["axes.grid"] is True
