"""Pixel conversions for decoding: Pillow modes, bit depth, orientation.

Palette, CMYK, Lab, 16/32-bit and float samples become gray or RGB arrays
(uint8 or uint16); 16-bit colour PNG/TIFF are decoded with OpenCV; EXIF
orientation is applied to the array.
"""
from __future__ import annotations

import io
from typing import Optional

import cv2
import numpy as np
from PIL import Image, ImageCms

from .model import PhotoError


def _decode_with_opencv(data: bytes, name: str, gray: bool, page: int = 0) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """Decode a 16-bit PNG/TIFF (page ``page`` of a multi-page TIFF) keeping 16 bits
    and alpha. IMREAD_UNCHANGED ignores a PNG's eXIf orientation (the caller
    applies it) but not a TIFF's Orientation tag (see _OPENCV_TURNS_UPRIGHT)."""
    buf = np.frombuffer(data, np.uint8)
    if page:
        ok, mats = cv2.imdecodemulti(buf, cv2.IMREAD_UNCHANGED, range=(page, page + 1))
        arr = mats[0] if ok and mats else None
    else:
        arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise PhotoError(f"{name}: the file is damaged or cut short (truncated); it may not have finished copying")
    if arr.dtype != np.uint16:
        arr = _to_uint16(arr)
    if arr.ndim == 2:
        return arr, None
    alpha = None
    if arr.shape[2] == 4:
        alpha = arr[:, :, 3]
        rgb = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB)
    elif arr.shape[2] == 2:  # gray + alpha
        return arr[:, :, 0], arr[:, :, 1]
    else:
        rgb = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2RGB)
    if gray:  # libpng hands gray+alpha back expanded to BGRA: keep it gray
        return rgb[:, :, 0], alpha
    return rgb, alpha


def _pixels_from_pillow(im: Image.Image, icc: Optional[bytes],
                       tiff_layout: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, Optional[np.ndarray], bool]:
    """Decode a loaded Pillow image to (pixels, alpha, ICC consumed by a conversion).

    ``tiff_layout``: a TIFF's (bits per sample, SampleFormat), which Pillow's mode
    hides: a 12-bit scan arrives as I;16 holding 0..4095, and a 32-bit unsigned
    one as signed mode I; both are scaled by the file's real depth."""
    mode = im.mode
    has_trns = im.info.get("transparency") is not None
    if mode == "1":
        im = im.convert("L")
    elif mode in ("P", "PA"):
        alpha_wanted = mode == "PA" or has_trns
        gray = _palette_is_gray(im)
        im = im.convert(("LA" if alpha_wanted else "L") if gray else ("RGBA" if alpha_wanted else "RGB"))
    elif mode in ("L", "RGB") and has_trns:
        im = im.convert("LA" if mode == "L" else "RGBA")
    elif mode == "La":
        im = im.convert("LA")
    elif mode == "RGBa":
        im = im.convert("RGBA")
    elif mode == "CMYK":
        rgb, used_icc = _cmyk_to_rgb(im, icc)
        return rgb, None, used_icc
    elif mode == "LAB":
        lab = np.asarray(im).astype(np.float32)
        lab[:, :, 0] *= 100.0 / 255.0
        lab[:, :, 1:] -= 128.0
        rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
        return np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8), None, True
    elif mode.startswith("I;16"):
        return _scale_to_16_bits(np.asarray(im).astype(np.uint16), tiff_layout[0]), None, False
    elif mode == "I" and tiff_layout == (32, 1):
        # Pillow holds 32-bit unsigned samples as signed int32, so the upper half
        # of the tones wraps negative (an inverted picture): reinterpret them and
        # keep the top 16 of the file's 32 bits. (Signed ones go below, as before.)
        return (np.asarray(im).view(np.uint32) >> 16).astype(np.uint16), None, False
    elif mode in ("I", "F"):
        return _to_uint16(np.asarray(im)), None, False
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in mode else "RGB")

    arr = np.asarray(im)
    if im.mode == "L":
        return arr, None, False
    if im.mode == "LA":
        return arr[:, :, 0], arr[:, :, 1], False
    if im.mode == "RGBA":
        return arr[:, :, :3], arr[:, :, 3], False
    return arr, None, False


def _palette_is_gray(im: Image.Image) -> bool:
    palette = im.getpalette() or []
    colors = np.asarray(palette, dtype=np.int32).reshape(-1, 3) if palette else None
    if colors is None or len(colors) == 0:
        return False
    if im.mode == "P":
        used = np.unique(np.asarray(im))
        used = used[used < len(colors)]
    else:
        used = np.arange(len(colors))
    sel = colors[used]
    return bool(np.all(sel[:, 0] == sel[:, 1]) and np.all(sel[:, 1] == sel[:, 2]))


def _cmyk_to_rgb(im: Image.Image, icc: Optional[bytes]) -> tuple[np.ndarray, bool]:
    """CMYK (also YCCK and Adobe-inverted JPEGs, which Pillow already un-inverts) to RGB.

    Uses the embedded CMYK profile with LittleCMS when there is one, else Pillow's
    simple conversion. Returns (RGB pixels, whether the profile was used).
    """
    if icc and _icc_color_space(icc) == "CMYK":
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            out = ImageCms.profileToProfile(im, src, dst, renderingIntent=ImageCms.Intent.PERCEPTUAL,
                                            outputMode="RGB")
            if out is not None:
                return np.asarray(out), True
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile: fall back to the plain conversion
    return np.asarray(im.convert("RGB")), False


def _scale_to_16_bits(arr: np.ndarray, bits: int) -> np.ndarray:
    """Stretch uint16 samples of a ``bits``-deep file (9-15: film scanners often
    write 12) to the full 16-bit range; other depths are returned as they are."""
    if not 8 < bits < 16:
        return arr
    top = (1 << bits) - 1
    return ((np.minimum(arr, top).astype(np.uint32) * 65535 + top // 2) // top).astype(np.uint16)


def _to_uint16(arr: np.ndarray) -> np.ndarray:
    """Map integer/float pixels to uint16: [0, 1] floats scale up, values already in
    [0, 65535] are kept, anything else is stretched from its own min..max."""
    if arr.dtype == np.uint16:
        return arr
    if arr.dtype == np.uint8:
        return arr.astype(np.uint16) * np.uint16(257)
    work = np.nan_to_num(arr.astype(np.float64, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(work.min()), float(work.max())) if work.size else (0.0, 0.0)
    if np.issubdtype(arr.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        work = work * 65535.0
    elif not (lo >= 0.0 and hi <= 65535.0):
        work = (work - lo) * (65535.0 / (hi - lo)) if hi > lo else np.zeros_like(work)
    return np.rint(np.clip(work, 0.0, 65535.0)).astype(np.uint16)


def _apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels upright as EXIF orientation ``orientation`` (1-8) asks."""
    if orientation == 2:
        return arr[:, ::-1]
    if orientation == 3:
        return arr[::-1, ::-1]
    if orientation == 4:
        return arr[::-1]
    if orientation == 5:
        return arr.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(arr, -1)
    if orientation == 7:
        return arr[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(arr, 1)
    return arr


def _icc_color_space(icc: bytes) -> str:
    """The ICC profile's data colour space ('RGB', 'GRAY', 'CMYK', 'Lab', ...) from its header."""
    if len(icc) < 20:
        return ""
    return icc[16:20].decode("latin-1").strip()


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    return ((arr.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
