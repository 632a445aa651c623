"""Limit the blue camera cast of gray things in training photos (targets only).

Modern photos of overcast streets, wet asphalt and snow often carry a blue camera
cast: their gray things are blue-gray in the file. A net trained on them paints
an old gray street or rubble blue, which issue #13 names as a fault ("no blue or
purple casts on neutral walls, no colour on gray things"). This pulls the near-gray
pixels of such photos back to a limit, leaving vivid colours (a blue sky, a blue
coat) and every warm or mildly cool photo as it is. The lightness is unchanged, so
the net's input is the same photo; only what it learns to paint changes.
"""
from __future__ import annotations

import numpy as np

from colorizer_gui.core.color import lab_to_rgb, rgb_to_lab

# Pixels this close to gray (CIELAB chroma) measure the photo's cast ...
GRAY_CHROMA = 8.0
# ... between these lightnesses (black and white pixels carry no reliable cast).
GRAY_LIGHTNESS = (25.0, 90.0)
# Too few gray pixels (a photo of a parrot) and there is no cast to measure.
MIN_GRAY_SHARE = 0.02
# The shift is applied in full up to GRAY_CHROMA and fades out by FADE_CHROMA,
# so a pale blue sky is only nudged and a vivid one keeps its colour.
FADE_CHROMA = 20.0


def gray_cast(lab: np.ndarray) -> tuple[float, float] | None:
    """Mean (a, b) of the photo's near-gray pixels, or None when it has too few."""
    a, b = lab[..., 1], lab[..., 2]
    lo, hi = GRAY_LIGHTNESS
    mask = (np.hypot(a, b) < GRAY_CHROMA) & (lab[..., 0] > lo) & (lab[..., 0] < hi)
    if mask.mean() < MIN_GRAY_SHARE:
        return None
    return float(a[mask].mean()), float(b[mask].mean())


def limit_cool_cast(rgb: np.ndarray, limit: float) -> np.ndarray:
    """``rgb`` (uint8 RGB) with its gray things no bluer than CIELAB b = -``limit``.

    Returns the input array itself when there is nothing to change.
    """
    if limit < 0:
        raise ValueError(f"the cast limit is a distance from gray (>= 0), got {limit!r}")
    lab = rgb_to_lab(rgb)
    cast = gray_cast(lab)
    if cast is None or cast[1] >= -limit:
        return rgb
    shift = -limit - cast[1]
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    weight = np.clip((FADE_CHROMA - chroma) / (FADE_CHROMA - GRAY_CHROMA), 0.0, 1.0)
    lab[..., 2] += np.float32(shift) * weight.astype(np.float32)
    out = lab_to_rgb(lab)
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)
