"""PNG chunk surgery on the file's bytes: drop optional (ancillary) chunks whose
checksum is wrong, so ``decode`` can read the picture again. Pure bytes, no Pillow.
"""
from __future__ import annotations

import struct
import zlib


def _png_drop_bad_ancillary_chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    """``data`` without its ancillary chunks whose CRC is wrong, and their types.

    Pillow checks every chunk's CRC and refuses the file on any mismatch (its
    only switch, ImageFile.LOAD_TRUNCATED_IMAGES, would also let a truncated
    image through as if whole). Here only chunks the PNG spec calls ancillary
    (lowercase first letter: text, time, gamma, ...) are dropped; a bad
    critical chunk (IHDR, PLTE, IDAT) still makes the file damaged."""
    out, dropped, pos = [data[:8]], [], 8
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            break
        crc_ok = zlib.crc32(data[pos + 4:pos + 8 + length]) & 0xFFFFFFFF == struct.unpack(
            ">I", data[end - 4:end])[0]
        if crc_ok or not kind[0] & 0x20:
            out.append(data[pos:end])
        else:
            dropped.append(kind)
        pos = end
    out.append(data[pos:])
    return b"".join(out), dropped
