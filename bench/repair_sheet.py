"""Before/after contact sheets of a folder of real old scans (no ground truth:
look at them): for each scan the original, the repair with what was painted out
in red, and the repaired photo, plus a 100% crop of its most-repaired area.

Usage: python bench/repair_sheet.py SCANS_DIR [--learned FILE] [--sensitivity S] [--out bench/out]

Writes ``repair_sheet_NN.png`` (12 scans a sheet) under ``--out`` (ignored by git).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from benchlib import add_import_paths

add_import_paths()

from colorizer_gui.core.photo import load_photo  # noqa: E402
from colorizer_gui.core.repair import RepairSettings, repair_pixels  # noqa: E402

THUMB = 300
CROP = 150


def _gray8(pixels: np.ndarray) -> np.ndarray:
    p = pixels if pixels.dtype == np.uint8 else (pixels // 257).astype(np.uint8)
    return p if p.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(p[:, :, :3]), cv2.COLOR_RGB2GRAY)


def _fit(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    f = side / max(h, w)
    small = cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    canvas = np.full((side, side, 3), 40, np.uint8)
    y, x = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas


def row(name: str, before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> np.ndarray:
    b3 = cv2.cvtColor(before, cv2.COLOR_GRAY2BGR)
    a3 = cv2.cvtColor(after, cv2.COLOR_GRAY2BGR)
    marked = b3.copy()
    marked[mask] = (0, 0, 255)
    # The 100% crop where most was painted out.
    dens = cv2.blur(mask.astype(np.float32), (CROP, CROP))
    y, x = np.unravel_index(int(np.argmax(dens)), dens.shape)
    h, w = mask.shape
    y0, x0 = int(np.clip(y - CROP // 2, 0, max(0, h - CROP))), int(np.clip(x - CROP // 2, 0, max(0, w - CROP)))
    crops = [cv2.resize(np.ascontiguousarray(im[y0:y0 + CROP, x0:x0 + CROP]), (THUMB // 2 * 2, THUMB // 2 * 2),
                        interpolation=cv2.INTER_NEAREST) for im in (b3, marked, a3)]
    tiles = [_fit(b3, THUMB), _fit(marked, THUMB), _fit(a3, THUMB)] + [_fit(c, THUMB) for c in crops]
    strip = np.hstack(tiles)
    cv2.putText(strip, f"{name}  {100 * mask.mean():.2f}% painted", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                (0, 255, 255), 1, cv2.LINE_AA)
    return strip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scans", type=Path)
    ap.add_argument("--learned", type=Path, default=None)
    ap.add_argument("--sensitivity", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    ap.add_argument("--per-sheet", type=int, default=12)
    opts = ap.parse_args()
    detector = None
    if opts.learned is not None:
        from colorizer_gui.nets.damage_net import learned_detector

        detector = learned_detector(opts.learned)
    opts.out.mkdir(parents=True, exist_ok=True)
    rows, sheets, shares = [], 0, []
    files = sorted(p for p in opts.scans.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif"))
    for i, path in enumerate(files):
        photo = load_photo(path)
        result = repair_pixels(photo.pixels, RepairSettings(sensitivity=opts.sensitivity), detector=detector)
        shares.append(result.mask.mean())
        rows.append(row(path.stem[:28], _gray8(photo.pixels), _gray8(result.pixels), result.mask))
        if len(rows) == opts.per_sheet or i == len(files) - 1:
            sheets += 1
            cv2.imwrite(str(opts.out / f"repair_sheet_{sheets:02d}.png"), np.vstack(rows),
                        [cv2.IMWRITE_PNG_COMPRESSION, 3])
            rows = []
    print(f"{len(files)} scans, {sheets} sheets in {opts.out}; painted out: median "
          f"{100 * np.median(shares):.2f}%, max {100 * np.max(shares):.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
