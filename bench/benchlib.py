"""Helpers shared by the bench scripts: import paths, the machine description, a
gray test photo, timing, and writing one section of bench/RESULTS.md.

Each bench script owns one "## ..." section of RESULTS.md and replaces only
that section, so scripts run at different times never overwrite each other.
"""
from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "RESULTS.md"
NEW_RESULTS = "# Benchmark results\n"  # what a missing RESULTS.md starts as


# ----------------------------------------------------------------- imports

def add_import_paths(*folders: str) -> None:
    """Make the repository (``colorizer_gui``, ``training``) importable, plus the
    named repository folders (e.g. ``"tests"`` for the random-model writers)."""
    for path in [REPO, *(REPO / f for f in folders)]:
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


# ----------------------------------------------------------------- machine

def cpu_name() -> str:
    """The CPU model ("AMD EPYC ...") from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15-minute load averages (NaN where the OS has none): other jobs
    on the same cores slow wall times down, so results say how busy the machine was."""
    if hasattr(os, "getloadavg"):
        try:
            return os.getloadavg()
        except OSError:
            pass
    return (math.nan, math.nan, math.nan)


def machine_summary() -> str:
    """CPU model and core count, e.g. "AMD EPYC, 2 cores"."""
    return f"{cpu_name()}, {os.cpu_count()} cores"


# ----------------------------------------------------------------- test photos

def gray_pixels(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A photo-like gray scan (uint8, height x width): smooth shapes plus grain, so
    JPEG decoding and encoding do realistic work. ``seed`` varies shapes and grain."""
    rng = np.random.default_rng(seed)
    ys = np.arange(height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    base = 120 + 60 * np.sin(xs / (width / 7) + seed) * np.cos(ys / (height / 5)) + 30 * np.sin((xs + ys) / 37)
    noise = rng.normal(0, 8, (height, width)).astype(np.float32)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def write_gray_jpeg(path: Path, pixels: np.ndarray, quality: int = 92) -> Path:
    """Save gray ``pixels`` as a JPEG at ``path`` (parent folders made as needed)."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), pixels, [cv2.IMWRITE_JPEG_QUALITY, quality]):
        raise OSError(f"could not write {path}")
    return path


def gray_test_jpeg(path: Path, height: int, width: int, seed: int = 0) -> Path:
    """Write a photo-like gray JPEG of ``width`` x ``height`` (see ``gray_pixels``)."""
    return write_gray_jpeg(path, gray_pixels(height, width, seed))


# ----------------------------------------------------------------- timing

def timings(fn: Callable[[], object], repeats: int) -> tuple[float, float, float]:
    """(fastest wall s, median wall s, median process CPU s) over ``repeats`` calls of ``fn``.

    The fastest run is the best estimate on a machine shared with other jobs;
    CPU seconds count the work of all this process's threads."""
    walls, cpus = [], []
    for _ in range(max(1, repeats)):
        cpu0, start = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu0)
    return min(walls), statistics.median(walls), statistics.median(cpus)


# ----------------------------------------------------------------- RESULTS.md

def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temp file beside ``path``, then rename it over ``path``, so a
    reader never sees half a file. An existing file keeps its permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644  # mkstemp makes 0600; a results file is for everyone to read
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def replace_section(document: str, heading: str, body: str) -> str:
    """``document`` with the section under the line ``heading`` (up to the next "## "
    line) replaced by ``body``, or ``body`` appended when there is no such section.

    ``body`` includes the heading line; it is ended with exactly one newline, and a
    blank line separates it from the section after it. Other sections keep every byte."""
    body = body.rstrip("\n") + "\n"
    lines = document.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        return document.rstrip("\n") + "\n\n" + body
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    rest = "".join(lines[end:])
    return "".join(lines[:start]) + body + ("\n" + rest if rest else "")


def write_results_section(heading: str, body: str, results: Path = RESULTS) -> Path:
    """Replace (or append) the ``heading`` section of ``results`` with ``body``
    (which starts with the heading line), atomically, leaving the other sections
    alone. Returns the path written."""
    results = Path(results)
    old = results.read_text(encoding="utf-8") if results.exists() else NEW_RESULTS
    return write_atomic(results, replace_section(old, heading, body).encode("utf-8"))


def start_xvfb(screen: str = "1280x800", first: int = 90) -> tuple["subprocess.Popen", str]:
    """Start Xvfb (``WIDTHxHEIGHT``, 24 bit) on a free display from ``first`` on;
    return (process, ":N"). The caller points DISPLAY at it and kills it."""
    import subprocess

    for number in range(first, first + 60):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", f"{screen}x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                return proc, f":{number}"
            time.sleep(0.05)
        proc.kill()
    raise RuntimeError("could not start Xvfb (is the xvfb package installed?)")
