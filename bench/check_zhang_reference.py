"""Check Colorizer's own Zhang ECCV16 net description and ab bins against a copy
of the paper's release (not part of the project).

    python bench/check_zhang_reference.py REFDIR

REFDIR holds the released ``colorization_deploy_v2.prototxt`` and
``pts_in_hull.npy``. Exits 0 when layer names, types, inputs/outputs and every
parameter match, and the 313 bins have the same values in the same order.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from colorizer_gui.backends.zhang.prototxt import read_layers  # noqa: E402

OURS = Path(__file__).resolve().parents[1] / "colorizer_gui" / "backends" / "zhang_data"


def compare_prototxt(ours: Path, ref: Path) -> list[str]:
    """Differences between two prototxts, as lines (empty when they match)."""
    a = read_layers(ours.read_text(encoding="utf-8"))
    b = read_layers(ref.read_text(encoding="utf-8"))
    problems = []
    if [l.name for l in a] != [l.name for l in b]:
        problems.append(f"layer names differ:\n  ours {[l.name for l in a]}\n  ref  {[l.name for l in b]}")
    for la, lb in zip(a, b):
        for what in ("name", "type", "bottom", "top", "params"):
            va, vb = getattr(la, what), getattr(lb, what)
            if va != vb:
                problems.append(f"layer {lb.name}: {what} differs: ours {va!r}, ref {vb!r}")
    return problems


def compare_bins(ours: Path, ref: Path) -> list[str]:
    """Differences between two pts_in_hull arrays (values and order)."""
    a, b = np.load(ours), np.load(ref)
    if a.shape != b.shape:
        return [f"bins shape differs: ours {a.shape}, ref {b.shape}"]
    bad = np.flatnonzero(np.any(a != b, axis=1))
    return [f"bin {i}: ours {a[i].tolist()}, ref {b[i].tolist()}" for i in bad]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "),
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("refdir", metavar="REFDIR", type=Path,
                        help="folder with the released prototxt and pts_in_hull.npy")
    refdir = parser.parse_args(argv).refdir
    problems = compare_prototxt(OURS / "colorization_deploy_v2.prototxt",
                                refdir / "colorization_deploy_v2.prototxt")
    problems += compare_bins(OURS / "pts_in_hull.npy", refdir / "pts_in_hull.npy")
    n_layers = len(read_layers((OURS / "colorization_deploy_v2.prototxt").read_text(encoding="utf-8")))
    for line in problems:
        print("MISMATCH", line)
    if problems:
        return 1
    print(f"OK: {n_layers} layers match (names, types, bottoms/tops, all parameters); "
          f"313 ab bins match in value and order")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
