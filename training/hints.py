"""Random colour hints drawn from the truth, to train a hint-taking generator.

As in Zhang et al. 2017 ("Real-Time User-Guided Image Colorization"): half the
samples get no hints at all, so the net stays a good automatic colorizer; the
rest get a geometric number of points (p = 1/8), each a small square patch
whose hint is the truth's mean ab over the patch. Locations follow a 2-D
Gaussian around the centre (people click on the subject, rarely on the rim).
"""
from __future__ import annotations

import numpy as np

P_NO_HINTS = 0.5
GEOMETRIC_P = 1.0 / 8.0
MAX_POINTS = 24


def sample_hints(ab_norm: np.ndarray, rng: np.random.Generator,
                 p_none: float = P_NO_HINTS) -> np.ndarray:
    """(3, S, S) float32 hint planes for a (2, S, S) normalised ab truth:
    hint a, hint b (ab / 110, the truth's patch means) and a 0/1 mask."""
    _, h, w = ab_norm.shape
    planes = np.zeros((3, h, w), np.float32)
    if rng.random() < p_none:
        return planes
    count = min(int(rng.geometric(GEOMETRIC_P)), MAX_POINTS)
    largest = max(1, min(h, w) // 28)  # 1..4 px at 128: a click's reach at render size
    for _ in range(count):
        size = int(rng.integers(1, largest + 1))
        cy = int(np.clip(rng.normal(h / 2, h / 4), 0, h - size))
        cx = int(np.clip(rng.normal(w / 2, w / 4), 0, w - size))
        patch = ab_norm[:, cy:cy + size, cx:cx + size]
        planes[:2, cy:cy + size, cx:cx + size] = patch.reshape(2, -1).mean(axis=1)[:, None, None]
        planes[2, cy:cy + size, cx:cx + size] = 1.0
    return planes
