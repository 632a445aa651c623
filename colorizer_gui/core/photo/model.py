"""The decoded photo and the one error every photo job raises.

``Photo`` is what decoding produces and what saving copies metadata from;
``PhotoError`` carries a message meant for the user.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..errors import UserError


class PhotoError(UserError):
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
    is_color: bool = False
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
