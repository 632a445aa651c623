"""The command line, run as a user runs it: ``python -m colorizer_gui ...`` in a
subprocess, with its own COLORIZER_HOME (set by conftest) and real files."""
from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizer_gui.core import color
from colorizer_gui.core.photo import OUTPUT_MARKER

from photo_factory import (
    asymmetric_rgb, gray_scene, make_cmyk_jpeg, make_exif_rotated_jpeg, make_jpeg, make_png,
    make_png16, make_truncated, ramp16,
)

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: object, timeout: float = 240) -> subprocess.CompletedProcess:
    """``python -m colorizer_gui ARGS`` with the test's environment (COLORIZER_HOME set)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8", OMP_NUM_THREADS="2")
    return subprocess.run([sys.executable, "-m", "colorizer_gui", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def tiny_cgan(tmp_path_factory) -> Path:
    tiny = pytest.importorskip("tiny_cgan")
    return tiny.make_tiny_generator_file(tmp_path_factory.mktemp("cgan") / "tiny.safetensors")


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def test_version_answers_without_heavy_imports():
    result = run_cli("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"colorizer \d+\.\d+\.\d+\n", result.stdout)
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; from colorizer_gui.cli import main; main(['--version']);"
                               "print(sorted(m for m in ('torch', 'cv2', 'PySimpleGUI', 'tkinter') if m in sys.modules))"],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert probe.stdout.splitlines()[-1] == "[]"


def test_mixed_folder_good_photos_written_bad_ones_named(tmp_path, zhang_weights):
    src = tmp_path / "scans"
    src.mkdir()
    gray = gray_scene(60, 80, seed=1)
    make_jpeg(src / "good.jpg", gray)
    make_png16(src / "deep16.png", ramp16(24, 40, color=False))
    make_cmyk_jpeg(src / "cmyk.jpg", np.repeat(gray_scene(30, 44, seed=2)[:, :, None], 3, axis=2))
    make_png(src / "rgba.png", gray_scene(36, 52, seed=3), alpha=np.full((36, 52), 128, np.uint8))
    upright_gray = np.repeat(color.lightness(asymmetric_rgb(32, 48)).astype(np.uint8)[:, :, None] * 2, 3, axis=2)
    make_exif_rotated_jpeg(src / "rotated.jpg", 6, upright=upright_gray)
    make_jpeg(src / "Großmutter 1952 ✓.jpg", gray_scene(50, 40, seed=4))
    (src / "empty.jpg").write_bytes(b"")
    make_truncated(src / "truncated.jpg", src / "good.jpg", keep=0.4)
    (src / "notes.jpg").write_text("shopping list: milk, eggs\n", encoding="utf-8")
    before = snapshot(src)
    out = tmp_path / "out"

    result = run_cli("colorize", src, "-o", out, "--backend", "zhang", "--weights", zhang_weights)

    assert result.returncode == 1, result.stderr
    assert snapshot(src) == before  # every input byte-identical, nothing added beside them
    written = {p.name: p for p in out.iterdir() if p.name != OUTPUT_MARKER}  # the copies' list
    assert set(written) == {"good_color.jpg", "deep16_color.png", "cmyk_color.jpg", "rgba_color.png",
                            "rotated_color.jpg", "Großmutter 1952 ✓_color.jpg"}
    assert read_rgb(written["good_color.jpg"]).shape == (60, 80, 3)
    assert read_rgb(written["cmyk_color.jpg"]).shape == (30, 44, 3)
    assert read_rgb(written["Großmutter 1952 ✓_color.jpg"]).shape == (50, 40, 3)
    import cv2
    deep = cv2.imread(str(written["deep16_color.png"]), cv2.IMREAD_UNCHANGED)
    assert deep.dtype == np.uint16 and deep.shape == (24, 40, 3)
    with Image.open(written["rgba_color.png"]) as im:
        assert im.mode == "RGBA" and im.size == (52, 36)
        assert np.asarray(im)[:, :, 3].max() == 128  # transparency kept
    # Orientation applied: upright size, and the lightness matches the upright picture.
    rotated = read_rgb(written["rotated_color.jpg"])
    assert rotated.shape == (32, 48, 3)
    assert np.abs(color.lightness(rotated) - color.lightness(upright_gray)).mean() < 4.0

    failed = dict(re.findall(r"^FAILED (.+?): (.+)$", result.stderr, flags=re.M))
    assert set(failed) == {str(src / n) for n in ("empty.jpg", "truncated.jpg", "notes.jpg")}, result.stderr
    assert "empty" in failed[str(src / "empty.jpg")]
    assert "cut short (truncated); it may not have finished copying" in failed[str(src / "truncated.jpg")]
    assert "not a photo Colorizer can read" in failed[str(src / "notes.jpg")]
    assert "Colorized 6 of 9 photos" in result.stdout


def test_colorize_with_cgan_all_good_exits_zero_and_defaults_beside_photos(tmp_path, tiny_cgan):
    src = tmp_path / "album"
    src.mkdir()
    make_png(src / "a.png", gray_scene(40, 56))
    result = run_cli("colorize", src / "a.png", "--backend", "cgan", "--weights", tiny_cgan,
                     "--device", "cpu", "--render-size", "64", "--saturation", "1.5")
    assert result.returncode == 0, result.stderr
    assert (src / "colorized" / "a_color.png").is_file()
    assert "Colorized 1 of 1 photo" in result.stdout
    # --skip-existing: a second run does nothing and still succeeds.
    again = run_cli("colorize", src, "--backend", "cgan", "--weights", tiny_cgan, "--skip-existing")
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (src / "colorized").iterdir()) == [OUTPUT_MARKER, "a_color.png"]
    assert "Skipped 1 photo" in again.stdout


def test_temperature_with_the_cgan_backend_says_it_is_ignored(tmp_path, tiny_cgan):
    make_png(tmp_path / "a.png", gray_scene(40, 56))
    result = run_cli("colorize", tmp_path / "a.png", "--backend", "cgan", "--weights", tiny_cgan,
                     "--temperature", "0.2", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "--temperature" in line]
    assert notes == ["NOTE: --temperature is ignored: only the zhang backend has a temperature, not cgan"]
    assert (tmp_path / "out" / "a_color.png").is_file()


def test_backend_not_available_is_a_usage_error_with_its_reason(tmp_path):
    make_png(tmp_path / "a.png", gray_scene(20, 20))
    bogus = tmp_path / "broken.safetensors"
    bogus.write_bytes(b"not a model at all")
    result = run_cli("colorize", tmp_path / "a.png", "--backend", "cgan", "--weights", bogus)
    assert result.returncode == 2
    assert "cgan backend" in result.stderr
    assert not (tmp_path / "colorized").exists()

    missing = run_cli("colorize", tmp_path / "a.png", "--backend", "zhang", "--weights", tmp_path / "nope.caffemodel")
    assert missing.returncode == 2 and "does not exist" in missing.stderr

    wrong = run_cli("colorize", tmp_path / "a.png", "--backend", "nonesuch")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr

    temp = run_cli("colorize", tmp_path / "a.png", "--backend", "cgan", "--temperature", "3")
    assert temp.returncode == 2 and "--temperature must be from 0.05 to 1 (got 3.0)" in temp.stderr


def test_models_lists_both_backends_with_reasons():
    result = run_cli("models")
    assert result.returncode == 0, result.stderr
    for name in ("cgan", "zhang"):
        line = next(line for line in result.stdout.splitlines() if line.strip().startswith(name))
        assert re.search(r": (available|not available: \S.+)$", line), line
    assert "Searched:" in result.stdout


def test_models_import_refuses_pickles_and_accepts_a_caffemodel(tmp_path, zhang_weights, isolated_user_dirs):
    pickle = tmp_path / "model.pth"
    pickle.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    refused = run_cli("models", "import", pickle)
    assert refused.returncode != 0
    assert "cannot import" in refused.stderr
    user_weights = isolated_user_dirs / "data" / "weights"
    assert not any(user_weights.glob("*")) if user_weights.exists() else True

    copy = tmp_path / "colorization_release_v2.caffemodel"
    os.link(zhang_weights, copy)
    imported = run_cli("models", "import", copy)
    assert imported.returncode == 0, imported.stderr
    listing = run_cli("models")
    assert re.search(r"user\s+.*\.caffemodel", listing.stdout), listing.stdout
    zhang_line = next(line for line in listing.stdout.splitlines() if line.strip().startswith("zhang"))
    assert zhang_line.endswith(": available"), zhang_line


def test_models_set_default_and_reset(tmp_path, tiny_cgan):
    chosen = run_cli("models", "set-default", tiny_cgan)
    assert chosen.returncode == 0, chosen.stderr
    assert "[cgan default]" in run_cli("models").stdout
    reset = run_cli("models", "set-default", "--reset")
    assert reset.returncode == 0
    assert "[cgan default]" not in run_cli("models").stdout
    bad = run_cli("models", "set-default", tmp_path / "missing.safetensors")
    assert bad.returncode != 0 and "does not exist" in bad.stderr


def test_ctrl_c_stops_at_a_photo_boundary_leaving_whole_files(tmp_path, zhang_weights):
    src = tmp_path / "many"
    src.mkdir()
    for i in range(12):
        make_png(src / f"p{i:02d}.png", gray_scene(40, 40, seed=i))
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="2")
    proc = subprocess.Popen([sys.executable, "-m", "colorizer_gui", "colorize", str(src), "-o", str(out),
                             "--backend", "zhang", "--weights", str(zhang_weights)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.is_dir() and any(out.glob("*_color.png"))):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    files = sorted(p for p in out.iterdir() if p.name != OUTPUT_MARKER)
    assert 1 <= len(files) < 12
    assert all(f.name.endswith("_color.png") for f in files), files  # no partial/temp files
    for f in files:
        assert read_rgb(f).shape == (40, 40, 3)
    assert "Stopped by the user" in stdout


def test_train_is_routed_to_the_training_command_line():
    result = run_cli("train", "--help")
    assert result.returncode == 0, result.stderr
    assert "DATA_DIR" in result.stdout and "--out" in result.stdout


def test_no_display_gives_a_clear_message_instead_of_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "colorizer_gui"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    if sys.platform.startswith("linux"):
        assert result.returncode == 2
        assert "no display" in result.stderr and "Traceback" not in result.stderr


def test_models_download_failure_is_one_clear_line_and_installs_nothing(monkeypatch, isolated_user_dirs):
    # Port 9 on the loopback address: nothing listens there, so the connection is refused.
    monkeypatch.setenv("COLORIZER_ZHANG_URL", "http://127.0.0.1:9/weights")
    result = run_cli("models", "download", "zhang", timeout=120)
    assert result.returncode == 1
    assert "download failed" in result.stderr and "Traceback" not in result.stderr
    assert not list(isolated_user_dirs.rglob("*.caffemodel"))


def test_no_recolor_is_listed_once_and_the_british_spelling_still_works():
    from colorizer_gui.commands.colorize import _colorize_parser

    parser = _colorize_parser(["cgan", "zhang"], "cgan")
    shown = parser.format_help()
    assert "--no-recolor" in shown and "--no-recolour" not in shown
    assert parser.parse_args(["a.jpg"]).recolor is True
    assert parser.parse_args(["a.jpg", "--no-recolor"]).recolor is False
    assert parser.parse_args(["a.jpg", "--no-recolour"]).recolor is False
