"""Pack a training mix into small real files that can be copied to a GPU machine.

    python scripts/pack_for_device.py runs/mix-v4/train runs/device/train [--short 224] [--budget-mib 48]

A mix from ``make_training_mix.py`` is a folder of links into ``../shared/datasets``,
and links do not survive a copy to another machine; the pack keeps the repository
and its photos small enough to copy quickly (``scripts/device_train.sh`` says how a
run there goes). This writes each photo again as WebP with its short side at
most ``--short`` pixels, keeping the kind folders. WebP, because the default mix's
7,746 photos come to 42 MiB at quality 75 (50 MiB at 80), against 60-70 MiB as JPEG
at 75-85; the app and the trainer read both. 224 px keeps nearly all of what 192 px
training crops use (the trainer scales the short side to 192-240 px). The output must be outside the
repository or ignored by git, so the photos never enter the project. It fails when
the pack is over ``--budget-mib``.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from make_training_mix import SUFFIXES  # the photos a mix holds: one list for both scripts

REPO = Path(__file__).resolve().parents[1]


def ignored_or_outside(path: Path) -> bool:
    """True when ``path`` is outside this repository or git ignores it."""
    resolved = path.resolve()
    if REPO not in resolved.parents:
        return True
    rel = resolved.relative_to(REPO)
    return subprocess.run(["git", "check-ignore", "-q", str(rel)], cwd=REPO).returncode == 0


def shrink(image: np.ndarray, short: int) -> np.ndarray:
    """``image`` with its short side at most ``short`` pixels (area filter)."""
    h, w = image.shape[:2]
    scale = short / min(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def pack(mix: Path, out: Path, short: int, quality: int) -> tuple[int, int, list[str]]:
    """Write every photo of ``mix`` (kind folders, links followed) into ``out``;
    returns (photos written, bytes written, files that could not be read)."""
    count = size = 0
    unreadable: list[str] = []
    for src in sorted(p for p in mix.rglob("*") if p.suffix.lower() in SUFFIXES):
        image = cv2.imread(str(src), cv2.IMREAD_COLOR)
        if image is None:
            unreadable.append(str(src))
            continue
        dst = (out / src.relative_to(mix)).with_suffix(".webp")
        dst.parent.mkdir(parents=True, exist_ok=True)
        ok, encoded = cv2.imencode(".webp", shrink(image, short), [cv2.IMWRITE_WEBP_QUALITY, quality])
        if not ok:
            unreadable.append(str(src))
            continue
        data = encoded.tobytes()
        dst.write_bytes(data)
        count += 1
        size += len(data)
    return count, size, unreadable


def main(argv: list[str] | None = None) -> int:
    """Command line; 0 when packed within the budget, 1 when over it, 2 on bad arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mix", type=Path, help="a training mix folder (kind folders of photos or links)")
    parser.add_argument("out", type=Path, help="an empty folder, outside the repository or git-ignored")
    parser.add_argument("--short", type=int, default=224, help="short side at most this many pixels")
    parser.add_argument("--quality", type=int, default=75, help="WebP quality (1-100)")
    parser.add_argument("--budget-mib", type=float, default=48.0,
                        help="fail when the pack is larger (the device's work tree is 64 MiB in all)")
    args = parser.parse_args(argv)
    if not args.mix.is_dir():
        print(f"{args.mix}: not a folder", file=sys.stderr)
        return 2
    if args.out.exists() and any(args.out.iterdir()):
        print(f"{args.out} is not empty; remove it to pack again", file=sys.stderr)
        return 2
    if not ignored_or_outside(args.out):
        print(f"{args.out} is inside the repository and not git-ignored: the photos must never "
              "enter the project (use a folder under runs/)", file=sys.stderr)
        return 2
    count, size, unreadable = pack(args.mix, args.out, args.short, args.quality)
    for path in unreadable:
        print(f"skipped, unreadable: {path}", file=sys.stderr)
    mib = size / 2**20
    print(f"packed {count} photos, {mib:.1f} MiB, into {args.out}")
    if mib > args.budget_mib:
        print(f"over the budget of {args.budget_mib} MiB: lower --short or --quality", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
