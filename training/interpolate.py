"""Network interpolation and weight averaging of generators of the same architecture.

As in ESRGAN (Wang et al., 2018, "network interpolation"): blending the weights
of a generator trained with L1 alone (faithful but muted colours) and one that
went on with the GAN stage (bolder colours, some fidelity lost) gives a model
in between, with no retraining. Both must come from the same run, so their
weights are close: the GAN stage starts from the L1 model. ``--mean`` averages
any number of snapshots of one run instead (stochastic weight averaging).

    python -m training.interpolate L1.safetensors GAN.safetensors --alpha 0.5 --out MIX.safetensors
    python -m training.interpolate run/snapshots/l1-step*.safetensors --mean --out SWA.safetensors
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

from colorizer_gui.nets.weights_io import WeightsError, load_generator, save_generator


def _blend(paths: Sequence[Path], weights: Sequence[float], out: Path, record: dict) -> Path:
    """Write the weighted sum of the generators at ``paths`` (all float tensors,
    BatchNorm statistics included) to ``out``; ``record`` goes into the metadata."""
    models, metas = zip(*(load_generator(Path(p)) for p in paths))
    first = metas[0]
    for path, meta in zip(paths[1:], metas[1:]):
        if (meta.get("arch"), meta.get("config")) != (first.get("arch"), first.get("config")):
            raise WeightsError(f"{Path(paths[0]).name} and {Path(path).name} are different networks; "
                               "only models of the same architecture can be blended")
    states = [m.state_dict() for m in models]
    mixed = {}
    for name, tensor in states[0].items():
        if tensor.is_floating_point():
            mixed[name] = sum(state[name].float() * w for state, w in zip(states, weights)).to(tensor.dtype)
        else:  # counters such as BatchNorm's num_batches_tracked: the last model's
            mixed[name] = states[-1][name]
    models[0].load_state_dict(mixed)
    meta = {
        "train_size": first.get("train_size", ""),
        "data_summary": first.get("data_summary", ""),
        "interpolation": json.dumps(record),
        "first_metrics": first.get("metrics", ""),
        "second_metrics": metas[-1].get("metrics", ""),
    }
    return save_generator(models[0].eval(), Path(out), meta, fp16=True)


def interpolate_generators(first: Path, second: Path, alpha: float, out: Path) -> Path:
    """Write ``(1 - alpha) * first + alpha * second`` (all float tensors, BatchNorm
    statistics included) to ``out`` as a weights file; returns ``out``."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must be between 0 and 1")
    record = {"first": Path(first).name, "second": Path(second).name, "alpha": alpha}
    return _blend([first, second], [1.0 - alpha, alpha], out, record)


def average_generators(paths: Sequence[Path], out: Path) -> Path:
    """Write the equal-weight mean of the generators at ``paths`` to ``out``; returns ``out``.

    Stochastic weight averaging (Izmailov et al., 2018): where a run at a constant
    learning rate wanders around a good basin, the mean of its snapshots generalises
    better than any of them. Where the run drifts away, the mean drifts too; compare
    it with the run's start on validation photos (bench/compare_models.py)."""
    if len(paths) < 2:
        raise ValueError("averaging needs at least two models")
    record = {"mean_of": [Path(p).name for p in paths]}
    return _blend(list(paths), [1.0 / len(paths)] * len(paths), out, record)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: blend two generators or average several; exit 0 on success, 1 with a message otherwise."""
    p = argparse.ArgumentParser(prog="python -m training.interpolate", description=__doc__.split("\n\n")[0])
    p.add_argument("models", type=Path, nargs="+",
                   help="with --alpha: the L1-stage model (alpha 0 gives it back) and the GAN-stage "
                        "model (alpha 1 gives it back); with --mean: two or more snapshots of one run")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--alpha", type=float, help="weight of the second model, 0..1")
    how.add_argument("--mean", action="store_true",
                     help="write the equal-weight mean of all the models (weight averaging)")
    p.add_argument("--out", type=Path, required=True, help="the blended model file to write")
    args = p.parse_args(argv)
    try:
        if args.mean:
            written = average_generators(args.models, args.out)
        elif len(args.models) != 2:
            raise ValueError("--alpha blends exactly two models")
        else:
            written = interpolate_generators(args.models[0], args.models[1], args.alpha, args.out)
    except (WeightsError, ValueError, OSError) as err:
        print(f"error: {err}")
        return 1
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
