"""The colour-hint tool on the real window (Xvfb), with the bundled default model
(which takes hints): real clicks, drags, right clicks and key presses (xdotool)
on the preview, the sidecar file, the colour memory and the eyedropper."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from test_app import make_app, pump  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui

BLUE = (30, 70, 210)


def _two_objects(folder: Path) -> Path:
    """A grey 'scan': a light dress-like shape on the left, a darker block on the right."""
    folder.mkdir()
    rng = np.random.default_rng(3)
    img = Image.fromarray((np.full((300, 400), 120.0) + rng.normal(0, 6, (300, 400))).clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    draw.ellipse((40, 60, 180, 260), fill=170)
    draw.rectangle((240, 80, 370, 250), fill=70)
    path = folder / "grandma.png"
    img.save(path)
    return path


def _ab_at(app, point: tuple[float, float], reach: int = 4) -> np.ndarray:
    """The mean CIE ab of the colorized preview around the photo ``point``."""
    from colorizer_gui.core import color

    pixels = np.asarray(app.shown["color"].convert("RGB"))
    h, w = pixels.shape[:2]
    x, y = int(point[0] * w), int(point[1] * h)
    patch = pixels[y - reach:y + reach + 1, x - reach:x + reach + 1]
    return color.rgb_to_lab(patch).reshape(-1, 3)[:, 1:].mean(axis=0)


def _hint_ab(rgb) -> np.ndarray:
    from colorizer_gui.core import color

    return color.rgb_to_lab(np.array([[rgb]], np.uint8))[0, 0, 1:]


def _xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=10, env=dict(os.environ))


def _screen_point(app, canvas_point) -> tuple[int, int]:
    from colorizer_gui.gui import events as ev

    widget = app.window[ev.K_CANVAS].Widget
    return widget.winfo_rootx() + int(round(canvas_point[0])), widget.winfo_rooty() + int(round(canvas_point[1]))


def _press_keys(app, keys: str) -> None:
    root = app.window.TKroot
    root.focus_force()
    pump(app, lambda: root.focus_get() is not None, timeout=5, what="keyboard focus")
    _xdotool("key", "--clearmodifiers", keys)


def _colorized_again(app, before):
    """Pump until a new colorized preview replaced ``before`` and no preview job runs."""
    from colorizer_gui.gui import events as ev

    pump(app, lambda: app.shown.get("color") is not before and not app.job_running(ev.PREVIEW),
         timeout=60, what="the preview to colorize again")
    return app.shown["color"]


def _open(make_app, folder: Path, settings_dir: Path):
    app = make_app([str(folder)], settings_dir=settings_dir)
    pump(app, lambda: app.shown.get("color") is not None, timeout=90, what="the preview")
    return app


def _tool_on(app) -> None:
    from colorizer_gui.gui import events as ev

    app.window[ev.K_HINTS].update(value=True)
    app.window.write_event_value(ev.K_HINTS, True)
    pump(app, lambda: app.hints.on, what="the hint tool")


@pytest.fixture
def xdotool():
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (apt-get install xdotool)")


def test_a_click_adds_a_hint_the_preview_moves_toward_it_undo_and_the_sidecar(make_app, tmp_path, xdotool,
                                                                              monkeypatch):
    from tkinter import colorchooser

    from colorizer_gui.core.hints import sidecar_beside
    from colorizer_gui.gui import events as ev

    photo = _two_objects(tmp_path / "scans")
    original_bytes = hashlib.sha256(photo.read_bytes()).hexdigest()
    app = _open(make_app, photo.parent, tmp_path / "settings")
    _tool_on(app)
    # The colour is chosen with the system colour chooser (its answer stands in for the user's).
    monkeypatch.setattr(colorchooser, "askcolor", lambda **kw: (BLUE, "#1e46d2"))
    app.window.write_event_value(ev.K_HINT_CHOOSE, None)
    pump(app, lambda: app.hints.color == BLUE, what="the chosen colour")
    assert app.window[ev.K_HINT_CHIP].Widget.cget("background").lower() == "#1e46d2"

    spot = (0.27, 0.53)  # inside the light shape on the left
    ab_before = _ab_at(app, spot)
    target = _hint_ab(BLUE)
    # A real click on the original (left) panel at that photo point.
    left, right = app.preview.to_canvas(spot)
    shown = app.shown["color"]
    _xdotool("mousemove", "--sync", *map(str, _screen_point(app, left)))
    clicked = time.monotonic()
    _xdotool("click", "1")
    pump(app, lambda: len(app.hints.hints) == 1, what="the hint")
    after = _colorized_again(app, shown)
    print(f"click to re-colorized preview: {time.monotonic() - clicked:.3f} s")
    hint = app.hints.hints[0]
    assert hint.rgb == BLUE
    assert hint.x == pytest.approx(spot[0], abs=0.01) and hint.y == pytest.approx(spot[1], abs=0.01)
    ab_after = _ab_at(app, spot)
    print("ab before", ab_before, "after", ab_after, "hint", target)
    moved = np.linalg.norm(ab_before - target) - np.linalg.norm(ab_after - target)
    assert moved > 10, (ab_before, ab_after, target)
    # Rings: a dark and a light circle at the point on each panel.
    canvas = app.window[ev.K_CANVAS].Widget
    ovals = [canvas.coords(i) for i in canvas.find_all() if canvas.type(i) == "oval"]
    assert len(ovals) == 4
    centres = sorted(((c[0] + c[2]) / 2, (c[1] + c[3]) / 2) for c in ovals)
    assert centres[0] == pytest.approx(left, abs=1.5) and centres[-1] == pytest.approx(right, abs=1.5)
    # Saved beside the photo at once, in the documented format.
    sidecar = sidecar_beside(photo)
    doc = json.loads(sidecar.read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["hints"][0]["rgb"] == list(BLUE)

    # A drag of the ring (on the colorized panel) moves it: one re-colorize, on release.
    calls = []
    real = app.preview.hints_changed
    monkeypatch.setattr(app.preview, "hints_changed", lambda: (calls.append(1), real())[1])
    start = _screen_point(app, right)
    _xdotool("mousemove", "--sync", *map(str, start))
    _xdotool("mousedown", "1")
    pump(app, lambda: app.hints._press is not None, what="the press")
    for step in range(1, 6):
        _xdotool("mousemove", "--sync", str(start[0] + 4 * step), str(start[1] + 2 * step))
        app.step(20)
    _xdotool("mouseup", "1")
    pump(app, lambda: app.hints._press is None and calls, what="the release")
    moved_hint = app.hints.hints[0]
    assert len(app.hints.hints) == 1 and moved_hint.x > hint.x + 0.02
    assert len(calls) == 1, "a drag colorizes once, on release"
    _colorized_again(app, after)

    # A right click on the ring removes it; Ctrl+Z brings it back, twice undoes the move.
    where = app.preview.to_canvas((moved_hint.x, moved_hint.y))[0]
    shown = app.shown["color"]
    _xdotool("mousemove", "--sync", *map(str, _screen_point(app, where)))
    _xdotool("click", "3")
    pump(app, lambda: not app.hints.hints, what="the right click")
    assert not sidecar.exists(), "no hints, no sidecar"
    _colorized_again(app, shown)
    _press_keys(app, "ctrl+z")
    pump(app, lambda: len(app.hints.hints) == 1, what="Ctrl+Z")
    assert app.hints.hints[0] == moved_hint
    _press_keys(app, "ctrl+z")
    pump(app, lambda: app.hints.hints and app.hints.hints[0] == hint, what="the move undone")
    shown = app.shown["color"]
    _press_keys(app, "ctrl+z")
    pump(app, lambda: not app.hints.hints, what="the hint undone")
    _colorized_again(app, shown)
    assert np.linalg.norm(_ab_at(app, spot) - ab_before) < 3, "undo gives back the colours without the hint"
    _press_keys(app, "ctrl+y")
    pump(app, lambda: len(app.hints.hints) == 1, what="Ctrl+Y")
    assert json.loads(sidecar.read_text(encoding="utf-8"))["hints"][0]["rgb"] == list(BLUE)

    # Opened again (a new window): the hint is read back from the sidecar and used.
    app.close()
    again = _open(make_app, photo.parent, tmp_path / "settings")
    (back,) = again.hints.hints
    assert (back.x, back.y) == pytest.approx((hint.x, hint.y), abs=1e-5) and back.rgb == BLUE
    assert "1 colour hint" in again.window[ev.K_CAPTION].get()
    assert np.linalg.norm(_ab_at(again, spot) - target) < np.linalg.norm(ab_before - target) - 10
    assert hashlib.sha256(photo.read_bytes()).hexdigest() == original_bytes, "the original is never written"
    assert sorted(p.name for p in photo.parent.iterdir()) == ["grandma.png", "grandma.png.colorizer.json"]


def test_color_memory_eyedropper_clear_and_save_with_hints(make_app, tmp_path):
    from colorizer_gui.core.provenance import read_provenance
    from colorizer_gui.gui import events as ev
    from colorizer_gui.gui.settings import load_settings

    photo = _two_objects(tmp_path / "scans")
    settings_dir = tmp_path / "settings"
    app = _open(make_app, photo.parent, settings_dir)
    _tool_on(app)
    # Remember a colour by name: it becomes the first swatch, saved in the settings.
    app.hints.set_color((120, 110, 70))
    app.hints.ask_name = lambda: "Dad's uniform"
    app.window.write_event_value(ev.K_HINT_REMEMBER, None)
    pump(app, lambda: app.settings.swatches and app.settings.swatches[0]["name"] == "Dad's uniform",
         what="the colour memory")
    assert load_settings(settings_dir).swatches[0] == {"name": "Dad's uniform", "rgb": [120, 110, 70]}
    assert app.window[ev.K_HINT_MEMORY].Values[0] == "Dad's uniform"
    # A swatch button gives its colour.
    app.window.write_event_value((ev.K_HINT_SWATCH, 1), None)
    pump(app, lambda: app.hints.color != (120, 110, 70), what="the swatch")
    # The eyedropper takes the colorized preview's colour under the next click (here: the right panel).
    app.window.write_event_value(ev.K_HINT_PICK, None)
    pump(app, lambda: app.hints.picking, what="the eyedropper")
    spot = app.preview.to_canvas((0.75, 0.5))[1]
    app.window.write_event_value(ev.K_CANVAS, (int(spot[0]), int(spot[1])))
    pump(app, lambda: not app.hints.picking, what="the pick")
    app.window.write_event_value(ev.CANVAS_UP, None)
    picked = app.hints.color
    pixels = np.asarray(app.shown["color"].convert("RGB")).astype(int)
    h, w = pixels.shape[:2]
    x, y = app.preview.to_photo(spot)
    assert np.abs(pixels[int(y * h), int(x * w)] - np.array(picked)).max() <= 12
    assert not app.hints.hints, "picking adds no hint"
    # The "no hints on this method" line is said once per photo and method.
    said = []
    app.set_status = said.append
    for _ in range(2):
        app.hints.on_preview({"path": app.current, "hints_unused": True})
    assert len(said) == 1 and "takes no colour hints" in said[0]
    del app.set_status
    # Save at full size carries the hints (the copy records how many).
    app.hints.set_color(BLUE)
    app.window.write_event_value(ev.K_CANVAS, tuple(int(v) for v in app.preview.to_canvas((0.27, 0.53))[0]))
    app.window.write_event_value(ev.CANVAS_UP, None)
    pump(app, lambda: len(app.hints.hints) == 1, what="the hint")
    app.save(False)
    pump(app, lambda: app.rows[app.current].dest, timeout=90, what="the save")
    assert read_provenance(Path(app.rows[app.current].dest))["colorizer"]["Hints"] == "1"
    # A click on the ring selects it: a colour chosen now recolours it, Delete removes it.
    ring = app.preview.to_canvas((app.hints.hints[0].x, app.hints.hints[0].y))[1]
    app.window.write_event_value(ev.K_CANVAS, (int(ring[0]), int(ring[1])))
    app.window.write_event_value(ev.CANVAS_UP, None)
    pump(app, lambda: app.hints.selected == 0 and app.hints._press is None, what="the selection")
    app.hints.set_color((200, 30, 40), "red dress")
    assert len(app.hints.hints) == 1 and app.hints.hints[0].rgb == (200, 30, 40)
    assert app.hints.hints[0].name == "red dress"
    if shutil.which("xdotool"):
        app.window.TKroot.focus_force()
        pump(app, lambda: app.window.TKroot.focus_get() is not None, timeout=5, what="keyboard focus")
        _xdotool("key", "--clearmodifiers", "Delete")
        pump(app, lambda: not app.hints.hints, what="Delete")
        app.hints.undo()
    # Clear hints removes them all (and the sidecar); undo brings them back.
    app.window.write_event_value(ev.K_HINT_CLEAR, None)
    pump(app, lambda: not app.hints.hints, what="Clear hints")
    assert not (photo.parent / "grandma.png.colorizer.json").exists()
    app.hints.undo()
    assert len(app.hints.hints) == 1
    # In the 100% view a click looks at that spot; it adds no hint.
    app.window[(ev.K_VIEW, "zoom")].update(value=True)
    app.window.write_event_value((ev.K_VIEW, "zoom"), True)
    pump(app, lambda: app.preview.full.get("path") == app.current, timeout=90, what="the 100% view")
    app.window.write_event_value(ev.K_CANVAS, (40, 60))
    app.window.write_event_value(ev.CANVAS_UP, None)
    pump(app, lambda: app.preview.zoom_centre != (0.5, 0.5), what="the 100% view to move")
    assert len(app.hints.hints) == 1


def test_the_color_memory_setting_survives_junk():
    from colorizer_gui.gui.hint_editor import STARTER_SWATCHES, swatches_from_settings
    from colorizer_gui.gui.settings import Settings

    assert Settings.from_json({"swatches": "junk"}).swatches == []
    kept = Settings.from_json({"swatches": [{"name": "Dad's uniform", "rgb": [90, 95, 60]}, {"rgb": 5}]})
    assert swatches_from_settings(kept.swatches) == [("Dad's uniform", (90, 95, 60))]
    assert swatches_from_settings(Settings().swatches) == list(STARTER_SWATCHES)
