"""nbgrader preprocessors of the course, configured in ``nbgrader_config.py``.

:class:`HideHiddenTests` is an nbgrader preprocessor for ``generate_feedback``:
nbgrader's feedback shows the test cells as autograded, hidden tests included
(jupyter/nbgrader#917).  It removes the ``### BEGIN HIDDEN TESTS`` ...
``### END HIDDEN TESTS`` region from test cells, replaces whatever the hidden tests printed or
raised by a summary in the instructor's words (:mod:`autograder.hidden`: which property failed,
never an input or an expected value), and shortens the errors of the visible tests to their
message (a traceback quotes the failing test's code).  Before it, :class:`RunWithoutHiddenTests`
runs the notebook again in the sandbox without its hidden tests, for the outputs feedback shows.
``nbgrader_config.py`` sets both (:data:`FEEDBACK_PREPROCESSORS`)::

    c.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)

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
A test cell with hidden tests runs in parts, so that feedback can tell their outputs from the
visible tests' (:mod:`autograder.hidden`).  Its kernel client (:class:`ReadyClient`) starts running cells as soon as the kernel has answered,
without jupyter_client's fixed 0.2 s wait for a quiet IOPub channel: nbclient reads only the
IOPub messages of the cell it runs.
"""
from __future__ import annotations

import os
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Dict

from autograder import hidden

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
    """Feedback without hidden tests: their code is removed, and all they printed or raised is
    replaced by a summary in the instructor's words (:mod:`autograder.hidden`).  The errors of the
    visible tests keep only their message (a traceback quotes the test code)."""

    def preprocess_cell(self, cell, resources, index):
        if hidden.test_parts(cell) is None:
            return cell, resources
        outputs = hidden.feedback_outputs(cell)
        for out in outputs:
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
        cell.outputs = outputs
        cell.metadata.pop(hidden.META, None)
        cell.source = hidden.without_hidden_code(cell.source)
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

# nbgrader's own feedback steps (nbgrader.converters.GenerateFeedback.preprocessors), with the course's
# between them: the shown outputs from a run without hidden tests, limited as autograding limits
# them, and the hidden tests' outputs replaced by their summary.
FEEDBACK_PREPROCESSORS = (
    "nbgrader.preprocessors.GetGrades",
    "autograder.preprocessors.RunWithoutHiddenTests",
    "nbgrader.preprocessors.LimitOutput",
    "autograder.preprocessors.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
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


class ReadyClient(AsyncKernelClient):
    """The kernel client of :class:`SandboxedExecute`: ready once the kernel has answered a
    ``kernel_info_request`` on the shell channel and that request's ``idle`` status has come
    through IOPub (which proves the IOPub subscription is connected: ZMQ drops what is published
    before it is).

    jupyter_client's own ``wait_for_ready`` then also reads IOPub until it has been quiet for
    0.2 s, a fixed 0.2 s per notebook graded.  Nothing needs that drain here: nbclient keeps only
    the IOPub messages whose parent is the cell it is running.
    """

    IOPUB_WAIT = 0.5  # seconds for the status of a kernel_info_request before asking again

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # (jupyter_client binds the base's)
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            reply = await self._reply_to(msg_id, "shell", 1.0)
            if reply is not None:
                self._handle_kernel_info_reply(reply)
                if await self._reply_to(msg_id, "iopub", self.IOPUB_WAIT, idle=True) is not None:
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    async def _reply_to(self, msg_id: str, channel: str, wait: float, idle: bool = False) -> dict | None:
        """The first message of ``channel`` whose parent is ``msg_id`` (with ``idle``: its idle
        status) within ``wait`` seconds, else None; other messages are dropped."""
        sock = self.shell_channel if channel == "shell" else self.iopub_channel
        end = time.monotonic() + wait
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await sock.get_msg(timeout=left)
            except Empty:
                return None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if not idle or (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"):
                return msg
        return None


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
        self.km.client_class = f"{ReadyClient.__module__}.{ReadyClient.__qualname__}"
        return self.km

    _in_hidden_tests = False

    def preprocess_cell(self, cell, resources, index):
        """A cell with hidden tests runs in parts, visible then hidden tests (see :mod:`autograder.hidden`).
        A test cell always runs: a ``skip-execution`` tag a student put on it is dropped."""
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            tags = cell.metadata.get("tags")
            if isinstance(tags, list) and self.skip_cells_with_tag in tags:
                cell.metadata["tags"] = [t for t in tags if t != self.skip_cells_with_tag]
        if hidden.test_parts(cell) is None:
            return super().preprocess_cell(cell, resources, index)
        self._check_assign_resources(resources)

        hidden.run_in_parts(cell, lambda part, is_hidden: self.run_part(part, index, is_hidden))
        self.nb.cells[index] = cell  # (nbclient put the last part there)
        self.clear_display_id_mapping(index)  # later display updates cannot reach its outputs (markers)
        return cell, self.resources

    def run_part(self, part, index: int, is_hidden: bool):
        """Run one part of a cell with hidden tests (a copy of the cell with that part's code)."""
        self._in_hidden_tests = is_hidden
        try:
            return self.execute_cell(part, index, store_history=True)
        finally:
            self._in_hidden_tests = False

    def _update_display_id(self, display_id, msg):
        """nbclient lets a display update rewrite every earlier output with that id, in any cell:
        while hidden tests run, none may (they would carry hidden inputs into shown outputs)."""
        if not self._in_hidden_tests:
            super()._update_display_id(display_id, msg)


class RunWithoutHiddenTests(SandboxedExecute):
    """The step of ``generate_feedback`` before :class:`HideHiddenTests`: what feedback shows of a
    notebook with hidden tests comes from a run of its own, in the sandbox, without them.

    In the graded run the student's code ran in one kernel with the hidden tests, so it could keep
    what they passed it (a global; the test's expected values through ``sys._getframe``) and print
    it in a later cell.  This run starts from a copy of the notebook's folder without hidden-test
    code or outputs (:func:`autograder.hidden.copy_without_hidden_tests`), runs every cell as
    grading did (``NBGRADER_EXECUTION`` set, cells with hidden tests in parts), and puts in place of
    each hidden part what that part gave in the graded run, which :class:`HideHiddenTests` then
    replaces by its summary.  No hidden code runs, so no output can hold what hidden tests know.
    Scores are the gradebook's, from the graded run.

    If the run fails (nbclient gives up on the kernel, say), feedback shows only the hidden tests'
    summaries, with a note saying why.  Only the instructor's test cells count as cells with hidden
    tests (:func:`autograder.hidden.test_parts`).
    """

    def preprocess(self, nb, resources, *args, **kwargs):
        import tempfile
        from pathlib import Path

        from nbgrader.utils import setenv

        from autograder import sandbox

        if kwargs.get("retries") is not None:  # (nbgrader's Execute tries again by calling preprocess)
            self._graded_parts = {i: list(parts) for i, parts in self._segments.items()}
            return super().preprocess(nb, resources, *args, **kwargs)
        tested = [i for i, c in enumerate(nb.cells) if hidden.test_parts(c) is not None]
        if not tested:
            return nb, resources
        self._segments = segments = {i: hidden.segments(nb.cells[i]) for i in tested}
        self._graded_parts = {i: list(parts) for i, parts in segments.items()}  # (run_part takes them in turn)
        for cell in nb.cells:  # nothing of the graded run stays, not even a prompt's number
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        if not resources.get("metadata", {}).get("path"):
            raise ValueError("RunWithoutHiddenTests needs the notebook's folder (resources['metadata']['path'])")
        folder = Path(resources["metadata"]["path"])
        try:
            with tempfile.TemporaryDirectory(prefix="course-feedback-") as tmp:
                run = Path(tmp) / (folder.resolve().name or "notebook")
                hidden.copy_without_hidden_tests(folder, run)
                mine = {**resources, "metadata": {**resources.get("metadata", {}), "path": str(run)}}
                with setenv(NBGRADER_EXECUTION="autograde"):
                    nb, _ = super().preprocess(nb, mine, *args, **kwargs)
        except sandbox.SandboxError:
            raise
        except Exception as err:  # noqa: BLE001 (the scores stand; feedback shows less)
            self.log.warning("%s: the run without hidden tests failed (%s: %s); feedback shows only the hidden "
                             "tests' summaries", folder, type(err).__name__, err)
            self._without_a_run(nb, segments, f"{type(err).__name__}: {str(err)[:300]}")
        return nb, resources

    def run_part(self, part, index: int, is_hidden: bool):
        """A hidden part does not run: it stands for what it gave in the graded run."""
        if not is_hidden:
            return super().run_part(part, index, is_hidden)
        done = self._graded_parts.get(index, [])
        part.outputs, part.execution_count = (done.pop(0) if done else []), None
        return part

    def _without_a_run(self, nb, segments: dict, why: str) -> None:
        """Feedback's outputs when the run failed: the hidden parts' outputs (for their summary) and a note,
        nothing else (a graded output, even one shown before the hidden tests ran, may have been rewritten
        after them by a display update)."""
        from nbformat.v4 import new_output

        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell.outputs, cell.execution_count = [], None
            if index in segments:
                parts = list(segments[index])
                hidden.run_in_parts(cell, lambda part, is_hidden: self._stand_in(part, parts, is_hidden))
            if index == min(segments):
                cell.outputs.append(new_output("stream", name="stdout", text=(
                    f"Your notebook did not run again without the hidden tests ({why}), so this feedback shows "
                    f"no outputs but the hidden tests' summaries. Your scores are those of the graded run.\n")))

    @staticmethod
    def _stand_in(part, parts: list, is_hidden: bool):
        part.outputs, part.execution_count = (parts.pop(0) if parts else []) if is_hidden else [], None
        return part
