"""Small dialog windows over the main one: notices, the end-of-batch summary,
keyboard shortcuts and About.

Dialogs never block: each is a non-modal window whose events the app's one loop
reads and hands to the dialog's handler (``Dialogs.handle``), so workers keep
posting and the main window keeps painting while a dialog is open.
"""
from __future__ import annotations

import logging
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import PySimpleGUI as sg

from .. import __version__
from ..core import paths
from . import geometry, logs

log = logging.getLogger(__name__)

#: When set, "Open folder" actions only log the folder instead of opening a file manager (tests).
NO_OPEN_ENV = "COLORIZER_NO_OPEN"
#: A dialog's handler gets (event, values) and returns False when the dialog should close.
Handler = Callable[[Any, Any], bool]
TITLE_FONT = ("Helvetica", 13, "bold")
HEADING_FONT = ("Helvetica", 11, "bold")

SHORTCUTS = """Ctrl+O          Open a folder of photos
Ctrl+Enter      Colorize the selected photos
Ctrl+S          Save the colorized photo shown in the preview
Escape          Cancel the running job
Click (100%)    Show that part of the photo at full size
Colour hints (tick "Colour hints" above the preview):
  Click         Add a hint with the current colour (or select one)
  Drag          Move the selected hint
  Right-click   Remove the hint under the pointer (Delete: the selected one)
Ctrl+Z / Ctrl+Y Undo / redo a change to the hints"""


def icon_file() -> Optional[str]:
    """The window icon shipped in ``assets/`` (None if missing)."""
    for name in ("icon.png", "icon.ico"):
        candidate = paths.resource_path("assets", name)
        if candidate.is_file():
            return str(candidate)
    return None


def open_in_file_manager(folder: Path) -> bool:
    """Show ``folder`` in the system's file manager; False if that is not possible."""
    if os.environ.get(NO_OPEN_ENV):
        log.info("would open %s", folder)
        return True
    try:
        if sys.platform.startswith("win"):
            os.startfile(str(folder))  # type: ignore[attr-defined]
        elif sys.platform == "darwin":
            subprocess.Popen(["open", str(folder)])
        else:
            subprocess.Popen(["xdg-open", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return True
    except OSError as err:
        log.warning("cannot open %s: %s", folder, err)
        return False


class Dialogs:
    """The open dialogs of one main window, and the ones it can show.

    ``parent``: the main window (dialogs are centred over it). ``open_folder``:
    how to show a folder (the app's, which reports failures in its status bar).
    """

    def __init__(self, parent: Any, open_folder: Callable[[Path], None]) -> None:
        self.parent = parent
        self.open_folder = open_folder
        self.windows: dict[Any, Handler] = {}  # window -> handler; False closes it

    def __contains__(self, window: Any) -> bool:
        return window in self.windows

    def __iter__(self) -> Iterator[Any]:
        """The open dialog windows."""
        return iter(list(self.windows))

    def __len__(self) -> int:
        return len(self.windows)

    def clear(self) -> None:
        """Forget every dialog (whoever calls this has closed them)."""
        self.windows.clear()

    def handle(self, window: Any, event: Any, values: Any) -> None:
        """Give one event to the dialog it belongs to; close the dialog when its handler says so."""
        if not self.windows[window](event, values):
            self.windows.pop(window, None)
            window.close()

    def close_all(self) -> None:
        """Close every open dialog (the main window is closing)."""
        for window in list(self.windows):
            window.close()
        self.windows.clear()

    def dialog(self, title: str, rows: list[list[Any]], handler: Optional[Handler] = None) -> Any:
        """A dialog window over the main one: its title in bold inside (there may be
        no window manager to draw a title bar), a border, centred over the main
        window. It does not block the workers; ``handler`` returns False to close it."""
        heading = [sg.Text(title, font=TITLE_FONT, pad=((0, 0), (0, 8)))]
        window = sg.Window(title, [heading, *rows], finalize=True, modal=False, icon=icon_file(),
                           keep_on_top=False, margins=(16, 12))
        geometry.place_dialog(window, self.parent)
        window.bind("<Escape>", "Close")  # Escape closes a dialog as it does elsewhere
        self.windows[window] = handler or (lambda event, values: False)
        return window

    def notice(self, title: str, text: str) -> Any:
        """A small message window that does not block the workers."""
        return self.dialog(title, [[sg.Text(text, size=(60, None))], [sg.Push(), sg.Button("OK")]])

    def with_folder_button(self, title: str, body: list[list[Any]], button: str, folder: Callable[[], Path],
                           enabled: bool = True, button_left: bool = False) -> Any:
        """A dialog with ``body``, a button that opens ``folder()`` (and keeps the
        dialog open) and Close; the button sits beside Close unless ``button_left``."""
        def handle(event: Any, values: Any) -> bool:
            if event == button:
                self.open_folder(folder())
                return True
            return False

        folder_button = sg.Button(button, disabled=not enabled)
        buttons = ([folder_button, sg.Push()] if button_left else [sg.Push(), folder_button]) + [sg.Button("Close")]
        return self.dialog(title, [*body, buttons], handle)

    def summary(self, result: Any, cancelled: bool, output_folder: Callable[[], Path]) -> Any:
        """The end-of-batch summary: what was done, what failed and why, what was
        skipped, and notes (which page of a multi-page TIFF was used, ...)."""
        detail: list[list[Any]] = []
        for heading, items, most in (("Could not be colorized:", result.failed, 8), ("Skipped:", result.skipped, 6),
                                     ("Notes:", result.notes, 6)):
            lines = [f"{Path(src).name}: {why}" for src, why in items]
            if lines:
                detail += [[sg.Text(heading, font=HEADING_FONT)],
                           [sg.Multiline("\n".join(lines), size=(70, min(most, len(lines) + 1)), disabled=True)]]
        title = "Colorizing cancelled" if cancelled else "Colorizing finished"
        body = [[sg.Text(result.summary(), size=(70, None))], *detail]
        return self.with_folder_button(title, body, "Open output folder", output_folder, enabled=bool(result.done))

    def shortcuts(self) -> Any:
        """The keyboard shortcuts."""
        return self.dialog("Keyboard shortcuts", [[sg.Text(SHORTCUTS, font=("Courier", 11))],
                                                  [sg.Push(), sg.Button("OK")]])

    def about(self, device_info: dict[str, Any], dnd_ok: bool) -> Any:
        """Versions, the device found, where settings and the log are."""
        import numpy
        import PIL

        torch_text = device_info.get("torch") or "loading..."
        device = (f"CUDA: {device_info['gpu']}" if device_info.get("cuda")
                  else ("CPU (no CUDA graphics card found)" if device_info else "checking..."))
        try:
            import cv2

            cv_text = cv2.__version__
        except ImportError:
            cv_text = "not installed"
        text = (f"Colorizer {__version__}\nBrings black-and-white family photos to colour.\n\n"
                f"Python {platform.python_version()} on {platform.system()} {platform.machine()}\n"
                f"PySimpleGUI {sg.version} (LGPL)\nPyTorch {torch_text}\nOpenCV {cv_text}\n"
                f"NumPy {numpy.__version__}\nPillow {PIL.__version__}\nDevice: {device}\n"
                f"Drag and drop: {'on' if dnd_ok else 'unavailable'}\n\n"
                f"Settings: {paths.user_config_dir()}\nLog: {logs.log_file()}")
        return self.notice("About Colorizer", text)
