"""Generator weights on disk: safetensors only, with what rebuilds the model in metadata.

A file is never unpickled: ``load_generator`` and ``read_metadata`` check the
extension and the safetensors header bytes first, and refuse anything else
(e.g. a PyTorch ``.pth`` pickle) with ``WeightsError`` before any loader runs.

Metadata (all strings): ``format_version``, ``arch``, ``config`` (JSON kwargs of
``build_generator``), ``input_norm`` ("L/50-1"), ``output_norm`` ("ab/110"),
``train_size``, ``data_summary``, ``metrics``, ``created`` (ISO time), plus any
other keys the caller passes (dicts and lists are JSON-encoded).

This module imports torch only inside the functions that need it, so
``read_metadata`` is cheap (the CLI's ``models`` listing uses it).
"""
from __future__ import annotations

import datetime as _dt
import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..core.atomic import atomic_write
from .errors import WeightsError
from .inference import AB_SCALE, L_CENTER

if TYPE_CHECKING:
    import torch

FORMAT_VERSION = "1"
# Written into every file and checked on load, from the one owner of the numbers.
INPUT_NORM = f"L/{L_CENTER:g}-1"
OUTPUT_NORM = f"ab/{AB_SCALE:g}"
SUFFIX = ".safetensors"
# A real header is a few tens of kB; anything huge is not a generator file.
_MAX_HEADER_BYTES = 16 * 1024 * 1024


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _read_header(path: Path) -> dict:
    """Validate that ``path`` is a safetensors file and return its JSON header.

    Checks the extension, then the first bytes: an 8-byte little-endian header
    length followed by a JSON object. Pickles (``.pth``/``.pt``/``.ckpt``), zip
    archives and anything else fail here, before any loader sees the file.
    """
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise WeightsError(
            f"{path.name}: not a safetensors file (extension {path.suffix or 'none'!r}). "
            "Colorizer only loads .safetensors model files; it never opens pickled "
            ".pth/.pt/.ckpt files because they can run code.")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            prefix = fh.read(8)
            if len(prefix) < 8:
                raise WeightsError(f"{path.name}: file too short to be a safetensors model")
            (header_len,) = struct.unpack("<Q", prefix)
            if header_len < 2 or header_len > min(_MAX_HEADER_BYTES, size - 8):
                raise WeightsError(
                    f"{path.name}: not a safetensors file (bad header); it may be a pickle "
                    "renamed to .safetensors, which Colorizer refuses to open")
            raw = fh.read(header_len)
    except FileNotFoundError:
        raise WeightsError(f"Model file not found: {path}") from None
    except OSError as err:
        raise WeightsError(f"Cannot read model file {path}: {err.strerror or err}") from None
    if not raw.lstrip().startswith(b"{"):
        raise WeightsError(f"{path.name}: not a safetensors file (header is not JSON)")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WeightsError(f"{path.name}: damaged safetensors header") from None
    if not isinstance(header, dict):
        raise WeightsError(f"{path.name}: damaged safetensors header")
    return header


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata of a generator file (all strings), without importing torch.

    Raises ``WeightsError`` for anything that is not a safetensors file.
    """
    meta = _read_header(Path(path)).get("__metadata__") or {}
    if not isinstance(meta, dict):
        raise WeightsError(f"{Path(path).name}: damaged safetensors metadata")
    return {str(k): str(v) for k, v in meta.items()}


def save_generator(model: "torch.nn.Module", path: Path, metadata: Mapping[str, Any] | None = None,
                   fp16: bool = True) -> Path:
    """Write ``model``'s weights to ``path`` (.safetensors), atomically.

    ``metadata`` may carry ``train_size``, ``data_summary``, ``metrics`` and any
    other keys; dicts are JSON-encoded. ``format_version``, ``arch``, ``config``
    and the normalisations are always taken from the model. Floating-point
    tensors are stored as fp16 when ``fp16`` (half the size; loading gives fp32).
    The file is written to a temp file in the same folder and renamed into place.
    """
    import torch
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise WeightsError(f"Model files must end in {SUFFIX}: {path.name}")
    # Unwrap DistributedDataParallel (.module) and torch.compile (._orig_mod) so
    # the file holds the plain generator's keys.
    while True:
        if hasattr(model, "_orig_mod"):
            model = model._orig_mod
        elif not hasattr(model, "arch") and hasattr(model, "module"):
            model = model.module
        else:
            break
    meta = {"train_size": "", "data_summary": "", "metrics": "{}",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    meta.update({str(k): _as_text(v) for k, v in (metadata or {}).items()})
    meta.update({
        "format_version": FORMAT_VERSION,
        "arch": str(model.arch),
        "config": json.dumps(model.config, sort_keys=True),
        "input_norm": INPUT_NORM,
        "output_norm": OUTPUT_NORM,
    })
    tensors = {}
    for key, value in model.state_dict().items():
        value = value.detach().to("cpu")
        if fp16 and value.is_floating_point():
            value = value.to(torch.float16)
        tensors[key] = value.contiguous()
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))


def _check_metadata(name: str, meta: Mapping[str, str]) -> tuple[str, dict]:
    from .generators import ARCHITECTURES

    arch = meta.get("arch")
    if not arch:
        raise WeightsError(f"{name}: not a Colorizer generator (no 'arch' in its metadata)")
    if arch not in ARCHITECTURES:
        raise WeightsError(f"{name}: unknown architecture {arch!r}; this version knows "
                           f"{', '.join(ARCHITECTURES)}")
    if meta.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        raise WeightsError(f"{name}: format version {meta.get('format_version')!r} is not "
                           f"supported (this version reads {FORMAT_VERSION})")
    for key, expected in (("input_norm", INPUT_NORM), ("output_norm", OUTPUT_NORM)):
        if meta.get(key, expected) != expected:
            raise WeightsError(f"{name}: {key} is {meta[key]!r}, this app expects {expected!r}")
    try:
        config = json.loads(meta.get("config") or "{}")
    except ValueError:
        raise WeightsError(f"{name}: damaged 'config' in metadata") from None
    if not isinstance(config, dict):
        raise WeightsError(f"{name}: damaged 'config' in metadata")
    config.pop("pretrained", None)  # never fetch ImageNet weights to rebuild a trained file
    return arch, config


def load_generator(path: Path, device: str = "cpu") -> tuple["torch.nn.Module", dict[str, str]]:
    """Rebuild the generator stored in ``path`` and load its weights (fp32, eval mode).

    Needs nothing but the file: architecture and options come from its
    metadata. Keys and shapes must match exactly; otherwise ``WeightsError``
    lists the first mismatches. Returns ``(model, metadata)``.
    """
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from . import weights_check
    from .generators import build_generator

    path = Path(path)
    header = _read_header(path)
    meta = {str(k): str(v) for k, v in (header.get("__metadata__") or {}).items()}
    arch, config = _check_metadata(path.name, meta)
    weights_check.check_header(path, arch, config, header)  # bounds and tensor list, before any build
    try:
        model = build_generator(arch, **config)
    except ValueError as err:
        raise WeightsError(f"{path.name}: cannot rebuild {arch}: {err}") from None
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{path.name}: damaged safetensors file ({err})") from None
    own = model.state_dict()  # names and shapes already match: check_header compared them
    for key, value in state.items():
        if value.is_floating_point():
            state[key] = value.to(own[key].dtype)
    model.load_state_dict(state, strict=True)
    weights_check.check_loaded(path.name, model.eval())  # no NaN/Inf; a tiny forward is finite
    model.to(torch.device(device))
    model.eval()
    return model, meta
