"""Training losses: the vanilla GAN loss (pix2pix), L1, L2, the colourfulness match and
the weight that asks for gray where the truth is gray."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from colorizer_gui.core.color import GRAY_THING_CHROMA
from colorizer_gui.nets.norm import AB_SCALE

# A true colour up to GRAY_THING_CHROMA counts in full as a gray thing (the threshold of
# the benches' "colour on gray"). The extra weight fades to none by GRAY_FADE_CHROMA, so
# a pale but real colour (a light blue shirt) is not pushed to gray.
GRAY_FADE_CHROMA = 10.0


class GANLoss(nn.Module):
    """Vanilla GAN loss on logits: BCE-with-logits against an all-real or all-fake target.

    Hides the label tensors: call ``loss(prediction, target_is_real)``.
    """

    def __init__(self, real_label: float = 1.0, fake_label: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("real_label", torch.tensor(real_label), persistent=False)
        self.register_buffer("fake_label", torch.tensor(fake_label), persistent=False)
        self.bce = nn.BCEWithLogitsLoss()

    def forward(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        label = self.real_label if target_is_real else self.fake_label
        return self.bce(prediction, label.to(prediction.dtype).expand_as(prediction))


def gray_pixel_weights(target: torch.Tensor, gray_weight: float) -> torch.Tensor:
    """Per-pixel loss weights (N, 1, H, W) for true ab / 110 ``target`` (N, 2, H, W):
    ``gray_weight`` where the truth is gray (chroma up to GRAY_THING_CHROMA), 1 where it
    is coloured (from GRAY_FADE_CHROMA), linear between.

    An L1 net hedges towards a faint warm tint wherever it is unsure, and the colour gain
    amplifies it on stone, asphalt and fog. Weighting the gray truths more moves the
    net's median towards gray in the contexts where gray things are common."""
    chroma = torch.sqrt(target.float().pow(2).sum(dim=1, keepdim=True)) * AB_SCALE
    share = ((GRAY_FADE_CHROMA - chroma) / (GRAY_FADE_CHROMA - GRAY_THING_CHROMA)).clamp(0.0, 1.0)
    return 1.0 + (gray_weight - 1.0) * share


def l1_loss(prediction: torch.Tensor, target: torch.Tensor,
            weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean absolute error (on normalised ab), each pixel times ``weights`` if given."""
    error = torch.abs(prediction - target)
    return torch.mean(error if weights is None else error * weights)


def l2_loss(prediction: torch.Tensor, target: torch.Tensor,
            weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean squared error (on normalised ab).

    Its minimiser is the conditional mean colour. Among all predictions of a given
    colourfulness (an energy of ab), the one with the least squared error is that mean
    times one flat gain, so L2 plus the net's ``ab_gain`` aims at the best PSNR for the
    colour asked; L1's median is a different point. (On the default model's data it
    was no better than L1 and put more colour on gray things: weights/cgan-default.md.)
    Each pixel is times ``weights`` if given."""
    error = torch.square(prediction - target)
    return torch.mean(error if weights is None else error * weights)


def chroma_match_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over photos of |mean chroma of the prediction - the truth's| (normalised ab,
    (N, 2, H, W)).

    L1 alone settles on a median colour, duller than the truth wherever the net is
    unsure; this term asks each photo to be as colourful as its truth overall (and
    no more: a foggy scene stays gray), leaving where the colour goes to L1."""
    def mean_chroma(ab: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(ab.float().pow(2).sum(dim=1) + 1e-6).mean(dim=(1, 2))

    return torch.mean(torch.abs(mean_chroma(prediction) - mean_chroma(target)))
