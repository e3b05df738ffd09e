"""The sandbox for autograding kernels (the package autograder/sandbox/).

Kernels are started through the ``course-sandbox`` kernel spec that the package ships
(``sandbox.kernel_specs``), with the environment of ``sandbox.kernel_env``, exactly as
``nbgrader autograde`` starts them (``autograder.preprocessors.SandboxedExecute``).  If bubblewrap is
missing these tests fail with the message to install it; they never skip.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from autograder import sandbox
from autograder.course_root import CourseRoot, code_cells
from autograder.runner import nbgrader_env
from autograder.sandbox import bwrap
from tests.helpers import REPO, sha256
from tests.servers import alive, note_children

MB = 2**20


class Kernel:
    """A kernel started through the sandbox kernel spec, in a folder of its own."""

    def __init__(self, limits: sandbox.Limits, tmp: Path, workdir: Path | None = None, warm: str | None = None,
                 files: dict[str, str] | None = None):
        from jupyter_client.manager import KernelManager

        env = {**os.environ, **sandbox.kernel_env(limits, workdir, warm=warm)}
        self.cwd = tmp / "work"
        self.cwd.mkdir()
        (self.cwd / "given.txt").write_text("data the assignment ships")
        for rel, text in (files or {}).items():  # more files in the notebook's folder, as a submission has
            (self.cwd / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.cwd / rel).write_text(text)
        self.km = KernelManager(kernel_name=sandbox.KERNEL_NAME, kernel_spec_manager=sandbox.kernel_specs())
        self.km.start_kernel(cwd=str(self.cwd), env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60) -> tuple[str, str, dict]:
        """(status, text of the outputs, reply content)."""
        texts: list[str] = []

        def hook(msg):
            c = msg["content"]
            if msg["msg_type"] == "stream":
                texts.append(c["text"])
            elif msg["msg_type"] in ("execute_result", "display_data"):
                texts.append(c["data"].get("text/plain", ""))
            elif msg["msg_type"] == "error":
                texts.append(f"{c['ename']}: {c['evalue']}")

        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=hook)
        return reply["content"]["status"], "".join(texts), reply["content"]

    def value(self, expr: str):
        status, text, _ = self.run(f"print(repr({expr}))")
        assert status == "ok", text
        import ast

        return ast.literal_eval(text.strip())

    def close(self, now: bool = False):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=now)


# Every kernel test runs with a kernel started cold (a new Python in its sandbox) and, where
# warm kernels exist (as root), with a warm one (a fork of sandbox.WarmKernels that joined it).
MODES = ["cold", "warm"] if sandbox.warm_kernels_possible() else ["cold"]


@pytest.fixture(scope="module")
def warm_server():
    with sandbox.WarmKernels() as server:
        assert server.socket, f"the warm-kernel server did not start: {server.problem}"
        yield server


@pytest.fixture(scope="module", params=MODES)
def kernel(request, tmp_path_factory):
    if not sandbox.available():
        pytest.fail(f"the sandbox cannot run here: {sandbox.probe()}")
    warm = request.getfixturevalue("warm_server").socket if request.param == "warm" else None
    k = Kernel(sandbox.Limits(), tmp_path_factory.mktemp("kernel"), warm=warm)
    yield k
    k.close()


@pytest.fixture(params=MODES)
def small_kernel(request, tmp_path):
    """small_kernel(**limits): a kernel of its own with these limits, cold or warm."""
    if not sandbox.available():
        pytest.fail(f"the sandbox cannot run here: {sandbox.probe()}")
    warm = request.getfixturevalue("warm_server").socket if request.param == "warm" else None
    return lambda **limits: Kernel(sandbox.Limits(**limits), tmp_path, warm=warm)


def family(k: Kernel) -> dict[int, float]:
    """Every process of a kernel's sandbox: the wrapper and its descendants, and (a warm kernel is
    not the wrapper's descendant) every process of the sandbox's own uid, with their start times."""
    wrapper = psutil.Process(k.km.provisioner.process.pid)
    found = {wrapper.pid: wrapper.create_time()}
    note_children(wrapper.pid, found)
    uid = k.value("__import__('os').getuid()")
    for p in psutil.process_iter(["uids", "create_time"]):
        if sandbox.privileged() and p.info["uids"] and p.info["uids"].real == uid:
            found[p.pid] = p.info["create_time"]
    return found


def test_bubblewrap_available():
    assert sandbox.available(), sandbox.probe()


def test_a_relative_data_folder_is_made_absolute_where_it_is_given(monkeypatch, tmp_path):
    """The README's COURSE_DATA_DIR=../shared/data names a folder from where the command starts; the
    kernels' wrappers run in the notebooks' folders, where it would name nothing (so the sandbox would
    bind no data)."""
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "main").mkdir()
    monkeypatch.chdir(tmp_path / "main")
    monkeypatch.setenv("COURSE_DATA_DIR", "../shared/data")
    sandbox.anchor_data_dir()
    assert os.environ["COURSE_DATA_DIR"] == str(tmp_path / "shared" / "data")
    monkeypatch.chdir(tmp_path)  # a notebook's folder, say: the same folder still
    assert bwrap.data_dir() == (tmp_path / "shared" / "data").resolve()
    sandbox.anchor_data_dir()  # absolute already: unchanged
    assert os.environ["COURSE_DATA_DIR"] == str(tmp_path / "shared" / "data")
    monkeypatch.delenv("COURSE_DATA_DIR")
    sandbox.anchor_data_dir()
    assert "COURSE_DATA_DIR" not in os.environ


def test_missing_bwrap_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(bwrap, "bwrap_path", lambda: None)
    sandbox.probe.cache_clear()
    try:
        assert not sandbox.available()
        with pytest.raises(sandbox.SandboxError, match="apt-get install -y bubblewrap"):
            sandbox.nbgrader_args()
    finally:
        monkeypatch.undo()
        sandbox.probe.cache_clear()


def test_the_kernel_spec_ships_with_the_package(tmp_path):
    """nbgrader finds the kernel through the package's own spec: nothing installed or written at
    grading time; the limits and the rest travel in the environment."""
    spec = sandbox.kernel_specs().get_kernel_spec(sandbox.KERNEL_NAME)
    assert Path(spec.resource_dir).is_relative_to(Path(sandbox.__file__).parent)
    assert spec.argv == ["python", "-I", "-m", "autograder.sandbox.kernel", "{connection_file}",
                         "--HistoryManager.enabled=False"]  # jupyter_client puts its own Python for "python"
    args, env = sandbox.nbgrader_args(sandbox.Limits(cpu_seconds=77), tmp_path, warm="/run/warm.sock")
    assert args == ["--SandboxedExecute.sandbox=True"], "the grading rules are the course's nbgrader_config.py"
    assert sandbox.Limits.from_json(env[sandbox.LIMITS_ENV]).cpu_seconds == 77
    assert env["COURSE_SANDBOX_TMP"] == str(tmp_path.resolve()) and env["COURSE_WARM_KERNEL"] == "/run/warm.sock"
    assert sandbox.kernel_env() == {}, "no limits given: SandboxedExecute.limits of nbgrader_config.py apply"


@pytest.mark.slow
def test_a_package_in_the_submission_never_replaces_the_grader(tmp_path):
    """The notebook's folder (a submission's files) is the working folder of the wrapper, which runs
    outside the sandbox: a student's own ``autograder`` package there must not be the one it imports."""
    if not sandbox.available():
        pytest.fail(f"the sandbox cannot run here: {sandbox.probe()}")
    marker = tmp_path / "planted-code-ran"
    code = f"open({str(marker)!r}, 'w').write('ran outside the sandbox')\n"
    k = Kernel(sandbox.Limits(), tmp_path, files={"autograder/__init__.py": code, "autograder/sandbox/__init__.py": code,
                                                  "autograder/sandbox/kernel.py": code})
    try:
        assert k.value("1 + 1") == 2
    finally:
        k.close()
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_a_package_in_the_submission_never_replaces_the_course_or_numpy(mode, tmp_path, request):
    """A ``course/`` (whose ``check`` passes everything) or ``numpy/`` handed in beside the notebook:
    the notebook imports the installed ones, even after putting its folder first on the path; a module
    of the student's own there still imports."""
    fake = "def check(*args, **kwargs):\n    return True\nFAKE = True\n"
    warm = request.getfixturevalue("warm_server").socket if mode == "warm" else None
    k = Kernel(sandbox.Limits(), tmp_path, warm=warm, files={
        "course/__init__.py": fake, "course/feedback.py": fake, "course/training.py": fake, "numpy/__init__.py": fake,
        "helpers.py": "ANSWER = 42\n"})
    try:
        status, text, _ = k.run("import course, numpy\nfrom course.feedback import check\n"
                                "import sys; sys.path.insert(0, '.'); course.__path__.insert(0, 'course')\n"
                                "import course.feedback, course.training, helpers\n"
                                "import os\nprint(os.getcwd(), course.__file__, course.feedback.__file__, numpy.__file__,"
                                " course.training.__file__, hasattr(check, 'FAKE'), helpers.ANSWER)")
        assert status == "ok", text
        here, *files = text.split()
        assert not [f for f in files[:4] if f.startswith(here)], f"imported from the notebook's folder: {text}"
        assert files[0].endswith("course/__init__.py") and files[2].endswith("numpy/__init__.py"), text
        assert files[4:] == ["False", "42"], text
        status, text, _ = k.run("check('x', 1, 2, reveal=False)")  # the real check: a wrong answer fails
        assert status == "error" and "FeedbackError" in text, text
    finally:
        k.close()


def test_private_tmp_is_mounted_before_a_checkout_under_tmp(tmp_path, monkeypatch):
    """A clone under /tmp (CI's, say) must stay visible: bwrap mounts in order, so the
    private /tmp tmpfs has to come before the read-only binds of the environment."""
    fake_env = Path("/tmp/ci-checkout/.venv")
    monkeypatch.setattr(bwrap.sys, "prefix", str(fake_env))
    (tmp_path / "group").write_text("")
    cmd, _ = bwrap.bwrap_command(sandbox.Limits(), cwd=tmp_path, workcopy=tmp_path, ipc_dir=tmp_path,
                                 passwd=tmp_path / "passwd", uid=None, kernel_args=[])
    tmpfs = [i for i, a in enumerate(cmd) if a == "--tmpfs" and cmd[i + 1] == "/tmp"]
    venv = [i for i, a in enumerate(cmd) if a == "--ro-bind" and cmd[i + 2] == str(fake_env)]
    assert len(tmpfs) == 1 and len(venv) == 1 and tmpfs[0] < venv[0]


@pytest.mark.slow
def test_kernel_computes(kernel):
    assert kernel.value("1 + 1") == 2
    assert kernel.value("__import__('numpy').arange(4).sum().item()") == 6
    status, text, _ = kernel.run("import course; from course.feedback import check; check('x', 1.0, 1.0); print('ok')")
    assert status == "ok" and "ok" in text


@pytest.mark.slow
def test_no_input_history_is_written(kernel):
    """IPython's input history, an SQLite write after every cell, is off in grading kernels; the
    session's own inputs (``In``) are still there."""
    assert kernel.value("get_ipython().history_manager.enabled") is False
    assert kernel.value("sum('history_manager' in cell for cell in In)") >= 1


@pytest.mark.slow
def test_cannot_see_the_course_or_home(kernel):
    assert kernel.run("import os")[0] == "ok"
    assert kernel.value(f"os.path.exists({str(REPO / 'source')!r})") is False
    assert kernel.value(f"os.path.exists({str(REPO / 'autograder')!r})") is False
    assert kernel.value(f"os.path.exists({str(REPO / 'release')!r})") is False
    assert kernel.value("os.listdir('/root') if os.path.exists('/root') else []") in ([], [".pyenv"])
    assert kernel.value("os.path.exists('/home')") is False
    assert kernel.value(f"os.path.exists({str(REPO / 'course' / 'feedback.py')!r})") is True  # read-only, needed


@pytest.mark.slow
def test_working_copy_is_private_and_writable(kernel):
    assert kernel.run("import os")[0] == "ok"
    assert kernel.value("open('given.txt').read()") == "data the assignment ships"
    assert kernel.value("open('mine.txt', 'w').write('x')") == 1
    assert not (kernel.cwd / "mine.txt").exists(), "writes must stay in the private copy"
    assert kernel.value("open(os.path.expanduser('~/note'), 'w').write('abc')") == 3
    assert kernel.value("open('/tmp/t', 'w').write('abc')") == 3
    assert kernel.value("os.environ['HOME']") == bwrap.HOME


@pytest.mark.slow
def test_runs_as_an_unprivileged_user(kernel):
    assert kernel.run("import os")[0] == "ok"
    uid = kernel.value("os.getuid()")
    assert uid != 0 and kernel.value("os.geteuid()") == uid
    status = kernel.value("open('/proc/self/status').read()")
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapPrm"], 16) == 0, fields
    assert fields["NoNewPrivs"].strip() == "1"  # so no setuid or file-capability program gives any back
    if sandbox.privileged():  # the kernel's own uid, the same seen from outside
        assert uid >= 200000
        assert any(p.info["uids"].real == uid for p in psutil.process_iter(["uids"]))


@pytest.mark.slow
def test_cannot_open_a_socket(kernel):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    status, text, _ = kernel.run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)")
    assert status == "error" and ("refused" in text or "unreachable" in text), text
    status, text, _ = kernel.run("socket.create_connection(('1.1.1.1', 80), timeout=3)")
    assert status == "error" and "unreachable" in text, text
    listener.settimeout(0.2)  # a connection made would be queued already: the kernel's connect returned
    with pytest.raises(OSError):  # nobody connected
        listener.accept()
    listener.close()


@pytest.mark.slow
def test_cannot_write_the_environment(kernel):
    for path in (f"{sys.prefix}/pwned", str(REPO / "course" / "pwned.py"), "/usr/pwned"):
        status, text, _ = kernel.run(f"open({path!r}, 'w')")
        assert status == "error" and ("Read-only" in text or "Permission" in text), text
        assert not Path(path).exists()


@pytest.mark.slow
def test_integrity_guard_catches_monkeypatching(small_kernel):
    k = small_kernel()
    try:
        assert k.run("import numpy as np\nfrom course.feedback import check")[0] == "ok"
        status, _, _ = k.run("np.allclose = lambda *a, **kw: True")
        assert status == "ok"  # the next statement finds out
        status, text, _ = k.run("check('x', 1.0, 2.0)")
        assert status == "error" and "grading helpers were modified by your code" in text
        assert "numpy.allclose was replaced" in text
        status, text, _ = k.run("print(np.allclose(1, 2))")  # stays failed, but the original is back
        assert status == "error"
    finally:
        k.close()


@pytest.mark.slow
def test_warm_kernels_start_with_the_course_libraries_imported(kernel, request):
    """A warm kernel is a fork of the server (keras, torch, matplotlib already imported: the
    4 s of `import keras` are gone); a cold one imports them itself."""
    warm = request.node.callspec.params["kernel"] == "warm"
    assert kernel.value("sorted(m for m in ('keras', 'torch', 'matplotlib.pyplot') if m in __import__('sys').modules)"
                        ) == (["keras", "matplotlib.pyplot", "torch"] if warm else [])
    status, text, _ = kernel.run("import keras\nprint(keras.backend.backend(), keras.ops.sum(keras.ops.ones(3)))")
    assert status == "ok" and text.startswith("torch"), text
    if warm:  # it dropped every capability, even from the bounding set, before any student code
        status = kernel.value("open('/proc/self/status').read()")
        assert "CapBnd:\t0000000000000000" in status and "CapEff:\t0000000000000000" in status


@pytest.mark.slow
def test_a_warm_server_started_without_keras_backend_set_has_keras_on_torch(tmp_path, monkeypatch):
    """An instructor's shell rarely sets KERAS_BACKEND; nbgrader's kernels run on torch all the same
    (runner.nbgrader_env), and so must the server they are forked from, or each Keras notebook's kernel
    imports Keras again (2 s)."""
    if not sandbox.warm_kernels_possible():
        pytest.fail("warm kernels need root: run this test as root (as CI does)")
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    with sandbox.WarmKernels() as server:
        assert server.socket, server.problem
        k = Kernel(sandbox.Limits(), tmp_path, warm=server.socket)
        try:
            assert k.value("'keras' in __import__('sys').modules and __import__('keras').backend.backend()") == "torch"
        finally:
            k.close()
        assert "cannot import" not in server.log(), server.log()


@pytest.mark.slow
def test_a_missing_warm_server_means_a_cold_kernel(tmp_path):
    k = Kernel(sandbox.Limits(), tmp_path, warm=str(tmp_path / "no-such-socket"))
    try:
        assert k.value("'keras' in __import__('sys').modules") is False  # started cold, and works
        assert k.value("6 * 7") == 42
    finally:
        k.close()


@pytest.mark.slow
def test_a_kernel_that_exits_is_reported(small_kernel):
    k = small_kernel()
    try:
        status, text, reply = k.run("import os\nos._exit(3)")
        assert status == "error" and reply["ename"] == "KernelDied" and "exit code 3" in text, text
        status, text, _ = k.run("1 + 1")
        assert status == "error" and "earlier cell" in text
    finally:
        k.close()


@pytest.mark.slow
def test_guard_allows_ordinary_code(kernel):
    status, text, _ = kernel.run(
        "import numpy as np, scipy.special, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "from collections import namedtuple\nP = namedtuple('P', 'x y')\nnp.set_printoptions(precision=3)\n"
        "fig, ax = plt.subplots(); ax.plot([1, 2]); plt.close(fig)\n"
        "from course.feedback import check\ncheck('expit', scipy.special.expit(0.0), 0.5)\nprint('fine')")
    assert status == "ok" and "fine" in text, text


# Tampering that runs no audited statement of its own (review findings): each attack, then a
# "test" that the tampering would make pass; the guard must fail it.
_FAKE_ALLCLOSE = ("import numpy as np, sys\n_impl = getattr(np.isclose, '_implementation', np.isclose)\n"
                  "_orig = _impl.__code__\n"
                  "def _fake(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):\n"
                  "    return np.ones(np.broadcast(a, b).shape, bool)\n")
GUARD_ATTACKS = {
    # code slipped into the guard's own comparison (a sys.modules subclass, a user_ns property), where the
    # audit hook is off: it puts the original back before functions are compared, the fake after
    "inside the guard's comparison": _FAKE_ALLCLOSE + (
        "_sh = get_ipython()\n"
        "class _Mods(dict):\n"
        "    def get(self, *a):\n"
        "        if sys._getframe(1).f_code.co_name == 'problems':\n"
        "            _impl.__code__ = _orig\n"
        "        return dict.get(self, *a)\n"
        "def _get(self):\n"
        "    if sys._getframe(1).f_code.co_name == 'problems':\n"
        "        _impl.__code__ = _fake.__code__\n"
        "    return self._user_ns\n"
        "def _set(self, v):\n    self._user_ns = v\n"
        "type(_sh).user_ns = property(_get, _set)\nsys.modules = _Mods(sys.modules)"),
    # dictionary keys whose __eq__ runs while the guard compares (a module's, then the namespace's, each put
    # where the guard's lookup meets it first): the original code back before the functions are compared,
    # the fake after them; caught as the code is set
    "keys that swap code while the guard compares": _FAKE_ALLCLOSE + (
        "import math\n"
        "class _Key:\n"
        "    def __init__(self, name, code):\n        self.name, self.code = name, code\n"
        "    def __hash__(self):\n        return hash(self.name)\n"
        "    def __eq__(self, other):\n"
        "        if sys._getframe(1).f_code.co_name == 'problems':\n"
        "            _impl.__code__ = self.code\n"
        "        return False\n"
        "_pi, _np = math.pi, np\n"
        "(delattr(math, 'pi'), vars(math).__setitem__(_Key('pi', _orig), 0), setattr(math, 'pi', _pi))\n"
        "(globals().pop('np'), globals().__setitem__(_Key('np', _fake.__code__), 0), globals().__setitem__('np', _np))"),
    # keyword-only defaults changed in place (no audit event, the same dict)
    "keyword defaults in place": "check.__wrapped__.__kwdefaults__['rtol'] = 1e300",
    # the function a guarded check wraps, swapped in its closure
    "a check's closure": "check.__closure__[0].cell_contents = lambda *a, **k: None",
    # the code of a method of a course class
    "a course class's method": ("from course.feedback import Hint\n"
                                "Hint.applies.__code__ = (lambda self, got: False).__code__"),
}


@pytest.mark.slow
@pytest.mark.parametrize("attack", GUARD_ATTACKS)
def test_integrity_guard_catches_tampering_that_runs_no_audited_statement(small_kernel, attack):
    k = small_kernel()
    try:
        assert k.run("import numpy as np\nfrom course.feedback import check, Hint")[0] == "ok"
        k.run(GUARD_ATTACKS[attack])
        status, text, _ = k.run("x = 1.0\ncheck('answer', x, 2.0)\nassert np.allclose(1.0, 2.0)\nprint('TEST PASSED')")
        assert status == "error" and "TEST PASSED" not in text, text
        assert "grading helpers were modified by your code" in text, text
        status, text, _ = k.run("print('later', np.allclose(1.0, 2.0))")
        assert status == "error" and "later" not in text, "from then on every cell fails"
    finally:
        k.close()


@pytest.mark.slow
def test_memory_limit_stops_the_kernel(small_kernel):
    k = small_kernel(memory_mb=400)
    try:
        status, text, reply = k.run("import numpy as np\nx = [np.ones(2**25) for _ in range(40)]")  # 10 GB
        assert status == "error" and reply["ename"] == "KernelDied" and "400 MB of memory" in text, text
        status, text, reply = k.run("1 + 1")  # later cells: answered, not run
        assert status == "error" and "earlier cell" in text
    finally:
        k.close()


@pytest.mark.slow
def test_forked_children_share_memory_without_being_killed(small_kernel):
    """Children of a kernel share its pages (a warm kernel's RSS alone is about 360 MB, so 7 of
    them "use" 2.5 GB by RSS): the watchdog counts shared pages once, and stays quick."""
    k = small_kernel(memory_mb=1024)
    try:
        status, text, _ = k.run("import os, time\nkids = []\nfor _ in range(6):\n    pid = os.fork()\n"
                                "    if pid == 0:\n        time.sleep(20)\n        os._exit(0)\n    kids.append(pid)")
        assert status == "ok", text
        time.sleep(2)  # several rounds of the watchdog
        start = time.monotonic()
        assert k.value("len(kids)") == 6
        assert time.monotonic() - start < 2
        assert k.run("import signal\nfor pid in kids:\n    os.kill(pid, signal.SIGKILL)")[0] == "ok"
    finally:
        k.close()


@pytest.mark.slow
def test_process_limit_stops_a_fork_bomb(small_kernel):
    k = small_kernel(processes=48)
    try:
        before = family(k)
        uid = k.value("__import__('os').getuid()") if sandbox.privileged() else None
        status, text, reply = k.run("import os\nwhile True:\n    os.fork()", timeout=60)
        assert status == "error" and "processes" in text, text
    finally:
        k.close()
    deadline = time.monotonic() + 10
    while alive(before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(before)
    if uid is not None:  # none of the bomb's forks is left either
        assert not [p for p in psutil.process_iter(["uids"]) if p.info["uids"].real == uid]


@pytest.mark.slow
def test_file_size_limit(small_kernel):
    k = small_kernel(file_size_mb=5)
    try:
        status, text, _ = k.run("f = open('big.bin', 'wb')\nfor _ in range(20):\n    f.write(b'0' * 2**20)\n    f.flush()")
        assert status == "error" and (os.strerror(errno.EFBIG) in text or "File too large" in text), text
        for folder in ("/tmp", "/dev/shm"):  # tmpfs (memory): 2 x file_size_mb in all
            status, text, _ = k.run(f"for i in range(5):\n    open(f'{folder}/f{{i}}', 'wb').write(b'0' * (4 * 2**20))")
            assert status == "error" and "No space left" in text, text
    finally:
        k.close()


@pytest.mark.slow
def test_output_is_capped(small_kernel):
    k = small_kernel(output_mb=1)
    try:
        status, text, _ = k.run("for _ in range(30):\n    print('x' * 100_000)")
        assert status == "ok"
        assert len(text) < 1.2 * MB and "Output limit" in text
    finally:
        k.close()


@pytest.mark.slow
def test_output_past_the_cap_takes_no_memory_in_the_kernel(small_kernel):
    """A message that is going over the cap is cut in the kernel, not gathered there first: printing a
    50 MB line took 150 MB of the kernel's memory in ipykernel (its buffer, then the encoded message),
    which on a busy machine piled up before the wrapper could drop it.  What the student sees is as
    before: the notice, and later outputs that fit."""
    k = small_kernel(output_mb=1)
    try:
        status, text, reply = k.run(
            "import sys, tracemalloc\n"
            "big = 'y' * (50 * 2**20)\n"
            "print('x' * (2 * 2**20)); sys.stdout.flush()   # past the cap\n"
            "tracemalloc.start()\n"
            "print(big); sys.stdout.flush()\n"
            "peak = tracemalloc.get_traced_memory()[1]\n"
            "tracemalloc.stop()\n"
            "assert peak < 10 * 2**20, f'printing took {peak / 2**20:.0f} MB in the kernel'")
        assert status == "ok", text
        assert "Output limit" in text and len(text) < 1.2 * MB
        status, text, _ = k.run("print('a line that fits')")  # the dropped outputs took none of the budget
        assert status == "ok" and text == "a line that fits\n", text
    finally:
        k.close()


@pytest.mark.slow
def test_private_folders_removed_after_shutdown(small_kernel, monkeypatch):
    # a short folder: the wrapper puts its private folder (with the kernel's unix sockets,
    # whose paths may not exceed 107 bytes) in $TMPDIR when that is short enough
    private = Path(tempfile.mkdtemp(prefix="sbx-", dir="/tmp"))
    try:
        monkeypatch.setenv("TMPDIR", str(private))
        k = small_kernel()
        assert k.value("1") == 1
        assert len(list(private.glob("course-sandbox-*"))) == 1
        k.close()
        assert not list(private.iterdir())
    finally:
        shutil.rmtree(private, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_an_immediate_stop_leaves_nothing_behind(mode, tmp_path, request):
    """The batch grader stops kernels at once (nbgrader's Execute.shutdown_kernel=immediate): the
    wrapper is killed, so the sandbox must die with it, and the wrapper's private folder must be in
    the folder the grader removes (COURSE_SANDBOX_TMP), not in /tmp."""
    scratch = Path(tempfile.mkdtemp(prefix="sbx-", dir="/tmp"))  # short, like the grader's scratch folder
    try:
        warm = request.getfixturevalue("warm_server").socket if mode == "warm" else None
        k = Kernel(sandbox.Limits(), tmp_path, workdir=scratch, warm=warm)
        try:
            assert k.value("1 + 1") == 2
            assert len(list(scratch.glob("course-sandbox-*"))) == 1
            procs = family(k)
            names = [psutil.Process(pid).name() for pid in procs]
            assert "bwrap" in names, names
            assert k.value("__import__('os').getppid()") == (0 if warm else 1)  # warm: joined from outside
        finally:
            k.close(now=True)  # SIGKILL: the wrapper cannot clean up
        deadline = time.monotonic() + 10
        while alive(procs) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(procs), "a sandbox process outlived the killed wrapper"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.slow
def test_long_tmpdir_still_works(small_kernel, tmp_path, monkeypatch):
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    k = small_kernel()
    try:
        assert k.value("6 * 7") == 42
    finally:
        k.close()
    assert not list(deep.iterdir())


@pytest.mark.slow
def test_plain_nbgrader_autograde_refuses_without_bubblewrap(tmp_path):
    """nbgrader's own command, with the course's nbgrader_config.py, on a machine without bwrap
    (here: bwrap hidden in a mount namespace of its own): nothing graded, a message that says how
    to install it and names the one setting that opts out; with that setting, it grades."""
    assignment = "week1_forward_pass"
    root = CourseRoot.create(tmp_path / "course", [assignment])
    root.generate(assignment)
    folder = root.submit("alice", assignment, root.student_notebooks(assignment, {}))
    before = {p.name: sha256(p) for p in folder.iterdir()}
    real = os.path.realpath(bwrap.bwrap_path())
    hidden = [real, "--dev-bind", "/", "/", "--ro-bind", "/dev/null", real, "--"]
    nbgrader = [sys.executable, "-m", "nbgrader", "autograde", assignment]
    proc = subprocess.run(hidden + nbgrader, cwd=root.path, env=nbgrader_env(), capture_output=True, text=True,
                          timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log[-3000:]
    assert "Cannot sandbox student code: bubblewrap (`bwrap`) is not installed" in log, log[-3000:]
    assert "apt-get install -y bubblewrap" in log and sandbox.OPT_OUT in log and "Nothing was graded" in log
    assert not (root.path / "autograded" / "alice" / assignment).exists(), "a notebook was graded"
    assert {p.name: sha256(p) for p in folder.iterdir()} == before, "the submission changed"

    proc = subprocess.run(hidden + nbgrader + ["--SandboxedExecute.sandbox=False"], cwd=root.path, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    got = {g: s for g, (s, _) in root.grades(assignment)["alice"].items()}
    assert got == code_cells(assignment, "grade"), "knowingly unsandboxed, the solution gets full marks"


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_a_figure_is_shown_and_a_traceback_is_whole(mode, tmp_path, monkeypatch):
    """The grading kernel's two speed-ups change nothing that is shown: an inline figure is still shown
    as a PNG (a warm kernel no longer draws it once more, for nothing, after the cell), and a traceback
    through a function defined in a cell still quotes the cell's code."""
    monkeypatch.delenv("MPLBACKEND", raising=False)  # conftest's Agg shows no figures: the kernels' own
    with contextlib.ExitStack() as stack:
        warm = stack.enter_context(sandbox.WarmKernels()).socket if mode == "warm" else None
        assert warm or mode == "cold"
        kernel = Kernel(sandbox.Limits(), tmp_path, warm=warm)
        stack.callback(kernel.close)
        status, text, _ = kernel.run(
            "import matplotlib.figure as _mf, traceback as _tb\n_drawn = []\n_draw = _mf.Figure.draw\n"
            "def _counting(self, renderer):\n"
            "    _drawn.append(any(f.name == '_draw_all_if_interactive' for f in _tb.extract_stack()))\n"
            "    return _draw(self, renderer)\n_mf.Figure.draw = _counting")
        assert status == "ok", text
        shown = []
        kernel.kc.execute_interactive("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.title('once')",
                                      timeout=60, output_hook=shown.append)
        pngs = [m for m in shown if m["msg_type"] == "display_data" and "image/png" in m["content"]["data"]]
        assert len(pngs) == 1, [m["msg_type"] for m in shown]
        drawn = kernel.value("_drawn")
        assert drawn and (not any(drawn) if warm else True), drawn
        status, text, reply = kernel.run("def _inner():\n    raise ValueError('from a cell')\n_inner()")
        assert status == "error" and "ValueError: from a cell" in text
        plain = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(reply["traceback"]))
        assert "raise ValueError('from a cell')" in plain and "_inner()" in plain, "the cell's lines are quoted"


def test_quick_tracebacks_answer_as_inspect_does(monkeypatch):
    """The grading kernel's inspect.getmodule gives inspect's own answers: None at once for a frame or code
    object of a notebook cell, and the module of everything else."""
    import inspect

    from autograder.sandbox import inside

    original = inspect.getmodule
    monkeypatch.setattr(inspect, "getmodule", original)  # (put back after the test)
    cell = compile("import sys\nframe = sys._getframe()", "/tmp/ipykernel_12/345.py", "exec")
    ns: dict = {}
    exec(cell, ns)
    inside.quick_tracebacks()
    assert inspect.getmodule is not original
    for obj, filename in [(ns["frame"], None), (ns["frame"], "/tmp/ipykernel_12/345.py"), (cell, None),
                          (sys._getframe(), None), (inspect, None), (inspect.getfile, None), (None, "/"),
                          (inside.quick_tracebacks.__code__, None)]:
        assert inspect.getmodule(obj, filename) is original(obj, filename), (obj, filename)
