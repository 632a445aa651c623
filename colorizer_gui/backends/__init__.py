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


def has_temperature(name: str) -> bool:
    """Whether the temperature control applies to the backend called ``name``."""
    cls = BACKENDS.get(name)
    return bool(cls is not None and cls.has_temperature)


def downloadable_backends() -> list[str]:
    """Names of the backends whose model files can be downloaded, in menu order."""
    return [name for name, cls in BACKENDS.items() if cls.can_download]


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
    "DEFAULT_BACKEND", "backend_names", "create_backend", "downloadable_backends", "has_temperature",
]
