"""The repair brush's state: one photo's brush strokes with undo and redo, saved
in its sidecar at every change (``core.repair.edits``). No widgets here (the
history works as ``HintEditor``'s does)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from ..core.repair.edits import RepairEdits, RepairEditsError, edits_for, make_stroke, save_edits

_MAX_UNDO = 200


@dataclass
class RepairEditor:
    """One photo's brush strokes, with a history for undo and redo."""

    photo: Optional[Path] = None
    edits: RepairEdits = field(default_factory=RepairEdits)
    _undo: list[RepairEdits] = field(default_factory=list)
    _redo: list[RepairEdits] = field(default_factory=list)
    #: Why the saved strokes were not loaded ("" when they were): a bad sidecar
    #: is never overwritten by accident, the next stroke replaces it on purpose.
    problem: str = ""

    @classmethod
    def for_photo(cls, photo: Path) -> "RepairEditor":
        """The editor for ``photo`` with its saved strokes; ``problem`` says why
        none were loaded when its sidecar's strokes cannot be used."""
        try:
            edits = edits_for(Path(photo))
        except RepairEditsError as err:
            return cls(Path(photo), problem=f"{err}. The repair brush strokes were not loaded.")
        return cls(Path(photo), edits or RepairEdits())

    @property
    def count(self) -> int:
        """How many strokes the photo has."""
        return len(self.edits.strokes)

    def paint(self, mode: str, radius: float, points: Sequence[Sequence[float]]) -> None:
        """Add a stroke (``ValueError`` for a bad mode or radius) and save."""
        self._change(self.edits.with_stroke(make_stroke(mode, radius, points)))

    def clear(self) -> None:
        """Remove every stroke (undoable)."""
        if self.edits:
            self._change(RepairEdits())

    def undo(self) -> bool:
        """Go back one change; False when there is nothing to undo."""
        return self._travel(self._undo, self._redo)

    def redo(self) -> bool:
        """Redo the change last undone; False when there is none."""
        return self._travel(self._redo, self._undo)

    def _change(self, new: RepairEdits) -> None:
        self._undo.append(self.edits)
        del self._undo[:-_MAX_UNDO]
        self._redo.clear()
        self.edits = new
        self._save()

    def _travel(self, source: list[RepairEdits], other: list[RepairEdits]) -> bool:
        if not source:
            return False
        other.append(self.edits)
        self.edits = source.pop()
        self._save()
        return True

    def _save(self) -> None:
        if self.photo is not None:
            save_edits(self.photo, self.edits)
            self.problem = ""
