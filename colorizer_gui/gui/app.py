"""The main window and its event loop.

``App`` owns the window; ``step()`` processes one event (tests call it to drive
the real window), ``run()`` loops until the window closes. Only this loop touches
widgets: workers post events (see ``workers.py``) and the loop paints them.
"""
from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import PySimpleGUI as sg

from .. import __version__
from ..core import model_store, paths
from . import dnd, events as ev, geometry, images, layout, video_preview, workers
from .settings import Settings, load_settings, save_settings

log = logging.getLogger(__name__)
LOG_NAME = "colorizer.log"
#: When set, the app writes the time it became usable to this file (bench/startup.py).
READY_ENV = "COLORIZER_READY_FILE"
#: When set, "Open folder" actions only log the folder instead of opening a file manager (tests).
NO_OPEN_ENV = "COLORIZER_NO_OPEN"
_log_handler: Optional[logging.Handler] = None

SHORTCUTS = """Ctrl+O          Open a folder of photos
Ctrl+Enter      Colorize the selected photos
Ctrl+S          Save the colorized photo shown in the preview
Escape          Cancel the running job
Click (100%)    Show that part of the photo at full size"""


def setup_logging() -> Path:
    """Log to ``colorizer.log`` in the user's log folder (rotated); returns the file."""
    global _log_handler
    target = paths.user_log_dir() / LOG_NAME
    root = logging.getLogger()
    if _log_handler is not None:
        root.removeHandler(_log_handler)
        _log_handler.close()
    _log_handler = logging.handlers.RotatingFileHandler(target, maxBytes=2_000_000, backupCount=3,
                                                        encoding="utf-8")
    _log_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Console handlers set up by the CLI keep showing warnings only; the file gets INFO.
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler) \
                and handler.level == logging.NOTSET:
            handler.setLevel(max(root.level, logging.WARNING))
    _log_handler.setLevel(logging.INFO)
    root.addHandler(_log_handler)
    root.setLevel(min(root.level, logging.INFO) if root.level else logging.INFO)
    return target


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


def format_eta(seconds: Optional[float]) -> str:
    """'about 2 min left' style text."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(1, int(round(seconds)))} s left"
    if seconds < 3600:
        return f"about {int(round(seconds / 60))} min left"
    return f"about {seconds / 3600:.1f} h left"


@dataclass
class Row:
    """One photo in the list."""

    path: str
    status: str = "ready"
    dest: Optional[str] = None
    is_colour: bool = False
    error: str = ""
    duration: Optional[float] = None  # videos: length in seconds


def backend_status() -> dict[str, tuple[bool, str]]:
    """For every registered backend: (can run now, why or what it will use)."""
    from ..backends import backend_names, create_backend

    found = {}
    for name in backend_names():
        try:
            avail = create_backend(name).availability()
            found[name] = (avail.ok, avail.reason)
        except Exception as err:  # noqa: BLE001 - a broken backend must not stop the app
            found[name] = (False, str(err))
    return found


def choose_backend(status: dict[str, tuple[bool, str]], preferred: str = "") -> str:
    """The user's choice if it can run, else cgan, else zhang, else cgan (with a message)."""
    if preferred in status and status[preferred][0]:
        return preferred
    for name in ("cgan", "zhang"):
        if status.get(name, (False, ""))[0]:
            return name
    return "cgan" if "cgan" in status else (next(iter(status), ""))


def icon_file() -> Optional[str]:
    """The window icon shipped in ``assets/`` (None if missing)."""
    for name in ("icon.png", "icon.ico"):
        candidate = paths.resource_path("assets", name)
        if candidate.is_file():
            return str(candidate)
    return None


class App:
    """The Colorizer main window.

    ``argv``: photo files or folders to open. ``settings_dir``: where settings
    are kept (default: the user's config folder).
    """

    def __init__(self, argv: Optional[Sequence[str]] = None, settings_dir: Optional[Path] = None) -> None:
        parser = argparse.ArgumentParser(prog="colorizer-gui", description="Colorizer desktop app")
        parser.add_argument("paths", nargs="*", help="photos or folders to open")
        args = parser.parse_args(list(argv) if argv is not None else None)
        self.log_file = setup_logging()
        log.info("Colorizer %s starting", __version__)
        self.settings_dir = settings_dir
        self.settings: Settings = load_settings(settings_dir)
        self.rows: dict[str, Row] = {}
        self.jobs: dict[str, workers.Job] = {}
        self.current: Optional[str] = None        # photo shown in the preview
        self.shown: dict[str, Any] = {}            # preview images of the current photo
        self.full: dict[str, Any] = {}             # full-resolution images (100% view)
        self.zoom_centre = (0.5, 0.5)
        self.preview_due: Optional[float] = None  # debounce for slider changes
        self.last_summary: Optional[str] = None
        self.last_result: Any = None
        self.last_output_folder: Optional[Path] = None
        self.device_info: dict[str, Any] = {}
        self.status_text = ""
        self.ready = False
        self.closed = False
        self.dialogs: dict[Any, Callable[[Any, Any], bool]] = {}  # window -> handler; False closes it
        self.finetune: Any = None
        self.batch_names: dict[str, str] = {}
        self.auto_selected = False  # the preview shows a photo the app picked, not the user
        self._preview_message = ""

        sg.theme(layout.THEME)
        sg.set_options(font=layout.FONT)
        self.backends = backend_status()
        names = list(self.backends)
        self.settings.backend = choose_backend(self.backends, self.settings.backend)
        # Open at the size remembered from last time, but never larger than the
        # screen allows (a 1366x768 laptop, a 1280x720 projector).
        screen = sg.Window.get_screen_size()
        width, height, x, y = geometry.fit_window(screen, tuple(self.settings.window_size))
        self.window = sg.Window(f"Colorizer {__version__}", layout.main_layout(names, self.settings),
                                finalize=True, resizable=True, icon=icon_file(), size=(width, height),
                                location=(x, y), enable_close_attempted_event=True)
        self._limit_min_size(screen)
        self.canvas_size = layout.CANVAS_SIZE
        self.resize_due: Optional[float] = None   # throttles redraws while the window is resized
        self.window[ev.K_CANVAS].bind("<Configure>", ev.CANVAS_RESIZE_SUFFIX)
        self.window.TKroot.update_idletasks()
        self._apply_canvas_size()  # the canvas already grew to fill the window before the bind
        self.window.bind("<Control-o>", ev.SHORT_OPEN)
        self.window.bind("<Control-Return>", ev.SHORT_COLORIZE)
        self.window.bind("<Control-KP_Enter>", ev.SHORT_COLORIZE)
        self.window.bind("<Control-s>", ev.SHORT_SAVE)
        self.window.bind("<Escape>", ev.SHORT_ESCAPE)
        self.dnd_ok = dnd.enable_drop(self.window)
        if not self.dnd_ok:
            self.window[ev.K_DROP_HINT].update("Open a folder of scans with File > Open folder (Ctrl+O).")
        self._show_backend_reason()
        self._start(ev.WARMUP, workers.warmup)
        self.draw_preview()
        self.set_status("Ready. Open a folder of photos (Ctrl+O) or drop one here.")
        if args.paths:
            self.open_paths(args.paths)

    # ----------------------------------------------------------------- basics

    def set_status(self, text: str) -> None:
        """Show a line in the status bar (and log it)."""
        self.status_text = text
        log.info("status: %s", text)
        if not self.closed:
            self.window[ev.K_STATUS].update(text)

    def _start(self, name: str, target: Callable[..., Any], *args: Any, window: Any = None) -> workers.Job:
        old = self.jobs.get(name)
        if old is not None and old.running:
            old.cancel()
        job = workers.Job(window or self.window, name, target, *args)
        self.jobs[name] = job
        return job.start()

    def busy(self) -> bool:
        """True while a batch, save or download is running."""
        return any(self.jobs.get(n) is not None and self.jobs[n].running for n in (ev.BATCH, ev.DOWNLOAD))

    def config(self, values: Optional[dict] = None) -> workers.BackendConfig:
        """The backend settings chosen in the controls."""
        s = self.settings
        render = None if s.render_size == "auto" else int(s.render_size)
        temperature = s.temperature if s.backend == "zhang" else None
        return workers.BackendConfig(s.backend, s.device, temperature, render, s.saturation)

    def out_dir(self) -> Optional[str]:
        """The chosen output folder, or None for a 'colorized' folder beside each photo."""
        text = self.settings.output_folder.strip()
        return text or None

    # ------------------------------------------------------------------ loop

    def step(self, timeout: Optional[int] = 100) -> bool:
        """Process at most one event (waiting up to ``timeout`` ms); False once closed."""
        if self.closed:
            return False
        # The very first read only processes what is pending, so "ready" is marked
        # as soon as the window is drawn and responding.
        window, event, values = sg.read_all_windows(timeout=0 if not self.ready else timeout)
        if not self.ready:
            self.ready = True
            self._mark_ready()
        if window is None or event == sg.TIMEOUT_KEY:
            self._on_idle()
            return not self.closed
        try:
            if window is self.window:
                self.handle(event, values or {})
            elif self.finetune is not None and window is self.finetune.window:
                if not self.finetune.handle(event, values):
                    self.finetune.close()
                    self.finetune = None
            elif window in self.dialogs:
                if not self.dialogs[window](event, values):
                    self.dialogs.pop(window, None)
                    window.close()
            elif event in (sg.WIN_CLOSED, "OK", "Close", "Cancel", sg.WIN_CLOSE_ATTEMPTED_EVENT):
                window.close()
        except Exception as err:  # noqa: BLE001 - never let one bad event take the window down
            log.exception("error handling %r", event)
            self.set_status(f"Something went wrong: {err}. Details are in the log file.")
        # Resizing sends a stream of events, so timers are checked here too, not only when idle.
        if not self.closed:
            self._on_idle()
        return not self.closed

    def run(self) -> None:
        """Run until the window is closed."""
        while self.step(200):
            pass

    def _mark_ready(self) -> None:
        target = os.environ.get(READY_ENV)
        if target:
            Path(target).write_text(f"{time.time():.6f}\n", encoding="utf-8")
        log.info("window ready")

    def _on_idle(self) -> None:
        now = time.monotonic()
        if self.preview_due is not None and now >= self.preview_due:
            self.preview_due = None
            self.start_preview()
        if self.resize_due is not None and now >= self.resize_due:
            self.resize_due = None
            self._apply_canvas_size()

    def _limit_min_size(self, screen: tuple[int, int]) -> None:
        """Let the window shrink only as far as its contents stay whole (or the screen allows)."""
        root = self.window.TKroot
        root.update_idletasks()
        min_w, min_h = min(root.winfo_reqwidth(), screen[0]), min(root.winfo_reqheight(), screen[1])
        root.minsize(min_w, min_h)
        # The minimum may have made the window larger than planned: centre it again.
        width, height = max(root.winfo_width(), min_w), max(root.winfo_height(), min_h)
        width, height, x, y = geometry.fit_window(screen, (width, height), share=1.0)
        root.geometry(f"{width}x{height}+{x}+{y}")
        root.update_idletasks()

    def on_canvas_resized(self) -> None:
        """The preview area changed size: redraw once the size has settled (throttled)."""
        self.resize_due = time.monotonic() + 0.15

    def _apply_canvas_size(self) -> None:
        widget = self.window[ev.K_CANVAS].Widget
        size = (int(widget.winfo_width()), int(widget.winfo_height()))
        if size[0] < 20 or size[1] < 20 or size == self.canvas_size:
            return
        self.canvas_size = size
        # The caption under the preview wraps at the preview's width.
        self.window[ev.K_CAPTION].Widget.configure(wraplength=max(200, size[0] - 16))
        self.draw_preview(self._preview_message)

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
        for job in self.jobs.values():
            job.mute()
            job.cancel()
        if self.finetune is not None:
            self.finetune.close()
            self.finetune = None
        # Wait a little for workers to reach a safe point (a save in progress is
        # atomic either way). Tk keeps running meanwhile: a worker that was posting
        # when we muted it waits for Tk to take its event. They are daemon threads,
        # so none can keep the app alive.
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(job.thread.is_alive() for job in self.jobs.values()):
            try:
                self.window.TKroot.update()
            except Exception:  # noqa: BLE001 - Tk may already be going away
                break
            time.sleep(0.02)
        for job in self.jobs.values():
            if job.thread.is_alive():
                log.info("job %s still finishing at close", job.name)
        for window in list(self.dialogs):
            window.close()
        self.dialogs.clear()
        self.closed = True
        self.window.close()
        log.info("closed")

    # --------------------------------------------------------------- routing

    def handle(self, event: Any, values: dict) -> None:
        """Route one main-window event."""
        if event in (sg.WIN_CLOSED, sg.WIN_CLOSE_ATTEMPTED_EVENT) or ev.menu_key(event) == ev.M_EXIT:
            self.close()
            return
        if isinstance(event, tuple) and len(event) == 2 and event[0] in (
                ev.BATCH, ev.PREVIEW, ev.FULLRES, ev.SAVE, ev.DOWNLOAD, ev.IMPORT, ev.WARMUP, ev.THUMBS, ev.SCAN):
            self.on_job_event(event[0], event[1], values[event])
            return
        if event == ev.DROP:
            self.open_paths(values[event])
            return
        if event == ev.CANVAS_RESIZED:
            self.on_canvas_resized()
            return
        self._read_controls(event, values)
        key = ev.menu_key(event)
        actions: dict[Any, Callable[[], None]] = {
            ev.K_OPEN_FOLDER: self.ask_folder, ev.SHORT_OPEN: self.ask_folder, ev.M_OPEN_FOLDER: self.ask_folder,
            ev.K_OPEN_FILES: self.ask_files, ev.M_OPEN_FILES: self.ask_files,
            ev.K_COLORIZE_ALL: self.colorize_all, ev.K_COLORIZE_SEL: self.colorize_selected,
            ev.SHORT_COLORIZE: self.colorize_selected,
            ev.K_CANCEL: self.cancel, ev.SHORT_ESCAPE: self.cancel,
            ev.K_SAVE: lambda: self.save(False), ev.SHORT_SAVE: lambda: self.save(False),
            ev.M_SAVE: lambda: self.save(False), ev.K_SAVE_AS: lambda: self.save(True),
            ev.M_SAVE_AS: lambda: self.save(True),
            ev.K_OPEN_OUTPUT: self.open_output, ev.M_OPEN_OUTPUT: self.open_output,
            ev.M_MODELS_SHOW: self.show_models, ev.M_MODELS_DOWNLOAD: self.download_zhang,
            ev.M_MODELS_IMPORT: self.import_model, ev.M_MODELS_DEFAULT: self.choose_default_model,
            ev.M_FINETUNE: self.open_finetune, ev.M_ABOUT: self.about, ev.M_SHORTCUTS: self.shortcuts,
            ev.M_OPEN_LOG: lambda: self.open_folder(paths.user_log_dir()),
            ev.K_FILES: self.on_select, ev.K_CANVAS: lambda: self.on_canvas_click(values.get(ev.K_CANVAS)),
            ev.K_SPLIT: self.draw_preview,
            # Sliders send many events while dragged: preview the frame once it rests.
            video_preview.K_FRAME: lambda: setattr(self, "preview_due", time.monotonic() + 0.3),
        }
        action = actions.get(key) or actions.get(event)
        if action is not None:
            action()

    def _read_controls(self, event: Any, values: dict) -> None:
        """Copy the controls into the settings; restart the preview when they change it."""
        s = self.settings
        before = (s.backend, s.device, s.render_size, s.saturation, s.temperature)
        s.backend = values.get(ev.K_BACKEND) or s.backend
        s.device = values.get(ev.K_DEVICE) or s.device
        s.render_size = values.get(ev.K_RENDER) or s.render_size
        s.saturation = float(values.get(ev.K_SATURATION, s.saturation))
        s.temperature = float(values.get(ev.K_TEMPERATURE, s.temperature))
        s.output_folder = str(values.get(ev.K_OUTDIR, s.output_folder) or "")
        s.skip_existing = bool(values.get(ev.K_SKIP_EXISTING, s.skip_existing))
        s.recolour = bool(values.get(ev.K_RECOLOUR, s.recolour))
        for mode in ("side", "compare", "zoom"):
            if values.get((ev.K_VIEW, mode)):
                s.view = mode
        if isinstance(event, tuple) and event and event[0] == ev.K_VIEW:
            self.draw_preview()
        if event == ev.K_BACKEND:
            self._show_backend_reason()
        if (s.backend, s.device, s.render_size, s.saturation, s.temperature) != before:
            self.full = {}
            # Sliders send many events while dragged: wait until they rest.
            self.preview_due = time.monotonic() + 0.4

    def _show_backend_reason(self) -> None:
        name = self.settings.backend
        ok, reason = self.backends.get(name, (False, "unknown method"))
        if ok:
            text = f"Ready: {reason}"
        elif not any(v[0] for v in self.backends.values()):
            text = ("No colorization model is installed yet. Use Models > Download Zhang model, "
                    "or Models > Import model file.")
        else:
            text = f"Not available: {reason}"
        self.window[ev.K_BACKEND_WHY].update(text, text_color="#1b5e20" if ok else "#b71c1c")
        self.window[ev.K_TEMPERATURE].update(disabled=name != "zhang")

    # ------------------------------------------------------------ photo list

    def ask_folder(self) -> None:
        """Ask for a folder of photos and open it."""
        folder = sg.popup_get_folder("Open a folder of photos", no_window=True,
                                     initial_folder=self.settings.last_folder or str(Path.home()))
        if folder:
            self.open_paths([folder])

    def ask_files(self) -> None:
        """Ask for photo files and open them."""
        chosen = sg.popup_get_file("Open photos", no_window=True, multiple_files=True,
                                   initial_folder=self.settings.last_folder or str(Path.home()),
                                   file_types=(("Photos", "*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.webp"),
                                               video_preview.FILE_TYPES, ("All files", "*.*")))
        if chosen:
            self.open_paths(list(chosen) if isinstance(chosen, (list, tuple)) else str(chosen).split(";"))

    def open_paths(self, items: Sequence[str]) -> None:
        """Add the photos found in these files and folders to the list (in a worker)."""
        items = [str(p) for p in items if str(p).strip()]
        if not items:
            return
        first = Path(items[0])
        self.settings.last_folder = str(first if first.is_dir() else first.parent)
        self.set_status(f"Looking for photos in {', '.join(Path(p).name or p for p in items[:3])}...")
        self._start(ev.SCAN, workers.scan, items)

    def _add_rows(self, found: list[str]) -> None:
        new = [p for p in found if p not in self.rows]
        for path in new:
            self.rows[path] = Row(path)
        self._refresh_tree()
        if not found:
            self.set_status("No photos found there (JPEG, PNG, TIFF, BMP and WebP files are opened).")
            return
        count = len(self.rows)
        self.set_status(f"{count} photo{'' if count == 1 else 's'} in the list. Click one to preview it, "
                        "or press Colorize all.")
        if new:
            self._start(ev.THUMBS, workers.thumbnails, [p for p in self.rows if p in new or
                                                        self.rows[p].status == "ready"])
        if self.current is None and self.rows:
            self.select(next(iter(self.rows)))
            self.auto_selected = True
        self._update_buttons()

    def _refresh_tree(self) -> None:
        data = sg.TreeData()
        for path, row in self.rows.items():
            data.insert("", path, self._row_name(path), [self._status_text(row)])
        self.window[ev.K_FILES].update(values=data)

    def _row_name(self, path: str) -> str:
        p = Path(path)
        # The parent folder helps tell apart photos with the same name.
        name = f"{p.name}   ({p.parent.name})" if len({Path(q).name for q in self.rows}) < len(self.rows) else p.name
        row = self.rows.get(path)
        return video_preview.row_label(name, row.duration) if row is not None and row.duration is not None else name

    @staticmethod
    def _status_text(row: Row) -> str:
        return {"ready": "not colorized", "waiting": "waiting...", "working": "colorizing...",
                "done": "done", "colour": "already in colour"}.get(row.status, row.status)

    def set_row(self, path: str, status: str, dest: Optional[str] = None) -> None:
        """Change a photo's status in the list."""
        row = self.rows.get(path)
        if row is None:
            return
        row.status = status
        if dest:
            row.dest = dest
        self.window[ev.K_FILES].update(key=path, value=[self._status_text(row)])

    def selected(self) -> list[str]:
        """Paths of the selected photos."""
        return [p for p in (self.window[ev.K_FILES].SelectedRows or []) if p in self.rows]

    def select(self, path: str) -> None:
        """Select a photo in the list and preview it."""
        self.window[ev.K_FILES].update(select_node_keys=[path])
        self.current = path
        self.full = {}
        video_preview.show_slider(self.window, path)
        self.start_preview()

    def on_select(self) -> None:
        chosen = self.selected()
        if chosen and chosen[0] != self.current:
            self.auto_selected = False  # the user picked a photo: leave the preview alone
            self.current = chosen[0]
            self.full = {}
            video_preview.show_slider(self.window, self.current)
            self.start_preview()
        self._update_buttons()

    def _update_buttons(self) -> None:
        have = bool(self.rows)
        busy = self.busy()
        w = self.window
        w[ev.K_COLORIZE_ALL].update(disabled=not have or busy)
        w[ev.K_COLORIZE_SEL].update(disabled=not have or busy)
        w[ev.K_CANCEL].update(disabled=not busy)
        w[ev.K_SAVE].update(disabled=self.current is None)
        w[ev.K_SAVE_AS].update(disabled=self.current is None)
        w[ev.K_OPEN_OUTPUT].update(disabled=self.last_output_folder is None)

    # ---------------------------------------------------------------- preview

    def start_preview(self) -> None:
        """Colorize a small copy of the current photo in a worker (or show its saved result)."""
        if self.current is None:
            return
        row = self.rows.get(self.current)
        dest = row.dest if row and row.dest and Path(row.dest).is_file() else None
        ok, reason = self.backends.get(self.settings.backend, (False, ""))
        config = self.config() if ok else None
        if self.jobs.get(ev.BATCH) and self.jobs[ev.BATCH].running and not dest:
            config = None  # the batch holds the model: show the original until it is done
        self.shown = {}
        self.draw_preview("Colorizing the preview..." if config or dest else "")
        if video_preview.is_video(self.current):
            self._start(ev.PREVIEW, video_preview.preview, self.current, config,
                        video_preview.fraction(self.window), dest)
            return
        self._start(ev.PREVIEW, workers.preview, self.current, config, dest)

    def draw_preview(self, message: str = "") -> None:
        """Paint the preview canvas for the current view mode."""
        graph = self.window[ev.K_CANVAS]
        graph.erase()
        self._preview_message = message
        width, height = self.canvas_size
        original, colour = self.shown.get("original"), self.shown.get("colour")
        mode = self.settings.view
        if original is None:
            text = message or "Open a folder (Ctrl+O) or drop photos here.\nClick a photo in the list to preview it."
            graph.draw_text(text, (width // 2, height // 2), color="#dddddd", font=("Helvetica", 13))
            return
        if mode == "zoom" and not video_preview.is_video(self.current):  # no 100% view of a video
            self._draw_zoom(graph, width, height)
        elif mode == "compare" and colour is not None:
            split = float(self.window[ev.K_SPLIT].TKScale.get()) / 100.0
            before = images.fit(original, width, height)
            shown = images.compare(before, colour.resize(before.size), split)
            x, y = (width - shown.width) // 2, (height - shown.height) // 2
            graph.draw_image(data=images.png_bytes(shown), location=(x, y))
            graph.draw_text("Before", (x + 30, y + 12), color="white", font=("Helvetica", 10, "bold"))
            graph.draw_text("After", (x + shown.width - 26, y + 12), color="white", font=("Helvetica", 10, "bold"))
        else:
            left, right = images.side_by_side(original, colour, width, height - 20)
            half = width // 2
            graph.draw_image(data=images.png_bytes(left), location=((half - left.width) // 2, 20))
            graph.draw_text("Original", (half // 2, 9), color="#dddddd")
            if right is not None:
                graph.draw_image(data=images.png_bytes(right), location=(half + (half - right.width) // 2, 20))
                graph.draw_text("Colorized", (half + half // 2, 9), color="#dddddd")
            else:
                graph.draw_text(message or self._why_no_colour(), (half + half // 2, height // 2),
                                color="#dddddd")
        self._caption()

    def _why_no_colour(self) -> str:
        if self.jobs.get(ev.PREVIEW) and self.jobs[ev.PREVIEW].running:
            return "Colorizing..."
        if self.jobs.get(ev.BATCH) and self.jobs[ev.BATCH].running:
            return "Shown when the batch\nreaches this photo"
        ok, _ = self.backends.get(self.settings.backend, (False, ""))
        return "No model for this method:\nsee the Models menu" if not ok else ""

    def _draw_zoom(self, graph: Any, width: int, height: int) -> None:
        if not self.full or self.full.get("path") != self.current:
            graph.draw_text("Colorizing the whole photo at full size for the 100% view...",
                            (width // 2, height // 2), color="#dddddd")
            job = self.jobs.get(ev.FULLRES)
            ok, _ = self.backends.get(self.settings.backend, (False, ""))
            if ok and not (job and job.running) and not self.busy() and self.current:
                self._start(ev.FULLRES, workers.full_resolution, self.current, self.config())
            return
        half = (width - 8) // 2
        cx, cy = self.zoom_centre
        left = images.crop_around(self.full["original"], cx, cy, half, height - 20)
        right = images.crop_around(self.full["colour"], cx, cy, half, height - 20)
        graph.draw_image(data=images.png_bytes(left), location=(0, 20))
        graph.draw_image(data=images.png_bytes(right), location=(half + 8, 20))
        graph.draw_text("Original at 100%", (half // 2, 9), color="#dddddd")
        graph.draw_text("Colorized at 100%", (half + 8 + half // 2, 9), color="#dddddd")

    def on_canvas_click(self, point: Any) -> None:
        """Pick the point the 100% view centres on."""
        if not point or "original" not in self.shown or point[0] is None:
            return
        width, height = self.canvas_size
        x, y = point
        if self.settings.view == "zoom" and self.full.get("path") == self.current:
            # Move the centre by the click's offset from the middle of the panel.
            half = (width - 8) // 2
            px = x - (half + 8) if x > half else x
            full_w, full_h = self.full["original"].size
            cx = self.zoom_centre[0] + (px - half / 2) / full_w
            cy = self.zoom_centre[1] + (y - 20 - (height - 20) / 2) / full_h
        else:
            shown = images.fit(self.shown["original"], width // 2 if self.settings.view == "side" else width,
                               height - 20 if self.settings.view == "side" else height)
            if self.settings.view == "side":
                left = (width // 2 - shown.width) // 2 + (width // 2 if x > width // 2 else 0)
                top = 20
            else:
                left, top = (width - shown.width) // 2, (height - shown.height) // 2
            cx, cy = (x - left) / shown.width, (y - top) / shown.height
            self.settings.view = "zoom"
            self.window[(ev.K_VIEW, "zoom")].update(value=True)
        self.zoom_centre = (min(1.0, max(0.0, cx)), min(1.0, max(0.0, cy)))
        self.draw_preview()

    def _caption(self) -> None:
        if self.current is None:
            self.window[ev.K_CAPTION].update("")
            return
        row = self.rows.get(self.current)
        size = self.shown.get("size")
        parts = [Path(self.current).name]
        if size:
            parts.append(f"{size[0]} x {size[1]} px")
        parts += video_preview.caption_parts(self.shown)
        if self.shown.get("is_colour"):
            parts.append("already in colour")
        if row and row.dest:
            parts.append(f"saved as {row.dest}")
        elif self.shown.get("colour") is not None:
            parts.append("preview only (not saved yet: Save or Colorize)")
        if self.shown.get("note"):
            parts.append(self.shown["note"])
        self.window[ev.K_CAPTION].update("  ·  ".join(parts))

    # ----------------------------------------------------------------- jobs

    def colorize_all(self) -> None:
        """Colorize every photo in the list."""
        self._run_batch(list(self.rows))

    def colorize_selected(self) -> None:
        """Colorize the selected photos (or the one in the preview)."""
        chosen = self.selected() or ([self.current] if self.current else [])
        self._run_batch(chosen)

    def _run_batch(self, chosen: list[str]) -> None:
        if not chosen:
            self.set_status("Nothing to colorize: open a folder first (Ctrl+O).")
            return
        if self.busy():
            self.set_status("Already working; press Cancel first to start again.")
            return
        ok, reason = self.backends.get(self.settings.backend, (False, ""))
        if not ok:
            self.set_status(f"Cannot colorize with {self.settings.backend}: {reason}")
            self.notice("No model installed",
                        f"The {self.settings.backend} method cannot run:\n\n{reason}\n\n"
                        "Use Models > Download Zhang model, or Models > Import model file, "
                        "or pick another method.")
            return
        prev = self.jobs.get(ev.PREVIEW)
        if prev is not None and prev.running:
            prev.cancel()
        self.batch_names = {Path(p).name: p for p in chosen}
        for path in chosen:
            self.set_row(path, "waiting")
        self.window[ev.K_PROGRESS].update(0, max=len(chosen))
        self.window[ev.K_PROGRESS_TEXT].update(f"0 of {len(chosen)}")
        self.set_status(f"Colorizing {len(chosen)} photos with {self.settings.backend}...")
        self._start(ev.BATCH, workers.batch, chosen, self.out_dir(), self.config(),
                    self.settings.skip_existing, self.settings.recolour)
        self._update_buttons()

    def cancel(self) -> None:
        """Stop the running batch or download at the next safe point."""
        stopped = False
        for name in (ev.BATCH, ev.DOWNLOAD, ev.FULLRES, ev.SAVE):
            job = self.jobs.get(name)
            if job is not None and job.running:
                job.cancel()
                stopped = True
        if stopped:
            self.set_status("Stopping after the current photo...")
            self.window[ev.K_CANCEL].update(disabled=True)

    def save(self, ask: bool) -> None:
        """Save the colorized version of the photo in the preview (full resolution).

        Never overwrites: the core adds a counter when the name is taken."""
        if self.current is None:
            self.set_status("Nothing to save: click a photo in the list first.")
            return
        if video_preview.is_video(self.current):  # a video is saved by colorizing all of it
            self._run_batch([self.current])
            return
        dest = None
        if ask:
            src = Path(self.current)
            initial = Path(self.out_dir() or src.parent / "colorized")
            dest = sg.popup_get_file("Save colorized photo as", save_as=True, no_window=True,
                                     default_path=str(initial / f"{src.stem}_color{src.suffix}"),
                                     initial_folder=str(initial), default_extension=src.suffix)
            if not dest:
                return
        self.set_status(f"Saving the colorized {Path(self.current).name} at full size...")
        self._start(ev.SAVE, workers.save, self.current, self.config(), dest, self.out_dir())

    def open_output(self) -> None:
        """Open the folder the last results went to."""
        folder = self.last_output_folder or (Path(self.out_dir()) if self.out_dir() else None)
        if folder is None or not folder.is_dir():
            self.set_status("Nothing has been saved yet.")
            return
        self.open_folder(folder)

    def open_folder(self, folder: Path) -> None:
        if not open_in_file_manager(folder):
            self.set_status(f"Could not open a file manager; the folder is {folder}")

    def on_job_event(self, name: str, phase: str, value: Any) -> None:
        """A worker posted something: paint it."""
        job_id, payload = value
        job = self.jobs.get(name)
        if job is None or job.id != job_id:
            return  # from a job that was replaced (e.g. an older preview)
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(phase, payload)
        if phase in ev.ENDINGS:
            self._update_buttons()

    def _on_warmup(self, phase: str, info: Any) -> None:
        if phase != ev.DONE:
            self.window[ev.K_DEVICE_FOUND].update("Could not check for a graphics card (see the log).")
            return
        self.device_info = info
        if info.get("error"):
            text = info["error"]
        elif info.get("cuda"):
            text = f"Graphics card found: {info['gpu']} (CUDA)."
        else:
            text = "No CUDA graphics card found: the CPU will be used."
        self.window[ev.K_DEVICE_FOUND].update(text)

    def _on_scan(self, phase: str, found: Any) -> None:
        if phase == ev.DONE:
            self._add_rows(found)
        elif phase == ev.ERROR:
            self.set_status(f"Could not open that: {found}")

    def _on_thumbs(self, phase: str, item: Any) -> None:
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
        current = self.rows.get(self.current or "")
        if self.auto_selected and current is not None and current.error:
            # The photo picked for the first preview cannot be read: show a good one instead.
            self.select(path)
        row.is_colour = item["is_colour"]
        self.window[ev.K_FILES].update(key=path, icon=item["png"])
        if "duration" in item:  # a video: its length beside its name
            row.duration = item["duration"]
            self.window[ev.K_FILES].update(key=path, text=self._row_name(path))
        if row.is_colour and row.status == "ready":
            self.set_row(path, "colour")

    def _on_preview(self, phase: str, data: Any) -> None:
        if phase == ev.DONE:
            if data["path"] == self.current:
                self.shown = data
                self.draw_preview()
                video_preview.show_position(self.window, data)
                if data.get("note") and "memory" in data["note"]:
                    self.set_status(data["note"])
        elif phase == ev.ERROR:
            self.shown = {}
            self.draw_preview(f"Cannot preview this photo:\n{data}")
            self.set_status(f"Preview failed: {data}")

    def _on_fullres(self, phase: str, data: Any) -> None:
        if phase == ev.DONE:
            self.full = data
            self.draw_preview()
            if data.get("note"):
                self.set_status(data["note"])
        elif phase == ev.ERROR:
            self.set_status(f"Could not make the 100% view: {data}")

    def _on_save(self, phase: str, data: Any) -> None:
        if phase == ev.DONE:
            self.set_row(data["path"], "done", data["dest"])
            self.last_output_folder = Path(data["dest"]).parent
            note = f" {data['note']}" if data.get("note") else ""
            self.set_status(f"Saved {data['dest']}.{note} The original was not changed.")
            self._caption()
        elif phase == ev.ERROR:
            self.set_status(f"Could not save: {data}")
            self.notice("Could not save", f"The colorized photo was not saved:\n\n{data}")
        else:
            self.set_status("Save cancelled.")

    def _on_batch(self, phase: str, data: Any) -> None:
        if phase == ev.PROGRESS:
            if isinstance(data, str):
                self.set_status(data)
                return
            self._batch_progress(data)
            return
        self.window[ev.K_PROGRESS_TEXT].update("")
        if phase == ev.ERROR:
            for path, row in self.rows.items():
                if row.status in ("waiting", "working"):
                    self.set_row(path, "ready")
            self.set_status(f"Colorizing stopped: {data}")
            self.notice("Colorizing stopped", str(data))
            return
        self._batch_finished(data, cancelled=phase == ev.CANCELLED)

    def _batch_progress(self, event: Any) -> None:
        if event.stage == "frames":  # inside a video: frames, fps, time left
            video_preview.show_progress(self.window, event)
            return
        outcome = event.metrics.get("outcome")
        if outcome:
            src, detail = event.metrics.get("src", ""), event.metrics.get("detail", "")
            if outcome == "done":
                self.set_row(src, "done", detail)
                self.last_output_folder = Path(detail).parent
                if src == self.current:
                    self.start_preview()
            elif outcome == "failed":
                self.set_row(src, f"failed: {detail}")
            else:
                self.set_row(src, f"skipped: {detail}")
        elif event.current and event.current in self.batch_names:
            self.set_row(self.batch_names[event.current], "working")
        self.window[ev.K_PROGRESS].update(event.done, max=max(1, event.total))
        eta = format_eta(event.eta_s) if event.done < event.total else ""
        self.window[ev.K_PROGRESS_TEXT].update(f"{event.done} of {event.total}\n{eta}".strip())

    def _batch_finished(self, result: Any, cancelled: bool) -> None:
        for path, row in self.rows.items():
            if row.status in ("waiting", "working"):
                self.set_row(path, "ready")
        if result is None:
            self.set_status("Colorizing cancelled.")
            return
        # The result is the authority: make the list agree with it.
        for src, dest in result.done:
            self.set_row(str(src), "done", str(dest))
        for src, msg in result.failed:
            self.set_row(str(src), f"failed: {msg}")
        for src, reason in result.skipped:
            self.set_row(str(src), f"skipped: {reason}")
        if result.done:
            self.last_output_folder = Path(result.done[-1][1]).parent
        self.last_result = result
        self.last_summary = result.summary()
        self.window[ev.K_PROGRESS].update(len(result.done) + len(result.failed) + len(result.skipped),
                                          max=max(1, result.total))
        self.set_status(("Cancelled. " if cancelled else "Finished. ") + self.last_summary)
        self.show_summary(result, cancelled)
        if self.current:
            self.start_preview()

    # ------------------------------------------------------------- dialogs

    def dialog(self, title: str, rows: list[list[Any]], handler: Optional[Callable[[Any, Any], bool]] = None) -> Any:
        """A dialog window over the main one: its title in bold inside (there may be
        no window manager to draw a title bar), a border, centred over the main
        window. It does not block the workers; ``handler`` returns False to close it."""
        heading = [sg.Text(title, font=("Helvetica", 13, "bold"), pad=((0, 0), (0, 8)))]
        window = sg.Window(title, [heading, *rows], finalize=True, modal=False, icon=icon_file(),
                           keep_on_top=False, margins=(16, 12))
        geometry.place_dialog(window, self.window)
        window.bind("<Escape>", "Close")  # Escape closes a dialog as it does elsewhere
        self.dialogs[window] = handler or (lambda event, values: False)
        return window

    def notice(self, title: str, text: str) -> Any:
        """A small message window that does not block the workers."""
        return self.dialog(title, [[sg.Text(text, size=(60, None))], [sg.Push(), sg.Button("OK")]])

    def show_summary(self, result: Any, cancelled: bool) -> Any:
        """The end-of-batch summary: what was done, what failed and why, what was skipped."""
        lines = [f"{Path(src).name}: {msg}" for src, msg in result.failed]
        detail = [[sg.Text("Could not be colorized:", font=("Helvetica", 11, "bold"))],
                  [sg.Multiline("\n".join(lines), size=(70, min(8, len(lines) + 1)), disabled=True)]] if lines else []
        skipped = [f"{Path(src).name}: {why}" for src, why in result.skipped]
        if skipped:
            detail += [[sg.Text("Skipped:", font=("Helvetica", 11, "bold"))],
                       [sg.Multiline("\n".join(skipped), size=(70, min(6, len(skipped) + 1)), disabled=True)]]
        title = "Colorizing cancelled" if cancelled else "Colorizing finished"
        layout_ = [[sg.Text(result.summary(), size=(70, None))], *detail,
                   [sg.Push(), sg.Button("Open output folder", disabled=not result.done), sg.Button("Close")]]

        def handle(event: Any, values: Any) -> bool:
            if event == "Open output folder":
                self.open_output()
                return True
            return False

        return self.dialog(title, layout_, handle)

    def shortcuts(self) -> None:
        self.dialog("Keyboard shortcuts", [[sg.Text(SHORTCUTS, font=("Courier", 11))], [sg.Push(), sg.Button("OK")]])

    def about(self) -> None:
        import numpy

        torch_text = self.device_info.get("torch") or "loading..."
        device = (f"CUDA: {self.device_info['gpu']}" if self.device_info.get("cuda")
                  else ("CPU (no CUDA graphics card found)" if self.device_info else "checking..."))
        try:
            import cv2

            cv_text = cv2.__version__
        except ImportError:
            cv_text = "not installed"
        import PIL

        text = (f"Colorizer {__version__}\nBrings black-and-white family photos to colour.\n\n"
                f"Python {platform.python_version()} on {platform.system()} {platform.machine()}\n"
                f"PySimpleGUI {sg.version} (LGPL)\nPyTorch {torch_text}\nOpenCV {cv_text}\n"
                f"NumPy {numpy.__version__}\nPillow {PIL.__version__}\nDevice: {device}\n"
                f"Drag and drop: {'on' if self.dnd_ok else 'unavailable'}\n\n"
                f"Settings: {paths.user_config_dir()}\nLog: {self.log_file}")
        self.notice("About Colorizer", text)

    def show_models(self) -> None:
        """What is installed, where, and which cGAN model is the default."""
        self.backends = backend_status()
        lines = ["Methods:"]
        for name, (ok, reason) in self.backends.items():
            lines.append(f"  {name}: {'ready' if ok else 'not available'} - {reason}")
        lines.append("\nModel files:")
        files = model_store.list_weight_files()
        for where, path in files:
            lines.append(f"  [{where}] {path}")
        if not files:
            lines.append("  none yet")
        default = model_store.resolve_cgan_weights()
        lines.append(f"\nDefault cGAN model: {default or 'none'}")
        lines.append(f"Your models folder: {paths.user_weights_dir()}")
        def handle(event: Any, values: Any) -> bool:
            if event == "Open models folder":
                self.open_folder(paths.user_weights_dir())
                return True
            return False

        self.dialog("Installed models", [[sg.Multiline("\n".join(lines), size=(90, 16), disabled=True)],
                                         [sg.Button("Open models folder"), sg.Push(), sg.Button("Close")]], handle)
        self._show_backend_reason()

    def models_changed(self) -> None:
        """Re-check the backends after a model was installed or the default changed."""
        workers.BACKENDS.clear()
        self.backends = backend_status()
        names = list(self.backends)
        self.settings.backend = choose_backend(self.backends, self.settings.backend)
        self.window[ev.K_BACKEND].update(value=self.settings.backend, values=names)
        self._show_backend_reason()
        self.full = {}
        self.start_preview()

    def download_zhang(self) -> None:
        """Download and verify the Zhang model (progress in the main progress bar; Cancel stops it)."""
        if self.busy():
            self.set_status("Wait for the current job to finish (or Cancel it) first.")
            return
        self.set_status("Downloading the Zhang model (about 129 MB)...")
        self._start(ev.DOWNLOAD, workers.download_zhang_model)
        self._update_buttons()

    def _on_download(self, phase: str, data: Any) -> None:
        if phase == ev.PROGRESS:
            mb = data.done / 1e6
            total = f" of {data.total / 1e6:.0f} MB" if data.total else " MB"
            self.window[ev.K_PROGRESS].update(data.done, max=max(1, data.total or 1))
            self.window[ev.K_PROGRESS_TEXT].update(f"{mb:.0f}{total}\n{format_eta(data.eta_s)}".strip())
            if data.stage and data.stage != "download":
                self.set_status(f"Zhang model: {data.stage}...")
            return
        self.window[ev.K_PROGRESS_TEXT].update("")
        if phase == ev.DONE:
            self.set_status(f"Zhang model installed: {data}")
            self.models_changed()
        elif phase == ev.CANCELLED:
            self.set_status("Download cancelled. Start it again to continue where it stopped.")
        else:
            self.set_status(f"Download failed: {data}")
            self.notice("Download failed", f"The Zhang model could not be downloaded:\n\n{data}")

    def import_model(self) -> None:
        """Import a model file the user picked (.safetensors generator or Zhang .caffemodel)."""
        chosen = sg.popup_get_file("Import a model file", no_window=True,
                                   file_types=(("Model files", "*.safetensors *.caffemodel"),))
        if chosen:
            self.set_status(f"Importing {Path(str(chosen)).name}...")
            self._start(ev.IMPORT, workers.import_model, str(chosen))

    def _on_import(self, phase: str, data: Any) -> None:
        if phase == ev.DONE:
            note = ""
            if str(data).endswith(".safetensors") and model_store.resolve_cgan_weights() is None:
                # The first cGAN model the user brings becomes the one the method uses.
                model_store.set_user_default_cgan_weights(Path(data))
                note = " It is now the default cGAN model."
            self.set_status(f"Model imported: {data}.{note}")
            self.models_changed()
        elif phase == ev.ERROR:
            self.set_status(f"Import failed: {data}")
            self.notice("Import failed", f"That file could not be imported:\n\n{data}")

    def choose_default_model(self) -> None:
        """Pick which cGAN model file the app uses by default."""
        files = [str(p) for _where, p in model_store.list_weight_files() if p.suffix.lower() == ".safetensors"]
        current = model_store.user_default_cgan_weights()
        options = ["(the model shipped with the app)"] + files
        rows = [[sg.Text("The cGAN method uses this model file:")],
                [sg.Listbox(options, default_values=[str(current) if current else options[0]], size=(90, 8),
                            key="-CHOICE-")],
                [sg.Push(), sg.Button("Use this model"), sg.Button("Cancel")]]

        def handle(event: Any, values: Any) -> bool:
            if event == "Use this model" and values and values.get("-CHOICE-"):
                choice = values["-CHOICE-"][0]
                if choice != options[0]:
                    from ..backends.cgan import verify_weights

                    try:  # the same checks as 'models set-default'
                        verify_weights(Path(choice))
                    except (ValueError, OSError) as err:
                        self.set_status(f"Not changed: {err}")
                        self.notice("Model refused", f"That model file cannot be used:\n\n{err}")
                        return False
                model_store.set_user_default_cgan_weights(None if choice == options[0] else Path(choice))
                self.set_status(f"Default cGAN model: {choice}")
                self.models_changed()
            return False

        self.dialog("Default cGAN model", rows, handle)

    def open_finetune(self) -> None:
        """Open the fine-tuning dialog (one at a time)."""
        from .finetune import FineTuneDialog

        if self.finetune is not None:
            self.finetune.window.bring_to_front()
            return
        self.finetune = FineTuneDialog(self)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Open the window (optionally with photos/folders) and run until it closes."""
    app = App(argv)
    try:
        app.run()
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
