"""Feedback minutes after submitting: grade each submission as it arrives in nbgrader's exchange.

    python -m autograder feedback-service [--course-dir DIR] [--exchange DIR] [--interval 5] [--once]

runs in the instructor's (the grader's) course root, as a JupyterHub-managed service
(``deploy/jupyterhub``) or on its own.  Every few seconds it looks at the exchange's inbound
folder; for each submission it has not dealt with, oldest first, it runs nbgrader's own steps for
that one student:

1. ``nbgrader collect ASSIGNMENT --student=S --update`` (the student's newest submission);
2. the batch grader (:mod:`autograder.batch`) for that student: ``nbgrader autograde`` in the
   sandbox, with the course's limits, as for the class, then ``nbgrader generate_feedback`` in the
   same run (feedback never shows what hidden tests printed: :mod:`autograder.hidden`).  Run as
   root, the service keeps one warm-kernel server from one submission to the next;
3. ``nbgrader release_feedback`` for that student, so the student sees it with *Fetch Feedback* in
   JupyterLab's Assignments tab.

The gradebook keeps nbgrader's meaning: the grade is the newest submission's, with nbgrader's late
penalty; the instructor's own collect, autograde, Formgrader and export work as before.

**Rules** (``nbgrader_config.py``, :class:`FeedbackService`): which assignments are graded on
submission (none by default), how many graded submissions a student gets per hour (more are queued
until the hour allows, or refused with a feedback page that says when to submit again), and what
happens after the deadline (``feedback`` as before, or ``nothing``).

**Whose submission.**  nbgrader's ``collect`` trusts an inbound folder's name (it only warns when the
owner differs).  The service grades a folder only if it belongs to the system user named like the
student, or to the service's own user; any other is refused and logged.  A student's own submission
waits while a newer folder in their name is not theirs (``collect`` would take that one), with one
line in the service's log, and is graded as soon as the instructor removes that folder.
``c.FeedbackService.check_owner = False`` turns this off where students are not system users.

**Nothing is lost.**  What the service did with each submission goes, one JSON line per
submission, to ``feedback-service.jsonl`` in the course root, written after the step that
finishes it.  On start it takes every inbound submission without a line: a submission that arrived
while another was graded, or while the service or the hub was down, or whose grading was cut short
by a restart, is graded then.  Several submissions of one student waiting together are graded once,
as the newest (the older ones are logged as superseded).  A submission that cannot be graded
(hostile code, a broken notebook) gets nbgrader's zero and a line that says why; the next student
is graded as usual.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from traitlets import Bool, Enum, Float, Integer, List, Unicode
from traitlets.config import Configurable

from autograder import batch, cli
from autograder.course_root import course_settings
from autograder.runner import nbgrader

LOG_NAME = "feedback-service.jsonl"


class FeedbackService(Configurable):
    """Grading on submission: set in the course's nbgrader_config.py (``c.FeedbackService.*``)."""

    assignments = List(Unicode(), help="Assignments graded as soon as a student submits (default: none).").tag(
        config=True)
    per_hour = Integer(6, help="Graded submissions per student and assignment in any hour.").tag(config=True)
    over_limit = Enum(["queue", "refuse"], "queue", help="A submission past per_hour: 'queue' grades it when the "
                      "hour allows; 'refuse' tells the student, in feedback, when to submit again.").tag(config=True)
    after_deadline = Enum(["feedback", "nothing"], "feedback", help="A submission after the assignment's due date: "
                          "'feedback' grades it (nbgrader's late penalty applies), 'nothing' leaves it for the "
                          "instructor.").tag(config=True)
    interval = Float(5.0, help="Seconds between two looks at the exchange.").tag(config=True)
    check_owner = Bool(True, help="Grade a submission only if its inbound folder belongs to the system user named "
                       "like the student (or to the service's own user). nbgrader's collect trusts the folder's "
                       "name, so a student who can write into inbound could hand in work as someone else. Turn "
                       "off where students are not system users of the machine that holds the exchange.").tag(
        config=True)


@dataclass(frozen=True)
class Submission:
    """One folder of the exchange's inbound: ``student+assignment+timestamp+random``."""

    name: str
    student: str
    assignment: str
    timestamp: datetime

    @classmethod
    def parse(cls, name: str) -> "Submission | None":
        from nbgrader.utils import parse_utc

        parts = name.rsplit("+", 3)
        if len(parts) != 4:
            return None
        try:
            when = parse_utc(parts[2])
        except Exception:  # noqa: BLE001 (not nbgrader's: not ours to grade)
            return None
        return cls(name, parts[0], parts[1], when if when.tzinfo else when.replace(tzinfo=timezone.utc))


class Service:
    def __init__(self, course_dir: Path, exchange: Path | None = None, out=sys.stdout) -> None:
        self.course_dir = Path(course_dir).resolve()
        self.out = out
        self.log_path = self.course_dir / LOG_NAME
        self.waiting_for_root = False
        self.held: set[str] = set()  # submissions waiting behind a forged folder (warned once)
        self.warm = None  # the sandbox.WarmKernels server kept between submissions, and its limits
        self.warm_limits = None
        self.reload()
        root = exchange or os.environ.get("NBGRADER_EXCHANGE") or self.settings.config.get("Exchange", {}).get("root")
        if not root:
            raise FileNotFoundError("no exchange: give --exchange, set NBGRADER_EXCHANGE or c.Exchange.root")
        self.exchange = Path(root)

    def reload(self) -> None:
        """The course's settings and rules, read again: an instructor's change to nbgrader_config.py
        counts from the next look at the exchange, without a restart."""
        self.settings = course_settings(self.course_dir)
        self.rules = FeedbackService(config=self.settings.config or None)

    @property
    def inbound(self) -> Path:
        return self.exchange / self.settings.course_id / "inbound"

    # --- the record of what was done -----------------------------------------------------------
    def done(self) -> list[dict]:
        """The log's entries (a line cut short by a crash is skipped)."""
        if not self.log_path.exists():
            return []
        entries = []
        for line in self.log_path.read_text().splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                pass
        return entries

    def _record(self, sub: Submission, status: str, message: str, **extra) -> dict:
        entry = {"submission": sub.name, "student": sub.student, "assignment": sub.assignment,
                 "submitted": sub.timestamp.isoformat(), "status": status, "message": message,
                 "at": datetime.now(timezone.utc).isoformat(), **extra}
        torn = self.log_path.exists() and not self.log_path.read_bytes().endswith(b"\n") and self.log_path.stat().st_size
        with open(self.log_path, "a") as f:
            f.write(("\n" if torn else "") + json.dumps(entry) + "\n")  # (a line cut short by a crash stays alone)
            f.flush()
            os.fsync(f.fileno())
        print(f"[feedback-service] {sub.student} {sub.assignment} ({sub.name}): {status}: {message}",
              file=self.out, flush=True)
        return entry

    # --- what is waiting --------------------------------------------------------------------------
    def pending(self) -> list[Submission]:
        """Inbound submissions without a log entry, oldest first."""
        seen = {e["submission"] for e in self.done()}
        if not self.inbound.is_dir():
            return []
        found = [Submission.parse(p.name) for p in self.inbound.iterdir() if p.is_dir() and p.name not in seen]
        return sorted((s for s in found if s is not None), key=lambda s: s.timestamp)

    def _inbound_of(self, student: str, assignment: str) -> list[Submission]:
        """Every inbound submission in this student's name for this assignment, oldest first."""
        found = [Submission.parse(p.name) for p in self.inbound.iterdir() if p.is_dir()]
        return sorted((s for s in found if s and (s.student, s.assignment) == (student, assignment)),
                      key=lambda s: s.timestamp)

    def _not_theirs(self, sub: Submission) -> str:
        """Why an inbound folder is not the named student's submission (its owner), or ''."""
        import pwd

        if not self.rules.check_owner:
            return ""
        uid = (self.inbound / sub.name).lstat().st_uid
        allowed = {os.getuid()}
        try:
            allowed.add(pwd.getpwnam(sub.student).pw_uid)
        except KeyError:
            pass
        if uid in allowed:
            return ""
        try:
            owner = pwd.getpwuid(uid).pw_name
        except KeyError:
            owner = f"uid {uid}"
        return (f"not graded: the folder belongs to {owner}, not to {sub.student} (FeedbackService.check_owner); "
                f"someone may be handing in work in another student's name")

    def _graded_within_hour(self, student: str, assignment: str, now: datetime) -> list[datetime]:
        """When the grader ran for this student and assignment in the last hour (errors count too)."""
        return sorted(datetime.fromisoformat(e["at"]) for e in self.done()
                      if e["student"] == student and e["assignment"] == assignment
                      and e["status"] in ("graded", "graded-with-error", "error")
                      and now - datetime.fromisoformat(e["at"]) < timedelta(hours=1))

    def _duedate(self, assignment: str) -> datetime | None:
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.settings.db_url, self.settings.course_id) as gb:
            try:
                due = gb.find_assignment(assignment).duedate
            except MissingEntry:
                return None
        return due.replace(tzinfo=timezone.utc) if due is not None and due.tzinfo is None else due

    # --- one pass -------------------------------------------------------------------------------
    def step(self, now: datetime | None = None) -> list[dict]:
        """Deal with what is waiting; return the log entries written."""
        if not (self.course_dir / "nbgrader_config.py").is_file():
            if not self.waiting_for_root:
                print(f"[feedback-service] waiting for the course root {self.course_dir} (no nbgrader_config.py "
                      f"yet): submissions wait in the exchange", file=self.out, flush=True)
            self.waiting_for_root = True
            return []
        self.waiting_for_root = False
        self.reload()
        written = []
        waiting = []
        for sub in self.pending():
            problem = self._not_theirs(sub)
            if problem:
                written.append(self._record(sub, "refused", problem))
            else:
                waiting.append(sub)
        newest = {}
        for sub in waiting:
            newest[(sub.student, sub.assignment)] = sub
        for sub in waiting:
            if newest[(sub.student, sub.assignment)] is not sub:
                written.append(self._record(sub, "superseded", "a newer submission of the same student is waiting"))
                continue
            try:
                entry = self.handle(sub, now or datetime.now(timezone.utc))
            except Exception as err:  # noqa: BLE001 (one submission must not stop the others)
                entry = self._record(sub, "error", f"{type(err).__name__}: {str(err)[-600:]}")
            if entry is not None:
                written.append(entry)
        return written

    def handle(self, sub: Submission, now: datetime) -> dict | None:
        """Grade one submission, or say why not; None: it waits (queued past the hourly limit)."""
        if sub.assignment not in self.rules.assignments:
            return self._record(sub, "skipped", "not graded on submission (FeedbackService.assignments)")
        if sub.timestamp > now + timedelta(minutes=5):
            return self._record(sub, "skipped", "its timestamp is in the future: not made by nbgrader submit")
        forged = [o for o in self._inbound_of(sub.student, sub.assignment) if o.timestamp > sub.timestamp
                  and self._not_theirs(o)]
        if forged:  # nbgrader's collect would take the newest folder in the student's name: wait
            if sub.name not in self.held:
                self.held.add(sub.name)
                print(f"[feedback-service] {sub.student} {sub.assignment} ({sub.name}): waiting: inbound holds a "
                      f"newer submission in {sub.student}'s name that is not theirs ({forged[-1].name}); "
                      f"this one is graded once that folder is removed", file=self.out, flush=True)
            return None
        due = self._duedate(sub.assignment)
        if due is not None and sub.timestamp > due and self.rules.after_deadline == "nothing":
            return self._record(sub, "skipped", "submitted after the due date (FeedbackService.after_deadline)")
        recent = self._graded_within_hour(sub.student, sub.assignment, now)
        if len(recent) >= self.rules.per_hour:
            again = recent[0] + timedelta(hours=1)
            if self.rules.over_limit == "queue":
                return None
            self._collect(sub)
            self._refusal_page(sub, again)
            self._nbgrader("release_feedback", sub.assignment, f"--student={sub.student}")
            return self._record(sub, "refused", f"{self.rules.per_hour} graded submissions in the last hour; "
                                f"the student may submit again after {again:%H:%M} UTC")
        start = time.monotonic()
        try:
            self._collect(sub)
            result = batch.autograde_class(self.course_dir, sub.assignment, students=[sub.student], workers=1,
                                           progress=False, feedback=True,
                                           warm=self._warm_socket()).students[sub.student]
            if not result.feedback:  # not graded (nbgrader's zero), or its feedback failed: nbgrader's own, as before
                self._nbgrader("generate_feedback", sub.assignment, f"--student={sub.student}", "--force")
            self._nbgrader("release_feedback", sub.assignment, f"--student={sub.student}")
        except Exception as err:  # noqa: BLE001 (one submission must not stop the service)
            return self._record(sub, "error", f"{type(err).__name__}: {str(err)[-600:]}",
                                seconds=round(time.monotonic() - start, 1))
        status = "graded" if result.status == "ok" else "graded-with-error"
        return self._record(sub, status, result.message or f"score {result.score:g} of {result.max_score:g}",
                            score=result.score, max_score=result.max_score,
                            seconds=round(time.monotonic() - start, 1))

    def _warm_socket(self) -> str | None:
        """The socket of a warm-kernel server (:class:`autograder.sandbox.WarmKernels`, as root only) kept
        from one submission to the next, so that each is graded without its 4-5 s start; started again
        if it died or the course's limits changed.  None: the batch grader's kernels start cold."""
        from autograder import sandbox

        if not sandbox.warm_kernels_possible():
            return None
        limits = batch.check_sandbox(self.settings)
        if self.warm is not None and (limits != self.warm_limits or self.warm.proc is None
                                      or self.warm.proc.poll() is not None):
            self.close()
        if self.warm is None:
            self.warm, self.warm_limits = sandbox.WarmKernels(limits).__enter__(), limits
            if self.warm.problem:
                print(f"[feedback-service] kernels start cold: {self.warm.problem}", file=self.out, flush=True)
        return self.warm.socket

    def close(self) -> None:
        if self.warm is not None:
            self.warm.close()
            self.warm = None

    def _nbgrader(self, *args: str) -> str:
        """nbgrader in the course root, on the exchange the service watches."""
        return nbgrader(self.course_dir, *args, f"--Exchange.root={self.exchange}")

    def _collect(self, sub: Submission) -> None:
        self._nbgrader("collect", sub.assignment, f"--student={sub.student}", "--update")

    def _refusal_page(self, sub: Submission, again: datetime) -> None:
        """A feedback page per notebook of the collected submission: not graded, and when to submit again."""
        import html

        folder = self.settings.submitted / sub.student / sub.assignment
        out = self.settings.feedback / sub.student / sub.assignment
        out.mkdir(parents=True, exist_ok=True)
        for nb in sorted(folder.glob("*.ipynb")):
            text = (f"Your submission of {sub.assignment} at {sub.timestamp:%Y-%m-%d %H:%M} UTC was not graded: "
                    f"feedback on submission is given at most {self.rules.per_hour} times per hour. "
                    f"Submit again after {again:%H:%M} UTC to get feedback; your newest submission is the one "
                    f"your instructor grades.")
            (out / f"{nb.stem}.html").write_text(
                f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(nb.stem)}</title></head>"
                f"<body><h1>{html.escape(nb.stem)}: not graded yet</h1><p>{html.escape(text)}</p></body></html>")
        for name in ("timestamp.txt", "submission_secret.txt"):  # what release_feedback reads
            (out / name).write_text((folder / name).read_text())

    def run(self, once: bool = False) -> int:
        print(f"[feedback-service] watching {self.inbound} for {', '.join(self.rules.assignments) or 'no assignment'}"
              f" (at most {self.rules.per_hour} graded submissions per student per hour, then "
              f"{self.rules.over_limit}; after the due date: {self.rules.after_deadline})", file=self.out, flush=True)
        try:
            with _stop_on_signals():
                return self._loop(once)
        except KeyboardInterrupt as stop:  # SIGINT (how JupyterHub stops its services first) or SIGTERM
            print(f"[feedback-service] stopped ({str(stop) or 'SIGINT'})", file=self.out, flush=True)
            return 0
        finally:
            self.close()

    def _loop(self, once: bool) -> int:
        while True:
            try:
                self.step()
            except Exception as err:  # noqa: BLE001 (a broken config, a locked gradebook: try again later)
                print(f"[feedback-service] could not look at the exchange: {type(err).__name__}: {err}; trying "
                      f"again in {10 * self.rules.interval:g} s", file=self.out, flush=True)
                if once:
                    return 1
                time.sleep(10 * self.rules.interval)
                continue
            if once:
                return 0
            time.sleep(self.rules.interval)


@contextlib.contextmanager
def _stop_on_signals():
    """SIGINT and SIGTERM stop the service (KeyboardInterrupt), whatever it inherited: a process
    started in the background by a script (``jupyterhub &``) inherits SIGINT ignored, and Python
    then leaves it so; JupyterHub stops a service with SIGINT, then waits, then kills it (30 s,
    without closing its warm-kernel server).  The handlers are put back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield  # (only the main thread may set handlers; a thread is stopped by whoever runs it)
        return

    def stop(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    before = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def add_arguments(parser) -> None:
    cli.add_course_dir(parser)
    parser.add_argument("--exchange", type=Path, help="nbgrader's exchange folder (default: $NBGRADER_EXCHANGE, "
                                                      "else c.Exchange.root of nbgrader_config.py)")
    parser.add_argument("--once", action="store_true", help="deal with what is waiting, then stop")


def run(args) -> int:
    return Service(args.course_dir, args.exchange).run(once=args.once)


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
