"""Pairs of students whose answer cells are suspiciously alike.

``python -m autograder similarity ASSIGNMENT [--threshold X] [--out DIR]`` compares the code every
student of the class wrote in the assignment's answer cells, prints the pairs whose similarity
score reaches the threshold, and writes a page (``DIR/similarity-ASSIGNMENT.html``) with each
flagged pair side by side.  For the class report: :func:`find_pairs` (the flagged pairs),
:func:`read_class` (every score, and the notebooks that could not be read), :func:`write_html`.

**A flag is evidence for a person to look at, never a penalty.**  Short exercises have few
good answers, and students legitimately work together, use the same tutorial, or ask the same
teaching assistant.  The score says how much of two students' unusual code is the same; only a
person reading both submissions side by side (and talking to the students) can say why.

What is compared
    The code cells nbgrader marks as answers (``solution``), per exercise (grade id): a
    student's ``sigmoid`` is only compared with other students' ``sigmoid``.  Written
    (markdown) answers are not compared.  Removed before comparing: the release stub
    (``# YOUR CODE HERE`` / ``raise NotImplementedError()``), every line that is also a line of
    the release cell (the given signature, docstring and scaffolding; from ``release/``, or
    from ``source/`` outside the ``### BEGIN/END SOLUTION`` markers), other docstrings,
    comments and all layout.

Normalisation (:func:`normalise`)
    The standard library's :mod:`tokenize` splits the code into logical lines and tokens.
    Every name a student chooses (variables, parameters, helper functions) becomes ``V``;
    kept as they are: keywords, builtins (``len``, ``zip``), attributes (``.dot``,
    ``.matmul``, ``.einsum`` stay different), names the release notebook defines or imports
    (``sigmoid``, ``np``) and names the cell itself imports (``expit``).  Strings become
    ``S``; numbers stay.  So renaming variables, reformatting, and rewording comments and
    docstrings change nothing.

Fingerprints
    Each logical line gives its k-grams of normalised tokens (``K`` = 5 tokens; a shorter line
    is one fingerprint).  Fingerprints never cross a line boundary, so reordering independent
    lines changes nothing either.  (This is the k-gram fingerprinting of MOSS' winnowing with a
    window of one: answer cells are a few lines long, so every k-gram is kept.)

Rarity: how unusual a fingerprint is in the class (:func:`rarity`)
    A fingerprint that ``df`` of the ``n`` documents of the exercise have (the students, plus
    the instructor's solution as one more document) has rarity ``log(n / df) / log(n / 2)``,
    an inverse document frequency scaled to 1 when only two have it (or one) and 0 when all
    do.  In a class of 200: 0.85 for a fingerprint four students share, 0.5 for one that 20
    share, 0.06 for one that 150 share.  So the one-liner the whole class writes the same way,
    and the instructor's own answer, are hardly evidence; a line only two students wrote is.

Score of a pair (students *a*, *b*), 0 to 1
    ``shared / (min(own_a, own_b) + EVIDENCE)``: ``shared`` adds up the squared rarity of the
    fingerprints the two have in common (per exercise, over all exercises), ``own_x`` the
    rarity of all of student *x*'s own fingerprints.  So the score is near 1 when the smaller
    of the two submissions is a copy of the other in all its unusual parts, about the rarity
    of what they share when that is all they wrote (low for common code), and low when much of
    their unusual code differs.  ``EVIDENCE`` (20, about two or three lines no one else wrote)
    keeps a few coinciding lines from scoring high on their own.  The score of a pair is the
    higher of this over the whole assignment and over its best exercise alone, there with
    ``EXERCISE_EVIDENCE`` (40: two students who made the same two-line mistake are not
    flagged for it, one copied exercise of five lines or more among honest ones still shows).
    An exercise is listed as *matched* when half of the smaller answer's rarity, and at least
    ``MIN_SHARED``, is shared.

Threshold
    ``THRESHOLD`` = 0.4.  Validated by ``tests/autograder/test_similarity.py`` on the
    catalogue (:mod:`autograder.wrong_answers`): the instructor's solution and every
    alternative right answer, each handed in by a student, score at most 0.07 on every
    assignment (classes of 9 to 21 students); copies of one student's answers with renamed
    variables, reordered lines and rewritten comments score 0.6 (four students sharing the
    same code in a class of 25) and 0.86 (a single copy).  In ``benchmarks/similarity.py``
    (200 students: catalogue answers, renamed and re-commented; a few copies planted) the
    planted copies score 0.5 to 0.7 and no other pair reaches the threshold (the highest,
    about 0.33, are two students who picked the same two rare alternatives).  Lower it to see
    more pairs; a class of fewer than about ten students gives rarity little to go on.

Why not copydetect
    copydetect (PyPI, MIT) implements the same winnowing idea on pygments tokens, and can
    fingerprint strings in-process (``CodeFingerprint(..., fp=io.StringIO(code))``); it was
    tried (0.5.0, the latest release, March 2024) and does not fit: (1) its filter turns
    *every* name into ``V``, attributes and called functions included, so ``np.matmul(X, W)``
    and ``np.dot(X, W)``, or ``sigmoid(z)`` and ``relu(z)``, become the same text, exactly
    the alternatives the catalogue says are independent; (2) its fingerprints are character
    k-grams of the filtered text with a noise threshold of 25 characters, so a one-line
    answer (``defF(V):returnV.V(0,V)``) gives no fingerprint at all; (3) it has no weighting
    by how common a fingerprint is in the class (only boilerplate files), which is what keeps
    short exercises from flagging honest students; that part would have to be written here
    anyway.  What is left of it, tokenising and hashing k-grams, is a few lines of
    :mod:`tokenize`; the class-wide weighting uses NumPy and SciPy (already dependencies).

Speed
    Everything is computed once for the whole class: one sparse students-by-fingerprints
    matrix per exercise, whose product gives the shared weight of every pair.  A class of 200
    students takes about a second on two cores (``benchmarks/similarity.py``), reading the
    notebooks included.

Input that cannot be read
    A notebook that is not a readable nbformat-4 notebook is reported (:attr:`Comparison.skipped`,
    and on the command line) and left out; the rest of the class is compared.  A cell that
    does not tokenise (unfinished code) is split into words and symbols line by line instead.
"""
from __future__ import annotations

import builtins
import html
import io
import keyword
import math
import re
import sys
import tokenize
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterable, Mapping

from autograder import cells, cli, validate

THRESHOLD = 0.4
K = 5  # tokens per fingerprint
EVIDENCE = 20.0  # rarity added to the smaller submission's in a score's denominator (two or three lines)
EXERCISE_EVIDENCE = 40.0  # the same for the score of one exercise alone (four or five lines)
MATCHED = 0.5  # an exercise is listed as matched from this similarity ...
MIN_SHARED = 2.0  # ... and this weight of shared fingerprints
SHARED_LINE = 0.5  # a line is marked shared when one of its shared fingerprints is this rare

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader_config.py: ClearSolutions.code_stub
KEPT_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)

_DEF = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)
_IMPORT = re.compile(r"^\s*(?:from\s+[\w.]+\s+)?import\s+\(?([^#\n]*)", re.MULTILINE)
_WORDS = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\"[^\"]*\"|'[^']*'|\S")
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER,
         tokenize.ENCODING}
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12+: f-strings come in parts
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


# ---------------------------------------------------------------------------
# normalisation: code -> logical lines of normalised tokens -> fingerprints

@dataclass(frozen=True)
class Line:
    """A logical line of an answer: its physical lines (1-based, inclusive), its fingerprints,
    and whether it is given code (release scaffolding, stub, docstring) left out of the comparison."""

    first: int
    last: int
    fingerprints: frozenset[str]
    given: bool = False


@dataclass(frozen=True)
class Answer:
    """One answer cell as handed in, and its logical lines."""

    code: str
    lines: tuple[Line, ...]

    @cached_property
    def fingerprints(self) -> frozenset[str]:
        """The fingerprints of the code the student wrote (given lines left out)."""
        return frozenset().union(*(ln.fingerprints for ln in self.lines if not ln.given))


def imported_names(code: str) -> set[str]:
    """Names that code imports (modules, their aliases, names from them)."""
    out = set()
    for spec in _IMPORT.findall(code):
        out.update(w for w in re.findall(r"[A-Za-z_]\w*", spec) if w != "as")
    return out


def names_given(code: str) -> set[str]:
    """Names that (release) code defines (``def``, ``class``) or imports: they stay as they are."""
    return set(_DEF.findall(code)) | imported_names(code)


def _tokens(code: str) -> list[tuple[int, int, list[tuple[int, str]]]]:
    """(first row, last row, [(token type, text)]) of each logical line; comments and layout dropped.

    Code that does not tokenise (unfinished, or IPython syntax) is split into words and
    symbols, one physical line at a time."""
    lines: list[tuple[int, int, list[tuple[int, str]]]] = []
    current: list[tuple[int, str]] = []
    first = last = 0
    fstring = 0  # depth inside an f-string (3.12+)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.NEWLINE:
                if current:
                    lines.append((first, last, current))
                current = []
                continue
            if tok.type in _SKIP:
                continue
            if tok.type == _FSTRING_START:
                fstring += 1
                if fstring == 1:
                    if not current:
                        first = tok.start[0]
                    current.append((tokenize.STRING, "f''"))
                continue
            if tok.type == _FSTRING_END:
                fstring -= 1
                last = tok.end[0]
                continue
            if fstring:
                continue
            text = tok.string.strip()
            if not text:
                continue
            if not current:
                first = tok.start[0]
            current.append((tok.type, text))
            last = tok.end[0]
        if current:
            lines.append((first, last, current))
        return lines
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        out = []
        for row, text in enumerate(code.splitlines(), 1):
            words = _WORDS.findall(re.sub(r"#.*", "", text))
            if words:
                out.append((row, row, [(_kind(w), w) for w in words]))
        return out


def _kind(word: str) -> int:
    if word[0] in "\"'":
        return tokenize.STRING
    if word[0].isdigit():
        return tokenize.NUMBER
    if word[0].isalpha() or word[0] == "_":
        return tokenize.NAME
    return tokenize.OP


def _normalised(tokens: list[tuple[int, str]], keep: frozenset[str]) -> list[str]:
    out = []
    previous = ""
    for kind, text in tokens:
        if kind == tokenize.NAME:
            out.append(text if previous == "." or text in keep or text in KEPT_NAMES else "V")
        elif kind == tokenize.STRING:
            out.append("S")
        else:
            out.append(text)
        previous = text
    return out


def _fingerprints(tokens: list[str]) -> frozenset[str]:
    if len(tokens) <= K:
        return frozenset({" ".join(tokens)})
    return frozenset(" ".join(tokens[i:i + K]) for i in range(len(tokens) - K + 1))


def normalise(code: str, given: str = "", keep: Iterable[str] = ()) -> Answer:
    """An answer cell's code, as logical lines with their fingerprints.

    ``given``: the release cell (its lines, and the stub's, are marked given and left out of
    the comparison); ``keep``: names that stay as they are (besides keywords, builtins,
    attributes, and names the cell itself imports).
    """
    given_lines = {tuple(text for _, text in toks) for _, _, toks in _tokens(f"{given}\n{STUB}")}
    keep = frozenset(keep) | imported_names(code)
    lines = []
    for first, last, toks in _tokens(code):
        raw = tuple(text for _, text in toks)
        is_given = raw in given_lines or all(kind == tokenize.STRING for kind, _ in toks)
        lines.append(Line(first, last, _fingerprints(_normalised(toks, keep)), is_given))
    return Answer(code, tuple(lines))


# ---------------------------------------------------------------------------
# scoring: the whole class at once

@dataclass(frozen=True)
class Exercise:
    """One answer cell of a pair, side by side: each student's code, and a mark per physical line
    (``shared``: code the other has too and few others wrote; ``common``: shared, but what many
    write; ``given``: release scaffolding, left out; ``""``: not in the other's answer)."""

    cell: str
    similarity: float  # the rarity-weighted share of the smaller answer also in the other (0 to 1)
    shared: float  # the weight of the fingerprints the two answers have in common
    code: tuple[str, str]
    marks: tuple[tuple[str, ...], tuple[str, ...]]

    @property
    def matched(self) -> bool:
        """Half the smaller answer, and at least ``MIN_SHARED`` rare fingerprints, are in the other."""
        return self.similarity >= MATCHED and self.shared >= MIN_SHARED


@dataclass(frozen=True)
class Pair:
    """Two students whose answers are alike: evidence for a person to look at, not a verdict."""

    assignment: str
    students: tuple[str, str]
    score: float
    exercises: tuple[Exercise, ...]  # every answer cell of the assignment, in notebook order

    @property
    def matched(self) -> tuple[str, ...]:
        """The exercises (grade ids) in which the two share code that few others wrote."""
        return tuple(e.cell for e in self.exercises if e.matched)


@dataclass(frozen=True)
class Skipped:
    """A file left out of the comparison, and why."""

    student: str
    path: Path
    reason: str


def rarity(df: int, n: int) -> float:
    """The weight of a fingerprint that ``df`` of the ``n`` documents of an exercise have:
    ``log(n / df) / log(n / 2)``, 1 if only two have it, 0 if all do."""
    if df <= 2 or n <= 2:
        return 1.0
    return max(0.0, math.log(n / df) / math.log(n / 2))


@dataclass
class Comparison:
    """The similarity of every pair of students of a class, in one assignment."""

    assignment: str
    answers: dict[str, dict[str, Answer]] = field(repr=False)  # {student: {cell: answer}}
    cells: list[str]  # the exercises, in notebook order
    reference: dict[str, Answer] = field(default_factory=dict, repr=False)  # the instructor's solution
    skipped: list[Skipped] = field(default_factory=list)

    def __post_init__(self):
        import numpy as np
        from scipy import sparse

        self.students = sorted(self.answers)
        self._index = {s: i for i, s in enumerate(self.students)}
        docs = [self.answers[s] for s in self.students] + ([self.reference] if self.reference else [])
        m, self._n = len(self.students), len(docs)
        self._df: dict[str, dict[str, int]] = {}
        self._per_cell: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # cell -> (shared, sizes)
        shared, sizes, best = np.zeros((m, m)), np.zeros(m), np.zeros((m, m))
        for cell in self.cells:
            prints = [d[cell].fingerprints if cell in d else frozenset() for d in docs]
            df: dict[str, int] = {}
            for fp in prints:
                for f in fp:
                    df[f] = df.get(f, 0) + 1
            self._df[cell] = df
            columns = {f: i for i, f in enumerate(f for f, d in df.items() if d > 1)}
            rows, cols = [], []
            for r, fp in enumerate(prints[:m]):
                for f in fp:
                    if f in columns:
                        rows.append(r)
                        cols.append(columns[f])
            x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, len(columns)))
            w = np.array([rarity(df[f], self._n) ** 2 for f in columns])
            s = (x.multiply(w.reshape(1, -1)).tocsr() @ x.T).toarray() if columns else np.zeros((m, m))
            np.fill_diagonal(s, 0)
            size = np.array([sum(rarity(df[f], self._n) for f in fp) for fp in prints[:m]])
            self._per_cell[cell] = (s, size)
            shared += s
            sizes += size
            best = np.maximum(best, s / (np.minimum.outer(size, size) + EXERCISE_EVIDENCE))
        self._scores = np.maximum(shared / (np.minimum.outer(sizes, sizes) + EVIDENCE), best)
        np.fill_diagonal(self._scores, 0)

    def weight(self, cell: str, fingerprint: str) -> float:
        """The rarity of a fingerprint of an exercise in this class."""
        return rarity(self._df.get(cell, {}).get(fingerprint, 1), self._n)

    def score(self, a: str, b: str) -> float:
        """The similarity score of two students (0 if either has no answers)."""
        return float(self._scores[self._index[a], self._index[b]])

    def scores(self) -> list[tuple[float, str, str]]:
        """(score, student, student) of every pair, highest first."""
        m = len(self.students)
        out = [(float(self._scores[i, j]), self.students[i], self.students[j])
               for i in range(m) for j in range(i + 1, m)]
        return sorted(out, key=lambda t: (-t[0], t[1], t[2]))

    def pairs(self, threshold: float = THRESHOLD) -> list[Pair]:
        """The pairs whose score reaches ``threshold``, highest first, with their code side by side."""
        return [self.pair(a, b) for score, a, b in self.scores() if score >= threshold]

    def pair(self, a: str, b: str) -> Pair:
        """Two students' answers side by side, with their scores."""
        i, j = self._index[a], self._index[b]
        exercises = []
        for cell in self.cells:
            s, size = self._per_cell[cell]
            answers = self.answers[a].get(cell), self.answers[b].get(cell)
            codes = tuple(x.code if x else "" for x in answers)
            marks = (self._marks(cell, answers[0], answers[1]), self._marks(cell, answers[1], answers[0]))
            similarity = s[i, j] / max(min(size[i], size[j]), 1)
            exercises.append(Exercise(cell, float(similarity), float(s[i, j]), codes, marks))
        return Pair(self.assignment, (a, b), self.score(a, b), tuple(exercises))

    def _marks(self, cell: str, mine: Answer | None, other: Answer | None) -> tuple[str, ...]:
        if mine is None:
            return ()
        marks = [""] * len(mine.code.splitlines())
        theirs = other.fingerprints if other else frozenset()
        for line in mine.lines:
            common = line.fingerprints & theirs
            rare = max((self.weight(cell, f) for f in common), default=0.0)
            mark = "given" if line.given else "shared" if rare >= SHARED_LINE else "common" if common else ""
            for row in range(line.first - 1, min(line.last, len(marks))):
                marks[row] = mark
        return tuple(marks)


def compare(answers: Mapping[str, Mapping[str, str]], given: Mapping[str, str] | None = None,
            keep: Iterable[str] = (), solution: Mapping[str, str] | None = None,
            assignment: str = "") -> Comparison:
    """Compare the answers of a class: ``answers`` {student: {cell: code}}, ``given`` {cell:
    release code}, ``keep`` names that stay as they are, ``solution`` {cell: the instructor's
    code} (counted as one more member of the class, so that its code weighs little)."""
    given = dict(given or {})
    keep = frozenset(keep)
    cell_order = list(dict.fromkeys([*given, *(solution or {}), *(c for a in answers.values() for c in a)]))
    parsed = {s: {c: normalise(code, given.get(c, ""), keep) for c, code in a.items()} for s, a in answers.items()}
    reference = {c: normalise(code, given.get(c, ""), keep) for c, code in (solution or {}).items()}
    return Comparison(assignment, parsed, cell_order, reference)


# ---------------------------------------------------------------------------
# a course root: the class's submissions

class NoSubmissions(FileNotFoundError):
    """No student has handed in the assignment."""


def _source(cell: Mapping) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _answer_cells(nb: Mapping) -> list[tuple[str, str]]:
    """(grade id, code) of a notebook's code answer cells; for a repeated id, the last cell."""
    out: dict[str, str] = {}
    for cell in nb["cells"]:
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        meta = cells.meta(cell)
        if isinstance(meta, Mapping) and meta.get("solution") and meta.get("grade_id"):
            out[str(meta["grade_id"])] = _source(cell)
    return list(out.items())


def _given_from_source(code: str) -> str:
    """What the release keeps of a solution cell: the lines outside the solution markers."""
    kept, inside = [], False
    for line in code.splitlines():
        if re.match(r"^\s*### BEGIN SOLUTION\s*$", line):
            inside = True
        elif re.match(r"^\s*### END SOLUTION\s*$", line):
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept) if any("### BEGIN SOLUTION" in line for line in code.splitlines()) else ""


def read_class(course_dir: Path | str, assignment: str) -> Comparison:
    """Compare the submissions ``submitted/<student>/<assignment>/*.ipynb`` of the course root.

    Raises FileNotFoundError if there is no such assignment, :class:`NoSubmissions` if no one
    handed it in.  Unreadable notebooks are listed in ``skipped``; the rest is compared.
    """
    from autograder.course_root import course_settings, notebooks, source_notebook

    course_dir = Path(course_dir)
    names = notebooks(assignment, course_dir)  # FileNotFoundError: no such assignment
    settings = course_settings(course_dir)

    given: dict[str, str] = {}
    solution: dict[str, str] = {}
    keep: set[str] = set()
    key_of: dict[tuple[str, str], str] = {}  # (notebook, grade id) -> the cell's name in the comparison
    sources = {name: source_notebook(assignment, name, course_dir) for name in names}
    ids = [gid for nb in sources.values() for gid, _ in _answer_cells(nb)]
    for name, nb in sources.items():
        release_path = course_dir / "release" / assignment / f"{name}.ipynb"
        release = None
        if release_path.exists():
            try:
                release, _ = validate.read_notebook(release_path)
            except OSError:
                release = None
        released = dict(_answer_cells(release)) if release else {}
        for gid, code in _answer_cells(nb):
            key = gid if ids.count(gid) == 1 else f"{name}/{gid}"
            key_of[(name, gid)] = key
            solution[key] = cells.SOLUTION_MARKERS.sub("", code)
            given[key] = released.get(gid, _given_from_source(code))
        for cell in (release or nb)["cells"]:
            if cell.get("cell_type") == "code":
                code = _source(cell)
                if not (release is None and cells.has_role(cell, "solution")):
                    keep |= names_given(code)
        if release is None:
            keep |= {n for code in given.values() for n in names_given(code)}
    unique = {gid: key for (_, gid), key in key_of.items() if ids.count(gid) == 1}

    answers: dict[str, dict[str, str]] = {}
    skipped: list[Skipped] = []
    submitted = settings.submitted
    students = sorted(p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if submitted.is_dir() else []
    handed_in = [s for s in students if (submitted / s / assignment).is_dir()]
    if not handed_in:
        raise NoSubmissions(f"no submissions of {assignment!r} in {submitted}: run `nbgrader collect "
                            f"{assignment}` first (or give --course-dir)")
    for student in handed_in:
        mine: dict[str, str] = {}
        for path in sorted((submitted / student / assignment).glob("*.ipynb")):
            try:
                nb, problem = validate.read_notebook(path)
                if nb is None:
                    skipped.append(Skipped(student, path, problem))
                    continue
                found = _answer_cells(nb)
            except OSError as err:
                skipped.append(Skipped(student, path, str(err)))
                continue
            except (AttributeError, TypeError, KeyError) as err:  # cells of the wrong shape
                skipped.append(Skipped(student, path, f"has cells that cannot be read ({type(err).__name__}: {err})"))
                continue
            for gid, code in found:
                key = key_of.get((path.stem, gid)) or unique.get(gid)  # a renamed notebook: by its cells
                if key:
                    mine[key] = code
        if mine:
            answers[student] = mine
    comparison = compare(answers, given, keep, solution, assignment)
    comparison.skipped = skipped
    return comparison


def find_pairs(course_dir: Path | str, assignment: str, threshold: float = THRESHOLD) -> list[Pair]:
    """The pairs of students of the course root whose answers to ``assignment`` score at least
    ``threshold``, highest first.  (:func:`read_class` also gives every score and the skipped files.)"""
    return read_class(course_dir, assignment).pairs(threshold)


# ---------------------------------------------------------------------------
# the page with the flagged pairs side by side

_CSS = """body{font-family:sans-serif;margin:2em;max-width:100em}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em}
table.code{border-collapse:collapse;width:100%;table-layout:fixed;margin-bottom:1em}
table.code td{vertical-align:top;border:1px solid #ccc;padding:0;width:50%}
table.code th{text-align:left;font-weight:normal;background:#f3f3f3;padding:2px 6px}
table.code caption{text-align:left;font-weight:bold;padding:2px 0}
pre{margin:0;padding:4px 6px;font-size:13px;white-space:pre-wrap}
pre span{display:block;min-height:1.2em}
.shared{background:#ffd6d6}.common{background:#f0f0f0}.given{color:#999}
summary{cursor:pointer} td.scores,th.scores{border:1px solid #ccc;padding:2px 8px}"""


def _code(text: str, marks: tuple[str, ...]) -> str:
    rows = text.splitlines() or [""]
    return "<pre>" + "".join(
        f'<span class="{marks[i]}">{html.escape(row) or " "}</span>' if i < len(marks) and marks[i]
        else f"<span>{html.escape(row) or ' '}</span>" for i, row in enumerate(rows)) + "</pre>"


def _exercise(pair: Pair, ex: Exercise) -> str:
    a, b = pair.students
    e = html.escape
    return (f'<table class="code"><caption>{e(ex.cell)}: similarity {ex.similarity:.2f}</caption>'
            f"<tr><th>{e(a)}</th><th>{e(b)}</th></tr><tr><td>{_code(ex.code[0], ex.marks[0])}</td>"
            f"<td>{_code(ex.code[1], ex.marks[1])}</td></tr></table>")


def pair_html(pair: Pair) -> str:
    """One pair side by side (an HTML fragment): the matched exercises, then the others folded."""
    e = html.escape
    a, b = pair.students
    matched = [x for x in pair.exercises if x.matched]
    others = [x for x in pair.exercises if not x.matched]
    anchor = re.sub(r"[^A-Za-z0-9_-]", "_", f"{a}--{b}")
    return (f'<section id="{anchor}"><h2>{e(a)} and {e(b)}: score {pair.score:.2f}</h2>'
            f"<p>Exercises matched: {e(', '.join(pair.matched) or 'none on its own')}.</p>"
            + "".join(_exercise(pair, x) for x in matched)
            + (f"<details><summary>the other {len(others)} exercise(s)</summary>"
               + "".join(_exercise(pair, x) for x in others) + "</details>" if others else "")
            + "</section>")


def write_html(pairs: list[Pair], out_dir: Path | str, assignment: str | None = None,
               threshold: float = THRESHOLD) -> Path:
    """Write ``out_dir/similarity-ASSIGNMENT.html``, each pair side by side; return its path."""
    assignment = assignment or (pairs[0].assignment if pairs else "assignment")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    e = html.escape
    rows = "".join(
        f'<tr><td class="scores"><a href="#{re.sub(r"[^A-Za-z0-9_-]", "_", f"{p.students[0]}--{p.students[1]}")}">'
        f"{e(p.students[0])} and {e(p.students[1])}</a></td><td class='scores'>{p.score:.2f}</td>"
        f"<td class='scores'>{e(', '.join(p.matched))}</td></tr>" for p in pairs)
    table = (f"<table><tr><th class='scores'>students</th><th class='scores'>score</th>"
             f"<th class='scores'>exercises matched</th></tr>{rows}</table>" if pairs
             else f"<p>No pair of students reaches the threshold ({threshold:g}).</p>")
    path = out_dir / f"similarity-{assignment}.html"
    path.write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Similar answers: {e(assignment)}</title>
<style>{_CSS}</style></head>
<body><h1>Similar answers: {e(assignment)}</h1>
<p class="note">A flagged pair is <b>evidence for a person to look at, never a penalty</b>: short
exercises have few good answers, and students may legitimately work together.  The score
(0 to 1; flagged from {threshold:g}) says how much of the smaller submission's unusual code is
also in the other, after renaming, reformatting and comments are taken out.
<span class="shared">Red lines</span>: code the two share that few others in the class wrote;
<span class="common">grey lines</span>: shared, but common; <span class="given">pale text</span>:
given in the release notebook, not compared.</p>
{table}
{''.join(pair_html(p) for p in pairs)}
</body></html>
""", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# the command

def add_arguments(parser) -> None:
    parser.add_argument("assignment", help="the assignment (a folder of source/)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD,
                        help=f"flag pairs whose score is at least this (0 to 1; default {THRESHOLD})")
    parser.add_argument("--out", type=Path, default=Path("reports"),
                        help="folder for similarity-ASSIGNMENT.html (default: reports/)")
    cli.add_course_dir(parser)


def run(args) -> int:
    try:
        comparison = read_class(args.course_dir, args.assignment)
    except FileNotFoundError as err:  # no such assignment, not a course root, no submissions
        print(f"error: {err}", file=sys.stderr)
        return 2
    for s in comparison.skipped:
        print(f"skipped: {s.path} {s.reason}", file=sys.stderr)
    pairs = comparison.pairs(args.threshold)
    print(f"{args.assignment}: {len(comparison.students)} students compared, {len(pairs)} pair(s) with a "
          f"score of at least {args.threshold:g} (evidence to look at, not a verdict)")
    width = max([len(p.students[0]) for p in pairs] + [7])
    for p in pairs:
        print(f"  {p.score:.2f}  {p.students[0]:<{width}}  {p.students[1]:<{width}}  {', '.join(p.matched)}")
    path = write_html(pairs, args.out, args.assignment, args.threshold)
    print(f"side by side: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.main(sys.modules[__name__]))
