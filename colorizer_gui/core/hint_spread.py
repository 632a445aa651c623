"""Carry each colour hint over the object it was put on (edge-aware spreading).

A network trained with random hints learns to use them, but slowly; a user who
clicks "her dress was blue" expects the dress to turn blue at once and the wall
beside it not to. So after the network has predicted (with the hints as input),
the difference between each hint and the prediction at its point is spread over
the photo by an edge-aware filter guided by the lightness: it flows freely
through regions of similar tone and stops at edges, as in Levin et al.'s
"Colorization using optimization" (2004). Normalised convolution (spread the
differences and the hint mask alike, divide) keeps each region's correction
equal to its nearest hints' colours; the spread mask also fades the correction
out with distance, so a hint on one object leaves far-away things as predicted.

OpenCV's fast global smoother (``cv2.ximgproc``, in opencv-contrib) does the
edge-aware spreading in linear time; at render size it takes a few milliseconds.
"""
from __future__ import annotations

import cv2
import numpy as np

#: Smoothness of the spread (OpenCV's lambda) is this times the short side squared:
#: large enough that a hint fills an even region of any size, and measured on a
#: two-region test picture to leave the other region under 1% of the correction.
LAMBDA_PER_AREA = 0.25
#: Edge sensitivity in 8-bit lightness levels: tone steps well above this stop a hint.
SIGMA_COLOR = 8.0
#: A hint counts in full where its spread is at least this share of its peak, and
#: fades out below (across edges, and far away in textured regions).
FULL_SHARE = 0.5


def spread_hints(ab: np.ndarray, lightness: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """``ab`` (h, w, 2) moved toward the hints in ``planes`` (h, w, 3: a, b, mask;
    ``core.hints.hint_planes``) over the regions of ``lightness`` (h, w, CIE L) that
    each hint is on. Returns a new float32 array; ``ab`` itself without hints."""
    mask = (planes[:, :, 2] > 0).astype(np.uint8)
    if not mask.any():
        return ab
    h, w = ab.shape[:2]
    if lightness.shape != (h, w):
        lightness = cv2.resize(lightness, (w, h), interpolation=cv2.INTER_AREA)
    guide = np.clip(lightness * 2.55, 0, 255).astype(np.uint8)
    smoother = cv2.ximgproc.createFastGlobalSmootherFilter(
        guide, LAMBDA_PER_AREA * min(h, w) ** 2, SIGMA_COLOR)
    ab = ab.astype(np.float32)
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    total_w = np.zeros((h, w), np.float32)
    total_d = np.zeros((h, w, 2), np.float32)
    reach = np.zeros((h, w), np.float32)
    for index in range(1, count):  # one spread per hint (overlapping discs merge)
        blob = labels == index
        delta = (planes[:, :, :2][blob] - ab[blob]).mean(axis=0)
        spread = smoother.filter(blob.astype(np.float32))
        peak = float(spread.max())
        if peak <= 0:
            continue
        share = spread / peak
        total_w += share
        total_d += share[:, :, None] * delta
        np.maximum(reach, np.clip(share / FULL_SHARE, 0.0, 1.0), out=reach)
    # Normalised convolution: where hints meet, the nearer (better connected) one wins.
    correction = total_d / np.maximum(total_w, 1e-12)[:, :, None]
    out = ab + reach[:, :, None] * correction
    hinted = mask.astype(bool)
    out[hinted] = planes[:, :, :2][hinted]  # a hint's own pixels show exactly its colour
    return out
