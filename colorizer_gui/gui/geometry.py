"""Window sizes and places: fit the screen, remember the user's size, centre dialogs.

The arithmetic is plain functions (tested without a screen); ``place_dialog``
applies it to a real Tk window.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

log = logging.getLogger(__name__)

#: The main window never opens larger than this share of the screen.
SCREEN_SHARE = 0.9
DIALOG_BORDER = "#5f6b7a"


def fit_window(screen: tuple[int, int], wanted: tuple[int, int],
               share: float = SCREEN_SHARE) -> tuple[int, int, int, int]:
    """(width, height, x, y): ``wanted`` (e.g. the size remembered from last time)
    shrunk to at most ``share`` of the screen, and centred on it."""
    sw, sh = max(1, int(screen[0])), max(1, int(screen[1]))
    width = max(200, min(int(wanted[0]), int(sw * share)))
    height = max(150, min(int(wanted[1]), int(sh * share)))
    width, height = min(width, sw), min(height, sh)
    return width, height, (sw - width) // 2, (sh - height) // 2


def centre_over(parent: tuple[int, int, int, int], size: tuple[int, int],
                screen: tuple[int, int]) -> tuple[int, int]:
    """Top-left (x, y) that centres a ``size`` window over ``parent`` = (x, y, w, h),
    kept on the screen."""
    px, py, pw, ph = parent
    w, h = size
    x = px + (pw - w) // 2
    y = py + (ph - h) // 2
    x = max(0, min(x, screen[0] - w))
    y = max(0, min(y, screen[1] - h))
    return x, y


def place_dialog(window: Any, parent: Optional[Any]) -> None:
    """Make ``window`` look and sit like a dialog of ``parent`` (PySimpleGUI windows):
    a visible border (there may be no window manager to draw one), kept above its
    parent, centred over it. Failures are logged, never raised: a dialog placed
    badly is better than no dialog."""
    try:
        root = window.TKroot
        root.configure(highlightthickness=2, highlightbackground=DIALOG_BORDER, highlightcolor=DIALOG_BORDER)
        root.update_idletasks()
        size = (max(root.winfo_width(), root.winfo_reqwidth()), max(root.winfo_height(), root.winfo_reqheight()))
        screen = (root.winfo_screenwidth(), root.winfo_screenheight())
        if parent is not None and getattr(parent, "TKroot", None) is not None:
            proot = parent.TKroot
            root.transient(proot)
            box = (proot.winfo_rootx(), proot.winfo_rooty(), proot.winfo_width(), proot.winfo_height())
        else:
            box = (0, 0, screen[0], screen[1])
        x, y = centre_over(box, size, screen)
        root.geometry(f"+{x}+{y}")
        root.lift()
        root.focus_force()  # keys (Escape, Enter) go to the dialog, as a window manager would do
        root.update_idletasks()
    except Exception as err:  # noqa: BLE001 - cosmetic only
        log.warning("could not place dialog: %s", err)
