"""Run the kernels of ``nbgrader autograde`` in a bubblewrap sandbox.

Student code runs with the rights of whoever runs nbgrader, unless it is
contained.  :func:`nbgrader_args` returns the extra command-line arguments and
environment for ``nbgrader autograde`` so that every kernel it starts is the
kernel spec ``course-sandbox``, whose ``argv`` is
``python -m autograder.sandbox_kernel --limits JSON {connection_file}``.  That
wrapper (outside the sandbox) starts the real IPython kernel inside
``bwrap`` and stays in between (see :mod:`autograder.sandbox_kernel`)::

    nbgrader --tcp 127.0.0.1--> sandbox_kernel (wrapper) --ipc (unix sockets)--> bwrap: ipykernel

What the kernel inside sees (:func:`bwrap_command`):

* **no network**: ``--unshare-net`` (a new network namespace with only a
  loopback device of its own), plus new pid, ipc, uts and cgroup namespaces;
* **read-only system**: ``/usr`` (and ``/bin``, ``/lib``... as on the host),
  a few files of ``/etc``, the Python installation, the virtual environment
  and the ``course`` package, and the staged data ``$COURSE_DATA_DIR``, all
  read-only.  Nothing else of the host exists in the sandbox: not ``source/``,
  ``release/``, ``gradebook.db``, ``autograder/``, other students' folders,
  ``/root`` or ``/home``;
* **private, writable** (and watched or size-limited): a copy of the notebook's folder (nbgrader's
  ``autograded/<student>/<assignment>``) mounted where the folder is, so
  relative paths work; it is thrown away afterwards, so nothing the student
  writes (files, symlinks) reaches the folders nbgrader writes to.  ``/tmp`` is
  a tmpfs of limited size, with ``HOME=/tmp/home``; ``MPLCONFIGDIR`` and the
  course's cache folder are under it; ``/dev/shm`` is a tmpfs of limited size too;
* **an unprivileged user**: run as root, the kernel drops to a uid of its own
  (so ``RLIMIT_NPROC`` applies: the kernel ignores it for root); run as
  another user, bwrap maps that user into a new user namespace;
* **limits** (:class:`Limits`): ``RLIMIT_CPU``, ``RLIMIT_NPROC``,
  ``RLIMIT_FSIZE``, ``RLIMIT_AS`` (generous: torch reserves far more address
  space than it uses), ``RLIMIT_CORE=0``; the wrapper's watchdog kills the
  sandbox above ``memory_mb`` of resident memory, ``processes`` processes or
  too much disk written, and after ``notebook_timeout`` seconds.

**Warm kernels** (:class:`WarmKernels`, as root): the batch grader starts a server that has
imported what the kernels need; a kernel is then a fork of it that joins a sandbox built exactly
as above (with a placeholder where the kernel would be) before it runs anything of the student's.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache

from autograder.sandbox_kernel import SLOT_NAME, STARTED  # the kernel side's names (stdlib-only module)
from pathlib import Path

KERNEL_NAME = "course-sandbox"
INSIDE_SCRIPT = "/opt/course-sandbox/sandbox_kernel.py"  # where the startup code is, inside
IPC_DIR = "/run/kernel"  # where the kernel's unix sockets are, inside
HOME = "/tmp/home"
SANDBOX_UID = 1000  # the student's uid as seen inside (user-namespace mode)
WARM_DIR = "/run/warm"  # where the warm-kernel server's socket is, inside its own sandbox
# A sandbox that a warm kernel will join runs this instead of the kernel: it says that the sandbox
# is built, then holds it open until the wrapper writes the warm kernel's exit code, and ends with
# that code, so that bwrap ends as it would have ended with the kernel inside.
SLOT_SCRIPT = 'echo ready; read code; exit "${code:-1}"'
INSTALL_HINT = ("Install bubblewrap: `apt-get install -y bubblewrap` (Debian/Ubuntu; "
                "`dnf install bubblewrap` on Fedora).")


class SandboxError(RuntimeError):
    """The sandbox cannot run here (bwrap missing or unusable); the message says what to do."""


@dataclass(frozen=True)
class Limits:
    """What one student's kernel may use.

    memory_mb: resident memory of all the kernel's processes together (watchdog).
    cpu_seconds: CPU time per process (RLIMIT_CPU).
    processes: processes and threads (RLIMIT_NPROC, and the watchdog).
    file_size_mb: largest file (RLIMIT_FSIZE); the private /tmp holds 2x this and
        the working copy may grow by 2x this.
    output_mb: output forwarded to nbgrader per notebook; the rest is dropped with a notice.
    cell_timeout: seconds per cell (pass to nbgrader as ``--Execute.timeout``).
    notebook_timeout: seconds per notebook; the kernel is stopped after it (and a
        batch runner should stop ``nbgrader`` too).
    """

    memory_mb: int = 2048
    cpu_seconds: int = 900
    processes: int = 512
    file_size_mb: int = 100
    output_mb: int = 20
    cell_timeout: int = 120
    notebook_timeout: int = 900

    @property
    def address_space_mb(self) -> int:
        """RLIMIT_AS: generous headroom, since torch and BLAS reserve address space they never touch."""
        return max(4 * self.memory_mb, self.memory_mb + 16384)

    @property
    def disk_mb(self) -> int:
        """How much the private /tmp holds and the working copy may grow by."""
        return 2 * self.file_size_mb

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Limits":
        return cls(**json.loads(text))


def bwrap_path() -> str | None:
    return shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)), None)


@lru_cache(maxsize=1)
def _probe() -> str:
    """'' if bwrap can make a sandbox here, else why not."""
    bwrap = bwrap_path()
    if bwrap is None:
        return f"bubblewrap (`bwrap`) is not installed. {INSTALL_HINT}"
    args = [bwrap, *namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"`bwrap` could not be run ({err}). {INSTALL_HINT}"
    if proc.returncode != 0:
        return (f"`bwrap` is installed but cannot create a sandbox here: {proc.stderr.strip()}. "
                "It needs user namespaces (as a non-root user: `sysctl kernel.unprivileged_userns_clone=1`, "
                "and on Ubuntu 24.04 `sysctl kernel.apparmor_restrict_unprivileged_userns=0`), "
                f"or run nbgrader as root. {INSTALL_HINT}")
    return ""


def available() -> bool:
    """bwrap is installed and can create a sandbox on this machine."""
    return not _probe()


def require() -> None:
    """Raise :class:`SandboxError` saying what to do if the sandbox cannot run here."""
    problem = _probe()
    if problem:
        raise SandboxError(f"Cannot sandbox student code: {problem}")


def privileged() -> bool:
    """Run as root: bwrap without a user namespace, the kernel drops to a uid of its own."""
    return os.geteuid() == 0


def namespace_args() -> list[str]:
    ns = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if not privileged():
        ns += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--disable-userns"]
    return ns


def nbgrader_args(limits: Limits | None = None, workdir: Path | None = None,
                  warm: str | None = None) -> tuple[list[str], dict[str, str]]:
    """Extra command-line arguments and environment variables for ``nbgrader autograde``
    so that every kernel it starts runs sandboxed.

    Writes the kernel spec ``course-sandbox`` into ``workdir`` (a new temporary folder if
    None; it must outlive the nbgrader run) and returns
    ``(['--Execute.kernel_name=course-sandbox', '--Execute.timeout=...'], {'JUPYTER_PATH': ...})``.
    Merge the environment into ``os.environ`` (JUPYTER_PATH is prepended to any existing one).
    ``warm``: the socket of a :class:`WarmKernels` server; the kernels are its forks.

    Raises:
        SandboxError: bwrap is missing or cannot create sandboxes here.
    """
    require()
    limits = limits or Limits()
    workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="course-sandbox-spec-"))
    spec_dir = workdir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    repo = Path(__file__).resolve().parents[1]
    spec = {
        "argv": [sys.executable, "-m", "autograder.sandbox_kernel", "--limits", limits.to_json(), "{connection_file}"],
        "display_name": "Python 3 (course sandbox)",
        "language": "python",
        "interrupt_mode": "signal",
        # the wrapper (outside the sandbox) needs to import autograder; the kernel inside gets a clean environment
        "env": {"PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH", "")])),
                # the wrapper's private folder (working copy, sockets) goes in here
                "COURSE_SANDBOX_TMP": str(workdir.resolve()),
                **({"COURSE_WARM_KERNEL": warm} if warm else {})},
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    jupyter_path = os.pathsep.join(filter(None, [str(workdir), os.environ.get("JUPYTER_PATH", "")]))
    args = [f"--Execute.kernel_name={KERNEL_NAME}", f"--Execute.timeout={limits.cell_timeout}",
            "--Execute.interrupt_on_timeout=True",
            # a grade cell the student deleted is put back (and scored), not silently skipped
            "--OverwriteCells.add_missing_cells=True"]
    return args, {"JUPYTER_PATH": jupyter_path}


# --- the bwrap command line ------------------------------------------------------------------

ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "ssl", "ca-certificates",
             "fonts", "mime.types", "matplotlibrc", "alternatives")
PASSTHROUGH_ENV = ("KERAS_BACKEND", "MPLBACKEND", "COURSE_OFFLINE", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING",
                   "LANG", "LC_ALL", "TZ", "PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                   "OPENBLAS_NUM_THREADS", "TORCH_NUM_THREADS", "CUDA_VISIBLE_DEVICES")


def course_package_dir() -> Path:
    spec = importlib.util.find_spec("course")
    if spec is None or not spec.submodule_search_locations:
        raise SandboxError("the `course` package is not importable in this environment: `pip install -e .`")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def data_dir() -> Path | None:
    value = os.environ.get("COURSE_DATA_DIR")
    if value and Path(value).is_dir():
        return Path(value).resolve()
    return None


class _Mounts:
    """bwrap mount arguments; parent folders it has to create are made 0755 (as root, bwrap makes them 0700)."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self.made: set[str] = {"/"}

    def _parents(self, dest: str) -> None:
        parts = Path(dest).parts
        for i in range(2, len(parts)):
            p = str(Path(*parts[:i]))
            if p not in self.made:
                self.args += ["--perms", "0755", "--dir", p]
                self.made.add(p)

    def add(self, kind: str, src: str | None, dest: str) -> None:
        self._parents(dest)
        self.args += [kind, *([src] if src is not None else []), dest]
        self.made.add(dest)


def matplotlib_folder(folder: Path) -> Path:
    """A new matplotlib settings folder for a sandbox, with the host's font list in it (so
    matplotlib does not rebuild it in every kernel)."""
    folder = Path(folder)
    folder.mkdir()
    fonts = host_font_cache()
    if fonts is not None:
        shutil.copyfile(fonts, folder / fonts.name)
    return folder


def host_font_cache() -> Path | None:
    """matplotlib's font list on this machine (found as matplotlib finds it, without importing it)."""
    folder = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib")
    found = sorted(Path(folder).glob("fontlist-v*.json")) if os.path.isdir(folder) else []
    return found[-1] if found else None


def bwrap_command(limits: Limits, *, cwd: Path, workcopy: Path, ipc_dir: Path, passwd: Path, uid: int | None,
                  kernel_args: list[str], mplconfig: Path | None = None,
                  slot: bool = False) -> tuple[list[str], dict[str, str]]:
    """The bwrap command that starts the kernel, and the environment inside.

    ``uid``: the host uid the kernel drops to (privileged mode), or None.
    ``mplconfig``: a writable folder for matplotlib's settings and font list inside (a copy of
    the host's font list saves matplotlib rebuilding it in every kernel), or None.
    """
    bwrap = _bwrap()
    m, env, env_args = _layout(limits, passwd, mplconfig)
    m.add("--bind", str(ipc_dir), IPC_DIR)
    m.add("--bind", str(workcopy), str(cwd))
    m.add("--ro-bind", str(Path(__file__).with_name("sandbox_kernel.py")), INSIDE_SCRIPT)
    caps = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] if uid is not None else []
    if slot:  # a warm kernel joins this sandbox (see WarmKernels); the slot holds it open till then
        inner, kernel_args = ["/bin/sh", "-c", SLOT_SCRIPT, SLOT_NAME], []
    else:
        inner = [sys.executable, INSIDE_SCRIPT, "--inside", "--limits", limits.to_json()]
        if uid is not None:
            inner += ["--uid", str(uid)]
    cmd = [bwrap, *namespace_args(), "--die-with-parent", "--new-session", "--hostname", "sandbox",
           *env_args, *m.args, "--chdir", str(cwd), *caps, "--", *inner, *kernel_args]
    return cmd, env


def _bwrap() -> str:
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxError(f"bubblewrap (`bwrap`) is not installed. {INSTALL_HINT}")
    return bwrap


def _layout(limits: Limits, passwd: Path, mplconfig: Path | None) -> tuple[_Mounts, dict[str, str], list[str]]:
    """The read-only system, the private /tmp and HOME, and the environment, as every sandbox has them."""
    passwd = Path(passwd)
    m = _Mounts()
    for top in ("usr",):
        m.add("--ro-bind", f"/{top}", f"/{top}")
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / top
        if host.is_symlink():
            m.args += ["--symlink", os.readlink(host), f"/{top}"]
            m.made.add(f"/{top}")
        elif host.is_dir():
            m.add("--ro-bind", str(host), f"/{top}")
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            m.add("--ro-bind", f"/etc/{name}", f"/etc/{name}")
    m.add("--ro-bind", str(passwd), "/etc/passwd")
    m.add("--ro-bind", str(passwd.with_name("group")), "/etc/group")
    m.args += ["--proc", "/proc", "--dev", "/dev",  # /dev/shm: a tmpfs of limited size (it is memory)
               "--size", str(limits.disk_mb * 2**20), "--perms", "1777", "--tmpfs", "/dev/shm"]
    m.made |= {"/proc", "/dev", "/dev/shm"}
    # the private /tmp comes before the read-only binds: a checkout (and its .venv) may live
    # under /tmp, and a tmpfs mounted later would hide it
    m.args += ["--size", str(limits.disk_mb * 2**20), "--perms", "1777", "--tmpfs", "/tmp"]
    m.made.add("/tmp")
    # Python itself, the environment and the course package: read-only
    ro = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), course_package_dir()]
    real_python = Path(sys.executable).resolve()
    if not any(real_python.is_relative_to(r) or str(real_python).startswith("/usr/") for r in ro):
        ro.append(real_python.parent)
    data = data_dir()
    if data is not None:
        ro.append(data)
    for path in ro:
        if not str(path).startswith("/usr/") and str(path) != "/usr":
            m.add("--ro-bind", str(path), str(path))
    # private, writable
    m.args += ["--perms", "0777", "--dir", HOME]
    m.made.add(HOME)
    if mplconfig is not None:
        m.add("--bind", str(mplconfig), f"{HOME}/.config/matplotlib")

    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": HOME, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
        "MPLCONFIGDIR": f"{HOME}/.config/matplotlib", "XDG_CACHE_HOME": f"{HOME}/.cache",
        "COURSE_CACHE_DIR": f"{HOME}/.cache/intro-dl-course", "KERAS_HOME": f"{HOME}/.keras",
        "JUPYTER_RUNTIME_DIR": f"{HOME}/.local/share/jupyter/runtime", "IPYTHONDIR": f"{HOME}/.ipython",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "VIRTUAL_ENV": sys.prefix,
        "COURSE_SANDBOX": "1",
    }
    for name in PASSTHROUGH_ENV:
        if name in os.environ:
            env[name] = os.environ[name]
    if data is not None:
        env["COURSE_DATA_DIR"] = str(data)
    env_args: list[str] = ["--clearenv"]
    for k, v in env.items():
        env_args += ["--setenv", k, v]
    return m, env, env_args


# --- warm kernels ----------------------------------------------------------------------------

def warm_kernels_possible() -> bool:
    """Warm kernels need root (joining another sandbox's namespaces) and may be turned off with
    ``COURSE_WARM_KERNELS=0``; otherwise every kernel starts as a new Python in its sandbox."""
    return privileged() and os.environ.get("COURSE_WARM_KERNELS", "1") != "0" and bwrap_path() is not None


class WarmKernels:
    """A server whose forks are the course's kernels, warm: it has imported ipykernel, numpy,
    matplotlib, torch and Keras once (4-5 s that every grading kernel spent again).

    It runs in a sandbox of its own, laid out like a kernel's (the same read-only system, ``/tmp``,
    ``HOME`` and environment, so what the imports cached is valid inside a kernel's sandbox), but
    in the host's pid namespace and as root: it never runs student code.  For each kernel the
    wrapper (:mod:`autograder.sandbox_kernel`) builds the kernel's sandbox exactly as for a cold
    start, with a placeholder (the *slot*) in place of the kernel, and asks the server over a unix
    socket (in a 0700 folder); the server forks, the fork joins every namespace of the slot
    (``setns``: mount, pid, network, ipc, uts, cgroup) and its root folder, forks the kernel into
    the sandbox's pid namespace, which sets the same limits as a cold kernel, drops every
    capability and root, installs the integrity guard and starts ipykernel.  The kernel dies with
    the sandbox, as a cold one does.

    Use it as a context manager around a batch; :attr:`socket` is None if it could not start
    (:attr:`problem` says why) and the kernels then start cold.
    """

    def __init__(self, limits: Limits | None = None, start_timeout: float = 180.0) -> None:
        self.limits = limits or Limits()
        self.start_timeout = start_timeout
        self.socket: str | None = None
        self.problem = ""
        self.proc: subprocess.Popen | None = None
        self.folder: Path | None = None

    def __enter__(self) -> "WarmKernels":
        try:
            self.start()
        except Exception as err:  # noqa: BLE001 (cold kernels still grade correctly)
            self.problem = f"{type(err).__name__}: {err}"
            self.close()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> str:
        import select

        if not warm_kernels_possible():
            raise SandboxError("warm kernels need root and COURSE_WARM_KERNELS not set to 0")
        self.folder = Path(tempfile.mkdtemp(prefix="course-warm-"))  # 0700: only root reaches the socket
        (self.folder / "sock").mkdir(mode=0o700)
        (self.folder / "passwd").write_text("root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        (self.folder / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
        mplconfig = matplotlib_folder(self.folder / "matplotlib")
        m, _, env_args = _layout(self.limits, self.folder / "passwd", mplconfig)
        m.add("--bind", str(self.folder / "sock"), WARM_DIR)
        m.add("--ro-bind", str(Path(__file__).with_name("sandbox_kernel.py")), INSIDE_SCRIPT)
        cmd = [_bwrap(), "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session",
               *env_args, *m.args, "--chdir", HOME, "--cap-add", "ALL", "--",
               sys.executable, INSIDE_SCRIPT, "--warm-server", f"{WARM_DIR}/socket"]
        log = open(self.folder / "log", "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        log.close()
        ready, _, _ = select.select([self.proc.stdout], [], [], self.start_timeout)
        line = self.proc.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            tail = (self.folder / "log").read_text(errors="replace")[-2000:]
            raise SandboxError(f"the warm-kernel server did not start ({'timed out' if not ready else 'exited'}): "
                               f"{tail.strip() or 'no output'}")
        self.socket = str(self.folder / "sock" / "socket")
        return self.socket

    def log(self) -> str:
        """The server's log: a line per kernel started, and its problems."""
        try:
            return (self.folder / "log").read_text(errors="replace") if self.folder is not None else ""
        except OSError:
            return ""

    def kernels_started(self) -> int:
        return self.log().count(STARTED + " ")

    def close(self) -> None:
        self.socket = None
        if self.proc is not None:
            try:
                self.proc.stdin.close()  # the server ends when its stdin closes
                self.proc.wait(10)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
