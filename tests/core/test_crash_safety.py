"""Power cut / kill -9 at random moments: a batch never leaves a truncated or
half-written output under a final name, and a rerun with --skip-existing finishes
the rest; a training run always keeps a checkpoint that loads, and --resume
completes and exports.

The kill moments are random but seeded (reproducible), drawn either blindly in
time or right when a file is being written, where a crash hurts most.
"""
from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import pytest
from PIL import Image, ImageFile

from photo_factory import color_scene, gray_scene, make_jpeg, make_png

REPO = Path(__file__).resolve().parents[2]
TEMP_NAME = re.compile(r"^\.colorizer-[0-9a-f]{12}\.partial$")


def _env() -> dict:
    return dict(os.environ, PYTHONIOENCODING="utf-8", OMP_NUM_THREADS="2")


def _start(*args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "colorizer_gui", *map(str, args)], cwd=REPO, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, encoding="utf-8", errors="replace")


def _kill_when(proc: subprocess.Popen, ready: Callable[[], bool], delay: float, limit: float) -> bool:
    """Wait until ``ready()`` (or the process ends, or ``limit`` s), then ``delay`` s, then SIGKILL.

    Returns True when the process was killed, False when it had already finished."""
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline and not ready():
        time.sleep(0.003)
    time.sleep(delay)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return True


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny_cgan(tmp_path_factory) -> Path:
    tiny = pytest.importorskip("tiny_cgan")
    return tiny.make_tiny_generator_file(tmp_path_factory.mktemp("cgan") / "tiny.safetensors")


# --------------------------------------------------------------------------- colorize

def _check_outputs(out: Path, sizes: dict[str, tuple[int, int]]) -> dict[str, int]:
    """Every file in ``out`` is either a whole output of a known photo or a hidden temp file."""
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    per_source: dict[str, int] = {}
    if not out.exists():
        return per_source
    for path in out.iterdir():
        if path.name == ".colorizer-copies":  # the list of copies Colorizer wrote here
            continue
        if path.name.startswith("."):
            assert TEMP_NAME.match(path.name), f"unexpected hidden file {path.name}"
            continue
        stem = re.sub(r"_color(-\d+)?$", "", path.stem)
        assert stem in sizes, f"unexpected file {path.name}"
        with Image.open(path) as im:
            im.load()  # raises on a truncated or damaged file
            assert im.size == sizes[stem], path.name
        per_source[stem] = per_source.get(stem, 0) + 1
    return per_source


def test_kill_9_during_a_batch_never_leaves_a_broken_output(tmp_path, tiny_cgan):
    album = tmp_path / "album"
    sizes = {}
    for i in range(10):
        h, w = 240 + 8 * i, 320
        if i % 2:
            make_jpeg(album / f"scan{i}.jpg", gray_scene(h, w, seed=i))
        else:
            make_png(album / f"scan{i}.png", gray_scene(h, w, seed=i))
        sizes[f"scan{i}"] = (w, h)
    originals = {p.name: _sha(p) for p in album.iterdir()}
    out = tmp_path / "out"
    rng = random.Random(1234)
    args = ("colorize", album, "-o", out, "--backend", "cgan", "--weights", tiny_cgan, "--device", "cpu",
            "--skip-existing")
    kills = 0
    started = time.monotonic()
    for trial in range(10):
        if time.monotonic() - started > 75:
            break  # bounded time on a slow machine; the rerun below still checks everything
        before = {p.name for p in out.iterdir()} if out.exists() else set()

        def writing() -> bool:  # a temp file or a new output appeared: the writer is busy
            return out.exists() and any(p.name not in before for p in out.iterdir())

        proc = _start(*args)
        if trial % 2:
            killed = _kill_when(proc, writing, rng.uniform(0.0, 0.08), limit=60)
        else:
            killed = _kill_when(proc, lambda: False, 0.0, limit=rng.uniform(1.5, 5.0))
        if not killed:
            proc.communicate(timeout=30)
        else:
            proc.communicate(timeout=30)
            kills += 1
        counts = _check_outputs(out, sizes)
        assert all(n == 1 for n in counts.values()), counts  # reruns never duplicate
        assert {p.name: _sha(p) for p in album.iterdir()} == originals
        if len(counts) == len(sizes):  # all done already: start over so later kills land in work
            shutil.rmtree(out)
    print(f"batch: {kills} kills in {trial + 1} runs")
    assert kills >= 4

    # Temp files that killed runs left are deleted by the next run; one a live save
    # holds locked (another window's, say) is left alone.
    import fcntl

    out.mkdir(exist_ok=True)
    live = out / ".colorizer-0123456789ab.partial"
    live.write_bytes(b"\xff\xd8\xff a save in progress")
    left = out / ".colorizer-ba9876543210.partial"
    left.write_bytes(b"\xff\xd8\xff half a jpeg")
    seconds_ago = time.time() - 30
    for path in (live, left):
        os.utime(path, (seconds_ago, seconds_ago))
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        final = subprocess.run([sys.executable, "-m", "colorizer_gui", *map(str, args)], cwd=REPO, env=_env(),
                               capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert final.returncode == 0, final.stderr
    assert "Colorized" in final.stdout and "of 10 photos" in final.stdout
    counts = _check_outputs(out, sizes)
    assert counts == {stem: 1 for stem in sizes}  # every input has exactly one output
    assert {p.name: _sha(p) for p in album.iterdir()} == originals
    assert live.exists() and not left.exists()


# --------------------------------------------------------------------------- training

def _last_checkpoint_loads(run_dir: Path, total: int) -> Optional[int]:
    """The step of the checkpoint in ``run_dir`` (None if there is none yet); it must load."""
    from training.checkpoint import CHECKPOINT_NAME, load_checkpoint

    path = run_dir / CHECKPOINT_NAME
    if not path.exists():
        return None
    state = load_checkpoint(path)
    assert 0 <= int(state["step"]) <= total
    return int(state["step"])


def test_kill_9_during_training_keeps_a_loadable_checkpoint_and_resume_finishes(tmp_path):
    from colorizer_gui.nets.weights_io import load_generator

    data = tmp_path / "photos"
    for i in range(12):  # 4 held out, 8 to train: 2 steps an epoch at batch 4
        make_jpeg(data / f"c{i:02d}.jpg", color_scene(64, 80, seed=i))
    run_dir, model = tmp_path / "run", tmp_path / "M.safetensors"
    args = ["train", data, "--out", model, "--init", "scratch", "--size", "32", "--batch-size", "4",
            "--l1-epochs", "4", "--gan-epochs", "4", "--checkpoint-every", "1", "--eval-every", "100",
            "--workers", "0", "--device", "cpu", "--seed", "0", "--progress-json", "--run-dir", run_dir]
    total = 16  # enough steps that a fast, idle machine cannot finish before the kills
    rng = random.Random(99)
    steps_seen: list[int] = []

    def start(resume: bool) -> tuple[subprocess.Popen, list[str]]:
        proc = _start(*args, *(["--resume"] if resume else []))
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
        return proc, lines

    def saving() -> bool:  # a checkpoint is being written right now
        return any(p.name.startswith(".checkpoint.safetensors-") for p in run_dir.glob(".*"))

    kills = 0
    for trial in range(3):
        step = _last_checkpoint_loads(run_dir, total)
        proc, lines = start(resume=step is not None)
        if trial == 0:  # a blind moment once it has started: start-up, scan or the first steps
            killed = _kill_when(proc, lambda: bool(lines), rng.uniform(0.0, 2.0), limit=60)
        elif trial == 1:  # in the middle of writing a checkpoint
            killed = _kill_when(proc, saving, rng.uniform(0.0, 0.05), limit=60)
        else:  # right after a training step was reported
            killed = _kill_when(proc, lambda: any('"stage": "l1"' in x or '"stage": "gan"' in x for x in lines),
                                rng.uniform(0.0, 0.5), limit=60)
        proc.communicate(timeout=60)
        kills += killed
        step = _last_checkpoint_loads(run_dir, total)  # the last checkpoint always loads
        steps_seen.append(-1 if step is None else step)
        if model.exists():  # an exported model is never half-written either
            load_generator(model)
        stray = [p.name for p in (run_dir.iterdir() if run_dir.exists() else []) if "checkpoint" in p.name and p.name != "checkpoint.safetensors"
                 and not re.match(r"^\.checkpoint\.safetensors-\w+\.tmp$", p.name)]
        assert not stray, stray  # temp files are hidden (dot names) and never mistaken for it
    assert kills >= 2, steps_seen

    step = _last_checkpoint_loads(run_dir, total)
    proc, lines = start(resume=step is not None)
    _out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    assert _last_checkpoint_loads(run_dir, total) == total
    # Temp files of checkpoints killed mid-write are cleaned once a new one is saved.
    assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    generator, meta = load_generator(model)
    assert meta["arch"] == "lite0-unet" and meta["train_size"] == "32"
    assert steps_seen == sorted(steps_seen)  # a rerun never went back further than its checkpoint
