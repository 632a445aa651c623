"""What a batch did, photo by photo, and telling the user as it goes: the result
(``BatchResult``) and the tally that records each photo's outcome in it and reports
progress with an ETA (``BatchTally``). The colour batch and the repair batch share both."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .photo import display_name
from .progress import ProgressCallback, ProgressEvent
from .text import format_duration

#: How many recent photos the ETA's moving average looks at.
_ETA_WINDOW = 8


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
    recolored: list[Path] = field(default_factory=list)
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
        if self.recolored:
            parts.append(f"{photos(len(self.recolored))} already in colour "
                         f"{'was' if len(self.recolored) == 1 else 'were'} colorized anyway.")
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


class BatchTally:
    """Records each photo's outcome in ``result`` and reports ProgressEvents of
    ``stage``: one before a photo starts (``emit``), one as it lands (``finish``,
    with its outcome in the metrics). ``jobs``: the photos still to run (the rest
    of ``result.total`` were settled in planning); ``eta``: estimate the seconds left."""

    def __init__(self, result: BatchResult, report: ProgressCallback, stage: str, jobs: int,
                 eta: bool = True) -> None:
        self.result = result
        self._report = report
        self._stage = stage
        self.processed = result.total - jobs
        self._eta = _Eta() if eta else None

    def emit(self, current: str = "", metrics: Optional[dict] = None) -> None:
        """Report how far the batch is, working on ``current``."""
        total = self.result.total
        eta_s = self._eta.estimate(total - self.processed) if self._eta is not None else None
        self._report(ProgressEvent(self._stage, self.processed, total, current=current, eta_s=eta_s,
                                   metrics=metrics or {}))

    def finish(self, src: Path, outcome: str, detail: object = None, counted: bool = True) -> None:
        """Record ``src`` as "done" (``detail``: the written file), "failed" or
        "skipped" (``detail``: why); ``counted`` False keeps it out of the ETA."""
        if outcome == "done":
            self.result.done.append((src, detail))  # type: ignore[arg-type]
        elif outcome == "failed":
            self.result.failed.append((src, str(detail)))
        else:
            self.result.skipped.append((src, str(detail)))
        self.processed += 1
        if self._eta is not None:
            self._eta.tick(counted)
        # The outcome rides along so a GUI can show each photo's result as it lands.
        self.emit(src.name, {"src": str(src), "outcome": outcome, "detail": str(detail)})


__all__ = ["BatchResult", "BatchTally"]
