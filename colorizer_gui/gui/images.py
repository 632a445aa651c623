"""Display helpers: PIL images to PNG bytes for sg.Image/sg.Graph, scaled to fit.

Display scaling only; every colour computation happens in the core.
"""
from __future__ import annotations

import io
import numpy as np
from PIL import Image


def to_pil(pixels: np.ndarray) -> Image.Image:
    """An RGB or L PIL image of a uint8/uint16/float array (16-bit shown at 8 bits)."""
    arr = pixels
    if arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        return Image.fromarray(arr, "L").convert("RGB")
    return Image.fromarray(arr[..., :3], "RGB")


def fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """A copy scaled down (never up) to fit in width x height, keeping the aspect ratio."""
    copy = image.copy()
    copy.thumbnail((max(1, width), max(1, height)), Image.Resampling.LANCZOS)
    return copy


def png_bytes(image: Image.Image) -> bytes:
    """PNG-encoded bytes (what tk's PhotoImage accepts as data)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def display_bytes(image: Image.Image) -> bytes:
    """Binary PPM bytes for the preview canvas: Tk's photo image reads them with no
    decompression, and making them is a copy, so a redraw costs milliseconds
    where PNG (compressed, then decompressed by Tk) costs tens of them."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PPM")
    return buffer.getvalue()


def thumbnail_png(pixels: np.ndarray, size: int = 32) -> bytes:
    """A small square-bounded thumbnail as PNG bytes."""
    return png_bytes(fit(to_pil(pixels), size, size))


def compare(before: Image.Image, after: Image.Image, split: float) -> Image.Image:
    """Before on the left of ``split`` (0..1 of the width), after on the right,
    with a thin white divider: the compare-slider view."""
    after = after if after.size == before.size else after.resize(before.size)
    cut = int(round(max(0.0, min(1.0, split)) * before.width))
    shown = after.copy()
    if cut > 0:
        shown.paste(before.crop((0, 0, cut, before.height)), (0, 0))
    if 0 < cut < before.width:
        shown.paste((255, 255, 255), (max(0, cut - 1), 0, min(before.width, cut + 1), before.height))
    return shown
