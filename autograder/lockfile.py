"""``requirements.lock``: every version the course installs, and whether it is in step.

``pyproject.toml`` says which packages the course needs, with ranges: ``dependencies`` for a
student, the extras for the instructor and the test suite.  ``requirements.lock`` pins every one
of them and everything they pull in, for every platform and every Python the course supports
(``make lock`` writes it with uv's universal resolver; platform-specific pins carry markers).
Every install uses it as pip constraints: ``make lab``, ``make test`` (and so CI and the
autograder), and the student edition and its Binder.

A lock is *out of step* when a requirement of ``pyproject.toml`` is not pinned in it, or is
pinned at a version outside its range: pip would then install an untested version without a
word.  ``python -m autograder.lockfile --check`` says which, and exits 1.
"""
from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

LOCK = "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


class LockError(RuntimeError):
    """The lock file is missing or out of step with pyproject.toml."""


def pins(lock: Path) -> dict[str, list[str]]:
    """{canonical name: [pinned versions]} of a lock file (several where markers split a pin)."""
    out: dict[str, list[str]] = {}
    for line in lock.read_text().splitlines():
        m = _PIN.match(line)
        if m:
            out.setdefault(canonicalize_name(m.group(1)), []).append(m.group(2))
    return out


def requirements(project: dict) -> list[Requirement]:
    """Every requirement of ``pyproject.toml``'s ``[project]``: the dependencies and all extras."""
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return [Requirement(line) for line in lines]


def problems(repo: Path) -> list[str]:
    """What is out of step between ``pyproject.toml`` and the lock; empty when in step."""
    lock = repo / LOCK
    if not lock.is_file():
        return [f"{LOCK} is missing"]
    pinned = pins(lock)
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    out = []
    for req in requirements(project):
        name = canonicalize_name(req.name)
        if name == canonicalize_name(project["name"]):
            continue                                  # an extra that names the course itself
        if name not in pinned:
            out.append(f"{req.name} ({req}) is required by pyproject.toml but not pinned in {LOCK}")
        elif not any(req.specifier.contains(Version(v), prereleases=True) for v in pinned[name]):
            out.append(f"{LOCK} pins {req.name}=={' / '.join(pinned[name])}, outside pyproject.toml's "
                       f"range {req}")
    return out


def check(repo: Path) -> None:
    """Raise :class:`LockError` naming every problem, with what to do."""
    found = problems(repo)
    if found:
        raise LockError(f"{LOCK} is out of step with pyproject.toml:\n  - " + "\n  - ".join(found)
                        + f"\nRun `make lock` (it keeps the other pins) and commit pyproject.toml and {LOCK} "
                          "together.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the lock is out of step")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the folder with pyproject.toml")
    args = parser.parse_args(argv)
    try:
        check(args.repo)
    except LockError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{LOCK} is in step with pyproject.toml ({len(pins(args.repo / LOCK))} packages pinned)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
