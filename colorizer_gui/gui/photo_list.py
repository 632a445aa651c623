"""The photo list: opening files and folders, one row per photo with its thumbnail
and status, and which photo is selected.

Finding photos and making thumbnails run in workers (``workers.scan``,
``workers.thumbnails``); this class only paints what they post.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import PySimpleGUI as sg

from . import events as ev, video_preview, workers

if TYPE_CHECKING:
    from .shell import Shell

#: What the Open files dialog offers: photos, videos (video_preview.py), anything.
PHOTO_TYPES = (("Photos", "*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.webp"), video_preview.FILE_TYPES,
               ("All files", "*.*"))
#: What the Status column says for each state (other states are shown as they are,
#: e.g. "failed: <why>").
STATUS_TEXT = {"ready": "not colorized", "waiting": "waiting...", "working": "colorizing...",
               "done": "done", "color": "already in colour"}


@dataclass
class Row:
    """One photo in the list."""

    path: str
    status: str = "ready"
    dest: Optional[str] = None
    is_color: bool = False
    error: str = ""
    duration: Optional[float] = None  # videos: length in seconds


#: Characters of a photo's name the list shows (its column is 16 wide; a name
#: runs on a little under the status column before its middle goes).
ROW_NAME_CHARS = 24


def middle_ellipsis(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: a long one keeps its start and its
    end (where the number and extension are: ``Großmutter…1952-07.jpg``)."""
    if len(text) <= limit:
        return text
    keep = max(2, limit - 1)
    suffix = len(Path(text).suffix)
    tail = max(keep * 2 // 5, suffix + 1 if suffix + 3 <= keep else 0)
    return f"{text[:keep - tail]}\u2026{text[len(text) - tail:]}"


def fit_label(text: str, width: int, measure: Callable[[str], int]) -> str:
    """``text``, or its ``middle_ellipsis`` with as many characters as fit in ``width``
    pixels as ``measure`` (a Tk font's) says: CJK letters are twice as wide as Latin."""
    if measure(text) <= width:
        return text
    low, high = 2, len(text) - 1  # characters kept, ellipsis included
    while low < high:
        mid = (low + high + 1) // 2
        if measure(middle_ellipsis(text, mid)) <= width:
            low = mid
        else:
            high = mid - 1
    return middle_ellipsis(text, low)


#: Pixels of the Photo column taken by the thumbnail and its margins.
_THUMB_COLUMN_PX = 66


def status_text(row: Row) -> str:
    """The Status column's text for a row."""
    return STATUS_TEXT.get(row.status, row.status)


class PhotoList:
    """The list of photos of one app window (the tree at the left)."""

    def __init__(self, app: "Shell") -> None:
        self.app = app
        self.rows: dict[str, Row] = {}
        self.auto_selected = False  # the preview shows a photo the app picked, not the user
        self._font: Any = None  # the list's font, to fit long names to its column

    @property
    def tree(self) -> Any:
        return self.app.window[ev.K_FILES]

    # ------------------------------------------------------------- opening

    def ask_folder(self) -> None:
        """Ask for a folder of photos and open it."""
        folder = sg.popup_get_folder("Open a folder of photos", no_window=True,
                                     initial_folder=self.app.settings.last_folder or str(Path.home()))
        if folder:
            self.open_paths([folder])

    def ask_files(self) -> None:
        """Ask for photo files and open them."""
        chosen = sg.popup_get_file("Open photos", no_window=True, multiple_files=True,
                                   initial_folder=self.app.settings.last_folder or str(Path.home()),
                                   file_types=PHOTO_TYPES)
        if chosen:
            self.open_paths(list(chosen) if isinstance(chosen, (list, tuple)) else str(chosen).split(";"))

    def open_paths(self, items: Sequence[str]) -> None:
        """Add the photos found in these files and folders to the list (in a worker)."""
        items = [str(p) for p in items if str(p).strip()]
        if not items:
            return
        first = Path(items[0])
        self.app.settings.last_folder = str(first if first.is_dir() else first.parent)
        self.app.set_status(f"Looking for photos in {', '.join(Path(p).name or p for p in items[:3])}...")
        self.app.start_job(ev.SCAN, workers.scan, items)

    def on_scan(self, phase: str, found: Any) -> None:
        """The folder scan finished: list what it found."""
        if phase == ev.DONE:
            self.add_rows(found)
        elif phase == ev.ERROR:
            self.app.set_status(f"Could not open that: {found}")

    def add_rows(self, found: list[str]) -> None:
        """Add photos (those not listed yet), start their thumbnails, preview the first."""
        new = [p for p in found if p not in self.rows]
        for path in new:
            self.rows[path] = Row(path)
        self.refresh()
        if not found:
            self.app.set_status("No photos found there (JPEG, PNG, TIFF, BMP and WebP files are opened).")
            return
        count = len(self.rows)
        self.app.set_status(f"{count} photo{'' if count == 1 else 's'} in the list. Click one to preview it, "
                            "or press Colorize all.")
        if new:
            self.app.start_job(ev.THUMBS, workers.thumbnails,
                               [p for p in self.rows if p in new or self.rows[p].status == "ready"])
        if self.app.current is None and self.rows:
            self.select(next(iter(self.rows)))
            self.auto_selected = True
        self.app.update_buttons()

    def on_thumbs(self, phase: str, item: Any) -> None:
        """A thumbnail (or the reason a photo cannot be read) arrived."""
        if phase != ev.ITEM:
            return
        path = item["path"]
        row = self.rows.get(path)
        if row is None:
            return
        if "error" in item:
            row.error = item["error"]
            self.set_row(path, f"cannot open: {item['error']}")
            return
        current = self.rows.get(self.app.current or "")
        if self.auto_selected and current is not None and current.error:
            # The photo picked for the first preview cannot be read: show a good one instead.
            self.select(path)
        row.is_color = item["is_color"]
        self.tree.update(key=path, icon=item["png"])
        if "duration" in item:  # a video: its length beside its name
            row.duration = item["duration"]
            self.tree.update(key=path, text=self.row_name(path))
        if row.is_color and row.status == "ready":
            self.set_row(path, "color")

    # ---------------------------------------------------------------- rows

    def refresh(self) -> None:
        """Rebuild the tree from the rows."""
        data = sg.TreeData()
        for path, row in self.rows.items():
            data.insert("", path, self.row_name(path), [status_text(row)])
        self.tree.update(values=data)

    def row_name(self, path: str) -> str:
        """The name shown for a photo; with its folder when another photo has the same name,
        and a video's length. A long name loses its middle (``middle_ellipsis``); the
        line under the preview shows it whole."""
        p = Path(path)
        name = p.name
        if len({Path(q).name for q in self.rows}) < len(self.rows):
            name = f"{middle_ellipsis(name, ROW_NAME_CHARS)}   ({middle_ellipsis(p.parent.name, ROW_NAME_CHARS // 2)})"
        row = self.rows.get(path)
        label = video_preview.row_label(name, row.duration) if row is not None else name
        extra = label[len(name):]  # a video's length: always shown whole
        fitted = self._fit_to_column(name, extra)
        return (fitted if fitted is not None else middle_ellipsis(name, ROW_NAME_CHARS)) + extra

    def _fit_to_column(self, text: str, after: str = "") -> Optional[str]:
        """``text`` fitted to the Photo column's width in its font, leaving room for
        ``after``; None without a window."""
        try:
            widget = self.tree.Widget
            width = int(widget.column("#0", "width")) - _THUMB_COLUMN_PX
            if self._font is None:
                from tkinter import font as tkfont, ttk
                style = widget.cget("style") or "Treeview"
                self._font = tkfont.Font(root=widget, font=ttk.Style(widget).lookup(style, "font") or "TkDefaultFont")
        except Exception:  # no window yet (or no Tk): the character count serves
            return None
        return fit_label(text, max(40, width - self._font.measure(after)), self._font.measure)

    def set_row(self, path: str, status: str, dest: Optional[str] = None) -> None:
        """Change a photo's status in the list."""
        row = self.rows.get(path)
        if row is None:
            return
        row.status = status
        if dest:
            row.dest = dest
        self.tree.update(key=path, value=[status_text(row)])

    def reset_unfinished(self) -> None:
        """Rows still waiting or working go back to ready (a batch ended)."""
        for path, row in self.rows.items():
            if row.status in ("waiting", "working"):
                self.set_row(path, "ready")

    # ----------------------------------------------------------- selection

    def selected(self) -> list[str]:
        """Paths of the selected photos."""
        return [p for p in (self.tree.SelectedRows or []) if p in self.rows]

    def select(self, path: str) -> None:
        """Select a photo in the list and preview it."""
        self.tree.update(select_node_keys=[path])
        self._show(path)

    def on_select(self, values: dict) -> None:
        """The user clicked in the list: preview the first selected photo."""
        chosen = self.selected()
        if chosen and chosen[0] != self.app.current:
            self.auto_selected = False  # the user picked a photo: leave the preview alone
            self._show(chosen[0])
        self.app.update_buttons()

    def _show(self, path: str) -> None:
        """Preview ``path`` (a video with its frame slider, back at the first frame)."""
        self.app.current = path
        video_preview.show_slider(self.app.window, path)
        self.app.preview.restart()
