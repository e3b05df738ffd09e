"""Start ``nbgrader`` commands as forks of one process that has imported nbgrader already.

``python -m nbgrader autograde ...`` spends 2-3 s importing nbgrader (its exchange, nbconvert,
sqlalchemy, ...) before it grades anything: more than a small notebook takes.  Batch grading
starts one such command per student and assignment, so that one student's crash or time-out
cannot touch another's grading.  The zygote keeps that isolation and drops the import: it is
one long-lived process (per grading process) that imports nbgrader once, builds nbformat's
notebook validators (:func:`warm_validators`) and listens on a unix socket in a private folder;
for each request it forks a child that

* starts a session of its own (killed as a whole, with its kernels, on time-out),
* sends its pid back, redirects its output to the request's log file, changes to the
  request's folder and replaces its environment with the request's,
* runs ``NbGraderApp.launch_instance(args)``, exactly what ``python -m nbgrader ARGS`` runs,
* sends its exit code back and exits.

A child killed (time-out, out of memory) sends no exit code: :func:`run` reports it as killed.
The zygote imports nothing else (but alembic's script reader, :func:`alembic_head`), runs no
thread, and exits when the process that started it exits (its stdin, a pipe from that process,
closes).

One answer is given to every fork: the head revision of nbgrader's gradebook migrations.
nbgrader stamps each gradebook it creates with it, and asks a new ``alembic heads`` process for
it each time (``nbgrader.api.get_alembic_version``): a new Python that imports nbgrader again,
2.5 s of CPU here, for the first command in every new course root.  The zygote reads it once,
as that command does, in a few milliseconds (:func:`alembic_head`).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PRELOAD = ("nbgrader.apps.nbgraderapp",)
KILLED = -signal.SIGKILL


class ZygoteError(RuntimeError):
    """The zygote could not be started or did not answer."""


# ---------------------------------------------------------------------------------------------
# the zygote process

def warm_validators() -> list[tuple]:
    """Build nbformat's notebook validator for every minor version of format 4, here, once.

    nbgrader validates every notebook it reads; the first validation in a process compiles the
    JSON schema into Python (fastjsonschema: 25-35 ms here), which every fork would do
    again.  Returns the keys of nbformat's validator cache, as nbformat made them."""
    import nbformat.v4
    from nbformat import validator

    for minor in range(nbformat.v4.nbformat_minor + 1):
        validator.get_validator(version=4, version_minor=minor)
    return list(validator.validators)


def alembic_head() -> str | None:
    """The head revision of nbgrader's gradebook migrations, as ``alembic heads`` reads it (the script
    folder of nbgrader's own alembic.ini; nbgrader takes the first head), but in this process, which
    has imported nbgrader already; None if alembic cannot tell (then nbgrader asks as it always does)."""
    try:
        from alembic.config import Config
        from alembic.script import ScriptDirectory
        from nbgrader.dbutil import _temp_alembic_ini

        with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:   # the URL nbgrader's question uses
            heads = ScriptDirectory.from_config(Config(ini)).get_heads()
        return heads[0] if heads else None
    except Exception:  # noqa: BLE001
        return None


def _serve(path: str) -> None:
    for name in PRELOAD:
        __import__(name)
    warm_validators()
    head = alembic_head()
    if head:
        import nbgrader.api

        nbgrader.api.get_alembic_version = lambda: head   # for the gradebooks the forks create
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    print("ready", flush=True)
    import select

    while True:
        ready, _, _ = select.select([server, sys.stdin], [], [])
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
            return  # the grader has gone
        if server in ready:
            conn, _ = server.accept()
            if os.fork() == 0:
                server.close()
                _child(conn)  # never returns
            conn.close()


def _child(conn: socket.socket) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # nbgrader waits for its kernels
        os.setsid()
        request = json.loads(Lines(conn).read())
        conn.sendall(f"{os.getpid()}\n".encode())
        fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [sys.executable, "-m", "nbgrader", *request["args"]]
        from nbgrader.apps.nbgraderapp import NbGraderApp

        try:
            NbGraderApp.launch_instance(request["args"])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 (reported in the log, as the interpreter would)
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        try:
            conn.sendall(f"{code}\n".encode())
        except OSError:
            pass
        os._exit(code)


class Lines:
    """The lines that come over a socket, one per :meth:`read`: two can come in one piece (a run that
    ends as soon as it starts sends its pid and its exit code at once).  A read that times out keeps
    what came so far, for the next."""

    def __init__(self, conn: socket.socket):
        self.conn, self.data = conn, b""

    def read(self) -> str:
        """The next line, with its newline; what is left if the other end closes first ('' if nothing)."""
        while b"\n" not in self.data:
            chunk = self.conn.recv(65536)
            if not chunk:
                rest, self.data = self.data, b""
                return rest.decode()
            self.data += chunk
        line, _, self.data = self.data.partition(b"\n")
        return line.decode() + "\n"


# ---------------------------------------------------------------------------------------------
# the client side

_lock = threading.Lock()
_zygote: tuple[subprocess.Popen, str, str] | None = None  # process, socket path, folder


def _start() -> tuple[subprocess.Popen, str, str]:
    global _zygote
    with _lock:
        if _zygote is not None and _zygote[0].poll() is None:
            return _zygote
        folder = tempfile.mkdtemp(prefix="nbgrader-zygote-")  # 0700: only this user may connect
        path = os.path.join(folder, "socket")
        proc = subprocess.Popen([sys.executable, "-m", "autograder.zygote", path], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, start_new_session=True)
        line = proc.stdout.readline().strip()  # waits for the imports
        if line != "ready":
            proc.kill()
            raise ZygoteError(f"the nbgrader zygote did not start (exit code {proc.wait()})")
        _zygote = (proc, path, folder)
        return _zygote


def run(args: list[str], cwd: Path, env: dict, timeout: float, on_timeout) -> tuple[int, str, bool]:
    """(exit code, output, timed out) of ``nbgrader ARGS`` in ``cwd`` with exactly ``env``.

    ``on_timeout(pid)`` must kill the child's process tree; the exit code of a killed child
    is ``-SIGKILL``.  Raises :class:`ZygoteError` if the zygote cannot be reached.
    """
    try:
        _, path, folder = _start()
    except OSError as err:
        raise ZygoteError(f"the nbgrader zygote did not start: {err}") from err
    log = tempfile.NamedTemporaryFile(prefix="nbgrader-", suffix=".log", dir=folder, delete=False)
    log.close()
    deadline = time.monotonic() + timeout
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(path)
                conn.sendall((json.dumps({"args": list(args), "cwd": str(cwd), "env": dict(env),
                                          "log": log.name}) + "\n").encode())
                conn.settimeout(60)
                lines = Lines(conn)
                pid = int(lines.read())
            except (OSError, ValueError) as err:
                raise ZygoteError(f"the nbgrader zygote did not answer: {err}") from err
            timed_out = False
            conn.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                answer = lines.read()
            except TimeoutError:
                timed_out = True
                on_timeout(pid)
                conn.settimeout(30)
                try:
                    answer = lines.read()  # the kill closes the socket
                except TimeoutError:
                    answer = ""
        code = int(answer) if answer.strip().lstrip("-").isdigit() else KILLED
        return code, Path(log.name).read_bytes().decode(errors="replace"), timed_out
    finally:
        os.unlink(log.name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _serve(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
