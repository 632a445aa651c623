"""How a batch ends when people stop it, and odd things named as photos.

Ctrl+C once, Ctrl+C twice and SIGTERM (logout, shutdown) all end with exit
code 130, no traceback and only whole output files; a FIFO or a device file
is "not a regular file" (and never blocks the batch waiting for a writer)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from colorizer_gui.cli import main
from colorizer_gui.core.photo import OUTPUT_MARKER

from photo_factory import gray_scene, make_png

REPO = Path(__file__).resolve().parents[2]


def _start_batch(tmp_path: Path, model: Path, count: int = 40) -> tuple[subprocess.Popen, Path]:
    src = tmp_path / "many"
    for i in range(count):
        make_png(src / f"p{i:02d}.png", gray_scene(96, 96, seed=i))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "colorizer_gui", "colorize", str(src), "-o", str(out), "--backend", "cgan",
         "--weights", str(model), "--device", "cpu", "--render-size", "64"],
        cwd=REPO, env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.is_dir() and any(out.glob("*_color.png"))):
        time.sleep(0.02)
    return proc, out


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    tiny = pytest.importorskip("tiny_cgan")
    return tiny.make_tiny_generator_file(tmp_path_factory.mktemp("m") / "tiny.safetensors")


def _only_whole_outputs(out: Path) -> int:
    names = [p.name for p in out.iterdir() if not p.name.startswith(".colorizer-")]
    assert all(n.endswith("_color.png") for n in names), names
    return len(names)


@pytest.mark.parametrize("signals", [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM,)],
                         ids=["ctrl-c-twice", "sigterm"])
def test_stopping_ends_with_130_and_no_traceback(tmp_path, model, signals):
    proc, out = _start_batch(tmp_path, model)
    for signum in signals:
        proc.send_signal(signum)
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert "Stopping after the current photo" in stderr
    assert 1 <= _only_whole_outputs(out) < 40
    if len(signals) == 1:  # a graceful stop finishes the photo and says what was done
        assert "Stopped by the user" in stdout
        assert not list(out.glob(".colorizer-*.partial"))


def test_a_rerun_removes_temp_files_a_killed_run_left(tmp_path, model, capsys):
    out = tmp_path / "out"
    out.mkdir()
    left = out / ".colorizer-0123456789ab.partial"
    left.write_bytes(b"\x89PNG half a photo")
    seconds_ago = time.time() - 20
    os.utime(left, (seconds_ago, seconds_ago))
    photo = make_png(tmp_path / "a.png", gray_scene(64, 64))
    assert main(["colorize", str(photo), "-o", str(out), "--weights", str(model), "--device", "cpu"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARKER, "a_color.png"]  # and Colorizer's list


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this OS")
def test_fifo_and_device_are_not_regular_files(tmp_path, model, capsys):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    code = main(["colorize", str(fifo), os.devnull, "-o", str(tmp_path / "out"), "--weights", str(model),
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"FAILED {fifo}: not a regular file" in err
    assert f"FAILED {os.devnull}: not a regular file" in err
    assert "no such file" not in err
