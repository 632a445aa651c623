"""The batch engine: progress, cancelling, errors, skipping, output folders, and
that the originals are never touched.

Most tests use a tiny test-only backend that predicts ab from L with a fixed
formula (fast, deterministic, and it records which thread called it). One test
runs the real Zhang backend on a random-weight Caffe model.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizer_gui.backends.base import BackendError
from colorizer_gui.core import color
from colorizer_gui.core.batch import BatchResult, run_batch
from colorizer_gui.core.progress import ProgressEvent
from colorizer_gui.core.photo import OUTPUT_MARKER

from fake_backends import FormulaBackend, RunsOutOfMemoryWhenLarge
from photo_factory import color_scene, gray_scene, make_jpeg, make_png, make_png16, ramp16


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder``."""
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def gray_photos(folder: Path, count: int, size: tuple[int, int] = (48, 64)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_png(folder / f"p{i}.png", gray_scene(*size, seed=i)) for i in range(count)]


def test_progress_events_count_every_photo_and_give_an_eta(tmp_path):
    photos = gray_photos(tmp_path / "in", 4)
    events: list[ProgressEvent] = []
    result = run_batch([tmp_path / "in"], tmp_path / "out", FormulaBackend(), on_progress=events.append)

    assert [d.name for _s, d in result.done] == [f"p{i}_color.png" for i in range(4)]
    assert result.total == 4 and not result.failed and not result.cancelled
    assert all(e.stage == "colorize" and e.total == 4 for e in events)
    dones = [e.done for e in events]
    assert dones == sorted(dones) and dones[0] == 0 and dones[-1] == 4
    # Each photo is announced while it is worked on, and each completion is counted once.
    assert {e.current for e in events if e.current} == {p.name for p in photos}
    assert sorted(set(dones)) == [0, 1, 2, 3, 4]
    etas = [e.eta_s for e in events if e.done > 0]
    assert all(eta is not None and eta >= 0 for eta in etas)
    assert events[-1].eta_s == 0


def test_predictions_run_only_in_the_calling_thread_and_backend_loads_once(tmp_path):
    gray_photos(tmp_path / "in", 5)
    backend = FormulaBackend()
    result = run_batch([tmp_path / "in"], tmp_path / "out", backend, io_threads=2)
    assert len(result.done) == 5
    assert backend.threads == {threading.get_ident()}
    assert backend.calls == 5 and backend.loads == 1


def test_cancel_after_first_photo_leaves_only_finished_outputs(tmp_path):
    photos = gray_photos(tmp_path / "in", 4)
    started: list[str] = []

    def on_progress(event: ProgressEvent) -> None:
        if event.current:
            started.append(event.current)

    result = run_batch([tmp_path / "in"], tmp_path / "out", FormulaBackend(), on_progress=on_progress,
                       should_stop=lambda: bool(started))
    assert result.cancelled
    assert [s for s, _d in result.done] == [photos[0]]
    assert result.not_reached == 3
    out_files = sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert out_files == [OUTPUT_MARKER, "p0_color.png"]  # no .partial or temp files either
    with Image.open(tmp_path / "out" / "p0_color.png") as im:
        im.load()
        assert im.size == (64, 48)
    assert "Stopped by the user" in result.summary()


def test_a_bad_photo_is_listed_and_the_batch_goes_on(tmp_path, caplog):
    src = tmp_path / "in"
    gray_photos(src, 2)
    (src / "notes.jpg").write_text("this is not a photo", encoding="utf-8")
    (src / "empty.png").write_bytes(b"")
    make_png(src / "wide.png", gray_scene(48, 400, seed=9))  # the backend will crash on this one
    backend = FormulaBackend(fail_on_width=400, error=ZeroDivisionError("division by zero"))
    with caplog.at_level(logging.ERROR):
        result = run_batch([src, tmp_path / "missing.jpg"], tmp_path / "out", backend)

    assert sorted(s.name for s, _d in result.done) == ["p0.png", "p1.png"]
    failed = {s.name: msg for s, msg in result.failed}
    assert set(failed) == {"notes.jpg", "empty.png", "wide.png", "missing.jpg"}
    assert "empty" in failed["empty.png"]
    assert "not a photo Colorizer can read" in failed["notes.jpg"]
    assert failed["wide.png"] == "unexpected error: ZeroDivisionError: division by zero"
    assert failed["missing.jpg"] == "no such file or folder"
    assert "ZeroDivisionError" in caplog.text and "Traceback" in caplog.text
    assert "4 photos could not be colorized" in result.summary()


def test_backend_error_on_one_photo_is_its_own_plain_message(tmp_path):
    gray_photos(tmp_path / "in", 1)
    make_png(tmp_path / "in" / "wide.png", gray_scene(48, 400))
    backend = FormulaBackend(fail_on_width=400, error=BackendError("the model file is damaged"))
    result = run_batch([tmp_path / "in"], tmp_path / "out", backend)
    assert result.failed == [(tmp_path / "in" / "wide.png", "the model file is damaged")]
    assert len(result.done) == 1


def test_backend_that_cannot_load_stops_before_any_photo(tmp_path):
    gray_photos(tmp_path / "in", 2)

    class Broken(FormulaBackend):
        def load(self) -> None:
            raise BackendError("no weights")

    with pytest.raises(BackendError, match="no weights"):
        run_batch([tmp_path / "in"], tmp_path / "out", Broken())
    assert not (tmp_path / "out").exists()


def test_skip_existing_skips_photos_already_done(tmp_path):
    gray_photos(tmp_path / "in", 3)
    first = run_batch([tmp_path / "in"], tmp_path / "out", FormulaBackend())
    assert len(first.done) == 3
    (tmp_path / "out" / "p1_color.png").unlink()
    before = snapshot(tmp_path / "out")

    backend = FormulaBackend()
    second = run_batch([tmp_path / "in"], tmp_path / "out", backend, skip_existing=True)
    assert sorted(s.name for s, _r in second.skipped) == ["p0.png", "p2.png"]
    assert all(r.startswith("already colorized") for _s, r in second.skipped)
    assert [d.name for _s, d in second.done] == ["p1_color.png"]
    assert backend.calls == 1
    after = snapshot(tmp_path / "out")
    assert {k: v for k, v in after.items() if k not in ("p1_color.png", OUTPUT_MARKER)} == {
        k: v for k, v in before.items() if k != OUTPUT_MARKER}

    # Without skip_existing nothing is overwritten: a counter is added instead.
    third = run_batch([tmp_path / "in"], tmp_path / "out", FormulaBackend())
    assert sorted(d.name for _s, d in third.done) == ["p0_color-2.png", "p1_color-2.png", "p2_color-2.png"]


def test_sub_folders_are_mirrored_so_same_names_do_not_collide(tmp_path):
    src = tmp_path / "album"
    for sub in ("1950", "1960"):
        (src / sub).mkdir(parents=True)
    make_png(src / "1950" / "x.png", gray_scene(32, 40, seed=1))
    make_png(src / "1960" / "x.png", gray_scene(32, 40, seed=2))
    make_png(src / "top.png", gray_scene(32, 40, seed=3))
    result = run_batch([src], tmp_path / "out", FormulaBackend())
    assert len(result.done) == 3
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.png")) == [
        "1950/x_color.png", "1960/x_color.png", "top_color.png"]


def test_with_out_dir_inputs_stay_byte_identical_and_nothing_is_added_to_them(tmp_path):
    src = tmp_path / "in"
    gray_photos(src / "sub", 2)
    make_jpeg(src / "old.jpg", gray_scene(40, 56, seed=5))
    make_png16(src / "deep.png", ramp16(24, 40, color=False))
    before = snapshot(src)
    result = run_batch([src], tmp_path / "out", FormulaBackend())
    assert len(result.done) == 4 and not result.failed
    assert snapshot(src) == before
    assert all(dest.is_relative_to(tmp_path / "out") for _s, dest in result.done)


def test_default_output_is_a_colorized_folder_beside_each_photo(tmp_path):
    src = tmp_path / "in"
    gray_photos(src, 1)
    gray_photos(src / "sub", 1)
    result = run_batch([src], None, FormulaBackend())
    assert sorted(str(d.relative_to(src)) for _s, d in result.done) == [
        "colorized/p0_color.png", "sub/colorized/p0_color.png"]
    # A second run does not pick up its own outputs as new photos.
    again = run_batch([src], None, FormulaBackend(), skip_existing=True)
    assert again.total == 2 and len(again.skipped) == 2 and not again.done


def test_output_keeps_size_bit_depth_and_lightness(tmp_path):
    gray = gray_scene(60, 90, seed=4)
    make_png(tmp_path / "g.png", gray)
    make_png16(tmp_path / "g16.png", ramp16(30, 50, color=False))
    result = run_batch([tmp_path / "g.png", tmp_path / "g16.png"], tmp_path / "out", FormulaBackend())
    dest8, dest16 = (d for _s, d in result.done)
    with Image.open(dest8) as im:
        rgb = np.asarray(im.convert("RGB"))
    assert rgb.shape == (60, 90, 3)
    assert abs(color.lightness(rgb) - color.lightness(gray)).mean() < 1.0
    assert float(color.chroma_stats(rgb)[0]) > 10  # it really got colour
    import cv2
    out16 = cv2.imread(str(dest16), cv2.IMREAD_UNCHANGED)
    assert out16.dtype == np.uint16 and out16.shape == (30, 50, 3)


def test_photos_already_in_color_are_reported_or_skipped(tmp_path):
    make_png(tmp_path / "colour.png", color_scene(48, 64))
    make_png(tmp_path / "gray.png", gray_scene(48, 64))
    inputs = [tmp_path / "colour.png", tmp_path / "gray.png"]

    kept = run_batch(inputs, tmp_path / "a", FormulaBackend(), recolor=False)
    assert kept.skipped == [(tmp_path / "colour.png", "already in colour")]
    assert [s.name for s, _d in kept.done] == ["gray.png"]
    assert "already in colour" in kept.summary()

    redone = run_batch(inputs, tmp_path / "b", FormulaBackend(), recolor=True)
    assert len(redone.done) == 2 and redone.recolored == [tmp_path / "colour.png"]
    assert "already in colour" in redone.summary()


def test_summary_of_an_empty_batch(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_batch([tmp_path / "empty"], tmp_path / "out", FormulaBackend())
    assert isinstance(result, BatchResult) and result.total == 0
    assert result.summary() == "No photos found."


def test_real_zhang_backend_colorizes_a_batch(tmp_path, zhang_weights):
    from colorizer_gui.backends import create_backend

    (tmp_path / "in").mkdir()
    make_jpeg(tmp_path / "in" / "a.jpg", gray_scene(70, 50))
    make_png(tmp_path / "in" / "b.png", gray_scene(40, 80, seed=2))
    before = snapshot(tmp_path / "in")
    backend = create_backend("zhang", weights=zhang_weights, device="cpu")
    result = run_batch([tmp_path / "in"], tmp_path / "out", backend)
    assert not result.failed, result.failed
    sizes = {}
    for _src, dest in result.done:
        with Image.open(dest) as im:
            sizes[dest.name] = im.size
    assert sizes == {"a_color.jpg": (50, 70), "b_color.png": (80, 40)}
    assert snapshot(tmp_path / "in") == before


def test_output_folder_may_be_the_input_folder(tmp_path):
    """`colorize FOLDER -o FOLDER` writes copies beside the originals; a rerun never
    takes those copies for new originals."""
    album = tmp_path / "album"
    gray_photos(album, 2)
    before = snapshot(album)
    first = run_batch([album], album, FormulaBackend())
    assert sorted(d.name for _s, d in first.done) == ["p0_color.png", "p1_color.png"]
    assert {k: v for k, v in snapshot(album).items() if k in before} == before

    second = run_batch([album], album, FormulaBackend(), skip_existing=True)
    assert not second.done and not second.failed
    assert sorted(s.name for s, _r in second.skipped) == ["p0.png", "p1.png"]


def test_jpeg_outputs_halve_chroma_only_when_the_colors_are_coarser(tmp_path):
    """Colours predicted at a quarter of the size hold no detail that 4:2:0 JPEG
    chroma would lose, so batch and single-photo outputs use it (smaller, faster);
    colours predicted near full size keep 4:4:4."""
    from PIL import JpegImagePlugin

    from colorizer_gui.core.pipeline import colorize_file

    src = make_jpeg(tmp_path / "in" / "p.jpg", gray_scene(48, 64))

    def sampling(path: Path) -> int:
        with Image.open(path) as im:
            return JpegImagePlugin.get_sampling(im)

    coarse = run_batch([src], tmp_path / "coarse", FormulaBackend())
    fine = run_batch([src], tmp_path / "fine", FormulaBackend(), render_size=40)
    assert sampling(coarse.done[0][1]) == 2 and sampling(fine.done[0][1]) == 0
    assert sampling(colorize_file(src, tmp_path / "one", FormulaBackend())) == 2
    assert sampling(colorize_file(src, tmp_path / "two", FormulaBackend(), render_size=40)) == 0


@pytest.mark.parametrize("error", [RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
                                   MemoryError()], ids=["cuda-message", "MemoryError"])
def test_out_of_memory_retries_once_at_half_the_render_size_and_says_so(tmp_path, error):
    """What the CLI gets (it runs this engine): the photo is colorized at half the
    size, with a note, and the copy records the size really used."""
    from colorizer_gui.core.provenance import read_provenance

    make_png(tmp_path / "in" / "big.png", gray_scene(300, 400))
    backend = RunsOutOfMemoryWhenLarge(limit=200, error=error)
    result = run_batch([tmp_path / "in"], tmp_path / "out", backend, render_size=256)
    assert [s.name for s, _d in result.done] == ["big.png"] and not result.failed
    assert backend.sizes == [256, 128]
    assert result.notes == [(tmp_path / "in" / "big.png", "out of memory at render size 256; colorized at "
                                                          "render size 128 instead (less detail in the colours)")]
    assert "render_size=128" in read_provenance(result.done[0][1])["colorizer"]["Settings"]


def test_out_of_memory_is_retried_once_and_never_below_64(tmp_path):
    make_png(tmp_path / "in" / "big.png", gray_scene(300, 400))
    backend = RunsOutOfMemoryWhenLarge(limit=10, error=RuntimeError("CPU out of memory"))
    result = run_batch([tmp_path / "in"], tmp_path / "out", backend, render_size=96)
    assert backend.sizes == [96, 64]  # once, at the floor
    assert len(result.failed) == 1 and "out of memory" in result.failed[0][1]

    at_floor = RunsOutOfMemoryWhenLarge(limit=10, error=RuntimeError("CPU out of memory"))
    run_batch([tmp_path / "in"], tmp_path / "out2", at_floor, render_size=64)
    assert at_floor.sizes == [64]  # nothing smaller to try


def test_other_errors_are_not_retried_at_a_smaller_size(tmp_path):
    make_png(tmp_path / "in" / "big.png", gray_scene(300, 400))
    backend = RunsOutOfMemoryWhenLarge(limit=10, error=BackendError("the model file is damaged"))
    result = run_batch([tmp_path / "in"], tmp_path / "out", backend, render_size=256)
    assert backend.sizes == [256]
    assert result.failed == [(tmp_path / "in" / "big.png", "the model file is damaged")]
