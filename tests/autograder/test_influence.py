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
        ("", "", "fresh = A"),
        ("", "", "fresh = 0"),
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


def test_seeding_all_the_shared_random_state_again_cuts_the_tie():
    """After course.reseed() (or keras.utils.set_random_seed) a draw is the same whatever was drawn
    before; a statement that seeds and also draws is read as drawing first."""
    nb = _notebook(
        ("", "", "import keras\nimport course\nfrom keras.utils import set_random_seed"),
        ("solution", "build", "def build():\n    return keras.Sequential([keras.layers.Dense(2)])"),
        ("grade", "build_tests", "course.reseed()\nassert len(build().layers) == 1"),
        ("solution", "other", "def other():\n    return keras.Sequential([keras.layers.Dense(3)])"),
        ("grade", "other_tests", "course.reseed()\nassert len(other().layers) == 1"),
        ("grade", "seeded_tests", "set_random_seed(0)\nmodel = keras.Sequential([keras.layers.Dense(1)])"),
        ("grade", "both_tests", "pair = (other(), course.reseed())"),
        ("grade", "after_tests", "model = keras.Sequential([keras.layers.Dense(1)])"),
    )
    reach = influence(nb)
    assert reach["build"] == {"build_tests"}, "the next test cell seeds again before it draws"
    assert reach["other"] == {"other_tests", "both_tests", "after_tests"}
    # without the two course.reseed() at the start of the cells, build's draws reach other's test cell, up to the
    # cell that seeds with keras.utils.set_random_seed
    unseeded = nb.copy()
    unseeded.cells = [nbformat.v4.new_code_cell(c.source.replace("course.reseed()\n", ""), metadata=c.metadata)
                      for c in nb.cells]
    assert influence(unseeded)["build"] == {"build_tests", "other_tests"}


def test_what_reads_its_arguments_only_changes_nothing_it_is_given():
    """A NumPy array's min or mean changes nothing; a model's fit or predict changes the model and the
    callbacks it is given, not the data; a class defined does not run its methods."""
    nb = _notebook(
        ("", "", "import numpy as np\nimport keras"),
        ("solution", "scale", "X = np.ones((4, 2)) * 2"),
        ("grade", "scale_tests", "assert X.min() == 2"),
        ("solution", "build", "def build():\n    return keras.Sequential([keras.layers.Dense(1)])"),
        ("", "", "model = build()\nkeep = keras.callbacks.History()\nlow = X.min()\n"
                 "model.fit(X, X[:, :1], callbacks=[keep])"),
        ("solution", "net", "class Net(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
                            "        self.out = keras.layers.Dense(1)"),
        ("grade", "data_tests", "assert X.shape == (4, 2)"),
        ("grade", "keep_tests", "assert keep.history"),
        ("grade", "net_tests", "keras.utils.set_random_seed(0)\nassert Net().out.units == 1"),
    )
    reach = influence(nb)
    assert reach["build"] == {"keep_tests"}, "fitting changed the callback, not X"
    assert reach["scale"] == {"scale_tests", "data_tests", "keep_tests"}
    assert reach["net"] == {"net_tests"}, "the class's methods drew nothing when it was defined"


def test_what_a_model_method_a_class_statement_or_a_seed_still_touches():
    """A model's method changes what it is given but the data (a generator passed as rng=, callbacks in
    **options) and a notebook class's fit anything; a class statement runs its methods' defaults;
    course.setup() in an answer sets the seed of later reseeds; a seed under an if may not run."""
    nb = _notebook(
        ("", "", "import numpy as np\nimport keras\nimport course\n"
                 "rng = np.random.default_rng(0)\nX = np.ones((4, 2))"),
        ("solution", "epochs", "EPOCHS = 3"),
        ("", "", "net = keras.Sequential([keras.layers.Dense(1)])\nkeep = keras.callbacks.History()\n"
                 "net.fit(X, X, **{'epochs': EPOCHS, 'callbacks': [keep]})\nnet.train_epoch(X, X, 0.5, 2, rng)"),
        ("grade", "rng_tests", "assert rng.integers(10) >= 0"),
        ("grade", "keep_tests", "assert keep.history"),
        ("solution", "scaler", "class Scaler:\n    def fit(self, A):\n        A -= A.mean(0)\n"
                               "    def noise(self, z=np.random.normal()):\n        return z"),
        ("", "", "Scaler().fit(X)"),
        ("grade", "data_tests", "assert X.sum() >= 0"),
        ("grade", "draw_tests", "assert np.random.normal() < 10"),
        ("solution", "seed", "course.setup(seed=1)"),
        ("grade", "reseed_tests", "course.reseed()\nassert np.random.normal() < 10"),
        ("solution", "late", "np.random.normal()"),
        ("grade", "if_tests", "if EPOCHS > 5:\n    course.reseed()\nassert np.random.normal() < 10"),
    )
    reach = influence(nb)
    assert {"rng_tests", "keep_tests"} <= reach["epochs"], "the generator and the callbacks changed in the fit cell"
    assert {"data_tests", "draw_tests"} <= reach["scaler"], "its fit changed X; its method's default drew"
    assert "reseed_tests" in reach["seed"], "course.reseed() seeds with the seed course.setup() was given"
    assert "if_tests" in reach["late"], "the reseed under the if may not run"

def test_a_cell_it_cannot_read_reaches_every_later_cell():
    nb = _notebook(
        ("solution", "a", "def a():\n    return 1"),
        ("", "", "%%bash\necho $((1 +"),
        ("grade", "b_tests", "check(1, 1)"),
        ("solution", "c", "C = 1"),
        ("grade", "d_tests", "check(2, 2)"),
    )
    assert influence(nb) == {"a": {"b_tests", "d_tests"}, "c": set()}


def test_a_function_changing_a_global_through_a_local_name_changes_the_global():
    nb = _notebook(
        ("", "", "layers = [[0], [0]]\nparams = {'w': [0]}"),
        ("solution", "step", "def step():\n    for layer in layers:\n        layer[0] = 1\n"
                             "    w = params['w']\n    w += [1]"),
        ("", "", "step()"),
        ("grade", "layers_tests", "assert layers == [[1], [1]]"),
        ("grade", "params_tests", "assert params['w'] == [0, 1]"),
    )
    assert influence(nb)["step"] == {"layers_tests", "params_tests"}


def test_objects_held_in_containers_or_unpacked_are_the_same_objects():
    nb = _notebook(
        ("", "", "W = [0]\nparams = {'W': W}\npair = ([0], [0])\na, b = pair"),
        ("solution", "step", "def step(p):\n    p['W'][0] += 1"),
        ("", "", "step(params)\nb.append(1)"),
        ("grade", "w_tests", "assert W == [1]"),
        ("grade", "pair_tests", "assert pair[1] == [0, 1]"),
    )
    assert influence(nb)["step"] == {"w_tests", "pair_tests"}, "b.append runs only if step(params) did not raise"


def test_a_statement_after_one_an_answer_influenced_is_influenced_too():
    """If the answer's function raises, the rest of the cell does not run."""
    nb = _notebook(
        ("solution", "f", "def f():\n    return 1"),
        ("", "", "y = f()\nZ = 5"),
        ("grade", "z_tests", "assert Z == 5"),
    )
    assert influence(nb)["f"] == {"z_tests"}


def test_functions_called_through_another_name_or_an_object_count_where_they_run():
    nb = _notebook(
        ("solution", "act", "def act(x):\n    return x * SCALE"),
        ("", "", "f = act\nACTS = {'a': act}"),
        ("solution", "scale", "SCALE = 2"),
        ("grade", "alias_tests", "assert f(1) == 2"),
        ("grade", "dict_tests", "assert ACTS['a'](1) == 2"),
        ("solution", "net", "class Net:\n    def forward(self, x):\n        return x + OFFSET"),
        ("", "", "net = Net()"),
        ("solution", "offset", "OFFSET = 1"),
        ("grade", "net_tests", "assert net.forward(1) == 2"),
    )
    reach = influence(nb)
    assert reach["scale"] == {"alias_tests", "dict_tests"}
    assert reach["offset"] == {"net_tests"}


def test_a_name_an_answer_imports_carries_the_answer():
    nb = _notebook(
        ("", "", "import numpy as np"),
        ("solution", "act", "from numpy import tanh as sigmoid"),
        ("grade", "act_tests", "assert sigmoid(0) == 0.5"),
        ("grade", "np_tests", "assert np.exp(0) == 1"),
    )
    assert influence(nb)["act"] == {"act_tests"}


def test_a_model_fitted_through_a_local_name_draws_random_numbers():
    nb = _notebook(
        ("solution", "train", "def train(model):\n    model.fit([[0.0]], [[0.0]])"),
        ("", "", "train(make())"),
        ("grade", "draw_tests", "import numpy as np\nassert np.random.rand() < 1"),
    )
    assert influence(nb)["train"] == {"draw_tests"}


def test_names_of_a_nested_scope_or_a_class_body_do_not_hide_a_global():
    nb = _notebook(
        ("solution", "w", "W = 1"),
        ("", "", "class C:\n    W = 0\n    def g(self):\n        return W\n"
                 "def h(xs):\n    _ = [W for W in xs]\n    return W"),
        ("grade", "class_tests", "assert C().g() == 1"),
        ("grade", "comprehension_tests", "assert h([5]) == 1"),
    )
    assert influence(nb)["w"] == {"class_tests", "comprehension_tests"}
