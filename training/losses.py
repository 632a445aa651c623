"""Training losses: the vanilla GAN loss and L1 of pix2pix."""
from __future__ import annotations

import torch
from torch import nn


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


def l1_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error (on normalised ab)."""
    return torch.mean(torch.abs(prediction - target))
