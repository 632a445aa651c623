"""Colour hints: "her dress was blue", as points on a photo, and their sidecar files.

A hint is a point of the upright photo (``x``, ``y`` as fractions of its width
and height), an sRGB colour whose a and b are used (the photo keeps its own
lightness), an optional ``radius`` (fraction of the photo's short side) and an
optional ``name``. A photo's hints are the ``"hints"`` section of its sidecar
file, ``<photo file name>.colorizer.json`` (``core.sidecar`` reads and writes
the file and keeps its other sections, such as the repair brush's). The photo
itself is never written. File format (``version`` 1)::

    {"version": 1,
     "hints": [{"x": 0.42, "y": 0.31, "rgb": [200, 30, 40], "radius": 0.01, "name": "dress"}]}

``hint_planes`` turns hints into the network's extra inputs at its render size:
hint a, hint b (CIE units) and a 0/1 mask, zeros meaning "no hint".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import cv2
import numpy as np

from . import color
from .errors import UserError
# The sidecar's names stay importable from here (the hints were its first section).
from .sidecar import (FORMAT_VERSION, SIDECAR_SUFFIX, document_bytes, find_sidecar,  # noqa: F401
                      parse_document, sidecar_beside, sidecar_in_data_folder, write_section)

#: A click's reach when a hint gives none: 1% of the photo's short side.
DEFAULT_RADIUS = 0.01
MAX_RADIUS = 0.25
MAX_HINTS = 500


class HintsError(UserError, ValueError):
    """A hints file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Hint:
    """One colour hint on the upright photo."""

    x: float
    y: float
    rgb: tuple[int, int, int]
    radius: float = DEFAULT_RADIUS
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        """The hint as the file format writes it."""
        data: dict[str, Any] = {"x": round(self.x, 6), "y": round(self.y, 6),
                                "rgb": [int(c) for c in self.rgb], "radius": round(self.radius, 6)}
        if self.name:
            data["name"] = self.name
        return data

    def ab(self) -> tuple[float, float]:
        """The CIE a and b of the hint's colour."""
        lab = color.rgb_to_lab(np.array([[self.rgb]], dtype=np.uint8))[0, 0]
        return float(lab[1]), float(lab[2])


def _number(value: Any, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number from {low:g} to {high:g}, not {value!r}")
    if not low <= float(value) <= high:
        raise ValueError(f"{what} must be from {low:g} to {high:g}, not {value!r}")
    return float(value)


def hint_from_json(item: Any) -> Hint:
    """One hint from its JSON object; ``ValueError`` says what is wrong."""
    if not isinstance(item, dict):
        raise ValueError(f"a hint must be an object with x, y and rgb, not {item!r}")
    missing = [key for key in ("x", "y", "rgb") if key not in item]
    if missing:
        raise ValueError(f"a hint lacks {', '.join(missing)}")
    x = _number(item["x"], "x", 0.0, 1.0)
    y = _number(item["y"], "y", 0.0, 1.0)
    rgb = item["rgb"]
    if (not isinstance(rgb, list) or len(rgb) != 3
            or any(isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 255 for c in rgb)):
        raise ValueError(f"rgb must be three whole numbers from 0 to 255, not {rgb!r}")
    radius = _number(item.get("radius", DEFAULT_RADIUS), "radius", 0.0, MAX_RADIUS)
    name = item.get("name", "")
    if not isinstance(name, str):
        raise ValueError(f"name must be text, not {name!r}")
    return Hint(x, y, (rgb[0], rgb[1], rgb[2]), radius, name)


def parse_hints(data: bytes) -> list[Hint]:
    """Hints from a file's bytes; ``ValueError`` says what is wrong (without the file name)."""
    doc = parse_document(data)
    if "hints" not in doc:
        raise ValueError('expected an object with "version" and "hints"')
    return hints_from_section(doc["hints"])


def hints_from_section(items: Any) -> list[Hint]:
    """Hints from the ``"hints"`` section of a sidecar document; ``ValueError`` says what is wrong."""
    if not isinstance(items, list):
        raise ValueError('"hints" must be a list')
    if len(items) > MAX_HINTS:
        raise ValueError(f"{len(items)} hints; at most {MAX_HINTS} are allowed")
    hints = []
    for number, item in enumerate(items, 1):
        try:
            hints.append(hint_from_json(item))
        except ValueError as err:
            raise ValueError(f"hint {number}: {err}") from None
    return hints


def load_hints(path: Path) -> list[Hint]:
    """Read a hints file; ``HintsError`` names the file and the problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise HintsError(f"Hints file not found: {path}") from None
    except OSError as err:
        raise HintsError(f"Cannot read the hints file {path}: {err.strerror or err}") from None
    try:
        return parse_hints(data)
    except ValueError as err:
        raise HintsError(f"Hints file {path}: {err}") from None


def hints_document(hints: Sequence[Hint]) -> bytes:
    """A sidecar file's bytes holding only ``hints`` (UTF-8 JSON, one hint a line)."""
    return document_bytes({"hints": [h.to_json() for h in hints]})


def hints_for(photo: Path) -> tuple[list[Hint], Optional[Path]]:
    """A photo's saved hints and the file they came from (empty and None without one).
    A bad file raises ``HintsError``."""
    found = find_sidecar(photo)
    if found is None:
        return [], None
    return load_hints(found), found


def save_hints(photo: Path, hints: Sequence[Hint]) -> Path:
    """Save ``hints`` for ``photo`` atomically in its sidecar (beside it, or in the
    user's data folder when its folder cannot be written), keeping the file's
    other sections; with nothing left the file is removed. Returns the path."""
    return write_section(photo, "hints", [h.to_json() for h in hints])


def hint_planes(hints: Sequence[Hint], height: int, width: int) -> np.ndarray:
    """(height, width, 3) float32: hint a, hint b (CIE units) and a 0/1 mask.

    Each hint is a disc of its radius (a fraction of the short side, at least one
    pixel) at its point; later hints paint over earlier ones where they overlap."""
    planes = np.zeros((height, width, 3), np.float32)
    short = min(height, width)
    for hint in hints:
        a, b = hint.ab()
        cx = min(width - 1, int(hint.x * width))
        cy = min(height - 1, int(hint.y * height))
        radius = int(round(hint.radius * short))
        if radius < 1:
            planes[cy, cx] = (a, b, 1.0)
            continue
        disc = np.zeros((height, width), np.uint8)
        cv2.circle(disc, (cx, cy), radius, 1, -1)
        planes[disc.astype(bool)] = (a, b, 1.0)
    return planes
