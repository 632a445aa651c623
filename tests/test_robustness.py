"""Nothing lost, nothing broken: a corpus of bad and awkward inputs run through the
real command line, read-only and full output disks, files vanishing mid-batch,
hostile output names and symlinks, and hostile model files.

Every test checks what a user would notice: the clear message (or the right
output), that the batch went on, the exit code, and that every original is
byte-identical afterwards.
"""
from __future__ import annotations

import errno
import hashlib
import io
import os
import pickle
import re
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np
import pytest
from PIL import Image, ImageFile

from colorizer_gui.core.photo import OUTPUT_MARKER
from photo_factory import (
    asymmetric_rgb, color_scene, corrupt_png_chunk_crc, encode, gray_scene, make_cmyk_jpeg,
    make_exif_rotated_jpeg, make_jpeg, make_multipage_tiff, make_oriented, make_palette_png, make_png,
    make_png16, make_png_bomb, make_random_bytes, make_tiff, make_tiff12, make_tiff16, make_tiff_float_rgb,
    make_tiff_u32, make_truncated, quadrant_means, ramp16, srgb_icc,
)

REPO = Path(__file__).resolve().parents[1]
PATH_MAX = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096


# --------------------------------------------------------------------------- helpers

def run_cli(*args: object, timeout: float = 240, env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """``python -m colorizer_gui ARGS`` as a user runs it (COLORIZER_HOME from conftest)."""
    full_env = dict(os.environ, PYTHONIOENCODING="utf-8", OMP_NUM_THREADS="2", **(env or {}))
    return subprocess.run([sys.executable, "-m", "colorizer_gui", *map(str, args)], cwd=REPO, env=full_env,
                          capture_output=True, text=True, encoding="utf-8", errors="replace",
                          timeout=timeout, stdin=subprocess.DEVNULL)


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (symlinks recorded as their target)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "link->" + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def decode_fully(path: Path) -> tuple[tuple[int, int], str]:
    """(size, mode) of a file that decodes completely; raises on any truncation."""
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    with Image.open(path) as im:
        im.load()
        return im.size, im.mode


def failed_lines(stderr: str, kind: str = "FAILED") -> dict[str, str]:
    """{path: message} from the CLI's ``FAILED path: message`` lines (or ``SKIPPED``)."""
    return dict(re.findall(rf"^{kind} (.+?): (.+)$", stderr, flags=re.M))


def upright_card(path: Path) -> bool:
    """Whether a colour copy of ``asymmetric_rgb`` is upright: its quadrants rank in
    lightness as the card's do (the copy keeps the original's L, whatever colours
    the network guessed); any flip or turn reorders them."""
    import cv2

    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    pixels = pixels if pixels.dtype == np.uint8 else (pixels // 257).astype(np.uint8)
    card = asymmetric_rgb()
    if pixels.shape[:2] != card.shape[:2]:
        return False
    got = quadrant_means(pixels).mean(axis=1)
    want = quadrant_means(np.repeat(cv2.cvtColor(card, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)).mean(axis=1)
    return list(np.argsort(got)) == list(np.argsort(want))


@contextmanager
def mounted(kind: str, target: Path, size_kb: int = 0, source: Optional[Path] = None) -> Iterator[bool]:
    """Mount a small tmpfs ("tmpfs") or a read-only bind of ``source`` ("ro") on ``target``.

    Yields False when this sandbox does not allow mounting (the caller skips)."""
    target.mkdir(parents=True, exist_ok=True)
    if kind == "tmpfs":
        cmds = [["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(target)]]
    else:
        cmds = [["mount", "--bind", str(source), str(target)],
                ["mount", "-o", "remount,bind,ro", str(target)]]
    done = 0
    try:
        for cmd in cmds:
            try:
                ok = subprocess.run(cmd, capture_output=True, timeout=20).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
            if not ok:
                break
            done += 1
        if done and done < len(cmds):  # bind worked but read-only remount did not
            subprocess.run(["umount", "-l", str(target)], capture_output=True, timeout=20)
            done = 0
        yield done == len(cmds)
    finally:
        if done == len(cmds):
            subprocess.run(["umount", "-l", str(target)], capture_output=True, timeout=20)


def make_ycck_jpeg(path: Path, gray: np.ndarray) -> Path:
    """A real YCCK JPEG (Adobe APP14 transform=2) that decodes to the picture ``gray``.

    Pillow and OpenCV cannot write YCCK, so: store (Y, Cb, Cr, K) = (gray, 127, 127, 0)
    as a 4-channel 'CMYK' JPEG (Pillow writes Adobe-inverted channels, hence 127 for
    a neutral 128), then flip the APP14 colour-transform byte from 0 (none) to 2 (YCCK).
    A decoder then runs YCC->RGB on the first three channels, as for a Photoshop YCCK file.
    """
    channels = np.dstack([gray, np.full_like(gray, 127), np.full_like(gray, 127), np.zeros_like(gray)])
    bio = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(channels), "CMYK").save(bio, "JPEG", quality=100)
    data = bytearray(bio.getvalue())
    at = data.find(b"Adobe")
    assert at > 0 and data[at - 4:at - 2] == b"\xff\xee", "no Adobe APP14 marker"
    assert data[at + 11] == 0
    data[at + 11] = 2  # "Adobe" + version(2) + flags0(2) + flags1(2), then the transform byte
    path.write_bytes(bytes(data))
    return path


# --------------------------------------------------------------------------- the corpus

@dataclass
class Case:
    """One corpus file and what the user must get for it."""

    rel: str                      # path inside the corpus folder
    what: str                     # description for the results table
    size: Optional[tuple[int, int]] = None   # (width, height) of the output when it must work
    error: Optional[str] = None   # regex the failure line must match when it must fail
    mode: Optional[str] = None    # expected PIL mode of the output, when it matters
    out_name: Optional[str] = None  # output file name when not <stem>_color<ext>
    skipped: bool = False         # with ``error``: a SKIPPED line (format not supported), not FAILED
    check: Optional[Callable[[Path], bool]] = None  # what the output must show beyond its size

    @property
    def ok(self) -> bool:
        return self.error is None


def long_path_parts(root: Path, file_name: str, slack: int) -> list[str]:
    """Folder names (each 200 bytes or less) putting root/.../file_name ``slack`` bytes short of PATH_MAX."""
    budget = PATH_MAX - 1 - slack - len(os.fsencode(root)) - 1 - len(file_name)
    parts = []
    while budget > 1:
        take = min(200, budget - 1)  # minus the separator
        parts.append(f"{len(parts):02d}" + "d" * (take - 2))
        budget -= take + 1
    return parts


def build_bad_corpus(root: Path) -> list[Case]:
    """Write the bad-input corpus under ``root``; return the cases with their expected outcomes."""
    root.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    gray = gray_scene(60, 80, seed=1)

    (root / "empty.jpg").write_bytes(b"")
    cases.append(Case("empty.jpg", "0-byte file", error=r"empty \(0 bytes\)"))

    make_jpeg(root / "good-source.jpg", gray)
    cases.append(Case("good-source.jpg", "ordinary gray JPEG", size=(80, 60)))
    make_truncated(root / "truncated.jpg", root / "good-source.jpg", keep=0.5)
    cases.append(Case("truncated.jpg", "JPEG cut at half its bytes", error=r"truncated|cut short"))
    make_png(root / "good-source.png", gray)
    cases.append(Case("good-source.png", "ordinary gray PNG", size=(80, 60)))
    make_truncated(root / "truncated.png", root / "good-source.png", keep=0.6)
    cases.append(Case("truncated.png", "PNG cut at 60% of its bytes", error=r"truncated|cut short"))

    make_random_bytes(root / "random.jpg", 5000, seed=3)
    cases.append(Case("random.jpg", "5000 random bytes named .jpg", error=r"not a photo"))
    make_png_bomb(root / "bomb.png", 30000, 30000)
    cases.append(Case("bomb.png", f"decompression bomb: {(root / 'bomb.png').stat().st_size}-byte PNG "
                      "declaring 30000x30000",
                      error=r"too large to open safely.*900 megapixels"))

    make_png(root / "one-pixel.png", np.full((1, 1), 90, np.uint8))
    cases.append(Case("one-pixel.png", "1x1 image", size=(1, 1)))
    make_png(root / "line-1x10000.png", (np.arange(10000) % 251).astype(np.uint8).reshape(1, 10000))
    cases.append(Case("line-1x10000.png", "1x10000 image (one row)", size=(10000, 1)))
    make_png(root / "column-10000x1.png", (np.arange(10000) % 251).astype(np.uint8).reshape(10000, 1))
    cases.append(Case("column-10000x1.png", "10000x1 image (one column)", size=(1, 10000)))

    make_cmyk_jpeg(root / "cmyk.jpg", np.repeat(gray_scene(30, 44, seed=2)[:, :, None], 3, axis=2))
    cases.append(Case("cmyk.jpg", "CMYK JPEG (Adobe APP14)", size=(44, 30), mode="RGB"))
    make_ycck_jpeg(root / "ycck.jpg", gray_scene(30, 44, seed=5))
    cases.append(Case("ycck.jpg", "YCCK JPEG (Adobe APP14 transform=2)", size=(44, 30), mode="RGB"))

    make_png16(root / "gray16.png", ramp16(24, 40, color=False))
    cases.append(Case("gray16.png", "16-bit grayscale PNG", size=(40, 24)))
    make_tiff16(root / "gray16.tif", ramp16(24, 40, color=False))
    cases.append(Case("gray16.tif", "16-bit grayscale TIFF", size=(40, 24)))
    make_palette_png(root / "palette-transparent.png", transparent_index=0, gray=True)
    cases.append(Case("palette-transparent.png", "palette PNG with a transparent index",
                      size=(24, 16), mode="RGBA"))
    make_png(root / "rgba.png", gray_scene(36, 52, seed=3), alpha=np.full((36, 52), 128, np.uint8))
    cases.append(Case("rgba.png", "gray RGBA PNG, half transparent", size=(52, 36), mode="RGBA"))

    upright = np.repeat(gray_scene(32, 48, seed=6)[:, :, None], 3, axis=2)
    for orientation in range(1, 9):
        make_exif_rotated_jpeg(root / f"exif-orientation-{orientation}.jpg", orientation, upright=upright)
        cases.append(Case(f"exif-orientation-{orientation}.jpg", f"EXIF orientation {orientation}",
                          size=(48, 32)))

    make_jpeg(root / "already-colour.jpg", color_scene(40, 60))
    cases.append(Case("already-colour.jpg", "a photo already in colour (colorized anyway, reported)",
                      size=(60, 40)))
    make_jpeg(root / "name with  spaces .jpg", gray_scene(20, 30, seed=7))
    cases.append(Case("name with  spaces .jpg", "name with spaces (and one before the dot)", size=(30, 20),
                      out_name="name with  spaces_color.jpg"))
    make_png(root / "Großmutter ✓ 1952 👵.png", gray_scene(20, 30, seed=8))
    cases.append(Case("Großmutter ✓ 1952 👵.png", "unicode name (accents, emoji)", size=(30, 20)))
    make_jpeg(root / "-rf --help.jpg", gray_scene(20, 30, seed=9))
    cases.append(Case("-rf --help.jpg", "name starting with '-'", size=(30, 20)))

    # Issue 18: orientation in TIFFs (Pillow and OpenCV turn them upright themselves).
    for orientation in range(2, 9):
        make_oriented(root / f"tiff-orientation-{orientation}.tif", "TIFF", orientation)
        cases.append(Case(f"tiff-orientation-{orientation}.tif", f"TIFF Orientation {orientation}, 8-bit",
                          size=(48, 32), check=upright_card))
    for orientation in (3, 6, 8):
        make_oriented(root / f"tiff16-orientation-{orientation}.tif", "TIFF", orientation, sixteen=True)
        cases.append(Case(f"tiff16-orientation-{orientation}.tif", f"TIFF Orientation {orientation}, 16-bit RGB",
                          size=(48, 32), check=upright_card))
    for orientation in (5, 7):
        make_oriented(root / f"png-orientation-{orientation}.png", "PNG", orientation)
        cases.append(Case(f"png-orientation-{orientation}.png", f"PNG eXIf orientation {orientation}",
                          size=(48, 32), check=upright_card))
    make_tiff12(root / "film-scan-12bit.tif", (np.linspace(0, 4095, 40 * 64).reshape(40, 64)).astype(np.uint16))
    cases.append(Case("film-scan-12bit.tif", "12-bit gray TIFF (BitsPerSample 12)", size=(64, 40),
                      check=lambda p: 100 < float(np.asarray(Image.open(p).convert("L")).mean()) < 160))
    make_tiff_u32(root / "u32.tif", np.linspace(0, 2**32 - 1, 30 * 40).reshape(30, 40).astype(np.uint32))
    cases.append(Case("u32.tif", "32-bit unsigned gray TIFF", size=(40, 30),
                      check=lambda p: np.asarray(Image.open(p).convert("L"))[0, 0] < 30))
    make_tiff_float_rgb(root / "float-rgb.tif", asymmetric_rgb().astype(np.float32) / 255.0)
    cases.append(Case("float-rgb.tif", "32-bit float RGB TIFF", size=(48, 32), check=upright_card))
    make_multipage_tiff(root / "thumbnail-first.tif", [gray_scene(60, 80, seed=11), gray_scene(300, 400, seed=11)])
    cases.append(Case("thumbnail-first.tif", "2-page TIFF, 80x60 thumbnail first", size=(400, 300)))
    icc = bytearray(srgb_icc()) + bytes(150_000)
    icc[0:4] = len(icc).to_bytes(4, "big")
    Image.fromarray(gray_scene(30, 40, seed=12)).convert("RGB").save(root / "big-icc.jpg", "JPEG",
                                                                       icc_profile=bytes(icc))
    cases.append(Case("big-icc.jpg", "JPEG with a 150 KB ICC profile", size=(40, 30),
                      check=lambda p: len(Image.open(p).info.get("icc_profile", b"")) == len(icc)))
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", "scanned 1998")
    (root / "bad-text-crc.png").write_bytes(corrupt_png_chunk_crc(
        encode(Image.fromarray(gray_scene(20, 30, seed=13)), "PNG", pnginfo=meta), b"tEXt"))
    cases.append(Case("bad-text-crc.png", "PNG whose tEXt chunk has a bad checksum", size=(30, 20)))
    make_tiff(root / "IMG_0001.CR2", gray_scene(20, 30, seed=14))
    cases.append(Case("IMG_0001.CR2", "camera RAW (CR2; TIFF-shaped)", skipped=True,
                      error=r"not supported \(camera RAW: export a TIFF or JPEG"))
    from PIL import features

    if features.check("avif"):
        Image.fromarray(gray_scene(20, 30, seed=15)).convert("RGB").save(root / "photo.avif", "AVIF")
        cases.append(Case("photo.avif", "AVIF", size=(30, 20), out_name="photo_color.png"))
    if os.name != "nt":
        make_jpeg(root / "back\\slash.jpg", gray_scene(20, 30, seed=16))
        cases.append(Case("back\\slash.jpg", "backslash in the name (Linux, macOS)", size=(30, 20),
                          out_name="back_slash_color.jpg"))

    # Near PATH_MAX: the output folder name ("out" beside "corpus") is 3 bytes
    # shorter and "_color" adds 6; the hidden temp name written first
    # (".colorizer-<12 hex>.partial") is 17 bytes longer than "deep_color.jpg".
    # 40 bytes of slack leave room for both.
    name = "deep.jpg"
    parts = long_path_parts(root, name, slack=40)
    deep = root.joinpath(*parts)
    deep.mkdir(parents=True)
    make_jpeg(deep / name, gray_scene(16, 24, seed=10))
    rel = "/".join([*parts, name])
    cases.append(Case(rel, f"path of {len(os.fsencode(root / rel))} bytes ({len(parts)} nested folders)",
                      size=(24, 16)))
    return cases


def expected_output(case: Case, out: Path) -> Path:
    src = Path(case.rel)
    return out / src.parent / (case.out_name or f"{src.stem}_color{src.suffix}")


@pytest.fixture(scope="session")
def tiny_cgan(tmp_path_factory) -> Path:
    tiny = pytest.importorskip("tiny_cgan")
    return tiny.make_tiny_generator_file(tmp_path_factory.mktemp("cgan") / "tiny.safetensors")


@pytest.fixture
def bad_corpus(tmp_path) -> tuple[Path, list[Case]]:
    """A fresh folder holding the bad-input corpus, and the expected outcomes."""
    root = tmp_path / "corpus"
    return root, build_bad_corpus(root)


# --------------------------------------------------------------------------- the CLI on the corpus

def test_corpus_through_the_cli(bad_corpus, tiny_cgan, tmp_path):
    root, cases = bad_corpus
    before = snapshot(root)
    out = tmp_path / "out"
    assert len(os.fsencode(out)) < len(os.fsencode(root))

    result = run_cli("colorize", root, "-o", out, "--backend", "cgan", "--weights", tiny_cgan,
                     "--device", "cpu", "--render-size", "64")

    assert result.returncode == 1, result.stderr  # some failed, the rest done
    assert "Traceback" not in result.stderr
    assert snapshot(root) == before  # every original byte-identical, nothing added beside them
    failed = failed_lines(result.stderr)
    skipped = failed_lines(result.stderr, "SKIPPED")
    for case in cases:
        src = str(root / case.rel)
        if case.ok:
            assert src not in failed, (case.rel, failed.get(src))
            dest = expected_output(case, out)
            size, mode = decode_fully(dest)
            assert size == case.size, case.rel
            if case.mode:
                assert mode == case.mode, case.rel
            if case.check:
                assert case.check(dest), case.rel
        else:
            said = skipped if case.skipped else failed
            assert re.search(case.error, said[src]), (case.rel, said[src])
            assert not list(out.rglob(f"{Path(case.rel).stem}_color*")), case.rel
    assert len(failed) == sum(not c.ok and not c.skipped for c in cases)
    assert len(skipped) == sum(c.skipped for c in cases)
    n_ok = sum(c.ok for c in cases)
    assert f"Colorized {n_ok} of {len(cases)} photos" in result.stdout
    n_color = 1 + sum(c.check is upright_card for c in cases)  # the colour card is colour too
    assert f"{n_color} photos already in colour were colorized anyway" in result.stdout
    written = [p for p in out.rglob("*") if p.is_file() and p.name != OUTPUT_MARKER]  # the copies' list
    assert len(written) == n_ok  # no temp files left, no extra outputs
    assert not [p for p in written if p.name.startswith(".")]
    # 16-bit inputs keep 16 bits in PNG/TIFF outputs.
    import cv2
    for rel in ("gray16.png", "gray16.tif"):
        deep = cv2.imread(str(expected_output(Case(rel, ""), out)), cv2.IMREAD_UNCHANGED)
        assert deep.dtype == np.uint16 and deep.shape == (24, 40, 3), rel


def test_ycck_jpeg_decodes_to_its_picture(tmp_path):
    from colorizer_gui.core.photo import load_photo

    gray = gray_scene(30, 44, seed=5)
    photo = load_photo(make_ycck_jpeg(tmp_path / "ycck.jpg", gray))
    assert photo.info.get("source_mode", "CMYK") == "CMYK"
    pixels = photo.pixels if photo.pixels.ndim == 2 else photo.pixels.mean(axis=2)
    assert np.abs(pixels.astype(float) - gray).mean() < 3.0  # YCC->RGB applied, not read as CMYK
    assert not photo.is_color


def test_100_megapixel_photo_keeps_memory_sane(tmp_path, tiny_cgan):
    """A flat 10000x10000 gray PNG (a few hundred kB on disk) is colorized at full size
    with the peak memory of the whole process below 2.5 GB (about 25 bytes a pixel)."""
    src = tmp_path / "scan"
    src.mkdir()
    Image.new("L", (10000, 10000), 120).save(src / "huge.png", compress_level=9)
    out = tmp_path / "out"
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr); sys.stdout.write(r.stdout)\n"
        "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(r.returncode)\n")
    result = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "colorizer_gui", "colorize", str(src / "huge.png"),
         "-o", str(out), "--backend", "cgan", "--weights", str(tiny_cgan), "--device", "cpu"],
        cwd=REPO, env=dict(os.environ, OMP_NUM_THREADS="2"), capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    peak_mb = int(re.search(r"MAXRSS_KB (\d+)", result.stdout).group(1)) / 1024
    assert peak_mb < 2500, f"peak RSS {peak_mb:.0f} MB for a 100 MP photo"
    assert decode_fully(out / "huge_color.png")[0] == (10000, 10000)


# --------------------------------------------------------------------------- in-process batch

@pytest.fixture(scope="module")
def cgan_backend(tmp_path_factory):
    tiny = pytest.importorskip("tiny_cgan")
    from colorizer_gui.backends import create_backend

    path = tiny.make_tiny_generator_file(tmp_path_factory.mktemp("cgan_mod") / "tiny.safetensors")
    backend = create_backend("cgan", weights=path, device="cpu")
    backend.load()
    return backend


def small_album(folder: Path, n: int = 5, h: int = 40, w: int = 56) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_png(folder / f"photo{i}.png", gray_scene(h, w, seed=i)) for i in range(n)]


def test_file_deleted_before_it_is_loaded_is_reported_and_the_batch_goes_on(tmp_path, cgan_backend, monkeypatch):
    from colorizer_gui.core import batch

    photos = small_album(tmp_path / "album")
    victim = photos[2]
    real_load = batch.load_photo

    def load_after_someone_deleted_it(path, *args, **kwargs):
        if Path(path) == victim and victim.exists():
            victim.unlink()  # e.g. a sync client or the user moved it while the batch ran
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(batch, "load_photo", load_after_someone_deleted_it)
    keep = {p: p.read_bytes() for p in photos if p != victim}
    result = batch.run_batch([tmp_path / "album"], tmp_path / "out", cgan_backend)
    assert [src for src, _msg in result.failed] == [victim]
    assert "not found (was it moved or deleted?)" in result.failed[0][1]
    assert len(result.done) == 4 and not result.cancelled
    assert all(p.read_bytes() == data for p, data in keep.items())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [OUTPUT_MARKER] + [
        f"photo{i}_color.png" for i in (0, 1, 3, 4)]


def _inject_oserror(monkeypatch, folder: Path, code: int, after: int = 0) -> None:
    """Make creating files inside ``folder`` fail with ``code`` (after ``after`` successes),
    as a read-only or full disk does; used where this sandbox cannot mount one."""
    from colorizer_gui.core.photo import save as photo_save

    real_open = os.open
    count = {"n": 0}

    def fake_open(path, flags, *args, **kwargs):
        name = Path(os.fsdecode(path))
        if flags & os.O_CREAT and name.parent == folder and name.name != OUTPUT_MARKER:
            count["n"] += 1
            if count["n"] > after:
                raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(photo_save.os, "open", fake_open)


@pytest.mark.parametrize("code,message", [(errno.EROFS, "the folder is read-only"),
                                          (errno.EACCES, "permission denied")])
def test_unwritable_output_folder_injected(tmp_path, cgan_backend, monkeypatch, code, message):
    from colorizer_gui.core.batch import run_batch

    small_album(tmp_path / "album", n=3)
    before = snapshot(tmp_path / "album")
    out = tmp_path / "out"
    out.mkdir()
    _inject_oserror(monkeypatch, out, code)
    result = run_batch([tmp_path / "album"], out, cgan_backend)
    assert len(result.failed) == 3 and not result.done  # each photo reported, the batch went on
    assert all(message in msg for _src, msg in result.failed), result.failed
    # No copy and no temp file; only the marker, which the injection lets through
    # (names are recorded before a copy appears, so a crash cannot orphan one).
    assert [p.name for p in out.iterdir() if p.name != OUTPUT_MARKER] == []
    assert snapshot(tmp_path / "album") == before


def test_disk_full_injected_keeps_whole_files_and_no_temp(tmp_path, cgan_backend, monkeypatch):
    from colorizer_gui.core.batch import run_batch

    small_album(tmp_path / "album", n=4)
    before = snapshot(tmp_path / "album")
    out = tmp_path / "out"
    out.mkdir()
    _inject_oserror(monkeypatch, out, errno.ENOSPC, after=2)
    result = run_batch([tmp_path / "album"], out, cgan_backend)
    assert len(result.done) == 2 and len(result.failed) == 2
    assert all("the disk is full" in msg for _src, msg in result.failed)
    assert sorted(p.name for p in out.iterdir()) == [OUTPUT_MARKER, "photo0_color.png", "photo1_color.png"]
    assert all(decode_fully(p)[0] == (56, 40) for p in out.iterdir() if p.name != OUTPUT_MARKER)
    assert snapshot(tmp_path / "album") == before


def test_read_only_output_mount_through_the_cli(tmp_path, tiny_cgan):
    small_album(tmp_path / "album", n=3)
    before = snapshot(tmp_path / "album")
    backing = tmp_path / "backing"
    backing.mkdir()
    out = tmp_path / "ro-out"
    with mounted("ro", out, source=backing) as ok:
        if not ok:
            pytest.skip("cannot mount a read-only bind here; covered by the injected test")
        with pytest.raises(OSError):
            (out / "probe").write_bytes(b"x")  # really read-only, even for root
        result = run_cli("colorize", tmp_path / "album", "-o", out, "--backend", "cgan",
                         "--weights", tiny_cgan, "--device", "cpu")
    assert result.returncode == 1, result.stderr
    failed = failed_lines(result.stderr)
    assert len(failed) == 3 and all("read-only" in m for m in failed.values()), result.stderr
    assert "Traceback" not in result.stderr
    assert list(backing.iterdir()) == []
    assert snapshot(tmp_path / "album") == before


def test_full_disk_through_the_cli(tmp_path, tiny_cgan):
    album = tmp_path / "album"
    album.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):  # noisy 16-bit PNGs: each output is about 170 kB, the disk holds two
        make_png16(album / f"scan{i}.png", rng.integers(0, 65535, (120, 160), dtype=np.uint16))
    before = snapshot(album)
    out = tmp_path / "small-disk"
    with mounted("tmpfs", out, size_kb=400) as ok:
        if not ok:
            pytest.skip("cannot mount a small tmpfs here; covered by the injected test")
        result = run_cli("colorize", album, "-o", out, "--backend", "cgan", "--weights", tiny_cgan,
                         "--device", "cpu", "--render-size", "64")
        written = sorted(p for p in out.iterdir() if p.name != OUTPUT_MARKER)
        sizes = {p.name: decode_fully(p)[0] for p in written}
    assert result.returncode == 1, result.stderr
    failed = failed_lines(result.stderr)
    assert failed and all("disk is full" in m for m in failed.values()), result.stderr
    assert len(failed) + len(written) == 6
    assert all(size == (160, 120) for size in sizes.values())  # what was written is whole
    assert not [name for name in sizes if name.startswith(".")]  # no temp file left behind
    assert snapshot(album) == before


# --------------------------------------------------------------------------- names and symlinks

def test_hostile_names_and_dot_segments_stay_inside_the_output_folder(tmp_path, cgan_backend):
    from colorizer_gui.core.batch import run_batch

    album = tmp_path / "nest" / "album"
    album.mkdir(parents=True)
    names = ["-rf.png", "back\\slash.png", "new\nline.png", "tab\there.png", "a..b.png"]
    for i, name in enumerate(names):
        make_png(album / name, gray_scene(20, 28, seed=i))
    out = tmp_path / "nest" / "out"
    before_all = snapshot(tmp_path)
    # Files given through '..' segments, as a script or a shell glob might pass them.
    inputs = [album / ".." / "album" / name for name in names]
    result = run_batch(inputs, out, cgan_backend)
    assert len(result.done) == len(names), result.failed
    after_all = snapshot(tmp_path)
    added = set(after_all) - set(before_all)
    assert all(Path(rel).parts[:2] == ("nest", "out") for rel in added), added
    assert {k: v for k, v in after_all.items() if k in before_all} == before_all
    for _src, dest in result.done:
        assert dest.parent == out and "\n" not in dest.name and "\\" not in dest.name
        assert decode_fully(dest)[0] == (28, 20)


def test_cli_handles_a_name_starting_with_a_dash(tmp_path, tiny_cgan):
    album = tmp_path / "album"
    album.mkdir()
    make_png(album / "-o.png", gray_scene(20, 28))
    out = tmp_path / "out"
    result = run_cli("colorize", "-o", out, "--backend", "cgan", "--weights", tiny_cgan, "--device", "cpu",
                     "--", album / "-o.png")
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {OUTPUT_MARKER, "-o_color.png"}


def test_existing_symlink_at_the_output_name_is_never_written_through(tmp_path, cgan_backend):
    from colorizer_gui.core.batch import run_batch

    album = tmp_path / "album"
    photos = small_album(album, n=2)
    original = album / "photo0.png"
    before = snapshot(album)
    out = tmp_path / "out"
    out.mkdir()
    # A link at photo0's output name pointing at the original photo, and a dangling
    # one at photo1's pointing outside the output folder.
    (out / "photo0_color.png").symlink_to(original)
    elsewhere = tmp_path / "elsewhere" / "planted.png"
    elsewhere.parent.mkdir()
    (out / "photo1_color.png").symlink_to(elsewhere)

    result = run_batch(photos, out, cgan_backend)
    assert len(result.done) == 2, result.failed
    assert snapshot(album) == before  # the original the link points at is untouched
    assert os.readlink(out / "photo0_color.png") == str(original)
    assert not elsewhere.exists()  # nothing created through the dangling link
    dests = sorted(dest.name for _src, dest in result.done)
    assert dests == ["photo0_color-2.png", "photo1_color-2.png"]
    assert all(not (out / name).is_symlink() and decode_fully(out / name)[0] == (56, 40) for name in dests)


def test_output_folder_that_is_a_link_to_the_input_folder(tmp_path, cgan_backend):
    from colorizer_gui.core.batch import run_batch

    album = tmp_path / "album"
    photos = small_album(album, n=3)
    before = snapshot(album)
    link = tmp_path / "out-link"
    link.symlink_to(album, target_is_directory=True)

    # The folder itself: copies land beside the originals under new names.
    result = run_batch([album], link, cgan_backend)
    assert len(result.done) == 3, result.failed
    after = snapshot(album)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {OUTPUT_MARKER} | {f"photo{i}_color.png" for i in range(3)}

    # Again with skip-existing: our own copies are not taken for originals.
    result = run_batch([album], link, cgan_backend, skip_existing=True)
    assert not result.done and len(result.skipped) == 3
    assert snapshot(album) == after

    # Files named one by one: copies land beside them under new names, originals untouched
    # (the list of copies Colorizer keeps in the folder grows, nothing else changes).
    result = run_batch(photos, link, cgan_backend)
    assert len(result.done) == 3, result.failed
    after.pop(OUTPUT_MARKER)
    assert {k: v for k, v in snapshot(album).items() if k in after} == after
    after = snapshot(album)
    after.pop(OUTPUT_MARKER)
    # And again: new counter names, still nothing overwritten.
    result = run_batch(photos, link, cgan_backend)
    again = snapshot(album)
    assert {k: v for k, v in again.items() if k in after} == after
    assert {f"photo{i}_color-2.png" for i in range(3)} <= set(again)


def test_path_too_long_for_the_output_is_a_clear_failure(tmp_path, cgan_backend):
    """An input a few bytes under PATH_MAX whose output path would exceed it."""
    from colorizer_gui.core.batch import run_batch

    corpus = tmp_path / "c"
    parts = long_path_parts(corpus, "x.png", slack=2)
    deep = corpus.joinpath(*parts)
    deep.mkdir(parents=True)
    make_png(deep / "x.png", gray_scene(16, 16))
    make_png(corpus / "fine.png", gray_scene(16, 16))
    before = snapshot(corpus)
    result = run_batch([corpus], tmp_path / "output-folder", cgan_backend)
    assert [src.name for src, _dest in result.done] == ["fine.png"]
    assert len(result.failed) == 1 and re.search(r"too long", result.failed[0][1]), result.failed
    assert snapshot(corpus) == before


# --------------------------------------------------------------------------- hostile model files

class _Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.fixture
def evil(tmp_path) -> dict:
    """Pickle-based model files with a payload, in the forms a user might receive."""
    import torch

    marker = tmp_path / "PAYLOAD_RAN"
    files = {}
    data = pickle.dumps({"state_dict": {"w": [0.0]}, "x": _Payload(marker)})
    files["pth"] = tmp_path / "evil.pth"
    files["pth"].write_bytes(data)
    files["pickle_renamed"] = tmp_path / "evil-pickle.safetensors"
    files["pickle_renamed"].write_bytes(data)
    files["torch_zip_renamed"] = tmp_path / "evil-zip.safetensors"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "x": _Payload(marker)}, files["torch_zip_renamed"])
    # Prove the payloads are live: loading them the unsafe way does create the marker.
    pickle.loads(data)
    assert marker.exists()
    marker.unlink()
    live = tmp_path / "live-check.pt"  # torch.load reads a .safetensors name as safetensors
    live.write_bytes(files["torch_zip_renamed"].read_bytes())
    torch.load(live, weights_only=False)
    live.unlink()
    assert marker.exists()
    marker.unlink()
    return {"marker": marker, **files}


def test_pickled_models_are_refused_by_every_entry_point(tmp_path, evil, isolated_user_dirs):
    marker = evil["marker"]
    make_png(tmp_path / "a.png", gray_scene(20, 20))
    for key in ("pth", "pickle_renamed", "torch_zip_renamed"):
        result = run_cli("colorize", tmp_path / "a.png", "-o", tmp_path / "out", "--backend", "cgan",
                         "--weights", evil[key], "--device", "cpu")
        assert result.returncode == 2, (key, result.stderr)
        assert "not a safetensors file" in result.stderr and "Traceback" not in result.stderr, key
        imported = run_cli("models", "import", evil[key])
        assert imported.returncode != 0 and "cannot import" in imported.stderr, (key, imported.stderr)
        chosen = run_cli("models", "set-default", evil[key])
        assert chosen.returncode != 0 and "cannot be used" in chosen.stderr, (key, chosen.stderr)
        assert not marker.exists(), key
    assert not (tmp_path / "out").exists()
    weights = isolated_user_dirs / "data" / "weights"
    assert not weights.exists() or not [p for p in weights.iterdir() if not p.name.startswith(".")]

    # A pickle sitting where the default model lives (as if copied there by hand) is refused
    # by colorize without --weights and by training from the default weights.
    weights.mkdir(parents=True, exist_ok=True)
    os.link(evil["torch_zip_renamed"], weights / "cgan-default.safetensors")
    result = run_cli("colorize", tmp_path / "a.png", "-o", tmp_path / "out", "--backend", "cgan")
    assert result.returncode == 2 and "not a safetensors file" in result.stderr, result.stderr
    data = tmp_path / "photos"
    for i in range(6):
        make_jpeg(data / f"c{i}.jpg", color_scene(64, 64, seed=i))
    trained = run_cli("train", data, "--out", tmp_path / "m.safetensors", "--init", "default",
                      "--size", "32", "--l1-epochs", "1", "--gan-epochs", "0", "--device", "cpu",
                      "--run-dir", tmp_path / "run")
    assert trained.returncode == 1, trained.stderr
    assert "not a safetensors file" in trained.stderr and "Traceback" not in trained.stderr
    assert not (tmp_path / "m.safetensors").exists()
    assert not marker.exists()


def test_cgan_backend_load_refuses_renamed_pickles(evil):
    from colorizer_gui.backends import BackendError, create_backend

    for key in ("pth", "pickle_renamed", "torch_zip_renamed"):
        backend = create_backend("cgan", weights=evil[key], device="cpu")
        assert not backend.availability().ok
        with pytest.raises(BackendError, match="not a safetensors file"):
            backend.load()
    assert not evil["marker"].exists()


def _tiny_state(arch: str):
    from colorizer_gui.nets import build_generator
    from tiny_cgan import TINY_CONFIGS

    return {k: v.contiguous() for k, v in build_generator(arch, **TINY_CONFIGS[arch]).state_dict().items()}


def test_wrong_shapes_and_other_architecture_are_refused_by_the_cli(tmp_path):
    import json

    from safetensors.torch import save_file

    make_png(tmp_path / "a.png", gray_scene(20, 20))
    wrong = tmp_path / "wrong-shapes.safetensors"
    save_file(_tiny_state("lite0-unet"), str(wrong), metadata={
        "arch": "lite0-unet", "format_version": "1", "config": json.dumps({"decoder_channels": [32, 8, 8, 8, 8]})})
    other = tmp_path / "other-arch.safetensors"
    save_file(_tiny_state("lite0-unet"), str(other), metadata={
        "arch": "pix2pix", "format_version": "1", "config": json.dumps({"ngf": 4})})
    foreign = tmp_path / "foreign.safetensors"  # some other project's safetensors file
    save_file(_tiny_state("pix2pix"), str(foreign), metadata={"format": "pt"})
    for path, words in ((wrong, "do not fit a lite0-unet generator"), (other, "do not fit a pix2pix generator"),
                        (foreign, "not a Colorizer generator")):
        result = run_cli("colorize", tmp_path / "a.png", "-o", tmp_path / "out", "--backend", "cgan",
                         "--weights", path, "--device", "cpu")
        assert result.returncode == 2, result.stderr
        assert words in result.stderr and path.name in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_download_is_verified_in_a_temp_file_and_never_installed_when_wrong(tmp_path):
    from http_server import _Server

    from colorizer_gui.core.download import DownloadError, download_file, partial_path

    good = np.random.default_rng(1).bytes(200_000)
    sha = hashlib.sha256(good).hexdigest()
    server = _Server()
    try:
        server.files["/m.bin"] = good
        server.files["/error.html"] = b"<html>503 Service Unavailable</html>"
        dest = tmp_path / "weights" / "m.bin"
        seen = []

        def watch(event) -> None:  # while bytes arrive, only the temp file exists
            seen.append((dest.exists(), partial_path(dest).exists()))

        installed = download_file(server.url + "/m.bin", dest, expected_size=len(good),
                                  expected_sha256=sha, on_progress=watch)
        assert installed.read_bytes() == good
        assert seen and all(not final for final, _part in seen[:-1])
        assert partial_path(dest).name.startswith("m.bin") and not partial_path(dest).exists()

        # An error page served with 200 (wrong size), and the right size with a wrong hash:
        # both refused, the good file already installed stays as it was.
        with pytest.raises(DownloadError, match="refused.*expected 200000"):
            download_file(server.url + "/error.html", dest, expected_size=len(good), expected_sha256=sha)
        server.files["/same-size.bin"] = good[:-1] + b"\x00"
        with pytest.raises(DownloadError, match="SHA256"):
            download_file(server.url + "/same-size.bin", dest, expected_size=len(good), expected_sha256=sha)
        assert dest.read_bytes() == good
        assert sorted(p.name for p in dest.parent.iterdir()) == ["m.bin"]
    finally:
        server.close()


def test_models_download_of_a_wrong_file_installs_nothing(tmp_path, isolated_user_dirs):
    from http_server import _Server

    from colorizer_gui.backends.zhang import ZHANG_WEIGHTS_NAME

    server = _Server()
    try:
        server.files["/" + ZHANG_WEIGHTS_NAME] = b"<html>not the model</html>" * 100
        result = run_cli("models", "download", "zhang", env={"COLORIZER_ZHANG_URL": server.url}, timeout=120)
    finally:
        server.close()
    assert result.returncode == 1, result.stderr
    assert "download failed" in result.stderr and "Nothing was installed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not [p for p in isolated_user_dirs.rglob("*") if p.is_file() and "caffemodel" in p.name]
