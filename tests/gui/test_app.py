"""The real desktop window on a virtual screen (Xvfb, started here).

Each test builds the real ``App`` (real PySimpleGUI/Tk window, real tkdnd, real
workers, the real core and a tiny real cGAN model file) and drives it by calling
``step()`` — the same event loop ``main()`` runs — plus the handlers a click or a
drop calls.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

from conftest import GUI_SCREEN

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
#: The virtual screen (conftest.py starts it once per session): a small but common one.
SCREEN = GUI_SCREEN


@pytest.fixture
def tiny_model(isolated_user_dirs):
    """A tiny real cGAN generator installed as the user's default model."""
    from tiny_cgan import make_tiny_generator_file

    from colorizer_gui.core import model_store, paths

    return make_tiny_generator_file(paths.user_weights_dir() / model_store.CGAN_DEFAULT_NAME)


def _grey(path: Path, seed: int, size=(96, 72)) -> Path:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(30, 220, size[0])[None, :] * np.ones((size[1], 1))
    Image.fromarray((ramp + rng.normal(0, 10, (size[1], size[0]))).clip(0, 255).astype(np.uint8)).save(path)
    return path


def _color_photos(folder: Path, count: int = 8) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        img = np.zeros((96, 96, 3), np.uint8)
        img[..., 0] = rng.integers(0, 255)
        img[..., 1] = np.linspace(0, 255, 96)[None, :]
        img[..., 2] = rng.integers(0, 255, (96, 96))
        Image.fromarray(img).save(folder / f"c{i}.png")
    return folder


def _grey_folder(folder: Path, count: int, prefix: str) -> Path:
    """``count`` grey 480x360 scans named ``<prefix>00.png``..."""
    folder.mkdir()
    for i in range(count):
        _grey(folder / f"{prefix}{i:02d}.png", i, size=(480, 360))
    return folder


def _previewing(make_app, tmp_path: Path, size: tuple[int, int]):
    """An app opened on one grey photo of ``size``, once its colorized preview is shown."""
    folder = tmp_path / "scans"
    folder.mkdir()
    _grey(folder / "photo.png", 1, size=size)
    app = make_app([str(folder)])
    pump(app, lambda: app.shown.get("color") is not None, what="the preview")
    return app


def _choose_training_folder(app, dialog, folder: Path) -> None:
    """Type a folder into the fine-tune dialog, as a user would, and wait for its photo count."""
    dialog.window["-FOLDER-"].update(str(folder))
    dialog.window.write_event_value("-FOLDER-", str(folder))
    pump(app, lambda: dialog.image_count is not None, what="the photo count")


@pytest.fixture
def photo_folder(tmp_path) -> Path:
    """Three grey scans, one photo already in colour and one broken file."""
    folder = tmp_path / "Family scans"
    folder.mkdir()
    for i in range(3):
        _grey(folder / f"scan {i}.jpg", i)
    color = np.zeros((60, 80, 3), np.uint8)
    color[..., 0], color[..., 1], color[..., 2] = 200, np.linspace(0, 255, 80)[None, :], 40
    Image.fromarray(color).save(folder / "holiday colour.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    return folder


@pytest.fixture
def make_app(xvfb_display, isolated_user_dirs, monkeypatch):
    """Build App instances and close whatever a test leaves open."""
    monkeypatch.setenv("COLORIZER_NO_OPEN", "1")
    from colorizer_gui.gui.app import App

    made = []

    def build(argv=(), settings_dir=None):
        app = App(list(argv), settings_dir=settings_dir)
        made.append(app)
        return app

    yield build
    for app in made:
        app.close()


def pump(app, until: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Run the real event loop until ``until()`` holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.step(50)
        if until():
            return
    raise AssertionError(f"timed out waiting for {what or until}; status: {app.status_text!r}")


def checked(app) -> bool:
    """True once the app knows which methods can run (checked in a worker)."""
    return not app.models.checking


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_open_folder_from_command_line_then_colorize_all(make_app, tiny_model, photo_folder):
    before = _digest(photo_folder)
    app = make_app([str(photo_folder)])
    pump(app, lambda: len(app.rows) == 5, what="the photo list")
    names = {Path(p).name: row for p, row in app.rows.items()}
    # The list tells the user what each file is before anything runs.
    pump(app, lambda: names["broken.jpg"].status.startswith("cannot open")
         and names["holiday colour.png"].status == "color", what="thumbnails and checks")
    # The first photo is previewed side by side: original and colorized.
    pump(app, lambda: app.shown.get("color") is not None, what="the preview")
    assert app.shown["original"].size == app.shown["color"].size

    app.colorize_all()
    assert app.busy()
    pump(app, lambda: app.last_summary is not None, timeout=60, what="the batch")
    out = photo_folder / "colorized"
    written = sorted(p.name for p in out.iterdir() if p.name != ".colorizer-copies")  # Colorizer's list
    assert written == [f"scan {i}_color.jpg" for i in range(3)]
    for i in range(3):
        row = names[f"scan {i}.jpg"]
        assert row.status == "done" and Path(row.dest) == out / f"scan {i}_color.jpg"
        with Image.open(out / f"scan {i}_color.jpg") as im:
            assert im.size == (96, 72) and im.mode == "RGB"
    assert names["broken.jpg"].status.startswith("failed:")
    assert "already in colour" in names["holiday colour.png"].status
    assert "Colorized 3 of 5" in app.last_summary
    assert app.dialogs, "a summary window is shown at the end"
    assert _digest(photo_folder) == before, "originals are never modified"
    assert not app.busy()


def test_cancel_mid_batch_keeps_only_whole_files(make_app, tiny_model, tmp_path):
    folder = _grey_folder(tmp_path / "many", 40, "p")
    app = make_app([str(folder)])
    pump(app, lambda: len(app.rows) == 40, what="the photo list")
    app.colorize_all()
    pump(app, lambda: any(r.status == "done" for r in app.rows.values()), timeout=60, what="a first photo")
    app.cancel()
    pump(app, lambda: app.last_summary is not None, timeout=60, what="the cancelled batch")
    result = app.last_result
    assert result.cancelled
    assert 0 < len(result.done) < 40
    assert "Stopped by the user" in app.last_summary
    out = folder / "colorized"
    assert sorted(p.name for p in out.iterdir() if p.name != ".colorizer-copies") == sorted(
        Path(d).name for _s, d in result.done)
    done_rows = [r for r in app.rows.values() if r.status == "done"]
    assert len(done_rows) == len(result.done)
    assert all(r.status in ("done", "ready") for r in app.rows.values())
    # The window is usable again: a second run can start.
    assert not app.busy()
    assert not app.window["-COLORIZE-ALL-"].Disabled


def test_drop_handler_opens_a_dropped_folder(make_app, tiny_model, photo_folder):
    from colorizer_gui.gui import dnd

    app = make_app()
    assert app.dnd_ok, "tkdnd should load into the Tk root"
    assert not app.rows
    # What tkdnd hands over for a folder whose name has a space: a braced Tcl list.
    found = dnd.handle_drop(app.window, "{%s}" % photo_folder)
    assert found == [photo_folder]
    pump(app, lambda: len(app.rows) == 5, what="the dropped folder's photos")
    assert app.settings.last_folder == str(photo_folder)


def test_drop_data_parsing():
    from colorizer_gui.gui.dnd import parse_drop_data

    assert parse_drop_data("{/a b/c d.jpg} /e/f.png {/g}") == [Path("/a b/c d.jpg"), Path("/e/f.png"), Path("/g")]
    assert parse_drop_data("file:///x%20y/z.jpg") == [Path("/x y/z.jpg")]
    assert parse_drop_data("") == []


@pytest.mark.parametrize("name", ["we}ird.jpg", "we{ird.jpg", "a b/we}ird.jpg", "{a b}.jpg", "back\\slash x.jpg",
                                  "x} {y.jpg"])
def test_dropped_names_with_braces_are_never_split(tmp_path, name):
    import tkinter

    from colorizer_gui.gui.dnd import parse_drop_data, split_tcl_list

    photo = tmp_path / name
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"x")
    other = tmp_path / "other one.png"
    other.write_bytes(b"x")
    tcl = tkinter.Tcl()  # the list exactly as tkdnd's Tcl side builds it
    tcl.setvar("a", str(photo))
    tcl.setvar("b", str(other))
    as_tcl_list = tcl.eval("list $a $b")
    naive = "{%s} {%s}" % (photo, other)  # tkdnd builds that wrap names in braces unescaped
    for data in (as_tcl_list, naive):
        assert parse_drop_data(data) == [photo, other], data
        assert parse_drop_data(data, tcl.splitlist) == [photo, other], data
    assert split_tcl_list(as_tcl_list) == list(tcl.splitlist(as_tcl_list))


def test_settings_persist_across_two_launches(make_app, tiny_model, photo_folder, tmp_path):
    from colorizer_gui.gui import events as ev

    settings_dir = tmp_path / "settings"
    first = make_app([str(photo_folder)], settings_dir=settings_dir)
    pump(first, lambda: len(first.rows) == 5, what="the photo list")
    first.window[ev.K_SATURATION].update(1.45)
    first.window[ev.K_RENDER].update("384")
    first.window[ev.K_OUTDIR].update(str(tmp_path / "out"))
    first.window[(ev.K_VIEW, "compare")].update(value=True)
    # Any event makes the loop read the controls, as a click would.
    first.window.write_event_value(("ui", "poke"), None)
    pump(first, lambda: first.settings.render_size == "384", what="the controls to be read")
    first.close()
    assert (settings_dir / "gui-settings.json").is_file()

    second = make_app([], settings_dir=settings_dir)
    pump(second, lambda: second.ready)
    values = second.window.read(timeout=10)[1]
    assert values[ev.K_SATURATION] == pytest.approx(1.45)
    assert values[ev.K_RENDER] == "384"
    assert values[ev.K_OUTDIR] == str(tmp_path / "out")
    assert values[(ev.K_VIEW, "compare")] is True
    assert values[ev.K_BACKEND] == "cgan"
    assert second.settings.last_folder == str(photo_folder)


def test_a_damaged_settings_file_gives_defaults(make_app, tmp_path):
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    (settings_dir / "gui-settings.json").write_text("{ not json", encoding="utf-8")
    app = make_app([], settings_dir=settings_dir)
    pump(app, lambda: app.ready)
    assert app.settings.saturation == 1.0


def test_without_any_model_the_window_says_how_to_get_one(no_bundled_weights, make_app, photo_folder):
    from colorizer_gui.gui import events as ev

    app = make_app([str(photo_folder)])
    pump(app, lambda: len(app.rows) == 5 and checked(app), what="the photo list and the methods check")
    assert app.settings.backend == "cgan"
    why = app.window[ev.K_BACKEND_WHY].get()
    assert "Models" in why
    app.colorize_all()
    assert not app.busy()
    assert "Cannot colorize" in app.status_text
    assert not (photo_folder / "colorized").exists()


def test_save_never_overwrites(make_app, tiny_model, photo_folder):
    app = make_app([str(photo_folder)])
    pump(app, lambda: app.current is not None and app.shown.get("color") is not None, what="the preview")
    current = Path(app.current)
    app.save(ask=False)
    pump(app, lambda: app.rows[app.current].dest is not None, what="the first save")
    first = Path(app.rows[app.current].dest)
    app.rows[app.current].dest = None
    app.save(ask=False)
    pump(app, lambda: app.rows[app.current].dest is not None, what="the second save")
    second = Path(app.rows[app.current].dest)
    assert first != second and first.is_file() and second.is_file()
    assert first.parent == current.parent / "colorized"


def test_window_lists_previews_and_saves_a_255_byte_name(make_app, tiny_model, tmp_path):
    from colorizer_gui.core.filenames import name_bytes
    from colorizer_gui.gui import events as ev

    folder = tmp_path / "album"
    folder.mkdir()
    name = "照" * 83 + "xy.png"  # 255 UTF-8 bytes
    photo = _grey(folder / name, 3)
    app = make_app([str(folder)])
    pump(app, lambda: app.current is not None and app.shown.get("color") is not None, what="the preview")
    label = app.photos.row_name(app.current)
    assert label.startswith("照") and label.endswith(".png") and "\u2026" in label  # start and end kept
    assert name in app.window[ev.K_CAPTION].get()  # the whole name under the preview
    assert app.rows[app.current].status != "error"
    app.save(ask=False)
    pump(app, lambda: app.rows[app.current].dest is not None, what="the save")
    saved = Path(app.rows[app.current].dest)
    assert saved.is_file() and saved.parent == folder / "colorized" and name_bytes(saved.name) <= 255
    assert photo.is_file()


def test_finetune_dialog_runs_a_tiny_job_to_the_end(make_app, tiny_model, tmp_path):
    from colorizer_gui.core import model_store

    data = _color_photos(tmp_path / "my colour photos")
    app = make_app()
    app.open_finetune()
    dialog = app.finetune
    # Before a folder is picked the dialog says how to get an estimate, not a made-up time.
    assert "Pick a folder" in dialog.window["-ESTIMATE-"].get()
    assert not dialog.window["-START-"].Widget.cget("state") == "normal"
    _choose_training_folder(app, dialog, data)
    assert dialog.image_count == 8
    estimate = dialog.window["-ESTIMATE-"].get()
    assert "Estimated time" in estimate and "for 8 photos" in estimate
    assert "estimate" in estimate.lower().split("estimated time", 1)[1], "says it is only an estimate"
    dialog.overrides = {"size": 64, "l1_epochs": 1, "gan_epochs": 0, "init": "imagenet", "batch_size": 4}
    dialog.start(resume=False)
    assert dialog.command(False)[:4] == [sys.executable, "-m", "colorizer_gui", "train"]
    pump(app, lambda: dialog.outcome is not None, timeout=120, what="the training run")
    assert dialog.outcome == "done", dialog.window["-METRICS-"].get()
    assert dialog.finished_model is not None and dialog.finished_model.is_file()
    assert dialog.last_event is not None and dialog.last_event.stage == "done"
    # The previous default stays until the user says to use the new model.
    assert model_store.resolve_cgan_weights() == tiny_model
    dialog.use_model(make_default=True)  # copies the file in a worker
    pump(app, lambda: dialog.used_model is not None and checked(app), what="the model to be installed")
    installed = dialog.used_model
    assert installed.parent == tiny_model.parent
    assert model_store.resolve_cgan_weights() == installed
    assert app.backends["cgan"][0]


def test_importing_the_app_does_not_import_torch():
    code = "import sys, colorizer_gui.gui.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_import_model_menu_worker_installs_a_model_and_refuses_junk(no_bundled_weights, make_app, tmp_path):
    from tiny_cgan import make_tiny_generator_file

    from colorizer_gui.core import model_store
    from colorizer_gui.gui import events as ev, workers

    app = make_app()
    pump(app, lambda: checked(app), what="the methods check")
    assert not app.backends["cgan"][0]
    junk = tmp_path / "model.pth"
    junk.write_bytes(b"\x80\x04 pickled things")
    app.set_status("")
    app.start_job(ev.IMPORT, workers.import_model, str(junk))
    pump(app, lambda: "Import failed" in app.status_text, what="the refusal")
    assert ".safetensors" in app.status_text
    good = make_tiny_generator_file(tmp_path / "my model.safetensors")
    app.start_job(ev.IMPORT, workers.import_model, str(good))
    pump(app, lambda: "Model imported" in app.status_text, what="the import")
    assert "It is now the default cGAN model" in app.status_text
    pump(app, lambda: checked(app), what="the methods check after the import")
    assert [p.name for _w, p in model_store.list_weight_files()] == ["my model.safetensors"]
    # The first cGAN model brought in becomes the one the method uses.
    assert app.backends["cgan"][0]
    assert model_store.resolve_cgan_weights().name == "my model.safetensors"


def _box(app, key):
    w = app.window[key].Widget
    return w.winfo_rootx(), w.winfo_rooty(), w.winfo_width(), w.winfo_height()


def test_window_fits_a_1024x720_screen_and_the_preview_follows_its_size(make_app, tiny_model, tmp_path):
    from colorizer_gui.gui import events as ev
    from colorizer_gui.gui.settings import Settings, save_settings

    photo_folder = tmp_path / "big scan"
    photo_folder.mkdir()
    _grey(photo_folder / "tall.png", 1, size=(240, 1500))  # a tall strip: its height fills the preview

    # Last time the window was made huge (e.g. on a big monitor): it must still fit this screen.
    settings_dir = tmp_path / "settings"
    save_settings(Settings(window_size=(2400, 1500)), settings_dir)
    app = make_app([str(photo_folder)], settings_dir=settings_dir)
    pump(app, lambda: app.shown.get("color") is not None, what="the preview")
    # The Settings column at its tallest: the methods checked and the device found
    # (each says so in a line or two); the layout must fit with them.
    pump(app, lambda: checked(app) and "Looking" not in app.window[ev.K_DEVICE_FOUND].get(), what="the checks")
    app.step(100)
    root = app.window.TKroot
    assert (root.winfo_screenwidth(), root.winfo_screenheight()) == SCREEN
    assert 0 <= root.winfo_rootx() and root.winfo_rootx() + root.winfo_width() <= SCREEN[0]
    assert 0 <= root.winfo_rooty() and root.winfo_rooty() + root.winfo_height() <= SCREEN[1]
    for key in (ev.K_COLORIZE_ALL, ev.K_CANCEL, ev.K_SAVE, ev.K_STATUS, ev.K_RECOLOR, ev.K_OUTDIR_BROWSE):
        x, y, w, h = _box(app, key)
        assert app.window[key].Widget.winfo_ismapped(), key
        assert w > 20 and h > 10, (key, w, h)
        assert 0 <= x and x + w <= SCREEN[0] and 0 <= y and y + h <= SCREEN[1], (key, (x, y, w, h))
        # Inside the window too (not clipped by it).
        assert x + w <= root.winfo_rootx() + root.winfo_width() and y + h <= root.winfo_rooty() + root.winfo_height()
    # The long "no model" style texts wrap inside the Settings column instead of running off.
    why = app.window[ev.K_BACKEND_WHY].Widget
    assert 0 < int(why.cget("wraplength")) <= why.winfo_width() + 4
    # Growing or shrinking the window resizes the preview, and the photo is redrawn to the new size.
    before = app.canvas_size
    root.geometry(f"{root.winfo_width()}x{SCREEN[1] - 10}+0+0")
    pump(app, lambda: app.canvas_size[1] > before[1] + 30, timeout=10, what="the preview to grow")
    canvas = app.window[ev.K_CANVAS].Widget
    assert app.canvas_size == (canvas.winfo_width(), canvas.winfo_height())
    images = [canvas.bbox(item) for item in canvas.find_all() if canvas.type(item) == "image"]
    assert len(images) == 2, "original and colorized, side by side"
    assert max(b[2] for b in images) <= app.canvas_size[0] and max(b[3] for b in images) <= app.canvas_size[1]
    assert max(b[3] - b[1] for b in images) > before[1] - 10, "the photos were redrawn larger"


def test_summary_is_a_dialog_centred_over_the_main_window(make_app, tiny_model, photo_folder):
    app = make_app([str(photo_folder)])
    pump(app, lambda: len(app.rows) == 5, what="the photo list")
    app.colorize_all()
    pump(app, lambda: app.last_summary is not None and app.dialogs, timeout=60, what="the summary")
    dialog = next(iter(app.dialogs))
    pump(app, lambda: dialog.TKroot.winfo_ismapped(), timeout=5, what="the dialog to show")
    d, m = dialog.TKroot, app.window.TKroot
    assert int(d.cget("highlightthickness")) >= 1, "a visible border even without a window manager"
    titles = [e.get() for row in dialog.Rows for e in row if hasattr(e, "DisplayText")]
    assert "Colorizing finished" in titles
    centre_d = (d.winfo_rootx() + d.winfo_width() / 2, d.winfo_rooty() + d.winfo_height() / 2)
    centre_m = (m.winfo_rootx() + m.winfo_width() / 2, m.winfo_rooty() + m.winfo_height() / 2)
    assert abs(centre_d[0] - centre_m[0]) < 30 and abs(centre_d[1] - centre_m[1]) < 30, (centre_d, centre_m)


def test_colorize_asked_for_during_the_methods_check_starts_when_it_ends(make_app, tiny_model, photo_folder):
    """A user who clicks Colorize before the app knows its methods gets the batch, not a "try again"."""
    app = make_app([str(photo_folder)])
    pump(app, lambda: len(app.rows) == 5 and checked(app), what="the photo list and the methods check")
    app.models.check()  # the check runs again (as after installing a model)
    assert app.models.checking
    app.colorize_all()
    assert "as soon as the check" in app.status_text
    pump(app, lambda: app.last_summary is not None, timeout=60, what="the waiting batch to run")
    assert sorted(p.name for p in (photo_folder / "colorized").glob("*.jpg")) == [
        "scan 0_color.jpg", "scan 1_color.jpg", "scan 2_color.jpg"]


def _xdotool_key(keys: str) -> None:
    subprocess.run(["xdotool", "key", "--clearmodifiers", keys], check=True, timeout=10, env=dict(os.environ))


def test_keyboard_ctrl_enter_colorizes_the_selected_photo_and_escape_cancels(make_app, tiny_model, tmp_path):
    """Real key presses on the real window (xdotool on the virtual screen)."""
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (apt-get install xdotool)")
    folder = _grey_folder(tmp_path / "keys", 30, "k")
    app = make_app([str(folder)])
    pump(app, lambda: len(app.rows) == 30, what="the photo list")
    chosen = str(folder / "k03.png")
    app.window["-FILES-"].update(select_node_keys=[chosen])
    pump(app, lambda: app.current == chosen and app.selected() == [chosen], what="the selection")

    def press(keys: str, window=None) -> None:
        root = (window or app.window).TKroot
        root.focus_force()
        pump(app, lambda: root.focus_get() is not None, timeout=5, what="keyboard focus")
        _xdotool_key(keys)

    press("ctrl+Return")
    pump(app, lambda: app.last_summary is not None, timeout=60, what="Ctrl+Enter to colorize")
    assert app.rows[chosen].status == "done"
    assert sorted(p.name for p in (folder / "colorized").iterdir()) == [".colorizer-copies", "k03_color.png"]
    assert all(r.status == "ready" for p, r in app.rows.items() if p != chosen), "only the selected photo"
    # Escape closes the summary dialog (which took the keyboard focus when it opened)...
    assert app.dialogs
    dialog = next(iter(app.dialogs))
    focus = dialog.TKroot.focus_get()
    assert focus is not None and focus.winfo_toplevel() == dialog.TKroot
    press("Escape", dialog)
    pump(app, lambda: not app.dialogs, timeout=10, what="Escape to close the summary")
    # ...and cancels a running batch.
    app.last_summary = None
    app.colorize_all()
    pump(app, lambda: sum(r.status == "done" for r in app.rows.values()) >= 2, timeout=60, what="the batch")
    press("Escape")
    pump(app, lambda: app.last_summary is not None, timeout=60, what="Escape to cancel")
    assert app.last_result.cancelled
    assert len(app.last_result.done) < 29
    assert not app.busy()


def test_window_size_arithmetic_fits_common_screens():
    from colorizer_gui.gui.geometry import centre_over, fit_window

    # The remembered 1250x740 on a 1366x768 laptop: at most 90% of the screen, centred.
    w, h, x, y = fit_window((1366, 768), (1250, 740))
    assert (w, h) == (1229, 691) and (x, y) == (68, 38)
    # A tiny remembered size is kept; a huge one is cut to the screen.
    assert fit_window((1280, 720), (900, 600))[:2] == (900, 600)
    assert fit_window((1280, 720), (5000, 5000))[:2] == (1152, 648)
    # Dialogs: centred over the main window, but never pushed off the screen.
    assert centre_over((100, 100, 800, 600), (400, 200), (1280, 720)) == (300, 300)
    assert centre_over((900, 500, 300, 200), (600, 400), (1280, 720)) == (680, 320)


#: An event only the tests post: its value is when it was posted, its route records how long it waited.
PROBE = ("test", "probe")


def install_probe(app) -> list[float]:
    """Route PROBE events to a list of their latencies (seconds from posting to handling)."""
    latencies: list[float] = []
    app.routes[PROBE] = lambda values: latencies.append(time.monotonic() - values[PROBE])
    return latencies


def test_closing_the_finetune_dialog_while_training_does_not_block_the_window(make_app, tiny_model, tmp_path):
    data = _color_photos(tmp_path / "colour photos")
    app = make_app()
    latencies = install_probe(app)
    app.open_finetune()
    dialog = app.finetune
    _choose_training_folder(app, dialog, data)
    assert dialog.image_count == 8
    # Long enough that it is still training when the dialog closes.
    dialog.overrides = {"size": 64, "l1_epochs": 200, "gan_epochs": 0, "init": "imagenet", "batch_size": 4}
    dialog.start(resume=False)
    process = dialog.process
    pump(app, lambda: dialog.last_event is not None, timeout=120, what="the trainer's first progress")
    assert process.running

    began = time.monotonic()
    dialog.window.write_event_value("-CLOSE-", None)
    pump(app, lambda: app.finetune is None, timeout=5, what="the dialog to close")
    assert time.monotonic() - began < 0.5, "closing the dialog must not wait for the trainer"
    app.window.write_event_value(PROBE, time.monotonic())
    pump(app, lambda: latencies, timeout=5, what="the main window to answer")
    assert latencies[0] < 0.5, latencies
    # The trainer is still told to stop (it keeps a checkpoint) and does exit.
    pump(app, lambda: not process.running, timeout=90, what="the trainer to exit")
    assert process.cancelled


def test_dragging_the_compare_slider_keeps_the_loop_responsive(make_app, tiny_model, tmp_path):
    from colorizer_gui.gui import events as ev
    from colorizer_gui.gui.preview import SLIDER_INTERVAL_S

    app = _previewing(make_app, tmp_path, (1600, 1200))
    app.window[(ev.K_VIEW, "compare")].update(value=True)
    app.window.write_event_value((ev.K_VIEW, "compare"), True)
    pump(app, lambda: app.settings.view == "compare", what="the compare view")
    latencies = install_probe(app)
    draws: list[float] = []
    draw = app.preview.draw
    app.preview.draw = lambda message="": (draws.append(time.monotonic()), draw(message))[1]

    # A fast drag: 100 slider moves reach the loop faster than it could paint each,
    # with a probe after every tenth; then the loop catches up.
    slider = app.window[ev.K_SPLIT]
    began = time.monotonic()
    for i in range(100):
        slider.update(i)
        app.window.write_event_value(ev.K_SPLIT, i)
        if i % 10 == 9:
            app.window.write_event_value(PROBE, time.monotonic())
    pump(app, lambda: len(latencies) == 10 and app.preview.redraw_due is None, timeout=10, what="the drag")
    elapsed = time.monotonic() - began
    print(f"slider drag: {len(draws)} paints in {elapsed:.3f} s, probe latencies up to {max(latencies):.3f} s")
    assert max(latencies) < 0.5, f"events waited up to {max(latencies):.3f} s behind the slider"
    # Throttled: at most one paint per interval (plus the last position), not one per move.
    assert 1 <= len(draws) <= elapsed / SLIDER_INTERVAL_S + 2, (len(draws), elapsed)
    gaps = [b - a for a, b in zip(draws, draws[1:])]
    assert all(gap >= SLIDER_INTERVAL_S * 0.9 for gap in gaps), gaps
    # The last position is the one shown: the divider sits at 99% of the photo's width.
    canvas = app.window[ev.K_CANVAS].Widget
    assert any(canvas.type(item) == "image" for item in canvas.find_all())
    assert app.window[ev.K_SPLIT].TKScale.get() == 99


def test_a_click_on_the_preview_opens_the_100_percent_view_at_that_point(make_app, tiny_model, tmp_path):
    from colorizer_gui.gui import events as ev
    from colorizer_gui.gui.geometry import side_boxes

    app = _previewing(make_app, tmp_path, (900, 600))
    assert app.settings.view == "side"
    # The photo point (0.25, 0.75) is drawn once on each side; a click on the right-hand one...
    left, right = app.preview.to_canvas((0.25, 0.75))
    assert left[0] < app.canvas_size[0] // 2 < right[0] and left[1] == right[1]
    app.window.write_event_value(ev.K_CANVAS, (int(right[0]), int(right[1])))
    pump(app, lambda: app.settings.view == "zoom", what="the 100% view")
    # ...centres the 100% view there, to within the canvas pixel the click landed on.
    box = side_boxes(app.shown["original"].size, app.canvas_size)[1]
    assert app.preview.zoom_centre == pytest.approx((0.25, 0.75), abs=1 / min(box.width, box.height))
    assert app.window[(ev.K_VIEW, "zoom")].get() is True
    pump(app, lambda: app.preview.full.get("path") == app.current, what="the full-size colorization")
    # In the 100% view the same photo point is in the middle of both panels.
    spots = app.preview.to_canvas(app.preview.zoom_centre)
    assert len(spots) == 2
