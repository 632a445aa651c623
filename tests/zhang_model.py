"""Build a Zhang-shaped .caffemodel with random weights, for tests.

The file is written by the app's own Caffe writer
(``colorizer_gui.backends.zhang.convert``), with blob shapes from the project's
prototxt, so the real OpenCV loading code reads the result exactly as it would
read the released weights.

    write_random_zhang_caffemodel(path, seed=0) -> path      (~129 MB)
    cached_random_zhang_caffemodel(seed=0) -> path           (written once per process)
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from colorizer_gui.backends.zhang.convert import blob_shapes, write_caffemodel, zhang_layers

_CACHE: dict[int, Path] = {}


def _random_blobs(name: str, shapes: list[tuple[int, ...]], rng: np.random.Generator) -> list[np.ndarray]:
    if len(shapes) == 3:  # BatchNorm: zero mean, unit variance, factor 1 -> identity
        return [np.zeros(shapes[0], np.float32), np.ones(shapes[1], np.float32), np.ones(1, np.float32)]
    if len(shapes) == 1:  # Scale: the release's 2.606 (the backend replaces it anyway)
        return [np.full(shapes[0], 2.606, np.float32)]
    weight_shape, bias_shape = shapes
    fan_in = int(np.prod(weight_shape[1:]))
    # He scaling keeps activations O(1) through the ReLUs; the input L-50 spans
    # +-50, so the first layer is scaled down to match.
    std = np.sqrt(2.0 / fan_in) / (50.0 if name == "bw_conv1_1" else 1.0)
    weight = rng.standard_normal(weight_shape, dtype=np.float32) * np.float32(std)
    bias = rng.standard_normal(bias_shape, dtype=np.float32) * np.float32(0.1)
    return [weight, bias]


def write_random_zhang_caffemodel(path: Path, seed: int = 0) -> Path:
    """Write a random-weight model with the Zhang net's layers and blob shapes to ``path``."""
    rng = np.random.default_rng(seed)
    shapes = blob_shapes(zhang_layers())
    return write_caffemodel(Path(path), {name: _random_blobs(name, shape, rng) for name, shape in shapes.items()})


def cached_random_zhang_caffemodel(seed: int = 0) -> Path:
    """The random model for ``seed``, written once per test process into a temp folder."""
    if seed not in _CACHE or not _CACHE[seed].is_file():
        folder = Path(tempfile.mkdtemp(prefix="zhang-random-"))
        _CACHE[seed] = write_random_zhang_caffemodel(folder / f"random_zhang_{seed}.caffemodel", seed)
    return _CACHE[seed]


