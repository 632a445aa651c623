"""The preview: the current photo before and after, side by side, with a compare
slider, or at 100%.

Colorizing the preview runs in workers (``workers.preview``, ``workers.full_resolution``);
this class paints what they post. Where things sit on the canvas comes from the
pure functions in ``geometry.py``, the same ones that map a click back to the photo.

Painting is kept cheap because the compare slider and window resizes send streams
of events: images scaled to the canvas are prepared once per canvas size and
reused, they reach Tk as uncompressed PPM (no PNG encoding and decoding), and
slider moves are coalesced into a redraw at most every ``SLIDER_INTERVAL_S``.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

from PIL import Image

from . import events as ev, geometry, images, video_preview, workers

if TYPE_CHECKING:
    from .shell import Shell

#: Slider moves redraw at most this often (the last position is always drawn).
SLIDER_INTERVAL_S = 0.03
#: Changed settings (colour strength, method...) recolorize once the controls rest this long.
SETTLE_S = 0.4
#: A resized canvas is redrawn once its size has rested this long.
RESIZE_SETTLE_S = 0.15
#: A video's frame is previewed once the frame slider has rested this long.
FRAME_SETTLE_S = 0.3
LABEL_COLOR = "#dddddd"
EMPTY_TEXT = "Open a folder (Ctrl+O) or drop photos here.\nClick a photo in the list to preview it."


class Preview:
    """The preview canvas of one app window."""

    def __init__(self, app: "Shell", canvas_size: tuple[int, int]) -> None:
        self.app = app
        self.canvas_size = canvas_size
        self.shown: dict[str, Any] = {}   # preview images of the current photo (workers.preview)
        self.full: dict[str, Any] = {}    # full-resolution images (100% view)
        self.zoom_centre = (0.5, 0.5)     # photo point (fractions) the 100% view centres on
        self.message = ""
        # Timers, checked by tick(): None when nothing is due.
        self.recolor_due: Optional[float] = None
        self.redraw_due: Optional[float] = None
        self.resize_due: Optional[float] = None
        self._recolor_keeps = False       # the recolorize due keeps the shown preview meanwhile
        self._last_slider_draw = 0.0
        # Images scaled (and PNG-encoded) for the canvas, reused until the photo or the size changes.
        self._prepared: dict[tuple, Any] = {}

    @property
    def graph(self) -> Any:
        return self.app.window[ev.K_CANVAS]

    # -------------------------------------------------------------- state

    def set_shown(self, data: dict[str, Any]) -> None:
        """Show new preview images (and forget those prepared for the old ones)."""
        self.shown = data
        self._prepared.clear()

    def set_full(self, data: dict[str, Any]) -> None:
        """Use new full-resolution images for the 100% view."""
        self.full = data
        self._prepared.clear()

    def restart(self) -> None:
        """The photo or the settings changed: colorize the preview again."""
        self.set_full({})
        self.start()

    def start(self, keep_shown: bool = False) -> None:
        """Colorize a small copy of the current photo in a worker, with its colour
        hints (or show its saved result). ``keep_shown``: keep showing the current
        preview until the new one lands, and colorize afresh even when a saved
        result exists (the hints changed)."""
        app = self.app
        if app.current is None:
            return
        row = app.rows.get(app.current)
        repair = app.repair.request(app.current)
        # A saved copy is shown as it is, unless it is to be repaired (it may not have been).
        dest = row.dest if row and row.dest and Path(row.dest).is_file() and not keep_shown and not repair else None
        config = app.config() if app.models.can_run()[0] else None
        if app.job_running(ev.BATCH) and not dest:
            config = None  # the batch holds the model: show the original until it is done
        if video_preview.is_video(app.current):
            self.set_shown({})
            self.draw("Colorizing the preview..." if config or dest else "")
            app.start_job(ev.PREVIEW, workers.video_frame_preview, app.current, config,
                          video_preview.fraction(app.window), dest)
            return
        hints = app.hints.hints_for(app.current)
        if keep_shown and config is not None and self.shown.get("path") == app.current:
            app.start_job(ev.PREVIEW, workers.preview, app.current, config, None, hints, dict(self.shown), repair)
            return
        self.set_shown({})
        self.draw("Colorizing the preview..." if config or dest else "")
        app.start_job(ev.PREVIEW, workers.preview, app.current, config, dest, hints, None, repair)

    def hints_changed(self) -> None:
        """The photo's colour hints changed: colorize the preview again at once (the
        shown one stays until the new one lands); the 100% view is made again when shown."""
        self.app.cancel_job(ev.FULLRES)  # made with the old hints
        self.set_full({})
        self.start(keep_shown=True)

    def on_preview(self, phase: str, data: Any) -> None:
        """The preview worker finished."""
        if phase == ev.DONE:
            if data["path"] == self.app.current:
                self.set_shown(data)
                self.draw()
                video_preview.show_position(self.app.window, data)
                self.app.hints.on_preview(data)
                if data.get("note") and "memory" in data["note"]:
                    self.app.set_status(data["note"])
        elif phase == ev.ERROR:
            self.set_shown({})
            self.draw(f"Cannot preview this photo:\n{data}")
            self.app.set_status(f"Preview failed: {data}")

    def on_fullres(self, phase: str, data: Any) -> None:
        """The full-resolution colorization for the 100% view finished."""
        if phase == ev.DONE:
            self.set_full(data)
            self.draw()
            if data.get("note"):
                self.app.set_status(data["note"])
        elif phase == ev.ERROR:
            self.app.set_status(f"Could not make the 100% view: {data}")

    # ------------------------------------------------------------- timers

    def settings_changed(self, keep_shown: bool = False) -> None:
        """A control that changes the colours moved: recolorize once it rests
        (sliders send many events while dragged); ``keep_shown``: the shown
        preview stays until the new one lands."""
        self.set_full({})
        self._recolor_keeps = keep_shown
        self.recolor_due = time.monotonic() + SETTLE_S

    def on_slider(self) -> None:
        """The compare slider moved: redraw at the next tick, but no sooner than
        ``SLIDER_INTERVAL_S`` after the last slider redraw ended, so the moves that
        arrive meanwhile are handled (and coalesced) between paints."""
        if self.redraw_due is None:
            self.redraw_due = max(time.monotonic(), self._last_slider_draw + SLIDER_INTERVAL_S)

    def on_frame_slider(self) -> None:
        """A video's frame slider moved: preview that frame once the slider rests
        (it sends many events while dragged)."""
        self._recolor_keeps = False
        self.recolor_due = time.monotonic() + FRAME_SETTLE_S

    def on_canvas_resized(self) -> None:
        """The preview area changed size: redraw once the size has settled (throttled)."""
        self.resize_due = time.monotonic() + RESIZE_SETTLE_S

    def next_due(self) -> Optional[float]:
        """When the next timer is due (monotonic seconds), or None."""
        due = [t for t in (self.recolor_due, self.redraw_due, self.resize_due) if t is not None]
        return min(due) if due else None

    def tick(self) -> None:
        """Run the timers that are due (called by the event loop after each event and when idle)."""
        now = time.monotonic()
        if self.recolor_due is not None and now >= self.recolor_due:
            self.recolor_due = None
            if self._recolor_keeps:
                self.app.cancel_job(ev.FULLRES)  # made with the old settings
            self.start(keep_shown=self._recolor_keeps)
        if self.redraw_due is not None and now >= self.redraw_due:
            self.redraw_due = None
            self.draw(self.message)
            self._last_slider_draw = time.monotonic()
        if self.resize_due is not None and now >= self.resize_due:
            self.resize_due = None
            self.apply_canvas_size()

    def apply_canvas_size(self) -> None:
        """Read the canvas's real size and redraw when it changed."""
        widget = self.graph.Widget
        size = (int(widget.winfo_width()), int(widget.winfo_height()))
        if size[0] < 20 or size[1] < 20 or size == self.canvas_size:
            return
        self.canvas_size = size
        self._prepared.clear()
        # The caption under the preview wraps at the preview's width.
        self.app.window[ev.K_CAPTION].Widget.configure(wraplength=max(200, size[0] - 16))
        self.draw(self.message)

    # ------------------------------------------------------------- drawing

    def view(self) -> str:
        """The view actually drawn: before/after needs the colorized preview, and
        a video has no 100% view; otherwise the side-by-side view stands in."""
        view = self.app.settings.view
        if view == "compare" and self.shown.get("color") is None:
            return "side"
        if view == "zoom" and video_preview.is_video(self.app.current):
            return "side"
        return view if view in geometry.VIEWS else "side"

    def draw(self, message: str = "") -> None:
        """Paint the preview canvas for the current view mode."""
        graph = self.graph
        graph.erase()
        self.message = message
        width, height = self.canvas_size
        original = self._before(self.shown)
        if original is None:
            graph.draw_text(message or EMPTY_TEXT, (width // 2, height // 2), color=LABEL_COLOR,
                            font=("Helvetica", 13))
            return
        view = self.view()
        if view == "zoom":
            self._draw_zoom(graph)
        elif view == "compare":
            self._draw_compare(graph, original, self.shown["color"])
        else:
            self._draw_side(graph, original, self.shown.get("color"), message)
        self.app.hints.draw_rings()
        self.caption()

    def _before(self, images_of: dict[str, Any]) -> Optional[Image.Image]:
        """The "before" image: the photo (repaired while Repair is on), or the photo
        with its damage marked when the overlay is on."""
        if self.app.repair.overlay_shown() and images_of.get("overlay") is not None:
            return images_of["overlay"]
        return images_of.get("original")

    def _before_name(self, images_of: dict[str, Any]) -> str:
        overlay = images_of.get("overlay")
        return "overlay" if overlay is not None and self._before(images_of) is overlay else "original"

    def _data(self, name: str, image: Image.Image, size: Sequence[int], crop: Optional[geometry.Box] = None) -> bytes:
        """``image`` (or its ``crop``) scaled to ``size``, ready for the canvas; prepared once and reused."""
        key = (name, tuple(size), crop)
        if key not in self._prepared:
            self._prepared[key] = images.display_bytes(self._scaled(name, image, size, crop))
        return self._prepared[key]

    def _scaled(self, name: str, image: Image.Image, size: Sequence[int],
                crop: Optional[geometry.Box] = None) -> Image.Image:
        key = ("image", name, tuple(size), crop)
        if key not in self._prepared:
            part = image.crop((crop.x, crop.y, crop.x + crop.width, crop.y + crop.height)) if crop else image
            self._prepared[key] = part if part.size == tuple(size) else part.resize(tuple(size), Image.LANCZOS)
        return self._prepared[key]

    def _draw_side(self, graph: Any, original: Image.Image, color: Optional[Image.Image], message: str) -> None:
        width, height = self.canvas_size
        left, right = geometry.side_boxes(original.size, self.canvas_size)
        half = width // 2
        graph.draw_image(data=self._data(self._before_name(self.shown), original, left[2:]), location=left[:2])
        label = ("Damage (red)" if self._before_name(self.shown) == "overlay" else "Repaired") \
            if self.app.repair.on and "damage" in self.shown else "Original"
        graph.draw_text(label, (half // 2, 9), color=LABEL_COLOR)
        if color is not None:
            graph.draw_image(data=self._data("color", color, right[2:]), location=right[:2])
            graph.draw_text("Colorized", (half + half // 2, 9), color=LABEL_COLOR)
        else:
            graph.draw_text(message or self._why_no_color(), (half + half // 2, height // 2), color=LABEL_COLOR)

    def _draw_compare(self, graph: Any, original: Image.Image, color: Image.Image) -> None:
        box = geometry.compare_box(original.size, self.canvas_size)
        split = float(self.app.window[ev.K_SPLIT].TKScale.get()) / 100.0
        before = self._scaled(self._before_name(self.shown), original, box[2:])
        shown = images.compare(before, self._scaled("color", color, box[2:]), split)
        graph.draw_image(data=images.display_bytes(shown), location=box[:2])
        font = ("Helvetica", 10, "bold")
        graph.draw_text("Before", (box.x + 30, box.y + 12), color="white", font=font)
        graph.draw_text("After", (box.x + box.width - 26, box.y + 12), color="white", font=font)

    def _draw_zoom(self, graph: Any) -> None:
        width, height = self.canvas_size
        app = self.app
        if not self.full or self.full.get("path") != app.current:
            graph.draw_text("Colorizing the whole photo at full size for the 100% view...",
                            (width // 2, height // 2), color=LABEL_COLOR)
            if app.models.can_run()[0] and not app.job_running(ev.FULLRES) and not app.busy() and app.current:
                app.start_job(ev.FULLRES, workers.full_resolution, app.current, app.config(),
                              app.hints.hints_for(app.current), app.repair.repair_settings())
            return
        pairs = geometry.photo_boxes("zoom", self.full["original"].size, self.canvas_size, self.zoom_centre)
        for (screen, crop), name in zip(pairs, (self._before_name(self.full), "color")):
            graph.draw_image(data=self._data("full-" + name, self.full[name], crop[2:], crop), location=screen[:2])
        half = pairs[1][0].x - geometry.PANEL_GAP
        before = {"overlay": "Damage (red)", "original": "Repaired"}[self._before_name(self.full)] \
            if self.app.repair.on and "damage" in self.full else "Original"
        graph.draw_text(f"{before} at 100%", (half // 2, 9), color=LABEL_COLOR)
        graph.draw_text("Colorized at 100%", (pairs[1][0].x + half // 2, 9), color=LABEL_COLOR)

    def _why_no_color(self) -> str:
        app = self.app
        if app.job_running(ev.PREVIEW):
            return "Colorizing..."
        if app.job_running(ev.BATCH):
            return "Shown when the batch\nreaches this photo"
        if app.models.checking:
            return "Checking which methods\ncan run..."
        return "No model for this method:\nsee the Models menu" if not app.models.can_run()[0] else ""

    def caption(self) -> None:
        """The line under the preview: name, size, colour, where it was saved, notes."""
        app = self.app
        if app.current is None:
            app.window[ev.K_CAPTION].update("")
            return
        row = app.rows.get(app.current)
        size = self.shown.get("size")
        parts = [Path(app.current).name]
        if size:
            parts.append(f"{size[0]} x {size[1]} px")
        parts += video_preview.caption_parts(self.shown)
        if self.shown.get("is_color"):
            parts.append("already in colour")
        if row and row.dest:
            parts.append(f"saved as {row.dest}")
        elif self.shown.get("color") is not None:
            parts.append("preview only (not saved yet: Save or Colorize)")
        count = len(app.hints.hints_for(app.current))
        if count:
            parts.append(f"{count} colour hint{'s' if count != 1 else ''}")
        parts += app.repair.caption_parts(self.shown)
        if self.shown.get("note"):
            parts.append(self.shown["note"])
        app.window[ev.K_CAPTION].update("  ·  ".join(parts))

    # ----------------------------------------------------- photo <-> canvas

    def _photo_frame(self) -> Optional[tuple[str, tuple[int, int]]]:
        """(view, photo pixel size) that the canvas currently shows, or None when no photo is drawn."""
        view = self.view()
        if view == "zoom":
            if not self.full or self.full.get("path") != self.app.current:
                return None
            return view, self.full["original"].size
        original = self.shown.get("original")
        return (view, original.size) if original is not None else None

    def to_photo(self, point: Sequence[float], clamp: bool = False) -> Optional[tuple[float, float]]:
        """The photo point (fractions of the upright photo) under a canvas point, or None."""
        frame = self._photo_frame()
        if frame is None:
            return None
        return geometry.canvas_to_photo(frame[0], point, frame[1], self.canvas_size, self.zoom_centre, clamp=clamp)

    def to_canvas(self, point: Sequence[float]) -> list[tuple[float, float]]:
        """Every canvas point where a photo point (fractions) is drawn now."""
        frame = self._photo_frame()
        if frame is None:
            return []
        return geometry.photo_to_canvas(frame[0], point, frame[1], self.canvas_size, self.zoom_centre)

    def on_canvas_click(self, values: dict) -> None:
        """A press (or drag) on the preview: the colour-hint tool's when it takes it,
        else a click centres the 100% view on the clicked point (switching to it
        from the other views)."""
        if self.app.repair.on_canvas(values) or self.app.hints.on_canvas(values):
            return
        point = values.get(ev.K_CANVAS)
        if not point or point[0] is None or "original" not in self.shown or video_preview.is_video(self.app.current):
            return  # nothing drawn yet, or a video (no 100% view)
        target = self.to_photo(point, clamp=True)
        if target is None:
            return
        if self.app.settings.view != "zoom":
            self.app.settings.view = "zoom"
            self.app.window[(ev.K_VIEW, "zoom")].update(value=True)
        self.zoom_centre = target
        self._prepared.clear()
        self.draw()
