"""The repair tool on the real window (Xvfb): the Repair toggle and the damage
overlay as the screen shows them, the brush adding damage the detector missed
and removing damage it found (real xdotool drags on the preview), undo/redo,
the sidecar, and Save writing a copy with exactly that repaired."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from test_app import make_app, pump  # noqa: F401 - fixtures

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the factories
from repair_factory import scene  # noqa: E402

pytestmark = pytest.mark.gui

SCRATCH = ((40, 100), (440, 130))   # a thin white scratch the detector finds
BLOT = (290, 240, 320, 270)         # a dark blot (x0, y0, x1, y1) too large for the detector
SIZE = (480, 360)                   # small enough for the preview to be the photo's own size
#: Where the screenshot is kept for a person to look at.
SHOT_DIR = Path(__file__).resolve().parents[2] / "bench" / "out"


def _scratch_y(x: int) -> int:
    (x0, y0), (x1, y1) = SCRATCH
    return int(round(y0 + (y1 - y0) * (x - x0) / (x1 - x0)))


def _damaged(folder: Path) -> Path:
    folder.mkdir()
    img = scene(SIZE[1], SIZE[0], seed=5)
    cv2.line(img, SCRATCH[0], SCRATCH[1], 250, 1)
    x0, y0, x1, y1 = BLOT
    img[y0:y1, x0:x1] = 25
    path = folder / "grandpa.png"
    Image.fromarray(img).save(path)
    return path


def _xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=10, env=dict(os.environ))


def _screen_point(app, canvas_point) -> tuple[int, int]:
    from colorizer_gui.gui import events as ev

    widget = app.window[ev.K_CANVAS].Widget
    return widget.winfo_rootx() + int(round(canvas_point[0])), widget.winfo_rooty() + int(round(canvas_point[1]))


def _click_widget(app, key) -> None:
    widget = app.window[key].Widget
    app.window.TKroot.update()
    _xdotool("mousemove", str(widget.winfo_rootx() + 8), str(widget.winfo_rooty() + widget.winfo_height() // 2))
    app.step(20)
    _xdotool("click", "1")


def _drag(app, photo_points) -> None:
    """A real drag on the left panel through these photo points (pixels of the photo)."""
    screen = [_screen_point(app, app.preview.to_canvas((x / SIZE[0], y / SIZE[1]))[0]) for x, y in photo_points]
    _xdotool("mousemove", "--sync", *map(str, screen[0]))
    _xdotool("mousedown", "1")
    pump(app, lambda: app.repair._stroke is not None, what="the brush press")
    for point in screen[1:]:
        _xdotool("mousemove", "--sync", *map(str, point))
        app.step(20)
    _xdotool("mouseup", "1")
    pump(app, lambda: app.repair._stroke is None, what="the brush release")


def _repainted(app, before) -> None:
    from colorizer_gui.gui import events as ev

    pump(app, lambda: app.shown.get("overlay") is not None and app.shown.get("overlay") is not before
         and app.shown.get("color") is not None and not app.job_running(ev.PREVIEW),
         timeout=60, what="the repaired preview")


def _grab(app):
    """The canvas as the screen shows it (PIL image), or None where X cannot be read."""
    from PIL import ImageGrab

    from colorizer_gui.gui import events as ev

    app.window.TKroot.update()
    widget = app.window[ev.K_CANVAS].Widget
    x, y = widget.winfo_rootx(), widget.winfo_rooty()
    try:
        screen = ImageGrab.grab(xdisplay=os.environ["DISPLAY"])
    except OSError:
        return None, None
    return screen, screen.crop((x, y, x + widget.winfo_width(), y + widget.winfo_height())).convert("RGB")


def _redness(app, canvas_image, photo_point) -> int:
    """How much redder than green the canvas shows the 5x5 pixels around a photo
    point (pixels) on the left panel, at the reddest of them."""
    cx, cy = app.preview.to_canvas((photo_point[0] / SIZE[0], photo_point[1] / SIZE[1]))[0]
    pixels = np.asarray(canvas_image).astype(int)[int(cy) - 2:int(cy) + 3, int(cx) - 2:int(cx) + 3]
    return int((pixels[..., 0] - pixels[..., 1]).max())


@pytest.fixture(autouse=True)
def classical_detector(monkeypatch):
    """These tests drive the window's tool, not a detector: they pin the classical one,
    whose answer on the synthetic scene is known (the learned one, the default, is
    tested in tests/nets/test_damage_net.py and on the bench)."""
    from colorizer_gui.gui import workers

    monkeypatch.setattr(workers, "repair_detector", lambda: None)


def test_the_window_repairs_with_the_command_lines_default_detector(monkeypatch):
    from colorizer_gui.gui import workers
    from colorizer_gui.nets import detector_choice

    monkeypatch.undo()  # the real choice, not the fixture's
    assert workers.repair_detector() is detector_choice.choose_detector("auto")


@pytest.fixture
def xdotool():
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (apt-get install xdotool)")


def test_repair_toggle_overlay_brush_undo_and_save(make_app, tmp_path, xdotool):
    from colorizer_gui.core.photo import load_photo
    from colorizer_gui.core.provenance import read_provenance
    from colorizer_gui.core.repair.edits import edits_for
    from colorizer_gui.core.sidecar import sidecar_beside
    from colorizer_gui.gui import events as ev

    photo = _damaged(tmp_path / "scans")
    original = photo.read_bytes()
    app = make_app([str(photo.parent)], settings_dir=tmp_path / "settings")
    pump(app, lambda: app.shown.get("color") is not None, timeout=90, what="the preview")
    assert "overlay" not in app.shown
    screen, _canvas = _grab(app)
    if screen is not None:
        SHOT_DIR.mkdir(parents=True, exist_ok=True)
        screen.save(SHOT_DIR / "gui_repair_start.png")
    scratch_at = (240, _scratch_y(240))
    blot_at = ((BLOT[0] + BLOT[2]) // 2, (BLOT[1] + BLOT[3]) // 2)

    # The Repair toggle (a real click): the preview is repaired, the damage shown in red.
    shown = app.shown.get("color")
    _click_widget(app, ev.K_REPAIR)
    pump(app, lambda: app.repair.on, what="the Repair toggle")
    _repainted(app, None)
    assert app.shown["color"] is not shown
    repaired = np.asarray(app.shown["original"].convert("L")).astype(int)
    source = np.asarray(app.shown["source"].convert("L")).astype(int)
    overlay = np.asarray(app.shown["overlay"]).astype(int)
    assert source[scratch_at[1], scratch_at[0]] > 200 and repaired[scratch_at[1] - 1:scratch_at[1] + 2,
                                                                   scratch_at[0]].max() < 200, "the scratch is filled"
    red = overlay[scratch_at[1], scratch_at[0]]
    assert red[0] > red[1] + 60, "the scratch is marked red"
    assert repaired[blot_at[1], blot_at[0]] < 60, "the detector leaves the blot"
    assert "% painted out" in app.window[ev.K_CAPTION].get()
    screen, canvas = _grab(app)
    if canvas is not None:
        assert _redness(app, canvas, scratch_at) > 50, "the screen shows the scratch red"
    # Show damage off: the screen shows the repaired photo, no red.
    _click_widget(app, ev.K_REPAIR_SHOW)
    pump(app, lambda: not app.repair.show_damage, what="Show damage off")
    if canvas is not None:
        assert _redness(app, _grab(app)[1], scratch_at) < 15, "the repaired photo, not red"
    _click_widget(app, ev.K_REPAIR_SHOW)
    pump(app, lambda: app.repair.show_damage, what="Show damage on")

    # Add damage: a real drag over the blot; it is painted out, and saved in the sidecar.
    _click_widget(app, (ev.K_REPAIR_BRUSH, "add"))
    pump(app, lambda: app.repair.mode == "add", what="the Add damage brush")
    app.settings.repair_brush = 3.0  # % of the short side: 11 px, the blot is 30 px
    before = app.shown["overlay"]
    _drag(app, [(BLOT[0] + 4, blot_at[1] - 8), (BLOT[2] - 4, blot_at[1] - 8), (BLOT[2] - 4, blot_at[1] + 8),
                (BLOT[0] + 4, blot_at[1] + 8)])
    _repainted(app, before)
    assert edits_for(photo).strokes[0].mode == "add"
    repaired = np.asarray(app.shown["original"].convert("L")).astype(int)
    assert repaired[blot_at[1], blot_at[0]] > 60, "the brushed blot is painted out in the preview"

    # Remove damage: a drag across the scratch keeps it there.
    _click_widget(app, (ev.K_REPAIR_BRUSH, "remove"))
    pump(app, lambda: app.repair.mode == "remove", what="the Remove damage brush")
    app.settings.repair_brush = 2.0
    before = app.shown["overlay"]
    _drag(app, [(220, _scratch_y(220) - 10), (240, _scratch_y(240)), (260, _scratch_y(260) + 10)])
    _repainted(app, before)
    assert [s.mode for s in edits_for(photo).strokes] == ["add", "remove"]
    repaired = np.asarray(app.shown["original"].convert("L")).astype(int)
    assert repaired[scratch_at[1], scratch_at[0]] > 200, "the scratch is kept where the brush removed it"
    screen, canvas = _grab(app)
    if screen is not None:
        SHOT_DIR.mkdir(parents=True, exist_ok=True)
        screen.save(SHOT_DIR / "gui_repair.png")

    # Undo and redo (real keys) take the removal back and forth, saved at once.
    root = app.window.TKroot
    root.focus_force()
    pump(app, lambda: root.focus_get() is not None, timeout=5, what="keyboard focus")
    before = app.shown["overlay"]
    _xdotool("key", "--clearmodifiers", "ctrl+z")
    pump(app, lambda: len(edits_for(photo).strokes) == 1, what="Ctrl+Z")
    _repainted(app, before)
    assert np.asarray(app.shown["original"].convert("L"))[scratch_at[1], scratch_at[0]] < 200
    before = app.shown["overlay"]
    _xdotool("key", "--clearmodifiers", "ctrl+y")
    pump(app, lambda: len(edits_for(photo).strokes) == 2, what="Ctrl+Y")
    _repainted(app, before)
    doc = json.loads(sidecar_beside(photo).read_text(encoding="utf-8"))
    assert doc["version"] == 1 and doc["hints"] == [] and len(doc["repair"]["strokes"]) == 2

    # Save: the full-size copy is repaired with the brush (blot filled, scratch kept where removed).
    app.save(False)
    pump(app, lambda: app.rows[app.current].dest, timeout=90, what="the save")
    dest = Path(app.rows[app.current].dest)
    copy = load_photo(dest).pixels.astype(int).mean(axis=2)
    assert copy[blot_at[1], blot_at[0]] > 60, "the blot added with the brush is filled in the copy"
    assert copy[scratch_at[1], scratch_at[0]] > 180, "the scratch removed with the brush is kept"
    x = 80
    assert copy[_scratch_y(x) - 1:_scratch_y(x) + 2, x].max() < 200, "the rest of the scratch is filled"
    assert "repaired" in json.dumps(read_provenance(dest)).lower()
    assert photo.read_bytes() == original, "the original is never written"

    # Opened again: the strokes come back from the sidecar; Repair starts off.
    app.close()
    again = make_app([str(photo.parent)], settings_dir=tmp_path / "settings")
    pump(again, lambda: again.shown.get("original") is not None, timeout=90, what="the preview")
    assert not again.repair.on and again.repair.editor_for(again.current).count == 2


def test_a_hostile_sidecar_gets_a_message_and_the_window_goes_on(make_app, tmp_path):
    from colorizer_gui.core.sidecar import sidecar_beside
    from colorizer_gui.gui import events as ev

    photo = _damaged(tmp_path / "scans")
    sidecar_beside(photo).write_text(json.dumps(
        {"version": 1, "hints": [], "repair": {"strokes": [{"mode": "add", "radius": float("1e300"),
                                                            "points": [[0.5, 0.5]] * 3}]}}))
    app = make_app([str(photo.parent)], settings_dir=tmp_path / "settings")
    pump(app, lambda: app.shown.get("color") is not None, timeout=90, what="the preview")
    app.window[ev.K_REPAIR].update(value=True)
    app.window.write_event_value(ev.K_REPAIR, True)
    pump(app, lambda: app.shown.get("overlay") is not None and not app.job_running(ev.PREVIEW),
         timeout=60, what="the repaired preview")
    assert "radius must be from" in app.status_text and "were not loaded" in app.status_text
    assert len(app.status_text.splitlines()) == 1
    # Save still works (the core says the strokes were left out).
    app.save(False)
    pump(app, lambda: app.rows[app.current].dest, timeout=90, what="the save")
    assert Path(app.rows[app.current].dest).is_file()


def test_sensitivity_restore_contrast_the_100_view_and_colorize_all_repair(make_app, tmp_path):
    from colorizer_gui.core.photo import load_photo
    from colorizer_gui.core.provenance import read_provenance
    from colorizer_gui.gui import events as ev

    photo = _damaged(tmp_path / "scans")
    # A faded second print: the tones squeezed into 100..160.
    faded = photo.parent / "faded.png"
    pixels = np.asarray(Image.open(photo)).astype(np.float32)
    Image.fromarray((100 + pixels * 60 / 255).astype(np.uint8)).save(faded)
    app = make_app([str(photo.parent)], settings_dir=tmp_path / "settings")
    pump(app, lambda: len(app.rows) == 2 and app.shown.get("color") is not None, timeout=90, what="the preview")
    app.window[ev.K_REPAIR].update(value=True)
    app.window.write_event_value(ev.K_REPAIR, True)
    _repainted(app, None)
    found = app.shown["damage"]
    # More sensitivity finds at least as much; less finds less (the preview repaints once the slider rests).
    for value, more in ((1.0, True), (0.0, False)):
        before = app.shown["overlay"]
        app.window[ev.K_REPAIR_SENSITIVITY].update(value=value)
        app.window.write_event_value(ev.K_REPAIR_SENSITIVITY, value)
        _repainted(app, before)
        assert (app.shown["damage"] >= found) if more else (app.shown["damage"] < found), (value, app.shown["damage"])
    assert app.settings.repair_sensitivity == 0.0
    app.window.write_event_value(ev.K_REPAIR_SENSITIVITY, 0.5)
    # Restore contrast, shown in the preview: the faded print's tones are stretched.
    app.photos.select(str(faded))
    pump(app, lambda: app.shown.get("path") == str(faded) and app.shown.get("overlay") is not None
         and not app.job_running(ev.PREVIEW), timeout=60, what="the faded print's preview")
    spread = float(np.ptp(np.percentile(np.asarray(app.shown["original"].convert("L")), (1, 99))))
    before = app.shown["overlay"]
    app.window[ev.K_REPAIR_CONTRAST].update(value=True)
    app.window.write_event_value(ev.K_REPAIR_CONTRAST, True)
    pump(app, lambda: app.repair.restore_contrast, what="Restore contrast")
    _repainted(app, before)
    stretched = float(np.ptp(np.percentile(np.asarray(app.shown["original"].convert("L")), (1, 99))))
    assert stretched > spread + 60, (spread, stretched)
    app.window[ev.K_REPAIR_CONTRAST].update(value=False)
    app.window.write_event_value(ev.K_REPAIR_CONTRAST, False)
    pump(app, lambda: not app.repair.restore_contrast, what="Restore contrast off")
    # The 100% view is repaired at full size too, its overlay on the photo as it is.
    app.photos.select(str(photo))
    app.window[(ev.K_VIEW, "zoom")].update(value=True)
    app.window.write_event_value((ev.K_VIEW, "zoom"), True)
    pump(app, lambda: app.preview.full.get("path") == str(photo) and "overlay" in app.preview.full,
         timeout=90, what="the repaired 100% view")
    app.preview.zoom_centre = (0.5, _scratch_y(240) / SIZE[1])
    app.preview.draw()
    screen, _canvas = _grab(app)
    if screen is not None:
        SHOT_DIR.mkdir(parents=True, exist_ok=True)
        screen.save(SHOT_DIR / "gui_repair_100.png")
    full = np.asarray(app.preview.full["original"].convert("L")).astype(int)
    x = 240
    assert full[_scratch_y(x) - 1:_scratch_y(x) + 2, x].max() < 200
    # Colorize all repairs every photo (the copies say so).
    app.colorize_all()
    pump(app, lambda: app.last_summary is not None, timeout=120, what="the batch")
    assert len(app.last_result.done) == 2, app.last_summary
    for src, dest in app.last_result.done:
        assert "repaired" in json.dumps(read_provenance(Path(dest))).lower()
        if Path(src) == photo:
            copy = load_photo(Path(dest)).pixels.astype(int).mean(axis=2)
            assert copy[_scratch_y(x) - 1:_scratch_y(x) + 2, x].max() < 200, "the batch copy is repaired"


def test_the_brush_and_the_color_hints_share_the_mouse_and_ctrl_z(make_app, tmp_path):
    from colorizer_gui.core.hints import hints_for
    from colorizer_gui.core.repair.edits import edits_for
    from colorizer_gui.gui import events as ev

    photo = _damaged(tmp_path / "scans")
    app = make_app([str(photo.parent)], settings_dir=tmp_path / "settings")
    pump(app, lambda: app.shown.get("color") is not None, timeout=90, what="the preview")
    app.window.write_event_value(ev.K_HINTS, True)
    app.window.write_event_value(ev.K_REPAIR, True)
    pump(app, lambda: app.hints.on and app.repair.on, what="both tools")
    _repainted(app, None)

    def click(photo_point):
        spot = app.preview.to_canvas(photo_point)[0]
        app.window.write_event_value(ev.K_CANVAS, (int(spot[0]), int(spot[1])))
        app.window.write_event_value(ev.CANVAS_UP, None)

    click((0.2, 0.8))  # the brush is off: the click is a colour hint
    pump(app, lambda: len(app.hints.hints) == 1, what="the hint")
    app.window.write_event_value((ev.K_REPAIR_BRUSH, "add"), True)
    pump(app, lambda: app.repair.brushing, what="the brush")
    click((0.7, 0.2))  # the brush is on: the click paints
    pump(app, lambda: edits_for(photo) is not None, what="the stroke")
    assert len(app.hints.hints) == 1
    app.window.write_event_value(ev.SHORT_UNDO, None)  # Ctrl+Z undoes the stroke, not the hint
    pump(app, lambda: edits_for(photo) is None, what="the stroke undone")
    assert len(hints_for(photo)[0]) == 1
    app.window.write_event_value((ev.K_REPAIR_BRUSH, "look"), True)
    pump(app, lambda: not app.repair.brushing, what="the brush off")
    app.window.write_event_value(ev.SHORT_UNDO, None)  # now it is the hints'
    pump(app, lambda: not app.hints.hints, what="the hint undone")
    app.window.write_event_value(ev.SHORT_REDO, None)
    pump(app, lambda: len(app.hints.hints) == 1, what="the hint redone")
    assert edits_for(photo) is None
