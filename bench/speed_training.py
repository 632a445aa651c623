"""Training speed: images/s of the real training step (L1 stage and GAN stage).

Runs the trainer's own ``train_step`` on random batches for the lite0-unet
generator (full-width decoder) and the 70x70 PatchGAN, and the data pipeline
(random crop + flip + Lab) on its own, then writes the "## Training speed"
section of bench/RESULTS.md (other sections are left alone).

    .venv/bin/python bench/speed_training.py [--sizes 128 256] [--batches 8 16] [--steps 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchlib import RESULTS, add_import_paths, cpu_name, load_average, write_results_section

add_import_paths()

SECTION = "## Training speed"


def make_run(size: int, batch: int, stage: str, device: str):
    """A trainer run object with models and optimisers, without data."""
    import torch

    from colorizer_gui.nets import build_generator
    from training.discriminator import build_discriminator
    from training.losses import GANLoss
    from training.options import TrainOptions
    from training.trainer import _Run

    run = _Run(TrainOptions(data_dir="", out="", size=size, batch_size=batch, device=device),
               lambda _e: None, lambda: False)
    run.device = torch.device(device)
    run.amp = run.device.type == "cuda"
    run.gen = run.gen_ddp = build_generator("lite0-unet").train().to(run.device)
    run.disc = run.disc_ddp = build_discriminator(64).train().to(run.device)
    run.gan_loss = GANLoss().to(run.device)
    run._make_optimizers(stage)
    return run


def time_steps(size: int, batch: int, stage: str, steps: int, device: str) -> float:
    """Images per second of ``steps`` training steps (after one warm-up step)."""
    import torch

    run = make_run(size, batch, stage, device)
    gen = torch.Generator().manual_seed(0)
    l_norm = (torch.rand(batch, 1, size, size, generator=gen) * 2 - 1).to(run.device)
    ab_norm = (torch.rand(batch, 2, size, size, generator=gen) * 0.6 - 0.3).to(run.device)
    run.train_step(l_norm, ab_norm)
    if run.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        run.train_step(l_norm, ab_norm)
    if run.device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)


def time_data(size: int, count: int = 64) -> float:
    """Images per second of the data pipeline (cached photo -> L, ab tensors)."""
    from training.dataset import ColorPhotoDataset

    rng = np.random.default_rng(0)
    cache_short = int(size * 1.25)
    photos = [rng.integers(0, 256, (cache_short, cache_short * 3 // 2, 3), dtype=np.uint8)
              for _ in range(8)]
    ds = ColorPhotoDataset(photos, size, augment=True, seed=0)
    start = time.perf_counter()
    for i in range(count):
        ds[(i // 8, i % 8)]
    return count / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for size in args.sizes:
        for batch in args.batches:
            l1 = time_steps(size, batch, "l1", args.steps, args.device)
            gan = time_steps(size, batch, "gan", args.steps, args.device)
            rows.append((size, batch, l1, gan))
            print(f"size {size} batch {batch}: L1 stage {l1:.2f} img/s, GAN stage {gan:.2f} img/s",
                  flush=True)
    data = {size: time_data(size) for size in args.sizes}
    device_name = (torch.cuda.get_device_name() if args.device.startswith("cuda")
                   else f"{cpu_name()} CPU, {args.threads} threads")
    lines = [
        SECTION, "",
        f"`bench/speed_training.py`: lite0-unet generator (default decoder) + 70x70 PatchGAN "
        f"(ndf 64), the trainer's own step on {args.device} ({device_name}), torch "
        f"{torch.__version__}; mean of {args.steps} steps after one warm-up. "
        f"Measured {time.strftime('%Y-%m-%d')}; 1-min load average at the end "
        f"{load_average()[0]:.1f} (other jobs share the cores, so figures vary run to run).", "",
        "| size | batch | L1 stage (img/s) | GAN stage (img/s) |",
        "|---:|---:|---:|---:|",
    ]
    lines += [f"| {s} | {b} | {l1:.2f} | {gan:.2f} |" for s, b, l1, gan in rows]
    lines += ["", "Data pipeline (cached photo -> random crop/flip -> Lab tensors), one process: "
              + ", ".join(f"{data[s]:.0f} img/s at {s}" for s in args.sizes)
              + " (far above the step rate, so loading is not the bottleneck)."]
    write_results_section(SECTION, "\n".join(lines), args.results)
    print(f"wrote the '{SECTION}' section of {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
