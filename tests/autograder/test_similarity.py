"""Similar answers (autograder.similarity): copies are found whatever their disguise, independent
correct answers are not, and bad input does not stop the comparison.

The classes are course roots built with CourseRoot; their release/ is the committed one, which
``tests/autograder/test_repository.py`` proves is exactly what ``nbgrader generate_assignment``
makes, so these tests need no nbgrader run and take well under a second each."""
from __future__ import annotations

import re
import shutil
import textwrap

import pytest

from autograder import similarity
from autograder.__main__ import main
from autograder.course_root import CourseRoot
from autograder.wrong_answers import cases
from tests.helpers import REPO

A = "week1_forward_pass"
OTHER = ["week1_banknote_fcnn", "week2_loss_sgd", "week2b_backprop", "week3_mnist"]


def _answers(cells: dict[str, str]) -> dict[str, str]:
    return {k: textwrap.dedent(v).strip("\n") for k, v in cells.items()}


# One student's own answers (correct, and written their own way) ...
ORIGINAL = _answers({
    "sigmoid": '''
        def sigmoid(z):
            """Logistic sigmoid 1 / (1 + exp(-z)), elementwise.

            z: a number or an array of any shape. Returns the same shape, values in [0, 1].
            """
            # clip first, so that exp cannot overflow
            clipped = np.clip(z, -500, 500)
            denominator = 1.0 + np.exp(-clipped)
            return 1.0 / denominator
        ''',
    "relu": '''
        def relu(z):
            """Rectified linear unit max(0, z), elementwise; same shape as z."""
            zeros = np.zeros_like(z, dtype=float)
            return np.maximum(zeros, z)  # elementwise maximum
        ''',
    "perceptron": '''
        def perceptron(x, w, b):
            weighted_sum = np.sum(np.asarray(x) * np.asarray(w))
            activation = weighted_sum + b
            if activation > 0:
                return 1
            return 0
        ''',
    "neuron": '''
        def neuron(x, w, b):
            weighted_sum = np.sum(np.asarray(x) * np.asarray(w))
            total_input = weighted_sum + b
            return sigmoid(total_input)
        ''',
    "predict_hidden": '''
        def predict_hidden(X, W1, b1, W2, b2):
            # hidden layer
            hidden_in = np.matmul(X, W1) + b1.reshape(1, -1)
            hidden_out = sigmoid(hidden_in)
            # output layer
            output_in = np.matmul(hidden_out, W2) + b2.reshape(1, -1)
            return sigmoid(output_in)
        ''',
    "forward": '''
        def forward(X, weights, biases):
            activations = [X]
            for layer, (W, b) in enumerate(zip(weights, biases)):
                pre_activation = activations[-1] @ W + b
                activations.append(sigmoid(pre_activation))
            return activations[-1]
        ''',
    "weight_shapes": '''
        layer_sizes = [2, 8, 8, 1]
        W1_shape = (layer_sizes[0], layer_sizes[1])
        W2_shape = (layer_sizes[1], layer_sizes[2])
        W3_shape = (layer_sizes[2], layer_sizes[3])
        ''',
})

# ... and three disguised copies of them.
RENAMED = _answers({
    "sigmoid": '''
        def sigmoid(z):
            """Logistic sigmoid 1 / (1 + exp(-z)), elementwise.

            z: a number or an array of any shape. Returns the same shape, values in [0, 1].
            """
            # clip first, so that exp cannot overflow
            zc = np.clip(z, -500, 500)
            bottom = 1.0 + np.exp(-zc)
            return 1.0 / bottom
        ''',
    "relu": '''
        def relu(z):
            """Rectified linear unit max(0, z), elementwise; same shape as z."""
            nothing = np.zeros_like(z, dtype=float)
            return np.maximum(nothing, z)  # elementwise maximum
        ''',
    "perceptron": '''
        def perceptron(inputs, weights, bias):
            s = np.sum(np.asarray(inputs) * np.asarray(weights))
            a = s + bias
            if a > 0:
                return 1
            return 0
        ''',
    "neuron": '''
        def neuron(x, w, b):
            dot = np.sum(np.asarray(x) * np.asarray(w))
            net = dot + b
            return sigmoid(net)
        ''',
    "predict_hidden": '''
        def predict_hidden(X, W1, b1, W2, b2):
            # hidden layer
            h = np.matmul(X, W1) + b1.reshape(1, -1)
            a = sigmoid(h)
            # output layer
            o = np.matmul(a, W2) + b2.reshape(1, -1)
            return sigmoid(o)
        ''',
    "forward": '''
        def forward(X, weights, biases):
            outs = [X]
            for i, (Wi, bi) in enumerate(zip(weights, biases)):
                zi = outs[-1] @ Wi + bi
                outs.append(sigmoid(zi))
            return outs[-1]
        ''',
    "weight_shapes": '''
        sizes = [2, 8, 8, 1]
        W1_shape = (sizes[0], sizes[1])
        W2_shape = (sizes[1], sizes[2])
        W3_shape = (sizes[2], sizes[3])
        ''',
})

REORDERED = _answers({  # independent lines swapped, and laid out differently
    "sigmoid": '''
        def sigmoid(z):
            """Logistic sigmoid 1 / (1 + exp(-z)), elementwise.

            z: a number or an array of any shape. Returns the same shape, values in [0, 1].
            """
            # clip first, so that exp cannot overflow
            clipped = np.clip(z,
                              -500,
                              500)
            denominator = 1.0+np.exp( -clipped )
            return 1.0/denominator
        ''',
    "relu": '''
        def relu(z):
            """Rectified linear unit max(0, z), elementwise; same shape as z."""
            zeros = np.zeros_like(z, dtype = float)
            return np.maximum(zeros, z)  # elementwise maximum
        ''',
    "perceptron": '''
        def perceptron(x, w, b):
            weighted_sum = np.sum(np.asarray(x) * np.asarray(w))
            activation = weighted_sum + b
            if activation > 0: return 1
            return 0
        ''',
    "neuron": '''
        def neuron(x, w, b):
            weighted_sum = np.sum(np.asarray(x) * np.asarray(w)); total_input = weighted_sum + b
            return sigmoid(total_input)
        ''',
    "predict_hidden": '''
        def predict_hidden(X, W1, b1, W2, b2):
            # hidden layer
            hidden_in = np.matmul(X, W1) + b1.reshape(1, -1)
            hidden_out = sigmoid(hidden_in)
            output_in = np.matmul(hidden_out, W2) + b2.reshape(1, -1)  # output layer
            return sigmoid(output_in)
        ''',
    "forward": '''
        def forward(X, weights, biases):
            activations = [X]
            for layer, (W, b) in enumerate(zip(weights, biases)):
                pre_activation = activations[-1] @ W + b
                activations.append(sigmoid(pre_activation))
            return activations[-1]
        ''',
    "weight_shapes": '''
        layer_sizes = [2, 8, 8, 1]
        W3_shape = (layer_sizes[2], layer_sizes[3])
        W1_shape = (layer_sizes[0], layer_sizes[1])
        W2_shape = (layer_sizes[1], layer_sizes[2])
        ''',
})

RECOMMENTED = _answers({  # comments and docstrings rewritten, and some variables renamed too
    "sigmoid": '''
        def sigmoid(z):
            """My sigmoid."""
            clipped = np.clip(z, -500, 500)  # avoid overflow warnings for very negative z
            denominator = 1.0 + np.exp(-clipped)
            # the logistic function
            return 1.0 / denominator
        ''',
    "relu": '''
        def relu(z):
            """ReLU"""
            zero = np.zeros_like(z, dtype=float)
            return np.maximum(zero, z)
        ''',
    "perceptron": '''
        def perceptron(x, w, b):
            # the weighted sum of the inputs
            weighted_sum = np.sum(np.asarray(x) * np.asarray(w))
            # plus the bias
            activation = weighted_sum + b
            if activation > 0:
                return 1  # fires
            return 0  # does not fire
        ''',
    "neuron": '''
        def neuron(x, w, b):
            # step 1
            weighted_sum = np.sum(np.asarray(x) * np.asarray(w))
            # step 2
            z = weighted_sum + b
            return sigmoid(z)
        ''',
    "predict_hidden": '''
        def predict_hidden(X, W1, b1, W2, b2):
            """Two layers."""
            hidden_in = np.matmul(X, W1) + b1.reshape(1, -1)
            hidden_out = sigmoid(hidden_in)
            output_in = np.matmul(hidden_out, W2) + b2.reshape(1, -1)
            return sigmoid(output_in)
        ''',
    "forward": '''
        def forward(X, weights, biases):
            # keep every layer's output
            activations = [X]
            for layer, (W, b) in enumerate(zip(weights, biases)):
                pre_activation = activations[-1] @ W + b  # affine
                activations.append(sigmoid(pre_activation))  # nonlinearity
            return activations[-1]  # the last layer
        ''',
    "weight_shapes": '''
        # units per layer: input, two hidden, output
        layer_sizes = [2, 8, 8, 1]
        W1_shape = (layer_sizes[0], layer_sizes[1])  # first layer
        W2_shape = (layer_sizes[1], layer_sizes[2])  # second layer
        W3_shape = (layer_sizes[2], layer_sizes[3])  # output layer
        ''',
})

COPIES = {"copy_renamed": RENAMED, "copy_reordered": REORDERED, "copy_recommented": RECOMMENTED}


def course_root(path, assignment: str = A) -> CourseRoot:
    """A course root with the assignment's source/ and release/ (the committed release: see the docstring)."""
    root = CourseRoot.create(path, [assignment], REPO)
    shutil.copytree(REPO / "release" / assignment, root.path / "release" / assignment)
    return root


def submit_right_answers(root: CourseRoot, assignment: str) -> list[str]:
    """The instructor's solution, and each right answer of the catalogue, each handed in by a student."""
    root.submit("instructor", assignment, root.student_notebooks(assignment, {}))
    names = ["instructor"]
    for case in cases(assignment):
        if case.kind == "right":
            root.submit(case.student, assignment, root.student_notebooks(assignment, case.answers))
            names.append(case.student)
    return names


@pytest.fixture(scope="module")
def week1(tmp_path_factory) -> CourseRoot:
    """A class of week 1: the right answers of the catalogue, one student's own answers, and three
    disguised copies of them."""
    root = course_root(tmp_path_factory.mktemp("similarity") / "course")
    submit_right_answers(root, A)
    root.submit("original", A, root.student_notebooks(A, ORIGINAL))
    for name, answers in COPIES.items():
        root.submit(name, A, root.student_notebooks(A, answers))
    return root


@pytest.fixture(scope="module")
def week1_compared(week1) -> similarity.Comparison:
    return similarity.read_class(week1.path, A)


# ---------------------------------------------------------------------------
# normalisation

def test_renaming_reformatting_comments_and_line_order_give_the_same_fingerprints():
    a = similarity.normalise("def f(x, w):\n    total = x @ w  # product\n    scale = 2.0\n    return total * scale\n")
    b = similarity.normalise("def g(inp, weights):\n    '''doc'''\n    k = 2.0\n    # the product\n"
                             "    s = inp \\\n        @ weights\n    return s*k\n")
    assert a.fingerprints == b.fingerprints
    c = similarity.normalise("def f(x, w):\n    total = np.dot(x, w)\n    return total * 2.0\n")
    assert a.fingerprints != c.fingerprints


def test_attributes_builtins_and_given_names_are_kept():
    """np.dot and np.matmul, sigmoid and relu, zip and map stay apart; invented names do not."""
    def prints(code, keep=("sigmoid", "relu", "np")):
        return similarity.normalise(code, keep=keep).fingerprints

    assert prints("y = np.dot(X, W)") != prints("y = np.matmul(X, W)")
    assert prints("y = sigmoid(X @ W)") != prints("y = relu(X @ W)")
    assert prints("y = list(zip(a, b))") != prints("y = list(map(a, b))")
    assert prints("out = helper(X @ W)") == prints("result = my_function(X @ W)")
    assert prints("from scipy.special import expit\ny = expit(z)") != prints("from scipy.special import logit\n"
                                                                             "y = logit(z)")


def test_the_stub_and_the_release_lines_are_left_out():
    given = 'def relu(z):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()'
    untouched = similarity.normalise(given, given)
    assert untouched.fingerprints == frozenset()
    assert all(line.given for line in untouched.lines)
    answer = similarity.normalise('def relu(z):\n    """Doc."""\n    return np.maximum(z, 0)', given)
    assert answer.fingerprints and all("def" not in f for f in answer.fingerprints)
    assert [line.given for line in answer.lines] == [True, True, False]


def test_code_that_does_not_tokenise_is_still_compared():
    broken = "def f(x:\n    return np.where(x > 0, x, 0\n"
    assert similarity.normalise(broken).fingerprints == similarity.normalise(broken.replace("x", "y")).fingerprints
    assert similarity.normalise(broken).fingerprints


def test_a_one_liner_everyone_writes_is_not_evidence():
    """Forty students write relu the same way; two of them are not flagged for it, two who share a
    long unusual answer are."""
    common = {"relu": "return np.maximum(0, z)"}
    unusual = ("mask = np.greater(z, 0).astype(z.dtype)\nscaled = np.multiply(z, mask)\n"
               "result = np.add(scaled, np.zeros_like(z))\nreturn np.copy(result)")
    answers = {f"s{i:02d}": dict(common) for i in range(40)}
    answers["s00"] = {"relu": unusual}
    answers["s01"] = {"relu": unusual.replace("mask", "m").replace("result", "r")}
    comparison = similarity.compare(answers)
    assert comparison.score("s02", "s03") < 0.1
    assert comparison.score("s00", "s01") > 0.5
    assert [p.students for p in comparison.pairs()] == [("s00", "s01")]


def test_one_copied_exercise_shows_a_shared_two_line_mistake_does_not():
    """Thirty students who each write their own code: one copied a six-line exercise from another;
    two others made the same two-line mistake in another exercise."""
    def own(i: int, cell: int, lines: int = 6) -> str:
        return "\n".join(f"v{k} = np.clip(x, {i * 31 + cell * 7 + k}, {k * 17 + i}) * {i + k}.{cell}{k}"
                         for k in range(lines))

    answers = {f"s{i:02d}": {f"c{c}": own(i, c) for c in range(4)} for i in range(30)}
    answers["s01"]["c2"] = answers["s00"]["c2"].replace("v", "w").replace("np.clip(x,", "np.clip(inputs,")
    mistake = "total = np.sum(x ** 3, axis=-2) / len(x)\nreturn np.log1p(total)"
    answers["s10"]["c1"] = answers["s11"]["c1"] = mistake
    comparison = similarity.compare(answers)
    assert comparison.score("s00", "s01") >= similarity.THRESHOLD
    assert comparison.score("s10", "s11") < similarity.THRESHOLD
    assert [p.students for p in comparison.pairs()] == [("s00", "s01")]
    assert comparison.pairs()[0].matched == ("c2",)


# ---------------------------------------------------------------------------
# a class

def test_disguised_copies_are_flagged(week1_compared):
    for name in COPIES:
        assert week1_compared.score("original", name) >= similarity.THRESHOLD + 0.1, name
    flagged = {p.students for p in week1_compared.pairs()}
    assert {tuple(sorted(("original", name))) for name in COPIES} <= flagged
    renamed = next(p for p in week1_compared.pairs() if set(p.students) == {"original", "copy_renamed"})
    assert {"sigmoid", "forward", "predict_hidden", "weight_shapes"} <= set(renamed.matched)
    assert "matrix_product" not in renamed.matched  # both wrote the instructor's one-liner there


def test_independent_right_answers_are_not_flagged(week1_compared):
    """The instructor's solution and every right answer of the catalogue, each handed in by a student,
    stay below the threshold, with room to spare."""
    honest = {"instructor"} | {c.student for c in cases(A) if c.kind == "right"}
    scores = [s for s, a, b in week1_compared.scores() if a in honest and b in honest]
    assert len(scores) == len(honest) * (len(honest) - 1) // 2
    assert max(scores) < similarity.THRESHOLD / 2
    assert not [p for p in week1_compared.pairs() if set(p.students) & honest]


@pytest.mark.parametrize("assignment", OTHER)
def test_independent_right_answers_of_other_assignments_are_not_flagged(tmp_path, assignment):
    root = course_root(tmp_path / "course", assignment)
    names = submit_right_answers(root, assignment)
    comparison = similarity.read_class(root.path, assignment)
    assert sorted(comparison.students) == sorted(names)
    assert comparison.scores()[0][0] < similarity.THRESHOLD / 2, comparison.scores()[:3]
    assert similarity.find_pairs(root.path, assignment) == []


def test_a_corrupt_notebook_is_reported_and_the_rest_compared(week1, tmp_path):
    root = week1.copy(tmp_path / "course")
    bad = root.path / "submitted" / "copy_reordered" / A / "01_forward_pass.ipynb"
    bad.write_text('{"cells": [')
    not_a_notebook = root.path / "submitted" / "instructor" / A / "notes.ipynb"
    not_a_notebook.write_text('{"nbformat": 3}')
    odd_cells = root.path / "submitted" / "instructor" / A / "odd.ipynb"  # valid JSON, cells of the wrong shape
    odd_cells.write_text('{"nbformat": 4, "cells": [{"cell_type": "code", "metadata": null, "source": [1]}]}')
    comparison = similarity.read_class(root.path, A)
    assert {(s.student, s.path.name) for s in comparison.skipped} == {("copy_reordered", "01_forward_pass.ipynb"),
                                                                      ("instructor", "notes.ipynb"),
                                                                      ("instructor", "odd.ipynb")}
    assert "not valid notebook JSON" in " ".join(s.reason for s in comparison.skipped)
    assert "copy_reordered" not in comparison.students and "instructor" in comparison.students
    assert comparison.score("original", "copy_renamed") >= similarity.THRESHOLD


def test_a_renamed_notebook_is_compared_by_its_cells(week1, tmp_path):
    root = week1.copy(tmp_path / "course")
    folder = root.path / "submitted" / "copy_renamed" / A
    (folder / "01_forward_pass.ipynb").rename(folder / "01_forward_pass-Copy1.ipynb")
    comparison = similarity.read_class(root.path, A)
    assert comparison.score("original", "copy_renamed") >= similarity.THRESHOLD


def test_without_release_the_given_lines_come_from_source(week1, week1_compared, tmp_path):
    """A course root whose release/ is gone: the scaffolding is what source/ has outside the
    solution markers, which is what nbgrader releases, so nothing changes."""
    root = week1.copy(tmp_path / "course")
    shutil.rmtree(root.path / "release")
    comparison = similarity.read_class(root.path, A)
    assert comparison.scores() == week1_compared.scores()
    assert [line.given for line in comparison.answers["original"]["sigmoid"].lines] == [True, True, False, False,
                                                                                         False]


def test_untouched_and_missing_submissions_match_no_one(tmp_path):
    root = course_root(tmp_path / "course")
    root.submit("blank1", A, root.student_notebooks(A, None))
    root.submit("blank2", A, root.student_notebooks(A, None))
    root.submit("original", A, root.student_notebooks(A, ORIGINAL))
    (root.path / "submitted" / "absent").mkdir()
    comparison = similarity.read_class(root.path, A)
    assert comparison.students == ["blank1", "blank2", "original"]
    assert max(s for s, _, _ in comparison.scores()) == 0


def test_the_page_shows_both_sides(week1_compared, tmp_path):
    pairs = [p for p in week1_compared.pairs() if set(p.students) == {"original", "copy_renamed"}]
    page = similarity.write_html(pairs, tmp_path / "out").read_text()
    assert page.count("<section") == 1
    section = page[page.index("<section"):]
    assert "never a penalty" in page
    # both students' code, side by side, for the matched exercises
    assert "clipped = np.clip(z, -500, 500)" in section and "zc = np.clip(z, -500, 500)" in section
    assert "activations.append(sigmoid(pre_activation))" in section and "outs.append(sigmoid(zi))" in section
    # the copied lines are marked on both sides; the given signature is not
    assert re.search(r'<span class="shared">\s*bottom = 1\.0 \+ np\.exp\(-zc\)</span>', section)
    assert re.search(r'<span class="shared">\s*denominator = 1\.0 \+ np\.exp\(-clipped\)</span>', section)
    assert re.search(r'<span class="given">def sigmoid\(z\):</span>', section)
    empty = similarity.write_html([], tmp_path / "none", A).read_text()
    assert "No pair of students reaches the threshold" in empty


def test_the_command(week1, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["similarity", A, "--course-dir", str(week1.path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    lines = [line.split() for line in printed.splitlines() if line.startswith("  ")]
    assert {frozenset(line[1:3]) for line in lines} == {frozenset(p) for p in
                                                        [("original", c) for c in COPIES]
                                                        + [(a, b) for a in COPIES for b in COPIES if a < b]}
    assert all(float(line[0]) >= similarity.THRESHOLD for line in lines)
    assert (out / f"similarity-{A}.html").exists() and str(out / f"similarity-{A}.html") in printed
    # a stricter threshold keeps fewer pairs
    assert main(["similarity", A, "--course-dir", str(week1.path), "--out", str(out), "--threshold", "1.01"]) == 0
    assert "0 pair(s)" in capsys.readouterr().out


def test_clear_errors(week1, tmp_path, capsys):
    assert main(["similarity", "week9_nothing", "--course-dir", str(week1.path), "--out", str(tmp_path)]) == 2
    assert "no assignment 'week9_nothing'" in capsys.readouterr().err
    empty = course_root(tmp_path / "empty")
    assert main(["similarity", A, "--course-dir", str(empty.path), "--out", str(tmp_path)]) == 2
    assert "no submissions of 'week1_forward_pass'" in capsys.readouterr().err
    with pytest.raises(similarity.NoSubmissions):
        similarity.find_pairs(empty.path, A)
