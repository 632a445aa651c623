"""Make a trained model the bundled default: ``weights/cgan-default.safetensors``.

    python scripts/ship_default_model.py runs/v3/run/snapshots/gan-step0000500.safetensors \
        --objective "L1 then GAN (lambda_l1 100)" --trained-by "colorizer_gui train --init ..."

Loads the candidate with the app's own loader (so a file the app cannot read is
never shipped), keeps its training metadata, records how it was made and points
to the model card, and writes fp16 weights atomically. Choose the candidate on
the validation split (``bench/quality_sets.py --sets val:...``), never on a
test part.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from colorizer_gui.backends.cgan import MAX_CHOSEN_RENDER  # noqa: E402
from colorizer_gui.nets.weights_io import WeightsError, load_generator, save_generator  # noqa: E402

DEFAULT_OUT = REPO / "weights" / "cgan-default.safetensors"

#: Metadata a shipped file keeps from its training run.
KEPT = ("train_size", "render_size", "data_summary", "metrics", "degraded_inputs", "epochs", "init", "interpolation",
        "first_metrics", "second_metrics", "hint_channels")


def ship(candidate: Path, out: Path, objective: str, trained_by: str,
         ab_gain: Optional[float] = None, render_size: Optional[int] = None) -> Path:
    """Write ``candidate`` as the default model file ``out``; returns ``out``.

    ``ab_gain``: the colour gain chosen on validation (``Lite0UNet.set_ab_gain``),
    kept in the file's config; None keeps the candidate's own. ``render_size``: the
    default render size chosen on validation, kept in the metadata (see
    ``colorizer_gui.backends.cgan.render_size_for_model``); None keeps the candidate's."""
    model, meta = load_generator(candidate)
    if ab_gain is not None:
        model.set_ab_gain(ab_gain)
    kept = {key: meta[key] for key in KEPT if meta.get(key) not in (None, "")}
    kept.update(objective=objective, trained_by=trained_by, model_card="weights/cgan-default.md",
                shipped_from=candidate.name)
    if render_size is not None:
        if not 32 <= render_size <= MAX_CHOSEN_RENDER or render_size % 32:
            raise WeightsError(f"--render-size must be a multiple of 32 from 32 to {MAX_CHOSEN_RENDER}, "
                               f"got {render_size}")
        kept["render_size"] = str(render_size)
    return save_generator(model.eval(), out, kept, fp16=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line; exit 0 on success, 1 with a message otherwise."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("candidate", type=Path, help="the chosen model file (.safetensors)")
    p.add_argument("--objective", required=True, help="how it was trained, for the file's metadata")
    p.add_argument("--trained-by", required=True, help="the command or run that made it")
    p.add_argument("--ab-gain", type=float, help="colour gain (0.5-2) chosen on the validation "
                                                   "split: ship with each gain to a scratch --out "
                                                   "and score it with bench/quality_sets.py")
    p.add_argument("--render-size", type=int, help="the default render size (long side, a multiple "
                                                      "of 32) chosen on the validation split, for a "
                                                      "model trained at more than one size")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    try:
        written = ship(args.candidate, args.out, args.objective, args.trained_by, args.ab_gain,
                       args.render_size)
        print(f"wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")
        return 0
    except (WeightsError, OSError, ValueError) as err:
        print(f"error: {err}")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
