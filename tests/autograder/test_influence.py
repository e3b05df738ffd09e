"""The reading of which test cells each answer cell can influence (autograder/influence.py)."""
from __future__ import annotations

import nbformat

from autograder.influence import RANDOM, influence


def _notebook(*cells_):
    """An instructor notebook of (role, grade_id, source) code cells."""
    nb = nbformat.v4.new_notebook()
    for role, grade_id, source in cells_:
        cell = nbformat.v4.new_code_cell(source)
        if role:
            cell.metadata["nbgrader"] = {"grade_id": grade_id, role: True, "points": 1 if role == "grade" else 0}
        nb.cells.append(cell)
    return nb


def test_names_are_followed_from_cell_to_cell():
    nb = _notebook(
        ("", "", "import numpy as np\nfrom course.feedback import check"),
        ("solution", "sigmoid", "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))"),
        ("grade", "sigmoid_tests", "z = np.zeros(3)\ncheck('s', sigmoid(z), 0.5)"),
        ("solution", "relu", "def relu(z):\n    return np.maximum(z, 0)"),
        ("grade", "relu_tests", "z = np.ones(3)  # rebound: it no longer carries sigmoid\ncheck('r', relu(z), z)"),
        ("", "", "h = sigmoid(np.ones(2))"),
        ("solution", "layer", "def layer(x, f=relu):\n    return f(x)"),
        ("grade", "layer_tests", "check('l', layer(h), h)"),
        ("", "", "history = []\nhistory.append(relu(1.0))"),
        ("grade", "history_tests", "check('h', len(history), 1)"),
        ("grade", "lambda_tests", "check('x', [(lambda z: z)(1) for z in range(2)], [1, 1])"),
    )
    assert influence(nb) == {
        "sigmoid": {"sigmoid_tests", "layer_tests"},              # through h, made with sigmoid
        "relu": {"relu_tests", "layer_tests", "history_tests"},   # layer's default; history changed by a call
        "layer": {"layer_tests"},
    }


def test_the_answers_read_are_the_students():
    """A wrong answer that calls another answer's function reaches that function's tests' neighbours:
    read in the notebook as handed in, not in the instructor's."""
    nb = _notebook(
        ("solution", "sigmoid", "def sigmoid(z):\n    return z"),
        ("solution", "perceptron", "def perceptron(z):\n    return int(z > 0)"),
        ("grade", "perceptron_tests", "assert perceptron(1) == 1"),
    )
    assert influence(nb)["sigmoid"] == set()
    assert influence(nb, {"perceptron": "def perceptron(z):\n    return sigmoid(z) > 0.5"})["sigmoid"] == \
        {"perceptron_tests"}


def test_what_a_function_reads_when_it_runs_counts_where_it_is_called():
    nb = _notebook(
        ("solution", "f", "def f():\n    return LIMIT"),
        ("solution", "limit", "LIMIT = 2"),
        ("grade", "f_tests", "assert f() == 2"),
        ("solution", "log", "def log(x):\n    global seen\n    seen = x"),
        ("", "", "log(f())"),
        ("grade", "seen_tests", "assert seen == 2"),
    )
    reach = influence(nb)
    assert reach["limit"] == {"f_tests", "seen_tests"}, "f reads LIMIT when it runs, not when it is defined"
    assert reach["log"] == {"seen_tests"}


def test_bound_in_part_or_added_to_a_name_keeps_what_it_carried():
    nb = _notebook(
        ("solution", "a", "A = 1"),
        ("", "", "total = A\ntotal += 1"),
        ("", "", "if False:\n    total = 0"),
        ("", "", "try:\n    pass\nexcept Exception as total:\n    pass"),
        ("grade", "total_tests", "assert total == 2"),
        ("", "", "fresh = A\nfresh = 0"),
        ("grade", "fresh_tests", "assert fresh == 0"),
    )
    assert influence(nb)["a"] == {"total_tests"}


def test_a_change_through_another_name_for_the_same_object_counts():
    nb = _notebook(
        ("solution", "a", "def a():\n    return 1"),
        ("", "", "xs = []\nys = xs\nys.append(a())"),
        ("grade", "xs_tests", "assert xs == [1]"),
        ("", "", "layers = [[0], [0]]\nfor layer in layers:\n    layer[0] = a()"),
        ("grade", "layers_tests", "assert layers == [[1], [1]]"),
        ("", "", "zs = [0]\nlength = len(zs)\nnp_free = sorted(zs)"),
        ("grade", "zs_tests", "assert zs == [0]"),
    )
    assert influence(nb)["a"] == {"xs_tests", "layers_tests"}, "len and sorted change nothing they are given"


def test_drawing_from_shared_random_state_ties_answers_to_later_draws():
    nb = _notebook(
        ("", "", "import numpy as np\nimport keras"),
        ("solution", "build", "def build():\n    return keras.Sequential([keras.layers.Dense(2)])"),
        ("", "", "model = build()"),
        ("solution", "noise", "def noise():\n    return np.random.normal(size=3)"),
        ("grade", "noise_tests", "assert noise().shape == (3,)"),
        ("grade", "own_rng_tests", "rng = np.random.default_rng(0)\nassert rng.normal() < 10"),
        ("solution", "other", "OTHER = 1"),
        ("grade", "fit_tests", "history = keras.Sequential([keras.layers.Dense(1)]).fit([[0.0]], [[0.0]])"),
    )
    reach = influence(nb)
    assert reach["build"] == {"noise_tests", "fit_tests"}, "its layers drew from the state the later draws share"
    assert reach["noise"] == {"noise_tests", "fit_tests"}
    assert reach["other"] == set()
    assert RANDOM not in reach


def test_a_cell_it_cannot_read_reaches_every_later_cell():
    nb = _notebook(
        ("solution", "a", "def a():\n    return 1"),
        ("", "", "%%bash\necho $((1 +"),
        ("grade", "b_tests", "check(1, 1)"),
        ("solution", "c", "C = 1"),
        ("grade", "d_tests", "check(2, 2)"),
    )
    assert influence(nb) == {"a": {"b_tests", "d_tests"}, "c": set()}
