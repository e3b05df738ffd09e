"""Grading is right: the batch grader (nbgrader, in the sandbox) autogrades the solution, a blank
notebook and the catalogue of wrong answers (autograder/wrong_answers/) as expected."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from autograder import catalogue, cells, hidden, runner, sandbox
from autograder.course_root import assignments, code_cells
from autograder.wrong_answers import cases
from tests.helpers import REPO, page_text

ASSIGNMENTS = assignments()


def _grade_cells(name):
    return code_cells(name, "grade")


class Catalogue:
    """The slow tests of one assignment's catalogue.  Each assignment gets a class of its own
    (below), whose fixture autogrades the catalogue once: `make test` runs pytest-xdist with
    --dist loadscope, which keeps a class's tests on one worker and lets the other worker grade
    another assignment's catalogue at the same time (tests/test_scopes.py checks it)."""

    assignment: str

    @pytest.fixture(scope="class")
    @classmethod
    def graded(cls, tmp_path_factory, warm_kernels):
        """Every catalogue case of the assignment, autograded by nbgrader:
        (assignment, outcome by student, the folder it was graded in)."""
        name = cls.assignment
        workdir = tmp_path_factory.mktemp(name)
        outcomes = catalogue.grade(name, workdir, workers=2, progress=False, course_dir=REPO, warm=warm_kernels)
        return name, {o.student: o for o in outcomes}, workdir

    @pytest.mark.slow
    def test_solution_gets_full_marks(self, graded):
        name, by_student, _ = graded
        sol = by_student[catalogue.SOLUTION]
        assert sol.grades, "the solution was not graded"
        assert set(sol.grades) == set(_grade_cells(name)), "every grade cell should be graded"
        assert sol.score == sol.max_score == sum(_grade_cells(name).values()), sol.lost

    @pytest.mark.slow
    def test_grade_cells_of_the_solution_show_no_result(self, graded):
        """nbgrader reads a grade cell's output as its score: a test cell must end without a value
        (nbgrader warns and, for now, gives full credit to any other output)."""
        name, _, workdir = graded
        found = sorted(workdir.glob(f"course/autograded/{catalogue.SOLUTION}/{name}/*.ipynb"))
        assert found, f"no autograded notebooks of the solution of {name}"
        shown = [f"{path.stem}/{grade_id}: {out.get('data', {}).get('text/plain', '')[:80]}" for path in found
                 for grade_id, out in cells.graded_outputs(nbformat.read(path, as_version=4))
                 if out.get("output_type") == "execute_result"]
        assert not shown, "grade cells that end with a value (end them with `;` or a statement):\n" + "\n".join(shown)

    @pytest.mark.slow
    def test_untouched_student_version_gets_zero(self, graded):
        _, by_student, _ = graded
        blank = by_student[catalogue.BLANK]
        assert blank.grades and blank.max_score > 0
        assert blank.score == 0, f"a blank notebook earned points in {[g for g, (s, _) in blank.grades.items() if s]}"

    @pytest.mark.slow
    def test_every_case_graded_as_expected(self, graded):
        """Each wrong answer loses points where it should; each alternative right answer keeps full marks."""
        _, by_student, _ = graded
        problems = [f"{o.student}: {o.problem()}" for o in by_student.values() if o.problem()]
        assert not problems, "\n".join(problems)
        for o in by_student.values():
            if o.case and o.case.kind == "wrong":
                assert o.score < o.max_score

    @pytest.mark.slow
    def test_feedback_never_shows_what_the_hidden_tests_printed(self, graded, warm_kernels):
        """nbgrader's generate_feedback, with the course's config, for every submission of the
        catalogue whose hidden tests printed or raised anything (the others have nothing of theirs to
        show): no number or message of it is in the feedback page, unless the student sees it anyway
        (in the released notebook, their own answers, the visible tests).  A catalogue hint that a
        hidden test gave is in the page too."""
        import shutil

        name, by_student, workdir = graded
        root = workdir / "course"
        said = {}  # student: their autograded notebooks, if a hidden test printed or raised something
        for folder in sorted((root / "autograded").iterdir()):
            nbs = {p: nbformat.read(p, as_version=4) for p in sorted((folder / name).glob("*.ipynb"))}
            if any(hidden.split_outputs(c)[1] for nb in nbs.values() for c in nb.cells
                   if c.cell_type == "code" and hidden.BEGIN in c.source):
                said[folder.name] = nbs
        failed = sum(any(o.get("output_type") == "error" for o in hidden.split_outputs(c)[1])
                     for nbs in said.values() for nb in nbs.values() for c in nb.cells
                     if c.cell_type == "code" and hidden.BEGIN in c.source)
        assert failed >= 1, f"no wrong answer of {name} fails a hidden test: the check would mean nothing"

        feedback = workdir / "feedback-root"  # the class, with only those students autograded
        shutil.copytree(root, feedback, ignore=lambda d, names: names if Path(d).name == "autograded" and
                        Path(d).parent == root else [])
        for student in said:
            shutil.copytree(root / "autograded" / student, feedback / "autograded" / student)
        # nbgrader's own generate_feedback, its kernels forked from the warm server the catalogue was graded with
        # (as root; they grade exactly as cold ones: test_batch.py), not each a new Python importing torch
        runner.nbgrader(feedback, "generate_feedback", name,
                        env={**runner.nbgrader_env(), **sandbox.kernel_env(warm=warm_kernels)})
        release = {p.stem: p.read_text() for p in (root / "release" / name).glob("*.ipynb")}
        problems = []
        for student, nbs in said.items():
            for path, autograded in nbs.items():
                own = (root / "submitted" / student / name / path.name).read_text()
                page = feedback / "feedback" / student / name / f"{path.stem}.html"
                found = hidden.leaks(autograded, page_text(page), release[path.stem] + own)
                if found:
                    problems.append(f"{student}/{path.stem}: {found[:5]}")
            hints = [" ".join(o.case.hint.split()) for o in by_student.values()  # of a case, or a pack's cases
                     if o.case and o.case.hint and (o.graded_as or o.student) == student]
            gave = " ".join(" ".join(hidden.output_text(o).split()) for nb in nbs.values() for c in nb.cells
                            if c.cell_type == "code" and hidden.BEGIN in c.source for o in hidden.split_outputs(c)[1])
            pages = " ".join(" ".join(page_text(feedback / "feedback" / student / name / f"{p.stem}.html").split())
                             for p in nbs)
            problems += [f"{student}: the hint {hint!r} of a hidden test is not in the feedback"
                         for hint in hints if hint in gave and hint not in pages]
        assert not problems, "feedback shows what hidden tests printed:\n" + "\n".join(problems)
        print(f"{name}: {len(said)} feedback pages checked, {failed} failing hidden tests")

for _name in ASSIGNMENTS:  # TestCatalogue_week1_forward_pass, ...: one class (one xdist scope) per assignment
    globals()[f"TestCatalogue_{_name}"] = type(f"TestCatalogue_{_name}", (Catalogue,), {"assignment": _name})


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_catalogue_covers_every_graded_item(name):
    """At least 3 plausible mistakes per grade cell, and an alternative right answer per answer cell."""
    wrong = Counter(g for c in cases(name) if c.kind == "wrong" for g in c.loses)
    thin = {g: wrong[g] for g in _grade_cells(name) if wrong[g] < 3}
    assert not thin, f"grade cells with fewer than 3 wrong answers in the catalogue: {thin}"
    right_cells = {k for c in cases(name) if c.kind == "right" for k in c.answers}
    answer_cells = set(code_cells(name, "solution"))
    assert answer_cells <= right_cells, f"answer cells without an alternative right answer: {answer_cells - right_cells}"


class _FlakyBatch:
    """The batch grader, as the catalogue calls it, failing one student once (or every time)."""

    def __init__(self, retry_fails: bool):
        self.calls, self.retry_fails = [], retry_fails

    def autograde_class(self, course_dir, assignment, students=None, **_):
        from autograder.batch import ClassResult, StudentResult

        self.calls.append(students)
        names = students or ["solution", "bce_terms_swapped"]
        fails = students is None or self.retry_fails
        return ClassResult(assignment, {s: StudentResult(s, "error" if fails and s == "bce_terms_swapped" else "ok",
                                                         "the kernel did not start" if fails else "") for s in names}, 1.0)


def test_catalogue_grades_a_failed_student_again_once(monkeypatch):
    flaky = _FlakyBatch(retry_fails=False)
    monkeypatch.setattr(catalogue.batch, "autograde_class", flaky.autograde_class)
    assert catalogue._autograde(catalogue.CourseRoot(Path("course")), "week2_loss_sgd", 2, False) == {}
    assert flaky.calls == [None, ["bce_terms_swapped"]]


def test_catalogue_reports_a_student_the_second_try_cannot_grade(monkeypatch):
    flaky = _FlakyBatch(retry_fails=True)
    monkeypatch.setattr(catalogue.batch, "autograde_class", flaky.autograde_class)
    errors = catalogue._autograde(catalogue.CourseRoot(Path("course")), "week2_loss_sgd", 2, False)
    assert errors == {"bce_terms_swapped": "the kernel did not start"}
    assert flaky.calls == [None, ["bce_terms_swapped"]]
    case = next(c for c in cases("week2_loss_sgd") if c.kind == "wrong")
    lost_everything = catalogue.Outcome(case.student, case, {g: (0.0, 1.0) for g in case.loses}, "",
                                        errors["bce_terms_swapped"])
    assert lost_everything.problem() == "not graded: the kernel did not start", "zero points must not pass as a catch"


def test_a_wrong_answer_must_show_its_hint(tmp_path):
    """A catalogue case that names a hint passes only if the graded test cells show that text."""
    from autograder.wrong_answers import wrong

    case = wrong("sum_not_mean", "cell", "code", "cell_tests", hint="divide by the number of examples")
    lost = {"cell_tests": (0.0, 2.0)}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("check(...)")])
    nb.cells[0].metadata["nbgrader"] = {"grade": True, "grade_id": "cell_tests", "points": 2}
    nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="FeedbackError", evalue=(
        "dw has the wrong value.\n  Hint: divide by the number\n  of examples: the cost is a mean."), traceback=[])]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    shown = catalogue.shown_by_tests(tmp_path)
    assert "FeedbackError" in shown and "Hint: divide by the number" in shown
    assert catalogue.Outcome("sum_not_mean", case, lost, shown).problem() == ""      # line breaks do not matter
    assert "does not show the hint" in catalogue.Outcome("sum_not_mean", case, lost, "FeedbackError: wrong").problem()
    with pytest.raises(ValueError, match="no hint"):
        catalogue.Case("alt", {"cell": "code"}, "right", hint="anything")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_catalogue_hint_is_written_in_the_notebook(name):
    """A case's hint text must stand in the assignment's code cells or in the course's check helpers
    (course/model_checks.py writes the hints of check_model); the slow catalogue test then proves it
    is shown.  A typo here would only surface after minutes of autograding."""
    from pathlib import Path

    from autograder.course_root import notebooks, source_notebook

    sources = [cell.source for nb in notebooks(name) for cell in source_notebook(name, nb).cells
               if cell.cell_type == "code"] + [p.read_text() for p in sorted(Path(REPO / "course").glob("*.py"))]
    text = " ".join(" ".join(s.split()) for s in sources)
    missing = [f"{c.name}: {c.hint!r}" for c in cases(name) if c.hint and " ".join(c.hint.split()) not in text]
    assert not missing, "hints that no test cell of the notebook writes:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_hint_of_a_grade_cell_is_proven_by_a_wrong_answer(name):
    """Each Hint in a grade cell is named by a wrong answer of the catalogue, whose feedback the slow
    catalogue test then shows to contain it: no hint that can never fire."""
    from autograder.course_root import notebooks, source_notebook

    named = [" ".join(c.hint.split()) for c in cases(name) if c.hint]
    messages = [m for nb in notebooks(name) for cell in source_notebook(name, nb).cells
                if cell.cell_type == "code" and cells.has_role(cell, "grade")
                for m in (" ".join(h.split()) for h in hidden.hint_texts(cell.source, fstrings=True))]
    assert messages, f"found no Hint in the grade cells of {name}"
    unproven = [m for m in messages if not any(h in m for h in named)]
    assert not unproven, "hints that no wrong answer of the catalogue proves:\n" + "\n".join(unproven)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_right_answers_are_packed_without_sharing_a_cell(name):
    right = [c for c in cases(name) if c.kind == "right"]
    packs = catalogue.right_packs(cases(name))
    assert sorted(c.name for p in packs for c in p) == sorted(c.name for c in right), "each right answer in one pack"
    for pack in packs:
        answered = [k for c in pack for k in c.answers]
        assert len(answered) == len(set(answered)), f"a pack answers a cell twice: {[c.name for c in pack]}"
    assert len(packs) < len(right) / 2, "packing should save most of the submissions"


def test_an_answer_that_calls_another_answers_function_is_packed_apart():
    from autograder.wrong_answers import Case

    general = Case("no_hidden_row_loop", {"no_hidden": "def predict_no_hidden(X, W, b):\n    return loop(X)"}, "right")
    caller = Case("hidden_reuses", {"hidden": "def predict_hidden(X, W1, b1, W2, b2):\n"
                                              "    return predict_no_hidden(predict_no_hidden(X, W1, b1), W2, b2)"}, "right")
    other = Case("sigmoid_expit", {"sigmoid": "from scipy.special import expit as sigmoid"}, "right")
    packs = catalogue.right_packs([general, caller, other])
    assert [[c.name for c in p] for p in packs] == [["no_hidden_row_loop", "sigmoid_expit"], ["hidden_reuses"]]
    calls_sigmoid = Case("relu_via_sigmoid", {"relu": "def relu(z):\n    return z * (sigmoid(z) > 0.5)"}, "right")
    assert len(catalogue.right_packs([other, calls_sigmoid])) == 2, "an imported name counts as defined"


class _FakeRoot:
    """A course root whose gradebook gives full marks unless a submitted answer says BROKEN (in the
    grade cell of that answer), or ALSO_x (in test_x too)."""

    def __init__(self):
        self.path, self.submitted, self.graded = Path("course"), {}, []

    def generate(self, assignment):
        pass

    def student_notebooks(self, assignment, answers):
        return dict(answers or {})

    def submit(self, student, assignment, nbs):
        self.submitted[student] = nbs

    def autograde_class(self, course_dir, assignment, students=None, **_):
        from autograder.batch import ClassResult, StudentResult

        names = students or sorted(self.submitted)
        self.graded.append(names)
        return ClassResult(assignment, {s: StudentResult(s, "ok", "") for s in names}, 1.0)

    def grades(self, assignment):
        out = {}
        for s, nbs in self.submitted.items():
            if nbs:
                out[s] = {f"test_{k}": (0.0 if "BROKEN" in v else 1.0, 1.0) for k, v in nbs.items()}
                out[s].update((f"test_{x}", (0.0, 1.0)) for v in nbs.values() for x in re.findall(r"ALSO_(\w+)", v))
        return out


def _fake_catalogue(monkeypatch, right_answers, wrong_answers=(("wrong_a", {"a": "BROKEN"}, ("test_a",)),),
                    reach=None):
    """``reach``: {answer cell: test cells}, as :func:`catalogue.influence_of` would read it, whatever the
    answers (default: none)."""
    from autograder.wrong_answers import Case

    root = _FakeRoot()
    monkeypatch.setattr(catalogue.CourseRoot, "create", staticmethod(lambda *a, **k: root))
    monkeypatch.setattr(catalogue.batch, "autograde_class", root.autograde_class)
    monkeypatch.setattr(catalogue, "_check_cells_exist", lambda *a: None)
    monkeypatch.setattr(catalogue, "influence_of", lambda *a: lambda answers: reach or {})
    monkeypatch.setattr(catalogue, "shown_by_tests", lambda folder, only=None: "")
    fake = [*(Case(n, answers, "wrong", loses=loses) for n, answers, loses in wrong_answers),
            *(Case(n, answers, "right") for n, answers in right_answers)]
    monkeypatch.setattr(catalogue, "cases", lambda name: fake)
    return root


def test_a_pack_of_right_answers_with_full_marks_gives_each_answer_full_marks(monkeypatch, tmp_path):
    root = _fake_catalogue(monkeypatch, [("alt_a", {"a": "x"}), ("alt_b", {"b": "y"}), ("alt_a2", {"a": "z"})])
    outcomes = {o.student: o for o in catalogue.grade("anything", tmp_path, progress=False)}
    assert root.graded == [sorted(["solution", "blank", "wrong_a", "right_answers_1", "right_answers_2"])]
    assert root.submitted["right_answers_1"] == {"a": "x", "b": "y"} and root.submitted["right_answers_2"] == {"a": "z"}
    assert outcomes["alt_a"].graded_as == outcomes["alt_b"].graded_as == "right_answers_1"
    assert [o.student for o in outcomes.values()] == ["solution", "blank", "wrong_a", "alt_a", "alt_b", "alt_a2"]
    assert not [o.problem() for o in outcomes.values() if o.case and o.problem()]


def test_a_pack_that_loses_points_is_graded_again_answer_by_answer(monkeypatch, tmp_path):
    root = _fake_catalogue(monkeypatch, [("alt_a", {"a": "x"}), ("alt_b", {"b": "BROKEN"}), ("alt_a2", {"a": "z"})])
    outcomes = {o.student: o for o in catalogue.grade("anything", tmp_path, progress=False)}
    assert root.graded[1] == ["alt_a", "alt_b"], "only the failed pack's answers, one student each"
    assert outcomes["alt_a"].graded_as == outcomes["alt_b"].graded_as == ""
    assert outcomes["alt_a"].problem() == "" and outcomes["alt_a2"].problem() == ""
    assert outcomes["alt_b"].problem() == "expected full marks, lost points in ['test_b']"


_REACH = {"a": {"test_a"}, "b": {"test_b"}, "c": {"test_c", "test_b"}}


def test_wrong_answers_that_influence_no_test_cell_in_common_are_graded_as_one_student(monkeypatch, tmp_path):
    root = _fake_catalogue(monkeypatch, [], [("wrong_a", {"a": "BROKEN"}, ("test_a",)),
                                             ("wrong_b", {"b": "BROKEN"}, ("test_b",)),
                                             ("wrong_c", {"c": "BROKEN"}, ("test_c",))], _REACH)
    outcomes = {o.student: o for o in catalogue.grade("anything", tmp_path, progress=False)}
    assert root.graded == [["blank", "solution", "wrong_answers_1", "wrong_c"]], "c shares test_b with b: alone"
    assert root.submitted["wrong_answers_1"] == {"a": "BROKEN", "b": "BROKEN"}
    assert outcomes["wrong_a"].graded_as == outcomes["wrong_b"].graded_as == "wrong_answers_1"
    assert outcomes["wrong_a"].grades == {"test_a": (0.0, 1.0)}, "only the test cells its answer influences"
    assert not [o.problem() for o in outcomes.values() if o.case and o.problem()]


def test_a_wrong_answer_said_to_lose_points_its_cells_do_not_influence_is_graded_alone(monkeypatch, tmp_path):
    root = _fake_catalogue(monkeypatch, [], [("wrong_a", {"a": "BROKEN"}, ("test_a",)),
                                             ("wrong_b", {"b": "BROKEN ALSO_d"}, ("test_b", "test_d"))], _REACH)
    catalogue.grade("anything", tmp_path, progress=False)
    assert root.graded == [["blank", "solution", "wrong_a", "wrong_b"]]


def test_a_pack_of_wrong_answers_that_loses_more_than_they_explain_is_graded_again_answer_by_answer(
        monkeypatch, tmp_path):
    root = _fake_catalogue(monkeypatch, [], [("wrong_a", {"a": "BROKEN"}, ("test_a",)),
                                             ("wrong_b", {"b": "BROKEN ALSO_d"}, ("test_b",))], _REACH)
    outcomes = {o.student: o for o in catalogue.grade("anything", tmp_path, progress=False)}
    assert root.graded == [["blank", "solution", "wrong_answers_1"], ["wrong_a", "wrong_b"]], \
        "test_d, which neither answer influences, lost points: the pack is not what its answers explain"
    assert outcomes["wrong_a"].graded_as == outcomes["wrong_b"].graded_as == ""
    assert outcomes["wrong_b"].lost == ["test_b", "test_d"]


def test_a_pack_of_wrong_answers_in_which_one_keeps_its_points_is_graded_again_answer_by_answer(
        monkeypatch, tmp_path):
    root = _fake_catalogue(monkeypatch, [], [("wrong_a", {"a": "BROKEN"}, ("test_a",)),
                                             ("wrong_b", {"b": "fine after all"}, ("test_b",))], _REACH)
    outcomes = {o.student: o for o in catalogue.grade("anything", tmp_path, progress=False)}
    assert root.graded[1] == ["wrong_a", "wrong_b"]
    assert outcomes["wrong_a"].problem() == ""
    assert outcomes["wrong_b"].problem() == "expected to lose points in ['test_b']; lost in []"
