"""``--self-test``: the headless check a built app runs (colorizer_gui.selftest)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from colorizer_gui import __version__, selftest
from colorizer_gui.core import model_store, paths
from colorizer_gui.nets import build_generator, save_generator
from tiny_cgan import TINY_CONFIGS, make_tiny_generator_file

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^Colorizer (\S+) self-test OK: cgan on (cpu|cuda), 320x240 in [0-9.]+ s, "
                  r"mean \|dL\| ([0-9.]+), clip 12 frames with sound(; .*)?$")


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(1)


def test_test_photo_is_a_gray_picture_with_structure():
    img = selftest.test_photo()
    assert img.shape == (240, 320) and img.dtype == np.uint8
    assert img.std() > 30 and len(np.unique(img)) > 100  # gradient plus shapes, not a flat field


def test_self_test_passes_with_a_working_generator(tmp_path):
    weights = make_tiny_generator_file(tmp_path / "tiny.safetensors")
    ok, line = selftest.run_self_test(weights=weights, device="cpu")
    match = LINE.match(line)
    assert ok and match, line
    assert match.group(1) == __version__ and float(match.group(3)) < 0.5
    assert "\n" not in line


def test_self_test_uses_the_bundled_default_weights(tmp_path, monkeypatch):
    bundle = tmp_path / "_internal"
    make_tiny_generator_file(bundle / "weights" / model_store.CGAN_DEFAULT_NAME)
    monkeypatch.setattr(paths, "bundle_root", lambda: bundle)
    assert selftest.bundled_default_weights() == bundle / "weights" / model_store.CGAN_DEFAULT_NAME
    ok, line = selftest.run_self_test(device="cpu")
    assert ok and LINE.match(line) and "no default weights" not in line, line


def test_without_bundled_weights_it_checks_a_fresh_generator_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "bundle_root", lambda: tmp_path / "empty-bundle")
    ok, line = selftest.run_self_test(device="cpu")
    assert ok and LINE.match(line), line
    assert "no default weights bundled" in line


def test_a_generator_that_breaks_the_lightness_fails_the_self_test(tmp_path):
    # Saturated output (tanh -> +1: a = b = 110) is far out of gamut: clipping
    # the RGB changes L, which the self-test must notice.
    torch.manual_seed(0)
    model = build_generator("lite0-unet", **TINY_CONFIGS["lite0-unet"]).eval()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(5.0)
    weights = save_generator(model, tmp_path / "saturated.safetensors")
    ok, line = selftest.run_self_test(weights=weights, device="cpu")
    assert not ok
    assert line.startswith(f"Colorizer {__version__} self-test FAILED") and "lightness changed" in line


def test_a_damaged_weights_file_fails_with_one_clear_line(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model file at all")
    ok, line = selftest.run_self_test(weights=bad, device="cpu")
    assert not ok and "FAILED" in line and "\n" not in line


def test_check_result_rejects_a_wrong_size_and_nan():
    gray = selftest.test_photo(64, 48)
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    assert selftest.check_result(gray, rgb)[0]
    assert not selftest.check_result(gray, rgb[:-1])[0]
    bad = rgb.astype(np.float32) / 255
    bad[0, 0, 0] = np.nan
    assert not selftest.check_result(gray, bad)[0]


def test_command_line_flag_prints_one_line_and_exits_0(tmp_path):
    env = {**os.environ, "COLORIZER_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    env.pop("DISPLAY", None)  # the self-test must not need (or open) a window
    out = subprocess.run([sys.executable, "-m", "colorizer_gui", "--self-test"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and LINE.match(lines[0]), out.stdout
    # It wrote nothing to the user's folders.
    home = tmp_path / "home"
    assert not home.exists() or not any(p.is_file() for p in home.rglob("*"))


def test_a_video_path_that_loses_the_sound_fails_the_self_test(tmp_path, monkeypatch):
    """The bundle's video check looks at what a user would hear, not just that a file appeared."""
    from colorizer_gui.core import video

    real = video.colorize_video

    def silent(src, out_dir, backend, **kwargs):
        import av

        src_silent = Path(out_dir).parent / "silent.mp4"
        with av.open(str(src)) as c, av.open(str(src_silent), "w") as out:
            stream = out.add_stream_from_template(c.streams.video[0])
            for packet in c.demux(c.streams.video[0]):
                if packet.dts is not None:
                    packet.stream = stream
                    out.mux(packet)
        return real(src_silent, out_dir, backend, **kwargs)

    monkeypatch.setattr(video, "colorize_video", silent)
    weights = make_tiny_generator_file(tmp_path / "tiny.safetensors")
    ok, line = selftest.run_self_test(weights=weights, device="cpu")
    assert not ok and "sound was not copied" in line, line
