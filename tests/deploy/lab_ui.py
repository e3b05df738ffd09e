"""What the browser tests do in JupyterLab's UI, in one place: click a menu item, open, save and close a
notebook."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat


def menu(page, top: str, command: str, notebook: bool = True) -> None:
    """Click a menu-bar menu, then one of its items (by JupyterLab command id); with ``notebook``, for the
    notebook on screen (it is made the current widget first)."""
    if notebook:
        page.locator(".jp-NotebookPanel .jp-Cell .jp-InputPrompt").first.click()
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{top}$")).click()
    item = page.locator(f'.lm-Menu-item[data-command="{command}"]')
    item.wait_for()
    assert "lm-mod-disabled" not in (item.get_attribute("class") or ""), f"menu {top}: {command} is disabled"
    item.click()


def save(page, file: Path, shots: Path | None = None):
    """File > Save on the current notebook; then ``file``, the notebook as saved on disk.

    Saved means the file on disk changed and no tab is marked unsaved.  If that does not happen
    within 60 s, the error says which dialog, if any, stands in the way (with a screenshot in
    ``shots``)."""
    before = file.stat().st_mtime_ns
    menu(page, "File", "docmanager:save")
    deadline = time.monotonic() + 60
    while file.stat().st_mtime_ns == before or page.locator(".lm-TabBar-tab.jp-mod-dirty").count():
        if time.monotonic() > deadline:
            dialogs = page.locator(".jp-Dialog").all_inner_texts()
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / f"{file.stem}-not-saved.png"))
            raise AssertionError(f"{file.name} was not saved within 60 s; dialogs on screen: {dialogs or 'none'}")
        time.sleep(0.2)
    time.sleep(0.3)
    return nbformat.read(file, as_version=4)


def _accept_dialog(page) -> None:
    """Click the accept button (OK, Open, Shut Down ...) of the dialog on screen; return once it is gone."""
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    page.wait_for_function("() => !document.querySelector('.jp-Dialog')")


def open_path(page, path: str) -> None:
    """File > Open from Path...: open ``path`` (relative to the server's root) in this page."""
    menu(page, "File", "filebrowser:open-path", notebook=False)
    page.locator(".jp-Dialog input").fill(path)
    _accept_dialog(page)


def close_notebook(page) -> None:
    """File > Close and Shut Down Notebook, confirmed: the notebook on screen closes and its kernel stops.
    Return once no notebook is left in the page."""
    menu(page, "File", "filemenu:close-and-cleanup")
    _accept_dialog(page)
    page.wait_for_function("() => !document.querySelector('.jp-NotebookPanel')")
