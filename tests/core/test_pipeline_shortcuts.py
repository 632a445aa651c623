"""Every speed or memory shortcut gives (nearly) the same pixels as the plain way.

The fast paths: ``color.join_lab`` (8-bit Lab for 8-bit output, affine ab
upsampling for 16-bit and float, saturation applied to the small ab, OpenCV
rounding) against ``color.join_lab_plain``; the two-step area shrink of
``color.resize_plane``; the gray
lookup tables of ``color.lightness``; 16-bit PNG/TIFF written without copying
the encoded bytes; the batch engine's pixel budget for decoding ahead. No
timings are asserted here (those live in bench/).
"""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from colorizer_gui.core import batch, color
from colorizer_gui.core.photo import load_photo, photo_pixel_count, save_photo

from photo_factory import gray_scene, make_jpeg, make_png, make_png16, ramp16


def photo_like_lightness(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth shapes plus grain, in [0, 100], like the L of a scanned print."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 50 + 30 * np.sin(xs / 17) * np.cos(ys / 23) + 10 * np.sin((xs + ys) / 7)
    return np.clip(base + rng.normal(0, 4, (height, width)), 0, 100).astype(np.float32)


def predicted_ab(height: int, width: int, seed: int = 1, strength: float = 35.0) -> np.ndarray:
    """A smooth ab field as a network predicts it at render size."""
    rng = np.random.default_rng(seed)
    ab = rng.normal(0, strength, (height, width, 2)).astype(np.float32)
    return cv2.GaussianBlur(ab, (0, 0), 2.0)


@pytest.fixture
def small_strips(monkeypatch):
    """Many strips on a small photo, so strip seams are exercised quickly."""
    monkeypatch.setattr(color, "_STRIP_ROWS", 37)


@pytest.mark.parametrize("saturation", [1.0, 0.0, 1.6])
def test_fast_join_matches_plain_join_in_8_bit(small_strips, saturation):
    # The 8-bit path works in OpenCV's 8-bit Lab (L in steps of 0.39, a and b in
    # whole units), so "the same" is judged as an eye would: by CIE Delta-E
    # between the two outputs, not by RGB levels (1 unit of a shifts a dark
    # saturated red by several levels, since sRGB is steepest near black).
    lightness = photo_like_lightness(301, 410)
    ab = predicted_ab(48, 64)
    fast = color.join_lab(eight_bit(lightness), ab, saturation, np.uint8)
    plain = color.join_lab_plain(lightness, ab, saturation, np.uint8)
    assert fast.shape == plain.shape == (301, 410, 3) and fast.dtype == np.uint8
    delta_e = np.linalg.norm(color.rgb_to_lab(fast) - color.rgb_to_lab(plain), axis=2)
    assert delta_e.mean() < 0.8                 # measured: 0.6 (0.14 for gray)
    assert np.percentile(delta_e, 99) < 2.0     # under a just noticeable difference (about 2.3)
    assert delta_e.max() < 3.0
    levels = np.abs(fast.astype(np.int16) - plain.astype(np.int16))
    assert levels.mean() < 0.75 and np.percentile(levels, 99.9) <= 3
    if saturation == 0.0:
        assert levels.max() <= 1 and (fast.max(axis=2) - fast.min(axis=2)).max() <= 1  # gray stays gray
    # The same pixels in OpenCV's channel order, for the encoders.
    np.testing.assert_array_equal(color.join_lab(eight_bit(lightness), ab, saturation, np.uint8, bgr=True),
                                  fast[:, :, ::-1])


@pytest.mark.parametrize("saturation", [1.0, 0.0, 1.6])
def test_exact_join_matches_plain_join_in_8_bit(small_strips, saturation):
    # Float L (lossless outputs: PNG, TIFF) takes the float path: within one level.
    lightness = photo_like_lightness(301, 410)
    ab = predicted_ab(48, 64)
    for bgr in (False, True):
        fast = color.join_lab(lightness, ab, saturation, np.uint8, bgr=bgr).astype(np.int16)
        plain = color.join_lab_plain(lightness, ab, saturation, np.uint8).astype(np.int16)
        diff = np.abs(fast[:, :, ::-1] - plain) if bgr else np.abs(fast - plain)
        assert diff.max() <= 1          # never more than one level
        assert diff.mean() < 0.01       # and almost everywhere identical


def eight_bit(lightness: np.ndarray) -> np.ndarray:
    """L in OpenCV's 8-bit Lab scale, as ``color.lightness8`` gives it."""
    return cv2.convertScaleAbs(lightness, alpha=color.L8_SCALE)


def test_lightness8_is_the_rounded_lightness():
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(color.lightness8(gray), eight_bit(color.lightness(gray)))


def test_lightness8_of_rgb_is_within_a_level_or_two_of_the_rounded_lightness():
    # OpenCV's integer RGB -> Lab (3x faster on a 12 MP scan): a gray scan stored
    # as RGB stays within one 8-bit level (0.39 L), colours within two.
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    gray_rgb = np.repeat(levels[:, :, None], 3, axis=2)
    diff = np.abs(color.lightness8(gray_rgb).astype(int) - eight_bit(color.lightness(gray_rgb)))
    assert diff.max() <= 1
    rgb = np.random.default_rng(2).integers(0, 256, (600, 210, 3), dtype=np.uint8)  # two strips
    diff = np.abs(color.lightness8(rgb).astype(int) - eight_bit(color.lightness(rgb)))
    assert diff.max() <= 2 and diff.mean() < 0.5


def test_lossy_copies_take_the_8_bit_path_and_lossless_copies_stay_exact(tmp_path):
    from colorizer_gui.core import pipeline

    gray = gray_scene(90, 120)
    jpeg = load_photo(make_jpeg(tmp_path / "a.jpg", gray))
    png = load_photo(make_png(tmp_path / "b.png", gray))
    assert pipeline.photo_lightness(jpeg).dtype == np.uint8
    assert pipeline.photo_lightness(png).dtype == np.float32
    backend = _HalfBackend()
    out = load_photo(pipeline.colorize_file(png.path, tmp_path / "out", backend)).pixels
    lightness = color.lightness(gray)
    ab = backend.predict_ab(color.resize_plane(lightness, 22, 30))
    assert np.abs(out.astype(np.int16) - color.join_lab_plain(lightness, ab).astype(np.int16)).max() <= 1


def test_fast_join_keeps_the_lightness_in_8_bit():
    lightness = photo_like_lightness(120, 160, seed=7)
    rgb = color.join_lab(eight_bit(lightness), predicted_ab(20, 24, seed=8), 1.0, np.uint8)
    plain = color.join_lab_plain(lightness, predicted_ab(20, 24, seed=8), 1.0, np.uint8)
    ours, theirs = (np.abs(color.lightness(x) - lightness).mean() for x in (rgb, plain))
    assert ours < 0.25 and ours < theirs + 0.1  # L's own 8-bit rounding costs at most 0.2


@pytest.mark.parametrize("shape, target", [((2000, 3000), (128, 192)), ((3000, 4000), (144, 192)),
                                           ((4000, 6000), (128, 192)), ((90, 4000), (3, 192)),
                                           ((640, 480), (192, 144))])
def test_fast_area_shrink_matches_one_area_resize(shape, target):
    lightness = photo_like_lightness(*shape, seed=9)
    fast = color.resize_plane(lightness, *target)
    plain = cv2.resize(lightness, target[::-1], interpolation=cv2.INTER_AREA)
    assert fast.shape == plain.shape == target and fast.dtype == np.float32
    # 8-bit L (what 8-bit photos use) shrinks the same way.
    fast8 = color.resize_plane(cv2.convertScaleAbs(lightness, alpha=color.L8_SCALE), *target)
    assert fast8.dtype == np.uint8 and np.abs(color.lightness_float(fast8) - plain).mean() < 0.6
    # Averages of nearly the same pixels (L in [0, 100]; this texture is harder than a photo).
    assert np.abs(fast - plain).mean() < 0.5
    assert np.abs(fast - plain).max() < 2.5


def test_fast_join_matches_plain_join_in_16_bit_and_float(small_strips):
    lightness = photo_like_lightness(157, 203, seed=3)
    ab = predicted_ab(40, 52, seed=4)
    fast16 = color.join_lab(lightness, ab, 1.0, np.uint16).astype(np.int64)
    plain16 = color.join_lab_plain(lightness, ab, 1.0, np.uint16).astype(np.int64)
    assert np.abs(fast16 - plain16).max() <= 257  # one 8-bit level
    assert np.abs(fast16 - plain16).mean() < 3
    fastf = color.join_lab(lightness, ab, 1.0, np.float32)
    plainf = color.join_lab_plain(lightness, ab, 1.0, np.float32)
    assert fastf.dtype == np.float32 and fastf.min() >= 0.0 and fastf.max() <= 1.0
    assert np.abs(fastf - plainf).max() < 1.0 / 255


def test_fast_join_strips_are_seamless(monkeypatch):
    lightness = photo_like_lightness(200, 150)
    ab = predicted_ab(30, 25)
    monkeypatch.setattr(color, "_STRIP_ROWS", 10_000)
    whole = color.join_lab(lightness, ab).astype(np.int16)
    monkeypatch.setattr(color, "_STRIP_ROWS", 13)
    strips = color.join_lab(lightness, ab).astype(np.int16)
    assert np.abs(whole - strips).max() <= 1
    assert (whole != strips).mean() < 0.001


def test_fast_join_keeps_the_lightness_of_the_photo():
    gray = gray_scene(240, 320)
    lightness = color.lightness(gray)
    rgb = color.join_lab(lightness, predicted_ab(24, 32))
    assert np.abs(color.lightness(rgb) - lightness).mean() < 0.5


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_gray_lightness_table_equals_the_color_conversion(dtype):
    rng = np.random.default_rng(5)
    top = np.iinfo(dtype).max
    gray = rng.integers(0, top + 1, (70, 90), dtype=dtype)
    gray[0, :2] = (0, top)
    fast = color.lightness(gray)
    plain = cv2.cvtColor(np.repeat((gray.astype(np.float32) / top)[:, :, None], 3, axis=2),
                         cv2.COLOR_RGB2Lab)[:, :, 0]
    assert fast.dtype == np.float32 and fast.shape == gray.shape
    assert np.abs(fast - plain).max() < 1e-3
    # Same as the strip path an RGB photo of the same gray takes.
    assert np.abs(fast - color.lightness(np.dstack([gray] * 3))).max() < 1e-3


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_color_files_written_without_copies_read_back_exactly(tmp_path, ext):
    src = make_png16(tmp_path / "gray16.png", ramp16(40, 56))
    photo = load_photo(src)
    photo.info["dpi"] = (600.0, 600.0)
    rng = np.random.default_rng(6)
    rgb = rng.integers(0, 65536, (40, 56, 3), dtype=np.uint16)
    out = save_photo(rgb, tmp_path / f"out{ext}", like=photo)
    back = load_photo(out)
    assert back.pixels.dtype == np.uint16
    np.testing.assert_array_equal(back.pixels, rgb)


def test_photo_pixel_count_reads_the_header_only(tmp_path):
    src = make_jpeg(tmp_path / "a.jpg", gray_scene(30, 50))
    assert photo_pixel_count(src) == 1500
    (tmp_path / "junk.jpg").write_bytes(b"not a photo")
    assert photo_pixel_count(tmp_path / "junk.jpg") == 0
    assert photo_pixel_count(tmp_path / "missing.jpg") == 0


class _HalfBackend:
    """Minimal backend: constant ab at a quarter size (deterministic)."""

    name = "half"

    def load(self) -> None:
        pass

    def render_shape(self, height: int, width: int, render_size):  # noqa: ANN001
        return max(1, height // 4), max(1, width // 4)

    def predict_ab(self, lightness: np.ndarray) -> np.ndarray:
        ab = np.empty((*lightness.shape, 2), np.float32)
        ab[:, :, 0] = (lightness - 50) * 0.3
        ab[:, :, 1] = 20
        return ab


def test_pixel_budget_limits_photos_decoded_ahead_and_changes_no_output(tmp_path, monkeypatch):
    photos = [make_jpeg(tmp_path / "in" / f"p{i}.jpg", gray_scene(60, 80, seed=i)) for i in range(5)]
    roomy = batch.run_batch([tmp_path / "in"], tmp_path / "roomy", _HalfBackend())
    assert len(roomy.done) == 5

    live = 0
    most = 0
    lock = threading.Lock()
    real_decode, real_merge = batch._decode, batch._merge_and_save

    def counting_decode(src: Path, *rest):
        nonlocal live, most
        with lock:
            live += 1
            most = max(most, live)
        return real_decode(src, *rest)

    def counting_merge(*args):
        nonlocal live
        try:
            return real_merge(*args)
        finally:
            with lock:
                live -= 1

    monkeypatch.setattr(batch, "_decode", counting_decode)
    monkeypatch.setattr(batch, "_merge_and_save", counting_merge)
    monkeypatch.setattr(batch, "PREFETCH_PIXELS", 60 * 80)  # room for one photo only
    tight = batch.run_batch([tmp_path / "in"], tmp_path / "tight", _HalfBackend())
    assert len(tight.done) == 5 and not tight.failed
    # One decoded ahead, one with the backend, one being saved (and one waiting for the writer).
    assert most <= 4
    for (src_a, out_a), (src_b, out_b) in zip(sorted(roomy.done), sorted(tight.done)):
        assert src_a == src_b
        np.testing.assert_array_equal(load_photo(out_a).pixels, load_photo(out_b).pixels)
    assert sorted(p.name for p in photos) == sorted(s.name for s, _ in tight.done)


@pytest.mark.parametrize("name, sixteen, alpha", [("a.jpg", False, False), ("a.png", False, True),
                                                  ("a.webp", False, False), ("a.bmp", False, False),
                                                  ("a.png", True, True), ("a.tif", True, False)])
def test_saving_bgr_pixels_writes_the_same_file_as_rgb(tmp_path, name, sixteen, alpha):
    # The pipeline hands OpenCV's encoders BGR to spare a swap of the photo; every
    # format must come out as if it had been given RGB.
    src = make_png16(tmp_path / "src.png", ramp16(30, 44)) if sixteen else make_jpeg(tmp_path / "src.jpg",
                                                                                      gray_scene(30, 44))
    like = load_photo(src)
    if alpha:
        like.alpha = np.linspace(0, like.pixels.max(), 30 * 44).reshape(30, 44).astype(like.pixels.dtype)
    rng = np.random.default_rng(11)
    top = 65535 if sixteen else 255
    rgb = rng.integers(0, top + 1, (30, 44, 3), dtype=np.uint16 if sixteen else np.uint8)
    from_rgb = load_photo(save_photo(rgb.copy(), tmp_path / "rgb" / name, like=like))
    from_bgr = load_photo(save_photo(np.ascontiguousarray(rgb[:, :, ::-1]), tmp_path / "bgr" / name, like=like,
                                     scratch=True, bgr=True))
    np.testing.assert_array_equal(from_bgr.pixels, from_rgb.pixels)
    assert (from_bgr.alpha is None) == (from_rgb.alpha is None)
    if from_rgb.alpha is not None:
        np.testing.assert_array_equal(from_bgr.alpha, from_rgb.alpha)


@pytest.mark.parametrize("budget, most_merging", [(None, batch.WRITERS), (60 * 80, 1)])
def test_writers_merge_side_by_side_only_within_the_pixel_budget(tmp_path, monkeypatch, budget, most_merging):
    for i in range(8):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", gray_scene(60, 80, seed=i))
    if budget is not None:
        monkeypatch.setattr(batch, "PREFETCH_PIXELS", budget)  # room for one photo only
    live = most = 0
    lock = threading.Lock()
    real_merge = batch._merge_and_save

    def slow_merge(*args):
        nonlocal live, most
        with lock:
            live += 1
            most = max(most, live)
        try:
            threading.Event().wait(0.05)  # long enough for the next photo to arrive
            return real_merge(*args)
        finally:
            with lock:
                live -= 1

    monkeypatch.setattr(batch, "_merge_and_save", slow_merge)
    result = batch.run_batch([tmp_path / "in"], tmp_path / "out", _HalfBackend())
    assert len(result.done) == 8 and not result.failed
    assert [src.name for src, _ in result.done] == [f"p{i}.jpg" for i in range(8)]  # reported in order
    assert most == most_merging


@pytest.mark.parametrize("subsampling", [0, 2])
def test_jpegs_decoded_by_opencv_give_exactly_pillows_pixels(tmp_path, subsampling):
    from PIL import Image

    rng = np.random.default_rng(3)
    gray = gray_scene(90, 120)
    color = np.clip(np.dstack([gray, gray[::-1], gray[:, ::-1]]) + rng.normal(0, 9, (90, 120, 3)), 0, 255)
    for pixels in (gray, color.astype(np.uint8)):
        src = tmp_path / "p.jpg"
        Image.fromarray(pixels).save(src, quality=90, subsampling=subsampling)
        with Image.open(src) as im:
            np.testing.assert_array_equal(load_photo(src).pixels, np.asarray(im.convert(im.mode)))
