"""The main window, its event loop and the routing of events.

``App`` owns the window and composes the features, each in its own module and
each handed the app it works for: the photo list (``photo_list.py``), the
preview (``preview.py``), colorizing and saving (``colorizing.py``), the Models
menu (``models_menu.py``) and the dialogs (``dialogs.py``). ``step()`` processes
one event (tests call it to drive the real window), ``run()`` loops until the
window closes. Only this loop touches widgets: workers post events (see
``workers.py`` and ``jobs.py``) and the loop routes each, through one table
keyed by the event constants of ``events.py``, to the feature that paints it.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import PySimpleGUI as sg

from .. import __version__
from ..core import paths
from . import dnd, events as ev, geometry, layout, logs, video_preview, workers
from .backend_cache import BackendConfig
from .colorizing import Colorizing
from .dialogs import Dialogs, icon_file, open_in_file_manager
from .hint_tool import HintTool
from .jobs import Job, stop_jobs
from .models_menu import ModelsMenu, backend_config
from .photo_list import PhotoList, Row
from .preview import Preview
from .repair_tool import RepairTool
from .settings import Settings, load_settings, save_settings
from .train_process import TrainingProcess

log = logging.getLogger(__name__)
#: When set, the app writes the time it became usable to this file (bench/startup.py).
READY_ENV = "COLORIZER_READY_FILE"
#: Jobs that hold the model or the network: while one runs, another cannot start.
BUSY_JOBS = (ev.BATCH, ev.DOWNLOAD)
#: How long close() lets workers reach a safe point (a save in progress is atomic either way).
CLOSE_GRACE_S = 5.0
#: How long the app, once its windows are closed, waits for a trainer it stopped to exit.
TRAINER_STOP_S = 20.0
SHORTCUT_KEYS = {"<Control-o>": ev.SHORT_OPEN, "<Control-Return>": ev.SHORT_COLORIZE,
                 "<Control-KP_Enter>": ev.SHORT_COLORIZE, "<Control-s>": ev.SHORT_SAVE,
                 "<Escape>": ev.SHORT_ESCAPE}

__all__ = ["App", "Row", "main", "parse_args"]


class App:
    """The Colorizer main window.

    ``to_open``: photo files or folders to open. ``settings_dir``: where settings
    are kept (default: the user's config folder).
    """

    def __init__(self, to_open: Sequence[str] = (), settings_dir: Optional[Path] = None) -> None:
        log.info("Colorizer %s starting", __version__)
        self.settings_dir = settings_dir
        self.settings: Settings = load_settings(settings_dir)
        self.jobs: dict[str, Job] = {}
        self.current: Optional[str] = None        # the photo shown in the preview
        self.device_info: dict[str, Any] = {}
        self.status_text = ""
        self.ready = False
        self.closed = False
        self.finetune: Any = None                 # the fine-tune dialog while it is open

        sg.theme(layout.THEME)
        sg.set_options(font=layout.FONT)
        # Open at the size remembered from last time, but never larger than the
        # screen allows (a 1366x768 laptop, a 1280x720 projector).
        screen = sg.Window.get_screen_size()
        width, height, x, y = geometry.fit_window(screen, tuple(self.settings.window_size))
        self.window = sg.Window(f"Colorizer {__version__}",
                                layout.main_layout(workers.registered_backends(), self.settings),
                                finalize=True, resizable=True, icon=icon_file(), size=(width, height),
                                location=(x, y), enable_close_attempted_event=True)
        self.photos = PhotoList(self)
        self.preview = Preview(self, layout.CANVAS_SIZE)
        self.hints = HintTool(self)  # the colour-hint tool of the preview
        self.repair = RepairTool(self.window, self.preview, lambda: self.current, self.set_status, self.settings)
        self.colorizing = Colorizing(self)
        self.models = ModelsMenu(self)
        self.dialogs = Dialogs(self.window, self.open_folder)
        self.routes = self._routes()
        self.job_routes = self._job_routes()

        geometry.limit_min_size(self.window, screen)
        self.window[ev.K_CANVAS].bind("<Configure>", ev.CANVAS_RESIZE_SUFFIX)
        self.window.TKroot.update_idletasks()
        self.preview.apply_canvas_size()  # the canvas already grew to fill the window before the bind
        for key, event in SHORTCUT_KEYS.items():
            self.window.bind(key, event)
        self.dnd_ok = dnd.enable_drop(self.window)
        if not self.dnd_ok:
            self.window[ev.K_DROP_HINT].update("Open a folder of scans with File > Open folder (Ctrl+O).")
        self.models.check()
        self.start_job(ev.WARMUP, workers.warmup)
        self.preview.draw()
        self.set_status("Ready. Open a folder of photos (Ctrl+O) or drop one here.")
        if to_open:
            self.open_paths(to_open)

    # ------------------------------------------------------ routing tables

    def _routes(self) -> dict[Any, Callable[[dict], None]]:
        """Window events, shortcuts and menu items -> what they do (given the values)."""
        save, save_as = (lambda v: self.save(False)), (lambda v: self.save(True))
        ask_folder, colorize_sel = (lambda v: self.photos.ask_folder()), (lambda v: self.colorizing.colorize_selected())
        cancel, open_output = (lambda v: self.cancel()), (lambda v: self.open_output())
        return {
            ev.DROP: lambda v: self.open_paths(v[ev.DROP]),
            ev.CANVAS_RESIZED: lambda v: self.preview.on_canvas_resized(),
            ev.K_OPEN_FOLDER: ask_folder, ev.SHORT_OPEN: ask_folder, ev.M_OPEN_FOLDER: ask_folder,
            ev.K_OPEN_FILES: lambda v: self.photos.ask_files(), ev.M_OPEN_FILES: lambda v: self.photos.ask_files(),
            ev.K_COLORIZE_ALL: lambda v: self.colorize_all(),
            ev.K_COLORIZE_SEL: colorize_sel, ev.SHORT_COLORIZE: colorize_sel,
            ev.K_CANCEL: cancel, ev.SHORT_ESCAPE: cancel,
            ev.K_SAVE: save, ev.SHORT_SAVE: save, ev.M_SAVE: save, ev.K_SAVE_AS: save_as, ev.M_SAVE_AS: save_as,
            ev.K_OPEN_OUTPUT: open_output, ev.M_OPEN_OUTPUT: open_output,
            ev.M_MODELS_SHOW: lambda v: self.models.show_models(),
            ev.M_MODELS_DOWNLOAD: lambda v: self.models.download_zhang(),
            ev.M_MODELS_IMPORT: lambda v: self.models.import_model(),
            ev.M_MODELS_DEFAULT: lambda v: self.models.choose_default_model(),
            ev.M_FINETUNE: lambda v: self.open_finetune(),
            ev.M_ABOUT: lambda v: self.dialogs.about(self.device_info, self.dnd_ok),
            ev.M_SHORTCUTS: lambda v: self.dialogs.shortcuts(),
            ev.M_OPEN_LOG: lambda v: self.open_folder(paths.user_log_dir()),
            ev.K_FILES: self.photos.on_select,
            ev.K_CANVAS: self.preview.on_canvas_click,
            ev.K_SPLIT: lambda v: self.preview.on_slider(),
            video_preview.K_FRAME: lambda v: self.preview.on_frame_slider(),
            **{(ev.K_VIEW, mode): lambda v: self.preview.draw() for mode in geometry.VIEWS},
            ev.K_BACKEND: lambda v: self.models.show_reason(), **self.hints.routes(), **self.repair.routes(),
            # The brush and the colour hints share the preview's mouse and Ctrl+Z / Ctrl+Y.
            ev.CANVAS_UP: lambda v: self.repair.on_release(v) or self.hints.on_release(v),
            ev.SHORT_UNDO: lambda v: self.repair.undo() if self.repair.takes_keys(self.hints.on) else self.hints.undo(),
            ev.SHORT_REDO: lambda v: self.repair.redo() if self.repair.takes_keys(self.hints.on) else self.hints.redo(),
        }

    def _job_routes(self) -> dict[str, Callable[[str, Any], None]]:
        """Job name -> the handler of its events (phase, payload)."""
        return {ev.BATCH: self.colorizing.on_batch, ev.SAVE: self.colorizing.on_save,
                ev.PREVIEW: self.preview.on_preview, ev.FULLRES: self.preview.on_fullres,
                ev.SCAN: self.photos.on_scan, ev.THUMBS: self.photos.on_thumbs,
                ev.DOWNLOAD: self.models.on_download, ev.IMPORT: self.models.on_import,
                ev.CHECK: self.models.on_checked, ev.WARMUP: self.models.on_device_found}

    # ---------------------------------------------- what tests and benches use

    rows = property(lambda self: self.photos.rows, doc="The photo list's rows (path -> Row).")
    shown = property(lambda self: self.preview.shown, doc="The preview images of the current photo.")
    canvas_size = property(lambda self: self.preview.canvas_size, doc="The preview canvas's size in pixels.")
    backends = property(lambda self: self.models.backends, doc="Backend name -> (can run, why).")
    last_result = property(lambda self: self.colorizing.last_result, doc="The last batch's result.")

    @property
    def last_summary(self) -> Optional[str]:
        """The last batch's summary line (None until a batch ended)."""
        return self.colorizing.last_summary

    @last_summary.setter
    def last_summary(self, value: Optional[str]) -> None:
        self.colorizing.last_summary = value

    def open_paths(self, items: Sequence[str]) -> None:
        """Add the photos found in these files and folders to the list."""
        self.photos.open_paths(items)

    def selected(self) -> list[str]:
        """Paths of the selected photos."""
        return self.photos.selected()

    def draw_preview(self, message: str = "") -> None:
        """Paint the preview for the current view mode."""
        self.preview.draw(message)

    def colorize_all(self) -> None:
        """Colorize every photo in the list."""
        self.colorizing.colorize_all()

    def save(self, ask: bool) -> None:
        """Save the photo in the preview at full size (``ask``: choose where)."""
        self.colorizing.save(ask)

    def cancel(self) -> None:
        """Stop the running batch, download or save at the next safe point."""
        self.colorizing.cancel()

    def models_changed(self) -> None:
        """Re-check the backends (in a worker) after a model was installed or the default changed."""
        self.models.models_changed()

    # -------------------------------------------------------------- basics

    def set_status(self, text: str) -> None:
        """Show a line in the status bar (and log it)."""
        self.status_text = text
        log.info("status: %s", text)
        if not self.closed:
            self.window[ev.K_STATUS].update(text)

    def start_job(self, name: str, target: Callable[..., Any], *args: Any) -> Job:
        """Start a background job posting to the main window; a running job of
        the same name is cancelled (its late events are ignored)."""
        self.cancel_job(name)
        job = Job(self.window, name, target, *args)
        self.jobs[name] = job
        return job.start()

    def job_running(self, name: str) -> bool:
        """True while the job called ``name`` runs."""
        job = self.jobs.get(name)
        return job is not None and job.running

    def cancel_job(self, name: str) -> bool:
        """Ask the job called ``name`` to stop; True when it was running."""
        if not self.job_running(name):
            return False
        self.jobs[name].cancel()
        return True

    def busy(self) -> bool:
        """True while a batch or download is running."""
        return any(self.job_running(name) for name in BUSY_JOBS)

    def config(self) -> BackendConfig:
        """The backend settings chosen in the controls."""
        return backend_config(self.settings)

    def out_dir(self) -> Optional[str]:
        """The chosen output folder, or None for a 'colorized' folder beside each photo."""
        return self.settings.output_folder.strip() or None

    def update_buttons(self) -> None:
        """Enable the buttons that can act now."""
        have, busy, current = bool(self.rows), self.busy(), self.current is not None
        w = self.window
        for key, enabled in ((ev.K_COLORIZE_ALL, have and not busy), (ev.K_COLORIZE_SEL, have and not busy),
                             (ev.K_CANCEL, busy), (ev.K_SAVE, current), (ev.K_SAVE_AS, current),
                             (ev.K_OPEN_OUTPUT, self.colorizing.last_output_folder is not None)):
            w[key].update(disabled=not enabled)

    def open_output(self) -> None:
        """Open the folder the last results went to."""
        folder = self.colorizing.output_folder()
        if folder is None or not folder.is_dir():
            self.set_status("Nothing has been saved yet.")
            return
        self.open_folder(folder)

    def open_folder(self, folder: Path) -> None:
        """Show a folder in the file manager (or say where it is)."""
        if not open_in_file_manager(folder):
            self.set_status(f"Could not open a file manager; the folder is {folder}")

    def open_finetune(self) -> None:
        """Open the fine-tuning dialog (one at a time)."""
        from .finetune import FineTuneDialog

        if self.finetune is not None:
            self.finetune.window.bring_to_front()
            return
        self.finetune = FineTuneDialog(self)

    # ---------------------------------------------------------------- loop

    def step(self, timeout: Optional[int] = 100) -> bool:
        """Process at most one event (waiting up to ``timeout`` ms); False once closed."""
        if self.closed:
            return False
        # The very first read only processes what is pending, so "ready" is marked
        # as soon as the window is drawn and responding. A redraw that is due soon
        # (the compare slider's last position) shortens the wait.
        due = self.preview.next_due()
        wait = 0 if not self.ready else timeout
        if due is not None and wait is not None:
            wait = max(0, min(wait, int((due - time.monotonic()) * 1000) + 1))
        window, event, values = sg.read_all_windows(timeout=wait)
        if not self.ready:
            self.ready = True
            self._mark_ready()
        if window is not None and event != sg.TIMEOUT_KEY:
            try:
                self.dispatch(window, event, values)
            except Exception as err:  # noqa: BLE001 - never let one bad event take the window down
                log.exception("error handling %r", event)
                self.set_status(f"Something went wrong: {err}. Details are in the log file.")
        # Resizing and the slider send streams of events, so timers are checked after every event.
        if not self.closed:
            self.preview.tick()
        return not self.closed

    def run(self) -> None:
        """Run until the window is closed."""
        while self.step(200):
            pass

    def dispatch(self, window: Any, event: Any, values: Any) -> None:
        """Hand one event to the window it belongs to."""
        if window is self.window:
            self.handle(event, values or {})
        elif self.finetune is not None and window is self.finetune.window:
            if not self.finetune.handle(event, values):
                self.finetune.close()
                self.finetune = None
        elif window in self.dialogs:
            self.dialogs.handle(window, event, values)
        elif event in (sg.WIN_CLOSED, "OK", "Close", "Cancel", sg.WIN_CLOSE_ATTEMPTED_EVENT):
            window.close()

    def handle(self, event: Any, values: dict) -> None:
        """Route one main-window event: job events by job name, the rest by key."""
        if event in (sg.WIN_CLOSED, sg.WIN_CLOSE_ATTEMPTED_EVENT) or ev.menu_key(event) == ev.M_EXIT:
            self.close()
            return
        if isinstance(event, tuple) and len(event) == 2 and event[0] in self.job_routes:
            self.on_job_event(event[0], event[1], values[event])
            return
        self._read_controls(values)
        route = self.routes.get(ev.menu_key(event)) or self.routes.get(event)
        if route is not None:
            route(values)

    def on_job_event(self, name: str, phase: str, value: Any) -> None:
        """A worker posted something: hand it to its feature."""
        job_id, payload = value
        job = self.jobs.get(name)
        if job is None or job.id != job_id:
            return  # from a job that was replaced (e.g. an older preview)
        self.job_routes[name](phase, payload)
        if phase in ev.ENDINGS:
            self.update_buttons()

    def _read_controls(self, values: dict) -> None:
        """Copy the controls into the settings; recolorize the preview when they change it."""
        s = self.settings
        before = (s.backend, s.device, s.render_size, s.saturation, s.temperature)
        s.backend = values.get(ev.K_BACKEND) or s.backend
        s.device = values.get(ev.K_DEVICE) or s.device
        s.render_size = values.get(ev.K_RENDER) or s.render_size
        s.saturation = float(values.get(ev.K_SATURATION, s.saturation))
        s.temperature = float(values.get(ev.K_TEMPERATURE, s.temperature))
        s.output_folder = str(values.get(ev.K_OUTDIR, s.output_folder) or "")
        s.skip_existing = bool(values.get(ev.K_SKIP_EXISTING, s.skip_existing))
        s.recolor = bool(values.get(ev.K_RECOLOR, s.recolor))
        s.view = next((mode for mode in geometry.VIEWS if values.get((ev.K_VIEW, mode))), s.view)
        if (s.backend, s.device, s.render_size, s.saturation, s.temperature) != before:
            self.preview.settings_changed()

    def _mark_ready(self) -> None:
        target = os.environ.get(READY_ENV)
        if target:
            Path(target).write_text(f"{time.time():.6f}\n", encoding="utf-8")
        log.info("window ready")

    def close(self) -> None:
        """Save settings, stop every worker and close all windows."""
        if self.closed:
            return
        try:
            self.settings.window_size = tuple(int(v) for v in self.window.size)  # type: ignore[assignment]
        except Exception:  # noqa: BLE001 - a size we cannot read is not worth failing over
            pass
        try:
            save_settings(self.settings, self.settings_dir)
        except OSError as err:
            log.warning("could not save settings: %s", err)
        if self.finetune is not None:
            self.finetune.close()
            self.finetune = None
        stop_jobs(list(self.jobs.values()), self.window.TKroot.update, CLOSE_GRACE_S)
        self.dialogs.close_all()
        self.closed = True
        self.window.close()
        log.info("closed")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The window's command line: photos or folders to open."""
    parser = argparse.ArgumentParser(prog="colorizer-gui", description="Colorizer desktop app")
    parser.add_argument("paths", nargs="*", help="photos or folders to open")
    return parser.parse_args(list(argv) if argv is not None else None)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Parse the command line, set up logging, open the window and run until it closes."""
    args = parse_args(argv)
    logs.setup_logging()
    app = App(args.paths)
    try:
        app.run()
    finally:
        app.close()
        # The windows are gone: a trainer told to stop may now be waited for, so none outlives the app.
        TrainingProcess.wait_stopped(timeout=TRAINER_STOP_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())
