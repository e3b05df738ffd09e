"""The course's nbgrader preprocessors (autograder/preprocessors.py)."""
from __future__ import annotations

import nbformat
import pytest
from traitlets.config import Config

from autograder import sandbox
from autograder.course_root import course_settings
from autograder.preprocessors import (AUTOGRADE_PREPROCESSORS, ReadyClient, RemoveAnswerNotes, SandboxedExecute,
                                      runs_sandboxed)
from autograder.sandbox import bwrap
from tests.helpers import REPO


def _run(source: str) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source), nbformat.v4.new_code_cell("x = 1")])
    out, _ = RemoveAnswerNotes().preprocess(nb, {})
    assert out.cells[1].source == "x = 1"
    return out.cells[0].source


def test_answer_notes_are_removed_and_the_questions_kept():
    text = _run("### Check yourself\n1. Why?\n\n### BEGIN ANSWER NOTES\n1. Because.\n### END ANSWER NOTES\n")
    assert text == "### Check yourself\n1. Why?"
    assert _run("no notes here") == "no notes here"


@pytest.mark.parametrize("source", ["### BEGIN ANSWER NOTES\nsecret", "### END ANSWER NOTES",
                                    "### BEGIN ANSWER NOTES\n### BEGIN ANSWER NOTES\n### END ANSWER NOTES"])
def test_unbalanced_regions_are_refused(source):
    with pytest.raises(RuntimeError, match="ANSWER NOTES"):
        _run(source)


# --- SandboxedExecute: nbgrader's Execute with every kernel in the sandbox ----------------------------------

def _execute(monkeypatch, **settings) -> SandboxedExecute:
    monkeypatch.delenv(sandbox.LIMITS_ENV, raising=False)
    return SandboxedExecute(config=Config({"SandboxedExecute": settings}))


def test_the_course_config_grades_with_nbgraders_steps_and_the_sandbox():
    """nbgrader_config.py lists nbgrader's own autograding steps, in nbgrader's order, with Execute
    replaced by SandboxedExecute (a new nbgrader step would show up here); so does the hub's global
    config, which the Formgrader reads on every request."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.config.loader import PyFileConfigLoader
    from traitlets.utils.importstring import import_item

    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    ours = [import_item(name) for name in config.Autograde.autograde_preprocessors]
    theirs = Autograde.class_traits()["autograde_preprocessors"].default()
    assert ours == [SandboxedExecute if c is Execute else c for c in theirs]
    assert "kernel_name" not in config.get("Execute", {}), "a kernel named in the config would run outside the sandbox"
    assert course_settings(REPO).sandboxed
    hub = PyFileConfigLoader("nbgrader_config.py", path=str(REPO / "deploy" / "jupyterhub")).load_config()
    assert hub.Autograde.autograde_preprocessors == config.Autograde.autograde_preprocessors


@pytest.mark.parametrize("steps, sandboxed", [
    (AUTOGRADE_PREPROCESSORS, True),
    (("nbgrader.preprocessors.Execute", *AUTOGRADE_PREPROCESSORS[1:]), False),  # nbgrader's own
    ((*AUTOGRADE_PREPROCESSORS, "nbgrader.preprocessors.Execute"), False),  # and a second run, outside
    (AUTOGRADE_PREPROCESSORS[1:], False),  # nothing runs the notebook
    (("no.such.Step", *AUTOGRADE_PREPROCESSORS), False),
])
def test_only_steps_that_run_notebooks_in_the_sandbox_count_as_sandboxed(steps, sandboxed):
    assert runs_sandboxed(steps) is sandboxed


def test_kernels_are_the_sandbox_with_the_configured_limits(monkeypatch):
    ep = _execute(monkeypatch, limits={"memory_mb": 999})
    km = ep.create_kernel_manager()
    assert km.kernel_name == sandbox.KERNEL_NAME
    assert km.kernel_spec.argv[2:4] == ["-m", "autograder.sandbox.kernel"]
    limits = sandbox.Limits.from_json(km.kernel_spec.env[sandbox.LIMITS_ENV])
    assert limits == sandbox.Limits(memory_mb=999), "the other limits keep their defaults"
    assert isinstance(km.client(), ReadyClient)
    # the batch grader's own limits (in the environment) come first
    monkeypatch.setenv(sandbox.LIMITS_ENV, sandbox.Limits(processes=7).to_json())
    km = SandboxedExecute(config=Config({"SandboxedExecute": {"limits": {"memory_mb": 999}}})).create_kernel_manager()
    assert sandbox.Limits.from_json(km.kernel_spec.env[sandbox.LIMITS_ENV]).processes == 7


@pytest.mark.parametrize("settings, words", [
    ({"limits": {"memroy_mb": 1}}, "must be fields of autograder.sandbox.Limits"),
    ({"limits": {"memory_mb": "4096"}}, "whole numbers above 0"),
    ({"kernel_name": "python3"}, "would run outside the sandbox"),
])
def test_wrong_settings_are_refused(monkeypatch, settings, words):
    with pytest.raises(sandbox.SandboxError, match=words) as err:
        _execute(monkeypatch, **settings).create_kernel_manager()
    assert "Nothing was graded" in str(err.value)


def test_without_bubblewrap_grading_refuses_and_names_the_way_out(monkeypatch):
    monkeypatch.setattr(bwrap, "bwrap_path", lambda: None)
    sandbox.probe.cache_clear()
    try:
        with pytest.raises(sandbox.SandboxError) as err:
            _execute(monkeypatch).create_kernel_manager()
    finally:
        monkeypatch.undo()
        sandbox.probe.cache_clear()
    assert "apt-get install -y bubblewrap" in str(err.value) and sandbox.OPT_OUT in str(err.value)


def test_opting_out_runs_the_notebooks_kernel(monkeypatch):
    ep = _execute(monkeypatch, sandbox=False)
    ep.nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    assert ep.create_kernel_manager().kernel_name == "python3"


@pytest.mark.slow  # starts a kernel
def test_the_ready_client_runs_cells_once_the_kernel_answers():
    """ReadyClient skips jupyter_client's 0.2 s quiet wait; the first cell's outputs are still its own."""
    import asyncio

    from jupyter_client import AsyncKernelManager

    async def run():
        km = AsyncKernelManager(kernel_name="python3", client_class="autograder.preprocessors.ReadyClient")
        await km.start_kernel()
        kc = km.client()
        try:
            kc.start_channels()
            await kc.wait_for_ready(timeout=60)
            assert kc.session.session, "connected"
            msg_id = kc.execute("print(6 * 7)")
            seen = []
            while True:
                msg = await kc.get_iopub_msg(timeout=30)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                seen.append((msg["msg_type"], msg["content"].get("text") or msg["content"].get("execution_state")))
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    return type(kc), seen
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    client, seen = asyncio.run(run())
    assert client is ReadyClient
    assert seen[0] == ("status", "busy") and ("stream", "42\n") in seen, seen
