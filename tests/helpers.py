"""What several test modules share: where the repository and the staged data are, checksums, page text,
nbgrader run as a student."""
from __future__ import annotations

import hashlib
import html
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Where the real data files are staged: $COURSE_DATA_DIR as set when the tests start
# (CI: ../shared/data), else the shared folder next to the repository.
_env_dir = os.environ.get("COURSE_DATA_DIR", "").strip()
STAGED_DIR = Path(_env_dir).resolve() if _env_dir else REPO.parent / "shared" / "data"


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under ``folder``: compare before and after to prove nothing changed."""
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def page_text(path: Path) -> str:
    """The text of an HTML page (tags removed, entities decoded), as a student reads it."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def nbgrader(cwd: Path, *args: str, user: str | None = None, home: Path | None = None) -> str:
    """``nbgrader ARGS`` in ``cwd``; with ``user``, as that student with ``home`` (no exchange from the environment)."""
    from autograder import runner

    env = runner.nbgrader_env()
    env.pop("NBGRADER_EXCHANGE", None)
    if user:
        # nbgrader 0.9.6 takes the student's id from the uid (pwd.getpwuid(os.getuid()), not $USER):
        # every simulated student here is the same OS user, so submit and fetch_feedback get --student.
        env.update(USER=user, LOGNAME=user, HOME=str(home))
        if args[0] in ("submit", "fetch_feedback"):
            args = (*args, f"--student={user}")
    return runner.nbgrader(cwd, *args, env=env, timeout=600)
