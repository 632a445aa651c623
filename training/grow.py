"""Start a bigger generator from a smaller one, and the class objective's set-up.

``grow_generator`` lets a run go on from an older model file (say the shipped
1-channel ``cgan-default``) while adding colour-hint inputs or a class head:
every weight the two share is copied; new input channels of the first
convolution and of the full-size skip start at zero, so with no hints the grown
net computes exactly what the old one did; a new class head keeps its fresh init.

``widen_decoder`` gives a ``lite0-unet`` a wider decoder (more capacity) that starts
out computing exactly what the narrow one did: the new channels are freshly
initialised, and every weight that reads them starts at zero, so they only come
into play as training moves those weights.
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


def _decoder_convs(gen: Any) -> list[tuple[str, list[int]]]:
    """(state-dict prefix, widths of the concatenated parts it reads) of every decoder
    conv whose input or output is a decoder width: bridge, stages, head, class head."""
    widths = list(gen.config["decoder_channels"])
    skips = [stage.conv[0].in_channels - width for stage, width in zip(gen.stages, [widths[0]] + widths[:-1])]
    convs = [("bridge.0", [gen.bridge[0].in_channels])]
    convs += [(f"stages.{i}.conv.0", [w, s]) for i, (w, s) in enumerate(zip([widths[0]] + widths[:-1], skips))]
    convs.append(("head", [widths[-1]]))
    if getattr(gen, "class_bins", 0):
        convs.append(("class_head.0.0", [widths[2]]))
    return convs


def widen_decoder(gen: Any, channels: Sequence[int]) -> Any:
    """``gen`` (a ``lite0-unet``) with decoder widths ``channels`` (each at least the
    old one), computing exactly what ``gen`` does until training moves it; ``gen``
    itself when the widths are already those."""
    import torch

    from colorizer_gui.nets import build_generator

    old_w = [int(c) for c in gen.config["decoder_channels"]]
    new_w = [int(c) for c in channels]
    if new_w == old_w:
        return gen
    if len(new_w) != len(old_w) or any(n < o for n, o in zip(new_w, old_w)):
        raise ValueError(f"a decoder can only be widened: {old_w} -> {new_w} (5 widths, none smaller)")
    wide = build_generator(gen.arch, **dict(gen.config, decoder_channels=new_w))
    old_parts = dict(_decoder_convs(gen))
    new_parts = dict(_decoder_convs(wide))
    old, own = gen.state_dict(), wide.state_dict()
    with torch.no_grad():
        for key, value in own.items():
            src = old[key]
            if src.shape == value.shape:
                value.copy_(src)
                continue
            prefix = key.rsplit(".", 1)[0]
            if prefix in new_parts and key.endswith("weight") and value.dim() == 4:
                # The old outputs read their old inputs, where those parts now start, and
                # zero from the new inputs, so whatever the new channels hold changes
                # nothing yet. New outputs (rows past the old ones) keep their fresh init.
                rows = value[:src.shape[0]]
                rows.zero_()
                new_starts = np.cumsum([0] + new_parts[prefix][:-1])
                old_starts = np.cumsum([0] + old_parts[prefix][:-1])
                for new_start, old_start, size in zip(new_starts, old_starts, old_parts[prefix]):
                    rows[:, new_start:new_start + size].copy_(src[:, old_start:old_start + size])
            elif value.dim() == 1 and src.dim() == 1 and value.shape[0] > src.shape[0]:
                value[:src.shape[0]].copy_(src)  # BatchNorm of a widened conv: new channels keep their init
            else:
                raise ValueError(f"cannot widen {key}: {tuple(src.shape)} -> {tuple(value.shape)}")
    wide.load_state_dict(own)
    return wide
