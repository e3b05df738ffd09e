"""The code that runs inside the sandbox: standard library only, until the kernel starts.

This file is mounted read-only into every sandbox (``/opt/course-sandbox/inside.py``) and run
there by Python as a script: ``--inside`` starts a kernel (:func:`inside_main`), ``--warm-server``
the warm-kernel server (:func:`warm_server_main`).  It imports nothing of ``autograder``.

Inside the sandbox (``--inside``, or in the warm kernel), before the kernel starts, this file drops root to the
sandbox uid, imports the course's modules before the notebook's folder is on the module path (a
``course/`` handed in beside the notebook must not replace them; the folder is searched last) and
installs the **integrity guard** (:func:`install_guard`): student code runs
in the same interpreter as the hidden tests, so it could replace ``np.allclose``,
``numpy.testing``, ``course.feedback.check``, a builtin, or a function's ``__code__`` and
pass every test.  The guard is a ``sys.addaudithook`` hook, which cannot be removed.  The
``exec`` audit event fires before every top-level statement of every cell (IPython runs
each one with ``exec``); at the first one the guard records the pristine objects (the
dictionaries of the numpy, course, math and builtins modules, the code objects and
defaults of their functions, the names ``np``, ``check``, ``Hint``... in the notebook's
namespace; the keyword-only defaults and closure cells of those functions and of the course's
classes' methods, which change in place without an audit event); before each later statement it
compares the modules, the names and what the functions hold in place, and as each cell starts the
functions' code and defaults too (reading those raises an audit event per function, thousands of
them), reading only the dictionaries it took before any student code ran (never through an
attribute or a method a student could replace).  ``object.__setattr__`` events (a
function's ``__code__``/``__defaults__``, attributes of numpy or course classes) are caught
as they happen, also while the guard compares (a student's code can run then, in the ``__eq__`` of
a dictionary key that collides with a name the guard looks up).  The ``check*`` functions of ``course.feedback`` and ``course.model_checks``
(every name in their ``__all__`` is protected in the notebook's namespace) also verify before
and after each check, which catches a student function that tampers while a test calls it.  On tampering the guard
restores the pristine objects and from then on fails every cell with
``GradingIntegrityError`` naming what was modified: the tampering student gets no points
for the rest of the notebook.  Limits of an in-process guard: a student who deliberately
digs out the guard's state through ``gc``, or forges protocol messages with the kernel's
own session, can still fool it (a forged second ``execute_reply`` is detected by the
wrapper, which then stops the kernel).
"""
from __future__ import annotations

import json
import os
import sys

HOME = "/tmp/home"
CHECK_MODULES = ("course.feedback", "course.model_checks")  # names in their __all__ are protected


# ============================================================================================
# inside the sandbox: stdlib only until the kernel starts
# ============================================================================================

class GradingIntegrityError(Exception):
    """Student code modified the helpers the tests rely on."""


def install_guard() -> None:  # noqa: C901  (one closure on purpose: less to reach from outside)
    import builtins
    import functools
    import importlib
    import itertools
    import operator
    import types

    get_code = operator.attrgetter("__code__")
    get_defaults = operator.attrgetter("__defaults__")
    get_kwdefaults = operator.attrgetter("__kwdefaults__")
    get_contents = operator.attrgetter("cell_contents")
    # busy: the guard is comparing or restoring (a cell's exec then is not checked again); restoring: it
    # is writing a function's code or defaults back (the only such writes that are not tampering)
    state: dict = {"snap": None, "tampered": [], "busy": False, "restoring": False, "shell": None, "cell": None}
    # what the guard reads, taken before any student code: never through an attribute the student
    # could turn into code of theirs (a class's property, a dict subclass's method)
    sys_dict, real_modules = sys.__dict__, sys.modules
    skip_builtins = {"_", "__", "___", "exit", "quit", "get_ipython", "display", "__IPYTHON__",
                     "__builtins__", "__loader__", "__spec__", "__name__", "__doc__", "__package__",
                     "__build_class__", "__import__", "copyright", "credits", "license", "help",
                     "input", "raw_input", "getpass"}  # ipykernel swaps input() per request
    real_exec, real_compile = builtins.exec, builtins.compile

    def is_cell(filename: str) -> bool:
        return "ipykernel_" in filename or filename.startswith("<ipython-input")

    def protected_module(name: str) -> bool:
        return name in ("numpy", "course", "math", "numbers", "builtins") or name.startswith(("numpy.", "course."))

    def keep(modname: str, key: str) -> bool:
        if key.startswith("__") and key.endswith("__"):
            return False
        if modname == "builtins":
            return key not in skip_builtins
        return not (modname.startswith("numpy") and key.startswith("_"))

    def guarded(original):
        @functools.wraps(original)
        def check(*args, **kwargs):
            verify_or_raise()
            result = original(*args, **kwargs)
            verify_or_raise()
            return result

        check._course_guarded = True
        return check

    def snapshot() -> None:
        import math  # noqa: F401
        import numbers  # noqa: F401

        import numpy
        import numpy.linalg  # noqa: F401
        import numpy.random  # noqa: F401
        import numpy.testing  # noqa: F401
        helpers = []  # the course's check modules: their check* functions verify before and after
        try:
            import course
            for modname in CHECK_MODULES:
                try:
                    helpers.append(importlib.import_module(modname))
                except Exception:
                    pass
        except Exception:  # the guard still protects numpy and builtins
            course = None
        for helper in helpers:
            for fname in getattr(helper, "__all__", ()):
                original = getattr(helper, fname, None)
                if (fname.startswith("check") and callable(original)
                        and not getattr(original, "_course_guarded", False)):
                    setattr(helper, fname, guarded(original))
        modules, functions, types_ = {}, {}, set()
        for name in list(sys.modules):
            mod = sys.modules.get(name)
            if not protected_module(name) or not isinstance(mod, types.ModuleType):
                continue
            entries = {k: v for k, v in vars(mod).items() if keep(name, k)}
            keys = tuple(entries)
            getter = operator.itemgetter(*keys) if len(keys) > 1 else (lambda d, k=keys: tuple(d[x] for x in k))
            modules[name] = (mod, type(mod), entries, getter, tuple(entries.values()))
            for v in entries.values():
                for f in (v, getattr(v, "_implementation", None), getattr(v, "__wrapped__", None)):
                    if isinstance(f, types.FunctionType):
                        functions[id(f)] = (f, f.__code__, f.__defaults__, f.__kwdefaults__)
                if isinstance(v, type) and str(getattr(v, "__module__", "")).startswith(("course", "numpy")):
                    types_.add(id(v))
                    if str(v.__module__).startswith("course"):  # its methods, as the module's functions
                        for m in vars(v).values():
                            m = getattr(m, "__func__", m)
                            if isinstance(m, types.FunctionType):
                                functions[id(m)] = (m, m.__code__, m.__defaults__, m.__kwdefaults__)
        names = {"np": numpy, "numpy": numpy}
        if course is not None:
            names["course"] = course
        for helper in helpers:
            names.update({n: getattr(helper, n) for n in getattr(helper, "__all__", ()) if hasattr(helper, n)})
        try:
            from IPython.core.interactiveshell import InteractiveShell
            state["shell"] = InteractiveShell._instance
        except Exception:
            state["shell"] = None
        ns = getattr(state["shell"], "user_ns", None)  # (no student code has run yet)
        state["ns"] = ns if isinstance(ns, dict) else None
        state["snap"] = (modules, functions, types_, names)
        state["fast"] = tuple(zip(*functions.values())) or ((), (), (), ())
        # what a function holds that can change in place, without an audit event: its keyword-only
        # defaults and its closure's cells (a guarded check's wrapped function is in one)
        state["held"] = tuple((f, dict(f.__kwdefaults__ or {}), tuple(_cell_contents(f.__closure__ or ())))
                              for f, _, _, _ in functions.values() if f.__kwdefaults__ or f.__closure__)
        # the same, flat, to compare at C speed before every statement: reading a function's attributes
        # raises an audit event each (this hook, in Python), reading a dictionary or a cell does not
        dicts = [(f.__kwdefaults__, kw) for f, kw, _ in state["held"] if kw]
        cells = [(c, v) for f, _, contents in state["held"] for c, v in zip(f.__closure__ or (), contents)]
        state["held_fast"] = (
            tuple(d for d, _ in dicts), tuple(len(kw) for _, kw in dicts),
            tuple(d for d, kw in dicts for _ in kw), tuple(k for _, kw in dicts for k in kw),
            tuple(v for _, kw in dicts for v in kw.values()),
            tuple(c for c, v in cells if v is not _MISSING), tuple(v for _, v in cells if v is not _MISSING),
            tuple(c for c, v in cells if v is _MISSING))

    def held_unchanged() -> bool:
        dicts, lens, refs, keys, values, cells, contents, empty = state["held_fast"]
        try:
            return not (any(map(operator.ne, map(dict.__len__, dicts), lens))
                        or any(map(operator.is_not, map(dict.get, refs, keys, itertools.repeat(_MISSING)), values))
                        or any(map(operator.is_not, map(get_contents, cells), contents))
                        or any(map(operator.is_not, _cell_contents(empty), itertools.repeat(_MISSING))))
        except ValueError:  # a cell emptied
            return False

    def problems(functions_too: bool = True) -> list[str]:
        modules, functions, _, names = state["snap"]
        found = []
        if dict.get(sys_dict, "modules") is not real_modules:
            found.append("sys.modules was replaced")
        for name, (mod, mtype, entries, getter, values) in modules.items():
            if dict.get(real_modules, name) is not mod:
                found.append(f"sys.modules[{name!r}] was replaced")
                continue
            if type(mod) is not mtype:
                found.append(f"the class of module {name} was changed")
                continue
            current = vars(mod)
            try:  # fast path, at C speed: every value still the same object
                if not any(map(operator.is_not, getter(current), values)):
                    continue
            except KeyError:
                pass
            for k, v in entries.items():
                if current.get(k, _MISSING) is not v:
                    what = "deleted" if k not in current else "replaced"
                    found.append(f"{'builtin ' + k if name == 'builtins' else name + '.' + k} was {what}")
        fns, codes, defs, kwdefs = state["fast"] if functions_too else ((), (), (), ())
        unchanged = (not any(map(operator.is_not, map(get_code, fns), codes))
                     and not any(map(operator.is_not, map(get_defaults, fns), defs))
                     and not any(map(operator.is_not, map(get_kwdefaults, fns), kwdefs)))
        for f, code, defaults, kwdefaults in (() if unchanged else functions.values()):
            if f.__code__ is not code:
                found.append(f"the code of {f.__module__}.{f.__qualname__} was replaced")
            elif f.__defaults__ is not defaults or f.__kwdefaults__ is not kwdefaults:
                found.append(f"the default arguments of {f.__module__}.{f.__qualname__} were changed")
        for f, kwdefaults, contents in (() if held_unchanged() else state["held"]):
            if (kwdefaults and (len(f.__kwdefaults__) != len(kwdefaults) or any(
                    dict.get(f.__kwdefaults__, k, _MISSING) is not v for k, v in kwdefaults.items()))) \
                    or any(map(operator.is_not, _cell_contents(f.__closure__ or ()), contents)):
                found.append(f"the defaults or the closure of {f.__module__}.{f.__qualname__} were changed")
        ns = state.get("ns")
        if ns is not None:
            for n, obj in names.items():
                if dict.__contains__(ns, n) and dict.get(ns, n) is not obj:
                    found.append(f"the name `{n}` no longer refers to {getattr(obj, '__module__', '') or ''}"
                                 f"{'.' if getattr(obj, '__module__', None) else ''}{getattr(obj, '__name__', n)}")
        return found

    def restore() -> None:
        modules, functions, _, _ = state["snap"]
        dict.__setitem__(sys_dict, "modules", real_modules)
        for name, (mod, mtype, entries, _, _) in modules.items():
            dict.__setitem__(real_modules, name, mod)
            try:
                if type(mod) is not mtype:
                    object.__setattr__(mod, "__class__", mtype)
            except Exception:
                pass
            if type(mod) is mtype:  # (else reading its __dict__ could run the student's code)
                dict.update(vars(mod), entries)
        for f, code, defaults, kwdefaults in functions.values():
            try:
                state["restoring"] = True
                f.__code__, f.__defaults__, f.__kwdefaults__ = code, defaults, kwdefaults
            except Exception:
                pass
            finally:
                state["restoring"] = False
        for f, kwdefaults, contents in state["held"]:
            if kwdefaults and isinstance(f.__kwdefaults__, dict):
                dict.clear(f.__kwdefaults__)
                dict.update(f.__kwdefaults__, kwdefaults)
            for cell, value in zip(f.__closure__ or (), contents):
                if value is not _MISSING:
                    cell.cell_contents = value
        ns = state.get("ns")
        if ns is not None:
            for n, obj in state["snap"][3].items():
                if dict.__contains__(ns, n):
                    dict.__setitem__(ns, n, obj)

    def message() -> str:
        seen = list(dict.fromkeys(state["tampered"]))
        listed = "; ".join(seen[:8]) + (f"; and {len(seen) - 8} more" if len(seen) > 8 else "")
        return (f"grading helpers were modified by your code: {listed}. The tests cannot trust them, so this "
                "cell and every cell after it score 0. Do not replace or patch numpy, course.feedback, "
                "Python's builtins or the names np/check/Hint in your answers; then restart the kernel and "
                "run all cells.")

    def verify_or_raise(functions_too: bool = True) -> None:
        if state["snap"] is None or state["busy"]:
            return
        state["busy"] = True
        try:
            found = problems(functions_too)
            if found:
                state["tampered"].extend(found)
                restore()
        finally:
            state["busy"] = False
        if state["tampered"]:
            raise GradingIntegrityError(message())

    def hook(event: str, args: tuple) -> None:
        # a function's code or defaults, a numpy or course class: caught as they change, also while the
        # guard compares (code of the student's can run then, in a dictionary key's __eq__, say)
        if event in ("object.__setattr__", "object.__delattr__") and state["snap"] is not None \
                and not state["restoring"]:
            obj, attr = args[0], args[1]
            _, functions, types_, _ = state["snap"]
            if id(obj) in functions and attr in ("__code__", "__defaults__", "__kwdefaults__"):
                what = f"{attr} of {obj.__module__}.{obj.__qualname__} was set"
            elif id(obj) in types_:
                what = f"{obj.__module__}.{obj.__qualname__}.{attr} was {'set' if event.endswith('setattr__') else 'deleted'}"
            else:
                return
            state["tampered"].append(what)
            raise GradingIntegrityError(message())
        if state["busy"]:
            return
        if event == "exec":
            code = args[0] if args else None
            filename = getattr(code, "co_filename", "") or ""
            if not is_cell(filename):
                return
            if state["snap"] is None:
                state["busy"] = True
                try:
                    snapshot()
                finally:
                    state["busy"] = False
                state["cell"] = filename
                return
            # before every statement: the modules, the names, what functions hold in place; the functions'
            # code and defaults (thousands, each read an audit event) as each cell starts and around each
            # check, since every change of them is caught as it happens (above)
            verify_or_raise(functions_too=filename != state["cell"])
            state["cell"] = filename
        elif state["snap"] is not None and (builtins.exec is not real_exec or builtins.compile is not real_compile):
            state["tampered"].append("builtin exec or compile was replaced")
            builtins.exec, builtins.compile = real_exec, real_compile

    sys.addaudithook(hook)


class _Missing:
    pass


_MISSING = _Missing()


def _cell_contents(cells) -> list:
    """What each closure cell holds (``_MISSING`` for an empty one)."""
    out = []
    for cell in cells:
        try:
            out.append(cell.cell_contents)
        except ValueError:
            out.append(_MISSING)
    return out


def quick_tracebacks() -> None:
    """Make IPython's tracebacks cheap again in a kernel that has torch and Keras loaded.

    IPython asks ``inspect.getmodule`` what module each frame of a traceback belongs to (and
    ``inspect.findsource`` asks again with the frame's file).  For a notebook cell's file no module
    has it, and ``getmodule`` then walks all of ``sys.modules`` (4,000+ entries here) every time:
    20-100 ms per traceback, seconds per graded notebook of a student who left cells blank.  For an
    object with neither ``__module__`` nor ``__name__`` (a frame, a code object) whose file is a
    cell's, ``getmodule`` can only answer None; it is answered at once."""
    import functools
    import inspect

    original = inspect.getmodule

    @functools.wraps(original)
    def getmodule(object, _filename=None):  # noqa: A002 (inspect's own parameter name)
        if not hasattr(object, "__module__") and not hasattr(object, "__name__"):
            try:
                file = _filename if _filename is not None else inspect.getfile(object)
            except TypeError:
                file = None
            if isinstance(file, str) and ("/ipykernel_" in file or file.startswith("<ipython-input")):
                return None
        return original(object, _filename)

    inspect.getmodule = getmodule


def quick_figures() -> None:
    """Draw an inline figure once, not twice, in a kernel that has pyplot imported already (a warm one).

    After each cell pyplot draws every stale figure (``_draw_all_if_interactive``, an IPython
    ``post_execute`` callback), and right after it the inline backend draws each again to make the
    PNG it shows.  With the inline backend the first drawing is thrown away: 1-2 s per student in
    the course's plotting notebooks.  The figures shown are the same."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None or not callable(getattr(pyplot, "_draw_all_if_interactive", None)):
        return
    original = pyplot._draw_all_if_interactive

    def _draw_all_if_interactive() -> None:
        if "backend_inline" not in str(pyplot.matplotlib.get_backend()):
            original()

    pyplot._draw_all_if_interactive = _draw_all_if_interactive  # (pyplot registers it by this name)


def capped_streams(limit: int) -> None:
    """Keep a runaway ``print`` from filling the kernel's memory before the wrapper's output cap drops it.

    ipykernel gathers what a cell prints until its I/O thread sends it as one message (copied and
    encoded on the way); a 50 MB line took 150 MB of the kernel's memory, and in a busy run a kernel printing
    150 MB went over 512 MB.  The wrapper outside drops any output message that does not fit in what
    is left of ``output_mb`` (in bytes, never fewer than the message's characters).  So a message
    that will hold more than ``limit`` characters (``output_mb``) is dropped there whatever it holds:
    here a write is cut where the message it joins passes ``limit`` characters (by one), and what
    comes for that message after it is not kept.  The message still goes over, the wrapper drops it
    with the same notice, and later messages are forwarded as before: the student sees the same
    outputs.  A student's code can undo it; the memory limit still stops the kernel."""
    from ipykernel.iostream import OutStream

    original = OutStream.write

    def write(self, string):
        lock = getattr(self, "_buffer_lock", None)
        if not isinstance(string, str) or lock is None or not hasattr(self, "_buffers") or self.pub_thread is None:
            return original(self, string)  # (its own errors, or an ipykernel without these: uncut)
        with lock:  # (an RLock, which the original takes too): the I/O thread sends nothing meanwhile
            pending = self._buffers[frozenset(self.parent_header.items())].tell()  # characters of the message
            if pending > limit:
                return len(string)
            if pending + len(string) > limit + 1:
                original(self, string[:limit + 1 - pending])
                return len(string)
            return original(self, string)

    OutStream.write = write


def inside_main(argv: list[str]) -> None:
    """Start the kernel inside the sandbox: drop root, prepare HOME, install the guard, run ipykernel."""
    uid = None
    if "--uid" in argv:
        i = argv.index("--uid")
        uid = int(argv[i + 1])
        del argv[i:i + 2]
    limits = {}
    if "--limits" in argv:
        i = argv.index("--limits")
        limits = json.loads(argv[i + 1])
        del argv[i:i + 2]
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise SystemExit("sandbox: could not drop privileges")
    os.umask(0o022)
    for sub in ("", "/.config/matplotlib", "/.cache", "/.local/share/jupyter/runtime", "/.ipython"):
        os.makedirs(HOME + sub, exist_ok=True)
    if os.path.dirname(os.path.abspath(__file__)) in sys.path:
        sys.path.remove(os.path.dirname(os.path.abspath(__file__)))
    # A `course/` or `numpy/` handed in beside the notebook must not stand in for the installed one: the
    # course's modules (numpy with them) are imported before the notebook's folder is on the path (an
    # editable install's finder comes after every path entry), and the folder is searched last (IPython
    # puts it before site-packages unless '' is on the path already); the student's own modules still import.
    # All of them, so that none is left to load from a folder a student adds to ``course.__path__``.
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]
    if not os.environ.get("MPLBACKEND"):  # as ipykernel sets it, before matplotlib is imported here
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    import_course()  # (a warm kernel finds them imported by its server)
    sys.path.append("")
    quick_tracebacks()
    quick_figures()
    install_guard()
    if limits.get("output_mb"):
        capped_streams(limits["output_mb"] * 2**20)
    sys.argv = ["ipykernel_launcher", *argv]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def import_course() -> None:
    """Import every module of the course package (a module that fails is left to the notebook's own
    import, which says what is wrong)."""
    try:
        import pkgutil

        import course
        for name in (*CHECK_MODULES, *(f"course.{m.name}" for m in pkgutil.iter_modules(course.__path__))):
            try:
                __import__(name)
            except Exception:  # noqa: BLE001
                pass
    except Exception:  # noqa: BLE001
        pass


# ============================================================================================
# the warm-kernel server (in a sandbox of its own, as root; see autograder.sandbox.WarmKernels)
# ============================================================================================

# What the course's notebooks import; a kernel forked from the server finds them imported.  Not
# matplotlib_inline.backend_inline: importing it hooks figures into the running IPython shell, and
# the server has none (a kernel that found it imported would show no plots).
WARM_IMPORTS = ("numpy", "numpy.testing", "scipy.special", "matplotlib.pyplot", "ipywidgets", "pooch",
                "ipykernel.kernelapp", "torch", "keras")
SLOT_NAME = "course-sandbox-slot"  # the placeholder process in a sandbox a warm kernel joins
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
STARTED = "warm-kernel server: started kernel"  # a line of the server's log per kernel


def rlimits(limits: dict, nproc: int) -> list[tuple[str, int, int]]:
    """The resource limits of a sandboxed kernel, (RLIMIT name, soft, hard), from Limits' fields."""
    mb, address_space = 2**20, limits["address_space_mb"]
    return [("RLIMIT_CORE", 0, 0), ("RLIMIT_CPU", limits["cpu_seconds"], limits["cpu_seconds"] + 5),
            ("RLIMIT_FSIZE", limits["file_size_mb"] * mb, limits["file_size_mb"] * mb),
            ("RLIMIT_AS", address_space * mb, address_space * mb), ("RLIMIT_NPROC", nproc, nproc)]


def confine(limits: list, libc) -> None:
    """In the process that becomes the kernel: the limits, first to be killed when memory runs out,
    killed with its parent."""
    import resource
    import signal

    for name, soft, hard in limits:
        resource.setrlimit(getattr(resource, name), (soft, hard))
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))


def warm_server_main(argv: list[str]) -> None:
    """Import what the kernels need, then fork a kernel for every request on the socket ``argv[0]``;
    end when stdin closes, at once: with ``os._exit``, as its forks end (Python's own clean-up of torch and
    Keras, which nothing here needs, took 1.4 s of CPU at every close)."""
    import importlib
    import select
    import signal
    import socket

    here = os.path.dirname(os.path.abspath(__file__))
    if here in sys.path:
        sys.path.remove(here)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel sets it
    for name in WARM_IMPORTS:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 (a kernel imports it itself, or fails as it would cold)
            sys.stderr.write(f"warm-kernel server: cannot import {name}: {err!r}\n")
    import_course()
    import inspect

    inspect.getmodule(None, "/")  # its file-to-module cache, built for what is imported (a kernel's first traceback)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(argv[0])
    os.chmod(argv[0], 0o600)
    server.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # its forks are reaped by the kernel
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        ready, _, _ = select.select([server, 0], [], [])
        if 0 in ready and not os.read(0, 4096):
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        if server not in ready:
            continue
        conn, _ = server.accept()
        try:
            conn.settimeout(10)
            data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
            request = json.loads(data)
        except Exception as err:  # noqa: BLE001
            sys.stderr.write(f"warm-kernel server: bad request: {err!r}\n")
            conn.close()
            continue
        if os.fork() == 0:
            code = 1
            try:
                server.close()
                code = _warm_child(request, conn, fds)
            except BaseException as err:  # noqa: BLE001
                try:
                    conn.send(json.dumps({"error": f"{type(err).__name__}: {err}"}).encode())
                except OSError:
                    pass
            finally:
                os._exit(code)
        conn.close()
        for fd in fds:
            os.close(fd)


def _warm_child(request: dict, conn, fds: list[int]) -> int:
    """Join the slot's sandbox, fork the kernel into it, report its pid and, later, its exit code."""
    import ctypes
    import signal

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)
    slot = int(request["slot"])
    with open(f"/proc/{slot}/cmdline", "rb") as f:
        if SLOT_NAME.encode() not in f.read():
            raise RuntimeError(f"process {slot} is not a sandbox slot")
    names = ("ipc", "uts", "net", "cgroup", "pid", "mnt")  # the mount namespace last: /proc changes with it
    ns = [os.open(f"/proc/{slot}/ns/{n}", os.O_RDONLY) for n in names]
    root = os.open(f"/proc/{slot}/root", os.O_RDONLY | os.O_DIRECTORY)
    for name, fd in zip(names, ns):
        if libc.setns(fd, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({name}): {os.strerror(err)}")
        os.close(fd)
    os.fchdir(root)
    os.chroot(".")
    os.close(root)
    os.chdir(request["cwd"])
    pid = os.fork()  # the first process of this pid namespace to be the kernel
    if pid == 0:
        try:
            _warm_kernel(request, conn, fds, libc)
        finally:
            os._exit(1)
    conn.send(json.dumps({"pid": pid}).encode())
    sys.stderr.write(f"{STARTED} {pid} in the sandbox of process {slot}\n")
    sys.stderr.flush()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    try:
        conn.send(json.dumps({"status": 128 - code if code < 0 else code}).encode())
    except OSError:
        pass
    return 0


def _warm_kernel(request: dict, conn, fds: list[int], libc) -> None:
    """The kernel, in the sandbox: what a cold kernel gets from bwrap and the wrapper, then the
    same start (drop root, HOME, the guard, ipykernel)."""
    os.setsid()
    for i, fd in enumerate(fds[:3]):
        os.dup2(fd, i)
    conn.detach()
    os.closerange(3, 1 << 20)
    confine(request["rlimits"], libc)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for cap in range(64):  # as bwrap leaves a kernel: no capability can come back
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.environ.clear()
    os.environ.update(request["env"])
    try:
        inside_main([*request["argv"], "--uid", str(int(request["uid"]))])
    except SystemExit as end:
        os._exit(end.code if isinstance(end.code, int) else 0 if end.code is None else 1)
    os._exit(0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--inside":
        inside_main(argv[1:])
        return 0
    if argv and argv[0] == "--warm-server":
        warm_server_main(argv[1:])
        return 0
    sys.stderr.write("usage: inside.py --inside [kernel args] | --warm-server SOCKET\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
