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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

import numpy as np
from PIL import Image

from . import pipeline, provenance, video
from .errors import UserError
from .hints import Hint, HintsError, hints_for, load_hints
from .photo import (Photo, PhotoError, display_name, load_photo, make_folders,
                    photo_pixel_count, remove_stale_partials,
                    saves_bgr)
from .repair import Detector, RepairSettings
from .repair.files import repair_photo, save_mask, settings_text
from .progress import ProgressCallback, ProgressEvent, StopCallback, never_stop, no_progress
from .text import format_duration
from .batch_plan import (DEFAULT_OUT_NAME, _existing_output, _Job, is_media_file, looks_like_output,  # noqa: F401
                         plan_jobs, written_by_colorizer)
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
#: How many recent photos the ETA's moving average looks at.
_ETA_WINDOW = 8
#: Marks a video job in the read queue: videos are read frame by frame as they
#: are colorized, not decoded ahead like photos.
_VIDEO = object()


@dataclass
class BatchResult:
    """What a batch did, photo by photo.

    ``done``: (source, written file); ``failed``: (source, message for the user);
    ``skipped``: (source, reason); ``recoloured``: sources that were already in
    colour and were colorized anyway; ``notes``: (source, something the user should
    know that did not stop the photo: which page of a multi-page TIFF was used, a
    bad hints file, hints the backend cannot use); ``left_out``: colour copies
    Colorizer made earlier, found in a folder input and not counted as photos;
    ``total``: photos found; ``cancelled``: the user stopped the batch (photos not
    reached are in none of the lists).
    """

    done: list[tuple[Path, Path]] = field(default_factory=list)
    notes: list[tuple[Path, str]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    recoloured: list[Path] = field(default_factory=list)
    notes: list[tuple[Path, str]] = field(default_factory=list)
    left_out: list[Path] = field(default_factory=list)
    total: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0
    verb: str = "Colorized"  # what the batch did to each photo ("Repaired")

    @property
    def ok(self) -> bool:
        """True when nothing failed and the batch was not cancelled."""
        return not self.failed and not self.cancelled

    @property
    def not_reached(self) -> int:
        """Photos left untouched because the batch was cancelled."""
        return max(0, self.total - len(self.done) - len(self.failed) - len(self.skipped))

    def summary(self) -> str:
        """One plain-language paragraph: what was colorized, skipped, failed, and where."""
        def photos(n: int) -> str:
            return f"{n} photo" if n == 1 else f"{n} photos"

        copies = ""
        if self.left_out:
            n = len(self.left_out)
            copies = (f" Left out {n} colour {'copy' if n == 1 else 'copies'} Colorizer made earlier "
                      "(not photos to colorize).")
        if self.total == 0:
            return "No photos found." + copies
        parts = [f"{self.verb} {len(self.done)} of {photos(self.total)} in {format_duration(self.elapsed_s)}."]
        if self.recoloured:
            parts.append(f"{photos(len(self.recoloured))} already in colour "
                         f"{'was' if len(self.recoloured) == 1 else 'were'} colorized anyway.")
        if self.skipped:
            reasons: dict[str, int] = {}
            for _src, reason in self.skipped:
                reasons[reason] = reasons.get(reason, 0) + 1
            detail = "; ".join(f"{n} {reason}" for reason, n in reasons.items())
            parts.append(f"Skipped {photos(len(self.skipped))} ({detail}).")
        if self.failed:
            parts.append(f"{photos(len(self.failed))} could not be {self.verb.lower()}.")
        if self.notes:
            parts.append(f"{photos(len({src for src, _note in self.notes}))} came with a note "
                         "(which page of several, a damaged optional part that was ignored).")
        if self.cancelled:
            parts.append(f"Stopped by the user; {photos(self.not_reached)} not started.")
        folders = sorted({display_name(str(dest.parent)) for _src, dest in self.done})
        if len(folders) == 1:
            parts.append(f"Saved in {folders[0]}.")
        elif folders:
            parts.append(f"Saved in {len(folders)} folders.")
        parts.append("The originals were not changed.")
        return " ".join(parts) + copies


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
                    recolour: bool, report: ProgressCallback, stop: StopCallback) -> tuple[str, object]:
    """Colorize one video of the batch: ("done" or "recoloured", written file) or
    ("skipped", reason). Frame progress goes to ``report`` (stage "frames")."""
    info = video.probe_video(job.src)
    is_colour = video.video_looks_colour(info)
    if is_colour and not recolour:
        return "skipped", "already in colour"
    dest = video.colorize_video(job.src, job.dest_dir, backend, render_size, saturation,
                                on_progress=report, should_stop=stop, info=info)
    return ("recoloured" if is_colour else "done"), dest


def describe_error(err: BaseException) -> str:
    """A message for the user; unexpected errors are logged with their traceback."""
    if isinstance(err, UserError):  # photo, backend, hints, weights, ... errors
        return str(err)
    if isinstance(err, MemoryError):
        return "not enough memory for this photo (try a smaller render size or close other programs)"
    log.error("unexpected error", exc_info=(type(err), err, err.__traceback__))
    return f"unexpected error: {type(err).__name__}: {err}"


class _Eta:
    """Seconds left, from a moving average of the last few photo durations."""

    def __init__(self) -> None:
        self._durations: deque[float] = deque(maxlen=_ETA_WINDOW)
        self._last = time.monotonic()

    def tick(self, counted: bool) -> None:
        now = time.monotonic()
        if counted:  # skipped photos take no time worth averaging
            self._durations.append(now - self._last)
        self._last = now

    def estimate(self, remaining: int) -> Optional[float]:
        if not self._durations:
            return None
        return remaining * sum(self._durations) / len(self._durations)


def run_batch(inputs: Sequence[Path], out_dir: Optional[Path], backend: "Backend",
              render_size: Optional[int] = None, saturation: float = 1.0,
              skip_existing: bool = False, recolour: bool = True,
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
    skipped_early: list[tuple[Path, str]] = []
    missing_problems: list[tuple[Path, str]] = []
    jobs, missing = plan_jobs(inputs, out_dir, skipped=skipped_early, problems=missing_problems,
                              left_out=result.left_out)
    missing.extend(missing_problems)
    result.failed.extend(missing)
    result.skipped.extend(skipped_early)
    result.total = len(jobs) + len(missing) + len(skipped_early)
    if not jobs:
        result.elapsed_s = time.monotonic() - started
        report(ProgressEvent("colorize", result.total, result.total))
        return result

    backend.load()
    made_by = provenance.for_backend(backend, render_size, saturation, 0)
    if repair is not None:
        made_by = dataclasses.replace(made_by, repaired=settings_text(repair))
    video_repair_said = False
    for folder in {job.dest_dir for job in jobs}:
        remove_stale_partials(folder)
        video.remove_abandoned_partials(folder)  # left by a run that was killed
    # Pillow registers its format plugins lazily on first use, and two threads
    # doing that at once can see a half-filled registry: register them now.
    Image.init()
    eta = _Eta()
    processed = len(missing) + len(skipped_early)
    names = {job.src: job.src.name for job in jobs}
    hints_unused_said = False

    def emit(current: str = "", metrics: Optional[dict] = None) -> None:
        report(ProgressEvent("colorize", processed, result.total, current=current,
                             eta_s=eta.estimate(result.total - processed), metrics=metrics or {}))

    def finish(src: Path, outcome: str, detail: object = None, counted: bool = True) -> None:
        nonlocal processed
        if outcome == "done":
            result.done.append((src, detail))  # type: ignore[arg-type]
        elif outcome == "failed":
            result.failed.append((src, str(detail)))
        else:
            result.skipped.append((src, str(detail)))
        processed += 1
        eta.tick(counted)
        # The outcome rides along so a GUI can show each photo's result as it lands.
        emit(names[src], {"src": str(src), "outcome": outcome, "detail": str(detail)})

    readers = ThreadPoolExecutor(max(1, io_threads), thread_name_prefix="colorizer-read")
    # Output names never collide between writers: each photo has its own, and a
    # save links its file into place atomically (taking the next free counter).
    writer = ThreadPoolExecutor(WRITERS, thread_name_prefix="colorizer-write")
    # (job, decode future or None when skipped, pixels from the file's header)
    pending_reads: deque[tuple[_Job, Optional[Future], int]] = deque()
    upcoming: list[tuple[_Job, int]] = []  # the next job, held back by the pixel budget
    pending_writes: deque[tuple[Path, bool, Future, int]] = deque()  # (..., pixels)
    queue: Iterable[_Job] = iter(jobs)

    def collect_writes(keep: int) -> None:
        """Report finished saves, in order; wait until at most ``keep`` are pending."""
        while pending_writes and (len(pending_writes) > keep or pending_writes[0][2].done()):
            src, was_colour, fut, _pixels = pending_writes.popleft()
            try:
                dest = fut.result()
            except Exception as err:  # noqa: BLE001 - reported per photo
                finish(src, "failed", describe_error(err))
            else:
                if was_colour:
                    result.recoloured.append(src)
                finish(src, "done", dest)

    def top_up_reads() -> None:
        while len(pending_reads) < PREFETCH:
            if not upcoming:
                job = next(queue, None)  # type: ignore[call-overload]
                if job is None:
                    return
                if skip_existing and _existing_output(job) is not None:
                    pending_reads.append((job, None, 0))
                    continue
                if is_video_file(job.src):
                    pending_reads.append((job, _VIDEO, 0))  # type: ignore[arg-type]
                    continue
                upcoming.append((job, photo_pixel_count(job.src)))
            job, pixels = upcoming[0]
            queued = sum(p for _job, _fut, p in pending_reads)
            if pending_reads and queued + pixels > PREFETCH_PIXELS:
                return  # decode it once the photos ahead of it are done
            upcoming.clear()
            pending_reads.append((job, readers.submit(_decode, job.src, hint_source, repair, repair_detector), pixels))

    emit()
    try:
        top_up_reads()
        while pending_reads:
            if stop():
                result.cancelled = True
                break
            job, fut, _pixels = pending_reads.popleft()
            top_up_reads()
            collect_writes(keep=len(pending_writes))
            if fut is None:
                finish(job.src, "skipped", "already colorized (its colour copy is in the output folder)",
                       counted=False)
                continue
            emit(job.src.name)
            if fut is _VIDEO:
                if repair is not None and not video_repair_said:
                    video_repair_said = True
                    result.notes.append((job.src, "video repair is not supported: videos are "
                                                  "colorized without repair"))
                try:
                    outcome = _colorize_video(job, backend, render_size, saturation, recolour, report, stop)
                except video.VideoStopped:
                    result.cancelled = True
                    break
                except Exception as err:  # noqa: BLE001 - reported per video
                    finish(job.src, "failed", describe_error(err))
                    continue
                if outcome[0] == "recoloured":
                    result.recoloured.append(job.src)
                    outcome = ("done", outcome[1])
                finish(job.src, outcome[0], outcome[1], counted=outcome[0] == "done")
                continue
            try:
                photo, lightness_full, hints, note, damage = fut.result()
                result.notes.extend((job.src, photo_note) for photo_note in photo.notes)
                if photo.is_colour and not recolour:
                    finish(job.src, "skipped", "already in colour", counted=False)
                    continue
                if note:
                    result.notes.append((job.src, note))
                if hints and not backend.accepts_hints and not hints_unused_said:
                    hints_unused_said = True  # said once: it is true of every photo
                    result.notes.append((job.src, f"the {backend.name} colorizer takes no colour "
                                                  "hints; photos are colorized without them"))
                # The backend runs here, in the calling thread, and nowhere else.
                ab, used_size, oom_note = pipeline.predict_ab_or_smaller(lightness_full, backend, render_size,
                                                                         hints)
                if oom_note:
                    result.notes.append((job.src, oom_note))
            except Exception as err:  # noqa: BLE001 - reported per photo
                finish(job.src, "failed", describe_error(err))
                continue
            # Bounded memory: before handing this photo over, wait until the writers
            # hold fewer than WRITERS photos and, with it, no more pixels than the budget.
            pixels = int(lightness_full.size)
            while pending_writes and (len(pending_writes) >= WRITERS or
                                      sum(w[3] for w in pending_writes) + pixels > PREFETCH_PIXELS):
                collect_writes(keep=len(pending_writes) - 1)
            pending_writes.append((job.src, photo.is_colour, writer.submit(
                _merge_and_save, photo, lightness_full, ab, saturation, job.dest_dir,
                dataclasses.replace(made_by, hints=len(hints) if hints and backend.accepts_hints else 0,
                                    **({"settings": {**made_by.settings, "render_size": str(used_size)}}
                                       if used_size != render_size else {})),
                damage if save_damage_mask else None),
                pixels))
            del photo, lightness_full, ab, damage  # the writer holds them now
        collect_writes(keep=0)
    finally:
        for _job, fut, _pixels in pending_reads:
            if isinstance(fut, Future):
                fut.cancel()
        readers.shutdown(wait=True, cancel_futures=True)
        # Let a save in progress finish: it is atomic, so nothing partial is left.
        writer.shutdown(wait=True)
        result.elapsed_s = time.monotonic() - started
    if result.cancelled:
        emit("")
    return result


__all__ = ["BatchResult", "DEFAULT_OUT_NAME", "HintSource", "describe_error", "is_media_file", "plan_jobs",
           "run_batch"]
