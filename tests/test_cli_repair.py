"""``colorizer repair`` and ``colorize --repair``, run as a user runs them: real
files in, repaired copies out, originals untouched, bad files named."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from colorizer_gui.core.photo import OUTPUT_MARKER
from colorizer_gui.core.repair.damage import add_damage

from photo_factory import exif_bytes, make_jpeg, make_png, make_png16
from repair_factory import scene
from test_cli import REPO, run_cli, tiny_cgan  # noqa: F401 - the fixture is used below


def _damaged(h: int = 240, w: int = 320, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    clean = scene(h, w, seed=seed)
    damaged, truth = add_damage(clean, np.random.default_rng(seed))
    return clean, damaged, truth


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _gray(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("L")).astype(int)


def test_repair_writes_repaired_copies_and_names_a_bad_file(tmp_path: Path) -> None:
    clean, damaged, truth = _damaged()
    src = tmp_path / "album"
    make_png(src / "scan.png", damaged, exif=exif_bytes())
    make_jpeg(src / "sub" / "print.jpg", damaged, quality=95)
    make_png16(src / "deep.png", damaged.astype(np.uint16) * 257)
    (src / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    before = {p: _sha(p) for p in src.rglob("*") if p.is_file()}
    out = tmp_path / "out"
    result = run_cli("repair", src, "-o", out, "--save-mask")
    assert result.returncode == 1, result.stderr  # one photo failed
    assert f"FAILED {src / 'corrupt.jpg'}" in result.stderr
    assert "Repaired 3 of 4 photos" in result.stdout
    assert {p: _sha(p) for p in src.rglob("*") if p.is_file()} == before  # originals untouched
    copy = out / "scan_repaired.png"
    assert (out / "sub" / "print_repaired.jpg").is_file()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [OUTPUT_MARKER, "scan_repaired.png", "scan_repaired_mask.png", "deep_repaired.png",
         "deep_repaired_mask.png", "sub"])
    # The scratches are gone: inside the damage the copy is close to the clean photo.
    fixed = _gray(copy)
    strong = truth & (np.abs(damaged.astype(int) - clean.astype(int)) > 40)
    assert np.abs(fixed - clean)[strong].mean() < 0.35 * np.abs(damaged.astype(int) - clean)[strong].mean()
    mask = cv2.imread(str(out / "scan_repaired_mask.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == damaged.shape and set(np.unique(mask)) <= {0, 255}
    assert np.array_equal(fixed[mask == 0], damaged[mask == 0])  # lossless: the rest bit-identical
    deep = cv2.imread(str(out / "deep_repaired.png"), cv2.IMREAD_UNCHANGED)
    assert deep.dtype == np.uint16 and deep.shape[:2] == damaged.shape
    with Image.open(copy) as im:
        assert im.getexif().get(271) == "TestCam"  # the original's EXIF is kept
    info = run_cli("info", copy)
    assert info.returncode == 0 and "Repaired by Colorizer" in info.stdout
    assert "Colourised" not in info.stdout
    # Never over a file: a second run makes -2 copies.
    again = run_cli("repair", src / "scan.png", "-o", out)
    assert again.returncode == 0, again.stderr
    assert (out / "scan_repaired-2.png").is_file()
    # Our copies in a folder are not taken for photos to repair.
    inside = run_cli("repair", out, "-o", tmp_path / "twice")
    assert "Repaired 0 of 0" in inside.stdout or "No photos found" in inside.stdout


def test_repair_options_are_checked(tmp_path: Path) -> None:
    make_png(tmp_path / "a.png", scene(64, 64))
    for bad in ("1.5", "-0.1", "nan", "lots"):
        result = run_cli("repair", tmp_path / "a.png", "--sensitivity", bad)
        assert result.returncode == 2 and "--sensitivity" in result.stderr
    assert not (tmp_path / "repaired").exists()
    wrong = run_cli("repair", tmp_path / "a.png", "--detector", "magic")
    assert wrong.returncode == 2 and "--detector" in wrong.stderr
    ok = run_cli("repair", tmp_path / "a.png", "--sensitivity", "0.9", "--detector", "classical")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "repaired" / "a_repaired.png").is_file()  # default: beside the photo


def test_colorize_repair_colors_the_repaired_photo(tmp_path: Path, tiny_cgan: Path) -> None:
    clean, damaged, truth = _damaged(128, 160, seed=4)
    make_png(tmp_path / "in" / "old.png", damaged)
    out = tmp_path / "out"
    result = run_cli("colorize", tmp_path / "in", "-o", out, "--backend", "cgan", "--weights", tiny_cgan,
                     "--device", "cpu", "--render-size", "64", "--repair", "--save-mask")
    assert result.returncode == 0, result.stderr
    colored = _gray(out / "old_color.png")
    strong = truth & (np.abs(damaged.astype(int) - clean.astype(int)) > 40)
    # The copy's lightness is the repaired photo's, not the scratched one's.
    assert np.abs(colored - clean)[strong].mean() < 0.5 * np.abs(damaged.astype(int) - clean)[strong].mean()
    assert (out / "old_color_mask.png").is_file()
    info = run_cli("info", out / "old_color.png")
    assert "Colourised by Colorizer" in info.stdout and "Repaired by Colorizer" in info.stdout
    plain = run_cli("colorize", tmp_path / "in", "-o", tmp_path / "plain", "--backend", "cgan",
                    "--weights", tiny_cgan, "--save-mask")
    assert plain.returncode == 2 and "--save-mask needs --repair" in plain.stderr
    bad = run_cli("colorize", tmp_path / "in", "--repair", "--sensitivity", "7")
    assert bad.returncode == 2 and "--sensitivity" in bad.stderr


def test_ctrl_c_stops_a_repair_batch_leaving_whole_files(tmp_path: Path) -> None:
    src = tmp_path / "many"
    for i in range(10):
        make_png(src / f"p{i:02d}.png", _damaged(600, 800, seed=i)[1])
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "colorizer_gui", "repair", str(src), "-o", str(out)],
                            cwd=REPO, env=dict(os.environ, OMP_NUM_THREADS="2"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.is_dir() and any(out.glob("*_repaired.png"))):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    files = sorted(p for p in out.iterdir() if p.name != OUTPUT_MARKER)
    assert 1 <= len(files) < 10
    assert all(f.name.endswith("_repaired.png") for f in files), files  # no partial/temp files
    for f in files:
        assert _gray(f).shape == (600, 800)
    assert "Stopped by the user" in stdout


def test_repair_uses_the_brush_strokes_and_survives_a_bad_sidecar(tmp_path: Path) -> None:
    from colorizer_gui.core.repair.edits import RepairEdits, make_stroke, save_edits

    clean, damaged, truth = _damaged(240, 320, seed=2)
    marked = damaged.copy()
    marked[100:104, 20:300] = 250  # a scratch the user tells repair to leave (say, a real wire)
    photo = make_png(tmp_path / "in" / "wire.png", marked)
    save_edits(photo, RepairEdits((make_stroke("remove", 0.03, [[0.0, 102 / 240], [1.0, 102 / 240]]),
                                   make_stroke("add", 0.02, [[0.9, 0.9]]))))
    result = run_cli("repair", photo, "-o", tmp_path / "out", "--save-mask")
    assert result.returncode == 0, result.stderr
    fixed = _gray(tmp_path / "out" / "wire_repaired.png")
    mask = cv2.imread(str(tmp_path / "out" / "wire_repaired_mask.png"), cv2.IMREAD_GRAYSCALE) > 0
    assert np.array_equal(fixed[100:104, 20:300], marked[100:104, 20:300])  # removed: kept as it was
    assert mask[216, 288] and not mask[95:110].any()                       # added: painted out
    (tmp_path / "in" / "wire.png.colorizer.json").write_text('{"version": 1, "repair": {"strokes": 5}}')
    bad = run_cli("repair", photo, "-o", tmp_path / "out2")
    assert bad.returncode == 0, bad.stderr
    assert "NOTE" in bad.stderr and "repaired without the brush strokes" in bad.stderr
    assert (tmp_path / "out2" / "wire_repaired.png").is_file()


def test_videos_say_they_are_not_repaired_in_repair_and_in_colorize_repair(tmp_path: Path, tiny_cgan: Path) -> None:
    from video_factory import make_clip

    _clean, damaged, _truth = _damaged(64, 96, seed=5)
    make_png(tmp_path / "in" / "print.png", damaged)
    make_clip(tmp_path / "in" / "home movie.mp4", frames=6, audio=None)
    repaired = run_cli("repair", tmp_path / "in", "-o", tmp_path / "rep")
    assert repaired.returncode == 0, repaired.stderr
    assert (tmp_path / "rep" / "print_repaired.png").is_file()
    assert "home movie.mp4" in repaired.stdout + repaired.stderr
    assert "video repair is not supported" in repaired.stdout + repaired.stderr
    assert not list((tmp_path / "rep").glob("home movie*"))
    colored = run_cli("colorize", tmp_path / "in", "-o", tmp_path / "col", "--backend", "cgan",
                      "--weights", tiny_cgan, "--device", "cpu", "--render-size", "64", "--repair")
    assert colored.returncode == 0, colored.stderr
    said = colored.stdout + colored.stderr
    assert "video repair is not supported" in said and "colorized without repair" in said
    assert list((tmp_path / "col").glob("home movie*.mp4")) and (tmp_path / "col" / "print_color.png").is_file()
