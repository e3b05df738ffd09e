"""Time the check for similar answers (autograder.similarity) on a class of 200 students.

    python benchmarks/similarity.py [--students N] [--assignment A ...] [--budget SECONDS]

For each assignment (default: week1_forward_pass and week2_loss_sgd) it builds a scratch course
root whose students hand in what students hand in: for each exercise the instructor's solution
(55 %), one of the catalogue's right answers (25 %) or wrong answers (15 %), or the untouched
stub (5 %); each student renames the variables their own way (60 % of them) and writes their
own comments.  A few students write answers of their own (inputs clipped at their own bounds,
an extra tolerance), and each of them has a copier, who renames and re-comments the copy.

It prints the seconds :func:`autograder.similarity.find_pairs` takes (reading every notebook
and comparing every pair, the flagged pairs' side-by-side included), how many pairs it flags,
and how many of the planted copies are among them.  Exits 1 if a run is over ``--budget``
(default 30 s, the issue's limit for 200 students on the course's two-core machine).
"""
from __future__ import annotations

import argparse
import builtins
import io
import keyword
import random
import shutil
import sys
import tempfile
import time
import tokenize
from pathlib import Path

from autograder import similarity
from autograder.course_root import CourseRoot, code_cells
from autograder.wrong_answers import cases

REPO = Path(__file__).resolve().parents[1]
NAMES = ["a", "b", "c", "tmp", "val", "res", "out", "acc", "h", "q", "x1", "arr", "data", "my", "it", "t", "s"]
COMMENTS = ["# done", "# compute it", "# see lecture 2", "# TODO check", "# vectorised", "# works!", "# step"]


def restyle(code: str, rng: random.Random, keep: set[str]) -> str:
    """The code with its own names renamed (consistently) and its comments replaced."""
    rename: dict[str, str] = {}
    out, previous, depth = [], "", 0
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return code
    for k, tok in enumerate(tokens):
        text = tok.string
        depth += (text in "([{") - (text in ")]}") if tok.type == tokenize.OP else 0
        keyword_argument = depth > 0 and k + 1 < len(tokens) and tokens[k + 1].string == "="
        if (tok.type == tokenize.NAME and previous != "." and text not in keep and not keyword.iskeyword(text)
                and text not in dir(builtins) and not keyword_argument):
            text = rename.setdefault(text, f"{rng.choice(NAMES)}{len(rename)}")
        elif tok.type == tokenize.COMMENT:
            text = rng.choice(COMMENTS)
        out.append((tok.type, text))
        previous = tok.string
    result = tokenize.untokenize(out)
    lines = result.splitlines()
    if lines and rng.random() < 0.5:
        row = rng.randrange(len(lines))
        lines[row] += "  " + rng.choice(COMMENTS)
    return "\n".join(lines)


PERSONAL = [  # lines a student adds of their own accord: {p} a parameter, {n} and {m} their own numbers
    "    {p} = np.clip(np.asarray({p}, dtype=float), -{n}, {n})",
    "    assert np.all(np.abs({p}) < {n}e{m}), 'input out of range'",
    "    {p} = np.array({p}, dtype=np.float64, copy=True) * {n} / {n}",
    "    tolerance = {m}e-{n}",
    "    if np.ndim({p}) > {m}: raise ValueError(f'expected at most {m} dimensions')",
]


def personal(code: str, rng: random.Random) -> str:
    """An answer written one's own way: a line of one's own after the signature (or on top)."""
    lines = code.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("def ") and "(" in line:
            param = line[line.index("(") + 1:].split(",")[0].split(")")[0].split("=")[0].strip()
            if param:
                extra = rng.choice(PERSONAL).format(p=param, n=rng.randint(20, 900), m=rng.randint(2, 9))
                lines[i + 1:i + 1] = [extra]
            return "\n".join(lines)
    return "\n".join([f"check_{rng.randint(10, 999)} = {rng.randint(2, 99)} * {rng.random():.3f}", *lines])


def build_class(root: CourseRoot, assignment: str, students: int, copies: int, seed: int = 0) -> set[frozenset]:
    """Hand in ``students`` submissions; return the planted copies (pairs of student ids)."""
    rng = random.Random(seed)
    exercises = list(code_cells(assignment, "solution", root.path))
    variants = {cell: {"right": [], "wrong": []} for cell in exercises}
    for case in cases(assignment):
        for cell, code in case.answers.items():
            if cell in variants:
                variants[cell][case.kind].append(code)
    solution = {}
    for name, nb in root.student_notebooks(assignment, {}).items():
        for cell in nb.cells:
            gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid in variants:
                solution[gid] = cell.source
    release = {gid: c.source for nb in root.student_notebooks(assignment, None).values() for c in nb.cells
               if (gid := c.get("metadata", {}).get("nbgrader", {}).get("grade_id")) in variants}
    keep = {n for code in release.values() for n in similarity.names_given(code)} | {"np", "keras", "scipy"}
    keep |= {n for nb in root.student_notebooks(assignment, None).values() for c in nb.cells
             if c.cell_type == "code" for n in similarity.names_given(c.source)}

    def student_answers(own: bool) -> dict[str, str]:
        answers = {}
        restyled = rng.random() < 0.6
        for cell in exercises:
            draw = rng.random()
            pool = variants[cell]
            code = (rng.choice(pool["right"]) if draw < 0.25 and pool["right"] else
                    rng.choice(pool["wrong"]) if draw < 0.40 and pool["wrong"] else
                    release[cell] if draw < 0.45 else solution[cell])
            if own:
                code = personal(code, rng)
            answers[cell] = restyle(code, rng, keep) if restyled or own else code
        return answers

    planted = set()
    honest = students - copies
    for i in range(honest):
        own = i < copies
        answers = student_answers(own)
        root.submit(f"s{i:03d}", assignment, root.student_notebooks(assignment, answers))
        if own:
            copy = {cell: restyle(code, rng, keep) for cell, code in answers.items()}
            root.submit(f"c{i:03d}", assignment, root.student_notebooks(assignment, copy))
            planted.add(frozenset((f"s{i:03d}", f"c{i:03d}")))
    return planted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--copies", type=int, default=4, help="planted copies (pairs) per assignment")
    parser.add_argument("--assignment", action="append", help="default: week1_forward_pass, week2_loss_sgd")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds find_pairs may take (default 30)")
    args = parser.parse_args(argv)
    over = False
    with tempfile.TemporaryDirectory(prefix="similarity-") as tmp:
        for assignment in args.assignment or ["week1_forward_pass", "week2_loss_sgd"]:
            root = CourseRoot.create(Path(tmp) / assignment, [assignment], REPO)
            shutil.copytree(REPO / "release" / assignment, root.path / "release" / assignment)
            planted = build_class(root, assignment, args.students, args.copies)
            start = time.perf_counter()
            pairs = similarity.find_pairs(root.path, assignment)
            seconds = time.perf_counter() - start
            flagged = {frozenset(p.students) for p in pairs}
            scores = similarity.read_class(root.path, assignment).scores()
            honest = max(s for s, a, b in scores if frozenset((a, b)) not in planted)
            copied = min(s for s, a, b in scores if frozenset((a, b)) in planted)
            over |= seconds > args.budget
            print(f"{assignment}: {args.students} students, find_pairs {seconds:.2f} s "
                  f"({'over' if seconds > args.budget else 'within'} the budget of {args.budget:g} s); "
                  f"{len(pairs)} pair(s) flagged, {len(planted & flagged)} of {len(planted)} planted copies "
                  f"among them, {len(flagged - planted)} other pair(s); lowest planted copy {copied:.2f}, "
                  f"highest other pair {honest:.2f}")
            for p in pairs[:10]:
                print(f"    {p.score:.2f}  {p.students[0]}  {p.students[1]}  {', '.join(p.matched)}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
