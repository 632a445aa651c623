"""Training checkpoints: one safetensors file, written atomically.

Tensors (generator, discriminator, optimizer moments, RNG states) are the
safetensors payload; everything else (stage, epoch, step, best metric,
options, optimizer hyper-parameters, Python/NumPy RNG states) is JSON in the
file's metadata. Nothing is ever unpickled, so a checkpoint is as safe to open
as a model file.

Writes go to a temp file in the same folder, are fsync'ed, then renamed over
the old checkpoint: a crash at any moment leaves either the previous or the
new checkpoint, never a half-written one.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from colorizer_gui.core.atomic import atomic_write, atomic_write_bytes  # noqa: F401 (re-exported)
from colorizer_gui.core.errors import UserError

CHECKPOINT_NAME = "checkpoint.safetensors"
_META_KEY = "colorizer_checkpoint"
_FORMAT = "colorizer-train-1"


class CheckpointError(UserError, RuntimeError):
    """A checkpoint cannot be read; the message is for the user."""


def _encode(value: Any, prefix: str, tensors: dict) -> Any:
    """JSON-able form of ``value``; tensors move to ``tensors`` under a key."""
    import torch

    if isinstance(value, torch.Tensor):
        key = prefix
        tensors[key] = value.detach().to("cpu").clone().contiguous()
        return {"__tensor__": key}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v, f"{prefix}.{k}", tensors) for k, v in value.items()}
        return {"__items__": [[k, _encode(v, f"{prefix}.{k}", tensors)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{prefix}.{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{prefix}.{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def _decode(value: Any, tensors: dict) -> Any:
    if isinstance(value, dict):
        if "__tensor__" in value:
            return tensors[value["__tensor__"]]
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        if "__items__" in value:
            return {k: _decode(v, tensors) for k, v in value["__items__"]}
        if "__tuple__" in value:
            return tuple(_decode(v, tensors) for v in value["__tuple__"])
        return {k: _decode(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    return value


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    """Write a checkpoint ``state`` (nested dicts of tensors, numbers, strings) atomically."""
    from safetensors.torch import save_file

    tensors: dict = {}
    encoded = _encode(state, "ckpt", tensors)
    meta = {_META_KEY: json.dumps({"format": _FORMAT, "state": encoded})}
    return atomic_write(Path(path), lambda tmp: save_file(tensors, tmp, metadata=meta))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by ``save_checkpoint`` (tensors on the CPU)."""
    from safetensors import safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            meta = fh.metadata() or {}
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}
        payload = json.loads(meta[_META_KEY])
    except FileNotFoundError:
        raise CheckpointError(f"No checkpoint at {path}") from None
    except Exception as err:  # safetensors, JSON and missing-key errors all mean "not ours"
        raise CheckpointError(f"{path} is not a readable training checkpoint ({err})") from None
    if payload.get("format") != _FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {payload.get('format')!r}")
    return _decode(payload["state"], tensors)


def capture_rng_state() -> dict[str, Any]:
    """Python, NumPy and torch (CPU and CUDA) random states."""
    import random

    import torch

    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Undo ``capture_rng_state``."""
    import random

    import torch

    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    np.random.set_state(tuple(state["numpy"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"]))
