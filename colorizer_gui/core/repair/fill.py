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
    """``fill_damage`` for a large photo: the tone filled on a smaller copy, the
    grain of the ring around the damage added at full resolution."""
    h, w = mask.shape
    f = max(h, w) / _MAX_FILL_SIDE
    size = (max(8, round(w / f)), max(8, round(h / f)))
    color = pixels.ndim == 3
    planes = pixels[:, :, :3] if color else pixels
    small = cv2.resize(planes, size, interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0
    filled = _fill_regions(small, small_mask, grain=False)
    # Only the damage's boxes are brought back to full size.
    n, labels, stats, _c = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    maxval = float(np.iinfo(pixels.dtype).max)
    lum = planes if not color else planes.mean(axis=2)
    ring = cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & ~mask
    grain = _grain_sigma_values(lum, ring)
    rng = np.random.default_rng(0)
    for i in range(1, n):
        x, y, bw, bh = stats[i, :4]
        x0, y0, x1, y1 = max(0, x - 2), max(0, y - 2), min(w, x + bw + 2), min(h, y + bh + 2)
        sx0, sy0 = int(x0 / f), int(y0 / f)
        sx1, sy1 = min(size[0], int(np.ceil(x1 / f)) + 1), min(size[1], int(np.ceil(y1 / f)) + 1)
        patch = cv2.resize(filled[sy0:sy1, sx0:sx1], (round((sx1 - sx0) * f), round((sy1 - sy0) * f)),
                           interpolation=cv2.INTER_LINEAR)
        ox, oy = x0 - round(sx0 * f), y0 - round(sy0 * f)
        patch = patch[oy:oy + (y1 - y0), ox:ox + (x1 - x0)]
        region = mask[y0:y1, x0:x1] & (labels[y0:y1, x0:x1] == i)
        region = region[:patch.shape[0], :patch.shape[1]]
        noise = rng.standard_normal(region.shape).astype(np.float32) * grain
        vals = patch.astype(np.float32) + (noise[:, :, None] if color else noise)
        target = (out[y0:y1, x0:x1, :3] if color else out[y0:y1, x0:x1])[:region.shape[0], :region.shape[1]]
        target[region] = np.clip(np.rint(vals[region]), 0, maxval).astype(pixels.dtype)
    return out


#: Ring pixels the grain of a large photo is measured on (a robust median needs no more).
_GRAIN_SAMPLES = 20_000


def _grain_sigma_values(plane: np.ndarray, ring: np.ndarray) -> float:
    """``_grain_sigma`` over a large ring, measured on a fixed random sample of its
    pixels: the same fine residual (photo - Gaussian blur, sigma 1.5) computed
    only where sampled, so a scratch across a 12 MP scan costs no full-size blur."""
    ys, xs = np.nonzero(ring)
    if len(ys) == 0:
        return 0.0
    if len(ys) > _GRAIN_SAMPLES:
        pick = np.random.default_rng(0).choice(len(ys), _GRAIN_SAMPLES, replace=False)
        ys, xs = ys[pick], xs[pick]
    kernel = cv2.getGaussianKernel(9, 1.5).astype(np.float32)[:, 0]  # the 9 taps OpenCV uses for sigma 1.5
    offsets = np.arange(len(kernel)) - len(kernel) // 2
    h, w = plane.shape
    # Each sample's 9x9 window (edges repeated at the border), blurred separably.
    rows = np.clip(ys[:, None] + offsets, 0, h - 1)[:, :, None]
    cols = np.clip(xs[:, None] + offsets, 0, w - 1)[:, None, :]
    windows = plane[rows, cols].astype(np.float32)
    blurred = (windows @ kernel) @ kernel
    fine = plane[ys, xs].astype(np.float32) - blurred
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
        ring = cv2.dilate(region.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & known
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
