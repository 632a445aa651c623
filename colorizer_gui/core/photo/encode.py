"""Encoding a colour copy: JPEG and 16-bit PNG/TIFF with OpenCV, the rest with
Pillow, and the metadata (EXIF, XMP, ICC, dpi) written into each format."""
from __future__ import annotations

import os
import struct
import zlib
from typing import Any, Optional

import cv2
import numpy as np
from PIL import Image, PngImagePlugin, TiffImagePlugin, TiffTags

from .formats import _EXIF_KEEP_TAGS, _ORIENTATION
from .model import Photo


# TIFF compressions worth keeping when a TIFF is saved again (lossless ones).
_TIFF_KEEP_COMPRESSION = {"raw", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits"}


_CV2_TIFF_COMPRESSION = {"raw": 1, "tiff_lzw": 5, "tiff_adobe_deflate": 8, "tiff_deflate": 8, "packbits": 32773}


def _exif_for_output(exif: Optional[bytes], software: Optional[str] = None) -> Optional[bytes]:
    """The EXIF to write: orientation forced to 1 (the pixels are already upright),
    and ``software`` as the Software tag when given."""
    if not exif and not software:
        return None
    try:
        parsed = Image.Exif()
        if exif:
            parsed.load(exif)
        if _ORIENTATION in parsed:
            parsed[_ORIENTATION] = 1
        if software:
            parsed[305] = software
        return parsed.tobytes()
    except Exception:  # unreadable EXIF is dropped rather than failing the save
        return None


def _exif_without_sub_ifds(exif: bytes) -> Optional[bytes]:
    parsed = Image.Exif()
    parsed.load(exif)
    for tag in (0x8769, 0x8825):
        parsed.pop(tag, None)
    return parsed.tobytes() if len(parsed) else None


def _encode_with_pillow(fh: Any, rgb: np.ndarray, alpha: Optional[np.ndarray], fmt: str, like: Photo,
                        quality: int, exif: Optional[bytes], icc: Optional[bytes], dpi: Any,
                        xmp: Optional[bytes] = None) -> None:
    if alpha is not None:
        image = Image.fromarray(np.ascontiguousarray(np.dstack([rgb, alpha])))
    else:
        image = Image.fromarray(np.ascontiguousarray(rgb))
    params: dict[str, Any] = {}
    if fmt in ("JPEG", "PNG", "TIFF", "WEBP"):
        if exif:
            params["exif"] = exif
        if icc:
            params["icc_profile"] = icc
    if dpi and fmt in ("JPEG", "PNG", "TIFF", "BMP"):
        params["dpi"] = tuple(float(v) for v in dpi)
    if fmt == "PNG":
        params.update(compress_level=6)
        if xmp:  # the iTXt chunk XMP readers (and Pillow's getxmp) look for
            info = PngImagePlugin.PngInfo()
            info.add_itxt(_PNG_XMP_KEY.decode(), xmp.decode("utf-8"))
            params["pnginfo"] = info
    elif fmt == "TIFF":
        compression = like.info.get("compression")
        params["compression"] = compression if compression in _TIFF_KEEP_COMPRESSION else "tiff_lzw"
        # EXIF and XMP are added after writing (_tiff_add_metadata): Pillow's
        # libtiff writer cannot store the Exif sub-IFD, where the dates are.
        params.pop("exif", None)
    elif fmt == "WEBP":
        if xmp:
            params["xmp"] = xmp
        if like.info.get("lossless"):
            params.update(lossless=True, quality=100, method=4)
        else:
            params.update(quality=int(quality), method=4)
    image.save(fh, format=fmt, **params)


def _encode_jpeg(rgb: np.ndarray, quality: int, exif: Optional[bytes], icc: Optional[bytes], dpi: Any,
                 scratch: bool, half_res_chroma: bool, bgr: bool = False,
                 xmp: Optional[bytes] = None) -> tuple[Any, ...]:
    """Encode 8-bit RGB as JPEG with OpenCV (libjpeg-turbo, as Pillow uses).

    OpenCV encodes straight from the array, where Pillow first copies a big photo
    into its own image (about 30 ms for 12 MP). No Huffman optimisation: that extra
    pass more than doubles the encode time for files only about 4% smaller.
    ``bgr``: ``rgb`` is already in OpenCV's order (no swap: 15 ms on 12 MP).
    The metadata segments (EXIF, XMP, ICC split over as many APP2 markers as it
    needs, as Pillow and Photoshop do) are written by ``_jpeg_metadata_segments``:
    OpenCV's own writer refuses an ICC profile over 64 KB."""
    in_place = scratch and rgb.flags.c_contiguous and rgb.flags.writeable
    if bgr:
        pixels = np.ascontiguousarray(rgb)
    elif in_place:
        pixels = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR, dst=rgb)
    else:
        pixels = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    sampling = cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420 if half_res_chroma else cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling]
    ok, buf = cv2.imencode(".jpg", pixels, params)
    if not ok:
        raise ValueError("OpenCV could not encode the JPEG")
    data = memoryview(buf).cast("B")
    rest = _after_jfif_segment(data)
    app0 = _jfif_segment(dpi) if dpi else bytes(data[2:len(data) - len(rest)])
    return (data[:2], app0, _jpeg_metadata_segments(exif, xmp, icc), rest)


_JPEG_SEGMENT_MAX = 65533  # payload bytes one marker can carry (its length field counts itself)


_JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"


_ICC_HEADER = b"ICC_PROFILE\x00"


def _jpeg_metadata_segments(exif: Optional[bytes], xmp: Optional[bytes], icc: Optional[bytes]) -> bytes:
    """APP1 EXIF, APP1 XMP and APP2 ICC markers for a JPEG. An ICC profile is split
    into numbered chunks (ICC.1 annex B), so large profiles (wide-gamut scanner
    and camera profiles reach several hundred KB) fit."""
    out = bytearray()

    def marker(code: bytes, payload: bytes) -> None:
        out.extend(b"\xff" + code + struct.pack(">H", len(payload) + 2) + payload)

    exif = _exif_that_fits(exif, _JPEG_SEGMENT_MAX - 6)
    if exif:
        marker(b"\xe1", b"Exif\x00\x00" + (exif[6:] if exif.startswith(b"Exif\x00\x00") else exif))
    if xmp and len(_JPEG_XMP_HEADER) + len(xmp) <= _JPEG_SEGMENT_MAX:
        marker(b"\xe1", _JPEG_XMP_HEADER + xmp)
    if icc:
        step = _JPEG_SEGMENT_MAX - len(_ICC_HEADER) - 2
        chunks = [icc[i:i + step] for i in range(0, len(icc), step)]
        if len(chunks) <= 255:  # the sequence numbers are one byte
            for number, chunk in enumerate(chunks, start=1):
                marker(b"\xe2", _ICC_HEADER + bytes([number, len(chunks)]) + chunk)
    return bytes(out)


def _exif_that_fits(exif: Optional[bytes], limit: int) -> Optional[bytes]:
    """``exif`` (TIFF-structured bytes) within ``limit`` bytes: a camera's big
    MakerNote goes first, then the sub-IFDs; the main tags (camera, date,
    caption) are small and stay."""
    if not exif or len(exif) <= limit:
        return exif
    parsed = Image.Exif()
    parsed.load(exif)
    sub = dict(parsed.get_ifd(0x8769))
    sub.pop(0x927C, None)  # MakerNote
    sub.pop(0x9286, None)  # UserComment (can be huge; the caption tag stays)
    parsed[0x8769] = sub
    smaller = parsed.tobytes()
    if len(smaller) <= limit:
        return smaller
    reduced = _exif_without_sub_ifds(exif)
    return reduced if reduced and len(reduced) <= limit else None


def _jfif_segment(dpi: Any) -> bytes:
    """A JFIF APP0 segment that states the resolution in dots per inch."""
    x, y = (min(65535, max(1, int(round(float(v))))) for v in dpi)
    return b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01" + struct.pack(">BHHBB", 1, x, y, 0, 0)


def _after_jfif_segment(jpeg: Any) -> Any:
    """``jpeg`` from just after its SOI and JFIF APP0 segments (which OpenCV always
    writes, with no resolution), for a new APP0 to take the old one's place."""
    if bytes(jpeg[2:4]) == b"\xff\xe0" and bytes(jpeg[6:11]) == b"JFIF\x00":
        return jpeg[4 + struct.unpack(">H", bytes(jpeg[4:6]))[0]:]
    return jpeg[2:]


def _encode_16bit(rgb: np.ndarray, alpha: Optional[np.ndarray], fmt: str, like: Photo,
                  exif: Optional[bytes], icc: Optional[bytes], dpi: Any, scratch: bool = False,
                  is_bgr: bool = False, xmp: Optional[bytes] = None) -> tuple[Any, ...]:
    """Encode 16-bit RGB(A) with OpenCV (Pillow has no 16-bit RGB mode).

    Returns the file as buffers to write one after the other, so a huge photo's
    encoded bytes are never copied again."""
    if alpha is not None:
        bgr = np.ascontiguousarray(np.dstack([rgb, alpha]))
        if not is_bgr:
            bgr = cv2.cvtColor(bgr, cv2.COLOR_RGBA2BGRA, dst=bgr)
    elif is_bgr:
        bgr = np.ascontiguousarray(rgb)
    else:
        in_place = scratch and rgb.flags.c_contiguous and rgb.flags.writeable
        # A 50 MP 16-bit photo is 300 MB: reorder the caller's scratch array rather than copy it.
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR, dst=rgb) if in_place else cv2.cvtColor(
            np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    if fmt == "PNG":
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
        if not ok:
            raise ValueError("OpenCV could not encode the PNG")
        return _png_add_chunks(memoryview(buf).cast("B"), exif, icc, dpi, xmp)
    compression = _CV2_TIFF_COMPRESSION.get(like.info.get("compression"), 5)
    params = [cv2.IMWRITE_TIFF_COMPRESSION, compression]
    if dpi:
        params += [cv2.IMWRITE_TIFF_RESUNIT, 2, cv2.IMWRITE_TIFF_XDPI, int(round(float(dpi[0]))),
                   cv2.IMWRITE_TIFF_YDPI, int(round(float(dpi[1])))]
    ok, buf = cv2.imencode(".tiff", bgr, params)
    if not ok:
        raise ValueError("OpenCV could not encode the TIFF")
    return (memoryview(buf).cast("B"),)


_PNG_XMP_KEY = b"XML:com.adobe.xmp"


def _tiff_add_metadata(fh: Any, exif: Optional[bytes], xmp: Optional[bytes], icc: Optional[bytes]) -> None:
    """Add EXIF (main tags and the Exif/GPS sub-IFDs), XMP (tag 700) and ICC (tag
    34675) to the single-page TIFF just written to ``fh``.

    Neither writer can do it all (Pillow's libtiff path drops the Exif sub-IFD,
    where DateTimeOriginal lives; OpenCV writes no metadata), so the pixels stay
    where they are and a new first directory is appended: the old entries copied
    as they are (their data offsets stay valid) plus the new ones, whose values
    Pillow serialises into a block before it."""
    tags: dict[int, Any] = {}
    if exif:
        parsed = Image.Exif()
        parsed.load(exif)
        for tag in _EXIF_KEEP_TAGS - {282, 283, 296, 0x8769, 0x8825}:  # dpi: set by the writers
            if tag in parsed:
                tags[tag] = parsed[tag]
        for tag in (0x8769, 0x8825):
            sub = dict(parsed.get_ifd(tag)) if tag in parsed else {}
            sub.pop(0x927C, None)  # a MakerNote's inner offsets would point nowhere
            if sub:
                tags[tag] = sub
    if xmp:
        tags[700] = xmp
    if icc:
        tags[34675] = icc
    if not tags:
        return
    fh.flush()
    fh.seek(0)
    head = fh.read(8)
    order = "<" if head[:2] == b"II" else ">"
    fh.seek(struct.unpack(order + "I", head[4:8])[0])
    count = struct.unpack(order + "H", fh.read(2))[0]
    entries = {struct.unpack(order + "H", entry[:2])[0]: entry
               for entry in (fh.read(12) for _ in range(count))}
    added = TiffImagePlugin.ImageFileDirectory_v2(head)
    for tag, value in tags.items():
        added[tag] = value
        if tag in (0x8769, 0x8825):
            added.tagtype[tag] = TiffTags.LONG
    fh.seek(0, os.SEEK_END)
    block_at = fh.tell() + (fh.tell() & 1)  # TIFF offsets are even
    block = added.tobytes(block_at)
    new_count = struct.unpack(order + "H", block[:2])[0]
    for i in range(new_count):
        entry = block[2 + 12 * i: 14 + 12 * i]
        entries[struct.unpack(order + "H", entry[:2])[0]] = entry
    directory_at = block_at + len(block) + (len(block) & 1)
    fh.write(b"\x00" * (block_at - fh.tell()) + block + b"\x00" * (len(block) & 1))
    fh.write(struct.pack(order + "H", len(entries)) + b"".join(entries[t] for t in sorted(entries))
             + b"\x00\x00\x00\x00")
    fh.seek(4)
    fh.write(struct.pack(order + "I", directory_at))
    fh.seek(0, os.SEEK_END)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_add_chunks(png: Any, exif: Optional[bytes], icc: Optional[bytes], dpi: Any,
                    xmp: Optional[bytes] = None) -> tuple[Any, ...]:
    """Insert iCCP, eXIf, pHYs and XMP (iTXt) chunks right after IHDR (they must precede IDAT).

    ``png`` is a bytes-like object; returns the parts to write in order (slices
    of ``png`` are views, not copies)."""
    ihdr_end = 8 + 8 + 13 + 4
    if png[12:16] != b"IHDR":
        raise ValueError("unexpected PNG layout from OpenCV")
    extra = b""
    if icc:
        extra += _png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc))
    if exif:
        body = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
        extra += _png_chunk(b"eXIf", body)
    if dpi:
        ppm = [max(1, int(round(float(v) / 0.0254))) for v in dpi]
        extra += _png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1))
    if xmp:  # iTXt: keyword, no compression, no language, no translated keyword
        extra += _png_chunk(b"iTXt", _PNG_XMP_KEY + b"\x00\x00\x00\x00\x00" + xmp)
    return (png[:ihdr_end], extra, png[ihdr_end:])
