"""Display helpers: PIL images to PNG bytes for sg.Image/sg.Graph, scaled to fit.

Display scaling only; every colour computation happens in the core.
"""
from __future__ import annotations

import io
from typing import Optional

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


def crop_around(image: Image.Image, cx: float, cy: float, width: int, height: int) -> Image.Image:
    """A width x height crop at 100% centred on (cx, cy) given as fractions of the image,
    shifted to stay inside the image."""
    w, h = min(width, image.width), min(height, image.height)
    left = int(round(cx * image.width - w / 2))
    top = int(round(cy * image.height - h / 2))
    left = max(0, min(image.width - w, left))
    top = max(0, min(image.height - h, top))
    return image.crop((left, top, left + w, top + h))


def side_by_side(left: Image.Image, right: Optional[Image.Image], width: int, height: int,
                 gap: int = 8) -> tuple[Image.Image, Optional[Image.Image]]:
    """Both images scaled to fit half the box each (right may be missing)."""
    half = max(1, (width - gap) // 2)
    return fit(left, half, height), (fit(right, half, height) if right is not None else None)
