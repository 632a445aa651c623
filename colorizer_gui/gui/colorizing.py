"""Colorizing and saving: the batch over the list, Save / Save as for the photo in
the preview, Cancel, and the end-of-batch summary.

The work runs in workers (``workers.batch``, ``workers.save``); this class starts
them and paints what they post into the list, the progress bar and the status bar.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import PySimpleGUI as sg

from ..core.photo import copy_name
from ..core.text import format_eta
from . import events as ev, video_preview, workers

if TYPE_CHECKING:
    from .shell import Shell

#: Jobs the Cancel button (and Escape) stop.
CANCELLABLE = (ev.BATCH, ev.DOWNLOAD, ev.FULLRES, ev.SAVE)


class Colorizing:
    """Batch and save jobs of one app window, and what they leave behind."""

    def __init__(self, app: "Shell") -> None:
        self.app = app
        self.last_summary: Optional[str] = None
        self.last_result: Any = None
        self.last_output_folder: Optional[Path] = None
        self.batch_names: dict[str, str] = {}  # file name -> path, for the batch's "working on" events
        # Photos asked for while the methods were still being checked; started when the check ends.
        self.pending: list[str] = []

    # --------------------------------------------------------------- batch

    def colorize_all(self) -> None:
        """Colorize every photo in the list."""
        self.run_batch(list(self.app.rows))

    def colorize_selected(self) -> None:
        """Colorize the selected photos (or the one in the preview)."""
        app = self.app
        self.run_batch(app.photos.selected() or ([app.current] if app.current else []))

    def run_batch(self, chosen: list[str]) -> None:
        """Start colorizing ``chosen`` with the settings in the controls."""
        app = self.app
        if not chosen:
            app.set_status("Nothing to colorize: open a folder first (Ctrl+O).")
            return
        if app.busy():
            app.set_status("Already working; press Cancel first to start again.")
            return
        backend = app.settings.backend
        if app.models.checking:
            self.pending = list(chosen)
            app.set_status(f"Will colorize {len(chosen)} photos as soon as the check of the methods ends...")
            return
        self.pending = []
        ok, reason = app.models.can_run()
        if not ok:
            app.set_status(f"Cannot colorize with {backend}: {reason}")
            app.dialogs.notice("No model installed",
                               f"The {backend} method cannot run:\n\n{reason}\n\n"
                               "Use Models > Download Zhang model, or Models > Import model file, "
                               "or pick another method.")
            return
        app.cancel_job(ev.PREVIEW)
        self.batch_names = {Path(p).name: p for p in chosen}
        for path in chosen:
            app.photos.set_row(path, "waiting")
        app.window[ev.K_PROGRESS].update(0, max=len(chosen))
        app.window[ev.K_PROGRESS_TEXT].update(f"0 of {len(chosen)}")
        repair = app.repair.repair_settings()
        app.set_status(f"Colorizing {len(chosen)} photos with {backend}{' (repaired first)' if repair else ''}...")
        app.start_job(ev.BATCH, workers.batch, chosen, app.out_dir(), app.config(),
                      app.settings.skip_existing, app.settings.recolor, repair)
        app.update_buttons()

    def start_pending(self) -> None:
        """Start the batch asked for during the methods check (if any)."""
        if self.pending:
            chosen, self.pending = self.pending, []
            self.run_batch([p for p in chosen if p in self.app.rows])

    def on_batch(self, phase: str, data: Any) -> None:
        """Batch progress, and its ending."""
        app = self.app
        if phase == ev.PROGRESS:
            if isinstance(data, str):
                app.set_status(data)
            else:
                self._progress(data)
            return
        app.window[ev.K_PROGRESS_TEXT].update("")
        if phase == ev.ERROR:
            app.photos.reset_unfinished()
            app.set_status(f"Colorizing stopped: {data}")
            app.dialogs.notice("Colorizing stopped", str(data))
            return
        self._finished(data, cancelled=phase == ev.CANCELLED)

    def _progress(self, event: Any) -> None:
        app = self.app
        if event.stage == "frames":  # inside a video: frames, fps, time left
            video_preview.show_progress(app.window, event)
            return
        outcome = event.metrics.get("outcome")
        if outcome:
            src, detail = event.metrics.get("src", ""), event.metrics.get("detail", "")
            if outcome == "done":
                app.photos.set_row(src, "done", detail)
                self.last_output_folder = Path(detail).parent
                if src == app.current:
                    app.preview.start()
            elif outcome == "failed":
                app.photos.set_row(src, f"failed: {detail}")
            else:
                app.photos.set_row(src, f"skipped: {detail}")
        elif event.current and event.current in self.batch_names:
            app.photos.set_row(self.batch_names[event.current], "working")
        app.window[ev.K_PROGRESS].update(event.done, max=max(1, event.total))
        eta = format_eta(event.eta_s) if event.done < event.total else ""
        app.window[ev.K_PROGRESS_TEXT].update(f"{event.done} of {event.total}\n{eta}".strip())

    def _finished(self, result: Any, cancelled: bool) -> None:
        app = self.app
        app.photos.reset_unfinished()
        if result is None:
            app.set_status("Colorizing cancelled.")
            return
        # The result is the authority: make the list agree with it.
        for src, dest in result.done:
            app.photos.set_row(str(src), "done", str(dest))
        for src, msg in result.failed:
            app.photos.set_row(str(src), f"failed: {msg}")
        for src, reason in result.skipped:
            app.photos.set_row(str(src), f"skipped: {reason}")
        if result.done:
            self.last_output_folder = Path(result.done[-1][1]).parent
        self.last_result = result
        self.last_summary = result.summary()
        app.window[ev.K_PROGRESS].update(len(result.done) + len(result.failed) + len(result.skipped),
                                         max=max(1, result.total))
        app.set_status(("Cancelled. " if cancelled else "Finished. ") + self.last_summary)
        app.dialogs.summary(result, cancelled, lambda: self.last_output_folder or Path.home())
        if app.current:
            app.preview.start()

    def cancel(self) -> None:
        """Stop the running batch, download, save or 100% view at the next safe point."""
        stopped = [name for name in CANCELLABLE if self.app.cancel_job(name)]
        if self.pending:
            self.pending = []
            self.app.set_status("Cancelled the waiting batch.")
        if stopped:
            self.app.set_status("Stopping after the current photo...")
            self.app.window[ev.K_CANCEL].update(disabled=True)

    # ---------------------------------------------------------------- save

    def save(self, ask: bool) -> None:
        """Save the colorized version of the photo in the preview (full resolution).

        Never overwrites: the core adds a counter when the name is taken."""
        app = self.app
        if app.current is None:
            app.set_status("Nothing to save: click a photo in the list first.")
            return
        if video_preview.is_video(app.current):  # a video is saved by colorizing all of it
            self.run_batch([app.current])
            return
        dest = None
        if ask:
            src = Path(app.current)
            initial = Path(app.out_dir() or src.parent / "colorized")
            dest = sg.popup_get_file("Save colorized photo as", save_as=True, no_window=True,
                                     default_path=str(initial / copy_name(src, src.suffix)),
                                     initial_folder=str(initial), default_extension=src.suffix)
            if not dest:
                return
        repair = app.repair.repair_settings()
        app.set_status(f"Saving the colorized {Path(app.current).name} at full size"
                       f"{', repaired' if repair else ''}...")
        app.start_job(ev.SAVE, workers.save, app.current, app.config(), dest, app.out_dir(),
                      app.hints.hints_for(app.current), repair)

    def on_save(self, phase: str, data: Any) -> None:
        """A save finished (or failed)."""
        app = self.app
        if phase == ev.DONE:
            app.photos.set_row(data["path"], "done", data["dest"])
            self.last_output_folder = Path(data["dest"]).parent
            note = f" {data['note']}" if data.get("note") else ""
            app.set_status(f"Saved {data['dest']}.{note} The original was not changed.")
            app.preview.caption()
        elif phase == ev.ERROR:
            app.set_status(f"Could not save: {data}")
            app.dialogs.notice("Could not save", f"The colorized photo was not saved:\n\n{data}")
        else:
            app.set_status("Save cancelled.")

    def output_folder(self) -> Optional[Path]:
        """The folder the last results went to (or the chosen output folder)."""
        out = self.app.out_dir()
        return self.last_output_folder or (Path(out) if out else None)
