"""The small interface every colorization backend implements.

A backend sees only the lightness channel at its own render size and returns
the predicted ab channels; the core does everything else (loading, Lab,
upsampling ab, joining with the full-resolution L, saving).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..core.errors import UserError


class BackendError(UserError, RuntimeError):
    """A backend cannot run; the message is meant for the user as it is."""


class MissingWeightsError(BackendError):
    """No weights file was found; the message names where we looked and what to do."""


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run now, and if not, why (in plain words)."""

    ok: bool
    reason: str = ""


class Backend(ABC):
    """A colorization backend.

    Subclasses set ``name`` (registry key, used on the command line), ``title``
    (for menus) and ``default_render_size``. Construction is cheap and never
    downloads or imports heavy libraries; ``load`` does the heavy work once.
    """

    name: str = ""
    title: str = ""
    default_render_size: int = 256
    #: Whether the app's temperature (vividness) control applies to this backend.
    has_temperature: bool = False
    #: Whether ``download_weights`` fetches this backend's model files
    #: (``colorizer models download NAME``, the Models menu).
    can_download: bool = False

    def __init__(self, weights: Optional[Path] = None, device: str = "auto") -> None:
        self.weights = Path(weights) if weights else None
        self.device = device

    def uses_temperature(self) -> bool:
        """Whether a temperature given to this (loaded) backend changes its colours."""
        return self.has_temperature

    @abstractmethod
    def availability(self) -> Availability:
        """Say whether the backend can run (weights found, libraries present) and why not."""

    @abstractmethod
    def load(self) -> None:
        """Load the model; raise ``BackendError`` with a clear message on failure.

        Idempotent: a second call does nothing."""

    @abstractmethod
    def render_shape(self, height: int, width: int, render_size: Optional[int]) -> tuple[int, int]:
        """The (height, width) at which this backend wants L for a photo of the given size."""

    @property
    def accepts_hints(self) -> bool:
        """Whether ``predict_ab`` uses colour hints (after ``load``; False unless a
        backend's model takes them)."""
        return False

    @abstractmethod
    def predict_ab(self, lightness: np.ndarray, hints: Optional[np.ndarray] = None) -> np.ndarray:
        """Predict ab (h', w', 2) float32 from L (h, w) float32 in [0, 100] at render size.

        ``hints``: (h, w, 3) float32 hint a, hint b (CIE units) and a 0/1 mask at the
        same size (``core.hints.hint_planes``), for backends that ``accepts_hints``;
        the others ignore it. The returned ab may have any size; the core resizes it."""

    @classmethod
    def weights_in_use(cls) -> Optional[Path]:
        """The model file a backend built without one would load now, where that
        can change between jobs (the user picks another default model); None when
        it cannot. A cache of loaded backends keys on it."""
        return None

    @classmethod
    def download_weights(cls, on_progress: Optional[Callable[..., None]] = None,
                         should_stop: Optional[Callable[[], bool]] = None) -> Path:
        """Download and verify this backend's model files; return where they went.
        Only for backends that set ``can_download``; raises ``BackendError`` otherwise."""
        raise BackendError(f"{cls.title or cls.name} has no model files to download")

    def describe(self) -> str:
        """One line about what this backend runs on (weights file, device)."""
        return f"{self.title}"

    def model_file(self) -> Optional[Path]:
        """The model file the colours come from (after ``load``), for the copy's
        provenance; None when the backend has none."""
        return None

    def provenance_settings(self) -> dict[str, str]:
        """Backend options that shape the colours (beyond render size and
        saturation), recorded in each copy's provenance."""
        return {}
