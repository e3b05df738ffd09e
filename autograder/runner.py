"""The one way to run an nbgrader command: as a fork of a process that has imported nbgrader
(:mod:`autograder.zygote`), or as a new ``python -m nbgrader``; with a wall-clock limit that kills
the whole process tree (kernels included), in the environment :func:`nbgrader_env` gives.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message holds its output (``output``: all of it)."""

    output: str = ""


def nbgrader_env(**extra: str) -> dict[str, str]:
    """The environment to run nbgrader in: this Python's bin first on PATH (nbgrader runs
    alembic and kernels from there), Keras on torch, no bytecode files; plus ``extra``."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("KERAS_BACKEND", "torch")
    env.update(extra)
    return env


def run_nbgrader(args: list[str], cwd: Path, env: dict, timeout: float) -> tuple[int, str, bool]:
    """(exit code, output, timed out) of ``nbgrader ARGS`` run in ``cwd`` with exactly ``env``;
    on time-out its whole process tree (kernels included) is killed.

    It runs as a fork of :mod:`autograder.zygote`, which has imported nbgrader once (2-3 s
    saved per run), or as ``python -m nbgrader ARGS`` if ``COURSE_AUTOGRADE_FORK=0`` or the
    zygote cannot be used here.
    """
    if os.environ.get("COURSE_AUTOGRADE_FORK", "1") != "0" and hasattr(os, "fork"):
        from autograder import zygote

        try:
            return zygote.run(args, cwd, env, timeout, on_timeout=kill_tree)
        except zygote.ZygoteError as err:
            sys.stderr.write(f"autograde: {err}; running nbgrader as a new process instead\n")
    return run_command([sys.executable, "-m", "nbgrader", *args], cwd, env, timeout)


def run_command(cmd: list[str], cwd: Path, env: dict, timeout: float) -> tuple[int, str, bool]:
    """(exit code, output, timed out) of a command; on time-out its whole process tree is killed."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out.decode(errors="replace"), False
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
        out, _ = proc.communicate()
        return proc.returncode, out.decode(errors="replace"), True


def kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (Jupyter kernels start their own sessions)."""
    try:
        import psutil

        try:
            family = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        for p in family:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
    except ImportError:
        pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def last_error(log: str) -> str:
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "[ERROR]" in ln or "Error" in ln]
    return (errors or lines or ["no output"])[-1][:500]


def nbgrader(cwd: Path, *args: str, env: dict | None = None, timeout: float = 1800) -> str:
    """Run ``nbgrader ARGS`` in ``cwd`` (environment: :func:`nbgrader_env`, or ``env``); return
    its output, or raise :class:`NbgraderError` with it."""
    code, output, timed_out = run_nbgrader(list(args), Path(cwd), env if env is not None else nbgrader_env(), timeout)
    if code != 0 or timed_out:
        # nbgrader logs the traceback where it happened and a summary at the end: show both
        tb = output.find("Traceback (most recent call last)")
        first = output[tb:tb + 3000] + "\n[...]\n" if 0 <= tb < len(output) - 3000 else ""
        why = f"ran out of time ({timeout:g} s)" if timed_out else f"failed (exit {code})"
        err = NbgraderError(f"`nbgrader {' '.join(args)}` {why}:\n{first}{output[-3000:]}")
        err.output = output
        raise err
    return output
