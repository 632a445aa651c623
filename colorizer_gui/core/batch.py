"""Colorize many photos (and videos) in one go: the engine behind the GUI's
folder drop, the ``colorize`` command and the benchmarks.

A video is colorized in the calling thread too, frame by frame (core/video.py,
which streams its frames, so memory stays flat), between the photos around it.

The backend predicts in the calling thread only (backends are not thread-safe);
decoding the next photos and merging/saving the finished ones run in I/O threads
meanwhile (OpenCV and Pillow release the GIL), so the backend rarely waits on disk.
Cancelling stops at the next photo boundary; every output is written atomically,
so a cancelled batch leaves only whole files.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

import numpy as np
from PIL import Image

from . import pipeline, provenance, video
from .errors import UserError
from .hints import Hint, HintsError, hints_for, load_hints
from .photo import (Photo, PhotoError, load_photo, make_folders,
                    photo_pixel_count, remove_stale_partials,
                    saves_bgr)
from .repair import Detector, RepairSettings
from .repair.files import repair_photo, save_mask, settings_text
from .progress import ProgressCallback, StopCallback, never_stop, no_progress
from .batch_plan import DEFAULT_OUT_NAME, _existing_output, _Job, plan_batch
from .batch_result import BatchResult, BatchTally
from .video import is_video_file

if TYPE_CHECKING:  # the core depends on nothing of ours at run time
    from .backend_type import Backend

log = logging.getLogger(__name__)

#: How many photos are decoded ahead of the one the backend is working on.
PREFETCH = 2
#: ...and at most this many pixels of them (one photo is always allowed), so a
#: folder of 50-100 MP archive scans does not hold several decoded at once.
PREFETCH_PIXELS = 64_000_000
#: Photos merged and saved at once. Two: with a fast network (cgan) joining and
#: encoding dominate, and one writer leaves a core idle while it waits on the
#: disk or on single-threaded JPEG encoding (measured: about 15% more photos a
#: minute on 2 cores). The pixel budget above applies here too.
WRITERS = 2
#: Marks a video job in the read queue: videos are read frame by frame as they
#: are colorized, not decoded ahead like photos.
_VIDEO = object()


@dataclass(frozen=True)
class HintSource:
    """Where a batch takes colour hints from: one file for every photo (the CLI's
    ``--hints``), else each photo's sidecar file (unless ``sidecars`` is False)."""

    file: Optional[Path] = None
    sidecars: bool = True

    def hints(self, src: Path) -> tuple[list[Hint], str]:
        """(hints for ``src``, a note for the user or ""); a bad file gives no hints and a note."""
        try:
            if self.file is not None:
                return load_hints(self.file), ""
            if self.sidecars:
                return hints_for(src)[0], ""
        except HintsError as err:
            return [], f"{err}; colorized without hints"
        return [], ""


def _decode(src: Path, hint_source: HintSource, repair: Optional[RepairSettings] = None,
            repair_detector: Optional[Detector] = None
            ) -> tuple[Photo, np.ndarray, list[Hint], str, Optional[np.ndarray]]:
    """I/O thread: read the photo, repair it (``repair``: the colorizer never sees
    the damage), compute its full-resolution L, read its hints. The last item is
    the damage mask (None without ``repair``)."""
    photo = load_photo(src)
    hints, note = hint_source.hints(src)
    mask = None
    if repair is not None:
        photo, repaired, repair_note = repair_photo(photo, repair, detector=repair_detector)
        mask = repaired.mask
        note = "; ".join(n for n in (note, repair_note) if n)
    return photo, pipeline.photo_lightness(photo), hints, note, mask


def _merge_and_save(photo: Photo, lightness_full: np.ndarray, ab: np.ndarray,
                    saturation: float, dest_dir: Path,
                    made_by: Optional[provenance.Provenance] = None,
                    damage_mask: Optional[np.ndarray] = None) -> Path:
    """Writer thread: join ab with the full-resolution L and save atomically
    (and ``damage_mask``, when given, beside the copy)."""
    # In the order the encoder takes (BGR for OpenCV's): no channel swap of the photo.
    bgr = saves_bgr(photo)
    pixels = pipeline.merge_ab(lightness_full, ab, photo.pixels.dtype, saturation, bgr=bgr)
    try:
        make_folders(dest_dir)
    except OSError as err:
        raise PhotoError(f"Cannot create the output folder {dest_dir}: {err.strerror or err}") from err
    written = pipeline.save_colorized(photo, pixels, dest_dir, scratch=True,  # the pixels are ours alone
                                      ab_shape=ab.shape[:2], bgr=bgr, made_by=made_by)
    if damage_mask is not None:
        save_mask(damage_mask, written)
    return written


def _colorize_video(job: _Job, backend: "Backend", render_size: Optional[int], saturation: float,
                    recolor: bool, report: ProgressCallback, stop: StopCallback) -> tuple[str, object]:
    """Colorize one video of the batch: ("done" or "recolored", written file) or
    ("skipped", reason). Frame progress goes to ``report`` (stage "frames")."""
    info = video.probe_video(job.src)
    is_color = video.video_looks_color(info)
    if is_color and not recolor:
        return "skipped", "already in colour"
    dest = video.colorize_video(job.src, job.dest_dir, backend, render_size, saturation,
                                on_progress=report, should_stop=stop, info=info)
    return ("recolored" if is_color else "done"), dest


def describe_error(err: BaseException) -> str:
    """A message for the user; unexpected errors are logged with their traceback."""
    if isinstance(err, UserError):  # photo, backend, hints, weights, ... errors
        return str(err)
    if isinstance(err, MemoryError):
        return "not enough memory for this photo (try a smaller render size or close other programs)"
    log.error("unexpected error", exc_info=(type(err), err, err.__traceback__))
    return f"unexpected error: {type(err).__name__}: {err}"


class _ReadAhead:
    """The reader pool: decodes the next photos in I/O threads while the backend
    works, at most PREFETCH of them and PREFETCH_PIXELS between them (one photo is
    always allowed). ``next`` gives (job, its decode future), with None for a photo
    skipped because its copy exists and _VIDEO for a video (read as it is colorized)."""

    def __init__(self, jobs: Iterable[_Job], io_threads: int, skip_existing: bool, hint_source: HintSource,
                 repair: Optional[RepairSettings], repair_detector: Optional[Detector]) -> None:
        self._pool = ThreadPoolExecutor(max(1, io_threads), thread_name_prefix="colorizer-read")
        self._queue = iter(jobs)
        self._decode_args = (hint_source, repair, repair_detector)
        self._skip_existing = skip_existing
        # (job, decode future or None when skipped, pixels from the file's header)
        self._pending: deque[tuple[_Job, Optional[Future], int]] = deque()
        self._upcoming: list[tuple[_Job, int]] = []  # the next job, held back by the pixel budget

    def __bool__(self) -> bool:
        return bool(self._pending)

    def top_up(self) -> None:
        """Start decoding the next photos, as far as PREFETCH and the pixel budget allow."""
        while len(self._pending) < PREFETCH:
            if not self._upcoming:
                job = next(self._queue, None)  # type: ignore[call-overload]
                if job is None:
                    return
                if self._skip_existing and _existing_output(job) is not None:
                    self._pending.append((job, None, 0))
                    continue
                if is_video_file(job.src):
                    self._pending.append((job, _VIDEO, 0))  # type: ignore[arg-type]
                    continue
                self._upcoming.append((job, photo_pixel_count(job.src)))
            job, pixels = self._upcoming[0]
            queued = sum(p for _job, _fut, p in self._pending)
            if self._pending and queued + pixels > PREFETCH_PIXELS:
                return  # decode it once the photos ahead of it are done
            self._upcoming.clear()
            self._pending.append((job, self._pool.submit(_decode, job.src, *self._decode_args), pixels))

    def next(self) -> tuple[_Job, Optional[Future]]:
        """The next job in order (and the decoding of the ones after it started)."""
        job, fut, _pixels = self._pending.popleft()
        self.top_up()
        return job, fut

    def close(self) -> None:
        """Drop the decodes not started and wait for the ones running."""
        for _job, fut, _pixels in self._pending:
            if isinstance(fut, Future):
                fut.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Writers:
    """The writer pool: merges and saves finished photos in WRITERS threads, within
    the pixel budget, and reports each save through ``tally`` in the batch's order."""

    def __init__(self, tally: BatchTally) -> None:
        self._tally = tally
        # Output names never collide between writers: each photo has its own, and a
        # save links its file into place atomically (taking the next free counter).
        self._pool = ThreadPoolExecutor(WRITERS, thread_name_prefix="colorizer-write")
        self._pending: deque[tuple[Path, bool, Future, int]] = deque()  # (src, was colour, save, pixels)

    def collect(self, keep: Optional[int] = None) -> None:
        """Report finished saves, in order; wait until at most ``keep`` are pending
        (None: only those already finished)."""
        if keep is None:
            keep = len(self._pending)
        while self._pending and (len(self._pending) > keep or self._pending[0][2].done()):
            src, was_color, fut, _pixels = self._pending.popleft()
            try:
                dest = fut.result()
            except Exception as err:  # noqa: BLE001 - reported per photo
                self._tally.finish(src, "failed", describe_error(err))
            else:
                if was_color:
                    self._tally.result.recolored.append(src)
                self._tally.finish(src, "done", dest)

    def submit(self, src: Path, was_color: bool, pixels: int, *merge_args: object) -> None:
        """Hand a photo to ``_merge_and_save(*merge_args)``; first, for bounded memory,
        wait until the writers hold fewer than WRITERS photos and, with this one, no
        more pixels than the budget."""
        while self._pending and (len(self._pending) >= WRITERS or
                                 sum(w[3] for w in self._pending) + pixels > PREFETCH_PIXELS):
            self.collect(keep=len(self._pending) - 1)
        self._pending.append((src, was_color, self._pool.submit(_merge_and_save, *merge_args), pixels))

    def close(self) -> None:
        """Let a save in progress finish: it is atomic, so nothing partial is left."""
        self._pool.shutdown(wait=True)


class _Colorizing:
    """The backend's side of a batch, in the calling thread (backends are not
    thread-safe): each photo predicted and handed to the writers, each video
    colorized frame by frame; the notes that are true of every photo said once."""

    def __init__(self, backend: "Backend", render_size: Optional[int], saturation: float, recolor: bool,
                 repair: Optional[RepairSettings], save_damage_mask: bool) -> None:
        self.backend, self.render_size, self.saturation, self.recolor = backend, render_size, saturation, recolor
        self.repair, self.save_damage_mask = repair, save_damage_mask
        made_by = provenance.for_backend(backend, render_size, saturation, 0)
        if repair is not None:
            made_by = dataclasses.replace(made_by, repaired=settings_text(repair))
        self.made_by = made_by
        self._video_repair_said = False
        self._hints_unused_said = False

    def photo(self, job: _Job, decoded: Future, tally: BatchTally, writers: _Writers) -> None:
        """Predict one decoded photo and hand it to the writers (or record why not)."""
        result = tally.result
        try:
            photo, lightness_full, hints, note, damage = decoded.result()
            result.notes.extend((job.src, photo_note) for photo_note in photo.notes)
            if photo.is_color and not self.recolor:
                tally.finish(job.src, "skipped", "already in colour", counted=False)
                return
            if note:
                result.notes.append((job.src, note))
            if hints and not self.backend.accepts_hints and not self._hints_unused_said:
                self._hints_unused_said = True  # said once: it is true of every photo
                result.notes.append((job.src, f"the {self.backend.name} colorizer takes no colour "
                                              "hints; photos are colorized without them"))
            ab, used_size, oom_note = pipeline.predict_ab_or_smaller(lightness_full, self.backend,
                                                                     self.render_size, hints)
            if oom_note:
                result.notes.append((job.src, oom_note))
        except Exception as err:  # noqa: BLE001 - reported per photo
            tally.finish(job.src, "failed", describe_error(err))
            return
        made_by = dataclasses.replace(self.made_by, hints=len(hints) if hints and self.backend.accepts_hints else 0,
                                      **({"settings": {**self.made_by.settings, "render_size": str(used_size)}}
                                         if used_size != self.render_size else {}))
        writers.submit(job.src, photo.is_color, int(lightness_full.size),
                       photo, lightness_full, ab, self.saturation, job.dest_dir, made_by,
                       damage if self.save_damage_mask else None)

    def video(self, job: _Job, tally: BatchTally, report: ProgressCallback, stop: StopCallback) -> bool:
        """Colorize one video and record its outcome; False when the user stopped it."""
        result = tally.result
        if self.repair is not None and not self._video_repair_said:
            self._video_repair_said = True
            result.notes.append((job.src, "video repair is not supported: videos are "
                                          "colorized without repair"))
        try:
            outcome, dest = _colorize_video(job, self.backend, self.render_size, self.saturation,
                                            self.recolor, report, stop)
        except video.VideoStopped:
            result.cancelled = True
            return False
        except Exception as err:  # noqa: BLE001 - reported per video
            tally.finish(job.src, "failed", describe_error(err))
            return True
        if outcome == "recolored":
            result.recolored.append(job.src)
            outcome = "done"
        tally.finish(job.src, outcome, dest, counted=outcome == "done")
        return True


def _clear_partials(jobs: Sequence[_Job]) -> None:
    """Remove the partial files a run that was killed left in the output folders."""
    for folder in {job.dest_dir for job in jobs}:
        remove_stale_partials(folder)
        video.remove_abandoned_partials(folder)


def _colorize_all(reads: _ReadAhead, writers: _Writers, colorizing: _Colorizing, tally: BatchTally,
                  report: ProgressCallback, stop: StopCallback) -> None:
    """The batch's loop: each job in order, stopping at a photo boundary when asked
    (the saves already handed over are still collected)."""
    reads.top_up()
    while reads:
        if stop():
            tally.result.cancelled = True
            break
        job, fut = reads.next()
        writers.collect()
        if fut is None:
            tally.finish(job.src, "skipped", "already colorized (its colour copy is in the output folder)",
                         counted=False)
            continue
        tally.emit(job.src.name)
        if fut is _VIDEO:
            if not colorizing.video(job, tally, report, stop):
                break
            continue
        colorizing.photo(job, fut, tally, writers)
    writers.collect(keep=0)


def run_batch(inputs: Sequence[Path], out_dir: Optional[Path], backend: "Backend",
              render_size: Optional[int] = None, saturation: float = 1.0,
              skip_existing: bool = False, recolor: bool = True,
              on_progress: Optional[ProgressCallback] = None,
              should_stop: Optional[StopCallback] = None, io_threads: int = 2,
              hint_source: HintSource = HintSource(), repair: Optional[RepairSettings] = None,
              save_damage_mask: bool = False, repair_detector: Optional[Detector] = None) -> BatchResult:
    """Colorize every photo in ``inputs`` (files and folders, searched recursively).

    ``out_dir``: one output folder (sub-folders of folder inputs mirrored under it),
    or None for a ``colorized`` folder beside each photo. ``skip_existing`` skips a
    photo whose own colour copy is already there (``_existing_output``); copies
    Colorizer wrote are never taken as photos to colorize, and every skip is
    listed with its reason. Each copy records in its provenance the backend, the
    settings and the number of colour hints used. ``recolour`` False skips
    photos that are already in colour. ``on_progress`` gets ProgressEvent(stage=
    "colorize") as photos start and finish; ``should_stop`` is polled between
    photos. A bad photo is listed in ``failed`` and the batch goes on. Colour
    hints come from ``hint_source`` (sidecar files by default). ``repair``: each
    photo is repaired first (``core.repair``), its damage mask saved beside the copy
    with ``save_damage_mask`` (``repair_detector``: another detector than the
    classical one); videos are colorized without repair, with a note.
    Loads the backend first (raising its ``BackendError`` before any photo is touched).
    """
    started = time.monotonic()
    report = on_progress or no_progress
    stop = should_stop or never_stop
    result = BatchResult()
    jobs = plan_batch(inputs, out_dir, result)
    if not jobs:
        result.elapsed_s = time.monotonic() - started
        BatchTally(result, report, "colorize", jobs=0).emit()
        return result
    backend.load()
    colorizing = _Colorizing(backend, render_size, saturation, recolor, repair, save_damage_mask)
    _clear_partials(jobs)
    # Pillow registers its format plugins lazily on first use, and two threads
    # doing that at once can see a half-filled registry: register them now.
    Image.init()
    tally = BatchTally(result, report, "colorize", jobs=len(jobs))
    reads = _ReadAhead(jobs, io_threads, skip_existing, hint_source, repair, repair_detector)
    writers = _Writers(tally)
    tally.emit()
    try:
        _colorize_all(reads, writers, colorizing, tally, report, stop)
    finally:
        reads.close()
        writers.close()
        result.elapsed_s = time.monotonic() - started
    if result.cancelled:
        tally.emit("")
    return result


__all__ = ["BatchResult", "DEFAULT_OUT_NAME", "HintSource", "describe_error", "run_batch"]
