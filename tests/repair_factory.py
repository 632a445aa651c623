"""Photos for the repair tests: a gray scene with grain, a clean one with thin
real lines (spokes, text)."""
from __future__ import annotations

import cv2
import numpy as np

from colorizer_gui.core.repair.damage import add_grain


def scene(h: int = 360, w: int = 480, seed: int = 0) -> np.ndarray:
    """A gray photo-like scene: soft gradients and blobs, with grain."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = 90 + 60 * np.sin(xx / 70.0) * np.cos(yy / 55.0) + 40 * yy / h
    blobs = cv2.GaussianBlur(rng.uniform(-40, 40, (h // 20, w // 20)).astype(np.float32), (0, 0), 1)
    img += cv2.resize(blobs, (w, h), interpolation=cv2.INTER_CUBIC)
    return add_grain(np.clip(img, 0, 255).astype(np.uint8), rng, 2.5)


def wheel_and_text(h: int = 360, w: int = 480) -> np.ndarray:
    """A clean photo with thin real lines: a spoked wheel and text."""
    img = scene(h, w, seed=3).astype(np.float32)
    canvas = img.copy()
    c, r = (150, 180), 120
    cv2.circle(canvas, c, r, 30, 4, cv2.LINE_AA)
    for k in range(32):
        a = k * np.pi / 16
        cv2.line(canvas, c, (int(c[0] + r * np.cos(a)), int(c[1] + r * np.sin(a))), 40, 1, cv2.LINE_AA)
    cv2.putText(canvas, "GRAND HOTEL 1921", (290, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 20, 1, cv2.LINE_AA)
    cv2.putText(canvas, "Main Street", (300, 320), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 235, 2, cv2.LINE_AA)
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


def rgb_of(gray: np.ndarray) -> np.ndarray:
    return np.dstack([gray, gray, np.clip(gray.astype(np.int16) - 12, 0, 255).astype(np.uint8)])
