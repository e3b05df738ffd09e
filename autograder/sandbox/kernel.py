"""The sandboxed kernel: a wrapper outside bwrap, and the startup code inside.

``python -m autograder.sandbox.kernel CONNECTION_FILE [kernel args]`` is the ``argv`` of the
``course-sandbox`` kernel spec (see :mod:`autograder.sandbox`); its limits are the JSON of
:class:`~autograder.sandbox.Limits` in ``$COURSE_SANDBOX_LIMITS`` (else the defaults).  It is the
process nbgrader (jupyter_client) starts, signals and kills, and it:

1. makes a private folder: a copy of the notebook's folder (the working copy), a folder for
   the kernel's unix sockets, and ``/etc/passwd`` for the sandbox user;
2. starts ``bwrap ... python /opt/course-sandbox/inside.py --inside`` with the
   resource limits set (``RLIMIT_*``, ``oom_score_adj=1000``, killed if the wrapper dies);
3. **proxies the five channels**.  nbgrader connects over TCP to 127.0.0.1 as usual, but the
   kernel has its own network namespace, in which the host's 127.0.0.1 does not exist.  So
   the kernel inside binds ZMQ **ipc** (unix-socket) endpoints in a folder bound into the
   sandbox, and the wrapper forwards every message between the TCP endpoints of the
   connection file and those ipc endpoints (ROUTER<->DEALER for shell, control, stdin and
   heartbeat, SUB->PUB for iopub).  Making nbclient itself use ``transport='ipc'`` is fragile:
   the socket files are created relative to the kernel's cwd (``kernel-ipc-1``...), are left
   behind when a kernel dies, nbgrader's ``Execute`` has no way to pass the transport, and
   the socket path would have to exist both inside and outside the sandbox.  The proxy keeps
   nbgrader's side untouched and gives one place to enforce limits on what comes out:
4. **caps output**: an output that does not fit in what is left of the notebook's ``output_mb``
   is dropped, and the student sees one notice per cell; huge error messages are truncated (the
   kernel itself cuts a printed message that is going over the cap, so that it does not fill its
   memory first: :func:`~autograder.sandbox.inside.capped_streams`);
5. **watches the sandbox** (psutil, every 0.25 s): resident memory of all its processes,
   number of tasks, growth of the working copy, wall-clock time per notebook; above a limit
   it kills the whole sandbox (the pid namespace dies with its first process);
6. forwards nbgrader's interrupt (SIGINT at the cell time limit) to the kernel, and kills the
   sandbox if the kernel does not stop within a few seconds;
7. **keeps answering when the kernel died** (killed by a limit, ``os._exit``, a crash): every
   pending and later cell gets an error reply that says what happened and what to do, so
   nbgrader scores those cells 0, finishes the notebook and grades the student normally,
   instead of failing that student's whole submission with ``DeadKernelError``.

With a warm-kernel server (``COURSE_WARM_KERNEL``: its socket; see
:class:`autograder.sandbox.WarmKernels`), step 2 starts the sandbox with a *slot* (a shell that
waits) instead of the kernel, and the server's fork joins the slot's namespaces and starts the
kernel there (:func:`warm_server_main`); it reports the kernel's pid and, at the end, its exit
code, which the wrapper hands to the slot, so that bwrap ends as it would have with the kernel
inside.  If the server cannot be reached, the kernel starts cold.
"""
from __future__ import annotations

import json
import os
import sys

from autograder.sandbox import bwrap
from autograder.sandbox.inside import PR_SET_PDEATHSIG, confine, rlimits
from autograder.sandbox.watchdog import Watchdog


# ============================================================================================
# outside: the wrapper nbgrader starts
# ============================================================================================

SHELL, IOPUB, STDIN, CONTROL, HB = "shell", "iopub", "stdin", "control", "hb"
CHANNELS = {SHELL: 1, IOPUB: 2, STDIN: 3, CONTROL: 4, HB: 5}
OUTPUT_TYPES = {"stream", "display_data", "update_display_data", "execute_result", "error"}
DELIM = b"<IDS|MSG>"
MAX_ERROR_BYTES = 64 * 1024


def _frames_header(frames: list[bytes]) -> tuple[int, dict]:
    try:
        i = frames.index(DELIM)
        return i, json.loads(frames[i + 2])
    except (ValueError, IndexError, json.JSONDecodeError):
        return -1, {}


class Wrapper:
    """Start the sandbox, proxy the channels, watch the limits, answer for a dead kernel."""

    def __init__(self, connection_file: str, limits, kernel_args: list[str]):
        import tempfile

        self.limits = limits
        self.conn = json.loads(open(connection_file).read())
        self.kernel_args = kernel_args
        self._session = None
        # The private folder (working copy, the kernel's unix sockets) goes into the folder
        # COURSE_SANDBOX_TMP names (the batch grader's scratch folder, which the grader
        # removes even if this wrapper is killed), else $TMPDIR, else /tmp: the first that is short
        # (a socket path may be at most 107 bytes), a folder that exists, and not inside the notebook's
        # folder (which is copied into it).
        self.cwd = os.getcwd()

        def usable(d: str | None) -> bool:
            return (bool(d) and len(d) <= 60 and os.path.isdir(d)
                    and os.path.commonpath([os.path.realpath(d), self.cwd]) != self.cwd)

        base = next((d for d in (os.environ.get("COURSE_SANDBOX_TMP"), tempfile.gettempdir()) if usable(d)), "/tmp")
        self.private = tempfile.mkdtemp(prefix="course-sandbox-", dir=base)
        self.proc = None
        self.dead_reason = ""
        self.ready = False
        self.shutting_down = False
        self.pending: dict[str, tuple[list[bytes], dict]] = {}  # execute_request msg_id -> (idents, header)
        self.replied: set[str] = set()
        self.output_bytes = 0
        self.notified: set[str] = set()
        self.interrupted_at = None
        self.interrupt_requested = False
        self.started = None
        # a warm kernel: a fork of the server at this socket joins the sandbox (autograder.sandbox.WarmKernels)
        self.warm = os.environ.get("COURSE_WARM_KERNEL") if bwrap.privileged() else None
        self.kernel_pid: int | None = None
        self.warm_conn = None

    @property
    def session(self):
        """Signs the messages the wrapper writes itself (rare: a dead kernel, the output limit), so
        jupyter_client (0.15 s to import) is imported only then."""
        if self._session is None:
            from jupyter_client.session import Session

            self._session = Session(key=self.conn.get("key", "").encode(), username="kernel",
                                    signature_scheme=self.conn.get("signature_scheme", "hmac-sha256"))
        return self._session

    # --- set-up -----------------------------------------------------------------------------
    def _choose_uid(self) -> int | None:
        if not bwrap.privileged():
            return None
        import psutil

        used = set()
        for p in psutil.process_iter(["uids"]):
            try:
                used.add(p.info["uids"].real)
            except Exception:
                pass
        start = (os.getpid() * 7919) % 60000
        for i in range(60000):
            uid = 200000 + (start + i) % 60000
            if uid not in used:
                return uid
        raise bwrap.SandboxError("no free uid for the sandbox")

    def _prepare(self) -> list[str]:
        import shutil

        self.uid = self._choose_uid()
        work = os.path.join(self.private, "work")
        ipc = os.path.join(self.private, "ipc")
        shutil.copytree(self.cwd, work, symlinks=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "kernel-*.json"))
        os.makedirs(ipc)
        mplconfig = str(bwrap.matplotlib_folder(os.path.join(self.private, "matplotlib")))
        inside_uid = self.uid if self.uid is not None else bwrap.SANDBOX_UID
        with open(os.path.join(self.private, "passwd"), "w") as f:
            f.write(f"root:x:0:0:root:/root:/usr/sbin/nologin\nstudent:x:{inside_uid}:{inside_uid}:student:"
                    f"{bwrap.HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        with open(os.path.join(self.private, "group"), "w") as f:
            f.write(f"root:x:0:\nstudent:x:{inside_uid}:\nnogroup:x:65534:\n")
        inner_conn = {"transport": "ipc", "ip": f"{bwrap.IPC_DIR}/k", "key": self.conn.get("key", ""),
                      "signature_scheme": self.conn.get("signature_scheme", "hmac-sha256"),
                      **{f"{ch}_port": n for ch, n in CHANNELS.items()}}
        with open(os.path.join(ipc, "kernel.json"), "w") as f:
            json.dump(inner_conn, f)
        if self.uid is not None:
            for root, dirs, files in os.walk(self.private):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.lchown(name, self.uid, self.uid)
        self.work = work
        self.watchdog = Watchdog(self.limits, self.private)
        self.inner_args = ["-f", f"{bwrap.IPC_DIR}/kernel.json", *self.kernel_args]

        def command(slot: bool) -> tuple[list[str], dict]:
            return bwrap.bwrap_command(
                self.limits, cwd=self.cwd, workcopy=work, ipc_dir=ipc, passwd=os.path.join(self.private, "passwd"),
                uid=self.uid, kernel_args=self.inner_args, mplconfig=mplconfig, slot=slot)

        self.command = command
        self.ipc = ipc

    def _nproc_limit(self) -> int:
        extra = self.limits.processes + 64
        if self.uid is not None:
            return extra
        import psutil

        mine, me = 0, os.getuid()
        for p in psutil.process_iter(["uids", "num_threads"]):
            try:
                if p.info["uids"].real == me:
                    mine += p.info["num_threads"] or 1
            except Exception:
                pass
        return mine + extra

    def _rlimits(self, nproc: int) -> list[tuple[str, int, int]]:
        return rlimits({**vars(self.limits), "address_space_mb": self.limits.address_space_mb}, nproc)

    def _preexec(self, nproc: int):
        import ctypes

        limits = self._rlimits(nproc)

        def run():
            confine(limits, ctypes.CDLL(None, use_errno=True))

        return run

    def start(self) -> None:
        import subprocess
        import time

        nproc = self._nproc_limit()
        if self.warm:
            try:
                self._start_warm(nproc)
                return
            except Exception as err:  # noqa: BLE001 (a cold kernel grades the same)
                sys.stderr.write(f"course-sandbox: no warm kernel ({err}); starting a new one\n")
                self._end_warm()
        cmd, _ = self.command(False)
        # stdout: only ipykernel's banner for terminals; stderr (crashes) goes to nbgrader's log
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=self._preexec(nproc))
        self.started = time.monotonic()

    def _start_warm(self, nproc: int) -> None:
        """The sandbox with a slot in it, and a fork of the warm-kernel server that joins it."""
        import select
        import socket
        import subprocess
        import time

        import psutil

        cmd, env = self.command(True)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True,
                                     preexec_fn=self._preexec(nproc))
        self.started = time.monotonic()
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        if not ready or self.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"the sandbox did not start (exit code {self.proc.poll()})")
        slots = [p for p in psutil.Process(self.proc.pid).children(recursive=True)  # not bwrap's own
                 if p.cmdline()[-1:] == [bwrap.SLOT_NAME] and "bwrap" not in p.cmdline()[0]]
        if len(slots) != 1:
            raise RuntimeError("the sandbox's slot process was not found")
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        conn.settimeout(30)
        conn.connect(self.warm)
        self.warm_conn = conn
        request = {"slot": slots[0].pid, "cwd": self.cwd, "env": env, "uid": self.uid,
                   "argv": [*self.inner_args, "--limits", self.limits.to_json()],  # as a cold kernel's
                   "rlimits": self._rlimits(nproc)}
        with open(os.devnull, "rb") as null_in, open(os.devnull, "wb") as null_out:
            socket.send_fds(conn, [json.dumps(request).encode()], [null_in.fileno(), null_out.fileno(), 2])
        reply = json.loads(conn.recv(1 << 16) or b"{}")
        if "pid" not in reply:
            raise RuntimeError(reply.get("error") or "the warm-kernel server did not answer")
        self.kernel_pid = int(reply["pid"])
        conn.setblocking(False)

    def _warm_report(self) -> None:
        """The server's fork says how the kernel ended: end the slot with that code (so bwrap ends)."""
        try:
            data = self.warm_conn.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        try:
            code = int(json.loads(data)["status"])
        except (ValueError, KeyError, TypeError):  # no report (the server's fork was killed): so was the kernel
            code = 137
        self._end_warm(code)

    def _end_warm(self, code: int = 1) -> None:
        if self.warm_conn is not None:
            self.warm_conn.close()
            self.warm_conn = None
        if self.proc is not None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write(f"{code}\n".encode())
                self.proc.stdin.close()
            except OSError:
                pass
            if self.kernel_pid is None:  # the slot of a warm start that failed
                self._kill("no warm kernel")
                self.proc.wait()
                self.proc.stdout.close()
                self.proc = None
                self.dead_reason = ""

    def _family(self) -> list:
        """Every process of the sandbox: bwrap's, and the warm kernel with its children."""
        import psutil

        procs = []
        for pid in (self.proc.pid if self.proc is not None else None, self.kernel_pid):
            try:
                if pid is not None:
                    top = psutil.Process(pid)
                    procs += ([top] if pid == self.kernel_pid else []) + top.children(recursive=True)
            except psutil.Error:
                pass
        return procs

    # --- sockets ----------------------------------------------------------------------------
    def _sockets(self) -> None:
        import zmq

        self.ctx = zmq.Context()
        ip, transport = self.conn.get("ip", "127.0.0.1"), self.conn.get("transport", "tcp")

        def front_url(ch):
            return f"{transport}://{ip}:{self.conn[f'{ch}_port']}" if transport == "tcp" else \
                f"ipc://{ip}-{self.conn[f'{ch}_port']}"

        self.front, self.back = {}, {}
        for ch in CHANNELS:
            kind = zmq.PUB if ch == IOPUB else zmq.ROUTER
            s = self.ctx.socket(kind)
            s.linger = 1000
            if kind == zmq.ROUTER:
                s.router_handover = 1
            s.bind(front_url(ch))
            self.front[ch] = s
        self._connect_back()

    def _connect_back(self) -> None:
        import zmq

        for ch, n in CHANNELS.items():
            s = self.ctx.socket(zmq.SUB if ch == IOPUB else zmq.DEALER)
            s.linger = 0
            if ch == IOPUB:
                s.setsockopt(zmq.SUBSCRIBE, b"")
            else:
                # shell and stdin need the same identity: the kernel routes input requests by it
                s.setsockopt(zmq.IDENTITY, b"course-sandbox-" + ch.encode())
                if ch in (SHELL, STDIN):
                    s.setsockopt(zmq.IDENTITY, b"course-sandbox-proxy")
            s.connect(f"ipc://{self.ipc}/k-{n}")
            self.back[ch] = s

    def _close_back(self) -> None:
        for s in self.back.values():
            s.close(0)
        self.back = {}

    # --- forwarding -------------------------------------------------------------------------
    def _from_client(self, ch: str, frames: list[bytes]) -> None:
        i, header = _frames_header(frames)
        mtype = header.get("msg_type", "")
        if mtype == "shutdown_request":
            self.shutting_down = True
        if self.dead_reason:
            self._answer_dead(ch, frames)
            return
        if ch == SHELL and mtype == "execute_request":
            self.pending[header.get("msg_id", "")] = (frames[:i], header)
        self.back[ch].send_multipart(frames)

    def _from_kernel(self, ch: str, frames: list[bytes]) -> None:
        self.ready = True
        if ch == IOPUB:
            self._forward_iopub(frames)
            return
        if ch == HB:
            self.front[ch].send_multipart(frames)
            return
        i, header = _frames_header(frames)
        if ch == SHELL and header.get("msg_type") == "execute_reply" and i >= 0:
            parent = json.loads(frames[i + 3]).get("msg_id", "")
            if parent in self.replied:
                self._kill("the kernel sent a second reply to one cell: your code forged Jupyter messages")
                return
            self.replied.add(parent)
            self.pending.pop(parent, None)
            if self.interrupt_requested:
                self.interrupted_at = None
            if sum(map(len, frames)) > 4 * MAX_ERROR_BYTES:
                frames = self._truncated(frames, i)
        self.front[ch].send_multipart(frames)

    def _truncated(self, frames: list[bytes], i: int) -> list[bytes]:
        header, parent, metadata, content = (json.loads(f) for f in frames[i + 2:i + 6])
        for key in ("evalue", "ename"):
            if isinstance(content.get(key), str) and len(content[key]) > 2000:
                content[key] = content[key][:2000] + " ...[truncated]"
        if "traceback" in content:
            tb = "\n".join(map(str, content["traceback"]))
            content["traceback"] = [tb[:MAX_ERROR_BYTES] + ("\n...[truncated]" if len(tb) > MAX_ERROR_BYTES else "")]
        msg = self.session.msg(header["msg_type"], content, parent=parent, metadata=metadata)
        return frames[:i] + self.session.serialize(msg)

    def _forward_iopub(self, frames: list[bytes]) -> None:
        i, header = _frames_header(frames)
        mtype = header.get("msg_type", "")
        if mtype in OUTPUT_TYPES:
            size = sum(map(len, frames))
            if mtype == "error" and size > MAX_ERROR_BYTES:
                frames = self._truncated(frames, i)
                size = sum(map(len, frames))
            budget = self.limits.output_mb * 2**20
            if mtype != "error" and self.output_bytes + size > budget:
                parent = json.loads(frames[i + 3]) if i >= 0 else {}
                pid = parent.get("msg_id", "")
                if pid not in self.notified:
                    self.notified.add(pid)
                    self._send_output(parent, "stream", {
                        "name": "stderr",
                        "text": f"\n[Output limit: this notebook has printed more than {self.limits.output_mb} MB; "
                                "further output is not shown. Print less: a summary, a shape, a few values.]\n"})
                return
            self.output_bytes += size
        self.front[IOPUB].send_multipart(frames)

    def _send_output(self, parent_header: dict, mtype: str, content: dict) -> None:
        self.session.send(self.front[IOPUB], mtype, content, parent={"header": parent_header} if parent_header else None,
                          ident=[f"kernel.sandbox.{mtype}".encode()])

    # --- a dead kernel ----------------------------------------------------------------------
    def _kill(self, reason: str) -> None:
        import signal

        if not self.dead_reason:
            self.dead_reason = reason
        for p in [self.proc, *self._family()]:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _death_reason(self, code: int) -> str:
        import signal

        if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            return f"it used more than {self.limits.cpu_seconds} s of CPU time"
        if code in (-signal.SIGKILL, 128 + signal.SIGKILL):
            return "it was killed (probably out of memory)"
        if code < 0 or code > 128:
            sig = -code if code < 0 else code - 128
            return f"it crashed (signal {signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else sig})"
        return f"the kernel process exited (exit code {code}): do not call os._exit(), exit() or quit() in your code"

    def _on_death(self) -> None:
        """The sandbox ended without a shutdown request: answer for it from now on."""
        import shutil

        if not self.dead_reason:
            self.dead_reason = self._death_reason(self.proc.returncode)
        self._close_back()
        shutil.rmtree(self.work, ignore_errors=True)
        for msg_id, (idents, header) in list(self.pending.items()):
            self._reply_execute(idents, header, interrupted_cell=True)
        self.pending.clear()

    def _dead_text(self, this_cell: bool) -> str:
        what = "while running this cell" if this_cell else "while running an earlier cell"
        return (f"The kernel running your notebook was stopped {what}: {self.dead_reason}. "
                f"{'This cell' if this_cell else 'This cell was not run; it'} and the cells after it score 0. "
                "Fix the cause, then run Kernel > Restart Kernel and Run All Cells before you submit.")

    def _reply_execute(self, idents: list[bytes], header: dict, interrupted_cell: bool) -> None:
        parent = {"header": header}
        self.session.send(self.front[IOPUB], "status", {"execution_state": "busy"}, parent=parent,
                          ident=[b"kernel.sandbox.status"])
        content = {"ename": "KernelDied", "evalue": self._dead_text(interrupted_cell),
                   "traceback": [f"\x1b[0;31mKernelDied\x1b[0m: {self._dead_text(interrupted_cell)}"]}
        self.session.send(self.front[IOPUB], "error", content, parent=parent, ident=[b"kernel.sandbox.error"])
        self.session.send(self.front[IOPUB], "status", {"execution_state": "idle"}, parent=parent,
                          ident=[b"kernel.sandbox.status"])
        self.session.send(self.front[SHELL], "execute_reply",
                          {"status": "error", "execution_count": None, **content}, parent=parent, ident=idents)

    def _answer_dead(self, ch: str, frames: list[bytes]) -> None:
        if ch == HB:
            self.front[HB].send_multipart(frames)
            return
        if ch == IOPUB:
            return
        try:
            idents, msg_list = self.session.feed_identities(frames, copy=True)
            msg = self.session.deserialize(msg_list, content=True, copy=True)
        except Exception:
            return
        mtype, parent = msg["header"]["msg_type"], {"header": msg["header"]}
        if mtype == "execute_request":
            self._reply_execute(idents, msg["header"], interrupted_cell=False)
            return
        reply = mtype.replace("_request", "_reply")
        content = {"status": "error", "ename": "KernelDied", "evalue": self._dead_text(False), "traceback": []}
        if mtype == "kernel_info_request":
            content = {"status": "ok", "protocol_version": "5.3", "implementation": "course-sandbox",
                       "implementation_version": "1", "banner": "",
                       "language_info": {"name": "python", "version": sys.version.split()[0],
                                         "mimetype": "text/x-python", "file_extension": ".py"}}
        elif mtype in ("shutdown_request", "interrupt_request"):
            content = {"status": "ok", **({"restart": bool(msg["content"].get("restart"))}
                                          if mtype == "shutdown_request" else {})}
        self.session.send(self.front[IOPUB], "status", {"execution_state": "busy"}, parent=parent,
                          ident=[b"kernel.sandbox.status"])
        self.session.send(self.front[ch], reply, content, parent=parent, ident=idents)
        self.session.send(self.front[IOPUB], "status", {"execution_state": "idle"}, parent=parent,
                          ident=[b"kernel.sandbox.status"])

    # --- signals and the watchdog -----------------------------------------------------------
    def _interrupt(self) -> None:
        import signal
        import time

        self.interrupt_requested = False
        if self.dead_reason or self.proc is None:
            return
        target = self._kernel_process()
        if target is None:
            return
        try:
            os.kill(target.pid, signal.SIGINT)
        except ProcessLookupError:
            return
        if self.pending:
            self.interrupted_at = time.monotonic()

    def _kernel_process(self):
        """The Python kernel inside (not bwrap's own processes, whose command line also holds --inside)."""
        import psutil

        try:
            if self.kernel_pid is not None:
                return psutil.Process(self.kernel_pid)
            for p in psutil.Process(self.proc.pid).children(recursive=True):
                cmd = p.cmdline()
                if "--inside" in cmd and "bwrap" not in os.path.basename(cmd[0]):
                    return p
        except psutil.Error:
            pass
        return None

    def _watch(self) -> None:
        reason = self.watchdog.verdict(self._family(), self.started, self.interrupted_at, bool(self.pending))
        if reason:
            self._kill(reason)

    def _watch_disk(self) -> None:
        reason = self.watchdog.disk_verdict()
        if reason:
            self._kill(reason)

    @staticmethod
    def _safely(step) -> None:
        """A failing check must not take the wrapper (and so the student's grade) down."""
        try:
            step()
        except Exception as err:  # noqa: BLE001
            sys.stderr.write(f"course-sandbox: {step.__name__} failed: {err!r}\n")

    def run(self) -> int:
        import shutil
        import signal
        import time

        import zmq

        def on_int(*_):
            self.interrupt_requested = True

        def on_term(*_):
            self.shutting_down = True
            if self.proc is not None and self.proc.poll() is None:
                self._kill("stopped by nbgrader")

        signal.signal(signal.SIGINT, on_int)
        signal.signal(signal.SIGTERM, on_term)
        try:
            self._prepare()
            self._sockets()
            self.start()
            poller_channels = list(CHANNELS)
            last_watch = last_disk = 0.0
            while True:
                poller = zmq.Poller()
                for ch in poller_channels:
                    if ch != IOPUB:
                        poller.register(self.front[ch], zmq.POLLIN)
                    if ch in self.back:
                        poller.register(self.back[ch], zmq.POLLIN)
                if self.warm_conn is not None:
                    poller.register(self.warm_conn.fileno(), zmq.POLLIN)
                try:  # when nbgrader has asked the kernel to stop, notice its end sooner
                    events = dict(poller.poll(20 if self.shutting_down else 100))
                except zmq.ZMQError:
                    events = {}
                for ch in poller_channels:
                    if self.front[ch] in events:
                        while True:
                            try:
                                frames = self.front[ch].recv_multipart(zmq.NOBLOCK)
                            except zmq.Again:
                                break
                            self._from_client(ch, frames)
                    back = self.back.get(ch)
                    if back is not None and back in events:
                        while self.back.get(ch) is back:
                            try:
                                frames = back.recv_multipart(zmq.NOBLOCK)
                            except zmq.Again:
                                break
                            self._from_kernel(ch, frames)
                if self.warm_conn is not None and self.warm_conn.fileno() in events:
                    self._warm_report()
                if self.interrupt_requested:
                    self._safely(self._interrupt)
                now = time.monotonic()
                if not self.dead_reason and self.proc.poll() is None:
                    if now - last_watch > 0.25:
                        last_watch = now
                        self._safely(self._watch)
                    if now - last_disk > 1.0:
                        last_disk = now
                        self._safely(self._watch_disk)
                if self.back and self.proc.poll() is not None:
                    # drain what the kernel sent before it ended
                    for ch, s in list(self.back.items()):
                        while True:
                            try:
                                frames = s.recv_multipart(zmq.NOBLOCK)
                            except zmq.Again:
                                break
                            self._from_kernel(ch, frames)
                    if self.shutting_down and not self.dead_reason:
                        return 0  # the replies are sent while the sockets close (linger)
                    if not self.ready:
                        problem = bwrap.probe()
                        sys.stderr.write(f"course-sandbox: the sandboxed kernel did not start "
                                         f"(exit code {self.proc.returncode}). {problem}\n")
                        return 1
                    self._on_death()
                if self.dead_reason and self.shutting_down:
                    return 0
        finally:
            if self.proc is not None and self.proc.poll() is None:
                self._kill("stopped")
                try:
                    self.proc.wait(5)
                except Exception:
                    pass
            for s in list(getattr(self, "back", {}).values()):
                s.close(0)
            for s in list(getattr(self, "front", {}).values()):
                s.close(1000)  # waits only while replies are still being sent
            if getattr(self, "ctx", None) is not None:
                self.ctx.term()
            shutil.rmtree(self.private, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    import ctypes
    import signal

    from autograder.sandbox import LIMITS_ENV
    from autograder.sandbox.bwrap import bwrap_path, probe
    from autograder.sandbox.limits import Limits

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))  # go when nbgrader goes
    limits = Limits.from_json(os.environ[LIMITS_ENV]) if os.environ.get(LIMITS_ENV) else Limits()
    if not argv:
        sys.stderr.write(f"usage: [{LIMITS_ENV}=JSON] python -m autograder.sandbox.kernel CONNECTION_FILE [kernel args]\n")
        return 2
    if bwrap_path() is None:  # the full probe runs bwrap: only when a sandbox did not start (run())
        sys.stderr.write(f"Cannot sandbox student code: {probe()}\n")
        return 1
    return Wrapper(argv[0], limits, argv[1:]).run()


if __name__ == "__main__":
    sys.exit(main())
