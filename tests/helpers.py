"""What several test modules share: where the repository and the staged data are."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Where the real data files are staged: $COURSE_DATA_DIR as set when the tests start
# (CI: ../shared/data), else the shared folder next to the repository.
_env_dir = os.environ.get("COURSE_DATA_DIR", "").strip()
STAGED_DIR = Path(_env_dir).resolve() if _env_dir else REPO.parent / "shared" / "data"
