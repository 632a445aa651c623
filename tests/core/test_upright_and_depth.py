"""Every photo upright and at its real brightness: EXIF/TIFF orientation in every
format (applied once, whichever library decodes), TIFF bit depths Pillow's modes
hide (12-bit, 32-bit unsigned, float), multi-page TIFFs, and formats that must be
named as unsupported rather than "damaged"."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import photo_factory as pf
from colorizer_gui.core.photo import PhotoError, load_photo, save_photo

FORMATS = [("JPEG", ".jpg", False), ("PNG", ".png", False), ("WEBP", ".webp", False),
           ("HEIF", ".heic", False), ("TIFF", ".tif", False), ("TIFF", ".tif", True)]


def _upright_8bit(pixels: np.ndarray) -> np.ndarray:
    return pixels if pixels.dtype == np.uint8 else (pixels // 257).astype(np.uint8)


def assert_same_picture(got: np.ndarray, upright: np.ndarray, tolerance: float = 25) -> None:
    """Same size and the same colour in each quadrant: a flip or turn shows at once."""
    got, upright = _upright_8bit(got), _upright_8bit(upright)
    assert got.shape[:2] == upright.shape[:2], f"size {got.shape[:2]} instead of {upright.shape[:2]}"
    if got.ndim == 2:
        got = np.repeat(got[:, :, None], 3, axis=2)
        upright = np.repeat(cv2.cvtColor(upright, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    assert np.abs(pf.quadrant_means(got) - pf.quadrant_means(upright)).max() < tolerance


@pytest.mark.parametrize("fmt,ext,sixteen", FORMATS, ids=["jpeg", "png", "webp", "heic", "tiff8", "tiff16"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_in_every_format_loads_upright(tmp_path, fmt, ext, sixteen, orientation):
    if fmt == "HEIF":
        pytest.importorskip("pillow_heif")
    src = tmp_path / f"o{orientation}{ext}"
    upright = pf.make_oriented(src, fmt, orientation, sixteen=sixteen)
    photo = load_photo(src)
    assert photo.pixels.dtype == (np.uint16 if sixteen else np.uint8)
    assert_same_picture(photo.pixels, upright)


class GrayBackend:
    """Predicts "no colour": the copy is the photo's own gray, upright or not."""

    name = "gray"

    def render_shape(self, height, width, render_size):
        return 32, 32

    def predict_ab(self, lightness):
        return np.zeros((*lightness.shape, 2), np.float32)


class Job:
    def should_stop(self):
        return False


def test_the_windows_save_says_which_page_of_a_tiff_it_colorized(tmp_path, monkeypatch):
    from colorizer_gui.gui import backend_cache, workers

    monkeypatch.setattr(backend_cache.BACKENDS, "get", lambda config: GrayBackend())
    src = pf.make_multipage_tiff(tmp_path / "scan.tif", [pf.gray_scene(15, 20), pf.gray_scene(60, 80)])
    result = workers.save(Job(), str(src), backend_cache.BackendConfig("cgan", "cpu"), None, None)
    assert "page 2 (the largest, 80 x 60)" in result["note"]
    with Image.open(result["dest"]) as im:
        assert im.size == (80, 60)


@pytest.mark.parametrize("sixteen", [False, True], ids=["tiff8", "tiff16"])
@pytest.mark.parametrize("orientation", [2, 5, 6, 7, 8])
def test_rotated_tiff_color_copy_is_upright_through_the_guis_save(tmp_path, monkeypatch, sixteen, orientation):
    """The window's Save runs gui.workers.save: load, colorize, save_colorized."""
    from colorizer_gui.gui import backend_cache, workers

    monkeypatch.setattr(backend_cache.BACKENDS, "get", lambda config: GrayBackend())
    src = tmp_path / "scan.tif"
    upright = pf.make_oriented(src, "TIFF", orientation, sixteen=sixteen)
    result = workers.save(Job(), str(src), backend_cache.BackendConfig("cgan", "cpu"), None, None)
    with Image.open(result["dest"]) as im:
        assert im.getexif().get(274, 1) == 1
    written = cv2.imread(result["dest"], cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    assert written.shape[:2] == upright.shape[:2]
    # The copy is gray (no colour predicted): its quadrants must rank in brightness
    # as the upright card's do (blue < red < green < white); a flip or turn would not.
    brightness = pf.quadrant_means(_upright_8bit(written)).mean(axis=1)
    expected = pf.quadrant_means(cv2.cvtColor(_upright_8bit(upright), cv2.COLOR_RGB2GRAY)[:, :, None]
                                 .repeat(3, axis=2)).mean(axis=1)
    assert list(np.argsort(brightness)) == list(np.argsort(expected))


def test_the_decoders_turn_tiffs_upright_themselves():
    """What photo.py relies on (requirements.txt pins both): Pillow 13 turns a TIFF
    upright as it loads it, OpenCV's TIFF decoder does even with IMREAD_UNCHANGED,
    and OpenCV ignores a PNG's eXIf orientation."""
    import io
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        upright = pf.make_oriented(Path(tmp) / "o6.tif", "TIFF", 6)
        with Image.open(Path(tmp) / "o6.tif") as im:
            im.load()
            assert np.array_equal(np.asarray(im), upright) and im.getexif().get(274) is None
        upright16 = pf.make_oriented(Path(tmp) / "o6-16.tif", "TIFF", 6, sixteen=True)
        decoded = cv2.imdecode(np.fromfile(Path(tmp) / "o6-16.tif", np.uint8), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), upright16)
        stored = pf.ramp16(20, 30)
        png = pf.make_png16(Path(tmp) / "o6.png", stored, exif=pf.exif_bytes(6))
        decoded = cv2.imdecode(np.frombuffer(png.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), stored)
        del io


# ------------------------------------------------------------------ bit depth


def test_12_bit_tiff_is_scaled_by_its_real_depth(tmp_path):
    values = (np.linspace(0, 4095, 64 * 48).reshape(48, 64)).astype(np.uint16)
    values[:] = np.clip(values, 0, 4095)
    photo = load_photo(pf.make_tiff12(tmp_path / "film12.tif", values))
    assert photo.pixels.dtype == np.uint16 and photo.pixels.shape == (48, 64)
    # brightness as the scan shows it: mid-gray stays mid-gray, white is white
    expected = values.astype(np.float64) * 65535 / 4095
    assert np.abs(photo.pixels - expected).max() <= 1
    assert 120 < photo.pixels.mean() / 257 < 135


def test_32_bit_unsigned_tiff_keeps_its_tones(tmp_path):
    ramp = np.linspace(0, 2**32 - 1, 40 * 30).reshape(30, 40).astype(np.uint32)
    photo = load_photo(pf.make_tiff_u32(tmp_path / "u32.tif", ramp))
    expected = (ramp >> 16).astype(np.uint16)
    assert np.abs(photo.pixels.astype(int) - expected).max() <= 1
    assert photo.pixels[0, 0] < 100 and photo.pixels[-1, -1] > 65000  # dark stays dark


@pytest.mark.parametrize("orientation", [None, 6])
def test_float_rgb_tiff_is_read(tmp_path, orientation):
    upright = pf.asymmetric_rgb(32, 48)
    stored = upright if orientation is None else pf.orientation_source(upright, orientation)
    src = pf.make_tiff_float_rgb(tmp_path / "hdr.tif", stored.astype(np.float32) / 255.0, orientation)
    photo = load_photo(src)
    assert photo.pixels.dtype == np.uint16
    assert_same_picture(photo.pixels, upright, tolerance=2)


# ------------------------------------------------------------------ pages


def test_multi_page_tiff_with_a_thumbnail_first_gives_the_full_page(tmp_path):
    thumb = pf.gray_scene(60, 80, seed=1)
    full = pf.gray_scene(300, 400, seed=1)
    photo = load_photo(pf.make_multipage_tiff(tmp_path / "scan.tif", [thumb, full, thumb]))
    assert photo.pixels.shape == (300, 400)
    assert np.array_equal(photo.pixels, full)
    assert any("3 pages" in note and "page 2" in note for note in photo.notes)


def test_multi_page_16_bit_tiff_reads_the_largest_page(tmp_path):
    import tifffile

    small, large = pf.ramp16(10, 20), pf.ramp16(40, 60)
    src = tmp_path / "pages16.tif"
    tifffile.imwrite(src, small, photometric="rgb")
    tifffile.imwrite(src, large, photometric="rgb", append=True)
    photo = load_photo(src)
    assert np.array_equal(photo.pixels, large) and "page 2" in photo.notes[0]


def test_single_page_photo_has_no_notes(tmp_path):
    assert load_photo(pf.make_tiff(tmp_path / "one.tif", pf.gray_scene(20, 30))).notes == []


# ------------------------------------------------------------------ formats


@pytest.mark.parametrize("name", ["IMG_0001.CR2", "DSC_0001.nef", "DSC00001.ARW", "scan.dng"])
def test_camera_raw_is_named_as_unsupported_with_what_to_do(tmp_path, name):
    # RAW files are TIFF-shaped: give them a real TIFF body, as cameras do.
    src = pf.make_tiff(tmp_path / name, pf.gray_scene(20, 30))
    with pytest.raises(PhotoError, match=r"not supported \(camera RAW: export a TIFF or JPEG"):
        load_photo(src)


def test_dng_is_recognised_by_its_tag_whatever_its_name(tmp_path):
    from PIL import TiffImagePlugin

    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[50706] = bytes([1, 4, 0, 0])  # DNGVersion
    src = tmp_path / "renamed.tif"
    Image.fromarray(pf.gray_scene(20, 30)).save(src, format="TIFF", tiffinfo=info)
    with pytest.raises(PhotoError, match="camera RAW"):
        load_photo(src)


def test_avif_is_read_when_pillow_can(tmp_path):
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF")
    src = tmp_path / "photo.avif"
    Image.fromarray(pf.asymmetric_rgb()).save(src, format="AVIF", quality=90)
    photo = load_photo(src)
    assert_same_picture(photo.pixels, pf.asymmetric_rgb())


@pytest.mark.parametrize("kind", [b"tEXt", b"tIME"])
def test_png_whose_only_fault_is_an_optional_chunk_checksum_is_read(tmp_path, kind):
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", "scanned 1998")
    image = Image.fromarray(pf.gray_scene(20, 30))
    png = pf.encode(image, "PNG", pnginfo=meta)
    if kind == b"tIME":  # after IDAT
        at = png.index(b"IEND") - 4
        png = png[:at] + pf.png_chunk(b"tIME", bytes(7)) + png[at:]
    src = tmp_path / "old.png"
    src.write_bytes(pf.corrupt_png_chunk_crc(png, kind))
    photo = load_photo(src)
    assert np.array_equal(photo.pixels, pf.gray_scene(20, 30))
    if kind == b"tEXt":  # Pillow does not check chunks after the picture: nothing to tell
        assert any(kind.decode() in note and "ignored" in note for note in photo.notes)


def test_png_with_a_bad_critical_chunk_is_still_damaged(tmp_path):
    png = pf.encode(Image.fromarray(pf.gray_scene(20, 30)), "PNG")
    src = tmp_path / "bad.png"
    src.write_bytes(pf.corrupt_png_chunk_crc(png, b"IHDR"))
    with pytest.raises(PhotoError, match="damaged"):
        load_photo(src)


def test_save_keeps_the_upright_pixels_and_says_orientation_1(tmp_path):
    src = tmp_path / "o8.tif"
    upright = pf.make_oriented(src, "TIFF", 8)
    photo = load_photo(src)
    out = save_photo(photo.pixels, tmp_path / "out.tif", like=photo)
    with Image.open(out) as im:
        im.load()
        assert np.array_equal(np.asarray(im), upright)
