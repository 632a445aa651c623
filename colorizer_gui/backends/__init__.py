"""Backend registry: an explicit dict (no import-time folder scanning, so
PyInstaller sees every import). The CLI's choices and the GUI's menu come from it.

Importing this package is cheap: backend modules import torch/OpenCV DNN only
when a backend is loaded.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from .base import Availability, Backend, BackendError, MissingWeightsError
from .cgan import CganBackend
from .zhang import ZhangBackend

BACKENDS: dict[str, type[Backend]] = {
    "cgan": CganBackend,
    "zhang": ZhangBackend,
}

DEFAULT_BACKEND = "cgan"


def backend_names() -> list[str]:
    """Registry keys in menu order."""
    return list(BACKENDS)


def create_backend(name: str, weights: Optional[Path] = None, device: str = "auto",
                   **options: object) -> Backend:
    """Build (but do not load) the backend called ``name``.

    ``options`` are backend-specific (e.g. ``temperature`` for zhang); unknown
    options for a backend are an error rather than silently ignored.
    """
    try:
        cls = BACKENDS[name]
    except KeyError:
        raise BackendError(f"Unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}") from None
    return cls(weights=weights, device=device, **options)  # type: ignore[call-arg]


__all__ = [
    "Availability", "Backend", "BackendError", "MissingWeightsError", "BACKENDS",
    "DEFAULT_BACKEND", "backend_names", "create_backend",
]
