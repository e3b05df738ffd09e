"""The catalogue of wrong (and of alternative right) answers, per assignment.

Each assignment has a module here named like its folder in ``source/``, with a
list ``CASES``.  A :class:`Case` replaces some answer cells of the instructor's
solution with another answer, the way a student might write it:

* ``wrong`` cases are plausible mistakes.  Each must lose points in the grade
  cells it names (``loses``), and so lose points overall.
  A wrong case may also name ``hint``: text that the feedback must show for it
  (a check's ``Hint``, or a test's message), which proves that the hint fires.
* ``right`` cases are correct answers written differently (``np.dot`` for
  ``@``, a loop for a matrix product, ``scipy.special.expit``).  Each must get
  full marks.

``tests/autograder/test_grading.py`` autogrades every case with nbgrader; run it for
one assignment with ``python -m autograder catalogue ASSIGNMENT``.
"""
from __future__ import annotations

import importlib
import re
import textwrap
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Submission:
    """A made-up student's answers: ``answers`` maps answer-cell grade ids to code (dedented).
    The catalogue's cases and the red team's attacks are submissions."""

    name: str
    answers: dict[str, str]

    def __post_init__(self):
        object.__setattr__(self, "answers", {k: textwrap.dedent(v).strip("\n") for k, v in self.answers.items()})

    @property
    def student(self) -> str:
        """The student id it is submitted under."""
        return re.sub(r"[^a-z0-9_]", "_", self.name.lower())


@dataclass(frozen=True)
class Case(Submission):
    """One student answer of the catalogue."""

    kind: str = "wrong"  # "wrong" or "right"
    loses: tuple[str, ...] = field(default=())  # grade cells that must lose points
    why: str = ""
    hint: str = ""  # text the autograded notebook must show (proves that a hint fires)

    def __post_init__(self):
        super().__post_init__()
        if self.kind not in ("wrong", "right"):
            raise ValueError(f"{self.name}: kind must be 'wrong' or 'right', not {self.kind!r}")
        if self.kind == "wrong" and not self.loses:
            raise ValueError(f"{self.name}: a wrong answer must name the grade cells it loses points in")
        if self.kind == "right" and self.hint:
            raise ValueError(f"{self.name}: a right answer gets full marks and no hint")


def wrong(name: str, cell: str, code: str, loses: str | tuple[str, ...], why: str = "", hint: str = "") -> Case:
    return Case(name, {cell: code}, "wrong", (loses,) if isinstance(loses, str) else tuple(loses), why, hint)


def right(name: str, cell: str, code: str, why: str = "") -> Case:
    return Case(name, {cell: code}, "right", (), why)


def with_hints(catalogue: list[Case], hints: dict[str, str]) -> list[Case]:
    """The catalogue with each named wrong case given the hint text its feedback must show."""
    unknown = sorted(set(hints) - {c.name for c in catalogue if c.kind == "wrong"})
    if unknown:
        raise ValueError(f"hints for cases that are not wrong answers of this catalogue: {unknown}")
    return [replace(c, hint=hints[c.name]) if c.name in hints else c for c in catalogue]


def cases(assignment: str) -> list[Case]:
    """The catalogue of one assignment."""
    try:
        module = importlib.import_module(f"{__name__}.{assignment}")
    except ModuleNotFoundError as err:
        raise LookupError(f"no catalogue of wrong answers for {assignment!r} in autograder/wrong_answers/") from err
    found = list(module.CASES)
    names = [c.name for c in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"case names must be unique in {assignment}: {duplicates}")
    return found
