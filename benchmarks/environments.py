"""The student's environment against the full one: time to create, size on disk, packages.

    python benchmarks/environments.py

* ``student``: a student edition is generated (``make student-repo``), and its README's set-up
  command builds the environment on this machine's ``python3``, as a student would
  (``python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt``);
* ``full``: ``make venv`` of this repository into a fresh folder: the instructor's and the test
  suite's environment (``.[test]``), as ``make test`` builds it.

Both run one after the other on the same machine, with the same pip cache (whatever is in it
counts for both), PyTorch's CPU index out of reach (no retries, 5 s time-out: the CPU build of
torch comes from this machine's disk, as in CI).  Size is the sum of the files' sizes under the
environment's folder; the largest packages are listed by their folders in site-packages.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.student_edition import build, setup_commands  # noqa: E402


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def largest(venv: Path, n: int = 5) -> list[tuple[str, int]]:
    site = next(venv.glob("lib/python*/site-packages"))
    sizes = [(p.name, size(p)) for p in site.iterdir() if p.is_dir() and not p.name.endswith("-info")]
    return sorted(sizes, key=lambda t: -t[1])[:n]


def packages(venv: Path, env: dict) -> int:
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"], env=env,
                         capture_output=True, text=True, check=True).stdout
    return len(json.loads(out))


def timed(cmd: str, cwd: Path, env: dict) -> float:
    t0 = time.monotonic()
    proc = subprocess.run(cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"`{cmd}` failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return time.monotonic() - t0


def main() -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env.update(PIP_RETRIES="0", PIP_TIMEOUT="5", PIP_PROGRESS_BAR="off", PIP_DISABLE_PIP_VERSION_CHECK="1",
               TORCH_INDEX="")
    rows = []
    with tempfile.TemporaryDirectory(prefix="environments-") as tmp:
        edition = build(Path(tmp) / "edition")
        setup = setup_commands(edition)[0]
        print(f"student: {setup}", flush=True)
        seconds = timed(setup, edition, env)
        rows.append(("student (edition's README)", edition / ".venv", seconds))

        full = Path(tmp) / "full" / ".venv"
        full.parent.mkdir()
        print(f"full: make venv VENV={full}", flush=True)
        seconds = timed(f"make -s venv VENV={full}", REPO, env)
        rows.append(("full (make test's)", full, seconds))

        print(f"\n{'environment':<28} {'create s':>9} {'size MB':>9} {'packages':>9}   largest in site-packages (MB)")
        for name, venv, seconds in rows:
            big = ", ".join(f"{pkg} {b / 1e6:.0f}" for pkg, b in largest(venv))
            print(f"{name:<28} {seconds:>9.1f} {size(venv) / 1e6:>9.0f} {packages(venv, env):>9}   {big}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
