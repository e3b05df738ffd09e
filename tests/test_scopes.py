"""How `make test` shares the tests between its two workers: the scopes that pytest-xdist's
``--dist loadscope`` makes of them, and the order of tests/conftest.py."""
from __future__ import annotations

import pytest
from xdist.scheduler.loadscope import LoadScopeScheduling

from tests.helpers import REPO


class _Collected:
    def __init__(self):
        self.items: list[pytest.Item] = []

    def pytest_collection_finish(self, session):   # the order pytest-xdist's workers report
        self.items = list(session.items)


@pytest.fixture(scope="module")
def collected():
    plugin = _Collected()
    code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider",
                        str(REPO / "tests" / "autograder" / "test_grading.py"),
                        str(REPO / "tests" / "autograder" / "test_red_team.py"),
                        str(REPO / "tests" / "course" / "test_plots.py")], plugins=[plugin])
    assert code == 0
    return plugin.items


def _scope(item: pytest.Item) -> str:
    """The work unit pytest-xdist's loadscope scheduler makes of the test."""
    return LoadScopeScheduling._split_scope(None, item.nodeid)


def test_each_catalogue_and_each_red_team_run_is_a_scope(collected):
    scopes: dict[str, set[str]] = {}
    for item in collected:
        scopes.setdefault(_scope(item), set()).add(item.nodeid.rsplit("::", 1)[1])
    from autograder.course_root import assignments

    slow_catalogue = {"test_solution_gets_full_marks", "test_grade_cells_of_the_solution_show_no_result",
                      "test_untouched_student_version_gets_zero", "test_every_case_graded_as_expected",
                      "test_feedback_never_shows_what_the_hidden_tests_printed"}
    for name in assignments():   # each catalogue is graded once, by the worker that holds its scope
        assert scopes[f"tests/autograder/test_grading.py::TestCatalogue_{name}"] == slow_catalogue
    red_team = {s: tests for s, tests in scopes.items() if "test_red_team.py::TestRedTeam_" in s}
    assert set(red_team) == {f"tests/autograder/test_red_team.py::TestRedTeam_{path}"
                             for path in ("nbgrader", "formgrader", "batch")}
    assert all(len(tests) > 30 for tests in red_team.values())
    # the catalogue's unit tests stay in the module's scope
    assert "test_catalogue_covers_every_graded_item[week3_mnist]" in scopes["tests/autograder/test_grading.py"]


def test_slow_scopes_come_first_and_together(collected):
    order = [_scope(item) for item in collected]
    runs = [s for i, s in enumerate(order) if i == 0 or order[i - 1] != s]
    assert len(runs) == len(set(runs)), "a scope's tests are not next to each other"
    slow = [any(i.get_closest_marker("slow") for i in collected if _scope(i) == s) for s in runs]
    assert slow == sorted(slow, reverse=True), list(zip(runs, slow))
    assert slow[0] and not slow[-1]
