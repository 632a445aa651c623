"""A photo's sidecar file: what the user told Colorizer about one photo, kept beside it.

``<photo file name>.colorizer.json`` (as Lightroom keeps XMP sidecars), or in the
user's data folder when the photo's folder cannot be written. The photo itself
is never written. The document (``version`` 1) is one JSON object whose
sections belong to their own modules: ``"hints"`` (colour hints,
``core.hints``) and ``"repair"`` (the repair brush, ``core.repair.edits``)::

    {"version": 1,
     "hints": [{"x": 0.42, "y": 0.31, "rgb": [200, 30, 40], "radius": 0.01}],
     "repair": {"strokes": [{"mode": "add", "radius": 0.01, "points": [[0.1, 0.2], [0.3, 0.2]]}]}}

This module reads and writes the document and nothing else: writing one section
keeps the others exactly as they were (each owner validates its own section), and
the file is replaced atomically. ``"hints"`` is always written, so an app that
only knows hints still reads a file that holds brush strokes alone.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional

from .atomic import atomic_write_bytes
from .errors import UserError
from .filenames import fit_name, shorten

FORMAT_VERSION = 1
SIDECAR_SUFFIX = ".colorizer.json"
#: Sidecars are tiny; anything much larger is not one.
MAX_FILE_BYTES = 1 << 20
#: The sections written in this order (others a newer app wrote are kept after them).
KNOWN_SECTIONS = ("hints", "repair")


class SidecarError(UserError, ValueError):
    """A sidecar file cannot be used; the message names the file and the problem."""


def sidecar_beside(photo: Path) -> Path:
    """``<photo file name>.colorizer.json`` in the photo's folder; for a photo whose
    name leaves no room for the suffix (near the 255-byte limit), the name is
    shortened with a hash of the whole (``filenames.fit_name``), so every photo the
    file system takes has a sidecar of its own."""
    photo = Path(photo)
    return photo.with_name(fit_name(photo.name, ext=SIDECAR_SUFFIX))


def sidecar_in_data_folder(photo: Path) -> Path:
    """Where a photo's sidecar goes when its own folder is read-only: the user's data
    folder, named by the photo's full path (so two ``scan1.jpg`` never share)."""
    from .paths import user_data_dir

    key = hashlib.sha256(str(Path(photo).resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return user_data_dir() / "hints" / f"{shorten(Path(photo).name, 60)}-{key}{SIDECAR_SUFFIX}"


def find_sidecar(photo: Path) -> Optional[Path]:
    """The photo's sidecar file, beside it or in the user's data folder, if there is one.
    A path the system cannot look up (too long as a whole, unreadable folder) is
    simply no sidecar."""
    for candidate in (sidecar_beside(photo), sidecar_in_data_folder(photo)):
        if os.path.isfile(candidate):  # False for any OSError, unlike Path.is_file
            return candidate
    return None


def parse_document(data: bytes) -> dict[str, Any]:
    """The document in a sidecar's bytes; ``ValueError`` says what is wrong (without the file name)."""
    if len(data) > MAX_FILE_BYTES:
        raise ValueError("the file is too large to be a sidecar file")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"not valid JSON ({err})") from None
    if not isinstance(doc, dict):
        raise ValueError('expected an object with "version" and "hints"')
    if doc.get("version") != FORMAT_VERSION:
        raise ValueError(f"version {doc.get('version')!r} is not supported (this app reads "
                         f"version {FORMAT_VERSION})")
    return doc


def read_document(path: Path) -> dict[str, Any]:
    """Read a sidecar file; ``SidecarError`` names the file and the problem."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # never more than a sidecar can be
    except FileNotFoundError:
        raise SidecarError(f"Sidecar file not found: {path}") from None
    except OSError as err:
        raise SidecarError(f"Cannot read the sidecar file {path}: {err.strerror or err}") from None
    try:
        return parse_document(data)
    except ValueError as err:
        raise SidecarError(f"Sidecar file {path}: {err}") from None


def read_section(photo: Path, name: str) -> tuple[Any, Optional[Path]]:
    """(the raw JSON value of section ``name``, the file) for ``photo``; (None, None)
    without a sidecar, (None, file) when the file has no such section. A file that
    is not a sidecar raises ``SidecarError``."""
    found = find_sidecar(photo)
    if found is None:
        return None, None
    return read_document(found).get(name), found


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or (isinstance(value, dict) and
                                                            all(_is_empty(v) for v in value.values()))


def document_bytes(doc: dict[str, Any]) -> bytes:
    """The file's bytes for ``doc`` (UTF-8 JSON; the items of each list one a line,
    so a person can read and diff it)."""
    sections = {"hints": [], **{k: v for k, v in doc.items() if k != "version"}}
    order = [k for k in KNOWN_SECTIONS if k in sections] + [k for k in sections if k not in KNOWN_SECTIONS]
    parts = [f'"version": {FORMAT_VERSION}']
    for key in order:
        parts.append(f"{json.dumps(key)}: {_layout(sections[key], 1)}")
    return ("{" + ",\n ".join(parts) + "}\n").encode("utf-8")


def _layout(value: Any, depth: int) -> str:
    """JSON with lists of objects (hints, strokes) one item a line."""
    dump = lambda v: json.dumps(v, ensure_ascii=False, allow_nan=False)  # noqa: E731
    pad = " " * (depth + 1)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return "[\n" + ",\n".join(pad + dump(v) for v in value) + "\n" + " " * depth + "]"
    if isinstance(value, dict) and any(isinstance(v, list) for v in value.values()):
        inner = ",\n".join(f"{pad}{dump(k)}: {_layout(v, depth + 1)}" for k, v in value.items())
        return "{\n" + inner + "\n" + " " * depth + "}"
    return dump(value)


def write_section(photo: Path, name: str, value: Any) -> Path:
    """Set section ``name`` of ``photo``'s sidecar to ``value`` (None or empty
    removes it), keeping every other section, and write the file atomically:
    beside the photo, or in the user's data folder when its folder cannot be
    written. With no section left the file is removed. Returns the path.

    A file that cannot be read as a sidecar is replaced (its sections were
    unreadable anyway: the user was told when they were loaded)."""
    beside, elsewhere = sidecar_beside(photo), sidecar_in_data_folder(photo)
    found = find_sidecar(photo)
    doc: dict[str, Any] = {}
    if found is not None:
        try:
            doc = read_document(found)
        except SidecarError:
            doc = {}
    doc.pop("version", None)
    doc[name] = value
    doc = {k: v for k, v in doc.items() if not _is_empty(v)}
    if not doc:
        for path in (beside, elsewhere):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                pass  # a read-only folder: the stale file cannot be there by our hand
        return beside
    data = document_bytes(doc)
    try:
        written = atomic_write_bytes(beside, data)
    except OSError:
        return atomic_write_bytes(elsewhere, data)
    elsewhere.unlink(missing_ok=True)  # one home per photo: the beside file wins
    return written


__all__ = ["FORMAT_VERSION", "KNOWN_SECTIONS", "MAX_FILE_BYTES", "SIDECAR_SUFFIX", "SidecarError",
           "document_bytes", "find_sidecar", "parse_document", "read_document", "read_section",
           "sidecar_beside", "sidecar_in_data_folder", "write_section"]
