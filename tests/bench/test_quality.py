"""The quality bench's metrics give known answers on synthetic images, and the bench
runs end to end (real pipeline, real tiny generator) on a few small photos."""
from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizer_gui.core import color

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import quality  # noqa: E402
import quality_metrics as qm  # noqa: E402


def _photo(seed: int = 0, height: int = 48, width: int = 64) -> np.ndarray:
    """A smooth colourful 8-bit RGB image with some texture (SSIM needs structure)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([120 + 90 * np.sin(xs / 9), 110 + 80 * np.cos(ys / 7), 100 + 60 * np.sin((xs + ys) / 11)], -1)
    rgb += rng.normal(0, 6, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _lab_image(height: int = 32, width: int = 40) -> np.ndarray:
    """Lab (float32) with varied L and small in-gamut ab."""
    rng = np.random.default_rng(1)
    lab = np.empty((height, width, 3), np.float32)
    lab[:, :, 0] = rng.uniform(40, 70, (height, width))
    lab[:, :, 1:] = rng.uniform(-10, 10, (height, width, 2))
    return lab


def test_identical_images_score_perfectly():
    img = _photo()
    assert qm.psnr(img, img) == math.inf
    assert qm.ssim_rgb(img, img) == pytest.approx(1.0)
    assert qm.ab_auc(img, img) == pytest.approx(1.0)
    assert qm.mean_abs_dl(color.lightness(img), img) == pytest.approx(0.0)


def test_psnr_of_a_known_error():
    truth = _photo()
    truth = np.clip(truth, 10, 240)
    pred = truth + 5  # every channel off by 5: MSE 25
    assert qm.psnr(truth, pred) == pytest.approx(10 * math.log10(255 ** 2 / 25), abs=1e-9)


def test_ssim_drops_with_noise():
    truth = _photo()
    noisy = np.clip(truth.astype(np.int16) + np.random.default_rng(3).integers(-40, 41, truth.shape), 0, 255)
    value = qm.ssim_rgb(truth, noisy.astype(np.uint8))
    assert 0.0 < value < 0.9


def test_gray_baseline_of_a_gray_photo_is_exact():
    """For a photo that is gray already, the gray input rebuilt from its L is the photo
    itself, so the baseline is perfect: AuC 1 and an exact pixel match."""
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, (30, 50), dtype=np.uint8)
    truth = qm.as_rgb8(gray)
    rebuilt = qm.as_rgb8(qm.gray_from_lightness(color.lightness(truth)))
    np.testing.assert_array_equal(rebuilt, truth)
    assert qm.ab_auc(truth, rebuilt) == pytest.approx(1.0)


def test_ab_offset_of_ten_everywhere():
    truth = _lab_image()
    pred = truth.copy()
    pred[:, :, 1] += 6.0
    pred[:, :, 2] += 8.0  # Euclidean ab error exactly 10 at every pixel
    errors = qm.ab_error(truth, pred)
    np.testing.assert_allclose(errors, 10.0, atol=1e-4)
    # Accuracy is 0 below t = 10 and 1 from there to 150: area 140 of 150.
    assert qm.auc_from_errors(errors) == pytest.approx(140 / 150, abs=1e-5)
    # The same through RGB (float, so no 8-bit rounding on the way).
    truth_rgb, pred_rgb = color.lab_to_rgb(truth), color.lab_to_rgb(pred)
    assert qm.ab_auc(truth_rgb, pred_rgb) == pytest.approx(140 / 150, abs=2e-3)


def test_auc_equals_a_fine_threshold_sweep():
    errors = np.random.default_rng(4).gamma(2.0, 20.0, 5000)
    thresholds = np.linspace(0, 150, 30001)
    curve = qm.accuracy_curve(errors, thresholds)
    swept = float(np.sum((curve[1:] + curve[:-1]) / 2 * np.diff(thresholds)) / 150)
    assert qm.auc_from_errors(errors) == pytest.approx(swept, abs=1e-3)
    assert 0.0 < swept < 1.0


def test_colorfulness_ratios_skip_near_gray_truths():
    of_means, per_image, count = qm.colorfulness_ratios([10.0, 30.0, 0.5], [5.0, 30.0, 4.0])
    assert of_means == pytest.approx(39.0 / 40.5)
    assert per_image == pytest.approx((0.5 + 1.0) / 2)
    assert count == 2


def test_color_on_gray_things_is_the_chroma_painted_where_the_truth_is_gray():
    """A gray street painted blue scores its blue; colour where the truth is colourful
    does not count, and a truth with nothing gray gives no figure."""
    truth_lab = np.zeros((20, 40, 3), np.float32)
    truth_lab[..., 0] = 55
    truth_lab[:, 20:, 1:] = (40, 30)                 # right half: a red wall
    pred_lab = truth_lab.copy()
    pred_lab[:, :20, 2] = -8                         # the gray half painted blue
    pred_lab[:, 20:, 1:] = (-30, 20)                 # the red wall painted green: not gray things
    to8 = lambda lab: np.clip(np.rint(color.lab_to_rgb(lab) * 255), 0, 255).astype(np.uint8)  # noqa: E731
    truth, pred = to8(truth_lab), to8(pred_lab)
    assert qm.color_on_gray(truth, pred) == pytest.approx(8.0, abs=0.7)
    assert qm.color_on_gray(truth, truth) < 0.7
    assert qm.image_metrics(truth, pred, color.lightness(truth))["gray_chroma"] == pytest.approx(
        qm.color_on_gray(truth, pred))
    assert math.isnan(qm.color_on_gray(to8(truth_lab[:, 20:]), to8(pred_lab[:, 20:])))


def test_replace_section_touches_only_its_own_section():
    doc = "# Results\n\n## A\n\nold a\n\n## Quality: x\n\nold q\n\n## B\n\nb text\n"
    new = quality.replace_section(doc, "## Quality: x", "## Quality: x\n\nnew q\n")
    assert "new q" in new and "old q" not in new
    assert new.index("## A") < new.index("new q") < new.index("## B")
    assert "old a" in new and "b text" in new
    appended = quality.replace_section(doc, "## Quality: y", "## Quality: y\n\nq y\n")
    assert appended.startswith(doc.rstrip("\n")) and appended.endswith("## Quality: y\n\nq y\n")


def test_bench_runs_end_to_end(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from tiny_cgan import make_tiny_generator_file

    torch.set_num_threads(1)
    gt = tmp_path / "set"
    gt.mkdir()
    photos = {f"p{i}.png": _photo(i, 40 + 8 * i, 56) for i in range(3)}
    for name, rgb in photos.items():
        Image.fromarray(rgb).save(gt / name)
    weights = make_tiny_generator_file(tmp_path / "tiny.safetensors")
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Other\n\nkeep me\n", encoding="utf-8")
    monkeypatch.setattr(quality, "RESULTS", results)
    out = tmp_path / "out"

    code = quality.main([str(gt), "--backend", "cgan", "--weights", str(weights), "--device", "cpu",
                         "--render-size", "64", "--out", str(out), "--section", "tiny"])

    assert code == 0
    with open(out / "per_image-cgan.csv", newline="") as fh:
        rows = {r["name"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(photos)
    for name, rgb in photos.items():
        row = rows[name]
        assert row["size_ok"] == "1" and int(row["height"]) == rgb.shape[0]
        gray = qm.as_rgb8(qm.gray_from_lightness(color.lightness(rgb)))
        assert float(row["psnr_gray"]) == pytest.approx(qm.psnr(rgb, gray), abs=1e-3)
        assert float(row["dl_ours"]) < 1.0  # the pipeline keeps the input's lightness
    sheet = np.asarray(Image.open(out / "contact-cgan.png"))
    assert sheet.shape[0] >= 3 * quality.CELL_HEIGHT and sheet.shape[2] == 3
    text = results.read_text(encoding="utf-8")
    assert "keep me" in text and "## Quality: tiny" in text and "| PSNR" in text
    assert "| colour on gray things" in text and "gray_chroma_ours" in rows["p0.png"]
    assert (out / "summary-cgan.md").read_text(encoding="utf-8").count("| PSNR") == 1


def test_truth_hints_files_carry_the_truths_color_at_each_point(tmp_path):
    from colorizer_gui.core.hints import load_hints

    truth = np.zeros((60, 80, 3), np.uint8)
    truth[:, :40] = (200, 30, 40)
    truth[:, 40:] = (30, 60, 200)
    path = quality.truth_hints_file(truth, 10, np.random.default_rng(0), tmp_path / "h.colorizer.json")
    hints = load_hints(path)
    assert len(hints) == 10
    for hint in hints:
        if hint.x < 0.45:
            assert hint.rgb == (200, 30, 40)
        elif hint.x > 0.55:
            assert hint.rgb == (30, 60, 200)


def test_aged_inputs_are_fixed_per_photo_and_differ_from_the_clean_l():
    truth = _photo(3)
    clean = quality.input_lightness(truth, 0, None)
    aged = quality.input_lightness(truth, 0, 5)
    assert np.array_equal(aged, quality.input_lightness(truth, 0, 5))
    assert np.abs(aged - clean).mean() > 0.5


def test_color_only_psnr_leaves_the_aging_of_l_out():
    """On an aged input, a copy with the truth's exact colours scores perfectly against
    the colour reference but not against the truth (its L is the aged one)."""
    truth = _photo(4)
    aged = quality.input_lightness(truth, 0, 5)
    perfect_colors = qm.color_reference(truth, aged)
    metrics = qm.image_metrics(truth, perfect_colors, aged)
    assert metrics["psnr_colour"] == qm.PSNR_CAP or metrics["psnr_colour"] > 60
    assert metrics["psnr"] < 40
    # With the truth's own L the reference is the truth, up to rounding.
    clean = color.lightness(truth)
    assert qm.psnr(truth, qm.color_reference(truth, clean)) > 40
