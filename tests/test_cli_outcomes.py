"""Every photo found and every outcome said: skip rules that match a copy to its
own source and never take the user's files for ours, photos too deep or too long
to open, names in any encoding, options checked up front, and the provenance each
colour copy carries (``info``)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import photo_factory as pf
from colorizer_gui.core.batch import run_batch
from colorizer_gui.core.photo import OUTPUT_MARKER, load_photo, output_path, save_photo
from colorizer_gui.core.provenance import Provenance, read_provenance
from fake_backends import FormulaBackend
from test_cli import run_cli, tiny_cgan  # noqa: F401 - the fixture is used by name

# ------------------------------------------------------------------ skip rules


def test_skip_existing_matches_a_copy_to_its_own_source(tmp_path):
    album = tmp_path / "album"
    pf.make_jpeg(album / "wedding.jpg", pf.gray_scene(40, 60))
    first = run_batch([album / "wedding.jpg"], tmp_path / "out", FormulaBackend())
    assert [d.name for _s, d in first.done] == ["wedding_color.jpg"]
    pf.make_tiff(album / "wedding.tif", pf.gray_scene(40, 60, seed=2))
    second = run_batch([album], tmp_path / "out", FormulaBackend(), skip_existing=True)
    assert [s.name for s, _r in second.skipped] == ["wedding.jpg"]  # done before
    assert [(s.name, d.name) for s, d in second.done] == [("wedding.tif", "wedding_color.tif")]


def test_a_copy_killed_right_after_it_appeared_is_still_skipped_next_time(tmp_path, monkeypatch):
    """A power cut between the copy appearing and anything after it: the rerun
    with "skip done" knows the copy is ours and makes no second one."""
    import colorizer_gui.core.pipeline as pipeline

    album = tmp_path / "album"
    pf.make_jpeg(album / "attic.jpg", pf.gray_scene(40, 60))
    real_save = pipeline.save_photo

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt  # the process ends here, as under kill -9

    monkeypatch.setattr(pipeline, "save_photo", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_batch([album], tmp_path / "out", FormulaBackend(), skip_existing=True)
    monkeypatch.setattr(pipeline, "save_photo", real_save)
    again = run_batch([album], tmp_path / "out", FormulaBackend(), skip_existing=True)
    assert [s.name for s, _r in again.skipped] == ["attic.jpg"] and not again.done
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == [
        "attic_color.jpg"]


def test_skip_existing_never_takes_the_users_own_color_named_file_for_a_copy(tmp_path):
    """Originals named *_color.jpg in the folder that is also the output folder."""
    album = tmp_path / "album"
    pf.make_jpeg(album / "garden.jpg", pf.gray_scene(40, 60))
    pf.make_jpeg(album / "garden_color.jpg", pf.gray_scene(40, 60, seed=3))  # the user's own scan
    theirs = (album / "garden_color.jpg").read_bytes()
    result = run_batch([album], album, FormulaBackend(), skip_existing=True)
    assert sorted(s.name for s, _d in result.done) == ["garden.jpg", "garden_color.jpg"]
    assert not result.skipped and not result.left_out
    assert (album / "garden_color.jpg").read_bytes() == theirs  # copies went to new names
    again = run_batch([album], album, FormulaBackend(), skip_existing=True)
    # Our two copies are left out and said; the user's garden_color.jpg is done already.
    assert sorted(p.name for p in again.left_out) == ["garden_color-2.jpg", "garden_color_color.jpg"]
    assert sorted(s.name for s, _r in again.skipped) == ["garden.jpg", "garden_color.jpg"]
    assert "Left out 2 colour copies Colorizer made earlier" in again.summary()


def test_a_users_own_folder_named_colorized_is_colorized(tmp_path):
    album = tmp_path / "album"
    pf.make_jpeg(album / "colorized" / "grandpa.jpg", pf.gray_scene(40, 60))  # the user's folder
    result = run_batch([album], None, FormulaBackend())
    assert [(s.name, d.parent.name) for s, d in result.done] == [("grandpa.jpg", "colorized")]
    again = run_batch([album], None, FormulaBackend(), skip_existing=True)
    assert [p.name for p in again.left_out] == ["grandpa_color.jpg"]
    assert [s.name for s, _r in again.skipped] == ["grandpa.jpg"]
    assert (album / "colorized" / "colorized" / OUTPUT_MARKER).is_file()


def test_our_copies_moved_elsewhere_are_still_known_by_their_provenance(tmp_path):
    album = tmp_path / "album"
    pf.make_png(album / "a.png", pf.gray_scene(30, 40))
    first = run_batch([album], tmp_path / "out", FormulaBackend())
    moved = tmp_path / "elsewhere" / "a_color.png"
    moved.parent.mkdir()
    first.done[0][1].rename(moved)
    result = run_batch([moved.parent], tmp_path / "out2", FormulaBackend())
    assert result.left_out == [moved] and not result.done


# ------------------------------------------------------------------ folders


def test_a_photo_whose_path_is_too_long_is_counted_and_named(tmp_path):
    root = tmp_path / "album"
    root.mkdir()
    pf.make_jpeg(root / "near.jpg", pf.gray_scene(20, 30))
    fd = os.open(root, os.O_RDONLY)
    depth = 0
    try:
        while len(os.fsencode(root)) + depth * 201 < 4200:  # past PATH_MAX (4096)
            os.mkdir("d" * 200, dir_fd=fd)
            inner = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd, depth = inner, depth + 1
        with os.fdopen(os.open("deep.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as fh:
            fh.write(pf.encode(Image.fromarray(pf.gray_scene(20, 30)), "JPEG"))
    finally:
        os.close(fd)
    result = run_batch([root], tmp_path / "out", FormulaBackend())
    assert result.total == 2 and len(result.done) == 1
    (failed, message), = result.failed
    assert failed.name == "deep.jpg" and "path is too long" in message
    assert "1 of 2 photos" in result.summary() and "1 photo could not be colorized" in result.summary()


def _remove_chain(root: Path) -> None:
    """Delete a deep one-folder-per-level tree bottom-up without recursion
    (shutil.rmtree, which pytest's clean-up uses, recurses once per level)."""
    fds = [os.open(root, os.O_RDONLY)]
    try:
        while True:
            subs = [e.name for e in os.scandir(fds[-1]) if e.is_dir(follow_symlinks=False)]
            if not subs:
                break
            fds.append(os.open(subs[0], os.O_RDONLY, dir_fd=fds[-1]))
        while len(fds) > 1:
            fd = fds.pop()
            for entry in os.scandir(fd):
                if entry.is_dir(follow_symlinks=False):
                    os.rmdir(entry.name, dir_fd=fd)
                else:
                    os.unlink(entry.name, dir_fd=fd)
            os.close(fd)
        for entry in os.scandir(fds[0]):
            (os.rmdir if entry.is_dir(follow_symlinks=False) else os.unlink)(entry.name, dir_fd=fds[0])
    finally:
        for fd in fds:
            os.close(fd)


def test_a_thousand_levels_deep_folder_tree_is_walked(tmp_path):
    root = tmp_path / "deep"
    root.mkdir()
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(1000):
            os.mkdir("a", dir_fd=fd)
            inner = os.open("a", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    try:
        pf.make_png(root.joinpath(*["a"] * 999) / "bottom.png", pf.gray_scene(20, 30))
        pf.make_png(root / "top.png", pf.gray_scene(20, 30))
        result = run_batch([root], tmp_path / "out", FormulaBackend())
        assert sorted(s.name for s, _d in result.done) == ["bottom.png", "top.png"] and not result.failed
        assert (tmp_path / "out").joinpath(*["a"] * 999, "bottom_color.png").is_file()  # mirrored
    finally:
        _remove_chain(root)
        if (tmp_path / "out").exists():
            _remove_chain(tmp_path / "out")


def test_raw_and_multi_page_files_in_a_folder_are_said(tmp_path):
    album = tmp_path / "album"
    pf.make_tiff(album / "IMG_0001.CR2", pf.gray_scene(20, 30))
    pf.make_multipage_tiff(album / "scan.tif", [pf.gray_scene(15, 20), pf.gray_scene(60, 80)])
    result = run_batch([album], tmp_path / "out", FormulaBackend())
    assert [(s.name, "camera RAW" in r) for s, r in result.skipped] == [("IMG_0001.CR2", True)]
    (src, note), = result.notes
    assert src.name == "scan.tif" and "page 2" in note
    with Image.open(result.done[0][1]) as im:
        assert im.size == (80, 60)
    assert read_provenance(result.done[0][1])["colorizer"]["Page"] == "2 of 2"


# ------------------------------------------------------------------ names


def test_backslash_in_a_name_is_kept_as_part_of_the_name(tmp_path):
    if os.name == "nt":
        pytest.skip("a backslash separates folders on Windows")
    dest = output_path(Path(tmp_path / "back\\slash.jpg"), tmp_path / "out", "JPEG")
    assert dest.name == "back_slash_color.jpg"


def test_latin1_name_keeps_its_letters(tmp_path):
    name = os.fsdecode("Gro\xdfmutter \xe9t\xe9.jpg".encode("latin-1"))  # undecodable as UTF-8
    dest = output_path(tmp_path / name, tmp_path / "out", "JPEG")
    assert dest.name == "Großmutter été_color.jpg"


def test_non_utf8_folder_names_through_the_cli(tmp_path, tiny_cgan):  # noqa: F811
    if sys.platform == "darwin" or os.name == "nt":
        pytest.skip("these systems store names as Unicode")
    album = tmp_path / os.fsdecode(b"Fam\xeflie \xe9t\xe9 1952")
    pf.make_jpeg(album / os.fsdecode(b"Gro\xdfvater.jpg"), pf.gray_scene(30, 40))
    pf.make_jpeg(album / "back\\slash.jpg", pf.gray_scene(30, 40))
    env_run = run_cli("colorize", album, "--backend", "cgan", "--weights", tiny_cgan, "--device", "cpu",
                      "--render-size", "64")
    assert env_run.returncode == 0, env_run.stderr
    assert "Colorized 2 of 2 photos" in env_run.stdout and "Famïlie été 1952" in env_run.stdout
    names = sorted(os.fsencode(p.name) for p in (album / "colorized").iterdir())
    assert names == [b".colorizer-copies", "Großvater_color.jpg".encode(), b"back_slash_color.jpg"]


# ------------------------------------------------------------------ options


@pytest.mark.parametrize("option,value,message", [
    ("--render-size", "33", r"--render-size.*multiple of 32"),
    ("--render-size", "100000", r"--render-size.*from 32 to 8192"),
    ("--saturation", "inf", r"--saturation.*from 0 .* to 5"),
    ("--saturation", "nan", r"--saturation.*from 0 .* to 5"),
    ("--saturation", "-1", r"--saturation.*from 0 .* to 5"),
])
def test_bad_options_are_usage_errors_before_any_work(tmp_path, tiny_cgan, option, value, message):  # noqa: F811
    import re

    pf.make_jpeg(tmp_path / "in" / "a.jpg", pf.gray_scene(30, 40))
    result = run_cli("colorize", tmp_path / "in", "-o", tmp_path / "out", "--weights", tiny_cgan,
                     "--device", "cpu", option, value)
    assert result.returncode == 2
    assert re.search(message, result.stderr), result.stderr
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ provenance

PROVENANCE = Provenance(backend="cgan", model_file="family.safetensors", model_sha256="0123456789ab",
                        settings={"render_size": "192", "saturation": "1.2"}, hints=0)


@pytest.mark.parametrize("ext,sixteen", [(".jpg", False), (".png", False), (".tif", False), (".webp", False),
                                         (".png", True), (".tif", True)])
def test_every_copy_keeps_the_originals_exif_and_says_how_it_was_made(tmp_path, ext, sixteen):
    src = pf.make_jpeg(tmp_path / "dated.jpg", pf.gray_scene(40, 60),
                       exif=pf.exif_bytes(orientation=6, make="Leica", model="IIIf"))
    photo = load_photo(src)
    rgb = np.repeat(photo.pixels[:, :, None], 3, axis=2)
    rgb = rgb.astype(np.uint16) * 257 if sixteen else rgb
    out = save_photo(rgb, tmp_path / f"copy{ext}", like=photo, xmp=PROVENANCE.xmp(src),
                     software=PROVENANCE.software)
    found = read_provenance(out)
    assert found["exif"]["DateTimeOriginal"] == "1962:07:14 10:00:00"
    assert found["exif"]["Make"] == "Leica" and found["exif"]["Model"] == "IIIf"
    assert found["exif"]["Orientation"] == "1"  # the pixels are upright
    assert found["exif"]["Software"].startswith("Colorizer ")
    ours = found["colorizer"]
    assert ours["Model"] == "family.safetensors" and ours["ModelSHA256"] == "0123456789ab"
    assert ours["Backend"] == "cgan" and ours["Hints"] == "0" and ours["Source"] == "dated.jpg"
    assert "saturation=1.2" in ours["Settings"]
    if not sixteen or ext == ".png":  # Pillow opens all but 16-bit RGB TIFF
        with Image.open(out) as im:
            assert "Colorizer" in str(im.getxmp())


def test_color_copy_of_an_exif_dated_jpeg_through_the_cli_and_info(tmp_path, tiny_cgan):  # noqa: F811
    src = pf.make_jpeg(tmp_path / "in" / "1962.jpg", pf.gray_scene(40, 60), exif=pf.exif_bytes())
    result = run_cli("colorize", src, "-o", tmp_path / "out", "--weights", tiny_cgan, "--device", "cpu",
                     "--render-size", "64", "--saturation", "1.1")
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "out" / "1962_color.jpg"
    with Image.open(copy) as im:
        assert im.getexif().get_ifd(0x8769)[36867] == "1962:07:14 10:00:00"  # DateTimeOriginal
        xmp = str(im.getxmp())
    assert "Colorizer" in xmp and "tiny.safetensors" in xmp
    info = run_cli("info", copy)
    assert info.returncode == 0, info.stderr
    for text in ("Colourised by Colorizer", "backend:", "cgan", "model file:", "tiny.safetensors",
                 "model SHA-256:", "render_size=64", "saturation=1.1", "colour hints:", "from:", "1962.jpg",
                 "EXIF DateTimeOriginal:", "1962:07:14 10:00:00"):
        assert text in info.stdout, (text, info.stdout)
    plain = run_cli("info", src)
    assert plain.returncode == 1 and "no Colorizer record" in plain.stdout


def test_jpeg_with_an_icc_profile_over_64_kb_is_saved_with_it_whole(tmp_path):
    icc = bytearray(pf.srgb_icc())
    icc += bytes(200_000)  # a wide-gamut scanner profile's size; the header's size field updated
    icc[0:4] = len(icc).to_bytes(4, "big")
    image = Image.fromarray(pf.gray_scene(40, 60))
    src = tmp_path / "big-icc.jpg"
    image.convert("RGB").save(src, format="JPEG", icc_profile=bytes(icc))
    photo = load_photo(src)
    assert photo.icc_profile == bytes(icc)
    out = save_photo(np.repeat(photo.pixels[:, :, None], 3, axis=2) if photo.pixels.ndim == 2 else photo.pixels,
                     tmp_path / "copy.jpg", like=photo, xmp=PROVENANCE.xmp(src))
    with Image.open(out) as im:
        im.load()
        assert im.info["icc_profile"] == bytes(icc) and im.size == (60, 40)
        assert "Colorizer" in str(im.getxmp())
