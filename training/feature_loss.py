"""A feature (perceptual) loss on a frozen ImageNet encoder, for the regression objectives.

L1 on ab settles on a median colour wherever the net is unsure: right on average,
brown-gray to look at. A feature loss compares what an ImageNet network sees in
the coloured photo with what it sees in the truth, so colour that makes an
object look like itself (a red car, green leaves) counts even where the exact
ab is uncertain (as DeOldify's and other colorizers' perceptual losses do). The
network is the EfficientNet-Lite0 our encoder starts from, with its RGB stem,
frozen; both images share the input L, so only the colours differ.

Measured on the default model (``bench/RESULTS.md``, "Objective probe (d)"): it made
the net duller, not more colourful (a wrong hue changes what this network sees
more than gray does), so the default was not trained with it.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from colorizer_gui.nets.efficientnet_lite import EfficientNetLite0Encoder, load_imagenet_encoder_weights
from colorizer_gui.nets.norm import AB_SCALE, L_CENTER

# D65 white and the CIE Lab constants (as OpenCV's Lab <-> RGB uses).
_WHITE = (0.950456, 1.0, 1.088754)
_DELTA = 6.0 / 29.0
_XYZ_TO_RGB = ((3.240479, -1.53715, -0.498535),
               (-0.969256, 1.875991, 0.041556),
               (0.055648, -0.204043, 1.057311))
#: Encoder outputs compared, by index (strides 2, 4, 8, 16, 32): textures to parts.
DEFAULT_LEVELS = (1, 2, 3)


def lab_to_srgb(lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """Differentiable CIE Lab (D65) -> sRGB in [0, 1].

    ``lightness``: (N, 1, H, W) in [0, 100]; ``ab``: (N, 2, H, W) in Lab units.
    Colours outside sRGB are clipped, as the app's own conversion does."""
    fy = (lightness + 16.0) / 116.0
    fx = fy + ab[:, :1] / 500.0
    fz = fy - ab[:, 1:] / 200.0

    def finv(f: torch.Tensor) -> torch.Tensor:
        return torch.where(f > _DELTA, f ** 3, 3 * _DELTA ** 2 * (f - 4.0 / 29.0))

    xyz = torch.cat([finv(fx) * _WHITE[0], finv(fy) * _WHITE[1], finv(fz) * _WHITE[2]], dim=1)
    matrix = torch.tensor(_XYZ_TO_RGB, dtype=xyz.dtype, device=xyz.device)
    linear = torch.einsum("rc,nchw->nrhw", matrix, xyz).clamp(0.0, 1.0)
    # The sRGB curve; the clamp keeps the power's gradient finite at 0.
    return torch.where(linear <= 0.0031308, 12.92 * linear,
                       1.055 * linear.clamp_min(0.0031308) ** (1 / 2.4) - 0.055)


class FeatureLoss(nn.Module):
    """Mean L1 distance between frozen ImageNet Lite0 features of the coloured
    photo and of its truth, each level scaled by the truth's mean feature size.

    Call with the net's normalised input L (``L / 50 - 1``, N x 1 x H x W) and the
    predicted and true ab / 110. The encoder is frozen and stays in eval mode;
    gradients flow to the prediction only."""

    def __init__(self, levels: Sequence[int] = DEFAULT_LEVELS, pretrained: bool = True) -> None:
        super().__init__()
        self.levels = tuple(int(i) for i in levels)
        self.encoder = EfficientNetLite0Encoder(in_channels=3)
        if pretrained:
            load_imagenet_encoder_weights(self.encoder, rgb_stem=True)
        self.encoder.eval()
        for parameter in self.encoder.parameters():
            parameter.requires_grad_(False)

    def train(self, mode: bool = True) -> "FeatureLoss":
        super().train(mode)
        self.encoder.eval()  # frozen: its BatchNorm statistics are ImageNet's
        return self

    def _features(self, l_norm: torch.Tensor, ab_norm: torch.Tensor) -> list[torch.Tensor]:
        lightness = (l_norm.float() + 1.0) * L_CENTER  # normalize_l undone
        rgb = lab_to_srgb(lightness, ab_norm.float() * AB_SCALE)
        outputs = self.encoder(rgb * 2.0 - 1.0)  # Lite models take [-1, 1]
        return [outputs[i] for i in self.levels]

    def forward(self, l_norm: torch.Tensor, pred_ab: torch.Tensor, true_ab: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            truth = self._features(l_norm, true_ab)
        pred = self._features(l_norm, pred_ab)
        terms = [torch.mean(torch.abs(p - t)) / (torch.mean(torch.abs(t)) + 1e-6)
                 for p, t in zip(pred, truth)]
        return torch.stack(terms).mean()
