"""Atomic saving: ``save_photo`` writes a hidden ``.colorizer-*.partial`` file in
the destination folder, fsyncs it and links it into place, never overwriting a
file (the next free counter name is used instead). Partial files are locked
while written, so ``remove_stale_partials`` clears only those a killed run left.
"""
from __future__ import annotations

import errno
import os
import secrets
import struct
import time
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

from ..atomic import publish_new
from .encode import _encode_16bit, _encode_jpeg, _encode_with_pillow, _exif_for_output, _tiff_add_metadata
from .model import Photo, PhotoError
from ..filenames import fit_name
from .naming import _WRITE_EXTENSIONS, _opencv_encodes
from .pixels import _icc_color_space, _to_uint16, _to_uint8


def _format_for_dest(dest: Path) -> str:
    suffix = dest.suffix.lower()
    for family, exts in _WRITE_EXTENSIONS.items():
        if suffix in exts:
            return family
    raise PhotoError(f"{dest.name}: Colorizer cannot save photos as '{dest.suffix or 'no extension'}'")


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
        return _publish(Path(tmp), Path(dest))
    except OSError as exc:
        _remove_quietly(Path(tmp))
        raise _write_error(exc, Path(dest)) from None


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
    icc = like.icc_profile if like.icc_profile and _icc_color_space(like.icc_profile) == "RGB" else None
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
    return final


def _next_name(dest: Path, counter: int) -> Path:
    return dest.parent / fit_name(dest.stem, f"-{counter}", dest.suffix)


def _publish(tmp: Path, dest: Path) -> Path:
    """Move the finished temp file to ``dest`` (or the next free counter name) without
    ever replacing an existing file; return where it went."""
    try:
        return publish_new(tmp, dest, _next_name)
    except FileExistsError:
        raise PhotoError(f"cannot find a free file name for {dest.name} in {dest.parent}") from None


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


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
