"""Checks a generator file must pass before Colorizer trusts it: the one place.

``weights_io.load_generator`` calls these, so every entry point that loads a
model (``colorize --weights``, ``models import`` and ``set-default``, ``train
--init``, the GUI's Models menu, the cgan backend) refuses the same files with
the same message, which names the user's file:

1. ``check_header``, before anything is built or read beyond the header: the
   network config in the metadata is bounded (each known option by type and
   range; a model no bigger than real ones), the parameter count is taken from
   a shape-only build on PyTorch's "meta" device (no memory), and the header's
   tensor names, shapes and dtypes must be exactly those of that network, with
   floating-point tensors stored as fp16, fp32 or bf16 only.
2. ``check_loaded``, after the tensors are in the model: no NaN or Inf, and a
   tiny forward pass gives finite output of the right shape.

Options of a known architecture that this module does not know are still
type-checked (small whole numbers, flags, short lists of widths) and then left
to ``build_generator``, which refuses keywords its builder does not take.
"""
from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .errors import WeightsError

if TYPE_CHECKING:
    import torch

#: The most parameters a generator file may ask for. The largest real model,
#: pix2pix unet_256 with ngf=64, has 54.4 M; the shipped lite0-unet has 4.4 M.
MAX_PARAMETERS = 64_000_000
#: Widest decoder stage or base width a real model uses (default decoder: 192..16).
MAX_WIDTH = 1024
#: Longest list option (lite0-unet's decoder has 5 stages).
MAX_LIST_LENGTH = 8
#: Extra input channels (colour hints: an ab map and a mask need 3).
MAX_HINT_CHANNELS = 16
#: Classes of an optional classification head (ImageNet has 1000).
MAX_CLASSES = 1000
#: Floating-point storage a generator file may use (safetensors dtype names).
FLOAT_DTYPES = frozenset({"F16", "F32", "BF16"})
#: Integer storage allowed where the network itself holds integers (BatchNorm's counter).
INT_DTYPES = frozenset({"I64", "I32"})
_SHOW = 8


class WeightsCheckError(WeightsError):
    """A model file failed a check; ``str(err)`` names the file and says why."""


def _width(name: str, key: str, value: Any, low: int = 1, high: int = MAX_WIDTH) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WeightsCheckError(f"{name}: {key}={value!r} in its metadata is not a width real models have "
                                f"(a whole number from {low} to {high})")
    return value


def _widths(name: str, key: str, value: Any) -> list[int]:
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_LIST_LENGTH:
        raise WeightsCheckError(f"{name}: {key} in its metadata must be a list of 1 to "
                                f"{MAX_LIST_LENGTH} widths, got {str(value)[:80]}")
    return [_width(name, key, v) for v in value]


def _flag(name: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise WeightsCheckError(f"{name}: {key}={value!r} in its metadata must be true or false")
    return value


def _gain(name: str, key: str, value: Any) -> float:
    from .generators import AB_GAIN_RANGE

    low, high = AB_GAIN_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise WeightsCheckError(f"{name}: {key}={str(value)[:40]} in its metadata is not valid "
                                f"(a number from {low} to {high})")
    return float(value)


# Known options, by architecture: a checker each (type and range).
_KNOWN: dict[str, dict[str, Callable[[str, str, Any], Any]]] = {
    "lite0-unet": {
        "decoder_channels": _widths,
        "pretrained": _flag,
        "hint_channels": lambda n, k, v: _width(n, k, v, 0, MAX_HINT_CHANNELS),
        "num_classes": lambda n, k, v: _width(n, k, v, 0, MAX_CLASSES),
        "ab_gain": _gain,
    },
    "pix2pix": {
        "ngf": lambda n, k, v: _width(n, k, v, 1, 128),
        "hint_channels": lambda n, k, v: _width(n, k, v, 0, MAX_HINT_CHANNELS),
    },
}


def _unknown_option(name: str, key: str, value: Any) -> None:
    """Options this module does not know still get a size check: whole numbers
    up to ``MAX_CLASSES``, flags, short strings, short lists of widths."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        _width(name, key, value, 0, max(MAX_WIDTH, MAX_CLASSES))
    elif isinstance(value, float):
        if not math.isfinite(value) or abs(value) > 1e6:
            raise WeightsCheckError(f"{name}: {key}={value!r} in its metadata is out of range")
    elif isinstance(value, str):
        if len(value) > 64:
            raise WeightsCheckError(f"{name}: {key} in its metadata is too long")
    elif isinstance(value, (list, tuple)):
        _widths(name, key, value)
    else:
        raise WeightsCheckError(f"{name}: {key} in its metadata has an unexpected type")


def check_config(name: str, arch: str, config: Mapping[str, Any]) -> None:
    """Bound every option of ``config`` (from a file's metadata) before anything is built."""
    if len(config) > 16:
        raise WeightsCheckError(f"{name}: too many options in its metadata ({len(config)})")
    known = _KNOWN.get(arch, {})
    for key, value in config.items():
        if not isinstance(key, str) or len(key) > 64:
            raise WeightsCheckError(f"{name}: an option name in its metadata is not valid")
        if key in known:
            known[key](name, key, value)
        else:
            _unknown_option(name, key, value)


def _shape_only_model(name: str, arch: str, config: Mapping[str, Any]) -> "torch.nn.Module":
    """The network of ``arch``/``config`` with no memory behind its tensors."""
    import torch

    from .generators import build_generator

    try:
        with torch.device("meta"):
            return build_generator(arch, **config)
    except (ValueError, TypeError) as err:
        raise WeightsCheckError(f"{name}: cannot rebuild {arch}: {err}") from None


def check_header(path: Path, arch: str, config: Mapping[str, Any], header: Mapping[str, Any]) -> None:
    """Refuse a file whose config, size or tensor list does not describe a real
    ``arch`` generator, reading nothing but the safetensors header (already
    parsed into ``header``)."""
    name = path.name
    with open(path, "rb") as fh:
        (header_size,) = struct.unpack("<Q", fh.read(8))
        file_size = os.fstat(fh.fileno()).st_size
    check_config(name, arch, config)
    expected = _shape_only_model(name, arch, config).state_dict()
    count = sum(t.numel() for t in expected.values())
    if count > MAX_PARAMETERS:
        raise WeightsCheckError(f"{name}: its metadata asks for a {arch} network of {count / 1e6:.0f} M "
                                f"parameters; real models have at most {MAX_PARAMETERS / 1e6:.0f} M")
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    problems = [f"missing {k}" for k in expected if k not in tensors]
    problems += [f"unexpected {k}" for k in tensors if k not in expected]
    end = 0
    for key, want in expected.items():
        info = tensors.get(key)
        if not isinstance(info, dict):
            continue
        shape, dtype = info.get("shape"), info.get("dtype")
        if list(shape or ()) != list(want.shape):
            problems.append(f"{key}: file {tuple(shape or ())} vs {arch} {tuple(want.shape)}")
        allowed = FLOAT_DTYPES if want.is_floating_point() else INT_DTYPES
        if dtype not in allowed:
            problems.append(f"{key} is stored as {dtype}, not {'/'.join(sorted(allowed))}")
        offsets = info.get("data_offsets") or [0, 0]
        end = max(end, int(offsets[-1]) if isinstance(offsets[-1], int) else 0)
    if problems:
        more = f" (and {len(problems) - _SHOW} more)" if len(problems) > _SHOW else ""
        raise WeightsCheckError(f"{name}: weights do not fit a {arch} generator with {json.dumps(dict(config))}: "
                                f"{'; '.join(problems[:_SHOW])}{more}")
    if file_size != 8 + header_size + end:
        raise WeightsCheckError(f"{name}: the file is {file_size} bytes but its tensors end at byte "
                                f"{8 + header_size + end}; it is damaged or has something appended")


def nonfinite_tensors(state: Mapping[str, "torch.Tensor"]) -> list[str]:
    """Names of the floating-point tensors in ``state`` that hold NaN or Inf."""
    import torch

    return [key for key, value in state.items()
            if value.is_floating_point() and not bool(torch.isfinite(value).all())]


def check_loaded(name: str, model: "torch.nn.Module") -> None:
    """Refuse weights with NaN or Inf, or whose tiny test forward is not finite.
    ``model`` is on the CPU, in eval mode, with the file's tensors loaded."""
    import torch

    bad = nonfinite_tensors(model.state_dict())
    if bad:
        more = f" (and {len(bad) - _SHOW} more)" if len(bad) > _SHOW else ""
        raise WeightsCheckError(f"{name}: the weights hold NaN or infinite numbers "
                                f"({', '.join(bad[:_SHOW])}{more}); the file is broken")
    size = max(64, int(getattr(model, "size_multiple", 32)))
    in_channels = _input_channels(model)
    probe = torch.linspace(-1.0, 1.0, size * size).reshape(1, 1, size, size)
    if in_channels > 1:  # hint inputs (if any): none given
        probe = torch.cat([probe, torch.zeros(1, in_channels - 1, size, size)], dim=1)
    with torch.inference_mode():
        out = model(probe)
    out = out[0] if isinstance(out, (tuple, list)) else out
    if tuple(out.shape[-3:]) != (2, size, size) or not bool(torch.isfinite(out).all()):
        raise WeightsCheckError(f"{name}: a test run of the model gives unusable output "
                                f"(shape {tuple(out.shape)}, finite: {bool(torch.isfinite(out).all())})")


def _input_channels(model: "torch.nn.Module") -> int:
    """Channels the first convolution takes (1 = L only; more with colour hints)."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            return int(module.in_channels)
    return 1
