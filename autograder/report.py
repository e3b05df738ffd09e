"""The class report for the instructor, from nbgrader's gradebook.

:func:`write_report` (``python -m autograder report [--out DIR]``) reads the
course's gradebook with nbgrader's API and the autograded notebooks, and writes

* ``scores.csv``: one row per student and graded task (grade cell): student,
  assignment, notebook, task, score, max score;
* ``totals.csv``: one row per student, the total of each assignment, exactly as
  ``nbgrader export`` gives it (:func:`autograder.gradebook.totals`: late penalties
  taken off, 0 for a student without a submission, the assignment's maximum);
* ``score_distribution.png``: the distribution of the totals of the students who
  submitted, per assignment;
* ``failing_tests.png``: the share of students losing points in each test cell;
* ``failing_checks.png``: the most common failing checks, by the first line of
  the error a test cell raised (``AssertionError``, ``FeedbackError``, ...);
* ``similarity-ASSIGNMENT.html``: the pairs of students whose answers are
  suspiciously alike, side by side (:mod:`autograder.similarity`: evidence for a
  person to look at, never a penalty);
* ``index.html``: the plots and the tables, and the similar pairs of each assignment.
"""
from __future__ import annotations

import csv
import html
import re
from collections import Counter, defaultdict
from pathlib import Path

import nbformat

from autograder import cells, cli, gradebook, similarity

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ---------------------------------------------------------------------------
# the class report

def failing_checks(autograded: Path, assignments: list[str]) -> dict[str, Counter]:
    """{assignment: Counter of 'task: first line of the error'} over the autograded notebooks' test cells."""
    out: dict[str, Counter] = defaultdict(Counter)
    if not autograded.is_dir():
        return out
    for path in sorted(autograded.glob("*/*/*.ipynb")):
        assignment = path.parent.name
        if assignment not in assignments:
            continue
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 (a damaged file is left out of the report)
            continue
        failed = {}  # grade_id -> its cell's first error
        for grade_id, output in cells.graded_outputs(nb):
            if output.get("output_type") == "error":
                failed.setdefault(grade_id, output)
        for grade_id, output in failed.items():
            out[assignment][f"{grade_id}: {first_line(output)}"] += 1
    return out


def first_line(error_output) -> str:
    """'AssertionError: the first line of the message' of an error output."""
    value = ANSI.sub("", str(error_output.get("evalue", ""))).strip().splitlines()
    return f"{error_output.get('ename', 'Error')}: {value[0] if value else ''}".strip().rstrip(":")


def write_report(course_dir: Path, out: Path, assignments: list[str] | None = None) -> Path:
    """Write the class report of the course in ``course_dir`` into ``out``; return ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    from autograder.course_root import course_settings

    settings = course_settings(course_dir)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = gradebook.rows(settings.db_url, settings.course_id, assignments)
    checks = failing_checks(settings.autograded, sorted({r.assignment for r in rows}))

    with open(out / "scores.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "notebook", "task", "score", "max_score"])
        for r in rows:
            w.writerow([r.student, r.assignment, r.notebook, r.task, f"{r.score:g}", f"{r.max_score:g}"])

    totals: dict[str, dict[str, gradebook.Total]] = defaultdict(dict)
    maxima: dict[str, float] = {}
    for t in gradebook.totals(settings.db_url, settings.course_id, assignments):
        totals[t.student][t.assignment] = t
        maxima[t.assignment] = t.max_score
    names = sorted(maxima)
    with open(out / "totals.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", *names])
        for student in sorted(totals):
            w.writerow([student, *(f"{totals[student][a].score:g}" for a in names)])

    plots = [_plot_distribution(out, names, totals, maxima), _plot_failing_tests(out, names, rows),
             _plot_failing_checks(out, checks)]
    _write_html(out, names, totals, maxima, [p for p in plots if p], checks, _similar(course_dir, out, names))
    return out


def _similar(course_dir: Path, out: Path, names: list[str]) -> dict[str, tuple[Path | None, list, str]]:
    """{assignment: (its similarity page, the flagged pairs, why it could not be compared)} for the
    assignments handed in.  A comparison that fails leaves the rest of the report as it is."""
    found = {}
    for a in names:
        try:
            comparison = similarity.read_class(course_dir, a)
        except FileNotFoundError:  # no submissions of it, or its source is gone
            continue
        except Exception as err:  # noqa: BLE001 (the report goes on; the section says what failed)
            found[a] = (None, [], f"could not be compared: {type(err).__name__}: {err}")
            continue
        pairs = comparison.pairs()
        skipped = "; ".join(f"{s.student}'s {s.path.name} left out: {s.reason}" for s in comparison.skipped)
        found[a] = (similarity.write_html(pairs, out, a), pairs, skipped)
    return found


def _plot_distribution(out: Path, names, totals, maxima) -> str:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, max(1, len(names)), figsize=(4.5 * max(1, len(names)), 3.5), squeeze=False)
    for ax, a in zip(axes[0], names):
        scores = [t[a].score for t in totals.values() if t[a].submitted]
        missing = sum(not t[a].submitted for t in totals.values())
        ax.hist(scores, bins=min(20, max(5, int(maxima[a]) + 1)), range=(0, maxima[a] or 1), color="#4c72b0",
                edgecolor="white")
        ax.set_title(f"{a} ({len(scores)} submitted" + (f", {missing} did not" if missing else "") + ")",
                     fontsize=10)
        ax.set_xlabel(f"total score (of {maxima[a]:g})")
        ax.set_ylabel("students")
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if not names:
        axes[0][0].text(0.5, 0.5, "no submissions in the gradebook", ha="center")
    fig.suptitle("Score distribution per assignment")
    fig.tight_layout()
    fig.savefig(out / "score_distribution.png", dpi=100)
    plt.close(fig)
    return "score_distribution.png"


def _plot_failing_tests(out: Path, names, rows) -> str:
    import matplotlib.pyplot as plt

    tests = [(a, t) for a in names for t in dict.fromkeys(r.task for r in rows if r.assignment == a
                                                             and r.cell_type == "code")]
    share = []
    for a, t in tests:
        cells = [r for r in rows if r.assignment == a and r.task == t]
        share.append(100 * sum(r.score < r.max_score for r in cells) / len(cells))
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(tests) + 1.5))
    labels = [f"{a}: {t}" if len(names) > 1 else t for a, t in tests]
    ax.barh(range(len(tests)), share, color="#c44e52")
    ax.set_yticks(range(len(tests)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students who lost points (%)")
    ax.set_title("Share of students failing each test")
    fig.tight_layout()
    fig.savefig(out / "failing_tests.png", dpi=100)
    plt.close(fig)
    return "failing_tests.png"


def _plot_failing_checks(out: Path, checks: dict[str, Counter], top: int = 15) -> str:
    import matplotlib.pyplot as plt

    common = Counter()
    for a, counter in checks.items():
        for msg, n in counter.items():
            common[f"{a}/{msg}" if len(checks) > 1 else msg] += n
    items = common.most_common(top)
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(items) + 1.5))
    from matplotlib.ticker import MaxNLocator

    ax.barh(range(len(items)), [n for _, n in items], color="#dd8452")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_yticks(range(len(items)), [_short(m, 90) for m, _ in items], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("students")
    ax.set_title(f"Most common failing checks (top {top})" if items else "No failing checks")
    fig.tight_layout()
    fig.savefig(out / "failing_checks.png", dpi=100)
    plt.close(fig)
    return "failing_checks.png"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _write_html(out: Path, names, totals, maxima, plots, checks, similar) -> None:
    e = html.escape
    head = "".join(f"<th>{e(a)} (of {maxima[a]:g})</th>" for a in names)

    def cell(t: gradebook.Total) -> str:
        note = (" (no submission)" if not t.submitted else
                f" ({t.raw_score:g} less {t.late_penalty:g} late penalty)" if t.late_penalty else "")
        return f"<td>{t.score:g}{e(note)}</td>"

    body = "".join(f"<tr><td>{e(s)}</td>" + "".join(cell(totals[s][a]) for a in names) + "</tr>"
                   for s in sorted(totals))
    check_rows = "".join(f"<tr><td>{e(a)}</td><td>{e(m)}</td><td>{n}</td></tr>"
                         for a, c in sorted(checks.items()) for m, n in c.most_common())
    images = "".join(f'<figure><img src="{e(p)}" alt="{e(p)}"></figure>' for p in plots)
    similar_rows = "".join(
        (f'<tr><td><a href="{e(page.name)}">{e(a)}</a></td>' if page else f"<tr><td>{e(a)}</td>") + f"<td>{len(pairs)}</td><td>"
        + e("; ".join(f"{p.students[0]} and {p.students[1]} ({p.score:.2f})" for p in pairs) or "none")
        + (f"<br><small>{e(note)}</small>" if note else "") + "</td></tr>"
        for a, (page, pairs, note) in similar.items())
    (out / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Class report</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}} img{{max-width:100%}}</style></head>
<body><h1>Class report</h1>
<p>From the course's nbgrader gradebook: {len(totals)} students, {len(names)} assignment(s).
Scores per student and task: <a href="scores.csv">scores.csv</a>; totals: <a href="totals.csv">totals.csv</a>.</p>
{images}
<h2>Totals</h2>
<p>As <code>nbgrader export</code> gives them: late penalties taken off, 0 without a submission.</p>
<table><tr><th>student</th>{head}</tr>{body}</table>
<h2>Failing checks</h2>
<table><tr><th>assignment</th><th>check</th><th>students</th></tr>{check_rows}</table>
<h2>Similar answers</h2>
<p>Pairs of students whose answer cells are suspiciously alike, after renaming, reformatting and
comments are taken out (score from {similarity.THRESHOLD:g} to 1; each assignment's page shows them
side by side). <b>Evidence for a person to look at, never a penalty.</b></p>
<table><tr><th>assignment</th><th>pairs</th><th>students (score)</th></tr>{similar_rows}</table>
</body></html>
""")


def add_arguments(parser) -> None:
    parser.add_argument("--out", type=Path, default=Path("reports"), help="folder for the report (default: reports/)")
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    cli.add_course_dir(parser)


def run(args) -> int:
    out = write_report(args.course_dir, args.out, assignments=args.assignment or None)
    print(f"report written to {out / 'index.html'}")
    return 0
