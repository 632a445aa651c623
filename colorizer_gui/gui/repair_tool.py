"""The "Repair" tool of the preview: scratches, dust, hairs and creases painted out.

While **Repair** is on, the preview shows the photo repaired (its left panel, and
the colorized one made from it) and, with **Show damage**, the photo with what
will be painted out tinted red. The brush (**Add damage** / **Remove damage**)
paints on the preview, in any view, where the detector missed damage or took
real detail for it; each stroke is saved at once in the photo's sidecar
(``RepairEditor``), and Ctrl+Z / Ctrl+Y undo and redo them. The sensitivity
slider and **Restore contrast** change what the preview (and Save) do.

The preview's repair runs in its worker (``workers.preview`` with a
``RepairRequest``, on the preview-size image); Save, Colorize and Colorize all
take ``repair_settings()`` to the core, which repairs the full-size photos with
their own strokes. This module receives what it works with: the window, the
preview (coordinates and redraws), the current photo, the status line and the
settings.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from ..core.repair import RepairSettings
from . import events as ev, video_preview
from .layout import BRUSH_MODES, BRUSH_SIZES
from .repair_editor import RepairEditor
from .repair_preview import RepairRequest

log = logging.getLogger(__name__)
#: The live stroke's colours on the canvas while it is painted.
STROKE_COLORS = {"add": "#ff2828", "remove": "#28d0ff"}
_TEXT_WIDGETS = ("Entry", "TEntry", "TCombobox", "Text", "Spinbox", "TSpinbox")
_CONTROLS = (ev.K_REPAIR_SHOW, ev.K_REPAIR_CONTRAST, ev.K_REPAIR_SENSITIVITY, ev.K_REPAIR_SIZE,
             ev.K_REPAIR_CLEAR, *((ev.K_REPAIR_BRUSH, mode) for mode, _t, _tip in BRUSH_MODES))


class RepairTool:
    """The repair toggle, overlay and brush of one window.

    ``preview`` gives ``to_photo``, ``to_canvas``, ``view()``, ``graph``, ``draw()``,
    ``hints_changed()`` (colorize the preview again, keeping the shown one) and
    ``settings_changed(keep_shown=True)`` (the same once the controls rest)."""

    def __init__(self, window: Any, preview: Any, current: Callable[[], Optional[str]],
                 set_status: Callable[[str], None], settings: Any) -> None:
        self.window, self.preview, self.current, self.set_status = window, preview, current, set_status
        self.settings = settings
        self.on = False
        self.show_damage = True
        self.restore_contrast = False
        self.mode = "look"
        self.editor = RepairEditor()
        self._stroke: Optional[dict[str, Any]] = None   # the stroke being painted
        self._said_problem: set[str] = set()

    # ------------------------------------------------------------ wiring

    def routes(self) -> dict[Any, Callable[[dict], None]]:
        """The tool's events -> what they do (merged into the app's routing table)."""
        return {
            ev.K_REPAIR: lambda v: self.set_on(bool(v.get(ev.K_REPAIR))),
            ev.K_REPAIR_SHOW: lambda v: self.set_show_damage(bool(v.get(ev.K_REPAIR_SHOW))),
            ev.K_REPAIR_CONTRAST: lambda v: self.set_restore_contrast(bool(v.get(ev.K_REPAIR_CONTRAST))),
            ev.K_REPAIR_SENSITIVITY: lambda v: self.set_sensitivity(v.get(ev.K_REPAIR_SENSITIVITY)),
            ev.K_REPAIR_SIZE: lambda v: self.set_size(v.get(ev.K_REPAIR_SIZE)),
            ev.K_REPAIR_CLEAR: lambda v: self.clear(),
            **{(ev.K_REPAIR_BRUSH, mode): (lambda v, mode=mode: self.set_mode(mode))
               for mode, _text, _tip in BRUSH_MODES},
        }

    # ------------------------------------------------------------- state

    @property
    def sensitivity(self) -> float:
        """The detector's sensitivity chosen (0..1)."""
        return _clamp(self.settings.repair_sensitivity, 0.0, 1.0, 0.5)

    @property
    def radius(self) -> float:
        """The brush's radius as a fraction of the photo's short side."""
        return _clamp(self.settings.repair_brush, BRUSH_SIZES[0], BRUSH_SIZES[1], 1.0) / 100.0

    @property
    def brushing(self) -> bool:
        """True while a press on the preview paints."""
        return self.on and self.mode in ("add", "remove")

    def repair_settings(self) -> Optional[RepairSettings]:
        """What Save, Colorize and the 100% view repair with (None while Repair is off)."""
        if not self.on:
            return None
        return RepairSettings(sensitivity=self.sensitivity, restore_contrast=self.restore_contrast)

    def editor_for(self, path: Optional[str]) -> RepairEditor:
        """The brush strokes of ``path`` (loaded from its sidecar when the photo changed)."""
        if path is None:
            return RepairEditor()
        if self.editor.photo != Path(path):
            self.editor = RepairEditor.for_photo(Path(path))
            if self.editor.problem and path not in self._said_problem:
                self._said_problem.add(path)  # once per photo: the preview asks often
                self.set_status(self.editor.problem)
        return self.editor

    def request(self, path: Optional[str]) -> Optional[RepairRequest]:
        """What the preview worker repairs ``path`` with (None while Repair is off, or for a video)."""
        settings = self.repair_settings()
        if settings is None or path is None or video_preview.is_video(path):
            return None
        return RepairRequest(settings, self.editor_for(path).edits)

    def overlay_shown(self) -> bool:
        """True when the preview shows the damage overlay instead of the repaired photo."""
        return self.on and self.show_damage

    def caption_parts(self, shown: dict[str, Any]) -> list[str]:
        """What the line under the preview says about repair."""
        if not self.on or self.current() is None or video_preview.is_video(self.current()):
            return []
        parts = []
        if "damage" in shown:
            parts.append(f"{100 * shown['damage']:.1f}% painted out")
        count = self.editor_for(self.current()).count
        if count:
            parts.append(f"{count} brush stroke{'s' if count != 1 else ''}")
        return parts

    # ------------------------------------------------------------ controls

    def set_on(self, on: bool) -> None:
        """Turn repair on or off (the preview repaints either way)."""
        self.on = on
        self.window[ev.K_REPAIR].update(value=on)
        for key in _CONTROLS:
            self.window[key].update(disabled=not on)
        if on:
            self.set_status("Repair on: red marks what is painted out; the Repair brush adds or removes damage.")
        self.preview.hints_changed()

    def set_show_damage(self, show: bool) -> None:
        """Show or hide the overlay of what is painted out (no repair runs)."""
        self.show_damage = show
        self.preview.draw(self.preview.message)

    def set_restore_contrast(self, on: bool) -> None:
        """Turn "Restore contrast" on or off (the preview repaints)."""
        self.restore_contrast = on
        if self.on:
            self.preview.settings_changed(keep_shown=True)

    def set_sensitivity(self, value: Any) -> None:
        """The sensitivity slider moved: repaint once it rests."""
        self.settings.repair_sensitivity = _clamp(value, 0.0, 1.0, self.settings.repair_sensitivity)
        if self.on:
            self.preview.settings_changed(keep_shown=True)

    def set_size(self, value: Any) -> None:
        """The brush size slider moved."""
        self.settings.repair_brush = _clamp(value, BRUSH_SIZES[0], BRUSH_SIZES[1], self.settings.repair_brush)

    def set_mode(self, mode: str) -> None:
        """Choose the brush: "look" (clicks look), "add" or "remove"."""
        self.mode = mode
        self.window[(ev.K_REPAIR_BRUSH, mode)].update(value=True)
        if mode == "add":
            self.set_status("Add damage: paint over marks the repair missed (red); they are painted out.")
        elif mode == "remove":
            self.set_status("Remove damage: paint over real detail marked red; it is kept.")

    # ------------------------------------------------------------- brush

    def on_canvas(self, values: dict) -> bool:
        """A press or drag on the preview; True when the brush took it."""
        point = values.get(ev.K_CANVAS)
        if not point or point[0] is None:
            return False
        if self._stroke is not None:
            self._extend(point)
            return True
        path = self.current()
        if not self.brushing or path is None or video_preview.is_video(path):
            return False
        start = self.preview.to_photo(point)
        if start is None:
            return True  # beside the photo: no stroke, and no other tool's click either
        self._stroke = {"mode": self.mode, "radius": self.radius, "points": [start], "path": path}
        self._draw_segment(start, start)
        return True

    def _extend(self, point: Sequence[float]) -> None:
        stroke = self._stroke
        assert stroke is not None
        at = self.preview.to_photo(point, clamp=True)
        if at is None or at == stroke["points"][-1]:
            return
        self._draw_segment(stroke["points"][-1], at)
        stroke["points"].append(at)

    def on_release(self, values: dict) -> bool:
        """The button was released: the stroke is saved and the preview repaired again."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return False
        if stroke["path"] != self.current():
            return True
        editor = self.editor_for(stroke["path"])
        try:
            editor.paint(stroke["mode"], stroke["radius"], _thin(stroke["points"]))
        except (OSError, ValueError) as err:
            log.warning("brush stroke not saved: %s", err)
            self.set_status(f"The brush stroke could not be saved: {err}")
            return True
        self._changed(f"{'Added' if stroke['mode'] == 'add' else 'Removed'} damage "
                      f"({self._count()}). Ctrl+Z takes it back.")
        return True

    def _draw_segment(self, start: Sequence[float], end: Sequence[float]) -> None:
        """The stroke as it is painted, on every panel it shows on (the repaired preview replaces it)."""
        color = STROKE_COLORS[self._stroke["mode"]] if self._stroke else STROKE_COLORS["add"]
        width = max(2, int(round(2 * self.radius * self._shown_short_side())))
        graph = self.preview.graph
        for a, b in zip(self.preview.to_canvas(start), self.preview.to_canvas(end)):
            graph.draw_line(a, b, color=color, width=width)
            graph.draw_circle(b, width / 2, fill_color=color, line_color=color)

    def _shown_short_side(self) -> float:
        """The short side of the photo as drawn on the canvas (canvas pixels)."""
        corners = list(zip(self.preview.to_canvas((0.0, 0.0)), self.preview.to_canvas((1.0, 1.0))))
        if not corners:
            return 0.0
        (x0, y0), (x1, y1) = corners[0]
        return min(abs(x1 - x0), abs(y1 - y0))

    # ------------------------------------------------------------ history

    def takes_keys(self, hints_on: bool) -> bool:
        """Whether Ctrl+Z / Ctrl+Y are the brush's: while it paints, or while
        Repair is on and the colour hints are not."""
        return self.on and (self.brushing or not hints_on)

    def undo(self) -> None:
        """Ctrl+Z: undo the last brush change of this photo."""
        self._history("undo", "Undone")

    def redo(self) -> None:
        """Ctrl+Y: redo the brush change last undone."""
        self._history("redo", "Redone")

    def _history(self, step: str, said: str) -> None:
        path = self.current()
        if _typing(self.window) or not self.on or path is None:
            return
        try:
            moved = getattr(self.editor_for(path), step)()
        except OSError as err:
            self.set_status(f"The brush strokes could not be saved: {err}")
            return
        if moved:
            self._changed(f"{said} ({self._count()}).")

    def clear(self) -> None:
        """Remove every brush stroke of the photo (undoable)."""
        path = self.current()
        if path is None or not self.editor_for(path).count:
            return
        try:
            self.editor.clear()
        except OSError as err:
            self.set_status(f"The brush strokes could not be saved: {err}")
            return
        self._changed("Brush strokes cleared. Ctrl+Z brings them back.")

    def _changed(self, message: str) -> None:
        self.set_status(message)
        self.preview.hints_changed()

    def _count(self) -> str:
        n = self.editor.count
        return f"{n} brush stroke{'s' if n != 1 else ''} on this photo"


def _thin(points: list[tuple[float, float]], most: int = 2000) -> list[tuple[float, float]]:
    """At most ``most`` points of a long drag, its ends kept (a stroke's limit in the sidecar)."""
    if len(points) <= most:
        return points
    step = len(points) / (most - 1)
    return [points[int(i * step)] for i in range(most - 1)] + [points[-1]]


def _clamp(value: Any, low: float, high: float, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return default if number != number else min(high, max(low, number))


def _typing(window: Any) -> bool:
    """True when a text box has the keyboard (Ctrl+Z is then its own)."""
    try:
        focus = window.TKroot.focus_get()
    except Exception:  # noqa: BLE001 - a popup's widget may be gone
        return False
    return focus is not None and focus.winfo_class() in _TEXT_WIDGETS
