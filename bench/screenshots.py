"""Screenshots of the real window on a virtual screen, for a human to look at.

Writes bench/out/screenshots/{main-no-model,main-empty,main-before,
main-after-summary,main-compare,hints-side,hints-compare,hints-memory,finetune,finetune-estimate,
main-resized}.png on a 1280x800 screen, and
the same with a ``1366x768-``, ``1280x720-`` and ``1024x768-`` prefix on those
common laptop and projector screens (each screen size runs in its own process: Tk talks to one
display per process). Uses Xvfb (started here) and ImageMagick's
``import -window root``. It also prints where the key buttons are, and fails when
one lies outside the screen. Photos: ``--photos DIR`` (e.g. a folder
of real scans), else a few generated grey pictures. Model: the installed one,
else a tiny random cGAN built with the tests' helper (colours are then random).

    .venv/bin/python bench/screenshots.py [--photos DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import BENCH, add_import_paths, start_xvfb

add_import_paths("tests")
OUT = BENCH / "out" / "screenshots"


SCREENS = ["1280x800", "1366x768", "1280x720", "1024x768"]


PREFIX = ""


def shot(name: str) -> Path:
    """Grab the whole virtual screen."""
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"{PREFIX}{name}.png"
    subprocess.run(["import", "-window", "root", str(target)], check=True)
    print("wrote", target)
    return target


def make_photos(folder: Path) -> None:
    """A few grey 'scans' with shapes, so the previews show something."""
    import numpy as np
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(["Grandma at the beach 1962", "wedding", "garden party", "the old house"]):
        rng = np.random.default_rng(i)
        base = np.linspace(60, 220, 640)[None, :] * np.ones((480, 1))
        img = Image.fromarray((base + rng.normal(0, 8, (480, 640))).clip(0, 255).astype("uint8"))
        draw = ImageDraw.Draw(img)
        draw.ellipse((200 + 30 * i, 120, 420 + 30 * i, 400), fill=90 + 20 * i)
        draw.rectangle((40, 300, 200, 470), fill=40)
        img.save(folder / f"{name}.jpg", quality=92)


def check_on_screen(app) -> list[str]:
    """Lines saying where the key buttons are; raises if one is off the screen."""
    root = app.window.TKroot
    sw, sh = root.winfo_screenwidth(), root.winfo_screenheight()
    lines = [f"screen {sw}x{sh}, window {root.winfo_width()}x{root.winfo_height()}"
             f"+{root.winfo_rootx()}+{root.winfo_rooty()}"]
    for key in ("-COLORIZE-ALL-", "-CANCEL-", "-SAVE-", "-RECOLOUR-", "-STATUS-"):
        w = app.window[key].Widget
        box = (w.winfo_rootx(), w.winfo_rooty(), w.winfo_width(), w.winfo_height())
        lines.append(f"  {key}: {box}")
        if box[0] < 0 or box[1] < 0 or box[0] + box[2] > sw or box[1] + box[3] > sh:
            raise SystemExit(f"{key} is outside the {sw}x{sh} screen: {box}")
    return lines


def hint_shots(app, photos: Path, work: Path) -> None:
    """The colour-hint tool: three hints given by clicks (one selected), side by side
    and before/after, and the colour memory after "Remember colour...". The photo is
    copied first, so no sidecar lands in a folder given with --photos."""
    first = sorted(p for p in photos.iterdir() if p.is_file())[0]
    folder = work / "hint shots"
    folder.mkdir(exist_ok=True)
    photo = folder / first.name
    shutil.copy2(first, photo)
    app.settings.view = "side"
    app.window[("-VIEW-", "side")].update(value=True)
    app.open_paths([str(photo)])
    end = time.monotonic() + 60
    while time.monotonic() < end and str(photo) not in app.rows:
        app.step(50)
    app.photos.select(str(photo))
    while time.monotonic() < end and not (app.current == str(photo) and app.shown.get("color") is not None):
        app.step(50)
    app.window["-HINTS-"].update(value=True)
    app.hints.set_on(True)
    for point, rgb in (((0.5, 0.45), (40, 70, 190)), ((0.2, 0.8), (150, 40, 40)), ((0.85, 0.2), (90, 140, 60))):
        app.hints.set_color(rgb)
        spot = app.preview.to_canvas(point)[0]
        app.window.write_event_value("-CANVAS-", (int(spot[0]), int(spot[1])))
        app.window.write_event_value("-CANVAS-+UP", (int(spot[0]), int(spot[1])))
        before = app.shown.get("color")
        end = time.monotonic() + 30
        while time.monotonic() < end and (app.shown.get("color") is before or app.job_running("preview")):
            app.step(50)
    def show(view: str, name: str) -> None:
        app.settings.view = view
        app.window[("-VIEW-", view)].update(value=True)
        app.draw_preview()
        for _ in range(10):
            app.step(50)
        shot(name)

    show("side", "hints-side")
    show("compare", "hints-compare")
    app.hints.ask_name = lambda: "the blue Ford"
    app.hints.set_color((40, 70, 190))
    app.hints.remember_color()
    show("side", "hints-memory")
    app.hints.set_on(False)


def run_screen(screen: str, photos_arg: Path | None) -> int:
    """All the shots on one virtual screen size."""
    global PREFIX
    PREFIX = "" if screen == SCREENS[0] else f"{screen}-"
    xvfb, os.environ["DISPLAY"] = start_xvfb(screen)
    work = Path(tempfile.mkdtemp(prefix="colorizer-shots-"))
    os.environ["COLORIZER_HOME"] = str(work / "home")
    os.environ["COLORIZER_NO_OPEN"] = "1"
    try:
        from colorizer_gui.core import model_store, paths
        from colorizer_gui.gui.app import App

        def pump(app: App, seconds: float, until=lambda: False) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end and not until():
                app.step(50)

        photos = photos_arg
        if photos is None:
            photos = work / "Family scans"
            make_photos(photos)
        if model_store.resolve_cgan_weights() is None:
            if not PREFIX:
                # What a first-time user sees before any model is installed.
                app = App([str(photos)], settings_dir=work / "settings-none")
                pump(app, 3.0)
                shot("main-no-model")
                app.close()
            from tiny_cgan import make_tiny_generator_file

            make_tiny_generator_file(paths.user_weights_dir() / model_store.CGAN_DEFAULT_NAME)

        app = App([], settings_dir=work / "settings")
        pump(app, 2.0)
        shot("main-empty")
        app.open_paths([str(photos)])
        pump(app, 30, lambda: app.shown.get("color") is not None)
        pump(app, 1.0)
        shot("main-before")
        print("\n".join(check_on_screen(app)))
        app.colorize_all()
        pump(app, 120, lambda: app.last_summary is not None)
        pump(app, 1.5)
        shot("main-after-summary")
        for window in list(app.dialogs):
            window.close()
        app.dialogs.clear()
        app.settings.view = "compare"
        app.window[("-VIEW-", "compare")].update(value=True)
        app.draw_preview()
        pump(app, 1.0)
        shot("main-compare")
        hint_shots(app, photos, work)
        app.open_finetune()
        pump(app, 2.0)
        shot("finetune")
        app.finetune.window["-FOLDER-"].update(str(photos))
        app.finetune.window.write_event_value("-FOLDER-", str(photos))
        pump(app, 5, lambda: app.finetune.image_count is not None)
        pump(app, 0.5)
        shot("finetune-estimate")
        app.finetune.close()
        app.finetune = None
        if not PREFIX:
            # A user drags the window smaller: the preview follows.
            app.window.TKroot.geometry("1130x600+10+10")
            pump(app, 1.5)
            shot("main-resized")
        app.close()
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=Path, help="folder of photos to show (default: generated)")
    parser.add_argument("--screen", default="all", help=f"WIDTHxHEIGHT of the virtual screen, or 'all' ({SCREENS})")
    args = parser.parse_args()
    if args.screen != "all":
        return run_screen(args.screen, args.photos)
    failed = 0
    for screen in SCREENS:
        cmd = [sys.executable, __file__, "--screen", screen] + (["--photos", str(args.photos)] if args.photos else [])
        failed |= subprocess.run(cmd).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
