"""Which torch device to run on: one rule for the cgan backend and for training."""
from __future__ import annotations

from typing import Any

from ..core.errors import UserError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


class DeviceError(UserError):
    """The device asked for is unknown or not here; the message says what to use."""


def pick_device(choice: str, local_rank: int = 0) -> Any:
    """``torch.device`` for ``auto`` (CUDA when PyTorch sees a GPU, else CPU),
    ``cpu``, ``cuda`` (GPU ``local_rank``: one per process under torchrun) or
    ``cuda:N``. Raises ``DeviceError`` for an unknown choice or a missing GPU."""
    import torch

    if choice not in DEVICE_CHOICES and not choice.startswith("cuda:"):
        raise DeviceError(f"Unknown device {choice!r}; use auto, cpu or cuda")
    if choice == "cpu" or (choice == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceError(f"Device {choice!r} was asked for, but PyTorch sees no CUDA GPU here "
                          "(no NVIDIA driver, or a CPU-only PyTorch). Use --device cpu or auto.")
    if choice.startswith("cuda:"):
        return torch.device(choice)
    return torch.device("cuda", local_rank)
