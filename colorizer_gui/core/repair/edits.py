"""The repair brush: where the user added damage the detector missed, or took
away damage it found in real detail, kept in the photo's sidecar file.

A stroke is a brush line on the upright photo: its ``mode`` ("add" or
"remove"), its ``radius`` (a fraction of the photo's short side) and its
``points`` (fractions 0..1 of the photo's width and height, like colour
hints), so the same strokes fit the preview and the full-size photo. They are
the ``"repair"`` section of ``<photo>.colorizer.json`` (``core.sidecar``)::

    "repair": {"strokes": [{"mode": "add", "radius": 0.01, "points": [[0.1, 0.2], [0.3, 0.25]]}]}

``RepairEdits.masks`` rasterizes them (later strokes paint over earlier ones)
into the ``add`` and ``remove`` masks ``core.repair.damage_mask`` takes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import cv2
import numpy as np

from ..errors import UserError
from ..sidecar import SidecarError, read_section, write_section

SECTION = "repair"
MODES = ("add", "remove")
#: A brush of 1% of the photo's short side unless a stroke says otherwise.
DEFAULT_RADIUS = 0.01
#: Radii are a fraction of the short side: from a hair to a fifth of the photo.
MIN_RADIUS, MAX_RADIUS = 0.0005, 0.2
MAX_STROKES = 1000
MAX_POINTS_PER_STROKE = 5000
MAX_POINTS = 50000


class RepairEditsError(UserError, ValueError):
    """The brush strokes of a sidecar cannot be used; the message says why."""


@dataclass(frozen=True)
class Stroke:
    """One brush line: ``mode`` "add" or "remove", ``radius`` (fraction of the
    short side), ``points`` ((x, y) fractions of the upright photo)."""

    mode: str
    radius: float
    points: tuple[tuple[float, float], ...]

    def to_json(self) -> dict[str, Any]:
        """The stroke as the sidecar writes it."""
        return {"mode": self.mode, "radius": round(self.radius, 6),
                "points": [[round(x, 5), round(y, 5)] for x, y in self.points]}


@dataclass(frozen=True)
class RepairEdits:
    """A photo's brush strokes, in the order they were painted."""

    strokes: tuple[Stroke, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.strokes)

    def with_stroke(self, stroke: Stroke) -> "RepairEdits":
        """These edits and ``stroke`` painted last."""
        return RepairEdits(self.strokes + (stroke,))

    def masks(self, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """(add, remove): bool (height, width) masks of the strokes at that size.

        A later stroke wins where strokes overlap (removing then adding there
        again adds it), so the two masks never overlap."""
        # One canvas of labels (0 none, 1 add, 2 remove): each stroke paints over
        # the earlier ones, at one full-size plane whatever the number of strokes.
        labels = np.zeros((height, width), np.uint8)
        short = min(height, width)
        for stroke in self.strokes:
            # At least one pixel wide at any size: a stroke painted on a large
            # photo still shows on the small preview.
            radius = max(1, int(round(stroke.radius * short)))
            value = 1 if stroke.mode == "add" else 2
            pts = np.array([[min(width - 1, int(x * width)), min(height - 1, int(y * height))]
                            for x, y in stroke.points], np.int32)
            if len(pts) > 1:
                cv2.polylines(labels, [pts.reshape(-1, 1, 2)], False, value, thickness=2 * radius + 1,
                              lineType=cv2.LINE_8)
            for x, y in pts:  # round ends and joints, and a single click
                cv2.circle(labels, (int(x), int(y)), radius, value, -1)
        return labels == 1, labels == 2

    def to_json(self) -> dict[str, Any]:
        """The ``"repair"`` section for these edits."""
        return {"strokes": [s.to_json() for s in self.strokes]}

    @classmethod
    def from_json(cls, section: Any) -> "RepairEdits":
        """Edits from a ``"repair"`` section; ``RepairEditsError`` says what is wrong."""
        if not isinstance(section, dict):
            raise RepairEditsError(f'"repair" must be an object with "strokes", not {_show(section)}')
        items = section.get("strokes", [])
        if not isinstance(items, list):
            raise RepairEditsError(f'"strokes" must be a list, not {_show(items)}')
        if len(items) > MAX_STROKES:
            raise RepairEditsError(f"{len(items)} brush strokes; at most {MAX_STROKES} are allowed")
        strokes, total = [], 0
        for number, item in enumerate(items, 1):
            try:
                stroke = stroke_from_json(item)
            except ValueError as err:
                raise RepairEditsError(f"brush stroke {number}: {err}") from None
            total += len(stroke.points)
            if total > MAX_POINTS:
                raise RepairEditsError(f"more than {MAX_POINTS} brush points in all")
            strokes.append(stroke)
        return cls(tuple(strokes))


def _show(value: Any) -> str:
    """A short picture of a bad value (a hostile file may hold megabytes)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _fraction(value: Any, what: str, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number from {low:g} to {high:g}, not {_show(value)}")
    if not low <= float(value) <= high:
        raise ValueError(f"{what} must be from {low:g} to {high:g}, not {_show(value)}")
    return float(value)


def stroke_from_json(item: Any) -> Stroke:
    """One stroke from its JSON object; ``ValueError`` says what is wrong."""
    if not isinstance(item, dict):
        raise ValueError(f"must be an object with mode, radius and points, not {_show(item)}")
    mode = item.get("mode")
    if mode not in MODES:
        raise ValueError(f'mode must be "add" or "remove", not {_show(mode)}')
    radius = _fraction(item.get("radius", DEFAULT_RADIUS), "radius", MIN_RADIUS, MAX_RADIUS)
    points = item.get("points")
    if not isinstance(points, list) or not points:
        raise ValueError(f"points must be a list of [x, y] pairs, not {_show(points)}")
    if len(points) > MAX_POINTS_PER_STROKE:
        raise ValueError(f"{len(points)} points; at most {MAX_POINTS_PER_STROKE} are allowed in a stroke")
    pairs = []
    for point in points:
        if not isinstance(point, list) or len(point) != 2:
            raise ValueError(f"a point must be [x, y], not {_show(point)}")
        pairs.append((_fraction(point[0], "x"), _fraction(point[1], "y")))
    return Stroke(str(mode), radius, tuple(pairs))


def make_stroke(mode: str, radius: float, points: Sequence[Sequence[float]]) -> Stroke:
    """A stroke the window painted, checked as a saved one would be (points
    outside the photo are clamped to its edge)."""
    clamped = [[min(1.0, max(0.0, float(x))), min(1.0, max(0.0, float(y)))] for x, y in points]
    return stroke_from_json({"mode": mode, "radius": float(radius), "points": clamped})


def edits_for(photo: Path) -> Optional[RepairEdits]:
    """The brush strokes saved for ``photo`` (None when it has none). A sidecar
    that cannot be read, or a bad ``"repair"`` section, raises ``RepairEditsError``
    naming the file (the hints of the same file are not affected)."""
    try:
        section, found = read_section(Path(photo), SECTION)
    except SidecarError as err:
        raise RepairEditsError(str(err)) from None
    if section is None:
        return None
    try:
        edits = RepairEdits.from_json(section)
    except RepairEditsError as err:
        raise RepairEditsError(f"Sidecar file {found}: {err}") from None
    return edits or None


def save_edits(photo: Path, edits: Optional[RepairEdits]) -> Path:
    """Save ``edits`` as the ``"repair"`` section of ``photo``'s sidecar,
    atomically, keeping its colour hints; no strokes removes the section (and
    the file when nothing else is in it). Returns the file's path."""
    return write_section(Path(photo), SECTION, edits.to_json() if edits else None)


__all__ = ["DEFAULT_RADIUS", "MAX_RADIUS", "MIN_RADIUS", "MODES", "RepairEdits", "RepairEditsError", "SECTION",
           "Stroke", "edits_for", "make_stroke", "save_edits", "stroke_from_json"]
