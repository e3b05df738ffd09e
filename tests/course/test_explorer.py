"""course.explorer.TrainingExplorer: sliders that retrain a Keras model in the background,
and course.training.ResultsTable, the table it keeps results in."""
from __future__ import annotations

import numpy as np
import pytest

from course.training import ResultsTable


def build(hidden_layers=(8,), activation="relu", learning_rate=1e-2):
    import keras

    model = keras.Sequential([keras.Input((16,))] + [keras.layers.Dense(u, activation=activation) for u in hidden_layers]
                             + [keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    x = (rng.normal(size=(300, 16)) + 2.0 * np.eye(3)[y].repeat(6, axis=1)[:, :16]).astype("float32")
    onehot = np.eye(3, dtype="float32")[y]
    return x[:240], onehot[:240], x[240:], onehot[240:]


def make(data, **kwargs):
    from course.explorer import TrainingExplorer

    kwargs.setdefault("epochs", 3)
    kwargs.setdefault("start", True)
    return TrainingExplorer(kwargs.pop("build", build), *data, subset=200, val_subset=50, batch_size=32,
                            learning_rate=1e-2, hidden_layers=1, units=8, **kwargs)


def test_trains_on_start_and_draws_every_epoch(data):
    ex = make(data)
    try:
        result = ex.wait()
        assert result is not None, ex.status.value
        assert result["epochs"] == 3 and result["hidden_layers"] == (8,) and result["activation"] == "relu"
        assert all(len(v) == 3 for v in ex.history.values())
        assert 0 <= result["val_accuracy"] <= 1 and result["best_val_accuracy"] >= result["val_accuracy"]
        assert result["train_accuracy"] > 0.6          # the classes are well separated
        assert ex.renders >= 4                          # the empty plot, then one per epoch
        assert ex.first_curve_seconds is not None and ex.first_curve_seconds < 30
        assert ex.png().startswith(b"\x89PNG")
        assert "done, validation accuracy" in ex.status.value
        assert len(ex.x_train) == 200 and len(ex.x_val) == 50
    finally:
        ex.close()


def test_moving_a_slider_retrains_with_the_new_values(data):
    ex = make(data)
    try:
        ex.wait()
        first_png = ex.png()
        ex.controls["hidden_layers"].value = 2
        ex.controls["units"].value = 16
        ex.controls["activation"].value = "tanh"
        result = ex.wait()
        assert result["hidden_layers"] == (16, 16) and result["activation"] == "tanh"
        assert ex.png() != first_png
        ex.controls["hidden_layers"].value = 0
        assert ex.wait()["hidden_layers"] == ()
    finally:
        ex.close()
    assert not ex.training


def test_keep_adds_the_result_to_the_table(data):
    ex = make(data)
    try:
        ex.wait()
        assert ex.keep() is True
        ex.controls["learning_rate"].value = 1e-3
        ex.wait()
        ex.buttons["keep"].click()
        assert len(ex.table) == 2
        assert [row["model"] for row in ex.table.rows] == ["hidden 8, relu, lr 1.0e-02", "hidden 8, relu, lr 1.0e-03"]
        assert "<table>" in ex.table_view.value and "lr 1.0e-03" in ex.table_view.value
    finally:
        ex.close()


def test_an_unfinished_exercise_is_explained(data):
    def unfinished(**kwargs):
        raise NotImplementedError()

    ex = make(data, build=unfinished)
    try:
        assert ex.wait() is None
        assert isinstance(ex.error, NotImplementedError)
        assert "Training failed" in ex.status.value and "Finish the exercise" in ex.status.value
        assert ex.keep() is False and len(ex.table) == 0
    finally:
        ex.close()


def test_nothing_trains_or_draws_while_nbgrader_grades(data, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    ex = make(data, start=None)
    try:
        assert not ex.training and ex.result is None and ex.history == {}
        assert "Not trained yet" in ex.status.value
        assert ex.renders == 0 and ex.png() == b""
    finally:
        ex.close()


def test_advice_on_a_stuck_or_diverged_run(data):
    ex = make(data, start=False)
    try:
        ex.result = {"val_accuracy": 0.1, "learning_rate": 0.5}
        ex.history = {"loss": [2.3, 2.3]}
        assert "learning rate is too high" in ex.advice()
        ex.history = {"loss": [2.3, float("nan")]}
        assert "diverged" in ex.advice()
        ex.result, ex.history = {"val_accuracy": 0.2, "learning_rate": 1e-4}, {"loss": [2.3, 2.2]}
        assert "raise the learning rate" in ex.advice()
    finally:
        ex.close()


def test_labels_must_be_one_hot(data):
    x, y, xv, yv = data
    with pytest.raises(ValueError, match="one-hot"):
        make((x, y.argmax(axis=1), xv, yv))


def test_results_table_text_and_html():
    table = ResultsTable()
    table.add("Dense(10)", epochs=10, test_accuracy=0.9041, seconds=12.5)
    table.add("100-50 <ReLU>", epochs=10, test_accuracy=0.9433)
    text = repr(table).splitlines()
    assert text[0].split() == ["model", "epochs", "test", "accuracy", "seconds"]
    assert text[2].split() == ["Dense(10)", "10", "0.904", "12.5"]
    assert text[3].split() == ["100-50", "<ReLU>", "10", "0.943"]
    html = table._repr_html_()
    assert html.count("<tr>") == 3 and "100-50 &lt;ReLU&gt;" in html and "<th>test accuracy</th>" in html


def test_keep_best_restores_the_best_epoch_whatever_the_metric_is_called(data):
    import keras

    from course.training import keep_best, uniform_names

    x, y, xv, yv = data
    keras.utils.set_random_seed(0)
    model = build(learning_rate=0.5)        # a large step: validation accuracy jumps around
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="categorical_crossentropy",
                  metrics=[keras.metrics.CategoricalAccuracy()])
    best = keep_best()
    history = model.fit(x, y, validation_data=(xv, yv), epochs=6, batch_size=16, verbose=0, callbacks=[best])
    val = history.history["val_categorical_accuracy"]
    assert best.best == pytest.approx(max(val)) and best.best_epoch == int(np.argmax(val)) + 1
    restored = float(np.mean(model.predict(xv, verbose=0).argmax(1) == yv.argmax(1)))
    assert restored == pytest.approx(best.best, abs=1e-6)
    uniform_names(history)
    assert history.history["val_accuracy"] is val and "accuracy" in history.history
    with pytest.raises(ValueError, match="validation data"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[keep_best()])
