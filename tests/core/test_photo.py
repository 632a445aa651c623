"""Photo I/O with real files: every format and bit depth a family might have,
metadata kept, bad files refused with a clear message, outputs never clobbering."""
from __future__ import annotations

import errno
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the factories

import photo_factory as pf  # noqa: E402
from colorizer_gui.core.photo import decode as photo_decode  # noqa: E402
from colorizer_gui.core.photo import (  # noqa: E402
    SUPPORTED_EXTENSIONS, Photo, PhotoError, find_photos, is_photo_file, load_photo,
    output_extension, output_path, save_photo,
)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def no_partials(folder: Path) -> bool:
    return not [p for p in Path(folder).iterdir() if p.name.endswith(".partial")]


def mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


# ------------------------------------------------------------------ round trips

LOSSLESS_8BIT = [
    ("PNG", ".png", lambda p, px: pf.make_png(p, px)),
    ("TIFF", ".tif", lambda p, px: pf.make_tiff(p, px)),
    ("BMP", ".bmp", lambda p, px: pf.make_bmp(p, px)),
    ("WEBP", ".webp", lambda p, px: pf.make_webp(p, px, lossless=True)),
]


@pytest.mark.parametrize("fmt,ext,make", LOSSLESS_8BIT, ids=[f[0] for f in LOSSLESS_8BIT])
def test_lossless_formats_round_trip_exactly(tmp_path, fmt, ext, make):
    pixels = pf.color_scene()
    src = make(tmp_path / f"scan{ext}", pixels)
    photo = load_photo(src)
    assert photo.format == fmt
    assert photo.pixels.dtype == np.uint8 and photo.pixels.shape == pixels.shape
    assert np.array_equal(photo.pixels, pixels)

    dest = output_path(src, tmp_path / "out", photo.format)
    assert dest.name == f"scan_color{ext}"
    written = save_photo(photo.pixels, dest, like=photo)
    assert written == dest
    again = load_photo(written)
    assert again.format == fmt
    assert np.array_equal(again.pixels, pixels)


@pytest.mark.parametrize("fmt,ext,make", [
    ("JPEG", ".jpg", lambda p, px: pf.make_jpeg(p, px, quality=95)),
    ("WEBP", ".webp", lambda p, px: pf.make_webp(p, px, lossless=False)),
], ids=["JPEG", "WEBP-lossy"])
def test_lossy_formats_round_trip_closely(tmp_path, fmt, ext, make):
    pixels = pf.color_scene()
    src = make(tmp_path / f"scan{ext}", pixels)
    photo = load_photo(src)
    assert photo.format == fmt and photo.pixels.shape == pixels.shape
    assert mean_abs(photo.pixels, pixels) < 4
    written = save_photo(photo.pixels, output_path(src, tmp_path, photo.format), like=photo)
    assert written.suffix == ext
    with Image.open(written) as im:
        assert im.format == fmt
    assert mean_abs(load_photo(written).pixels, photo.pixels) < 3


def test_jpeg_saved_at_high_quality_with_full_color_resolution(tmp_path):
    src = pf.make_jpeg(tmp_path / "a.jpg", pf.color_scene())
    photo = load_photo(src)
    out = save_photo(photo.pixels, tmp_path / "o.jpg", like=photo)
    with Image.open(out) as im:
        from PIL import JpegImagePlugin
        assert JpegImagePlugin.get_sampling(im) == 0  # 4:4:4, no colour smearing
        # quantisation tables of quality >= 90 have small first entries
        assert max(table[0] for table in im.quantization.values()) <= 4


def test_half_resolution_chroma_jpeg_keeps_the_metadata_and_the_picture(tmp_path):
    icc = pf.srgb_icc()
    src = pf.make_jpeg(tmp_path / "a.jpg", pf.color_scene(), exif=pf.exif_bytes(orientation=6),
                       icc=icc, dpi=(300, 300))
    photo = load_photo(src)
    out = save_photo(photo.pixels, tmp_path / "o.jpg", like=photo, half_res_chroma=True)
    with Image.open(out) as im:
        from PIL import JpegImagePlugin
        assert JpegImagePlugin.get_sampling(im) == 2  # 4:2:0
        assert im.info.get("icc_profile") == icc
        assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)
        exif = im.getexif()
        assert exif[271] == "TestCam" and exif.get(274) == 1
        assert exif.get_ifd(0x8769).get(36867) == "1962:07:14 10:00:00"
    # This test scene has per-pixel colour noise, which half-resolution chroma smooths.
    assert mean_abs(load_photo(out).pixels, photo.pixels) < 4


def test_webp_lossless_source_gives_lossless_output(tmp_path):
    pixels = pf.color_scene()
    photo = load_photo(pf.make_webp(tmp_path / "a.webp", pixels, lossless=True))
    assert photo.info["lossless"] is True
    out = save_photo(pixels, tmp_path / "o.webp", like=photo)
    assert b"VP8L" in out.read_bytes()[:64]
    lossy = load_photo(pf.make_webp(tmp_path / "b.webp", pixels, lossless=False))
    assert lossy.info["lossless"] is False


def test_gray_8bit_png_loads_as_2d(tmp_path):
    gray = pf.gray_scene()
    photo = load_photo(pf.make_png(tmp_path / "g.png", gray))
    assert photo.pixels.shape == gray.shape and photo.pixels.dtype == np.uint8
    assert np.array_equal(photo.pixels, gray)
    assert photo.is_color is False and photo.alpha is None


def test_one_bit_png_loads_as_uint8_black_and_white(tmp_path):
    bits = (np.indices((16, 20)).sum(axis=0) % 2).astype(bool)
    path = tmp_path / "bits.png"
    Image.fromarray(bits).save(path)
    photo = load_photo(path)
    assert photo.pixels.dtype == np.uint8 and photo.pixels.ndim == 2
    assert set(np.unique(photo.pixels)) == {0, 255}
    assert np.array_equal(photo.pixels == 255, bits)


def test_16bit_gray_png_keeps_16_bits(tmp_path):
    values = pf.ramp16(color=False)
    photo = load_photo(pf.make_png16(tmp_path / "g16.png", values))
    assert photo.pixels.dtype == np.uint16 and photo.pixels.ndim == 2
    assert np.array_equal(photo.pixels, values)
    assert photo.bit_depth == 16


def test_16bit_color_png_keeps_16_bits_through_save(tmp_path):
    values = pf.ramp16()
    src = pf.make_png16(tmp_path / "c16.png", values)
    photo = load_photo(src)
    assert photo.pixels.dtype == np.uint16 and photo.pixels.shape == values.shape
    assert np.array_equal(photo.pixels, values)  # RGB order, not OpenCV's BGR
    out = save_photo(photo.pixels, output_path(src, tmp_path, photo.format), like=photo)
    again = load_photo(out)
    assert again.pixels.dtype == np.uint16
    assert np.array_equal(again.pixels, values)


def test_16bit_color_tiff_keeps_16_bits_through_save(tmp_path):
    values = pf.ramp16()
    src = pf.make_tiff16(tmp_path / "c16.tiff", values)
    photo = load_photo(src)
    assert photo.format == "TIFF" and photo.pixels.dtype == np.uint16
    assert np.array_equal(photo.pixels, values)
    out = save_photo(photo.pixels, output_path(src, tmp_path, photo.format), like=photo)
    assert out.name == "c16_color.tiff"
    assert np.array_equal(load_photo(out).pixels, values)


def test_16bit_gray_tiff_and_16bit_alpha_png(tmp_path):
    gray = pf.ramp16(color=False)
    photo = load_photo(pf.make_tiff(tmp_path / "g16.tif", gray))
    assert photo.pixels.dtype == np.uint16 and np.array_equal(photo.pixels, gray)

    rgb = pf.ramp16()
    alpha = (np.arange(rgb.shape[0] * rgb.shape[1]).reshape(rgb.shape[:2]) * 131 % 65535).astype(np.uint16)
    photo = load_photo(pf.make_png16(tmp_path / "c16a.png", rgb, alpha=alpha))
    assert np.array_equal(photo.pixels, rgb)
    assert photo.alpha is not None and photo.alpha.dtype == np.uint16
    assert np.array_equal(photo.alpha, alpha)
    out = save_photo(photo.pixels, tmp_path / "o.png", like=photo)
    again = load_photo(out)
    assert np.array_equal(again.pixels, rgb) and np.array_equal(again.alpha, alpha)

    gray = pf.ramp16(color=False)
    photo = load_photo(pf.make_png16(tmp_path / "ga16.png", gray, alpha=65535 - gray))
    assert photo.pixels.ndim == 2 and photo.pixels.dtype == np.uint16
    assert np.array_equal(photo.pixels, gray) and np.array_equal(photo.alpha, 65535 - gray)


def test_16bit_pixels_become_8bit_for_jpeg(tmp_path):
    values = pf.ramp16()
    photo = load_photo(pf.make_png16(tmp_path / "c16.png", values))
    out = save_photo(photo.pixels, tmp_path / "o.jpg", like=photo)
    saved = load_photo(out)
    assert saved.pixels.dtype == np.uint8
    assert mean_abs(saved.pixels, values / 257.0) < 6


def test_16bit_png_output_keeps_icc_exif_and_dpi(tmp_path):
    icc = pf.srgb_icc()
    src = pf.make_png16(tmp_path / "c16.png", pf.ramp16(), exif=pf.exif_bytes(), icc=icc)
    photo = load_photo(src)
    photo.info["dpi"] = (600.0, 600.0)
    out = save_photo(photo.pixels, tmp_path / "o.png", like=photo)
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == icc
        assert im.getexif()[271] == "TestCam"
        assert tuple(round(v) for v in im.info["dpi"]) == (600, 600)
        im.load()  # the chunks we inserted leave a valid PNG


def test_int32_and_float_tiffs_become_uint16(tmp_path):
    ints = (np.arange(12 * 10).reshape(12, 10) * 500).astype(np.int32)  # up to 59500
    Image.fromarray(ints, mode="I").save(tmp_path / "i.tif")
    photo = load_photo(tmp_path / "i.tif")
    assert photo.pixels.dtype == np.uint16 and np.array_equal(photo.pixels, ints)

    floats = np.linspace(0.0, 1.0, 120, dtype=np.float32).reshape(12, 10)
    Image.fromarray(floats, mode="F").save(tmp_path / "f.tif")
    photo = load_photo(tmp_path / "f.tif")
    assert photo.pixels.dtype == np.uint16
    assert photo.pixels.min() == 0 and photo.pixels.max() == 65535


# ------------------------------------------------------------------ colour modes

def test_cmyk_jpeg_loads_as_correct_rgb(tmp_path):
    upright = pf.asymmetric_rgb()
    photo = load_photo(pf.make_cmyk_jpeg(tmp_path / "print.jpg", upright))
    assert photo.info["source_mode"] == "CMYK"
    assert photo.pixels.shape == upright.shape and photo.pixels.dtype == np.uint8
    expected = pf.quadrant_means(upright)
    assert np.abs(pf.quadrant_means(photo.pixels) - expected).max() < 8  # not inverted, not shifted
    assert photo.is_color


def test_cmyk_jpeg_with_unusable_profile_falls_back_to_plain_conversion(tmp_path):
    upright = pf.asymmetric_rgb()
    # An RGB profile on CMYK data cannot drive the conversion; it must not be kept either.
    photo = load_photo(pf.make_cmyk_jpeg(tmp_path / "print.jpg", upright, icc=pf.srgb_icc()))
    assert np.abs(pf.quadrant_means(photo.pixels) - pf.quadrant_means(upright)).max() < 8
    out = save_photo(photo.pixels, tmp_path / "o.jpg", like=photo)
    with Image.open(out) as im:
        assert im.mode == "RGB"


def test_rgba_png_keeps_alpha_through_save(tmp_path):
    pixels = pf.color_scene(40, 50)
    alpha = np.tile(np.linspace(0, 255, 50).astype(np.uint8), (40, 1))
    src = pf.make_png(tmp_path / "cutout.png", pixels, alpha=alpha)
    photo = load_photo(src)
    assert photo.pixels.shape == (40, 50, 3)
    assert np.array_equal(photo.alpha, alpha)
    for ext in (".png", ".tif", ".webp"):
        out = save_photo(photo.pixels, tmp_path / f"o{ext}", like=photo)
        with Image.open(out) as im:
            assert im.mode == "RGBA", ext
        again = load_photo(out)
        assert np.array_equal(again.alpha, alpha), ext


def test_jpeg_output_drops_alpha_without_compositing(tmp_path):
    pixels = np.full((32, 32, 3), (150, 60, 40), np.uint8)
    alpha = np.zeros((32, 32), np.uint8)  # fully transparent
    photo = load_photo(pf.make_png(tmp_path / "t.png", pixels, alpha=alpha))
    out = save_photo(photo.pixels, tmp_path / "o.jpg", like=photo)
    saved = load_photo(out)
    assert saved.alpha is None
    assert mean_abs(saved.pixels, pixels) < 3  # not turned white


def test_palette_png_with_transparency_gives_alpha(tmp_path):
    src, index = pf.make_palette_png(tmp_path / "pal.png", transparent_index=0)
    photo = load_photo(src)
    assert photo.pixels.ndim == 3 and photo.alpha is not None
    assert np.array_equal(photo.alpha == 0, index == 0)
    assert np.all(photo.alpha[index != 0] == 255)
    assert tuple(photo.pixels[index == 1][0]) == (200, 20, 20)
    out = save_photo(photo.pixels, tmp_path / "o.png", like=photo)
    assert np.array_equal(load_photo(out).alpha == 0, index == 0)


def test_gray_palette_png_loads_as_gray(tmp_path):
    src, index = pf.make_palette_png(tmp_path / "gpal.png", transparent_index=None, gray=True)
    photo = load_photo(src)
    assert photo.pixels.ndim == 2 and photo.alpha is None
    assert np.array_equal(photo.pixels, np.array([0, 80, 160, 250], np.uint8)[index])


def test_gray_with_alpha_png(tmp_path):
    gray = pf.gray_scene(20, 30)
    alpha = np.full((20, 30), 128, np.uint8)
    photo = load_photo(pf.make_png(tmp_path / "la.png", gray, alpha=alpha))
    assert photo.pixels.ndim == 2 and np.array_equal(photo.pixels, gray)
    assert np.array_equal(photo.alpha, alpha)


# ------------------------------------------------------------------ orientation

@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path, orientation):
    src, upright = pf.make_exif_rotated_jpeg(tmp_path / f"o{orientation}.jpg", orientation)
    photo = load_photo(src)
    assert photo.pixels.shape == upright.shape
    assert np.abs(pf.quadrant_means(photo.pixels) - pf.quadrant_means(upright)).max() < 12
    # Pillow's own exif_transpose agrees
    with Image.open(src) as im:
        from PIL import ImageOps
        assert np.abs(np.asarray(ImageOps.exif_transpose(im)).astype(int) - photo.pixels).max() <= 1
    # the EXIF kept for saving says "upright" and keeps the camera tags
    kept = Image.Exif()
    kept.load(photo.exif)
    assert kept[274] == 1 and kept[271] == "TestCam"
    out = save_photo(photo.pixels, tmp_path / "out.jpg", like=photo)
    with Image.open(out) as im:
        assert im.getexif()[274] == 1
        assert im.size == (upright.shape[1], upright.shape[0])


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_applied_to_16bit_png(tmp_path, orientation):
    src, upright = pf.make_exif_rotated_png16(tmp_path / "o.png", orientation)
    photo = load_photo(src)
    assert photo.pixels.dtype == np.uint16
    assert np.array_equal(photo.pixels, upright)


# ------------------------------------------------------------------ metadata

@pytest.mark.parametrize("ext", [".jpg", ".png", ".tif", ".webp"])
def test_exif_and_icc_copied_on_save(tmp_path, ext):
    icc = pf.srgb_icc()
    src = pf.make_jpeg(tmp_path / "src.jpg", exif=pf.exif_bytes(orientation=6), icc=icc, dpi=(300, 300))
    photo = load_photo(src)
    assert photo.icc_profile == icc
    assert photo.info["dpi"] == (300.0, 300.0)
    out = save_photo(photo.pixels, tmp_path / f"out{ext}", like=photo)
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == icc
        exif = im.getexif()
        assert exif[271] == "TestCam" and exif[272] == "Model 1"
        assert exif.get(274, 1) == 1
        if ext != ".tif":  # compressed TIFF: no Exif sub-IFD (documented)
            assert exif.get_ifd(0x8769).get(36867) == "1962:07:14 10:00:00"
        if ext != ".webp":
            assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)


def test_gray_icc_is_dropped_for_rgb_output(tmp_path):
    gray = pf.gray_scene(24, 32)
    src = pf.make_png(tmp_path / "g.png", gray, icc=pf.gray_icc())
    photo = load_photo(src)
    assert photo.icc_profile is None and photo.info["source_icc_space"] == "GRAY"
    rgb = np.dstack([gray] * 3)
    out = save_photo(rgb, tmp_path / "o.png", like=photo)
    with Image.open(out) as im:
        assert "icc_profile" not in im.info
    # and even when a caller hands save_photo a gray profile directly
    forced = Photo(path=src, pixels=gray, format="PNG", icc_profile=pf.gray_icc())
    out = save_photo(rgb, tmp_path / "o2.jpg", like=forced)
    with Image.open(out) as im:
        assert not im.info.get("icc_profile")


def test_uncompressed_tiff_keeps_exif_sub_ifd(tmp_path):
    src = pf.make_tiff(tmp_path / "s.tif", compression="raw", exif=pf.exif_bytes())
    photo = load_photo(src)
    out = save_photo(photo.pixels, tmp_path / "o.tif", like=photo)
    with Image.open(out) as im:
        assert im.info["compression"] == "raw"
        assert im.getexif().get_ifd(0x8769).get(36867) == "1962:07:14 10:00:00"
        assert np.array_equal(np.asarray(im), photo.pixels)


def test_tiff_structure_tags_do_not_leak_into_exif(tmp_path):
    src = pf.make_tiff(tmp_path / "s.tif", compression="raw", exif=pf.exif_bytes())
    photo = load_photo(src)
    kept = Image.Exif()
    kept.load(photo.exif)
    assert kept[271] == "TestCam"
    assert 273 not in kept and 256 not in kept  # StripOffsets, ImageWidth
    out = save_photo(photo.pixels, tmp_path / "o.jpg", like=photo)
    assert load_photo(out).pixels.shape == photo.pixels.shape


# ------------------------------------------------------------------ never touch the original

def test_source_bytes_unchanged_after_load_and_save_next_to_it(tmp_path, monkeypatch):
    src = pf.make_jpeg(tmp_path / "grandma.jpg", exif=pf.exif_bytes(orientation=3))
    before = sha256(src)
    modes = []
    real_open = open

    def spy_open(file, mode="r", *args, **kwargs):
        modes.append(mode)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(photo_decode, "open", spy_open, raising=False)
    photo = load_photo(src)
    assert modes == ["rb"]
    monkeypatch.undo()
    for _ in range(2):
        save_photo(photo.pixels, output_path(src, tmp_path, photo.format), like=photo)
    assert sha256(src) == before
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["grandma.jpg", "grandma_color-2.jpg", "grandma_color.jpg"]


def test_save_never_overwrites_an_existing_file(tmp_path):
    photo = load_photo(pf.make_png(tmp_path / "a.png"))
    dest = tmp_path / "a_color.png"
    dest.write_bytes(b"precious")
    written = save_photo(photo.pixels, dest, like=photo)
    assert dest.read_bytes() == b"precious"
    assert written == tmp_path / "a_color-2.png"
    assert np.array_equal(load_photo(written).pixels, photo.pixels)
    assert no_partials(tmp_path)


def test_unicode_paths(tmp_path):
    folder = tmp_path / "Großmutter – 1950 ☀"
    src = pf.make_jpeg(folder / "Été à Kraków 照片.JPG")
    photo = load_photo(src)
    dest = output_path(src, folder / "couleur", photo.format)
    assert dest.name == "Été à Kraków 照片_color.JPG"
    out = save_photo(photo.pixels, dest, like=photo)
    assert out.exists() and load_photo(out).format == "JPEG"


# ------------------------------------------------------------------ write failures

def _failing(code):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return fail


def test_read_only_folder_gives_plain_message_and_no_temp_file(tmp_path, monkeypatch):
    photo = load_photo(pf.make_png(tmp_path / "a.png"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    monkeypatch.setattr(os, "link", _failing(errno.EROFS))
    monkeypatch.setattr(os, "replace", _failing(errno.EROFS))
    with pytest.raises(PhotoError, match="the folder is read-only") as info:
        save_photo(photo.pixels, out_dir / "a_color.png", like=photo)
    assert str(out_dir) in str(info.value)
    assert list(out_dir.iterdir()) == []


def test_disk_full_gives_plain_message_and_no_temp_file(tmp_path, monkeypatch):
    photo = load_photo(pf.make_png(tmp_path / "a.png"))
    monkeypatch.setattr(os, "fsync", _failing(errno.ENOSPC))
    with pytest.raises(PhotoError, match="the disk is full"):
        save_photo(photo.pixels, tmp_path / "out" / "a_color.png", like=photo)
    assert list((tmp_path / "out").iterdir()) == []


def test_permission_denied_on_create(tmp_path, monkeypatch):
    photo = load_photo(pf.make_png(tmp_path / "a.png"))
    monkeypatch.setattr(os, "open", _failing(errno.EACCES))
    with pytest.raises(PhotoError, match="permission denied"):
        save_photo(photo.pixels, tmp_path / "a_color.png", like=photo)
    assert no_partials(tmp_path)


def test_filesystem_without_hard_links_still_saves(tmp_path, monkeypatch):
    photo = load_photo(pf.make_png(tmp_path / "a.png"))
    monkeypatch.setattr(os, "link", _failing(errno.EPERM))  # as on FAT/exFAT
    (tmp_path / "a_color.png").write_bytes(b"keep me")
    out = save_photo(photo.pixels, tmp_path / "a_color.png", like=photo)
    assert out.name == "a_color-2.png"
    assert (tmp_path / "a_color.png").read_bytes() == b"keep me"
    assert np.array_equal(load_photo(out).pixels, photo.pixels)
    assert no_partials(tmp_path)


def test_bad_pixels_and_unknown_output_format(tmp_path):
    photo = load_photo(pf.make_png(tmp_path / "a.png"))
    with pytest.raises(ValueError):
        save_photo(np.zeros((4, 4, 3), np.float32), tmp_path / "x.png", like=photo)
    with pytest.raises(PhotoError, match="cannot save"):
        save_photo(photo.pixels, tmp_path / "x.heic", like=photo)
    assert no_partials(tmp_path)


# ------------------------------------------------------------------ unreadable files

def test_empty_file(tmp_path):
    path = tmp_path / "holiday.jpg"
    path.write_bytes(b"")
    with pytest.raises(PhotoError, match=r"^holiday\.jpg: the file is empty \(0 bytes\)$"):
        load_photo(path)


@pytest.mark.parametrize("ext,make", [
    (".jpg", lambda p: pf.make_jpeg(p, pf.color_scene(200, 240))),
    (".png", lambda p: pf.make_png(p, pf.color_scene(200, 240))),
    (".tif", lambda p: pf.make_tiff(p, pf.color_scene(200, 240), compression="raw")),
    (".png", lambda p: pf.make_png16(p, pf.ramp16(200, 240))),
], ids=["jpeg", "png", "tiff", "png16"])
@pytest.mark.parametrize("keep", [0.6, 0.02])
def test_truncated_files(tmp_path, ext, make, keep):
    full = make(tmp_path / f"full{ext}")
    cut = pf.make_truncated(tmp_path / f"cut{ext}", full, keep)
    with pytest.raises(PhotoError, match=r"cut short \(truncated\)") as info:
        load_photo(cut)
    assert str(info.value).startswith(f"cut{ext}: ")


def test_random_bytes_named_jpg(tmp_path):
    path = pf.make_random_bytes(tmp_path / "holiday.jpg")
    with pytest.raises(PhotoError, match=r"^holiday\.jpg: not a photo Colorizer can read \(unrecognised format\)$"):
        load_photo(path)


def test_text_file_and_pdf_are_not_photos(tmp_path):
    (tmp_path / "notes.png").write_text("shopping list\n")
    (tmp_path / "doc.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n")
    for name in ("notes.png", "doc.jpg"):
        with pytest.raises(PhotoError, match="unrecognised format"):
            load_photo(tmp_path / name)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(PhotoError, match=r"^gone\.jpg: the file was not found"):
        load_photo(tmp_path / "gone.jpg")
    (tmp_path / "album.jpg").mkdir()
    with pytest.raises(PhotoError, match=r"^album\.jpg: this is a folder, not a photo$"):
        load_photo(tmp_path / "album.jpg")


def test_permission_error_on_read(tmp_path, monkeypatch):
    src = pf.make_jpeg(tmp_path / "locked.jpg")

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(photo_decode, "open", denied, raising=False)
    with pytest.raises(PhotoError, match=r"^locked\.jpg: permission denied"):
        load_photo(src)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_refused_with_its_size(tmp_path):
    bomb = pf.make_png_bomb(tmp_path / "bomb.png", 20000, 20000)
    assert bomb.stat().st_size < 2000
    # (Pillow warns first; with warnings as errors our message has no "W x H" part)
    with pytest.raises(PhotoError, match=r"^bomb\.png: the picture is too large.*400 megapixels"):
        load_photo(bomb)
    # so large that Pillow itself refuses it: still our message
    huge = pf.make_png_bomb(tmp_path / "huge.png", 100000, 100000)
    with pytest.raises(PhotoError, match=r"^huge\.png: the picture is too large.*10000 megapixels"):
        load_photo(huge)
    # a caller's own limit
    small = pf.make_png(tmp_path / "small.png", pf.color_scene(40, 50))
    with pytest.raises(PhotoError, match=r"50 x 40 pixels"):
        load_photo(small, max_pixels=1000)
    assert load_photo(small, max_pixels=2000).pixels.shape == (40, 50, 3)
    from PIL import Image as PILImage
    assert PILImage.MAX_IMAGE_PIXELS is not None  # protection still on


# ------------------------------------------------------------------ is_colour

def test_is_color_tells_color_from_gray_and_sepia(tmp_path):
    gray = pf.gray_scene(192, 256)
    cases = {
        "colour.jpg": (pf.color_scene(192, 256), True),
        "gray_as_rgb.jpg": (np.dstack([gray] * 3), False),
        "sepia_matrix.jpg": (pf.sepia_tone(gray, "matrix"), False),
        "sepia_toned.jpg": (pf.sepia_tone(gray, "lab"), False),
    }
    rng = np.random.default_rng(3)
    noisy = pf.sepia_tone(gray, "matrix").astype(float) + rng.normal(0, 3, (192, 256, 3))
    cases["sepia_noisy_scan.jpg"] = (np.clip(noisy, 0, 255).astype(np.uint8), False)
    faded = gray[..., None] + (pf.color_scene(192, 256).astype(float) - gray[..., None]) * 0.35
    cases["faded_colour.jpg"] = (np.clip(faded, 0, 255).astype(np.uint8), True)
    for name, (pixels, expected) in cases.items():
        photo = load_photo(pf.make_jpeg(tmp_path / name, pixels, quality=85))
        assert photo.is_color is expected, name
    assert load_photo(pf.make_png(tmp_path / "g.png", gray)).is_color is False


# ------------------------------------------------------------------ naming

def test_output_extension_keeps_family_and_spelling():
    assert output_extension("JPEG", Path("a.JPG")) == ".JPG"
    assert output_extension("JPEG", Path("a.jpeg")) == ".jpeg"
    assert output_extension("MPO", Path("a.jpg")) == ".jpg"
    assert output_extension("JPEG", Path("mislabelled.png")) == ".jpg"
    assert output_extension("TIFF", Path("a.TIFF")) == ".TIFF"
    assert output_extension("PNG", Path("a.png")) == ".png"
    assert output_extension("WEBP", Path("a.webp")) == ".webp"
    assert output_extension("BMP", Path("a.bmp")) == ".bmp"
    assert output_extension("HEIF", Path("a.heic")) == ".png"
    assert output_extension("GIF", Path("a.gif")) == ".png"


def test_output_path_counts_up_instead_of_overwriting(tmp_path):
    src = Path("/photos/Wedding 1961.jpg")
    first = output_path(src, tmp_path, "JPEG")
    assert first == tmp_path / "Wedding 1961_color.jpg"
    first.write_bytes(b"x")
    second = output_path(src, tmp_path, "JPEG")
    assert second == tmp_path / "Wedding 1961_color-2.jpg"
    second.write_bytes(b"x")
    assert output_path(src, tmp_path, "JPEG").name == "Wedding 1961_color-3.jpg"
    assert output_path(src, tmp_path, "JPEG", suffix="_colour").name == "Wedding 1961_colour.jpg"


@pytest.mark.parametrize("name", [
    "../../evil.jpg", "..", ".", "a/../../b.png", "..\\..\\win.jpg", "tab\there\n.jpg",
    ".hidden.jpg", "   .jpg", "con.jpg", "x" * 400 + ".jpg", "照片" * 150 + ".png",
    "é" * 200 + "\udcff.jpg",
])
def test_weird_names_stay_inside_out_dir(tmp_path, name):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    dest = output_path(Path(name), out_dir, "JPEG")
    assert dest.parent == out_dir
    assert len(dest.name.encode("utf-8")) <= 255
    assert "_color" in dest.name and dest.suffix.lower() in (".jpg", ".png", ".jpeg")
    assert not dest.name.startswith(".")
    assert not any(ch in dest.name for ch in "/\\\t\n")
    dest.write_bytes(b"ok")  # the file system accepts the name
    again = output_path(Path(name), out_dir, "JPEG")
    assert again != dest and again.parent == out_dir and len(again.name.encode()) <= 255


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=0, max_size=300))
def test_any_name_gives_a_writable_path_in_out_dir(tmp_path, name):
    out_dir = tmp_path / "prop"
    out_dir.mkdir(exist_ok=True)
    dest = output_path(Path(name.replace("\x00", "")) if name.replace("\x00", "") else Path("x"),
                       out_dir, "PNG")
    assert dest.parent == out_dir and not dest.exists()
    assert len(dest.name.encode("utf-8")) <= 255
    dest.write_bytes(b"")
    dest.unlink()


def test_long_name_keeps_suffix_and_extension_through_save(tmp_path):
    src = pf.make_png(tmp_path / ("ü" * 120 + ".png"), pf.color_scene(16, 16))  # 240 bytes
    photo = load_photo(src)
    out = save_photo(photo.pixels, output_path(src, tmp_path / "o", photo.format), like=photo)
    assert out.name.endswith("_color.png") and len(out.name.encode()) <= 255
    out2 = save_photo(photo.pixels, out, like=photo)  # taken: next counter, still fits
    assert out2.name.endswith("-2.png") and len(out2.name.encode()) <= 255


# ------------------------------------------------------------------ finding photos

def test_find_photos_walks_folders_and_keeps_named_files(tmp_path):
    root = tmp_path / "scans"
    for rel in ["b.jpg", "A.png", "notes.txt", ".hidden.jpg", "sub/c.TIF", "sub/deeper/d.webp",
                ".cache/e.jpg", "sub/f.heic_not", "z_color.jpg"]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    explicit = tmp_path / "readme.txt"
    explicit.write_text("named by the user")
    missing = tmp_path / "missing.jpg"
    found = find_photos([root, explicit, root / "b.jpg", missing])
    rel = [p.relative_to(tmp_path).as_posix() if p.is_relative_to(tmp_path) else str(p) for p in found]
    assert rel == ["scans/A.png", "scans/b.jpg", "scans/z_color.jpg", "scans/sub/c.TIF",
                   "scans/sub/deeper/d.webp", "readme.txt", "missing.jpg"]
    flat = find_photos([root], recursive=False)
    assert [p.name for p in flat] == ["A.png", "b.jpg", "z_color.jpg"]


def test_find_photos_survives_symlink_loops(tmp_path):
    root = tmp_path / "r"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.jpg").write_bytes(b"x")
    os.symlink(root, root / "sub" / "loop")
    os.symlink(root / "sub" / "a.jpg", root / "link.jpg")
    found = find_photos([root, root / "sub"])
    assert len(found) == 1 and found[0].name in ("a.jpg", "link.jpg")


def test_supported_extensions_and_is_photo_file():
    for ext in (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"):
        assert ext in SUPPORTED_EXTENSIONS
        assert is_photo_file(Path("x" + ext.upper()))
    assert not is_photo_file("notes.txt")
    import importlib.util
    heif = importlib.util.find_spec("pillow_heif") is not None
    assert (".heic" in SUPPORTED_EXTENSIONS) == heif


def test_heic_photo_loads_when_pillow_heif_is_installed(tmp_path):
    pillow_heif = pytest.importorskip("pillow_heif")
    pixels = pf.color_scene(64, 64)
    path = tmp_path / "IMG_0001.HEIC"
    try:
        pillow_heif.from_bytes(mode="RGB", size=(64, 64), data=pixels.tobytes()).save(str(path), quality=95)
    except Exception as exc:  # wheel built without an encoder
        pytest.skip(f"pillow-heif cannot encode here: {exc}")
    photo = load_photo(path)
    assert photo.pixels.shape == (64, 64, 3)
    assert mean_abs(photo.pixels, pixels) < 8
    assert output_path(path, tmp_path, photo.format).name == "IMG_0001_color.png"


def test_remove_stale_partials_deletes_only_old_save_temps(tmp_path):
    from colorizer_gui.core.photo import remove_stale_partials

    old_time = time.time() - 2 * 3600
    old = tmp_path / ".colorizer-aaaaaaaaaaaa.partial"
    fresh = tmp_path / ".colorizer-bbbbbbbbbbbb.partial"
    theirs = tmp_path / ".other-app.partial"
    photo = tmp_path / "photo_color.jpg"
    for path in (old, fresh, theirs, photo):
        path.write_bytes(b"x")
    for path in (old, theirs, photo):
        os.utime(path, (old_time, old_time))
    locked = tmp_path / ".colorizer-cccccccccccc.partial"  # old, but a live save holds it
    locked.write_bytes(b"x")
    os.utime(locked, (old_time, old_time))
    import fcntl

    with open(locked, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert remove_stale_partials(tmp_path) == 1
    assert not old.exists() and fresh.exists() and theirs.exists() and photo.exists() and locked.exists()
    assert remove_stale_partials(tmp_path / "missing") == 0
