"""course.descent: the gradient-descent explorer, driven without a browser.

The verdicts are checked against the closed forms of gradient descent on quadratics:
on L(a) = (a - c)^2 + 1 every step multiplies a - c by (1 - 2 lr), and on the bowl
L = (a1^2 + 10 a2^2) / 2 the coordinates are multiplied by (1 - lr) and (1 - 10 lr).
"""
from __future__ import annotations


import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course.descent import SURFACES, TOL, DescentExplorer, descend, verdict  # noqa: E402

STEPS = 20


def closed_form_1d(lr, k, a0=-2.0, c=2.0):
    """Points a_0..a_k of gradient descent on (a - c)^2 + 1."""
    return c + (1 - 2 * lr) ** np.arange(k + 1) * (a0 - c)


def expected_verdict(loss_0, loss_k, min_loss):
    if loss_k > loss_0:
        return "diverges"
    return "converged" if loss_k - min_loss <= TOL else "slow"


# --- descend -------------------------------------------------------------------------
@pytest.mark.parametrize("lr", [0.01, 0.1, 0.25, 0.5, 0.8, 1.0, 1.3])
def test_descend_matches_closed_form_on_a_parabola(lr):
    grad = SURFACES["1d"].grad
    path = descend(grad, -2.0, lr, STEPS)
    assert path.shape == (STEPS + 1,), f"1-D path shape: expected {(STEPS + 1,)}, got {path.shape}"
    np.testing.assert_allclose(path, closed_form_1d(lr, STEPS), rtol=1e-10, atol=1e-12,
                               err_msg=f"a_k != c + (1 - 2 lr)^k (a_0 - c) for lr={lr}")


def test_descend_in_2d_multiplies_each_coordinate_by_its_own_factor():
    lr = 0.15
    path = descend(SURFACES["2d"].grad, [-4.0, 1.0], lr, STEPS)
    assert path.shape == (STEPS + 1, 2)
    k = np.arange(STEPS + 1)
    np.testing.assert_allclose(path[:, 0], -4.0 * (1 - lr) ** k, rtol=1e-10)
    np.testing.assert_allclose(path[:, 1], 1.0 * (1 - 10 * lr) ** k, rtol=1e-10, atol=1e-14)


def test_descend_stops_before_the_first_non_finite_point():
    with np.errstate(all="raise"):  # descend must not leak overflow warnings either
        path = descend(lambda a: a**3, 10.0, 1.0, 50)
    assert np.all(np.isfinite(path)), "the path must hold finite points only"
    assert 1 < len(path) < 51, f"expected the path to stop early, got {len(path)} points"


@pytest.mark.parametrize("lr, steps", [(0.0, 5), (-0.1, 5), (0.1, -1), (0.1, 2.5)])
def test_descend_rejects_bad_arguments(lr, steps):
    with pytest.raises(ValueError):
        descend(SURFACES["1d"].grad, 0.0, lr, steps)


# --- surfaces ------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SURFACES))
def test_analytic_gradients_match_central_differences(name):
    s = SURFACES[name]
    rng = np.random.default_rng(0)
    h = 1e-5
    if s.dim == 1:
        a = rng.uniform(*s.xlim, size=50)
        numeric = (s.loss(a + h) - s.loss(a - h)) / (2 * h)
    else:
        a = np.column_stack([rng.uniform(*s.xlim, size=50), rng.uniform(*s.ylim, size=50)])
        e = np.eye(2) * h
        numeric = np.stack([(s.loss(a + e[i]) - s.loss(a - e[i])) / (2 * h) for i in range(2)], axis=-1)
    np.testing.assert_allclose(s.grad(a), numeric, rtol=1e-6, atol=1e-6, err_msg=f"gradient of {name!r}")


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_surfaces_have_zero_gradient_at_their_minima_and_start_in_range(name):
    s = SURFACES[name]
    np.testing.assert_allclose(s.grad(s.minima_array()), 0.0, atol=1e-12)
    assert s.xlim[0] <= s.start[0] <= s.xlim[1]
    if s.dim == 2:
        assert s.ylim[0] <= s.start[1] <= s.ylim[1]


# --- verdicts --------------------------------------------------------------------------
@pytest.mark.parametrize("lr, expected", [(0.01, "slow"), (0.25, "converged"), (1.1, "diverges")])
def test_verdicts_on_the_parabola_follow_the_closed_form(lr, expected):
    a = closed_form_1d(lr, STEPS)
    loss = (a - 2) ** 2 + 1
    assert expected_verdict(loss[0], loss[-1], 1.0) == expected  # the numbers are chosen right
    s = SURFACES["1d"]
    path = descend(s.grad, s.start_point(), lr, STEPS)
    got = verdict(s, path, s.loss(path))
    assert got == expected, f"lr={lr}: expected {expected!r}, got {got!r}"


@pytest.mark.parametrize("lr, expected", [(0.01, "slow"), (0.18, "converged"), (0.25, "diverges")])
def test_verdicts_on_the_2d_bowl_follow_the_closed_form(lr, expected):
    k = STEPS
    loss_k = 0.5 * (16 * (1 - lr) ** (2 * k) + 10 * (1 - 10 * lr) ** (2 * k))
    assert expected_verdict(13.0, loss_k, 0.0) == expected  # the numbers are chosen right
    s = SURFACES["2d"]
    path = descend(s.grad, s.start_point(), lr, k)
    assert s.loss(path)[-1] == pytest.approx(loss_k, rel=1e-9)
    got = verdict(s, path, s.loss(path))
    assert got == expected, f"lr={lr}: expected {expected!r}, got {got!r}"


def test_the_explorer_shows_the_closed_form_verdicts():
    ex = DescentExplorer("1d", lr=0.01, steps=STEPS)
    for lr, expected in [(0.01, "slow"), (0.25, "converged"), (1.1, "diverges")]:
        ex.controls["lr"].value = lr
        assert ex.verdict == expected, f"1d, lr={lr}: expected {expected!r}, got {ex.verdict!r}"
        np.testing.assert_allclose(ex.path, closed_form_1d(lr, STEPS), rtol=1e-10)
        np.testing.assert_allclose(ex.losses, (ex.path - 2) ** 2 + 1, rtol=1e-12)
    ex.controls["surface"].value = "2d"
    for lr, expected in [(0.01, "slow"), (0.18, "converged"), (0.25, "diverges")]:
        ex.controls["lr"].value = lr
        assert ex.verdict == expected, f"2d, lr={lr}: expected {expected!r}, got {ex.verdict!r}"


def test_the_2d_bowl_zigzags_across_the_valley_before_it_diverges():
    ex = DescentExplorer("2d", lr=0.19, steps=10)  # 1 - 10 lr = -0.9: a2 flips sign every step
    assert np.all(np.sign(ex.path[1:, 1]) == -np.sign(ex.path[:-1, 1]))


def test_the_bumpy_curve_can_stop_in_its_local_minimum():
    ex = DescentExplorer("1d-bumpy", lr=0.1, steps=50)  # starts right of the bump
    assert ex.verdict == "converged"
    assert ex.path[-1] == pytest.approx(2.0, abs=1e-3), "expected the local minimum at a = 2"
    ex = DescentExplorer("1d-bumpy", lr=0.1, steps=50, start=-3.0)
    assert ex.path[-1] == pytest.approx(-2.0, abs=1e-3), "expected the global minimum at a = -2"


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_huge_learning_rates_diverge_without_an_exception(name):
    ex = DescentExplorer(name, lr=10, steps=100)  # the slider's largest values
    assert ex.verdict == "diverges"
    assert np.all(np.isfinite(ex.path)) and np.all(np.isfinite(ex.losses))
    assert len(ex.path) == len(ex.losses) >= 2
    assert ex.png().startswith(b"\x89PNG")


# --- the widget, as the browser drives it ---------------------------------------------------
def test_while_nbgrader_grades_the_first_frame_is_computed_but_not_drawn(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    ex = DescentExplorer("1d", lr=0.25, steps=STEPS)
    assert ex.renders == 0 and ex.png() == b"" and ex._image.value == b""
    np.testing.assert_allclose(ex.path, closed_form_1d(0.25, STEPS), rtol=1e-10)
    assert ex.verdict == "converged"
    ex.controls["lr"].value = 1.1  # a change asked for afterwards is drawn
    assert ex.renders == 1 and ex.png().startswith(b"\x89PNG") and ex.verdict == "diverges"


def test_moving_the_lr_slider_recomputes_and_redraws():
    ex = DescentExplorer("1d", lr=0.1, steps=STEPS)
    assert set(ex.controls) >= {"lr", "steps", "surface", "start_x", "start_y"}
    renders, png, path = ex.renders, ex.png(), ex.path.copy()
    assert renders >= 1 and png.startswith(b"\x89PNG")
    ex.controls["lr"].value = 0.02
    assert ex.renders == renders + 1, "one slider move must render exactly once"
    assert ex.png() != png, "the figure did not change"
    assert not np.allclose(ex.path, path), "the path did not change"
    np.testing.assert_allclose(ex.path, closed_form_1d(0.02, STEPS), rtol=1e-10)


def test_steps_and_start_sliders_recompute_the_path():
    ex = DescentExplorer("1d")
    ex.controls["steps"].value = 7
    assert ex.path.shape == (8,)
    ex.controls["start_x"].value = 5.0
    assert ex.path[0] == 5.0
    np.testing.assert_allclose(ex.path, closed_form_1d(0.1, 7, a0=5.0), rtol=1e-10)


def test_switching_the_surface_changes_the_path_dimension_and_the_start_controls():
    ex = DescentExplorer("1d")
    assert ex.path.ndim == 1
    assert ex.controls["start_y"].layout.display == "none"
    renders = ex.renders
    ex.controls["surface"].value = "2d"
    assert ex.renders == renders + 1, "switching the surface must render exactly once"
    assert ex.path.shape == (ex.controls["steps"].value + 1, 2)
    np.testing.assert_allclose(ex.path[0], SURFACES["2d"].start)
    assert ex.controls["start_y"].layout.display != "none"
    ex.controls["start_y"].value = -1.5
    np.testing.assert_allclose(ex.path[0], [SURFACES["2d"].start[0], -1.5])
    ex.controls["surface"].value = "1d-bumpy"
    assert ex.path.ndim == 1 and ex.path[0] == SURFACES["1d-bumpy"].start[0]


def test_the_explorer_accepts_a_start_point_and_rejects_nonsense():
    ex = DescentExplorer("2d", start=(3.0, -1.0))
    np.testing.assert_allclose(ex.path[0], [3.0, -1.0])
    with pytest.raises(KeyError):
        DescentExplorer("3d")
    with pytest.raises(ValueError):
        DescentExplorer("2d", start=1.0)


def test_the_explorer_displays_its_widget(capsys):
    ex = DescentExplorer()
    assert all(c in ex.widget.children[0].children + ex.widget.children[1].children
               for c in ex.controls.values()), "every control must be in the displayed box"
    ex._ipython_display_()  # outside IPython, display() prints a text fallback; it must not fail
    assert "VBox" in capsys.readouterr().out


@pytest.mark.parametrize("surface", ["1d", "2d"])
def test_every_slider_is_visible_except_the_unused_start(surface):
    """Hiding the second start coordinate in 1-D must not hide the other sliders (they once shared a Layout)."""
    ex = DescentExplorer(surface)
    shown = {name: c.layout.display != "none" for name, c in ex.controls.items()}
    assert shown == {"surface": True, "lr": True, "steps": True, "start_x": True, "start_y": surface == "2d"}
    assert len({id(c.layout) for c in ex.controls.values()}) == len(ex.controls)
