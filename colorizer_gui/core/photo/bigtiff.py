"""BigTIFF masters (TIFF with 64-bit offsets: museum masters, files over 4 GB) read
with ``tifffile``.

The largest page is taken (as for any TIFF). Uncompressed pixel data is mapped
from the file rather than read into memory, so a master of several GB is not
held twice (the page cache holds it once, and is given back under pressure);
compressed and tiled pages are decoded by tifffile into one array. 8- and 16-bit
samples stay as they are; deeper integer and float samples become 16 bits. What
saving keeps of any photo is kept of a master too: the main EXIF tags (camera,
date, artist, description, ...), an ICC profile and the dpi.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .formats import _EXIF_KEEP_TAGS
from .model import PhotoError
from .pixels import _to_uint16

_ORIENTATION = 274
_ICC_PROFILE = 34675
_RESOLUTION = (282, 283, 296)  # XResolution, YResolution, ResolutionUnit
_EXIF_SUB_IFDS = (0x8769, 0x8825)  # parsed by tifffile into dicts of names, not kept


def _kept_metadata(page: Any) -> tuple[Optional[bytes], Optional[bytes], Optional[tuple[float, float]]]:
    """(EXIF bytes of the main tags saving keeps, with orientation 1; the ICC
    profile; the dpi) of a tifffile page, each None when absent or unreadable."""
    from PIL import Image, TiffImagePlugin

    tags = page.tags
    exif = None
    kept = Image.Exif()
    for tag in sorted(_EXIF_KEEP_TAGS - set(_EXIF_SUB_IFDS)):
        if tag not in tags:
            continue
        value = tags[tag].value
        if isinstance(value, tuple) and len(value) == 2 and tag in _RESOLUTION[:2]:
            value = TiffImagePlugin.IFDRational(int(value[0]), int(value[1]) or 1)
        elif hasattr(value, "value"):  # tifffile's enums (ResolutionUnit)
            value = int(value.value)
        kept[tag] = 1 if tag == _ORIENTATION else value
    if len(kept):
        try:
            exif = kept.tobytes()
        except Exception:  # a tag Pillow cannot write: keep the pixels, lose the EXIF
            exif = None
    icc = tags[_ICC_PROFILE].value if _ICC_PROFILE in tags else None
    icc = bytes(icc) if isinstance(icc, (bytes, bytearray)) and icc else None
    dpi = None
    if 282 in tags and 283 in tags:
        try:
            (xn, xd), (yn, yd) = tags[282].value, tags[283].value
            unit = int(getattr(tags[296].value, "value", tags[296].value)) if 296 in tags else 2
            per_inch = 2.54 if unit == 3 else 1.0
            x, y = xn / xd * per_inch, yn / yd * per_inch
            if 10.0 <= x <= 100_000.0 and 10.0 <= y <= 100_000.0 and unit in (2, 3):
                dpi = (float(x), float(y))
        except (TypeError, ValueError, ZeroDivisionError):
            dpi = None
    return exif, icc, dpi


def read_bigtiff(path: Path, name: str, max_pixels: int,
                 too_large: Callable[[str, int, int, int], PhotoError]
                 ) -> tuple[np.ndarray, Optional[np.ndarray], int, dict[str, Any], list[str],
                            Optional[bytes], Optional[bytes]]:
    """(pixels, alpha, orientation still to apply, info, notes, EXIF to keep, ICC) of a BigTIFF.

    Refuses a page over ``max_pixels`` (with ``too_large``) before reading any pixels."""
    import tifffile  # only for BigTIFF: most photos never need it

    try:
        tif = tifffile.TiffFile(path)
    except (tifffile.TiffFileError, ValueError, EOFError, IndexError) as exc:
        raise PhotoError(f"{name}: the file is damaged or cut short (truncated) ({exc})") from None
    with tif:
        pages = [page for page in tif.pages if hasattr(page, "shape") and len(page.shape) >= 2]
        if not pages:
            raise PhotoError(f"{name}: this TIFF holds no picture")
        page = max(pages, key=lambda p: p.imagewidth * p.imagelength)
        width, height = int(page.imagewidth), int(page.imagelength)
        if width * height > max_pixels:
            raise too_large(name, width, height, max_pixels)
        notes = []
        if len(pages) > 1:
            index = pages.index(page)
            notes.append(f"this TIFF has {len(pages)} pages; page {index + 1} (the largest, {width} x {height}) "
                         "was colorized and the others were left out")
        orientation = int(page.tags[_ORIENTATION].value) if _ORIENTATION in page.tags else 1
        exif, icc, dpi = _kept_metadata(page)
        try:
            if page.is_memmappable:  # mapped from the file itself, read-only
                arr = tifffile.memmap(path, page=tif.pages.index(page), mode="r")
            else:
                arr = page.asarray()
        except MemoryError:
            raise PhotoError(f"{name}: not enough memory to open this photo") from None
        except Exception as exc:  # a codec tifffile lacks, damaged strips
            raise PhotoError(f"{name}: this BigTIFF cannot be decoded ({exc})") from None
        planar = page.planarconfig == 2 and arr.ndim == 3 and arr.shape[0] in (2, 3, 4)
    if planar:
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    alpha = None
    if arr.ndim == 3:
        if arr.shape[2] in (2, 4):
            alpha, arr = arr[:, :, -1], arr[:, :, :-1]
        arr = arr[:, :, :3] if arr.shape[2] >= 3 else arr[:, :, 0]
    if arr.dtype not in (np.uint8, np.uint16):
        arr = _to_uint16(arr)
        alpha = None if alpha is None else _to_uint16(alpha)
    info: dict[str, Any] = {"source_mode": f"{arr.dtype}x{1 if arr.ndim == 2 else arr.shape[2]}",
                            "source_bits": 16 if arr.dtype == np.uint16 else 8, "bigtiff": True}
    if dpi:
        info["dpi"] = dpi
    return arr, alpha, orientation if 1 <= orientation <= 8 else 1, info, notes, exif, icc
