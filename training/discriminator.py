"""The 70x70 PatchGAN discriminator of pix2pix (Isola et al., 2017).

It sees L concatenated with ab (3 channels) and scores overlapping 70x70
patches as real or fake: a 256x256 input gives a 30x30 map of logits.
"""
from __future__ import annotations

import torch
from torch import nn

from colorizer_gui.nets.generators import pix2pix_init


class PatchDiscriminator(nn.Module):
    """PatchGAN "basic" (n_layers=3): C64 - C128 - C256 - C512(stride 1) - 1 channel.

    Every block is a 4x4 conv + BatchNorm + LeakyReLU(0.2), except the first
    (no norm) and the last (a conv to one logit channel, no norm). ``ndf`` is
    the first block's width (64 in the paper; tests use a few channels).
    """

    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        self.config = {"in_channels": in_channels, "ndf": ndf, "n_layers": n_layers}
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        width = ndf
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1
            out = ndf * min(2 ** i, 8)
            layers += [
                nn.Conv2d(width, out, 4, stride=stride, padding=1, bias=False),  # BN has the bias
                nn.BatchNorm2d(out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            width = out
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)
        self.apply(pix2pix_init)

    def forward(self, l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
        """Patch logits (N, 1, h, w) for normalised L (N, 1, H, W) and ab (N, 2, H, W)."""
        return self.model(torch.cat([l_norm, ab_norm], dim=1))


def build_discriminator(ndf: int = 64) -> PatchDiscriminator:
    """The 70x70 PatchGAN for L+ab inputs."""
    return PatchDiscriminator(in_channels=3, ndf=ndf, n_layers=3)
