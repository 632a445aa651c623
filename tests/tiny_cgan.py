"""Tiny real generator files for tests (GUI, CLI, training, backend).

``make_tiny_generator_file`` builds a small randomly initialised generator with
the real architecture code and saves it with the real ``save_generator``, so
tests exercise the same loading path as a user's model file.
"""
from __future__ import annotations

from pathlib import Path

import torch

from colorizer_gui.nets import build_generator, save_generator

# Small widths: fast to build and run, same code paths as the full-size nets.
TINY_CONFIGS = {
    "lite0-unet": {"decoder_channels": (16, 8, 8, 8, 8)},
    "pix2pix": {"ngf": 4},
}


def make_tiny_generator_file(path: Path, arch: str = "lite0-unet", seed: int = 0) -> Path:
    """Save a small random ``arch`` generator to ``path`` (.safetensors); return the path.

    The batch-norm running statistics are set from one forward pass in training
    mode, so the saved model gives finite, varied (not saturated) colours.
    """
    torch.manual_seed(seed)
    model = build_generator(arch, **TINY_CONFIGS[arch])
    size = model.size_multiple if arch == "pix2pix" else 64
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = None  # cumulative average: one pass sets the stats exactly
        model.train()
        model(torch.rand(2, 1, size, size) * 2 - 1)
    model.eval()
    return save_generator(model, Path(path), {"train_size": str(size),
                                              "data_summary": "random init (test)",
                                              "metrics": {"seed": seed}})
