"""The learned damage detector: loads from safetensors only, runs at any size,
plugs into the core's repair as an injected detector."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from safetensors.torch import save_file  # noqa: E402

from colorizer_gui.core.repair import RepairSettings, repair_pixels  # noqa: E402
from colorizer_gui.nets.damage_net import DamageNet, learned_detector, load_damage_net  # noqa: E402

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
