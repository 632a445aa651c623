"""Speed and memory, all in one run: every figure, its target, pass or fail.

    .venv/bin/python bench/run_all.py [--photos 100] [--repeats 3] [--no-startup] [--no-write]

Measures on this machine's CPU, interleaved so the ratios are fair even when
other jobs share the cores:

- network: the cgan generator (full-size lite0-unet, ImageNet encoder, random
  decoder) at its default render size vs the Zhang net (random-weight,
  Zhang-shaped Caffe model, as the tests build it); target cgan <= 1/5 zhang;
- latency: one 12 MP gray JPEG, ``pipeline.colorize_file`` end to end; what is
  not the network (decode, Lab, ab upsampling, merge, encode, EXIF, atomic save)
  vs a bare ``cv2.imread`` + ``cv2.imwrite`` of the same file; target <= 1.5x;
- batch: ``run_batch`` on N gray 3000x2000 JPEGs vs the network alone on the
  same photos; target >= 85% of the network's throughput; and vs the ceiling
  the machine allows (cores / CPU seconds of all stages of one photo), which
  says how well the stages overlap;
- memory: peak RSS (VmHWM) colorizing one 50 MP 8-bit JPEG and one 50 MP
  16-bit TIFF, one fresh process per case and backend; targets 1.5 GB / 2 GB;
- GUI launch to a usable window (bench/startup.py), target <= 2 s;
- fine-tuning: CPU images/s of the L1 training step at 128 and 256 px, and the
  data pipeline alone (it must be far faster than the step);
- seconds per photo at 1, 12 and 50 MP for each backend.

Prints one table and writes it to the "## Speed and memory (bench/run_all.py)"
section of bench/RESULTS.md (other sections are left alone).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchlib import (RESULTS, REPO, add_import_paths, gray_pixels, load_average, machine_summary, timings,
                      write_gray_jpeg, write_results_section)

add_import_paths("tests", "bench")

SECTION = "## Speed and memory (bench/run_all.py)"
MP50 = (5774, 8660)  # 50.0 MP, 3:2
GB = 1024 ** 3


# ----------------------------------------------------------------- test photos

def write_tiff16(path: Path, pixels8: np.ndarray) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), pixels8.astype(np.uint16) * np.uint16(257), [cv2.IMWRITE_TIFF_COMPRESSION, 5])
    return path


# ----------------------------------------------------------------- models

def make_models(work: Path) -> tuple[Path, Path]:
    """(zhang caffemodel, cgan safetensors) with random weights, written once."""
    import torch
    from zhang_model import write_random_zhang_caffemodel

    from colorizer_gui.nets import build_generator, save_generator

    zhang = write_random_zhang_caffemodel(work / "colorization_release_v2.caffemodel", seed=0)
    torch.manual_seed(0)
    model = build_generator("lite0-unet", pretrained=True)
    with torch.no_grad():  # realistic batch-norm statistics, as in a trained model
        model.train()
        model(torch.rand(4, 1, 256, 256) * 2 - 1)
    # The shipped model's training and render sizes, which set the default render size.
    cgan = save_generator(model.eval(), work / "bench-cgan.safetensors",
                          {"data_summary": "random (bench)", **shipped_render_metadata()})
    return zhang, cgan


def shipped_render_metadata() -> dict[str, str]:
    """``train_size`` and ``render_size`` of the bundled default cgan weights
    (training size 128 if they are missing)."""
    from colorizer_gui.nets.weights_io import read_metadata

    shipped = REPO / "weights" / "cgan-default.safetensors"
    meta = read_metadata(shipped) if shipped.is_file() else {}
    return {"train_size": meta.get("train_size") or "128", "render_size": meta.get("render_size", "")}


def make_backend(name: str, weights: Path):
    from colorizer_gui.backends import create_backend

    backend = create_backend(name, weights=weights, device="cpu")
    backend.load()
    return backend


class NetTimer:
    """Wraps ``backend.predict_ab`` to add up the time spent in the network."""

    def __init__(self, backend) -> None:
        self.backend, self.seconds = backend, 0.0
        self._predict = backend.predict_ab
        backend.predict_ab = self

    def __call__(self, lightness):
        start = time.perf_counter()
        try:
            return self._predict(lightness)
        finally:
            self.seconds += time.perf_counter() - start


# ----------------------------------------------------------------- measurements

def measure_network(backends: dict, repeats: int) -> dict:
    """Median seconds of one forward pass per backend, interleaved."""
    inputs = {"zhang": np.full((224, 224), 50.0, np.float32), "cgan": None}
    rng = np.random.default_rng(0)
    inputs["zhang"] = (rng.random((224, 224)) * 100).astype(np.float32)
    # Each at its default render size for a 4:3 photo (zhang always 224x224).
    inputs["cgan"] = (rng.random(backends["cgan"].render_shape(3000, 4000, None)) * 100).astype(np.float32)
    times: dict[str, list[float]] = {name: [] for name in backends}
    for name, backend in backends.items():
        backend.predict_ab(inputs[name])  # warm-up
    for _ in range(repeats):
        for name, backend in backends.items():
            start = time.perf_counter()
            backend.predict_ab(inputs[name])
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def measure_latency(backends: dict, src: Path, work: Path, repeats: int) -> dict:
    """Bare imread+imwrite vs colorize_file (total and network part), interleaved."""
    import cv2

    from colorizer_gui.core.pipeline import colorize_file

    bare, total = [], {name: [] for name in backends}
    net = {name: [] for name in backends}
    timers = {name: NetTimer(b) for name, b in backends.items()}
    for name, backend in backends.items():
        colorize_file(src, work / "warm", backend)
    for i in range(repeats):
        start = time.perf_counter()
        img = cv2.imread(str(src))
        cv2.imwrite(str(work / f"bare-{i}.jpg"), img)
        bare.append(time.perf_counter() - start)
        del img
        for name, backend in backends.items():
            timers[name].seconds = 0.0
            start = time.perf_counter()
            colorize_file(src, work / f"out-{name}", backend)
            total[name].append(time.perf_counter() - start)
            net[name].append(timers[name].seconds)
    for name, backend in backends.items():
        backend.predict_ab = timers[name]._predict
    out = {"bare": statistics.median(bare)}
    for name in backends:
        out[name] = {"total": statistics.median(total[name]), "net": statistics.median(net[name]),
                     "other": statistics.median([t - n for t, n in zip(total[name], net[name])])}
    return out


def measure_seconds_per_photo(backends: dict, src: Path, work: Path, repeats: int) -> dict:
    from colorizer_gui.core.pipeline import colorize_file

    out = {}
    for name, backend in backends.items():
        colorize_file(src, work / "warm1", backend)
        out[name] = timings(lambda: colorize_file(src, work / f"one-{name}", backend), repeats)[1]
    return out


def measure_batch(backends: dict, folder: Path, work: Path) -> dict:
    """Photos/minute of run_batch vs the network alone on the same photos."""
    from colorizer_gui.core import color
    from colorizer_gui.core.batch import run_batch
    from colorizer_gui.core.photo import load_photo

    from colorizer_gui.core import pipeline

    photos = sorted(folder.glob("*.jpg"))
    out = {}
    for name, backend in backends.items():
        # CPU seconds of each stage on a few photos, one by one: the work a batch
        # must get through, whatever it overlaps. cores / total = the ceiling.
        stages: dict[str, list[float]] = {"decode": [], "network": [], "merge_save": []}
        for src in photos[:5]:
            c0 = time.process_time()
            photo = load_photo(src)
            lightness = pipeline.photo_lightness(photo)
            c1 = time.process_time()
            ab = pipeline.predict_ab_for(lightness, backend)
            c2 = time.process_time()
            rgb = pipeline.merge_ab(lightness, ab, photo.pixels.dtype)
            pipeline.save_colorized(photo, rgb, work / f"stages-{name}", scratch=True, ab_shape=ab.shape[:2])
            c3 = time.process_time()
            for key, value in zip(stages, (c1 - c0, c2 - c1, c3 - c2)):
                stages[key].append(value)
        cpu = {key: statistics.median(v) for key, v in stages.items()}
        smalls = []
        for src in photos[:1]:  # every photo has the same size: one L at render size serves all
            lightness = color.lightness(load_photo(src).pixels)
            rh, rw = backend.render_shape(*lightness.shape, None)
            smalls.append(np.ascontiguousarray(color.resize_plane(lightness, rh, rw)))
        backend.predict_ab(smalls[0])
        start = time.perf_counter()
        for _ in photos:
            backend.predict_ab(smalls[0])
        net_s = time.perf_counter() - start
        start = time.perf_counter()
        result = run_batch([folder], work / f"batch-{name}", backend)
        batch_s = time.perf_counter() - start
        assert len(result.done) == len(photos), result.summary()
        out[name] = {"net_ppm": 60 * len(photos) / net_s, "batch_ppm": 60 * len(photos) / batch_s,
                     "cpu": cpu, "ceiling_ppm": 60 * (os.cpu_count() or 1) / sum(cpu.values())}
    return out


def memory_child(backend_name: str, weights: str, src: str, out: str) -> dict:
    """Runs in a fresh process: load the backend, colorize one photo, report peak RSS."""
    from colorizer_gui.core.pipeline import colorize_file

    backend = make_backend(backend_name, Path(weights))
    base = _status_kb("VmRSS")
    load_peak = _status_kb("VmHWM")
    # VmHWM, not ru_maxrss: after fork + exec, ru_maxrss still holds the parent's peak.
    try:
        Path("/proc/self/clear_refs").write_text("5")  # restart the peak at the current RSS
        cleared = True
    except OSError:
        cleared = False
    start = time.perf_counter()
    colorize_file(Path(src), Path(out), backend)
    seconds = time.perf_counter() - start
    photo_peak = _status_kb("VmHWM")
    return {"base_kb": base, "peak_kb": max(load_peak, photo_peak), "colorize_peak_kb": photo_peak,
            "cleared": cleared, "seconds": seconds}


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def run_child(args: list[str], timeout: float = 900) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[:2]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def training_child(sizes: list[int]) -> dict:
    import torch
    from speed_training import time_data, time_steps

    torch.set_num_threads(os.cpu_count() or 1)
    out = {}
    for size in sizes:
        out[str(size)] = {"step": time_steps(size, 8, "l1", 2, "cpu"), "loader": time_data(size)}
    return out


def measure_startup() -> float | None:
    """Median launch-to-usable-window seconds from bench/startup.py (no photos)."""
    try:
        proc = subprocess.run([sys.executable, str(REPO / "bench" / "startup.py"), "--runs", "3", "--no-write"],
                              capture_output=True, text=True, timeout=300, cwd=REPO)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in proc.stdout.splitlines():
        m = re.match(r"no photos \[(.*)\]", line.strip())
        if m:
            return statistics.median(float(v) for v in m.group(1).split(","))
    return None


def recorded_startup() -> float | None:
    text = RESULTS.read_text(encoding="utf-8")
    m = re.search(r"^\| no photos \| ([0-9.]+) \|", text, re.M)
    return float(m.group(1)) if m else None


# ----------------------------------------------------------------- report

def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100, help="photos in the batch run (3000x2000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per latency figure (median)")
    parser.add_argument("--net-repeats", type=int, default=7)
    parser.add_argument("--no-startup", action="store_true", help="reuse the GUI figure recorded in RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = memory_child(*rest) if kind == "memory" else training_child([int(s) for s in rest])
        print(json.dumps(result))
        return 0

    os.environ.setdefault("COLORIZER_HOME", tempfile.mkdtemp(prefix="colorizer-bench-"))
    began = time.time()
    load_start = load_average()
    work = Path(tempfile.mkdtemp(prefix="run-all-"))
    print(f"working in {work}", flush=True)
    zhang_w, cgan_w = make_models(work)
    backends = {"zhang": make_backend("zhang", zhang_w), "cgan": make_backend("cgan", cgan_w)}
    import cv2
    import torch

    photo12 = write_gray_jpeg(work / "p12.jpg", gray_pixels(3000, 4000))
    photo1 = write_gray_jpeg(work / "p1.jpg", gray_pixels(864, 1152))
    big = gray_pixels(*MP50)
    photo50 = write_gray_jpeg(work / "p50.jpg", big)
    tiff50 = write_tiff16(work / "p50.tif", big)
    del big
    batch_dir = work / "batch"
    base = gray_pixels(2000, 3000)
    rng = np.random.default_rng(1)
    for i in range(args.photos):
        shift = rng.integers(0, 3000)
        write_gray_jpeg(batch_dir / f"scan{i:03d}.jpg", np.roll(base, int(shift), axis=1))
    del base
    print("inputs written", flush=True)

    net = measure_network(backends, args.net_repeats)
    print("network", net, flush=True)
    lat = measure_latency(backends, photo12, work, args.repeats)
    print("latency", lat, flush=True)
    one_mp = measure_seconds_per_photo(backends, photo1, work, args.repeats)
    print("1 MP", one_mp, flush=True)
    bat = measure_batch(backends, batch_dir, work)
    print("batch", bat, flush=True)
    mem = {}
    for name, weights in (("zhang", zhang_w), ("cgan", cgan_w)):
        for label, src in (("8-bit JPEG", photo50), ("16-bit TIFF", tiff50)):
            mem[(name, label)] = run_child(["memory", name, str(weights), str(src), str(work / f"m-{name}")])
            print("memory", name, label, mem[(name, label)], flush=True)
    train = run_child(["training", "128", "256"])
    print("training", train, flush=True)
    startup = None if args.no_startup else measure_startup()
    startup_note = "measured now (3 launches, median)"
    if startup is None:
        startup, startup_note = recorded_startup(), "last figure recorded by bench/startup.py"
    load_end = load_average()

    rows: list[tuple[str, str, str, str]] = []  # what, measured, target, verdict
    ratio = net["cgan"] / net["zhang"]
    shape = "x".join(str(v) for v in backends["cgan"].render_shape(3000, 4000, None))
    rows.append((f"Network: cgan {shape} (its default render size for 4:3) vs zhang 224x224 forward pass (CPU)",
                 f"{net['cgan'] * 1000:.0f} ms vs {net['zhang'] * 1000:.0f} ms = 1/{1 / ratio:.1f}",
                 "<= 1/5", verdict(ratio <= 0.2)))
    for name in backends:
        r = lat[name]["other"] / lat["bare"]
        rows.append((f"Latency 12 MP JPEG, {name}: end to end {lat[name]['total']:.2f} s, network "
                     f"{lat[name]['net']:.2f} s; the rest vs bare imread+imwrite",
                     f"{lat[name]['other']:.3f} s vs {lat['bare']:.3f} s = {r:.2f}x", "<= 1.5x", verdict(r <= 1.5)))
    for name in backends:
        r = bat[name]["batch_ppm"] / bat[name]["net_ppm"]
        rows.append((f"Batch {args.photos} x 3000x2000 JPEG, {name}: photos/min, batch vs network alone",
                     f"{bat[name]['batch_ppm']:.1f} vs {bat[name]['net_ppm']:.1f} = {r:.0%}", ">= 85%",
                     verdict(r >= 0.85)))
    cores = os.cpu_count() or 1
    for name in backends:
        cpu, b = bat[name]["cpu"], bat[name]
        # The most any overlap can give: every core busy. When decoding and saving a
        # photo cost more CPU than the network, batch / network stays far below 1.
        rows.append((f"Batch, {name}: photos/min vs the {cores}-core ceiling (CPU seconds per photo: decode + L "
                     f"{cpu['decode']:.3f}, network {cpu['network']:.3f}, merge + save {cpu['merge_save']:.3f}; "
                     f"ceiling = {cores} / their sum = {b['ceiling_ppm'] / b['net_ppm']:.0%} of the network alone)",
                     f"{b['batch_ppm']:.1f} vs {b['ceiling_ppm']:.1f} = {b['batch_ppm'] / b['ceiling_ppm']:.0%}",
                     "(how well stages overlap)", "info"))
    for (name, label), m in mem.items():
        limit = 1.5 if label.startswith("8") else 2.0  # GiB
        peak = m["peak_kb"] * 1024 / GB
        rows.append((f"Peak RSS, one 50 MP gray {label}, {name} (process after loading the backend: "
                     f"{m['base_kb'] * 1024 / GB:.2f} GiB)", f"{peak:.2f} GiB", f"<= {limit} GiB",
                     verdict(peak <= limit)))
    rows.append((f"GUI launch to usable window ({startup_note})",
                 "n/a" if startup is None else f"{startup:.2f} s", "<= 2 s",
                 verdict(None if startup is None else startup <= 2.0)))
    for size, t in train.items():
        rows.append((f"Fine-tuning at {size} px, CPU: L1 train step (batch 8) vs data loader alone, images/s",
                     f"{t['step']:.1f} vs {t['loader']:.0f}", "loader faster", verdict(t["loader"] > t["step"])))
    for name in backends:
        rows.append((f"Seconds per photo, {name}, CPU: 1 MP / 12 MP / 50 MP (gray JPEG, end to end)",
                     f"{one_mp[name]:.2f} / {lat[name]['total']:.2f} / {mem[(name, '8-bit JPEG')]['seconds']:.2f}",
                     "(for choosing)", "info"))

    header = (f"Machine: {machine_summary()}; Python {platform.python_version()}, OpenCV {cv2.__version__} "
              f"({cv2.getNumThreads()} threads), torch {torch.__version__} ({torch.get_num_threads()} threads), "
              f"backends on CPU. Load average (1/5/15 min) at the start "
              f"{load_start[0]:.2f}/{load_start[1]:.2f}/{load_start[2]:.2f}, at the end "
              f"{load_end[0]:.2f}/{load_end[1]:.2f}/{load_end[2]:.2f}. Run took "
              f"{(time.time() - began) / 60:.1f} min on {time.strftime('%Y-%m-%d %H:%M')}. "
              "Ratios are measured side by side in the same run; absolute times vary with other jobs "
              "on the same cores. Medians of " f"{args.repeats} (latency) / {args.net_repeats} (network) runs. "
              "Models have random weights (speed does not depend on them): a Zhang-shaped Caffe model "
              "and a full-size lite0-unet (ImageNet encoder).")
    table = ["| what | measured | target | result |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    text = "\n".join([SECTION, "", header, ""] + table) + "\n"
    print()
    print(text)
    if not args.no_write:
        print(f"wrote {write_results_section(SECTION, text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
