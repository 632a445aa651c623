"""GUI logic that needs no window: the out-of-memory fallback, the fine-tune time estimate,
job endings, the Models menu's model checks."""
from __future__ import annotations

import pytest

from colorizer_gui.gui import backend_cache, jobs, workers
from colorizer_gui.gui.backend_cache import BackendConfig


class _Job:
    def should_stop(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def no_real_backends(monkeypatch):
    """The fallback logic is under test, not model loading."""
    monkeypatch.setattr(backend_cache.BACKENDS, "get", lambda config: object())


def test_out_of_memory_on_the_graphics_card_runs_again_on_the_cpu():
    tried = []

    def run(backend, cfg):
        tried.append((cfg.device, cfg.render_size))
        if cfg.device == "cuda":
            raise RuntimeError("CUDA out of memory. Tried to allocate 3.00 GiB")
        return "colours"

    result, note = backend_cache._colorize_with_fallback(
        _Job(), BackendConfig("cgan", "cuda", render_size=768), run)
    assert result == "colours" and tried == [("cuda", 768), ("cpu", 768)]
    assert note == "The graphics card ran out of memory, so this ran on the CPU."


def test_out_of_memory_on_the_cpu_is_reported_not_retried_the_same():
    tried = []

    def run(backend, cfg):
        tried.append(cfg.render_size)
        raise RuntimeError("CPU out of memory")

    with pytest.raises(Exception, match="out of memory"):
        backend_cache._colorize_with_fallback(_Job(), BackendConfig("cgan", "cpu"), run)
    assert tried == [None]


def test_saving_one_photo_in_the_app_retries_smaller_like_the_command_line(tmp_path, monkeypatch):
    """The app's Save runs the core's colorize-to-file steps: out of memory at the
    user's render size, it colorizes at half, says so, and the copy records it."""
    from colorizer_gui.core.provenance import read_provenance
    from photo_factory import gray_scene, make_png
    from fake_backends import RunsOutOfMemoryWhenLarge

    backend = RunsOutOfMemoryWhenLarge(limit=200, error=RuntimeError("CPU out of memory"))
    monkeypatch.setattr(backend_cache.BACKENDS, "get", lambda config: backend)
    make_png(tmp_path / "big.png", gray_scene(300, 400))
    result = workers.save(_Job(), str(tmp_path / "big.png"), BackendConfig("cgan", "cpu", render_size=256),
                          None, str(tmp_path / "out"))
    assert backend.sizes == [256, 128]
    assert result["dest"] == str(tmp_path / "out" / "big_color.png")
    assert result["note"] == ("Out of memory at render size 256; colorized at render size 128 instead "
                              "(less detail in the colours).")
    assert "render_size=128" in read_provenance(tmp_path / "out" / "big_color.png")["colorizer"]["Settings"]


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


class _Window:
    """Stands in for a PySimpleGUI window: records what workers post."""

    TKroot = object()

    def __init__(self) -> None:
        self.posted: list[tuple] = []

    def write_event_value(self, key, value) -> None:
        self.posted.append((key, value))


def _endings(window: _Window) -> list[str]:
    from colorizer_gui.gui import events as ev

    return [key[1] for key, _value in window.posted if key[1] in ev.ENDINGS]


def _run_job(target, *args, cancel: bool = False) -> _Window:
    window = _Window()
    job = jobs.Job(window, "test", target, *args)
    if cancel:
        job.cancel()
    job.start().thread.join(10)
    return window


def test_every_job_ends_with_exactly_one_of_done_error_or_cancelled(tmp_path):
    def fails(job):
        raise ValueError("broken")

    def stops(job):
        raise jobs.Cancelled()

    assert _endings(_run_job(lambda job: 42)) == ["done"]
    assert _endings(_run_job(fails)) == ["error"]
    assert _endings(_run_job(stops)) == ["cancelled"]
    assert _endings(_run_job(lambda job: 42, cancel=True)) == ["cancelled"]
    # The fine-tune dialog's photo count is such a job too, even for a folder that vanished.
    # Only files whose bytes are an image count: an empty .png or a script named .jpg does not.
    from PIL import Image

    Image.new("L", (4, 4)).save(tmp_path / "a.png")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "script.jpg").write_bytes(b"%!PS-Adobe-3.0\n")
    counted = _run_job(workers.count_photos, str(tmp_path))
    assert _endings(counted) == ["done"] and counted.posted[-1][1][1] == (str(tmp_path), 1)
    assert len(_endings(_run_job(workers.count_photos, str(tmp_path / "gone")))) == 1


def _trainer(tmp_path, code: str):
    import sys

    from colorizer_gui.gui.train_process import TrainingProcess

    window = _Window()
    return window, TrainingProcess(window, [sys.executable, "-c", code], tmp_path / "run").start()


def test_the_trainer_subprocess_ends_with_exactly_one_ending(tmp_path):
    progress = 'print(\'{"stage": "l1", "done": 1, "total": 2}\', flush=True)'
    window, process = _trainer(tmp_path, progress)
    process.thread.join(30)
    assert [key[1] for key, _v in window.posted] == ["progress", "done"]
    window, process = _trainer(tmp_path, progress + "; raise SystemExit(3)")
    process.thread.join(30)
    assert _endings(window) == ["error"] and "exit code 3" in window.posted[-1][1]


def test_stopping_the_trainer_does_not_wait_for_it(tmp_path):
    import time

    from colorizer_gui.gui.train_process import TrainingProcess

    # A trainer that ignores the polite stop: only the kill after the grace period ends it.
    ready = tmp_path / "ready"
    window, process = _trainer(tmp_path, "import pathlib, signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                                         f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)")
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    began = time.monotonic()
    process.stop(grace=1.0)
    assert time.monotonic() - began < 0.2, "stop() must return at once"
    TrainingProcess.wait_stopped(timeout=20)
    process.thread.join(20)
    assert not process.running
    assert _endings(window) == ["cancelled"]


def test_the_models_menu_refuses_a_default_model_that_fails_the_checks(tmp_path):
    """Models > Default cGAN model runs the same checks as 'models set-default'
    before accepting a file, and says why it refused one."""
    from types import SimpleNamespace

    from colorizer_gui.gui.models_menu import ModelsMenu

    said: list[str] = []
    app = SimpleNamespace(set_status=said.append,
                          dialogs=SimpleNamespace(notice=lambda title, text: said.append(title)))
    fake = tmp_path / "holiday.SAFETENSORS"
    fake.write_bytes(b"not a model at all")
    assert ModelsMenu._verified(SimpleNamespace(app=app), fake) is False
    assert said[0].startswith("Not changed:") and said[1] == "Model refused"


def test_photos_under_a_folder_named_colorized_above_the_opened_one_are_listed(tmp_path):
    """/home/ann/colorized/scans/... is the user's own folder: the window lists its photos
    and the batch colorizes them (one rule for both, the batch engine's)."""
    from colorizer_gui.core.batch import run_batch
    from photo_factory import gray_scene, make_jpeg
    from fake_backends import FormulaBackend

    scans = tmp_path / "colorized" / "scans"
    make_jpeg(scans / "wedding.jpg", gray_scene(30, 40))
    listed = workers.scan(_Job(), [str(scans)])
    assert listed == [str(scans / "wedding.jpg")]
    result = run_batch([scans], None, FormulaBackend())
    assert [d.name for _s, d in result.done] == ["wedding_color.jpg"]
    # ...while the copies Colorizer wrote are not listed as photos to colorize.
    assert workers.scan(_Job(), [str(scans)]) == listed


def test_long_names_in_the_photo_list_keep_their_start_and_end():
    from colorizer_gui.gui.photo_list import ROW_NAME_CHARS, middle_ellipsis

    assert middle_ellipsis("wedding.jpg", ROW_NAME_CHARS) == "wedding.jpg"
    name = "Großmutter und Großvater auf der Hochzeit 1952-07.jpg"
    short = middle_ellipsis(name, ROW_NAME_CHARS)
    assert len(short) == ROW_NAME_CHARS and "\u2026" in short
    assert short.startswith("Großmutter") and short.endswith("07.jpg")
    cjk = "照" * 84 + ".jpg"
    assert middle_ellipsis(cjk, 10).endswith(".jpg") and len(middle_ellipsis(cjk, 10)) == 10


def test_fit_label_keeps_as_much_of_a_long_name_as_its_column_shows():
    from colorizer_gui.gui.photo_list import fit_label

    def measure(text: str) -> int:  # CJK twice as wide as Latin, as in a real font
        return sum(14 if ord(ch) > 0x2e80 else 7 for ch in text)

    assert fit_label("short.jpg", 100, measure) == "short.jpg"
    latin = fit_label("Großmutter und Großvater auf der Hochzeit 1952-07.jpg", 100, measure)
    cjk = fit_label("照" * 83 + "xy.jpg", 100, measure)
    for label in (latin, cjk):
        assert measure(label) <= 100 and "\u2026" in label and label.endswith(".jpg")
    assert latin.startswith("Groß") and cjk.startswith("照")
