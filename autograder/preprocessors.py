"""nbgrader preprocessors of the course, configured in ``nbgrader_config.py``.

:class:`HideHiddenTests` is an nbgrader preprocessor for ``generate_feedback``:
nbgrader's feedback shows the test cells as autograded, hidden tests included
(jupyter/nbgrader#917).  It removes the ``### BEGIN HIDDEN TESTS`` ...
``### END HIDDEN TESTS`` region from test cells and shortens the errors those
cells raised to their message (a traceback quotes the failing test's code).
Enable it in ``nbgrader_config.py``::

    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "autograder.preprocessors.HideHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]

``RemoveAnswerNotes`` runs in ``nbgrader generate_assignment``: a markdown cell of the instructor's
notebook may hold notes for the teacher between ``### BEGIN ANSWER NOTES`` and
``### END ANSWER NOTES`` (the answers to a notebook's self-check questions); the student version
keeps the rest of the cell and loses the region.  nbgrader's own solution regions cannot do this:
it accepts a markdown solution cell only as a graded answer.

:class:`SandboxedExecute` is nbgrader's ``Execute`` (it runs the notebook in ``nbgrader
autograde``) with every kernel in the grading sandbox (:mod:`autograder.sandbox`).  The course's
``nbgrader_config.py`` puts it in place of ``Execute`` in ``Autograde.autograde_preprocessors``,
so ``nbgrader autograde``, with or without ``--student``, the Formgrader's Autograde button and the
batch grader all grade in the same sandbox.  Where the sandbox cannot run (no bubblewrap), it
refuses before any kernel starts, with a message that says how to install it and names the one
setting that grades without it, knowingly: ``c.SandboxedExecute.sandbox = False``.
"""
from __future__ import annotations

import os

from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Dict, Unicode

BEGIN, END = "### BEGIN ANSWER NOTES", "### END ANSWER NOTES"


class RemoveAnswerNotes(NbGraderPreprocessor):
    """Drop the answer-notes regions of markdown cells from the student version."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "markdown" or (BEGIN not in cell.source and END not in cell.source):
            return cell, resources
        kept, inside = [], False
        for line in cell.source.split("\n"):
            if line.strip() == BEGIN:
                if inside:
                    raise RuntimeError(f"nested {BEGIN!r} in a markdown cell: {cell.source[:200]!r}")
                inside = True
            elif line.strip() == END:
                if not inside:
                    raise RuntimeError(f"{END!r} without {BEGIN!r} in a markdown cell: {cell.source[:200]!r}")
                inside = False
            elif not inside:
                kept.append(line)
        if inside:
            raise RuntimeError(f"{BEGIN!r} without {END!r} in a markdown cell: {cell.source[:200]!r}")
        cell.source = "\n".join(kept).rstrip("\n")
        return cell, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback without hidden tests: their code is removed and their errors keep only the message."""

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS", help="Marks the start of hidden tests").tag(config=True)
    end_test_delimeter = Unicode("END HIDDEN TESTS", help="Marks the end of hidden tests").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or self.begin_test_delimeter not in cell.source:
            return cell, resources
        kept, hidden = [], False
        for line in cell.source.split("\n"):
            if self.begin_test_delimeter in line:
                hidden = True
                kept.append(line.replace(self.begin_test_delimeter, "hidden tests (not shown)"))
            elif self.end_test_delimeter in line:
                hidden = False
            elif not hidden:
                kept.append(line)
        cell.source = "\n".join(kept)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        return cell, resources


# nbgrader's own autograding steps (nbgrader.converters.Autograde.autograde_preprocessors), in its
# order, with Execute replaced: the course's nbgrader_config.py and the hub's global one set these.
AUTOGRADE_PREPROCESSORS = (
    "autograder.preprocessors.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
)


def runs_sandboxed(steps) -> bool:
    """True if autograding with these steps runs notebooks in the sandbox only: SandboxedExecute is
    among them, and every other step that executes a notebook is a SandboxedExecute too."""
    from nbconvert.preprocessors import ExecutePreprocessor
    from traitlets.utils.importstring import import_item

    try:
        classes = [import_item(s) if isinstance(s, str) else s for s in steps]
    except Exception:  # a step that cannot be imported: nbgrader could not grade either
        return False
    executing = [c for c in classes if isinstance(c, type) and issubclass(c, ExecutePreprocessor)]
    return bool(executing) and all(issubclass(c, SandboxedExecute) for c in executing)


class SandboxedExecute(Execute):
    """nbgrader's Execute, with each kernel in the grading sandbox (or a refusal saying why not)."""

    sandbox = Bool(True, help="Run each student's kernel in the bubblewrap sandbox. False runs student code "
                              "with the rights of whoever runs nbgrader: only for code you trust.").tag(config=True)
    limits = Dict(help="What a student's kernel may use: fields of autograder.sandbox.Limits (memory_mb, "
                       "cpu_seconds, processes, file_size_mb, output_mb, notebook_timeout); the others keep "
                       "their defaults.").tag(config=True)

    def configured_limits(self):
        """The limits of nbgrader_config.py, after checking the settings this step depends on.

        Raises:
            SandboxError: a kernel named in the config (it would run outside the sandbox), or
                limits that are not fields of :class:`autograder.sandbox.Limits` with whole numbers.
        """
        from autograder import sandbox

        if self.kernel_name not in ("", sandbox.KERNEL_NAME):
            raise sandbox.SandboxError(
                f"nbgrader_config.py asks for the kernel {self.kernel_name!r} (Execute.kernel_name), which would run "
                f"outside the sandbox. Remove that setting; the sandbox's kernel is {sandbox.KERNEL_NAME!r}. "
                f"Nothing was graded.")
        fields = sandbox.Limits.__dataclass_fields__
        wrong = {k: v for k, v in self.limits.items()
                 if k not in fields or not isinstance(v, int) or isinstance(v, bool) or v <= 0}
        if wrong:
            raise sandbox.SandboxError(f"c.SandboxedExecute.limits in nbgrader_config.py: {wrong!r} are not limits: its "
                                       f"keys must be fields of autograder.sandbox.Limits ({', '.join(fields)}), its "
                                       f"values whole numbers above 0. Nothing was graded.")
        return sandbox.Limits(**self.limits)

    def create_kernel_manager(self):
        if not self.sandbox:
            return super().create_kernel_manager()
        from autograder import sandbox

        try:
            sandbox.require()
        except sandbox.SandboxError as err:
            raise sandbox.SandboxError(f"{err} Nothing was graded. To grade without the sandbox, knowingly "
                                       f"(student code then runs with your rights), set "
                                       f"`{sandbox.OPT_OUT}` in nbgrader_config.py.") from None
        limits = self.configured_limits().to_json()
        if os.environ.get(sandbox.LIMITS_ENV):  # the batch grader's own (python -m autograder autograde)
            if os.environ[sandbox.LIMITS_ENV] != limits:
                self.log.warning("The sandbox's limits come from $%s, not from nbgrader_config.py: %s",
                                 sandbox.LIMITS_ENV, os.environ[sandbox.LIMITS_ENV])
            limits = os.environ[sandbox.LIMITS_ENV]
        self.kernel_name = sandbox.KERNEL_NAME
        self.km = self.kernel_manager_class(kernel_name=sandbox.KERNEL_NAME, kernel_spec_manager=sandbox.kernel_specs(),
                                            config=self.config)
        self.km.kernel_spec.env = {sandbox.LIMITS_ENV: limits}  # what the kernel wrapper reads
        return self.km
