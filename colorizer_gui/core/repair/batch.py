"""Repair many photos in one go (the ``repair`` command and the window's batch):
the colour batch's planning, per-photo errors, cancel and summary, with repair as
the job. Every copy is written atomically, so a cancelled batch leaves only whole
files; a bad photo gets its message and the batch goes on."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional, Sequence

from ..batch import BatchResult, describe_error, plan_jobs
from ..photo import remove_stale_partials
from ..progress import ProgressCallback, ProgressEvent, StopCallback, never_stop, no_progress
from ..video import is_video_file
from . import Detector, RepairSettings
from .files import DEFAULT_REPAIR_OUT_NAME, save_repaired_copy

#: Why a video in a repair batch is left alone.
VIDEO_NOT_SUPPORTED = "video repair is not supported (only photos are repaired)"


def run_repair_batch(inputs: Sequence[Path], out_dir: Optional[Path],
                     settings: RepairSettings = RepairSettings(), save_damage_mask: bool = False,
                     on_progress: Optional[ProgressCallback] = None,
                     should_stop: Optional[StopCallback] = None, use_edits: bool = True,
                     detector: Optional[Detector] = None) -> BatchResult:
    """Repair every photo in ``inputs`` (files and folders, searched recursively)
    into ``out_dir`` (sub-folders mirrored), or a ``repaired`` folder beside each
    photo. ``on_progress`` gets ProgressEvent(stage="repair"); ``should_stop`` is
    polled between photos. Videos are skipped with ``VIDEO_NOT_SUPPORTED``.
    ``detector``: another damage detector than the classical one."""
    started = time.monotonic()
    report = on_progress or no_progress
    stop = should_stop or never_stop
    result = BatchResult(verb="Repaired")
    problems: list[tuple[Path, str]] = []
    jobs, missing = plan_jobs(inputs, out_dir, skipped=result.skipped, problems=problems,
                              left_out=result.left_out, out_name=DEFAULT_REPAIR_OUT_NAME)
    result.failed.extend(missing + problems)
    result.total = len(jobs) + len(result.failed) + len(result.skipped)
    for folder in {job.dest_dir for job in jobs}:
        remove_stale_partials(folder)  # left by a run that was killed
    done = result.total - len(jobs)
    report(ProgressEvent("repair", done, result.total))
    try:
        for job in jobs:
            if stop():
                result.cancelled = True
                break
            report(ProgressEvent("repair", done, result.total, current=job.src.name))
            outcome, detail = "done", ""
            if is_video_file(job.src):
                result.skipped.append((job.src, VIDEO_NOT_SUPPORTED))
                outcome, detail = "skipped", VIDEO_NOT_SUPPORTED
            else:
                try:
                    copy = save_repaired_copy(job.src, job.dest_dir, settings, save_damage_mask, use_edits,
                                              detector)
                except Exception as err:  # noqa: BLE001 - reported per photo, the batch goes on
                    detail = describe_error(err)
                    result.failed.append((job.src, detail))
                    outcome = "failed"
                else:
                    result.done.append((job.src, copy.path))
                    result.notes.extend((job.src, note) for note in copy.notes)
                    detail = str(copy.path)
            done += 1
            report(ProgressEvent("repair", done, result.total, current=job.src.name,
                                 metrics={"src": str(job.src), "outcome": outcome, "detail": detail}))
    finally:
        result.elapsed_s = time.monotonic() - started
    return result


__all__ = ["VIDEO_NOT_SUPPORTED", "run_repair_batch"]
