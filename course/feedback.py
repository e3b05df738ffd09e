"""Feedback for the checks in the notebooks.

A failing check tells the student what is wrong in layers: first the type,
then the shape, then the values (expected next to got, with the tolerance),
then a hint aimed at the known mistake, if the answer matches one::

    from course.feedback import check, Hint

    check("neuron(x, w, b)", neuron(x, w, b), 0.8205, atol=1e-4,
          hints=[Hint(lambda got: abs(got - 1.52) < 1e-3,
                      "1.52 is z, the value before the activation: return sigmoid(z).")])

``check`` raises :class:`FeedbackError` (an ``AssertionError``, so nbgrader
counts the test as failed) and returns quietly when the answer is right.
Where the expected value *is* the answer (a matrix product to work out, a
shape, a one-hot table), ``check(..., reveal=False)`` says what is wrong
without printing it: which dimension is off, which entries differ.
``compare`` prints the student's answer next to the expected one, for the
visible example cell after each exercise.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

__all__ = ["FeedbackError", "Hint", "check", "check_dtype", "compare"]


class FeedbackError(AssertionError):
    """A check failed; the message says why, in the student's terms."""


@dataclass(frozen=True)
class Hint:
    """A hint shown when the student's answer matches a known mistake.

    ``when`` gets the student's answer and returns True if the mistake fits.
    It may raise: that just means the hint does not apply.
    """

    when: Callable[[Any], bool]
    message: str

    def applies(self, got: Any) -> bool:
        try:
            return bool(self.when(got))
        except Exception:  # a predicate that cannot judge this answer does not apply
            return False


def _fmt(value: Any, limit: int = 6) -> str:
    """Short, readable text for a number or an array."""
    if isinstance(value, list):
        arr = _as_numeric_array(value)
        value = arr if arr is not None else value
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=4, suppress=True, threshold=limit * 4, edgeitems=2):
            text = np.array2string(value, separator=", ")
        text = text if len(text) < 300 else text[:297] + "..."
        return text.replace("\n", "\n" + " " * 12)  # continuation lines line up under the first
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    text = repr(value)
    return text if len(text) < 300 else text[:297] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a NumPy array of dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (numbers.Number, np.number)) and not isinstance(value, (bool, np.bool_))


def _is_shape(value: Any) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, (int, np.integer)) for v in value)


def _as_numeric_array(got: Any) -> np.ndarray | None:
    """The student's answer as a float array, or None if it is not numeric."""
    if got is None or isinstance(got, (str, bytes, dict, set)):
        return None
    if hasattr(got, "detach") and hasattr(got, "numpy"):  # a torch tensor
        got = got.detach().cpu().numpy()
    try:
        arr = np.asarray(got)
    except Exception:
        return None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        return None
    return arr.astype(float)


def _off(got: tuple, want: tuple) -> str:
    """Which dimensions of a shape are off, without the expected numbers."""
    if len(got) != len(want):
        return f"it should have {len(want)} dimension(s), not {len(got)}"
    off = [str(i) for i, (g, w) in enumerate(zip(got, want)) if g != w]
    return f"dimension {', '.join(off)} is off" if len(off) == 1 else f"dimensions {', '.join(off)} are off"


def _problem(name: str, got: Any, expected: Any, rtol: float, atol: float,
             reveal: bool = True) -> tuple[str, list[str]]:
    """(headline, detail lines) of what is wrong, or ("", []) if nothing is."""
    if got is None:
        return (f"{name} gave None.", ["Did you forget the `return` statement?"])
    if _is_shape(expected):
        if not (isinstance(got, (tuple, list)) and all(isinstance(v, (int, np.integer)) for v in got)):
            return (f"{name} should be a shape: a tuple of integers.",
                    ([f"expected: {expected!r}"] if reveal else []) + [f"got:      {_fmt(got)} ({_kind(got)})"])
        if tuple(int(v) for v in got) != expected:
            if not reveal:
                return (f"{name} has the wrong value: {_off(tuple(int(v) for v in got), expected)}.",
                        [f"got:      {tuple(got)!r}"])
            return (f"{name} has the wrong value.", [f"expected: {expected!r}", f"got:      {tuple(got)!r}"])
        return "", []
    arr = _as_numeric_array(got)
    if arr is None:
        return (f"{name} should be a number or a NumPy array of numbers, but it is {_kind(got)}.",
                [f"got: {_fmt(got)}"])
    want = np.asarray(expected, dtype=float)
    if arr.shape != want.shape:
        if not reveal:
            return (f"{name} has the wrong shape: {_off(arr.shape, want.shape)} (got shape {arr.shape}).",
                    [f"got:      {_fmt(got)}"])
        what = "a single number" if want.shape == () else f"shape {want.shape}"
        return (f"{name} has the wrong shape: expected {what}, got shape {arr.shape}.",
                [f"expected: {_fmt(expected)}", f"got:      {_fmt(got)}"])
    if np.isnan(arr).any() and not np.isnan(want).any():
        return (f"{name} contains NaN (not a number).",
                [f"got: {_fmt(got)}",
                 "NaN usually comes from 0/0, inf - inf or the log of a negative number."])
    close = np.isclose(arr, want, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return "", []
    if not reveal:
        if not want.ndim:
            return f"{name} has the wrong value.", [f"got:      {_fmt(got)}"]
        bad = [tuple(int(i) for i in idx) for idx in np.argwhere(~close)]
        where = ", ".join(str(b if len(b) > 1 else b[0]) for b in bad[:8]) + (", ..." if len(bad) > 8 else "")
        return (f"{name} has the wrong value: {len(bad)} of {want.size} entries are wrong.",
                [f"got:      {_fmt(got)}", f"wrong entries at index: {where}"])
    lines = [f"expected: {_fmt(expected)}", f"got:      {_fmt(got)}"]
    if want.ndim:
        bad = np.argwhere(~close)
        first = tuple(int(i) for i in bad[0])
        lines.append(
            f"{len(bad)} of {want.size} entries differ; the first at index {first}: "
            f"expected {want[first]:.6g}, got {arr[first]:.6g}."
        )
    with np.errstate(invalid="ignore"):
        diff = float(np.nanmax(np.abs(arr - want)))
    lines.append(f"largest difference {diff:.3g} (allowed: {atol:g} + {rtol:g} x |expected|).")
    return f"{name} has the wrong value.", lines


def check(
    name: str,
    got: Any,
    expected: Any,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    hints: Iterable[Hint] = (),
    reveal: bool = True,
) -> None:
    """Check a student's answer; raise :class:`FeedbackError` with layered feedback.

    Args:
        name: what was checked, as the student wrote it, e.g. ``"sigmoid(0)"``.
        got: the student's answer.
        expected: the right answer: a number, an array, or a shape (a tuple of ints,
            compared exactly).
        rtol, atol: tolerances as in ``np.isclose``.
        hints: known mistakes; the message of each one whose ``when(got)`` is true
            is added to the feedback.
        reveal: False where the expected value is the answer itself: the feedback then
            never shows it, only which dimensions or entries are off.
    """
    headline, lines = _problem(name, got, expected, rtol, atol, reveal)
    if not headline:
        return
    for hint in hints:
        if hint.applies(got):
            lines.append(f"Hint: {hint.message}")
    raise FeedbackError("\n  ".join([headline, *lines]))


def check_dtype(name: str, got: Any, dtype: Any, *, hints: Iterable[Hint] = ()) -> None:
    """Check that ``got`` is a NumPy array of the given dtype (e.g. ``"float32"``).

    Raises :class:`FeedbackError` saying which dtype was expected and which was
    found, with the message of every hint whose ``when(got)`` is true.
    """
    want = np.dtype(dtype)
    if got is None:
        raise FeedbackError(f"{name} gave None.\n  Did you forget the `return` statement?")
    if not isinstance(got, np.ndarray):
        raise FeedbackError(f"{name} should be a NumPy array of dtype {want}, but it is {_kind(got)}.")
    if got.dtype == want:
        return
    lines = [f"expected dtype: {want}", f"got dtype:      {got.dtype}"]
    lines += [f"Hint: {hint.message}" for hint in hints if hint.applies(got)]
    raise FeedbackError("\n  ".join([f"{name} has the wrong dtype.", *lines]))


def compare(name: str, got: Any, expected: Any, *, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """Print the student's answer next to the expected one; return True if they agree."""
    headline, _ = _problem(name, got, expected, rtol, atol)
    if headline:
        verdict = "not yet: " + headline
    elif _is_shape(expected) or np.array_equal(np.asarray(got, dtype=float), np.asarray(expected, dtype=float)):
        verdict = "exact"
    else:
        diff = float(np.max(np.abs(np.asarray(got, dtype=float) - np.asarray(expected, dtype=float))))
        verdict = f"approximately (largest difference {diff:.2g})"
    print(f"{name}\n  yours:    {_fmt(got)}\n  expected: {_fmt(expected)}\n  -> {verdict}")
    return not headline
