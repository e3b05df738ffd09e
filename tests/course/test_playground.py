"""course.playground: the NumPy network, the data sets and the widget, without a browser."""
from __future__ import annotations

import io
import time

import numpy as np
import pytest

from course import playground
from course.playground import DATASETS, MLP, SYNTHETIC, Playground, make_dataset
from tests.helpers import STAGED_DIR

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"



def png(pg: Playground) -> bytes:
    """The bytes shown by the image widget (it stores them as a memoryview)."""
    return bytes(pg.image.value)


@pytest.fixture
def make_pg():
    """Build playgrounds that are always closed (so no thread outlives a test)."""
    made = []

    def make(**kw) -> Playground:
        kw.setdefault("dataset", "gaussian")
        pg = Playground(**kw)
        made.append(pg)
        return pg

    yield make
    for pg in made:
        pg.close()


# ----------------------------------------------------------------- the network
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_backprop_matches_numerical_gradient(activation):
    """The real correctness check: backprop equals central differences of the loss."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 2))
    y = rng.integers(0, 2, 7).astype(float)
    net = MLP([2, 3, 4, 1], activation, seed=3)
    for b in net.biases:                       # non-zero biases, so they are tested too
        b[:] = rng.normal(scale=0.5, size=b.shape)
    dWs, dbs = net.gradients(X, y)
    eps = 1e-6
    for params, grads in ((net.weights, dWs), (net.biases, dbs)):
        for P, G in zip(params, grads):
            assert G.shape == P.shape, f"gradient shape {G.shape} != parameter shape {P.shape}"
            numeric = np.zeros_like(P)
            for idx in np.ndindex(P.shape):
                old = P[idx]
                P[idx] = old + eps
                up = net.loss(X, y)
                P[idx] = old - eps
                down = net.loss(X, y)
                P[idx] = old
                numeric[idx] = (up - down) / (2 * eps)
            np.testing.assert_allclose(G, numeric, rtol=1e-5, atol=1e-8)


def test_network_without_hidden_layers_is_logistic_regression():
    net = MLP([2, 1], "relu", seed=0)
    X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    expected = 1 / (1 + np.exp(-(X @ net.weights[0][:, 0] + net.biases[0][0])))
    np.testing.assert_allclose(net.predict_proba(X), expected)


def test_loss_is_binary_cross_entropy():
    net = MLP([2, 2, 1], "tanh", seed=0)
    X = np.random.default_rng(0).normal(size=(5, 2))
    y = np.array([0, 1, 1, 0, 1])
    p = net.predict_proba(X)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert net.loss(X, y) == pytest.approx(expected)


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="unknown activation"):
        MLP([2, 1], "swish")


# ----------------------------------------------------------------- data sets
@pytest.mark.parametrize("name", SYNTHETIC)
@pytest.mark.parametrize("n_points", [2, 101, 500])
def test_datasets_have_requested_size_and_two_balanced_classes(name, n_points):
    X, y = make_dataset(name, n_points, noise=0.2, seed=0)
    assert X.shape == (n_points, 2) and y.shape == (n_points,)
    assert set(np.unique(y)) == {0, 1}
    assert abs(int((y == 1).sum()) - int((y == 0).sum())) <= 1
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", SYNTHETIC)
def test_noise_changes_the_synthetic_data_and_seed_repeats_it(name):
    X0, y0 = make_dataset(name, 200, noise=0.0, seed=0)
    X1, y1 = make_dataset(name, 200, noise=0.3, seed=0)
    assert not np.allclose(X0, X1)
    np.testing.assert_array_equal(y0, y1)      # same points, moved by the noise
    np.testing.assert_array_equal(make_dataset(name, 200, 0.3, seed=0)[0], X1)


def test_noise_free_data_sets_are_separable_as_described():
    X, y = make_dataset("circles", 400, noise=0.0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 1].max() <= 0.5 < 0.7 <= r[y == 0].min()
    X, y = make_dataset("xor", 400, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="unknown synthetic data set"):
        make_dataset("moons")


# ----------------------------------------------------------------- the widget
def test_widget_has_the_documented_controls(make_pg):
    pg = make_pg()
    assert set(pg.controls) == {"dataset", "noise", "train_ratio", "hidden_layers", "neurons",
                                "activation", "learning_rate", "batch_size"}
    assert set(pg.buttons) == {"play", "pause", "step", "reset"}
    assert list(pg.controls["dataset"].options) == list(DATASETS)
    lr = pg.controls["learning_rate"]
    assert (lr.base, lr.min, lr.max) == (10, -4, 1)       # 1e-4 .. 10, log scale
    assert (pg.controls["hidden_layers"].min, pg.controls["hidden_layers"].max) == (0, 4)
    assert (pg.controls["neurons"].min, pg.controls["neurons"].max) == (1, 8)
    assert (pg.controls["batch_size"].min, pg.controls["batch_size"].max) == (1, 100)
    assert "application/vnd.jupyter.widget-view+json" in pg._repr_mimebundle_()
    assert pg.epoch == 0 and pg.history == {"train_loss": [], "test_loss": []}
    assert pg.frames == 1 and png(pg).startswith(PNG_SIGNATURE)


def test_training_on_gaussian_blobs_lowers_the_loss_and_classifies_well(make_pg):
    pg = make_pg(learning_rate=0.1)
    pg.step(40)
    assert pg.epoch == 40 and len(pg.history["train_loss"]) == 40
    train, test = pg.history["train_loss"], pg.history["test_loss"]
    assert train[-1] < 0.5 * train[0], f"train loss did not fall: {train[0]:.3f} -> {train[-1]:.3f}"
    assert test[-1] < 0.5 * test[0]
    assert pg.accuracy("test") >= 0.95
    proba = pg.predict_proba(pg.X_test)
    assert proba.shape == (len(pg.X_test),) and ((0 <= proba) & (proba <= 1)).all()
    assert "Epoch 40" in pg.status.value


@pytest.mark.parametrize("control, value, sizes", [
    ("hidden_layers", 3, [(2, 4), (4, 4), (4, 4), (4, 1)]),
    ("hidden_layers", 0, [(2, 1)]),
    ("neurons", 7, [(2, 7), (7, 7), (7, 1)]),
])
def test_architecture_controls_reset_the_model(make_pg, control, value, sizes):
    pg = make_pg(hidden_layers=2, neurons=4)
    pg.step(3)
    pg.controls[control].value = value
    assert [W.shape for W in pg.weights] == sizes
    assert pg.epoch == 0 and pg.history["train_loss"] == []


def test_activation_and_data_controls_reset_the_model(make_pg):
    pg = make_pg()
    for control, value in (("activation", "relu"), ("dataset", "xor"), ("noise", 30),
                           ("train_ratio", 80)):
        pg.step(2)
        pg.controls[control].value = value
        assert pg.epoch == 0 and pg.history["train_loss"] == [], f"{control} did not reset"
        fresh = MLP(pg.model.layer_sizes, pg.model.activation, seed=pg.seed)
        for a, b in zip(fresh.weights, pg.weights):  # back to the seeded initial weights
            np.testing.assert_array_equal(a, b)
    assert pg.model.activation == "relu"
    assert len(pg.X_train) == 400 and len(pg.X_test) == 100   # 80 % of 500 points


def test_noise_control_changes_the_points(make_pg):
    pg = make_pg(noise=0)
    before = pg.X_train.copy()
    pg.controls["noise"].value = 40
    assert not np.allclose(before, pg.X_train)


def test_reset_restarts_from_the_same_seeded_weights(make_pg):
    pg = make_pg()
    start = [W.copy() for W in pg.weights]
    pg.step(5)
    pg.buttons["reset"].click()
    assert pg.epoch == 0
    for a, b in zip(start, pg.weights):
        np.testing.assert_array_equal(a, b)


def test_learning_rate_changes_training(make_pg):
    pg = make_pg(learning_rate=0.01)
    pg.step(10, render=False)
    slow = list(pg.history["train_loss"])
    pg.reset()
    pg.controls["learning_rate"].value = 10.0   # takes effect without a reset
    assert pg.epoch == 0
    pg.step(10, render=False)
    fast = pg.history["train_loss"]
    assert not np.allclose(slow, fast)
    pg.reset()
    pg.controls["learning_rate"].value = 0.01
    pg.step(10, render=False)
    np.testing.assert_allclose(pg.history["train_loss"], slow)  # seeded: repeatable


def test_batch_size_changes_training(make_pg):
    pg = make_pg(batch_size=1)
    pg.step(2, render=False)
    one = list(pg.history["train_loss"])
    pg.reset()
    pg.controls["batch_size"].value = 100
    pg.step(2, render=False)
    assert not np.allclose(one, pg.history["train_loss"])


def test_a_diverging_network_stops_with_a_message(make_pg):
    # a deep linear network with a huge learning rate overflows at once
    pg = make_pg(activation="linear", hidden_layers=4, neurons=8, learning_rate=10.0,
                 batch_size=1)
    pg.step(3)
    assert pg.diverged and "diverged" in pg.message.value
    assert pg.epoch == 1                       # no more training on inf / nan weights
    assert png(pg).startswith(PNG_SIGNATURE)   # and drawing still works
    pg.play()                                  # play stops by itself
    pg.thread.join(10)
    assert not pg.thread.is_alive()
    pg.controls["learning_rate"].value = 0.01
    pg.reset()
    assert not pg.diverged and pg.message.value == ""
    pg.step(3)
    assert pg.epoch == 3 and np.isfinite(pg.history["train_loss"]).all()


def test_image_is_a_png_that_changes_after_a_step(make_pg):
    pg = make_pg(dataset="xor")
    first, frames = png(pg), pg.frames
    pg.buttons["step"].click()
    assert pg.frames == frames + 1 and pg.epoch == 1
    assert png(pg).startswith(PNG_SIGNATURE) and png(pg) != first
    from PIL import Image
    with Image.open(io.BytesIO(png(pg))) as img:
        img.verify()
        assert img.size[0] > 300 and img.size[1] > 200


def test_while_nbgrader_grades_the_first_frame_is_not_drawn(make_pg, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    pg = make_pg(dataset="xor")
    assert pg.frames == 0 and png(pg) == b""
    assert pg.predict_proba(pg.X_train).shape == (len(pg.X_train),)  # the network is there all the same
    pg.step(2)  # a step asked for afterwards is drawn
    assert pg.frames == 1 and pg.epoch == 2 and png(pg).startswith(PNG_SIGNATURE)


def test_play_and_pause_draw_frames_and_stop_the_thread(make_pg):
    pg = make_pg(hidden_layers=2, neurons=8, activation="relu")
    frames = pg.frames
    pg.play()
    assert pg.playing and pg.buttons["play"].disabled
    deadline = time.monotonic() + 20           # generous: only a guard against hanging
    while pg.frames < frames + 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    pg.pause()
    assert not pg.thread.is_alive()
    assert pg.frames >= frames + 3 and pg.epoch >= 3
    assert len(pg.history["test_loss"]) == pg.epoch
    assert not pg.buttons["play"].disabled and pg.buttons["pause"].disabled
    epoch = pg.epoch
    time.sleep(0.05)
    assert pg.epoch == epoch                   # really stopped


def test_controls_work_while_playing_and_close_stops_the_thread(make_pg):
    pg = make_pg()
    pg.buttons["play"].click()
    pg.controls["hidden_layers"].value = 1
    assert [W.shape for W in pg.weights] == [(2, 4), (4, 1)]
    thread = pg.thread
    pg.close()
    assert not thread.is_alive()
    pg.play()                                  # play twice / pause twice are harmless
    pg.pause()
    pg.pause()


def test_banknote_option_uses_the_staged_data(make_pg, monkeypatch):
    if not (STAGED_DIR / "data_banknote_authentication.txt").is_file():
        pytest.fail(f"banknote data not staged in {STAGED_DIR}: set COURSE_DATA_DIR (see ../shared/data/README)")
    monkeypatch.setenv("COURSE_DATA_DIR", str(STAGED_DIR))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    pg = make_pg()
    pg.step(2)
    pg.controls["dataset"].value = "banknote"
    assert pg.message.value == "" and pg.epoch == 0
    n = len(pg.X_train) + len(pg.X_test)
    assert n == playground.MAX_BANKNOTE_POINTS
    X = np.concatenate([pg.X_train, pg.X_test])
    assert abs(X.mean()) < 0.2 and 0.8 < X.std() < 1.2      # standardised
    assert set(np.unique(pg.y_train)) == {0, 1}
    assert pg.controls["noise"].disabled
    pg.step(20)
    assert pg.accuracy("test") > 0.6


def test_banknote_option_without_data_shows_a_message(make_pg, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    pg = make_pg(dataset="xor")
    pg.controls["dataset"].value = "banknote"
    assert "could not be loaded" in pg.message.value
    assert "COURSE_DATA_DIR" in pg.message.value
    assert pg.controls["dataset"].value == "xor"            # falls back, keeps working
    pg.step(1)
    assert pg.epoch == 1
    pg2 = make_pg(dataset="banknote")                       # also when asked for at start
    assert "could not be loaded" in pg2.message.value
    assert pg2.controls["dataset"].value == "circles"
