"""The generator networks, defined once and used by both inference and training.

Public API (re-exported here):

- ``build_generator(arch, **kwargs)``, ``ARCHITECTURES``
- ``normalize_l``, ``denormalize_ab``, ``L_CENTER``, ``AB_SCALE``
- ``pad_to_multiple``, ``crop_back``, ``run_generator``, ``run_generator_mirrored``
- ``load_imagenet_encoder_weights``
- ``save_generator``, ``load_generator``, ``read_metadata``, ``WeightsError``

Names are resolved on first use, so ``from colorizer_gui.nets.weights_io import
read_metadata`` (or ``WeightsError``) does not import torch.
"""
from __future__ import annotations

from typing import Any

_WHERE = {
    "build_generator": "generators",
    "ARCHITECTURES": "generators",
    "Lite0UNet": "generators",
    "Pix2PixUNet": "generators",
    "normalize_l": "inference",
    "denormalize_ab": "inference",
    "L_CENTER": "inference",
    "AB_SCALE": "inference",
    "pad_to_multiple": "inference",
    "crop_back": "inference",
    "run_generator": "inference",
    "run_generator_mirrored": "inference",
    "load_imagenet_encoder_weights": "efficientnet_lite",
    "EfficientNetLite0Encoder": "efficientnet_lite",
    "save_generator": "weights_io",
    "load_generator": "weights_io",
    "read_metadata": "weights_io",
    "WeightsError": "weights_io",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module_name = _WHERE.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # Explicit imports (not importlib on a string) so PyInstaller sees them.
    if module_name == "generators":
        from . import generators as module
    elif module_name == "inference":
        from . import inference as module
    elif module_name == "efficientnet_lite":
        from . import efficientnet_lite as module
    else:
        from . import weights_io as module
    value = getattr(module, name)
    globals()[name] = value
    return value
