"""Atomic file writes: the one place that puts a finished file under its final name.

Every writer of the app goes through here: photo and video copies, settings,
models, checkpoints, hints, downloads and imports. The data goes to a temp file
beside the target, is fsync'ed, then moved into place, so a crash or a kill at
any moment leaves either the previous file or the new one, never a half-written
one. Two ways to move it:

- ``replace`` (settings, checkpoints, a download): the new file takes the name;
- ``publish_new`` (colour copies, an installed model): never replaces anything;
  a name taken, even one that appears between a check and the move, gets the
  next free counter name instead.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .filenames import NAME_MAX_BYTES, fit_name
from .paths import new_file_mode

#: ``(dest, counter) -> the counter-th alternative name`` (counter starts at 2).
NextName = Callable[[Path, int], Path]


def counter_name(dest: Path, counter: int) -> Path:
    """``<stem>-<counter><ext>`` beside ``dest``, within the name limit (``filenames.fit_name``)."""
    return dest.with_name(fit_name(dest.stem, f"-{counter}", dest.suffix))


# mkstemp adds 8 random characters; with the "." before and "-" and ".tmp" after,
# a temp name is its prefix plus 14 bytes.
_TEMP_EXTRA_BYTES = 14


def _temp_prefix(path: Path) -> str:
    """The start of ``path``'s temp file names: ``.<name>-``, the name shortened (with
    a hash) when the temp name would pass the limit, so any name the file system
    takes can be written atomically."""
    return f".{fit_name(path.name, limit=NAME_MAX_BYTES - _TEMP_EXTRA_BYTES)}-"


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; best effort, Windows cannot open folders)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace(tmp: Path, dest: Path) -> Path:
    """Move the finished file ``tmp`` onto ``dest`` (replacing it), durably."""
    os.replace(tmp, dest)
    fsync_folder(Path(dest).parent)
    return Path(dest)


def publish_new(tmp: Path, dest: Path, next_name: NextName = counter_name) -> Path:
    """Move the finished file ``tmp`` to ``dest``, or to the first free
    ``next_name(dest, 2)``, ``3``, ... when taken, never replacing a file; return
    where it went.

    A hard link fails rather than replace, so a file that appears between a check
    and the move is safe; file systems without hard links (FAT, exFAT, some
    network shares) fall back to check-then-rename."""
    tmp, dest = Path(tmp), Path(dest)
    candidate = dest
    for counter in range(2, 100_000):
        try:
            os.link(tmp, candidate)  # atomic, and fails if candidate exists
        except FileExistsError:
            candidate = next_name(dest, counter)
            continue
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.ENAMETOOLONG, getattr(errno, "EDQUOT", -1)):
                raise
            if os.path.lexists(candidate):
                candidate = next_name(dest, counter)
                continue
            (os.rename if os.name == "nt" else os.replace)(tmp, candidate)  # os.rename never replaces on Windows
            fsync_folder(dest.parent)
            return candidate
        try:
            os.unlink(tmp)
        except OSError:
            pass
        fsync_folder(dest.parent)
        return candidate
    raise FileExistsError(errno.EEXIST, f"no free file name for {dest.name}", str(dest.parent))


def atomic_write(path: Path, write: Callable[[str], object], *, overwrite: bool = True,
                 next_name: NextName = counter_name) -> Path:
    """Call ``write(tmp_path)`` on a temp file next to ``path``, fsync it, move it into place.

    ``overwrite`` True: the previous file at ``path`` stays intact until the new one
    is complete, then is replaced. False: nothing is ever replaced; a taken name
    gives ``next_name(path, 2)``, ... (see ``publish_new``). Returns the path
    written. An exception from ``write`` leaves no temp file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, new_file_mode())  # after: some writers (safetensors) make a file of their own
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        final = replace(Path(tmp), path) if overwrite else publish_new(Path(tmp), path, next_name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _remove_stale_temps(path)
    return final


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files an earlier writer of ``path`` left when it was killed mid-write.

    Called only after the new file is safely in place; a checkpoint temp can be
    tens of MB, so repeated crashes would otherwise fill the disk."""
    prefix = _temp_prefix(path)
    try:
        # A scan, not a glob: a name holding "[" or "*" must match only itself.
        entries = [entry.path for entry in os.scandir(path.parent)
                   if entry.name.startswith(prefix) and entry.name.endswith(".tmp")
                   and len(entry.name) == len(prefix) + 8 + 4]
    except OSError:
        return
    for stale in entries:
        try:
            os.unlink(stale)
        except OSError:
            pass


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_write``)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see ``atomic_write``)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_copy(src: Path, dest: Path, *, overwrite: bool = True) -> Path:
    """Copy ``src`` to ``dest`` atomically; with ``overwrite`` False never over an
    existing file (a counter name instead). Returns the path written."""
    return atomic_write(dest, lambda tmp: shutil.copyfile(src, tmp), overwrite=overwrite)
