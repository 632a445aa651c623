"""The generator's colour-hint inputs, growing an older model file to take hints, aged
(degraded) training inputs, random training hints, shipping a model and its colour gain."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from colorizer_gui.backends.cgan import CganBackend
from colorizer_gui.nets import build_generator, load_generator, save_generator
from colorizer_gui.nets.weights_io import WeightsError
from training.degrade import degrade_lightness
from training.grow import grow_generator
from training.hints import sample_hints

TINY = {"decoder_channels": [16, 8, 8, 8, 8]}


@pytest.fixture(autouse=True)
def _few_threads():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _settled(model: torch.nn.Module, channels: int = 1) -> torch.nn.Module:
    """Batch-norm statistics from one pass, so eval-mode outputs are varied, not saturated."""
    torch.manual_seed(1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = None
        model.train()
        model(torch.rand(2, channels, 64, 64) * 2 - 1)
    return model.eval()


def test_hint_net_with_no_hints_is_the_same_as_given_l_alone():
    torch.manual_seed(0)
    model = _settled(build_generator("lite0-unet", hint_channels=3, **TINY), 4)
    l_norm = torch.rand(1, 1, 64, 96) * 2 - 1
    with torch.no_grad():
        alone = model(l_norm)
        zeros = model(torch.cat([l_norm, torch.zeros(1, 3, 64, 96)], dim=1))
    assert alone.shape == (1, 2, 64, 96)
    assert torch.equal(alone, zeros)
    with pytest.raises(ValueError, match="takes 1 or 4 input channels, got 2"):
        model(torch.zeros(1, 2, 64, 64))


def test_hint_nets_round_trip_through_a_model_file(tmp_path):
    model = _settled(build_generator("lite0-unet", hint_channels=3, **TINY), 4)
    path = save_generator(model, tmp_path / "v2.safetensors", {"train_size": 64})
    loaded, meta = load_generator(path)
    assert loaded.config == {"decoder_channels": [16, 8, 8, 8, 8], "hint_channels": 3}
    assert '"hint_channels": 3' in meta["config"]
    x = torch.rand(1, 4, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=2e-2)  # fp16 on disk


def test_growing_an_older_model_keeps_what_it_computes(tmp_path):
    old = _settled(build_generator("lite0-unet", **TINY))
    grown = grow_generator(old, {"hint_channels": 3})
    assert grown.config["hint_channels"] == 3 and grow_generator(grown, {"hint_channels": 3}) is grown
    grown.eval()
    l_norm = torch.rand(1, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(grown(l_norm), old(l_norm), atol=1e-6)
    assert torch.equal(grown.encoder._conv_stem.weight[:, :1], old.encoder._conv_stem.weight)
    assert not grown.encoder._conv_stem.weight[:, 1:].any()


def test_degraded_lightness_is_aged_reproducible_and_in_range():
    lightness = np.tile(np.linspace(0, 100, 96, dtype=np.float32), (64, 1))
    aged = [degrade_lightness(lightness, np.random.default_rng(seed), p=1.0) for seed in range(20)]
    again = degrade_lightness(lightness, np.random.default_rng(3), p=1.0)
    assert np.array_equal(again, aged[3])
    for out in aged:
        assert out.shape == lightness.shape and out.dtype == np.float32
        assert out.min() >= 0.0 and out.max() <= 100.0
    changed = [float(np.abs(out - lightness).mean()) for out in aged]
    assert sum(c > 0.5 for c in changed) >= 15  # almost every draw really ages the photo
    assert np.corrcoef(aged[0].ravel(), lightness.ravel())[0, 1] > 0.8  # still the same picture
    assert degrade_lightness(lightness, np.random.default_rng(0), p=0.0) is lightness


def test_random_hints_carry_the_truths_mean_color_where_the_mask_is():
    ab = np.zeros((2, 64, 64), np.float32)
    ab[0, :, :32] = 0.5   # left half red-ish, right half green-ish
    ab[0, :, 32:] = -0.4
    counts, none = [], 0
    for seed in range(40):
        planes = sample_hints(ab, np.random.default_rng(seed))
        mask = planes[2] > 0
        if not mask.any():
            none += 1
            assert not planes.any()
            continue
        counts.append(int(mask.sum()))
        left = mask[:, :30]
        if left.any():
            assert np.allclose(planes[0][:, :30][left], 0.5)
        assert not planes[:2][:, ~mask].any()
    assert 10 <= none <= 30  # about half the samples have no hints
    assert counts and max(counts) > min(counts)


def test_dataset_gives_aged_l_and_hint_planes_when_asked():
    from training.dataset import ColorPhotoDataset

    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 255, (80, 80, 3), dtype=np.uint8) for _ in range(4)]
    plain = ColorPhotoDataset(photos, 64, augment=True)
    rich = ColorPhotoDataset(photos, 64, augment=True, degrade=True, hints=True)
    x_plain, ab_plain = plain[(0, 1)]
    x_rich, ab_rich = rich[(0, 1)]
    assert x_plain.shape == (1, 64, 64) and x_rich.shape == (4, 64, 64)
    assert torch.equal(ab_plain, ab_rich)  # the target stays clean
    assert torch.equal(rich[(0, 1)][0], x_rich)  # reproducible per (epoch, index)
    aged = [not torch.equal(rich[(e, 2)][0][:1], plain[(e, 2)][0]) for e in range(12)]
    assert 3 <= sum(aged) <= 11


def test_shipping_a_candidate_keeps_what_it_computes_and_says_how_it_was_made(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from ship_default_model import ship

    torch.manual_seed(0)
    net = build_generator("lite0-unet", decoder_channels=(16, 8, 8, 8, 8), hint_channels=3).eval()
    candidate = save_generator(net, tmp_path / "gan-step0000500.safetensors",
                               {"train_size": 128, "metrics": {"val_l1": 0.09}, "objective": "l1",
                                "hint_channels": 3})
    out = ship(candidate, tmp_path / "weights" / "cgan-default.safetensors", "L1 then GAN", "train ...")
    shipped, meta = load_generator(out)
    x = torch.rand(1, 4, 64, 64)
    original, _ = load_generator(candidate)
    assert torch.allclose(shipped(x), original(x), atol=1e-6)
    assert (meta["objective"], meta["shipped_from"], meta["train_size"]) == (
        "L1 then GAN", "gan-step0000500.safetensors", "128")
    assert meta["model_card"] == "weights/cgan-default.md" and meta["hint_channels"] == "3"
    vivid, _ = load_generator(ship(candidate, tmp_path / "vivid.safetensors", "L1", "train ...",
                                   ab_gain=1.2))
    assert vivid.ab_gain == 1.2 and torch.allclose(vivid(x), 1.2 * original(x), atol=1e-3)
    assert "render_size" not in meta
    sized = ship(candidate, tmp_path / "sized.safetensors", "L1", "train ...", render_size=160)
    assert load_generator(sized)[1]["render_size"] == "160"
    assert CganBackend(weights=sized).default_render_size == 160  # not 1.5 x 128
    with pytest.raises(WeightsError, match="multiple of 32"):
        ship(candidate, tmp_path / "odd.safetensors", "L1", "train ...", render_size=150)


def test_a_color_gain_scales_the_colors_and_travels_with_the_file(tmp_path):
    torch.manual_seed(0)
    net = _settled(build_generator("lite0-unet", **TINY, hint_channels=3), channels=4)
    x = torch.rand(1, 4, 64, 64) * 2 - 1
    with torch.no_grad():
        plain = net(x)
        net.set_ab_gain(1.25)
        vivid = net(x)
    assert torch.allclose(vivid, 1.25 * plain, atol=1e-6) and float(plain.abs().max()) > 0.01
    loaded, meta = load_generator(save_generator(net, tmp_path / "vivid.safetensors", fp16=False))
    assert loaded.ab_gain == 1.25 and '"ab_gain": 1.25' in meta["config"]
    with torch.no_grad():
        assert torch.allclose(loaded.eval()(x), vivid, atol=1e-4)
    net.set_ab_gain(1.0)
    assert "ab_gain" not in net.config  # a gain of 1 writes what older files had
    with pytest.raises(ValueError, match="ab_gain must be from"):
        net.set_ab_gain(3.0)
    with pytest.raises(ValueError, match="class_bins"):  # the class head is retired
        build_generator("lite0-unet", **TINY, class_bins=313)
