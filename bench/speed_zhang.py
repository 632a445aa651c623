"""Speed of the zhang backend (OpenCV DNN on CPU): seconds per photo end to end,
and the bare forward pass.

Usage: python bench/speed_zhang.py [--repeats N] [--no-write]

Writes a Zhang-shaped caffemodel with random weights (the speed of a fixed
224x224 Caffe net does not depend on the weight values), gray JPEGs of 1 MP
and 12 MP, and times ``pipeline.colorize_file`` per photo (decode, L, resize to
224x224, forward pass, ab upsampling, join with the full-resolution L, JPEG
encode, atomic save) after one warm-up photo, plus the bare 224x224 forward
pass. Results go into the "## Zhang backend speed" section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchlib import add_import_paths, gray_test_jpeg, load_average, machine_summary, timings, write_results_section

add_import_paths("tests")  # the random-weight model writer lives with the tests

SECTION = "## Zhang backend speed"
SIZES = {"1 MP": (864, 1152), "12 MP": (3000, 4000)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Zhang backend speed")
    parser.add_argument("--repeats", type=int, default=3, help="timed photos per size (default 3)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)

    import cv2

    from colorizer_gui.backends.zhang import ZhangBackend
    from colorizer_gui.core.pipeline import colorize_file
    from zhang_model import write_random_zhang_caffemodel

    with tempfile.TemporaryDirectory(prefix="speed-zhang-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        model = write_random_zhang_caffemodel(work / "random.caffemodel")
        write_s = time.perf_counter() - t0
        backend = ZhangBackend(weights=model)
        t0 = time.perf_counter()
        backend.load()
        load_s = time.perf_counter() - t0

        L = np.tile(np.linspace(0, 100, 224, dtype=np.float32), (224, 1))
        backend.predict_ab(L)
        forward = timings(lambda: backend.predict_ab(L), max(5, args.repeats))[1]

        rows = []
        for label, (h, w) in SIZES.items():
            src = gray_test_jpeg(work / f"gray_{label.replace(' ', '')}.jpg", h, w)
            out_dir = work / "out"
            out_dir.mkdir(exist_ok=True)
            colorize_file(src, out_dir, backend)  # warm-up
            median = timings(lambda: colorize_file(src, out_dir, backend), args.repeats)[1]
            rows.append((f"{label} ({w}x{h}) JPEG, load -> colorize -> save", median))
        rows.append(("bare forward pass, 224x224", forward))

    load_avg = load_average()[0]
    machine = (f"{machine_summary()}; OpenCV {cv2.__version__} DNN on CPU, "
               f"{cv2.getNumThreads()} threads; 1-min load average at the end {load_avg:.1f}")
    body = [SECTION, "",
            f"Machine: {machine}. Random-weight Zhang-shaped caffemodel (speed does not depend on weights);",
            f"median of {args.repeats} photos after a warm-up (forward pass: of {max(5, args.repeats)}). "
            f"Load (read 129 MB + check pass): {load_s:.2f} s; writing the random model: {write_s:.2f} s.",
            f"Measured {time.strftime('%Y-%m-%d')} with `python bench/speed_zhang.py`.",
            "", "| what | seconds per photo |", "|---|---|"]
    body += [f"| {what} | {sec:.3f} |" for what, sec in rows]
    text = "\n".join(body) + "\n"
    print(text)
    if not args.no_write:
        print(f"written to {write_results_section(SECTION, text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
