"""The student's view in a real browser: JupyterLab driven by Playwright in Debian's Chromium.

One JupyterLab server (on a temporary copy of ``release/`` and ``source/``), one headless Chromium
and one page of it serve the whole module: JupyterLab loads once, and each test opens its notebook
with *File > Open from Path...* and closes it with *File > Close and Shut Down Notebook* (a load of
the page takes about 4 s and 6 core-seconds; opening and closing a notebook about half that).
For every notebook found on disk at collection time:

* student notebooks (``release/*/*.ipynb``): *Run > Run All Cells* in the lab UI; the first
  error, if any, must be the ``NotImplementedError`` of an unsolved exercise stub (JupyterLab
  stops a run-all at the first error);
* instructor notebooks (``source/*/*.ipynb``): *Run All Cells*; no error output at all and every
  code cell executed;
* wherever a notebook displays ipywidgets, the widgets render (sliders, buttons) and moving a
  slider with the keyboard redraws the widget's plot;
* nbgrader's **Validate** toolbar button reports success on a solved student notebook and
  failures on an unsolved one.

What the kernel produced is read back from the notebook file the lab UI saves (so windowed
rendering can never hide a cell), and what the student sees is checked in the DOM.
Screenshots go to ``artifacts/screenshots/``: each notebook after its run (the whole notebook),
each slider widget before and after the slider moved, and the Validate dialogs.

Needs Debian's Chromium (``apt-get install chromium chromium-driver``) and Playwright for Python
(``pip install playwright``; its browser download is never used).  Under pytest-xdist run with
``--dist loadgroup`` so that one worker holds the single server and browser.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest
from tests.helpers import REPO
from tests.deploy.lab_ui import close_notebook, menu, open_path, save
from tests.servers import alive, free_port, note_children

SHOTS = REPO / "artifacts" / "screenshots"
WIDTH, HEIGHT = 1440, 900
RUN_TIMEOUT = 420          # seconds for one notebook's Run All (training notebooks take ~1 min)
VALIDATE_TIMEOUT = 300     # nbgrader validate executes the whole notebook on the server
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.slow  # one lab and one browser per module (make test: --dist loadscope)


def _rel(p: Path) -> str:
    return p.relative_to(REPO).with_suffix("").as_posix()


STUDENT_NBS = sorted(REPO.glob("release/*/*.ipynb"))
INSTRUCTOR_NBS = sorted(REPO.glob("source/*/*.ipynb"))


# --------------------------------------------------------------------------- helpers

def _shot_name(nb_path: str, suffix: str = "") -> Path:
    """artifacts/screenshots/<notebook>.<release|source>[-suffix].png"""
    kind, _assignment, stem = nb_path.split("/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{stem}.{kind}{'-' + suffix if suffix else ''}.png"


def _code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def _errors(nb) -> list[tuple[int, str, str]]:
    """(code cell index, ename, evalue) of every error output, in cell order."""
    out = []
    for i, cell in enumerate(_code_cells(nb)):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append((i, o.get("ename"), o.get("evalue")))
    return out


def _widget_outputs(nb) -> int:
    return sum(1 for c in _code_cells(nb) for o in c.get("outputs", []) if WIDGET_MIME in o.get("data", {}))


class Lab:
    """A JupyterLab server on a temporary course root, and the processes it started."""

    def __init__(self, root: Path, settings: Path, runtime: Path):
        self.root, self.settings, self.runtime = root, settings, runtime
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.seen: dict[int, float] = {}      # pid -> create_time of every process seen under the server
        self.log = root.parent / "lab.log"

    def start(self) -> None:
        env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(self.settings), JUPYTER_RUNTIME_DIR=str(self.runtime),
                   JUPYTERLAB_WORKSPACES_DIR=str(self.runtime / "workspaces"),
                   KERAS_BACKEND="torch", MPLBACKEND="module://matplotlib_inline.backend_inline",
                   PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={self.port}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={self.token}",
               f"--ServerApp.root_dir={self.root}"]
        if os.getuid() == 0:
            cmd.append("--allow-root")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self.log.open("w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.seen[self.proc.pid] = psutil.Process(self.proc.pid).create_time()
        deadline = time.monotonic() + 90
        while True:
            try:
                self.api("GET", "/api/status")
                return
            except OSError:
                assert self.proc.poll() is None, f"JupyterLab exited:\n{self.log.read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"JupyterLab did not answer in 90 s:\n{self.log.read_text()[-3000:]}"
                time.sleep(0.3)

    def api(self, method: str, path: str, body=None):
        """One REST call.  A GET that meets a server error is tried again (up to 5 times): Jupyter
        Server can answer 500 while it lists kernels and one of them is being shut down; any other
        failure, or a 500 that persists, is raised with the end of the server's log."""
        for attempt in range(5):
            req = urllib.request.Request(self.base + path, method=method,
                                         headers={"Authorization": f"token {self.token}"},
                                         data=None if body is None else json.dumps(body).encode())
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    data = r.read()
                    return json.loads(data) if data else None
            except urllib.error.HTTPError as e:
                if method != "GET" or e.code < 500 or attempt == 4:
                    raise AssertionError(f"{method} {path} -> HTTP {e.code}; JupyterLab's log ends:\n"
                                         f"{self.log.read_text()[-3000:]}") from e
                time.sleep(0.5)

    def note_children(self) -> None:
        """Remember every process currently under the server (kernels, validate's kernels)."""
        note_children(self.proc.pid, self.seen)

    def shutdown_kernels(self) -> None:
        self.note_children()
        for s in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{s['id']}")
        for k in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{k['id']}")

    def url(self, path: str, workspace: str) -> str:
        return f"{self.base}/lab/workspaces/{workspace}/tree/{path}?token={self.token}"

    def stop(self) -> list[int]:
        """Stop the server and kill everything it started; return the pids still alive afterwards."""
        self.note_children()
        if self.proc.poll() is None:
            try:
                self.shutdown_kernels()
            except (OSError, AssertionError):     # the server is going away anyway
                pass
            self.note_children()
            self.proc.send_signal(signal.SIGTERM)      # Jupyter shuts its kernels down on SIGTERM
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        leftover = alive(self.seen)
        if leftover:
            print(f"killing processes left after JupyterLab's shutdown: {leftover}")
        for pid in leftover:
            try:
                psutil.Process(pid).kill()
            except psutil.NoSuchProcess:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(self.seen) and time.monotonic() < deadline:
            time.sleep(0.2)
        return alive(self.seen)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    root = base / "course"
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    shutil.copytree(REPO / "release", root / "release", ignore=ignore)
    shutil.copytree(REPO / "source", root / "source", ignore=ignore)
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    settings = base / "lab-settings"
    # Every cell in the DOM (no windowing) so that a screenshot shows the whole notebook;
    # no news or update checks (no internet here).
    for ext, name, value in [("notebook-extension", "tracker", {"windowingMode": "none"}),
                             ("apputils-extension", "notification",
                              {"fetchNews": "false", "checkForUpdates": False})]:
        f = settings / "@jupyterlab" / ext / f"{name}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    runtime = base / "runtime"
    runtime.mkdir()
    server = Lab(root, settings, runtime)
    server.start()
    try:
        yield server
    finally:
        survivors = server.stop()
        assert len(server.seen) > 1, "no kernel process was ever seen under the server"
        assert not survivors, f"processes started by JupyterLab survived the teardown: {survivors}"


class Tab:
    """The module's browser page.  After a test, the notebook it opened is closed; a page in which that
    fails (a dialog left open, a test that broke off) is dropped, and the next test gets a new one."""

    def __init__(self, browser):
        self.browser, self.ctx, self.page = browser, None, None

    def get(self):
        if self.page is None:
            self.ctx = self.browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            self.page = self.ctx.new_page()
            self.page.set_default_timeout(60_000)
        return self.page

    def clear(self) -> None:
        """Close the notebook on screen, if any, in the page's UI; drop the page if that fails."""
        if self.page is None:
            return
        try:
            if self.page.locator(".jp-Dialog").count():
                raise RuntimeError("a dialog is open")
            if self.page.locator(".jp-NotebookPanel").count():
                self.page.set_default_timeout(15_000)
                close_notebook(self.page)
                self.page.set_default_timeout(60_000)
        except Exception as e:  # playwright's errors, or the dialog
            print(f"a new browser page for the next test: {e}")
            self.drop()

    def drop(self) -> None:
        if self.ctx is not None:
            self.ctx.close()
        self.ctx = self.page = None


@pytest.fixture(scope="module")
def tab(browser):
    t = Tab(browser)
    try:
        yield t
    finally:
        t.drop()


@pytest.fixture()
def page(lab, tab):
    try:
        yield tab.get()
    finally:
        lab.note_children()
        tab.clear()
        lab.shutdown_kernels()


# --------------------------------------------------------------------------- the lab UI

def open_notebook(page, lab: Lab, path: str, workspace: str) -> None:
    """Open ``path`` (relative to the lab root) alone in the page; wait for an idle kernel.

    In a new page, JupyterLab loads with ``path`` open, in a fresh workspace; in a page that shows
    JupyterLab already, the notebook on screen, if any, is closed first (its kernel shut down), and
    ``path`` opens with File > Open from Path...."""
    if page.url.startswith(lab.base):
        if page.locator(".jp-NotebookPanel").count():
            lab.note_children()
            close_notebook(page)
        open_path(page, path)
    else:
        page.goto(lab.url(path, workspace))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
    # more room for the notebook: collapse the file browser
    current = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if current.count():
        current.first.click()
    # the kernel is started, connected to this page and idle (before that, Run All runs nothing)
    deadline = time.monotonic() + 90
    while not any(k["connections"] > 0 and k["execution_state"] == "idle" for k in lab.api("GET", "/api/kernels")):
        assert time.monotonic() < deadline, f"no kernel connected for {path} in 90 s: {lab.api('GET', '/api/kernels')}"
        time.sleep(0.3)
    page.wait_for_function(
        "() => document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle'"
        " && /\\|\\s*Idle/.test(document.body.innerText)", timeout=90_000)
    page.wait_for_timeout(500)


def run_all(page, timeout: float = RUN_TIMEOUT) -> float:
    """Run > Run All Cells; return when no cell is queued or running and the kernel is idle."""
    t0 = time.monotonic()
    menu(page, "Run", "runmenu:run-all")
    stable = 0
    started = False
    while True:
        state = page.evaluate("""() => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
                .map(e => e.textContent);
            return {prompts, status: document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status};
        }""")
        running = any("*" in p for p in state["prompts"])
        ran = any(re.search(r"\[\d+\]", p) for p in state["prompts"])
        started = started or running or ran
        if not started and time.monotonic() - t0 > 30:
            page.screenshot(path=str(SHOTS / "run-all-started-nothing.png"))
            raise AssertionError(f"Run All started nothing in 30 s: {state}")
        stable = stable + 1 if (ran and not running and state["status"] == "idle") else 0
        if stable >= 3:  # over half a second: Run All queues every cell at once ([*]), so none is left
            return time.monotonic() - t0
        assert time.monotonic() - t0 < timeout, f"Run All did not finish in {timeout} s: prompts {state}"
        time.sleep(0.25)


def screenshot_notebook(page, file: Path) -> None:
    """The whole notebook: make the window as tall as the notebook, then a full-page shot."""
    height = page.evaluate("""() => {
        const outer = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')
                   || document.querySelector('.jp-NotebookPanel .jp-Notebook');
        return outer ? outer.scrollHeight : 0;
    }""")
    resize(page, int(min(max(HEIGHT, height + 200), 16000)))
    page.screenshot(path=str(file), full_page=True)
    resize(page, HEIGHT)


# The height of the notebook on screen (a JavaScript expression)
_PANEL_HEIGHT = "document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')?.getBoundingClientRect().height"
# That height, frame by frame, until it has changed and then kept its new value for two frames (JupyterLab
# lays its panels out in an animation frame after the window's resize); two seconds at most.
_LAID_OUT = """async before => {
    const height = () => PANEL_HEIGHT;
    const frame = () => new Promise(done => requestAnimationFrame(() => done()));
    let last = height(), stable = 0;
    for (let i = 0; i < 120 && stable < 2; i++) {
        await frame();
        const now = height();
        stable = now === last && now !== before ? stable + 1 : 0;
        last = now;
    }
    return last !== before;
}""".replace("PANEL_HEIGHT", _PANEL_HEIGHT)


def resize(page, height: int) -> None:
    """Make the window ``height`` pixels tall (WIDTH wide); return once JupyterLab has laid the notebook out."""
    if page.viewport_size == {"width": WIDTH, "height": height}:
        return
    before = page.evaluate(f"() => {_PANEL_HEIGHT}")
    page.set_viewport_size({"width": WIDTH, "height": height})
    assert page.evaluate(_LAID_OUT, before), f"the notebook was not laid out again for a window {height} px tall"


def wait_for_widgets(page, nb, nb_path: str) -> int:
    """Wait (up to 30 s) until every widget output of the saved notebook is rendered; return how many."""
    expected = _widget_outputs(nb)
    if expected:
        try:
            page.wait_for_function(
                "n => document.querySelectorAll('.jp-OutputArea-output:has(.jupyter-widgets)').length >= n",
                arg=expected, timeout=30_000)
        except Exception as e:  # playwright's TimeoutError
            shown = page.locator(".jp-OutputArea-output:has(.jupyter-widgets)").count()
            raise AssertionError(f"{nb_path}: {expected} widget outputs in the notebook, {shown} rendered in "
                                 "the page after 30 s") from e
    return expected


def check_widgets(page, nb, nb_path: str) -> None:
    """Every widget output rendered; every widget with a slider and a plot redraws when the slider moves."""
    if not wait_for_widgets(page, nb, nb_path):
        return
    body = page.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in body and "Error rendering" not in body, body[-2000:]
    sliders = page.locator(".jp-OutputArea-output .widget-slider")
    assert sliders.count() > 0, f"{nb_path}: widgets but no slider rendered"
    interactive = page.locator(".jp-OutputArea-output:has(.widget-slider):has(img)")
    assert interactive.count() > 0, f"{nb_path}: no widget with both a slider and a plot"
    problems = []
    for i in range(interactive.count()):
        try:
            _move_slider_and_compare(page, interactive.nth(i), nb_path, i + 1)
        except AssertionError as e:
            problems.append(str(e))
    assert not problems, "\n".join(problems)


def _move_slider_and_compare(page, out, nb_path: str, n: int) -> None:
    out.scroll_into_view_if_needed()
    img = out.locator("img").first
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle(), timeout=30_000)
    src_before, png_before = img.get_attribute("src"), img.screenshot()
    out.screenshot(path=str(_shot_name(nb_path, f"widget{n}-before")))
    visible = out.locator(".widget-slider:visible")
    assert visible.count() > 0, (
        f"{nb_path}: widget {n}: none of its {out.locator('.widget-slider').count()} sliders is visible "
        "(all display: none) -- the student cannot move anything")
    assert out.locator(".jupyter-button:visible, .widget-dropdown:visible, .widget-slider:visible").count() > 0
    slider = visible.first
    readout = slider.locator(".widget-readout")
    value_before = readout.inner_text() if readout.count() else None
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
    if readout.count() and readout.inner_text() == value_before:   # slider was at its maximum
        for _ in range(6):
            page.keyboard.press("ArrowLeft")
            page.wait_for_timeout(150)
    value_after = readout.inner_text() if readout.count() else None
    assert value_after != value_before, f"{nb_path}: widget {n}: the slider did not move ({value_before})"
    try:
        page.wait_for_function("([el, src]) => el.src !== src && el.complete && el.naturalWidth > 0",
                               arg=[img.element_handle(), src_before], timeout=60_000)
    except Exception as e:  # playwright's TimeoutError
        raise AssertionError(f"{nb_path}: widget {n}: no new plot within 60 s of the slider move") from e
    page.wait_for_timeout(1000)                     # let the last keystroke's frame arrive
    png_after = img.screenshot()
    out.screenshot(path=str(_shot_name(nb_path, f"widget{n}-after")))
    assert png_after != png_before, f"{nb_path}: widget {n}: the plot did not change when the slider moved"
    print(f"{nb_path}: widget {n}: slider {value_before} -> {value_after}, plot redrawn")


# --------------------------------------------------------------------------- tests

@pytest.mark.parametrize("nb_file", STUDENT_NBS, ids=_rel)
def test_student_notebook_runs_in_the_lab(page, lab, nb_file):
    """A student's Run All: nothing fails but the unsolved stubs (NotImplementedError)."""
    path = nb_file.relative_to(REPO).as_posix()
    open_notebook(page, lab, path, "student-" + nb_file.stem)
    took = run_all(page)
    nb = save(page, lab.root / path, SHOTS)
    wait_for_widgets(page, nb, path[:-6])  # the screenshot shows them drawn
    screenshot_notebook(page, _shot_name(path[:-6]))
    errors = _errors(nb)
    stubs = sum("raise NotImplementedError()" in c.source for c in _code_cells(nb))
    print(f"{path}: run all {took:.1f} s, errors {errors[:1]}, {stubs} stub cells")
    if errors:
        cell, ename, evalue = errors[0]
        assert ename == "NotImplementedError", \
            f"{path}: the first error is {ename}: {evalue} (code cell {cell}), not an unsolved stub"
        traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(
            line for o in _code_cells(nb)[cell].outputs if o.get("output_type") == "error"
            for line in o.get("traceback", [])))
        assert "raise NotImplementedError()" in traceback, \
            f"{path}: the NotImplementedError does not come from an unsolved stub:\n{traceback[-2000:]}"
        # ... and the student sees it in the page
        shown = page.locator(".jp-OutputArea-output", has_text="Traceback (most recent call last)")
        assert shown.count() == 1 and "NotImplementedError" in shown.first.inner_text(), \
            f"{path}: the page shows {shown.count()} tracebacks"
        executed = [c.get("execution_count") for c in _code_cells(nb)[:cell + 1]]
        assert all(executed), f"{path}: cells before the first error did not all run: {executed}"
    else:
        assert stubs == 0, f"{path}: {stubs} unsolved stubs but no NotImplementedError"
        assert all(c.get("execution_count") for c in _code_cells(nb))
        check_widgets(page, nb, path[:-6])


@pytest.mark.parametrize("nb_file", INSTRUCTOR_NBS, ids=_rel)
def test_instructor_notebook_runs_in_the_lab(page, lab, nb_file):
    """The solutions: Run All, no error, every code cell executed; widgets respond to sliders."""
    path = nb_file.relative_to(REPO).as_posix()
    open_notebook(page, lab, path, "instructor-" + nb_file.stem)
    took = run_all(page)
    nb = save(page, lab.root / path, SHOTS)
    wait_for_widgets(page, nb, path[:-6])  # the screenshot shows them drawn
    screenshot_notebook(page, _shot_name(path[:-6]))
    print(f"{path}: run all {took:.1f} s")
    assert not _errors(nb), f"{path}: errors {_errors(nb)}"
    not_run = [i for i, c in enumerate(_code_cells(nb)) if not c.get("execution_count")]
    assert not not_run, f"{path}: code cells not executed: {not_run}"
    shown = page.locator(".jp-OutputArea-output", has_text="Traceback (most recent call last)")
    assert shown.count() == 0, f"{path}: the page shows a traceback: {shown.first.inner_text()[:2000]}"
    check_widgets(page, nb, path[:-6])


def _validate_target() -> tuple[str, str]:
    """(assignment, notebook) to validate: a graded notebook, the cheapest (no Keras) if any."""
    from autograder.cells import solution_code
    from autograder.course_root import assignments, notebooks, source_notebook

    graded = [(a, n) for a in assignments() for n in notebooks(a) if solution_code(source_notebook(a, n))]
    assert graded, "no graded notebook (with solution cells) in source/"
    imports_keras = re.compile(r"^\s*(import|from)\s+keras\b", re.MULTILINE)
    light = [(a, n) for a, n in graded
             if not any(imports_keras.search(c.source) for c in source_notebook(a, n).cells if c.cell_type == "code")]
    return (light or graded)[0]


def _click_validate(page, timeout: float = VALIDATE_TIMEOUT):
    button = page.locator(".jp-NotebookPanel-toolbar .validate-button")
    assert button.count() == 1, "no Validate button in the notebook toolbar (nbgrader's lab extension)"
    assert "Validate" in button.inner_text()
    button.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=timeout * 1000)
    dialog.locator(".validation-success, .validation-failed, .validation-changed, .validation-type-changed,"
                   " .validation-passed").first.wait_for(timeout=timeout * 1000)
    return dialog


def test_validate_button(page, lab):
    """nbgrader's Validate: success on a solved student notebook, failures on an unsolved one."""
    from autograder.cells import fill_in, solution_code
    from autograder.course_root import source_notebook

    assignment, name = _validate_target()
    student = nbformat.read(REPO / "release" / assignment / f"{name}.ipynb", as_version=4)
    solved = fill_in(student, solution_code(source_notebook(assignment, name)))
    target = lab.root / "solved" / assignment / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(solved, target)

    open_notebook(page, lab, f"solved/{assignment}/{name}.ipynb", "validate-solved")
    t0 = time.monotonic()
    dialog = _click_validate(page)
    took = time.monotonic() - t0
    text = dialog.inner_text()
    page.screenshot(path=str(SHOTS / f"{name}.validate-solved.png"))
    assert dialog.locator(".validation-success").count() == 1, text[:3000]
    assert "Success! Your notebook passes all the tests." in text
    dialog.locator(".jp-Dialog-button").last.click()
    print(f"Validate on solved {assignment}/{name}: success in {took:.1f} s")

    open_notebook(page, lab, f"release/{assignment}/{name}.ipynb", "validate-unsolved")
    dialog = _click_validate(page)
    text = dialog.inner_text()
    page.screenshot(path=str(SHOTS / f"{name}.validate-unsolved.png"))
    assert dialog.locator(".validation-failed").count() == 1, text[:3000]
    assert "The following cell failed" in text and "NotImplementedError" in text, text[:3000]
    assert "Success!" not in text
    dialog.locator(".jp-Dialog-button").last.click()
