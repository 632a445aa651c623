"""The colour pipeline shared by every backend, the CLI, the GUI and the benches.

photo -> L (full resolution) -> L at the backend's render size -> backend predicts
ab -> ab upsampled bilinearly -> joined with the ORIGINAL L -> RGB of the photo's
own size and bit depth.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import cv2
import numpy as np

from . import color, provenance
from .hint_spread import spread_hints
from .hints import Hint, hint_planes
from .repair import Detector, RepairSettings
from .repair.files import repair_photo, settings_text
from .photo import Photo, load_photo, output_path, record_output, save_photo, saves_bgr, saves_lossy

if TYPE_CHECKING:  # the core depends on nothing of ours at run time
    from .backend_type import Backend


def predict_ab_for(lightness_full: np.ndarray, backend: "Backend",
                   render_size: Optional[int] = None, hints: Sequence[Hint] = ()) -> np.ndarray:
    """Run ``backend`` on the full-resolution L (``photo_lightness``) and return ab
    at the backend's size. ``hints`` reach backends that ``accepts_hints``."""
    small = render_lightness(lightness_full, backend, render_size)
    if hints and backend.accepts_hints:
        planes = hint_planes(hints, *small.shape[:2])
        ab = backend.predict_ab(small, planes)
        if ab.shape[:2] != small.shape[:2]:
            planes = hint_planes(hints, *ab.shape[:2])
        # The net takes the hints as input; spreading them over their regions makes
        # each one hold on its object at once (core/hint_spread.py).
        ab = spread_hints(ab, small, planes)
    else:
        ab = backend.predict_ab(small)
    # Colours sRGB cannot show at their lightness would clip and change the photo's L.
    at_ab = small if ab.shape[:2] == small.shape[:2] else cv2.resize(
        small, (ab.shape[1], ab.shape[0]), interpolation=cv2.INTER_AREA)
    return color.limit_chroma(ab, at_ab)


#: The smallest render size an out-of-memory retry goes down to.
MIN_RETRY_RENDER = 64


def is_out_of_memory(err: object) -> bool:
    """True for a ``MemoryError`` and for any error whose message says "out of memory"
    (CUDA's and PyTorch's CPU allocator's say so, whatever wrapped them). Torch's
    ``OutOfMemoryError`` is recognised by its name: the core does not import torch."""
    return (isinstance(err, MemoryError) or "out of memory" in str(err).lower()
            or type(err).__name__ == "OutOfMemoryError")


def smaller_render_size(lightness_full: np.ndarray, backend: "Backend",
                        render_size: Optional[int] = None) -> Optional[int]:
    """Half the render size (``render_size``, else the backend's own), in whole
    multiples of 32 and not below ``MIN_RETRY_RENDER``; None when that would not
    shrink what the backend is given (a fixed-size net, a size already at the floor)."""
    current = int(render_size or backend.default_render_size)
    half = max(MIN_RETRY_RENDER, (current // 2) // 32 * 32)
    if half >= current:
        return None
    height, width = lightness_full.shape[:2]
    before = backend.render_shape(height, width, render_size)
    after = backend.render_shape(height, width, half)
    return half if after[0] * after[1] < before[0] * before[1] else None


def predict_ab_or_smaller(lightness_full: np.ndarray, backend: "Backend", render_size: Optional[int] = None,
                          hints: Sequence[Hint] = ()) -> tuple[np.ndarray, Optional[int], str]:
    """``predict_ab_for``, retried once at half the render size when the backend runs
    out of memory (``is_out_of_memory``). Returns (ab, the render size used, a note
    for the user: "" unless it was retried). The CLI's batch and the app share it;
    a second out-of-memory error, or any other error, is raised as it is."""
    try:
        return predict_ab_for(lightness_full, backend, render_size, hints), render_size, ""
    except Exception as err:  # noqa: BLE001 - only out-of-memory is retried
        if not is_out_of_memory(err):
            raise
        smaller = smaller_render_size(lightness_full, backend, render_size)
        if smaller is None:
            raise
    ab = predict_ab_for(lightness_full, backend, smaller, hints)
    was = render_size or backend.default_render_size
    return ab, smaller, (f"out of memory at render size {was}; colorized at render size {smaller} "
                         "instead (less detail in the colours)")


def render_lightness(lightness_full: np.ndarray, backend: "Backend",
                     render_size: Optional[int] = None) -> np.ndarray:
    """The full-resolution L (``photo_lightness``) shrunk to the backend's render
    size: float32 in [0, 100], what ``backend.predict_ab`` takes."""
    height, width = lightness_full.shape[:2]
    rh, rw = backend.render_shape(height, width, render_size)
    # (8-bit L shrinks in 8 bits: its averages round to 0.4 L, as fine as the photo's own levels.)
    small = color.lightness_float(color.resize_plane(lightness_full, rh, rw))
    return np.ascontiguousarray(small, dtype=np.float32)


def colorize_array(pixels: np.ndarray, backend: "Backend", render_size: Optional[int] = None,
                   saturation: float = 1.0, hints: Sequence[Hint] = ()) -> np.ndarray:
    """Colorize a gray or RGB array (uint8/uint16/float) into RGB of the same size and dtype.

    The output keeps the input's own lightness: only ab comes from the backend.
    """
    lightness_full = color.lightness(pixels)
    ab = predict_ab_for(lightness_full, backend, render_size, hints)
    return merge_ab(lightness_full, ab, pixels.dtype, saturation)


@dataclasses.dataclass(frozen=True)
class Colorized:
    """A whole photo colorized: what saving it and showing it need."""

    pixels: np.ndarray               # RGB (BGR when asked) at the photo's size and bit depth
    ab_shape: tuple[int, int]        # the size the colours were predicted at (``coarse_chroma``)
    made_by: provenance.Provenance   # backend and settings that really ran, hints used
    note: str = ""                   # for the user: "" unless the render size had to shrink


def colorize_photo(photo: Photo, backend: "Backend", render_size: Optional[int] = None,
                   saturation: float = 1.0, hints: Sequence[Hint] = (), bgr: bool = False) -> Colorized:
    """Colorize a loaded photo at full resolution, retrying at a smaller render size
    on out-of-memory (``predict_ab_or_smaller``). ``bgr``: pixels in BGR order, as
    ``saves_bgr`` says the copy's encoder takes them."""
    lightness_full = photo_lightness(photo)
    ab, used_size, note = predict_ab_or_smaller(lightness_full, backend, render_size, hints)
    pixels = merge_ab(lightness_full, ab, photo.pixels.dtype, saturation, bgr=bgr)
    used = len(hints) if hints and backend.accepts_hints else 0
    made_by = provenance.for_backend(backend, used_size, saturation, used)
    return Colorized(pixels, (int(ab.shape[0]), int(ab.shape[1])), made_by, note)


@dataclasses.dataclass(frozen=True)
class SavedCopy:
    """A colour copy written by ``save_colour_copy``."""

    path: Path
    note: str = ""                   # as ``Colorized.note``
    photo_notes: tuple[str, ...] = ()  # how the photo was read (which page of several, ...)


def save_color_copy(src: Path, out_dir: Path, backend: "Backend", render_size: Optional[int] = None,
                     saturation: float = 1.0, hints: Sequence[Hint] = (),
                     dest: Optional[Path] = None, repair: Optional[RepairSettings] = None,
                     repair_detector: Optional[Detector] = None) -> SavedCopy:
    """Load ``src``, colorize it and save ``out_dir/<stem>_color.<ext>`` (or ``dest``,
    "Save as", never over a file); the one way a single photo is colorized to a
    file, for the CLI, the app's Save and the benches.

    ``hints``: colour hints for this photo (``core.hints``). The copy records how it
    was made (``core/provenance.py``, with the number of hints used). Raises
    ``PhotoError`` (unreadable photo, unwritable folder) or the backend's
    ``BackendError``. The original file is only ever opened for reading.
    ``repair``: paint out the photo's damage first (``core.repair``, with the
    brush strokes saved for it; ``repair_detector``: another detector than the
    classical one), so the colorizer never sees it.
    """
    photo = load_photo(Path(src))
    repair_note = ""
    if repair is not None:
        photo, _repaired, repair_note = repair_photo(photo, repair, detector=repair_detector)
    # In the order the encoder takes (BGR for OpenCV's): no channel swap of the photo.
    # "Save as" may change the format, so its pixels stay RGB (save_photo converts).
    bgr = dest is None and saves_bgr(photo)
    done = colorize_photo(photo, backend, render_size, saturation, hints, bgr=bgr)
    if repair is not None:
        done = dataclasses.replace(done, made_by=dataclasses.replace(done.made_by, repaired=settings_text(repair)))
    # Saving needs the metadata, not the source pixels: free them before encoding
    # (a 50 MP 16-bit scan holds 100-300 MB), and let the encoder reuse the output.
    notes = tuple(photo.notes) + ((repair_note,) if repair_note else ())
    photo = dataclasses.replace(photo, pixels=photo.pixels[:0, :0])
    written = save_colorized(photo, done.pixels, Path(out_dir), scratch=True, ab_shape=done.ab_shape,
                             bgr=bgr, made_by=done.made_by, dest=None if dest is None else Path(dest))
    return SavedCopy(written, done.note, notes)


def colorize_file(src: Path, out_dir: Path, backend: "Backend", render_size: Optional[int] = None,
                  saturation: float = 1.0, hints: Sequence[Hint] = ()) -> Path:
    """``save_colour_copy`` into ``out_dir``; returns the path written."""
    return save_color_copy(src, out_dir, backend, render_size, saturation, hints).path


# The steps of colorize_file, one by one, for callers that run them on different
# threads (the batch engine decodes and saves in I/O threads while the backend,
# which is not thread-safe, predicts in the calling thread).

def photo_lightness(photo: Photo) -> np.ndarray:
    """The full-resolution CIE L of a loaded photo, as its colour copy needs it.

    float32 in [0, 100]; but uint8 in OpenCV's 8-bit Lab scale
    (``color.lightness8``) for an 8-bit photo whose copy is saved lossily (JPEG):
    4x less memory, and ``merge_ab`` then takes the 8-bit Lab path, twice as fast,
    whose rounding is no more than the JPEG encoder's own. PNG and TIFF copies
    keep the exact float path."""
    if photo.pixels.dtype == np.uint8 and saves_lossy(photo):
        return color.lightness8(photo.pixels)
    return color.lightness(photo.pixels)


def merge_ab(lightness_full: np.ndarray, ab: np.ndarray, pixel_dtype: np.dtype,
             saturation: float = 1.0, bgr: bool = False) -> np.ndarray:
    """Join predicted ab with the full-resolution L (``photo_lightness``) into RGB
    (BGR with ``bgr``) of the source's dtype (uint8 or uint16; float32 for anything
    else). 8-bit L takes the faster 8-bit Lab path (``color.join_lab``)."""
    out_dtype = pixel_dtype if pixel_dtype in (np.uint8, np.uint16) else np.float32
    return color.join_lab(lightness_full, ab, saturation, out_dtype=out_dtype, bgr=bgr)


def save_colorized(photo: Photo, rgb: np.ndarray, out_dir: Path, scratch: bool = False,
                   ab_shape: Optional[tuple[int, int]] = None, bgr: bool = False,
                   made_by: Optional[provenance.Provenance] = None, dest: Optional[Path] = None) -> Path:
    """Save ``rgb`` as ``out_dir/<stem>_color.<ext>`` (or ``dest``, never overwriting);
    return the path. The name is recorded in the folder's marker file
    (``photo.record_output``), before the file appears, so later runs can tell our
    copies from the user's files even after a crash.

    ``scratch``: ``rgb`` is not used afterwards, so saving may reorder it in place.
    ``ab_shape``: the (height, width) the colours were predicted at; see
    ``coarse_chroma``. ``bgr``: the pixels are in BGR order (``merge_ab(bgr=True)``).
    ``made_by``: how the colours were made, recorded in the copy (XMP and EXIF
    Software); the original's own EXIF is kept either way."""
    ours = dest is None
    if dest is None:
        dest = output_path(photo.path, Path(out_dir), photo.format)
    coarse = ab_shape is not None and coarse_chroma(rgb.shape[:2], ab_shape)
    xmp = software = None
    if made_by is not None:
        xmp = made_by.xmp(photo.path, page=photo.info.get("page", ""))
        software = made_by.software
    if ours:
        # Recorded before the file appears: a kill between the two must not leave
        # a copy a rerun with "skip done" cannot recognise (it would make a second).
        record_output(dest)
    written = save_photo(rgb, dest, like=photo, scratch=scratch, half_res_chroma=coarse, bgr=bgr,
                         xmp=xmp, software=software)
    if ours and written != dest:  # the name was taken meanwhile
        record_output(written)
    return written


def coarse_chroma(photo_shape: tuple[int, ...], ab_shape: tuple[int, ...]) -> bool:
    """True when colours predicted at ``ab_shape`` hold no detail a half-resolution
    chroma plane would lose (at most half the photo's size each way), so a JPEG
    output can use 4:2:0 chroma: measured 0.5 dB at 50 dB PSNR against 4:4:4 on a
    12 MP output, for a 35% faster encode and a 20% smaller file."""
    return 2 * ab_shape[0] <= photo_shape[0] and 2 * ab_shape[1] <= photo_shape[1]
