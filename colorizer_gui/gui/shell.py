"""What the window's feature modules (photo list, preview, hint tool, repair tool,
colorizing, Models menu) may use of the main window: a narrow protocol, so they depend on it and not on
``app.py`` (which builds them: no import circle). ``app.App`` fits it.

The other features are reached through it as peers; they are typed ``Any`` here so
this module imports none of them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional, Protocol

from .settings import Settings


class Shell(Protocol):
    """The main window as its features see it."""

    window: Any                  # the PySimpleGUI window (widgets by key)
    settings: Settings           # the user's settings, saved on close
    settings_dir: Optional[Path]  # where they are saved (None: the user's config folder)
    current: Optional[str]       # the photo shown in the preview
    device_info: dict[str, Any]  # what the warm-up job found (torch, CUDA, GPU name)
    photos: Any                  # photo_list.PhotoList
    preview: Any                 # preview.Preview
    hints: Any                   # hint_tool.HintTool
    repair: Any                  # repair_tool.RepairTool
    colorizing: Any              # colorizing.Colorizing
    models: Any                  # models_menu.ModelsMenu
    dialogs: Any                 # dialogs.Dialogs

    @property
    def rows(self) -> Any:
        """The photo list's rows, by path."""
        ...

    def set_status(self, text: str) -> None:
        """Show a line in the status bar (and log it)."""
        ...

    def start_job(self, name: str, target: Callable[..., Any], *args: Any) -> Any:
        """Start a background job that posts to the window (``jobs.Job``)."""
        ...

    def job_running(self, name: str) -> bool:
        """True while the job called ``name`` runs."""
        ...

    def cancel_job(self, name: str) -> bool:
        """Ask the job called ``name`` to stop; True when it was running."""
        ...

    def busy(self) -> bool:
        """True while a batch or download is running."""
        ...

    def config(self) -> Any:
        """The backend settings chosen in the controls (``backend_cache.BackendConfig``)."""
        ...

    def out_dir(self) -> Optional[str]:
        """The chosen output folder, or None for a 'colorized' folder beside each photo."""
        ...

    def update_buttons(self) -> None:
        """Enable the buttons that can act now."""
        ...

    def models_changed(self) -> None:
        """Re-check the backends after a model was installed or the default changed."""
        ...
