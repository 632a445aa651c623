"""The learned damage detector: loads from safetensors only, runs at any size,
plugs into the core's repair as an injected detector."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from safetensors.torch import save_file  # noqa: E402

from colorizer_gui.core.repair import RepairSettings, repair_pixels  # noqa: E402
from colorizer_gui.nets.damage_net import (  # noqa: E402
    ConvOfConcat, DamageNet, keep_confident_marks, learned_detector, load_damage_net)

from repair_factory import scene  # noqa: E402


@pytest.fixture(scope="module")
def net_file(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    net = DamageNet()
    state = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in net.state_dict().items()}
    path = tmp_path_factory.mktemp("det") / "repair-detector.safetensors"
    save_file(state, str(path))
    return path


def test_learned_detector_gives_a_mask_at_any_size_and_plugs_into_repair(net_file: Path) -> None:
    detect = learned_detector(net_file)
    for shape in ((90, 130), (700, 1000)):  # the second is brought to the reference size
        gray = np.resize(scene(), shape).astype(np.uint8)
        mask = detect(gray, 0.5)
        assert mask.shape == shape and mask.dtype == bool
    photo = scene(120, 160)
    result = repair_pixels(photo, RepairSettings(), detector=detect)
    assert np.array_equal(result.pixels[~result.mask], photo[~result.mask])
    raw = learned_detector(net_file, shape_filter=False)(photo, 1.0)
    assert raw.shape == photo.shape


def test_only_safetensors_are_loaded(tmp_path: Path) -> None:
    pickle = tmp_path / "detector.pth"
    torch.save({"x": torch.zeros(1)}, pickle)
    with pytest.raises(ValueError):
        load_damage_net(pickle)


def test_loaded_net_gives_the_trained_nets_probabilities(tmp_path: Path) -> None:
    # Batch norms with real statistics, so folding them into the convolutions is exercised.
    torch.manual_seed(1)
    net = DamageNet()
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    path = tmp_path / "repair-detector.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    x = torch.rand(1, 1, 96, 128) * 2 - 1
    with torch.inference_mode():
        expected = torch.sigmoid(net.eval()(x))
        got = torch.sigmoid(load_damage_net(path)(x.contiguous(memory_format=torch.channels_last)))
    assert torch.allclose(got, expected, atol=1e-4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in load_damage_net(path).modules())


def test_conv_of_concat_is_the_convolution_of_the_concatenation() -> None:
    torch.manual_seed(2)
    conv = ConvOfConcat((5, 1, 3), 4)
    parts = [torch.randn(2, n, 20, 24) for n in (5, 1, 3)]
    plain = torch.nn.Conv2d(9, 4, 3, padding=1, bias=False)
    plain.weight.data.copy_(conv.weight.data)
    assert torch.allclose(conv(*parts), plain(torch.cat(parts, dim=1)), atol=1e-5)


def test_a_mark_is_kept_whole_only_where_part_of_it_is_sure() -> None:
    prob = np.zeros((40, 60), np.uint8)
    prob[5:8, 5:50] = 180  # a scratch, sure along a stretch of it
    prob[6, 20:30] = 250
    prob[20:23, 5:50] = 200  # as long, but nowhere sure: dropped
    prob[30, 30] = 120  # under the threshold: left as it is
    kept = keep_confident_marks(prob, 166.0, 242.0)
    assert np.array_equal(kept[:10], prob[:10])
    assert not kept[15:25].any()
    assert kept[30, 30] == 120
