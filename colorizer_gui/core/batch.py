"""Colorize many photos in one go: the engine behind the GUI's folder drop, the
``colorize`` command and the benchmarks.

The backend predicts in the calling thread only (backends are not thread-safe);
decoding the next photos and merging/saving the finished ones run in I/O threads
meanwhile (OpenCV and Pillow release the GIL), so the backend rarely waits on disk.
Cancelling stops at the next photo boundary; every output is written atomically,
so a cancelled batch leaves only whole files.
"""
from __future__ import annotations

import logging
import re
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

import numpy as np
from PIL import Image

from . import pipeline
from .hints import Hint, HintsError, hints_for, load_hints
from .photo import (SUPPORTED_EXTENSIONS, Photo, PhotoError, find_photos, load_photo, photo_pixel_count,
                    remove_stale_partials, saves_bgr)
from .progress import ProgressCallback, ProgressEvent, StopCallback, never_stop, no_progress
from .text import format_duration

if TYPE_CHECKING:  # the core depends on nothing of ours at run time
    from ..backends.base import Backend

log = logging.getLogger(__name__)

#: Name of the folder made beside each photo when no output folder is given.
DEFAULT_OUT_NAME = "colorized"
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


@dataclass
class BatchResult:
    """What a batch did, photo by photo.

    ``done``: (source, written file); ``failed``: (source, message for the user);
    ``skipped``: (source, reason); ``recoloured``: sources that were already in
    colour and were colorized anyway; ``notes``: (source, message) for things the
    user should know that did not stop a photo (a bad hints file, hints the
    backend cannot use); ``total``: photos found; ``cancelled``: the user stopped
    the batch (photos not reached are in none of the lists).
    """

    done: list[tuple[Path, Path]] = field(default_factory=list)
    notes: list[tuple[Path, str]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    recoloured: list[Path] = field(default_factory=list)
    total: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0

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

        if self.total == 0:
            return "No photos found."
        parts = [f"Colorized {len(self.done)} of {photos(self.total)} in {format_duration(self.elapsed_s)}."]
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
            parts.append(f"{photos(len(self.failed))} could not be colorized.")
        if self.cancelled:
            parts.append(f"Stopped by the user; {photos(self.not_reached)} not started.")
        folders = sorted({str(dest.parent) for _src, dest in self.done})
        if len(folders) == 1:
            parts.append(f"Saved in {folders[0]}.")
        elif folders:
            parts.append(f"Saved in {len(folders)} folders.")
        parts.append("The originals were not changed.")
        return " ".join(parts)


@dataclass(frozen=True)
class _Job:
    src: Path
    dest_dir: Path


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


_OUTPUT_STEM = re.compile(r".*_color(-\d+)?")


def looks_like_output(path: Path) -> bool:
    """Whether ``path`` is named like a colour copy Colorizer wrote (``<stem>_color[-N].<ext>``)."""
    return _OUTPUT_STEM.fullmatch(Path(path).stem) is not None


def plan_jobs(inputs: Sequence[Path], out_dir: Optional[Path]) -> tuple[list[_Job], list[tuple[Path, str]]]:
    """Expand ``inputs`` into (source, output folder) jobs, and list inputs that do not exist.

    Folders are searched recursively. With ``out_dir`` the sub-folders of a folder
    input are mirrored under it (so ``a/x.jpg`` and ``b/x.jpg`` stay apart);
    without it each photo gets a ``colorized`` folder beside it. Files already
    inside an output folder are not picked up again from a folder input. A file
    named explicitly is always tried, so a wrong file gets a clear message.
    """
    jobs: list[_Job] = []
    missing: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    out_resolved = Path(out_dir).resolve() if out_dir is not None else None

    def add(src: Path, dest_dir: Path) -> None:
        key = src.resolve()
        if key not in seen:
            seen.add(key)
            jobs.append(_Job(src, dest_dir))

    for raw in inputs:
        item = Path(raw)
        if item.is_dir():
            # "-o" is the folder itself (or holds it): the originals live in the
            # output folder, so only files named like our outputs are left out.
            writes_into_input = out_resolved is not None and _inside(item.resolve(), out_resolved)
            for src in find_photos([item], recursive=True):
                src = Path(src)
                resolved = src.resolve()
                # find_photos walks the folder itself, so src is item/<sub-folders>/<name>.
                rel_parent = src.parent.relative_to(item) if _inside(src, item) else Path()
                if out_resolved is not None:
                    if _inside(resolved, out_resolved) and (
                            not writes_into_input or looks_like_output(src)):
                        continue  # our own earlier outputs
                    add(src, Path(out_dir) / rel_parent)
                else:
                    if DEFAULT_OUT_NAME in rel_parent.parts:
                        continue  # our own earlier outputs
                    add(src, src.parent / DEFAULT_OUT_NAME)
        elif item.is_file():
            add(item, Path(out_dir) if out_dir is not None else item.parent / DEFAULT_OUT_NAME)
        else:
            missing.append((item, "no such file or folder"))
    return jobs, missing


def _existing_output(job: _Job) -> Optional[Path]:
    """An earlier ``<stem>_color.<ext>`` for this source in its output folder, if any."""
    if not job.dest_dir.is_dir():
        return None
    stem = f"{job.src.stem}_color"
    for ext in {job.src.suffix, job.src.suffix.lower(), *SUPPORTED_EXTENSIONS}:
        candidate = job.dest_dir / f"{stem}{ext}"
        if ext and candidate.is_file():
            return candidate
    return None


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


def _decode(src: Path, hint_source: HintSource) -> tuple[Photo, np.ndarray, list[Hint], str]:
    """I/O thread: read the photo, compute its full-resolution L, read its hints."""
    photo = load_photo(src)
    hints, note = hint_source.hints(src)
    return photo, pipeline.photo_lightness(photo), hints, note


def _merge_and_save(photo: Photo, lightness_full: np.ndarray, ab: np.ndarray,
                    saturation: float, dest_dir: Path) -> Path:
    """Writer thread: join ab with the full-resolution L and save atomically."""
    # In the order the encoder takes (BGR for OpenCV's): no channel swap of the photo.
    bgr = saves_bgr(photo)
    pixels = pipeline.merge_ab(lightness_full, ab, photo.pixels.dtype, saturation, bgr=bgr)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PhotoError(f"Cannot create the output folder {dest_dir}: {err.strerror or err}") from err
    return pipeline.save_colorized(photo, pixels, dest_dir, scratch=True,  # the pixels are ours alone
                                   ab_shape=ab.shape[:2], bgr=bgr)


def describe_error(err: BaseException) -> str:
    """A message for the user; unexpected errors are logged with their traceback."""
    # Matched by name: the core must not import the backends package.
    from_backend = any(cls.__name__ == "BackendError" for cls in type(err).__mro__)
    if isinstance(err, PhotoError) or from_backend:
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
              hint_source: HintSource = HintSource()) -> BatchResult:
    """Colorize every photo in ``inputs`` (files and folders, searched recursively).

    ``out_dir``: one output folder (sub-folders of folder inputs mirrored under it),
    or None for a ``colorized`` folder beside each photo. ``skip_existing`` skips a
    photo whose ``<stem>_color.<ext>`` is already there; ``recolour`` False skips
    photos that are already in colour. ``on_progress`` gets ProgressEvent(stage=
    "colorize") as photos start and finish; ``should_stop`` is polled between
    photos. A bad photo is listed in ``failed`` and the batch goes on. Colour
    hints come from ``hint_source`` (sidecar files by default). Loads the backend
    first (raising its ``BackendError`` before any photo is touched).
    """
    started = time.monotonic()
    report = on_progress or no_progress
    stop = should_stop or never_stop
    result = BatchResult()
    jobs, missing = plan_jobs(inputs, out_dir)
    result.failed.extend(missing)
    result.total = len(jobs) + len(missing)
    if not jobs:
        result.elapsed_s = time.monotonic() - started
        report(ProgressEvent("colorize", result.total, result.total))
        return result

    backend.load()
    for folder in {job.dest_dir for job in jobs}:
        remove_stale_partials(folder)
    # Pillow registers its format plugins lazily on first use, and two threads
    # doing that at once can see a half-filled registry: register them now.
    Image.init()
    eta = _Eta()
    processed = len(missing)
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
                upcoming.append((job, photo_pixel_count(job.src)))
            job, pixels = upcoming[0]
            queued = sum(p for _job, _fut, p in pending_reads)
            if pending_reads and queued + pixels > PREFETCH_PIXELS:
                return  # decode it once the photos ahead of it are done
            upcoming.clear()
            pending_reads.append((job, readers.submit(_decode, job.src, hint_source), pixels))

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
                existing = _existing_output(job)
                finish(job.src, "skipped", f"already colorized ({existing.name if existing else ''})", counted=False)
                continue
            emit(job.src.name)
            try:
                photo, lightness_full, hints, note = fut.result()
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
                ab = pipeline.predict_ab_for(lightness_full, backend, render_size, hints)
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
                _merge_and_save, photo, lightness_full, ab, saturation, job.dest_dir), pixels))
            del photo, lightness_full, ab  # the writer holds them now
        collect_writes(keep=0)
    finally:
        for _job, fut, _pixels in pending_reads:
            if fut is not None:
                fut.cancel()
        readers.shutdown(wait=True, cancel_futures=True)
        # Let a save in progress finish: it is atomic, so nothing partial is left.
        writer.shutdown(wait=True)
        result.elapsed_s = time.monotonic() - started
    if result.cancelled:
        emit("")
    return result


__all__ = ["BatchResult", "DEFAULT_OUT_NAME", "HintSource", "describe_error", "plan_jobs", "run_batch"]
