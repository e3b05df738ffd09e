"""Hidden tests stay hidden in feedback (autograder.hidden): a test cell runs visible tests and
hidden tests apart, and feedback replaces everything the hidden tests printed or raised by
instructor text, whatever the student's code prints, raises or forges."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder import hidden
from autograder.preprocessors import HideHiddenTests, SandboxedExecute

GRADE = {"nbgrader": {"grade": True, "grade_id": "neuron_tests", "points": 2, "locked": True, "solution": False,
                      "schema_version": 3}}
TESTS = '''# Checks neuron: the weighted sum of the inputs plus the bias, through the sigmoid.
check("neuron on the slide's example", neuron((1.0, 1.0), (0.0, 0.0), 0.0), 0.5)
### BEGIN HIDDEN TESTS
_z = 2 * 0.5 + -1 * 1 + 0.5 * -2 - 0.5
check("neuron(x=(2, -1, 0.5), w=(0.5, 1, -2), b=-0.5)", neuron((2, -1, 0.5), (0.5, 1, -2), -0.5),
      1 / (1 + np.exp(-_z)), hints=[Hint(lambda got: True, "did you forget the bias b?")])
### END HIDDEN TESTS
print("visible tests after the hidden ones ran")'''
SECRETS = ("2, -1, 0.5", "0.5, 1, -2", "0.1824", "LEAK (2", "Leak_")  # hidden inputs, expected value, leaks of them


def _notebook(answer: str):
    setup = new_code_cell("import numpy as np\nfrom course.feedback import check, Hint")
    return new_notebook(cells=[setup, new_code_cell(answer), new_code_cell(TESTS, metadata=GRADE)],
                        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def _text(cell) -> str:
    return cell.source + "\n" + "\n".join(str(o) for o in cell.outputs)


def test_a_cell_is_cut_at_its_hidden_test_delimiters():
    assert hidden.parts("x = 1") is None
    cut = hidden.parts(TESTS)
    assert [h for h, _ in cut] == [False, True, False]
    assert cut[1][1].startswith("_z = ") and "BEGIN" not in "".join(code for _, code in cut)
    inside_a_block = "if True:\n    ### BEGIN HIDDEN TESTS\n    check(1)\n    ### END HIDDEN TESTS\n    pass"
    assert hidden.parts(inside_a_block) == [(True, inside_a_block)], "not Python apart: one hidden part"


def _ran(outputs_by_part):
    """run_in_parts with a stand-in kernel that gives each part the outputs listed for it."""
    cell = new_code_cell(TESTS, metadata=dict(GRADE))
    calls = iter(outputs_by_part)

    def execute(part, hidden_part):
        part.outputs = list(next(calls))
        part.execution_count = 7
        return part

    hidden.run_in_parts(cell, execute)
    return cell


def test_forged_markers_are_dropped_and_hidden_outputs_sit_between_real_ones():
    forged = new_output("display_data", data={"text/plain": ""},
                        metadata={hidden.META: {"nonce": "guess", "at": "end"}})
    leak = new_output("stream", name="stdout", text="LEAK x=(2, -1, 0.5)\n")
    cell = _ran([[new_output("execute_result", data={"text/plain": "True"}, execution_count=5), forged],
                 [leak, new_output("error", ename="FeedbackError", evalue="neuron(x=(2, -1, 0.5)) has the wrong value.",
                                   traceback=[])]])
    kinds = [o.output_type for o in cell.outputs]
    assert kinds == ["display_data", "stream", "error", "display_data"], "value of a middle part dropped, forgery too"
    shown, hid = hidden.split_outputs(cell)
    assert shown == [] and [o.output_type for o in hid] == ["stream", "error"]
    assert cell.execution_count == 7


def test_without_valid_markers_every_output_counts_as_hidden():
    cell = new_code_cell(TESTS, metadata=dict(GRADE))
    cell.outputs = [new_output("stream", name="stdout", text="LEAK\n")]
    assert hidden.split_outputs(cell) == ([], cell.outputs), "graded some other way: nothing is trusted"
    ran = _ran([[new_output("stream", name="stdout", text="visible\n")],
                [new_output("stream", name="stdout", text="LEAK (2\n")], []])
    assert [o.text for o in hidden.split_outputs(ran)[0]] == ["visible\n"]
    del ran.outputs[-1]  # a marker lost (rewritten by a display update, say): nothing is trusted
    assert ran.outputs[-1].output_type == "stream"
    assert hidden.split_outputs(ran)[0] == []


@pytest.mark.slow  # starts kernels
@pytest.mark.parametrize("answer, words", [
    # prints the hidden inputs and returns a wrong value
    ("def neuron(x, w, b):\n    print('LEAK', x, w, b)\n    return 0.5", "the result has the wrong values"),
    # smuggles them out in an exception's name and message
    ("def neuron(x, w, b):\n    if x[0] != 1.0:\n        raise type('Leak_' + str(x), (Exception,), {})(f'LEAK {x} {w}')\n"
     "    return 0.5", "A hidden test failed."),
    # forges a check's wording to choose what feedback says: it can only pick from the list
    ("def neuron(x, w, b):\n    if x[0] != 1.0:\n        raise AssertionError(f'LEAK {x} gave None.')\n    return 0.5",
     "your function returned None"),
])
def test_hidden_tests_show_only_instructor_text_in_feedback(answer, words):
    from nbgrader.utils import determine_grade

    nb = _notebook(answer)
    SandboxedExecute(sandbox=False, timeout=60).preprocess(nb, {"metadata": {"path": "."}})
    graded = nb.cells[2]
    assert determine_grade(graded) == (0, 2), "a failing hidden test still costs the cell's points"
    shown, hid = hidden.split_outputs(graded)
    assert "LEAK" in "".join(map(str, hid)), "the autograded notebook keeps all, for the instructor"
    assert not [o for o in shown if o.output_type == "error"], "the visible test passed"

    cell, _ = HideHiddenTests().preprocess_cell(nbformat.from_dict(graded), {}, 2)
    text = _text(cell)
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"feedback shows hidden inputs, expected values or the student's leaks: {leaked}\n{text}"
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == [hidden.FAILED], cell.outputs
    assert words in errors[0].evalue, errors[0].evalue
    assert "This cell checks neuron: the weighted sum" in errors[0].evalue
    assert "# hidden tests (not shown)" in cell.source and "_z" not in cell.source
    if "wrong values" in words:
        assert "Hint: did you forget the bias b?" in errors[0].evalue, "a constant hint is instructor text"


@pytest.mark.slow  # starts a kernel
def test_a_failing_visible_test_is_shown_and_the_hidden_ones_do_not_run():
    nb = _notebook("def neuron(x, w, b):\n    print('LEAK', x)\n    return 0.25")
    SandboxedExecute(sandbox=False, timeout=60).preprocess(nb, {"metadata": {"path": "."}})
    cell, _ = HideHiddenTests().preprocess_cell(nb.cells[2], {}, 2)
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "FeedbackError"
    assert "neuron on the slide's example has the wrong value" in errors[0].evalue
    assert "LEAK (1.0, 1.0)" in _text(cell), "what the student printed in visible tests stays"
    assert "2, -1, 0.5" not in _text(cell)


@pytest.mark.slow  # starts a kernel
def test_a_cell_whose_hidden_tests_pass_runs_to_its_end():
    nb = _notebook("import numpy as np\ndef neuron(x, w, b):\n    print('LEAK', x)\n"
                   "    return 1 / (1 + np.exp(-(np.dot(x, w) + b)))")
    SandboxedExecute(sandbox=False, timeout=60).preprocess(nb, {"metadata": {"path": "."}})
    assert "visible tests after the hidden ones ran" in _text(nb.cells[2])
    cell, _ = HideHiddenTests().preprocess_cell(nb.cells[2], {}, 2)
    text = _text(cell)
    assert "Hidden tests: passed." in text and "visible tests after the hidden ones ran" in text
    assert "LEAK (2, -1, 0.5)" not in text and "LEAK (1.0, 1.0)" in text


def test_leaks_names_hidden_numbers_and_messages_in_a_feedback_page():
    cell = _ran([[], [new_output("error", ename="FeedbackError", evalue="neuron(x=(2, -1, 0.5), w=(0.5, 1, -2), b=-0.5) "
                                "has the wrong value.\n  expected: 0.1824\n  got:      0.5", traceback=[])]])
    nb = new_notebook(cells=[cell])
    assert hidden.leaks(nb, "A hidden test failed: the result has the wrong values.") == []
    assert hidden.leaks(nb, "... expected: 0.1824 ...") == ["0.1824"]
    first = "FeedbackError: neuron(x=(2, -1, 0.5), w=(0.5, 1, -2), b=-0.5) has the wrong value."
    assert hidden.leaks(nb, first) == [first]
    assert hidden.leaks(nb, "expected: 0.1824", seen_anyway="the notebook says 0.1824") == [], "seen anyway"


@pytest.mark.slow  # starts a kernel
@pytest.mark.parametrize("answer", [
    # rewrites an output shown earlier through its display id
    "from IPython.display import display\n_h = display('shown', display_id=True)\n"
    "def neuron(x, w, b):\n    _h.update(f'LEAK {x}')\n    return 0.5",
    # prints a value as the cell's result before failing: nbgrader would read it as partial credit
    "import sys\ndef neuron(x, w, b):\n    if x[0] != 1.0:\n        sys.displayhook(2)\n    return 0.5",
])
def test_hidden_tests_cannot_rewrite_shown_outputs_or_score_by_a_value(answer):
    from nbgrader.utils import determine_grade

    nb = _notebook(answer)
    SandboxedExecute(sandbox=False, timeout=60).preprocess(nb, {"metadata": {"path": "."}})
    assert determine_grade(nb.cells[2]) == (0, 2)
    assert "LEAK (2" not in _text(nb.cells[1]), "the answer cell's output was rewritten by a hidden test"


@pytest.mark.slow  # starts a kernel
def test_a_test_cell_tagged_to_skip_runs_all_the_same():
    from nbgrader.utils import determine_grade

    nb = _notebook("def neuron(x, w, b):\n    return 0.25")
    nb.cells[2].metadata["tags"] = ["skip-execution"]
    SandboxedExecute(sandbox=False, timeout=60).preprocess(nb, {"metadata": {"path": "."}})
    assert nb.cells[2].metadata["tags"] == [] and determine_grade(nb.cells[2]) == (0, 2)


STASH = ("_seen = []\ndef neuron(x, w, b):\n    _seen.append(tuple(x))\n    return 0.5")
LATER = ("import pathlib\nprint('STASH', _seen, globals().get('_z'))\n"
         "print('FILE', pathlib.Path('week.ipynb').read_text())")


def _graded_and_saved(answer: str, later: str, folder):
    """The test notebook with a later cell, graded (no sandbox: a unit test) and saved as the autograded
    notebook ``week.ipynb`` in ``folder``, as generate_feedback finds it."""
    nb = _notebook(answer)
    nb.cells.append(new_code_cell(later))
    SandboxedExecute(sandbox=False, timeout=60).preprocess(nb, {"metadata": {"path": str(folder)}})
    nbformat.write(nb, folder / "week.ipynb")
    return nb


def _feedback(nb, folder):
    from autograder.preprocessors import RunWithoutHiddenTests

    nb, _ = RunWithoutHiddenTests(sandbox=False, timeout=60).preprocess(nb, {"metadata": {"path": str(folder)}})
    return [HideHiddenTests().preprocess_cell(c, {}, i)[0] for i, c in enumerate(nb.cells)]


@pytest.mark.slow  # starts kernels
def test_what_a_hidden_test_passed_or_set_never_reaches_a_later_cell_in_feedback(tmp_path):
    """The student's function keeps its arguments; a later cell prints them, the hidden test's own
    global and the autograded notebook on disk.  In the graded run that later cell shows the hidden
    inputs; feedback shows a run without hidden tests, and the hidden tests' summary."""
    nb = _graded_and_saved(STASH, LATER, tmp_path)
    assert "STASH [(1.0, 1.0), (2, -1, 0.5)] -1.5" in _text(nb.cells[3]), \
        "the attack works on the graded run: it is what feedback must not show"
    cells = _feedback(nb, tmp_path)
    text = "\n".join(_text(c) for c in cells)
    leaked = [s for s in (*SECRETS, "(2, -1, 0.5)", "-1.5", "BEGIN HIDDEN") if s in text]
    assert not leaked, f"feedback shows what the hidden tests passed or set: {leaked}\n{text}"
    assert "STASH [(1.0, 1.0)] None" in _text(cells[3]), "the later cell as the run without hidden tests gave it"
    assert "# hidden tests (not shown)" in _text(cells[3]), "the notebook on disk, without its hidden tests"
    errors = [o for o in cells[2].outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == [hidden.FAILED] and "the result has the wrong values" in errors[0].evalue


@pytest.mark.slow  # starts kernels
def test_when_the_run_without_hidden_tests_fails_feedback_shows_only_their_summary(tmp_path):
    """Code that dies when no hidden test called it: feedback shows the hidden tests' summary and says
    why it shows nothing else, not even graded outputs from before the hidden tests (a display update
    after them could have rewritten those)."""
    later = "import os\nprint('STASH', _seen)\nif len(_seen) < 2:\n    os._exit(1)"
    nb = _graded_and_saved(STASH, later, tmp_path)
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="rewritten: (2, -1, 0.5)\n")]
    assert "(2, -1, 0.5)" in _text(nb.cells[3])
    cells = _feedback(nb, tmp_path)
    shown = "\n".join(str(o) for c in cells for o in c.get("outputs", []))
    assert "(2, -1, 0.5)" not in shown and "STASH" not in shown
    assert "did not run again without the hidden tests" in _text(cells[2])
    assert [o.ename for o in cells[2].outputs if o.output_type == "error"] == [hidden.FAILED]
    assert cells[1].outputs == [] and cells[3].outputs == []
    assert all(c.get("execution_count") is None for c in cells if c.cell_type == "code")


@pytest.mark.slow  # starts kernels
def test_a_prompt_number_set_by_a_hidden_test_is_not_shown(tmp_path):
    """During a hidden test the student's code sets the kernel's execution count from what it was
    passed: feedback's prompts are the run without hidden tests' (the graded ones are dropped)."""
    answer = ("def neuron(x, w, b):\n    if x[0] == 2:\n        get_ipython().execution_count = 40000 + int(10 * x[2])\n"
              "    return 0.5")
    nb = _graded_and_saved(answer, "print('after')", tmp_path)
    assert nb.cells[3].execution_count >= 40005, "the attack works on the graded run"
    cells = _feedback(nb, tmp_path)
    counts = [c.execution_count for c in cells]
    assert counts[0] == 1 and counts == sorted(counts) and counts[-1] < 10, counts


@pytest.mark.slow  # starts kernels
def test_a_students_own_cell_with_hidden_test_delimiters_is_not_a_test_cell(tmp_path):
    """A student's cell with the delimiters and asserts of their own runs whole and shows as it is: its
    asserts are not instructor text that a summary could choose from."""
    own = ("### BEGIN HIDDEN TESTS\nassert neuron((2, -1, 0.5), (0.5, 1, -2), -0.5) != 0.5, 'codeword one two'\n"
           "### END HIDDEN TESTS")
    nb = _notebook("def neuron(x, w, b):\n    return 0.5")
    nb.cells.insert(2, new_code_cell(own))
    SandboxedExecute(sandbox=False, timeout=60).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert hidden.META not in nb.cells[2].metadata, "run whole, without markers"
    nbformat.write(nb, tmp_path / "week.ipynb")
    cells = _feedback(nb, tmp_path)
    assert cells[2].source == own and "codeword one two" in _text(cells[2]), "the student's cell, as it is"
    errors = [o for o in cells[3].outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == [hidden.FAILED] and "codeword" not in errors[0].evalue
