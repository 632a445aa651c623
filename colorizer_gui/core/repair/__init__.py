"""Repair of damaged prints: find scratches, dust, hairs and creases, paint them
out keeping the grain, optionally restore a faded print's contrast.

Plain functions on numpy arrays (no GUI, no torch, no backend): the CLI, the
batch, the window and the benches all call ``repair_pixels``. A learned detector
can be injected as ``detector`` (any ``gray -> bool mask`` function).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .contrast import restore_contrast
from .detect import DEFAULT_SENSITIVITY, detect_damage
from .fill import fill_damage

__all__ = ["DEFAULT_SENSITIVITY", "RepairSettings", "RepairResult", "Detector",
           "damage_mask", "repair_pixels", "luminance", "detect_damage", "fill_damage",
           "restore_contrast"]

#: A damage detector: (luminance HxW uint8/uint16, sensitivity) -> bool HxW mask.
Detector = Callable[[np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class RepairSettings:
    """What a repair does. ``sensitivity`` in [0, 1] (higher finds more);
    ``restore_contrast``: levels/CLAHE on the luminance of faded prints."""
    sensitivity: float = DEFAULT_SENSITIVITY
    restore_contrast: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.sensitivity) <= 1.0:
            raise ValueError(f"sensitivity must be between 0 and 1, got {self.sensitivity}")


@dataclass
class RepairResult:
    """The repaired pixels (same shape and dtype as the input) and the mask of
    what was painted out (bool HxW)."""
    pixels: np.ndarray
    mask: np.ndarray


def luminance(pixels: np.ndarray) -> np.ndarray:
    """HxW luminance (Rec. 601 weights) in the photo's own dtype."""
    if pixels.ndim == 2:
        return pixels
    rgb = pixels[:, :, :3].astype(np.float32)
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(np.rint(lum), 0, np.iinfo(pixels.dtype).max).astype(pixels.dtype)


def _check_brush(name: str, brush: Optional[np.ndarray], shape: tuple[int, int]) -> Optional[np.ndarray]:
    if brush is None:
        return None
    if brush.shape != shape:
        raise ValueError(f"{name} mask {brush.shape} does not match the photo {shape}")
    return brush.astype(bool, copy=False)


def damage_mask(pixels: np.ndarray, settings: RepairSettings = RepairSettings(),
                add: Optional[np.ndarray] = None, remove: Optional[np.ndarray] = None,
                detector: Optional[Detector] = None) -> np.ndarray:
    """The damage to paint out on ``pixels``: the detector's mask, then the user's
    brush masks (``add`` ORed in, ``remove`` cleared), bool HxW."""
    shape = pixels.shape[:2]
    add_b, remove_b = _check_brush("add", add, shape), _check_brush("remove", remove, shape)
    mask = (detector or detect_damage)(luminance(pixels), settings.sensitivity)
    if add_b is not None:
        mask |= add_b
    if remove_b is not None:
        mask &= ~remove_b
    return mask


def repair_pixels(pixels: np.ndarray, settings: RepairSettings = RepairSettings(),
                  add: Optional[np.ndarray] = None, remove: Optional[np.ndarray] = None,
                  detector: Optional[Detector] = None) -> RepairResult:
    """Repair ``pixels`` (HxW or HxWx3/4, 8 or 16 bit): find the damage (plus the
    user's ``add`` strokes, minus ``remove``), paint it out, then restore the
    contrast when ``settings.restore_contrast``."""
    mask = damage_mask(pixels, settings, add, remove, detector)
    out = fill_damage(pixels, mask)
    if settings.restore_contrast:
        out = restore_contrast(out)
    return RepairResult(out, mask)
