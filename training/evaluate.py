"""Validation metrics and the preview grid shown while training."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from colorizer_gui.core.color import colorfulness, lab_to_rgb
from colorizer_gui.nets.inference import AB_SCALE, L_CENTER

from .checkpoint import atomic_write_bytes


def lab_batch_to_rgb(l_norm: np.ndarray, ab_norm: np.ndarray) -> np.ndarray:
    """(N, 1, S, S) normalised L and (N, 2, S, S) normalised ab -> (N, S, S, 3) float RGB in [0, 1]."""
    lab = np.concatenate([(l_norm + 1.0) * L_CENTER, ab_norm * AB_SCALE], axis=1)
    lab = lab.transpose(0, 2, 3, 1).astype(np.float32)
    return np.stack([lab_to_rgb(img) for img in lab])


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio (dB) of RGB images in [0, 1]."""
    mse = float(np.mean((pred.astype(np.float64) - truth.astype(np.float64)) ** 2))
    return 10.0 * np.log10(1.0 / max(mse, 1e-10))


def evaluate(generator: Any, val_l: Any, val_ab: Any, device: Any, batch_size: int = 8,
             autocast: bool = False) -> tuple[dict[str, float], np.ndarray]:
    """Run ``generator`` on the held-out images; return (metrics, predicted ab (N, 2, S, S)).

    Metrics: ``val_l1`` (mean |ab error| on the ab/110 scale, as the loss),
    ``val_psnr`` (dB, RGB in [0, 1], averaged over images) and
    ``val_colourfulness`` (mean colourfulness of ours / of the truth; 1 = as
    colourful as real photos, below 1 = washed out).
    """
    import torch

    was_training = generator.training
    generator.eval()
    preds = []
    with torch.no_grad():
        for start in range(0, val_l.shape[0], batch_size):
            l_batch = val_l[start:start + batch_size].to(device)
            with torch.autocast(device_type=device.type, enabled=autocast):
                out = generator(l_batch)
            preds.append(out.float().cpu())
    generator.train(was_training)
    pred = torch.cat(preds).numpy()
    truth_ab = val_ab.numpy()
    l_np = val_l.numpy()
    pred_rgb = lab_batch_to_rgb(l_np, pred)
    true_rgb = lab_batch_to_rgb(l_np, truth_ab)
    ours = float(np.mean([colorfulness(img) for img in pred_rgb]))
    real = float(np.mean([colorfulness(img) for img in true_rgb]))
    metrics = {
        "val_l1": float(np.mean(np.abs(pred - truth_ab))),
        "val_psnr": float(np.mean([psnr(p, t) for p, t in zip(pred_rgb, true_rgb)])),
        "val_colourfulness": ours / real if real > 1e-6 else 0.0,
    }
    return metrics, pred


def preview_grid(l_norm: np.ndarray, pred_ab: np.ndarray, true_ab: np.ndarray, rows: int) -> np.ndarray:
    """uint8 RGB grid: one row per image, columns gray | ours | truth."""
    n = min(rows, l_norm.shape[0])
    gray = lab_batch_to_rgb(l_norm[:n], np.zeros_like(true_ab[:n]))
    ours = lab_batch_to_rgb(l_norm[:n], pred_ab[:n])
    truth = lab_batch_to_rgb(l_norm[:n], true_ab[:n])
    grid = np.concatenate([np.concatenate([g, o, t], axis=1) for g, o, t in zip(gray, ours, truth)],
                          axis=0)
    return np.rint(grid * 255.0).astype(np.uint8)


def save_preview(grid: np.ndarray, run_dir: Path, step: int) -> Path:
    """Write ``preview_<step>.png`` and ``preview_latest.png`` atomically; return the latter."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError("could not encode the preview image")
    atomic_write_bytes(run_dir / f"preview_{step:07d}.png", data.tobytes())
    return atomic_write_bytes(run_dir / "preview_latest.png", data.tobytes())
