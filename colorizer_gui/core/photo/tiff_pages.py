"""Multi-page and pyramid TIFFs: which page a photo is read from, how many it has,
and how its samples are stored. Tag lookups on an open Pillow image only (no
decoding), kept apart from ``decode`` so its read path stays readable.
"""
from __future__ import annotations

from PIL import Image

_NEW_SUBFILE_TYPE = 254
_BITS_PER_SAMPLE, _SAMPLE_FORMAT = 258, 339


def _seek_reduced_tiff_page(im: Image.Image, side: int) -> None:
    """Move a pyramid TIFF to its smallest reduced-resolution page (NewSubfileType
    bit 0) with the main page's shape that still has ``side`` on its long side."""
    main, (width, height) = im.tell(), im.size
    best, best_area = main, width * height
    for index in range(int(getattr(im, "n_frames", 1))):
        im.seek(index)
        w, h = im.size
        reduced = int(im.tag_v2.get(_NEW_SUBFILE_TYPE, 0)) & 1
        if reduced and max(w, h) >= side and abs(w * height - h * width) <= max(w, h) and w * h < best_area:
            best, best_area = index, w * h
    im.seek(best)


def _choose_page(im: Image.Image, notes: list[str]) -> int:
    """Move a multi-page TIFF to its largest page (a scanner's thumbnail often comes
    first); say which page was taken. Returns the page index (0 for one page)."""
    count = getattr(im, "n_frames", 1) if im.format == "TIFF" else 1
    if count <= 1:
        return 0
    sizes = []
    for index in range(count):
        im.seek(index)
        sizes.append(im.size[0] * im.size[1])
    best = max(range(count), key=lambda i: (sizes[i], -i))
    im.seek(best)
    im.info["page"] = f"{best + 1} of {count}"
    notes.append(f"this TIFF has {count} pages; page {best + 1} (the largest, "
                 f"{im.size[0]} x {im.size[1]}) was colorized and the others were left out")
    return best


def count_pages(im: Image.Image) -> int:
    """How many pages a TIFF has (1 for any other format: an animated GIF or WebP
    is colorized as its first frame, as before)."""
    return int(getattr(im, "n_frames", 1)) if im.format == "TIFF" else 1


def _tiff_sample_layout(im: Image.Image) -> tuple[int, int]:
    """(bits per sample, TIFF SampleFormat: 1 unsigned, 2 signed, 3 float) of a TIFF;
    (0, 0) for any other format, whose Pillow mode already says all."""
    if im.format != "TIFF":
        return 0, 0
    bits = im.tag_v2.get(_BITS_PER_SAMPLE, (1,))
    bits = bits[0] if isinstance(bits, tuple) else bits
    sample_format = im.tag_v2.get(_SAMPLE_FORMAT, (1,))
    sample_format = sample_format[0] if isinstance(sample_format, tuple) else sample_format
    return int(bits), int(sample_format)
