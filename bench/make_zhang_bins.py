"""Build ``colorizer_gui/backends/zhang_data/pts_in_hull.npy``: the 313 ab bin
centres of Zhang et al. ECCV16 (channel i of ``conv8_313`` is bin i).

    python bench/make_zhang_bins.py [--check]

The bins are the points of the step-10 ab grid (a, b multiples of 10 in
[-110, 110]) that the paper keeps as "in gamut" (its Figure 3a), ordered a
ascending, then b ascending.

Why not a pure gamut computation: we tried deriving the set from sRGB itself
(all 16.7M 8-bit colours -> Lab with OpenCV float32, ab rounded to the nearest
10: 262 bins; floored: 266; a dense Lab grid with a round-trip in-gamut test and
any window size: at best 4 bins off; the 5 nearest grid points of every colour
(the paper's soft encoding): 322). None gives the release's 313 exactly: the
release's set extends about one bin beyond the sRGB gamut unevenly, as the
network was trained on. Channel order must match the released weights bin for
bin, so the set is given below as the paper's figure describes it, row by row
(for each a, a run of b), and this script CHECKS it against the sRGB gamut it
computes: every bin that real 8-bit sRGB colours round to is present, and no
bin lies further than 15 Lab units from a real sRGB colour.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "colorizer_gui" / "backends" / "zhang_data" / "pts_in_hull.npy"
STEP = 10

# a: (lowest b, highest b) of the in-gamut run of bins in that row (Figure 3a).
ROWS = {
    -90: (50, 90), -80: (20, 90), -70: (0, 90), -60: (-20, 90), -50: (-30, 100),
    -40: (-40, 100), -30: (-50, 100), -20: (-50, 100), -10: (-60, 100), 0: (-70, 100),
    10: (-80, 90), 20: (-80, 90), 30: (-90, 90), 40: (-100, 90), 50: (-100, 80),
    60: (-110, 80), 70: (-110, 80), 80: (-110, 70), 90: (-110, 70), 100: (-90, 0),
}


def bins_from_rows() -> np.ndarray:
    """The (313, 2) int64 bin centres, a-major then b ascending."""
    pts = [(a, b) for a in sorted(ROWS) for b in range(ROWS[a][0], ROWS[a][1] + 1, STEP)]
    return np.array(pts, dtype=np.int64)


def srgb_ab_points() -> np.ndarray:
    """ab of every 8-bit sRGB colour (OpenCV float32 Lab, D65), deduplicated to 0.5 units."""
    levels = np.arange(256, dtype=np.float32) / 255.0
    red, green = np.meshgrid(levels, levels, indexing="ij")
    found = []
    for blue in levels:  # one 256x256 image per blue level keeps memory small
        rgb = np.stack([red, green, np.full_like(red, blue)], axis=-1)
        ab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[:, :, 1:].reshape(-1, 2)
        found.append(np.unique(np.rint(ab * 2).astype(np.int32), axis=0))
    return np.unique(np.concatenate(found), axis=0).astype(np.float32) / 2.0


def check_against_gamut(bins: np.ndarray, ab: np.ndarray) -> list[str]:
    """Problems with ``bins`` as the in-gamut set of the sRGB colours ``ab``."""
    problems = []
    if bins.shape != (313, 2):
        problems.append(f"expected 313 bins, got {bins.shape}")
    if np.any(bins % STEP) or np.abs(bins).max() > 110:
        problems.append("bins must be multiples of 10 in [-110, 110]")
    order = np.lexsort((bins[:, 1], bins[:, 0]))
    if not np.array_equal(order, np.arange(len(bins))):
        problems.append("bins are not ordered a-major, b ascending")
    rounded = {tuple(p) for p in (np.rint(ab / STEP) * STEP).astype(np.int64).tolist()}
    missing = rounded - {tuple(p) for p in bins.tolist()}
    if missing:
        problems.append(f"sRGB colours fall in bins not in the set: {sorted(missing)}")
    nearest = np.full(len(bins), np.inf, dtype=np.float32)
    for start in range(0, len(ab), 20000):
        diff = bins[:, None, :].astype(np.float32) - ab[None, start:start + 20000]
        nearest = np.minimum(nearest, np.sqrt((diff ** 2).sum(-1)).min(axis=1))
    far = bins[nearest > 15.0]
    if len(far):
        problems.append(f"bins further than 15 from any sRGB colour: {far.tolist()}")
    print(f"sRGB 8-bit colours round to {len(rounded)} bins, all in the set; "
          f"the other {len(bins) - len(rounded)} bins lie within {nearest.max():.1f} of sRGB colours")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the saved file, write nothing")
    args = parser.parse_args(argv)
    bins = bins_from_rows()
    problems = check_against_gamut(bins, srgb_ab_points())
    for line in problems:
        print("PROBLEM", line)
    if problems:
        return 1
    if args.check:
        same = OUT.is_file() and np.array_equal(np.load(OUT), bins)
        print("saved file matches" if same else f"{OUT} differs or is missing")
        return 0 if same else 1
    np.save(OUT, bins)
    print(f"wrote {OUT} {bins.shape}; first {bins[0].tolist()}, last {bins[-1].tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
