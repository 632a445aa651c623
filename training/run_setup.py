"""Setting up a training run: the photos scanned and split, the data loader, the
generator (from the default model, a file, ImageNet or scratch; grown to take hints
when asked) and discriminator, and a resumed run's saved state."""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Optional

import numpy as np

from colorizer_gui.core.progress import ProgressEvent
from colorizer_gui.nets.device import DeviceError, pick_device

from .checkpoint import CHECKPOINT_NAME, load_checkpoint, restore_rng_state
from .dataset import ColorPhotoDataset, EpochSampler, center_view, scan_photos, split_indices, to_training_pair
from .distributed import any_rank, setup_distributed
from .errors import TrainingError
from .grow import grow_generator
from .options import TrainOptions, save_options


def default_run_dir(out: str) -> Path:
    """The user's runs folder / the output file's stem."""
    from colorizer_gui.core.paths import user_runs_dir

    return user_runs_dir() / Path(out).stem


class _CancelledEarly(Exception):
    """Asked to stop before the first step (while scanning the photos)."""


class RunSetup:
    """The set-up half of a run (``trainer._Run``): what it trains on and with."""

    def setup(self) -> None:
        import torch

        o = self.options
        self.run_dir = Path(o.run_dir) if o.run_dir else default_run_dir(o.out)
        self.ckpt_path = self.run_dir / CHECKPOINT_NAME
        state = None
        if o.resume:
            if not self.ckpt_path.is_file():
                raise TrainingError(f"Nothing to resume: no checkpoint in {self.run_dir}")
            state = load_checkpoint(self.ckpt_path)
            o = self.options = TrainOptions.from_dict(state["options"]).resumed_with(o)
            o.run_dir = str(self.run_dir)
        elif self.ckpt_path.exists():
            raise TrainingError(
                f"A training run already exists in {self.run_dir}. Use --resume to continue it, "
                "or --run-dir (or another --out) to start a new one.")
        o.validate()
        try:
            self.device = pick_device(o.device, int(os.environ.get("LOCAL_RANK", 0)))
        except DeviceError as err:
            raise TrainingError(str(err)) from None
        self.dist = setup_distributed(self.device.type == "cuda")
        self.amp = self.device.type == "cuda"
        if o.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        random.seed(o.seed)
        np.random.seed(o.seed)
        torch.manual_seed(o.seed)

        self._setup_data()
        self._setup_models(state)
        if self.dist.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            save_options(o, self.run_dir / "options.json")
        if state is not None:
            restore_rng_state(state["rng"])

    def _setup_data(self) -> None:
        import torch
        from torch.utils.data import DataLoader

        o = self.options

        def on_file(done: int, total: int, name: str) -> None:
            self.emit(ProgressEvent(stage="scan", done=done, total=total, current=name))

        images, _paths, report = scan_photos(Path(o.data_dir), o.size, o.tiny_side, o.max_images,
                                             o.seed, on_file=on_file, should_stop=self.should_stop,
                                             keep_toned=o.keep_toned)
        self.report = report
        if any_rank(bool(self.should_stop()), self.dist, self.device):
            raise _CancelledEarly
        train_idx, val_idx = split_indices(len(images), o.val_fraction, o.min_val_images, o.seed)
        report.train, report.val = len(train_idx), len(val_idx)
        self.emit(ProgressEvent(stage="scan", done=report.found, total=report.found,
                                metrics={"summary": report.summary(), **report.counts()}))

        train_images = [images[i] for i in train_idx]
        self.sampler = EpochSampler(len(train_images), o.seed, self.dist.rank, self.dist.world_size)
        self.batch = min(o.batch_size, self.sampler.per_rank())
        self.steps_per_epoch = self.sampler.per_rank() // self.batch
        workers = o.workers if o.workers >= 0 else (
            0 if self.device.type == "cpu" else min(4, (os.cpu_count() or 2) // self.dist.world_size))
        self.loader = DataLoader(
            ColorPhotoDataset(train_images, o.size, augment=True, seed=o.seed,
                              scale_range=o.scale_range, degrade=o.degrade, hints=o.hints),
            batch_size=self.batch, sampler=self.sampler, drop_last=True, num_workers=workers,
            pin_memory=self.device.type == "cuda",
            # Own generator: creating an iterator must not draw from the global RNG,
            # or a resumed run's dropout would diverge from an uninterrupted one.
            generator=torch.Generator().manual_seed(o.seed))
        pairs = [to_training_pair(center_view(images[i], o.size)) for i in val_idx]
        self.val_l = torch.stack([p[0] for p in pairs])
        self.val_ab = torch.stack([p[1] for p in pairs])
        self.total_steps = (o.l1_epochs + o.gan_epochs) * self.steps_per_epoch

    def _build_generator(self, state: Optional[dict]) -> Any:
        from colorizer_gui.nets import build_generator

        o = self.options
        if state is not None:
            gen = build_generator(state["generator_arch"], **state["generator_config"])
            gen.load_state_dict(state["generator"])
            return gen
        if o.init not in ("imagenet", "scratch"):
            return self._load_base_generator()
        if o.init == "imagenet":
            if o.arch != "lite0-unet":
                raise TrainingError(f"--init imagenet is for lite0-unet (its encoder is an ImageNet "
                                    f"network); use --init scratch for {o.arch}")
            return build_generator(o.arch, pretrained=True, **o.generator_kwargs())
        return build_generator(o.arch, **o.generator_kwargs())

    def _load_base_generator(self) -> Any:
        """The generator of ``--init default`` or ``--init FILE.safetensors``."""
        from colorizer_gui.core.model_store import cgan_weights_candidates, resolve_cgan_weights
        from colorizer_gui.nets.weights_io import WeightsError, load_generator

        o = self.options
        if o.init == "default":
            path = resolve_cgan_weights()
            if path is None:
                looked = ", ".join(str(p) for p in cgan_weights_candidates())
                raise TrainingError(
                    f"--init default needs the default generator weights, but none were found "
                    f"(looked in: {looked}). Use --init imagenet to start from an ImageNet-"
                    "pretrained encoder instead.")
        else:
            path = Path(o.init).expanduser()
            if not path.is_file():
                raise TrainingError(f"--init: no model file at {path}")
        try:
            gen, _meta = load_generator(path, "cpu")
        except WeightsError as exc:
            raise TrainingError(f"--init: {exc}") from exc
        if gen.arch != o.arch:
            raise TrainingError(
                f"{path.name} is a {gen.arch} generator, not {o.arch}; "
                f"use --arch {gen.arch}, or --init imagenet/scratch for {o.arch}.")
        self.base_weights = str(path)
        return grow_generator(gen, o.generator_kwargs())

    def _setup_models(self, state: Optional[dict]) -> None:
        import torch
        from torch.nn.parallel import DistributedDataParallel as DDP

        from .discriminator import build_discriminator

        o = self.options
        self.base_weights = ""
        gen = self._build_generator(state)
        disc = build_discriminator(o.ndf)
        if state is not None:
            disc.load_state_dict(state["discriminator"])
        gen.train().to(self.device)
        disc.train().to(self.device)
        if self.dist.enabled and self.device.type == "cuda":
            # Per-GPU batches are small: share BatchNorm statistics across GPUs.
            gen = torch.nn.SyncBatchNorm.convert_sync_batchnorm(gen)
            disc = torch.nn.SyncBatchNorm.convert_sync_batchnorm(disc)
        self.gen, self.disc = gen, disc
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.gen_ddp = DDP(gen, device_ids=ids)
            self.disc_ddp = DDP(disc, device_ids=ids)
        else:
            self.gen_ddp, self.disc_ddp = gen, disc

        from .losses import GANLoss

        self.gan_loss = GANLoss().to(self.device)
        self.loader.dataset.hints = bool(getattr(gen, "hint_channels", 0))
        self.epoch = 0
        self.step_in_epoch = 0
        self.step = 0
        if state is None:
            self._make_optimizers(self._stage_of(0))
            return
        self.epoch = int(state["epoch"])
        self.step_in_epoch = int(state["step_in_epoch"])
        self.step = int(state["step"])
        self.best_val_l1 = float(state["best_val_l1"])
        self.best_stage = state.get("best_stage", state["stage"])
        self.evaluations = list(state.get("evaluations", []))
        self.base_weights = state.get("base_weights", "")
        if self.steps_per_epoch != int(state["steps_per_epoch"]):
            raise TrainingError(
                "The photos in the data folder changed since this run started (steps per epoch "
                f"{state['steps_per_epoch']} -> {self.steps_per_epoch}); resuming would not "
                "continue the same run. Start a new run instead.")
        self._make_optimizers(self._stage_of(min(self.epoch, o.l1_epochs + o.gan_epochs - 1)))
        if state["stage"] == self.stage:  # a stage change starts fresh optimisers anyway
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            if state.get("scaler_g"):
                self.scaler_g.load_state_dict(state["scaler_g"])
                self.scaler_d.load_state_dict(state["scaler_d"])
