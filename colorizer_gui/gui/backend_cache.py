"""The loaded backend, kept between jobs (``BackendCache``, ``BACKENDS``), the
user's choice of it (``BackendConfig``), and the out-of-memory fallback every
colorizing worker runs through: apart from the workers, which only use them.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..core.cpu_retry import run_with_cpu_retry
from .jobs import Cancelled, Job

log = logging.getLogger("colorizer_gui.gui.workers")  # the name its log lines have always carried


@dataclass(frozen=True)
class BackendConfig:
    """What the user chose in the controls."""

    name: str
    device: str = "auto"
    temperature: Optional[float] = None
    render_size: Optional[int] = None
    saturation: float = 1.0

    def on_cpu(self) -> "BackendConfig":
        return BackendConfig(self.name, "cpu", self.temperature, self.render_size, self.saturation)


class BackendCache:
    """Loaded backends, kept between jobs (loading a model takes seconds).

    Backends are not thread-safe, so ``lock`` is held while one predicts.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._cache: dict[tuple, Any] = {}

    def get(self, config: BackendConfig) -> Any:
        """A loaded backend for ``config`` (raises BackendError with a user message)."""
        from ..backends import BACKENDS as REGISTRY, create_backend

        cls = REGISTRY.get(config.name)
        weights = cls.weights_in_use() if cls is not None else None
        key = (config.name, config.device, config.temperature, str(weights))
        with self.lock:
            backend = self._cache.get(key)
            if backend is None:
                options = {}
                if cls is not None and cls.has_temperature and config.temperature is not None:
                    options["temperature"] = config.temperature
                backend = create_backend(config.name, device=config.device, **options)
                backend.load()
                self._cache.clear()  # one model in memory at a time
                self._cache[key] = backend
            return backend

    def clear(self) -> None:
        with self.lock:
            self._cache.clear()


BACKENDS = BackendCache()


def _colorize_with_fallback(job: Job, config: BackendConfig, run: Callable[[Any, BackendConfig], Any]) -> tuple[Any, str]:
    """Run ``run(backend, config)``; when the graphics card runs out of memory, run
    it again on the CPU (``core.cpu_retry``, as the command line does). Returns
    (result, note for the user). (A smaller render size on out-of-memory is the
    core's retry too, the same as the command line's.)"""
    def attempt(cfg: BackendConfig) -> Any:
        if job.should_stop():
            raise Cancelled()
        with BACKENDS.lock:
            return run(BACKENDS.get(cfg), cfg)

    on_cpu = config.on_cpu if config.device != "cpu" else None
    result, _used, note = run_with_cpu_retry(attempt, config, on_cpu, _out_of_memory)
    return result, note


def _out_of_memory(err: BaseException) -> None:
    log.warning("out of memory: %s", err)
    _free_cuda_memory()


def _free_cuda_memory() -> None:
    BACKENDS.clear()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - best effort
        pass
