"""Build the balanced training mix of the default model as a folder of links.

    python scripts/make_training_mix.py ../shared/datasets runs/mix-v4 [--per-kind 600] [--val-per-kind 20]

Writes OUT/train/<kind>/... and OUT/val/<kind>/... as symbolic links to the
photos (nothing is copied: the images never enter the project). Only the
training parts of each set are used; every ``test`` part (bsds500/test,
camvid/test, the names in caltech_webfaces/TEST.txt, each kind's test/) is left
out. Each kind contributes at most ``--per-kind`` photos, so the large face
sets do not crowd out scenes and objects; people still come first (faces get
their own larger caps). From each kind ``--val-per-kind`` photos are held out
in OUT/val: the validation split that checkpoints and objectives are chosen on.
The pick is a fixed shuffle (seed 0) of the sorted file names. Kinds made of
video frames (camvid) hold out whole sequences instead, smallest first, and
train on none of their frames: neighbouring frames are near copies, and a
validation frame a few seconds from a training frame measures memory, not new
streets. (runs/mix-v2 was built before this, with camvid frames drawn across
all sequences: the mix of the shipped weights, weights/cgan-default.md.)
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

SUFFIXES = (".jpg", ".jpeg", ".png")
# kind -> (training sub-folders, cap multiplier of --per-kind)
KINDS: dict[str, tuple[tuple[str, ...], float]] = {
    "bsds500": (("train", "val"), 1.0),
    "camvid": (("train", "val"), 1.0),
    "caltech_webfaces": (("",), 1.25),   # people first: portraits and groups
    "utkface_part1": (("",), 0.6),        # aligned face crops: all ages and skin tones
    "clothing": (("train",), 1.0),
    "ccp_fashion": (("train",), 1.0),
    "houses": (("train",), 1.0),
    "caltech101": (("train",), 1.0),
    "pets": (("train",), 1.0),
    "birds": (("train",), 1.0),
    "flowers": (("train",), 1.0),
    "food": (("train",), 1.0),
    "cars": (("train",), 1.0),
    "sports": (("train",), 1.0),
    "weather": (("train",), 1.0),
}

# Kinds whose photos are frames of a few video sequences, named <sequence>_<frame>.
SEQUENCE_KINDS = frozenset({"camvid"})


def sequence_of(path: Path) -> str:
    """The video sequence a frame belongs to: its name up to the first underscore."""
    return path.name.split("_", 1)[0]


def split_val(kind: str, files: list[Path], n_val: int) -> tuple[list[Path], list[Path]]:
    """``(val, rest)`` of one kind's shuffled photos: the first ``n_val`` for most
    kinds; for ``SEQUENCE_KINDS``, whole sequences (smallest first, always leaving
    one to train on), with none of their frames in ``rest``."""
    if kind not in SEQUENCE_KINDS:
        return files[:n_val], files[n_val:]
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(sequence_of(path), []).append(path)
    held: list[Path] = []
    held_names: set[str] = set()
    for name in sorted(groups, key=lambda g: (len(groups[g]), g))[:-1]:
        if len(held) >= n_val:
            break
        held.extend(groups[name])
        held_names.add(name)
    return held[:n_val], [p for p in files if sequence_of(p) not in held_names]


def kind_files(root: Path, kind: str, parts: tuple[str, ...]) -> list[Path]:
    """The training photos of one kind (never its test part), sorted."""
    excluded: set[str] = set()
    test_list = root / kind / "TEST.txt"
    if test_list.is_file():
        excluded = {line.strip() for line in test_list.read_text().splitlines() if line.strip()}
    files = []
    for part in parts:
        folder = root / kind / part
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in SUFFIXES and path.name not in excluded and path.is_file():
                files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    """Create the link folders; print the counts per kind."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--per-kind", type=int, default=600)
    parser.add_argument("--val-per-kind", type=int, default=20)
    args = parser.parse_args(argv)
    root = args.datasets.resolve()
    if (args.out / "train").exists():
        print(f"{args.out}/train exists already; remove the folder to rebuild", file=sys.stderr)
        return 2
    total_train = total_val = 0
    for kind, (parts, factor) in KINDS.items():
        files = kind_files(root, kind, parts)
        if not files:
            print(f"{kind}: no photos found, skipped")
            continue
        random.Random(0).shuffle(files)
        val, rest = split_val(kind, files, args.val_per_kind)
        train = rest[:int(args.per_kind * factor)]
        for split, chosen in (("train", train), ("val", val)):
            folder = args.out / split / kind
            folder.mkdir(parents=True, exist_ok=True)
            for path in chosen:
                os.symlink(path, folder / path.name)
        total_train += len(train)
        total_val += len(val)
        print(f"{kind}: {len(train)} train, {len(val)} val (of {len(files)})")
    print(f"total: {total_train} train, {total_val} val in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
