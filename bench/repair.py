"""Repair of damaged prints: detection and fill quality on damaged copies of
held-out photos, real detail left alone on clean photos, and the speed of a 12 MP
repair next to a 12 MP colorize, in one run.

Usage: python bench/repair.py DATASETS_DIR [--photos N] [--learned FILE] [--write]

Damage: ``core.repair.damage`` (light and dark scratches, specks, curved hairs,
creases) over each photo with film grain added; the truth is the grainy photo.
Photos: ``bsds500/val`` and ``camvid/val`` (validation splits of training parts;
neither the detector nor any choice saw them; never a ``test`` part). Clean
photos: the same photos undamaged, plus generated ones with fine real detail
(a spoked wheel, wires, text, stars on a night sky, fine hatching).

Figures per detector (classical; learned, with ``--learned``; the oracle = the
fill given the true mask; none = the damaged photo as it is): PSNR against the
undamaged photo over the whole photo and inside the damage, the share of pixels
away from the damage (more than 3 px) left within 3 levels, the share of the
damage found, and the share of each clean photo's pixels changed by more than 3
levels (mean and worst). ``--write`` puts them in the "## Repair" section of
bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

import cv2
import numpy as np

from benchlib import add_import_paths, cpu_name, load_average, write_results_section

add_import_paths()

from colorizer_gui.core.repair import fill_damage, repair_pixels, RepairSettings  # noqa: E402
from colorizer_gui.core.repair.damage import add_damage, add_grain  # noqa: E402
from colorizer_gui.core.repair.detect import detect_damage  # noqa: E402

SECTION = "## Repair"


def psnr(a: np.ndarray, b: np.ndarray, where: Optional[np.ndarray] = None) -> float:
    d = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(d[where] ** 2 if where is not None else d ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def held_out(datasets: Path, n: int) -> list[tuple[str, np.ndarray]]:
    files = sorted((datasets / "bsds500" / "val").glob("*.jpg"))[: (n + 1) // 2]
    files += sorted((datasets / "camvid" / "val").glob("*"))[:: 7][: n // 2]
    out = []
    for f in files:
        g = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        if g is not None:
            out.append((f"{f.parent.parent.name}/{f.name}", g))
    return out


def fine_detail_photos() -> list[tuple[str, np.ndarray]]:
    """Clean generated photos full of thin real detail a repair must not touch."""
    rng = np.random.default_rng(7)
    h, w = 600, 800
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = (110 + 50 * np.sin(xx / 90) * np.cos(yy / 70)).astype(np.float32)
    photos = []
    wheel = base.copy()
    for c in ((220, 380), (560, 380)):
        cv2.circle(wheel, c, 170, 25, 5, cv2.LINE_AA)
        for k in range(36):
            a = k * np.pi / 18
            cv2.line(wheel, c, (int(c[0] + 170 * np.cos(a)), int(c[1] + 170 * np.sin(a))), 35, 1, cv2.LINE_AA)
    photos.append(("generated/bicycle-spokes", wheel))
    wires = base.copy() + 40
    for k in range(5):  # power lines sagging between two poles
        pts = np.array([(x, 80 + 25 * k + 0.0004 * (x - 400) ** 2) for x in range(0, w, 8)], np.int32)
        cv2.polylines(wires, [pts], False, 30, 1, cv2.LINE_AA)
    cv2.line(wires, (60, 0), (60, h), 40, 7, cv2.LINE_AA)
    cv2.line(wires, (740, 0), (740, h), 40, 7, cv2.LINE_AA)
    photos.append(("generated/wires-and-poles", wires))
    text = np.full((h, w), 225, np.float32)
    for i, line in enumerate(["THE EVENING CHRONICLE", "Saturday, June 14, 1924", "Mayor opens the new bridge",
                              "at the harbour; crowds line", "the quay from dawn. Page 3.", "Weather: fair, 21 C"]):
        cv2.putText(text, line, (30, 70 + 80 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.0 if i else 1.3, 25,
                    1 if i > 1 else 2, cv2.LINE_AA)
    photos.append(("generated/printed-text", text))
    sky = np.full((h, w), 18, np.float32) + yy / h * 25
    for _ in range(160):  # stars: soft points, a few brighter
        x, y = rng.uniform(0, w), rng.uniform(0, h * 0.8)
        star = np.zeros((h, w), np.float32)
        cv2.circle(star, (int(x * 4), int(y * 4)), 4, rng.uniform(60, 230), -1, cv2.LINE_AA, shift=2)
        sky = np.maximum(sky, cv2.GaussianBlur(star, (0, 0), rng.uniform(0.5, 1.0)) * 1.6)
    photos.append(("generated/stars", sky))
    hatch = base.copy()
    for x in range(0, w, 6):  # fine fabric / hatching: regular thin lines
        cv2.line(hatch, (x, 100), (x + 200, 500), 60, 1, cv2.LINE_AA)
    photos.append(("generated/hatching", hatch))
    return [(name, add_grain(np.clip(p, 0, 255).astype(np.uint8), rng, 2.5)) for name, p in photos]


def evaluate(detectors: dict[str, Optional[Callable]], photos, clean_photos, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    rows = {name: {"psnr": [], "psnr_in": [], "far": [], "found": [], "clean": []} for name in detectors}
    rows["none"] = {"psnr": [], "psnr_in": [], "far": [], "found": [], "clean": []}
    for _name, gray in photos:
        clean = add_grain(gray, rng, float(rng.uniform(1.5, 4.0)))
        damaged, truth = add_damage(clean, rng)
        if not truth.any():
            continue
        far = ~cv2.dilate(truth.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
        strong = truth & (np.abs(damaged.astype(int) - clean.astype(int)) > 20)
        for name, det in detectors.items():
            mask = truth if det is None else det(damaged)
            out = fill_damage(damaged, mask)
            r = rows[name]
            r["psnr"].append(psnr(out, clean))
            r["psnr_in"].append(psnr(out, clean, truth))
            r["far"].append(float((np.abs(out.astype(int) - damaged.astype(int))[far] <= 3).mean()))
            r["found"].append(float(mask[strong].mean()) if strong.any() else 1.0)
        rows["none"]["psnr"].append(psnr(damaged, clean))
        rows["none"]["psnr_in"].append(psnr(damaged, clean, truth))
        rows["none"]["far"].append(1.0)
        rows["none"]["found"].append(0.0)
    for _name, gray in clean_photos:
        for name, det in detectors.items():
            if det is None:
                continue
            out = fill_damage(gray, det(gray))
            rows[name]["clean"].append(float((np.abs(out.astype(int) - gray.astype(int)) > 3).mean()))
    return rows


def compare_fills(photos, n: int = 8, seed: int = 0) -> str:
    """The fill given the true mask, by method: PSNR inside the damage against the
    undamaged photo, the grain kept (std of the fine detail, 1.5 px high-pass,
    inside the damage, over the truth's), and the time for the n photos."""
    rng = np.random.default_rng(seed)

    def fine(a: np.ndarray) -> np.ndarray:
        a = a.astype(np.float32)
        return a - cv2.GaussianBlur(a, (0, 0), 1.5)

    def fsr(d: np.ndarray, m: np.ndarray) -> np.ndarray:
        out = np.zeros_like(d)
        cv2.xphoto.inpaint(d, (~m).astype(np.uint8), out, cv2.xphoto.INPAINT_FSR_FAST)
        return out

    methods = {
        "Telea + grain matched to the ring (shipped, fill.py)": fill_damage,
        "Telea (cv2.inpaint), no grain": lambda d, m: cv2.inpaint(d, m.astype(np.uint8), 3, cv2.INPAINT_TELEA),
        "Navier-Stokes (cv2.inpaint), no grain": lambda d, m: cv2.inpaint(d, m.astype(np.uint8), 3, cv2.INPAINT_NS),
        "FSR fast (cv2.xphoto.inpaint), whole photo": fsr,
    }
    scores = {k: ([], [], 0.0) for k in methods}
    for _name, gray in photos[:n]:
        clean = add_grain(gray, rng, 3.0)
        damaged, truth = add_damage(clean, rng)
        ref = fine(clean)[truth].std()
        for k, fn in methods.items():
            t = time.perf_counter()
            out = fn(damaged, truth)
            p, g, s = scores[k]
            scores[k] = (p + [psnr(out, clean, truth)], g + [fine(out)[truth].std() / ref], s + time.perf_counter() - t)
    lines = ["| fill (true mask) | PSNR in damage (dB) | grain kept | time for the photos |", "|---|---:|---:|---:|"]
    for k, (p, g, s) in scores.items():
        lines.append(f"| {k} | {np.mean(p):.2f} | {np.mean(g):.2f} | {s:.2f} s |")
    return "\n".join(lines)


def fill_at_12mp(datasets: Path, n: int = 4, seed: int = 0) -> str:
    """The fill given the true mask on 12 MP scans (the large-photo path: tone
    filled at 1600 px, grain at full size): held-out photos brought to 4000x3000,
    grain, the generator's damage plus the finest marks a high-resolution scan
    shows (six 1 px hairs, 200 dust specks of 2x2 px). PSNR in the damage, on
    the fine marks alone, and on the whole photo."""
    rng = np.random.default_rng(seed)
    scores = []
    for f in sorted((datasets / "bsds500" / "val").glob("*.jpg"))[:n]:
        big = cv2.resize(cv2.imread(str(f), cv2.IMREAD_GRAYSCALE), (4000, 3000), interpolation=cv2.INTER_CUBIC)
        clean = add_grain(big, rng, 3.0)
        damaged, truth = add_damage(clean, rng)
        fine = np.zeros_like(truth)
        for _ in range(6):
            y, x0 = int(rng.integers(100, 2900)), int(rng.integers(0, 2000))
            fine[y, x0:x0 + 1500] = True
        for _ in range(200):
            y, x = int(rng.integers(0, 2999)), int(rng.integers(0, 3999))
            fine[y:y + 2, x:x + 2] = True
        damaged[fine] = np.clip(damaged[fine].astype(int) + 90, 0, 255).astype(np.uint8)
        truth |= fine
        out = fill_damage(damaged, truth)
        scores.append((psnr(out, clean, truth), psnr(out, clean, fine), psnr(out, clean)))
    inside, fine_only, whole = np.mean(scores, axis=0)
    return (f"Fill given the true mask at 12 MP ({len(scores)} photos): {inside:.2f} dB in the damage, "
            f"{fine_only:.2f} dB on the 1-2 px marks, {whole:.2f} dB whole.")


def make_12mp_scan(datasets: Path, folder: Path) -> Path:
    """A damaged 12 MP gray JPEG (4000x3000) made from a held-out photo."""
    g = cv2.imread(str(sorted((datasets / "bsds500" / "val").glob("*.jpg"))[0]), cv2.IMREAD_GRAYSCALE)
    big = cv2.resize(g, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(3)
    damaged, _truth = add_damage(add_grain(big, rng, 3.0), rng)
    src = folder / "scan12mp.jpg"
    cv2.imwrite(str(src), damaged, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return src


#: What each timed command does to a photo file, as the CLI does it.
SPEED_MODES = ("colorize", "repair", "repair (learned)")


def time_command(mode: str, src: Path, photos: int, learned: Optional[Path]) -> float:
    """Fastest of ``photos`` file-to-file runs of one command after a warm-up, in
    this process, set up as that command sets itself up (``colorize`` loads the
    cgan backend, which gives torch half the cores; ``repair`` loads only its
    detector and leaves torch as it is)."""
    os.environ.setdefault("COLORIZER_HOME", tempfile.mkdtemp(prefix="colorizer-bench-"))
    work = Path(tempfile.mkdtemp(prefix="repair-bench-"))
    if mode == "colorize":
        from colorizer_gui.backends import create_backend
        from colorizer_gui.core.pipeline import save_color_copy

        backend = create_backend("cgan", device="cpu")
        backend.load()
        run = lambda dest: save_color_copy(src, dest, backend)  # noqa: E731
    else:
        from colorizer_gui.core.repair.files import save_repaired_copy

        det = None
        if mode == "repair (learned)":
            from colorizer_gui.nets.damage_net import learned_detector

            det = learned_detector(learned)
        run = lambda dest: save_repaired_copy(src, dest, RepairSettings(), detector=det)  # noqa: E731
    run(work / "warm")
    times = []
    for i in range(photos):
        t = time.perf_counter()
        run(work / f"run{i}")
        times.append(time.perf_counter() - t)
    return min(times)


def time_12mp(datasets: Path, repeats: int, learned: Optional[Path]) -> dict[str, float]:
    """Seconds for a 12 MP photo: colorized to a file (cgan default, CPU) and
    repaired to a file, each command in fresh processes of its own (torch's
    threads are set per process, differently by each), interleaved ``repeats``
    times so load from other jobs hits all alike; the fastest of each."""
    src = make_12mp_scan(datasets, Path(tempfile.mkdtemp(prefix="repair-bench-")))
    modes = [m for m in SPEED_MODES if learned is not None or m != "repair (learned)"]
    times: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(repeats):
        for mode in modes:
            cmd = [sys.executable, __file__, "--time-command", mode, str(src)]
            if learned is not None:
                cmd += ["--learned", str(learned)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            times[mode].append(float(out.split()[-1]))
    return {m: min(v) for m, v in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", type=Path)
    ap.add_argument("--photos", type=int, default=24)
    ap.add_argument("--learned", type=Path, default=None, help="a damage-net safetensors file to compare")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--time-command", choices=SPEED_MODES, help=argparse.SUPPRESS)  # a child of time_12mp
    opts = ap.parse_args()
    if opts.time_command:  # here the positional argument is the photo to time
        print(time_command(opts.time_command, opts.datasets, 2, opts.learned))
        return 0
    detectors: dict[str, Optional[Callable]] = {"classical": lambda g: detect_damage(g)}
    if opts.learned is not None:
        from colorizer_gui.nets.damage_net import learned_detector

        det = learned_detector(opts.learned)
        detectors["learned"] = lambda g: det(g, 0.5)
        det_f = learned_detector(opts.learned, shape_filter=True)
        detectors["learned + classical family rules"] = lambda g: det_f(g, 0.5)
    detectors["oracle (true mask)"] = None
    photos = held_out(opts.datasets, opts.photos)
    clean_photos = fine_detail_photos() + photos
    t0 = time.monotonic()
    rows = evaluate(detectors, photos, clean_photos)
    lines = ["| fill with mask from | PSNR whole (dB) | PSNR in damage (dB) | away from damage unchanged | "
             "damage found | clean photos changed: mean / worst |", "|---|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        clean = f"{100 * np.mean(r['clean']):.2f}% / {100 * np.max(r['clean']):.2f}%" if r["clean"] else "-"
        label = "none (damaged photo)" if name == "none" else name
        lines.append(f"| {label} | {np.mean(r['psnr']):.2f} | {np.mean(r['psnr_in']):.2f} | "
                     f"{100 * np.mean(r['far']):.2f}% | {100 * np.mean(r['found']):.1f}% | {clean} |")
    worst = {}
    for name, r in rows.items():
        if r["clean"]:
            names = [n for n, _ in clean_photos]
            i = int(np.argmax(r["clean"]))
            worst[name] = f"{names[i]} {100 * r['clean'][i]:.2f}%"
    table = "\n".join(lines)
    print(table)
    print("worst clean photo:", worst, f"({time.monotonic() - t0:.0f} s)")
    fills = compare_fills(photos)
    print(fills)
    large = fill_at_12mp(opts.datasets)
    print(large)
    speed = ""
    if not opts.no_speed:
        t = time_12mp(opts.datasets, opts.repeats, opts.learned)
        ratio = t["repair"] / t["colorize"]
        speed = (f"\n12 MP gray JPEG (4000x3000), file to file (decode, repair, encode, atomic save), each command "
                 f"in its own process as the CLI runs it, fastest of {opts.repeats} interleaved runs: "
                 f"colorize (cgan default, CPU) {t['colorize']:.2f} s; "
                 f"repair, classical {t['repair']:.2f} s = **{ratio:.2f}x colorize**")
        if "repair (learned)" in t:
            speed += f"; repair, learned {t['repair (learned)']:.2f} s = **{t['repair (learned)'] / t['colorize']:.2f}x**"
        speed += " (target <= 2x)."
        print(speed)
    if opts.write:
        load = ", ".join(f"{x:.1f}" for x in load_average())
        body = (f"{SECTION}\n\n"
                f"`python bench/repair.py ../shared/datasets --photos {opts.photos}"
                f"{' --learned ' + str(opts.learned) if opts.learned else ''} --write` "
                f"({dt.date.today().isoformat()}, {cpu_name()}, load {load}; other jobs shared the CPU).\n\n"
                f"{len(photos)} held-out photos (bsds500/val, camvid/val) with synthetic damage over added grain; "
                f"{len(clean_photos)} clean photos ({len(clean_photos) - len(photos)} generated with spokes, wires, "
                f"text, stars, hatching; the held-out photos undamaged). Default sensitivity 0.5.\n\n"
                f"{table}\n\nWorst clean photo: {', '.join(f'{k}: {v}' for k, v in worst.items())}.\n{speed}\n\n"
                f"The fill on its own, given the true mask, on {min(8, len(photos))} of the photos "
                f"(grain kept: 1.00 = as much fine grain inside the damage as the undamaged photo has):\n\n"
                f"{fills}\n\n{large}\n")
        write_results_section(SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
