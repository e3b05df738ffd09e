"""Red team: hostile submissions (autograder/red_team.py) are contained by the sandbox, on each
path an instructor grades by.

Every hostile student, plus an honest correct one (``solution``) and an honest blank one
(``blank``), is graded three times, each time configured only by the course root's
``nbgrader_config.py`` (the limits below are written into it, as an instructor sets them):

* ``TestRedTeam_nbgrader``: nbgrader's own command, ``nbgrader autograde ASSIGNMENT``, once for
  the class;
* ``TestRedTeam_formgrader``: the Formgrader's Autograde button, that is its HTTP API
  (``POST /formgrader/api/submission/<assignment>/<student>/autograde``) on a Jupyter server
  started in the course root, one request per student;
* ``TestRedTeam_batch``: the batch grader (``python -m autograder autograde``); as root its
  kernels are warm (forks of ``sandbox.WarmKernels``, its default), so both
  ways of starting a kernel are attacked.

Everything is checked from outside: files, the network listener, processes, grades, and what
ended up in the autograded notebooks.  If bubblewrap is missing, these tests fail (they never skip).
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

import nbformat
import psutil
import pytest

from autograder import batch, cells, red_team, sandbox
from autograder.course_root import CourseRoot, code_cells
from autograder.red_team import ASSIGNMENT, NOTEBOOK
from autograder.runner import nbgrader_env
from tests.helpers import REPO, sha256
from tests.servers import formgrader

pytestmark = pytest.mark.slow  # grades with nbgrader's kernels

LIMITS = sandbox.Limits(memory_mb=1024, cpu_seconds=120, processes=128, file_size_mb=50, output_mb=5,
                        notebook_timeout=120)
# Memory as the sandbox's watchdog counts it, at most, for the honest solution: about 120 MB in a cold kernel
# (nbgrader's command, the Formgrader), about 390 MB in a warm one (the batch grader's: a fork of a server with
# torch and Keras imported).  These limits leave room for huge_output's 50 MB line (the kernel cuts a printed
# message going over the output cap: sandbox.inside.capped_streams; before, it held several copies of the line,
# and in a busy CI run it went over 512 MB), and the memory hog fills about 400 MB before it is stopped, not 900 MB
# (fresh pages come at 8-15 s per GB on this virtual machine, under load).
MEMORY_MB = {"nbgrader": 512, "formgrader": 512, "batch": 768}
# seconds per cell here (the course's nbgrader_config.py: 120): the endless loops end sooner (each burns a core
# until then, six times in all); long enough for the memory hog to be stopped for its memory first, and the fork
# bomb for its processes, with room to spare.  In nine whole-suite runs at 14 s, no cell but the loops' took
# more than 3 s: the hog's 1.1-1.6 s, the fork bomb's 0.4-3.0 s.  At 15 s per GB the hog's 400 MB would take
# about 6 s.  (With 1024 MB for a cold kernel, the hog filled 900 MB in 10-14 s, and 8 s per cell then
# sometimes stopped it for time instead.)
CELL_TIMEOUT = 8
HONEST = {"solution": {}, "blank": None}
MB = 2**20


def _sandbox_processes(*roots: Path) -> list[psutil.Process]:
    """Kernel wrappers, bwrap and sandboxed processes working in these folders (others may run too)."""
    out = []
    for p in psutil.process_iter(["cmdline", "uids"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if ("autograder.sandbox.kernel" in cmd or "bwrap" in cmd or "--inside" in cmd or "--warm-server" in cmd
                    or 200000 <= p.info["uids"].real < 260000) and p.cwd().startswith(tuple(map(str, roots))):
                out.append(p)
        except (psutil.Error, AttributeError):
            pass
    return out


class Listener:
    """A TCP listener on the host's 127.0.0.1 that records who connects."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[tuple] = []
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop:
            try:
                conn, addr = self.sock.accept()
                self.connections.append(addr)
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def _graded(tmp_path_factory, path: str):
    tmp = tmp_path_factory.mktemp("red_team")
    root = CourseRoot.create(tmp / "course", [ASSIGNMENT])
    with open(root.path / "nbgrader_config.py", "a") as config:  # the instructor's settings
        limits = dataclasses.replace(LIMITS, memory_mb=MEMORY_MB[path])
        config.write(f"\nc.SandboxedExecute.limits = {dataclasses.asdict(limits)!r}\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    root.generate(ASSIGNMENT)
    listener = Listener()
    secret = tmp / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a")
    attacks = red_team.attacks()
    for name, answers in HONEST.items():
        root.submit(name, ASSIGNMENT, root.student_notebooks(ASSIGNMENT, answers))
    for attack in attacks:
        answers = {k: v.replace("@ROOT@", str(root.path)).replace("@REPO@", str(REPO))
                       .replace("@PORT@", str(listener.port)) for k, v in attack.answers.items()}
        nbs = root.student_notebooks(ASSIGNMENT, answers)
        nb = nbs[NOTEBOOK]
        for grade_id, new in attack.edit_cells.items():
            cell = cells.find(nb, grade_id)
            if new is None:
                nb.cells.remove(cell)
            else:
                cell.source = new
        root.submit(attack.student, ASSIGNMENT, nbs)
    watched = {
        "source": root.path / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
        "submitted/solution": root.path / "submitted" / "solution" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
        "secret": secret,
        "bashrc": Path("/root/.bashrc"),
    }
    before = {k: sha256(p) for k, p in watched.items() if p.exists()}
    private_tmp = tmp / "tmpdir"  # where the wrappers make their private folders
    private_tmp.mkdir()
    env = nbgrader_env(TMPDIR=str(private_tmp))
    students = [*HONEST, *(a.student for a in attacks)]
    start = time.monotonic()
    if path == "batch":  # its own warm-kernel server as root, its own scratch roots (in private_tmp)
        said = io.StringIO()
        with (mock.patch.object(tempfile, "tempdir", str(private_tmp)), mock.patch.dict(os.environ, {"PATH": env["PATH"]}),
              contextlib.redirect_stderr(said)):
            # one student at a time: pytest-xdist's other worker keeps the second core busy already
            result = batch.autograde_class(root.path, ASSIGNMENT, workers=1, sandbox=True, progress=False)
        code = 1 if result.failed else 0
        log = said.getvalue() + result.summary() + "".join(r.log for r in result.students.values())
        if sandbox.warm_kernels_possible():
            assert "kernels start cold" not in said.getvalue(), said.getvalue()
    elif path == "nbgrader":
        proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=root.path, env=env,
                              capture_output=True, text=True, timeout=900)
        code, log = proc.returncode, proc.stdout + proc.stderr
    else:
        with formgrader(root.path, env) as server:
            replies = {s: server.post(f"formgrader/api/submission/{ASSIGNMENT}/{s}/autograde", timeout=300)
                       for s in students}
            log = server.log() + "".join(r.get("log", "") for r in replies.values())  # what the instructor sees
        failed = {s: r.get("error") or r.get("log", "")[-2000:] for s, r in replies.items() if not r.get("success")}
        code = 1 if failed else 0
        log += "".join(f"\n{s}: {e}" for s, e in failed.items())
    seconds = time.monotonic() - start
    listener.close()
    time.sleep(1)
    yield {
        "root": root, "code": code, "log": log, "seconds": seconds, "listener": listener, "watched": watched,
        "before": before, "grades": root.grades(ASSIGNMENT), "attacks": attacks, "private_tmp": private_tmp, "secret": secret,
    }


def _autograded(root: CourseRoot, student: str) -> nbformat.NotebookNode:
    return nbformat.read(root.path / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") if isinstance(out.get("text"), str) else "")
            parts.append(str(out.get("data", {}).get("text/plain", "")))
            parts.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
    return "\n".join(parts)


def test_bubblewrap_is_installed():
    assert sandbox.available(), f"{sandbox.probe()}"


class RedTeam:
    """Every check of one graded run.  The run is a class fixture, and each path gets a class of its
    own (below): `make test` runs pytest-xdist with --dist loadscope, which keeps a class's tests on
    one worker, so the two runs can go side by side."""

    path: str  # "nbgrader" (the command), "formgrader" (its HTTP API) or "batch" (python -m autograder autograde)

    @pytest.fixture(scope="class")
    @classmethod
    def graded(cls, tmp_path_factory):
        if not sandbox.available():
            pytest.fail(f"the sandbox cannot run here: {sandbox.probe()}")
        yield from _graded(tmp_path_factory, cls.path)

    def test_autograde_run_completes(self, graded):
        log = graded["log"]
        causes = [line for line in log.splitlines() if "error processing" in line or re.search(r"(Error|Exception)\b", line)]
        assert graded["code"] == 0, f"autograding through {self.path} failed:\n" + "\n".join(causes[-40:]) + "\n...\n" + log[-3000:]
        students = {"solution", "blank", *(a.student for a in graded["attacks"])}
        missing = students - set(graded["grades"])
        assert not missing, f"students without grades: {missing}"
        assert all(graded["grades"][s] for s in students), "every student should have graded cells"
        print(f"\nred team, {self.path}: {len(students)} students autograded in {graded['seconds']:.1f} s")

    def test_honest_students_graded_as_without_hostile_ones(self, graded):
        cells = code_cells(ASSIGNMENT, "grade")
        sol, blank = graded["grades"]["solution"], graded["grades"]["blank"]
        assert {g: s for g, (s, _) in sol.items()} == cells, "the correct student must get full marks"
        assert all(s == 0 for s, _ in blank.values()), f"the blank student must get 0: {blank}"

    @pytest.mark.parametrize("attack", red_team.attacks(), ids=lambda a: a.name)
    def test_attack_graded_as_expected(self, graded, attack):
        grades = graded["grades"][attack.student]
        cells = code_cells(ASSIGNMENT, "grade")
        want = {g: (0.0 if g in attack.loses else float(p)) for g, p in cells.items()}
        got = {g: s for g, (s, _) in grades.items()}
        wrong = {g: (got.get(g), want[g]) for g in cells if got.get(g) != want[g]}
        nb = _autograded(graded["root"], attack.student)
        assert not wrong, (f"{attack.name} ({attack.attacks}): grade cells (got, expected): {wrong}\n"
                           f"outputs:\n{_outputs_text(nb)[-3000:]}")

    def test_nothing_leaked_into_outputs(self, graded):
        root = graded["root"]
        for attack in graded["attacks"]:
            text = _outputs_text(_autograded(root, attack.student))
            assert "LEAKED" not in text, f"{attack.name} leaked something:\n{text[:2000]}"
            assert "TOP-SECRET" not in text
            assert "SQLite format" not in text
        # the log (the Formgrader's, at debug level, quotes the student's code): what the attacks print
        # when they succeed, "LEAKED SOLUTION: <what they read>", and the secret itself
        log = graded["log"]
        assert not re.search(r"LEAKED [A-Z ]+: ", log) and "TOP-SECRET" not in log

    def test_files_outside_unchanged(self, graded):
        root, before = graded["root"], graded["before"]
        after = {k: sha256(p) for k, p in graded["watched"].items() if p.exists()}
        assert after == before, "a file outside the working copy changed"
        venv_site = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
        for p in (venv_site / "sitecustomize.py", root.path / "source" / "pwned.txt", root.path.parent / "pwned_outside.txt",
                  REPO / "course" / "pwned.py", Path("/tmp/pwned_by_student.txt")):
            assert not p.exists(), f"a student wrote {p}"
        other = _autograded(root, "solution")  # the victim of `other_student`, still intact and graded
        assert len(other.cells) > 10

    def test_no_network_connection(self, graded):
        assert graded["listener"].connections == [], f"a student reached the host: {graded['listener'].connections}"

    def test_no_file_bigger_than_the_limit(self, graded):
        limit = LIMITS.file_size_mb * MB
        big = [p for p in graded["root"].path.rglob("*") if p.is_file() and p.stat().st_size > limit]
        assert not big, f"files over {LIMITS.file_size_mb} MB: {big}"
        left = list(graded["private_tmp"].iterdir())
        assert not left, f"private sandbox folders left behind: {left}"

    def test_output_is_capped(self, graded):
        path = graded["root"].path / "autograded" / "huge_output" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        assert path.stat().st_size < 2 * LIMITS.output_mb * MB, f"{path.stat().st_size / MB:.1f} MB of output kept"
        assert "Output limit" in _outputs_text(_autograded(graded["root"], "huge_output"))

    @pytest.mark.parametrize("name, words", [("fork_bomb", "processes"), ("memory_hog", "memory"),
                                             ("stubborn_loop", "did not stop"), ("disk_fill", "wrote more than"),
                                             ("exit_calls", "exited")])
    def test_killed_kernels_explain_why(self, graded, name, words):
        text = _outputs_text(_autograded(graded["root"], name))
        assert "KernelDied" in text and words in text, text[-2000:]

    @pytest.mark.parametrize("name", ["monkeypatch_numpy", "monkeypatch_feedback", "patch_internals",
                                      "tamper_during_test"])
    def test_tampering_is_reported(self, graded, name):
        text = _outputs_text(_autograded(graded["root"], name))
        assert "grading helpers were modified by your code" in text, text[-2000:]

    def test_no_stray_processes_and_machine_responsive(self, graded):
        folders = graded["root"].path, graded["private_tmp"]  # the course root, the batch's scratch roots
        deadline = time.monotonic() + 10
        while _sandbox_processes(*folders) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _sandbox_processes(*folders), [p.info for p in _sandbox_processes(*folders)]
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=30)
        assert time.monotonic() - start < 5, "the machine is sluggish after the run"
        assert psutil.virtual_memory().available > 512 * MB


# The three ways an instructor grades, each a scope of its own
TestRedTeam_nbgrader = type("TestRedTeam_nbgrader", (RedTeam,), {"path": "nbgrader"})
TestRedTeam_formgrader = type("TestRedTeam_formgrader", (RedTeam,), {"path": "formgrader"})
TestRedTeam_batch = type("TestRedTeam_batch", (RedTeam,), {"path": "batch"})
