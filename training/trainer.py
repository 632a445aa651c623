"""Fine-tune the colorization generator: L1 first, then adversarial + 100 * L1.

The recipe of the seed papers (pix2pix; "pretrain the generator, then GAN"):

1. L1 stage: the generator alone, Adam (lr 1e-4), L1 on ab.
2. GAN stage: a 70x70 PatchGAN; each step updates D on real and on
   ``fake.detach()``, then freezes D and updates G on ``GAN + 100 * L1``; Adam
   (lr 2e-4, betas 0.5/0.999) for both.

Every ``eval_every`` steps and at each epoch end the held-out photos are
scored (L1, PSNR, colourfulness), a preview grid is saved, and the best
generator so far (by validation L1) is exported to ``options.out``. A
checkpoint (everything needed to continue exactly) is written atomically every
``checkpoint_every`` steps, at each epoch end, and when asked to stop.

The trainer only reports through ``on_progress``; it never prints.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from colorizer_gui.core.progress import ProgressCallback, ProgressEvent, StopCallback

from .checkpoint import capture_rng_state, save_checkpoint
from .dataset import ScanReport
from .distributed import DistInfo, any_rank, sync_buffers_from_main, teardown_distributed
from .errors import TrainingError
from .evaluate import evaluate, preview_grid, save_preview
from .options import TrainOptions
from .run_setup import RunSetup, _CancelledEarly, default_run_dir  # noqa: F401 - default_run_dir: part of the API

# Env var: when set to a path, each rank writes "<path>.rank<N>" with a hash of its
# final generator (the multi-process test checks the ranks agree).
STATE_HASH_ENV = "COLORIZER_TRAIN_STATE_HASH"


@dataclass
class TrainResult:
    """How a run ended."""

    out: Optional[Path]            # exported weights (best by validation L1), if any
    run_dir: Path
    checkpoint: Path
    step: int                      # optimisation steps done (this run and the ones it resumed)
    total_steps: int
    cancelled: bool
    best_val_l1: float
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    report: Optional[ScanReport] = None


def _set_requires_grad(module: Any, flag: bool) -> None:
    for param in module.parameters():
        param.requires_grad_(flag)


def _state_hash(module: Any) -> str:
    digest = hashlib.sha256()
    for key, value in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class _Run(RunSetup):
    """One training run (a class only to keep the many pieces of state together); its
    data, models and resumed state are set up by ``RunSetup`` (training/run_setup.py)."""

    def __init__(self, options: TrainOptions, on_progress: ProgressCallback,
                 should_stop: StopCallback) -> None:
        self.options = options
        self.emit_raw = on_progress
        self.should_stop = should_stop
        self.evaluations: list[dict[str, Any]] = []
        self.best_val_l1 = math.inf  # of the stage the exported model comes from
        self.best_stage: Optional[str] = None
        self.exported: Optional[Path] = None
        self.in_step = False

    # -- helpers -------------------------------------------------------------
    def emit(self, event: ProgressEvent) -> None:
        if self.dist.is_main:
            self.emit_raw(event)

    def _make_optimizers(self, stage: str) -> None:
        import torch

        o = self.options
        if stage == "l1":
            self.opt_g = torch.optim.Adam(self.gen.parameters(), lr=o.lr_l1)
        else:
            self.opt_g = torch.optim.Adam(self.gen.parameters(), lr=o.lr_gan, betas=tuple(o.betas))
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=o.lr_gan, betas=tuple(o.betas))
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.stage = stage

    def lr_factor(self) -> float:
        """The learning-rate multiplier for the next step (``lr_schedule``)."""
        if self.options.lr_schedule != "cosine" or self.total_steps <= 0:
            return 1.0
        done = min(self.step, self.total_steps) / self.total_steps
        return 0.5 * (1.0 + math.cos(math.pi * done))

    def _apply_lr(self) -> None:
        # Set from the step count alone (no scheduler state), so a resumed run goes on
        # along the same curve.
        o = self.options
        factor = self.lr_factor()
        base_g = o.lr_l1 if self.stage == "l1" else o.lr_gan
        for opt, base in ((self.opt_g, base_g), (self.opt_d, o.lr_gan)):
            for group in opt.param_groups:
                group["lr"] = base * factor

    def _stage_of(self, epoch: int) -> str:
        return "l1" if epoch < self.options.l1_epochs else "gan"

    # -- one step ------------------------------------------------------------
    def _autocast(self):
        import torch

        return torch.autocast(device_type=self.device.type, enabled=self.amp)

    def _base_loss(self, x: Any, ab_norm: Any) -> tuple[Any, Any]:
        """The L1 loss and the generated ab / 110."""
        from .losses import l1_loss

        with self._autocast():
            fake = self.gen_ddp(x)
        return l1_loss(fake.float(), ab_norm), fake

    def train_step(self, x: Any, ab_norm: Any) -> dict[str, float]:
        """One optimisation step of the current stage; returns its losses.

        ``x`` is the generator's input: L, then hint planes for a hint-taking net;
        the discriminator sees L alone.
        """
        if self.stage == "l1":
            loss, _fake = self._base_loss(x, ab_norm)
            self.opt_g.zero_grad(set_to_none=True)
            self.scaler_g.scale(loss).backward()
            self.scaler_g.step(self.opt_g)
            self.scaler_g.update()
            return {"loss_l1": float(loss.item())}

        l_norm = x[:, :1]
        loss_base, fake = self._base_loss(x, ab_norm)
        # Discriminator: real pairs -> real, generated pairs (detached) -> fake.
        _set_requires_grad(self.disc, True)
        self.opt_d.zero_grad(set_to_none=True)
        with self._autocast():
            loss_d_fake = self.gan_loss(self.disc_ddp(l_norm, fake.detach()), False)
            loss_d_real = self.gan_loss(self.disc_ddp(l_norm, ab_norm), True)
            loss_d = 0.5 * (loss_d_fake + loss_d_real)
        self.scaler_d.scale(loss_d).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        # Generator: fool the frozen D, and stay close to the truth (L1).
        # The plain module (not the DDP wrapper): D gets no gradients here.
        _set_requires_grad(self.disc, False)
        self.opt_g.zero_grad(set_to_none=True)
        with self._autocast():
            loss_g_gan = self.gan_loss(self.disc(l_norm, fake), True)
        loss_g = loss_g_gan.float() + self.options.lambda_l1 * loss_base
        self.scaler_g.scale(loss_g).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        _set_requires_grad(self.disc, True)
        return {"loss_l1": float(loss_base.item()), "loss_g_gan": float(loss_g_gan.item()),
                "loss_d": float(loss_d.item())}

    # -- evaluation, export, checkpoints --------------------------------------
    def run_eval(self) -> None:
        """Score the held-out photos, save a preview, export the best generator (rank 0 only)."""
        if not self.dist.is_main:
            return
        o = self.options
        metrics, pred = evaluate(self.gen, self.val_l, self.val_ab, self.device,
                                 batch_size=max(1, self.batch), autocast=self.amp)
        grid = preview_grid(self.val_l.numpy(), pred, self.val_ab.numpy(), o.preview_rows)
        preview = save_preview(grid, self.run_dir, self.step)
        record = {"step": self.step, "epoch": self.epoch + 1, "stage": self.stage, **metrics}
        self.evaluations.append(record)
        # The exported model is the best of the LAST stage that ran: the GAN stage
        # trades some L1 for colour, which is what it is for, so an L1-stage model
        # must not win over it just by a lower L1.
        if self.stage != self.best_stage or metrics["val_l1"] < self.best_val_l1:
            self.best_val_l1 = metrics["val_l1"]
            self.best_stage = self.stage
            self.export(record)
        if o.keep_snapshots:
            self.export(record, self.run_dir / "snapshots" / f"{self.stage}-step{self.step:07d}.safetensors")
        self.emit(ProgressEvent(stage="eval", done=self.step, total=self.total_steps,
                                metrics={**record, "best_val_l1": self.best_val_l1},
                                preview=str(preview)))

    def export(self, record: dict[str, Any], dest: Optional[Path] = None) -> Path:
        """Write the generator as a model file (safetensors) to ``dest`` (default ``options.out``)."""
        from colorizer_gui.nets.weights_io import save_generator

        o = self.options
        meta = {
            "train_size": o.size,
            "data_summary": self.report.counts(),
            "metrics": record,
            "epochs": {"l1": o.l1_epochs, "gan": o.gan_epochs},
            "init": o.init,
            "objective": "l1",
            "degraded_inputs": o.degrade,
            "hint_channels": getattr(self.gen, "hint_channels", 0),
            "base_weights": Path(self.base_weights).name if self.base_weights else "",
            "trained_by": "colorizer_gui train",
        }
        from colorizer_gui.nets.weights_check import nonfinite_tensors

        if nonfinite_tensors(self.gen.state_dict()):  # never write a model that colours nothing
            raise TrainingError(f"Training stopped at step {self.step}: the model's weights became NaN "
                                "or infinite, so it was not exported; try a lower learning rate.")
        was_training = self.gen.training
        self.gen.eval()
        written = save_generator(self.gen, Path(dest or o.out), meta, fp16=True)
        self.gen.train(was_training)
        if dest is None:
            self.exported = written
        return written

    def save(self) -> None:
        """Write the checkpoint (rank 0), atomically."""
        if not self.dist.is_main:
            return
        state = {
            "options": asdict(self.options),
            "stage": self.stage,
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "step": self.step,
            "steps_per_epoch": self.steps_per_epoch,
            "total_steps": self.total_steps,
            "best_val_l1": self.best_val_l1,
            "best_stage": self.best_stage,
            "evaluations": self.evaluations,
            "data": self.report.counts(),
            "base_weights": self.base_weights,
            "generator_arch": self.gen.arch,
            "generator_config": dict(self.gen.config),
            "generator": self.gen.state_dict(),
            "discriminator": self.disc.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict() if self.amp else {},
            "scaler_d": self.scaler_d.state_dict() if self.amp else {},
            "rng": capture_rng_state(),
        }
        save_checkpoint(self.ckpt_path, state)

    # -- the loop ------------------------------------------------------------
    def loop(self) -> bool:
        """Train to the end or until asked to stop; returns True when cancelled."""
        o = self.options
        total_epochs = o.l1_epochs + o.gan_epochs
        images_per_step = self.batch * self.dist.world_size
        step_time: Optional[float] = None
        if self.step == 0:
            self.run_eval()  # the starting point: a baseline score and a "before" preview
        while self.epoch < total_epochs:
            stage = self._stage_of(self.epoch)
            if stage != self.stage:
                self._make_optimizers(stage)
            self.sampler.set_epoch(self.epoch, skip=self.step_in_epoch * self.batch)
            tick = time.perf_counter()
            for l_norm, ab_norm in self.loader:
                l_norm = l_norm.to(self.device, non_blocking=True)
                ab_norm = ab_norm.to(self.device, non_blocking=True)
                self.in_step = True
                self._apply_lr()
                losses = self.train_step(l_norm, ab_norm)
                if not all(map(math.isfinite, losses.values())):  # stop before a broken step is saved
                    raise TrainingError(
                        f"Training stopped at step {self.step + 1}: the loss became NaN or infinite "
                        f"({', '.join(f'{k} {v}' for k, v in losses.items())}). Nothing broken was "
                        "saved; try a lower learning rate (--lr-l1/--lr-gan) or another --init model.")
                self.step += 1
                self.step_in_epoch += 1
                self.in_step = False
                now = time.perf_counter()
                dt, tick = now - tick, now
                step_time = dt if step_time is None else 0.9 * step_time + 0.1 * dt
                self.emit(ProgressEvent(
                    stage=stage, done=self.step, total=self.total_steps,
                    eta_s=step_time * (self.total_steps - self.step),
                    metrics={"epoch": self.epoch + 1, **losses, "lr": self.opt_g.param_groups[0]["lr"],
                             "images_per_s": images_per_step / max(step_time, 1e-9)}))
                stop = any_rank(bool(self.should_stop()), self.dist, self.device)
                epoch_end = self.step_in_epoch >= self.steps_per_epoch
                if stop or epoch_end:
                    break
                if self.step % o.eval_every == 0:
                    self.run_eval()
                if self.step % o.checkpoint_every == 0:
                    self.save()
                tick = time.perf_counter()  # eval/checkpoint time is not training speed
            else:
                stop = False
                self.step_in_epoch = self.steps_per_epoch  # the loader ran out: epoch done
            if self.step_in_epoch >= self.steps_per_epoch:
                self.run_eval()
                self.epoch += 1
                self.step_in_epoch = 0
                self.save()
            if stop:
                if self.step_in_epoch:
                    self.save()
                return True
        return False

    def finish(self, cancelled: bool) -> TrainResult:
        sync_buffers_from_main(self.gen, self.dist)
        hash_path = os.environ.get(STATE_HASH_ENV)
        if hash_path:
            Path(f"{hash_path}.rank{self.dist.rank}").write_text(_state_hash(self.gen))
        result = TrainResult(
            out=Path(self.options.out) if Path(self.options.out).is_file() else None,
            run_dir=self.run_dir, checkpoint=self.ckpt_path, step=self.step,
            total_steps=self.total_steps, cancelled=cancelled, best_val_l1=self.best_val_l1,
            evaluations=list(self.evaluations), report=self.report)
        self.emit(ProgressEvent(stage="done", done=self.step, total=self.total_steps,
                                metrics={"cancelled": cancelled, "best_val_l1": self.best_val_l1},
                                preview=str(self.run_dir / "preview_latest.png")))
        return result


def train(options: TrainOptions, on_progress: Optional[ProgressCallback] = None,
          should_stop: Optional[StopCallback] = None) -> TrainResult:
    """Fine-tune a generator as ``options`` say; see the module docstring.

    ``on_progress`` gets ``ProgressEvent``s (stages "scan", "l1", "gan", "eval",
    "done"); ``should_stop()`` is polled after every step: when it returns True
    a checkpoint is saved and the result says ``cancelled``. Ctrl+C
    (KeyboardInterrupt) outside a step does the same; inside a step the
    previous checkpoint is kept and the interrupt propagates. Raises
    ``TrainingError`` (and ``WeightsError`` for a bad base model) with a
    message for the user.
    """
    import torch

    run = _Run(options, on_progress or (lambda _e: None), should_stop or (lambda: False))
    run.dist = DistInfo()
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        try:
            run.setup()
        except _CancelledEarly:
            return TrainResult(out=None, run_dir=run.run_dir, checkpoint=run.ckpt_path, step=0,
                               total_steps=0, cancelled=True, best_val_l1=math.inf,
                               report=run.report)
        try:
            cancelled = run.loop()
        except KeyboardInterrupt:
            # Save only whole steps: inside a step the model is half-updated, so
            # the previous checkpoint is the good one.
            if run.in_step:
                raise
            run.save()
            cancelled = True
        return run.finish(cancelled)
    finally:
        teardown_distributed(run.dist)
        torch.use_deterministic_algorithms(was_deterministic)
