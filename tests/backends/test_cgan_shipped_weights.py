"""The shipped default model gives the same colours as when this file was written.

A few small generated photos (no dataset needed) are colorized with
``weights/cgan-default.safetensors`` through the core pipeline; the ab it predicts
(chroma limit and hint spreading included) is compared with the values stored in
``tests/data/shipped_weights_ab.npz``. A refactor of the backend, the nets or the
pipeline must leave them as they are. If a deliberate change of the shipped model
moves them, rewrite the file with ``python tests/backends/test_cgan_shipped_weights.py --write``
and say why in the commit.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from colorizer_gui.backends import create_backend
from colorizer_gui.core import color
from colorizer_gui.core.hints import Hint
from colorizer_gui.core.pipeline import predict_ab_for

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "weights" / "cgan-default.safetensors"
EXPECTED = Path(__file__).resolve().parents[1] / "data" / "shipped_weights_ab.npz"
#: ab units (of about +-110): far below what an eye sees (about 2), above fp noise.
TOLERANCE = 0.05


def _photos() -> dict[str, tuple[np.ndarray, tuple[Hint, ...]]]:
    """Name -> (gray lightness of a generated photo, hints)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the factories
    from photo_factory import color_scene, gray_scene

    scene = color.lightness(color_scene(48, 64, seed=0))
    return {
        "scene": (scene, ()),
        "scene_seed3": (color.lightness(color_scene(64, 48, seed=3)), ()),
        "gray_scene": (color.lightness(gray_scene(48, 64, seed=1)), ()),
        "scene_hinted": (scene, (Hint(0.25, 0.75, (200, 40, 40), radius=0.08),
                                 Hint(0.7, 0.2, (40, 90, 220)))),
    }


def predicted() -> dict[str, np.ndarray]:
    """The ab the shipped model gives each photo on the CPU (float32)."""
    backend = create_backend("cgan", weights=SHIPPED, device="cpu")
    backend.load()
    return {name: predict_ab_for(lightness, backend, None, hints)
            for name, (lightness, hints) in _photos().items()}


@pytest.mark.slow
def test_shipped_model_colors_are_unchanged():
    pytest.importorskip("torch")
    expected = np.load(EXPECTED)
    got = predicted()
    assert sorted(got) == sorted(expected.files)
    for name, ab in got.items():
        want = expected[name].astype(np.float32)
        assert ab.shape == want.shape, name
        worst = float(np.abs(ab - want).max())
        assert worst <= TOLERANCE, f"{name}: ab differs by up to {worst:.3f}"
    # The stored colours are colours, not a flat map that anything would match.
    assert float(np.abs(expected["scene"]).mean()) > 1.0
    assert float(np.abs(expected["scene_hinted"] - expected["scene"]).max()) > 10.0


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    # float16 rounds |ab| < 64 by at most 0.016, well inside the tolerance.
    np.savez_compressed(EXPECTED, **{k: v.astype(np.float16) for k, v in predicted().items()})
    print(f"wrote {EXPECTED} ({EXPECTED.stat().st_size} bytes)")
