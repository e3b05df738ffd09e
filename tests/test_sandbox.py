"""The sandbox for autograding kernels (autograder/sandbox.py, autograder/sandbox_kernel.py).

Kernels are started through the ``course-sandbox`` kernel spec written by
``sandbox.nbgrader_args``, exactly as ``nbgrader autograde`` starts them.  If bubblewrap is
missing these tests fail with the message to install it; they never skip.
"""
from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from autograder import sandbox
from servers import alive, note_children

MB = 2**20
REPO = Path(__file__).resolve().parents[1]


class Kernel:
    """A kernel started through the sandbox kernel spec, in a folder of its own."""

    def __init__(self, limits: sandbox.Limits, tmp: Path, spec: Path | None = None):
        from jupyter_client.manager import KernelManager

        _, env = sandbox.nbgrader_args(limits, spec or tmp / "spec")
        self.saved_path = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = env["JUPYTER_PATH"]  # where KernelManager finds the spec
        self.cwd = tmp / "work"
        self.cwd.mkdir()
        (self.cwd / "given.txt").write_text("data the assignment ships")
        self.km = KernelManager(kernel_name=sandbox.KERNEL_NAME)
        self.km.start_kernel(cwd=str(self.cwd))
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
        if self.saved_path is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = self.saved_path


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    if not sandbox.available():
        pytest.fail(f"the sandbox cannot run here: {sandbox._probe()}")
    k = Kernel(sandbox.Limits(), tmp_path_factory.mktemp("kernel"))
    yield k
    k.close()


def small_kernel(tmp_path, **limits) -> Kernel:
    if not sandbox.available():
        pytest.fail(f"the sandbox cannot run here: {sandbox._probe()}")
    return Kernel(sandbox.Limits(**limits), tmp_path)


def test_bubblewrap_available():
    assert sandbox.available(), sandbox._probe()


def test_missing_bwrap_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    sandbox._probe.cache_clear()
    try:
        assert not sandbox.available()
        with pytest.raises(sandbox.SandboxError, match="apt-get install -y bubblewrap"):
            sandbox.nbgrader_args()
    finally:
        monkeypatch.undo()
        sandbox._probe.cache_clear()


def test_nbgrader_args_write_a_kernel_spec(tmp_path):
    args, env = sandbox.nbgrader_args(sandbox.Limits(cell_timeout=7), tmp_path)
    assert "--Execute.kernel_name=course-sandbox" in args and "--Execute.timeout=7" in args
    assert env["JUPYTER_PATH"].split(os.pathsep)[0] == str(tmp_path)
    import json

    spec = json.loads((tmp_path / "kernels" / "course-sandbox" / "kernel.json").read_text())
    assert spec["argv"][:3] == [sys.executable, "-m", "autograder.sandbox_kernel"]
    assert spec["argv"][-1] == "{connection_file}"
    assert sandbox.Limits.from_json(spec["argv"][4]).cell_timeout == 7


def test_private_tmp_is_mounted_before_a_checkout_under_tmp(tmp_path, monkeypatch):
    """A clone under /tmp (CI's, say) must stay visible: bwrap mounts in order, so the
    private /tmp tmpfs has to come before the read-only binds of the environment."""
    fake_env = Path("/tmp/ci-checkout/.venv")
    monkeypatch.setattr(sandbox.sys, "prefix", str(fake_env))
    (tmp_path / "group").write_text("")
    cmd, _ = sandbox.bwrap_command(sandbox.Limits(), cwd=tmp_path, workcopy=tmp_path, ipc_dir=tmp_path,
                                   passwd=tmp_path / "passwd", uid=None, kernel_args=[])
    tmpfs = [i for i, a in enumerate(cmd) if a == "--tmpfs" and cmd[i + 1] == "/tmp"]
    venv = [i for i, a in enumerate(cmd) if a == "--ro-bind" and cmd[i + 2] == str(fake_env)]
    assert len(tmpfs) == 1 and len(venv) == 1 and tmpfs[0] < venv[0]


def test_kernel_computes(kernel):
    assert kernel.value("1 + 1") == 2
    assert kernel.value("__import__('numpy').arange(4).sum().item()") == 6
    status, text, _ = kernel.run("import course; from course.feedback import check; check('x', 1.0, 1.0); print('ok')")
    assert status == "ok" and "ok" in text


def test_cannot_see_the_course_or_home(kernel):
    assert kernel.run("import os")[0] == "ok"
    assert kernel.value(f"os.path.exists({str(REPO / 'source')!r})") is False
    assert kernel.value(f"os.path.exists({str(REPO / 'autograder')!r})") is False
    assert kernel.value(f"os.path.exists({str(REPO / 'release')!r})") is False
    assert kernel.value("os.listdir('/root') if os.path.exists('/root') else []") in ([], [".pyenv"])
    assert kernel.value("os.path.exists('/home')") is False
    assert kernel.value(f"os.path.exists({str(REPO / 'course' / 'feedback.py')!r})") is True  # read-only, needed


def test_working_copy_is_private_and_writable(kernel):
    assert kernel.run("import os")[0] == "ok"
    assert kernel.value("open('given.txt').read()") == "data the assignment ships"
    assert kernel.value("open('mine.txt', 'w').write('x')") == 1
    assert not (kernel.cwd / "mine.txt").exists(), "writes must stay in the private copy"
    assert kernel.value("open(os.path.expanduser('~/note'), 'w').write('abc')") == 3
    assert kernel.value("open('/tmp/t', 'w').write('abc')") == 3
    assert kernel.value("os.environ['HOME']") == sandbox.HOME


def test_runs_as_an_unprivileged_user(kernel):
    assert kernel.run("import os")[0] == "ok"
    assert kernel.value("os.getuid()") != 0
    for p in psutil.process_iter(["cmdline", "uids"]):
        cmd = p.info["cmdline"] or []
        if "--inside" in cmd and "bwrap" not in os.path.basename(cmd[0]) and sandbox.privileged():
            assert p.info["uids"].real >= 200000


def test_cannot_open_a_socket(kernel):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(3)
    port = listener.getsockname()[1]
    status, text, _ = kernel.run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)")
    assert status == "error" and ("refused" in text or "unreachable" in text), text
    status, text, _ = kernel.run("socket.create_connection(('1.1.1.1', 80), timeout=3)")
    assert status == "error" and "unreachable" in text, text
    with pytest.raises(OSError):  # nobody connected
        listener.accept()
    listener.close()


def test_cannot_write_the_environment(kernel):
    for path in (f"{sys.prefix}/pwned", str(REPO / "course" / "pwned.py"), "/usr/pwned"):
        status, text, _ = kernel.run(f"open({path!r}, 'w')")
        assert status == "error" and ("Read-only" in text or "Permission" in text), text
        assert not Path(path).exists()


def test_integrity_guard_catches_monkeypatching(tmp_path):
    k = small_kernel(tmp_path)
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


def test_guard_allows_ordinary_code(kernel):
    status, text, _ = kernel.run(
        "import numpy as np, scipy.special, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "from collections import namedtuple\nP = namedtuple('P', 'x y')\nnp.set_printoptions(precision=3)\n"
        "fig, ax = plt.subplots(); ax.plot([1, 2]); plt.close(fig)\n"
        "from course.feedback import check\ncheck('expit', scipy.special.expit(0.0), 0.5)\nprint('fine')")
    assert status == "ok" and "fine" in text, text


def test_memory_limit_stops_the_kernel(tmp_path):
    k = small_kernel(tmp_path, memory_mb=400)
    try:
        status, text, reply = k.run("import numpy as np\nx = [np.ones(2**25) for _ in range(40)]")  # 10 GB
        assert status == "error" and reply["ename"] == "KernelDied" and "400 MB of memory" in text, text
        status, text, reply = k.run("1 + 1")  # later cells: answered, not run
        assert status == "error" and "earlier cell" in text
    finally:
        k.close()


def test_process_limit_stops_a_fork_bomb(tmp_path):
    k = small_kernel(tmp_path, processes=48)
    try:
        status, text, reply = k.run("import os\nwhile True:\n    os.fork()", timeout=60)
        assert status == "error" and "processes" in text, text
    finally:
        k.close()
    assert not [p for p in psutil.process_iter(["cmdline"]) if "--inside" in (p.info["cmdline"] or [])
                and str(tmp_path) in " ".join(p.info["cmdline"] or [])]


def test_file_size_limit(tmp_path):
    k = small_kernel(tmp_path, file_size_mb=5)
    try:
        status, text, _ = k.run("f = open('big.bin', 'wb')\nfor _ in range(20):\n    f.write(b'0' * 2**20)\n    f.flush()")
        assert status == "error" and (os.strerror(errno.EFBIG) in text or "File too large" in text), text
        for folder in ("/tmp", "/dev/shm"):  # tmpfs (memory): 2 x file_size_mb in all
            status, text, _ = k.run(f"for i in range(5):\n    open(f'{folder}/f{{i}}', 'wb').write(b'0' * (4 * 2**20))")
            assert status == "error" and "No space left" in text, text
    finally:
        k.close()


def test_output_is_capped(tmp_path):
    k = small_kernel(tmp_path, output_mb=1)
    try:
        status, text, _ = k.run("for _ in range(30):\n    print('x' * 100_000)")
        assert status == "ok"
        assert len(text) < 1.2 * MB and "Output limit" in text
    finally:
        k.close()


def test_private_folders_removed_after_shutdown(tmp_path, monkeypatch):
    # a short folder: the wrapper puts its private folder (with the kernel's unix sockets,
    # whose paths may not exceed 107 bytes) in $TMPDIR when that is short enough
    private = Path(tempfile.mkdtemp(prefix="sbx-", dir="/tmp"))
    try:
        monkeypatch.setenv("TMPDIR", str(private))
        k = small_kernel(tmp_path)
        assert k.value("1") == 1
        assert len(list(private.glob("course-sandbox-*"))) == 1
        k.close()
        assert not list(private.iterdir())
    finally:
        shutil.rmtree(private, ignore_errors=True)


def test_an_immediate_stop_leaves_nothing_behind(tmp_path):
    """The batch grader stops kernels at once (nbgrader's Execute.shutdown_kernel=immediate): the
    wrapper is killed, so the sandbox must die with it, and the wrapper's private folder must be in
    the folder the grader removes (the kernel spec's), not in /tmp."""
    scratch = Path(tempfile.mkdtemp(prefix="sbx-", dir="/tmp"))  # short, like the grader's scratch folder
    try:
        k = Kernel(sandbox.Limits(), tmp_path, spec=scratch)
        try:
            assert k.value("1 + 1") == 2
            assert len(list(scratch.glob("course-sandbox-*"))) == 1
            wrapper = psutil.Process(k.km.provisioner.process.pid)
            family = {wrapper.pid: wrapper.create_time()}
            note_children(wrapper.pid, family)
            names = [psutil.Process(pid).name() for pid in family]
            assert "bwrap" in names, names
        finally:
            k.close(now=True)  # SIGKILL: the wrapper cannot clean up
        deadline = time.monotonic() + 10
        while alive(family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(family), "a sandbox process outlived the killed wrapper"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_long_tmpdir_still_works(tmp_path, monkeypatch):
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    k = small_kernel(tmp_path)
    try:
        assert k.value("6 * 7") == 42
    finally:
        k.close()
    assert not list(deep.iterdir())
