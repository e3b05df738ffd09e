"""What one student's kernel may use, and the error when a sandbox cannot run."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass


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
    notebook_timeout: seconds per notebook; the kernel is stopped after it (and a
        batch runner should stop ``nbgrader`` too).
    """

    memory_mb: int = 2048
    cpu_seconds: int = 900
    processes: int = 512
    file_size_mb: int = 100
    output_mb: int = 20
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
