"""Run the kernels of ``nbgrader autograde`` in a bubblewrap sandbox.

Student code runs with the rights of whoever runs nbgrader, unless it is
contained.  :func:`nbgrader_args` returns the extra command-line arguments and
environment for ``nbgrader autograde`` so that every kernel it starts is the
kernel spec ``course-sandbox``, whose ``argv`` is
``python -m autograder.sandbox.kernel --limits JSON {connection_file}``.  That
wrapper (outside the sandbox) starts the real IPython kernel inside
``bwrap`` and stays in between (see :mod:`autograder.sandbox.kernel`)::

    nbgrader --tcp 127.0.0.1--> sandbox.kernel (wrapper) --ipc (unix sockets)--> bwrap: ipykernel

What the kernel inside sees (:func:`bwrap_command`):

* **no network**: ``--unshare-net`` (a new network namespace with only a
  loopback device of its own), plus new pid, ipc, uts and cgroup namespaces;
* **read-only system**: ``/usr`` (and ``/bin``, ``/lib``... as on the host),
  a few files of ``/etc``, the Python installation, the virtual environment
  and the ``course`` package, and the staged data ``$COURSE_DATA_DIR``, all
  read-only.  Nothing else of the host exists in the sandbox: not ``source/``,
  ``release/``, ``gradebook.db``, ``autograder/``, other students' folders,
  ``/root`` or ``/home``;
* **private, writable** (and watched or size-limited): a copy of the notebook's folder (nbgrader's
  ``autograded/<student>/<assignment>``) mounted where the folder is, so
  relative paths work; it is thrown away afterwards, so nothing the student
  writes (files, symlinks) reaches the folders nbgrader writes to.  ``/tmp`` is
  a tmpfs of limited size, with ``HOME=/tmp/home``; ``MPLCONFIGDIR`` and the
  course's cache folder are under it; ``/dev/shm`` is a tmpfs of limited size too;
* **an unprivileged user**: run as root, the kernel drops to a uid of its own
  (so ``RLIMIT_NPROC`` applies: the kernel ignores it for root); run as
  another user, bwrap maps that user into a new user namespace;
* **limits** (:class:`Limits`): ``RLIMIT_CPU``, ``RLIMIT_NPROC``,
  ``RLIMIT_FSIZE``, ``RLIMIT_AS`` (generous: torch reserves far more address
  space than it uses), ``RLIMIT_CORE=0``; the wrapper's watchdog kills the
  sandbox above ``memory_mb`` of resident memory, ``processes`` processes or
  too much disk written, and after ``notebook_timeout`` seconds.

**Warm kernels** (:class:`WarmKernels`, as root): the batch grader starts a server that has
imported what the kernels need; a kernel is then a fork of it that joins a sandbox built exactly
as above (with a placeholder where the kernel would be) before it runs anything of the student's.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from autograder.sandbox.bwrap import available, privileged, probe, require
from autograder.sandbox.limits import Limits, SandboxError
from autograder.sandbox.warm import WarmKernels, warm_kernels_possible

__all__ = ["KERNEL_NAME", "Limits", "SandboxError", "WarmKernels", "available", "nbgrader_args", "privileged", "probe",
           "require", "warm_kernels_possible"]
KERNEL_NAME = "course-sandbox"


def nbgrader_args(limits: Limits | None = None, workdir: Path | None = None,
                  warm: str | None = None) -> tuple[list[str], dict[str, str]]:
    """Extra command-line arguments and environment variables for ``nbgrader autograde``
    so that every kernel it starts runs sandboxed.

    Writes the kernel spec ``course-sandbox`` into ``workdir`` (a new temporary folder if
    None; it must outlive the nbgrader run) and returns
    ``(['--Execute.kernel_name=course-sandbox'], {'JUPYTER_PATH': ...})``.  The grading rules
    (cell time limit, interrupting, missing cells) are the course's, in its ``nbgrader_config.py``.
    Merge the environment into ``os.environ`` (JUPYTER_PATH is prepended to any existing one).
    ``warm``: the socket of a :class:`WarmKernels` server; the kernels are its forks.

    Raises:
        SandboxError: bwrap is missing or cannot create sandboxes here.
    """
    require()
    limits = limits or Limits()
    workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="course-sandbox-spec-"))
    spec_dir = workdir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        # -I: not the notebook's folder (the wrapper's cwd, the student's files) on sys.path, so a
        # submitted autograder/ package cannot stand in for the wrapper, which runs outside the sandbox
        # IPython's input history: no use to a grading kernel, and an SQLite write after every cell
        "argv": [sys.executable, "-I", "-m", "autograder.sandbox.kernel", "--limits", limits.to_json(),
                 "{connection_file}", "--HistoryManager.enabled=False"],
        "display_name": "Python 3 (course sandbox)",
        "language": "python",
        "interrupt_mode": "signal",
        # the wrapper (outside the sandbox) imports autograder from this environment, as installed;
        # the kernel inside gets a clean environment
        "env": {  # the wrapper's private folder (working copy, sockets) goes in here
                "COURSE_SANDBOX_TMP": str(workdir.resolve()),
                **({"COURSE_WARM_KERNEL": warm} if warm else {})},
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    jupyter_path = os.pathsep.join(filter(None, [str(workdir), os.environ.get("JUPYTER_PATH", "")]))
    return [f"--Execute.kernel_name={KERNEL_NAME}"], {"JUPYTER_PATH": jupyter_path}


