"""16-bit netpbm (binary PGM ``P5`` and PPM ``P6`` with a maximum value over 255),
as film and flatbed scanner software exports them.

Pillow reads 8-bit netpbm (and is used for it); a 16-bit PPM it cuts to 8 bits,
so those are read here: the header, then the big-endian samples, scaled from
the file's maximum value (4095 for a 12-bit scan) to the full 16-bit range.
"""
from __future__ import annotations

from typing import Any, BinaryIO, Callable, Optional

import numpy as np

from .model import PhotoError

_HEADER_MAX = 1024


def _header(data: bytes) -> Optional[tuple[bytes, int, int, int, int]]:
    """(magic, width, height, maxval, offset of the first sample); None if not P5/P6."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4 and pos < len(data):
        ch = data[pos:pos + 1]
        if ch == b"#":  # a comment runs to the end of its line
            end = data.find(b"\n", pos)
            pos = len(data) if end < 0 else end + 1
        elif ch.isspace():
            pos += 1
        else:
            end = pos
            while end < len(data) and not data[end:end + 1].isspace() and data[end:end + 1] != b"#":
                end += 1
            fields.append(data[pos:end])
            pos = end
    if len(fields) < 4 or fields[0] not in (b"P5", b"P6") or pos >= len(data):
        return None
    try:
        width, height, maxval = (int(field) for field in fields[1:])
    except ValueError:
        return None
    return fields[0], width, height, maxval, pos + 1  # one whitespace byte ends the header


def read_netpbm16(fp: BinaryIO, name: str, max_pixels: int,
                  too_large: Callable[[str, int, int, int], PhotoError]
                  ) -> Optional[tuple[np.ndarray, dict[str, Any]]]:
    """(uint16 pixels, info) of a 16-bit P5/P6 file; None for an 8-bit one (Pillow
    reads those). ``PhotoError`` for a file cut short or over ``max_pixels``."""
    fp.seek(0)
    found = _header(fp.read(_HEADER_MAX))
    fp.seek(0)
    if found is None:
        return None
    magic, width, height, maxval, offset = found
    if maxval <= 255:
        return None
    if not 0 < maxval <= 65535 or width <= 0 or height <= 0:
        raise PhotoError(f"{name}: the file is damaged (a netpbm header with {width} x {height}, maximum {maxval})")
    if width * height > max_pixels:
        raise too_large(name, width, height, max_pixels)
    channels = 3 if magic == b"P6" else 1
    count = width * height * channels
    fp.seek(offset)
    data = fp.read(count * 2)
    if len(data) < count * 2:
        raise PhotoError(f"{name}: the file is cut short (truncated); it may not have finished copying")
    pixels = np.frombuffer(data, dtype=">u2").reshape((height, width, channels) if channels == 3 else (height, width))
    if maxval == 65535:
        pixels = pixels.astype(np.uint16)
    else:
        pixels = ((np.minimum(pixels, maxval).astype(np.uint32) * 65535 + maxval // 2) // maxval).astype(np.uint16)
    return pixels, {"source_mode": f"netpbm {maxval}", "source_bits": 16}
