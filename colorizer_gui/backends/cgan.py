"""The ``cgan`` backend: a PyTorch U-Net generator (EfficientNet-Lite0 encoder).

Weights are a safetensors file (``colorizer_gui.nets.weights_io``): the one
given, else the user's chosen default, else ``cgan-default.safetensors`` in the
user's or the bundled weights folder. Torch is imported only in ``load``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..core import model_store
from ..nets.device import DEVICE_CHOICES
from .base import Availability, Backend, BackendError, MissingWeightsError

DEVICES = DEVICE_CHOICES
# Torch threads: half the cores, at most 4. The net at 256 px is small, so more
# threads gain little, while their busy-waiting slows the OpenCV stages of the
# pipeline (Lab, resize, join) and the GUI. Measured on 2 cores under load:
# 1 MP end to end 0.09 s with 1 thread, 0.4 s with 2 (bench/RESULTS.md).
_MAX_THREADS = 4
_MIN_RENDER = 32
_FALLBACK_RENDER = 256
MAX_CHOSEN_RENDER = 1024  # a file's own render_size beyond this is not trusted
TEMPERATURE_RANGE = (0.05, 1.0)
_threads_set = False


def _set_threads_once(torch: Any) -> None:
    """Give torch half the machine's cores (1 to ``_MAX_THREADS``), once per process.

    Also flush denormal floats to zero: tiny activations otherwise make CPU
    convolutions many times slower, and change nothing visible."""
    global _threads_set
    if not _threads_set:
        torch.set_num_threads(max(1, min((os.cpu_count() or 1) // 2, _MAX_THREADS)))
        torch.set_flush_denormal(True)
        _threads_set = True


def render_size_for_model(metadata: dict[str, str]) -> int:
    """Default render size (long side) for a generator.

    A ``render_size`` in the metadata wins: the size its maker chose on validation
    photos (``scripts/ship_default_model.py --render-size``), for models whose
    training ran at more than one size. Otherwise 1.5x the training crop size:
    training crops are squares cut from photos scaled to a short side of 1 to
    1.25 crops, so a 3:2 photo rendered at 1.5 crops long shows things at the
    scale the model learnt them. Measured on bsds500/test with a model trained
    at 128 px: render 192 gave +0.5 dB PSNR over 256 and no less colour.
    Models with neither get 256; values that are not multiples of 32 from 32 to
    ``MAX_CHOSEN_RENDER`` are ignored."""
    try:
        chosen = int(metadata.get("render_size", ""))
    except ValueError:
        chosen = 0
    if _MIN_RENDER <= chosen <= MAX_CHOSEN_RENDER and chosen % 32 == 0:
        return chosen
    try:
        crop = int(metadata.get("train_size", ""))
    except ValueError:
        return _FALLBACK_RENDER
    if crop <= 0:
        return _FALLBACK_RENDER
    return max(_MIN_RENDER, 32 * round(1.5 * crop / 32))


def verify_weights(path: Path) -> dict[str, str]:
    """Refuse ``path`` unless it is a generator Colorizer can trust: every check of
    ``colorizer_gui.nets.weights_check`` (bounded config, exact tensor list, float
    dtypes, no NaN/Inf, a finite test forward), run on the CPU. Returns its
    metadata; raises ``WeightsError`` naming the file. Used by import, set-default
    and the GUI's Models menu, the same checks ``load`` runs."""
    from ..nets.weights_io import load_generator

    return load_generator(Path(path), "cpu")[1]


class CganBackend(Backend):
    """Conditional-GAN U-Net generator run with PyTorch on CPU or CUDA."""

    name = "cgan"
    title = "cGAN U-Net (PyTorch)"

    def __init__(self, weights: Optional[Path] = None, device: str = "auto",
                 temperature: Optional[float] = None, mirror_average: bool = True) -> None:
        super().__init__(weights=weights, device=device)
        if device not in DEVICES:
            raise BackendError(f"Unknown device {device!r}; choose one of: {', '.join(DEVICES)}")
        if temperature is not None and not (isinstance(temperature, (int, float))
                                            and TEMPERATURE_RANGE[0] <= float(temperature) <= TEMPERATURE_RANGE[1]):
            raise BackendError(f"temperature must be from {TEMPERATURE_RANGE[0]} to {TEMPERATURE_RANGE[1]} "
                               f"(lower gives more vivid colours), got {temperature!r}")
        # The regression nets have no temperature (their vividness is their ab_gain); the
        # value is checked and kept so one command line serves zhang and cgan alike.
        self.temperature = None if temperature is None else float(temperature)
        # Average the net's colours for the photo and its mirror image (run_generator_mirrored).
        self.mirror_average = bool(mirror_average)
        self.model: Any = None
        self.metadata: dict[str, str] = {}
        self.weights_path: Optional[Path] = None
        self.loaded_device: Optional[str] = None
        self._model_render_size: Optional[int] = None

    @property
    def default_render_size(self) -> int:  # type: ignore[override]
        """The render size the model was trained for (``render_size_for_model``)."""
        if self._model_render_size is None:
            meta = self.metadata
            if not meta:
                from ..nets.weights_io import WeightsError, read_metadata

                try:  # header only: no torch, no weights read
                    meta = read_metadata(self._resolve())
                except (BackendError, WeightsError):
                    meta = {}
            self._model_render_size = render_size_for_model(meta)
        return self._model_render_size

    @classmethod
    def weights_in_use(cls) -> Optional[Path]:
        """The default model file now (the user's choice, else the bundled one)."""
        return model_store.resolve_cgan_weights()

    def _resolve(self) -> Path:
        """The weights file to use, or ``MissingWeightsError`` naming where we looked."""
        found = model_store.resolve_cgan_weights(self.weights)
        if found is None:
            looked = ", ".join(str(p) for p in model_store.cgan_weights_candidates())
            raise MissingWeightsError(
                f"No cGAN weights found; looked in: {looked} — train or import a model, "
                "or use the zhang backend.")
        if not found.is_file():
            raise MissingWeightsError(f"cGAN weights file not found: {found}")
        return found

    def availability(self) -> Availability:
        """Weights found and readable (header only, no torch), and torch installed."""
        try:
            path = self._resolve()
            from ..nets.weights_io import WeightsError, read_metadata

            try:
                meta = read_metadata(path)
            except WeightsError as err:
                return Availability(False, str(err))
            if not meta.get("arch"):
                return Availability(False, f"{path.name}: not a Colorizer generator file")
        except BackendError as err:
            return Availability(False, str(err))
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            return Availability(False, "PyTorch is not installed; the cGAN backend needs it.")
        return Availability(True, f"{path.name} ({meta['arch']})")

    def load(self) -> None:
        """Import torch, pick the device and load the generator (once)."""
        if self.model is not None:
            return
        path = self._resolve()
        import torch

        from ..nets.device import DeviceError, pick_device
        from ..nets.folding import for_inference
        from ..nets.weights_io import WeightsError, load_generator

        _set_threads_once(torch)
        try:
            device = pick_device(self.device).type  # "cpu" or "cuda", as shown to the user
        except DeviceError as err:
            raise BackendError(str(err)) from None
        try:
            model, meta = load_generator(path, device=device)
        except WeightsError as err:
            raise BackendError(str(err)) from None
        except RuntimeError as err:  # e.g. CUDA out of memory while moving the model
            raise BackendError(f"Cannot load {path.name} on {device}: {err}") from None
        self.model, self.metadata = for_inference(model), meta
        self.weights_path, self.loaded_device = path, device

    def render_shape(self, height: int, width: int, render_size: Optional[int]) -> tuple[int, int]:
        """Aspect-preserving size whose long side is ``render_size`` (default: the model's).

        ``render_size`` must be a multiple of 32 (at least 32); it is clamped to
        the photo's long side (no upscaling). The short side is scaled by the same
        factor (any integer; the generator pads it with reflection and crops
        back), but kept at 32 px or the photo's own short side if that is
        smaller, so extreme panoramas still give the net something to see.
        """
        size = self.default_render_size if render_size is None else int(render_size)
        if size < _MIN_RENDER or size % 32:
            raise BackendError(f"Render size {size} is not allowed for cgan: use a multiple of 32, "
                               f"at least {_MIN_RENDER} (default {self.default_render_size}).")
        long_side = max(height, width)
        target = min(size, long_side)
        scale = target / long_side
        short_floor = min(_MIN_RENDER, min(height, width))
        if height >= width:
            return target, max(short_floor, int(round(width * scale)))
        return max(short_floor, int(round(height * scale))), target

    @property
    def accepts_hints(self) -> bool:
        """True for models trained with colour-hint inputs (``hint_channels`` in their config)."""
        return bool(getattr(self.model, "hint_channels", 0))

    def predict_ab(self, lightness: np.ndarray, hints: Optional[np.ndarray] = None) -> np.ndarray:
        """ab (h, w, 2) float32 for L (h, w) in [0, 100], at the same size; ``hints``
        (h, w, 3) are used when the model takes them."""
        self.load()
        import torch

        from ..nets.inference import (denormalize_ab, normalize_hints, normalize_l, run_generator,
                                 run_generator_mirrored)

        device = torch.device(self.loaded_device)
        l_tensor = torch.from_numpy(np.ascontiguousarray(lightness, dtype=np.float32))
        l_norm = normalize_l(l_tensor.to(device))[None, None]
        if hints is not None and self.accepts_hints:
            planes = torch.from_numpy(np.ascontiguousarray(hints, dtype=np.float32)).to(device)
            l_norm = torch.cat([l_norm, normalize_hints(planes.permute(2, 0, 1))[None]], dim=1)
        with torch.inference_mode():
            # fp16 autocast on CUDA: about twice as fast, ab needs no more precision.
            with torch.autocast(device_type="cuda", dtype=torch.float16,
                                enabled=device.type == "cuda"):
                if not self.mirror_average:
                    out = run_generator(self.model, l_norm)
                else:
                    # Torch has half the cores: the mirror's pass takes another.
                    side_by_side = device.type == "cpu" and torch.get_num_threads() < (os.cpu_count() or 1)
                    out = run_generator_mirrored(self.model, l_norm, side_by_side=side_by_side)
            ab = denormalize_ab(out.float())[0].permute(1, 2, 0)
        return ab.cpu().numpy().astype(np.float32, copy=False)

    def model_file(self) -> Optional[Path]:
        return self.weights_path if self.model is not None else model_store.resolve_cgan_weights(self.weights)

    def describe(self) -> str:
        """Title, weights file and device (after load; before it, what would be used)."""
        if self.model is not None:
            return f"{self.title}: {self.weights_path} on {self.loaded_device}"
        found = model_store.resolve_cgan_weights(self.weights)
        where = str(found) if found else "no weights found"
        return f"{self.title}: {where} (device {self.device})"
