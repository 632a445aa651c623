"""Facts about the official Zhang et al. ECCV16 weights file and a light check of
its structure that needs no OpenCV DNN (the backend adds a full load check).

The 129 MB ``colorization_release_v2.caffemodel`` is on no package registry;
the app downloads it on request from the sources below (the authors' current
PyTorch release first, then caffemodel mirrors), or imports a copy.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from ...core import paths
from ...core.errors import UserError

if TYPE_CHECKING:
    from ...core.model_store import ImportRule

#: The file name of the Zhang model in a weights folder (downloaded or imported).
ZHANG_WEIGHTS_NAME = "colorization_release_v2.caffemodel"
PROTOTXT_NAME = "colorization_deploy_v2.prototxt"
BINS_NAME = "pts_in_hull.npy"


def package_file(name: str) -> Path:
    """A file shipped with this backend (the net description and the ab bins)."""
    return paths.package_data_path("backends", "zhang_data", name)


ZHANG_SIZE = 128_946_764
# Published with the file's size in OpenVINO's open_model_zoo
# (models/public/colorization-v2/model.yml).
ZHANG_SHA256 = "f5af1e602646328c792e1094f9876fe9cd4c09ac46fa886e5708a1abc89137b1"
# The authors' current host: the same weights as a PyTorch file (richzhang/colorization,
# colorizers/eccv16.py); its name carries the start of its SHA-256, as torch.hub checks.
ZHANG_PTH_URL = "https://colorizers.s3.us-east-2.amazonaws.com/colorization_release_v2-9b330a0b.pth"
ZHANG_PTH_SHA256 = "9b330a0bae53f4ded77b1e23defbf78beaa09c10ebc4c4999e8e4f4a160b93f9"
ZHANG_URL_ENV = "COLORIZER_ZHANG_URL"


@dataclass(frozen=True)
class ZhangSource:
    """One place to get the Zhang weights: ``kind`` "caffemodel" (installed as it
    is) or "pth" (the PyTorch release, converted once after its hash matched).
    Every byte is checked against ``sha256`` (and ``size`` when known)."""

    url: str
    kind: str
    sha256: str
    size: Optional[int] = None


# Tried in this order. The Berkeley links the app used first have been dead since
# 2024; the Dropbox copy is the one the PySimpleGUI colorizer demo documents;
# OpenVINO keeps the files of its model zoo under its storage server.
ZHANG_SOURCES: tuple[ZhangSource, ...] = (
    ZhangSource(ZHANG_PTH_URL, "pth", ZHANG_PTH_SHA256),
    ZhangSource("https://www.dropbox.com/s/dx0qvhhp5hbcx7z/colorization_release_v2.caffemodel?dl=1",
                "caffemodel", ZHANG_SHA256, ZHANG_SIZE),
    ZhangSource("https://storage.openvinotoolkit.org/repositories/open_model_zoo/public/2022.1/"
                "colorization-v2/" + ZHANG_WEIGHTS_NAME, "caffemodel", ZHANG_SHA256, ZHANG_SIZE),
    ZhangSource("https://people.eecs.berkeley.edu/~rich.zhang/projects/2016_colorization/files/demo_v2/"
                + ZHANG_WEIGHTS_NAME, "caffemodel", ZHANG_SHA256, ZHANG_SIZE),
    ZhangSource("http://eecs.berkeley.edu/~rich.zhang/projects/2016_colorization/files/demo_v2/"
                + ZHANG_WEIGHTS_NAME, "caffemodel", ZHANG_SHA256, ZHANG_SIZE),
)

# Layers the colorization net must have (checked by name, without OpenCV).
_REQUIRED_LAYERS = (b"conv8_313", b"class8_ab", b"conv1_2norm")


class CaffeModelError(UserError, ValueError):
    """The file is not a Caffe model of the expected kind; the message says why."""


def zhang_sources(base_url: str | None = None) -> list[ZhangSource]:
    """Where to fetch the weights, in order: ``base_url`` (or $COLORIZER_ZHANG_URL)
    + the caffemodel's name when given (a mirror of the user's own), else ``ZHANG_SOURCES``."""
    base = base_url or os.environ.get(ZHANG_URL_ENV)
    if base:
        return [ZhangSource(base.rstrip("/") + "/" + ZHANG_WEIGHTS_NAME, "caffemodel", ZHANG_SHA256, ZHANG_SIZE)]
    return list(ZHANG_SOURCES)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise CaffeModelError("the file is cut short or is not a Caffe model")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def caffemodel_layer_names(path: Path) -> list[bytes]:
    """Walk a .caffemodel's protobuf framing (NetParameter) and return its layer names.

    Raises ``CaffeModelError`` when the bytes are not well-formed protobuf (a
    truncated or foreign file). Reads the file once; never executes anything.
    """
    data = Path(path).read_bytes()
    names: list[bytes] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise CaffeModelError("the file is cut short (a record runs past its end)")
            if field in (100, 2):  # 'layer' (current) or 'layers' (V1) of NetParameter
                names.append(_layer_name(data[pos:pos + length], v1=field == 2))
            pos += length
        else:
            raise CaffeModelError("the file is not a Caffe model (bad protobuf framing)")
        if pos > len(data):
            raise CaffeModelError("the file is cut short")
    return names


def _layer_name(layer: bytes, v1: bool) -> bytes:
    pos = 0
    name_field = 4 if v1 else 1  # V1LayerParameter keeps its name in field 4
    while pos < len(layer):
        key, pos = _varint(layer, pos)
        field, wire = key >> 3, key & 7
        if wire == 2:
            length, pos = _varint(layer, pos)
            if field == name_field:
                return layer[pos:pos + length]
            pos += length
        elif wire == 0:
            _, pos = _varint(layer, pos)
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise CaffeModelError("the file is not a Caffe model (bad layer record)")
    return b""


def check_zhang_caffemodel_structure(path: Path) -> None:
    """Raise ``CaffeModelError`` unless ``path`` is well-formed Caffe protobuf with
    the colorization net's layers. A cheap check; the backend's OpenCV load is the full one."""
    names = set(caffemodel_layer_names(path))
    missing = [n.decode() for n in _REQUIRED_LAYERS if n not in names]
    if missing:
        raise CaffeModelError(
            f"{Path(path).name} is a Caffe model but not the Zhang colorization net "
            f"(no layer {', '.join(missing)})")


def check_caffemodel_file(path: Path, error: type[Exception],
                          verify: Optional[Callable[[Path], None]] = None) -> None:
    """``check_zhang_caffemodel_structure`` raising ``error`` (the caller's kind:
    a download's, an import's) instead, then ``verify(path)`` when given."""
    try:
        check_zhang_caffemodel_structure(path)
    except CaffeModelError as err:
        raise error(str(err)) from None
    if verify is not None:
        verify(path)


def caffemodel_import_rule(verify: Optional[Callable[[Path], None]] = None) -> "dict[str, ImportRule]":
    """``model_store.import_model_file``'s rule for a ``.caffemodel``: the Zhang net's
    structure, then ``verify`` (the backend's OpenCV load), installed under the one
    name the backend looks for (a re-import replaces it once the new file passed)."""
    from ...core.model_store import ImportRule, ModelImportError

    return {".caffemodel": ImportRule(
        ZHANG_WEIGHTS_NAME, lambda path: check_caffemodel_file(path, ModelImportError, verify),
        "the Zhang .caffemodel")}
