"""An explorer for gradient descent: what the learning rate does.

Gradient descent repeats one update, ``a_t = a_{t-1} - lr * dL/da(a_{t-1})``.
The learning rate ``lr`` is a very important parameter: too small and the
descent is slow, a good value converges in a few steps, too high and the loss
diverges (don't panic, lower the learning rate!).  The explorer lets learners
move a slider and see all three at once, on a 1-D curve or on the contour plot
of a 2-D loss, where each step leaves perpendicular to the contour lines.

In a notebook::

    from course.descent import DescentExplorer
    DescentExplorer("2d")                      # a bare explorer in a cell displays it

    ex = DescentExplorer("1d", lr=1.2, steps=10)
    ex                                          # diverges: lower the learning rate
    ex.verdict, ex.losses[-1]                   # the same, without looking

Surfaces (``SURFACES``): ``"1d"`` the parabola L(a) = (a - 2)^2 + 1,
``"1d-bumpy"`` a quartic with a local and a global minimum, ``"2d"`` an
elongated bowl L(a) = (a1^2 + 10 a2^2) / 2 (condition number 10: too large
steps zig-zag across the narrow valley and diverge), ``"2d-rosenbrock"`` a
banana-shaped valley.

The verdict on a path (``verdict``):

* ``"diverges"``: a point or a loss overflowed (the path stops before the
  first non-finite value), or the last loss is higher than the first;
* ``"converged"``: the last loss is within ``TOL`` (0.01) of the loss at the
  minimum nearest to the last point (a local minimum counts, and the plot says so);
* ``"slow"``: neither, i.e. more steps (or a larger learning rate) are needed.

``descend`` is the plain NumPy loop, usable without widgets.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from course.training import grading_mode

__all__ = ["SURFACES", "TOL", "DescentExplorer", "Surface", "descend", "verdict"]

TOL = 1e-2
"""A path has converged when its last loss is within TOL of the nearest minimum's loss."""

Array = np.ndarray


@dataclass(frozen=True)
class Surface:
    """A named loss surface with its analytic gradient.

    ``loss`` and ``grad`` are vectorised: for ``dim == 1`` they take an array of
    points ``a`` (any shape) and work elementwise; for ``dim == 2`` they take an
    array of shape (..., 2) and return shape (...) (loss) or (..., 2) (grad).
    """

    name: str
    label: str
    dim: int
    loss: Callable[[Array], Array]
    grad: Callable[[Array], Array]
    start: tuple[float, ...]
    xlim: tuple[float, float]
    ylim: tuple[float, float] | None  # the a2 range of a 2-D surface; None in 1-D
    minima: tuple[tuple[float, ...], ...]

    def start_point(self) -> Array | float:
        return float(self.start[0]) if self.dim == 1 else np.array(self.start, dtype=float)

    def minima_array(self) -> Array:
        """The minima, shape (m,) in 1-D, (m, 2) in 2-D."""
        m = np.array(self.minima, dtype=float)
        return m[:, 0] if self.dim == 1 else m


# --- the surfaces -----------------------------------------------------------------
def _parabola(a):
    return (np.asarray(a, dtype=float) - 2.0) ** 2 + 1.0


def _parabola_grad(a):
    return 2.0 * (np.asarray(a, dtype=float) - 2.0)


# dL/da = 0.5 (a + 2)(a - 0.5)(a - 2): global minimum at -2, local minimum at 2, bump at 0.5.
def _bumpy(a):
    a = np.asarray(a, dtype=float)
    return 0.5 * (a**4 / 4 - a**3 / 6 - 2 * a**2 + 2 * a) + 4.0


def _bumpy_grad(a):
    a = np.asarray(a, dtype=float)
    return 0.5 * (a**3 - 0.5 * a**2 - 4 * a + 2)


_BOWL = np.array([1.0, 10.0])  # curvatures along a1 and a2: condition number 10


def _bowl(p):
    p = np.asarray(p, dtype=float)
    return 0.5 * (_BOWL * p**2).sum(axis=-1)


def _bowl_grad(p):
    return _BOWL * np.asarray(p, dtype=float)


_RB = 10.0  # a gentler Rosenbrock (the classic uses 100)


def _rosenbrock(p):
    p = np.asarray(p, dtype=float)
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + _RB * (y - x**2) ** 2


def _rosenbrock_grad(p):
    p = np.asarray(p, dtype=float)
    x, y = p[..., 0], p[..., 1]
    return np.stack([-2 * (1 - x) - 4 * _RB * x * (y - x**2), 2 * _RB * (y - x**2)], axis=-1)


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface("1d", "1-D parabola", 1, _parabola, _parabola_grad,
                start=(-2.0,), xlim=(-3.0, 7.0), ylim=None, minima=((2.0,),)),
        Surface("1d-bumpy", "1-D with a local minimum", 1, _bumpy, _bumpy_grad,
                start=(3.2,), xlim=(-3.2, 3.5), ylim=None, minima=((-2.0,), (2.0,))),
        Surface("2d", "2-D elongated bowl", 2, _bowl, _bowl_grad,
                start=(-4.0, 1.0), xlim=(-5.0, 5.0), ylim=(-2.0, 2.0), minima=((0.0, 0.0),)),
        Surface("2d-rosenbrock", "2-D banana (Rosenbrock)", 2, _rosenbrock, _rosenbrock_grad,
                start=(-1.5, 2.0), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), minima=((1.0, 1.0),)),
    )
}


# --- the pure part ------------------------------------------------------------------
def descend(grad: Callable[[Array], Array], start: float | Sequence[float] | Array, lr: float,
            steps: int) -> Array:
    """Gradient descent ``a_t = a_{t-1} - lr * grad(a_{t-1})`` for ``steps`` steps.

    Args:
        grad: the gradient of the loss, a function of one point.
        start: the first point a_0, a number (1-D) or a vector.
        lr: the learning rate (> 0).
        steps: how many updates (>= 0).
    Returns:
        the path, shape (k + 1,) for a number ``start`` or (k + 1, d) for a vector,
        with k == steps unless a point (or the gradient) overflowed: the path then
        stops before the first non-finite value.
    """
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0; got {steps!r}.")
    if not lr > 0:
        raise ValueError(f"the learning rate lr must be positive; got {lr!r}.")
    a = np.array(start, dtype=float)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"the start point must be finite; got {start!r}.")
    path = [a]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            a = a - lr * np.asarray(grad(a), dtype=float)
            if not np.all(np.isfinite(a)):
                break
            path.append(a)
    return np.array(path)


def verdict(surface: Surface, path: Array, losses: Array, overflowed: bool = False, *,
            tol: float = TOL) -> str:
    """``"diverges"``, ``"converged"`` or ``"slow"`` for a path on ``surface`` (see the module docstring)."""
    if overflowed or losses[-1] > losses[0]:
        return "diverges"
    return "converged" if _gap_to_nearest_minimum(surface, path[-1], losses[-1]) <= tol else "slow"


def _nearest_minimum(surface: Surface, point: Array) -> int:
    minima = surface.minima_array()
    diff = minima - point
    dist = np.abs(diff) if surface.dim == 1 else np.linalg.norm(diff, axis=-1)
    return int(np.argmin(dist))


def _gap_to_nearest_minimum(surface: Surface, point: Array, loss: float) -> float:
    m = surface.minima_array()[_nearest_minimum(surface, point)]
    return float(loss - surface.loss(m))


def _losses_of(surface: Surface, path: Array) -> tuple[Array, Array, bool]:
    """Losses along the path, cut before the first non-finite loss.  Returns (path, losses, overflowed)."""
    with np.errstate(over="ignore", invalid="ignore"):
        losses = np.asarray(surface.loss(path), dtype=float)
    bad = ~np.isfinite(losses)
    if bad.any():
        k = int(np.argmax(bad))
        return path[:k], losses[:k], True
    return path, losses, False


# --- the widget ---------------------------------------------------------------------
_LOSS_CAP = 1e100

_TITLES = {
    "converged": ("converged", "tab:green"),
    "slow": ("slow: not converged yet", "tab:orange"),
    "diverges": ("diverges: lower the learning rate", "tab:red"),
}


class DescentExplorer:
    """Sliders for the learning rate, the number of steps, the surface and the start point,
    over a plot of the path of gradient descent and of its loss per step.

    Attributes (read them in tests or exercises):
        controls: the widgets by name: ``"surface"``, ``"lr"``, ``"steps"``,
            ``"start_x"`` and ``"start_y"`` (the start point; ``start_y`` is hidden in 1-D).
        path: the points, shape (k + 1,) in 1-D or (k + 1, 2) in 2-D.
        losses: the loss at each point, shape (k + 1,).
        verdict: ``"converged"``, ``"slow"`` or ``"diverges"``.
        renders: how many times the plot was drawn.
        widget: the box to display.

    ``start`` defaults to the surface's start point; a start outside the plotted range is
    moved to its edge (the start sliders cover exactly that range).
    """

    def __init__(self, surface: str = "1d", lr: float = 0.1, steps: int = 20,
                 start: float | Sequence[float] | None = None) -> None:
        import ipywidgets as widgets
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if surface not in SURFACES:
            raise KeyError(f"no surface {surface!r}; choose one of {sorted(SURFACES)}.")
        self.renders = 0
        self._syncing = False
        self._background_of: str | None = None
        self._quiver: Any = None

        def slider():  # each control gets its own Layout: hiding start_y must not hide the others
            return dict(continuous_update=True, style={"description_width": "initial"},
                        layout=widgets.Layout(width="320px"))
        self.controls: dict[str, Any] = {
            "surface": widgets.Dropdown(options=[(s.label, s.name) for s in SURFACES.values()],
                                        value=surface, description="surface", layout=widgets.Layout(width="320px")),
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=1, step=0.01,
                                         readout_format=".3g", description="learning rate lr", **slider()),
            "steps": widgets.IntSlider(value=steps, min=1, max=100, description="steps", **slider()),
            "start_x": widgets.FloatSlider(value=0.0, min=-1.0, max=1.0, step=0.05, **slider()),
            "start_y": widgets.FloatSlider(value=0.0, min=-1.0, max=1.0, step=0.05, **slider()),
        }
        self._sync_start_controls(SURFACES[surface], start)

        self._fig = Figure(figsize=(10, 4), dpi=72)
        FigureCanvasAgg(self._fig)
        self._fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.88, wspace=0.25)
        self._ax_path, self._ax_loss = self._fig.subplots(1, 2)
        self._setup_loss_axes()
        self._image = widgets.Image(format="png", layout=widgets.Layout(width="800px"))
        self._info = widgets.HTML()
        c = self.controls
        self.widget = widgets.VBox([
            widgets.HBox([c["surface"], c["lr"], c["steps"]]),
            widgets.HBox([c["start_x"], c["start_y"]]),
            self._info,
            self._image,
        ])
        for name in ("lr", "steps", "start_x", "start_y"):
            c[name].observe(self._on_change, names="value")
        c["surface"].observe(self._on_surface, names="value")
        self._png = b""
        self._compute()
        if not grading_mode():  # see course.training.grading_mode: nobody sees this frame
            self._render()

    # -- state -------------------------------------------------------------------
    @property
    def surface(self) -> Surface:
        return SURFACES[self.controls["surface"].value]

    def start_point(self) -> float | Array:
        if self.surface.dim == 1:
            return float(self.controls["start_x"].value)
        return np.array([self.controls["start_x"].value, self.controls["start_y"].value], dtype=float)

    def _sync_start_controls(self, surface: Surface, start: float | Sequence[float] | None) -> None:
        """Set the start sliders' ranges and values for ``surface`` (without re-rendering)."""
        point = np.atleast_1d(np.asarray(surface.start if start is None else start, dtype=float))
        if point.shape != (surface.dim,):
            raise ValueError(f"the surface {surface.name!r} is {surface.dim}-D; "
                             f"start must have {surface.dim} coordinate(s), got {start!r}.")
        ranges = [surface.xlim] + ([surface.ylim] if surface.dim == 2 else [])
        names = ["start a"] if surface.dim == 1 else ["start a1", "start a2"]
        self._syncing = True
        try:
            for key, (lo, hi), value, label in zip(("start_x", "start_y"), ranges, point, names):
                s = self.controls[key]
                s.min, s.max = min(lo, s.min), max(hi, s.max)  # widen first: min may never pass max
                s.value = float(np.clip(value, lo, hi))
                s.min, s.max = lo, hi
                s.description = label
            self.controls["start_y"].layout.display = None if surface.dim == 2 else "none"
        finally:
            self._syncing = False

    def _on_surface(self, change: dict) -> None:
        self._sync_start_controls(SURFACES[change["new"]], None)
        self.update()

    def _on_change(self, change: dict) -> None:
        if not self._syncing:
            self.update()

    def update(self) -> None:
        """Recompute the path from the controls and redraw."""
        self._compute()
        self._render()

    def _compute(self) -> None:
        """The path, its losses and the verdict, from the controls."""
        surface = self.surface
        lr = float(self.controls["lr"].value)
        steps = int(self.controls["steps"].value)
        path = descend(surface.grad, self.start_point(), lr, steps)
        self.path, self.losses, overflowed = _losses_of(surface, path)
        self.overflowed = overflowed or len(path) < steps + 1
        self.verdict = verdict(surface, self.path, self.losses, self.overflowed)

    # -- drawing -----------------------------------------------------------------
    # Speed: the curve or contours are drawn once per surface, and the lines of the path
    # and of the loss are reused (only their data change), so a render is one canvas draw.
    def _setup_loss_axes(self) -> None:
        axl = self._ax_loss
        (self._loss_line,) = axl.plot([], [], "o-", color="tab:red", ms=3, label="loss")
        self._lmin_line = axl.axhline(1.0, color="k", ls=":", lw=1, label="loss at the nearest minimum")
        axl.set_xlabel("step t")
        axl.set_ylabel("loss L")
        axl.legend(loc="upper right", fontsize="small")

    def _draw_background(self, surface: Surface) -> None:
        """The curve or the contours, and fresh path artists: only when the surface changes."""
        ax = self._ax_path
        ax.cla()
        self._quiver = None
        if surface.dim == 1:
            a = np.linspace(*surface.xlim, 400)
            L = surface.loss(a)
            ax.plot(a, L, color="0.3", lw=1.5, label="loss L(a)")
            pad = 0.08 * (L.max() - L.min())
            ax.set_ylim(L.min() - pad, L.max() + pad)
            ax.set_xlabel("a")
            ax.set_ylabel("L(a)")
            m = surface.minima_array()
            ax.plot(m, surface.loss(m), "k*", ms=10, ls="none", label="minimum")
        else:
            xx, yy = np.meshgrid(np.linspace(*surface.xlim, 160), np.linspace(*surface.ylim, 160))
            Z = surface.loss(np.stack([xx, yy], axis=-1))
            zmin = min(Z.min(), surface.loss(surface.minima_array()).min())
            span = Z.max() - zmin
            ax.contour(xx, yy, Z, levels=zmin + np.geomspace(span * 1e-3, span, 14), cmap="viridis",
                       linewidths=1)
            m = surface.minima_array()
            ax.plot(m[:, 0], m[:, 1], "k*", ms=10, ls="none", label="minimum")
            ax.set_aspect("equal")  # so that the steps are visibly perpendicular to the contours
            ax.set_xlabel("$a_1$")
            ax.set_ylabel("$a_2$")
            ax.set_ylim(*surface.ylim)
        ax.set_xlim(*surface.xlim)
        ax.set_autoscale_on(False)
        (self._path_line,) = ax.plot([], [], "o", color="tab:red", ms=4, zorder=4, label="path")
        (self._start_dot,) = ax.plot([], [], "o", color="tab:blue", ms=7, zorder=5, label="start")
        ax.legend(loc="upper center" if surface.dim == 1 else "upper right", fontsize="small")
        self._background_of = surface.name

    def _render(self) -> None:
        surface = self.surface
        if self._background_of != surface.name:
            self._draw_background(surface)
        ax, axl = self._ax_path, self._ax_loss
        path, losses = self.path, self.losses
        k = len(path) - 1

        # Far-away points are drawn at the edge of a box 11 views wide (huge numbers break the drawing).
        (xlo, xhi), (ylo, yhi) = ax.get_xlim(), ax.get_ylim()
        px, py = (path, losses) if surface.dim == 1 else (path[:, 0], path[:, 1])
        px = np.clip(px, xlo - 5 * (xhi - xlo), xhi + 5 * (xhi - xlo))
        py = np.clip(py, ylo - 5 * (yhi - ylo), yhi + 5 * (yhi - ylo))
        if self._quiver is not None:
            self._quiver.remove()
        self._quiver = ax.quiver(px[:-1], py[:-1], np.diff(px), np.diff(py), angles="xy", scale_units="xy",
                                 scale=1, color="tab:red", width=0.004, zorder=3)
        self._path_line.set_data(px, py)
        self._start_dot.set_data(px[:1], py[:1])
        ax.set_title(f"{surface.label}: {k} steps, lr = {self.controls['lr'].value:.3g}")

        # the loss per step
        minima_losses = surface.loss(surface.minima_array())
        lmin = float(minima_losses[_nearest_minimum(surface, path[-1])])
        # matplotlib's log axis breaks near the float limit: draw losses above 1e100 at 1e100.
        self._loss_line.set_data(np.arange(k + 1), np.minimum(losses, _LOSS_CAP))
        self._lmin_line.set_ydata([lmin, lmin])
        grows = losses.min() > 0 and (losses.max() / losses.min() > 100 or losses[-1] > losses[0])
        scale = "log" if grows else "linear"
        if axl.get_yscale() != scale:
            axl.set_yscale(scale)
        axl.set_xlim(-0.5, max(int(self.controls["steps"].value), 1) + 0.5)
        axl.relim()
        axl.autoscale_view(scalex=False)
        title, colour = _TITLES[self.verdict]
        if self.verdict == "converged" and lmin > minima_losses.min() + TOL:
            title = "converged (to a local minimum)"
        if self.overflowed:
            title += f"\n(overflow: the path stops after {k} steps)"
        axl.set_title(title, color=colour, fontweight="bold")

        buf = io.BytesIO()
        self._fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        self._png = buf.getvalue()
        self._image.value = self._png
        self._info.value = (f"a<sub>t</sub> = a<sub>t-1</sub> - lr &middot; dL/da: after {k} steps the loss "
                            f"went from {losses[0]:.4g} to {losses[-1]:.4g} (minimum nearby: {lmin:.4g}).")
        self.renders += 1

    def png(self) -> bytes:
        """The current figure as PNG bytes."""
        return self._png

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
