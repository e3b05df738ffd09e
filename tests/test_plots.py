"""course.plots: the decision-boundary plot evaluates the model once, on a grid."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course.plots import grid_probabilities, plot_decision_boundary  # noqa: E402


def linear(G):
    return 1 / (1 + np.exp(-(G[:, 0] - G[:, 1])))


def test_grid_is_evaluated_in_one_call():
    calls = []

    def fn(G):
        calls.append(G.shape)
        return linear(G)

    X = np.array([[0.0, 0.0], [1.0, 2.0]])
    xx, yy, p = grid_probabilities(fn, X, resolution=50)
    assert calls == [(2500, 2)]
    assert xx.shape == yy.shape == p.shape == (50, 50)
    assert xx.min() == pytest.approx(-0.5) and yy.max() == pytest.approx(2.5)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-(xx - yy))), rtol=1e-6)


class FakeModel:
    """Anything with a Keras-like predict(x, verbose=0, batch_size=...) is used as a model."""

    def __init__(self):
        self.calls = 0

    def predict(self, x, verbose=0, batch_size=None):
        self.calls += 1
        assert batch_size == len(x)
        return linear(x)[:, None]


def test_model_and_legend():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    model = FakeModel()
    ax = plot_decision_boundary(model, X, y, class_names=("genuine", "forged"), title="t")
    assert model.calls == 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["genuine (y=0)", "forged (y=1)", "boundary: P = 0.5"]
    # the legend's colours are those of the points of each class
    genuine, forged = ax.collections[-2:]
    assert len(genuine.get_offsets()) == int((y == 0).sum())
    assert len(forged.get_offsets()) == int((y == 1).sum())
    plt.close("all")


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        grid_probabilities(linear, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="one probability per row"):
        grid_probabilities(lambda G: np.zeros(3), np.zeros((5, 2)))
    with pytest.raises(TypeError, match="Keras model or a function"):
        plot_decision_boundary(42, np.zeros((5, 2)), np.zeros(5))
