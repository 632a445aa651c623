"""What a colour copy says about itself: that Colorizer made it, how, and from what.

Genealogists keep colourised copies beside the originals for decades; the copy
must say it is not the real colours. Each copy gets an XMP packet (read by
exiftool, digiKam, Lightroom, Pillow's ``getxmp``) naming Colorizer, its version,
the backend, the model file (name and the start of its SHA-256), the settings and
the number of colour hints, and a short EXIF ``Software`` line for readers that
know only EXIF. The original's own descriptive EXIF (dates, camera, caption) is
kept by ``photo.save_photo``; nothing here overwrites it.

``read_provenance(path)`` reads it back (``python -m colorizer_gui info COPY``).
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional
from xml.sax.saxutils import quoteattr

from .. import __version__
from .photo import display_name

if TYPE_CHECKING:  # the core depends on nothing of ours at run time
    from .backend_type import Backend

#: Colorizer's own XMP namespace (a private one, as XMP allows) and its prefix.
NAMESPACE = "http://ns.colorizer-app.org/provenance/1.0/"
PREFIX = "colorizer"
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Provenance:
    """How a batch of copies was made (the same for every photo of the batch)."""

    backend: str
    model_file: str = ""
    model_sha256: str = ""          # first 12 hex digits; enough to tell files apart
    settings: dict[str, str] = field(default_factory=dict)
    hints: int = 0                  # user colour hints given to the network
    version: str = __version__
    repaired: str = ""              # repair settings when damage was painted out ("" = not repaired)
    colorized: bool = True         # False for a repaired copy that was not colourised

    @property
    def software(self) -> str:
        """The short line for EXIF ``Software``."""
        if not self.colorized:
            return f"Colorizer {self.version} (repaired: scratches and dust painted out)"
        model = f", {self.model_file}" if self.model_file else ""
        repaired = ", repaired" if self.repaired else ""
        return f"Colorizer {self.version} (colourised{repaired}; {self.backend}{model})"

    def xmp(self, source: Path, page: str = "", when: Optional[datetime] = None) -> bytes:
        """The XMP packet for the copy of ``source`` (``page``: "2 of 3" for a
        multi-page original), UTF-8, as Pillow and exiftool read it."""
        when = when or datetime.now(timezone.utc).astimezone()
        fields = {
            "Colourised": "True" if self.colorized else "False",
            "Repaired": self.repaired,
            "Software": "Colorizer",
            "Version": self.version,
            "Backend": self.backend,
            "Model": self.model_file,
            "ModelSHA256": self.model_sha256,
            "Settings": "; ".join(f"{k}={v}" for k, v in sorted(self.settings.items())),
            "Hints": str(int(self.hints)) if self.colorized else "",
            "Source": display_name(source.name),
            "Page": page,
            "Date": when.isoformat(timespec="seconds"),
        }
        attrs = "".join(f"\n    {PREFIX}:{key}={quoteattr(_xml_text(value))}"
                        for key, value in fields.items() if value)
        return (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            '  <rdf:Description rdf:about=""\n'
            '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
            f'    xmlns:{PREFIX}="{NAMESPACE}"\n'
            f'    xmp:CreatorTool={quoteattr("Colorizer " + self.version)}'
            f'{attrs}/>\n'
            ' </rdf:RDF>\n'
            '</x:xmpmeta>\n'
            '<?xpacket end="r"?>'
        ).encode("utf-8")


def _xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot hold removed (control characters, lone surrogates)."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _XML_UNSAFE.sub("", text)


@functools.lru_cache(maxsize=8)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_fingerprint(path: Optional[Path]) -> str:
    """The first 12 hex digits of ``path``'s SHA-256 ("" when unreadable); hashed
    once per file version (the 129 MB Zhang model takes about 0.3 s)."""
    if path is None:
        return ""
    try:
        st = os.stat(path)
        return _sha256_of(str(path), st.st_size, st.st_mtime_ns)[:12]
    except OSError:
        return ""


def for_backend(backend: "Backend", render_size: Optional[int], saturation: float,
                hints: int = 0) -> Provenance:
    """The provenance of copies made by ``backend`` (loaded) with these settings."""
    model = backend.model_file() if hasattr(backend, "model_file") else None
    settings = {"render_size": str(render_size or "default"), "saturation": f"{saturation:g}"}
    if hasattr(backend, "provenance_settings"):
        settings.update(backend.provenance_settings())
    return Provenance(backend=getattr(backend, "name", "") or type(backend).__name__,
                      model_file=Path(model).name if model else "",
                      model_sha256=file_fingerprint(Path(model)) if model else "",
                      settings=settings, hints=hints)


# --------------------------------------------------------------------------- reading


def _parse_xmp(xmp: bytes | str) -> dict[str, str]:
    """Colorizer's fields from an XMP packet (attributes or elements), by local name."""
    from defusedxml import ElementTree  # untrusted files: no entity expansion

    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    text = text.strip("\x00 \r\n\t\ufeff")
    try:
        root = ElementTree.fromstring(re.sub(r"<\?xpacket[^>]*\?>", "", text).strip())
    except Exception:  # a broken packet written by another program
        return {}
    ours = f"{{{NAMESPACE}}}"
    found: dict[str, str] = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            if key.startswith(ours):
                found[key[len(ours):]] = value
        if element.tag.startswith(ours) and (element.text or "").strip():
            found[element.tag[len(ours):]] = element.text.strip()
    return found


def read_provenance(path: Path) -> dict[str, Any]:
    """What a file says about itself: ``{"colorizer": {...XMP fields...},
    "exif": {"DateTimeOriginal": ..., "Make": ..., ...}}``; empty dicts when absent.

    Reads with Pillow; a 16-bit RGB TIFF (which Pillow cannot open) has its first
    directory read directly."""
    from PIL import ExifTags, Image, TiffImagePlugin

    xmp: bytes | str = b""
    tags: dict[int, Any] = {}
    try:
        with Image.open(path) as im:
            xmp = im.info.get("xmp") or b""
            if not xmp and im.format == "TIFF":
                xmp = bytes(im.tag_v2.get(700, b""))
            exif = im.getexif()
            tags = dict(exif)
            try:
                tags.update(exif.get_ifd(0x8769))
            except Exception:  # an unreadable Exif sub-IFD: the main tags still count
                pass
    except Exception:
        tags, xmp = _read_tiff_directly(Path(path), TiffImagePlugin)
    names = {t.value: t.name for t in ExifTags.Base}
    described = {names.get(tag, str(tag)): str(tags[tag]).strip("\x00 ")
                 for tag in _DESCRIPTIVE_TAGS if tag in tags and not isinstance(tags[tag], dict)}
    return {"colorizer": _parse_xmp(xmp) if xmp else {}, "exif": described}


#: EXIF tags ``info`` shows: dates, camera, caption, author, the writing program.
_DESCRIPTIVE_TAGS = (36867, 36868, 306, 271, 272, 270, 315, 33432, 305, 274)


def _read_tiff_directly(path: Path, tiff: Any) -> tuple[dict[int, Any], bytes]:
    """(EXIF-style tags, XMP) from a TIFF's first directory and its Exif sub-IFD,
    for TIFFs Pillow cannot open (16-bit RGB); raises for anything else."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if head[:4] not in (b"II*\x00", b"MM\x00*"):
            raise ValueError(f"{path.name}: not a file Colorizer can read metadata from")
        order = "little" if head[:2] == b"II" else "big"
        ifd = tiff.ImageFileDirectory_v2(head)
        fh.seek(int.from_bytes(head[4:8], order))
        ifd.load(fh)
        tags = {tag: ifd[tag] for tag in ifd if tag in _DESCRIPTIVE_TAGS}
        if 0x8769 in ifd:
            sub = tiff.ImageFileDirectory_v2(head)
            fh.seek(int(ifd[0x8769]))
            sub.load(fh)
            tags.update({tag: sub[tag] for tag in sub})
        raw = ifd.get(700, b"")
    return tags, (raw if isinstance(raw, str) else bytes(raw))


def for_repair(settings_text: str) -> Provenance:
    """The provenance of a repaired (not colourised) copy; ``settings_text`` says
    how it was repaired ("sensitivity=0.5; contrast=off")."""
    return Provenance(backend="", repaired=settings_text, colorized=False)


__all__ = ["NAMESPACE", "Provenance", "display_name", "file_fingerprint", "for_backend", "for_repair",
           "read_provenance"]
