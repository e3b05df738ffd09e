"""The sandbox's watchdog, on the host: what one sandbox's processes use, against its limits.

The kernel wrapper (:mod:`autograder.sandbox.kernel`) asks it every 0.25 s (processes, memory,
time) and every second (disk), and stops the whole sandbox when it gives a reason: the reason is
what the student reads in place of the cell's output.
"""
from __future__ import annotations

import os
import time

import psutil

INTERRUPT_GRACE = 2.0  # nbclient waits 4 s (iopub_timeout) for the interrupted cell to end


class Watchdog:
    """Limits of one sandbox, checked from outside: tasks, memory, time per notebook, an
    interrupted cell that does not stop, and disk written (the private folder's growth)."""

    def __init__(self, limits, private: str) -> None:
        self.limits = limits
        self.private = private
        self.work_start = du(private)
        self.pss_due = 0.0  # when the processes' PSS may be read again (see verdict)

    def verdict(self, procs: list, started: float, interrupted_at: float | None, pending: bool) -> str:
        """Why the sandbox must be stopped now ('' if it may go on): ``procs`` are its processes,
        ``started`` when the notebook started, ``interrupted_at`` when nbgrader interrupted a cell
        that is still ``pending``."""
        limits = self.limits
        if time.monotonic() - started > limits.notebook_timeout:
            return f"the notebook ran for more than {limits.notebook_timeout} s"
        if interrupted_at and pending and time.monotonic() - interrupted_at > INTERRUPT_GRACE:
            return ("a cell ran longer than the time limit and did not stop when interrupted "
                    "(an endless loop that catches KeyboardInterrupt?)")
        # tasks first (cheap), then memory: resident memory of all processes; when the kernel has
        # forked, the proportional share (PSS), so that pages shared after fork() count once
        tasks, infos = 0, []
        for p in procs:
            try:
                tasks += p.num_threads()
                infos.append(p)
            except psutil.Error:
                continue
        if tasks >= limits.processes:
            return f"it started more than {limits.processes} processes or threads (a fork bomb?)"
        limit, used = limits.memory_mb * 2**20, 0
        for p in infos:
            try:
                used += p.memory_info().rss
            except psutil.Error:
                continue
        if used > limit and len(infos) > 4 and time.monotonic() >= self.pss_due:
            # more than bwrap, its init and the kernel (or a warm kernel's slot): they may share
            # pages; PSS counts each once, but reading it costs about 25 ms per process that has
            # torch imported.  So the wrapper (which forwards every message) reads it for 0.3 s at
            # most, counts the processes it did not reach as the average of those it did, and
            # reads it at most a tenth of the time (a fork bomb is stopped by the task count).
            start, used, seen = time.monotonic(), 0, 0
            for p in infos:
                if time.monotonic() - start > 0.3:
                    break
                try:
                    used += p.memory_full_info().pss
                    seen += 1
                except (psutil.Error, AttributeError):
                    continue
            used = used * len(infos) // max(1, seen)
            self.pss_due = time.monotonic() + 9 * (time.monotonic() - start)
        elif used > limit and len(infos) > 4:
            return ""  # PSS read too recently: no verdict from RSS, which counts shared pages again
        if used > limit:
            return (f"it used more than {limits.memory_mb} MB of memory (use smaller arrays; "
                    "do not keep copies in a loop)")
        return ""

    def disk_verdict(self) -> str:
        """Why the sandbox must be stopped for what it wrote ('' if it may go on)."""
        if du(self.private) - self.work_start > self.limits.disk_mb * 2**20:  # working copy + ipc folder
            return f"it wrote more than {self.limits.disk_mb} MB of files"
        return ""


def du(path: str) -> int:
    """Bytes of disk the files under ``path`` take."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total

