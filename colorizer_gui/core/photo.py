"""Photo I/O: load any photo a family scans or receives; save colour copies safely.

CONTRACT (the pipeline, batch, GUI and tests rely on it):

- ``Photo`` holds the decoded pixels with EXIF orientation applied.
- ``load_photo(path)`` never opens the file for writing; raises ``PhotoError``
  with a plain-language message for anything it cannot read.
- ``save_photo(rgb, dest, like)`` writes to a temp file in dest's folder then
  renames it into place; never overwrites an existing file.
- ``output_path(src, out_dir)`` gives ``out_dir/<stem>_color.<ext>``, adding a
  counter instead of overwriting.

Pillow decodes and encodes everything it can represent. Pillow has no 16-bit
RGB mode, so 16-bit colour PNG/TIFF pixels go through OpenCV (metadata still
comes from Pillow). HEIC/HEIF is read when the optional ``pillow-heif`` package
is installed; it is registered with Pillow the first time such a file is opened.
"""
from __future__ import annotations

import errno
import importlib.util
import io
import os
import re
import secrets
import stat
import struct
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

import cv2
import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from .color import chroma_stats, rgb_to_lab


class PhotoError(Exception):
    """A photo cannot be read or written; ``str(err)`` is a message for the user."""


@dataclass
class Photo:
    """A decoded photo.

    ``pixels``: (H, W) gray or (H, W, 3) RGB, uint8 or uint16, orientation applied.
    ``alpha``: (H, W) of the same dtype, or None. ``format``: PIL format name of
    the source ("JPEG", "PNG", "TIFF", "BMP", "WEBP", ...). ``exif``: EXIF bytes to
    copy on save (orientation reset to 1), ``icc_profile``: ICC bytes to copy when
    they suit an RGB output. ``is_colour``: the photo already has real colour.
    ``info``: other hints for saving (dpi, ...).
    """

    path: Path
    pixels: np.ndarray
    format: str
    alpha: Optional[np.ndarray] = None
    exif: Optional[bytes] = None
    icc_profile: Optional[bytes] = None
    is_colour: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8


# --------------------------------------------------------------------------- formats

DEFAULT_MAX_PIXELS = 250_000_000

# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that. Raise its
# limit to our default (never lower it, never disable it): load_photo itself
# refuses anything above the caller's max_pixels before decoding.
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < DEFAULT_MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

_HEIF_EXTENSIONS = frozenset({".heic", ".heif"})
_HEIF_AVAILABLE = importlib.util.find_spec("pillow_heif") is not None
_heif_registered = False
# Pillow 11.2+ reads AVIF when built with libavif (its C module); checked without
# importing every plugin at start-up.
_AVIF_AVAILABLE = importlib.util.find_spec("PIL._avif") is not None

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif"}
    | (_HEIF_EXTENSIONS if _HEIF_AVAILABLE else frozenset())
    | ({".avif"} if _AVIF_AVAILABLE else frozenset())
)

# The one allow-list of decoders: every image Colorizer opens (photos, training
# data, previews) is first identified by its magic bytes, and only the Pillow
# plugin of that one format is allowed to read it. Anything else (EPS and PDF,
# whose plugins start Ghostscript; SVG; the many exotic formats Pillow knows) is
# refused before Pillow sees a byte. MPO (multi-picture JPEG) comes from the
# JPEG plugin itself; a GIF gives its first frame.
ALLOWED_FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP", "GIF", "HEIF", "AVIF")
# Bytes read to identify a file: enough for an ISO-BMFF 'ftyp' box with its brands.
_SNIFF_BYTES = 256
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# Things people mistake for photos, named in the refusal so they know what they have.
_KNOWN_NOT_PHOTOS = (
    (b"%!PS", "a PostScript/EPS document"),
    (b"\xc5\xd0\xd3\xc6", "a PostScript/EPS document"),
    (b"%PDF", "a PDF document"),
    (b"<?xml", "an XML/SVG document"),
    (b"<svg", "an SVG drawing"),
)

# Format families we write, with their extensions (the first is the default).
_WRITE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "TIFF": (".tif", ".tiff"),
    "BMP": (".bmp", ".dib"),
    "WEBP": (".webp",),
}
_FORMAT_ALIASES = {"JPG": "JPEG", "MPO": "JPEG", "JPE": "JPEG", "JFIF": "JPEG", "TIF": "TIFF", "DIB": "BMP"}

# TIFF compressions worth keeping when a TIFF is saved again (lossless ones).
_TIFF_KEEP_COMPRESSION = {"raw", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits"}
_CV2_TIFF_COMPRESSION = {"raw": 1, "tiff_lzw": 5, "tiff_adobe_deflate": 8, "tiff_deflate": 8, "packbits": 32773}

# EXIF IFD0 tags worth copying: descriptive ones. Structural TIFF tags (sizes,
# strips, compression, ...) describe the SOURCE file's layout and must not leak.
_EXIF_KEEP_TAGS = {
    270,    # ImageDescription
    271,    # Make
    272,    # Model
    274,    # Orientation (reset to 1)
    282, 283, 296,  # resolution
    305,    # Software
    306,    # DateTime
    315,    # Artist
    33432,  # Copyright
    0x8769,  # Exif sub-IFD (dates, exposure, ...)
    0x8825,  # GPS sub-IFD
}
_ORIENTATION = 274

_NAME_MAX_BYTES = 255
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE_NAME_CHARS = re.compile(r'[/\\<>:"|?*]')


def is_photo_file(path: Path | str) -> bool:
    """True when ``path``'s extension is one Colorizer reads (case-insensitive)."""
    return Path(path).suffix.lower() in SUPPORTED_EXTENSIONS


def sniff_format(head: bytes) -> Optional[str]:
    """The allowed format (one of ``ALLOWED_FORMATS``) that ``head``, the first
    bytes of a file, announces; None for anything else. Looks at bytes only, so
    a file's name or extension never decides which decoder reads it."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[4:8] == b"ftyp":
        # ISO-BMFF: the major brand, then the compatible brands up to the box's end.
        box_end = min(len(head), max(16, struct.unpack(">I", head[:4])[0]))
        brands = {head[8:12]} | {head[i:i + 4] for i in range(16, box_end - 3, 4)}
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
    return None


def read_head(path: Path | str) -> bytes:
    """The first bytes of ``path`` (enough for ``sniff_format``); OSError if unreadable."""
    with open(path, "rb") as fp:
        return fp.read(_SNIFF_BYTES)


def has_photo_signature(path: Path | str) -> bool:
    """True when ``path`` is a regular file that starts like an allowed image format
    (read from its magic bytes; nothing is decoded). For counting photos quickly."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode) and sniff_format(read_head(path)) is not None
    except OSError:
        return False


def count_readable_photos(folder: Path) -> int:
    """How many photos under ``folder`` (recursively, as ``find_photos`` walks it)
    start like an allowed image format: what the fine-tune dialog shows."""
    return sum(map(has_photo_signature, find_photos([Path(folder)], recursive=True)))


def _not_a_photo(name: str, head: bytes) -> PhotoError:
    """The refusal for a file whose bytes are no allowed image format."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, what in _KNOWN_NOT_PHOTOS:
        if start.startswith(magic):
            return PhotoError(f"{name}: not a photo Colorizer can read (unrecognised format; "
                              f"it looks like {what}, which Colorizer never opens)")
    return PhotoError(f"{name}: not a photo Colorizer can read (unrecognised format)")


def _decoder_for(name: str, head: bytes) -> str:
    """The single Pillow format allowed to decode a file starting with ``head``;
    ``PhotoError`` when there is none (so Pillow never tries its other plugins)."""
    fmt = sniff_format(head)
    if fmt is None:
        raise _not_a_photo(name, head)
    if fmt == "HEIF" and not _register_heif():
        raise PhotoError(f"{name}: HEIC photos need the 'pillow-heif' package, which is not installed")
    if fmt == "AVIF" and not _AVIF_AVAILABLE:
        raise PhotoError(f"{name}: AVIF photos need Pillow 11.2 or newer with AVIF support")
    return fmt


def open_allowed(fp: Any, name: str) -> Image.Image:
    """``Image.open`` restricted to the one allowed decoder that ``fp``'s magic bytes
    name (``fp`` is a binary file positioned at its start). Every image Colorizer
    opens goes through here. Raises ``PhotoError`` for anything not allowed and
    lets Pillow's own errors for a damaged file through."""
    head = fp.read(_SNIFF_BYTES)
    fp.seek(0)
    fmt = _decoder_for(name, head)
    Image.init()  # registers the plugins once; a no-op afterwards
    return Image.open(fp, formats=[fmt])


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


# --------------------------------------------------------------------------- loading

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
    path = Path(path)
    name = path.name or str(path)
    _check_file(path, name)
    try:
        with open(path, "rb") as fp:
            return _load_open_file(path, name, fp, max_pixels)
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


def _load_open_file(path: Path, name: str, fp: Any, max_pixels: int) -> Photo:
    head = fp.read(64)
    fp.seek(0)
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
        # The magic bytes named an allowed format, but its decoder cannot read on.
        raise PhotoError(f"{name}: the file is damaged or cut short (truncated); "
                         "it may not have finished copying") from None
    except (EOFError, struct.error, SyntaxError, ValueError, OSError) as exc:
        if isinstance(exc, (EOFError, struct.error)) or "runcat" in str(exc):
            raise _truncated(name) from None
        raise PhotoError(f"{name}: the file is damaged and cannot be read ({exc})") from None

    with im:
        width, height = im.size
        if width * height > max_pixels:
            raise _too_large(name, width, height, max_pixels)
        fmt = im.format or "UNKNOWN"
        info: dict[str, Any] = {"source_mode": im.mode}
        use_opencv = _needs_opencv(im, head)  # before getexif(), which may decode a PNG
        exif, orientation = _read_exif(im)
        icc = im.info.get("icc_profile") or None
        try:
            if use_opencv:
                fp.seek(0)
                pixels, alpha = _decode_with_opencv(fp.read(), name, _is_gray_source(im, head))
                info["source_bits"] = 16
                icc_used = False
            else:
                im.load()
                pixels, alpha, icc_used = _pixels_from_pillow(im, icc)
                info["source_bits"] = 16 if pixels.dtype == np.uint16 else 8
        except PhotoError:
            raise
        except MemoryError:
            raise PhotoError(f"{name}: not enough memory to open this photo") from None
        except (EOFError, struct.error):
            raise _truncated(name) from None
        except (OSError, SyntaxError, ValueError, KeyError, IndexError, ImageCms.PyCMSError) as exc:
            if "runcat" in str(exc) or _lacks_end_marker(fp, fmt):
                raise _truncated(name) from None
            raise PhotoError(f"{name}: the file is damaged and cannot be decoded ({exc})") from None
        _collect_info(im, fp, info)

    pixels = _apply_orientation(pixels, orientation)
    if alpha is not None:
        alpha = _apply_orientation(alpha, orientation)
    if icc:
        info["source_icc_space"] = _icc_colour_space(icc)
    keep_icc = icc if (icc and not icc_used and _icc_colour_space(icc) == "RGB") else None
    return Photo(
        path=path,
        pixels=np.ascontiguousarray(pixels),
        format=fmt,
        alpha=None if alpha is None else np.ascontiguousarray(alpha),
        exif=exif,
        icc_profile=keep_icc,
        is_colour=looks_colour(pixels),
        info=info,
    )


def _register_heif() -> bool:
    """Register pillow-heif's opener once, on first use; False when it is not installed."""
    global _heif_registered
    if not _HEIF_AVAILABLE:
        return False
    if not _heif_registered:
        try:
            import pillow_heif  # optional: only needed for HEIC photos
        except ImportError:
            return False
        pillow_heif.register_heif_opener()
        _heif_registered = True
    return True


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


def _decode_with_opencv(data: bytes, name: str, gray: bool) -> tuple[np.ndarray, Optional[np.ndarray]]:
    # IMREAD_UNCHANGED keeps 16 bits and alpha and ignores EXIF orientation
    # (applied by the caller, as for every other photo).
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise PhotoError(f"{name}: the file is damaged or cut short (truncated); it may not have finished copying")
    if arr.dtype != np.uint16:
        arr = _to_uint16(arr)
    if arr.ndim == 2:
        return arr, None
    alpha = None
    if arr.shape[2] == 4:
        alpha = arr[:, :, 3]
        rgb = cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB)
    elif arr.shape[2] == 2:  # gray + alpha
        return arr[:, :, 0], arr[:, :, 1]
    else:
        rgb = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_BGR2RGB)
    if gray:  # libpng hands gray+alpha back expanded to BGRA: keep it gray
        return rgb[:, :, 0], alpha
    return rgb, alpha


def _pixels_from_pillow(im: Image.Image, icc: Optional[bytes]) -> tuple[np.ndarray, Optional[np.ndarray], bool]:
    """Decode a loaded Pillow image to (pixels, alpha, ICC consumed by a conversion)."""
    mode = im.mode
    has_trns = im.info.get("transparency") is not None
    if mode == "1":
        im = im.convert("L")
    elif mode in ("P", "PA"):
        alpha_wanted = mode == "PA" or has_trns
        gray = _palette_is_gray(im)
        im = im.convert(("LA" if alpha_wanted else "L") if gray else ("RGBA" if alpha_wanted else "RGB"))
    elif mode in ("L", "RGB") and has_trns:
        im = im.convert("LA" if mode == "L" else "RGBA")
    elif mode == "La":
        im = im.convert("LA")
    elif mode == "RGBa":
        im = im.convert("RGBA")
    elif mode == "CMYK":
        rgb, used_icc = _cmyk_to_rgb(im, icc)
        return rgb, None, used_icc
    elif mode == "LAB":
        lab = np.asarray(im).astype(np.float32)
        lab[:, :, 0] *= 100.0 / 255.0
        lab[:, :, 1:] -= 128.0
        rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
        return np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8), None, True
    elif mode.startswith("I;16"):
        return np.asarray(im).astype(np.uint16), None, False
    elif mode in ("I", "F"):
        return _to_uint16(np.asarray(im)), None, False
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in mode else "RGB")

    arr = np.asarray(im)
    if im.mode == "L":
        return arr, None, False
    if im.mode == "LA":
        return arr[:, :, 0], arr[:, :, 1], False
    if im.mode == "RGBA":
        return arr[:, :, :3], arr[:, :, 3], False
    return arr, None, False


def _palette_is_gray(im: Image.Image) -> bool:
    palette = im.getpalette() or []
    colours = np.asarray(palette, dtype=np.int32).reshape(-1, 3) if palette else None
    if colours is None or len(colours) == 0:
        return False
    if im.mode == "P":
        used = np.unique(np.asarray(im))
        used = used[used < len(colours)]
    else:
        used = np.arange(len(colours))
    sel = colours[used]
    return bool(np.all(sel[:, 0] == sel[:, 1]) and np.all(sel[:, 1] == sel[:, 2]))


def _cmyk_to_rgb(im: Image.Image, icc: Optional[bytes]) -> tuple[np.ndarray, bool]:
    """CMYK (also YCCK and Adobe-inverted JPEGs, which Pillow already un-inverts) to RGB.

    Uses the embedded CMYK profile with LittleCMS when there is one, else Pillow's
    simple conversion. Returns (RGB pixels, whether the profile was used).
    """
    if icc and _icc_colour_space(icc) == "CMYK":
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            out = ImageCms.profileToProfile(im, src, dst, renderingIntent=ImageCms.Intent.PERCEPTUAL,
                                            outputMode="RGB")
            if out is not None:
                return np.asarray(out), True
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a broken profile: fall back to the plain conversion
    return np.asarray(im.convert("RGB")), False


def _to_uint16(arr: np.ndarray) -> np.ndarray:
    """Map integer/float pixels to uint16: [0, 1] floats scale up, values already in
    [0, 65535] are kept, anything else is stretched from its own min..max."""
    if arr.dtype == np.uint16:
        return arr
    if arr.dtype == np.uint8:
        return arr.astype(np.uint16) * np.uint16(257)
    work = np.nan_to_num(arr.astype(np.float64, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(work.min()), float(work.max())) if work.size else (0.0, 0.0)
    if np.issubdtype(arr.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        work = work * 65535.0
    elif not (lo >= 0.0 and hi <= 65535.0):
        work = (work - lo) * (65535.0 / (hi - lo)) if hi > lo else np.zeros_like(work)
    return np.rint(np.clip(work, 0.0, 65535.0)).astype(np.uint16)


def _apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels upright as EXIF orientation ``orientation`` (1-8) asks."""
    if orientation == 2:
        return arr[:, ::-1]
    if orientation == 3:
        return arr[::-1, ::-1]
    if orientation == 4:
        return arr[::-1]
    if orientation == 5:
        return arr.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(arr, -1)
    if orientation == 7:
        return arr[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(arr, 1)
    return arr


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


def _icc_colour_space(icc: bytes) -> str:
    """The ICC profile's data colour space ('RGB', 'GRAY', 'CMYK', 'Lab', ...) from its header."""
    if len(icc) < 20:
        return ""
    return icc[16:20].decode("latin-1").strip()


# Colour test thresholds, in CIE Lab chroma units (0 = gray, ~130 = vivid).
# A gray scan stored as RGB stays under _GRAY_CHROMA_P99 (JPEG noise is ~1-3).
# A toned print (sepia, selenium, cyanotype) has its ab values along ONE hue
# line: measured across that line, synthetic sepia prints with scanner noise
# (sigma up to 5 levels per channel) stay near or under 10, while colour
# photos, even faded to 20% saturation, reach 13 and usually 30-70.
_GRAY_CHROMA_P99 = 6.0
_TINT_SPREAD_P99 = 12.0
_THUMB_SIDE = 256


def looks_colour(pixels: np.ndarray) -> bool:
    """True when an image already has real colour, not gray or a single-tone tint.

    Uses ``chroma_stats`` to dismiss gray images quickly, then measures how far
    the colours spread across the photo's dominant hue on an area-averaged
    thumbnail (which also averages away scanner noise): a uniformly tinted sepia
    or gray print hardly spreads, a real colour photo does.
    """
    if pixels.ndim == 2:
        return False
    rgb = pixels[:, :, :3]
    _mean, p99 = chroma_stats(rgb)
    if p99 < _GRAY_CHROMA_P99:
        return False
    h, w = rgb.shape[:2]
    scale = _THUMB_SIDE / max(h, w)
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    ab = rgb_to_lab(rgb)[:, :, 1:].reshape(-1, 2).astype(np.float64)
    # The dominant hue line through gray (a = b = 0): principal axis of the ab cloud.
    _vals, vecs = np.linalg.eigh(ab.T @ ab / len(ab))
    axis = vecs[:, -1]
    across = np.abs(ab @ np.array([-axis[1], axis[0]]))
    return float(np.percentile(across, 99)) >= _TINT_SPREAD_P99


# --------------------------------------------------------------------------- naming

def _format_family(fmt: str, src: Optional[Path] = None) -> Optional[str]:
    key = (fmt or "").strip().lstrip(".").upper()
    key = _FORMAT_ALIASES.get(key, key)
    if key in _WRITE_EXTENSIONS:
        return key
    if not key and src is not None:
        suffix = src.suffix.lower()
        for family, exts in _WRITE_EXTENSIONS.items():
            if suffix in exts:
                return family
    return None


def output_extension(fmt: str, src: Path) -> str:
    """Extension for a colour copy of ``src`` whose format is ``fmt`` (a PIL format name).

    Same family as the source, keeping the source's own spelling (``.JPG`` stays
    ``.JPG``, ``.jpeg`` stays ``.jpeg``); formats Colorizer does not write
    (HEIC, GIF, JPEG 2000, ...) become ``.png``.
    """
    family = _format_family(fmt, Path(src))
    if family is None:
        return ".png"
    suffix = Path(src).suffix
    if suffix.lower() in _WRITE_EXTENSIONS[family]:
        return suffix
    return _WRITE_EXTENSIONS[family][0]


def saves_lossy(photo: Photo) -> bool:
    """Whether the colour copy of ``photo`` is written with lossy compression: JPEG,
    or WebP from a lossy WebP (``output_extension`` keeps the source's family)."""
    family = _format_family(photo.format, photo.path)
    return family == "JPEG" or (family == "WEBP" and not photo.info.get("lossless"))


def saves_bgr(photo: Photo) -> bool:
    """Whether ``save_photo`` encodes the colour copy of ``photo`` with OpenCV, which
    takes BGR pixels (JPEG, 16-bit PNG and TIFF); Pillow's encoders take RGB."""
    return _opencv_encodes(_format_family(photo.format, photo.path), photo.pixels.dtype == np.uint16)


def _opencv_encodes(fmt: Optional[str], sixteen_bit: bool) -> bool:
    """True for the files ``save_photo`` writes with OpenCV: JPEG, 16-bit PNG/TIFF."""
    return fmt == "JPEG" or (sixteen_bit and fmt in ("PNG", "TIFF"))


def _safe_component(text: str) -> str:
    """Make ``text`` usable inside one file name on any OS: no separators, control
    characters or characters Windows forbids, no leading dots or spaces."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    text = _UNSAFE_NAME_CHARS.sub("_", _CONTROL_CHARS.sub("", text))
    return text.lstrip(" .").rstrip()


def _fit_name(stem: str, tail: str, ext: str) -> str:
    """``stem + tail + ext``, shortening the stem so the name fits in 255 UTF-8 bytes."""
    budget = _NAME_MAX_BYTES - len((tail + ext).encode("utf-8"))
    raw = stem.encode("utf-8")
    if len(raw) > budget:
        stem = raw[:max(budget, 0)].decode("utf-8", "ignore").rstrip(" .")
    return f"{stem or 'photo'}{tail}{ext}"


def output_path(src: Path, out_dir: Path, fmt: str, suffix: str = "_color") -> Path:
    """``out_dir/<stem><suffix><ext>``, or ``<stem><suffix>-2<ext>``, ``-3``, ... when taken.

    Never returns an existing path. The stem is made safe (no separators, no
    '..', no control characters) and shortened so the name fits the usual
    255-byte limit; the result is always directly inside ``out_dir``.
    """
    src = Path(src)
    out_dir = Path(out_dir)
    raw_name = re.split(r"[/\\]", str(src))[-1]
    stem = _safe_component(Path(raw_name).stem if raw_name not in (".", "..") else "") or "photo"
    ext = output_extension(fmt, src)
    safe_suffix = _UNSAFE_NAME_CHARS.sub("_", _CONTROL_CHARS.sub("", suffix))
    for counter in range(1, 1_000_000):
        tail = safe_suffix if counter == 1 else f"{safe_suffix}-{counter}"
        candidate = out_dir / _fit_name(stem, tail, ext)
        if not os.path.lexists(candidate):
            return candidate
    raise PhotoError(f"cannot find a free file name for {raw_name} in {out_dir}")


# --------------------------------------------------------------------------- saving

def _format_for_dest(dest: Path) -> str:
    suffix = dest.suffix.lower()
    for family, exts in _WRITE_EXTENSIONS.items():
        if suffix in exts:
            return family
    raise PhotoError(f"{dest.name}: Colorizer cannot save photos as '{dest.suffix or 'no extension'}'")


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    return ((arr.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _exif_for_output(exif: Optional[bytes]) -> Optional[bytes]:
    """The EXIF to write: orientation forced to 1 (the pixels are already upright)."""
    if not exif:
        return None
    try:
        parsed = Image.Exif()
        parsed.load(exif)
        if _ORIENTATION in parsed:
            parsed[_ORIENTATION] = 1
        return parsed.tobytes()
    except Exception:  # unreadable EXIF is dropped rather than failing the save
        return None


def _exif_without_sub_ifds(exif: bytes) -> Optional[bytes]:
    parsed = Image.Exif()
    parsed.load(exif)
    for tag in (0x8769, 0x8825):
        parsed.pop(tag, None)
    return parsed.tobytes() if len(parsed) else None


_PARTIAL_PREFIX, _PARTIAL_SUFFIX = ".colorizer-", ".partial"
#: A save holds an exclusive lock on its temp file while it writes it (POSIX),
#: so an unlocked one was left by a run that was killed (Ctrl+C twice, kill -9,
#: power cut). The few seconds of grace cover the instant between creating the
#: file and locking it.
STALE_PARTIAL_S = 5.0

try:
    import fcntl as _fcntl
except ImportError:  # Windows: an open file cannot be deleted, which protects it instead
    _fcntl = None  # type: ignore[assignment]


def _lock_partial(fd: int) -> None:
    """Mark a temp file as being written (released when ``fd`` is closed)."""
    if _fcntl is not None:
        try:
            _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
        except OSError:  # a file system without locks: the age rule alone protects it
            pass


def _being_written(path: str) -> bool:
    """True when a live save holds ``path``'s lock."""
    if _fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True  # cannot tell: leave it alone
    try:
        _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def remove_stale_partials(folder: Path, older_than_s: float = STALE_PARTIAL_S) -> int:
    """Delete the hidden temp files of saves a killed run left in ``folder``.

    Only ``.colorizer-*.partial`` files that no running save holds locked (and
    that are at least ``older_than_s`` seconds old) go, so a save in progress
    here or in another window is never disturbed. Returns how many were
    removed; a folder that cannot be read or changed is left as is."""
    removed = 0
    cutoff = time.time() - older_than_s
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(_PARTIAL_PREFIX) and name.endswith(_PARTIAL_SUFFIX)):
            continue
        try:
            if (entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff
                    and not _being_written(entry.path)):
                os.unlink(entry.path)  # on Windows this fails for a file still open: kept
                removed += 1
        except OSError:
            pass
    return removed


def save_photo(rgb: np.ndarray, dest: Path, like: Photo, quality: int = 95, *, scratch: bool = False,
               half_res_chroma: bool = False, bgr: bool = False) -> Path:
    """Save ``rgb`` ((H, W, 3) uint8 or uint16) as ``dest``; return the path written.

    The format comes from dest's extension. Kept from ``like``: alpha (PNG, TIFF,
    WebP; JPEG and BMP drop it), EXIF with orientation 1, an RGB ICC profile (gray
    or CMYK profiles do not fit an RGB output and are dropped), dpi. JPEG: quality
    ``quality``, 4:4:4, or 4:2:0 with ``half_res_chroma`` (for pixels whose colour
    carries no detail finer than two pixels, such as a colorization's: faster to
    encode and about 20% smaller, at no visible cost). PNG: lossless. WebP: lossless when the source was, else
    ``quality``. TIFF: the source's lossless compression, else LZW. 16-bit pixels
    stay 16-bit in PNG and TIFF (written by OpenCV: a 16-bit PNG keeps ICC, EXIF
    and dpi, a 16-bit TIFF keeps dpi only); JPEG, WebP and BMP get 8 bits.

    The data goes to a hidden ``.*.partial`` file in dest's folder (created if
    missing), is fsynced, then hard-linked into place, which fails rather than
    overwrite. If ``dest`` exists (or appears meanwhile), the next free name
    ``<stem>-2<ext>``, ``-3``, ... is used instead and returned: nothing is ever
    overwritten. A compressed 8-bit TIFF keeps the main EXIF tags (camera,
    date, artist, ...) but not the Exif/GPS sub-IFDs, which Pillow's libtiff
    writer cannot store; an uncompressed TIFF keeps them. ``scratch=True`` lets a 16-bit
    save reorder ``rgb``'s channels in place instead of copying it (pass it only for
    an array nobody uses afterwards). ``bgr=True``: the pixels are in OpenCV's BGR
    order, which JPEG and 16-bit files (encoded by OpenCV) take as they are, saving
    a swap of the whole photo. Raises ``PhotoError`` with a plain message on failure, leaving
    no temp file behind; ``ValueError`` for pixels of the wrong shape or type.
    """
    dest = Path(dest)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"save_photo needs (H, W, 3) uint8 or uint16 pixels, got {rgb.shape} {rgb.dtype}")
    fmt = _format_for_dest(dest)
    alpha = like.alpha if like.alpha is not None and like.alpha.shape == rgb.shape[:2] else None
    if fmt in ("JPEG", "BMP"):
        alpha = None
    sixteen = rgb.dtype == np.uint16 and fmt in ("PNG", "TIFF")
    if not sixteen:
        rgb = _to_uint8(rgb)
    if alpha is not None:
        alpha = _to_uint16(alpha) if sixteen else _to_uint8(alpha)
    if bgr and not _opencv_encodes(fmt, sixteen):  # Pillow's encoders take RGB
        rgb = cv2.cvtColor(rgb, cv2.COLOR_BGR2RGB, dst=rgb if scratch and rgb.flags.writeable else None)
        bgr = False
    exif = _exif_for_output(like.exif)
    icc = like.icc_profile if like.icc_profile and _icc_colour_space(like.icc_profile) == "RGB" else None
    dpi = like.info.get("dpi")

    folder = dest.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(exc, dest) from None
    tmp = folder / f"{_PARTIAL_PREFIX}{secrets.token_hex(6)}{_PARTIAL_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        _lock_partial(fd)  # tells remove_stale_partials this save is alive
        with os.fdopen(fd, "wb") as fh:
            if sixteen:
                for part in _encode_16bit(rgb, alpha, fmt, like, exif, icc, dpi, scratch, bgr):
                    fh.write(part)
            elif fmt == "JPEG":
                for part in _encode_jpeg(rgb, quality, exif, icc, dpi, scratch, half_res_chroma, bgr):
                    fh.write(part)
            else:
                _encode_with_pillow(fh, rgb, alpha, fmt, like, quality, exif, icc, dpi)
            fh.flush()
            os.fsync(fh.fileno())
        final = _publish(tmp, dest)
    except PhotoError:
        _remove_quietly(tmp)
        raise
    except OSError as exc:
        _remove_quietly(tmp)
        raise _write_error(exc, dest) from None
    except MemoryError:
        _remove_quietly(tmp)
        raise PhotoError(f"cannot save {dest.name}: not enough memory") from None
    except (ValueError, TypeError, struct.error, cv2.error) as exc:
        _remove_quietly(tmp)
        raise PhotoError(f"cannot save {dest.name} as {fmt}: {exc}") from None
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_folder(folder)
    return final


def _encode_with_pillow(fh: Any, rgb: np.ndarray, alpha: Optional[np.ndarray], fmt: str, like: Photo,
                        quality: int, exif: Optional[bytes], icc: Optional[bytes], dpi: Any) -> None:
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
    elif fmt == "TIFF":
        compression = like.info.get("compression")
        params["compression"] = compression if compression in _TIFF_KEEP_COMPRESSION else "tiff_lzw"
        if exif and params["compression"] != "raw":
            # Pillow's libtiff writer cannot write EXIF sub-IFDs: keep the main tags.
            params["exif"] = _exif_without_sub_ifds(exif)
    elif fmt == "WEBP":
        if like.info.get("lossless"):
            params.update(lossless=True, quality=100, method=4)
        else:
            params.update(quality=int(quality), method=4)
    image.save(fh, format=fmt, **params)


def _encode_jpeg(rgb: np.ndarray, quality: int, exif: Optional[bytes], icc: Optional[bytes], dpi: Any,
                 scratch: bool, half_res_chroma: bool, bgr: bool = False) -> tuple[Any, ...]:
    """Encode 8-bit RGB as JPEG with OpenCV (libjpeg-turbo, as Pillow uses).

    OpenCV encodes straight from the array, where Pillow first copies a big photo
    into its own image (about 30 ms for 12 MP). No Huffman optimisation: that extra
    pass more than doubles the encode time for files only about 4% smaller.
    ``bgr``: ``rgb`` is already in OpenCV's order (no swap: 15 ms on 12 MP)."""
    in_place = scratch and rgb.flags.c_contiguous and rgb.flags.writeable
    if bgr:
        pixels = np.ascontiguousarray(rgb)
    elif in_place:
        pixels = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR, dst=rgb)
    else:
        pixels = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    sampling = cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420 if half_res_chroma else cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling]
    kinds, blobs = [], []
    if exif:
        kinds.append(cv2.IMAGE_METADATA_EXIF)  # OpenCV adds the "Exif\0\0" header itself
        blobs.append(np.frombuffer(exif[6:] if exif.startswith(b"Exif\x00\x00") else exif, np.uint8))
    if icc:
        kinds.append(cv2.IMAGE_METADATA_ICCP)
        blobs.append(np.frombuffer(icc, np.uint8))
    if kinds:
        ok, buf = cv2.imencodeWithMetadata(".jpg", pixels, kinds, blobs, params)
    else:
        ok, buf = cv2.imencode(".jpg", pixels, params)
    if not ok:
        raise ValueError("OpenCV could not encode the JPEG")
    data = memoryview(buf).cast("B")
    if not dpi:
        return (data,)
    return (data[:2], _jfif_segment(dpi), _after_jfif_segment(data))


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
                  is_bgr: bool = False) -> tuple[Any, ...]:
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
        return _png_add_chunks(memoryview(buf).cast("B"), exif, icc, dpi)
    compression = _CV2_TIFF_COMPRESSION.get(like.info.get("compression"), 5)
    params = [cv2.IMWRITE_TIFF_COMPRESSION, compression]
    if dpi:
        params += [cv2.IMWRITE_TIFF_RESUNIT, 2, cv2.IMWRITE_TIFF_XDPI, int(round(float(dpi[0]))),
                   cv2.IMWRITE_TIFF_YDPI, int(round(float(dpi[1])))]
    ok, buf = cv2.imencode(".tiff", bgr, params)
    if not ok:
        raise ValueError("OpenCV could not encode the TIFF")
    return (memoryview(buf).cast("B"),)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_add_chunks(png: Any, exif: Optional[bytes], icc: Optional[bytes], dpi: Any) -> tuple[Any, ...]:
    """Insert iCCP, eXIf and pHYs chunks right after IHDR (they must precede IDAT).

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
    return (png[:ihdr_end], extra, png[ihdr_end:])


def _next_name(dest: Path, counter: int) -> Path:
    return dest.parent / _fit_name(dest.stem, f"-{counter}", dest.suffix)


def _publish(tmp: Path, dest: Path) -> Path:
    """Move the finished temp file to ``dest`` (or the next free counter name) without
    ever replacing an existing file; return where it went."""
    candidate = dest
    for counter in range(2, 100_000):
        try:
            os.link(tmp, candidate)  # atomic, and fails if candidate exists
        except FileExistsError:
            candidate = _next_name(dest, counter)
            continue
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.ENAMETOOLONG, getattr(errno, "EDQUOT", -1)):
                raise
            # No hard links on this file system (FAT, exFAT, some network
            # shares): check, then rename. On Windows os.rename never replaces.
            if os.path.lexists(candidate):
                candidate = _next_name(dest, counter)
                continue
            (os.rename if os.name == "nt" else os.replace)(tmp, candidate)
            return candidate
        _remove_quietly(tmp)
        return candidate
    raise PhotoError(f"cannot find a free file name for {dest.name} in {dest.parent}")


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_folder(folder: Path) -> None:
    """Make the new directory entry durable too (POSIX only; best effort)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_error(exc: OSError, dest: Path) -> PhotoError:
    folder = dest.parent
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return PhotoError(f"cannot save {dest.name} in {folder}: the disk is full")
    if code == errno.EROFS:
        return PhotoError(f"cannot write to {folder}: the folder is read-only")
    if code in (errno.EACCES, errno.EPERM):
        return PhotoError(f"cannot write to {folder}: permission denied")
    if code == errno.ENOENT:
        return PhotoError(f"cannot write to {folder}: the folder does not exist")
    if code == errno.ENAMETOOLONG:
        return PhotoError(f"cannot save {dest.name} in {folder}: the file name is too long")
    return PhotoError(f"cannot save {dest.name} in {folder}: {exc.strerror or exc}")


# --------------------------------------------------------------------------- finding

def _is_hidden(entry: os.DirEntry) -> bool:
    if entry.name.startswith("."):
        return True
    if os.name != "nt":
        return False
    attributes = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _identity(path: Path) -> tuple:
    try:
        st = path.stat()
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", os.path.normcase(os.path.abspath(path)))


def find_photos(paths: Iterable[Path], recursive: bool = True) -> list[Path]:
    """Expand files and folders into the list of photos to colorize.

    Folders are walked (recursively unless ``recursive`` is False) in sorted
    order, keeping files with a supported extension and skipping hidden files
    and folders. Files named explicitly are kept whatever their extension (or
    even when missing), so the user gets an error message rather than silence.
    Duplicates are removed; symlinked folders are followed but never twice, so a
    link loop cannot trap the walk.
    """
    found: list[Path] = []
    seen: set[tuple] = set()
    visited_dirs: set[tuple] = set()

    def add(path: Path) -> None:
        key = _identity(path)
        if key not in seen:
            seen.add(key)
            found.append(path)

    def walk(folder: Path, depth: int) -> None:
        key = _identity(folder)
        if key in visited_dirs:
            return
        visited_dirs.add(key)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: (e.name.casefold(), e.name))
        except OSError:
            return  # an unreadable sub-folder is skipped, the rest still counts
        subfolders = []
        for entry in entries:
            try:
                if _is_hidden(entry):
                    continue
                if entry.is_dir():
                    subfolders.append(Path(entry.path))
                elif entry.is_file() and is_photo_file(entry.name):
                    add(Path(entry.path))
            except OSError:
                continue
        if recursive:
            for sub in subfolders:
                walk(sub, depth + 1)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            walk(path, 0)
        else:
            add(path)
    return found
