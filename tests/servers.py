"""What the tests that start servers share: a free port, and a record of the processes
a server started, so that a test can prove none of them outlives its teardown."""
from __future__ import annotations

import socket

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
