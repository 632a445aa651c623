"""Is this photo already in color? (``looks_colour``: gray and single-tone
tinted prints, such as sepia, are not.)"""
from __future__ import annotations

import cv2
import numpy as np

from ..color import chroma_stats, rgb_to_lab


# Colour test thresholds, in CIE Lab chroma units (0 = gray, ~130 = vivid).
# A gray scan stored as RGB stays under _GRAY_CHROMA_P99 (JPEG noise is ~1-3).
# A toned print (sepia, selenium, cyanotype) has its ab values along ONE hue
# line: measured across that line, synthetic sepia prints with scanner noise
# (sigma up to 5 levels per channel) stay near or under 10, while colour
# photos, even faded to 20% saturation, reach 13 and usually 30-70.
_GRAY_CHROMA_P99 = 6.0


_TINT_SPREAD_P99 = 12.0


_THUMB_SIDE = 256


def looks_color(pixels: np.ndarray) -> bool:
    """True when an image already has real colour, not gray or a single-tone tint.

    Uses ``chroma_stats`` to dismiss gray images quickly, then measures how far
    the colours spread across the photo's dominant hue on an area-averaged
    thumbnail (which also averages away scanner noise): a uniformly tinted sepia
    or gray print hardly spreads, a real colour photo does.
    """
    if pixels.ndim == 2:
        return False
    rgb = pixels[:, :, :3]
    _mean, p99 = chroma_stats(rgb)
    if p99 < _GRAY_CHROMA_P99:
        return False
    h, w = rgb.shape[:2]
    scale = _THUMB_SIDE / max(h, w)
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    ab = rgb_to_lab(rgb)[:, :, 1:].reshape(-1, 2).astype(np.float64)
    # The dominant hue line through gray (a = b = 0): principal axis of the ab cloud.
    _vals, vecs = np.linalg.eigh(ab.T @ ab / len(ab))
    axis = vecs[:, -1]
    across = np.abs(ab @ np.array([-axis[1], axis[0]]))
    return float(np.percentile(across, 99)) >= _TINT_SPREAD_P99
