"""Class-rebalanced colour classification loss (Zhang et al. 2016, "Colorful Image Colorization").

Regression (L1/L2) on ab averages the plausible colours of an object into a
brown-gray; predicting a distribution over the 313 in-gamut ab bins and
decoding its annealed mean keeps a colour the net is sure of vivid. Rare
colours (saturated reds, blues, greens) are up-weighted so that the common
desaturated bins do not dominate:

- target: soft encoding of the truth's ab (at the logits' stride 4, area mean)
  on its 5 nearest bins, Gaussian weights with sigma 5;
- weight of a pixel: ``w[q*]`` for its nearest bin ``q*``, with
  ``w ∝ ((1 - lam) * p_smooth + lam / Q) ** -1`` normalised so ``E_p[w] = 1``,
  ``p_smooth`` the training photos' bin frequencies smoothed by a Gaussian
  (sigma 5) in ab, ``lam = 0.5``;
- loss: the weighted cross-entropy, averaged over pixels.

``RebalancedL1Loss`` applies the same per-pixel weights to plain ab regression
(``--objective rebalanced``): the net keeps its two-channel output, and where a
vivid colour is plausible, the weighted median it learns leans toward it
instead of toward the brown-gray of the common bins.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from colorizer_gui.core.color import rgb_to_lab

SOFT_NEIGHBOURS = 5
SOFT_SIGMA = 5.0
PRIOR_SIGMA = 5.0
PRIOR_MIX = 0.5
LOGIT_STRIDE = 4


def nearest_bin_table(bins: np.ndarray) -> np.ndarray:
    """(256, 256) int: the nearest bin of every integer ab in [-128, 127]^2
    (index ``[a + 128, b + 128]``), so binning a photo is one lookup per pixel."""
    grid = np.arange(-128, 128, dtype=np.float64)
    a, b = np.meshgrid(grid, grid, indexing="ij")
    points = np.stack([a.ravel(), b.ravel()], axis=1)
    table = np.empty(len(points), np.int64)
    for start in range(0, len(points), 8192):  # chunks keep the distance matrix small
        chunk = points[start:start + 8192]
        table[start:start + 8192] = np.argmin(((chunk[:, None, :] - bins[None]) ** 2).sum(-1), axis=1)
    return table.reshape(256, 256)


def bin_prior(images: Sequence[np.ndarray], bins: np.ndarray, pixels_per_image: int = 4096,
              seed: int = 0) -> np.ndarray:
    """Smoothed bin frequencies (Q,) of the training photos (uint8 RGB), summing to 1."""
    rng = np.random.default_rng(seed)
    table = nearest_bin_table(bins)
    counts = np.zeros(len(bins), np.float64)
    for rgb in images:
        ab = rgb_to_lab(rgb)[:, :, 1:].reshape(-1, 2)
        if len(ab) > pixels_per_image:
            ab = ab[rng.choice(len(ab), pixels_per_image, replace=False)]
        index = np.clip(np.rint(ab).astype(np.int64) + 128, 0, 255)
        counts += np.bincount(table[index[:, 0], index[:, 1]], minlength=len(bins))
    probs = counts / max(counts.sum(), 1.0)
    d2 = ((bins[:, None, :] - bins[None]) ** 2).sum(-1)
    smooth = np.exp(-d2 / (2 * PRIOR_SIGMA ** 2)) @ probs
    return smooth / smooth.sum()


def rebalance_weights(prior: np.ndarray, mix: float = PRIOR_MIX) -> np.ndarray:
    """Per-bin weights ``((1 - mix) p + mix / Q) ** -1``, normalised so ``sum(p * w) == 1``."""
    q = len(prior)
    weights = 1.0 / ((1.0 - mix) * prior + mix / q)
    return weights / float(np.sum(prior * weights))


class RebalancedClassLoss(torch.nn.Module):
    """``loss(logits (N, Q, h, w), ab_norm (N, 2, H, W))``: weighted soft cross-entropy."""

    def __init__(self, bins: np.ndarray, weights: np.ndarray, ab_scale: float) -> None:
        super().__init__()
        self.register_buffer("bins", torch.as_tensor(np.asarray(bins, np.float32)))
        self.register_buffer("weights", torch.as_tensor(np.asarray(weights, np.float32)))
        self.ab_scale = float(ab_scale)

    def targets(self, ab_norm: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Soft-encoded targets (N, Q, h, w) and pixel weights (N, h, w) for the truth."""
        ab = F.adaptive_avg_pool2d(ab_norm.float(), size) * self.ab_scale  # (N, 2, h, w)
        flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
        d2 = torch.cdist(flat, self.bins).pow(2)  # (P, Q)
        near_d2, near_idx = d2.topk(SOFT_NEIGHBOURS, dim=1, largest=False)
        soft = torch.softmax(-near_d2 / (2 * SOFT_SIGMA ** 2), dim=1)
        target = torch.zeros_like(d2).scatter_(1, near_idx, soft)
        n, _, h, w = ab.shape
        target = target.reshape(n, h, w, -1).permute(0, 3, 1, 2)
        pixel_w = self.weights[near_idx[:, 0]].reshape(n, h, w)
        return target, pixel_w

    def forward(self, logits: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
        target, pixel_w = self.targets(ab_norm, tuple(logits.shape[-2:]))
        log_p = torch.log_softmax(logits.float(), dim=1)
        ce = -(target * log_p).sum(dim=1)
        return (ce * pixel_w).mean()


class RebalancedL1Loss(torch.nn.Module):
    """``loss(prediction, ab_norm)`` (both (N, 2, H, W), ab / ``ab_scale``): the mean
    absolute error, each pixel weighted by the rarity of its true colour's bin."""

    def __init__(self, bins: np.ndarray, weights: np.ndarray, ab_scale: float) -> None:
        super().__init__()
        # One weight per integer ab (a + 128, b + 128): a lookup per pixel, no distances.
        table = np.asarray(weights, np.float32)[nearest_bin_table(np.asarray(bins, np.float64))]
        self.register_buffer("weight_table", torch.as_tensor(table))
        self.ab_scale = float(ab_scale)

    def pixel_weights(self, ab_norm: torch.Tensor) -> torch.Tensor:
        """(N, H, W) weight of every pixel of the truth."""
        index = torch.round(ab_norm.float() * self.ab_scale).long().clamp_(-128, 127) + 128
        return self.weight_table[index[:, 0], index[:, 1]]

    def forward(self, prediction: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
        error = torch.abs(prediction.float() - ab_norm.float()).mean(dim=1)
        return (error * self.pixel_weights(ab_norm)).mean()
