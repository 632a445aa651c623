"""Equal-budget probes of training objectives for the default model.

    python bench/probe_objectives.py PROBE --data runs/mix-v2/train --minutes 35 [--out runs/probes]
                                    [--init weights/cgan-default.safetensors] [--threads 1]

Each probe trains from the same start (the shipped weights, grown to take
colour hints), on the same data, seed, degraded inputs and random hints, for
the same wall-clock minutes of training (the data scan is not counted), then
writes OUT/PROBE/final.safetensors. Two-stage probes switch half-way. Score
the results side by side on the validation split with bench/quality.py.

Probes:
  l1-gan     today's recipe: L1, then GAN + 100 x L1
  class      Zhang et al.'s class-rebalanced classification alone (annealed mean, T 0.38)
  class-gan  classification, then GAN + classification
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import benchlib

benchlib.add_import_paths()

# probe -> [(objective, stage, share of the minutes)]
PROBES = {
    "l1-gan": [("l1", "l1", 0.5), ("l1", "gan", 0.5)],
    "class": [("class", "l1", 1.0)],
    "class-gan": [("class", "l1", 0.5), ("class", "gan", 0.5)],
}


class _Clock:
    """should_stop for one stage: the clock starts when the data scan has finished."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start: float | None = None

    def on_progress(self, event) -> None:
        if self.start is None and event.stage in ("l1", "gan"):
            self.start = time.monotonic()
        if event.stage == "eval":
            m = event.metrics
            print(f"  step {event.done}: val L1 {m['val_l1']:.4f} PSNR {m['val_psnr']:.2f} "
                  f"colourfulness {m['val_colourfulness']:.2f}", flush=True)

    def __call__(self) -> bool:
        return self.start is not None and time.monotonic() - self.start >= self.seconds


def _export_checkpoint(run_dir: Path, dest: Path, meta: dict) -> Path:
    """The generator of the run's last checkpoint as a model file."""
    from colorizer_gui.nets import build_generator
    from colorizer_gui.nets.weights_io import save_generator
    from training.checkpoint import CHECKPOINT_NAME, load_checkpoint

    state = load_checkpoint(run_dir / CHECKPOINT_NAME)
    gen = build_generator(state["generator_arch"], **state["generator_config"])
    gen.load_state_dict(state["generator"])
    gen.eval()
    return save_generator(gen, dest, {**meta, "step": state["step"]}, fp16=True)


def main(argv: list[str] | None = None) -> int:
    """Run one probe; print its validation figures as it goes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=sorted(PROBES))
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=35.0)
    parser.add_argument("--out", type=Path, default=Path("runs/probes"))
    parser.add_argument("--init", default=str(benchlib.REPO / "weights" / "cgan-default.safetensors"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    from training.options import TrainOptions
    from training.trainer import train

    torch.set_num_threads(args.threads)
    folder = args.out / args.probe
    folder.mkdir(parents=True, exist_ok=True)
    init = args.init
    for index, (objective, stage, share) in enumerate(PROBES[args.probe]):
        clock = _Clock(args.minutes * 60.0 * share)
        options = TrainOptions(
            data_dir=str(args.data), out=str(folder / f"stage{index}-best.safetensors"), init=init,
            size=args.size, batch_size=16, l1_epochs=1000 if stage == "l1" else 0,
            gan_epochs=1000 if stage == "gan" else 0, objective=objective, hints=True,
            degrade=True, seed=args.seed, eval_every=300, checkpoint_every=300,
            run_dir=str(folder / f"stage{index}"), workers=0)
        print(f"{args.probe} stage {index}: {objective}/{stage} for {clock.seconds / 60:.1f} min",
              flush=True)
        result = train(options, on_progress=clock.on_progress, should_stop=clock)
        meta = {"probe": args.probe, "objective": objective, "stage": stage,
                "minutes": args.minutes * share, "train_size": args.size}
        last = _export_checkpoint(result.run_dir, folder / f"stage{index}-last.safetensors", meta)
        print(f"  {result.step} steps; last model {last}", flush=True)
        init = str(last)
    final = folder / "final.safetensors"
    final.write_bytes(Path(init).read_bytes())
    print(f"{args.probe}: {final}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
