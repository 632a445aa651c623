"""Running a generator on a photo: its input/output normalisation, its size handling
and the mirror average (``run_generator``, ``run_generator_mirrored``).

The generators take L scaled to [-1, 1] (``L / 50 - 1``) and return ab scaled
to [-1, 1] (``ab / 110``, through tanh). They need sizes that are a multiple of
their total stride, so ``run_generator`` pads with reflection to that multiple,
runs the net and crops back: a photo is never stretched.

This module owns the normalisation: training, inference and the model files'
metadata (``weights_io.INPUT_NORM``/``OUTPUT_NORM``) all take it from here. It
imports torch only inside the functions that need it, so the constants are
cheap to import (the ``models`` listing reads metadata without torch).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.kept_pool import KeptPool

if TYPE_CHECKING:
    import torch

L_CENTER = 50.0
AB_SCALE = 110.0


def normalize_l(lightness: torch.Tensor) -> torch.Tensor:
    """CIE L in [0, 100] -> generator input in [-1, 1]."""
    return lightness / L_CENTER - 1.0


def normalize_hints(planes: torch.Tensor) -> torch.Tensor:
    """Hint planes (3, H, W): CIE a, b and a 0/1 mask -> generator input (a/110, b/110, mask)."""
    import torch

    return torch.cat([planes[:2] / AB_SCALE, planes[2:3]], dim=0)


def denormalize_ab(out: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> CIE ab (roughly [-110, 110])."""
    return out * AB_SCALE


def _reflect_pad(x: torch.Tensor, pads: tuple[int, int, int, int]) -> torch.Tensor:
    """Reflect-pad (left, right, top, bottom); pads larger than the image are done
    in several mirror steps (reflect mode cannot pad more than size - 1 at once)."""
    import torch.nn.functional as F

    left, right, top, bottom = pads
    while left or right or top or bottom:
        h, w = x.shape[-2:]
        if h < 2 and (top or bottom) or w < 2 and (left or right):
            # A single row/column cannot be mirrored: repeat it instead.
            return F.pad(x, (left, right, top, bottom), mode="replicate")
        step = (min(left, w - 1), min(right, w - 1), min(top, h - 1), min(bottom, h - 1))
        x = F.pad(x, step, mode="reflect")
        left, right, top, bottom = (p - s for p, s in zip((left, right, top, bottom), step))
    return x


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad an (N, C, H, W) tensor so H and W are multiples of ``multiple``.

    The padding is split evenly between the two sides (the extra pixel goes
    bottom/right), so the photo sits in the middle of what the net sees.
    Returns the padded tensor and the original (h, w) for ``crop_back``.
    """
    h, w = x.shape[-2:]
    ph = (-h) % multiple
    pw = (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (h, w)
    padded = _reflect_pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
    return padded, (h, w)


def crop_back(y: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Undo ``pad_to_multiple``: cut the centred (h, w) window out of ``y``."""
    h, w = size
    top = (y.shape[-2] - h) // 2
    left = (y.shape[-1] - w) // 2
    return y[..., top:top + h, left:left + w]


def run_generator(model: torch.nn.Module, l_norm: torch.Tensor) -> torch.Tensor:
    """Run ``model`` on normalised L (N, 1, H, W) of any size; returns (N, 2, H, W).

    Pads to ``model.size_multiple`` with reflection, runs, crops back. A model
    in channels-last memory (``folding.for_inference``) gets its input in that
    layout too: 5 of the generator's 50 ms on a 12 MP photo's CPU pass.
    """
    import torch

    multiple = int(getattr(model, "size_multiple", 1))
    padded, size = pad_to_multiple(l_norm, multiple)
    if _is_channels_last(model):
        padded = padded.contiguous(memory_format=torch.channels_last)
    return crop_back(model(padded), size)


def _is_channels_last(model: torch.nn.Module) -> bool:
    import torch

    weight = next((p for p in model.parameters() if p.dim() == 4), None)
    return (weight is not None and not weight.is_contiguous()
            and weight.is_contiguous(memory_format=torch.channels_last))


def run_generator_mirrored(model: torch.nn.Module, l_norm: torch.Tensor,
                           side_by_side: bool = False) -> torch.Tensor:
    """``run_generator`` on the input and on its mirror image, averaged.

    The two guesses differ where the net is unsure; their mean is the better
    estimate (+0.11 to +0.17 dB PSNR on the validation photos at equal colour
    gain, bench/RESULTS.md "Model v4") for twice the network time, and the colours
    of a photo and of its mirrored copy come out as mirror images.

    One batch of two by default. ``side_by_side``: the mirror's pass runs in a
    second thread at the same time, for a CPU whose cores torch does not all use
    (the cgan backend gives it half): the two passes then take the time of one
    (12 MP photo, 2 cores: 50 -> 26 ms), with the same result to the bit.
    """
    import torch

    if not side_by_side:
        count = l_norm.shape[0]
        out = run_generator(model, torch.cat([l_norm, l_norm.flip(-1)]))
        return 0.5 * (out[:count] + out[count:].flip(-1))
    grad = torch.is_grad_enabled()
    inference = torch.is_inference_mode_enabled()

    def mirror_pass() -> torch.Tensor:
        # Grad and inference modes belong to a thread: the helper takes the caller's.
        with torch.inference_mode(inference), torch.set_grad_enabled(grad):
            return run_generator(model, l_norm.flip(-1)).flip(-1)
    mirrored = _HELPER.get().submit(mirror_pass)
    out = run_generator(model, l_norm)
    return 0.5 * (out + mirrored.result())


# The mirror passes' thread, kept: a new thread's first pass is 3-4 ms slower.
_HELPER = KeptPool(1, "colorizer-mirror")
