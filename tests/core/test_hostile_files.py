"""Hostile files named like photos: an EPS, a PDF and an SVG called ``.jpg``.

Every place that opens an image (colorize, training's scan, the fine-tune
count) must refuse them by their magic bytes, before any Pillow plugin runs.
The EPS carries a PostScript payload that would create a sentinel file if it
ever ran. Ghostscript may or may not be installed, so the test also puts a
spy in front of every Pillow plugin outside the allow-list (and in place of
Pillow's Ghostscript call): if any of them were handed a file, the spy would
write the sentinel too. So the test means the same with or without Ghostscript.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image

from colorizer_gui.core import photo as photo_mod
from colorizer_gui.core.photo import (ALLOWED_FORMATS, PhotoError, count_readable_photos, load_photo, load_rgb8,
                                      sniff_format)

import photo_factory as pf


def _hostile_files(folder: Path, sentinel: Path) -> list[Path]:
    """Write the three hostile files into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    eps = folder / "grandma.jpg"
    eps.write_bytes(
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 32\n"
        + f"({sentinel}) (w) file dup (ran) writestring closefile\n".encode()
        + b"showpage\n%%EOF\n")
    pdf = folder / "grandpa.jpg"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
                    b"\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
    svg = folder / "wedding.jpg"
    svg.write_bytes(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32">'
                    + f'<image href="file://{sentinel}"/><script>alert(1)</script></svg>\n'.encode())
    return [eps, pdf, svg]


@pytest.fixture
def sentinel(tmp_path, monkeypatch) -> Path:
    """A path that must never come to exist; spies write it if a forbidden decoder runs."""
    path = tmp_path / "SENTINEL-payload-ran"

    def tripwire(name: str):
        def factory(*_args, **_kwargs):
            path.write_text(f"the {name} plugin was handed a file")
            raise SyntaxError("blocked by the test")
        return factory

    Image.init()
    for fmt, (_factory, accept) in list(Image.OPEN.items()):
        if fmt not in ALLOWED_FORMATS and fmt != "MPO":
            monkeypatch.setitem(Image.OPEN, fmt, (tripwire(fmt), accept))

    def fake_ghostscript(*_args, **_kwargs):
        path.write_text("Ghostscript was started")
        raise OSError("blocked by the test")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", fake_ghostscript)
    return path


def test_sniff_names_only_allowed_formats(tmp_path):
    assert sniff_format(b"%!PS-Adobe-3.0 EPSF-3.0") is None
    assert sniff_format(b"%PDF-1.7") is None
    assert sniff_format(b"<svg ") is None
    assert sniff_format(b"\xff\xd8\xff\xe0") == "JPEG"
    assert sniff_format(b"GIF89a....") == "GIF"
    assert sniff_format(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avif") == "AVIF"
    assert sniff_format(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "HEIF"


def test_each_hostile_file_is_refused_by_name_and_kind(tmp_path, sentinel):
    eps, pdf, svg = _hostile_files(tmp_path / "in", sentinel)
    for path, kind in ((eps, "PostScript"), (pdf, "PDF"), (svg, "SVG")):
        with pytest.raises(PhotoError, match=rf"^{path.name}: not a photo .*unrecognised format.*{kind}"):
            load_photo(path)
        with pytest.raises(PhotoError, match=kind):
            load_rgb8(path)
    assert not sentinel.exists()


def test_colorize_folder_refuses_them_and_nothing_runs(tmp_path, sentinel, capsys):
    tiny = pytest.importorskip("tiny_cgan")
    from colorizer_gui.cli import main

    folder = tmp_path / "scans"
    hostile = _hostile_files(folder, sentinel)
    pf.make_jpeg(folder / "real.jpg", pf.gray_scene(64, 64))
    model = tiny.make_tiny_generator_file(tmp_path / "tiny.safetensors")
    code = main(["colorize", str(folder), "-o", str(tmp_path / "out"), "--backend", "cgan",
                 "--weights", str(model), "--device", "cpu", "--render-size", "64"])
    err = capsys.readouterr().err
    assert code == 1
    for path in hostile:
        assert f"FAILED {path}: not a photo Colorizer can read" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".colorizer-copies", "real_color.jpg"]
    assert not sentinel.exists()


def test_training_scan_refuses_them_and_nothing_runs(tmp_path, sentinel):
    from training.dataset import decode_rgb, scan_photos

    folder = tmp_path / "colour photos"
    hostile = _hostile_files(folder, sentinel)
    pf.make_jpeg(folder / "a.jpg", pf.color_scene(160, 200, seed=1))
    pf.make_png(folder / "b.png", pf.color_scene(160, 200, seed=2))
    images, paths, report = scan_photos(folder, size=64)
    assert sorted(p.name for p in paths) == ["a.jpg", "b.png"]
    assert report.corrupt == 3 and sorted(report.examples["corrupt"]) == sorted(map(str, hostile))
    with pytest.raises(OSError, match="PostScript"):
        decode_rgb(hostile[0])
    assert not sentinel.exists()


def test_finetune_count_leaves_them_out(tmp_path, sentinel):
    folder = tmp_path / "colour photos"
    _hostile_files(folder, sentinel)
    pf.make_jpeg(folder / "a.jpg", pf.color_scene(64, 64))
    assert count_readable_photos(folder) == 1
    assert not sentinel.exists()


def test_every_open_names_one_allowed_decoder(tmp_path, monkeypatch):
    """Whatever the loader opens, it asks Pillow for exactly one allowed format."""
    asked = []
    real_open = Image.open

    def spy(fp, mode="r", formats=None):
        asked.append(formats)
        return real_open(fp, mode, formats)

    monkeypatch.setattr(Image, "open", spy)
    png_named_jpg = pf.make_png(tmp_path / "mislabelled.jpg", pf.color_scene(32, 32))
    assert load_photo(png_named_jpg).format == "PNG"  # the bytes decide, not the name
    photo_mod.photo_pixel_count(png_named_jpg)
    assert asked and all(f is not None and len(f) == 1 and f[0] in ALLOWED_FORMATS for f in asked)


def test_load_rgb8_keeps_decode_rgb_behaviour(tmp_path):
    """Training's pixels: RGB uint8, EXIF orientation applied, transparency on white,
    16-bit reduced, a GIF's first frame."""
    path, upright = pf.make_exif_rotated_jpeg(tmp_path / "rot.jpg", 6)
    rgb = load_rgb8(path)
    assert rgb.dtype == np.uint8 and rgb.shape == upright.shape
    assert np.abs(rgb.astype(int) - upright.astype(int)).mean() < 6

    pixels = np.zeros((8, 8, 3), np.uint8)
    alpha = np.zeros((8, 8), np.uint8)
    alpha[:, 4:] = 255
    rgba = load_rgb8(pf.make_png(tmp_path / "t.png", pixels, alpha=alpha))
    assert (rgba[:, :4] == 255).all() and (rgba[:, 4:] == 0).all()

    deep = load_rgb8(pf.make_png16(tmp_path / "d.png", np.full((4, 4, 3), 65535, np.uint16)))
    assert deep.dtype == np.uint8 and (deep == 255).all()

    frames = [Image.new("RGB", (6, 6), c) for c in ((200, 10, 10), (10, 200, 10))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    gif = load_rgb8(tmp_path / "anim.gif")
    assert gif.shape == (6, 6, 3) and gif[0, 0, 0] > 150 and gif[0, 0, 1] < 60
