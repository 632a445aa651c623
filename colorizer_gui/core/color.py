"""Colour maths: sRGB <-> CIE Lab (D65), L extraction, joining ab with L.

All conversions go through OpenCV on float32 arrays: L in [0, 100], a and b
roughly in [-128, 127]. RGB float arrays are in [0, 1].
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

from .strips import for_each_strip

# A colour this close to gray (CIELAB chroma) is a gray thing (stone, asphalt, fur,
# overcast sky): what the quality benches' "colour on gray" measures and what
# training's --gray-weight weighs.
GRAY_THING_CHROMA = 5.0

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


#: Scale of OpenCV's 8-bit Lab L channel: L * 255/100, rounded.
L8_SCALE = 255.0 / 100.0


def lightness8(image: np.ndarray) -> np.ndarray:
    """CIE L of an 8-bit gray or RGB image in OpenCV's 8-bit Lab encoding
    (uint8, ``round(L * 255/100)``): all an 8-bit output can hold, in a quarter
    of the memory of ``lightness`` (a table lookup for gray, 2 ms for 12 MP).

    RGB goes through OpenCV's integer RGB -> Lab, three times faster than the
    float conversion on a 12 MP scan (50 ms against 150): its L is within one
    8-bit level (0.39 L units) of the rounded float L, finer than the 8-bit Lab
    join that uses it (tests/test_fast_paths.py)."""
    if image.dtype != np.uint8:
        raise ValueError("lightness8 needs an 8-bit image")
    if image.ndim == 2:
        return cv2.LUT(image, _gray_lightness8_table())
    out = np.empty(image.shape[:2], np.uint8)

    def lightness_strip(y0: int, y1: int) -> None:
        strip = np.ascontiguousarray(image[y0:y1, :, :3])
        cv2.extractChannel(cv2.cvtColor(strip, cv2.COLOR_RGB2Lab), 0, dst=out[y0:y1])
    for_each_strip(image.shape[0], lightness_strip)
    return out


def lightness_float(plane: np.ndarray) -> np.ndarray:
    """L as float32 in [0, 100], from ``lightness`` or ``lightness8`` output."""
    if plane.dtype == np.uint8:
        return plane.astype(np.float32) * np.float32(1.0 / L8_SCALE)
    return plane.astype(np.float32, copy=False)


@functools.lru_cache(maxsize=1)
def _gray_lightness8_table() -> np.ndarray:
    table = np.clip(np.rint(_gray_lightness_table(np.dtype(np.uint8)) * L8_SCALE), 0, 255).astype(np.uint8)
    table.setflags(write=False)
    return table


@functools.lru_cache(maxsize=2)
def _gray_lightness_table(dtype: np.dtype) -> np.ndarray:
    """L (float32) of every gray level of an 8- or 16-bit image (R = G = B)."""
    levels = np.arange(np.iinfo(dtype).max + 1, dtype=np.float32)
    rgb = np.repeat((levels / levels[-1])[None, :, None], 3, axis=2)
    table = np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[0, :, 0])
    table.setflags(write=False)
    return table


def resize_plane(plane: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D or HxWxC plane (float, or uint8 L): area filter when shrinking,
    bicubic when growing.

    A big shrink (a 6-50 MP photo to a 192 px render size) first halves the plane
    with OpenCV's fast integer-factor area path while 12x or more is left to go,
    then area-resizes the rest of the way: 3x (6 MP) to 9x (50 MP) less CPU than
    one fractional area resize of the whole photo. Each halving drops an odd last
    row or column, and the final pass treats 2x2 (or 4x4...) blocks as uniform;
    on real photos scaled to 6-50 MP the result is within 0.02-0.12 L units of a
    single area resize on average (0.04-0.34 on a fine high-contrast texture),
    which the colours predicted from it cannot show.
    """
    h, w = plane.shape[:2]
    if (h, w) == (height, width):
        return plane
    if height * width >= h * w:
        return cv2.resize(plane, (width, height), interpolation=cv2.INTER_CUBIC)
    while min(h // max(1, height), w // max(1, width)) >= _HALVE_WHILE:
        plane = cv2.resize(plane[:h - h % 2, :w - w % 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        h, w = plane.shape[:2]
    return cv2.resize(plane, (width, height), interpolation=cv2.INTER_AREA)


#: Halve (exact 2x2 area averages) while the shrink factor left is at least this.
_HALVE_WHILE = 12


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
             out_dtype: type = np.uint8, bgr: bool = False) -> np.ndarray:
    """Join predicted ``ab`` (any size) with the full-resolution ``L`` into RGB.

    ``lightness_full``: float L in [0, 100] (``lightness``), or uint8 from
    ``lightness8``, which asks for the faster 8-bit Lab path when the output is
    8-bit too (see ``_join_lab_8bit``; for lossy outputs). ``ab`` is upsampled
    bilinearly to L's size, scaled by ``saturation`` and merged with the ORIGINAL L, so the result keeps the photo's detail and
    luminance. Returns RGB of ``out_dtype`` (uint8, uint16 or float32 in [0, 1]);
    BGR with ``bgr`` (what OpenCV's encoders take, which saves them a channel
    swap of the whole photo). Processes row strips to keep memory flat for very
    large photos.

    This is the fast path (all full-resolution work in OpenCV, which runs on
    every core and needs no float copies of the whole photo); ``join_lab_plain``
    is the straightforward version it is tested against.
    """
    if np.dtype(out_dtype) == np.uint8 and lightness_full.dtype == np.uint8:
        return _join_lab_8bit(lightness_full, ab, saturation, bgr)
    height, width = lightness_full.shape[:2]
    out = np.empty((height, width, 3), dtype=out_dtype)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(out_dtype))
    cv_depth = {np.dtype(np.uint8): cv2.CV_8U, np.dtype(np.uint16): cv2.CV_16U}.get(np.dtype(out_dtype))
    code = cv2.COLOR_Lab2BGR if bgr else cv2.COLOR_Lab2RGB
    # Bilinear upsampling is linear, so scaling the small ab equals scaling every strip.
    small = np.ascontiguousarray(apply_saturation(ab.astype(np.float32, copy=False), saturation))
    for y0 in range(0, height, _STRIP_ROWS):
        y1 = min(height, y0 + _STRIP_ROWS)
        lab = cv2.merge([np.ascontiguousarray(lightness_float(lightness_full[y0:y1])),
                         _upsample_ab_strip(small, height, width, y0, y1)])
        rgb = cv2.cvtColor(lab, code, dst=lab)
        if scale is None:
            np.clip(rgb, 0.0, 1.0, out=out[y0:y1])
        else:
            # Scale, round half to even and saturate to [0, max] in one pass (= np.rint(clip(rgb) * scale)).
            cv2.addWeighted(rgb, scale, rgb, 0.0, 0.0, dst=out[y0:y1], dtype=cv_depth)
    return out


def _join_lab_8bit(lightness_full: np.ndarray, ab: np.ndarray, saturation: float, bgr: bool) -> np.ndarray:
    """``join_lab`` for 8-bit output from 8-bit L, in OpenCV's 8-bit Lab (L * 255/100,
    a + 128, b + 128).

    About twice as fast as the float path on a 12 MP photo: ab is rounded to
    whole units at render size and upsampled once with OpenCV's fixed-point
    bilinear resize (same pixel-centre mapping as ``upsample_ab``; 2 bytes a
    pixel), and the conversion is OpenCV's table-driven 8-bit Lab -> RGB. The
    price: L is rounded to 0.39 units and a, b to 1, so the colours differ from
    the float path by a mean of about 0.6 CIE Delta-E, well under what an eye
    can tell apart (about 2.3); rarely by a few RGB levels in dark saturated
    colours, where sRGB is steepest. The lightness is kept: mean |dL| stays well
    under 0.5 (tests/core/test_pipeline_shortcuts.py). Against the float path: 50.6 dB PSNR,
    about the error of a quality-95 JPEG encode itself (49.3 dB), so the pipeline
    takes this path only for lossy outputs; PNG and TIFF copies stay exact.
    """
    height, width = lightness_full.shape[:2]
    small = apply_saturation(ab.astype(np.float32, copy=False), saturation) + np.float32(128.0)
    small8 = np.clip(np.rint(small), 0, 255).astype(np.uint8)
    ab8 = cv2.resize(small8, (width, height), interpolation=cv2.INTER_LINEAR)
    out = np.empty((height, width, 3), np.uint8)
    code = cv2.COLOR_Lab2BGR if bgr else cv2.COLOR_Lab2RGB

    def join_strip(y0: int, y1: int) -> None:
        dst = out[y0:y1]
        cv2.merge([lightness_full[y0:y1], ab8[y0:y1]], dst=dst)
        cv2.cvtColor(dst, code, dst=dst)
    for_each_strip(height, join_strip)
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


def colorfulness(image: np.ndarray) -> float:
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


# ---------------------------------------------------------------- gamut
# The most chroma sRGB can show at each (L, hue), on a grid: a colour past it
# clips when converted to RGB, and the clipping changes the photo's lightness
# (a bright sky goes duller, a dark coat lighter). Limiting the predicted chroma
# to it keeps the photo's own L.
_GAMUT_L_STEP = 1.0
_GAMUT_HUES = 90


@functools.lru_cache(maxsize=1)
def _max_chroma_table() -> np.ndarray:
    """(101, _GAMUT_HUES) float32: the largest in-gamut chroma at L = 0..100 and
    hue = 0..360 degrees (bisection on the sRGB cube, a little inside its edge)."""
    l_values = np.arange(0.0, 100.0 + _GAMUT_L_STEP / 2, _GAMUT_L_STEP, dtype=np.float32)
    hues = np.arange(_GAMUT_HUES, dtype=np.float32) * (2 * np.pi / _GAMUT_HUES)
    ll, hh = np.meshgrid(l_values, hues, indexing="ij")
    low = np.zeros_like(ll)
    high = np.full_like(ll, 140.0)
    for _ in range(18):
        mid = (low + high) / 2
        lab = np.stack([ll, mid * np.cos(hh), mid * np.sin(hh)], axis=-1).astype(np.float32)
        # OpenCV clips RGB to [0, 1]: a colour is inside when it survives the round trip.
        rgb = cv2.cvtColor(lab.reshape(1, -1, 3), cv2.COLOR_Lab2RGB)
        back = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).reshape(lab.shape)
        inside = np.max(np.abs(back - lab), axis=-1) < 0.5
        low = np.where(inside, mid, low)
        high = np.where(inside, high, mid)
    return low.astype(np.float32)


def limit_chroma(ab: np.ndarray, lightness_plane: np.ndarray) -> np.ndarray:
    """``ab`` (h, w, 2) with each pixel's chroma limited to what sRGB can show at its
    lightness (``lightness_plane``, CIE L at the same size) and hue, so joining it
    with that L needs no clipping. Hue is kept. Returns a new float32 array."""
    table = _max_chroma_table()
    a, b = ab[:, :, 0].astype(np.float32), ab[:, :, 1].astype(np.float32)
    chroma = np.hypot(a, b)
    hue = (np.arctan2(b, a) % (2 * np.pi)) * (_GAMUT_HUES / (2 * np.pi))
    li = np.clip(np.rint(lightness_plane / _GAMUT_L_STEP), 0, table.shape[0] - 1).astype(np.intp)
    hi = np.rint(hue).astype(np.intp) % _GAMUT_HUES
    limit = table[li, hi]
    scale = np.minimum(1.0, limit / np.maximum(chroma, 1e-6)).astype(np.float32)
    return ab.astype(np.float32) * scale[:, :, None]
