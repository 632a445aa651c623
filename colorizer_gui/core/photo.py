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
from typing import Any, Callable, Iterable, Optional

import cv2
import numpy as np
from PIL import Image, ImageCms, PngImagePlugin, TiffImagePlugin, TiffTags, UnidentifiedImageError

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
    ``info``: other hints for saving (dpi, ...). ``notes``: things the user should
    be told about how the photo was read (which page of several, a damaged
    optional chunk that was ignored); empty for an ordinary photo.
    """

    path: Path
    pixels: np.ndarray
    format: str
    alpha: Optional[np.ndarray] = None
    exif: Optional[bytes] = None
    icc_profile: Optional[bytes] = None
    is_colour: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

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

# AVIF is read when this Pillow was built with libavif (the PyPI wheels of Pillow
# 11.3 and later are); the copy is saved as PNG, as for HEIC.
_AVIF_AVAILABLE = importlib.util.find_spec("PIL._avif") is not None

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif"}
    | (_HEIF_EXTENSIONS if _HEIF_AVAILABLE else frozenset())
    | ({".avif"} if _AVIF_AVAILABLE else frozenset())
)

#: Camera RAW files: photos, but sensor data that needs a RAW developer first.
#: Most are TIFF-shaped, so Pillow would "open" their small preview or fail on
#: the sensor data; they are refused by name (and by signature for CR2/CR3/DNG).
RAW_EXTENSIONS: frozenset[str] = frozenset(
    {".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".dng", ".raf", ".orf",
     ".rw2", ".pef", ".srw", ".x3f", ".3fr", ".erf", ".kdc", ".mos", ".mrw", ".iiq", ".rwl"}
)
#: Photo formats Colorizer recognises but cannot read here: a folder walk reports
#: them (as skipped, with the reason) instead of passing over them in silence.
UNSUPPORTED_PHOTO_EXTENSIONS: frozenset[str] = RAW_EXTENSIONS | (
    frozenset() if _AVIF_AVAILABLE else frozenset({".avif"})) | (
    frozenset() if _HEIF_AVAILABLE else _HEIF_EXTENSIONS)

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


def unsupported_format_reason(path: Path | str, head: bytes = b"") -> Optional[str]:
    """Why a photo in a format Colorizer cannot read is refused ("this format is not
    supported ..."), from its extension or its first bytes; None for any other file."""
    suffix = Path(path).suffix.lower()
    is_tiff = head[:4] in (b"II*\x00", b"MM\x00*")
    if suffix in RAW_EXTENSIONS or (is_tiff and head[8:10] == b"CR") or head[4:12] == b"ftypcrx ":
        return ("this format is not supported (camera RAW: export a TIFF or JPEG from your "
                "camera's or a photo program first)")
    if (suffix == ".avif" or head[4:12] in (b"ftypavif", b"ftypavis")) and not _AVIF_AVAILABLE:
        return "this format is not supported (AVIF needs a Pillow built with AVIF; save it as PNG or JPEG first)"
    return None


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
    unsupported = unsupported_format_reason(path, head)
    if unsupported:
        raise PhotoError(f"{name}: {unsupported}")
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
        exif, orientation = _read_exif(im)
        icc = im.info.get("icc_profile") or None
        try:
            if use_opencv:
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

    return _finish_photo(path, fmt, pixels, alpha, orientation, exif, icc, icc_used, info, notes)


def _finish_photo(path: Path, fmt: str, pixels: np.ndarray, alpha: Optional[np.ndarray], orientation: int,
                  exif: Optional[bytes], icc: Optional[bytes], icc_used: bool, info: dict[str, Any],
                  notes: list[str]) -> Photo:
    """Turn decoded pixels upright and wrap them, with what saving needs, in a Photo."""
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
        notes=notes,
    )


#: Formats whose pixels OpenCV 4.x (pinned in requirements.txt) returns upright
#: even with IMREAD_UNCHANGED: its TIFF decoder applies the Orientation tag,
#: its PNG decoder ignores eXIf. tests/test_photo.py checks both assumptions.
_OPENCV_TURNS_UPRIGHT = frozenset({"TIFF"})
_DNG_VERSION = 50706
_BITS_PER_SAMPLE, _SAMPLE_FORMAT = 258, 339


def _orientation_of(im: Image.Image) -> int:
    """The EXIF orientation still to apply to ``im``'s decoded pixels (1 = none)."""
    try:
        value = im.getexif().get(_ORIENTATION, 1)
    except Exception:  # corrupt EXIF: leave the pixels as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


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


def _decode_with_opencv(data: bytes, name: str, gray: bool, page: int = 0) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """Decode a 16-bit PNG/TIFF (page ``page`` of a multi-page TIFF) keeping 16 bits
    and alpha. IMREAD_UNCHANGED ignores a PNG's eXIf orientation (the caller
    applies it) but not a TIFF's Orientation tag (see _OPENCV_TURNS_UPRIGHT)."""
    buf = np.frombuffer(data, np.uint8)
    if page:
        ok, mats = cv2.imdecodemulti(buf, cv2.IMREAD_UNCHANGED, range=(page, page + 1))
        arr = mats[0] if ok and mats else None
    else:
        arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
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


def _pixels_from_pillow(im: Image.Image, icc: Optional[bytes],
                       tiff_layout: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, Optional[np.ndarray], bool]:
    """Decode a loaded Pillow image to (pixels, alpha, ICC consumed by a conversion).

    ``tiff_layout``: a TIFF's (bits per sample, SampleFormat), which Pillow's mode
    hides: a 12-bit scan arrives as I;16 holding 0..4095, and a 32-bit unsigned
    one as signed mode I; both are scaled by the file's real depth."""
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
        return _scale_to_16_bits(np.asarray(im).astype(np.uint16), tiff_layout[0]), None, False
    elif mode == "I" and tiff_layout == (32, 1):
        # Pillow holds 32-bit unsigned samples as signed int32, so the upper half
        # of the tones wraps negative (an inverted picture): reinterpret them and
        # keep the top 16 of the file's 32 bits. (Signed ones go below, as before.)
        return (np.asarray(im).view(np.uint32) >> 16).astype(np.uint16), None, False
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


def _scale_to_16_bits(arr: np.ndarray, bits: int) -> np.ndarray:
    """Stretch uint16 samples of a ``bits``-deep file (9-15: film scanners often
    write 12) to the full 16-bit range; other depths are returned as they are."""
    if not 8 < bits < 16:
        return arr
    top = (1 << bits) - 1
    return ((np.minimum(arr, top).astype(np.uint32) * 65535 + top // 2) // top).astype(np.uint16)


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


def display_name(text: str) -> str:
    """A file name as a person should see it, whatever bytes it was made of:
    undecodable bytes (a Latin-1 name on a UTF-8 system) become their Latin-1
    letters when that is what they are, else ``\\xNN``; never ``?``, never a crash."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    raw = os.fsencode(text) if os.name != "nt" else text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        latin = raw.decode("cp1252")
        if all(ch.isprintable() for ch in latin):
            return latin
    except UnicodeDecodeError:
        pass
    return raw.decode("utf-8", "backslashreplace")



def _safe_component(text: str) -> str:
    """Make ``text`` usable inside one file name on any OS: no separators, control
    characters or characters Windows forbids, no leading dots or spaces. A name in
    another encoding (Latin-1 bytes on a UTF-8 system) keeps its letters."""
    text = display_name(text).encode("utf-8", "replace").decode("utf-8")
    text = _UNSAFE_NAME_CHARS.sub("_", _CONTROL_CHARS.sub("", text))
    return text.lstrip(" .").rstrip()


def _fit_name(stem: str, tail: str, ext: str) -> str:
    """``stem + tail + ext``, shortening the stem so the name fits in 255 UTF-8 bytes."""
    budget = _NAME_MAX_BYTES - len((tail + ext).encode("utf-8"))
    raw = stem.encode("utf-8")
    if len(raw) > budget:
        stem = raw[:max(budget, 0)].decode("utf-8", "ignore").rstrip(" .")
    return f"{stem or 'photo'}{tail}{ext}"


def output_path(src: Path, out_dir: Path, fmt: str, suffix: str = "_color", ext: Optional[str] = None) -> Path:
    """``out_dir/<stem><suffix><ext>``, or ``<stem><suffix>-2<ext>``, ``-3``, ... when taken.

    ``ext``: the extension to use (videos: ``.mp4``); by default the one
    ``output_extension`` picks for the photo format ``fmt``. Never returns an existing path. The stem is made safe (no separators, no
    '..', no control characters) and shortened so the name fits the usual
    255-byte limit; the result is always directly inside ``out_dir``.
    """
    src = Path(src)
    out_dir = Path(out_dir)
    # The name as this OS splits paths: on Linux and macOS a backslash is an
    # ordinary character ("back\\slash.jpg" -> "back_slash_color.jpg").
    raw_name = src.name or str(src)
    stem = _safe_component(Path(raw_name).stem if raw_name not in (".", "..") else "") or "photo"
    ext = ext or output_extension(fmt, src)
    safe_suffix = _UNSAFE_NAME_CHARS.sub("_", _CONTROL_CHARS.sub("", suffix))
    for counter in range(1, 1_000_000):
        tail = safe_suffix if counter == 1 else f"{safe_suffix}-{counter}"
        candidate = out_dir / _fit_name(stem, tail, ext)
        if not os.path.lexists(candidate):
            return candidate
    raise PhotoError(f"cannot find a free file name for {raw_name} in {out_dir}")


# --------------------------------------------------------------------------- our own copies

#: A hidden file in every folder Colorizer writes copies into, listing the names
#: it wrote there, one a line. A later run skips exactly those files, never the
#: user's own (a folder of theirs named "colorized", originals named *_color.jpg).
OUTPUT_MARKER = ".colorizer-copies"
_MARKER_HEADER = "# Colour copies written here by Colorizer (one name a line); safe to delete.\n"


def record_output(path: Path) -> None:
    """Add ``path``'s name to its folder's marker file (best effort: a folder that
    cannot take it only loses the skip hint, never the copy)."""
    marker = Path(path).parent / OUTPUT_MARKER
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0), 0o644)
        with os.fdopen(fd, "ab") as fh:
            if fh.tell() == 0:
                fh.write(_MARKER_HEADER.encode())
            # One write per line: appends from two writer threads never interleave.
            fh.write(os.fsencode(Path(path).name) + b"\n")
    except OSError:
        pass


def recorded_outputs(folder: Path) -> frozenset[str]:
    """The names Colorizer recorded writing in ``folder`` (empty when none)."""
    try:
        data = (Path(folder) / OUTPUT_MARKER).read_bytes()
    except OSError:
        return frozenset()
    return frozenset(os.fsdecode(line) for line in data.splitlines() if line and not line.startswith(b"#"))


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


def make_folders(folder: Path) -> None:
    """``folder`` and any missing parents, made one by one from the top: unlike
    ``Path.mkdir(parents=True)`` and ``os.makedirs``, which recurse once per missing
    level, a copy of a thousand-level-deep folder tree is no problem."""
    folder = Path(folder)
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            if not path.is_dir():
                raise


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


def new_partial_path(folder: Path, kind: str = "") -> Path:
    """A fresh hidden temp-file name in ``folder`` for an atomic write (``publish_partial``).

    ``kind`` goes into the name (``.colorizer-<kind>-<random>.partial``) so a
    clean-up can tell long writes (videos, which hold a lock) from photo saves."""
    tag = f"{kind}-" if kind else ""
    return Path(folder) / f"{_PARTIAL_PREFIX}{tag}{secrets.token_hex(6)}{_PARTIAL_SUFFIX}"


def publish_partial(tmp: Path, dest: Path) -> Path:
    """Move the finished temp file ``tmp`` to ``dest``, or to the next free counter
    name (never replacing a file), durably; return where it went. Raises
    ``PhotoError`` with a plain message (the temp file is then removed)."""
    try:
        final = _publish(Path(tmp), Path(dest))
    except OSError as exc:
        _remove_quietly(Path(tmp))
        raise _write_error(exc, Path(dest)) from None
    _fsync_folder(Path(dest).parent)
    return final


def save_photo(rgb: np.ndarray, dest: Path, like: Photo, quality: int = 95, *, scratch: bool = False,
               half_res_chroma: bool = False, bgr: bool = False, xmp: Optional[bytes] = None,
               software: Optional[str] = None) -> Path:
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
    a swap of the whole photo. ``xmp``: an XMP packet to embed (JPEG, PNG, TIFF,
    WebP; see core/provenance.py); ``software``: the EXIF Software line (the
    original's other EXIF, its caption included, is kept as it was). Raises ``PhotoError`` with a plain message on failure, leaving
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
    exif = _exif_for_output(like.exif, software)
    icc = like.icc_profile if like.icc_profile and _icc_colour_space(like.icc_profile) == "RGB" else None
    dpi = like.info.get("dpi")

    folder = dest.parent
    try:
        make_folders(folder)
    except OSError as exc:
        raise _write_error(exc, dest) from None
    tmp = new_partial_path(folder)
    try:
        # Read-write: a TIFF gets its metadata added after the pixels are written.
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        _lock_partial(fd)  # tells remove_stale_partials this save is alive
        with os.fdopen(fd, "w+b") as fh:
            if sixteen:
                for part in _encode_16bit(rgb, alpha, fmt, like, exif, icc, dpi, scratch, bgr, xmp):
                    fh.write(part)
            elif fmt == "JPEG":
                for part in _encode_jpeg(rgb, quality, exif, icc, dpi, scratch, half_res_chroma, bgr, xmp):
                    fh.write(part)
            else:
                _encode_with_pillow(fh, rgb, alpha, fmt, like, quality, exif, icc, dpi, xmp)
            if fmt == "TIFF":
                _tiff_add_metadata(fh, exif, xmp, icc if sixteen else None)
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


def find_photos(paths: Iterable[Path], recursive: bool = True,
                accept: Callable[[str], bool] = is_photo_file,
                problems: Optional[list[tuple[Path, str]]] = None) -> list[Path]:
    """Expand files and folders into the list of photos to colorize.

    Folders are walked (recursively unless ``recursive`` is False) in sorted
    order, keeping files whose name ``accept`` takes (by default: a supported
    photo extension; the batch also takes videos) and skipping hidden files
    and folders. Files named explicitly are kept whatever their extension (or
    even when missing), so the user gets an error message rather than silence.
    Duplicates are removed; symlinked folders are followed but never twice, so a
    link loop cannot trap the walk. The walk keeps its own stack (no recursion),
    so a folder tree thousands of levels deep is walked like any other.

    ``problems`` (when given) receives (path, message) for what a folder holds
    but cannot be colorized: photos in a format Colorizer does not read (camera
    RAW, ...), photos whose path is too long to open, folders that cannot be read.
    """
    found: list[Path] = []
    seen: set[tuple] = set()
    visited_dirs: set[tuple] = set()

    def add(path: Path) -> None:
        key = _identity(path)
        if key not in seen:
            seen.add(key)
            found.append(path)

    def report(path: Path, message: str) -> None:
        if problems is not None:
            problems.append((path, message))

    def walk(top: Path) -> None:
        stack = [top]
        while stack:
            folder = stack.pop()
            key = _identity(folder)
            if key in visited_dirs:
                continue
            visited_dirs.add(key)
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: (e.name.casefold(), e.name))
            except OSError as exc:
                if exc.errno == errno.ENAMETOOLONG:
                    _report_too_long(folder, report)
                elif folder != top:
                    report(folder, f"this folder cannot be read ({exc.strerror or exc})")
                continue
            subfolders = []
            for entry in entries:
                try:
                    if _is_hidden(entry):
                        continue
                    if entry.is_dir():
                        subfolders.append(Path(entry.path))
                    elif entry.is_file():
                        if accept(entry.name):
                            add(Path(entry.path))
                        elif Path(entry.name).suffix.lower() in UNSUPPORTED_PHOTO_EXTENSIONS:
                            report(Path(entry.path), unsupported_format_reason(entry.name) or "")
                except OSError:
                    continue
            if recursive:
                stack.extend(reversed(subfolders))  # popped in sorted order

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            walk(path)
        else:
            add(path)
    return found


def _report_too_long(folder: Path, report: Any) -> None:
    """Name the photos inside a folder whose path is too long for the system to
    open (each is a failure the user must hear about). The folder is reached one
    name at a time through directory handles, which no path limit applies to."""
    message = (f"the path is too long to open ({{}} bytes; this system allows "
               f"{os.pathconf('/', 'PC_PATH_MAX') if hasattr(os, 'pathconf') else 260})")
    if os.name == "nt" or os.scandir not in getattr(os, "supports_fd", set()):
        report(folder, message.format(len(os.fsencode(folder))) + ": this folder and the photos in it")
        return
    parts = Path(folder).parts
    fds: list[int] = []
    try:
        fds.append(os.open(parts[0], os.O_RDONLY))
        for part in parts[1:]:
            fds.append(os.open(part, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0), dir_fd=fds[-1]))
        pending = [(fds[-1], Path(folder))]
        while pending:
            fd, here = pending.pop()
            with os.scandir(fd) as it:
                entries = sorted(it, key=lambda e: e.name)
            deeper = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    fds.append(os.open(entry.name, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0), dir_fd=fd))
                    deeper.append((fds[-1], here / entry.name))
                elif is_photo_file(entry.name):
                    report(here / entry.name, message.format(len(os.fsencode(here / entry.name))))
            pending.extend(reversed(deeper))
    except OSError as exc:
        report(folder, f"this folder cannot be read ({exc.strerror or exc})")
    finally:
        for fd in fds:
            os.close(fd)
