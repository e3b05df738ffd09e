"""`make lab` starts JupyterLab on release/ with nbgrader's extensions (smoke test; the
browser tests drive the UI itself)."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import REPO
from tests.servers import free_port

pytestmark = pytest.mark.slow  # starts JupyterLab



def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read()


def test_make_lab_serves_the_student_notebooks(tmp_path):
    make = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True, check=True)
    line = [ln for ln in make.stdout.splitlines() if "jupyter lab" in ln][-1]
    assert "--ServerApp.root_dir=release" in line
    port, token = free_port(), "test-token"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path), KERAS_BACKEND="torch")
    # the Makefile's own command line, plus what a test needs: no browser, a known port and token
    cmd = [*shlex.split(line), "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get(f"{base}/api/status?token={token}")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "JupyterLab did not start within 60 s"
                time.sleep(0.3)
        status, body = get(f"{base}/api/contents/week1_forward_pass?token={token}")
        names = [item["name"] for item in json.loads(body)["content"]]
        assert "01_forward_pass.ipynb" in names
        status, body = get(f"{base}/lab?token={token}")
        assert status == 200 and b"JupyterLab" in body
        # nbgrader's server extension answers (the Validate button and the assignment list use it)
        status, body = get(f"{base}/lab/api/extensions?token={token}")
        assert b"nbgrader" in body, "nbgrader's JupyterLab extension is not installed"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
