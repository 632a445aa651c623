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

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def xvfb_display():
    """Start Xvfb on a free display number for the whole session; set DISPLAY."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb): GUI tests need a virtual screen")
    old = os.environ.get("DISPLAY")
    for number in range(150, 250):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is None:
            os.environ["DISPLAY"] = f":{number}"
            yield f":{number}"
            proc.terminate()
            proc.wait(timeout=10)
            if old is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = old
            return
    pytest.fail("could not start Xvfb on any display number")


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


@pytest.fixture
def photo_folder(tmp_path) -> Path:
    """Three grey scans, one photo already in colour and one broken file."""
    folder = tmp_path / "Family scans"
    folder.mkdir()
    for i in range(3):
        _grey(folder / f"scan {i}.jpg", i)
    colour = np.zeros((60, 80, 3), np.uint8)
    colour[..., 0], colour[..., 1], colour[..., 2] = 200, np.linspace(0, 255, 80)[None, :], 40
    Image.fromarray(colour).save(folder / "holiday colour.png")
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


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_open_folder_from_command_line_then_colorize_all(make_app, tiny_model, photo_folder):
    before = _digest(photo_folder)
    app = make_app([str(photo_folder)])
    pump(app, lambda: len(app.rows) == 5, what="the photo list")
    names = {Path(p).name: row for p, row in app.rows.items()}
    # The list tells the user what each file is before anything runs.
    pump(app, lambda: names["broken.jpg"].status.startswith("cannot open")
         and names["holiday colour.png"].status == "colour", what="thumbnails and checks")
    # The first photo is previewed side by side: original and colorized.
    pump(app, lambda: app.shown.get("colour") is not None, what="the preview")
    assert app.shown["original"].size == app.shown["colour"].size

    app.colorize_all()
    assert app.busy()
    pump(app, lambda: app.last_summary is not None, timeout=60, what="the batch")
    out = photo_folder / "colorized"
    written = sorted(p.name for p in out.iterdir())
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
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        _grey(folder / f"p{i:02d}.png", i, size=(480, 360))
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
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(d).name for _s, d in result.done)
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


def test_without_any_model_the_window_says_how_to_get_one(make_app, photo_folder):
    from colorizer_gui.gui import events as ev

    app = make_app([str(photo_folder)])
    pump(app, lambda: len(app.rows) == 5, what="the photo list")
    assert app.settings.backend == "cgan"
    why = app.window[ev.K_BACKEND_WHY].get()
    assert "Models" in why
    app.colorize_all()
    assert not app.busy()
    assert "Cannot colorize" in app.status_text
    assert not (photo_folder / "colorized").exists()


def test_save_never_overwrites(make_app, tiny_model, photo_folder):
    app = make_app([str(photo_folder)])
    pump(app, lambda: app.current is not None and app.shown.get("colour") is not None, what="the preview")
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


def test_finetune_dialog_runs_a_tiny_job_to_the_end(make_app, tiny_model, tmp_path):
    from colorizer_gui.core import model_store

    data = tmp_path / "my colour photos"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        img = np.zeros((96, 96, 3), np.uint8)
        img[..., 0] = rng.integers(0, 255)
        img[..., 1] = np.linspace(0, 255, 96)[None, :]
        img[..., 2] = rng.integers(0, 255, (96, 96))
        Image.fromarray(img).save(data / f"c{i}.png")
    app = make_app()
    app.open_finetune()
    dialog = app.finetune
    dialog.window["-FOLDER-"].update(str(data))
    dialog.window.write_event_value("-FOLDER-", str(data))
    pump(app, lambda: dialog.image_count == 8, what="the photo count")
    assert "Estimated time" in dialog.window["-ESTIMATE-"].get()
    assert "estimate" in dialog.window["-ESTIMATE-"].get()
    dialog.overrides = {"size": 64, "l1_epochs": 1, "gan_epochs": 0, "init": "imagenet", "batch_size": 4}
    dialog.start(resume=False)
    assert dialog.command(False)[:3] == [sys.executable, "-m", "colorizer_gui"]
    pump(app, lambda: dialog.outcome is not None, timeout=120, what="the training run")
    assert dialog.outcome == "done", dialog.window["-METRICS-"].get()
    assert dialog.finished_model is not None and dialog.finished_model.is_file()
    assert dialog.last_event is not None and dialog.last_event.stage == "done"
    # The previous default stays until the user says to use the new model.
    assert model_store.resolve_cgan_weights() == tiny_model
    installed = dialog.use_model(make_default=True)
    assert installed is not None and installed.parent == tiny_model.parent
    assert model_store.resolve_cgan_weights() == installed
    assert app.backends["cgan"][0]


def test_importing_the_app_does_not_import_torch():
    code = "import sys, colorizer_gui.gui.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_import_model_menu_worker_installs_a_model_and_refuses_junk(make_app, tmp_path):
    from tiny_cgan import make_tiny_generator_file

    from colorizer_gui.core import model_store
    from colorizer_gui.gui import events as ev, workers

    app = make_app()
    assert not app.backends["cgan"][0]
    junk = tmp_path / "model.pth"
    junk.write_bytes(b"\x80\x04 pickled things")
    app.set_status("")
    app._start(ev.IMPORT, workers.import_model, str(junk))
    pump(app, lambda: "Import failed" in app.status_text, what="the refusal")
    assert ".safetensors" in app.status_text
    good = make_tiny_generator_file(tmp_path / "my model.safetensors")
    app._start(ev.IMPORT, workers.import_model, str(good))
    pump(app, lambda: "Model imported" in app.status_text, what="the import")
    assert [p.name for _w, p in model_store.list_weight_files()] == ["my model.safetensors"]
    # The first cGAN model brought in becomes the one the method uses.
    assert app.backends["cgan"][0]
    assert model_store.resolve_cgan_weights().name == "my model.safetensors"
