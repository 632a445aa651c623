"""Build a Zhang-shaped .caffemodel with random weights, for tests.

The Caffe protobuf wire format is written directly (no protobuf/caffe needed):
NetParameter {100: layer} -> LayerParameter {1: name, 2: type, 7: blobs} ->
BlobProto {7: shape BlobShape {1: dim (packed int64)}, 5: data (packed float)}.
Blob shapes come from the project's own prototxt, so the real OpenCV loading
code reads the result exactly as it would read the released weights.

    write_random_zhang_caffemodel(path, seed=0) -> path      (~129 MB)
    cached_random_zhang_caffemodel(seed=0) -> path           (written once per process)
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from colorizer_gui.backends.zhang import PROTOTXT_NAME, package_file
from colorizer_gui.backends.zhang_prototxt import Layer, read_layers

_CACHE: dict[int, Path] = {}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _blob(array: np.ndarray) -> bytes:
    """LayerParameter field 7 holding one BlobProto."""
    shape = _field(1, b"".join(_varint(int(d)) for d in array.shape))
    data = _field(5, np.ascontiguousarray(array, dtype="<f4").tobytes())
    return _field(7, _field(7, shape) + data)


def _blob_shapes(layers: list[Layer]) -> dict[str, list[tuple[int, ...]]]:
    """Each weighted layer's blob shapes, following channel counts through the net."""
    channels: dict[str, int] = {}
    shapes: dict[str, list[tuple[int, ...]]] = {}
    for layer in layers:
        if layer.type == "Input":
            channels[layer.top[0]] = int(layer.params["input_param.shape.dim"][1])
            continue
        cin = channels.get(layer.bottom[0]) if layer.bottom else None
        if layer.type in ("Convolution", "Deconvolution"):
            cout = int(layer.param("convolution_param.num_output"))
            k = int(layer.param("convolution_param.kernel_size"))
            weight = (cout, cin, k, k) if layer.type == "Convolution" else (cin, cout, k, k)
            shapes[layer.name] = [weight, (cout,)]
            channels[layer.top[0]] = cout
        elif layer.type == "BatchNorm":
            shapes[layer.name] = [(cin,), (cin,), (1,)]  # mean, variance, moving-average factor
            channels[layer.top[0]] = cin
        elif layer.type == "Scale":
            shapes[layer.name] = [(cin,)]
            channels[layer.top[0]] = cin
        elif layer.top:
            channels[layer.top[0]] = cin
    return shapes


def _random_blobs(name: str, shapes: list[tuple[int, ...]], rng: np.random.Generator) -> list[np.ndarray]:
    if len(shapes) == 3:  # BatchNorm: zero mean, unit variance, factor 1 -> identity
        return [np.zeros(shapes[0], np.float32), np.ones(shapes[1], np.float32), np.ones(1, np.float32)]
    if len(shapes) == 1:  # Scale: the release's 2.606 (the backend replaces it anyway)
        return [np.full(shapes[0], 2.606, np.float32)]
    weight_shape, bias_shape = shapes
    fan_in = int(np.prod(weight_shape[1:]))
    # He scaling keeps activations O(1) through the ReLUs; the input L-50 spans
    # +-50, so the first layer is scaled down to match.
    std = np.sqrt(2.0 / fan_in) / (50.0 if name == "bw_conv1_1" else 1.0)
    weight = rng.standard_normal(weight_shape, dtype=np.float32) * np.float32(std)
    bias = rng.standard_normal(bias_shape, dtype=np.float32) * np.float32(0.1)
    return [weight, bias]


def write_random_zhang_caffemodel(path: Path, seed: int = 0) -> Path:
    """Write a random-weight model with the Zhang net's layers and blob shapes to ``path``."""
    path = Path(path)
    layers = read_layers(package_file(PROTOTXT_NAME).read_text(encoding="utf-8"))
    shapes = _blob_shapes(layers)
    rng = np.random.default_rng(seed)
    with open(path, "wb") as out:
        out.write(_field(1, b"LtoAB"))
        for layer in layers:
            if layer.name not in shapes:
                continue
            body = _field(1, layer.name.encode()) + _field(2, layer.type.encode())
            body += b"".join(_blob(b) for b in _random_blobs(layer.name, shapes[layer.name], rng))
            out.write(_field(100, body))
    return path


def cached_random_zhang_caffemodel(seed: int = 0) -> Path:
    """The random model for ``seed``, written once per test process into a temp folder."""
    if seed not in _CACHE or not _CACHE[seed].is_file():
        folder = Path(tempfile.mkdtemp(prefix="zhang-random-"))
        _CACHE[seed] = write_random_zhang_caffemodel(folder / f"random_zhang_{seed}.caffemodel", seed)
    return _CACHE[seed]


