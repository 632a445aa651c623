"""Scans as archives deliver them: JPEG 2000, BigTIFF and 16-bit netpbm, each file
made here, read through the one loader by its bytes, colorized to a copy people
can open, 16 bits kept where the copy's format allows."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from colorizer_gui.core.photo import PhotoError, find_photos, load_photo, sniff_format, read_head

from photo_factory import gray_scene


def ramp16(height: int = 48, width: int = 64, color: bool = False) -> np.ndarray:
    base = np.linspace(0, 65535, height * width).reshape(height, width).astype(np.uint16)
    if not color:
        return base
    return np.dstack([base, base[::-1], np.full_like(base, 12345)])


@pytest.fixture(scope="module")
def tiny_backend(tmp_path_factory):
    from colorizer_gui.backends import create_backend
    from tiny_cgan import make_tiny_generator_file

    backend = create_backend("cgan", device="cpu",
                             weights=make_tiny_generator_file(tmp_path_factory.mktemp("m") / "tiny.safetensors"))
    backend.load()
    return backend


def _copy(src: Path, backend, out: Path) -> np.ndarray:
    from colorizer_gui.core.pipeline import save_color_copy

    written = save_color_copy(src, out, backend).path
    assert written.suffix == ".png"  # a format every viewer opens
    return cv2.imread(str(written), cv2.IMREAD_UNCHANGED)


@pytest.mark.parametrize("name", ["scan.jp2", "scan.jpf", "codestream.j2k"])
def test_jpeg2000_is_read_and_copied_as_png(tmp_path, tiny_backend, name):
    gray = gray_scene(48, 64)
    src = tmp_path / name
    Image.fromarray(gray).save(src, format="JPEG2000", irreversible=False,
                               no_jp2=name.endswith(".j2k"))
    photo = load_photo(src)
    assert photo.format == "JPEG2000" and photo.pixels.shape == (48, 64)
    assert np.array_equal(photo.pixels, gray)  # reversible (lossless) JPEG 2000
    copy = _copy(src, tiny_backend, tmp_path / "out")
    assert copy.shape == (48, 64, 3) and copy.dtype == np.uint8
    assert src in find_photos([tmp_path])


def test_16_bit_jpeg2000_keeps_16_bits_in_its_png_copy(tmp_path, tiny_backend):
    src = tmp_path / "deep.jp2"
    Image.fromarray(ramp16()).save(src, format="JPEG2000", irreversible=False)
    photo = load_photo(src)
    assert photo.pixels.dtype == np.uint16 and np.array_equal(photo.pixels, ramp16())
    copy = _copy(src, tiny_backend, tmp_path / "out")
    assert copy.dtype == np.uint16 and copy.shape == (48, 64, 3)


def _bigtiff(path: Path, pixels: np.ndarray, **kwargs) -> Path:
    import tifffile

    tifffile.imwrite(path, pixels, bigtiff=True, photometric="rgb" if pixels.ndim == 3 else "minisblack", **kwargs)
    assert read_head(path)[:4] in (b"II+\x00", b"MM\x00+")
    return path


def _is_mapped(array: np.ndarray) -> bool:
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = array.base if isinstance(array.base, np.ndarray) else None
    return False


def test_bigtiff_uncompressed_is_mapped_not_read_into_memory(tmp_path, tiny_backend):
    pixels = ramp16(color=True)
    src = _bigtiff(tmp_path / "master.tif", pixels)
    photo = load_photo(src)
    assert photo.format == "TIFF" and photo.pixels.dtype == np.uint16
    assert np.array_equal(photo.pixels, pixels)
    assert _is_mapped(photo.pixels)  # the master is held once, by the page cache
    from colorizer_gui.core.pipeline import save_color_copy

    copy = save_color_copy(src, tmp_path / "out", tiny_backend).path
    assert copy.suffix == ".tif"
    assert cv2.imread(str(copy), cv2.IMREAD_UNCHANGED).dtype == np.uint16  # 16 bits kept


@pytest.mark.parametrize("kwargs", [{"compression": "zlib", "tile": (32, 32)}, {"byteorder": ">"}])
def test_bigtiff_tiled_compressed_and_big_endian(tmp_path, kwargs):
    pixels = ramp16(color=True)
    photo = load_photo(_bigtiff(tmp_path / "master.tif", pixels, **kwargs))
    assert np.array_equal(photo.pixels, pixels)


def test_bigtiff_master_keeps_its_camera_tags_icc_profile_and_dpi_in_the_copy(tmp_path, tiny_backend):
    from PIL import ImageCms

    from colorizer_gui.core.pipeline import save_color_copy

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pixels = (ramp16(color=True) >> 8).astype(np.uint8)
    src = _bigtiff(tmp_path / "master.tif", pixels, resolution=(600, 600), resolutionunit=2,
                   extratags=[(315, "s", 0, "Studio Kessler", True), (271, "s", 0, "Hasselblad", True),
                              (306, "s", 0, "1961:05:14 10:00:00", True), (34675, "B", len(icc), icc, True)])
    photo = load_photo(src)
    assert photo.icc_profile == icc and photo.info["dpi"] == (600.0, 600.0)
    copy = save_color_copy(src, tmp_path / "out", tiny_backend).path
    with Image.open(copy) as im:
        exif = im.getexif()
        assert exif[315] == "Studio Kessler" and exif[271] == "Hasselblad" and exif[306] == "1961:05:14 10:00:00"
        assert im.info.get("icc_profile") == icc
        assert tuple(round(float(v)) for v in im.info["dpi"]) == (600, 600)


def test_bigtiff_gray_8_bit_with_orientation(tmp_path):
    gray = gray_scene(30, 50)
    photo = load_photo(_bigtiff(tmp_path / "turned.tif", gray, extratags=[(274, 3, 1, 6, True)]))
    assert photo.pixels.shape == (50, 30)  # orientation 6: turned upright
    assert np.array_equal(photo.pixels, np.rot90(gray, -1))


def test_size_limit_holds_for_the_new_formats_before_decoding(tmp_path):
    big = _bigtiff(tmp_path / "big.tif", ramp16(color=True))
    jp2 = tmp_path / "big.jp2"
    Image.fromarray(gray_scene(48, 64)).save(jp2, format="JPEG2000")
    pgm = tmp_path / "big.pgm"
    cv2.imwrite(str(pgm), ramp16())
    for src in (big, jp2, pgm):
        with pytest.raises(PhotoError, match="too large to open safely"):
            load_photo(src, max_pixels=1000)


def test_16_bit_pgm_and_ppm_keep_16_bits(tmp_path, tiny_backend):
    pgm, ppm = tmp_path / "film.pgm", tmp_path / "film.ppm"
    cv2.imwrite(str(pgm), ramp16())
    cv2.imwrite(str(ppm), ramp16(color=True)[:, :, ::-1])  # OpenCV writes from BGR
    assert np.array_equal(load_photo(pgm).pixels, ramp16())
    assert np.array_equal(load_photo(ppm).pixels, ramp16(color=True))
    assert load_photo(pgm).format == "PPM"
    copy = _copy(pgm, tiny_backend, tmp_path / "out")
    assert copy.dtype == np.uint16 and copy.shape == (48, 64, 3)


def test_12_bit_pgm_is_stretched_to_16_bits_and_a_cut_one_is_named(tmp_path):
    samples = np.array([[0, 4095], [2048, 1024]], dtype=">u2")
    src = tmp_path / "twelve.pgm"
    src.write_bytes(b"P5\n# scanner\n2 2\n4095\n" + samples.tobytes())
    assert load_photo(src).pixels.tolist() == [[0, 65535], [32776, 16388]]
    cut = tmp_path / "cut.pgm"
    cut.write_bytes(b"P5\n2 2\n4095\n" + samples.tobytes()[:5])
    with pytest.raises(PhotoError, match="cut short"):
        load_photo(cut)


def test_the_bytes_decide_not_the_name(tmp_path):
    jp2_named_jpg = tmp_path / "really-jp2.jpg"
    Image.fromarray(gray_scene(20, 30)).save(jp2_named_jpg, format="JPEG2000")
    pgm_named_png = tmp_path / "really-pgm.png"
    cv2.imwrite(str(tmp_path / "x.pgm"), ramp16(20, 30))
    pgm_named_png.write_bytes((tmp_path / "x.pgm").read_bytes())
    assert sniff_format(read_head(jp2_named_jpg)) == "JPEG2000"
    assert load_photo(jp2_named_jpg).format == "JPEG2000"
    assert load_photo(pgm_named_png).pixels.dtype == np.uint16


# ------------------------------------------------------ thumbnails and previews decode reduced

def test_thumbnails_decode_big_scans_reduced_and_know_their_full_size(tmp_path):
    import tifffile

    from colorizer_gui.core.photo import load_reduced
    from photo_factory import make_exif_rotated_jpeg

    jpeg = tmp_path / "scan.jpg"
    cv2.imwrite(str(jpeg), gray_scene(1200, 1600))
    small = load_reduced(jpeg, 100)
    assert small.pixels.shape == (150, 200)  # libjpeg's 1/8 scale, still >= 100 on the long side
    assert small.info["full_size"] == (1600, 1200)
    turned = load_reduced(make_exif_rotated_jpeg(tmp_path / "turned.jpg", 6, upright=gray_scene(800, 400))[0], 50)
    assert turned.info["full_size"] == (400, 800) and turned.pixels.shape[0] > turned.pixels.shape[1]

    jp2 = tmp_path / "scan.jp2"
    Image.fromarray(gray_scene(800, 1200)).save(jp2, format="JPEG2000")
    reduced = load_reduced(jp2, 100)
    assert reduced.pixels.shape == (100, 150) and reduced.info["full_size"] == (1200, 800)  # level 3

    pyramid = tmp_path / "pyramid.tif"
    full = gray_scene(800, 1200)
    with tifffile.TiffWriter(pyramid) as tif:
        tif.write(full)
        tif.write(cv2.resize(full, (600, 400), interpolation=cv2.INTER_AREA), subfiletype=1)
        tif.write(cv2.resize(full, (150, 100), interpolation=cv2.INTER_AREA), subfiletype=1)
    assert load_reduced(pyramid, 200).pixels.shape == (400, 600)  # the smallest level still big enough
    assert load_reduced(pyramid, 120).pixels.shape == (100, 150)
    assert load_photo(pyramid).pixels.shape == (800, 1200)  # colorizing takes the full page

    png = tmp_path / "whole.png"
    cv2.imwrite(str(png), gray_scene(60, 80))
    assert load_reduced(png, 10).info["full_size"] == (80, 60)
