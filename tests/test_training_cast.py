"""--cool-cast-limit: the blue camera cast of gray things is pulled back in the training
targets; vivid colours, warm photos and the lightness are left alone."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from colorizer_gui.core.color import lab_to_rgb, rgb_to_lab
from training.cast import gray_cast, limit_cool_cast
from training.cli import build_parser, options_from_args
from training.options import TrainOptions


def lab_photo(regions: list[tuple[float, float, float]], h: int = 40, w: int = 120) -> np.ndarray:
    """uint8 RGB made of vertical bands of the given Lab colours, equal widths."""
    lab = np.zeros((h, w, 3), np.float32)
    step = w // len(regions)
    for i, colour in enumerate(regions):
        lab[:, i * step:(i + 1) * step] = colour
    return np.clip(np.rint(lab_to_rgb(lab) * 255), 0, 255).astype(np.uint8)


def band_lab(rgb: np.ndarray, index: int, count: int) -> np.ndarray:
    step = rgb.shape[1] // count
    return rgb_to_lab(rgb[:, index * step:(index + 1) * step]).reshape(-1, 3).mean(axis=0)


def test_blue_gray_street_turns_gray_and_a_blue_coat_stays_blue():
    # Blue-gray asphalt and wall, a vivid blue coat, a red door.
    photo = lab_photo([(45, 0, -6), (70, 1, -5), (40, 15, -45), (50, 55, 35)])
    out = limit_cool_cast(photo, 2.0)
    asphalt, wall, coat, door = (band_lab(out, i, 4) for i in range(4))
    before = [band_lab(photo, i, 4) for i in range(4)]
    assert asphalt[2] == pytest.approx(-2.0, abs=0.8) and wall[2] == pytest.approx(-2.0, abs=0.8)
    assert np.abs(coat - before[2]).max() < 1.0 and np.abs(door - before[3]).max() < 1.0
    # The net's input, the lightness, is the same photo.
    assert np.abs(rgb_to_lab(out)[..., 0] - rgb_to_lab(photo)[..., 0]).max() < 1.0


def test_warm_or_slightly_cool_photos_and_photos_without_gray_are_untouched():
    warm = lab_photo([(50, 2, 6), (65, 1, 4), (40, 30, 40)])
    assert limit_cool_cast(warm, 2.0) is warm
    slightly_cool = lab_photo([(50, 0, -1.5), (60, 0, -1)])
    assert limit_cool_cast(slightly_cool, 2.0) is slightly_cool
    parrot = lab_photo([(50, 60, 50), (60, -50, 50), (40, 20, -60)])
    assert gray_cast(rgb_to_lab(parrot)) is None
    assert limit_cool_cast(parrot, 2.0) is parrot
    with pytest.raises(ValueError, match="distance from gray"):
        limit_cool_cast(warm, -1.0)


def test_trainer_limits_the_cast_of_training_photos_only(tmp_path, monkeypatch):
    """The option reaches the trainer and changes the photos it learns from, never the
    held-out ones it is scored on."""
    import training.trainer as trainer_module
    from training.trainer import train

    data = tmp_path / "photos"
    data.mkdir()
    for i in range(10):
        Image.fromarray(lab_photo([(45 + i, 0, -7), (60, 20, -40), (50, 50, 30)], 64, 96)).save(
            data / f"street_{i}.png")
    seen: list[np.ndarray] = []

    def recording(img: np.ndarray, limit: float) -> np.ndarray:
        out = limit_cool_cast(img, limit)
        seen.append(out)
        return out

    monkeypatch.setattr(trainer_module, "limit_cool_cast", recording)
    opts = TrainOptions(data_dir=str(data), out=str(tmp_path / "m.safetensors"), init="scratch",
                        arch_kwargs={"decoder_channels": [16, 16, 8, 8, 8]}, size=64, batch_size=4,
                        l1_epochs=1, gan_epochs=0, device="cpu", workers=0, seed=1,
                        run_dir=str(tmp_path / "run"), cool_cast_limit=2.0, min_val_images=2)
    result = train(opts)
    assert not result.cancelled
    assert len(seen) == 8  # 10 photos, 2 held out
    assert all(gray_cast(rgb_to_lab(img))[1] > -3.0 for img in seen)


def test_cli_takes_the_cast_limit():
    args = build_parser().parse_args(["photos", "--out", "m.safetensors", "--cool-cast-limit", "2"])
    assert options_from_args(args).cool_cast_limit == 2.0
    assert options_from_args(build_parser().parse_args(["photos", "--out", "m.safetensors"])).cool_cast_limit is None
    with pytest.raises(ValueError, match="--cool-cast-limit"):
        TrainOptions(data_dir="d", out="o.safetensors", cool_cast_limit=-1.0).validate()
