"""Add colour-hint inputs to a generator from a model file that has none.

``grow_generator`` lets a run go on from an older 1-channel model file (the way the
shipped model first learnt to take hints) while adding colour-hint inputs: every
weight the two share is copied; new input channels of the first convolution and of
the full-size skip start at zero, so with no hints the grown net computes exactly
what the old one did.
"""
from __future__ import annotations

from typing import Any

GROWABLE = ("hint_channels",)


def grow_generator(gen: Any, kwargs: dict[str, Any]) -> Any:
    """``gen`` itself when it already has everything ``kwargs`` asks for, else a
    new ``lite0-unet`` built with ``gen``'s config updated by ``kwargs``, holding
    ``gen``'s weights (zero weights on the new input channels)."""
    import torch

    from colorizer_gui.nets import build_generator

    # Only the optional parts can be added; the file's own widths always win.
    wanted = {k: v for k, v in kwargs.items() if k in GROWABLE and v}
    config = dict(gen.config)
    if all(config.get(k, 0) == v for k, v in wanted.items()):
        return gen
    config.update(wanted)
    grown = build_generator(gen.arch, **config)
    own = grown.state_dict()
    old = gen.state_dict()
    with torch.no_grad():
        for key, value in own.items():
            if key not in old:
                continue
            src = old[key]
            if src.shape == value.shape:
                value.copy_(src)
            elif src.dim() == 4 and src.shape[0] == value.shape[0] and src.shape[2:] == value.shape[2:] \
                    and src.shape[1] < value.shape[1]:
                # New input channels come last (hints after L): zero weights there.
                value.zero_()
                value[:, :src.shape[1]].copy_(src)
            else:
                raise ValueError(f"cannot grow {key}: {tuple(src.shape)} -> {tuple(value.shape)}")
    grown.load_state_dict(own)
    return grown
