"""Synthetic damage for benches, tests and training a detector: scratches (light
and dark), dust specks, hairs and creases drawn over a clean photo, with the true
mask of every pixel they change.

Sizes follow the photo's size (``detect.photo_scale``), as real damage does on
scans of different resolutions.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .detect import photo_scale


@dataclass(frozen=True)
class DamageAmount:
    """How many marks of each kind on a print of the reference size (800x600 at
    ``photo_scale`` 1): ``add_damage`` scales specks with the print's area and
    lines with its side, so a small print is not buried under marks."""
    light_scratches: int = 3
    dark_scratches: int = 1
    specks: int = 30
    hairs: int = 2
    creases: int = 1


def add_grain(pixels: np.ndarray, rng: np.random.Generator, sigma: float = 3.0) -> np.ndarray:
    """Film grain (slightly clumped Gaussian noise, ``sigma`` levels of 255) on a
    uint8 gray or RGB photo."""
    h, w = pixels.shape[:2]
    noise = rng.standard_normal((h, w)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 0.6)
    noise *= sigma / max(float(noise.std()), 1e-6)
    out = pixels.astype(np.float32) + (noise if pixels.ndim == 2 else noise[:, :, None])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _curve(rng: np.random.Generator, h: int, w: int, length: float, bend: float) -> np.ndarray:
    """Points of a smooth random curve of about ``length`` px (int32 Nx1x2)."""
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    angle = rng.uniform(0, np.pi * 2)
    steps = max(4, int(length / 4))
    pts = []
    turn = 0.0
    for _ in range(steps):
        pts.append((x, y))
        turn = 0.85 * turn + rng.normal(0, bend)
        angle += turn
        x += 4 * np.cos(angle)
        y += 4 * np.sin(angle)
    return np.array(pts, np.float32).reshape(-1, 1, 2)


def _draw(canvas: np.ndarray, pts: np.ndarray, width: float) -> None:
    """Anti-aliased polyline of ``width`` px on a float32 coverage canvas (drawn at 4x)."""
    shift = 2
    p = np.rint(pts * (1 << shift)).astype(np.int32)
    cv2.polylines(canvas, [p], False, 1.0, thickness=max(1, int(round(width))), lineType=cv2.LINE_AA, shift=shift)


def add_damage(photo: np.ndarray, rng: np.random.Generator,
               amount: DamageAmount = DamageAmount()) -> tuple[np.ndarray, np.ndarray]:
    """(damaged copy, true mask) of a uint8 gray or RGB ``photo``. The mask marks
    every pixel a mark changes by more than 2 levels."""
    h, w = photo.shape[:2]
    s = photo_scale(h, w)
    diag = float(np.hypot(h, w))
    out = photo.astype(np.float32)
    lum = out if out.ndim == 2 else out.mean(axis=2)
    # The print's size in reference pixels (a higher-resolution scan of the same print has the same marks).
    area_ratio = (h * w) / (s * s) / (800.0 * 600.0)

    def count(n: int, per_area: bool) -> int:
        want = n * (area_ratio if per_area else np.sqrt(area_ratio))
        return int(np.floor(want + rng.random())) if n else 0

    def paint(coverage: np.ndarray, target: np.ndarray | float, strength: float) -> None:
        nonlocal out
        a = np.clip(coverage * strength, 0.0, 1.0)
        if out.ndim == 3:
            a = a[:, :, None]
            tgt = target if np.isscalar(target) else target[:, :, None]
        else:
            tgt = target
        out = out * (1 - a) + a * tgt

    for kind, n_marks in (("light", amount.light_scratches), ("dark", amount.dark_scratches)):
        for _ in range(count(n_marks, False)):
            cov = np.zeros((h, w), np.float32)
            pts = _curve(rng, h, w, rng.uniform(0.15, 0.7) * diag, 0.004)
            _draw(cov, pts, rng.uniform(1.0, 3.0) * s)
            # Scratches fade along their length (pressure changes).
            fade = cv2.GaussianBlur(rng.uniform(0.5, 1.0, (h // 32 + 1, w // 32 + 1)).astype(np.float32), (0, 0), 1)
            cov *= cv2.resize(fade, (w, h))
            target = rng.uniform(225, 255) if kind == "light" else rng.uniform(0, 35)
            paint(cov, target, rng.uniform(0.75, 1.0))
    for _ in range(count(amount.specks, True)):
        cov = np.zeros((h, w), np.float32)
        r = rng.uniform(0.5, 2.5) * s
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        axes = (max(1, int(round(r * 4))), max(1, int(round(r * rng.uniform(0.5, 1.0) * 4))))
        cv2.ellipse(cov, (int(cx * 4), int(cy * 4)), axes, rng.uniform(0, 180), 0, 360, 1.0, -1,
                    cv2.LINE_AA, shift=2)
        light = rng.random() < 0.5
        paint(cov, rng.uniform(230, 255) if light else rng.uniform(0, 30), rng.uniform(0.8, 1.0))
    for _ in range(count(amount.hairs, False)):
        cov = np.zeros((h, w), np.float32)
        _draw(cov, _curve(rng, h, w, rng.uniform(40, 200) * s, 0.08), rng.uniform(1.0, 2.0) * s)
        light = rng.random() < 0.3
        paint(cov, rng.uniform(220, 250) if light else rng.uniform(5, 40), rng.uniform(0.7, 0.95))
    for _ in range(count(amount.creases, False)):
        core = np.zeros((h, w), np.float32)
        pts = _curve(rng, h, w, rng.uniform(0.3, 0.8) * diag, 0.01)
        _draw(core, pts, rng.uniform(1.5, 3.0) * s)
        edge = cv2.GaussianBlur(core, (0, 0), 1.5 * s)
        # A crease: a broken, light core (cracked emulsion) with a darker shoulder.
        paint(np.clip(edge - core, 0, 1), lum * 0.55, 0.9)
        paint(core, rng.uniform(200, 245), 0.9)
    damaged = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    diff = np.abs(damaged.astype(np.int16) - photo.astype(np.int16))
    mask = (diff if diff.ndim == 2 else diff.max(axis=2)) > 2
    return damaged, mask
