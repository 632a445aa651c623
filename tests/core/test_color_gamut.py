"""Predicted colours are limited to what sRGB can show at each lightness, so the
colour copy keeps the photo's own L (no clipping in the highlights and shadows)."""
from __future__ import annotations

import numpy as np

from colorizer_gui.core import color


def _round_trip_dl(lightness: np.ndarray, ab: np.ndarray) -> float:
    rgb = color.lab_to_rgb(np.dstack([lightness, ab]).astype(np.float32))
    return float(np.abs(color.rgb_to_lab(rgb)[:, :, 0] - lightness).mean())


def test_limited_colors_keep_lightness_and_hue():
    rng = np.random.default_rng(0)
    lightness = rng.uniform(0, 100, (64, 64)).astype(np.float32)
    ab = rng.normal(0, 45, (64, 64, 2)).astype(np.float32)
    limited = color.limit_chroma(ab, lightness)
    assert _round_trip_dl(lightness, ab) > 1.0          # as predicted: clipping moves L
    assert _round_trip_dl(lightness, limited) < 0.2     # limited: L kept
    scale = np.hypot(*limited.transpose(2, 0, 1)) / np.maximum(np.hypot(*ab.transpose(2, 0, 1)), 1e-6)
    assert scale.max() <= 1.0 + 1e-6
    # Hue is kept: limited ab is a shortening of the predicted ab.
    cross = ab[:, :, 0] * limited[:, :, 1] - ab[:, :, 1] * limited[:, :, 0]
    assert np.abs(cross).max() < 1e-2


def test_colors_inside_the_gamut_are_left_alone():
    lightness = np.full((4, 4), 55.0, np.float32)
    ab = np.zeros((4, 4, 2), np.float32) + (12.0, 20.0)  # a mild brown, well inside
    assert np.allclose(color.limit_chroma(ab, lightness), ab)
    # Near black and white little colour fits: a strong red is cut back there.
    dark = color.limit_chroma(np.zeros((1, 1, 2), np.float32) + (60.0, 40.0), np.full((1, 1), 3.0, np.float32))
    assert np.hypot(*dark[0, 0]) < 20
