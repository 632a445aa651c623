"""Score one model on many photo sets at once, clean and aged, in one table.

    python bench/quality_sets.py DATASETS [--weights FILE] [--sets test|val:FOLDER]
                                 [--degrade SEED] [--saturation X] [--section NAME] [--limit N]
                                 [--out DIR]

``DATASETS`` is the datasets folder (../shared/datasets). ``--sets test`` (the
default) scores every visible test part: bsds500/test, camvid/test, the
caltech_webfaces photos named in its TEST.txt and each newer kind's test/.
``--sets val:FOLDER`` scores each sub-folder of FOLDER instead (the validation
split made by scripts/make_training_mix.py: pick models on that, never on the
test parts). Each set goes through bench/quality.py's own path (the CLI's
``colorize_file``, file to file); with ``--degrade SEED`` the gray inputs are
also aged like old scans and a second column block reports them. Prints one
markdown table (gain over the gray copy per set, and the mean over sets);
``--section`` also writes it into bench/RESULTS.md; contact sheets go to
``--out`` (default bench/out/quality-sets/).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import cv2
import numpy as np

import benchlib
from benchlib import BENCH, write_atomic

benchlib.add_import_paths()

import quality  # noqa: E402
from colorizer_gui.backends import create_backend  # noqa: E402
from colorizer_gui.core.photo import find_photos  # noqa: E402

NEW_KINDS = ("clothing", "ccp_fashion", "houses", "caltech101", "pets", "birds", "flowers", "food",
             "cars", "sports", "weather")


def test_sets(root: Path) -> dict[str, list[Path]]:
    """name -> photos of every visible test part under the datasets folder ``root``."""
    sets: dict[str, list[Path]] = {}
    for name in ("bsds500", "camvid"):
        if (root / name / "test").is_dir():
            sets[name] = find_photos([root / name / "test"])
    faces = root / "caltech_webfaces"
    if (faces / "TEST.txt").is_file():
        names = [n.strip() for n in (faces / "TEST.txt").read_text().splitlines() if n.strip()]
        sets["caltech_webfaces"] = [faces / n for n in names if (faces / n).is_file()]
    for name in NEW_KINDS:
        if (root / name / "test").is_dir():
            sets[name] = find_photos([root / name / "test"])
    return sets


def folder_sets(folder: Path) -> dict[str, list[Path]]:
    """name -> photos of each sub-folder of ``folder`` (a validation split)."""
    return {sub.name: find_photos([sub]) for sub in sorted(folder.iterdir()) if sub.is_dir()}


def score_set(photos: list[Path], backend, degrade: Optional[int], sheet: Path,
              saturation: float = 1.0) -> dict[str, float]:
    """Gains of ours over gray and our own figures for one set (bench/quality.py's run)."""
    with tempfile.TemporaryDirectory(prefix="colorizer-qsets-") as tmp:
        rows, items, failures, _ = quality.run(photos, photos[0].parent, backend, None, Path(tmp),
                                               degrade, saturation=saturation)
    if failures:
        print(f"  {len(failures)} failed: {failures[:3]}", file=sys.stderr)
    avg = quality.averages(rows)
    ok, png = cv2.imencode(".png", cv2.cvtColor(quality.contact_sheet(items, "cgan"), cv2.COLOR_RGB2BGR))
    if ok:
        write_atomic(sheet, png.tobytes())
    ours, gray = avg["ours"], avg["gray"]
    return {"n": len(rows), "psnr_gray": gray["psnr"], "psnr": ours["psnr"],
            "dpsnr": ours["psnr"] - gray["psnr"], "dauc": 100 * (ours["auc"] - gray["auc"]),
            "dpsnr_colour": ours["psnr_colour"] - gray["psnr_colour"],
            "colour": ours["c_ratio_of_means"], "dl": ours["dl"], "gray_chroma": ours["gray_chroma"]}


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown: one row per set; columns per mode (clean, aged)."""
    modes = list(next(iter(results.values())).keys())
    # Aged inputs also get "dPSNR colour": against the truth's colours on the aged L, so
    # the aging of L itself (which the copy keeps, like the gray baseline) is left out.
    extra = {m: m != "clean" for m in modes}
    head = "| set | n | " + " | ".join(
        f"{m}: gray dB | {m}: dPSNR | {m}: dAuC pts | {m}: colourful | {m}: colour on gray | {m}: abs dL"
        + (f" | {m}: dPSNR colour" if extra[m] else "") for m in modes) + " |"
    lines = [head, "|" + " --- |" * (2 + sum(6 + extra[m] for m in modes))]
    for name, by_mode in results.items():
        cells = [name, str(int(next(iter(by_mode.values()))["n"]))]
        for m in modes:
            r = by_mode[m]
            cells += [f"{r['psnr_gray']:.2f}", f"{r['dpsnr']:+.2f}", f"{r['dauc']:+.2f}",
                      f"{r['colour']:.2f}", f"{r['gray_chroma']:.2f}", f"{r['dl']:.3f}"] + (
                [f"{r['dpsnr_colour']:+.2f}"] if extra[m] else [])
        lines.append("| " + " | ".join(cells) + " |")
    groups = {"**mean over sets**": list(results)}
    new = [name for name in results if name in NEW_KINDS]
    if new and len(new) < len(results):
        # The kinds v1 was never trained on: the older kinds' held-out photos flatter
        # any model grown from v1, so checkpoints are compared on these too.
        groups[f"mean over the {len(new)} newer kinds"] = new
    for label, names in groups.items():
        cells = [label, ""]
        for m in modes:
            vals = [results[name][m] for name in names]
            cells += ["", f"**{np.mean([v['dpsnr'] for v in vals]):+.2f}**",
                      f"**{np.mean([v['dauc'] for v in vals]):+.2f}**",
                      f"{np.mean([v['colour'] for v in vals]):.2f}",
                      f"{np.nanmean([v['gray_chroma'] for v in vals]):.2f}", f"{max(v['dl'] for v in vals):.3f} (max)"]
            if extra[m]:
                cells.append(f"{np.mean([v['dpsnr_colour'] for v in vals]):+.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    """Score the sets; print (and optionally record) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path)
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--sets", default="test", help="test, or val:FOLDER")
    parser.add_argument("--degrade", type=int, metavar="SEED", help="also score aged inputs")
    parser.add_argument("--limit", type=int, help="at most N photos per set")
    parser.add_argument("--temperature", type=float, help="vividness of a class-head model (0.05-1)")
    parser.add_argument("--saturation", type=float, default=1.0,
                        help="the CLI's --saturation: scale the predicted colours (1 = as predicted)")
    parser.add_argument("--section", metavar="NAME")
    parser.add_argument("--out", type=Path, default=BENCH / "out" / "quality-sets")
    opts = parser.parse_args(argv)

    if opts.sets == "test":
        sets = test_sets(opts.datasets)
    elif opts.sets.startswith("val:"):
        sets = folder_sets(Path(opts.sets[4:]))
    else:
        parser.error("--sets is test or val:FOLDER")
    sets = {k: (v[:opts.limit] if opts.limit else v) for k, v in sets.items() if v}
    options = {} if opts.temperature is None else {"temperature": opts.temperature}
    backend = create_backend("cgan", weights=opts.weights, device="cpu", **options)
    backend.load()
    modes = {"clean": None} | ({"aged": opts.degrade} if opts.degrade is not None else {})
    results: dict[str, dict[str, dict[str, float]]] = {}
    start = time.perf_counter()
    tag = (opts.weights.stem if opts.weights else "default") + (
        f"-t{opts.temperature:g}" if opts.temperature is not None else "") + (
        f"-s{opts.saturation:g}" if opts.saturation != 1.0 else "")
    for name, photos in sets.items():
        results[name] = {}
        for mode, seed in modes.items():
            sheet = opts.out / tag / f"{name}-{mode}.png"
            results[name][mode] = score_set(photos, backend, seed, sheet, opts.saturation)
            r = results[name][mode]
            print(f"{name} {mode}: dPSNR {r['dpsnr']:+.2f} dAuC {r['dauc']:+.2f} "
                  f"colour {r['colour']:.2f} on gray {r['gray_chroma']:.2f} |dL| {r['dl']:.3f}", flush=True)
    text = table(results)
    what = (f"weights {quality.weights_note(opts.weights)}, render size {backend.default_render_size}, "
            + (f"temperature {opts.temperature:g}, " if opts.temperature is not None else "")
            + (f"saturation {opts.saturation:g}, " if opts.saturation != 1.0 else "") +
            f"sets `{opts.sets}`" + (f", aged inputs seed {opts.degrade}" if opts.degrade is not None else "")
            + f"; {time.perf_counter() - start:.0f} s on {os.cpu_count()} cores")
    print(f"\n{what}\n\n{text}")
    write_atomic(opts.out / tag / "table.md", f"{what}\n\n{text}".encode())
    if opts.section:
        body = (f"## Quality: {opts.section}\n\n`python bench/quality_sets.py` ({what}).\n\n"
                "dPSNR and dAuC: ours minus the gray copy (AuC in points of 100); colourful: "
                "colourfulness as a ratio of the truth's (set means); colour on gray: mean CIELAB chroma "
                "of ours where the truth is gray (chroma under 5: stone, asphalt, fur, overcast "
                "sky; 0 is best, the gray copy's); abs dL: mean |output L - input "
                "L|. Aged: each gray input aged like an old scan (training/degrade.py, fixed seed), "
                "the gray baseline aged the same way; aged dPSNR colour: the same gain measured "
                "against the truth's colours on the aged L (what a colorizer that keeps the "
                "photo's lightness can reach), so the aging of L itself is left out.\n\n" + text)
        quality.write_results_section(opts.section, body)
    return 0 if all(not math.isnan(r["dpsnr"]) for m in results.values() for r in m.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
