"""Atomic file writes: a temp file beside the target, fsync'ed, renamed into place.

A crash or a kill at any moment leaves either the previous file or the new one,
never a half-written one; temp files a killed writer left are removed by the
next successful write of the same file.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from .paths import new_file_mode


def _fsync_dir(folder: Path) -> None:
    # Make the rename itself durable (POSIX); Windows cannot open folders.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[str], object]) -> Path:
    """Call ``write(tmp_path)`` on a temp file next to ``path``, fsync it, rename it into place.

    The previous file at ``path`` stays intact until the new one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, new_file_mode())
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    _remove_stale_temps(path)
    return path


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files an earlier writer of ``path`` left when it was killed mid-write.

    Called only after the new file is safely in place; a checkpoint temp can be
    tens of MB, so repeated crashes would otherwise fill the disk."""
    for stale in path.parent.glob(f".{path.name}-*.tmp"):
        try:
            stale.unlink()
        except OSError:
            pass


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_write``)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
