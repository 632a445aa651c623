"""Drag-and-drop glue: tkdnd loaded into PySimpleGUI's Tk root.

Files and folders dropped anywhere on the window become one ``DROP`` event
carrying the list of paths; the event loop decides what to do with them.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from . import events

log = logging.getLogger(__name__)


def parse_drop_data(data: str, splitlist: Optional[Callable[[str], Iterable[str]]] = None) -> list[Path]:
    """Paths from a tkdnd drop string: a Tcl list where names with spaces are in braces.

    ``splitlist`` is Tk's own list parser when a Tk interpreter is at hand; without
    one, a small parser for the same braces-and-spaces format is used.
    """
    if not data:
        return []
    if splitlist is not None:
        items = list(splitlist(data))
    else:
        items, word, depth = [], "", 0
        for char in data:
            if char == "{" and depth == 0 and not word:
                depth = 1
            elif char == "}" and depth == 1:
                items.append(word)
                word, depth = "", 0
            elif char.isspace() and depth == 0:
                if word:
                    items.append(word)
                word = ""
            else:
                word += char
        if word:
            items.append(word)
    # Some file managers send file:// URIs.
    paths = []
    for item in items:
        if item.startswith("file://"):
            from urllib.parse import unquote, urlparse
            item = unquote(urlparse(item).path)
        if item:
            paths.append(Path(item))
    return paths


def handle_drop(window: Any, data: str) -> list[Path]:
    """Parse a drop and post it to the window as a ``DROP`` event; returns the paths.

    A plain function (no Tk event object) so tests can call it with a folder path.
    """
    splitlist = None
    root = getattr(window, "TKroot", None)
    if root is not None:
        splitlist = root.tk.splitlist
    found = parse_drop_data(data, splitlist)
    if found:
        window.write_event_value(events.DROP, [str(p) for p in found])
    return found


def enable_drop(window: Any) -> bool:
    """Load tkdnd into the window's Tk interpreter and make the whole window a drop
    target for files. Returns False (and logs why) if tkdnd cannot be loaded; the app
    then works without drag-and-drop."""
    try:
        import tkinterdnd2
        from tkinterdnd2 import TkinterDnD
    except ImportError as err:
        log.warning("Drag-and-drop unavailable: %s", err)
        return False
    root = window.TKroot
    try:
        TkinterDnD._require(root)
    except (RuntimeError, Exception) as err:  # tkdnd raises RuntimeError; Tcl errors vary
        log.warning("Drag-and-drop unavailable: %s", err)
        return False

    def on_drop(event: Any) -> str:
        handle_drop(window, event.data)
        return tkinterdnd2.COPY

    # Register the toplevel and every child widget: a drop lands on the innermost
    # widget under the pointer, so each needs to accept files.
    registered = 0
    for widget in _all_widgets(root):
        try:
            widget.drop_target_register(tkinterdnd2.DND_FILES)
            widget.dnd_bind("<<Drop>>", on_drop)
            registered += 1
        except Exception as err:  # a widget type tkdnd cannot take; keep going
            log.debug("No drop target on %s: %s", widget, err)
    log.info("Drag-and-drop enabled on %d widgets", registered)
    return registered > 0


def _all_widgets(root: Any) -> list[Any]:
    found, todo = [], [root]
    while todo:
        widget = todo.pop()
        # Menus are separate windows: registering them maps them on screen.
        if widget.winfo_class() in ("Menu", "Menubutton"):
            continue
        found.append(widget)
        todo.extend(widget.winfo_children())
    return found
