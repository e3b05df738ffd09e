"""Warm kernels, the host side: the server whose forks are the kernels (its own side is
:func:`autograder.sandbox.inside.warm_server_main`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.sandbox.bwrap import (HOME, INSIDE_FILE, INSIDE_SCRIPT, WARM_DIR, bwrap_executable, bwrap_path, layout,
                                      matplotlib_folder, privileged)
from autograder.sandbox.inside import STARTED
from autograder.sandbox.limits import Limits, SandboxError

def warm_kernels_possible() -> bool:
    """Warm kernels need root (joining another sandbox's namespaces) and may be turned off with
    ``COURSE_WARM_KERNELS=0``; otherwise every kernel starts as a new Python in its sandbox."""
    return privileged() and os.environ.get("COURSE_WARM_KERNELS", "1") != "0" and bwrap_path() is not None


class WarmKernels:
    """A server whose forks are the course's kernels, warm: it has imported ipykernel, numpy,
    matplotlib, torch and Keras once (4-5 s that every grading kernel spent again).

    It runs in a sandbox of its own, laid out like a kernel's (the same read-only system, ``/tmp``,
    ``HOME`` and environment, so what the imports cached is valid inside a kernel's sandbox), but
    in the host's pid namespace and as root: it never runs student code.  For each kernel the
    wrapper (:mod:`autograder.sandbox.kernel`) builds the kernel's sandbox exactly as for a cold
    start, with a placeholder (the *slot*) in place of the kernel, and asks the server over a unix
    socket (in a 0700 folder); the server forks, the fork joins every namespace of the slot
    (``setns``: mount, pid, network, ipc, uts, cgroup) and its root folder, forks the kernel into
    the sandbox's pid namespace, which sets the same limits as a cold kernel, drops every
    capability and root, installs the integrity guard and starts ipykernel.  The kernel dies with
    the sandbox, as a cold one does.

    Use it as a context manager around a batch; :attr:`socket` is None if it could not start
    (:attr:`problem` says why) and the kernels then start cold.
    """

    def __init__(self, limits: Limits | None = None, start_timeout: float = 180.0) -> None:
        self.limits = limits or Limits()
        self.start_timeout = start_timeout
        self.socket: str | None = None
        self.problem = ""
        self.proc: subprocess.Popen | None = None
        self.folder: Path | None = None

    def __enter__(self) -> "WarmKernels":
        try:
            self.start()
        except Exception as err:  # noqa: BLE001 (cold kernels still grade correctly)
            self.problem = f"{type(err).__name__}: {err}"
            self.close()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> str:
        import select

        if not warm_kernels_possible():
            raise SandboxError("warm kernels need root and COURSE_WARM_KERNELS not set to 0")
        self.folder = Path(tempfile.mkdtemp(prefix="course-warm-"))  # 0700: only root reaches the socket
        (self.folder / "sock").mkdir(mode=0o700)
        (self.folder / "passwd").write_text("root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        (self.folder / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
        mplconfig = matplotlib_folder(self.folder / "matplotlib")
        # the environment nbgrader runs its kernels in (Keras on torch, ...), so that what the server
        # imports is what a kernel would (else, say, a kernel imports Keras again, 2 s)
        from autograder.runner import nbgrader_env

        m, _, env_args = layout(self.limits, self.folder / "passwd", mplconfig, environ=nbgrader_env())
        m.add("--bind", str(self.folder / "sock"), WARM_DIR)
        m.add("--ro-bind", str(INSIDE_FILE), INSIDE_SCRIPT)
        cmd = [bwrap_executable(), "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
               "--new-session", *env_args, *m.args, "--chdir", HOME, "--cap-add", "ALL", "--",
               sys.executable, INSIDE_SCRIPT, "--warm-server", f"{WARM_DIR}/socket"]
        log = open(self.folder / "log", "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        log.close()
        ready, _, _ = select.select([self.proc.stdout], [], [], self.start_timeout)
        line = self.proc.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            tail = (self.folder / "log").read_text(errors="replace")[-2000:]
            raise SandboxError(f"the warm-kernel server did not start ({'timed out' if not ready else 'exited'}): "
                               f"{tail.strip() or 'no output'}")
        self.socket = str(self.folder / "sock" / "socket")
        return self.socket

    def log(self) -> str:
        """The server's log: a line per kernel started, and its problems."""
        try:
            return (self.folder / "log").read_text(errors="replace") if self.folder is not None else ""
        except OSError:
            return ""

    def kernels_started(self) -> int:
        return self.log().count(STARTED + " ")

    def close(self) -> None:
        self.socket = None
        if self.proc is not None:
            try:
                self.proc.stdin.close()  # the server ends when its stdin closes
                self.proc.wait(10)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
