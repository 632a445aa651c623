"""Screenshots of the real window on a virtual screen, for a human to look at.

Writes bench/out/screenshots/{main-empty,main-before,main-after,finetune}.png.
Uses Xvfb (started here unless DISPLAY is already a virtual screen we were given)
and ImageMagick's ``import -window root``. Photos: ``--photos DIR`` (e.g. a folder
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
OUT = ROOT / "bench" / "out" / "screenshots"


def start_xvfb() -> subprocess.Popen:
    """Start Xvfb on a free display and point DISPLAY at it."""
    for number in range(90, 140):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(50):
                if Path(f"/tmp/.X11-unix/X{number}").exists():
                    os.environ["DISPLAY"] = f":{number}"
                    return proc
                time.sleep(0.1)
            proc.kill()
    raise RuntimeError("could not start Xvfb")


def shot(name: str) -> Path:
    """Grab the whole virtual screen."""
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"{name}.png"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=Path, help="folder of photos to show (default: generated)")
    args = parser.parse_args()
    xvfb = start_xvfb()
    work = Path(tempfile.mkdtemp(prefix="colorizer-shots-"))
    os.environ["COLORIZER_HOME"] = str(work / "home")
    os.environ["COLORIZER_NO_OPEN"] = "1"
    try:
        from colorizer_gui.core import paths

        from colorizer_gui.core import model_store
        if model_store.resolve_cgan_weights() is None:
            from tiny_cgan import make_tiny_generator_file

            make_tiny_generator_file(paths.user_weights_dir() / model_store.CGAN_DEFAULT_NAME)
        photos = args.photos
        if photos is None:
            photos = work / "Family scans"
            make_photos(photos)
        from colorizer_gui.gui.app import App

        def pump(app: App, seconds: float, until=lambda: False) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end and not until():
                app.step(50)

        app = App([], settings_dir=work / "settings")
        pump(app, 2.0)
        shot("main-empty")
        app.open_paths([str(photos)])
        pump(app, 30, lambda: app.shown.get("colour") is not None)
        pump(app, 1.0)
        shot("main-before")
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
        app.open_finetune()
        pump(app, 2.0)
        shot("finetune")
        app.close()
    finally:
        xvfb.terminate()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
