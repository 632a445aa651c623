"""Photo I/O: load any photo a family scans or receives; save colour copies safely.

CONTRACT (the pipeline, batch, GUI and tests rely on it; implementation to come):

- ``Photo`` holds the decoded pixels with EXIF orientation applied.
- ``load_photo(path)`` never opens the file for writing; raises ``PhotoError``
  with a plain-language message for anything it cannot read.
- ``save_photo(rgb, dest, like)`` writes to a temp file in dest's folder then
  renames it into place; never overwrites an existing file.
- ``output_path(src, out_dir)`` gives ``out_dir/<stem>_color.<ext>``, adding a
  counter instead of overwriting.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np


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
