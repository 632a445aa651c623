"""Paint out damage: inpaint each damaged region from a crop around it with
Telea's method (``cv2.inpaint``), then top up the grain to that of the ring of
photo around the region, so the fill does not show as a smooth smear at 100%.

Measured with the true mask on damaged held-out photos (bench/RESULTS.md,
"Repair"): Telea alone keeps a third of the grain (a smear); frequency-selective
reconstruction (``cv2.xphoto.inpaint`` FSR) keeps two thirds on the whole photo
but loses 1.5-3 dB when run on crops and takes ~100x longer, too slow for a
12 MP scan; Telea plus matched grain keeps the grain at a few ms a photo."""
from __future__ import annotations

import cv2
import numpy as np

#: Pixels of surroundings kept around each damaged region's box.
_MARGIN = 12


def _grain_sigma(plane: np.ndarray, ring: np.ndarray) -> float:
    """The grain's standard deviation (levels of ``plane``) on ``ring`` pixels:
    robust MAD of the fine residual."""
    if not ring.any():
        return 0.0
    fine = plane.astype(np.float32) - cv2.GaussianBlur(plane.astype(np.float32), (0, 0), 1.5)
    vals = fine[ring]
    return float(1.4826 * np.median(np.abs(vals - np.median(vals))))


def _inpaint(crop: np.ndarray, region: np.ndarray) -> np.ndarray:
    """``crop`` (HxW or HxWx3, uint8/uint16) with ``region`` rebuilt by Telea's
    method plane by plane (16-bit planes through float32), as float32."""
    mask8 = region.astype(np.uint8)
    planes = [crop] if crop.ndim == 2 else [crop[:, :, c] for c in range(crop.shape[2])]
    filled = [cv2.inpaint(p if p.dtype == np.uint8 else p.astype(np.float32), mask8, 3, cv2.INPAINT_TELEA)
              for p in planes]
    return (filled[0] if crop.ndim == 2 else np.dstack(filled)).astype(np.float32)


#: Photos with a longer side are filled at this size, then the fill brought back
#: (inpainted tone is smooth) with full-resolution grain: a 12 MP scan in a
#: fraction of a second instead of many.
_MAX_FILL_SIDE = 1600


def _fill_large(pixels: np.ndarray, mask: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``fill_damage`` for a large photo: the tone filled on a smaller copy and
    brought back whole, the grain of the ring around the damage added at full
    resolution (only the damaged pixels are ever touched as float)."""
    h, w = mask.shape
    f = max(h, w) / _MAX_FILL_SIDE
    size = (max(8, round(w / f)), max(8, round(h / f)))
    color = pixels.ndim == 3
    planes = pixels[:, :, :3] if color else pixels
    small = cv2.resize(planes, size, interpolation=cv2.INTER_AREA)
    found = cv2.findNonZero(mask.view(np.uint8))  # row-major like np.nonzero, about 2.5x faster
    ys, xs = found[:, 0, 1], found[:, 0, 0]
    small_mask = _touched(ys, xs, (h, w), (size[1], size[0]))
    tone = cv2.resize(_fill_regions(small, small_mask, grain=False), (w, h), interpolation=cv2.INTER_LINEAR)
    grain = _ring_grain_sigma(planes, mask, ys, xs)
    noise = np.random.default_rng(0).standard_normal(len(ys)).astype(np.float32) * grain
    # Grain is the film's, common to the colour planes: one noise value a pixel.
    vals = tone[ys, xs].astype(np.float32) + (noise[:, None] if color else noise)
    target = out[:, :, :3] if color else out
    target[ys, xs] = np.clip(np.rint(vals), 0, float(np.iinfo(pixels.dtype).max)).astype(pixels.dtype)
    return out


def _touched(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int], small: tuple[int, int]) -> np.ndarray:
    """The pixels of a copy shrunk from ``shape`` to ``small`` (area resampling)
    whose area holds any of the photo's pixels ``ys, xs``: a 1 px scratch marks
    every small pixel it crosses (averaging the mask and rounding would drop
    it, and leave a ghost of the scratch in the fill's tone)."""
    out = np.zeros(small, bool)
    rows, cols = _spans(ys, shape[0], small[0]), _spans(xs, shape[1], small[1])
    for r in rows:
        for c in cols:
            out[r, c] = True
    return out


def _spans(coords: np.ndarray, size: int, small: int) -> tuple[np.ndarray, np.ndarray]:
    """The first and last small pixels that pixel [i, i + 1) of ``size`` overlaps
    when shrunk to ``small``: floor(i / s) and ceil((i + 1) / s) - 1 (one or two)."""
    scale = size / small
    first = (coords / scale).astype(np.intp)
    return first, np.minimum(small - 1, np.ceil((coords + 1) / scale).astype(np.intp) - 1)


#: Ring pixels the grain of a large photo is measured on (a robust median needs no more).
_GRAIN_SAMPLES = 20_000
#: The grain is measured on photo this far (px) from the damage: beyond the reach
#: (4 px) of the blur the fine residual is taken against, so the damage's own
#: contrast does not count as grain, and within 8 px, so it is the grain nearby.
_RING_NEAR, _RING_FAR = 5, 8


def _grain_ring(region: np.ndarray, damage: np.ndarray) -> np.ndarray:
    """The pixels around ``region`` whose grain the fill is given: 5 to 8 px from
    any ``damage`` (bool masks of one crop); where damage is too dense for that,
    the undamaged pixels next to the region."""
    near = cv2.dilate(damage.view(np.uint8), np.ones((2 * _RING_NEAR - 1,) * 2, np.uint8)).astype(bool)
    ring = cv2.dilate(region.view(np.uint8), np.ones((2 * _RING_FAR + 1,) * 2, np.uint8)).astype(bool) & ~near
    if ring.sum() >= 20:
        return ring
    return cv2.dilate(region.view(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & ~damage


def _ring_grain_sigma(planes: np.ndarray, mask: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> float:
    """``_grain_sigma`` of the photo around a large photo's damage (``ys, xs``:
    the damaged pixels), measured on a fixed random sample of pixels up to
    ``_RING_FAR`` px from a damaged one whose blur window holds no damage (see
    ``_grain_ring``). The fine residual (photo - Gaussian blur, sigma 1.5; the
    mean of the colour planes) is computed only where sampled, so a scratch across
    a 12 MP scan costs no full-size blur."""
    if len(ys) == 0:
        return 0.0
    h, w = mask.shape
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(ys), 4 * _GRAIN_SAMPLES)
    ry = np.clip(ys[pick] + rng.integers(-_RING_FAR, _RING_FAR + 1, len(pick)), 0, h - 1)
    rx = np.clip(xs[pick] + rng.integers(-_RING_FAR, _RING_FAR + 1, len(pick)), 0, w - 1)
    kernel = cv2.getGaussianKernel(9, 1.5).astype(np.float32)[:, 0]  # 9 taps hold all but 0.4% of sigma 1.5
    offsets = np.arange(len(kernel)) - len(kernel) // 2
    # A window is clean when no damage is within 4 px of its centre: one dilation
    # of the mask (5 ms on 12 MP) instead of 81 scattered lookups a window (20-30 ms).
    near = cv2.dilate(mask.view(np.uint8), np.ones((len(kernel),) * 2, np.uint8))
    chosen = np.flatnonzero(near[ry, rx] == 0)[:_GRAIN_SAMPLES]
    if not len(chosen):  # damage too dense: the undamaged pixels among the samples
        chosen = np.flatnonzero(~mask[ry, rx])[:_GRAIN_SAMPLES]
        if not len(chosen):
            return 0.0
    # Each sample's 9x9 window (edges repeated at the border), blurred separably.
    rows = np.clip(ry[chosen, None] + offsets, 0, h - 1)[:, :, None]
    cols = np.clip(rx[chosen, None] + offsets, 0, w - 1)[:, None, :]
    windows = planes[rows, cols].astype(np.float32)
    if windows.ndim == 4:
        windows = windows.mean(axis=3)
    blurred = (windows @ kernel) @ kernel
    fine = windows[:, len(kernel) // 2, len(kernel) // 2] - blurred
    return float(1.4826 * np.median(np.abs(fine - np.median(fine))))


def fill_damage(pixels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy of ``pixels`` (HxW or HxWx3/4, uint8 or uint16) with the ``mask``
    (bool HxW) pixels painted from their surroundings, grain included. Pixels
    outside the mask are bit-identical; an alpha channel is kept as it is."""
    if mask.shape != pixels.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match the photo {pixels.shape[:2]}")
    out = pixels.copy()
    if not mask.any():
        return out
    if max(mask.shape) > _MAX_FILL_SIDE:
        return _fill_large(pixels, mask, out)
    return _fill_regions(out, mask, grain=True)


def _fill_regions(out: np.ndarray, mask: np.ndarray, grain: bool) -> np.ndarray:
    """Fill ``mask`` in ``out`` in place, region by region (crop, Telea, grain)."""
    pixels = out
    maxval = float(np.iinfo(pixels.dtype).max)
    color = out.ndim == 3
    m8 = mask.astype(np.uint8)
    n, labels, stats, _c = cv2.connectedComponentsWithStats(
        cv2.dilate(m8, np.ones((3, 3), np.uint8)), connectivity=8)
    h, w = mask.shape
    rng = np.random.default_rng(0)
    for i in range(1, n):
        x, y, bw, bh = stats[i, :4]
        x0, y0 = max(0, x - _MARGIN), max(0, y - _MARGIN)
        x1, y1 = min(w, x + bw + _MARGIN), min(h, y + bh + _MARGIN)
        region = mask[y0:y1, x0:x1] & (labels[y0:y1, x0:x1] == i)
        if not region.any():
            continue
        crop = out[y0:y1, x0:x1, :3] if color else out[y0:y1, x0:x1]
        # Rebuilt from the photo around it (other damage nearby is not yet filled,
        # but is masked too: FSR reads only the known pixels).
        known = ~mask[y0:y1, x0:x1]
        filled = _inpaint(np.ascontiguousarray(crop), ~known | region)
        ring = _grain_ring(region, ~known)
        lum_crop = crop if not color else crop.mean(axis=2)
        lum_fill = filled if not color else filled.mean(axis=2)
        want = _grain_sigma(lum_crop, ring)
        have = _grain_sigma(lum_fill, region)
        top_up = float(np.sqrt(max(0.0, want * want - have * have)))
        if grain and top_up > 0:
            # Grain is the film's, common to the colour planes: one noise field.
            noise = rng.standard_normal(region.shape).astype(np.float32) * top_up
            filled = filled + (noise[:, :, None] if color else noise)
        crop[region] = np.clip(np.rint(filled[region]), 0, maxval).astype(pixels.dtype)
    return out
