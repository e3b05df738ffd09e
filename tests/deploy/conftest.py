"""What the deploy tests share: Debian's Chromium, driven by Playwright (its own browser download
is never used)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest

from tests.servers import alive

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `apt-get install -y chromium chromium-driver` "
                    "(Debian's browser; Playwright's own browser download is not used)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: `pip install playwright` (never `playwright install`)")
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    started = {p.pid: p.create_time() for p in me.children(recursive=True) if p.pid not in before}
    try:
        yield b
    finally:
        for p in me.children(recursive=True):     # renderers started later
            if p.pid not in before:
                started.setdefault(p.pid, p.create_time())
        b.close()
        pw.stop()
        deadline = time.monotonic() + 10
        while alive(started) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = alive(started)
        for pid in left:
            psutil.Process(pid).kill()
        assert not left, f"browser processes survived browser.close(): {left}"
