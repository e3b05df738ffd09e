"""What the tests that start servers share: a free port, a record of the processes a server
started (so that a test can prove none of them outlives its teardown), and a Jupyter server
with nbgrader's Formgrader in a course root."""
from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def note_children(pid: int, seen: dict[int, float]) -> None:
    """Add every process now under ``pid`` to ``seen`` (pid -> creation time)."""
    try:
        for p in psutil.Process(pid).children(recursive=True):
            try:
                seen.setdefault(p.pid, p.create_time())
            except psutil.NoSuchProcess:
                pass
    except psutil.NoSuchProcess:
        pass


def alive(seen: dict[int, float]) -> list[int]:
    """The processes of ``seen`` still running (the same process: its creation time matches)."""
    out = []
    for pid, created in seen.items():
        try:
            p = psutil.Process(pid)
            if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


class Server:
    """A running Jupyter server (see :func:`formgrader`): its address, token and log."""

    def __init__(self, base: str, token: str, logfile) -> None:
        self.base, self.token, self.logfile = base, token, logfile

    def post(self, path: str, timeout: float = 300) -> dict:
        """POST to ``path`` (under the server's base URL) as its user; the JSON reply."""
        import requests  # a dependency of jupyterhub, in the test environment

        r = requests.post(f"{self.base}/{path.lstrip('/')}", headers={"Authorization": f"token {self.token}"},
                          timeout=timeout)
        r.raise_for_status()
        return r.json()

    def log(self) -> str:
        self.logfile.flush()
        return Path(self.logfile.name).read_text(errors="replace")


@contextlib.contextmanager
def formgrader(course_root: Path, env: dict[str, str], start_timeout: float = 120):
    """A Jupyter server started in ``course_root`` with ``env``, as an instructor starts one for
    nbgrader's Formgrader (nbgrader's server extensions are enabled by its installation; the
    Formgrader reads ``nbgrader_config.py`` from the folder the server starts in).  Yields a
    :class:`Server`; afterwards the server and everything it started are gone."""
    import requests

    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--IdentityProvider.token={token}", *(["--allow-root"] if os.geteuid() == 0 else [])]
    with tempfile.NamedTemporaryFile("w+", prefix="formgrader-", suffix=".log") as logfile:
        proc = subprocess.Popen(cmd, cwd=course_root, env=env, stdout=logfile, stderr=subprocess.STDOUT)
        seen: dict[int, float] = {}
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + start_timeout
            while True:
                assert proc.poll() is None, f"the Jupyter server ended:\n{Path(logfile.name).read_text()[-3000:]}"
                try:
                    if requests.get(f"{base}/api/status", headers={"Authorization": f"token {token}"},
                                    timeout=5).ok:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, f"no Jupyter server after {start_timeout} s"
                time.sleep(0.25)
            yield Server(base, token, logfile)
        finally:
            note_children(proc.pid, seen)
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            for pid in alive(seen):
                psutil.Process(pid).kill()
