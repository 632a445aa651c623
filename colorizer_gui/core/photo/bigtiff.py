"""BigTIFF masters (TIFF with 64-bit offsets: museum masters, files over 4 GB) read
with ``tifffile``.

The largest page is taken (as for any TIFF). Uncompressed pixel data is mapped
from the file rather than read into memory, so a master of several GB is not
held twice (the page cache holds it once, and is given back under pressure);
compressed and tiled pages are decoded by tifffile into one array. 8- and 16-bit
samples stay as they are; deeper integer and float samples become 16 bits.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .model import PhotoError
from .pixels import _to_uint16

_ORIENTATION = 274


def read_bigtiff(path: Path, name: str, max_pixels: int,
                 too_large: Callable[[str, int, int, int], PhotoError]
                 ) -> tuple[np.ndarray, Optional[np.ndarray], int, dict[str, Any], list[str]]:
    """(pixels, alpha, orientation still to apply, info, notes) of a BigTIFF.

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
    return arr, alpha, orientation if 1 <= orientation <= 8 else 1, info, notes
