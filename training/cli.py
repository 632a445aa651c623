"""Command line for fine-tuning: ``python -m colorizer_gui train DATA_DIR --out MODEL.safetensors``.

Exit codes: 0 done, 1 error (one clear line), 130 cancelled by Ctrl+C (a
checkpoint was saved first; ``--resume`` continues).
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, Optional

from colorizer_gui.nets.device import DEVICE_CHOICES

from .options import INIT_CHOICES, LR_SCHEDULES, TrainOptions

EXIT_OK, EXIT_ERROR, EXIT_CANCELLED = 0, 1, 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``train`` command."""
    defaults = TrainOptions(data_dir="", out="")
    p = argparse.ArgumentParser(
        prog="colorizer_gui train",
        description="Fine-tune the colorization generator on a folder of your own colour photos "
                    "(searched recursively; gray, tiny, unreadable and duplicate files are skipped).")
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder of colour photos")
    p.add_argument("--out", required=True, metavar="MODEL.safetensors",
                   help="where to write the fine-tuned model (the best one by validation L1)")
    p.add_argument("--init", default=defaults.init, metavar="{" + ",".join(INIT_CHOICES) + ",FILE}",
                   help="start from the app's default weights, an ImageNet-pretrained encoder, "
                        "random weights (pix2pix), or a model FILE.safetensors such as an earlier "
                        "fine-tune (default: %(default)s)")
    p.add_argument("--arch", choices=("lite0-unet", "pix2pix"), default=defaults.arch,
                   help="generator: EfficientNet-Lite0 U-Net, or the papers' pix2pix U-Net "
                        "(default: %(default)s)")

    def number(flag: str, kind: type, text: str) -> None:
        """An option whose default is TrainOptions' field of the same name."""
        p.add_argument(flag, type=kind, default=getattr(defaults, flag[2:].replace("-", "_")),
                       help=text + " (default: %(default)s)")

    def switch(flag: str, text: str) -> None:
        p.add_argument(flag, action="store_true", help=text)

    number("--l1-epochs", int, "epochs of the L1-only stage")
    number("--gan-epochs", int, "epochs of the adversarial stage")
    number("--size", int, "training crop size in pixels, a multiple of 32")
    number("--batch-size", int, "photos per step (per process)")
    number("--lr-l1", float, "generator learning rate in the L1 stage")
    number("--lr-gan", float, "learning rate in the adversarial stage; lower it if colours start to "
                              "drift or blotch")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=defaults.lr_schedule,
                   help="constant, or cosine: the learning rate falls along a half cosine to 0 "
                        "at the run's last step, so the run ends settled (default: %(default)s)")
    switch("--hints", "train the generator to take colour hints (adds hint inputs; random hints "
                        "from the truth in half the samples)")
    switch("--degrade", "age the gray inputs like old scans (grain, blur, fading, scratches, JPEG) "
                        "so the model colours real scans, not only clean grays")
    switch("--keep-toned", "also train on photos that look gray or toned in one hue (fog, sunsets, "
                           "skin close-ups), which are skipped as possible sepia prints otherwise; "
                           "only for folders known to hold colour photos alone")
    p.add_argument("--device", default=defaults.device, choices=DEVICE_CHOICES,
                   help="auto: CUDA when available (default: %(default)s)")
    switch("--resume", "continue the run in --run-dir (or the default run folder of --out)")
    p.add_argument("--run-dir", default=None,
                   help="folder for checkpoints and previews (default: the user's runs folder)")
    number("--eval-every", int, "score held-out photos and save a preview every N steps")
    number("--checkpoint-every", int, "save a checkpoint every N steps")
    number("--workers", int, "data loading processes; -1 chooses")
    number("--seed", int, "random seed")
    p.add_argument("--max-images", type=int, default=None, help="use at most N photos")
    switch("--snapshots", "also keep the model of every evaluation in RUN_DIR/snapshots/, to pick "
                        "one by its preview (the GAN stage adds colour for a while, then artifacts)")
    switch("--progress-json", "print one JSON object per progress event on stdout instead of progress "
                        "bars (for the desktop app, which runs training as a subprocess)")
    return p


def options_from_args(args: argparse.Namespace) -> TrainOptions:
    """``TrainOptions`` from parsed arguments."""
    return TrainOptions(
        data_dir=args.data_dir, out=args.out, init=args.init, arch=args.arch,
        l1_epochs=args.l1_epochs, gan_epochs=args.gan_epochs, size=args.size,
        batch_size=args.batch_size, lr_l1=args.lr_l1, lr_gan=args.lr_gan, lr_schedule=args.lr_schedule,
        device=args.device, resume=args.resume, run_dir=args.run_dir,
        eval_every=args.eval_every, checkpoint_every=args.checkpoint_every, workers=args.workers,
        seed=args.seed, max_images=args.max_images, keep_snapshots=args.snapshots,
        hints=args.hints, degrade=args.degrade, keep_toned=args.keep_toned)


class _TqdmProgress:
    """Adapts training ``ProgressEvent``s to tqdm bars and a few printed lines."""

    def __init__(self) -> None:
        self.scan_bar: Any = None
        self.bar: Any = None

    def __call__(self, event: Any) -> None:
        from tqdm import tqdm

        if event.stage == "scan":
            if "summary" in event.metrics:
                if self.scan_bar is not None:
                    self.scan_bar.close()
                    self.scan_bar = None
                tqdm.write(f"Photos: {event.metrics['summary']}")
                return
            if self.scan_bar is None:
                self.scan_bar = tqdm(total=event.total, desc="scanning", unit="file", leave=False)
            self.scan_bar.n = event.done
            self.scan_bar.refresh()
        elif event.stage in ("l1", "gan"):
            if self.bar is None:
                self.bar = tqdm(total=event.total, initial=event.done - 1, unit="step",
                                dynamic_ncols=True)
            self.bar.set_description(f"{event.stage} epoch {event.metrics.get('epoch', '?')}")
            shown = {k: f"{v:.3g}" for k, v in event.metrics.items()
                     if k.startswith("loss") or k == "images_per_s"}
            self.bar.set_postfix(shown, refresh=False)
            self.bar.update(event.done - self.bar.n)
        elif event.stage == "eval":
            m = event.metrics
            tqdm.write(f"step {event.done}/{event.total}: validation L1 {m['val_l1']:.4f}, "
                       f"PSNR {m['val_psnr']:.2f} dB, colourfulness {m['val_colourfulness']:.2f}x "
                       f"of real (best L1 {m['best_val_l1']:.4f}); preview: {event.preview}")
        elif event.stage == "done":
            self.close()

    def close(self) -> None:
        for bar in (self.scan_bar, self.bar):
            if bar is not None:
                bar.close()
        self.scan_bar = self.bar = None


class _JsonProgress:
    """``--progress-json``: one JSON object per ``ProgressEvent`` on stdout, flushed."""

    def __call__(self, event: Any) -> None:
        import dataclasses
        import json

        print(json.dumps(dataclasses.asdict(event), default=str), flush=True)

    def close(self) -> None:
        """Nothing to close (same interface as the tqdm adapter)."""


class _CtrlC:
    """First Ctrl+C asks the trainer to stop after the current step (it saves a
    checkpoint); a second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: Any = None

    def __enter__(self) -> "_CtrlC":
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, _signum: int, _frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nStopping after this step and saving a checkpoint (Ctrl+C again to quit now).",
              file=sys.stderr)

    def __call__(self) -> bool:
        return self.requested


def main(argv: Optional[list[str]] = None) -> int:
    """Run the ``train`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    options = options_from_args(args)
    try:
        options.validate()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR

    from colorizer_gui.nets.weights_io import WeightsError

    from .checkpoint import CheckpointError
    from .errors import TrainingError
    from .trainer import train

    progress: Any = _JsonProgress() if args.progress_json else _TqdmProgress()
    try:
        with _CtrlC() as ctrl_c:
            result = train(options, on_progress=progress, should_stop=ctrl_c)
    except KeyboardInterrupt:
        progress.close()
        print("Interrupted; the last checkpoint is kept (continue with --resume).", file=sys.stderr)
        return EXIT_CANCELLED
    except (TrainingError, WeightsError, CheckpointError, ValueError, OSError) as err:
        progress.close()
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    progress.close()
    if result.cancelled:
        print(f"Cancelled at step {result.step}/{result.total_steps}; checkpoint saved in "
              f"{result.run_dir}. Continue with the same command plus --resume.", file=sys.stderr)
        return EXIT_CANCELLED
    if result.out is not None:
        print(f"Done: {result.step} steps; best validation L1 {result.best_val_l1:.4f}. "
              f"Model: {result.out}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
