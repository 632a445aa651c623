"""One progress event type shared by batch jobs, downloads and training.

Workers only call ``on_progress(event)``; the CLI adapts events to tqdm and the
GUI to ``window.write_event_value``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional


@dataclass(frozen=True)
class ProgressEvent:
    """A snapshot of a long job's progress.

    ``stage`` names what is happening ("colorize", "download", "l1", "gan", ...);
    ``done``/``total`` count units of that stage (photos, bytes, steps); ``current``
    is what is being worked on (a file name); ``eta_s`` the estimated seconds left;
    ``metrics`` carries numbers such as losses or images/s; ``preview`` a path to
    an image worth showing.
    """

    stage: str
    done: int
    total: int
    current: str = ""
    eta_s: Optional[float] = None
    metrics: dict[str, Any] = field(default_factory=dict)
    preview: Optional[str] = None


ProgressCallback = Callable[[ProgressEvent], None]
StopCallback = Callable[[], bool]


def no_progress(_event: ProgressEvent) -> None:
    """A progress callback that ignores events."""


def never_stop() -> bool:
    """A stop callback that never asks to stop."""
    return False
