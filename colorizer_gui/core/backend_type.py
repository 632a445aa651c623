"""What the core needs of a colorization backend: its own protocol, so the core names
no backend and imports nothing above it. ``colorizer_gui.backends.base.Backend``
(and any test's stand-in) fits it."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Protocol

import numpy as np


class Backend(Protocol):
    """A loaded-on-demand model that predicts ab from L at its own render size."""

    name: str
    device: str

    @property
    def default_render_size(self) -> int:
        """The long side (or fixed size) the backend renders at when not told."""
        ...

    @property
    def accepts_hints(self) -> bool:
        """Whether ``predict_ab`` uses colour hints."""
        ...

    def load(self) -> None:
        """Load the model once; raise a ``UserError`` with a clear message on failure."""
        ...

    def render_shape(self, height: int, width: int, render_size: Optional[int]) -> tuple[int, int]:
        """The (height, width) at which the backend wants L for a photo of this size."""
        ...

    def predict_ab(self, lightness: np.ndarray, hints: Optional[np.ndarray] = None) -> np.ndarray:
        """ab (h', w', 2) float32 for L (h, w) in [0, 100] at render size."""
        ...

    def model_file(self) -> Optional[Path]:
        """The model file the colours come from, for the copy's provenance."""
        ...

    def provenance_settings(self) -> dict[str, str]:
        """Backend options that shape the colours, for the copy's provenance."""
        ...
