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


# --------------------------------------------------------------- week 3 (MNIST) pictures
from course.plots import compare_histories, plot_class_balance, plot_confusion_matrix, plot_digits  # noqa: E402


def test_plot_digits_titles_mark_mistakes_in_red():
    images = np.random.default_rng(0).integers(0, 256, (3, 784)).astype(np.uint8)
    fig = plot_digits(images, [1, 2, 3], predicted=[1, 7, 3], ncols=2)
    (ax,) = fig.axes                  # one picture: a 2 x 2 grid of images, the last slot empty
    grid = ax.get_images()[0].get_array()
    rows, cols = grid.shape[0] // 2, grid.shape[1] // 2
    tiles = [grid[r * rows:(r + 1) * rows, c * cols:(c + 1) * cols] for r in range(2) for c in range(2)]
    for tile, image in zip(tiles, images):  # each image, scaled to 0..1, somewhere in its own slot
        scaled = (image.reshape(28, 28) - image.min()) / (image.max() - image.min())
        found = [(i, j) for i in range(tile.shape[0] - 27) for j in range(tile.shape[1] - 27)
                 if np.allclose(tile[i:i + 28, j:j + 28], scaled)]
        assert len(found) == 1
    assert not tiles[3].any()
    titles = [(t.get_text(), t.get_color()) for t in ax.texts]
    assert titles == [("true 1\npred. 1", "black"), ("true 2\npred. 7", "tab:red"), ("true 3\npred. 3", "black")]
    for (r, c), t in zip([(0, 0), (0, 1), (1, 0)], ax.texts):  # each title above its own image
        x, y = t.get_position()
        assert c * cols < x < (c + 1) * cols and r * rows <= y < r * rows + rows - 28
    plt.close(fig)
    labelled = plot_digits(images[:2], [4, 5], title="two")
    assert [t.get_text() for t in labelled.axes[0].texts] == ["4", "5"] and labelled._suptitle.get_text() == "two"
    plt.close(labelled)
    with pytest.raises(ValueError, match="at least one image"):
        plot_digits(np.zeros((0, 28, 28)), [])


def test_class_balance_shows_shares_per_set():
    ax = plot_class_balance(np.array([0, 0, 0, 1]), np.array([0, 1]))
    heights = [round(p.get_height()) for p in ax.patches]
    assert heights == [75, 25, 50, 50]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training (4)", "test (2)"]
    plt.close(ax.figure)


def test_confusion_matrix_plot_rows_are_true_classes():
    cm = np.array([[8, 2], [0, 5]])
    ax = plot_confusion_matrix(cm, class_names=["cat", "dog"])
    assert ax.get_ylabel() == "true class" and ax.get_xlabel() == "predicted class"
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert texts == {(0, 0): "8", (0, 1): "2", (1, 1): "5"}  # (row, column); zero cells stay empty
    np.testing.assert_allclose(ax.get_images()[0].get_array(), [[0.8, 0.2], [0.0, 1.0]])
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)))


def test_compare_histories_one_line_per_run():
    ax = compare_histories({"relu": {"val_accuracy": [0.5, 0.9]}, "sigmoid": {"val_accuracy": [0.3, 0.6, 0.8]}})
    assert [line.get_label() for line in ax.lines] == ["relu", "sigmoid"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.3, 0.6, 0.8])
    plt.close(ax.figure)
    with pytest.raises(KeyError, match="val_loss"):
        compare_histories({"relu": {"val_accuracy": [0.5]}}, "val_loss")
