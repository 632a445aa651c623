"""Facts about the official Zhang et al. ECCV16 weights file and a light check of
its structure that needs no OpenCV DNN (the backend adds a full load check).

The 129 MB ``colorization_release_v2.caffemodel`` is on no package registry;
the app downloads it from the authors' site on request, or imports a copy.
"""
from __future__ import annotations

import os
from pathlib import Path

from .model_store import ZHANG_WEIGHTS_NAME

# The authors' release (https://github.com/richzhang/colorization, branch caffe,
# models/fetch_release_models.sh); the https address is the same server.
ZHANG_URLS: tuple[str, ...] = (
    "https://people.eecs.berkeley.edu/~rich.zhang/projects/2016_colorization/files/demo_v2/"
    + ZHANG_WEIGHTS_NAME,
    "http://eecs.berkeley.edu/~rich.zhang/projects/2016_colorization/files/demo_v2/"
    + ZHANG_WEIGHTS_NAME,
)
ZHANG_SIZE = 128_946_764
# Published by OpenCV for this very URL (opencv_extra testdata/dnn/download_models.py).
# No SHA-256 is published; SHA-1 plus the exact size identifies the file.
ZHANG_SHA1 = "21e61293a3fa6747308171c11b6dd18a68a26e7f"
ZHANG_URL_ENV = "COLORIZER_ZHANG_URL"

# Layers the colorization net must have (checked by name, without OpenCV).
_REQUIRED_LAYERS = (b"conv8_313", b"class8_ab", b"conv1_2norm")


class CaffeModelError(ValueError):
    """The file is not a Caffe model of the expected kind; the message says why."""


def zhang_urls(base_url: str | None = None) -> list[str]:
    """Where to fetch the weights: ``base_url`` (or $COLORIZER_ZHANG_URL) + file name, else the official URLs."""
    base = base_url or os.environ.get(ZHANG_URL_ENV)
    if base:
        return [base.rstrip("/") + "/" + ZHANG_WEIGHTS_NAME]
    return list(ZHANG_URLS)


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
