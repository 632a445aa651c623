"""Paint out damage: inpaint each damaged region from its surroundings and put back
the photo's grain, so the fill does not show as a smooth smear at 100%."""
from __future__ import annotations

import cv2
import numpy as np

#: Pixels of surroundings kept around each damaged region's box.
_MARGIN = 12


def _grain_sigma(plane: np.ndarray, ring: np.ndarray) -> float:
    """The grain's standard deviation (levels of ``plane``) on ``ring`` pixels:
    robust MAD of the fine residual."""
    if not ring.any():
        return 0.0
    fine = plane.astype(np.float32) - cv2.GaussianBlur(plane.astype(np.float32), (0, 0), 1.5)
    vals = fine[ring]
    return float(1.4826 * np.median(np.abs(vals - np.median(vals))))


def _inpaint_plane(plane: np.ndarray, mask8: np.ndarray, radius: int) -> np.ndarray:
    """cv2.inpaint (Telea) on one plane; 16-bit planes go through float32."""
    if plane.dtype == np.uint8:
        return cv2.inpaint(plane, mask8, radius, cv2.INPAINT_TELEA)
    out = cv2.inpaint(plane.astype(np.float32), mask8, radius, cv2.INPAINT_TELEA)
    return out


def fill_damage(pixels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy of ``pixels`` (HxW or HxWx3/4, uint8 or uint16) with the ``mask``
    (bool HxW) pixels painted from their surroundings, grain included. Pixels
    outside the mask are bit-identical; an alpha channel is kept as it is."""
    if mask.shape != pixels.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match the photo {pixels.shape[:2]}")
    out = pixels.copy()
    if not mask.any():
        return out
    maxval = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 1.0
    planes = [out] if out.ndim == 2 else [out[:, :, c] for c in range(min(3, out.shape[2]))]
    m8 = mask.astype(np.uint8)
    n, labels, stats, _c = cv2.connectedComponentsWithStats(
        cv2.dilate(m8, np.ones((3, 3), np.uint8)), connectivity=8)
    h, w = mask.shape
    rng = np.random.default_rng(0)
    for i in range(1, n):
        x, y, bw, bh = stats[i, :4]
        x0, y0 = max(0, x - _MARGIN), max(0, y - _MARGIN)
        x1, y1 = min(w, x + bw + _MARGIN), min(h, y + bh + _MARGIN)
        region = mask[y0:y1, x0:x1] & (labels[y0:y1, x0:x1] == i)
        if not region.any():
            continue
        reg8 = region.astype(np.uint8)
        ring = cv2.dilate(reg8, np.ones((9, 9), np.uint8)).astype(bool) & ~mask[y0:y1, x0:x1]
        noise = rng.standard_normal(region.shape).astype(np.float32)
        for plane in planes:
            crop = plane[y0:y1, x0:x1]
            filled = _inpaint_plane(np.ascontiguousarray(crop), reg8, 3).astype(np.float32)
            sigma = _grain_sigma(crop, ring)
            # Grain is the film's, common to the colour planes: one noise field.
            filled = filled + noise * (sigma * 1.2)  # x1.2: the 1.5 px blur misses part of the grain
            vals = np.clip(np.rint(filled[region]), 0, maxval).astype(plane.dtype)
            crop[region] = vals
    return out
