"""Colorization quality metrics for bench/quality.py, importable by tests.

All functions take 8-bit RGB arrays (H, W, 3) of the same size, the ground
truth first. Colour maths goes through the project's own OpenCV conversions
(colorizer_gui.core.color: CIE Lab, D65), so the bench measures with the same
Lab the app predicts in.

- ``psnr``: RGB, 8-bit peak (255), mean squared error over all channels; inf
  for identical images (``PSNR_CAP`` keeps set averages finite).
- ``ssim_rgb``: scikit-image's structural_similarity over the RGB channels with
  the settings of Wang et al. (2004): 11x11 Gaussian window, sigma 1.5,
  population covariance, data range 255.
- ``ab_auc``: Zhang et al. (ECCV 2016), "raw accuracy (AuC)": per-pixel
  Euclidean ab error; the fraction of pixels within a threshold, swept from 0
  to 150, integrated and normalised to [0, 1].
- ``colourfulness``: Hasler and Suesstrunk (2003), from the core.
- ``mean_abs_dl``: mean |L_out - L_in| in CIE L units (0..100).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from colorizer_gui.core import color  # noqa: E402

# A PSNR to use in set averages when an output equals its truth (PSNR inf).
PSNR_CAP = 100.0
# The largest ab error Zhang et al. sweep the threshold to.
AUC_MAX_THRESHOLD = 150.0


def as_rgb8(pixels: np.ndarray) -> np.ndarray:
    """Gray or RGB(A), 8- or 16-bit, as uint8 RGB (H, W, 3): what the metrics compare."""
    if pixels.dtype == np.uint16:
        pixels = ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif pixels.dtype != np.uint8:
        pixels = np.clip(np.rint(color.to_float_rgb(pixels) * 255.0), 0, 255).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, :3])


def _same_shape(truth: np.ndarray, pred: np.ndarray) -> None:
    if truth.shape != pred.shape:
        raise ValueError(f"images differ in shape: {truth.shape} vs {pred.shape}")


def psnr(truth: np.ndarray, pred: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of 8-bit RGB ``pred`` against ``truth`` (inf if equal)."""
    _same_shape(truth, pred)
    diff = truth.astype(np.float64) - pred.astype(np.float64)
    mse = float(np.mean(diff * diff))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(255.0 ** 2 / mse)


def ssim_rgb(truth: np.ndarray, pred: np.ndarray) -> float:
    """Mean SSIM over the RGB channels (Wang et al. 2004 settings, data range 255)."""
    from skimage.metrics import structural_similarity  # the bench's only use of it

    _same_shape(truth, pred)
    return float(structural_similarity(
        truth, pred, channel_axis=2, data_range=255,
        gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    ))


def ab_error(truth_lab: np.ndarray, pred_lab: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean distance in the ab plane (float32, H x W) of two Lab images."""
    _same_shape(truth_lab, pred_lab)
    da = pred_lab[:, :, 1] - truth_lab[:, :, 1]
    db = pred_lab[:, :, 2] - truth_lab[:, :, 2]
    return np.sqrt(da * da + db * db)


def accuracy_curve(errors: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fraction of ``errors`` at or below each threshold (the curve AuC integrates)."""
    ordered = np.sort(errors.ravel())
    return np.searchsorted(ordered, thresholds, side="right") / max(ordered.size, 1)


def auc_from_errors(errors: np.ndarray, max_threshold: float = AUC_MAX_THRESHOLD) -> float:
    """Area under the accuracy-vs-threshold curve for thresholds 0..``max_threshold``, in [0, 1].

    The exact area of the step curve: (1/T) * integral_0^T P(err <= t) dt equals
    mean(max(0, 1 - err/T)) for each pixel, so no threshold grid is needed (a
    sweep in steps of 1 gives the same within 0.5/T).
    """
    errors = np.asarray(errors, dtype=np.float64)
    return float(np.mean(np.clip(1.0 - errors / max_threshold, 0.0, 1.0)))


def ab_auc(truth: np.ndarray, pred: np.ndarray) -> float:
    """Zhang et al.'s ab accuracy AuC (0..150 thresholds) of RGB ``pred`` against RGB ``truth``."""
    return auc_from_errors(ab_error(color.rgb_to_lab(truth), color.rgb_to_lab(pred)))


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler and Suesstrunk colourfulness (0-255 scale) of an RGB image."""
    return color.colorfulness(rgb)


def mean_abs_dl(input_lightness: np.ndarray, pred: np.ndarray) -> float:
    """Mean |L(pred) - L(input)|: how far the output's lightness moved from its input's."""
    if input_lightness.shape != pred.shape[:2]:
        raise ValueError(f"sizes differ: {input_lightness.shape} vs {pred.shape[:2]}")
    return float(np.mean(np.abs(color.lightness(pred) - input_lightness)))


# Truth pixels this close to gray (CIELAB chroma) are gray things: stone, asphalt, fur,
# overcast sky; inside this lightness band (black and white carry no colour anyway).
GRAY_THING_CHROMA = color.GRAY_THING_CHROMA
GRAY_THING_LIGHTNESS = (20.0, 95.0)


def color_on_gray(truth: np.ndarray, pred: np.ndarray) -> float:
    """Mean CIELAB chroma of ``pred`` where ``truth`` is gray (0 is best; NaN when the
    truth has no gray pixels). The issue's "no colour on gray things", as a number:
    PSNR hardly sees a blue cast on a gray street, a viewer does."""
    _same_shape(truth, pred)
    t = color.rgb_to_lab(truth)
    lo, hi = GRAY_THING_LIGHTNESS
    gray = (np.hypot(t[..., 1], t[..., 2]) < GRAY_THING_CHROMA) & (t[..., 0] > lo) & (t[..., 0] < hi)
    if not gray.any():
        return math.nan
    p = color.rgb_to_lab(pred)
    return float(np.hypot(p[..., 1], p[..., 2])[gray].mean())


def gray_from_lightness(lightness: np.ndarray) -> np.ndarray:
    """The 8-bit gray image (R = G = B) whose CIE L is ``lightness``: the colorizer's input."""
    lab = np.zeros(lightness.shape + (3,), np.float32)
    lab[:, :, 0] = lightness
    rgb = color.lab_to_rgb(lab)
    return np.clip(np.rint(rgb[:, :, 0] * 255.0), 0, 255).astype(np.uint8)


def color_reference(truth: np.ndarray, input_lightness: np.ndarray) -> np.ndarray:
    """The truth's colours (ab) on the lightness the colorizer was given (uint8 RGB).

    For an aged input this is the best any colorizer that keeps the photo's L can
    do: PSNR against it scores the colours alone, not the aging of L itself."""
    lab = color.rgb_to_lab(truth)
    lab[:, :, 0] = input_lightness
    return np.clip(np.rint(color.lab_to_rgb(lab) * 255.0), 0, 255).astype(np.uint8)


def image_metrics(truth: np.ndarray, pred: np.ndarray, input_lightness: np.ndarray) -> dict[str, float]:
    """Every per-image metric of ``pred`` against ``truth`` (both uint8 RGB, same size);
    ``psnr_colour`` is against ``colour_reference`` (equal to ``psnr`` up to rounding
    when the input is the truth's own L)."""
    return {
        "psnr": psnr(truth, pred),
        "psnr_colour": psnr(color_reference(truth, input_lightness), pred),
        "ssim": ssim_rgb(truth, pred),
        "auc": ab_auc(truth, pred),
        "colourfulness": colorfulness(pred),
        "dl": mean_abs_dl(input_lightness, pred),
        "gray_chroma": color_on_gray(truth, pred),
    }


def colorfulness_ratios(truth_values: list[float], pred_values: list[float],
                         min_truth: float = 1.0) -> tuple[float, float, int]:
    """(ratio of the set means, mean of per-image ratios, images in that mean).

    The per-image mean skips truths with colourfulness below ``min_truth``
    (near-gray photos, where a ratio is meaningless)."""
    truth = np.asarray(truth_values, np.float64)
    pred = np.asarray(pred_values, np.float64)
    of_means = float(pred.mean() / truth.mean()) if truth.size and truth.mean() > 0 else math.nan
    keep = truth >= min_truth
    per_image = float(np.mean(pred[keep] / truth[keep])) if keep.any() else math.nan
    return of_means, per_image, int(keep.sum())
