"""Repair as the preview shows it (run in the preview workers, no widgets): the
photo's preview-size copy repaired with the core's ``repair_pixels`` and its
brush strokes, and an overlay of what is painted out.

The detector runs on the preview-size image, so a brush stroke or a new
sensitivity shows in a fraction of a second; Save and the batch repair the
full-size photo (``core.repair.files``). The detector's mask of the last few
images is kept, so a brush stroke only paints out again.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
from PIL import Image

from ..core.repair import Detector, RepairSettings, detect_damage, repair_pixels
from ..core.repair.edits import RepairEdits

#: The overlay's colour (RGB) and opacity over what will be painted out.
OVERLAY_RGB = (255, 40, 40)
OVERLAY_ALPHA = 0.55
_CACHE_SIZE = 4


@dataclass(frozen=True)
class RepairRequest:
    """What the preview repairs with: the settings in the controls and the photo's strokes."""

    settings: RepairSettings = RepairSettings()
    edits: RepairEdits = field(default_factory=RepairEdits)


class _DetectorCache:
    """The detector's masks of the last few (image, sensitivity) pairs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._masks: "OrderedDict[tuple, np.ndarray]" = OrderedDict()

    def detector(self, image_key: Any, base: Optional[Detector] = None) -> Any:
        """A detector for ``repair_pixels`` that remembers the answer of ``base`` (None:
        the classical one) for ``image_key``."""
        def detect(lum: np.ndarray, sensitivity: float) -> np.ndarray:
            key = (image_key, lum.shape, float(sensitivity))
            with self._lock:
                found = self._masks.get(key)
            if found is None:
                found = (base or detect_damage)(lum, sensitivity)
                with self._lock:
                    self._masks[key] = found
                    while len(self._masks) > _CACHE_SIZE:
                        self._masks.popitem(last=False)
            return found.copy()  # damage_mask edits it in place
        return detect


_CACHE = _DetectorCache()


def overlay(image: Image.Image, mask: np.ndarray) -> Image.Image:
    """``image`` with what ``mask`` marks tinted red (the damage to paint out)."""
    pixels = np.array(image.convert("RGB"))
    # Only the marked pixels are blended: a full-size photo's overlay costs one copy.
    marked = pixels[mask].astype(np.float32)
    tint = np.array(OVERLAY_RGB, np.float32)
    pixels[mask] = np.clip(np.rint(marked * (1 - OVERLAY_ALPHA) + tint * OVERLAY_ALPHA), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def repaired_view(source: Image.Image, request: RepairRequest, image_key: Any,
                  detector: Optional[Detector] = None) -> dict[str, Any]:
    """{"original": the repaired image, "overlay": ``source`` with the damage tinted,
    "damage": the share of pixels painted out} for a preview's ``source`` image
    (``image_key`` names it for the detector's cache: the photo and its file's state;
    ``detector``: the one Save and the command line use, None for the classical one)."""
    pixels = np.asarray(source.convert("RGB"))
    height, width = pixels.shape[:2]
    add, remove = request.edits.masks(height, width) if request.edits else (None, None)
    result = repair_pixels(pixels, request.settings, add, remove, detector=_CACHE.detector(image_key, detector))
    return {"original": Image.fromarray(result.pixels, "RGB"), "overlay": overlay(source, result.mask),
            "damage": float(result.mask.mean())}
