"""Autograde a whole class with nbgrader, several students at once.

nbgrader's ``autograde`` grades one student after the other, in one course
root with one gradebook.  Here each student is graded by nbgrader's own
``nbgrader autograde ASSIGNMENT --student=ID --force``, run in a private
scratch course root, so that students can be graded side by side, on this
machine or on the workers of a Dask cluster:

1. The coordinator (:func:`autograde_class`, in the instructor's course root)
   finds the submissions in ``submitted/<student>/<assignment>/`` and checks
   each (:mod:`autograder.validate`): a broken submission gets a clear message
   and, if nothing in it can be graded, zero points; the batch goes on.
2. For each student it builds a :class:`Task`: plain data (the course's
   ``nbgrader_config.py``, ``source/<assignment>``, a gradebook that holds only
   the assignment, and the student's files), so any ``concurrent.futures``
   executor can run :func:`grade_one` (threads, processes, Dask).
3. :func:`grade_one` writes the scratch course root, runs ``nbgrader autograde``
   there (in the bubblewrap sandbox of :mod:`autograder.sandbox` unless
   ``sandbox=False``) with a wall-clock limit that kills the whole process
   tree, and returns the autograded files and the scores of the scratch
   gradebook as data.  The nbgrader run is a fork of a process that has
   imported nbgrader already (:mod:`autograder.zygote`), not a new Python.
4. The coordinator alone writes into the course's gradebook, with nbgrader's
   :class:`~nbgrader.api.Gradebook` API and nbgrader's own rules (those of
   ``SaveAutoGrades``), and copies the autograded notebooks to
   ``autograded/<student>/<assignment>/``.  Files in ``submitted/`` are never
   changed.

The gradebook ends up as ``nbgrader autograde`` would leave it: the same
scores and maximum scores per student and cell, "No response." comments, late
penalties and submission timestamps.  A student whose grading crashes or runs
out of time gets zero for every cell, marked "needs manual grade" and
flagged, so every student has a grade and the instructor sees whom to look at.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import nbformat

from autograder import cli, gradebook, validate
from autograder import sandbox as sandboxing  # (`sandbox` is the flag: grade in it or not)
from autograder.course_root import CourseSettings, course_settings
from autograder.runner import last_error, nbgrader_env, run_nbgrader

DEFAULT_NOTEBOOK_TIMEOUT = 900.0  # seconds per notebook, wall clock, kernel start included


class BatchError(RuntimeError):
    """The class cannot be autograded at all (no assignment, no sandbox, ...)."""


# ---------------------------------------------------------------------------
# one student: the task and what comes back

@dataclass
class Task:
    """Everything needed to autograde one student, as plain (picklable) data."""

    assignment: str
    student: str
    course_id: str
    config: bytes                      # the course's nbgrader_config.py
    source: dict[str, bytes]           # files of source/<assignment>/, by relative path
    gradebook: bytes                   # sqlite gradebook holding the assignment (and no students)
    submission: dict[str, bytes]       # files to grade, by path relative to submitted/<student>/<assignment>/
    timeout: float                     # wall-clock seconds for the whole nbgrader run
    sandbox: bool = False
    limits: sandboxing.Limits | None = None  # None: SandboxedExecute.limits of the course's nbgrader_config.py
    student_info: dict = field(default_factory=dict)  # first_name, last_name, email, lms_user_id
    warm: str | None = None            # socket of a sandbox.WarmKernels server (kernels start warm), if any
    extension: timedelta | None = None  # granted with nbgrader (Gradebook.grant_extension): the late penalty counts it
    feedback: bool = False             # then nbgrader generate_feedback too, in the same scratch root


@dataclass
class TaskResult:
    student: str
    ok: bool
    error: str = ""
    log: str = ""
    seconds: float = 0.0
    autograded: dict[str, bytes] = field(default_factory=dict)  # files of autograded/<student>/<assignment>/
    #: {notebook: {"grades": {grade_id: (auto_score, max_score)}, "comments": {cell: auto_comment},
    #:             "late_penalty": float | None}}
    notebooks: dict[str, dict] = field(default_factory=dict)
    timestamp: datetime | None = None
    feedback: dict[str, bytes] | None = None  # files of feedback/<student>/<assignment>/, if generated
    feedback_error: str = ""


def grade_one(task: Task) -> TaskResult:
    """Autograde one student with ``nbgrader autograde`` in a private scratch course root (and, with
    ``task.feedback``, then ``nbgrader generate_feedback`` there, with the same kernels and limits).

    Runs anywhere the course's environment is installed (a thread, a process, a
    Dask worker); touches nothing outside its temporary folder.
    """
    start = time.monotonic()
    # short: the sandbox's unix sockets live in here (a socket path may be at most 107 bytes)
    root = Path(tempfile.mkdtemp(prefix=f"autograde-{task.student[:20]}-"))
    try:
        (root / "nbgrader_config.py").write_bytes(task.config)
        _write_tree(root / "source" / task.assignment, task.source)
        _write_tree(root / "submitted" / task.student / task.assignment, task.submission)
        (root / "gradebook.db").write_bytes(task.gradebook)
        db_url = f"sqlite:///{root / 'gradebook.db'}"
        from nbgrader.api import Gradebook

        with Gradebook(db_url, task.course_id) as gb:
            gb.update_or_create_student(task.student, **task.student_info)
            if task.extension:  # kept in the submission, where nbgrader autograde reads it
                import warnings

                from sqlalchemy.exc import SAWarning

                with warnings.catch_warnings():  # nbgrader's add_submission on its own session (harmless)
                    warnings.simplefilter("ignore", SAWarning)
                    gb.update_or_create_submission(task.assignment, task.student, extension=task.extension)

        # the kernel is stopped at once when the notebook is done (its outputs are in): a graceful
        # shutdown of a kernel that imported torch takes 1-2 s; the sandbox's private folder is in root
        common = [f"--student={task.student}", "--force", "--Execute.shutdown_kernel=immediate",
                  f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={db_url}",
                  f"--CourseDirectory.course_id={task.course_id}", "--CourseDirectory.source_directory=source",
                  "--CourseDirectory.submitted_directory=submitted", "--CourseDirectory.autograded_directory=autograded",
                  "--CourseDirectory.feedback_directory=feedback"]
        env = nbgrader_env()
        if task.sandbox:
            extra_args, extra_env = sandboxing.nbgrader_args(task.limits, workdir=root, warm=task.warm)
            common += list(extra_args)
            env.update(extra_env)
        else:
            common.append("--SandboxedExecute.sandbox=False")

        code, log, timed_out = run_nbgrader(["autograde", task.assignment, *common], root, env, task.timeout)
        if timed_out:
            return TaskResult(task.student, False, f"nbgrader autograde ran out of time ({task.timeout:g} s "
                              f"wall clock) and was stopped: an endless loop or very slow code? Look at the "
                              f"submission; raise the limit with notebook_timeout.", log,
                              time.monotonic() - start)
        if code != 0:
            return TaskResult(task.student, False, f"nbgrader autograde failed (exit {code}): "
                              f"{last_error(log)}", log, time.monotonic() - start)
        result = TaskResult(task.student, True, log=log)
        result.notebooks, result.timestamp = gradebook.student_scores(db_url, task.course_id, task.assignment,
                                                                      task.student)
        out = root / "autograded" / task.student / task.assignment
        result.autograded = _read_tree(out)
        if task.feedback:
            _generate_feedback(task, root, common, env, result)
        result.seconds = time.monotonic() - start
        return result
    except Exception as err:  # noqa: BLE001 (a task must come back as data, whatever happened)
        return TaskResult(task.student, False, f"could not autograde: {type(err).__name__}: {err}",
                          seconds=time.monotonic() - start)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _generate_feedback(task: Task, root: Path, common: list[str], env: dict, result: TaskResult) -> None:
    """``nbgrader generate_feedback`` for the student just autograded in ``root``: the course's
    feedback steps (its run without hidden tests in the sandbox, too) with the scores of this
    autograde.  A failure leaves the grades alone and says why in ``result.feedback_error``."""
    code, log, timed_out = run_nbgrader(["generate_feedback", task.assignment, *common], root, env, task.timeout)
    result.log += "\n" + log
    out = root / "feedback" / task.student / task.assignment
    if timed_out or code != 0 or not out.is_dir():
        why = f"ran out of time ({task.timeout:g} s)" if timed_out else f"failed (exit {code}): {last_error(log)}"
        result.feedback_error = f"nbgrader generate_feedback {why}"
        return
    result.feedback = _read_tree(out)


def _read_tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by path relative to it (what :func:`_write_tree` writes back)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    folder.mkdir(parents=True, exist_ok=True)


def check_sandbox(settings: CourseSettings | None = None) -> sandboxing.Limits | None:
    """Raise :class:`~autograder.sandbox.SandboxError`, saying what to do, unless kernels can run in
    the sandbox here and the course's ``nbgrader_config.py`` (``settings``) autogrades with
    :class:`autograder.preprocessors.SandboxedExecute` only, with settings it accepts; return the
    limits that config sets (None without ``settings``).  A wrong setting is refused here, before any
    student is graded, not found by every student's run."""
    knowingly = "Or grade without the sandbox, knowingly: sandbox=False / `python -m autograder autograde --no-sandbox`."
    try:
        sandboxing.require()
    except sandboxing.SandboxError as err:
        raise sandboxing.SandboxError(f"{err} {knowingly}") from None
    if settings is None:
        return None
    if not settings.sandboxed:
        raise sandboxing.SandboxError(
            "this course's nbgrader_config.py autogrades outside the sandbox: c.Autograde.autograde_preprocessors must "
            "run notebooks with \"autograder.preprocessors.SandboxedExecute\" only, in place of nbgrader's Execute "
            f"(as the course repository's nbgrader_config.py does). {knowingly}")
    from autograder.preprocessors import SandboxedExecute

    return SandboxedExecute(config=settings.config).configured_limits()


# ---------------------------------------------------------------------------
# the class

@dataclass
class StudentResult:
    student: str
    status: str                    # "ok" (graded) or "error" (not graded: zero points recorded)
    message: str = ""              # what went wrong and what to do; warnings of a graded submission
    score: float = 0.0
    max_score: float = 0.0
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # grade_id -> (score, max)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""
    feedback: bool = False         # feedback/<student>/<assignment>/ was generated (autograde_class(feedback=True))


@dataclass
class ClassResult:
    assignment: str
    students: dict[str, StudentResult]
    seconds: float

    @property
    def failed(self) -> list[str]:
        return sorted(s for s, r in self.students.items() if r.status != "ok")

    def summary(self) -> str:
        lines = []
        for sid, r in sorted(self.students.items()):
            head = f"{'ok   ' if r.status == 'ok' else 'ERROR'} {sid:30} {r.score:6g}/{r.max_score:g}"
            lines.append(head + (f"  {r.message}" if r.message else ""))
        lines.append(f"{len(self.students) - len(self.failed)} graded, {len(self.failed)} with errors, "
                     f"in {self.seconds:.1f} s")
        return "\n".join(lines)


def find_students(course_dir: Path, assignment: str) -> list[str]:
    """Students with a folder ``submitted/<student>/<assignment>/``."""
    submitted = course_settings(course_dir).submitted
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir() and not p.name.startswith("."))


def autograde_class(course_dir: Path, assignment: str, students: list[str] | None = None,
                    workers: int | None = None, executor: cf.Executor | None = None, sandbox: bool = True,
                    limits=None, progress: bool = True, *, max_submission_mb: float | None = None,
                    timeout: float | None = None, feedback: bool = False, warm: str | None = None) -> ClassResult:
    """Autograde every submission (or ``students``) of ``assignment`` in the course root ``course_dir``.

    ``workers`` students are graded at once (default: the number of CPUs) in a
    thread pool, unless an ``executor`` is given (any ``concurrent.futures``
    executor, e.g. a Dask ``Client(...).get_executor()``; it is not shut down).
    ``sandbox``: run the kernels in bubblewrap (:mod:`autograder.sandbox`) with
    ``limits``.  ``timeout``: wall-clock seconds per notebook (default
    ``limits.notebook_timeout``, else 900).  ``max_submission_mb``: larger
    submissions are not graded (default 20).  ``feedback``: each graded student's feedback too
    (``nbgrader generate_feedback`` right after their autograde, in the same worker and kernels:
    the pages show this autograde's scores; after grading by hand, generate them again with
    nbgrader).  ``warm``: the socket of a running :class:`autograder.sandbox.WarmKernels` server
    to fork the kernels from (by default the batch starts one of its own).
    """
    return autograde_assignments(course_dir, [assignment], students, workers, executor, sandbox, limits, progress,
                                 max_submission_mb=max_submission_mb, timeout=timeout, feedback=feedback,
                                 warm=warm)[assignment]


@dataclass
class _Assignment:
    """One assignment's share of a batch: its students, their results so far, and the tasks to run."""

    name: str
    names: list[str]
    results: dict[str, StudentResult]
    tasks: list[Task]
    done: float = 0.0  # seconds from the start of the batch to its last result


def autograde_assignments(course_dir: Path, assignments: list[str], students: list[str] | None = None,
                          workers: int | None = None, executor: cf.Executor | None = None, sandbox: bool = True,
                          limits=None, progress: bool = True, *, max_submission_mb: float | None = None,
                          timeout: float | None = None, feedback: bool = False,
                          warm: str | None = None) -> dict[str, ClassResult]:
    """:func:`autograde_class` for several assignments in one batch, {assignment: result}.

    All their students share the workers, so no worker waits for the last student of one
    assignment before the next assignment starts.  Every assignment is checked before any
    grading starts; the gradebook is written from here only, one result at a time.
    """
    from nbgrader.api import Gradebook, MissingEntry

    start = time.monotonic()
    course_dir = Path(course_dir).resolve()
    settings = course_settings(course_dir)
    assignments = list(dict.fromkeys(assignments))
    for assignment in assignments:
        if not (settings.source / assignment).is_dir():
            raise BatchError(f"no assignment {assignment!r} in {settings.source}")
    if sandbox:
        configured = check_sandbox(settings)
        limits = limits or configured  # the per-notebook time limit and the warm server's: the course's
    with Gradebook(settings.db_url, settings.course_id) as gb:
        for assignment in assignments:
            try:
                gb.find_assignment(assignment)
            except MissingEntry:
                raise BatchError(f"the gradebook has no assignment {assignment!r}: run `nbgrader "
                                 f"generate_assignment {assignment}` in {course_dir} first") from None
        known = {s.id: {k: getattr(s, k) for k in ("first_name", "last_name", "email", "lms_user_id")}
                 for s in gb.students}
        batch = [_prepare(course_dir, settings, gb, assignment, students, known, sandbox, limits,
                          max_submission_mb, timeout) for assignment in assignments]

    tasks = [(a, t) for a in batch for t in a.tasks]
    total = sum(len(a.names) for a in batch)
    with _warm_kernels(sandbox and bool(tasks) and not warm, limits) as started:
        socket = (warm if sandbox else None) or started  # the caller's server, else the batch's own
        for _, t in tasks:
            t.warm, t.feedback = socket, feedback
        return _run_batch(settings, batch, tasks, total, assignments, workers, executor, progress, start)


@contextlib.contextmanager
def _warm_kernels(wanted: bool, limits):
    """The socket of a :class:`autograder.sandbox.WarmKernels` server for the batch's kernels, or
    None (the kernels start cold): it runs as root only, and not with COURSE_WARM_KERNELS=0."""
    if not wanted or not sandboxing.warm_kernels_possible():
        yield None
        return
    with sandboxing.WarmKernels(limits) as warm:
        if warm.problem:
            print(f"autograde: kernels start cold: {warm.problem}", file=sys.stderr)
        yield warm.socket


def _run_batch(settings: CourseSettings, batch: list[_Assignment], tasks: list, total: int, assignments: list[str],
               workers: int | None, executor: cf.Executor | None, progress: bool, start: float
               ) -> dict[str, ClassResult]:
    bar = _progress(total, ", ".join(assignments)) if progress else None
    own = executor is None
    pool = executor or cf.ThreadPoolExecutor(max_workers=max(1, min(workers or os.cpu_count() or 1, len(tasks) or 1)),
                                             thread_name_prefix="autograde")
    pending = {(a.name, t.student) for a, t in tasks}
    try:
        with gradebook.open_course_gradebook(settings) as gb:
            for a in batch:  # not gradable: zero points now
                graded = {t.student for t in a.tasks}
                for sid in a.names:
                    if sid not in graded:
                        _write_one(gb, settings, a.name, a.results[sid], None, None)
                a.done = time.monotonic() - start
            if bar:
                bar.update(total - len(tasks))
                _postfix(bar, batch, pending)
            futures = {pool.submit(grade_one, t): (a, t) for a, t in tasks}
            for fut in cf.as_completed(futures):  # each result is written as soon as it is there
                a, task = futures[fut]
                sid = task.student
                try:
                    got = fut.result()
                except Exception as err:  # noqa: BLE001 (the executor lost the task: worker died, ...)
                    got = TaskResult(sid, False, f"the task failed in the executor: {type(err).__name__}: {err}")
                _record(a.results[sid], got)
                _write_one(gb, settings, a.name, a.results[sid], got, task)
                pending.discard((a.name, sid))
                a.done = time.monotonic() - start
                if bar:
                    bar.update(1)
                    _postfix(bar, batch, pending)
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
        if bar:
            bar.close()
    return {a.name: ClassResult(a.name, {sid: a.results[sid] for sid in a.names}, a.done) for a in batch}


def _prepare(course_dir: Path, settings: CourseSettings, gb, assignment: str, students: list[str] | None,
             known: dict, sandbox: bool, limits, max_submission_mb: float | None,
             timeout: float | None) -> _Assignment:
    """Check each submission of ``assignment`` and make the tasks for the gradable ones."""
    source = settings.source / assignment
    template = gradebook.template(gb, assignment, settings.course_id, settings.db_url)
    names = students if students is not None else find_students(course_dir, assignment)
    expected = validate.expected_cells(settings.source, assignment)
    others = {a.name: validate.expected_cells(settings.source, a.name) for a in settings.source.iterdir()
              if a.is_dir() and a.name != assignment}
    per_notebook = timeout or getattr(limits, "notebook_timeout", None) or DEFAULT_NOTEBOOK_TIMEOUT
    config = (course_dir / "nbgrader_config.py").read_bytes() if (course_dir / "nbgrader_config.py").exists() else b""
    source_files = {str(p.relative_to(source)): p.read_bytes() for p in sorted(source.rglob("*"))
                    if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}

    results: dict[str, StudentResult] = {}
    tasks: list[Task] = []
    for sid in names:
        check = validate.check_submission(course_dir, assignment, sid, expected=expected, others=others,
                                          source_dir=settings.source, submitted_dir=settings.submitted,
                                          **({"max_mb": max_submission_mb} if max_submission_mb else {}))
        if not check.gradable:
            results[sid] = StudentResult(sid, "error", check.error + " Zero points recorded, marked for manual "
                                         "grading and flagged.", warnings=check.warnings)
            continue
        tasks.append(Task(assignment, sid, settings.course_id, config, source_files, template,
                          _submission_files(settings.submitted / sid / assignment, check),
                          per_notebook * max(1, len(check.notebooks)), sandbox, limits, known.get(sid, {}),
                          extension=_extension(gb, assignment, sid)))
        results[sid] = StudentResult(sid, "ok", warnings=check.warnings)
    return _Assignment(assignment, list(names), results, tasks)


def _extension(gb, assignment: str, student: str) -> timedelta | None:
    """The extension the student was granted for the assignment (stored with the submission), if any."""
    from nbgrader.api import MissingEntry

    try:
        return gb.find_submission(assignment, student).extension
    except MissingEntry:
        return None


def _submission_files(folder: Path, check: validate.Check) -> dict[str, bytes]:
    """The files to grade: every file but notebooks, and each gradable notebook under its right name."""
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file() and p.suffix != ".ipynb" and ".ipynb_checkpoints" not in p.parts}
    for name, path in check.notebooks.items():
        files[f"{name}.ipynb"] = (nbformat.writes(check.repaired[name]).encode() if name in check.repaired
                                  else path.read_bytes())
    return files


def _record(result: StudentResult, got: TaskResult) -> None:
    result.seconds, result.log = got.seconds, got.log
    if not got.ok:
        result.status = "error"
        result.message = got.error + " Zero points recorded, marked for manual grading and flagged."


def _timestamp(folder: Path) -> datetime | None:
    from nbgrader.utils import parse_utc

    try:
        text = (folder / "timestamp.txt").read_text().strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError):
        return None


def _write_one(gb, settings: CourseSettings, assignment: str, res: StudentResult, got: TaskResult | None,
               task: Task | None) -> None:
    """Write one student's result into the course's gradebook and autograded/ (the coordinator only),
    then read the student's scores back from the gradebook into ``res``."""
    import warnings

    from sqlalchemy.exc import SAWarning

    sid = res.student
    with warnings.catch_warnings():
        # nbgrader's add_submission warns about its own session handling (harmless; its autograde does too)
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(sid, **(task.student_info if task else {}))
        dest = settings.autograded / sid / assignment
        if res.status == "ok" and got is not None:
            ts = got.timestamp
            sub = gb.update_or_create_submission(assignment, sid, **({"timestamp": ts} if ts else {}))
            for nb in sub.notebooks:
                data = got.notebooks.get(nb.name)
                for grade in nb.grades:
                    auto = data["grades"].get(grade.name, (None, None))[0] if data else 0.0
                    grade.auto_score = auto
                    # SaveAutoGrades' rule; a notebook nbgrader did not grade (missing) is 0, no review
                    grade.needs_manual_grade = bool(data) and (grade.manual_score is not None or auto is None)
                for comment in nb.comments:
                    if data and comment.name in data["comments"]:
                        comment.auto_comment = data["comments"][comment.name]
                if data:
                    nb.late_submission_penalty = data["late_penalty"]
            gb.db.commit()
            _write_tree(_clear(dest), got.autograded)
            if got.feedback is not None:
                _write_tree(_clear(settings.feedback / sid / assignment), got.feedback)
                res.feedback = True
            elif got.feedback_error:
                res.warnings.append(f"No feedback: {got.feedback_error}.")
        else:
            ts = _timestamp(settings.submitted / sid / assignment)
            sub = gb.update_or_create_submission(assignment, sid, **({"timestamp": ts} if ts else {}))
            for nb in sub.notebooks:
                for grade in nb.grades:
                    grade.auto_score = 0.0
                    grade.needs_manual_grade = True
                nb.flagged = True
            gb.db.commit()
            _clear(dest)  # no stale autograded notebooks (feedback would come from them)
            if task is not None and task.feedback:  # nor stale feedback pages to release
                _clear(settings.feedback / sid / assignment)
        sub = gb.find_submission(assignment, sid)
        res.scores = {g.name: (float(g.score), float(g.max_score)) for nb in sub.notebooks for g in nb.grades}
    res.score = sum(v for v, _ in res.scores.values())
    res.max_score = sum(m for _, m in res.scores.values())
    extra = [w for w in res.warnings if w not in res.message]
    res.message = " ".join(filter(None, [res.message, *extra]))


def _clear(folder: Path) -> Path:
    """``folder``, with nothing in it any more (it is made again by what is written there)."""
    if folder.exists():
        shutil.rmtree(folder)
    return folder


def _progress(total: int, assignment: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"autograde {assignment}", unit="student", file=sys.stderr)


def _postfix(bar, batch: list[_Assignment], pending: set[tuple[str, str]]) -> None:
    done = [r for a in batch for s, r in a.results.items() if (a.name, s) not in pending]
    bar.set_postfix(graded=sum(r.status == "ok" for r in done), failed=sum(r.status != "ok" for r in done))


# ---------------------------------------------------------------------------
# the command: python -m autograder autograde

def add_arguments(parser) -> None:
    parser.epilog = ("Writes the grades into the course's gradebook and the notebooks into autograded/. Exit 1 "
                     "if a student could not be graded (they get zero points and are flagged), 2 if nothing could.")
    parser.add_argument("assignment", nargs="+", help="one or more: all their students share the workers")
    parser.add_argument("--workers", type=int, default=None, help="students at once (default: number of CPUs)")
    parser.add_argument("--no-sandbox", action="store_true", help="run the kernels without the bubblewrap sandbox")
    parser.add_argument("--dask", metavar="ADDRESS|local",
                        help="grade on a Dask cluster (scheduler address), or 'local' for a local one")
    parser.add_argument("--student", action="append", metavar="ID", help="only this student (repeatable)")
    parser.add_argument("--timeout", type=float, default=None, help="wall-clock seconds per notebook (default 900)")
    parser.add_argument("--max-submission-mb", type=float, default=None,
                        help="larger submissions are not graded (default 20)")
    parser.add_argument("--feedback", action="store_true",
                        help="also generate each graded student's feedback (nbgrader generate_feedback) in the same "
                             "batch, kernels and sandbox; release it with nbgrader release_feedback")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    cli.add_course_dir(parser)


def run(args) -> int:
    with _executor(args.dask, args.workers) as executor:
        try:
            results = autograde_assignments(args.course_dir, args.assignment, students=args.student or None,
                                            workers=args.workers, executor=executor, sandbox=not args.no_sandbox,
                                            progress=not args.quiet,
                                            max_submission_mb=args.max_submission_mb, timeout=args.timeout,
                                            feedback=args.feedback)
        except (BatchError, sandboxing.SandboxError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    for name, result in results.items():
        print(f"{name}:\n{result.summary()}" if len(results) > 1 else result.summary())
    return 1 if any(r.failed for r in results.values()) else 0


@contextlib.contextmanager
def _executor(dask: str | None, workers: int | None):
    if not dask:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SystemExit("--dask needs Dask: pip install 'dask[distributed]'") from None
    if dask == "local":
        with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client.get_executor()
    else:
        with Client(dask) as client:
            yield client.get_executor()
