"""Run the kernels of ``nbgrader autograde`` in a bubblewrap sandbox.

Student code runs with the rights of whoever runs nbgrader, unless it is
contained.  The course's ``nbgrader_config.py`` grades with
:class:`autograder.preprocessors.SandboxedExecute`, so every kernel that ``nbgrader autograde``,
the Formgrader or the batch grader starts is the kernel spec ``course-sandbox``, which the
package keeps in ``kernels/course-sandbox/kernel.json`` (:func:`kernel_specs`).  Its ``argv`` is
``python -I -m autograder.sandbox.kernel {connection_file}``; the wrapper reads its limits
and a few settings from the environment nbgrader passes on (:func:`kernel_env`), starts the real
IPython kernel inside ``bwrap`` and stays in between (see :mod:`autograder.sandbox.kernel`)::

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

from pathlib import Path

from autograder.sandbox.bwrap import anchor_data_dir, available, privileged, probe, require
from autograder.sandbox.limits import Limits, SandboxError
from autograder.sandbox.warm import WarmKernels, warm_kernels_possible

__all__ = ["KERNEL_NAME", "LIMITS_ENV", "Limits", "OPT_OUT", "SandboxError", "WarmKernels", "anchor_data_dir", "available", "kernel_env",
           "kernel_specs", "nbgrader_args", "privileged", "probe", "require", "warm_kernels_possible"]
KERNEL_NAME = "course-sandbox"
KERNELS_DIR = Path(__file__).with_name("kernels")
LIMITS_ENV = "COURSE_SANDBOX_LIMITS"  # the kernel wrapper's limits (JSON of Limits)
OPT_OUT = "c.SandboxedExecute.sandbox = False"  # the one setting that grades outside the sandbox


def kernel_specs():
    """A KernelSpecManager that finds the sandbox's kernel spec where the package keeps it
    (``kernels/course-sandbox/kernel.json``): installed with the environment, found without a
    ``jupyter kernelspec install``, and nothing written at grading time."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager(kernel_dirs=[str(KERNELS_DIR)], ensure_native_kernel=False)


def kernel_env(limits: Limits | None = None, workdir: Path | None = None, warm: str | None = None) -> dict[str, str]:
    """The environment variables the kernel wrapper reads (a kernel inherits nbgrader's environment):
    ``limits`` (else those of ``SandboxedExecute.limits`` in nbgrader_config.py), ``workdir`` (where the
    wrappers make their private folders; else ``$TMPDIR``) and ``warm`` (the socket of a
    :class:`WarmKernels` server; its forks are the kernels)."""
    env = {}
    if limits is not None:
        env[LIMITS_ENV] = limits.to_json()
    if workdir is not None:
        env["COURSE_SANDBOX_TMP"] = str(Path(workdir).resolve())
    if warm:
        env["COURSE_WARM_KERNEL"] = warm
    return env


def nbgrader_args(limits: Limits | None = None, workdir: Path | None = None,
                  warm: str | None = None) -> tuple[list[str], dict[str, str]]:
    """Extra command-line arguments and environment variables for ``nbgrader autograde`` in a course
    root whose ``nbgrader_config.py`` grades with :class:`autograder.preprocessors.SandboxedExecute`:
    the sandbox on even if the course opted out, and :func:`kernel_env`.  Merge the environment
    into ``os.environ``.  The grading rules (cell time limit, interrupting, missing cells) are the
    course's, in its ``nbgrader_config.py``.

    Raises:
        SandboxError: bwrap is missing or cannot create sandboxes here.
    """
    require()
    return ["--SandboxedExecute.sandbox=True"], kernel_env(limits, workdir, warm)
