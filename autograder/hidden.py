"""Hidden tests that stay hidden in feedback, even when the student's code is hostile.

A test cell's hidden tests (between nbgrader's ``### BEGIN HIDDEN TESTS`` and ``### END
HIDDEN TESTS``) call the student's functions on inputs the student never sees and compare
with expected values.  Everything the kernel prints while they run is the student's to
control: a check's message names its inputs and expected values, and the student's own
function can print its arguments or raise an exception whose name or message holds them.
Shown in feedback, that turns hidden tests into an oracle (submit, read, hard-code).  So
what feedback shows is decided outside the kernel, in three steps:

1. **While autograding** (:class:`autograder.preprocessors.SandboxedExecute`), a cell with
   hidden tests runs in parts (:func:`parts`): the visible tests, then, if they passed, the
   hidden tests, each as its own execute request.  Outputs are sorted by the request they
   answer (nbclient keeps only a request's own messages), so the kernel cannot move an
   output across the boundary.  Between the parts go marker outputs carrying a random
   ``nonce`` that is also written into the cell's metadata, outside the kernel's reach, after
   the cell ran (:func:`run_in_parts`).  The grade is nbgrader's as before: a hidden test's
   error is an error output of the cell.  The autograded notebook keeps everything, for the
   instructor.
2. **In feedback** (:class:`autograder.preprocessors.HideHiddenTests`), the outputs between
   valid markers are replaced by one summary (:func:`summary`) written from instructor text
   only: which property failed (the test cell's own assert message, written as a plain string,
   or an entry of a fixed list chosen by the check's wording), the hints written as plain strings
   in the test cell or in the course's check helpers (of an f-string hint, its fixed pieces),
   and the cell's first comment line
   (what it checks, visible to students already).  A student who forges a check's wording
   can only pick another entry of the list.  A cell with hidden tests but without valid
   markers (graded some other way) shows the summary in place of all its outputs.  The summary
   names at most one property and one hint, the first that matches in a fixed order, so what the
   student's code raises can pick among them but carries no more than that choice.

While hidden tests run, display updates reach no output (nbclient would let them rewrite any
earlier output with the same display id), and no later update reaches the test cell's outputs.

3. **What else feedback shows** comes from a second run, without hidden tests
   (:class:`autograder.preprocessors.RunWithoutHiddenTests`, in ``generate_feedback``).  In the
   graded run the student's code shares one kernel with the hidden tests, so a function can keep
   what a hidden test passed it (in a global; the test's expected values through
   ``sys._getframe``), or read a hidden test's own globals, and print them in a later cell.  The
   second run starts a new sandbox from a copy of the folder whose notebooks lost their hidden-test
   code and outputs (:func:`copy_without_hidden_tests`), runs the visible code only, and takes each
   hidden part's outputs from the graded run (:func:`segments`) for step 2's summary.
"""
from __future__ import annotations

import ast
import copy
import functools
import re
import secrets
from pathlib import Path

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"  # nbgrader's ClearHiddenTests delimiters
META = "course_hidden_tests"  # cell metadata: {"nonce": ...}; marker outputs: {"nonce": ..., "at": "begin"/"end"}
FAILED = "HiddenTestFailed"

# what a hidden check's message says went wrong (course.feedback, course.model_checks), and how
# the feedback says it; the first that matches wins
PROPERTIES = (
    ("gave None", "your function returned None (is the `return` statement missing?)"),
    ("was modified", "your function modified its input"),
    ("has the wrong dtype", "the result has the wrong dtype"),
    ("of dtype", "the result has the wrong dtype"),
    ("should be a shape", "the result should be a shape (a tuple of integers)"),
    ("has the wrong shape", "the result has the wrong shape"),
    ("contains NaN", "the result contains NaN (not a number)"),
    ("should be a number", "the result is not a number or an array of numbers"),
    ("has the wrong value", "the result has the wrong values"),
)


def parts(source: str) -> list[tuple[bool, str]] | None:
    """A cell's code cut at its hidden-test delimiters: ``[(hidden, code), ...]`` in order, empty
    parts left out; None if it has no hidden tests.  If a part is not Python on its own (the
    delimiters inside a block), the whole cell is one hidden part."""
    if BEGIN not in source:
        return None
    out: list[tuple[bool, str]] = []
    hidden, lines = False, []
    for line in source.split("\n") + [None]:
        if line is None or BEGIN in line or END in line:
            if "\n".join(lines).strip():
                out.append((hidden, "\n".join(lines)))
            lines = []
            if line is not None:
                hidden = BEGIN in line
        else:
            lines.append(line)
    try:
        for _, code in out:
            ast.parse(code)
    except SyntaxError:
        return [(True, source)]
    return out


def test_parts(cell) -> list[tuple[bool, str]] | None:
    """:func:`parts` of an instructor's test cell: a code cell that nbgrader grades, locked, with a grade
    id.  After nbgrader's sanitizing (``OverwriteCells`` puts back a locked cell's source and drops an
    unknown grade id), its code is the instructor's.  A student's own cell that holds the delimiters is
    not one: it runs whole and shows as it is, and its text is never taken for instructor text."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.get("cell_type") != "code" or not isinstance(meta, dict) or not (
            meta.get("grade") and meta.get("locked") and meta.get("grade_id") and not meta.get("solution")):
        return None
    return parts(cell.get("source", ""))


def _marker(nonce: str, at: str):
    from nbformat.v4 import new_output

    return new_output("display_data", data={"text/plain": ""}, metadata={META: {"nonce": nonce, "at": at}})


def run_in_parts(cell, execute) -> None:
    """Run a code cell with hidden tests part by part with ``execute(part, hidden) -> part`` (a copy
    of the cell with one part's code), stopping at the first error, and set the cell's outputs: the
    parts' outputs with markers around the hidden ones.  A value (``execute_result``) is kept only
    from the last part, and only if it ran without error: nbgrader reads a value before an error as
    partial credit, and a cell run whole shows only its last expression's value."""
    cut = parts(cell.source)
    nonce = secrets.token_hex(16)
    outputs, markers = [], 0
    for n, (hidden, code) in enumerate(cut):
        part = copy.deepcopy(cell)
        part.source, part.outputs = code, []
        part = execute(part, hidden)
        got = [o for o in part.outputs if not isinstance(o.get("metadata", {}).get(META), dict)]  # no forged markers
        failed = any(o.get("output_type") == "error" for o in got)
        if n < len(cut) - 1 or failed:
            got = [o for o in got if o.get("output_type") != "execute_result"]
        if hidden:
            outputs += [_marker(nonce, "begin"), *got, _marker(nonce, "end")]
            markers += 2
        else:
            outputs += got
        cell.execution_count = part.get("execution_count") or cell.get("execution_count")
        if failed:
            break
    cell.outputs = outputs
    cell.metadata[META] = {"nonce": nonce, "markers": markers}


def split_outputs(cell) -> tuple[list, list]:
    """(outputs shown as they are, outputs of hidden tests), markers dropped.  Without valid
    markers (as many as the cell's metadata says, begin and end in turn) every output counts as
    hidden."""
    shown, hidden, _ = _split(cell)
    return shown, hidden


def _split(cell) -> tuple[list, list, int]:
    """:func:`split_outputs`, and how many shown outputs come before the hidden tests' (0 if the
    markers are not valid)."""
    shown, parts, at = _walk(cell)
    return shown, [o for part in parts for o in part], at


def _walk(cell) -> tuple[list, list[list], int]:
    """(shown outputs, the outputs of each hidden part, how many shown outputs come before the first
    hidden part); without valid markers: ([], [every output but markers], 0)."""
    meta = cell.get("metadata", {}).get(META, {})
    nonce = meta.get("nonce") if isinstance(meta, dict) else None
    outputs = list(cell.get("outputs", []))
    unmarked = [o for o in outputs if not (o.get("output_type") == "display_data"
                                           and isinstance(o.get("metadata", {}).get(META), dict))]
    shown, parts, inside, at = [], [], False, None
    for out in outputs:
        mark = out.get("metadata", {}).get(META) if out.get("output_type") == "display_data" else None
        if isinstance(mark, dict) and nonce and mark.get("nonce") == nonce:
            if mark.get("at") != ("end" if inside else "begin"):
                return [], [unmarked], 0
            at = len(shown) if at is None else at
            inside = not inside
            if inside:
                parts.append([])
            continue
        (parts[-1] if inside else shown).append(out)
    if not nonce or inside or 2 * len(parts) != meta.get("markers"):
        return [], [unmarked], 0
    return shown, parts, at or 0


def segments(cell) -> list[list]:
    """The outputs of each hidden part of an autograded cell, in order (markers dropped).  Without
    valid markers, all the cell's outputs are the first part's."""
    return _walk(cell)[1]


def feedback_outputs(cell) -> list:
    """A test cell's outputs as feedback shows them: the visible tests' outputs, and in place of the
    hidden tests' the :func:`summary` (where they ran: before the visible tests after them)."""
    shown, hidden_outputs, at = _split(cell)
    outputs = list(shown)
    stand_in = summary(cell, hidden_outputs)
    if stand_in is not None:
        outputs.insert(at, stand_in)
    return outputs


def hint_texts(code: str, fstrings: bool = False, pieces: bool = False) -> list[str]:
    """The messages of the ``Hint(test, message)`` calls in a test cell's code: a string, or a name
    the cell assigns a string to; with ``fstrings``, also the fixed text of an f-string, and with
    ``pieces`` each fixed piece of it on its own (feedback shows only fixed pieces of an f-string
    hint: its values could be a hidden test's)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    named = {t.id: node.value.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
             and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
             for t in node.targets if isinstance(t, ast.Name)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Hint" and len(node.args) >= 2:
            arg = node.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.append(arg.value)
            elif isinstance(arg, ast.Name) and arg.id in named:
                out.append(named[arg.id])
            elif fstrings and isinstance(arg, ast.JoinedStr):
                out.append("".join(v.value for v in arg.values if isinstance(v, ast.Constant)))
            elif pieces and isinstance(arg, ast.JoinedStr):
                out += [piece for v in arg.values if isinstance(v, ast.Constant)
                        and len(piece := v.value.strip(" ,;:")) >= 15]
    return out


def assert_messages(code: str) -> list[str]:
    """The messages of the test cell's ``assert test, "message"`` statements written as plain strings."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [n.msg.value for n in ast.walk(tree) if isinstance(n, ast.Assert) and isinstance(n.msg, ast.Constant)
            and isinstance(n.msg.value, str)]


@functools.lru_cache(maxsize=1)
def _course_hints() -> tuple[str, ...]:
    """The hints the course's check helpers write as plain strings ("Hint: ..." in course.feedback
    and course.model_checks)."""
    import importlib.util

    out = []
    for module in ("course.feedback", "course.model_checks"):
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin:
            continue
        tree = ast.parse(Path(spec.origin).read_text())
        out += [n.value[len("Hint: "):] for n in ast.walk(tree) if isinstance(n, ast.Constant)
                and isinstance(n.value, str) and n.value.startswith("Hint: ") and len(n.value) > 12]
    return tuple(out)


def _squash(text: str) -> str:
    return " ".join(text.split())


def summary(cell, hidden_outputs: list):
    """The one output that stands for a cell's hidden tests in feedback: instructor text only."""
    from nbformat.v4 import new_output

    errors = [o for o in hidden_outputs if o.get("output_type") == "error"]
    if not errors:
        return new_output("stream", name="stdout", text="Hidden tests: passed.\n") if hidden_outputs else None
    said = _squash(" ".join(f"{o.get('evalue', '')}" for o in errors))
    # at most one property and one hint, the first that matches in a fixed order: whatever the
    # student's code raises can choose among them, but carries no more than that choice
    stated = next((m for m in assert_messages(cell.source) if len(m) >= 12 and _squash(m) in said), "")
    found = stated or next((text for words, text in PROPERTIES if words in said), "")
    first = next((line.strip().lstrip("#").strip() for line in cell.source.split("\n") if line.strip()), "")
    hint = next((h for h in [*hint_texts(cell.source, pieces=True), *_course_hints()] if _squash(h) in said), "")
    lines = [f"A hidden test failed: {found.rstrip('.')}." if found else "A hidden test failed."]
    lines += [f"Hint: {hint}"] if hint else []
    if first.lower().startswith("checks"):
        lines.append(f"This cell {first[0].lower()}{first[1:]}")
    lines.append("Hidden tests use inputs you do not see; test your function on other inputs of your own.")
    text = "\n  ".join(lines)
    return new_output("error", ename=FAILED, evalue=text, traceback=[f"{FAILED}: {text}"])


def copy_without_hidden_tests(src: Path, dst: Path) -> None:
    """Copy an autograded notebook's folder for a run without hidden tests.  The autograded notebooks
    in it hold the hidden tests and what they printed, so every notebook of the copy loses its
    hidden-test code and all outputs; a notebook that cannot be read is left out, and so is a
    symbolic link named like one.  Other links are copied as links, never followed."""
    import os
    import shutil

    import nbformat

    shutil.copytree(src, dst, symlinks=True)
    for folder, _, files in os.walk(dst):
        for name in files:
            path = Path(folder) / name
            if not name.endswith(".ipynb"):
                continue
            try:
                if path.is_symlink():
                    raise ValueError("a link")
                nb = nbformat.read(path, as_version=4)
            except Exception:  # noqa: BLE001 (not a notebook: nothing the run needs)
                path.unlink()
                continue
            for cell in nb.cells:
                cell.metadata.pop(META, None)
                if cell.cell_type == "code":
                    cell.source, cell.outputs, cell.execution_count = without_hidden_code(cell.source), [], None
            nbformat.write(nb, path)


def without_hidden_code(source: str) -> str:
    """A cell's code with its hidden tests replaced by one comment line."""
    kept, hidden = [], False
    for line in source.split("\n"):
        if BEGIN in line:
            hidden = True
            kept.append(re.sub(r"#+\s*" + BEGIN, "# hidden tests (not shown)", line))
        elif END in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept)


_NUMBER = re.compile(r"(?<![\w.])-?\d*\.\d{3,}|(?<![\w.])\d{3,}(?![\w.])")  # 0.5406, .1824, 12.345, 784


def revealing(text: str) -> set[str]:
    """What in a hidden test's output would tell its inputs or expected values: numbers with three
    or more digits (after the point, or whole) and the first line of each message (a check's name
    and what it found)."""
    found = {m.group(0).lstrip("-") for m in _NUMBER.finditer(text)}
    found |= {line.strip() for line in text.split("\n")[:1] if len(line.strip()) >= 12}
    return found


def leaks(autograded, feedback_text: str, seen_anyway: str = "") -> list[str]:
    """What of the hidden tests' outputs in an autograded notebook shows in ``feedback_text`` (the
    feedback page's text), apart from what the student sees anyway: ``seen_anyway`` (their own
    notebook, the released one) and every output of the notebook that is not a hidden test's."""
    secret: set[str] = set()
    visible = [seen_anyway]
    for cell in autograded.cells:
        if cell.cell_type != "code":
            continue
        if BEGIN not in cell.source:
            visible += [output_text(o) for o in cell.get("outputs", [])]
            continue
        shown, hidden_outputs = split_outputs(cell)
        visible += [output_text(o) for o in shown]
        for out in hidden_outputs:
            secret |= revealing(output_text(out))
    anyway = "\n".join(visible)
    return sorted(s for s in secret if s in feedback_text and s not in anyway)


def output_text(out) -> str:
    """What an output says, as text (an error: its name and message)."""
    if out.get("output_type") == "error":  # (feedback shows no traceback: HideHiddenTests)
        return f"{out.get('ename', '')}: {out.get('evalue', '')}"
    if out.get("output_type") == "stream":
        return str(out.get("text", ""))
    return "\n".join(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
