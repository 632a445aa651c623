"""Batch norms folded for inference: the colours stay the same, the layers go."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from colorizer_gui.nets.damage_net import DamageNet  # noqa: E402
from colorizer_gui.nets.folding import fold_batch_norms, for_inference  # noqa: E402
from colorizer_gui.nets.generators import build_generator  # noqa: E402


def _with_real_statistics(net: nn.Module, shape: tuple[int, ...]) -> nn.Module:
    """``net`` after a few training-mode passes, so each batch norm's running mean
    and variance (and so its fold) are far from the identity it starts as."""
    torch.manual_seed(0)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.5
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.2, 0.2)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(*shape) * 2 + 0.3)
    return net.eval()


@pytest.mark.parametrize("make, shape", [
    (lambda: build_generator("lite0-unet", hint_channels=3), (2, 4, 64, 96)),
    (lambda: build_generator("lite0-unet"), (1, 1, 96, 64)),
    (DamageNet, (1, 1, 48, 80)),
])
def test_folded_net_gives_the_same_output_with_no_batch_norm_left(make, shape) -> None:
    net = _with_real_statistics(make(), shape)
    x = torch.randn(*shape)
    with torch.inference_mode():
        before = net(x)
    folded = for_inference(net)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    with torch.inference_mode():
        after = folded(x)
    assert after.shape == before.shape
    assert torch.allclose(after, before, atol=2e-5, rtol=1e-4), float((after - before).abs().max())


def test_folding_refuses_a_model_in_training_mode() -> None:
    with pytest.raises(ValueError, match="eval mode"):
        fold_batch_norms(build_generator("lite0-unet").train())


def test_a_batch_norm_not_after_a_convolution_is_left_alone() -> None:
    net = nn.Sequential(nn.ReLU(), nn.BatchNorm2d(3), nn.Conv2d(3, 4, 1), nn.BatchNorm2d(5)).eval()
    fold_batch_norms(net)
    assert [type(m) for m in net] == [nn.ReLU, nn.BatchNorm2d, nn.Conv2d, nn.BatchNorm2d]
