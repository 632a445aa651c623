"""Shared test setup: every test runs with its own user folders (settings, logs,
weights) so nothing touches the real home folder, and with no network needed."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

#: The GUI tests' virtual screen: a small but common one (projectors, many
#: laptops), so the tests also check that the window fits it.
GUI_SCREEN = (1024, 720)  # the narrowest laptop screens, the shortest common height


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Point COLORIZER_HOME at a fresh folder for each test."""
    home = tmp_path_factory.mktemp("colorizer_home")
    monkeypatch.setenv("COLORIZER_HOME", str(home))
    # Keep torch from using more threads than this 2-core machine has.
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "2"))
    return home


@pytest.fixture(scope="session")
def zhang_weights(tmp_path_factory):
    """A Zhang-shaped caffemodel with random weights (~129 MB), written once per
    test session: Zhang's loading and inference code runs for real on it."""
    zhang_model = pytest.importorskip("zhang_model")
    path = tmp_path_factory.getbasetemp() / "zhang_random_seed0.caffemodel"
    if not path.is_file():
        partial = path.with_suffix(".writing")
        zhang_model.write_random_zhang_caffemodel(partial, seed=0)
        partial.replace(path)
    return path


@pytest.fixture
def no_bundled_weights(tmp_path_factory, monkeypatch):
    """Hide the weights/ folder shipped with the app, as on an install without them."""
    from colorizer_gui.core import paths

    empty = tmp_path_factory.mktemp("no_bundled_weights")
    monkeypatch.setattr(paths, "bundled_weights_dir", lambda: empty)
    return empty


@pytest.fixture(scope="session")
def xvfb_display():
    """Start Xvfb on a free display number for the whole session; set DISPLAY.

    Defined here, once: every GUI test module shares it (a copy imported into two
    modules would start two screens, and xdotool would click on the wrong one)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb): GUI tests need a virtual screen")
    old = os.environ.get("DISPLAY")
    for number in range(150, 250):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", f"{GUI_SCREEN[0]}x{GUI_SCREEN[1]}x24",
                                 "-nolisten", "tcp"],
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
