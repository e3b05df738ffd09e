"""Binder builds the environment students get locally.

The test does what repo2docker does with ``binder/``, in a fresh virtual environment:

1. a copy of the repository (what Binder checks out), and ``python3 -m venv``;
2. ``pip install -r binder/requirements.txt`` from the repository root: PyTorch's CPU index as an
   extra index (unreachable here: no retries, 5 s timeout), every version pinned by
   ``-c ../constraints.txt`` (torch 2.13.0 comes from this machine's disk);
3. ``binder/postBuild`` with the new environment first on PATH and a fresh HOME;
4. ``binder/start`` around ``jupyter nbconvert --execute`` of a student notebook with no
   unsolved stubs, without KERAS_BACKEND in the environment (Binder's own).

Then: the notebook ran without an error in a kernel of the new environment, Keras' backend is
torch (through ``start``, and through postBuild's keras.json alone), the installed versions are
the pins of constraints.txt, and JupyterLab there has nbgrader's and ipywidgets' extensions.
Takes about 2-3 minutes (most of it pip).  Set ``COURSE_DATA_DIR``/``COURSE_OFFLINE`` as for the
other tests: postBuild then pre-fetches nothing from the network.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

NOTEBOOK = "release/week2_loss_sgd/04_playground.ipynb"   # student notebook, nothing to solve


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _run(cmd, *, env, cwd, timeout, what):
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - t0
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)     # no terminal colours
    assert proc.returncode == 0, f"{what} failed (exit {proc.returncode}) after {took:.0f} s:\n{out[-6000:]}"
    print(f"{what}: {took:.1f} s")
    return out


def test_binder_environment_runs_a_student_notebook(tmp_path):
    t_start = time.monotonic()
    # what Binder checks out: the repository without local environments and artefacts
    checkout = tmp_path / "repo"
    shutil.copytree(REPO, checkout, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".cache", "artifacts", "__pycache__", "*.egg-info", ".ipynb_checkpoints",
        "gradebook.db", "submitted", "autograded", "feedback", ".pytest_cache", "benchmarks"))
    venv = tmp_path / "venv"
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTHON", "JUPYTER", "KERAS", "MPL"))}
    # (PIP_* stay: this machine's pip finds torch 2.13.0, CPU build, through them)
    env.update(
        PATH=os.pathsep.join([str(venv / "bin"), env.get("PATH", "/usr/bin:/bin")]),
        VIRTUAL_ENV=str(venv), HOME=str(home),
        # the extra index (PyTorch's CPU wheels) is unreachable here: fail fast, never retry
        PIP_RETRIES="0", PIP_TIMEOUT="5", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_PROGRESS_BAR="off",
        COURSE_CACHE_DIR=str(tmp_path / "cache"),
    )
    py = str(venv / "bin" / "python")
    # 1. a fresh virtual environment from the machine's python3 (not this test's environment)
    _run(["python3", "-m", "venv", str(venv)], env=env, cwd=tmp_path, timeout=300, what="python3 -m venv")

    # 2. repo2docker: pip install -r binder/requirements.txt, from the repository root
    _run([py, "-m", "pip", "install", "-r", "binder/requirements.txt"], env=env, cwd=checkout,
         timeout=1200, what="pip install -r binder/requirements.txt")
    # 3. postBuild
    _run(["bash", "binder/postBuild"], env=env, cwd=checkout, timeout=600, what="binder/postBuild")

    # the pinned versions, torch the CPU build
    freeze = subprocess.run([py, "-m", "pip", "list", "--format=json"], env=env, capture_output=True,
                            text=True, check=True).stdout
    installed = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(freeze)}
    pins = _pins()
    wrong = {name: (installed[name], want) for name, want in pins.items()
             if name in installed and installed[name].split("+")[0] != want}
    assert not wrong, f"Binder's environment differs from constraints.txt (installed, pinned): {wrong}"
    asked = [re.split(r"[<>=\[ ;]", ln.strip())[0].lower() for ln in
             (REPO / "binder" / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith(("#", "-"))]
    missing = [n for n in asked if n not in installed]
    assert not missing, f"binder/requirements.txt asks for {missing} but they are not installed"
    import tomllib
    needs = [re.split(r"[<>=!~\[ ;]", d)[0].lower()
             for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]]
    assert not [n for n in needs if n not in asked], \
        f"pyproject.toml's dependencies missing from binder/requirements.txt (postBuild installs the course " \
        f"with --no-deps): {[n for n in needs if n not in asked]}"
    unpinned = [n for n in asked if n not in pins]
    assert not unpinned, f"binder/requirements.txt names {unpinned}, which constraints.txt does not pin"
    # what constraints.txt pins for the students' notebooks is all there (test tools are not needed)
    for name in ("torch", "keras", "numpy", "scipy", "matplotlib", "ipywidgets", "jupyterlab-widgets",
                 "jupyterlab", "notebook", "ipykernel", "jupyter-server", "nbgrader", "nbclient", "pooch",
                 "mlxtend", "tqdm"):
        if name in pins:
            assert installed.get(name, "").split("+")[0] == pins[name], (name, installed.get(name), pins[name])
    assert installed["torch"].endswith("+cpu") or "nvidia-cudnn-cu12" not in installed, installed["torch"]
    assert not [n for n in installed if n.startswith("nvidia-")], "CUDA libraries installed: not the CPU build"
    assert "intro-dl-course" in installed, "postBuild did not install the course package"

    # Keras' backend: through postBuild's keras.json alone (no start, no KERAS_BACKEND) ...
    keras_json = json.loads((home / ".keras" / "keras.json").read_text())
    assert keras_json["backend"] == "torch"
    backend = _run([py, "-c", "import keras; print(keras.config.backend())"], env=env, cwd=tmp_path,
                   timeout=300, what="keras backend (keras.json)").strip().splitlines()[-1]
    assert backend == "torch"
    # ... and through binder/start, as Binder launches the session
    backend = _run(["bash", str(checkout / "binder" / "start"), py, "-c",
                    "import os, keras; print(os.environ['KERAS_BACKEND'], keras.config.backend())"],
                   env=dict(env, HOME=str(tmp_path)), cwd=tmp_path, timeout=300,
                   what="keras backend (start)").strip().splitlines()[-1]
    assert backend == "torch torch"

    # JupyterLab in that environment has the course's extensions
    labext = _run([py, "-m", "jupyter", "labextension", "list"], env=env, cwd=checkout, timeout=300,
                  what="jupyter labextension list")
    assert "@jupyter/nbgrader" in labext and "@jupyter-widgets/jupyterlab-manager" in labext, labext
    serverext = _run([py, "-m", "jupyter", "server", "extension", "list"], env=env, cwd=checkout, timeout=300,
                     what="jupyter server extension list")
    assert re.search(r"nbgrader\.server_extensions\.validate_assignment\s+enabled", serverext), serverext

    # 4. a student notebook, executed by the new environment's Jupyter, under binder/start; one cell
    #    appended to report which Python ran the kernel and Keras' backend there
    nb = nbformat.read(checkout / NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, keras\nprint('BINDER-CHECK', sys.prefix, keras.config.backend())"))
    work = checkout / Path(NOTEBOOK).parent
    nbformat.write(nb, work / "binder_check.ipynb")
    _run(["bash", str(checkout / "binder" / "start"), py, "-m", "jupyter", "nbconvert", "--to", "notebook",
          "--execute", "--ExecutePreprocessor.timeout=600", "--output", "binder_check.out.ipynb",
          "binder_check.ipynb"], env=env, cwd=work, timeout=900, what=f"nbconvert --execute {NOTEBOOK}")
    done = nbformat.read(work / "binder_check.out.ipynb", as_version=4)
    code = [c for c in done.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]
    assert all(c.execution_count for c in code), "not every cell ran"
    last = "".join(o.get("text", "") for o in code[-1].outputs)
    assert f"BINDER-CHECK {venv}" in last and last.strip().endswith("torch"), last
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in code for o in c.outputs), \
        "the playground widget was not displayed"
    print(f"Binder build and notebook run: {time.monotonic() - t_start:.0f} s in all")
