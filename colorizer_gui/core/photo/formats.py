"""Which files are photos, and the one allow-list of decoders.

Extensions Colorizer reads (and those it recognises but refuses: camera RAW,
AVIF/HEIC without their codec), magic-byte sniffing, and ``open_allowed``, the
only way any image is handed to Pillow: the single plugin the bytes name.
"""
from __future__ import annotations

import importlib.util
import os
import stat
import struct
from pathlib import Path
from typing import Any, Optional

from PIL import Image

from .model import PhotoError


DEFAULT_MAX_PIXELS = 250_000_000


# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that. Raise its
# limit to our default (never lower it, never disable it): load_photo itself
# refuses anything above the caller's max_pixels before decoding.
if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < DEFAULT_MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS


_HEIF_EXTENSIONS = frozenset({".heic", ".heif"})


_HEIF_AVAILABLE = importlib.util.find_spec("pillow_heif") is not None


_heif_registered = False


# AVIF is read when this Pillow was built with libavif (the PyPI wheels of Pillow
# 11.3 and later are); the copy is saved as PNG, as for HEIC.
_AVIF_AVAILABLE = importlib.util.find_spec("PIL._avif") is not None


#: Archive formats: JPEG 2000 (national libraries and archives deliver scans so)
#: and netpbm (scanner exports, 8 or 16 bits).
_JPEG2000_EXTENSIONS = frozenset({".jp2", ".j2k", ".j2c", ".jpf", ".jpx"})


_NETPBM_EXTENSIONS = frozenset({".pgm", ".ppm", ".pnm", ".pbm"})


SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif"} | _JPEG2000_EXTENSIONS | _NETPBM_EXTENSIONS
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
# JPEG plugin itself; a GIF gives its first frame. A BigTIFF is a "TIFF" here and
# is read by tifffile (see decode), JPEG 2000 by Pillow's OpenJPEG plugin, netpbm
# by Pillow's PPM plugin (16-bit ones by decode itself).
ALLOWED_FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "WEBP", "GIF", "HEIF", "AVIF", "JPEG2000", "PPM")


#: First bytes of a BigTIFF (TIFF with 64-bit offsets, for files over 4 GB).
BIGTIFF_MAGIC = (b"II+\x00", b"MM\x00+")


_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


_J2K_CODESTREAM = b"\xff\x4f\xff\x51"


def is_bigtiff(head: bytes) -> bool:
    """True when ``head`` starts a BigTIFF."""
    return head[:4] in BIGTIFF_MAGIC


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
    if head[:4] in (b"II*\x00", b"MM\x00*") or is_bigtiff(head):
        return "TIFF"
    if head.startswith(_JP2_SIGNATURE) or head.startswith(_J2K_CODESTREAM):
        return "JPEG2000"
    if len(head) > 2 and head[:1] == b"P" and head[1:2] in b"123456" and head[2:3].isspace():
        return "PPM"
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
