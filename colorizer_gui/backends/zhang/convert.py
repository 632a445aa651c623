"""Write the Zhang ECCV16 net's weights as a Caffe ``.caffemodel``, and convert
the authors' PyTorch release into one.

The authors now host the ECCV16 weights as a PyTorch file
(``colorization_release_v2-9b330a0b.pth``, richzhang/colorization's
``colorizers/eccv16.py``); the OpenCV backend reads Caffe. The conversion is
done once, at download time, after the file's SHA-256 matched the published
one, and the file is opened with ``torch.load(weights_only=True)`` (tensors
only, never arbitrary pickled objects).

The Caffe protobuf wire format is written directly (no protobuf or Caffe
needed): NetParameter {1: name, 100: layer} -> LayerParameter {1: name,
2: type, 7: blobs} -> BlobProto {7: shape BlobShape {1: dim}, 5: data (packed
float)}. Blob shapes follow the backend's own prototxt.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ...core.atomic import atomic_write
from ..base import BackendError
from .files import PROTOTXT_NAME, package_file
from .prototxt import Layer, read_layers

# The PyTorch port feeds (L - 50) / 100 where the Caffe net takes L - 50, and
# applies the softmax to the logits directly where Caffe scales them by 2.606
# (the release temperature) first; the conversion undoes both.
_TORCH_L_SCALE = 100.0
_RELEASE_LOGIT_SCALE = 2.606
_AB_NORM = 128.0  # the port's model_out gives ab / 128
_BN_EPS = 1e-5    # both Caffe's and PyTorch's default

# Caffe layer -> PyTorch module prefix in eccv16's state dict, in net order.
# model1..7 are (conv, ReLU)* then BatchNorm; model8 is deconv, two convs and
# the 313-bin classifier; model_out holds the bin centres.
_TORCH_NAMES: dict[str, str] = {
    "bw_conv1_1": "model1.0", "conv1_2": "model1.2", "conv1_2norm": "model1.4",
    "conv2_1": "model2.0", "conv2_2": "model2.2", "conv2_2norm": "model2.4",
    **{f"conv{i}_{j}": f"model{i}.{2 * (j - 1)}" for i in range(3, 8) for j in (1, 2, 3)},
    **{f"conv{i}_3norm": f"model{i}.6" for i in range(3, 8)},
    "conv8_1": "model8.0", "conv8_2": "model8.2", "conv8_3": "model8.4", "conv8_313": "model8.6",
}


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
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _blob(array: np.ndarray) -> bytes:
    """LayerParameter field 7 holding one BlobProto."""
    shape = _field(1, b"".join(_varint(int(d)) for d in array.shape))
    data = _field(5, np.ascontiguousarray(array, dtype="<f4").tobytes())
    return _field(7, _field(7, shape) + data)


def blob_shapes(layers: list[Layer]) -> dict[str, list[tuple[int, ...]]]:
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


def zhang_layers() -> list[Layer]:
    """The layers of the backend's Zhang deploy net."""
    return read_layers(package_file(PROTOTXT_NAME).read_text(encoding="utf-8"))


def write_caffemodel(path: Path, blobs: Mapping[str, list[np.ndarray]]) -> Path:
    """Write ``blobs`` (layer name -> arrays) as the Zhang net's .caffemodel at ``path``.

    Every weighted layer of the prototxt must be given, with its exact shapes;
    ``ValueError`` otherwise."""
    layers = zhang_layers()
    shapes = blob_shapes(layers)
    with open(path, "wb") as out:
        out.write(_field(1, b"LtoAB"))
        for layer in layers:
            if layer.name not in shapes:
                continue
            arrays = blobs.get(layer.name)
            got = [tuple(a.shape) for a in arrays] if arrays is not None else None
            if got != shapes[layer.name]:
                raise ValueError(f"layer {layer.name}: blobs {got}, the net needs {shapes[layer.name]}")
            body = _field(1, layer.name.encode()) + _field(2, layer.type.encode())
            body += b"".join(_blob(a) for a in arrays)
            out.write(_field(100, body))
    return Path(path)


def caffe_blobs_from_eccv16(state: Mapping[str, Any]) -> dict[str, list[np.ndarray]]:
    """The Caffe blobs equivalent to the PyTorch ECCV16 ``state`` (name -> tensor).

    At the release temperature the Caffe net then computes exactly what the
    PyTorch model does (before its final x4 upsampling)."""
    def get(key: str) -> np.ndarray:
        if key not in state:
            raise ValueError(f"the PyTorch file has no tensor {key!r}; it is not the ECCV16 release")
        value = state[key]
        return np.asarray(value.detach().cpu().float().numpy() if hasattr(value, "detach") else value,
                          dtype=np.float32)

    blobs: dict[str, list[np.ndarray]] = {}
    for caffe_name, prefix in _TORCH_NAMES.items():
        if caffe_name.endswith("norm"):
            blobs[caffe_name] = _batchnorm(get(f"{prefix}.weight"), get(f"{prefix}.bias"),
                                           get(f"{prefix}.running_mean"), get(f"{prefix}.running_var"))
            continue
        weight, bias = get(f"{prefix}.weight"), get(f"{prefix}.bias")
        if caffe_name == "bw_conv1_1":
            weight = weight / np.float32(_TORCH_L_SCALE)
        elif caffe_name == "conv8_313":
            weight, bias = weight / np.float32(_RELEASE_LOGIT_SCALE), bias / np.float32(_RELEASE_LOGIT_SCALE)
        blobs[caffe_name] = [weight, bias]
    centres = get("model_out.weight") * np.float32(_AB_NORM)  # (2, 313, 1, 1): the ab bins
    blobs["class8_ab"] = [centres, np.zeros(2, np.float32)]
    blobs["conv8_313_rh"] = [np.full(313, _RELEASE_LOGIT_SCALE, np.float32)]
    for name, arrays in blobs.items():
        if not all(np.isfinite(a).all() for a in arrays):
            raise ValueError(f"layer {name} holds NaN or infinite numbers")
    return blobs


def _batchnorm(weight: np.ndarray, bias: np.ndarray, mean: np.ndarray, var: np.ndarray) -> list[np.ndarray]:
    """Caffe's BatchNorm has no scale and shift: fold PyTorch's into its statistics.

    w (x - m) / s + b  ==  (x - m') / s'  with  s' = s / w,  m' = m - b s / w."""
    if (weight <= 0).any() or (var < 0).any():
        raise ValueError("a BatchNorm layer has non-positive scale or negative variance")
    std = np.sqrt(var + np.float32(_BN_EPS))
    new_std = std / weight
    new_mean = mean - bias * new_std
    new_var = np.maximum(new_std * new_std - np.float32(_BN_EPS), np.float32(0.0))
    return [new_mean.astype(np.float32), new_var.astype(np.float32), np.ones(1, np.float32)]


def convert_pth_to_caffemodel(pth: Path, dest: Path) -> Path:
    """Convert the authors' PyTorch ECCV16 release ``pth`` to a .caffemodel at ``dest``.

    Call only on a file whose hash already matched: even so it is opened with
    ``weights_only=True``, which unpickles plain tensors and containers and
    refuses anything else. Raises ``BackendError`` with a message for the user."""
    import torch

    try:
        state = torch.load(str(pth), map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any refusal by the safe loader means a bad file
        raise BackendError(f"{Path(pth).name} is not a readable PyTorch weights file ({err})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise BackendError(f"{Path(pth).name} does not hold a table of weights")
    try:
        blobs = caffe_blobs_from_eccv16(state)
        atomic_write(Path(dest), lambda tmp: write_caffemodel(Path(tmp), blobs))
    except ValueError as err:
        raise BackendError(f"{Path(pth).name} cannot be converted to the Zhang Caffe model: {err}") from None
    return Path(dest)
