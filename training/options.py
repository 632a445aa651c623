"""Training options: one dataclass, saved as JSON next to the checkpoints."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Optional

INIT_CHOICES = ("default", "imagenet", "scratch")
LR_SCHEDULES = ("constant", "cosine")

# Fields that may change when a run is resumed (they do not affect the model,
# the data split or the data order); everything else comes from the saved run.
RUNTIME_FIELDS = ("out", "device", "workers", "eval_every", "checkpoint_every", "run_dir",
                  "l1_epochs", "gan_epochs", "resume", "keep_snapshots")

# Options of earlier experiments, with the value that means "off": a saved run that
# used one cannot be continued (it would silently become another run).
RETIRED_DEFAULTS: dict[str, Any] = {"objective": "l1", "lambda_chroma": 0.0, "lambda_feature": 0.0,
                                    "cool_cast_limit": None, "gray_weight": None,
                                    "decoder_channels": None}


@dataclass
class TrainOptions:
    """Everything a fine-tuning run needs; see ``training/cli.py`` for the flags.

    ``init``: "default" starts from the app's default generator weights,
    "imagenet" from a new generator with an ImageNet-pretrained encoder,
    "scratch" from random weights (the plain pix2pix "base cGAN"), or the path
    of a generator ``.safetensors`` file (say an earlier fine-tune) to go on from.
    ``arch_kwargs``: extra ``build_generator`` options (e.g. tiny widths in tests).
    ``run_dir``: where checkpoints and previews go (default: the user's runs
    folder / the output file's stem).
    """

    data_dir: str
    out: str
    init: str = "default"
    arch: str = "lite0-unet"
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    size: int = 256
    batch_size: int = 16
    l1_epochs: int = 5
    gan_epochs: int = 5
    lr_l1: float = 1e-4
    lr_gan: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    # "constant", or "cosine": each stage's rate falls along a half cosine to 0 at the
    # run's last step (its epochs), so a run ends settled instead of mid-bounce.
    lr_schedule: str = "constant"
    lambda_l1: float = 100.0
    hints: bool = False        # generator takes colour hints; train with random hints
    degrade: bool = False      # age the input L like a real old scan
    keep_toned: bool = False   # keep nearly gray and one-hue photos (curated colour sets only)
    ndf: int = 64
    val_fraction: float = 0.05
    min_val_images: int = 4
    min_short_side: Optional[int] = None  # default: size // 2
    scale_range: tuple[float, float] = (1.0, 1.25)  # short side / size before the random crop
    eval_every: int = 500
    checkpoint_every: int = 500
    preview_rows: int = 4
    device: str = "auto"
    seed: int = 0
    workers: int = -1  # -1: choose (0 on CPU, a few on CUDA)
    max_images: Optional[int] = None
    run_dir: Optional[str] = None
    deterministic: bool = False
    resume: bool = False
    keep_snapshots: bool = False  # also export every evaluation's generator to run_dir/snapshots/

    def validate(self) -> None:
        """Raise ``ValueError`` with a plain message for options that cannot work."""
        if self.init not in INIT_CHOICES and not self.init.lower().endswith(".safetensors"):
            raise ValueError(f"--init must be one of {', '.join(INIT_CHOICES)} or a .safetensors "
                             f"model file, not {self.init!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"--lr-schedule must be one of {', '.join(LR_SCHEDULES)}, not {self.lr_schedule!r}")
        if self.hints and self.arch != "lite0-unet":
            raise ValueError("--hints needs the lite0-unet generator")
        if self.lr_l1 <= 0 or self.lr_gan <= 0:
            raise ValueError("learning rates must be positive")
        if self.size < 32 or self.size % 32:
            raise ValueError(f"--size must be a multiple of 32 (at least 32), not {self.size}")
        if self.arch == "pix2pix" and self.size % 256:
            raise ValueError("the pix2pix generator needs --size 256 (or a multiple of 256)")
        if self.batch_size < 1:
            raise ValueError("--batch-size must be at least 1")
        if self.l1_epochs < 0 or self.gan_epochs < 0 or self.l1_epochs + self.gan_epochs < 1:
            raise ValueError("train at least one epoch (--l1-epochs/--gan-epochs)")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError("val_fraction must be between 0 and 1")
        if self.eval_every < 1 or self.checkpoint_every < 1:
            raise ValueError("--eval-every and checkpoint interval must be at least 1")
        lo, hi = self.scale_range
        if not 1.0 <= lo <= hi:
            raise ValueError("scale_range must satisfy 1 <= low <= high")
        if self.max_images is not None and self.max_images < 2:
            raise ValueError("--max-images must be at least 2 (one to train, one to check)")

    def generator_kwargs(self) -> dict[str, Any]:
        """``build_generator`` options: ``arch_kwargs`` plus what ``hints`` needs."""
        from colorizer_gui.nets.generators import HINT_CHANNELS

        kwargs = dict(self.arch_kwargs)
        if self.hints:
            kwargs["hint_channels"] = HINT_CHANNELS
        return kwargs

    @property
    def tiny_side(self) -> int:
        """Photos with a shorter side than this are skipped as too small."""
        return self.min_short_side if self.min_short_side is not None else self.size // 2

    def to_json(self) -> str:
        """JSON text of all options."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainOptions":
        """Options from a dict (e.g. read back from JSON); unknown keys are ignored.

        A run saved with options that were retired (other objectives and loss
        terms) is refused rather than continued as a different run."""
        known = {f.name for f in fields(cls)}
        retired = [key for key, off in RETIRED_DEFAULTS.items() if data.get(key, off) != off]
        if retired:
            raise ValueError(f"this run uses options Colorizer no longer has ({', '.join(retired)}); "
                             "start a new run")
        clean = {k: v for k, v in data.items() if k in known}
        for key in ("betas", "scale_range"):
            if clean.get(key) is not None:
                clean[key] = tuple(clean[key])
        return cls(**clean)

    def resumed_with(self, new: "TrainOptions") -> "TrainOptions":
        """These (saved) options, with the runtime fields taken from ``new``."""
        return replace(self, **{name: getattr(new, name) for name in RUNTIME_FIELDS})


def save_options(options: TrainOptions, path: Path) -> None:
    """Write ``options`` as JSON to ``path`` atomically."""
    from .checkpoint import atomic_write_bytes

    atomic_write_bytes(Path(path), options.to_json().encode("utf-8"))
