"""The damage detector's trainer: a run stops at its step budget, its rate
anneals along the cosine, a stopped run resumes on the same curve (or starts a
new one when asked), and the
written file loads as the app's detector."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

torch = pytest.importorskip("torch")

from colorizer_gui.nets.damage_net import load_damage_net  # noqa: E402
from training.repair_detector import cosine_rate, main  # noqa: E402

from repair_factory import scene  # noqa: E402


def test_cosine_rate_falls_from_start_to_end() -> None:
    assert cosine_rate(1e-3, 1e-5, 0, 100) == pytest.approx(1e-3)
    assert cosine_rate(1e-3, 1e-5, 50, 100) == pytest.approx((1e-3 + 1e-5) / 2)
    assert cosine_rate(1e-3, 1e-5, 100, 100) == pytest.approx(1e-5)
    assert cosine_rate(1e-3, 1e-5, 150, 100) == pytest.approx(1e-5)


def test_a_run_stops_at_its_step_and_resumes_on_the_same_curve(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        cv2.imwrite(str(photos / f"p{i}.png"), scene(200, 240, seed=i))
    run, out = tmp_path / "run", tmp_path / "det.safetensors"
    common = ["--data", str(photos), "--run", str(run), "--batch", "2", "--init", str(tmp_path / "none"),
              "--threads", "1", "--lr", "1e-3", "--lr-end", "1e-5"]
    assert main(common + ["--steps", "2"]) == 0
    assert json.loads((run / "state.json").read_text()) == {"step": 2, "schedule_from": 0}
    assert main(common + ["--steps", "3", "--out", str(out)]) == 0
    assert json.loads((run / "state.json").read_text()) == {"step": 3, "schedule_from": 0}
    assert main(common + ["--steps", "4", "--new-schedule"]) == 0  # a warm restart starts its own curve
    assert json.loads((run / "state.json").read_text()) == {"step": 4, "schedule_from": 3}
    net = load_damage_net(out)
    with torch.inference_mode():
        assert net(torch.zeros(1, 1, 32, 32)).shape == (1, 1, 32, 32)


def test_lr_end_needs_a_step_budget(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--data", str(tmp_path), "--run", str(tmp_path / "run"), "--lr-end", "1e-5"])
    assert stop.value.code == 2
