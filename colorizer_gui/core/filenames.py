"""File names derived from a photo's name, kept within the file system's limit.

Linux, macOS and Windows file systems take names of at most 255 bytes (UTF-8 on
Linux and macOS; 255 UTF-16 units on Windows, which a 255-byte UTF-8 name never
exceeds). A photo may use all of them (a 250-byte ASCII name, 126 accented or 84
CJK letters), so any name made from it by adding text (the colour copy's
``_color-2.jpg``, the hints sidecar's ``.colorizer.json``, a temp file's prefix,
a mask) would be too long. ``fit_name`` is the one place such names are made:
it keeps a name that fits as it is, and otherwise shortens the photo's part on a
character boundary and adds a short hash of the whole part, so two long names
that differ only past the cut still get different names, and the same photo
always gets the same one.
"""
from __future__ import annotations

import hashlib
import unicodedata

#: The longest file name (one path component), in bytes, that common file systems take.
NAME_MAX_BYTES = 255

#: Hex digits of SHA-256 added to a shortened name: 32 bits, so two long names in
#: one folder practically never share one.
_HASH_DIGITS = 8

# Characters that belong to the one before them: a cut must not fall just before them.
_JOINERS = frozenset({"\u200c", "\u200d"})


def encoded(text: str) -> bytes:
    """``text`` as the bytes the file system stores: UTF-8, with undecodable bytes
    of a name (held as surrogate escapes, as ``os.fsdecode`` gives them) as they were."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (Windows names)
        return text.encode("utf-8", "surrogatepass")


def name_bytes(name: str) -> int:
    """How many bytes ``name`` takes in the file system."""
    return len(encoded(name))


def _belongs_to_previous(ch: str) -> bool:
    return bool(unicodedata.combining(ch)) or ch in _JOINERS or "\ufe00" <= ch <= "\ufe0f"


def shorten(text: str, max_bytes: int) -> str:
    """The longest start of ``text`` within ``max_bytes`` bytes, cut between whole
    characters (never inside a UTF-8 sequence, never between a letter and its accent)."""
    if name_bytes(text) <= max_bytes:
        return text
    used, end = 0, 0
    for index, ch in enumerate(text):
        size = name_bytes(ch)
        if used + size > max_bytes:
            break
        used += size
        end = index + 1
    # Do not leave a letter whose accent (or joined part) was cut off.
    while 0 < end < len(text) and _belongs_to_previous(text[end]):
        end -= 1
    return text[:end]


def name_hash(text: str) -> str:
    """The short hash ``fit_name`` adds to a shortened name (of the full ``text``)."""
    return hashlib.sha256(encoded(text)).hexdigest()[:_HASH_DIGITS]


def fit_name(stem: str, tail: str = "", ext: str = "", *, limit: int = NAME_MAX_BYTES) -> str:
    """``stem + tail + ext`` as one file name of at most ``limit`` bytes.

    A name that fits is returned unchanged. Otherwise ``stem`` (the part taken
    from the photo's name) is shortened on a character boundary and ``~`` plus
    a hash of the whole ``stem`` is put after it: ``<short stem>~1a2b3c4d<tail><ext>``.
    ``tail`` and ``ext`` (``_color-2`` and ``.jpg``, ``.colorizer.json``) are
    always kept whole. Deterministic: the same inputs give the same name."""
    whole = stem + tail + ext
    if name_bytes(whole) <= limit:
        return whole
    mark = f"~{name_hash(stem)}"
    budget = limit - name_bytes(mark + tail + ext)
    if budget < 0:
        raise ValueError(f"{tail + ext!r} leaves no room for a name within {limit} bytes")
    return shorten(stem, budget).rstrip(" .") + mark + tail + ext
