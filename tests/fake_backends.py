"""Test-only backends for the batch engine and the workers: ab from L by a fixed
formula (fast, deterministic, recording which thread called it), and one that runs
out of memory above a size."""
from __future__ import annotations

import threading
from typing import Optional

import numpy as np

from colorizer_gui.backends.base import Availability, Backend


class FormulaBackend(Backend):
    """Test-only backend: a = (L - 50) * 0.4, b = 25, at a quarter of the photo's size."""

    name = "formula"
    title = "Formula (tests)"

    def __init__(self, fail_on_width: Optional[int] = None, error: Optional[BaseException] = None) -> None:
        super().__init__()
        self.loads = 0
        self.calls = 0
        self.threads: set[int] = set()
        self.fail_on_width = fail_on_width
        self.error = error

    def availability(self) -> Availability:
        return Availability(True)

    def load(self) -> None:
        self.loads += 1

    def render_shape(self, height: int, width: int, render_size: Optional[int]) -> tuple[int, int]:
        if render_size:
            return render_size, render_size
        return max(1, height // 4), max(1, width // 4)

    def predict_ab(self, lightness: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.threads.add(threading.get_ident())
        if self.fail_on_width is not None and lightness.shape[1] == self.fail_on_width // 4:
            raise self.error or RuntimeError("boom")
        ab = np.empty(lightness.shape + (2,), np.float32)
        ab[:, :, 0] = (lightness - 50.0) * 0.4
        ab[:, :, 1] = 25.0
        return ab


class RunsOutOfMemoryWhenLarge(FormulaBackend):
    """Raises ``error`` whenever it is given L with a side longer than ``limit``."""

    def __init__(self, limit: int, error: BaseException) -> None:
        super().__init__()
        self.limit, self.error, self.sizes = limit, error, []

    def predict_ab(self, lightness: np.ndarray) -> np.ndarray:
        self.sizes.append(max(lightness.shape))
        if max(lightness.shape) > self.limit:
            raise self.error
        return super().predict_ab(lightness)
