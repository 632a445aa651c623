"""Network interpolation between two generators of the same architecture.

As in ESRGAN (Wang et al., 2018, "network interpolation"): blending the weights
of a generator trained with L1 alone (faithful but muted colours) and one that
went on with the GAN stage (bolder colours, some fidelity lost) gives a model
in between, with no retraining. Both must come from the same run, so their
weights are close: the GAN stage starts from the L1 model.

    python -m training.interpolate L1.safetensors GAN.safetensors --alpha 0.5 --out MIX.safetensors
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

from colorizer_gui.nets.weights_io import WeightsError, load_generator, save_generator


def interpolate_generators(first: Path, second: Path, alpha: float, out: Path) -> Path:
    """Write ``(1 - alpha) * first + alpha * second`` (all float tensors, BatchNorm
    statistics included) to ``out`` as a weights file; returns ``out``."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must be between 0 and 1")
    model_a, meta_a = load_generator(Path(first))
    model_b, meta_b = load_generator(Path(second))
    if (meta_a.get("arch"), meta_a.get("config")) != (meta_b.get("arch"), meta_b.get("config")):
        raise WeightsError(f"{Path(first).name} and {Path(second).name} are different networks; "
                           "only models of the same architecture can be blended")
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    mixed = {name: (state_a[name] * (1.0 - alpha) + state_b[name] * alpha)
             if state_a[name].is_floating_point() else state_b[name] for name in state_a}
    model_a.load_state_dict(mixed)
    meta = {
        "train_size": meta_a.get("train_size", ""),
        "data_summary": meta_a.get("data_summary", ""),
        "interpolation": json.dumps({"first": Path(first).name, "second": Path(second).name,
                                     "alpha": alpha}),
        "first_metrics": meta_a.get("metrics", ""),
        "second_metrics": meta_b.get("metrics", ""),
    }
    return save_generator(model_a.eval(), Path(out), meta, fp16=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: blend two generators; exit 0 on success, 1 with a message otherwise."""
    p = argparse.ArgumentParser(prog="python -m training.interpolate", description=__doc__.split("\n\n")[0])
    p.add_argument("first", type=Path, help="the L1-stage model (alpha 0 gives it back)")
    p.add_argument("second", type=Path, help="the GAN-stage model (alpha 1 gives it back)")
    p.add_argument("--alpha", type=float, required=True, help="weight of the second model, 0..1")
    p.add_argument("--out", type=Path, required=True, help="the blended model file to write")
    args = p.parse_args(argv)
    try:
        written = interpolate_generators(args.first, args.second, args.alpha, args.out)
    except (WeightsError, ValueError, OSError) as err:
        print(f"error: {err}")
        return 1
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
