"""Output naming: the colour copy's file name and format family, and the
``.colorizer-copies`` marker that lists the copies Colorizer wrote in a folder.

``output_path(src, out_dir, fmt)`` gives ``out_dir/<stem>_color.<ext>``, adding a
counter instead of overwriting; names are made safe on every OS.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

import numpy as np

from ..filenames import fit_name
from .model import Photo, PhotoError


# Format families we write, with their extensions (the first is the default).
_WRITE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "TIFF": (".tif", ".tiff"),
    "BMP": (".bmp", ".dib"),
    "WEBP": (".webp",),
}


_FORMAT_ALIASES = {"JPG": "JPEG", "MPO": "JPEG", "JPE": "JPEG", "JFIF": "JPEG", "TIF": "TIFF", "DIB": "BMP"}


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


_UNSAFE_NAME_CHARS = re.compile(r'[/\\<>:"|?*]')


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


def _copy_stem(src: Path) -> str:
    """The part of a colour copy's name taken from its source, made safe."""
    # The name as this OS splits paths: on Linux and macOS a backslash is an
    # ordinary character ("back\\slash.jpg" -> "back_slash_color.jpg").
    raw_name = Path(src).name or str(src)
    return _safe_component(Path(raw_name).stem if raw_name not in (".", "..") else "") or "photo"


def copy_name(src: Path, ext: str, counter: int = 1, suffix: str = "_color") -> str:
    """The file name of ``src``'s colour copy with extension ``ext``: ``<stem><suffix><ext>``,
    ``<stem><suffix>-<counter><ext>`` from counter 2; always within the 255-byte
    name limit (a long stem is shortened and given a hash, ``filenames.fit_name``)."""
    safe_suffix = _UNSAFE_NAME_CHARS.sub("_", _CONTROL_CHARS.sub("", suffix))
    tail = safe_suffix if counter == 1 else f"{safe_suffix}-{counter}"
    return fit_name(_copy_stem(src), tail, ext)


def output_path(src: Path, out_dir: Path, fmt: str, suffix: str = "_color", ext: Optional[str] = None) -> Path:
    """``out_dir/<stem><suffix><ext>``, or ``<stem><suffix>-2<ext>``, ``-3``, ... when taken.

    ``ext``: the extension to use (videos: ``.mp4``); by default the one
    ``output_extension`` picks for the photo format ``fmt``. Never returns an existing path. The stem is made safe (no separators, no
    '..', no control characters) and shortened so the name fits the usual
    255-byte limit (``copy_name``); the result is always directly inside ``out_dir``.
    """
    src = Path(src)
    out_dir = Path(out_dir)
    ext = ext or output_extension(fmt, src)
    for counter in range(1, 1_000_000):
        candidate = out_dir / copy_name(src, ext, counter, suffix)
        if not os.path.lexists(candidate):
            return candidate
    raise PhotoError(f"cannot find a free file name for {src.name or src} in {out_dir}")


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
