"""Drag-and-drop glue: tkdnd loaded into PySimpleGUI's Tk root.

Files and folders dropped anywhere on the window become one ``DROP`` event
carrying the list of paths; the event loop decides what to do with them.
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from . import events

log = logging.getLogger(__name__)


def parse_drop_data(data: str, splitlist: Optional[Callable[[str], Iterable[str]]] = None,
                    exists: Callable[[str], bool] = os.path.lexists) -> list[Path]:
    """Paths from a tkdnd drop string: a Tcl list (names with spaces in braces,
    a lone brace escaped with a backslash: ``/a\\ b/we\\}ird.jpg``).

    ``splitlist`` is Tk's own list parser when a Tk interpreter is at hand, else
    ``split_tcl_list`` reads the same format. Some tkdnd builds wrap each name in
    braces without escaping the braces inside it (``{C:/we}ird.jpg}``, which is no
    valid list); that reading is tried too, and when the readings differ the one
    whose every path ``exists`` wins, so a name holding a brace is never split.
    """
    if not data:
        return []
    readings: list[list[str]] = []
    plain_braces = functools.partial(_split_plain_braces, exists=exists)
    for parse in (splitlist or split_tcl_list, plain_braces):
        try:
            items = [_uri_to_path(str(item)) for item in parse(data)]
        except Exception:  # Tcl's "unmatched open brace in list" and the like
            continue
        items = [item for item in items if item]
        if items and items not in readings:
            readings.append(items)
    if not readings:
        return []
    chosen = next((items for items in readings if all(exists(item) for item in items)), readings[0])
    return [Path(item) for item in chosen]


def _uri_to_path(item: str) -> str:
    """A file path from one dropped item (some file managers send file:// URIs)."""
    if item.startswith("file://"):
        from urllib.parse import unquote, urlparse
        return unquote(urlparse(item).path)
    return item


_TCL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def split_tcl_list(data: str) -> list[str]:
    """The elements of a Tcl list, read as Tcl reads them: braced elements kept
    verbatim (nested braces counted, escaped ones not), quoted and bare elements
    with backslash escapes. ``ValueError`` for a list Tcl would refuse."""
    items, pos, size = [], 0, len(data)
    while True:
        while pos < size and data[pos].isspace():
            pos += 1
        if pos >= size:
            return items
        if data[pos] == "{":
            depth, end = 1, pos + 1
            while end < size and depth:
                if data[end] == "\\":
                    end += 1
                elif data[end] == "{":
                    depth += 1
                elif data[end] == "}":
                    depth -= 1
                end += 1
            if depth or (end < size and not data[end].isspace()):
                raise ValueError("unmatched brace in list")
            items.append(data[pos + 1:end - 1])
            pos = end
            continue
        quoted = data[pos] == '"'
        pos += quoted
        word = []
        while pos < size and (data[pos] != '"' if quoted else not data[pos].isspace()):
            if data[pos] == "\\" and pos + 1 < size:
                pos += 1
                word.append(_TCL_ESCAPES.get(data[pos], data[pos]))
            else:
                word.append(data[pos])
            pos += 1
        if quoted:
            if pos >= size:
                raise ValueError("unmatched quote in list")
            pos += 1
        items.append("".join(word))


def _split_plain_braces(data: str, exists: Callable[[str], bool] = os.path.lexists) -> list[str]:
    """Names each wrapped in braces with nothing escaped: a braced name runs to the
    first ``}`` followed by a space or the end; unbraced names run to a space."""
    items, pos, size = [], 0, len(data)
    while pos < size:
        if data[pos].isspace():
            pos += 1
            continue
        if data[pos] == "{":
            # Each "}" before a space or the end may close it: the first giving a
            # name that exists (a name may hold "} " itself), else the first.
            ends = [end for end in range(pos + 1, size)
                    if data[end] == "}" and (end + 1 == size or data[end + 1].isspace())]
            if not ends:
                raise ValueError("unmatched brace")
            end = next((end for end in ends if exists(_uri_to_path(data[pos + 1:end]))), ends[0])
            items.append(data[pos + 1:end])
            pos = end + 1
        else:
            end = pos
            while end < size and not data[end].isspace():
                end += 1
            items.append(data[pos:end])
            pos = end
    return items


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
