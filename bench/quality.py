"""Colorization quality against colour ground truth, through the CLI's own pipeline.

Usage:
  python bench/quality.py GT_DIR [--backend cgan|zhang] [--weights FILE] [--device D]
                          [--render-size N] [--out DIR] [--limit N] [--section NAME]

For every colour photo in GT_DIR: its CIE L is the gray input, saved as an
8-bit gray PNG in a temporary folder; ``pipeline.colorize_file`` colorizes it
with the chosen backend (as ``python -m colorizer_gui colorize`` does, file to
file) and the saved output is read back with ``load_photo``. Each output is
scored against its truth, and so is the gray input itself (a = b = 0) as the
baseline: PSNR (RGB, 8-bit), SSIM (RGB, scikit-image), Zhang et al.'s ab
accuracy AuC (thresholds 0..150), colourfulness relative to the truth, mean
|dL| between output and input lightness, and whether the output kept the
input's pixel size. See bench/quality_metrics.py for the exact definitions.

Writes into --out (default bench/out/quality/<set name>/): summary-<backend>.md
(the average table), per_image-<backend>.csv, contact-<backend>.png (rows of
gray | ours | truth for 12 photos spread over the set). Prints the table. With
--section NAME it also writes or replaces the section "## Quality: NAME" of
bench/RESULTS.md (and only that section). Exit status: 0 when every photo was
scored, 1 when some failed (listed), 2 when nothing could run.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import io
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
from PIL import Image

import benchlib
from benchlib import BENCH, REPO, write_atomic

benchlib.add_import_paths()

import quality_metrics as qm  # noqa: E402
from colorizer_gui.backends import BackendError, backend_names, create_backend  # noqa: E402
from colorizer_gui.core import color  # noqa: E402
from colorizer_gui.core.photo import PhotoError, find_photos, load_photo  # noqa: E402
from colorizer_gui.core.pipeline import colorize_file  # noqa: E402

SHEET_ROWS = 12
CELL_HEIGHT = 200
LABEL_HEIGHT = 20
METRICS = ("psnr", "ssim", "auc", "colourfulness", "dl", "psnr_colour", "gray_chroma")
RESULTS = benchlib.RESULTS
replace_section = benchlib.replace_section  # part of this module's API (the tests use it)


@dataclass
class Row:
    """One photo's results: ours and the gray baseline."""

    name: str
    width: int
    height: int
    out_width: int = 0
    out_height: int = 0
    seconds: float = math.nan
    truth_colorfulness: float = math.nan
    ours: dict[str, float] = field(default_factory=dict)
    gray: dict[str, float] = field(default_factory=dict)

    @property
    def size_ok(self) -> bool:
        return (self.out_width, self.out_height) == (self.width, self.height)


@dataclass
class Thumbs:
    """Contact-sheet cells of one photo (uint8 RGB, CELL_HEIGHT high)."""

    gray: np.ndarray
    ours: np.ndarray
    truth: np.ndarray


# --------------------------------------------------------------------------- scoring

def write_gray_input(gray: np.ndarray, path: Path) -> Path:
    """Save the 8-bit gray input as a PNG (the file the colorizer reads)."""
    Image.fromarray(gray, "L").save(path, compress_level=1)  # fast: it is read once
    return path


def thumb(rgb: np.ndarray, height: int = CELL_HEIGHT) -> np.ndarray:
    """``rgb`` scaled to ``height`` pixels high (area filter), aspect kept."""
    h, w = rgb.shape[:2]
    width = max(1, round(w * height / h))
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)


def score(row: Row, truth: np.ndarray, gray: np.ndarray, out_pixels: np.ndarray,
          keep_thumbs: bool) -> Optional[Thumbs]:
    """Fill ``row``'s metrics from the truth, the gray input and the read-back output."""
    ours = qm.as_rgb8(out_pixels)
    row.out_height, row.out_width = ours.shape[:2]
    if not row.size_ok:
        # Still score it (resized to the truth), but the table reports the miss.
        ours = cv2.resize(ours, (row.width, row.height), interpolation=cv2.INTER_AREA)
    gray_rgb = qm.as_rgb8(gray)
    input_lightness = color.lightness(gray)  # the L the pipeline itself saw
    row.truth_colorfulness = qm.colorfulness(truth)
    row.ours = qm.image_metrics(truth, ours, input_lightness)
    row.gray = qm.image_metrics(truth, gray_rgb, input_lightness)
    if keep_thumbs:
        return Thumbs(thumb(gray_rgb), thumb(ours), thumb(truth))
    return None


def sheet_indices(count: int, rows: int = SHEET_ROWS) -> list[int]:
    """``rows`` photo indices spread evenly over a set of ``count``."""
    if count <= 0:
        return []
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, min(rows, count))})


# --------------------------------------------------------------------------- summaries

def _finite_mean(values: list[float], cap: Optional[float] = None) -> float:
    vals = [min(v, cap) if cap is not None else v for v in values]
    vals = [v for v in vals if not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan


def averages(rows: list[Row]) -> dict[str, dict[str, float]]:
    """Set averages for "ours" and "gray": each metric, both colourfulness ratios, size kept."""
    truth_c = [r.truth_colorfulness for r in rows]
    result: dict[str, dict[str, float]] = {}
    for which in ("ours", "gray"):
        per = [getattr(r, which) for r in rows]
        avg = {m: _finite_mean([p[m] for p in per], qm.PSNR_CAP if m.startswith("psnr") else None)
               for m in METRICS}
        avg["c_ratio_of_means"], avg["c_mean_ratio"], avg["c_count"] = qm.colorfulness_ratios(
            truth_c, [p["colourfulness"] for p in per])
        avg["size_ok"] = float(sum(r.size_ok for r in rows)) if which == "ours" else float(len(rows))
        result[which] = avg
    result["truth"] = {"colourfulness": _finite_mean(truth_c)}
    return result


def _fmt(value: float, digits: int) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def average_table(avg: dict[str, dict[str, float]], count: int, backend: str) -> str:
    """The average metrics as a markdown table: gray baseline and ours side by side."""
    ours, gray = avg["ours"], avg["gray"]
    lines = [
        f"| metric (mean of {count} photos) | gray baseline | ours ({backend}) |",
        "| --- | ---: | ---: |",
        f"| PSNR, RGB 8-bit (dB; higher is better) | {_fmt(gray['psnr'], 2)} | {_fmt(ours['psnr'], 2)} |",
        f"| SSIM, RGB | {_fmt(gray['ssim'], 4)} | {_fmt(ours['ssim'], 4)} |",
        f"| ab accuracy AuC, 0-150 (Zhang et al.) | {_fmt(gray['auc'], 4)} | {_fmt(ours['auc'], 4)} |",
        f"| colourfulness / truth's (ratio of set means) | {_fmt(gray['c_ratio_of_means'], 3)} "
        f"| {_fmt(ours['c_ratio_of_means'], 3)} |",
        f"| colourfulness / truth's (mean per-photo ratio, {int(ours['c_count'])} photos with truth >= 1) "
        f"| {_fmt(gray['c_mean_ratio'], 3)} | {_fmt(ours['c_mean_ratio'], 3)} |",
        f"| colourfulness (truth: {_fmt(avg['truth']['colourfulness'], 1)}) "
        f"| {_fmt(gray['colourfulness'], 1)} | {_fmt(ours['colourfulness'], 1)} |",
        f"| colour on gray things: mean chroma where the truth is gray (0 is best) "
        f"| {_fmt(gray['gray_chroma'], 2)} | {_fmt(ours['gray_chroma'], 2)} |",
        f"| mean abs(dL), output vs input L | {_fmt(gray['dl'], 3)} | {_fmt(ours['dl'], 3)} |",
        f"| output has the input's size | {int(gray['size_ok'])}/{count} | {int(ours['size_ok'])}/{count} |",
    ]
    return "\n".join(lines) + "\n"


CSV_FIELDS = ["name", "width", "height", "out_width", "out_height", "size_ok", "seconds",
              "truth_colourfulness"] + [f"{m}_{w}" for m in METRICS for w in ("ours", "gray")]


def per_image_csv(rows: list[Row]) -> str:
    """One line per photo: sizes, colorize seconds, every metric for ours and the gray baseline."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        line: dict[str, object] = {"name": r.name, "width": r.width, "height": r.height,
                                   "out_width": r.out_width, "out_height": r.out_height,
                                   "size_ok": int(r.size_ok), "seconds": f"{r.seconds:.4f}",
                                   "truth_colourfulness": f"{r.truth_colorfulness:.3f}"}
        for m in METRICS:
            line[f"{m}_ours"] = f"{r.ours[m]:.4f}"
            line[f"{m}_gray"] = f"{r.gray[m]:.4f}"
        writer.writerow(line)
    return buf.getvalue()


def contact_sheet(items: list[tuple[Row, Thumbs]], backend: str) -> np.ndarray:
    """Rows of gray | ours | truth, each cell CELL_HEIGHT high under a one-line label (RGB)."""
    col_w = max((max(t.gray.shape[1], t.ours.shape[1], t.truth.shape[1]) for _, t in items), default=1)
    col_w = max(col_w, 220)  # room for the labels
    gap = 6
    row_h = LABEL_HEIGHT + CELL_HEIGHT + gap
    sheet = np.full((gap + row_h * len(items), gap + 3 * (col_w + gap), 3), 255, np.uint8)
    for i, (row, t) in enumerate(items):
        labels = (f"gray  {row.gray['psnr']:.1f} dB  AuC {row.gray['auc']:.3f}",
                  f"{backend}  {row.ours['psnr']:.1f} dB  AuC {row.ours['auc']:.3f}",
                  f"truth  {row.name}")
        y = gap + i * row_h
        for j, (cell, label) in enumerate(zip((t.gray, t.ours, t.truth), labels)):
            x = gap + j * (col_w + gap)
            cv2.putText(sheet, label, (x, y + LABEL_HEIGHT - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                        (0, 0, 0), 1, cv2.LINE_AA)
            off = x + (col_w - cell.shape[1]) // 2
            sheet[y + LABEL_HEIGHT:y + LABEL_HEIGHT + CELL_HEIGHT, off:off + cell.shape[1]] = cell
    return sheet


# --------------------------------------------------------------------------- files

def write_results_section(name: str, text: str) -> Path:
    """Write or replace "## Quality: NAME" in bench/RESULTS.md, leaving other sections alone."""
    # RESULTS is read at call time, so a test can point it at a copy.
    return benchlib.write_results_section(f"## Quality: {name}", text, RESULTS)


def set_name(gt_dir: Path) -> str:
    """A folder name for a ground-truth set: its last two path parts ("bsds500-test")."""
    parts = gt_dir.resolve().parts[-2:]
    return "-".join(p for p in parts if p not in ("/", "")) or "set"


def weights_note(path: Optional[Path]) -> str:
    """File name, size and a short SHA-256 of the weights, so a result names what it measured."""
    if path is None:
        return "the backend's default weights"
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return f"`{path.name}` ({path.stat().st_size / 1e6:.1f} MB, sha256 {digest.hexdigest()[:12]})"


def _shown_path(path: Path) -> str:
    try:
        return os.path.relpath(path.resolve(), REPO)
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- main

def input_lightness(truth: np.ndarray, index: int, degrade_seed: Optional[int]) -> np.ndarray:
    """The L the colorizer gets: the truth's own, or (``degrade_seed``) an aged copy of it
    like a real old scan (grain, blur, fading, specks; ``training/degrade.py``), fixed per photo."""
    clean = color.lightness(truth)
    if degrade_seed is None:
        return clean
    from training.degrade import degrade_lightness

    return degrade_lightness(clean, np.random.default_rng((degrade_seed, index)), p=1.0)


def truth_hints_file(truth: np.ndarray, count: int, rng: np.random.Generator, path: Path,
                     radius: float = 0.01) -> Path:
    """Write a hints file (the documented format) with ``count`` points whose colours
    are the truth's mean colour in a disc of ``radius`` (fraction of the short side)
    around each point, at points drawn uniformly over the photo."""
    from colorizer_gui.core.hints import Hint, hints_document

    h, w = truth.shape[:2]
    r = max(1, int(round(radius * min(h, w))))
    hints = []
    for _ in range(count):
        x, y = rng.uniform(0, 1), rng.uniform(0, 1)
        cx, cy = min(w - 1, int(x * w)), min(h - 1, int(y * h))
        patch = truth[max(0, cy - r):cy + r + 1, max(0, cx - r):cx + r + 1].reshape(-1, 3)
        rgb = tuple(int(v) for v in np.rint(patch.mean(axis=0)))
        hints.append(Hint(x, y, rgb, radius))
    path.write_bytes(hints_document(hints))
    return path


def run(photos: list[Path], gt_dir: Path, backend, render_size: Optional[int], work: Path,
        degrade_seed: Optional[int] = None, hint_points: int = 0, saturation: float = 1.0
        ) -> tuple[list[Row], list[tuple[Row, Thumbs]], list[str], float]:
    """Colorize and score every photo; returns rows, sheet items, failures, colorize seconds.

    With ``degrade_seed`` the gray inputs are aged copies (``input_lightness``); the
    gray baseline is then that aged gray, so "ours minus gray" stays comparable.
    With ``hint_points`` each photo gets a hints file of that many points with the
    truth's colours (``truth_hints_file``, fixed per photo), read back as the CLI does.
    ``saturation`` is the CLI's ``--saturation`` (1 = the model's own colours).

    Scoring runs in a helper thread while the backend colorizes the next photo
    (OpenCV, NumPy and SciPy release the GIL for their heavy parts)."""
    from tqdm import tqdm

    inputs, outputs = work / "in", work / "out"
    inputs.mkdir()
    outputs.mkdir()
    wanted = set(sheet_indices(len(photos)))
    rows: list[Row] = []
    items: list[tuple[Row, Thumbs]] = []
    failures: list[str] = []
    pending: list[tuple[Row, Future]] = []
    colorize_seconds = 0.0

    def collect(done: list[tuple[Row, Future]]) -> None:
        for row, fut in done:
            try:
                thumbs = fut.result()
            except (ValueError, cv2.error) as exc:
                failures.append(f"{row.name}: cannot score: {exc}")
                continue
            rows.append(row)
            if thumbs is not None:
                items.append((row, thumbs))

    with ThreadPoolExecutor(max_workers=1) as pool:
        for index, src in enumerate(tqdm(photos, unit="photo", file=sys.stderr, dynamic_ncols=True)):
            try:
                truth = qm.as_rgb8(load_photo(src).pixels)
                gray = qm.gray_from_lightness(input_lightness(truth, index, degrade_seed))
                gray_path = write_gray_input(gray, inputs / f"{index:05d}_{src.stem}.png")
                hints = []
                if hint_points:
                    from colorizer_gui.core.hints import load_hints

                    hint_file = truth_hints_file(truth, hint_points, np.random.default_rng((7, index)),
                                                 inputs / f"{index:05d}.colorizer.json")
                    hints = load_hints(hint_file)
                start = time.perf_counter()
                out_path = colorize_file(gray_path, outputs, backend, render_size=render_size,
                                         saturation=saturation, hints=hints)
                seconds = time.perf_counter() - start
                out_pixels = load_photo(out_path).pixels
                gray_path.unlink()
                out_path.unlink()
            except (PhotoError, BackendError) as exc:
                failures.append(f"{src.name}: {exc}")
                continue
            colorize_seconds += seconds
            row = Row(name=_shown_name(src, gt_dir), width=truth.shape[1], height=truth.shape[0],
                      seconds=seconds)
            collect(pending)
            pending = [(row, pool.submit(score, row, truth, gray, out_pixels, index in wanted))]
        collect(pending)
    return rows, items, failures, colorize_seconds


def _shown_name(src: Path, gt_dir: Path) -> str:
    """The photo's name relative to the set's folder (photos in sub-folders keep them)."""
    try:
        return src.relative_to(gt_dir).as_posix()
    except ValueError:
        return src.name


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gt_dir", type=Path, help="folder of colour photos (the ground truth)")
    parser.add_argument("--backend", choices=backend_names(), default="cgan")
    parser.add_argument("--weights", type=Path, help="weights file (default: the backend's own)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (cgan)")
    parser.add_argument("--render-size", type=int, help="the backend's render size (default: its own)")
    parser.add_argument("--out", type=Path, help="output folder (default bench/out/quality/<set name>)")
    parser.add_argument("--limit", type=int, help="score only the first N photos (sorted by name)")
    parser.add_argument("--section", metavar="NAME", help='write "## Quality: NAME" in bench/RESULTS.md')
    parser.add_argument("--degrade", type=int, metavar="SEED",
                        help="age each gray input like an old scan (fixed by SEED and the photo)")
    parser.add_argument("--hint-points", type=int, default=0, metavar="N",
                        help="give each photo N colour hints with the truth's colours (radius 0.01)")
    opts = parser.parse_args(argv)

    if not opts.gt_dir.is_dir():
        print(f"quality: not a folder: {opts.gt_dir}", file=sys.stderr)
        return 2
    if opts.weights is not None and not opts.weights.is_file():
        print(f"quality: weights file not found: {opts.weights}", file=sys.stderr)
        return 2
    photos = find_photos([opts.gt_dir])
    if opts.limit is not None:
        photos = photos[:max(opts.limit, 0)]
    if not photos:
        print(f"quality: no photos in {opts.gt_dir}", file=sys.stderr)
        return 2
    name = set_name(opts.gt_dir) + ("-degraded" if opts.degrade is not None else "") + (
        f"-hints{opts.hint_points}" if opts.hint_points else "")
    out_dir = opts.out or BENCH / "out" / "quality" / name

    try:
        backend = create_backend(opts.backend, weights=opts.weights, device=opts.device)
        state = backend.availability()
        if not state.ok:
            print(f"quality: the {opts.backend} backend is not available: {state.reason}", file=sys.stderr)
            return 2
        backend.load()
    except BackendError as exc:
        print(f"quality: {exc}", file=sys.stderr)
        return 2

    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="colorizer-quality-") as tmp:
        rows, items, failures, colorize_seconds = run(photos, opts.gt_dir, backend, opts.render_size,
                                                      Path(tmp), opts.degrade, opts.hint_points)
    wall = time.perf_counter() - wall
    if not rows:
        print("quality: no photo could be scored:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 2

    avg = averages(rows)
    table = average_table(avg, len(rows), opts.backend)
    render = opts.render_size or backend.default_render_size
    seconds = [r.seconds for r in rows]
    what = (f"{len(rows)} photos of `{_shown_path(opts.gt_dir)}`; backend `{opts.backend}` "
            f"({backend.describe()}), weights {weights_note(opts.weights)}, render size {render}")
    timing = (f"colorize_file: median {statistics.median(seconds):.3f} s per photo, "
              f"{colorize_seconds:.1f} s in all; whole run {wall:.1f} s on {platform.machine()} "
              f"with {os.cpu_count()} cores")
    print(f"\n{what}\n{timing}\n\n{table}")

    files = {
        f"summary-{opts.backend}.md": f"# Quality: {name}, {opts.backend}\n\n{what}.\n\n{timing}.\n\n{table}",
        f"per_image-{opts.backend}.csv": per_image_csv(rows),
    }
    for fname, text in files.items():
        write_atomic(out_dir / fname, text.encode("utf-8"))
    ok, png = cv2.imencode(".png", cv2.cvtColor(contact_sheet(items, opts.backend), cv2.COLOR_RGB2BGR))
    if ok:
        write_atomic(out_dir / f"contact-{opts.backend}.png", png.tobytes())
    print(f"wrote {out_dir}/{{summary,per_image,contact}}-{opts.backend}.*")

    if opts.section:
        date = datetime.date.today().isoformat()
        command = " ".join(["python bench/quality.py", _shown_path(opts.gt_dir)] + [
            a for a in (f"--backend {opts.backend}",
                        f"--weights {_shown_path(opts.weights)}" if opts.weights else "",
                        f"--render-size {opts.render_size}" if opts.render_size else "",
                        f"--limit {opts.limit}" if opts.limit else "",
                        f"--degrade {opts.degrade}" if opts.degrade is not None else "",
                        f"--hint-points {opts.hint_points}" if opts.hint_points else "",
                        f"--section '{opts.section}'") if a])
        section = (
            f"## Quality: {opts.section}\n\n"
            f"`{command}` ({date}).\n\n{what}. {timing}.\n\n"
            "Each truth photo's CIE L is saved as an 8-bit gray PNG and colorized by "
            "`pipeline.colorize_file` (the CLI's file-to-file path); the output is read back and "
            "scored against the truth. Gray baseline: the gray input itself (a = b = 0). PSNR: mean "
            "of per-photo PSNRs; SSIM: scikit-image, Gaussian window sigma 1.5, on RGB; AuC: share "
            "of pixels within ab distance t of the truth for t = 0..150, area normalised to 1 "
            "(Zhang et al. ECCV16).\n\n"
            f"{table}"
        )
        if failures:
            section += f"\n{len(failures)} photos failed: " + "; ".join(failures) + "\n"
        print(f"wrote {write_results_section(opts.section, section)}")

    if failures:
        print(f"quality: {len(failures)} photo(s) failed:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
