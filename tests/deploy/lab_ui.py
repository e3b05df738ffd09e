"""What the browser tests do in JupyterLab's UI, in one place: click a menu item, save a notebook."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import nbformat

if TYPE_CHECKING:
    from tests.deploy.test_browser import Lab


def menu(page, top: str, command: str) -> None:
    """Click a menu-bar menu, then one of its items (by JupyterLab command id)."""
    page.locator(".jp-NotebookPanel .jp-Cell .jp-InputPrompt").first.click()    # the notebook is current
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{top}$")).click()
    item = page.locator(f'.lm-Menu-item[data-command="{command}"]')
    item.wait_for()
    assert "lm-mod-disabled" not in (item.get_attribute("class") or ""), f"menu {top}: {command} is disabled"
    item.click()


def save(page, lab: Lab, path: str):
    """File > Save; then the notebook as saved on disk."""
    file = lab.root / path
    before = file.stat().st_mtime_ns
    menu(page, "File", "docmanager:save")
    deadline = time.monotonic() + 60
    while file.stat().st_mtime_ns == before or page.locator(".lm-TabBar-tab.jp-mod-dirty").count():
        assert time.monotonic() < deadline, f"{path} was not saved within 60 s"
        time.sleep(0.2)
    time.sleep(0.3)
    return nbformat.read(file, as_version=4)
