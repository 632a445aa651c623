"""The convolution of a 2x upsampled map, computed on the map's own grid, equals
upsampling then convolving, frame included; the damage net's inference copy
gives the plain net's probabilities."""
from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from colorizer_gui.nets.damage_net import DamageNet, load_damage_net  # noqa: E402
from colorizer_gui.nets.upsampled_conv import UpsampledConv  # noqa: E402


@pytest.mark.parametrize("shape", [(1, 24, 38, 50), (2, 3, 7, 9), (1, 5, 2, 2), (1, 4, 1, 6)])
def test_half_grid_convolution_equals_upsample_then_convolve(shape) -> None:
    torch.manual_seed(1)
    y = torch.randn(*shape).contiguous(memory_format=torch.channels_last)
    weight = torch.randn(16, shape[1], 3, 3)
    plain = F.conv2d(F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False), weight, padding=1)
    with torch.inference_mode():
        fast = UpsampledConv(weight)(y)
    assert fast.shape == plain.shape
    assert torch.allclose(fast, plain, atol=1e-4, rtol=1e-5), float((fast - plain).abs().max())


def test_the_inference_damage_net_gives_the_plain_nets_probabilities(tmp_path: Path) -> None:
    torch.manual_seed(2)
    net = DamageNet()
    with torch.no_grad():  # batch norms with real statistics, so the folding shows
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    path = tmp_path / "det.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    fast = load_damage_net(path)
    assert fast.upsampled_conv is not None
    x = torch.rand(1, 1, 96, 144) * 2 - 1
    with torch.inference_mode():
        want = torch.sigmoid(net.eval()(x))
        got = torch.sigmoid(fast(x.contiguous(memory_format=torch.channels_last)))
    assert torch.allclose(got, want, atol=1e-5), float((got - want).abs().max())
    # The half-grid kernel is derived, never part of a saved state.
    assert not any(key.startswith("upsampled_conv") for key in fast.state_dict())
