"""Colour maths: sRGB <-> CIE Lab (D65), L extraction, joining ab with L.

All conversions go through OpenCV on float32 arrays: L in [0, 100], a and b
roughly in [-128, 127]. RGB float arrays are in [0, 1].
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

# Rows per strip when joining ab with a full-resolution L: keeps the float32
# temporaries of a 50 MP photo to a few tens of MB instead of ~1 GB.
_STRIP_ROWS = 512


def to_float_rgb(image: np.ndarray) -> np.ndarray:
    """Return ``image`` (uint8, uint16 or float; gray or RGB) as float32 RGB in [0, 1]."""
    img = _to_unit_float(image)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return img


def _to_unit_float(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image.astype(np.float32) * np.float32(1.0 / 255.0)
    if image.dtype == np.uint16:
        return image.astype(np.float32) * np.float32(1.0 / 65535.0)
    return np.clip(image.astype(np.float32, copy=False), 0.0, 1.0)


def rgb_to_lab(image: np.ndarray) -> np.ndarray:
    """Convert an sRGB image (uint8/uint16/float in [0, 1]) to float32 CIE Lab (D65)."""
    return cv2.cvtColor(to_float_rgb(image), cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Convert float32 CIE Lab to float32 sRGB in [0, 1] (out-of-gamut values clipped)."""
    rgb = cv2.cvtColor(lab.astype(np.float32, copy=False), cv2.COLOR_Lab2RGB)
    return np.clip(rgb, 0.0, 1.0, out=rgb)


def lightness(image: np.ndarray) -> np.ndarray:
    """Return the CIE L channel (float32, [0, 100]) of a gray or RGB image.

    A gray image is treated as R = G = B, so its L is exact. Works in strips (or
    through a lookup table for integer gray) so a huge photo never needs a full
    float32 RGB copy.
    """
    if image.ndim == 2 and image.dtype in (np.uint8, np.uint16):
        # For R = G = B, L depends on the gray value alone: one table lookup.
        table = _gray_lightness_table(image.dtype)
        if image.dtype == np.uint8:
            return cv2.LUT(image, table)  # multi-threaded, no index temporaries
        return table[image]
    out = np.empty(image.shape[:2], np.float32)
    for y in range(0, image.shape[0], _STRIP_ROWS):
        strip = image[y:y + _STRIP_ROWS]
        rgb = to_float_rgb(strip if strip.ndim == 2 else strip[:, :, :3])
        out[y:y + _STRIP_ROWS] = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[:, :, 0]
    return out


@functools.lru_cache(maxsize=2)
def _gray_lightness_table(dtype: np.dtype) -> np.ndarray:
    """L (float32) of every gray level of an 8- or 16-bit image (R = G = B)."""
    levels = np.arange(np.iinfo(dtype).max + 1, dtype=np.float32)
    rgb = np.repeat((levels / levels[-1])[None, :, None], 3, axis=2)
    table = np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[0, :, 0])
    table.setflags(write=False)
    return table


def resize_plane(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D or HxWxC float plane: area filter when shrinking, bicubic when growing."""
    h, w = plane.shape[:2]
    if (h, w) == (height, width):
        return plane
    shrinking = height * width < h * w
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(plane, (width, height), interpolation=interp)


def apply_saturation(ab: np.ndarray, factor: float) -> np.ndarray:
    """Scale chroma: ``factor`` 1 keeps the colours, 0 gives gray, >1 strengthens."""
    if factor == 1.0:
        return ab
    return ab * np.float32(factor)


def upsample_ab(ab: np.ndarray, height: int, width: int, y0: int = 0, y1: int | None = None) -> np.ndarray:
    """Bilinearly resize predicted ``ab`` (h, w, 2) to (height, width), rows y0..y1 only.

    Uses pixel-centre alignment (as cv2.resize does), so strips computed one by
    one join seamlessly and equal a single full resize.
    """
    if y1 is None:
        y1 = height
    h, w = ab.shape[:2]
    ys = (np.arange(y0, y1, dtype=np.float32) + 0.5) * np.float32(h / height) - 0.5
    xs = (np.arange(width, dtype=np.float32) + 0.5) * np.float32(w / width) - 0.5
    map_x = np.broadcast_to(xs[None, :], (y1 - y0, width))
    map_y = np.broadcast_to(ys[:, None], (y1 - y0, width))
    return cv2.remap(
        ab.astype(np.float32, copy=False), np.ascontiguousarray(map_x), np.ascontiguousarray(map_y),
        interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
    )


def _upsample_ab_strip(ab: np.ndarray, height: int, width: int, y0: int, y1: int) -> np.ndarray:
    """Fast ``upsample_ab``: the same pixel-centre bilinear mapping as one affine warp.

    No per-pixel coordinate maps are built (OpenCV steps through the affine
    map in fixed point, 1/32 pixel), so it is about twice as fast; the result
    differs from ``upsample_ab`` by a small fraction of an ab unit.
    """
    h, w = ab.shape[:2]
    sx, sy = w / width, h / height
    # dst (x, y) samples src ((x + 0.5) * sx - 0.5, (y + y0 + 0.5) * sy - 0.5).
    matrix = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, (y0 + 0.5) * sy - 0.5]], np.float64)
    return cv2.warpAffine(ab, matrix, (width, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def join_lab(lightness_full: np.ndarray, ab: np.ndarray, saturation: float = 1.0,
             out_dtype: type = np.uint8) -> np.ndarray:
    """Join predicted ``ab`` (any size) with the full-resolution ``L`` into RGB.

    ``ab`` is upsampled bilinearly to L's size, scaled by ``saturation`` and
    merged with the ORIGINAL L, so the result keeps the photo's detail and
    luminance. Returns RGB of ``out_dtype`` (uint8, uint16 or float32 in [0, 1]).
    Processes row strips to keep memory flat for very large photos.

    This is the fast path (all full-resolution work in OpenCV, which runs on
    every core and needs no float copies of the whole photo); ``join_lab_plain``
    is the straightforward version it is tested against.
    """
    height, width = lightness_full.shape[:2]
    out = np.empty((height, width, 3), dtype=out_dtype)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(out_dtype))
    cv_depth = {np.dtype(np.uint8): cv2.CV_8U, np.dtype(np.uint16): cv2.CV_16U}.get(np.dtype(out_dtype))
    # Bilinear upsampling is linear, so scaling the small ab equals scaling every strip.
    small = np.ascontiguousarray(apply_saturation(ab.astype(np.float32, copy=False), saturation))
    if lightness_full.dtype != np.float32:
        lightness_full = lightness_full.astype(np.float32)
    for y0 in range(0, height, _STRIP_ROWS):
        y1 = min(height, y0 + _STRIP_ROWS)
        lab = cv2.merge([np.ascontiguousarray(lightness_full[y0:y1]),
                         _upsample_ab_strip(small, height, width, y0, y1)])
        rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB, dst=lab)
        if scale is None:
            np.clip(rgb, 0.0, 1.0, out=out[y0:y1])
        else:
            # Scale, round half to even and saturate to [0, max] in one pass (= np.rint(clip(rgb) * scale)).
            cv2.addWeighted(rgb, scale, rgb, 0.0, 0.0, dst=out[y0:y1], dtype=cv_depth)
    return out


def join_lab_plain(lightness_full: np.ndarray, ab: np.ndarray, saturation: float = 1.0,
                   out_dtype: type = np.uint8) -> np.ndarray:
    """The straightforward ``join_lab`` (coordinate-map upsampling, NumPy rounding).

    Kept as the reference the fast path is tested against.
    """
    height, width = lightness_full.shape[:2]
    out = np.empty((height, width, 3), dtype=out_dtype)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(out_dtype))
    for y0 in range(0, height, _STRIP_ROWS):
        y1 = min(height, y0 + _STRIP_ROWS)
        ab_strip = apply_saturation(upsample_ab(ab, height, width, y0, y1), saturation)
        lab = np.empty((y1 - y0, width, 3), np.float32)
        lab[:, :, 0] = lightness_full[y0:y1]
        lab[:, :, 1:] = ab_strip
        rgb = lab_to_rgb(lab)
        if scale is None:
            out[y0:y1] = rgb
        else:
            out[y0:y1] = np.rint(rgb * np.float32(scale))
    return out


def colourfulness(image: np.ndarray) -> float:
    """Hasler and Suesstrunk (2003) colourfulness of an RGB image, on the 0-255 scale."""
    rgb = to_float_rgb(image) * np.float32(255.0)
    rg = rgb[:, :, 0] - rgb[:, :, 1]
    yb = 0.5 * (rgb[:, :, 0] + rgb[:, :, 1]) - rgb[:, :, 2]
    std = float(np.sqrt(rg.std() ** 2 + yb.std() ** 2))
    mean = float(np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))
    return std + 0.3 * mean


def chroma_stats(image: np.ndarray, max_side: int = 256) -> tuple[float, float]:
    """Return (mean chroma, 99th percentile chroma) of an RGB image, on a thumbnail.

    Used to tell a colour photo from a gray or sepia-toned one cheaply.
    """
    if image.ndim == 2:
        return 0.0, 0.0
    h, w = image.shape[:2]
    step = max(1, max(h, w) // max_side)
    lab = rgb_to_lab(image[::step, ::step, :3])
    chroma = np.hypot(lab[:, :, 1], lab[:, :, 2])
    return float(chroma.mean()), float(np.percentile(chroma, 99))
