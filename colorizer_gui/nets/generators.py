"""The colorization generators: plain ``nn.Module``s, used by inference and training.

Both take normalised L (N, 1, H, W) = ``L / 50 - 1`` and return (N, 2, H, W)
in [-1, 1] = ``ab / 110``. A ``lite0-unet`` built with ``hint_channels=3`` also
takes colour hints: input (N, 4, H, W) = L, hint a, hint b (``ab / 110``) and a
hint mask (1 where a hint is), zeros meaning "no hints"; given only L it adds
the zeros itself. Each carries ``arch`` (its builder name),
``config`` (the keyword arguments that rebuild it, JSON-friendly) and
``size_multiple`` (H and W must be multiples of it; ``run_generator`` pads).

- ``lite0-unet``: EfficientNet-Lite0 encoder (ImageNet-pretrained when asked)
  with a light U-Net decoder; skips at strides 16, 8, 4, 2 and the input.
- ``pix2pix``: the pix2pix ``unet_256`` generator (Isola et al., 2017): eight
  4x4 stride-2 downsamplings, BatchNorm, dropout in three inner decoder layers.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .efficientnet_lite import EfficientNetLite0Encoder, kaiming_init, load_imagenet_encoder_weights

ARCHITECTURES = ("lite0-unet", "pix2pix")

DEFAULT_DECODER_CHANNELS = (192, 96, 48, 24, 16)
HINT_CHANNELS = 3  # hint a, hint b, mask
# The range of a regression net's colour gain (``ab_gain``), its vividness.
AB_GAIN_RANGE = (0.5, 2.0)


def upsample2x_aligned(x: torch.Tensor) -> torch.Tensor:
    """Bilinear x2 upsampling that keeps pixel centres where the encoder put them.

    With symmetric padding, a stride-2 conv puts output pixel ``i`` on input
    pixel ``2 i``; plain ``interpolate(scale_factor=2)`` assumes ``2 i + 0.5``,
    a half-pixel shift per level that adds up to 15.5 pixels between the
    stride-32 features and the photo. Here output ``2 i`` equals input ``i`` and
    output ``2 i + 1`` is the mean of ``i`` and ``i + 1`` (the last row/column
    repeats the edge): replicate-pad one pixel, corner-aligned interpolation to
    ``2 n + 1``, drop the extra pixel.
    """
    h, w = x.shape[-2:]
    y = F.pad(x, (0, 1, 0, 1), mode="replicate")
    y = F.interpolate(y, size=(2 * h + 1, 2 * w + 1), mode="bilinear", align_corners=True)
    return y[..., : 2 * h, : 2 * w]


class _ConvBnRelu(nn.Sequential):
    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3) -> None:
        super().__init__(
            nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )


class _UpStage(nn.Module):
    """Upsample x2 (aligned), concatenate the skip, one 3x3 conv + BN + ReLU."""

    def __init__(self, in_ch: int, skip_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = _ConvBnRelu(in_ch + skip_ch, out_ch)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([upsample2x_aligned(x), skip], dim=1))


class Lite0UNet(nn.Module):
    """U-Net with an EfficientNet-Lite0 encoder; input sizes must be multiples of 32.

    Decoder: a 1x1 bridge reduces the 1280-channel stride-32 head to
    ``decoder_channels[0]``; then five stages (to strides 16, 8, 4, 2, 1) each
    upsample x2, concatenate the encoder skip of that stride (the last one: the
    input L itself) and apply 3x3 conv + BN + ReLU with ``decoder_channels[i]``
    outputs; a final 3x3 conv gives 2 channels and tanh.

    Init: decoder convs Kaiming-normal (fan-out, ReLU), BN weight 1 / bias 0; the
    output conv N(0, 0.02) so an untrained net predicts nearly gray.
    """

    arch = "lite0-unet"
    size_multiple = 32

    def __init__(self, decoder_channels: Sequence[int] = DEFAULT_DECODER_CHANNELS,
                 pretrained: bool = False, hint_channels: int = 0,
                 ab_gain: float = 1.0) -> None:
        super().__init__()
        channels = tuple(int(c) for c in decoder_channels)
        if len(channels) != 5 or min(channels) < 1:
            raise ValueError(f"decoder_channels needs 5 positive widths, got {decoder_channels!r}")
        if int(hint_channels) not in (0, HINT_CHANNELS):
            raise ValueError(f"hint_channels must be 0 or {HINT_CHANNELS}, got {hint_channels!r}")
        self.hint_channels = int(hint_channels)
        self.config: dict = {"decoder_channels": list(channels)}
        # Older files have neither key; writing them only when used keeps those files' configs.
        if self.hint_channels:
            self.config["hint_channels"] = self.hint_channels
        self.ab_gain = 1.0
        self.set_ab_gain(ab_gain)
        in_ch = 1 + self.hint_channels
        self.encoder = EfficientNetLite0Encoder(in_channels=in_ch)
        if pretrained:
            load_imagenet_encoder_weights(self.encoder)
        skips = EfficientNetLite0Encoder.SKIP_CHANNELS  # strides 2, 4, 8, 16, 32
        self.bridge = _ConvBnRelu(skips[4], channels[0], kernel=1)
        # Skip of each stage: stride 16, 8, 4, 2, then the input itself (L and hints).
        stage_skips = (skips[3], skips[2], skips[1], skips[0], in_ch)
        ins = (channels[0],) + channels[:-1]
        self.stages = nn.ModuleList(
            _UpStage(i, s, o) for i, s, o in zip(ins, stage_skips, channels))
        self.head = nn.Conv2d(channels[-1], 2, 3, padding=1)
        self._init_decoder()

    def set_ab_gain(self, gain: float) -> None:
        """Scale the colours this (regression) net gives by ``gain``, kept in its config.

        An L1-trained net predicts a median colour, duller than the truth wherever
        it is unsure; a gain chosen on validation photos restores the vividness."""
        gain = float(gain)
        if not AB_GAIN_RANGE[0] <= gain <= AB_GAIN_RANGE[1]:
            raise ValueError(f"ab_gain must be from {AB_GAIN_RANGE[0]} to {AB_GAIN_RANGE[1]}, got {gain!r}")
        self.ab_gain = gain
        if gain == 1.0:
            self.config.pop("ab_gain", None)  # older files have no such key
        else:
            self.config["ab_gain"] = gain

    def _init_decoder(self) -> None:
        for part in (self.bridge, self.stages):
            part.apply(kaiming_init)
        nn.init.normal_(self.head.weight, 0.0, 0.02)
        nn.init.zeros_(self.head.bias)

    def with_hint_channels(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` as this net's input: zeros ("no hints") appended to a 1-channel L."""
        want = 1 + self.hint_channels
        if x.shape[1] == want:
            return x
        if x.shape[1] == 1 and self.hint_channels:
            pad = x.new_zeros((x.shape[0], self.hint_channels) + tuple(x.shape[2:]))
            return torch.cat([x, pad], dim=1)
        raise ValueError(f"lite0-unet with {self.hint_channels} hint channels takes 1 or "
                         f"{want} input channels, got {x.shape[1]}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ab / 110 for input ``x`` (L, or L and hint planes)."""
        h, w = x.shape[-2:]
        if h % 32 or w % 32:
            raise ValueError(f"lite0-unet needs H and W multiples of 32, got {h}x{w}; "
                             "use run_generator() to pad")
        x = self.with_hint_channels(x)
        s2, s4, s8, s16, s32 = self.encoder(x)
        y = self.bridge(s32)
        for stage, skip in zip(self.stages, (s16, s8, s4, s2, x)):
            y = stage(y, skip)
        out = torch.tanh(self.head(y))
        return out * self.ab_gain if self.ab_gain != 1.0 else out


def pix2pix_init(module: nn.Module) -> None:
    """The pix2pix init (use with ``Module.apply``): convolutions N(0, 0.02),
    BatchNorm weight N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class _UnetLevel(nn.Module):
    """One level of the pix2pix U-Net: down, the inner levels, up, and the skip."""

    def __init__(self, outer_ch: int, inner_ch: int, inner: "nn.Module | None",
                 in_ch: int | None = None, outermost: bool = False,
                 dropout: bool = False, out_ch: int | None = None) -> None:
        super().__init__()
        in_ch = outer_ch if in_ch is None else in_ch
        self.outermost = outermost
        down: list[nn.Module] = []
        if not outermost:
            down.append(nn.LeakyReLU(0.2, inplace=False))
        down.append(nn.Conv2d(in_ch, inner_ch, 4, stride=2, padding=1, bias=False))
        if inner is not None and not outermost:
            down.append(nn.BatchNorm2d(inner_ch))
        self.down = nn.Sequential(*down)
        self.inner = inner if inner is not None else nn.Identity()
        up_in = inner_ch if inner is None else inner_ch * 2
        up: list[nn.Module] = [nn.ReLU(inplace=False)]
        if outermost:
            up += [nn.ConvTranspose2d(up_in, out_ch or outer_ch, 4, stride=2, padding=1), nn.Tanh()]
        else:
            up += [nn.ConvTranspose2d(up_in, outer_ch, 4, stride=2, padding=1, bias=False),
                   nn.BatchNorm2d(outer_ch)]
            if dropout:
                up.append(nn.Dropout(0.5))
        self.up = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(self.inner(self.down(x)))
        return y if self.outermost else torch.cat([x, y], dim=1)


class Pix2PixUNet(nn.Module):
    """The pix2pix ``unet_256`` generator: 1 channel in, 2 out, input multiple of 256.

    Eight downsamplings (ngf, 2ngf, 4ngf, 8ngf x5), mirrored by transposed convs
    with skips; dropout 0.5 in the three decoder levels just above the
    innermost. Init N(0, 0.02) for convs, N(1, 0.02) for BN weights (as pix2pix).
    """

    arch = "pix2pix"
    size_multiple = 256

    def __init__(self, ngf: int = 64) -> None:
        super().__init__()
        ngf = int(ngf)
        if ngf < 1:
            raise ValueError(f"ngf must be positive, got {ngf}")
        self.config = {"ngf": ngf}
        level = _UnetLevel(ngf * 8, ngf * 8, None)  # innermost: 2x2 -> 1x1
        for _ in range(3):
            level = _UnetLevel(ngf * 8, ngf * 8, level, dropout=True)
        level = _UnetLevel(ngf * 4, ngf * 8, level)
        level = _UnetLevel(ngf * 2, ngf * 4, level)
        level = _UnetLevel(ngf, ngf * 2, level)
        self.model = _UnetLevel(ngf, ngf, level, in_ch=1, outermost=True, out_ch=2)
        self.apply(pix2pix_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % 256 or w % 256:
            raise ValueError(f"pix2pix needs H and W multiples of 256, got {h}x{w}; "
                             "use run_generator() to pad")
        return self.model(x)


def build_generator(arch: str = "lite0-unet", **kwargs: object) -> nn.Module:
    """Build a generator by name (``ARCHITECTURES``) with its keyword arguments.

    ``lite0-unet``: ``decoder_channels`` (5 widths), ``pretrained`` (load the
    ImageNet encoder weights now; default False), ``hint_channels``,
    ``ab_gain`` (``Lite0UNet.set_ab_gain``). ``pix2pix``: ``ngf``.
    Unknown names or keywords raise ``ValueError``.
    """
    builders = {"lite0-unet": Lite0UNet, "pix2pix": Pix2PixUNet}
    if arch not in builders:
        raise ValueError(f"Unknown generator architecture {arch!r}; "
                         f"known: {', '.join(ARCHITECTURES)}")
    try:
        return builders[arch](**kwargs)  # type: ignore[arg-type]
    except TypeError as err:
        raise ValueError(f"Bad options for {arch}: {err}") from err
