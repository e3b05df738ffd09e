"""bubblewrap: whether it works here, and the command line of a sandbox (see :mod:`autograder.sandbox`)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from autograder.sandbox.inside import HOME, SLOT_NAME
from autograder.sandbox.limits import Limits, SandboxError

INSIDE_SCRIPT = "/opt/course-sandbox/inside.py"  # where the startup code is, inside
IPC_DIR = "/run/kernel"  # where the kernel's unix sockets are, inside
SANDBOX_UID = 1000  # the student's uid as seen inside (user-namespace mode)
WARM_DIR = "/run/warm"  # where the warm-kernel server's socket is, inside its own sandbox
# A sandbox that a warm kernel will join runs this instead of the kernel: it says that the sandbox
# is built, then holds it open until the wrapper writes the warm kernel's exit code, and ends with
# that code, so that bwrap ends as it would have ended with the kernel inside.
SLOT_SCRIPT = 'echo ready; read code; exit "${code:-1}"'
INSTALL_HINT = ("Install bubblewrap: `apt-get install -y bubblewrap` (Debian/Ubuntu; "
                "`dnf install bubblewrap` on Fedora).")
INSIDE_FILE = Path(__file__).with_name("inside.py")  # mounted at INSIDE_SCRIPT


def bwrap_path() -> str | None:
    return shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)), None)


@lru_cache(maxsize=1)
def probe() -> str:
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
    return not probe()


def require() -> None:
    """Raise :class:`SandboxError` saying what to do if the sandbox cannot run here."""
    problem = probe()
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


def package_folders() -> list[Path]:
    """The folders of installed packages on this Python's path (``site-packages``), the ones a
    ``.pth`` file adds from another environment included; never a source checkout or the current folder."""
    out = []
    for entry in sys.path:
        path = Path(entry).resolve() if entry else None
        if path is not None and path.name in ("site-packages", "dist-packages") and path.is_dir() and path not in out:
            out.append(path)
    return out


def anchor_data_dir() -> None:
    """Make a relative ``COURSE_DATA_DIR`` absolute, from the current folder: it is read again in
    folders of its own (a kernel's wrapper runs in the notebook's), where it would name nothing."""
    value = os.environ.get("COURSE_DATA_DIR", "").strip()
    if value and not os.path.isabs(value):
        os.environ["COURSE_DATA_DIR"] = os.path.abspath(value)


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
    bwrap = bwrap_executable()
    m, env, env_args = layout(limits, passwd, mplconfig)
    m.add("--bind", str(ipc_dir), IPC_DIR)
    m.add("--bind", str(workcopy), str(cwd))
    m.add("--ro-bind", str(INSIDE_FILE), INSIDE_SCRIPT)
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


def bwrap_executable() -> str:
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxError(f"bubblewrap (`bwrap`) is not installed. {INSTALL_HINT}")
    return bwrap


def layout(limits: Limits, passwd: Path, mplconfig: Path | None,
           environ: dict[str, str] | None = None) -> tuple[_Mounts, dict[str, str], list[str]]:
    """The read-only system, the private /tmp and HOME, and the environment, as every sandbox has them
    (the variables of ``PASSTHROUGH_ENV`` come from ``environ``, by default this process's)."""
    environ = os.environ if environ is None else environ
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
    ro += [p for p in package_folders() if not any(p.is_relative_to(r) for r in ro)]
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
        if name in environ:
            env[name] = environ[name]
    if data is not None:
        env["COURSE_DATA_DIR"] = str(data)
    env_args: list[str] = ["--clearenv"]
    for k, v in env.items():
        env_args += ["--setenv", k, v]
    return m, env, env_args


# --- warm kernels ----------------------------------------------------------------------------
