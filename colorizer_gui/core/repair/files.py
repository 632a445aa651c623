"""Repair photo files: the one way a photo is repaired and saved, for the
``repair`` command, ``colorize --repair``, the window's Save and the benches.

A repaired copy is ``<stem>_repaired.<ext>`` (the colour copies' naming rules:
never over a file, the same format family, EXIF, ICC and dpi kept), recording in
its provenance that it was repaired. ``--save-mask`` writes the damage mask,
``<copy stem>_mask.png``, beside the copy.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from .. import provenance
from ..atomic import atomic_write
from ..photo import (Photo, PhotoError, load_photo, make_folders, output_path, record_output, save_photo,
                     saves_bgr)
from . import Detector, RepairResult, RepairSettings, repair_pixels
from .edits import RepairEditsError, edits_for

log = logging.getLogger(__name__)

#: The name a repaired copy's stem gets.
REPAIRED_SUFFIX = "_repaired"
#: Added to a copy's stem for its damage mask.
MASK_SUFFIX = "_mask"
#: The folder made beside each photo when ``repair`` is given no output folder.
DEFAULT_REPAIR_OUT_NAME = "repaired"


def brush_masks(src: Path, height: int, width: int) -> tuple[Optional[np.ndarray], Optional[np.ndarray], str]:
    """(add, remove, note): the user's brush strokes for ``src`` from its sidecar
    (``core.repair.edits``), as masks of the photo's size; a bad sidecar gives no
    masks and a note for the user."""
    try:
        edits = edits_for(Path(src))
    except RepairEditsError as err:  # a corrupt or hostile sidecar never stops a photo
        return None, None, f"{err}; repaired without the brush strokes"
    if edits is None:
        return None, None, ""
    add, remove = edits.masks(height, width)
    return add, remove, ""


def settings_text(settings: RepairSettings) -> str:
    """How a copy was repaired, for its provenance."""
    return f"sensitivity={settings.sensitivity:g}; contrast={'on' if settings.restore_contrast else 'off'}"


def repair_photo(photo: Photo, settings: RepairSettings, use_edits: bool = True,
                 detector: Optional[Detector] = None) -> tuple[Photo, RepairResult, str]:
    """(the photo with its pixels repaired, the repair, a note for the user or "").
    The brush strokes saved for the photo are used unless ``use_edits`` is False;
    ``detector``: another damage detector than the classical one (the learned one)."""
    add = remove = None
    note = ""
    if use_edits:
        add, remove, note = brush_masks(photo.path, photo.height, photo.width)
    result = repair_pixels(photo.pixels, settings, add, remove, detector)
    return dataclasses.replace(photo, pixels=result.pixels), result, note


def save_mask(mask: np.ndarray, copy: Path) -> Path:
    """Write ``mask`` (bool HxW) as ``<copy stem>_mask.png`` beside ``copy``
    (white = painted out), atomically and never over a file; return its path."""
    ok, data = cv2.imencode(".png", mask.astype(np.uint8) * 255)
    if not ok:
        raise PhotoError(f"cannot encode the damage mask for {copy.name}")
    dest = output_path(copy, copy.parent, "PNG", suffix=MASK_SUFFIX, ext=".png")
    record_output(dest)  # before it appears: a later run must not take it for a photo
    try:
        written = atomic_write(dest, lambda tmp: Path(tmp).write_bytes(data.tobytes()), overwrite=False)
    except OSError as err:
        raise PhotoError(f"cannot save the damage mask {dest.name}: {err.strerror or err}") from err
    if written != dest:
        record_output(written)
    return written


def as_rgb(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) pixels for ``save_photo`` (which writes RGB files): a gray photo's
    plane repeated, so the copy looks exactly as the gray original."""
    # cvtColor repeats a 12 MP plane about 5x faster than np.repeat.
    return cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB) if pixels.ndim == 2 else pixels[:, :, :3]


@dataclasses.dataclass(frozen=True)
class RepairedCopy:
    """A repaired copy written by ``save_repaired_copy``."""

    path: Path
    mask_path: Optional[Path] = None
    damaged_share: float = 0.0         # of the photo's pixels, painted out
    notes: tuple[str, ...] = ()        # how the photo was read, a bad brush sidecar


def save_repaired_copy(src: Path, out_dir: Path, settings: RepairSettings = RepairSettings(),
                       save_damage_mask: bool = False, use_edits: bool = True,
                       detector: Optional[Detector] = None) -> RepairedCopy:
    """Load ``src``, repair it and save ``out_dir/<stem>_repaired.<ext>``. Raises
    ``PhotoError`` for an unreadable photo or an unwritable folder; the original
    is only ever opened for reading."""
    photo = load_photo(Path(src))
    repaired, result, note = repair_photo(photo, settings, use_edits, detector)
    notes = tuple(photo.notes) + ((note,) if note else ())
    try:
        make_folders(Path(out_dir))
    except OSError as err:
        raise PhotoError(f"Cannot create the output folder {out_dir}: {err.strerror or err}") from err
    dest = output_path(photo.path, Path(out_dir), photo.format, suffix=REPAIRED_SUFFIX)
    made_by = provenance.for_repair(settings_text(settings))
    record_output(dest)  # before the file appears (see pipeline.save_colorized)
    gray = repaired.pixels.ndim == 2
    # A gray photo's three equal planes carry no chroma: 4:2:0 loses nothing, and
    # their order does not matter, so the encoder takes them as they are.
    written = save_photo(as_rgb(repaired.pixels), dest, like=photo, scratch=True, half_res_chroma=gray,
                         bgr=gray and saves_bgr(photo),
                         xmp=made_by.xmp(photo.path, page=photo.info.get("page", "")),
                         software=made_by.software)
    if written != dest:
        record_output(written)
    mask_path = save_mask(result.mask, written) if save_damage_mask else None
    return RepairedCopy(written, mask_path, float(result.mask.mean()), notes)
