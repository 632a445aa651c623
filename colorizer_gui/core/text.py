"""Words for numbers a person reads: one way to say how long something takes.

The batch summary, the progress bar's time left and the fine-tune estimate all
say durations; they use this one formatter so the app never words the same time
two ways.
"""
from __future__ import annotations

from typing import Optional


def format_duration(seconds: float, about: bool = False) -> str:
    """A duration for people.

    Exact (a time that was measured): ``"12.3 s"``, ``"2 min 05 s"``, ``"1 h 02 min"``.
    ``about=True`` (an estimate, whose precision would mislead): ``"about 12 s"``,
    ``"about 25 min"``, ``"about 1.5 h"``.
    """
    seconds = max(0.0, float(seconds))
    if about:
        if seconds < 60:
            return f"about {max(1, int(round(seconds)))} s"
        if seconds < 3600:
            return f"about {int(round(seconds / 60))} min"
        return f"about {seconds / 3600:.1f} h"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_eta(seconds: Optional[float]) -> str:
    """Time left for a progress line: ``"about 2 min left"``; '' when unknown."""
    return "" if seconds is None else f"{format_duration(seconds, about=True)} left"
