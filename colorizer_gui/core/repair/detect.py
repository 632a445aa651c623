"""Find damage on a scanned print: scratches, dust specks, hairs and creases.

Classical detector. Damage is thin (a few pixels at the scan's resolution) and
stands out from a median-filtered background by much more than the photo's local
noise; real fine detail (spokes, text, foliage, grain) comes in dense clusters of
such structures, while damage is sparse. So:

1. residual = photo - median(photo) at a few scales set by the photo's size;
2. candidates = residual beyond ``k`` times the local noise (robust MAD),
   grown by hysteresis to the structure's full width;
3. each connected structure is kept when it is a small speck or a thin line and
   its neighbourhood is not busy with other candidates (texture, text, spokes).
"""
from __future__ import annotations

import cv2
import numpy as np

#: The default for typical scans; higher finds more on heavily damaged ones.
DEFAULT_SENSITIVITY = 0.5

#: Photos larger than this many reference sizes are searched at that size.
MAX_WORK_SCALE = 1.5

#: The long side (px) at which the detector's sizes below are given.
_REFERENCE_SIDE = 800.0


def _odd(n: float) -> int:
    n = max(3, int(round(n)))
    return n if n % 2 else n + 1


def photo_scale(height: int, width: int) -> float:
    """How many pixels of this photo one pixel of the reference size spans."""
    return max(1.0, max(height, width) / _REFERENCE_SIDE)


def _as_levels(gray: np.ndarray) -> np.ndarray:
    """Luminance as uint8 levels (detection does not need 16 bits)."""
    if gray.ndim != 2:
        raise ValueError(f"detect_damage wants an HxW luminance, got shape {gray.shape}")
    if gray.dtype == np.uint8:
        return gray
    if gray.dtype == np.uint16:
        return (gray.astype(np.uint32) * 255 + 32767 >> 16).astype(np.uint8)  # rint(g/257)
    return np.clip(np.rint(gray.astype(np.float32)), 0, 255).astype(np.uint8)


def _thresholds(sensitivity: float) -> tuple[float, float, float]:
    """(seed threshold in noise sigmas, minimum contrast in levels, neighbours allowed)."""
    s = float(np.clip(sensitivity, 0.0, 1.0))
    seed_k = 9.0 - 6.0 * s          # 9 sigma at 0, 6 at the default, 3 at 1
    min_contrast = 34.0 - 28.0 * s  # levels of 255 a mark must stand out by
    busy = 2.0 + 6.0 * s            # other marks allowed close by (text, spokes are crowded)
    return seed_k, min_contrast, busy


def _residual(g: np.ndarray, ksize: int) -> np.ndarray:
    """photo - median background, in levels (float32)."""
    return g.astype(np.float32) - cv2.medianBlur(g, ksize).astype(np.float32)


#: Half-widths (reference px) at which a bar is compared with both its sides.
_BAR_RADII = (2.0, 4.0, 6.0)
#: Directions across a bar (8 of them: every 22.5 degrees, both ways are tested at once).
_DIRECTIONS = tuple((np.cos(a), np.sin(a)) for a in np.arange(8) * np.pi / 8)


def _shifted(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_NEAREST,
                          borderMode=cv2.BORDER_REPLICATE)


def _bar_residual(g: np.ndarray, scale: float) -> np.ndarray:
    """How far each pixel stands out from BOTH sides of it in some direction
    (float32 levels; > 0 light, < 0 dark). A bar or a speck (scratch, hair, dust)
    differs from both sides; the side of a step edge (an object's outline) differs
    from one side only and scores about 0, so outlines are not taken for damage."""
    sides = cv2.blur(g, (3, 3))
    light = np.zeros(g.shape, np.int16)
    dark = np.zeros(g.shape, np.int16)
    g16 = g.astype(np.int16)
    for radius in _BAR_RADII:
        r = radius * scale
        for cx, cy in _DIRECTIONS:
            a = _shifted(sides, r * cx, r * cy)
            b = _shifted(sides, -r * cx, -r * cy)
            np.maximum(light, g16 - cv2.max(a, b).astype(np.int16), out=light)
            np.maximum(dark, cv2.min(a, b).astype(np.int16) - g16, out=dark)
    return np.where(light >= dark, light, -dark).astype(np.float32)


def _local_sigma(resid: np.ndarray, window: int) -> np.ndarray:
    """Local noise sigma from the mean absolute residual (x1.25: Gaussian)."""
    absr = np.minimum(np.abs(resid), 3.0 * float(np.median(np.abs(resid))) * 1.4826 + 1.0)
    return cv2.blur(absr, (window, window)) * 1.25 + 0.75


def detect_damage(gray: np.ndarray, sensitivity: float = DEFAULT_SENSITIVITY) -> np.ndarray:
    """Boolean HxW mask of the damage on ``gray`` (HxW uint8 or uint16 luminance of
    the upright photo at full resolution). ``sensitivity`` in [0, 1]."""
    if not 0.0 <= float(sensitivity) <= 1.0:
        raise ValueError(f"sensitivity must be between 0 and 1, got {sensitivity}")
    g = _as_levels(gray)
    h, w = g.shape
    if h < 8 or w < 8:
        return np.zeros((h, w), bool)
    scale = photo_scale(h, w)
    if scale > MAX_WORK_SCALE:
        # A large scan of a print has the print's marks, only larger: find them at
        # the working size (the time stays that of a ~1.5 MP photo) and bring the
        # mask back, a little wider for the finer outline it had.
        f = scale / MAX_WORK_SCALE
        small = cv2.resize(g, (max(8, round(w / f)), max(8, round(h / f))), interpolation=cv2.INTER_AREA)
        found = detect_damage(small, sensitivity).astype(np.uint8)
        big = cv2.resize(found, (w, h), interpolation=cv2.INTER_NEAREST)
        r = max(1, int(np.ceil(f / 2)))
        return cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))).astype(bool)
    seed_k, min_contrast, _busy = _thresholds(sensitivity)
    resid = damage_residual(g, scale)
    sigma = _local_sigma(resid, _odd(31 * scale))
    z = np.abs(resid) / sigma
    seeds = (z > seed_k) & (np.abs(resid) > min_contrast)
    grow = (z > seed_k * 0.5) & (np.abs(resid) > min_contrast * 0.5)
    return keep_damage_shapes(grow, seeds, resid > 0, sensitivity)


def damage_residual(g: np.ndarray, scale: float) -> np.ndarray:
    """How far each pixel of ``g`` (uint8) stands out as a mark (float32 levels,
    > 0 light, < 0 dark): the difference from a median background at two scales
    (specks and hairlines; wider scratches and creases), kept only where the pixel
    also differs from both its sides in some direction, i.e. not on an outline."""
    resid = None
    for size in (7.0, 15.0):
        r = _residual(g, _odd(size * scale))
        resid = r if resid is None else np.where(np.abs(r) > np.abs(resid), r, resid)
    bar = _bar_residual(g, scale)
    return np.where((bar * resid > 0) & (np.abs(bar) >= 0.4 * np.abs(resid)), resid, 0.0).astype(np.float32)


def keep_damage_shapes(grow: np.ndarray, seeds: np.ndarray, light: np.ndarray,
                       sensitivity: float = DEFAULT_SENSITIVITY, families_only: bool = False) -> np.ndarray:
    """The damage among candidate pixels ``grow`` (bool HxW): the connected
    structures holding a ``seeds`` pixel that are specks or single thin lines, in
    a place not crowded with others like them (text, spokes, stars, wires,
    hatching), widened by a pixel for their soft rim. ``light``: where a mark
    would be lighter than its surroundings (light and dark marks are separate
    structures). ``families_only``: keep every structure except families of real
    lines (a net of lines such as a spoked wheel, long lines running beside
    others), for a detector whose candidates are already
    damage-shaped (the learned one)."""
    h, w = grow.shape
    scale = photo_scale(h, w)
    _seed_k, _contrast, busy = _thresholds(sensitivity)
    mask = np.zeros((h, w), bool)
    # Neighbours of both kinds count towards how busy a place is.
    parts = [_components(grow & polarity, seeds & polarity) for polarity in (light, ~light)]
    shapes = [_classify(labels, stats, seeded, scale) for labels, stats, seeded, _c in parts]
    crowd = _crowding([p[3] for p in parts], (h, w), _odd(121 * scale))
    speck_crowd = _crowding([cents[kind[np.flatnonzero(seeded)] == SPECK]
                             for (_l, _s, seeded, cents), (kind, _w) in zip(parts, shapes)],
                            (h, w), _odd(121 * scale))
    density = cv2.blur(grow.astype(np.float32), (_odd(31 * scale),) * 2)
    for (labels, stats, seeded, cents), (kind, width) in zip(parts, shapes):
        mask |= _keep(labels, stats, seeded, cents, kind, width, crowd, speck_crowd, density,
                      _odd(31 * scale), scale, busy, families_only)
    if mask.any():
        # The soft rim of a mark carries its halo: paint a pixel beyond it.
        r = max(1, int(round(scale)))
        mask = cv2.dilate(mask.astype(np.uint8), cv2.getStructuringElement(
            cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))).astype(bool)
    return mask


def _components(grow: np.ndarray, seeds: np.ndarray):
    """(labels, stats, seeded flags, centroids of the seeded) of ``grow``'s structures."""
    n, labels, stats, cents = cv2.connectedComponentsWithStats(grow.astype(np.uint8), connectivity=8)
    seeded = np.bincount(labels.ravel(), weights=seeds.ravel(), minlength=n) > 0
    seeded[0] = False
    return labels, stats, seeded, cents[seeded]


def _crowding(centroid_sets: list[np.ndarray], shape: tuple[int, int], win: int) -> np.ndarray:
    """How many seeded structures have their centre within the ``win`` box around
    each pixel (float32 HxW)."""
    h, w = shape
    dots = np.zeros((h, w), np.float32)
    for cents in centroid_sets:
        if len(cents):
            xs = np.clip(np.rint(cents[:, 0]).astype(int), 0, w - 1)
            ys = np.clip(np.rint(cents[:, 1]).astype(int), 0, h - 1)
            np.add.at(dots, (ys, xs), 1.0)
    return cv2.boxFilter(dots, -1, (win, win), normalize=False, borderType=cv2.BORDER_CONSTANT)


SPECK, LINE, OTHER = 1, 2, 0


def _long_neighbours(labels: np.ndarray, stats: np.ndarray, long_line: np.ndarray, scale: float) -> np.ndarray:
    """For each long line, how many other long lines come within a band around it."""
    out = np.zeros(len(stats))
    ids = np.flatnonzero(long_line)
    if len(ids) < 2:
        return out
    lut = np.zeros(len(stats), np.int32)
    lut[ids] = ids
    long_labels = lut[labels]
    band = max(3, int(round(20 * scale)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    h, w = labels.shape
    for i in ids:
        x, y, cw, ch = stats[i, :4]
        x0, y0, x1, y1 = max(0, x - band), max(0, y - band), min(w, x + cw + band), min(h, y + ch + band)
        crop = long_labels[y0:y1, x0:x1]
        near = cv2.dilate((crop == i).astype(np.uint8), kernel).astype(bool)
        found = np.unique(crop[near])
        out[i] = np.count_nonzero((found != 0) & (found != i))
    return out


def _classify(labels: np.ndarray, stats: np.ndarray, seeded: np.ndarray, scale: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """(kind, width) of each structure: SPECK (small blob), LINE (one thin curve:
    its skeleton is hardly longer than its box's diagonal, so a spoked wheel or a
    net of lines is not one), or OTHER."""
    n = len(stats)
    kind = np.zeros(n, np.int8)
    width = np.zeros(n)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    bw = stats[:, cv2.CC_STAT_WIDTH].astype(np.float64)
    bh = stats[:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    diag = np.hypot(bw, bh)
    kind[(np.maximum(bw, bh) <= 8.0 * scale) & seeded] = SPECK
    for i in np.flatnonzero(seeded & (diag >= 10.0 * scale) & (kind != SPECK)):
        x, y, cw, ch = stats[i, :4]
        crop = (labels[y:y + ch, x:x + cw] == i).astype(np.uint8) * 255
        skeleton = float(np.count_nonzero(cv2.ximgproc.thinning(crop)))
        width[i] = area[i] / max(skeleton, 1.0)
        if width[i] <= 5.0 * scale and skeleton <= 2.5 * diag[i]:
            kind[i] = LINE
        elif skeleton <= 2.5 * diag[i]:
            width[i] = 0.0  # a wide blob, not a net of lines
    return kind, width


def _keep(labels: np.ndarray, stats: np.ndarray, seeded: np.ndarray, centroids: np.ndarray,
          kind: np.ndarray, width: np.ndarray, crowd: np.ndarray, speck_crowd: np.ndarray,
          density: np.ndarray, window: int, scale: float, busy: float,
          families_only: bool = False) -> np.ndarray:
    """The structures that look like damage: specks and thin lines in a place not
    crowded with other marks (text, spokes, stars, hatching, texture)."""
    n = len(stats)
    if n <= 1:
        return np.zeros(labels.shape, bool)
    h, w = labels.shape
    idx = np.flatnonzero(seeded)
    xs = np.clip(np.rint(centroids[:, 0]).astype(int), 0, w - 1)
    ys = np.clip(np.rint(centroids[:, 1]).astype(int), 0, h - 1)
    near = np.zeros(n)
    near[idx] = crowd[ys, xs] - 1.0            # any marks centred close by
    near_specks = np.zeros(n)
    near_specks[idx] = speck_crowd[ys, xs] - (kind[idx] == SPECK)  # specks further around
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    # Along a line: the share of its neighbourhood other candidates fill (hatching, fabric).
    around = np.bincount(labels.ravel(), weights=density.ravel(), minlength=n) / np.maximum(area, 1)
    others = around - np.maximum(width, 1.0) / window
    length = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    speck_ok = (kind == SPECK) & (near <= busy) & (near_specks <= busy)
    long_line = (kind == LINE) & (length >= 60.0 * scale)
    short_ok = (kind == LINE) & ~long_line & (near <= busy) & (others <= 0.02 + 0.02 * busy)
    # A long line stays damage unless other long lines run beside or across it:
    # spokes, wires, hatching and railings come in families, a scratch alone.
    long_ok = long_line & (_long_neighbours(labels, stats, long_line, scale) <= busy / 2.0)
    line_ok = short_ok | long_ok
    if families_only:
        net_of_lines = (kind == OTHER) & (length >= 60.0 * scale) & (width > 0)
        family = (long_line & ~long_ok) | net_of_lines
        keep = seeded & ~family
        keep[0] = False
        return keep[labels]
    keep = seeded & (speck_ok | line_ok)
    keep[0] = False
    return keep[labels]
