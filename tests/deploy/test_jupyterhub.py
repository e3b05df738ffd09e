"""The course on a shared JupyterHub with nbgrader's exchange (deploy/jupyterhub/).

A real JupyterHub on localhost, run with ``deploy/jupyterhub/jupyterhub_config.py`` and its
configurable-http-proxy (from the npm registry, installed into the gitignored ``.cache/``),
two users (an instructor and a student; DummyAuthenticator with a password, and the
SimpleLocalProcessSpawner with per-user home folders under a temporary folder, since the test
has no system users; each server's OS user is called 'jovyan', as in the Docker images, so that
nbgrader takes the hub's user name), an exchange folder and a read-only copy of the staged data.
Needs root (a mount namespace per server).

Through the hub's proxy, with each user's own API token (made after a password login):

1. the instructor's single-user server: the formgrader API generates and releases an assignment
   (``/formgrader/api/assignment/<a>/assign`` and ``/release``, nbgrader's own buttons);
2. the student's server: the Assignments API lists, fetches and submits it
   (``/assignments?course_id=``, ``/assignments/fetch``, ``/assignments/submit``);
   nbgrader there names the submission after the student (see JOVYAN below) and the student's
   server has no formgrader;
3. the instructor's formgrader collects (``/collect``); the submission is in the instructor's
   ``submitted/student/<a>/``, and ``nbgrader collect`` in the instructor's course root agrees.

Needs Node.js and npm for the proxy (``apt-get install nodejs npm`` if missing).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from tests.deploy.lab_ui import menu, open_path, save
from tests.helpers import REPO
from tests.servers import alive, free_port, note_children

DEPLOY = REPO / "deploy" / "jupyterhub"
CHP_DIR = REPO / ".cache" / "configurable-http-proxy"      # gitignored
CHP_VERSION = "5.3.0"
COURSE = "intro-dl"
INSTRUCTOR, STUDENT = "instructor", "student"
# nbgrader 0.9.6 names a submission after the OS user of the process (pwd.getpwuid(os.getuid())),
# not after $USER, except for the OS user 'jovyan' (the Docker/Kubernetes images), where it takes
# $JUPYTERHUB_USER.  With the SimpleLocalProcessSpawner every server runs as the hub's user (root
# here), so every student would submit as 'root'.  The test therefore starts each server, as
# DockerSpawner/KubeSpawner images do, as 'jovyan': in a private mount namespace whose /etc/passwd
# names the server's uid 'jovyan' (this machine has no other usable user: the course's Python lives
# under /root, mode 700, so an unprivileged uid could not even start it).
JOVYAN = 41000        # an unprivileged uid, only to prove that users cannot write the staged data

pytestmark = pytest.mark.slow
import requests  # noqa: E402  (a dependency of jupyterhub itself)


def _proxy_command() -> str:
    exe = CHP_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
    if not exe.exists():
        npm = shutil.which("npm")
        assert npm, "configurable-http-proxy needs Node.js and npm: apt-get install nodejs npm"
        CHP_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-fund", "--no-audit", "--prefix", str(CHP_DIR),
                        f"configurable-http-proxy@{CHP_VERSION}"], check=True, timeout=600,
                       capture_output=True)
    assert exe.exists(), f"npm did not install {exe}"
    return str(exe)


def _assignment() -> str:
    """The cheapest graded assignment to move through the exchange (no Keras if possible)."""
    from autograder.course_root import assignments
    names = assignments()
    assert names, "no assignment in source/"
    return "week1_forward_pass" if "week1_forward_pass" in names else names[0]


class Hub:
    def __init__(self, tmp: Path, grader: str = ""):
        self.tmp = tmp
        self.grader = grader  # COURSE_GRADER: the instructor whose course root grades on submission
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_urlsafe(12)
        self.homes = tmp / "home"
        self.exchange = tmp / "exchange"
        self.data = tmp / "data"
        self.state = tmp / "hub"
        self.log = tmp / "jupyterhub.log"
        self.proc: subprocess.Popen | None = None
        self.seen: dict[int, float] = {}

    def as_jovyan(self) -> list[str]:
        """A command prefix: the process's OS user name is 'jovyan' (own /etc/passwd, mount namespace)."""
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /etc/passwd && exec "$@"', str(self.passwd)]

    def write_test_config(self) -> Path:
        """deploy/jupyterhub/jupyterhub_config.py as is, plus: each server's OS user is 'jovyan'."""
        self.passwd = self.tmp / "passwd"
        uid = os.getuid()
        self.passwd.write_text(f"jovyan:x:{uid}:{os.getgid()}:jovyan:/home/jovyan:/bin/bash\n"
                               + Path("/etc/passwd").read_text())
        self.passwd.chmod(0o644)
        cmd = self.as_jovyan() + [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
        cfg = self.state / "test_jupyterhub_config.py"
        cfg.write_text(f"c = get_config()\nload_subconfig({str(DEPLOY / 'jupyterhub_config.py')!r})\n"
                       f"c.Spawner.cmd = {cmd!r}\n")
        return cfg

    def start(self, proxy: str) -> None:
        env = dict(os.environ,
                   PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
                   COURSE_INSTRUCTORS=INSTRUCTOR, COURSE_STUDENTS=STUDENT, NBGRADER_COURSE_ID=COURSE,
                   NBGRADER_EXCHANGE=str(self.exchange), COURSE_DATA_DIR=str(self.data), COURSE_OFFLINE="1",
                   COURSE_HUB_AUTH="dummy", COURSE_HUB_PASSWORD=self.password, COURSE_HUB_SPAWNER="simple",
                   COURSE_HUB_HOMES=str(self.homes), COURSE_HUB_STATE=str(self.state),
                   COURSE_HUB_IP="127.0.0.1", COURSE_HUB_PORT=str(self.port), COURSE_HUB_PROXY=proxy,
                   COURSE_GRADER=self.grader)
        for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_CONFIG_PATH", "JUPYTERHUB_API_TOKEN", "USER", "LOGNAME"):
            env.pop(k, None)
        self.state.mkdir(parents=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(self.write_test_config()),
             "--JupyterHub.hub_port=%d" % free_port(), "--ConfigurableHTTPProxy.api_url=http://127.0.0.1:%d"
             % free_port()],
            cwd=self.state, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        self.seen[self.proc.pid] = psutil.Process(self.proc.pid).create_time()
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{self.base}/hub/api/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert self.proc.poll() is None, f"JupyterHub exited:\n{self.log.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"JupyterHub did not answer in 90 s:\n{self.log.read_text()[-4000:]}"
            time.sleep(0.5)
        self.note_children()

    def note_children(self) -> None:
        note_children(self.proc.pid, self.seen)

    def alive(self) -> list[int]:
        return alive(self.seen)

    def stop(self) -> list[int]:
        self.note_children()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)        # cleanup_servers: the hub stops the servers and proxy
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        deadline = time.monotonic() + 15
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.3)
        left = self.alive()
        for pid in left:
            try:
                psutil.Process(pid).kill()
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.5)
        return left

    def login(self, name: str) -> str:
        """Log in with the password (the hub's login form), then make an API token for ``name``."""
        s = requests.Session()
        r = s.get(f"{self.base}/hub/login", timeout=30)
        r.raise_for_status()
        xsrf = s.cookies.get("_xsrf")
        r = s.post(f"{self.base}/hub/login?next=", data={"username": name, "password": "wrong", "_xsrf": xsrf},
                   allow_redirects=False, timeout=30)
        assert r.status_code in (200, 403) and "jupyterhub-session-id" not in r.cookies, \
            f"login with a wrong password was accepted: {r.status_code}"
        r = s.post(f"{self.base}/hub/login?next=", data={"username": name, "password": self.password, "_xsrf": xsrf},
                   allow_redirects=False, timeout=30)
        assert r.status_code == 302, f"login of {name} failed: {r.status_code} {r.text[:500]}"
        r = s.post(f"{self.base}/hub/api/users/{name}/tokens", json={"note": "test", "expires_in": 3600},
                   headers={"X-XSRFToken": s.cookies.get("_xsrf") or xsrf}, timeout=30)
        assert r.status_code in (200, 201), f"token for {name}: {r.status_code} {r.text[:500]}"
        return r.json()["token"]

    def spawn(self, name: str, token: str) -> None:
        h = {"Authorization": f"token {token}"}
        r = requests.post(f"{self.base}/hub/api/users/{name}/server", headers=h, timeout=60)
        assert r.status_code in (201, 202), f"spawn {name}: {r.status_code} {r.text[:500]}"
        deadline = time.monotonic() + 180
        while True:
            user = requests.get(f"{self.base}/hub/api/users/{name}", headers=h, timeout=30).json()
            server = user.get("servers", {}).get("", {})
            if server.get("ready"):
                break
            assert time.monotonic() < deadline, f"{name}'s server not ready in 180 s:\n{self.log.read_text()[-4000:]}"
            time.sleep(0.5)
        self.note_children()

    def user_api(self, name: str, token: str, method: str, path: str, **kw):
        r = requests.request(method, f"{self.base}/user/{name}/{path.lstrip('/')}",
                             headers={"Authorization": f"token {token}"}, timeout=300, **kw)
        return r


def _server_env(hub: Hub, name: str) -> dict[str, str]:
    """The environment of ``name``'s single-user server process (a child of the hub)."""
    for p in psutil.Process(hub.proc.pid).children(recursive=True):
        try:
            env = p.environ()
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            continue
        if env.get("JUPYTERHUB_USER") == name and "singleuser" in " ".join(p.cmdline()):
            return env
    raise AssertionError(f"no single-user server process for {name}")


@pytest.fixture()
def hub():
    yield from _hub()


@pytest.fixture()
def hub_grading():
    """The hub with the course-feedback service: the instructor's course root grades week 1a on submission."""
    yield from _hub(grader=INSTRUCTOR)


def _hub(grader: str = ""):
    if os.getuid() != 0:
        pytest.fail("this test gives each single-user server its own /etc/passwd (a mount namespace): run it as root")
    for tool in ("unshare", "setpriv", "mount"):
        assert shutil.which(tool), f"{tool} is missing: apt-get install util-linux mount"
    # not under pytest's tmp_path (mode 700): the users' servers must reach their homes
    base = Path(tempfile.mkdtemp(prefix="intro-dl-hub-"))
    base.chmod(0o755)
    h = Hub(base, grader)
    # the staged data, read-only for the users
    src = Path(os.environ.get("COURSE_DATA_DIR", REPO.parent / "shared" / "data"))
    assert src.is_dir(), f"COURSE_DATA_DIR {src} is not a folder: stage the data first"
    shutil.copytree(src, h.data)
    for f in h.data.rglob("*"):
        f.chmod(0o444 if f.is_file() else 0o555)
    h.data.chmod(0o555)
    # home folders; the instructor's holds the course root: a clone of the course repository
    root = h.homes / INSTRUCTOR / "intro-dl-course"
    root.mkdir(parents=True)
    (h.homes / STUDENT).mkdir(parents=True)
    h.homes.chmod(0o755)
    shutil.copy2(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    a = _assignment()
    if grader:
        with open(root / "nbgrader_config.py", "a") as f:
            f.write(f"\nc.FeedbackService.assignments = [{a!r}]\nc.FeedbackService.interval = 1.0\n")
    shutil.copytree(REPO / "source" / a, root / "source" / a,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    try:
        h.start(_proxy_command())
        yield h
    finally:
        left = h.stop() if h.proc else []
        h.data.chmod(0o755)
        seen = dict(h.seen)
        if h.log.exists():                      # kept for a look after the run (artifacts/ is gitignored)
            (REPO / "artifacts").mkdir(exist_ok=True)
            shutil.copy2(h.log, REPO / "artifacts" / "jupyterhub.log")
        shutil.rmtree(base, ignore_errors=True)
        assert len(seen) >= 4, f"expected hub, proxy and two servers among the processes: {seen}"
        assert not left, f"processes survived the hub's shutdown: {left}"


def test_release_fetch_submit_collect_through_the_hub(hub):
    assignment = _assignment()
    t0 = time.monotonic()
    tokens = {name: hub.login(name) for name in (INSTRUCTOR, STUDENT)}
    for name, tok in tokens.items():
        hub.spawn(name, tok)
    print(f"hub up, both servers spawned: {time.monotonic() - t0:.1f} s")

    # a user's token does not open another user's server
    r = hub.user_api(INSTRUCTOR, tokens[STUDENT], "GET", "api/status", allow_redirects=False)
    assert r.status_code in (302, 403, 404), f"the student reached the instructor's server: {r.status_code}"

    # the servers' environments: who they are, the course, the exchange, the read-only data
    for name in (INSTRUCTOR, STUDENT):
        env = _server_env(hub, name)
        assert env["USER"] == name and env["HOME"] == str(hub.homes / name)
        assert env["NBGRADER_COURSE_ID"] == COURSE and env["NBGRADER_EXCHANGE"] == str(hub.exchange)
        assert env["COURSE_DATA_DIR"] == str(hub.data) and env["KERAS_BACKEND"] == "torch"
    assert _server_env(hub, INSTRUCTOR)["NBGRADER_COURSE_ROOT"] == str(hub.homes / INSTRUCTOR / "intro-dl-course")
    assert "NBGRADER_COURSE_ROOT" not in _server_env(hub, STUDENT)
    assert stat.S_IMODE(hub.data.stat().st_mode) == 0o555
    probe = subprocess.run(["setpriv", f"--reuid={JOVYAN}", f"--regid={JOVYAN}", "--clear-groups",
                            "touch", str(hub.data / "written-by-a-user")],
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode != 0 and not (hub.data / "written-by-a-user").exists(), "a user can write the data"
    files = [p.name for p in hub.data.iterdir()]
    assert files, "the staged data folder is empty"

    # roles: the formgrader is the instructor's, not the student's
    r = hub.user_api(INSTRUCTOR, tokens[INSTRUCTOR], "GET", "formgrader/api/assignments")
    assert r.status_code == 200, f"instructor's formgrader: {r.status_code} {r.text[:500]}"
    r = hub.user_api(STUDENT, tokens[STUDENT], "GET", "formgrader/api/assignments")
    assert r.status_code == 404, f"the student has a formgrader: {r.status_code}"
    # JupyterLab's page config: nbgrader's lab extension is there for both (Assignments tab,
    # Validate); the formgrader, Create Assignment and course list are disabled for the student
    for name in (INSTRUCTOR, STUDENT):
        html = hub.user_api(name, tokens[name], "GET", "lab").text
        m = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
        assert m, f"{name}: no JupyterLab page config in /lab:\n{html[:1000]}"
        page_config = json.loads(m.group(1))
        federated = [e["name"] for e in page_config.get("federated_extensions", [])]
        assert "@jupyter/nbgrader" in federated, federated
        disabled = page_config.get("disabledExtensions", [])
        disabled = list(disabled) if not isinstance(disabled, dict) else [k for k, v in disabled.items() if v]
        if name == STUDENT:
            assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= set(disabled), disabled
        else:
            assert not [d for d in disabled if d.startswith("@jupyter/nbgrader")], disabled

    # 1. instructor: generate and release (the formgrader's buttons)
    r = hub.user_api(INSTRUCTOR, tokens[INSTRUCTOR], "POST", f"formgrader/api/assignment/{assignment}/assign")
    assert r.status_code == 200 and r.json()["success"], f"generate_assignment: {r.text[-3000:]}"
    r = hub.user_api(INSTRUCTOR, tokens[INSTRUCTOR], "POST", f"formgrader/api/assignment/{assignment}/release")
    assert r.status_code == 200 and r.json()["success"], f"release_assignment: {r.text[-3000:]}"
    outbound = hub.exchange / COURSE / "outbound" / assignment
    released = sorted(p.name for p in outbound.glob("*.ipynb"))
    assert released, f"nothing released into {outbound}"
    print(f"released {assignment}: {released}")

    # 2. student: list, fetch, submit (the Assignments tab)
    st = tokens[STUDENT]
    courses = hub.user_api(STUDENT, st, "GET", "courses").json()
    assert courses["success"] and COURSE in courses["value"], courses
    listing = hub.user_api(STUDENT, st, "GET", "assignments", params={"course_id": COURSE}).json()
    assert listing["success"], listing
    assert [(x["assignment_id"], x["status"]) for x in listing["value"]] == [(assignment, "released")], listing
    r = hub.user_api(STUDENT, st, "POST", "assignments/fetch", data={"course_id": COURSE, "assignment_id": assignment})
    assert r.status_code == 200 and r.json()["success"], r.text[-3000:]
    fetched = hub.homes / STUDENT / assignment
    assert sorted(p.name for p in fetched.glob("*.ipynb")) == released
    r = hub.user_api(STUDENT, st, "POST", "assignments/submit", data={"course_id": COURSE, "assignment_id": assignment})
    assert r.status_code == 200 and r.json()["success"], r.text[-3000:]
    statuses = {x["status"] for x in r.json()["value"] if x["assignment_id"] == assignment}
    assert "submitted" in statuses, r.json()
    inbound = [p.name for p in (hub.exchange / COURSE / "inbound").iterdir()]
    assert len(inbound) == 1 and inbound[0].startswith(f"{STUDENT}+{assignment}+"), \
        f"the exchange did not record the submission under the student's name: {inbound}"

    # 3. instructor: collect (the formgrader's button), then nbgrader's own command agrees
    r = hub.user_api(INSTRUCTOR, tokens[INSTRUCTOR], "POST", f"formgrader/api/assignment/{assignment}/collect")
    assert r.status_code == 200 and r.json()["success"], f"collect: {r.text[-3000:]}"
    course_root = hub.homes / INSTRUCTOR / "intro-dl-course"
    submitted = course_root / "submitted" / STUDENT / assignment
    assert sorted(p.name for p in submitted.glob("*.ipynb")) == released, list(submitted.parent.rglob("*"))
    assert (submitted / "timestamp.txt").exists()
    env = dict(_server_env(hub, INSTRUCTOR))
    out = subprocess.run(hub.as_jovyan() + [sys.executable, "-m", "nbgrader", "collect", assignment, "--update"],
                         cwd=course_root, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    lst = subprocess.run(hub.as_jovyan() + [sys.executable, "-m", "nbgrader", "list", "--inbound"],
                         cwd=course_root, env=env,
                         capture_output=True, text=True, timeout=300)
    assert f"{COURSE} {STUDENT} {assignment}" in (lst.stdout + lst.stderr), lst.stdout + lst.stderr
    r = hub.user_api(INSTRUCTOR, tokens[INSTRUCTOR], "GET", f"formgrader/api/submissions/{assignment}")
    assert r.status_code == 200 and any(s["student"] == STUDENT for s in r.json()), r.text[:2000]
    print(f"release -> fetch -> submit -> collect through the hub: {time.monotonic() - t0:.1f} s")


def test_feedback_on_submission_in_the_students_browser(hub_grading, browser):
    """The hub's course-feedback service, as a student lives it in Chromium: log in, Assignments tab,
    Fetch, answer the first exercise wrongly in the notebook, Submit, and once the service has graded it,
    Fetch Feedback until the feedback is there (with the visible hint); fix the answer, Submit, Fetch
    Feedback: the new score."""
    from autograder.cells import solution_code
    from autograder.course_root import code_cells, source_notebook
    from autograder.wrong_answers import cases

    hub = hub_grading
    assignment = _assignment()
    it = hub.login(INSTRUCTOR)
    hub.spawn(INSTRUCTOR, it)
    for step in ("assign", "release"):
        r = hub.user_api(INSTRUCTOR, it, "POST", f"formgrader/api/assignment/{assignment}/{step}")
        assert r.status_code == 200 and r.json()["success"], f"{step}: {r.text[-3000:]}"
    (released_file,) = (hub.exchange / COURSE / "outbound" / assignment).glob("*.ipynb")
    nb_name = released_file.stem
    source = source_notebook(assignment, nb_name)
    first = next(iter(solution_code(source)))           # the first exercise's answer cell
    released = nbformat.read(released_file, as_version=4)
    at = [c.metadata.get("nbgrader", {}).get("grade_id") for c in released.cells if c.cell_type == "code"].index(first)
    wrong = next(c for c in cases(assignment) if c.kind == "wrong" and c.hint and list(c.answers) == [first])
    points = code_cells(assignment, "grade")

    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{hub.base}/hub/login")
        page.fill("#username_input", STUDENT)
        page.fill("#password_input", hub.password)
        page.click("#login_submit")
        page.wait_for_selector(".jp-LabShell", timeout=180_000)  # the hub spawned the server: JupyterLab

        def assignments_tab() -> None:
            menu(page, "Nbgrader", "nbgrader:open-assignment-list", notebook=False)

        assignments_tab()
        page.locator("#released_assignments_list button", has_text="Fetch").click()
        page.locator("#fetched_assignments_list button", has_text="Submit").wait_for()

        def answer(code: str) -> None:
            """Type ``code`` into the first exercise's cell of the notebook (opened with File > Open from Path...
            in the JupyterLab on screen, or brought to the front if it is open), and save."""
            open_path(page, f"{assignment}/{nb_name}.ipynb")
            page.locator(".jp-Notebook .jp-CodeCell").nth(at).locator(".cm-content").click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(code)
            save(page, hub.homes / STUDENT / assignment / f"{nb_name}.ipynb", _shots())

        def submit_and_fetch_feedback(n: int) -> tuple[str, float]:
            """Submit in the Assignments tab; when the service has logged the n-th grading, Fetch Feedback
            until the n-th feedback is there."""
            assignments_tab()
            page.locator("#fetched_assignments_list button", has_text="Submit").click()
            t0 = time.monotonic()
            # as a student would: not Fetch Feedback (which reloads JupyterLab here) every moment while the
            # service grades, but once its log has a line for this submission (it writes it after releasing
            # the feedback); then as often as it takes
            while len(_service_log(hub)) < n:
                assert time.monotonic() - t0 < 240, \
                    f"the service logged no grading in 240 s:\n{hub.log.read_text()[-4000:]}"
                time.sleep(0.5)
            assert _service_log(hub)[n - 1]["status"] == "graded", _service_log(hub)
            while True:
                fetch = page.locator("#submitted_assignments_list button", has_text="Fetch Feedback")
                fetch.first.wait_for()
                fetch.first.click()
                fetched = time.monotonic()
                while time.monotonic() - fetched < 5:  # the page is in the student's folder and listed
                    pages = sorted((hub.homes / STUDENT / assignment / "feedback").glob(f"*/{nb_name}.html"))
                    if len(pages) >= n and page.locator("text=(view feedback)").count():
                        return pages[-1].read_text(), time.monotonic() - t0
                    page.wait_for_timeout(250)
                assert time.monotonic() - t0 < 240, f"no feedback in 240 s:\n{hub.log.read_text()[-4000:]}"
                page.reload()
                assignments_tab()

        import html as html_lib

        def words(html_text: str) -> str:
            return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html_text)).split())

        def score(html_text: str) -> float:
            return float(re.search(r"\(Score: ([\d.]+) / ", words(html_text)).group(1))

        answer(wrong.answers[first])
        feedback, took = submit_and_fetch_feedback(1)
        page.screenshot(path=str(_shots() / "hub-feedback-fetched.png"))
        assert " ".join(wrong.hint.split()) in words(feedback), "the visible hint is not in the feedback"
        before = score(feedback)
        answer(solution_code(source)[first])
        feedback, took2 = submit_and_fetch_feedback(2)
        after = score(feedback)
        first_cell_points = sum(points[g] for g in wrong.loses)
        assert after == before + first_cell_points, (before, after, first_cell_points)
    finally:
        ctx.close()
    log = _service_log(hub)
    assert [entry["status"] for entry in log] == ["graded", "graded"], log
    started = hub.log.read_text()
    assert "Starting managed service course-feedback" in started and "[feedback-service] watching" in started
    assert f"[feedback-service] {STUDENT} {assignment}" in started, "the service's log says what it did"
    print(f"submit -> feedback in the browser: {took:.1f} s, then {took2:.1f} s")


def _service_log(hub) -> list[dict]:
    """The feedback service's whole lines so far, one per submission it finished."""
    from autograder.feedback_service import LOG_NAME

    log = hub.homes / INSTRUCTOR / "intro-dl-course" / LOG_NAME
    return [json.loads(line) for line in log.read_text().split("\n")[:-1]] if log.exists() else []


def _shots() -> Path:
    shots = REPO / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    return shots
