"""Photo I/O: load any photo a family scans or receives; save colour copies safely.

One module per job; every public name is importable from here, as before:

- ``formats``: which files are photos, magic-byte sniffing, ``open_allowed``
  (the one allow-list of decoders);
- ``decode`` (with ``pixels``): ``load_photo`` / ``load_rgb8``: orientation,
  bit depth, pages, damaged and hostile files; its helpers: ``tiff_pages``
  (multi-page and pyramid TIFFs, ``count_pages``), ``metadata`` (EXIF, dpi, ...),
  ``png_chunks`` (bad optional PNG chunks), ``bigtiff``, ``netpbm`` (16-bit);
- ``already_color``: ``looks_color``, "is this already colour";
- ``naming``: ``output_path`` and the ``.colorizer-copies`` marker;
- ``encode`` and ``save``: ``save_photo``, atomic, with its partial files and locks;
- ``finding``: ``find_photos`` in files and folders.

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

from .already_color import looks_color
from .decode import load_photo, load_reduced, load_rgb8, photo_pixel_count
from .finding import count_readable_photos, find_photos
from .formats import (ALLOWED_FORMATS, DEFAULT_MAX_PIXELS, RAW_EXTENSIONS, SUPPORTED_EXTENSIONS,
                      UNSUPPORTED_PHOTO_EXTENSIONS, has_photo_signature, is_photo_file, open_allowed, read_head,
                      sniff_format, unsupported_format_reason)
from .model import Photo, PhotoError
from .naming import (OUTPUT_MARKER, copy_name, display_name, output_extension, output_path, record_output,
                     recorded_outputs, saves_bgr, saves_lossy)
from .save import (STALE_PARTIAL_S, make_folders, new_partial_path, publish_partial, remove_stale_partials,
                   save_photo)
from .tiff_pages import count_pages

__all__ = [
    "ALLOWED_FORMATS", "DEFAULT_MAX_PIXELS", "OUTPUT_MARKER", "RAW_EXTENSIONS", "STALE_PARTIAL_S",
    "SUPPORTED_EXTENSIONS", "UNSUPPORTED_PHOTO_EXTENSIONS", "Photo", "PhotoError", "copy_name", "count_pages",
    "count_readable_photos", "display_name", "find_photos", "has_photo_signature", "is_photo_file",
    "load_photo", "load_reduced", "load_rgb8", "looks_color", "make_folders", "new_partial_path", "open_allowed",
    "output_extension", "output_path", "photo_pixel_count", "publish_partial", "read_head", "record_output",
    "recorded_outputs", "remove_stale_partials", "save_photo", "saves_bgr", "saves_lossy", "sniff_format",
    "unsupported_format_reason",
]
