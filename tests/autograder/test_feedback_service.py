"""Feedback on submission (autograder.feedback_service): students submit with nbgrader's own
``submit`` into a real exchange; the service collects, autogrades in the sandbox, generates and
releases feedback; the students fetch it with nbgrader's ``fetch_feedback``."""
from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest

from autograder import red_team, runner
from autograder.cells import fill_in, solution_code
from autograder.course_root import CourseRoot, code_cells, source_notebook
from autograder.feedback_service import LOG_NAME, Service
from autograder.wrong_answers import cases
from tests.helpers import REPO, nbgrader, page_text


A, NB, COURSE = "week1_forward_pass", "01_forward_pass", "intro-dl"
WRONG = next(c for c in cases(A) if c.kind == "wrong" and c.hint and not c.name.startswith("sigmoid"))
FULL = sum(code_cells(A, "grade").values())


class Class:
    """A course root that grades week 1a on submission, an exchange, and students' home folders."""

    def __init__(self, tmp: Path, **rules):
        self.tmp, self.exchange = tmp, tmp / "exchange"
        self._service: Service | None = None
        self._submitted: dict[str, float] = {}  # student: time.monotonic() of their last submission
        self.exchange.mkdir()
        self.exchange.chmod(0o777)
        self.ex = [f"--Exchange.root={self.exchange}"]
        self.root = CourseRoot.create(tmp / "instructor", [A])
        settings = {"assignments": [A], "per_hour": 6, **rules}
        with open(self.root.path / "nbgrader_config.py", "a") as f:
            f.write("".join(f"\nc.FeedbackService.{k} = {v!r}" for k, v in settings.items()) + "\n")
        nbgrader(self.root.path, "generate_assignment", A, "--force", f"--CourseDirectory.course_id={COURSE}")
        nbgrader(self.root.path, "release_assignment", A, f"--CourseDirectory.course_id={COURSE}", *self.ex)

    def home(self, student: str) -> Path:
        home = self.tmp / "home" / student
        if not home.exists():
            home.mkdir(parents=True)
            nbgrader(home, "fetch_assignment", A, "--course", COURSE, *self.ex, user=student, home=home)
        return home

    def submit(self, student: str, answers: dict | None) -> None:
        home = self.home(student)
        path = home / A / f"{NB}.ipynb"
        release = nbformat.read(self.root.path / "release" / A / f"{NB}.ipynb", as_version=4)
        mine = {**solution_code(source_notebook(A, NB)), **(answers or {})}
        nbformat.write(fill_in(release, mine), path)
        # nbgrader's timestamps: one submission per second and student
        time.sleep(max(0.0, self._submitted.get(student, float("-inf")) + 1.1 - time.monotonic()))
        nbgrader(home, "submit", A, "--course", COURSE, *self.ex, user=student, home=home)
        self._submitted[student] = time.monotonic()

    def feedback(self, student: str) -> str:
        """Fetch Feedback, as the Assignments tab does; the text of the newest feedback page."""
        home = self.home(student)
        nbgrader(home, "fetch_feedback", A, "--course", COURSE, *self.ex, user=student, home=home)
        pages = sorted((home / A / "feedback").rglob(f"{NB}.html"))
        return page_text(pages[-1]) if pages else ""

    def service(self) -> Service:
        """The class's feedback service, one for the class as the hub runs one (it keeps its warm-kernel
        server from one submission to the next), made on first use."""
        if self._service is None:
            self._service = Service(self.root.path, self.exchange)
        return self._service

    def close(self) -> None:
        if self._service is not None:
            self._service.close()

    def score(self, student: str) -> float:
        return sum(s for s, _ in self.root.grades(A)[student].values())


def _shown_score(page: str) -> float:
    """The notebook's score on its feedback page (nbgrader's "name (Score: X / Y)")."""
    found = re.search(r"\(Score: ([\d.]+) / [\d.]+\)", page)
    assert found, page[:500]
    return float(found.group(1))


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    klass = Class(tmp_path_factory.mktemp("feedback-service"))
    yield klass
    klass.close()


@pytest.fixture()
def new_class(tmp_path):
    """Class(tmp_path, **rules); its service is closed after the test."""
    made = []

    def new(**rules) -> Class:
        made.append(Class(tmp_path, **rules))
        return made[-1]

    yield new
    for klass in made:
        klass.close()


@pytest.mark.slow  # grades with nbgrader in the sandbox
def test_two_students_are_graded_in_order_and_fetch_their_feedback(klass):
    klass.submit("alice", WRONG.answers)
    klass.submit("bob", None)
    entries = klass.service().step()
    assert [(e["student"], e["status"]) for e in entries] == [("alice", "graded"), ("bob", "graded")], entries
    assert klass.score("bob") == FULL and klass.score("alice") < FULL
    page = klass.feedback("alice")
    assert " ".join(WRONG.hint.split()) in " ".join(page.split()), "the visible hint reaches the student"
    assert _shown_score(page) == klass.score("alice") < FULL

    klass.submit("alice", None)  # fixed
    (entry,) = klass.service().step()
    assert entry["status"] == "graded" and entry["score"] == FULL
    assert klass.score("alice") == FULL, "the gradebook holds the newest submission's grade"
    assert _shown_score(klass.feedback("alice")) == FULL, "the new score is shown"
    assert klass.service().pending() == [], "nothing left"


@pytest.mark.slow  # grades with nbgrader in the sandbox
def test_the_hourly_limit_queues_or_refuses(new_class):
    klass = new_class(per_hour=1, over_limit="queue")
    klass.submit("carol", None)
    assert [e["status"] for e in klass.service().step()] == ["graded"]
    klass.submit("carol", WRONG.answers)
    assert klass.service().step() == [] and len(klass.service().pending()) == 1, "queued, not lost"
    later = datetime.now(timezone.utc) + timedelta(hours=1, minutes=1)
    assert [e["status"] for e in klass.service().step(now=later)] == ["graded"], "graded once the hour allows"

    with open(klass.root.path / "nbgrader_config.py", "a") as f:
        f.write('\nc.FeedbackService.over_limit = "refuse"\n')
    klass.submit("carol", None)
    (entry,) = klass.service().step()
    assert entry["status"] == "refused", entry
    page = klass.feedback("carol")
    assert "was not graded" in page and "Submit again after" in page, page[:500]


@pytest.mark.slow  # grades with nbgrader in the sandbox
def test_after_the_deadline_nothing_is_graded_if_so_configured(new_class):
    from nbgrader.api import Gradebook

    klass = new_class(after_deadline="nothing")
    settings = klass.service().settings
    with Gradebook(settings.db_url, settings.course_id) as gb:
        gb.update_or_create_assignment(A, duedate=datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=1))
    klass.submit("dave", None)
    (entry,) = klass.service().step()
    assert entry["status"] == "skipped" and "due date" in entry["message"]
    assert "dave" not in klass.root.grades(A)


@pytest.mark.slow  # grades with nbgrader in the sandbox
def test_a_restart_loses_no_submission_and_a_hostile_one_stops_nobody(tmp_path):
    """The service is killed while it grades a red-team submission (reads the gradebook, writes
    outside); started again, it grades that one, contained, and the next student as usual."""
    klass = Class(tmp_path)
    attacks = {a.name: a for a in red_team.attacks()}
    hostile = {k: v.replace("@ROOT@", str(klass.root.path)).replace("@REPO@", str(REPO))
               for name in ("read_gradebook", "write_outside") for k, v in attacks[name].answers.items()}
    klass.submit("mallory", hostile)
    klass.submit("erin", None)
    cmd = [sys.executable, "-m", "autograder", "feedback-service", "--course-dir", str(klass.root.path),
           "--exchange", str(klass.exchange)]
    service = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env=runner.nbgrader_env())
    deadline = time.monotonic() + 120
    while not (klass.root.path / "submitted" / "mallory").exists():  # collected: grading has begun
        assert time.monotonic() < deadline and service.poll() is None, "the service did not start grading"
        time.sleep(0.1)
    os.killpg(service.pid, signal.SIGKILL)  # the service (and its nbgrader) die while grading
    service.wait()
    log = klass.root.path / LOG_NAME
    done = [json.loads(line)["student"] for line in log.read_text().splitlines()] if log.exists() else []
    assert "erin" not in done, "erin's turn had not come"

    again = subprocess.run([*cmd, "--once"], capture_output=True, text=True, timeout=600, env=runner.nbgrader_env())
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    entries = {json.loads(line)["student"]: json.loads(line) for line in log.read_text().splitlines()}
    assert entries["erin"]["status"] == "graded" and entries["erin"]["score"] == FULL
    assert entries["mallory"]["status"] in ("graded", "graded-with-error")
    lost = {g for g, (s, m) in klass.root.grades(A)["mallory"].items() if s < m}
    assert {"neuron_tests", "predict_hidden_tests"} <= lost, "the attacks found nothing to read or write"
    assert not list(klass.root.path.rglob("pwned*")) and not (klass.root.path.parent / "pwned_outside.txt").exists()
    assert "mallory" in again.stdout and "erin" in again.stdout, "the log says what was done"
    page = klass.feedback("mallory")
    assert "blocked:" in page and "SQLite format" not in page and "LEAKED GRADEBOOK: b" not in page, page[:2000]


def _inbound(tmp_path: Path, *names: str) -> Service:
    """A course root (the course's config, week 1a turned on) and an exchange holding ``names``."""
    import shutil

    root = tmp_path / "course"
    root.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    with open(root / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.FeedbackService.assignments = [{A!r}]\n")
    for name in names:
        (tmp_path / "exchange" / COURSE / "inbound" / name).mkdir(parents=True)
    return Service(root, tmp_path / "exchange", out=open(os.devnull, "w"))


def test_what_cannot_be_graded_is_logged_and_the_rest_goes_on(tmp_path, monkeypatch):
    future = (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    service = _inbound(tmp_path, f"zoe+{A}+2026-01-01 10:00:00.000000 UTC+aa",
                       "yan+other_assignment+2026-01-01 10:00:01.000000 UTC+bb", f"xia+{A}+{future}+cc")
    service.log_path.write_text('{"submission": "torn')  # a line cut short by a crash
    broken = {"zoe"}

    def handle(sub, now):
        if sub.student in broken:
            raise OSError("database is locked")
        return Service.handle(service, sub, now)

    monkeypatch.setattr(service, "handle", handle)
    entries = {e["student"]: e for e in service.step()}
    assert entries["zoe"]["status"] == "error" and "database is locked" in entries["zoe"]["message"]
    assert entries["yan"]["status"] == "skipped" and "FeedbackService.assignments" in entries["yan"]["message"]
    assert entries["xia"]["status"] == "skipped" and "future" in entries["xia"]["message"]
    assert [e["student"] for e in service.done()] == ["zoe", "yan", "xia"], "the torn line stays alone"
    assert service.pending() == [] and service.step() == []


def test_the_service_waits_for_a_course_root_and_reads_its_rules_again(tmp_path):
    service = _inbound(tmp_path, f"zoe+{A}+2026-01-01 10:00:00.000000 UTC+aa")
    config = (service.course_dir / "nbgrader_config.py").read_text()
    (service.course_dir / "nbgrader_config.py").unlink()
    assert service.step() == [] and service.waiting_for_root
    (service.course_dir / "nbgrader_config.py").write_text(config + "\nc.FeedbackService.assignments = []\n")
    (entry,) = service.step()
    assert entry["status"] == "skipped" and not service.waiting_for_root, "the edited rules count"


def test_a_submission_in_someone_elses_name_is_refused(tmp_path, monkeypatch):
    """An inbound folder that belongs neither to the student it names nor to the grader is not graded;
    that student's own older submission, which nbgrader's collect would pass over for it, waits (with
    one warning) and is graded once the folder is removed; a folder of the system user it names is
    graded."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    older, forged, own = (f"zoe+{A}+2026-01-01 10:00:00.000000 UTC+aa", f"zoe+{A}+2026-01-01 10:05:00.000000 UTC+bb",
                          f"nobody+{A}+2026-01-01 10:01:00.000000 UTC+cc")
    service = _inbound(tmp_path, older, forged, own)
    if os.getuid() != 0:
        pytest.fail("this test hands folders to another user: run it as root (as CI does)")
    for name in (forged, own):
        os.chown(service.inbound / name, nobody.pw_uid, nobody.pw_gid)

    def collect(sub):
        raise RuntimeError(f"collected {sub.name}")

    monkeypatch.setattr(service, "_collect", collect)
    monkeypatch.setattr(service, "_duedate", lambda assignment: None)  # (no gradebook here)
    service.out = io.StringIO()
    entries = {e["submission"]: e for e in service.step()}
    assert entries[forged]["status"] == "refused" and "belongs to nobody, not to zoe" in entries[forged]["message"]
    assert older not in entries, "zoe's own submission waits behind the forged one"
    assert entries[own]["status"] == "error" and f"collected {own}" in entries[own]["message"], "nobody's own: graded"
    assert service.step() == [] and service.step() == []
    assert service.out.getvalue().count(f"({older}): waiting") == 1, "one warning, not one per pass"
    (service.inbound / forged).rmdir()  # the instructor removes the forged folder
    (entry,) = service.step()
    assert entry["submission"] == older and entry["status"] == "error" and f"collected {older}" in entry["message"]

    (tmp_path / "off").mkdir()
    service = _inbound(tmp_path / "off", forged)
    os.chown(service.inbound / forged, nobody.pw_uid, nobody.pw_gid)
    with open(service.course_dir / "nbgrader_config.py", "a") as f:
        f.write("\nc.FeedbackService.check_owner = False\n")
    monkeypatch.setattr(service, "_collect", collect)
    monkeypatch.setattr(service, "_duedate", lambda assignment: None)
    (entry,) = service.step()
    assert entry["status"] == "error" and "collected" in entry["message"], "check_owner off: names are trusted"


@pytest.mark.slow  # starts the service as a process
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_the_service_stops_on_sigint_and_sigterm_even_if_it_inherited_sigint_ignored(tmp_path, sig):
    """JupyterHub stops a managed service with SIGINT, then waits and kills it.  A hub started in the
    background by a script hands its services SIGINT ignored, and Python keeps it ignored: the
    service must stop anyway, at once, with a line in its log and exit code 0."""
    service = _inbound(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "autograder", "feedback-service", "--course-dir",
                             str(service.course_dir), "--exchange", str(service.exchange)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=runner.nbgrader_env(),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert "watching" in proc.stdout.readline(), "the service did not start"
        time.sleep(0.5)  # in its loop
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert f"[feedback-service] stopped ({sig.name})" in out and "Traceback" not in out, out
