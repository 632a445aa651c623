"""Decoding: ``load_photo`` reads any photo a family scans or receives.

The file is only ever opened read-only. Handles the allowed formats at 8 and 16
bits (and deeper TIFFs), picks the largest page of a multi-page TIFF, applies
EXIF orientation, keeps the EXIF/ICC/dpi that saving copies, and turns every
failure into a ``PhotoError`` a person can act on. Pillow decodes what it can
represent; 16-bit colour PNG/TIFF pixels go through OpenCV (see ``pixels``).
The leaf helpers sit beside it: ``tiff_pages`` (which page), ``metadata`` (EXIF,
dpi, ...), ``png_chunks`` (bad optional PNG chunks), ``bigtiff``, ``netpbm``.
"""
from __future__ import annotations

import io
import os
import re
import stat
import struct
from pathlib import Path
from typing import Any, Optional

import cv2
import numpy as np
from PIL import Image, ImageCms, TiffImagePlugin, UnidentifiedImageError

from .already_color import looks_color
from .bigtiff import read_bigtiff
from .formats import DEFAULT_MAX_PIXELS, is_bigtiff, open_allowed, unsupported_format_reason
from .metadata import _collect_info, _orientation_of, _read_exif
from .netpbm import read_netpbm16
from .model import Photo, PhotoError
from .pixels import (_apply_orientation, _decode_with_opencv, _icc_color_space, _pixels_from_pillow, _to_uint16,
                     _to_uint8)
from .png_chunks import _png_drop_bad_ancillary_chunks
from .tiff_pages import _BITS_PER_SAMPLE, _choose_page, _seek_reduced_tiff_page, _tiff_sample_layout, count_pages


def load_rgb8(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """A photo as (H, W, 3) uint8 RGB, through ``load_photo``: EXIF orientation
    applied, 16-bit reduced to 8, gray repeated to three channels, transparency
    laid on white. For training data and other callers that want plain pixels.
    Raises ``PhotoError`` as ``load_photo`` does."""
    photo = load_photo(path, max_pixels)
    rgb = _to_uint8(photo.pixels)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    if photo.alpha is not None:
        alpha = _to_uint8(photo.alpha).astype(np.float32)[:, :, None] / np.float32(255.0)
        rgb = np.rint(rgb * alpha + np.float32(255.0) * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(rgb)


def load_reduced(path: Path, side: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """``load_photo`` for a thumbnail or preview at least ``side`` pixels on its long
    side: JPEGs decode at 1/2 to 1/8 scale (libjpeg's DCT scaling, "draft" mode),
    JPEG 2000 at a reduced resolution level, and a TIFF with reduced-resolution
    pages (a pyramid) from the smallest that is large enough; other formats
    decode whole. A 100 MP JPEG scan lists in a fraction of the time and memory.
    ``info["full_size"]`` is the photo's full (width, height), upright."""
    photo = _load(Path(path), max_pixels, max(1, int(side)))
    photo.info.setdefault("full_size", (photo.width, photo.height))  # formats decoded whole
    return photo


def load_photo(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Read a photo for colorizing; the file is only ever opened read-only.

    Handles JPEG/PNG/TIFF/BMP/WebP (and HEIC with pillow-heif), 8 and 16 bit,
    gray, RGB, RGBA, LA, palette (transparency becomes alpha), CMYK/YCCK (via
    the embedded ICC profile when there is one). EXIF orientation is applied to
    the pixels and reset to 1 in the EXIF kept for saving. Images larger than
    ``max_pixels`` are refused before they are decoded (Pillow's own guard,
    raised here to 2 x 250 MP, caps any larger ``max_pixels``).

    Raises ``PhotoError`` whose message names the file and says what is wrong.
    """
    return _load(Path(path), max_pixels, 0)


def _load(path: Path, max_pixels: int, reduce_to: int) -> Photo:
    name = path.name or str(path)
    _check_file(path, name)
    try:
        with open(path, "rb") as fp:
            return _load_open_file(path, name, fp, max_pixels, reduce_to)
    except PhotoError:
        raise
    except MemoryError:
        raise PhotoError(f"{name}: not enough memory to open this photo") from None
    except OSError as exc:
        raise _read_error(name, exc) from None
    except Exception as exc:  # a decoder tripping over a malformed file
        raise PhotoError(f"{name}: the file is damaged and cannot be read ({type(exc).__name__}: {exc})") from None


def _read_error(name: str, exc: OSError) -> PhotoError:
    """The plain-language message for an OS error while reading ``name``."""
    if isinstance(exc, PermissionError):
        return PhotoError(f"{name}: permission denied (Colorizer is not allowed to read this file)")
    if isinstance(exc, IsADirectoryError):
        return PhotoError(f"{name}: this is a folder, not a photo")
    if isinstance(exc, FileNotFoundError):
        return PhotoError(f"{name}: the file was not found (was it moved or deleted?)")
    return PhotoError(f"{name}: the file could not be read ({exc.strerror or exc})")


def photo_pixel_count(path: Path) -> int:
    """Width x height from the file's header alone (no decoding); 0 when unknown.

    Lets a batch budget its memory before decoding; errors are left for
    ``load_photo`` to report."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return 0  # opening a FIFO would wait for a writer forever
        with open(path, "rb") as fp, open_allowed(fp, Path(path).name) as im:
            width, height = im.size
        return int(width) * int(height)
    except Exception:  # unreadable here means load_photo will explain why
        return 0


def _check_file(path: Path, name: str) -> None:
    try:
        st = path.stat()
    except OSError as exc:
        raise _read_error(name, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise PhotoError(f"{name}: this is a folder, not a photo")
    if not stat.S_ISREG(st.st_mode):
        raise PhotoError(f"{name}: not a regular file, so not a photo Colorizer can read")
    if st.st_size == 0:
        raise PhotoError(f"{name}: the file is empty (0 bytes)")


def _truncated(name: str) -> PhotoError:
    return PhotoError(f"{name}: the file is cut short (truncated); it may not have finished copying")


def _too_large(name: str, width: int, height: int, max_pixels: int) -> PhotoError:
    return PhotoError(
        f"{name}: the picture is too large to open safely ({width} x {height} pixels = "
        f"{width * height / 1e6:.0f} megapixels; the limit is {max_pixels / 1e6:.0f} megapixels)"
    )


def _load_open_file(path: Path, name: str, fp: Any, max_pixels: int, reduce_to: int = 0) -> Photo:
    head = fp.read(64)
    fp.seek(0)
    unsupported = unsupported_format_reason(path, head)
    if unsupported:
        raise PhotoError(f"{name}: {unsupported}")
    if is_bigtiff(head) and not isinstance(fp, io.BytesIO):
        pixels, alpha, orientation, info, notes, exif, icc = read_bigtiff(path, name, max_pixels, _too_large)
        return _finish_photo(path, "TIFF", pixels, alpha, orientation, exif, icc, False, info, notes)
    if head[:2] in (b"P5", b"P6"):
        netpbm = read_netpbm16(fp, name, max_pixels, _too_large)
        if netpbm is not None:
            pixels, info = netpbm
            return _finish_photo(path, "PPM", pixels, None, 1, None, None, False, info, [])
    try:
        im = open_allowed(fp, name)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (above 2 x MAX_IMAGE_PIXELS, or its warning when
        # warnings are errors) fired before our check: report its pixel count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" ({int(found.group(1)) / 1e6:.0f} megapixels)" if found else ""
        limit = max_pixels
        if isinstance(exc, Image.DecompressionBombError) and Image.MAX_IMAGE_PIXELS:
            limit = min(max_pixels, 2 * Image.MAX_IMAGE_PIXELS)
        raise PhotoError(
            f"{name}: the picture is too large to open safely{size}; the limit is "
            f"{limit / 1e6:.0f} megapixels"
        ) from None
    except UnidentifiedImageError:
        retry = _retry_png_without_bad_chunks(path, name, fp, head, max_pixels)
        if retry is not None:
            return retry
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            # Float RGB TIFFs (and other sample layouts Pillow has no mode for).
            return _load_tiff_with_opencv(path, name, fp, max_pixels)
        # The magic bytes named an allowed format, but its decoder cannot read on.
        raise PhotoError(f"{name}: the file is damaged or cut short (truncated); "
                         "it may not have finished copying") from None
    except (EOFError, struct.error, SyntaxError, ValueError, OSError) as exc:
        retry = _retry_png_without_bad_chunks(path, name, fp, head, max_pixels)
        if retry is not None:
            return retry
        if isinstance(exc, (EOFError, struct.error)) or "runcat" in str(exc):
            raise _truncated(name) from None
        raise PhotoError(f"{name}: the file is damaged and cannot be read ({exc})") from None

    with im:
        fmt = im.format or "UNKNOWN"
        if fmt == "TIFF" and _DNG_VERSION in im.tag_v2:
            raise PhotoError(f"{name}: {unsupported_format_reason('x.dng')}")
        notes: list[str] = []
        page = _choose_page(im, notes)
        width, height = im.size
        if width * height > max_pixels:
            raise _too_large(name, width, height, max_pixels)
        info: dict[str, Any] = {"source_mode": im.mode}
        use_opencv = _needs_opencv(im, head)  # before getexif(), which may decode a PNG
        full_size = im.size
        if reduce_to and not use_opencv:
            _decode_reduced(im, reduce_to)
        exif, orientation = _read_exif(im)
        icc = im.info.get("icc_profile") or None
        fast_jpeg = None if reduce_to else _decode_plain_jpeg(im, fp)
        try:
            if fast_jpeg is not None:
                pixels, alpha, icc_used = fast_jpeg, None, False
                info["source_bits"] = 8
            elif use_opencv:
                fp.seek(0)
                pixels, alpha = _decode_with_opencv(fp.read(), name, _is_gray_source(im, head), page)
                info["source_bits"] = 16
                icc_used = False
                if fmt in _OPENCV_TURNS_UPRIGHT:
                    orientation = 1
            else:
                im.load()
                # Pillow 13 turns a TIFF upright as it loads it (and drops its
                # Orientation tag); other formats keep theirs for us to apply.
                # Asking again after load() applies it exactly once either way.
                orientation = _orientation_of(im) if orientation != 1 else 1
                pixels, alpha, icc_used = _pixels_from_pillow(im, icc, _tiff_sample_layout(im))
                info["source_bits"] = 16 if pixels.dtype == np.uint16 else 8
        except PhotoError:
            raise
        except MemoryError:
            raise PhotoError(f"{name}: not enough memory to open this photo") from None
        except (EOFError, struct.error):
            raise _truncated(name) from None
        except (OSError, SyntaxError, ValueError, KeyError, IndexError, ImageCms.PyCMSError) as exc:
            retry = _retry_png_without_bad_chunks(path, name, fp, head, max_pixels)
            if retry is not None:
                return retry
            if "runcat" in str(exc) or _lacks_end_marker(fp, fmt):
                raise _truncated(name) from None
            raise PhotoError(f"{name}: the file is damaged and cannot be decoded ({exc})") from None
        _collect_info(im, fp, info)
        if page or count_pages(im) > 1:
            info["page"] = f"{page + 1} of {count_pages(im)}"

    if reduce_to:
        info["full_size"] = full_size[::-1] if orientation in (5, 6, 7, 8) else full_size
    return _finish_photo(path, fmt, pixels, alpha, orientation, exif, icc, icc_used, info, notes)


def _decode_plain_jpeg(im: Image.Image, fp: Any) -> Optional[np.ndarray]:
    """The pixels of a whole gray or RGB JPEG decoded by OpenCV straight into a
    NumPy array (libjpeg-turbo, as Pillow; the same pixels): Pillow's decode
    plus its copy out to NumPy cost a 12 MP scan about 25 ms more. None for
    anything else (CMYK, MPO, a file without its end marker: Pillow reads and
    judges those), and whenever OpenCV's result is not what Pillow announced."""
    if im.format != "JPEG" or im.mode not in ("L", "RGB") or _lacks_end_marker(fp, "JPEG"):
        return None
    fp.seek(0)
    flags = (cv2.IMREAD_GRAYSCALE if im.mode == "L" else cv2.IMREAD_COLOR_RGB) | cv2.IMREAD_IGNORE_ORIENTATION
    pixels = cv2.imdecode(np.frombuffer(fp.read(), np.uint8), flags)
    fp.seek(0)
    expected = (im.size[1], im.size[0]) + (() if im.mode == "L" else (3,))
    return pixels if pixels is not None and pixels.shape == expected else None


#: OpenJPEG refuses a reduction past the codestream's levels; encoders write at
#: least 6 resolution levels by default (5 reductions), so at most 5 are asked for.
_MAX_J2K_REDUCE = 5


def _decode_reduced(im: Image.Image, side: int) -> None:
    """Ask ``im``'s decoder (before it loads) for a smaller picture, still at least
    ``side`` on its long side, where the format can decode one directly."""
    width, height = im.size
    factor = max(width, height) // side
    if factor < 2:
        return
    if im.format in ("JPEG", "MPO"):
        im.draft(im.mode, (max(1, width // factor), max(1, height // factor)))
    elif im.format == "JPEG2000":
        im.reduce = min(_MAX_J2K_REDUCE, factor.bit_length() - 1)  # type: ignore[assignment,method-assign]
    elif im.format == "TIFF":
        _seek_reduced_tiff_page(im, side)


def _finish_photo(path: Path, fmt: str, pixels: np.ndarray, alpha: Optional[np.ndarray], orientation: int,
                  exif: Optional[bytes], icc: Optional[bytes], icc_used: bool, info: dict[str, Any],
                  notes: list[str]) -> Photo:
    """Turn decoded pixels upright and wrap them, with what saving needs, in a Photo."""
    pixels = _apply_orientation(pixels, orientation)
    if alpha is not None:
        alpha = _apply_orientation(alpha, orientation)
    if icc:
        info["source_icc_space"] = _icc_color_space(icc)
    keep_icc = icc if (icc and not icc_used and _icc_color_space(icc) == "RGB") else None
    return Photo(
        path=path,
        pixels=np.ascontiguousarray(pixels),
        format=fmt,
        alpha=None if alpha is None else np.ascontiguousarray(alpha),
        exif=exif,
        icc_profile=keep_icc,
        is_color=looks_color(pixels),
        info=info,
        notes=notes,
    )


#: Formats whose pixels OpenCV 4.x (pinned in requirements.txt) returns upright
#: even with IMREAD_UNCHANGED: its TIFF decoder applies the Orientation tag,
#: its PNG decoder ignores eXIf. tests/core/test_photo.py checks both assumptions.
_OPENCV_TURNS_UPRIGHT = frozenset({"TIFF"})


_DNG_VERSION = 50706




def _load_tiff_with_opencv(path: Path, name: str, fp: Any, max_pixels: int) -> Photo:
    """Read a TIFF Pillow has no mode for (32-bit float RGB, from HDR and scientific
    software) with OpenCV: the pixels only (OpenCV reads no EXIF, ICC or dpi)."""
    fp.seek(0)
    ifd = TiffImagePlugin.ImageFileDirectory_v2(fp.read(8))
    fp.seek(ifd.next)
    try:
        ifd.load(fp)
    except (EOFError, struct.error, OSError, ValueError, SyntaxError):
        raise _truncated(name) from None
    width, height = int(ifd.get(256, 0)), int(ifd.get(257, 0))
    if width * height > max_pixels:
        raise _too_large(name, width, height, max_pixels)
    fp.seek(0)
    arr = cv2.imdecode(np.frombuffer(fp.read(), np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        bits = ifd.get(_BITS_PER_SAMPLE)
        raise PhotoError(f"{name}: this format is not supported (a TIFF with {bits} bits per sample "
                         "that neither Pillow nor OpenCV can decode; save it as a 16-bit TIFF first)")
    alpha = None
    if arr.ndim == 3 and arr.shape[2] == 4:
        alpha = _to_uint16(arr[:, :, 3])
        arr = arr[:, :, :3]
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    pixels = _to_uint16(arr)
    info = {"source_mode": f"{arr.dtype}x{1 if arr.ndim == 2 else arr.shape[2]}", "source_bits": 16}
    # OpenCV already applied the Orientation tag (see _OPENCV_TURNS_UPRIGHT).
    return _finish_photo(path, "TIFF", pixels, alpha, 1, None, None, False, info, [])


def _retry_png_without_bad_chunks(path: Path, name: str, fp: Any, head: bytes,
                                  max_pixels: int) -> Optional[Photo]:
    """A PNG refused only for a bad checksum on an optional (ancillary) chunk, such
    as a text or time stamp chunk an old program wrote wrongly: read it again
    without those chunks and say so. None when that is not the fault."""
    if not head.startswith(b"\x89PNG") or isinstance(fp, io.BytesIO):
        return None
    fp.seek(0)
    cleaned, dropped = _png_drop_bad_ancillary_chunks(fp.read())
    if not dropped:
        return None
    photo = _load_open_file(path, name, io.BytesIO(cleaned), max_pixels)
    kinds = ", ".join(sorted({kind.decode("latin-1") for kind in dropped}))
    photo.notes.append(f"an optional PNG chunk ({kinds}) had a bad checksum and was ignored")
    return photo




def _lacks_end_marker(fp: Any, fmt: str) -> bool:
    """True when a JPEG or PNG that failed to decode also misses its end marker,
    i.e. it was cut short rather than damaged in the middle."""
    try:
        fp.seek(0, os.SEEK_END)
        size = fp.tell()
        fp.seek(max(0, size - 64))
        tail = fp.read()
    except OSError:
        return False
    if fmt in ("JPEG", "MPO"):
        return not tail.rstrip(b"\x00").endswith(b"\xff\xd9")
    if fmt == "PNG":
        return b"IEND" not in tail
    return False


def _needs_opencv(im: Image.Image, head: bytes) -> bool:
    """True for 16-bit colour (or gray+alpha) PNG/TIFF, which Pillow would cut to 8 bits."""
    if im.format == "PNG" and im.mode in ("RGB", "RGBA", "LA"):
        # IHDR: bit depth at byte 24 of the file
        return head[12:16] == b"IHDR" and head[24] == 16
    if im.format == "TIFF" and im.mode in ("RGB", "RGBA", "LA"):
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return 16 in bits
    return False


def _is_gray_source(im: Image.Image, head: bytes) -> bool:
    """True when the PNG/TIFF stores gray samples (PNG colour type 0/4, TIFF
    photometric 0/1), whatever mode Pillow reports."""
    if im.format == "PNG":
        return head[12:16] == b"IHDR" and head[25] in (0, 4)
    if im.format == "TIFF":
        return im.tag_v2.get(262) in (0, 1)
    return False
