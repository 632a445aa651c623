"""Compare colour models at equal colourfulness on a validation split, with a paired bootstrap.

    python bench/compare_models.py VAL_FOLDER BASE.safetensors CANDIDATE.safetensors...
                                   [--colour X] [--render-size N] [--draws N] [--seed S]
                                   [--per-kind] [--csv FILE]

``VAL_FOLDER`` holds one sub-folder of colour photos per kind (the validation split
of ``scripts/make_training_mix.py``; never a test part). Every model is a regression
``lite0-unet`` file. Its colours are predicted once at colour gain 1 (the backend's own
path and mirror average, every model at the base's render size unless one is given),
and then, for each model, the gain that gives the
mean colourfulness ``X`` is solved for (default: BASE's own, at the gain its file
ships with). Comparing at equal colour is what makes the figures fair: any model can
buy PSNR by painting less (the gray copy is the limit), so a dull model must not win
by being dull.

For each model the table gives its gain, dPSNR over the gray copy (mean over kinds),
colour on gray things, the kinds below gray, and its difference from BASE with a 95%
interval from a paired bootstrap over photos, drawn within each kind (differences
smaller than that interval are noise of the split's size). The same figures are given
for the newer kinds alone (``quality_sets.NEW_KINDS``): the older kinds' photos were
seen by the first models, and a model grown from those is flattered there.
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

import benchlib

benchlib.add_import_paths()

import quality_metrics as qm  # noqa: E402
from quality_sets import NEW_KINDS, folder_sets  # noqa: E402
from colorizer_gui.backends import BackendError  # noqa: E402
from colorizer_gui.backends.cgan import CganBackend  # noqa: E402
from colorizer_gui.core import color  # noqa: E402
from colorizer_gui.core.photo import PhotoError, load_photo  # noqa: E402
from colorizer_gui.core.pipeline import merge_ab, render_lightness  # noqa: E402

GAIN_RANGE = (0.25, 4.0)  # where the equal-colour gain is searched
BISECTIONS = 14           # the gain to 1e-4 of that range: far below the split's noise


@dataclass
class Photo:
    """One validation photo: the truth, the colorizer's input and what scoring reuses."""

    kind: str
    name: str
    truth: np.ndarray          # uint8 RGB
    lightness: np.ndarray      # float32 CIE L of the gray input, full size
    psnr_gray: float
    truth_colorfulness: float


@dataclass
class Scored:
    """One model at one gain over the whole split."""

    gain: float
    psnr: np.ndarray           # per photo, in the order of the photos
    colorfulness: np.ndarray  # per photo
    gray_chroma: np.ndarray    # per photo (NaN where the truth has no gray things)


def load_split(folder: Path) -> list[Photo]:
    """Every readable photo of each kind (sub-folder) of ``folder``, with its gray input."""
    photos: list[Photo] = []
    for kind, paths in folder_sets(folder).items():
        for path in paths:
            try:
                truth = qm.as_rgb8(load_photo(path).pixels)
            except PhotoError as exc:
                print(f"skipped {path}: {exc}", file=sys.stderr)
                continue
            gray = qm.gray_from_lightness(color.lightness(truth))
            photos.append(Photo(kind, path.name, truth, color.lightness(gray),
                                min(qm.psnr(truth, np.dstack([gray] * 3)), qm.PSNR_CAP),
                                qm.colorfulness(truth)))
    if not photos:
        raise SystemExit(f"no photos in the sub-folders of {folder}")
    return photos


def raw_colors(weights: Path, photos: Sequence[Photo], render_size: Optional[int]
                ) -> tuple[float, int, list[tuple[np.ndarray, np.ndarray]]]:
    """(the file's own gain, the render size used (``render_size``, else the file's own
    default), per photo (render-size L, ab at gain 1)) for one model file."""
    backend = CganBackend(weights=weights, device="cpu")
    try:
        backend.load()
    except BackendError as exc:
        raise SystemExit(f"{weights}: {exc}") from None
    model = backend.model
    if not hasattr(model, "set_ab_gain"):
        raise SystemExit(f"{weights}: not a lite0-unet (its vividness is not a gain)")
    own_gain = float(model.ab_gain)
    model.set_ab_gain(1.0)
    size = backend.default_render_size if render_size is None else int(render_size)
    out = []
    for photo in photos:
        small = render_lightness(photo.lightness, backend, size)
        out.append((small, backend.predict_ab(small)))
    return own_gain, size, out


def color_at(photo: Photo, small: np.ndarray, ab: np.ndarray, gain: float) -> np.ndarray:
    """The colour copy (uint8 RGB) at ``gain``: the backend's gamut limit and full-size join."""
    return merge_ab(photo.lightness, color.limit_chroma(ab * gain, small), np.dtype(np.uint8))


def kind_index(photos: Sequence[Photo]) -> dict[str, list[int]]:
    """kind -> the positions of its photos, kinds in the order they come."""
    index: dict[str, list[int]] = {}
    for i, photo in enumerate(photos):
        index.setdefault(photo.kind, []).append(i)
    return index


def mean_color_ratio(photos: Sequence[Photo], colorfulness: np.ndarray) -> float:
    """Mean over kinds of each kind's colourfulness ratio (of the set means), as in
    ``quality_sets``' "colourful" column."""
    ratios = []
    for idx in kind_index(photos).values():
        truth = np.mean([photos[i].truth_colorfulness for i in idx])
        ratios.append(float(np.mean(colorfulness[idx]) / truth) if truth > 0 else math.nan)
    return float(np.nanmean(ratios))


def colorfulness_at(photos: Sequence[Photo], raw: Sequence[tuple[np.ndarray, np.ndarray]],
                     gain: float) -> np.ndarray:
    return np.array([qm.colorfulness(color_at(p, s, ab, gain)) for p, (s, ab) in zip(photos, raw)])


def gain_for_color(measure: Callable[[float], float], target: float,
                    lo: float = GAIN_RANGE[0], hi: float = GAIN_RANGE[1]) -> float:
    """The gain where the (non-decreasing) ``measure`` reaches ``target``, by bisection;
    the range's end when it never does."""
    if measure(hi) <= target:
        return hi
    if measure(lo) >= target:
        return lo
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if measure(mid) < target else (lo, mid)
    return 0.5 * (lo + hi)


def score(photos: Sequence[Photo], raw: Sequence[tuple[np.ndarray, np.ndarray]], gain: float) -> Scored:
    """Per-photo PSNR, colourfulness and colour on gray things at ``gain``."""
    psnr, colorful, on_gray = [], [], []
    for photo, (small, ab) in zip(photos, raw):
        rgb = color_at(photo, small, ab, gain)
        psnr.append(min(qm.psnr(photo.truth, rgb), qm.PSNR_CAP))
        colorful.append(qm.colorfulness(rgb))
        on_gray.append(qm.color_on_gray(photo.truth, rgb))
    return Scored(gain, np.array(psnr), np.array(colorful), np.array(on_gray))


def kind_means(photos: Sequence[Photo], values: np.ndarray, kinds: Sequence[str]) -> np.ndarray:
    index = kind_index(photos)
    return np.array([np.mean(values[index[k]]) for k in kinds])


def paired_interval(photos: Sequence[Photo], diff: np.ndarray, kinds: Sequence[str], draws: int,
                    seed: int) -> tuple[float, float, float]:
    """(mean over ``kinds`` of the per-kind mean of ``diff``, 2.5% and 97.5% points of
    that figure when each kind's photos are drawn again with replacement)."""
    rng = np.random.default_rng(seed)
    total = np.zeros(draws)
    for kind in kinds:
        d = diff[kind_index(photos)[kind]]
        total += d[rng.integers(0, d.size, (draws, d.size))].mean(axis=1)
    total /= len(kinds)
    point = float(np.mean(kind_means(photos, diff, kinds)))
    lo, hi = np.percentile(total, [2.5, 97.5])
    return point, float(lo), float(hi)


def compare(folder: Path, base: Path, candidates: Sequence[Path], color: Optional[float] = None,
            render_size: Optional[int] = None, draws: int = 2000, seed: int = 0,
            per_kind: bool = False, csv_path: Optional[Path] = None) -> str:
    """The comparison as markdown (see the module docstring)."""
    photos = load_split(folder)
    kinds = list(kind_index(photos))
    groups = {f"{len(kinds)} kinds": kinds}
    newer = [k for k in kinds if k in NEW_KINDS]
    if newer and len(newer) < len(kinds):
        groups[f"{len(newer)} newer kinds"] = newer
    gray = np.array([p.psnr_gray for p in photos])

    models = [base, *candidates]
    raws, own_gains = [], []
    for path in models:
        print(f"predicting {path} ...", file=sys.stderr)
        # Every model at one render size (the base's own unless asked): a snapshot's file
        # names its crop size, from which the backend would pick another size.
        own_gain, render_size, raw = raw_colors(path, photos, render_size)
        own_gains.append(own_gain)
        raws.append(raw)
    if color is None:
        color = mean_color_ratio(photos, colorfulness_at(photos, raws[0], own_gains[0]))
    results = [score(photos, raw, gain_for_color(
        lambda g, raw=raw: mean_color_ratio(photos, colorfulness_at(photos, raw, g)), color))
        for raw in raws]
    names = [f"{path.name} (base)" if i == 0 else path.name for i, path in enumerate(models)]

    head = ["model", "gain", "colourful"]
    for label in groups:
        head += [f"dPSNR, {label}", f"vs base, {label} [95%]"]
    head += ["colour on gray", "kinds below gray"]
    lines = [f"Equal colourfulness {color:.3f} (mean over kinds), render size {render_size}, "
             f"{len(photos)} photos of {folder}, {draws} paired bootstrap draws.", "",
             "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for i, res in enumerate(results):
        cells = [names[i], f"{res.gain:.3f}", f"{mean_color_ratio(photos, res.colorfulness):.3f}"]
        for group in groups.values():
            cells.append(f"{np.mean(kind_means(photos, res.psnr - gray, group)):+.3f}")
            if i == 0:
                cells.append("-")
            else:
                point, lo, hi = paired_interval(photos, res.psnr - results[0].psnr, group, draws, seed)
                cells.append(f"{point:+.3f} [{lo:+.3f}, {hi:+.3f}]")
        below = [k for k, d in zip(kinds, kind_means(photos, res.psnr - gray, kinds)) if d < 0]
        # As quality_sets' column: each kind's mean over its photos with gray things, then over kinds.
        on_gray = []
        for kind in kinds:
            vals = [c for c in res.gray_chroma[kind_index(photos)[kind]] if not math.isnan(c)]
            on_gray.append(float(np.mean(vals)) if vals else math.nan)
        cells += [f"{np.nanmean(on_gray):.2f}", ", ".join(below) or "none"]
        lines.append("| " + " | ".join(cells) + " |")
    if per_kind:
        lines += ["", "| model | " + " | ".join(kinds) + " |", "|" + " --- |" * (len(kinds) + 1)]
        for name, res in zip(names, results):
            per = kind_means(photos, res.psnr - gray, kinds)
            lines.append(f"| {name} | " + " | ".join(f"{v:+.2f}" for v in per) + " |")
    if csv_path is not None:
        with open(csv_path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["kind", "photo", "psnr_gray", *(f"psnr:{n}" for n in names)])
            for i, photo in enumerate(photos):
                writer.writerow([photo.kind, photo.name, f"{photo.psnr_gray:.4f}",
                                 *(f"{res.psnr[i]:.4f}" for res in results)])
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="validation split: one sub-folder of colour photos per kind")
    p.add_argument("base", type=Path, help="the model to compare with (e.g. the shipped default)")
    p.add_argument("candidates", type=Path, nargs="*", help="model files to compare with it")
    p.add_argument("--colour", type=float, default=None,
                   help="mean colourfulness ratio to compare at (default: the base's at its own gain)")
    p.add_argument("--render-size", type=int, default=None,
                   help="long side every model renders at (default: the base's own)")
    p.add_argument("--draws", type=int, default=2000, help="bootstrap draws (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-kind", action="store_true", help="also a table of dPSNR per kind")
    p.add_argument("--csv", type=Path, default=None, help="per-photo PSNRs of every model")
    args = p.parse_args(argv)
    print(compare(args.folder, args.base, args.candidates, args.color, args.render_size, args.draws,
                  args.seed, args.per_kind, args.csv), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
