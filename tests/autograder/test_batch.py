"""Class-scale autograding (autograder.batch): the same grades as nbgrader's serial
``nbgrader autograde``, with any executor, and one student's bad submission never
stops the others."""
from __future__ import annotations

import difflib
import json
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from autograder import batch, cells, gradebook, validate
from autograder.course_root import CourseRoot, code_cells
from autograder.preprocessors import AUTOGRADE_PREPROCESSORS
from autograder.wrong_answers import cases
from tests.helpers import REPO, checksums, page_text

pytestmark = pytest.mark.slow

A = "week1_forward_pass"
NB = "01_forward_pass"
WRONG = next(c for c in cases(A) if c.kind == "wrong")


def serial_grades(root: CourseRoot, *students: str) -> dict:
    """nbgrader's own serial autograde, one student at a time (nbgrader exits 1 if any notebook failed)."""
    for sid in students:
        root.nbgrader("autograde", A, "--force", f"--student={sid}")
    return {s: g for s, g in root.grades(A).items() if s in students}


def gradebook_rows(root: Path, student: str):
    """Everything autograde writes for a student: scores, review flags, comments, late penalties, timestamp."""
    return gradebook.student_scores(f"sqlite:///{root / 'gradebook.db'}", "intro-dl", A, student)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> CourseRoot:
    """A course root with week 1a generated and three submissions: solution, blank, one wrong answer."""
    root = CourseRoot.create(tmp_path_factory.mktemp("batch") / "course", [A])
    root.generate(A)
    root.submit("solution", A, root.student_notebooks(A, {}))
    root.submit("blank", A, root.student_notebooks(A, None))
    root.submit("wrong", A, root.student_notebooks(A, WRONG.answers))
    return root


@pytest.fixture(scope="module")
def serial(course, tmp_path_factory) -> CourseRoot:
    root = course.copy(tmp_path_factory.mktemp("serial") / "course")
    root.autograde(A)
    return root


def test_parallel_grades_equal_nbgraders_serial_autograde(course, serial, tmp_path, capsys):
    root = course.copy(tmp_path / "course")
    before = checksums(root.path / "submitted")
    result = batch.autograde_class(root.path, A, workers=2, sandbox=False, progress=True)

    assert result.failed == [], result.summary()
    assert root.grades(A) == serial.grades(A)
    for sid in ("solution", "blank", "wrong"):
        assert gradebook_rows(root.path, sid) == gradebook_rows(serial.path, sid)
        assert (root.path / "autograded" / sid / A / f"{NB}.ipynb").exists()
    full = sum(code_cells(A, "grade").values())
    assert sum(s for s, _ in root.grades(A)["solution"].values()) == full
    assert result.students["blank"].status == "ok"
    assert checksums(root.path / "submitted") == before, "autograding changed submitted/"
    err = capsys.readouterr().err
    assert f"autograde {A}" in err and "graded=3" in err and "failed=0" in err, err


def test_any_concurrent_futures_executor(course, serial, tmp_path):
    root = course.copy(tmp_path / "course")
    with ThreadPoolExecutor(2) as pool:
        result = batch.autograde_class(root.path, A, students=["solution", "wrong"], executor=pool,
                                       sandbox=False, progress=False)
        assert not pool._shutdown, "an executor passed in must not be shut down"
    assert result.failed == []
    assert root.grades(A) == {s: serial.grades(A)[s] for s in ("solution", "wrong")}


def test_several_assignments_in_one_batch(course, serial, tmp_path, capsys):
    from autograder.__main__ import main

    root = course.copy(tmp_path / "course")
    with pytest.raises(batch.BatchError, match="no assignment 'nope'"):  # checked before anything is graded
        batch.autograde_assignments(root.path, [A, "nope"], sandbox=False, progress=False)
    assert not (root.path / "autograded").exists()
    shutil.copytree(REPO / "source" / A, root.path / "source" / "again")  # week 1a once more, as another
    root.generate("again")
    for sid in ("solution", "wrong"):
        shutil.copytree(root.path / "submitted" / sid / A, root.path / "submitted" / sid / "again")

    assert main(["autograde", A, "again", "--course-dir", str(root.path), "--student", "solution", "--student",
                 "wrong", "--workers", "2", "--no-sandbox", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"{A}:\n" in out and "again:\n" in out and out.count("2 graded, 0 with errors") == 2, out
    expected = {s: serial.grades(A)[s] for s in ("solution", "wrong")}
    assert root.grades(A) == expected and root.grades("again") == expected
    assert (root.path / "autograded" / "wrong" / "again" / f"{NB}.ipynb").exists()


def _words(text: str) -> list[str]:
    """A page's words, sorted, without output prompts: a busy kernel may send a cell's printed text in
    parts, split between two lines or around the cell's value (ipykernel flushes stdout on a timer)."""
    return sorted(w for w in text.split() if not re.fullmatch(r"Out\[\d+\]:", w))


def test_feedback_in_the_batch_is_nbgraders_generate_feedback(course, serial, tmp_path, capsys):
    """``autograde --feedback``: each student's pages, generated in the batch's scratch root right after
    their autograde (sandboxed, warm kernels as root), read as nbgrader's generate_feedback makes
    them in the course root after nbgrader's own autograde; an earlier page does not linger."""
    from autograder.__main__ import main

    root = course.copy(tmp_path / "course")
    stale = root.path / "feedback" / "wrong" / A / "from-an-earlier-run.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    assert main(["autograde", A, "--feedback", "--course-dir", str(root.path), "--student", "solution",
                 "--student", "wrong", "--workers", "2", "--quiet"]) == 0, capsys.readouterr()
    own = serial.copy(tmp_path / "serial")
    own.nbgrader("generate_feedback", A)
    assert not stale.exists()
    for sid in ("solution", "wrong"):
        ours, theirs = (r / "feedback" / sid / A for r in (root.path, own.path))
        assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir())
        mine, nbgraders = (_words(page_text(f / f"{NB}.html")) for f in (ours, theirs))
        assert mine == nbgraders, f"{sid}: " + " ".join(difflib.unified_diff(nbgraders, mine, lineterm="", n=0))
        assert len(mine) > 1000, "a whole notebook's page"
        assert (ours / "timestamp.txt").read_text() == (theirs / "timestamp.txt").read_text()


def test_dask_distributed_executor(course, serial, tmp_path):
    import distributed  # a test dependency (pyproject.toml's test extra)

    root = course.copy(tmp_path / "course")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) \
            as cluster, distributed.Client(cluster) as client:
        result = batch.autograde_class(root.path, A, students=["blank", "wrong"], executor=client.get_executor(),
                                       sandbox=False, progress=False)
    assert result.failed == [], result.summary()
    assert root.grades(A) == {s: serial.grades(A)[s] for s in ("blank", "wrong")}


def _sandbox_ready() -> str:
    from autograder import sandbox

    return "" if sandbox.available() else f"the sandbox does not work on this machine: {sandbox.probe()}"


def test_sandbox_unusable_is_a_clear_error(course, tmp_path, monkeypatch, capsys):
    from autograder import sandbox
    from autograder.__main__ import main
    from autograder.sandbox import bwrap

    monkeypatch.setattr(bwrap, "bwrap_path", lambda: None)
    sandbox.probe.cache_clear()
    try:
        root = course.copy(tmp_path / "course")
        with pytest.raises(sandbox.SandboxError, match="apt-get install -y bubblewrap") as err:
            batch.autograde_class(root.path, A, sandbox=True, progress=False)
        assert "--no-sandbox" in str(err.value)
        assert main(["autograde", A, "--course-dir", str(root.path), "--quiet"]) == 2
        assert "Cannot sandbox student code" in capsys.readouterr().err
        assert not (root.path / "autograded").exists()
    finally:
        monkeypatch.undo()
        sandbox.probe.cache_clear()


STEPS = "c.Autograde.autograde_preprocessors = list(AUTOGRADE_PREPROCESSORS)"


@pytest.mark.parametrize("change", [
    (STEPS, f"c.Autograde.autograde_preprocessors = {['nbgrader.preprocessors.Execute', *AUTOGRADE_PREPROCESSORS[1:]]!r}"),
    ("c.SandboxedExecute.limits = {}", 'c.Autograde.autograde_preprocessors.append("nbgrader.preprocessors.Execute")'),
    ("c.SandboxedExecute.limits = {}", 'c.SandboxedExecute.limits = {"memroy_mb": 4096}'),  # a typo
    ("c.SandboxedExecute.limits = {}", 'c.Execute.kernel_name = "python3"'),
])
def test_a_course_config_that_would_grade_outside_the_sandbox_or_wrongly_is_refused(course, tmp_path, capsys, change):
    """The batch grader refuses before grading anyone (exit 2; no grade overwritten with zeros), instead
    of grading with the instructor's rights or failing every student's run one by one."""
    from autograder.__main__ import main

    root = course.copy(tmp_path / "course")
    config = root.path / "nbgrader_config.py"
    text = config.read_text()
    assert change[0] in text
    config.write_text(text.replace(change[0], change[1]))
    assert main(["autograde", A, "--course-dir", str(root.path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "outside the sandbox" in err or "Nothing was graded" in err, err
    assert not (root.path / "autograded").exists()


def test_the_batch_grader_takes_its_limits_from_the_course_config(course, tmp_path):
    root = course.copy(tmp_path / "course")
    with open(root.path / "nbgrader_config.py", "a") as config:
        config.write('\nc.SandboxedExecute.limits = {"notebook_timeout": 1234}\n')
    assert batch.check_sandbox(batch.course_settings(root.path)).notebook_timeout == 1234


def test_sandboxed_grades_equal_serial(course, serial, tmp_path, warm_kernels):
    why = _sandbox_ready()
    assert not why, f"the sandbox cannot run here: {why}"
    root = course.copy(tmp_path / "course")
    result = batch.autograde_class(root.path, A, workers=2, sandbox=True, progress=False, warm=warm_kernels)
    assert result.failed == [], result.summary()
    assert root.grades(A) == serial.grades(A)


def _outputs(root: Path, student: str) -> list:
    """Every cell's outputs in the autograded notebook, without what differs between any two runs."""
    import re

    nb = nbformat.read(root / "autograded" / student / A / f"{NB}.ipynb", as_version=4)
    cells = []
    for cell in nb.cells:
        outs = []
        for out in cell.get("outputs", []):  # how printed text was cut into messages is timing
            if out["output_type"] == "stream" and outs and outs[-1].get("name") == out["name"]:
                outs[-1] = {**outs[-1], "text": outs[-1]["text"] + out["text"]}
            else:
                outs.append(dict(out))
        cells.append(outs)
    text = re.sub(r'"nonce": "[0-9a-f]+"', '"nonce": "N"', json.dumps(cells, sort_keys=True))  # hidden-test markers
    return json.loads(re.sub(r"ipykernel_\d+", "ipykernel_N", text))  # the kernel's pid in the traceback


def test_warm_kernels_grade_exactly_like_cold_ones(course, tmp_path, monkeypatch):
    """The batch's kernels are forks of a warm-kernel server (as root): the same grades, the same
    feedback, plots included, as kernels started cold, and every kernel of the batch was warm."""
    why = _sandbox_ready()
    assert not why, f"the sandbox cannot run here: {why}"
    from autograder import sandbox

    assert sandbox.warm_kernels_possible(), "warm kernels need root (CI runs as root)"
    started = []

    class Recording(sandbox.WarmKernels):
        def close(self):
            started.append(self.kernels_started())
            super().close()

    roots = {}
    monkeypatch.delenv("MPLBACKEND", raising=False)  # conftest's Agg would hide the plots: the kernels' own
    for mode in ("cold", "warm"):
        monkeypatch.setenv("COURSE_WARM_KERNELS", "0" if mode == "cold" else "1")
        monkeypatch.setattr(sandbox, "WarmKernels", Recording)
        roots[mode] = course.copy(tmp_path / mode)
        result = batch.autograde_class(roots[mode].path, A, workers=2, sandbox=True, progress=False)
        assert result.failed == [], result.summary()
        assert not [s for s, r in result.students.items() if "no warm kernel" in r.log]
    assert started == [3], "one warm kernel per student, none cold"
    for sid in ("solution", "blank", "wrong"):
        assert gradebook_rows(roots["warm"].path, sid) == gradebook_rows(roots["cold"].path, sid)
        warm, cold = _outputs(roots["warm"].path, sid), _outputs(roots["cold"].path, sid)
        assert warm == cold, sid
    images = [o for cell in _outputs(roots["warm"].path, "solution") for o in cell if "image/png" in o.get("data", {})]
    assert images, "the decision-boundary plot is in the feedback"


def test_without_root_kernels_start_cold(monkeypatch):
    from autograder import sandbox
    from autograder.sandbox import warm

    monkeypatch.setattr(warm, "privileged", lambda: False)
    assert not sandbox.warm_kernels_possible()
    with batch._warm_kernels(True, None) as socket:
        assert socket is None
    monkeypatch.undo()
    monkeypatch.setenv("COURSE_WARM_KERNELS", "0")
    assert not sandbox.warm_kernels_possible()


# --- bad input -----------------------------------------------------------------------------------

def _solution(course: CourseRoot) -> nbformat.NotebookNode:
    return course.student_notebooks(A, {})[NB]


def _put(root: CourseRoot, sid: str, files: dict[str, bytes]) -> None:
    folder = root.path / "submitted" / sid / A
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "timestamp.txt").write_text("2026-11-22 10:00:00.000000 UTC")


def _bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


def grade_bad_class(course, tmp_path_factory):
    """One class with every kind of bad input, autograded in one batch, and nbgrader's serial grades of the
    submissions it grades anyway."""
    root = course.copy(tmp_path_factory.mktemp("bad") / "course")
    shutil.rmtree(root.path / "submitted")
    sol = _solution(course)
    _put(root, "ok", {f"{NB}.ipynb": _bytes(sol)})
    _put(root, "corrupt", {f"{NB}.ipynb": _bytes(sol)[:5000]})
    _put(root, "renamed", {f"{NB}-Copy1.ipynb": _bytes(sol)})
    _put(root, "missing", {"notes.txt": b"I forgot the notebook"})
    other = nbformat.read(REPO / "source" / "week1_banknote_fcnn" / "02_banknote_fcnn.ipynb", as_version=4)
    shutil.copytree(REPO / "source" / "week1_banknote_fcnn", root.path / "source" / "week1_banknote_fcnn")
    _put(root, "other", {f"{NB}.ipynb": _bytes(other)})
    dup = nbformat.from_dict(sol)
    test_cell = cells.find(dup, "relu_tests")
    dup.cells.append(nbformat.from_dict(json.loads(json.dumps(test_cell))))
    _put(root, "duplicate", {f"{NB}.ipynb": _bytes(dup)})
    deleted = nbformat.from_dict(sol)
    deleted.cells = [c for c in deleted.cells if cells.meta(c).get("grade_id") != "sigmoid_tests"]
    _put(root, "deleted", {f"{NB}.ipynb": _bytes(deleted)})
    _put(root, "huge", {f"{NB}.ipynb": _bytes(sol), "weights.bin": os.urandom(50 * 2**20)})
    crash = course.student_notebooks(A, {"relu": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"})[NB]
    _put(root, "crash", {f"{NB}.ipynb": _bytes(crash)})

    before = checksums(root.path / "submitted")
    result = batch.autograde_class(root.path, A, workers=2, sandbox=False, progress=False)
    after = checksums(root.path / "submitted")

    ref = course.copy(tmp_path_factory.mktemp("bad-serial") / "course")
    shutil.rmtree(ref.path / "submitted")
    for sid in ("ok", "deleted"):
        shutil.copytree(root.path / "submitted" / sid, ref.path / "submitted" / sid)
    return root, result, serial_grades(ref, "ok", "deleted"), before, after


def check_bad_input_never_changes_submitted_files(bad):
    _, _, _, before, after = bad
    assert before == after


def check_every_student_gets_a_grade_and_good_ones_are_graded(bad):
    root, result, reference, _, _ = bad
    grades = root.grades(A)
    assert set(grades) == set(result.students)
    full = sum(code_cells(A, "grade").values())
    for sid in ("ok", "renamed", "duplicate"):  # nbgrader 0.9.6 itself fails on the duplicate ids
        assert result.students[sid].status == "ok", result.students[sid].message
        assert sum(s for s, _ in grades[sid].values()) == full
    for sid in ("ok", "deleted"):  # graded anyway, exactly as nbgrader grades them
        assert grades[sid] == reference[sid]
    # the course sets OverwriteCells.add_missing_cells: the deleted test cell is put back and run
    assert grades["deleted"]["sigmoid_tests"] == grades["ok"]["sigmoid_tests"]
    for sid in ("corrupt", "missing", "other", "huge", "crash"):
        r = result.students[sid]
        assert r.status == "error"
        assert set(grades[sid]) == set(grades["ok"]), f"{sid}: every cell must have a (zero) grade"
        assert all(score == 0 for score, _ in grades[sid].values())


MESSAGES = [
    ("corrupt", "error", ["01_forward_pass.ipynb", "not valid notebook JSON", "gets 0 points"]),
    ("renamed", "ok", ["01_forward_pass-Copy1.ipynb", "graded as 01_forward_pass.ipynb"]),
    ("missing", "error", ["01_forward_pass.ipynb is missing"]),
    ("other", "error", ["week1_banknote_fcnn/02_banknote_fcnn.ipynb", "another assignment"]),
    ("duplicate", "ok", ["relu_tests", "copied cells", "last cell"]),
    ("deleted", "ok", ["sigmoid_tests", "deleted", "add_missing_cells"]),
    ("huge", "error", ["MB", "limit of 20 MB", "--max-submission-mb"]),
    ("crash", "error", ["nbgrader autograde failed", "Zero points recorded"]),
]


def check_each_problem_has_a_clear_message(bad):
    _, result, _, _, _ = bad
    problems = []
    for sid, status, words in MESSAGES:
        r = result.students[sid]
        if r.status != status:
            problems.append(f"{sid}: status {r.status}, expected {status}: {r.message}")
        problems += [f"{sid}: {word!r} not in {r.message!r}" for word in words if word not in r.message]
    assert not problems, "\n".join(problems)


def check_failed_submissions_are_flagged_for_review(bad):
    from nbgrader.api import Gradebook

    root, _, _, _, _ = bad
    with Gradebook(f"sqlite:///{root.path / 'gradebook.db'}", "intro-dl") as gb:
        crash = gb.find_submission(A, "crash")
        assert all(nb.flagged for nb in crash.notebooks)
        assert all(g.needs_manual_grade for nb in crash.notebooks for g in nb.grades)
        assert crash.timestamp is not None
    assert not (root.path / "autograded" / "crash" / A).exists()


def test_bad_input(course, tmp_path_factory):
    """Every kind of bad input in one class, graded in one batch (one test: the batch takes a while)."""
    bad = grade_bad_class(course, tmp_path_factory)
    check_bad_input_never_changes_submitted_files(bad)
    check_every_student_gets_a_grade_and_good_ones_are_graded(bad)
    check_each_problem_has_a_clear_message(bad)
    check_failed_submissions_are_flagged_for_review(bad)
    check_a_size_limit_is_configurable(bad)


def test_timeout_kills_the_run_and_records_zero(course, tmp_path):
    root = course.copy(tmp_path / "course")
    loop = course.student_notebooks(A, {"sigmoid": "import time\nwhile True:\n    time.sleep(0.1)"})[NB]
    root.submit("looper", A, {NB: loop})
    # alone: on a busy machine a normal student could run out of 6 s too (the crash in test_bad_input
    # shows that the others are graded)
    result = batch.autograde_class(root.path, A, students=["looper"], sandbox=False, progress=False, timeout=6)
    looper = result.students["looper"]
    assert looper.status == "error" and "ran out of time (6 s" in looper.message
    assert looper.seconds < 34
    grades = root.grades(A)["looper"]
    assert set(grades) == set(code_cells(A, "grade")) and all(s == 0 for s, _ in grades.values())
    assert not _alive("autograde-looper-"), "the kernel of a stopped run must be killed too"


def _alive(scratch: str) -> bool:
    """Is a process (nbgrader, its kernel) still running in a scratch course root named like this?"""
    import psutil

    return any(scratch in (p.info["cwd"] or "") for p in psutil.process_iter(["cwd"]))


def check_a_size_limit_is_configurable(bad):
    root, _, _, _, _ = bad
    assert not validate.check_submission(root.path, A, "huge").gradable
    assert validate.check_submission(root.path, A, "huge", max_mb=100).gradable


def test_missing_notebook_of_several_grades_the_others(tmp_path):
    """week 2 has two notebooks: one missing leaves the other to be graded (validation only)."""
    course = tmp_path / "course"
    shutil.copytree(REPO / "source", course / "source")
    folder = course / "submitted" / "s" / "week2_loss_sgd"
    folder.mkdir(parents=True)
    shutil.copy(REPO / "release" / "week2_loss_sgd" / "03_loss_and_sgd.ipynb", folder)
    check = validate.check_submission(course, "week2_loss_sgd", "s")
    assert check.gradable and list(check.notebooks) == ["03_loss_and_sgd"]
    assert any("04_playground.ipynb is missing" in w and "others are graded" in w for w in check.warnings)


@pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")  # nbgrader's add_submission
def test_extensions_count_as_with_nbgraders_autograde(course, tmp_path, warm_kernels):
    """A late submission is penalised (the course here takes the points of a late submission); a
    student granted an extension with nbgrader (Gradebook.grant_extension) who submits after the
    deadline but within the extension is not, in the batch grader exactly as in nbgrader autograde."""
    from datetime import datetime, timedelta, timezone

    from nbgrader.api import Gradebook

    now = datetime.now(timezone.utc)

    def late_class(path: Path) -> CourseRoot:
        root = CourseRoot.create(path, [A])
        with open(root.path / "nbgrader_config.py", "a") as config:
            config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
        root.generate(A)
        for sid in ("extended", "late"):
            root.submit(sid, A, root.student_notebooks(A, {}), timestamp=now)
        with Gradebook(f"sqlite:///{root.path / 'gradebook.db'}", "intro-dl") as gb:
            gb.update_or_create_assignment(A, duedate=now - timedelta(days=1))
            for sid in ("extended", "late"):
                gb.update_or_create_student(sid)
            gb.update_or_create_submission(A, "extended")  # an extension is kept with the submission
            gb.grant_extension(A, "extended", days=3)
        return root

    full = sum(code_cells(A, "grade").values())
    ours, theirs = late_class(tmp_path / "batch"), late_class(tmp_path / "serial")
    result = batch.autograde_class(ours.path, A, workers=2, sandbox=True, progress=False, warm=warm_kernels)
    assert result.failed == [], result.summary()
    theirs.nbgrader("autograde", A)
    for root in (ours, theirs):
        with Gradebook(f"sqlite:///{root.path / 'gradebook.db'}", "intro-dl") as gb:
            extended, late = gb.find_submission(A, "extended"), gb.find_submission(A, "late")
            assert extended.extension == timedelta(days=3)
            assert (extended.score, extended.late_submission_penalty) == (full, 0), root.path.name
            assert (late.score, late.late_submission_penalty) == (full, full), root.path.name
    assert gradebook_rows(ours.path, "extended") == gradebook_rows(theirs.path, "extended")
    assert gradebook_rows(ours.path, "late") == gradebook_rows(theirs.path, "late")
