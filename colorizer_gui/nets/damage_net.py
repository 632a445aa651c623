"""A learned damage detector: a small U-Net on the first stages of the
EfficientNet-Lite0 encoder (strides 2 to 16), predicting for every pixel of a
gray print the logit that it is damage (scratch, speck, hair, crease), trained
on damage synthesized over clean photos (``training/repair_detector.py``), as
Wan et al. (CVPR 2020) train their scratch detector.

``learned_detector(path)`` gives a ``core.repair.Detector`` (gray, sensitivity ->
mask) so the core stays free of torch.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .efficientnet_lite import LITE0_STAGES, STEM_CHANNELS, MBConvBlock, _bn, kaiming_init
from .upsampled_conv import UpsampledConv

#: Encoder blocks used (through stride 16) and the channels of their skips.
_BLOCKS = 11
_SKIP_BLOCKS = (0, 2, 4, 10)
_SKIP_CHANNELS = (16, 24, 40, 112)
DECODER_CHANNELS = (64, 32, 24, 16)


class ConvOfConcat(nn.Conv2d):
    """A 3x3 convolution of its inputs concatenated along channels (``parts``: the
    channels of each), computed as the sum of each input's convolution with its
    slice of the weights: the same numbers, without building the concatenation,
    which at full resolution took as long as the convolution itself."""

    def __init__(self, parts: tuple[int, ...], out_ch: int) -> None:
        super().__init__(sum(parts), out_ch, 3, padding=1, bias=False)
        self.parts = parts

    def forward(self, *inputs: torch.Tensor,  # type: ignore[override]
                first: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The convolution of the concatenated ``inputs``; ``first``: the first
        input's term (its convolution, no bias) computed by the caller, who then
        passes only the other inputs."""
        total, bias = first, self.bias
        start = 0 if first is None else self.parts[0]
        for x, n in zip(inputs, self.parts[len(self.parts) - len(inputs):]):
            term = F.conv2d(x, self.weight[:, start:start + n], bias, padding=self.padding)
            bias = None
            total = term if total is None else total + term
            start += n
        return total


class DamageNet(nn.Module):
    """(N, 1, H, W) gray in [-1, 1] -> (N, 1, H, W) damage logits; H, W multiples of 16."""

    size_multiple = 16
    BN_AFTER_CONV = {"_bn0": "_conv_stem"}  # nets/folding.py

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = nn.Conv2d(1, STEM_CHANNELS, 3, stride=2, padding=1, bias=False)
        self._bn0 = _bn(STEM_CHANNELS)
        blocks = []
        for repeats, kernel, stride, expand, in_ch, out_ch in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(in_ch if i == 0 else out_ch, out_ch, kernel,
                                          stride if i == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks[:_BLOCKS])
        self.act = nn.ReLU6(inplace=True)
        ups = []
        in_ch = _SKIP_CHANNELS[-1]
        for skip_ch, out_ch in zip(_SKIP_CHANNELS[-2::-1], DECODER_CHANNELS):
            ups.append(nn.Sequential(nn.Conv2d(in_ch + skip_ch, out_ch, 3, padding=1, bias=False),
                                     nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)))
            in_ch = out_ch
        # Full resolution: the upsampled features, the input and its fine features.
        ups.append(nn.Sequential(ConvOfConcat((in_ch, 1, 8), DECODER_CHANNELS[-1]),
                                 nn.BatchNorm2d(DECODER_CHANNELS[-1]), nn.ReLU(inplace=True)))
        self.ups = nn.ModuleList(ups)
        # Full-resolution features of the input itself: 1-px specks live there.
        self.fine = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(inplace=True))
        self.out = nn.Conv2d(DECODER_CHANNELS[-1], 1, 3, padding=1)
        self.apply(kaiming_init)
        # For inference (``use_half_grid``): the full-resolution convolution's part
        # on the upsampled features, computed without upsampling them.
        self.upsampled_conv: Optional[UpsampledConv] = None

    def use_half_grid(self) -> None:
        """Compute the upsampled features' convolution at the last stage on the
        half grid (``nets/upsampled_conv.py``: the same numbers, a sixth off a CPU
        pass), from the weights as they are now: for an inference copy, after any
        batch-norm folding. Training mode goes the plain way."""
        conv = self.ups[-1][0]
        self.upsampled_conv = UpsampledConv(conv.weight[:, :conv.parts[0]])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        y = self.act(self._bn0(self._conv_stem(x)))
        for index, block in enumerate(self._blocks):
            y = block(y)
            if index in _SKIP_BLOCKS:
                feats.append(y)
        y = feats[-1]
        for up, skip in zip(self.ups[:-1], feats[-2::-1]):
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = up(torch.cat([y, skip], dim=1))
        conv, norm, act = self.ups[-1]
        fine = self.fine(x)
        if (self.upsampled_conv is not None and not self.training
                and tuple(x.shape[-2:]) == (2 * y.shape[-2], 2 * y.shape[-1])):
            z = conv(x, fine, first=self.upsampled_conv(y))
        else:
            z = conv(F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False), x, fine)
        return self.out(act(norm(z)))


def load_encoder_from_generator(net: DamageNet, state: dict[str, torch.Tensor]) -> int:
    """Start ``net``'s encoder from a colorizer generator's (``encoder.*`` keys; the
    stem keeps its lightness input channel). Returns the tensors loaded."""
    own = net.state_dict()
    loaded = 0
    for key, value in state.items():
        if not key.startswith("encoder."):
            continue
        name = key[len("encoder."):]
        if name not in own:
            continue
        if name == "_conv_stem.weight":
            value = value[:, :1]
        if own[name].shape == value.shape:
            own[name] = value.to(own[name].dtype)
            loaded += 1
    net.load_state_dict(own)
    return loaded


def damage_probability(net: nn.Module, gray01: np.ndarray, tile: int = 1024) -> np.ndarray:
    """Per-pixel damage probability (float32 HxW) of a gray image in [0, 1], in
    tiles with a margin so memory stays flat on large scans. The default tile
    holds the detector's working size (800 px) whole: one pass, no overlaps to
    compute twice (a 12 MP scan's detection in about half the time of 512 px tiles)."""
    h, w = gray01.shape
    margin = 32
    out = np.zeros((h, w), np.float32)
    net.eval()
    with torch.inference_mode():
        for y0 in range(0, h, tile):
            for x0 in range(0, w, tile):
                y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
                ya, xa = max(0, y0 - margin), max(0, x0 - margin)
                yb, xb = min(h, y1 + margin), min(w, x1 + margin)
                crop = gray01[ya:yb, xa:xb]
                ph = (-crop.shape[0]) % 16
                pw = (-crop.shape[1]) % 16
                t = torch.from_numpy(np.pad(crop, ((0, ph), (0, pw)), mode="reflect")).float()
                x = (t[None, None] * 2.0 - 1.0).contiguous(memory_format=torch.channels_last)
                logits = net(x)[0, 0, :crop.shape[0], :crop.shape[1]]
                prob = torch.sigmoid(logits).numpy()
                out[y0:y1, x0:x1] = prob[y0 - ya:y1 - ya, x0 - xa:x1 - xa]
    return out


#: The learned detector's weights, found where model files are (``core.model_store``).
DETECTOR_FILE = "repair-detector.safetensors"


def bundled_detector_path() -> Optional[Path]:
    """The installed learned detector's weights, or None."""
    from ..core.model_store import find_weights

    return find_weights(DETECTOR_FILE)


_DEFAULT: dict[str, Optional[Callable[[np.ndarray, float], np.ndarray]]] = {}


def default_detector() -> Optional[Callable[[np.ndarray, float], np.ndarray]]:
    """The detector repair uses by default, for the CLI and the window alike: the
    learned one when its model file is installed (it won on bench/repair.py),
    else None (the core's classical detector). Loaded once."""
    if "detector" not in _DEFAULT:
        path = bundled_detector_path()
        _DEFAULT["detector"] = learned_detector(path) if path is not None else None
    return _DEFAULT["detector"]


def load_damage_net(path: Path) -> nn.Module:
    """A DamageNet from a safetensors file (never a pickle), ready for inference:
    eval mode, each batch norm folded into the convolution before it (the same
    outputs to about 1e-5), channels-last memory (``folding.for_inference``)."""
    from safetensors.torch import load_file

    from .folding import for_inference

    if Path(path).suffix.lower() != ".safetensors":
        raise ValueError(f"{Path(path).name}: not a safetensors file")
    net = DamageNet()
    state = {k: v.float() for k, v in load_file(str(path)).items()}
    net.load_state_dict(state)
    net.eval()
    net = for_inference(net)
    net.use_half_grid()
    return net


#: A mark (an 8-connected area above the threshold) is painted out only where the
#: net is sure of some part of it: its peak probability is this far from the
#: threshold to 1 (0.95 at the default 0.65). Unsure marks alone were mostly
#: real detail; chosen on the validation split (bench/RESULTS.md, "Repair").
CONFIDENT_PEAK = 0.86


def keep_confident_marks(prob: np.ndarray, threshold: float, peak: float) -> np.ndarray:
    """``prob`` (8-bit levels) with every mark above ``threshold`` whose highest
    level is under ``peak`` set to 0 (the rest as it was)."""
    import cv2

    n, labels = cv2.connectedComponents((prob > threshold).view(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[prob >= peak])] = True
    keep[0] = True  # what is below the threshold keeps its levels
    return np.where(keep[labels], prob, np.uint8(0))


def learned_detector(path: Path, shape_filter: bool = False) -> Callable[[np.ndarray, float], np.ndarray]:
    """A ``core.repair.Detector`` running the net in ``path``: the photo is brought
    to the reference size the net was trained at (``photo_scale``), its damage
    probability thresholded by the sensitivity (0.5 -> 0.65, 1 -> 0.4), marks with
    no confident part dropped (``keep_confident_marks``), and the rest brought back
    to full resolution. With ``shape_filter`` the net's marks then pass the classical
    detector's family rules (``keep_damage_shapes``); measured on bench/repair.py
    that loses more than it gains (off by default)."""
    import cv2

    from ..core.repair.detect import _as_levels, keep_damage_shapes, photo_scale

    net = load_damage_net(path)

    def detect(gray: np.ndarray, sensitivity: float) -> np.ndarray:
        levels = _as_levels(gray)
        h, w = levels.shape
        s = photo_scale(h, w)
        # 0.65 at the default 0.5: chosen on the validation split (bench/RESULTS.md, "Repair").
        cut = float(np.clip(0.9 - 0.5 * sensitivity, 0.05, 0.95))
        threshold = 255.0 * cut
        # Brought to the working size before going to float: a 12 MP scan is never copied as float.
        small = levels if s <= 1.0 else cv2.resize(levels, (round(w / s), round(h / s)),
                                                   interpolation=cv2.INTER_AREA)
        # Probability in 8-bit levels: brought back to a 12 MP scan at a quarter of float's memory.
        prob = np.rint(damage_probability(net, small.astype(np.float32) / 255.0) * 255.0).astype(np.uint8)
        prob = keep_confident_marks(prob, threshold, 255.0 * (cut + (1.0 - cut) * CONFIDENT_PEAK))
        if prob.shape != (h, w):
            prob = cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)
        if not shape_filter:
            return prob > threshold
        # One polarity: the net's marks are whole (grain would split them into light and dark bits).
        light = np.ones((h, w), bool)
        return keep_damage_shapes(prob > threshold * 0.6, prob > threshold, light, sensitivity, families_only=True)

    return detect
