"""Out of graphics-card memory, the command line colorizes those photos on the CPU, the
same retry (core.cpu_retry) the window's workers use."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import pytest
from PIL import Image

from colorizer_gui import backends, cli
from colorizer_gui.backends.base import Availability, Backend
from colorizer_gui.core.cpu_retry import CPU_NOTE, run_with_cpu_retry

from photo_factory import gray_scene, make_png


class CudaOutOfMemory(RuntimeError):
    """The type name torch gives it (``torch.OutOfMemoryError``) is not needed: the message is."""


class SmallCardBackend(Backend):
    """Test-only backend: on "cuda" every prediction runs out of memory, as a card too
    small for the model does; on the CPU it gives a = 20, b = -10."""

    name = "smallcard"
    title = "Small card (tests)"
    made: list[str] = []

    def __init__(self, weights: Optional[Path] = None, device: str = "auto") -> None:
        super().__init__(weights=weights, device=device)
        self.loaded_device = "cuda" if device in ("auto", "cuda") else "cpu"
        SmallCardBackend.made.append(self.loaded_device)

    def availability(self) -> Availability:
        return Availability(True)

    def load(self) -> None:
        """Nothing to load."""

    def render_shape(self, height: int, width: int, render_size: Optional[int]) -> tuple[int, int]:
        return max(1, height // 2), max(1, width // 2)

    def predict_ab(self, lightness: np.ndarray) -> np.ndarray:
        if self.loaded_device == "cuda":
            raise CudaOutOfMemory("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 4.00 GiB total)")
        ab = np.empty(lightness.shape + (2,), np.float32)
        ab[..., 0], ab[..., 1] = 20.0, -10.0
        return ab


@pytest.fixture
def small_card(monkeypatch):
    SmallCardBackend.made = []
    monkeypatch.setitem(backends.BACKENDS, "smallcard", SmallCardBackend)
    return SmallCardBackend


def test_the_command_line_colorizes_on_the_cpu_when_the_card_runs_out_of_memory(tmp_path, small_card, capsys):
    for name in ("a", "b"):
        make_png(tmp_path / "in" / f"{name}.png", gray_scene(40, 60, seed=len(name)))
    code = cli.main(["colorize", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
                     "--backend", "smallcard", "--device", "cuda"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_OK, err
    assert small_card.made == ["cuda", "cpu"]  # one CPU copy of the backend, for both photos
    for name in ("a", "b"):
        with Image.open(tmp_path / "out" / f"{name}_color.png") as im:
            rgb = np.asarray(im.convert("RGB")).astype(int)
        assert (rgb[..., 0] - rgb[..., 2]).mean() > 5  # the CPU's reddish colours, not gray
    assert "FAILED" not in err


def test_on_the_cpu_already_out_of_memory_is_a_failure_not_a_loop():
    result, used, note = run_with_cpu_retry(lambda first: first * 2, 21, None)
    assert (result, used, note) == (42, 21, "")

    def always_out(_first: int) -> int:
        raise MemoryError("out of memory")

    with pytest.raises(MemoryError):
        run_with_cpu_retry(always_out, 1, None)
    with pytest.raises(MemoryError):  # a second out-of-memory on the CPU is raised as it is
        run_with_cpu_retry(always_out, 1, lambda: 2)
    freed = []
    result, used, note = run_with_cpu_retry(lambda d: 10 // (d - 1) if d == 2 else always_out(d), 1,
                                            lambda: 2, freed.append)
    assert (result, used, note) == (10, 2, CPU_NOTE) and len(freed) == 1


def test_on_the_cpu_the_command_line_reports_out_of_memory_per_photo(tmp_path, small_card, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr(SmallCardBackend, "predict_ab", lambda self, l: (_ for _ in ()).throw(
        MemoryError("CPU out of memory")))
    make_png(tmp_path / "in" / "a.png", gray_scene(40, 60))
    code = cli.main(["colorize", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
                     "--backend", "smallcard", "--device", "cpu"])
    assert code == cli.EXIT_FAILED and small_card.made == ["cpu"]
    assert "FAILED" in capsys.readouterr().err
