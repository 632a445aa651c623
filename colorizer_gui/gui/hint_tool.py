"""The "Colour hints" tool of the preview: "her dress was blue", in a few clicks.

While the tool is on, a left click on the photo (either panel of the side-by-side
view, or the before/after view) adds a hint there with the current colour; a
click on a ring selects that hint and dragging it moves it (one re-colorize, on
release); a right click or Delete removes the hint under the pointer or the
selected one; Ctrl+Z / Ctrl+Y undo and redo; "Clear hints" removes them all.
The current colour comes from the colour memory (named swatches kept in the
settings), the system colour chooser, or the eyedropper ("Pick from result":
the next click samples the colorized preview).

What the hints are, their history and their sidecar file are ``HintEditor``'s
(``hint_editor.py``); this module routes the window's events to it, draws the
rings at every canvas point ``Preview.to_canvas`` gives, and asks the preview to
colorize again (in a worker) after each change.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

from ..core.hints import Hint
from . import events as ev, video_preview
from .hint_editor import HintEditor, remember_swatch, swatches_from_settings
from .layout import SWATCH_BUTTONS, hex_color
from .settings import save_settings

if TYPE_CHECKING:
    from .shell import Shell

#: Rings: outer (dark) and inner (light, filled with the hint's colour) radii in canvas pixels.
RING_OUTER, RING_INNER = 8, 5
RING_DARK, RING_LIGHT, RING_SELECTED = "#1a1a1a", "#ffffff", "#ffcc00"
#: How far (canvas pixels) a click may be from a ring's centre and still hit it.
HIT_REACH = 10.0
#: A press that moves less than this (canvas pixels) before release is a click, not a drag.
DRAG_THRESHOLD = 3.0
#: Keys the tool binds on the main window.
KEYS = {"<Control-z>": ev.SHORT_UNDO, "<Control-Z>": ev.SHORT_UNDO, "<Control-y>": ev.SHORT_REDO,
        "<Control-Y>": ev.SHORT_REDO, "<Delete>": ev.SHORT_DELETE}
_TEXT_WIDGETS = ("Entry", "TEntry", "TCombobox", "Text", "Spinbox", "TSpinbox")


class HintTool:
    """The colour-hint tool of one app window."""

    def __init__(self, app: "Shell") -> None:
        self.app = app
        self.editor = HintEditor()
        self.on = False
        swatches = swatches_from_settings(app.settings.swatches)
        self.color_name, self.color = swatches[0]
        self.selected: Optional[int] = None
        self.picking = False                      # the eyedropper waits for a click
        # The press in progress: None when the button is up.
        self._press: Optional[dict[str, Any]] = None
        self._ring_ids: list[Any] = []
        self._said_unused: set[tuple[str, str]] = set()
        self.bind()

    # ------------------------------------------------------------ wiring

    def bind(self) -> None:
        """Bind the right click on the preview and the tool's keys."""
        self.app.window[ev.K_CANVAS].bind("<Button-3>", "+RIGHT")
        for key, event in KEYS.items():
            self.app.window.bind(key, event)

    def routes(self) -> dict[Any, Callable[[dict], None]]:
        """The tool's events -> what they do (merged into the app's routing table)."""
        return {
            ev.K_HINTS: lambda v: self.set_on(bool(v.get(ev.K_HINTS))),
            ev.CANVAS_UP: self.on_release,
            ev.CANVAS_RIGHT: self.on_right_click,
            ev.SHORT_DELETE: lambda v: self.delete_selected(),
            ev.SHORT_UNDO: lambda v: self.undo(),
            ev.SHORT_REDO: lambda v: self.redo(),
            ev.K_HINT_CLEAR: lambda v: self.clear(),
            ev.K_HINT_CHOOSE: lambda v: self.choose_color(),
            ev.K_HINT_REMEMBER: lambda v: self.remember_color(),
            ev.K_HINT_PICK: lambda v: self.start_picking(),
            ev.K_HINT_MEMORY: lambda v: self.use_named(str(v.get(ev.K_HINT_MEMORY) or "")),
            **{(ev.K_HINT_SWATCH, i): (lambda v, i=i: self.use_swatch(i)) for i in range(SWATCH_BUTTONS)},
        }

    # ------------------------------------------------------------- state

    def hints_for(self, path: Optional[str]) -> list[Hint]:
        """The hints of ``path`` (loading its sidecar when the photo changed)."""
        if path is None:
            return []
        if self.editor.photo != Path(path):
            self.editor, problem = HintEditor.for_photo(Path(path))
            self.selected = None
            if problem:
                self.app.set_status(problem)
        return list(self.editor.hints)

    @property
    def hints(self) -> list[Hint]:
        """The hints of the photo in the preview."""
        return self.hints_for(self.app.current)

    def set_on(self, on: bool) -> None:
        """Turn the tool on or off (the rings are shown only while it is on)."""
        self.on = on
        self.selected = None
        self.app.window[ev.K_HINTS].update(value=on)
        if on:
            self.app.set_status("Colour hints: click the photo where you know the colour (choose it first); "
                                "drag a ring to move it, right-click to remove it.")
        self.app.preview.draw(self.app.preview.message)

    # ------------------------------------------------------------- mouse

    def on_canvas(self, values: dict) -> bool:
        """A press or drag on the preview (the Graph posts both); True when the tool
        took it, False to let the preview handle a plain click."""
        point = values.get(ev.K_CANVAS)
        if not point or point[0] is None:
            return False
        if self._press is not None:  # the button is held: this is a drag
            self._drag_to(point)
            return True
        self._press = {"start": tuple(point), "index": None, "moved": False, "at": None}
        if self.picking:
            self.pick_at(point)
            return True
        if not self.on or self.app.preview.view() == "zoom" or video_preview.is_video(self.app.current):
            return False  # hints are given in the side-by-side and before/after views, on photos
        target = self.app.preview.to_photo(point)
        if target is None or self.app.current is None or "original" not in self.app.preview.shown:
            return True
        index = self.hit(point)
        if index is None:  # a new hint (not selected: the next colour chosen is for the next hint)
            self.hints_for(self.app.current)
            index = self.editor.add(target[0], target[1], self.color, self.color_name)
            self.selected = None
            self.changed(f"Hint added ({self._count()}).")
        else:  # a click on a ring selects it: a colour chosen now recolours it; Delete removes it
            self.selected = index
        self._press["index"] = index
        self.draw_rings()
        return True

    def _drag_to(self, point: Sequence[float]) -> None:
        press = self._press
        assert press is not None
        if press["index"] is None or press["index"] >= len(self.editor.hints):
            return
        if math.dist(point, press["start"]) < DRAG_THRESHOLD and not press["moved"]:
            return
        target = self.app.preview.to_photo(point, clamp=True)
        if target is not None:
            press["moved"], press["at"] = True, target
            self.draw_rings()  # the ring follows the pointer; colorizing waits for the release

    def on_release(self, values: dict) -> None:
        """The button was released: a dragged hint lands (and the preview colorizes once)."""
        press, self._press = self._press, None
        if press and press["moved"] and press["at"] is not None and press["index"] is not None:
            self.editor.move(press["index"], *press["at"])
            self.changed("Hint moved.")

    def on_right_click(self, values: dict) -> None:
        """Remove the hint under the pointer (while the tool is on)."""
        point = values.get(ev.K_CANVAS)
        if not self.on or not point or point[0] is None:
            return
        index = self.hit(point)
        if index is not None:
            self.remove(index)

    def hit(self, point: Sequence[float]) -> Optional[int]:
        """The hint whose ring is under the canvas ``point`` (nearest wins), or None."""
        best, best_d = None, HIT_REACH
        for index, hint in enumerate(self.hints):
            for spot in self.app.preview.to_canvas((hint.x, hint.y)):
                d = math.dist(spot, point)
                if d <= best_d:
                    best, best_d = index, d
        return best

    # ------------------------------------------------------------- edits

    def remove(self, index: int) -> None:
        """Remove hint ``index``."""
        self.editor.remove(index)
        self.selected = None
        self.changed(f"Hint removed ({self._count()}). Ctrl+Z brings it back.")

    def delete_selected(self) -> None:
        """Delete (the key): remove the selected hint, unless a text box has the keyboard."""
        if self._typing() or not self.on or self.selected is None or self.selected >= len(self.hints):
            return
        self.remove(self.selected)

    def undo(self) -> None:
        """Ctrl+Z (while the tool is on): undo the last change to this photo's hints."""
        self._history("undo", "Undone")

    def redo(self) -> None:
        """Ctrl+Y (while the tool is on): redo the change last undone."""
        self._history("redo", "Redone")

    def _history(self, step: str, said: str) -> None:
        if self._typing() or not self.on or not self.app.current:
            return
        self.hints_for(self.app.current)
        if getattr(self.editor, step)():
            self.selected = None
            self.changed(f"{said} ({self._count()}).")

    def clear(self) -> None:
        """Remove every hint of the photo (undoable)."""
        if self.hints:
            self.editor.clear()
            self.selected = None
            self.changed("Hints cleared. Ctrl+Z brings them back.")

    def changed(self, message: str) -> None:
        """After an edit: redraw the rings and colorize the preview again (in a worker)."""
        self.app.set_status(message)
        self.draw_rings()
        self.app.preview.hints_changed()

    def _count(self) -> str:
        n = len(self.editor.hints)
        return f"{n} hint{'s' if n != 1 else ''} on this photo"

    def _typing(self) -> bool:
        """True when a text box has the keyboard (Delete and Ctrl+Z are then its own)."""
        try:
            focus = self.app.window.TKroot.focus_get()
        except Exception:  # noqa: BLE001 - a popup's widget may be gone
            return False
        return focus is not None and focus.winfo_class() in _TEXT_WIDGETS

    # ------------------------------------------------------------ colour

    def set_color(self, rgb: Sequence[int], name: str = "") -> None:
        """Make ``rgb`` the colour of the next hint (and of the selected one)."""
        self.show_color(rgb, name)
        if self.on and self.selected is not None and self.selected < len(self.hints):
            self.editor.recolor(self.selected, self.color, name)
            self.changed("Hint recoloured.")

    def show_color(self, rgb: Sequence[int], name: str = "") -> None:
        """Make ``rgb`` (called ``name``) the current colour, shown in the patch and the list."""
        self.color, self.color_name = (int(rgb[0]), int(rgb[1]), int(rgb[2])), name
        w = self.app.window
        w[ev.K_HINT_CHIP].update(background_color=hex_color(self.color))
        w[ev.K_HINT_CHIP].set_tooltip(f"{name or 'This colour'}: {hex_color(self.color)} (the next hint's colour)")
        w[ev.K_HINT_MEMORY].update(value=name if name in self._names() else "")

    def _names(self) -> list[str]:
        return [name for name, _ in swatches_from_settings(self.app.settings.swatches)]

    def use_swatch(self, index: int) -> None:
        """A swatch button of the colour memory was clicked."""
        swatches = swatches_from_settings(self.app.settings.swatches)
        if index < len(swatches):
            self.set_color(swatches[index][1], swatches[index][0])

    def use_named(self, name: str) -> None:
        """A colour was chosen by name from the colour memory."""
        for known, rgb in swatches_from_settings(self.app.settings.swatches):
            if known == name:
                self.set_color(rgb, known)
                return

    def choose_color(self) -> None:
        """The system colour chooser."""
        from tkinter import colorchooser

        chosen = colorchooser.askcolor(color=hex_color(self.color), parent=self.app.window.TKroot,
                                       title="Colour of the hint")
        if chosen and chosen[0] is not None:
            self.set_color(tuple(int(round(c)) for c in chosen[0]))

    def ask_name(self) -> Optional[str]:
        """Ask what to call the current colour (tests replace this)."""
        import PySimpleGUI as sg

        return sg.popup_get_text("Name this colour, to use it again on any photo\n"
                                 "(for example \"Dad's uniform\" or \"the blue Ford\"):",
                                 title="Remember colour", default_text=self.color_name,
                                 keep_on_top=True)

    def remember_color(self) -> None:
        """Name the current colour and keep it in the colour memory (saved in the settings)."""
        name = (self.ask_name() or "").strip()
        if not name:
            return
        app = self.app
        app.settings.swatches = remember_swatch(app.settings.swatches, name, self.color)
        try:
            save_settings(app.settings, app.settings_dir)
        except OSError as err:
            app.set_status(f"Could not save the colour memory: {err}")
        self.color_name = name
        self.show_swatches()
        self.show_color(self.color, name)
        app.set_status(f"Remembered \"{name}\": it is offered for every photo.")

    def show_swatches(self) -> None:
        """Paint the colour memory into the swatch buttons and the list of names."""
        swatches = swatches_from_settings(self.app.settings.swatches)
        w = self.app.window
        for index in range(SWATCH_BUTTONS):
            button = w[(ev.K_HINT_SWATCH, index)]
            if index < len(swatches):
                name, rgb = swatches[index]
                button.update(background_color=hex_color(rgb), visible=True)
                button.set_tooltip(name)
            else:
                button.update(visible=False)
        w[ev.K_HINT_MEMORY].update(values=[name for name, _ in swatches],
                                   value=self.color_name if self.color_name in self._names() else "")

    def start_picking(self) -> None:
        """The eyedropper: the next click on the preview takes the colorized photo's colour there."""
        self.picking = True
        self.app.set_status("Click the colorized photo to take its colour (or a colour photo you opened).")

    def pick_at(self, point: Sequence[float]) -> None:
        """Take the colour of the preview under ``point`` (3x3 average) as the current colour."""
        self.picking = False
        shown = self.app.preview.shown
        image = shown.get("color")
        if image is None and shown.get("is_color"):
            image = shown.get("original")  # a colour photo: sample the photo itself
        target = self.app.preview.to_photo(point)
        if image is None or target is None:
            self.app.set_status("Nothing to pick there: click the colorized photo.")
            return
        rgb = sample(image, target)
        self.set_color(rgb)
        self.app.set_status(f"Picked {hex_color(rgb)} from the photo.")

    # ------------------------------------------------------------- drawing

    def draw_rings(self) -> None:
        """Draw each hint as a ring at every canvas point it is shown at (tool on only)."""
        graph = self.app.window[ev.K_CANVAS]
        for figure in self._ring_ids:
            graph.delete_figure(figure)
        self._ring_ids = []
        if not self.on or "original" not in self.app.preview.shown:
            return
        press = self._press or {}
        for index, hint in enumerate(self.hints):
            where = press.get("at") if press.get("index") == index and press.get("moved") else (hint.x, hint.y)
            outer = RING_SELECTED if index == self.selected else RING_DARK
            for spot in self.app.preview.to_canvas(where):
                self._ring_ids.append(graph.draw_circle(spot, RING_OUTER, fill_color=outer, line_color=outer))
                self._ring_ids.append(graph.draw_circle(spot, RING_INNER, fill_color=hex_color(hint.rgb),
                                                        line_color=RING_LIGHT, line_width=2))

    def on_preview(self, data: dict[str, Any]) -> None:
        """A preview landed: say once per photo and method when its hints went unused (zhang)."""
        if not data.get("hints_unused"):
            return
        key = (str(data.get("path")), self.app.settings.backend)
        if key not in self._said_unused:
            self._said_unused.add(key)
            self.app.set_status(f"The {self.app.settings.backend} method takes no colour hints: this photo's "
                                "hints are used by the cgan method.")


def sample(image: Any, point: Sequence[float]) -> tuple[int, int, int]:
    """The mean RGB of the 3x3 pixels of a PIL ``image`` around the photo ``point`` (fractions)."""
    import numpy as np

    pixels = np.asarray(image.convert("RGB"))
    height, width = pixels.shape[:2]
    x = min(width - 1, max(0, int(point[0] * width)))
    y = min(height - 1, max(0, int(point[1] * height)))
    patch = pixels[max(0, y - 1):y + 2, max(0, x - 1):x + 2].reshape(-1, 3).mean(axis=0)
    return int(round(patch[0])), int(round(patch[1])), int(round(patch[2]))
