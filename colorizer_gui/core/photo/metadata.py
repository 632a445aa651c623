"""What a photo file says besides its pixels: the EXIF to keep (orientation reset
to 1), the orientation still to apply, and the dpi / compression / progressive /
lossless facts that saving copies. Read from an open Pillow image; apart from
``decode`` so its read path stays short.
"""
from __future__ import annotations

import os
import struct
from typing import Any, Optional

from PIL import Image

from .formats import _EXIF_KEEP_TAGS, _ORIENTATION


def _orientation_of(im: Image.Image) -> int:
    """The EXIF orientation still to apply to ``im``'s decoded pixels (1 = none)."""
    try:
        value = im.getexif().get(_ORIENTATION, 1)
    except Exception:  # corrupt EXIF: leave the pixels as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _read_exif(im: Image.Image) -> tuple[Optional[bytes], int]:
    """Return (EXIF bytes to keep, with orientation 1; the source orientation)."""
    try:
        src = im.getexif()
    except Exception:  # corrupt EXIF must not stop a photo from loading
        return None, 1
    orientation = src.get(_ORIENTATION, 1)
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        orientation = 1
    kept = Image.Exif()
    for tag in _EXIF_KEEP_TAGS:
        if tag not in src:
            continue
        try:
            kept[tag] = src.get_ifd(tag) if tag in (0x8769, 0x8825) else src[tag]
        except Exception:  # one unreadable sub-IFD: keep the rest
            continue
    if _ORIENTATION in kept:
        kept[_ORIENTATION] = 1
    if not len(kept):
        return None, orientation
    try:
        return kept.tobytes(), orientation
    except Exception:
        return None, orientation


def _collect_info(im: Image.Image, fp: Any, info: dict[str, Any]) -> None:
    dpi = im.info.get("dpi")
    if dpi and len(dpi) == 2:
        try:
            x, y = float(dpi[0]), float(dpi[1])
        except (TypeError, ValueError):
            x = y = 0.0
        if 10.0 <= x <= 100_000.0 and 10.0 <= y <= 100_000.0:  # 1 dpi means "no unit given"
            info["dpi"] = (x, y)
    if im.format == "TIFF" and im.info.get("compression"):
        info["compression"] = im.info["compression"]
    if im.format == "JPEG" or im.format == "MPO":
        info["progressive"] = bool(im.info.get("progressive") or im.info.get("progression"))
    if im.format == "WEBP":
        info["lossless"] = _webp_is_lossless(fp)
    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        info["frames"] = frames


def _webp_is_lossless(fp: Any) -> bool:
    """Walk the RIFF chunks: a 'VP8L' image chunk means lossless, 'VP8 ' lossy."""
    fp.seek(12)
    for _ in range(64):
        header = fp.read(8)
        if len(header) < 8:
            return False
        fourcc, size = header[:4], struct.unpack("<I", header[4:])[0]
        if fourcc == b"VP8L":
            return True
        if fourcc == b"VP8 ":
            return False
        fp.seek(size + (size & 1), os.SEEK_CUR)
    return False

