"""bench/compare_models.py: models compared at equal colourfulness, with a paired bootstrap,
on a small split of made-up photos and tiny real generator files."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tiny_cgan import make_tiny_generator_file

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import compare_models as cm  # noqa: E402


def _photo(seed: int, height: int = 48, width: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([120 + 90 * np.sin(xs / 9 + seed), 110 + 80 * np.cos(ys / 7),
                    100 + 60 * np.sin((xs + ys) / 11)], -1) + rng.normal(0, 6, (height, width, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def split(tmp_path_factory) -> Path:
    """Two kinds, one of them a newer kind, three photos each."""
    root = tmp_path_factory.mktemp("val")
    for k, kind in enumerate(("bsds500", "flowers")):
        (root / kind).mkdir()
        for i in range(3):
            Image.fromarray(_photo(10 * k + i)).save(root / kind / f"p{i}.png")
    return root


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("models")
    return (make_tiny_generator_file(folder / "a.safetensors", seed=0),
            make_tiny_generator_file(folder / "b.safetensors", seed=1))


def test_the_gain_is_solved_for_the_color_asked():
    assert cm.gain_for_color(lambda g: 0.3 * g, 0.6) == pytest.approx(2.0, abs=1e-3)
    assert cm.gain_for_color(lambda g: 0.01 * g, 0.6) == cm.GAIN_RANGE[1]  # never that colourful


def test_a_constant_difference_has_no_spread(split):
    photos = cm.load_split(split)
    point, lo, hi = cm.paired_interval(photos, np.full(len(photos), 0.25), ["bsds500", "flowers"], 200, 0)
    assert (point, lo, hi) == pytest.approx((0.25, 0.25, 0.25))


def test_models_meet_at_one_colorfulness_and_a_model_equals_itself(split, models, tmp_path):
    a, b = models
    photos = cm.load_split(split)
    _, size, raw_a = cm.raw_colors(a, photos, None)
    assert size == 96  # the tiny file's own default: 1.5 x its 64 px crops
    color = 0.5 * cm.mean_color_ratio(photos, cm.colorfulness_at(photos, raw_a, 1.0))
    out = tmp_path / "psnr.csv"
    text = cm.compare(split, a, [a, b], color=color, draws=300, per_kind=True, csv_path=out)
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| a.") or line.startswith("| b.")]
    assert len(rows) == 3 + 3  # base, itself, the other; then the per-kind table
    base, itself, other = rows[:3]
    for row in (base, itself, other):
        assert float(row[2]) == pytest.approx(color, abs=0.01)   # equal colour for every model
    assert "2 kinds" in text and "1 newer kinds" in text
    assert itself[1:4] == base[1:4] and itself[4] == "+0.000 [+0.000, +0.000]"
    assert other[4] != "+0.000 [+0.000, +0.000]"
    lines = out.read_text().splitlines()
    assert len(lines) == 1 + 6 and lines[0] == "kind,photo,psnr_gray,psnr:a.safetensors (base),psnr:a.safetensors,psnr:b.safetensors"


def test_every_model_renders_at_the_bases_size(split, models, tmp_path):
    from colorizer_gui.nets import load_generator, save_generator

    a, _ = models
    model, _ = load_generator(a, "cpu")
    # The same net in a file that names smaller crops (its own default render would be 48).
    same = save_generator(model, tmp_path / "same.safetensors", {"train_size": "32"})
    text = cm.compare(split, a, [same], draws=100)
    assert "render size 96" in text
    row = next(line for line in text.splitlines() if line.startswith("| same."))
    assert "+0.000 [+0.000, +0.000]" in row


def test_a_file_that_is_not_a_model_is_refused(split, tmp_path):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(SystemExit, match="x.safetensors"):
        cm.compare(split, bad, [])
