"""Finding photos: expand files and folders into the list to colorize
(``find_photos``), and count readable photos for the fine-tune dialog."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from .formats import UNSUPPORTED_PHOTO_EXTENSIONS, has_photo_signature, is_photo_file, unsupported_format_reason


def count_readable_photos(folder: Path) -> int:
    """How many photos under ``folder`` (recursively, as ``find_photos`` walks it)
    start like an allowed image format: what the fine-tune dialog shows."""
    return sum(map(has_photo_signature, find_photos([Path(folder)], recursive=True)))


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
