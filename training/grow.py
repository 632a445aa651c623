"""Start a bigger generator from a smaller one, and the class objective's set-up.

``grow_generator`` lets a run go on from an older model file (say the shipped
1-channel ``cgan-default``) while adding colour-hint inputs or a class head:
every weight the two share is copied; new input channels of the first
convolution and of the full-size skip start at zero, so with no hints the grown
net computes exactly what the old one did; a new class head keeps its fresh init.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

GROWABLE = ("hint_channels", "class_bins")


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
    if config.get("class_bins"):
        config.pop("ab_gain", None)  # a class head has its own vividness (temperature)
    grown = build_generator(gen.arch, **config)
    own = grown.state_dict()
    old = gen.state_dict()
    with torch.no_grad():
        for key, value in own.items():
            if key not in old:
                continue  # a new part (class head): keeps its init
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


def make_class_loss(gen: Any, train_images: Sequence[np.ndarray]) -> Any:
    """The rebalanced class loss for ``gen``'s bins, with the prior of ``train_images``."""
    from colorizer_gui.nets.norm import AB_SCALE

    from .class_loss import RebalancedClassLoss, bin_prior, rebalance_weights

    bins = gen.ab_bins.detach().cpu().numpy().astype(np.float64)
    prior = bin_prior(train_images, bins)
    return RebalancedClassLoss(bins, rebalance_weights(prior), AB_SCALE)


def make_rebalanced_l1(train_images: Sequence[np.ndarray]) -> Any:
    """The rarity-weighted L1 of ``--objective rebalanced``, with the prior of ``train_images``."""
    from colorizer_gui.nets.generators import zhang_ab_bins
    from colorizer_gui.nets.norm import AB_SCALE

    from .class_loss import RebalancedL1Loss, bin_prior, rebalance_weights

    bins = zhang_ab_bins().numpy().astype(np.float64)
    return RebalancedL1Loss(bins, rebalance_weights(bin_prior(train_images, bins)), AB_SCALE)
