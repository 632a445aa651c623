"""Train the learned damage detector (``colorizer_gui/nets/damage_net.py``) on
damage synthesized over clean photos (``core.repair.damage``), on the CPU.

    python -m training.repair_detector --data DIR [DIR...] --run runs/repair-det \
        --minutes 25 --out weights/repair-detector.safetensors

The shipped file's recipe, with D=../shared/datasets and
DATA="$D/bsds500/train $D/camvid/train $D/caltech_webfaces $D/weather/train $D/houses/train $D/sports/train"
(five runs in one run folder, each resuming where the last stopped):

    python -m training.repair_detector --data $DATA --per-folder 300 --run runs/repair-det --minutes 8
    python -m training.repair_detector --data $DATA --per-folder 300 --run runs/repair-det --minutes 17 \
        --hard-negatives 0.35
    python -m training.repair_detector --data $DATA --per-folder 300 --run runs/repair-det --minutes 51 \
        --lr 3e-4 --hard-negatives 0.5
    python -m training.repair_detector --data $DATA --per-folder 300 --run runs/repair-det --steps 8400 \
        --lr 3e-4 --lr-end 1e-5 --hard-negatives 0.5
    python -m training.repair_detector --data $DATA --per-folder 300 --run runs/repair-det --steps 11000 \
        --lr 2e-4 --lr-end 1e-5 --new-schedule --hard-negatives 0.5 --out weights/repair-detector.safetensors

On 2 CPU cores: steps 0-500, 500-863, 863-4867, 4867-8400 and 8400-11000 (the first three runs
stop by wall-clock time, so the step counts are what reproduces them; the file
records its own). Steps 500-863 drew fans of 12-47 spokes and no rims or frames,
and steps 863-1500 no rims or frames: those hard negatives (``add_real_lines``
kinds 5 and 6) came in at step 1500. The last two runs' rates fall along half
cosines, from 3e-4 and then (a warm restart) from 2e-4, to 1e-5.

Photos come from the given folders (never a benchmark ``test`` part); the run
folder keeps ``last.safetensors`` and ``state.json`` so a stopped run resumes
where it was (the optimizer restarts). The encoder starts from the bundled
colorizer's, which already knows old gray photos.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch.nn import functional as F

from colorizer_gui.core.atomic import atomic_write
from colorizer_gui.core.repair.damage import DamageAmount, add_damage, add_grain
from colorizer_gui.nets.damage_net import DamageNet, load_encoder_from_generator

CROP = 160
#: More marks than a typical print so every crop teaches something.
TRAIN_DAMAGE = DamageAmount(light_scratches=8, dark_scratches=4, specks=200, hairs=6, creases=3)


def list_photos(folders: list[Path], per_folder: int, seed: int) -> list[Path]:
    """Up to ``per_folder`` photos of each folder (searched recursively; a
    ``TEST.txt`` beside them names benchmark files, which are left out)."""
    rng = random.Random(seed)
    found: list[Path] = []
    for folder in folders:
        test_names: set[str] = set()
        for listed in list(folder.glob("TEST.txt")) + list(folder.parent.glob("TEST.txt")):
            test_names |= set(listed.read_text().split())
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
                       and p.name not in test_names and "test" not in p.parts)
        rng.shuffle(files)
        found += files[:per_folder]
    return found


def load_gray(path: Path) -> np.ndarray | None:
    g = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if g is None:
        return None
    if min(g.shape) < CROP:
        f = CROP / min(g.shape)
        g = cv2.resize(g, (max(CROP, round(g.shape[1] * f)), max(CROP, round(g.shape[0] * f))),
                       interpolation=cv2.INTER_CUBIC)
    return g


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;:-"


def add_real_lines(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thin REAL detail a detector must leave alone, drawn into a clean crop: a fan
    of spokes, a family of wires, printed text, hatching, soft star points, rims
    and outlines (wheels, plates, hat brims: circles and ellipses, often thicker
    than a scratch) or frames (windows, doors, pictures: the parallel straight
    edges of a rectangle) (hard negatives: without them a net takes every thin
    line for a scratch)."""
    img = crop.astype(np.float32)
    h, w = img.shape
    tone = float(rng.choice([rng.uniform(0, 60), rng.uniform(190, 255)]))
    kind = rng.integers(7)
    if kind == 0:
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        r, n = rng.uniform(40, 200), int(rng.integers(12, 96))
        a0 = rng.uniform(0, np.pi)
        for k in range(n):
            a = a0 + k * 2 * np.pi / n
            cv2.line(img, c, (int(c[0] + r * np.cos(a)), int(c[1] + r * np.sin(a))), tone, 1, cv2.LINE_AA)
    elif kind == 1:
        y0, gap, sag = rng.uniform(0, h), rng.uniform(5, 25), rng.uniform(-0.004, 0.004)
        for k in range(int(rng.integers(2, 7))):
            pts = np.array([(x, y0 + gap * k + sag * (x - w / 2) ** 2) for x in range(0, w, 6)], np.int32)
            cv2.polylines(img, [pts], False, tone, 1, cv2.LINE_AA)
    elif kind == 2:
        for k in range(int(rng.integers(1, 5))):
            text = "".join(rng.choice(list(_LETTERS), int(rng.integers(5, 20))))
            cv2.putText(img, text, (int(rng.uniform(-20, w / 2)), int(rng.uniform(15, h))),
                        int(rng.choice([0, 1, 2, 3, 4, 6, 7])), float(rng.uniform(0.3, 1.2)), tone,
                        int(rng.integers(1, 3)), cv2.LINE_AA)
    elif kind == 3:
        step, dx = rng.uniform(4, 12), rng.uniform(-80, 80)
        for x in np.arange(-100, w + 100, step):
            cv2.line(img, (int(x), 0), (int(x + dx), h), tone, 1, cv2.LINE_AA)
    elif kind == 5:
        for _ in range(int(rng.integers(1, 4))):
            centre = (int(rng.uniform(-w / 2, 1.5 * w) * 4), int(rng.uniform(-h / 2, 1.5 * h) * 4))
            radius = rng.uniform(30, 260)
            axes = (int(radius * 4), int(radius * rng.uniform(0.4, 1.0) * 4))
            cv2.ellipse(img, centre, axes, rng.uniform(0, 180), 0, 360, tone, int(rng.integers(2, 9)),
                        cv2.LINE_AA, shift=2)
    elif kind == 6:
        x0, y0 = rng.uniform(-w / 2, w), rng.uniform(-h / 2, h)
        x1, y1 = x0 + rng.uniform(40, 2 * w), y0 + rng.uniform(40, 2 * h)
        width = int(rng.integers(2, 6))
        for inset in range(int(rng.integers(1, 3))):  # a frame and often its inner edge
            d = inset * rng.uniform(4, 12)
            cv2.rectangle(img, (int(x0 + d), int(y0 + d)), (int(x1 - d), int(y1 - d)), tone, width, cv2.LINE_AA)
    else:
        for _ in range(int(rng.integers(10, 60))):
            star = np.zeros((h, w), np.float32)
            cv2.circle(star, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), 1, 1.0, -1, cv2.LINE_AA)
            star = cv2.GaussianBlur(star, (0, 0), rng.uniform(0.5, 1.0))
            star /= max(float(star.max()), 1e-6)
            img = img * (1 - star) + star * rng.uniform(150, 255)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def sample(gray: np.ndarray, rng: np.random.Generator, hard_negatives: float = 0.0
           ) -> tuple[np.ndarray, np.ndarray]:
    """A damaged crop and its mask (float32, [0, 1])."""
    h, w = gray.shape
    y, x = rng.integers(0, h - CROP + 1), rng.integers(0, w - CROP + 1)
    crop = gray[y:y + CROP, x:x + CROP]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    # Faded and low-contrast prints too.
    if rng.random() < 0.3:
        lo, hi = rng.uniform(0, 60), rng.uniform(190, 255)
        crop = (lo + crop.astype(np.float32) * (hi - lo) / 255).astype(np.uint8)
    crop = np.ascontiguousarray(crop)
    if rng.random() < hard_negatives:
        crop = add_real_lines(crop, rng)
    crop = add_grain(crop, rng, float(rng.uniform(0.5, 6.0)))
    if rng.random() < 0.15:  # clean crops: the detector must learn to leave them alone
        return crop.astype(np.float32) / 255, np.zeros(crop.shape, np.float32)
    # add_damage counts marks per reference print (800x600): scale them up to this crop.
    damaged, mask = add_damage(crop, rng, TRAIN_DAMAGE)
    return damaged.astype(np.float32) / 255, mask.astype(np.float32)


def cosine_rate(start: float, end: float, step: int, steps: int) -> float:
    """The learning rate at ``step`` of ``steps``: a half cosine from ``start`` to ``end``."""
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / max(1, steps)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.repair_detector")
    ap.add_argument("--data", type=Path, nargs="+", required=True)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--minutes", type=float, default=25.0)
    ap.add_argument("--steps", type=int, default=None,
                    help="stop at this step (counted over the run folder's runs) instead of by --minutes")
    ap.add_argument("--per-folder", type=int, default=400)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-end", type=float, default=None,
                    help="with --steps: the rate falls along a half cosine from --lr to this by the last step "
                         "(a stopped run resumes on the same curve)")
    ap.add_argument("--new-schedule", action="store_true",
                    help="with --lr-end: the cosine starts again at this run's first step (a warm restart) "
                         "instead of going on along the run folder's")
    ap.add_argument("--init", type=Path, default=Path("weights/cgan-default.safetensors"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--hard-negatives", type=float, default=0.0,
                    help="share of crops given real thin detail (spokes, wires, text, hatching, stars)")
    opts = ap.parse_args(argv)
    if opts.lr_end is not None and opts.steps is None:
        ap.error("--lr-end needs --steps (the schedule is set by the step count)")
    torch.set_num_threads(opts.threads)
    opts.run.mkdir(parents=True, exist_ok=True)
    net = DamageNet()
    state_path, last = opts.run / "state.json", opts.run / "last.safetensors"
    step, schedule_from = 0, None
    if last.is_file():
        net.load_state_dict(load_file(str(last)))
        state = json.loads(state_path.read_text())
        step, schedule_from = state["step"], state.get("schedule_from")
        print(f"resumed at step {step}", flush=True)
    elif opts.init.is_file():
        print(f"encoder from {opts.init}: {load_encoder_from_generator(net, load_file(str(opts.init)))} tensors",
              flush=True)
    photos = [g for g in (load_gray(p) for p in list_photos(opts.data, opts.per_folder, 0)) if g is not None]
    print(f"{len(photos)} photos", flush=True)
    rng = np.random.default_rng(step + 1)
    opt = torch.optim.AdamW(net.parameters(), lr=opts.lr, weight_decay=1e-4)
    pos_weight = torch.tensor(4.0)
    started = time.monotonic()
    net.train()
    ema = None
    if opts.lr_end is not None and (schedule_from is None or opts.new_schedule):
        schedule_from = step
    while (step < opts.steps) if opts.steps is not None else (time.monotonic() - started < opts.minutes * 60):
        if opts.lr_end is not None:
            for group in opt.param_groups:
                group["lr"] = cosine_rate(opts.lr, opts.lr_end, step - schedule_from, opts.steps - schedule_from)
        xs, ys = zip(*(sample(photos[rng.integers(len(photos))], rng, opts.hard_negatives) for _ in range(opts.batch)))
        x = torch.from_numpy(np.stack(xs))[:, None] * 2 - 1
        y = torch.from_numpy(np.stack(ys))[:, None]
        logits = net(x)
        prob = torch.sigmoid(logits)
        dice = 1 - (2 * (prob * y).sum() + 1) / (prob.sum() + y.sum() + 1)
        loss = F.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight) + dice
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 25 == 0:
            print(f"step {step} loss {ema:.4f} ({time.monotonic() - started:.0f} s)", flush=True)
        if step % 100 == 0:
            _save(net, last, state_path, step, schedule_from)
    _save(net, last, state_path, step, schedule_from)
    if opts.out is not None:
        state = {k: (v.detach().half() if v.is_floating_point() else v.detach()).contiguous()
                 for k, v in net.state_dict().items()}
        atomic_write(opts.out, lambda tmp: save_file(state, tmp, metadata={
            "arch": "damage-net", "input_norm": "gray/127.5-1", "steps": str(step),
            "trained_by": "python -m training.repair_detector"}))
        print(f"wrote {opts.out}", flush=True)
    return 0


def _save(net: DamageNet, last: Path, state_path: Path, step: int, schedule_from: int | None) -> None:
    state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    atomic_write(last, lambda tmp: save_file(state, tmp))
    run_state = {"step": step} if schedule_from is None else {"step": step, "schedule_from": schedule_from}
    atomic_write(state_path, lambda tmp: Path(tmp).write_text(json.dumps(run_state)))


if __name__ == "__main__":
    raise SystemExit(main())
