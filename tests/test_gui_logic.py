"""GUI logic that needs no window: the out-of-memory fallback, the fine-tune time estimate."""
from __future__ import annotations

import pytest

from colorizer_gui.gui import workers
from colorizer_gui.gui.workers import BackendConfig


class _Job:
    def should_stop(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def no_real_backends(monkeypatch):
    """The fallback logic is under test, not model loading."""
    monkeypatch.setattr(workers.BACKENDS, "get", lambda config: object())


def test_out_of_memory_at_the_users_render_size_retries_at_the_models_own():
    tried = []

    def run(backend, cfg):
        tried.append((cfg.device, cfg.render_size))
        if cfg.render_size is not None:
            raise RuntimeError("CPU out of memory while allocating 3 GB")
        return "colours"

    result, note = workers._colorize_with_fallback(
        _Job(), BackendConfig("cgan", "cpu", render_size=768), run)
    assert result == "colours" and tried == [("cpu", 768), ("cpu", None)]
    assert "model's own render size" in note


def test_out_of_memory_at_the_models_own_size_is_reported_not_retried_the_same():
    tried = []

    def run(backend, cfg):
        tried.append(cfg.render_size)
        raise RuntimeError("CPU out of memory")

    with pytest.raises(Exception, match="out of memory"):
        workers._colorize_with_fallback(_Job(), BackendConfig("cgan", "cpu"), run)
    assert tried == [None]


def test_fine_tune_estimate_counts_start_up_and_reading_the_photos():
    from colorizer_gui.gui.finetune import PRESETS, STARTUP_S, estimate_seconds

    quick = PRESETS["quick"]
    one, _ = estimate_seconds(1, quick, "cpu", {"cpu": 1e9})  # training itself ~free
    assert STARTUP_S <= one < STARTUP_S + 1
    few, source = estimate_seconds(100, quick, "cpu", {"cpu": 10.0})
    many, _ = estimate_seconds(1000, quick, "cpu", {"cpu": 10.0})
    assert many > 9 * (few - STARTUP_S) and "measured" in source
    typical, source = estimate_seconds(100, quick, "cpu")
    assert "typical" in source and typical > STARTUP_S
