"""Restore the contrast of a faded print: levels and CLAHE on the luminance only
(colours and the photo's size and bit depth are kept)."""
from __future__ import annotations

import cv2
import numpy as np

from ..color import rgb_to_lab


def _stretch_and_clahe(lum: np.ndarray, maxval: float) -> np.ndarray:
    """float32 luminance 0..1 after a 0.5%/99.5% levels stretch and a gentle CLAHE."""
    lo, hi = np.percentile(lum, (0.5, 99.5))
    if hi - lo < 1e-3:
        return lum
    stretched = np.clip((lum - lo) / (hi - lo), 0.0, 1.0)
    l16 = np.rint(stretched * 65535).astype(np.uint16)
    tiles = max(2, int(round(max(lum.shape) / 256)))
    clahe = cv2.createCLAHE(clipLimit=1.5, tileGridSize=(tiles, tiles))
    return clahe.apply(l16).astype(np.float32) / 65535.0


def restore_contrast(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` (HxW or HxWx3/4, 8 or 16 bit) with the faded luminance stretched
    to the full range and local contrast lifted; the chroma of a colour photo is
    kept (the luminance ratio is applied to every channel)."""
    maxval = float(np.iinfo(pixels.dtype).max)
    if pixels.ndim == 2:
        lum = pixels.astype(np.float32) / maxval
        return np.clip(np.rint(_stretch_and_clahe(lum, maxval) * maxval), 0, maxval).astype(pixels.dtype)
    rgb = pixels[:, :, :3].astype(np.float32) / maxval
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    new = _stretch_and_clahe(lum, maxval)
    # Keep hue and saturation: scale all channels by new/old luminance (gray scans
    # stay gray, a sepia tone stays sepia).
    ratio = new / np.maximum(lum, 1e-4)
    out = pixels.copy()
    out[:, :, :3] = np.clip(np.rint(rgb * ratio[:, :, None] * maxval), 0, maxval).astype(pixels.dtype)
    return out
