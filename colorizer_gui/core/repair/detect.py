"""Find damage on a scanned print: scratches, dust specks, hairs and creases.

Classical detector. Damage is thin (a few pixels at the scan's resolution) and
stands out from a median-filtered background by much more than the photo's local
noise; real fine detail (spokes, text, foliage, grain) comes in dense clusters of
such structures, while damage is sparse. So:

1. residual = photo - median(photo) at a few scales set by the photo's size;
2. candidates = residual beyond ``k`` times the local noise (robust MAD),
   grown by hysteresis to the structure's full width;
3. each connected structure is kept when it is a small speck or a thin line and
   its neighbourhood is not busy with other candidates (texture, text, spokes).
"""
from __future__ import annotations

import cv2
import numpy as np

#: The default for typical scans; higher finds more on heavily damaged ones.
DEFAULT_SENSITIVITY = 0.5

#: The long side (px) at which the detector's sizes below are given.
_REFERENCE_SIDE = 800.0


def _odd(n: float) -> int:
    n = max(3, int(round(n)))
    return n if n % 2 else n + 1


def photo_scale(height: int, width: int) -> float:
    """How many pixels of this photo one pixel of the reference size spans."""
    return max(1.0, max(height, width) / _REFERENCE_SIDE)


def _as_levels(gray: np.ndarray) -> np.ndarray:
    """Luminance as uint8 levels (detection does not need 16 bits)."""
    if gray.ndim != 2:
        raise ValueError(f"detect_damage wants an HxW luminance, got shape {gray.shape}")
    if gray.dtype == np.uint8:
        return gray
    if gray.dtype == np.uint16:
        return (gray.astype(np.uint32) * 255 + 32767 >> 16).astype(np.uint8)  # rint(g/257)
    return np.clip(np.rint(gray.astype(np.float32)), 0, 255).astype(np.uint8)


def _thresholds(sensitivity: float) -> tuple[float, float, float]:
    """(seed threshold in noise sigmas, minimum contrast in levels, neighbours allowed)."""
    s = float(np.clip(sensitivity, 0.0, 1.0))
    seed_k = 9.0 - 6.0 * s          # 9 sigma at 0, 6 at the default, 3 at 1
    min_contrast = 34.0 - 28.0 * s  # levels of 255 a mark must stand out by
    busy = 1.0 + 4.0 * s            # other marks allowed close by (text, spokes are crowded)
    return seed_k, min_contrast, busy


def _residual(g: np.ndarray, ksize: int) -> np.ndarray:
    """photo - median background, in levels (float32)."""
    return g.astype(np.float32) - cv2.medianBlur(g, ksize).astype(np.float32)


def _local_sigma(resid: np.ndarray, window: int) -> np.ndarray:
    """Local noise sigma from the mean absolute residual (x1.25: Gaussian)."""
    absr = np.minimum(np.abs(resid), 3.0 * float(np.median(np.abs(resid))) * 1.4826 + 1.0)
    return cv2.blur(absr, (window, window)) * 1.25 + 0.75


def detect_damage(gray: np.ndarray, sensitivity: float = DEFAULT_SENSITIVITY) -> np.ndarray:
    """Boolean HxW mask of the damage on ``gray`` (HxW uint8 or uint16 luminance of
    the upright photo at full resolution). ``sensitivity`` in [0, 1]."""
    if not 0.0 <= float(sensitivity) <= 1.0:
        raise ValueError(f"sensitivity must be between 0 and 1, got {sensitivity}")
    g = _as_levels(gray)
    h, w = g.shape
    if h < 8 or w < 8:
        return np.zeros((h, w), bool)
    scale = photo_scale(h, w)
    seed_k, min_contrast, busy = _thresholds(sensitivity)

    # Two background scales: a small one for specks and hairlines, a larger one for
    # wider scratches and creases. The strongest response wins.
    resid = None
    for size in (7.0, 15.0):
        r = _residual(g, _odd(size * scale))
        resid = r if resid is None else np.where(np.abs(r) > np.abs(resid), r, resid)
    sigma = _local_sigma(resid, _odd(31 * scale))
    z = np.abs(resid) / sigma
    seeds = (z > seed_k) & (np.abs(resid) > min_contrast)
    grow = (z > seed_k * 0.5) & (np.abs(resid) > min_contrast * 0.5)
    # Light and dark marks are separate structures.
    mask = np.zeros((h, w), bool)
    # Light and dark marks are separate structures; neighbours of both kinds count
    # towards how busy a place is.
    parts = [_components(grow & polarity, seeds & polarity) for polarity in (resid > 0, resid < 0)]
    crowd = _crowding([p[3] for p in parts], (h, w), _odd(61 * scale))
    for labels, stats, seeded, centroids in parts:
        mask |= _keep_damage_shapes(labels, stats, seeded, centroids, crowd, scale, busy)
    if mask.any():
        # The soft rim of a mark carries its halo: paint a pixel beyond it.
        r = max(1, int(round(scale)))
        mask = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))).astype(bool)
    return mask


def _components(grow: np.ndarray, seeds: np.ndarray):
    """(labels, stats, seeded flags, centroids of the seeded) of ``grow``'s structures."""
    n, labels, stats, cents = cv2.connectedComponentsWithStats(grow.astype(np.uint8), connectivity=8)
    seeded = np.bincount(labels.ravel(), weights=seeds.ravel(), minlength=n) > 0
    seeded[0] = False
    return labels, stats, seeded, cents[seeded]


def _crowding(centroid_sets: list[np.ndarray], shape: tuple[int, int], win: int) -> np.ndarray:
    """How many seeded structures have their centre within the ``win`` box around
    each pixel (float32 HxW)."""
    h, w = shape
    dots = np.zeros((h, w), np.float32)
    for cents in centroid_sets:
        if len(cents):
            xs = np.clip(np.rint(cents[:, 0]).astype(int), 0, w - 1)
            ys = np.clip(np.rint(cents[:, 1]).astype(int), 0, h - 1)
            np.add.at(dots, (ys, xs), 1.0)
    return cv2.boxFilter(dots, -1, (win, win), normalize=False, borderType=cv2.BORDER_CONSTANT)


def _keep_damage_shapes(labels: np.ndarray, stats: np.ndarray, seeded: np.ndarray,
                        centroids: np.ndarray, crowd: np.ndarray, scale: float, busy: float) -> np.ndarray:
    """The seeded structures that look like damage: small specks and thin lines in a
    place not crowded with other marks (text, spokes, texture)."""
    n = len(stats)
    if n <= 1:
        return np.zeros(labels.shape, bool)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    bw = stats[:, cv2.CC_STAT_WIDTH].astype(np.float64)
    bh = stats[:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    length = np.hypot(bw, bh)
    width = area / np.maximum(length, 1.0)
    is_speck = np.maximum(bw, bh) <= 8.0 * scale
    is_line = (length >= 10.0 * scale) & (width <= 7.0 * scale)
    # Neighbours: seeded structures centred near this one's centre (itself excluded).
    idx = np.flatnonzero(seeded)
    neighbours = np.zeros(n)
    h, w = labels.shape
    xs = np.clip(np.rint(centroids[:, 0]).astype(int), 0, w - 1)
    ys = np.clip(np.rint(centroids[:, 1]).astype(int), 0, h - 1)
    neighbours[idx] = crowd[ys, xs] - 1.0
    # Long scratches cross many places: judge them by their own shape only.
    crowded = (neighbours > busy) & (length < 80.0 * scale)
    keep = seeded & (is_speck | is_line) & ~crowded
    keep[0] = False
    return keep[labels]
