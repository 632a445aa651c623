"""Repair many photos in one go (the ``repair`` command and the window's batch):
the colour batch's planning, per-photo errors, cancel and summary, with repair as
the job. Every copy is written atomically, so a cancelled batch leaves only whole
files; a bad photo gets its message and the batch goes on."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional, Sequence

from ..batch import describe_error
from ..batch_plan import plan_batch
from ..batch_result import BatchResult, BatchTally
from ..photo import remove_stale_partials
from ..progress import ProgressCallback, StopCallback, never_stop, no_progress
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
    stop = should_stop or never_stop
    result = BatchResult(verb="Repaired")
    jobs = plan_batch(inputs, out_dir, result, out_name=DEFAULT_REPAIR_OUT_NAME)
    for folder in {job.dest_dir for job in jobs}:
        remove_stale_partials(folder)  # left by a run that was killed
    tally = BatchTally(result, on_progress or no_progress, "repair", jobs=len(jobs), eta=False)
    tally.emit()
    try:
        for job in jobs:
            if stop():
                result.cancelled = True
                break
            tally.emit(job.src.name)
            if is_video_file(job.src):
                tally.finish(job.src, "skipped", VIDEO_NOT_SUPPORTED)
                continue
            try:
                copy = save_repaired_copy(job.src, job.dest_dir, settings, save_damage_mask, use_edits, detector)
            except Exception as err:  # noqa: BLE001 - reported per photo, the batch goes on
                tally.finish(job.src, "failed", describe_error(err))
            else:
                result.notes.extend((job.src, note) for note in copy.notes)
                tally.finish(job.src, "done", copy.path)
    finally:
        result.elapsed_s = time.monotonic() - started
    return result


__all__ = ["VIDEO_NOT_SUPPORTED", "run_repair_batch"]
