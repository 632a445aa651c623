"""Make a clean lightness channel look like a real old scan (training inputs only).

Users bring scans of prints, not clean gray renderings: film grain, soft focus,
faded contrast with lifted blacks, uneven exposure and vignetting, JPEG blocks,
dust, specks and scratches, sepia or cyanotype toning (which reaches the model
as a tone curve on L). ``degrade_lightness`` applies a random mix of these to
CIE L in [0, 100]; the colour target stays clean, so the network learns to
colour through the damage instead of reproducing it.

Every draw comes from the ``rng`` passed in, so a sample is a pure function of
(seed, epoch, index) as the dataset requires.
"""
from __future__ import annotations

import cv2
import numpy as np

# Chance that a sample is degraded at all (the rest stay clean, as modern scans are).
P_DEGRADE = 0.6


def _tone(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fading: a gamma (toned and aged prints) and a squeezed range (lifted blacks, dull whites)."""
    gamma = float(np.exp(rng.uniform(np.log(0.7), np.log(1.45))))
    out = 100.0 * (l / 100.0) ** gamma
    black = rng.uniform(0.0, 22.0) if rng.random() < 0.6 else 0.0
    white = rng.uniform(78.0, 100.0) if rng.random() < 0.5 else 100.0
    return black + out * (white - black) / 100.0


def _uneven(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Vignetting and a smooth exposure gradient across the print."""
    h, w = l.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = h * rng.uniform(0.3, 0.7), w * rng.uniform(0.3, 0.7)
    r2 = ((yy - cy) / h) ** 2 + ((xx - cx) / w) ** 2
    field = 1.0 - rng.uniform(0.0, 0.9) * r2
    angle = rng.uniform(0, 2 * np.pi)
    field += rng.uniform(-0.15, 0.15) * ((np.cos(angle) * (xx / w - 0.5)) + np.sin(angle) * (yy / h - 0.5))
    return l * field.astype(np.float32)


def _blur(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Soft focus (Gaussian) or a little camera shake (a short line kernel)."""
    if rng.random() < 0.75:
        return cv2.GaussianBlur(l, (0, 0), sigmaX=float(rng.uniform(0.4, 1.6)))
    length = int(rng.integers(3, 8))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    kernel /= max(float(kernel.sum()), 1e-6)
    return cv2.filter2D(l, -1, kernel, borderType=cv2.BORDER_REFLECT)


def _grain(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Film grain: noise with some spatial size, stronger in the mid-tones."""
    noise = rng.standard_normal(l.shape).astype(np.float32)
    if rng.random() < 0.5:
        noise = cv2.GaussianBlur(noise, (0, 0), sigmaX=float(rng.uniform(0.5, 1.2)))
        noise /= max(float(noise.std()), 1e-6)
    strength = rng.uniform(1.0, 7.0)
    midtone = 0.5 + (l / 100.0) * (1.0 - l / 100.0) * 2.0
    return l + noise * strength * midtone


def _jpeg(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blocking of a low-quality JPEG (scans shared by e-mail and the web)."""
    gray = np.clip(l * 2.55, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(12, 55))])
    if not ok:
        return l
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 2.55


def _damage(l: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dust and specks (small dark or bright dots) and thin scratches."""
    h, w = l.shape
    out = l.copy()
    for _ in range(int(rng.integers(3, 40))):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        value = float(rng.uniform(85, 100) if rng.random() < 0.6 else rng.uniform(0, 15))
        cv2.circle(out, centre, int(rng.integers(0, 2)), value, -1, lineType=cv2.LINE_AA)
    if rng.random() < 0.5:
        for _ in range(int(rng.integers(1, 4))):
            x0 = int(rng.integers(0, w))
            x1 = int(np.clip(x0 + rng.integers(-w // 8, w // 8 + 1), 0, w - 1))
            y0, y1 = sorted(int(v) for v in rng.integers(0, h, 2))
            value = float(rng.uniform(80, 100) if rng.random() < 0.7 else rng.uniform(0, 20))
            cv2.line(out, (x0, y0), (x1, y1), value, 1, lineType=cv2.LINE_AA)
    return out


# (chance, operation) in the order a print ages and is scanned.
_STEPS = ((0.7, _tone), (0.35, _uneven), (0.45, _blur), (0.5, _grain), (0.3, _damage),
          (0.3, _jpeg))


def degrade_lightness(l: np.ndarray, rng: np.random.Generator, p: float = P_DEGRADE) -> np.ndarray:
    """A randomly aged copy of CIE L (H, W) float32 in [0, 100]; clean with chance ``1 - p``."""
    if rng.random() >= p:
        return l
    out = l.astype(np.float32, copy=True)
    for chance, step in _STEPS:
        if rng.random() < chance:
            out = step(out, rng)
    return np.clip(out, 0.0, 100.0).astype(np.float32)
