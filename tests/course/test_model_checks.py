"""course.model_checks: the same model written four ways is described the same way;
wrong models get feedback that names the problem."""
from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import layers  # noqa: E402

from course.feedback import FeedbackError  # noqa: E402
from course.model_checks import check_model, summarize  # noqa: E402
from course.training import grading_mode, progress  # noqa: E402

WANT = dict(input_dim=2, layers=[(8, "sigmoid"), (1, "sigmoid")], loss="binary_crossentropy",
            optimizer="SGD", learning_rate=0.5, accuracy=True)


def compiled(model, loss="binary_crossentropy", optimizer=None, metrics=("accuracy",)):
    model.compile(optimizer=optimizer or keras.optimizers.SGD(learning_rate=0.5), loss=loss, metrics=list(metrics))
    return model


def sequential():
    return compiled(keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="sigmoid"),
                                      layers.Dense(1, activation="sigmoid")]))


def with_add_and_activation_layer():
    m = keras.Sequential()
    m.add(keras.Input((2,)))
    m.add(layers.Dense(8))
    m.add(layers.Activation("sigmoid"))
    m.add(layers.Dense(1, activation=keras.activations.sigmoid))
    return compiled(m, loss=keras.losses.BinaryCrossentropy(), metrics=(keras.metrics.BinaryAccuracy(),))


def functional():
    inputs = keras.Input((2,))
    outputs = layers.Dense(1, activation="sigmoid")(layers.Dense(8, activation="sigmoid")(inputs))
    return compiled(keras.Model(inputs, outputs), loss=keras.losses.binary_crossentropy, metrics=("acc",))


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="sigmoid")
        self.out = layers.Dense(1, activation="sigmoid")

    def call(self, x):
        return self.out(self.hidden(x))


@pytest.mark.parametrize("build", [sequential, with_add_and_activation_layer, functional,
                                   lambda: compiled(Subclassed())])
def test_four_styles_pass(build):
    model = build()
    assert check_model("model", model, **WANT) is None     # no output in a grade cell
    s = summarize(model)
    assert s.dense == [(8, "sigmoid"), (1, "sigmoid")] and s.input_dim == 2


def feedback(model, **overrides) -> str:
    with pytest.raises(FeedbackError) as err:
        check_model("build_fcnn()", model, **{**WANT, **overrides})
    return str(err.value)


def test_missing_return():
    assert "Did you forget to `return model`" in feedback(None)


def test_missing_hidden_layer():
    m = compiled(keras.Sequential([keras.Input((2,)), layers.Dense(1, activation="sigmoid")]))
    text = feedback(m)
    assert "the layers are not right" in text and "a layer is missing" in text


def test_softmax_with_one_unit():
    m = compiled(keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="sigmoid"),
                                   layers.Dense(1, activation="softmax")]))
    assert "softmax over a single unit is always 1.0" in feedback(m)


def test_wrong_activation():
    m = compiled(keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="relu"),
                                   layers.Dense(1, activation="sigmoid")]))
    assert "check the activation of each layer" in feedback(m)


def test_compile_settings():
    assert "not compiled" in feedback(keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="sigmoid"),
                                                        layers.Dense(1, activation="sigmoid")]))
    assert "the loss should be 'binary_crossentropy', it is 'mse'" in feedback(compiled(sequential(), loss="mse"))
    assert "from logits" in feedback(compiled(sequential(), loss=keras.losses.BinaryCrossentropy(from_logits=True)))
    assert "the optimizer should be SGD, it is Adam" in feedback(compiled(sequential(), optimizer="adam"))
    assert "the learning rate should be 0.5" in feedback(compiled(sequential(), optimizer="sgd"))
    assert "should include accuracy" in feedback(compiled(sequential(), metrics=("mae",)))


def test_input_size():
    m = compiled(keras.Sequential([keras.Input((3,)), layers.Dense(8, activation="sigmoid"),
                                   layers.Dense(1, activation="sigmoid")]))
    assert "input should have 2 features, the model takes 3" in feedback(m)


def test_extra_layers_are_named():
    m = compiled(keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="sigmoid"), layers.Dropout(0.5),
                                   layers.Dense(1, activation="sigmoid")]))
    assert "Dropout" in feedback(m)


def test_summarize_nested_model():
    inner = keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="sigmoid")])
    outer = keras.Sequential([keras.Input((2,)), inner, layers.Dense(1, activation="sigmoid")])
    assert summarize(outer).dense == [(8, "sigmoid"), (1, "sigmoid")]


def test_progress_prints_a_few_lines(capsys):
    m = sequential()
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    m.fit(x, (x[:, 0] > 0).astype("float32"), epochs=16, batch_size=32, verbose=0, callbacks=[progress(16)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 8 and lines[-1].startswith("epoch 16/16") and "loss" in lines[-1]


def test_grading_mode(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not grading_mode()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert grading_mode()
