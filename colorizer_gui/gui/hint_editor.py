"""The colour-hint tool's state: a photo's hints with undo and redo, and the
family's colour memory (named swatches). No widgets here: the preview draws the
rings and routes clicks; this module only decides what the hints are.

Hints are in photo coordinates (fractions of the upright photo), so zooming or
the 100% view never moves them. Every change is saved to the photo's sidecar
file at once (``core.hints.save_hints``), never into the photo.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional, Sequence

from ..core.hints import DEFAULT_RADIUS, Hint, hints_for, save_hints

#: Named colours offered before the user has made any of their own.
STARTER_SWATCHES: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("sky blue", (110, 160, 215)), ("navy", (35, 50, 95)), ("leaf green", (80, 125, 55)),
    ("grass", (105, 150, 60)), ("brick red", (160, 65, 50)), ("red", (190, 30, 35)),
    ("skin, light", (225, 180, 150)), ("skin, medium", (190, 135, 100)),
    ("skin, dark", (120, 80, 55)), ("blond hair", (200, 170, 110)), ("brown hair", (95, 65, 45)),
    ("wood", (140, 95, 55)), ("khaki", (150, 140, 95)), ("yellow", (225, 190, 50)),
)
MAX_SWATCHES = 40
_MAX_UNDO = 200


@dataclass
class HintEditor:
    """One photo's hints, with a history for undo and redo."""

    photo: Optional[Path] = None
    hints: list[Hint] = field(default_factory=list)
    _undo: list[list[Hint]] = field(default_factory=list)
    _redo: list[list[Hint]] = field(default_factory=list)

    @classmethod
    def for_photo(cls, photo: Path) -> tuple["HintEditor", str]:
        """The editor for ``photo`` with its saved hints; the second value is a
        message for the user when the sidecar could not be read ("" otherwise)."""
        from ..core.hints import HintsError

        try:
            hints, _found = hints_for(photo)
        except HintsError as err:
            return cls(Path(photo)), f"{err}. Its hints were not loaded."
        return cls(Path(photo), list(hints)), ""

    # -- edits (each one undoable, each one saved) ------------------------------------
    def _change(self, new: list[Hint]) -> None:
        self._undo.append(list(self.hints))
        del self._undo[:-_MAX_UNDO]
        self._redo.clear()
        self.hints = new
        self._save()

    def add(self, x: float, y: float, rgb: Sequence[int], name: str = "",
            radius: float = DEFAULT_RADIUS) -> int:
        """Add a hint at (x, y) (photo fractions); returns its index."""
        hint = Hint(_clamp(x), _clamp(y), (int(rgb[0]), int(rgb[1]), int(rgb[2])), radius, name)
        self._change(self.hints + [hint])
        return len(self.hints) - 1

    def move(self, index: int, x: float, y: float) -> None:
        """Move hint ``index`` to (x, y)."""
        new = list(self.hints)
        new[index] = replace(new[index], x=_clamp(x), y=_clamp(y))
        self._change(new)

    def recolor(self, index: int, rgb: Sequence[int], name: str = "") -> None:
        """Give hint ``index`` another colour (and name)."""
        new = list(self.hints)
        new[index] = replace(new[index], rgb=(int(rgb[0]), int(rgb[1]), int(rgb[2])), name=name)
        self._change(new)

    def remove(self, index: int) -> None:
        """Delete hint ``index``."""
        self._change([h for i, h in enumerate(self.hints) if i != index])

    def clear(self) -> None:
        """Delete every hint (undoable)."""
        if self.hints:
            self._change([])

    def undo(self) -> bool:
        """Go back one change; False when there is nothing to undo."""
        return self._travel(self._undo, self._redo)

    def redo(self) -> bool:
        """Redo the change last undone; False when there is none."""
        return self._travel(self._redo, self._undo)

    def _travel(self, source: list[list[Hint]], other: list[list[Hint]]) -> bool:
        """Take the hints from the top of ``source``, keeping today's on ``other``."""
        if not source:
            return False
        other.append(list(self.hints))
        self.hints = source.pop()
        self._save()
        return True

    def _save(self) -> None:
        if self.photo is not None:
            save_hints(self.photo, self.hints)

    # -- finding hints under the pointer ----------------------------------------------
    def hit(self, x: float, y: float, width: int, height: int, reach_px: float = 8.0) -> Optional[int]:
        """The index of the hint nearest to (x, y) (photo fractions) within ``reach_px``
        screen pixels, for a photo shown ``width`` x ``height`` pixels; None if none."""
        best, best_d = None, float(reach_px)
        for index, hint in enumerate(self.hints):
            d = math.hypot((hint.x - x) * width, (hint.y - y) * height)
            if d <= best_d:
                best, best_d = index, d
        return best


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def swatches_from_settings(stored: Any) -> list[tuple[str, tuple[int, int, int]]]:
    """The colour memory from its settings form (a list of {"name", "rgb"}), skipping
    anything malformed; the starter colours when there is none."""
    found: list[tuple[str, tuple[int, int, int]]] = []
    for item in stored if isinstance(stored, list) else []:
        try:
            name = str(item["name"]).strip()
            rgb = tuple(int(c) for c in item["rgb"])
        except (KeyError, TypeError, ValueError):
            continue
        if name and len(rgb) == 3 and all(0 <= c <= 255 for c in rgb):
            found.append((name, (rgb[0], rgb[1], rgb[2])))
    return found or list(STARTER_SWATCHES)


def remember_swatch(stored: Any, name: str, rgb: Sequence[int]) -> list[dict[str, Any]]:
    """The colour memory with ("Dad's uniform", rgb) added first (replacing one of the
    same name), at most ``MAX_SWATCHES``, in its settings form."""
    name = name.strip()
    current = [s for s in swatches_from_settings(stored) if s[0].lower() != name.lower()]
    entries = [(name, tuple(int(c) for c in rgb))] + current
    return [{"name": n, "rgb": list(c)} for n, c in entries[:MAX_SWATCHES]]
