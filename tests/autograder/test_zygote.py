"""nbgrader started as forks of one process that imported it (autograder.zygote): each run
is as isolated as ``python -m nbgrader``: its own folder, environment, session and log, and a
run that hangs is killed with its whole process tree."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from autograder import zygote
from autograder.runner import kill_tree, nbgrader_env, run_nbgrader

# The tests marked slow start the fork server and nbgrader in it.

# a course config is Python that nbgrader runs at start-up: it reports where and how it runs
SPY = textwrap.dedent("""
    import json, os, sys
    json.dump({"env": dict(os.environ), "cwd": os.getcwd(), "pid": os.getpid(), "sid": os.getsid(0),
               "argv": sys.argv}, open("seen.json", "w"))
    print("config read")
    if os.environ.get("SPY_HANG"):
        import subprocess, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
        time.sleep(600)
""")


@pytest.fixture
def course(tmp_path) -> Path:
    (tmp_path / "nbgrader_config.py").write_text(SPY)
    return tmp_path


def _env(**extra) -> dict:
    # PATH as the grader sets it: nbgrader runs alembic from the environment's bin folder
    return {"PATH": nbgrader_env()["PATH"], "ZYGOTE_TEST": "yes", **extra}


@pytest.mark.slow
def test_a_run_has_its_own_folder_environment_session_and_log(course):
    code, log, timed_out = zygote.run(["db", "student", "list"], course, _env(), 120, on_timeout=kill_tree)
    seen = json.loads((course / "seen.json").read_text())
    assert (code, timed_out) == (0, False), log
    assert "config read" in log  # stdout and stderr of the run are its log
    assert seen["cwd"] == str(course)
    assert seen["env"] == _env(), "the run must see exactly the environment it was given"
    assert seen["sid"] == seen["pid"], "the run must lead a session of its own (killed as a whole)"
    assert seen["argv"][1:] == ["-m", "nbgrader", "db", "student", "list"]


@pytest.mark.slow
def test_the_zygote_is_started_once_and_reused(course):
    zygote.run(["db", "student", "list"], course, _env(), 120, on_timeout=kill_tree)
    first = zygote._zygote[0].pid
    code, log, _ = zygote.run(["db", "student", "list"], course, _env(), 120, on_timeout=kill_tree)
    assert code == 0, log
    assert zygote._zygote[0].pid == first
    assert json.loads((course / "seen.json").read_text())["pid"] != first


@pytest.mark.slow
def test_exit_code_and_error_of_a_failing_run(course):
    code, log, timed_out = run_nbgrader(["autograde", "no_such_assignment"], course, _env(), 120)
    assert code != 0 and not timed_out
    assert "no_such_assignment" in log


@pytest.mark.slow
def test_a_hanging_run_is_killed_with_its_children(course):
    start = time.monotonic()
    code, log, timed_out = zygote.run(["db", "student", "list"], course, _env(SPY_HANG="1"), 5,
                                      on_timeout=kill_tree)
    assert timed_out and code == zygote.KILLED
    assert time.monotonic() - start < 30
    time.sleep(0.5)
    pid = json.loads((course / "seen.json").read_text())["pid"]
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    sleepers = [p for p in psutil.process_iter(["cmdline"]) if "time.sleep(600)" in " ".join(p.info["cmdline"] or [])]
    assert not sleepers, "a child of the killed run survived"


@pytest.mark.slow
def test_the_zygote_ends_with_the_process_that_started_it(course):
    script = ("import sys; from autograder import zygote; from autograder.runner import kill_tree; "
              f"zygote.run(['db', 'student', 'list'], {str(course)!r}, {{'PATH': {_env()['PATH']!r}}}, 120, "
              "kill_tree); print(zygote._zygote[0].pid)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    pid = int(out.stdout.strip().splitlines()[-1])
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the zygote outlived the grader"
        time.sleep(0.1)


@pytest.mark.slow
def test_without_the_zygote_nbgrader_is_a_new_process(course, monkeypatch):
    monkeypatch.setenv("COURSE_AUTOGRADE_FORK", "0")
    before = zygote._zygote
    code, log, _ = run_nbgrader(["db", "student", "list"], course, _env(), 120)
    seen = json.loads((course / "seen.json").read_text())
    assert code == 0, log
    assert seen["env"]["ZYGOTE_TEST"] == "yes" and seen["sid"] == seen["pid"]
    assert zygote._zygote is before


@pytest.mark.slow
def test_a_new_gradebook_is_stamped_as_nbgraders_alembic_stamps_it(course, monkeypatch):
    """nbgrader stamps a gradebook it creates with the head revision of its migrations, which it asks a
    new `alembic heads` process for; a fork of the zygote knows it already: the same revision, and no
    alembic on PATH needed."""
    import sqlite3

    from nbgrader.api import get_alembic_version

    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])
    asked = get_alembic_version()  # nbgrader's own question to an alembic process
    assert asked and asked == zygote.alembic_head()
    code, log, _ = zygote.run(["db", "student", "add", "alice"], course, {"PATH": "/usr/bin:/bin"}, 120,
                              on_timeout=kill_tree)
    assert code == 0, log
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(asked,)]
        assert db.execute("SELECT id FROM student").fetchall() == [("alice",)]


def test_a_pid_and_an_exit_code_that_come_together_are_two_answers():
    """A run that ends at once sends its pid and exit code in one piece (seen in a loaded run: the
    pid read as '14304\\n0', the zygote taken for broken and nbgrader run a second time)."""
    import socket

    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b"14304\n0\n")
        theirs.shutdown(socket.SHUT_WR)
        lines = zygote.Lines(ours)
        assert [lines.read(), lines.read(), lines.read()] == ["14304\n", "0\n", ""]


def test_the_notebook_validators_are_built_before_any_fork():
    """Every fork reads and validates notebooks: the zygote builds the validator of every minor
    version of nbformat 4 once, so that no fork compiles one again."""
    import nbformat.v4

    built = {(key[1], key[2]) for key in zygote.warm_validators()}
    assert {(4, minor) for minor in range(nbformat.v4.nbformat_minor + 1)} <= built
