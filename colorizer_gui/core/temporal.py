"""Steady colour from frame to frame: carry the previous frame's ab along optical flow.

Colorizing video frames one by one flickers: the network sees each frame anew,
so a wall that did not move changes hue a little every frame. ``Steadier``
keeps the colours it gave the previous frame, moves them to where the picture
moved (OpenCV's DIS optical flow on the small L the backend already works at),
and blends them with the new prediction:

    ab_out = w * warp(ab_prev) + (1 - w) * ab_pred,   w = keep * confidence

``confidence`` is near 1 where the flow is trustworthy and falls to 0 where it
is not: the forward and backward flows disagree (the pixel was hidden or
uncovered) or the warped previous L does not match the new L (the flow went
wrong, or something changed). So still things keep their colour, and moving or
newly visible things take the new prediction instead of a smear. At a scene
cut (the L histograms of two frames differ a lot) the state is dropped and the
new prediction is taken as it is. Because ``w`` stays below 1 the output
follows the network over a few frames (an exponential average along the
motion), so a colour that was wrong once does not stick for ever.

Pure numpy + OpenCV (no torch, no GUI), so it is tested on its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np


@dataclass(frozen=True)
class SteadyOptions:
    """How strongly colours are carried from frame to frame.

    ``keep``: weight of the carried colour where the flow is fully trusted (0: no
    steadying, every frame as predicted). 0.8 cuts frame-to-frame noise of the
    prediction to about a third (an exponential average with weight 0.2 has a
    noise gain sqrt(0.2 / 1.8)) while a changed colour is followed within a few
    frames. ``flow_side``: the flow runs on L at most this long (it follows the
    ab resolution, which is smaller still for most backends). ``fb_tolerance_px``:
    forward-backward flow disagreement (in pixels of the flow image) at which
    confidence has fallen to exp(-1). ``warp_tolerance_l``: |L_t - warped L_(t-1)|
    (CIE L units) at which confidence has fallen to exp(-1). ``cut_distance``:
    the Hellinger (Bhattacharyya) distance between the two frames' L histograms
    above which a scene cut is declared (0 same, 1 disjoint).
    """

    keep: float = 0.8
    flow_side: int = 320
    fb_tolerance_px: float = 1.5
    warp_tolerance_l: float = 6.0
    cut_distance: float = 0.35


@dataclass
class StepInfo:
    """What ``Steadier.step`` did with one frame (for progress and tests)."""

    cut: bool
    mean_confidence: float


def scene_cut_distance(lightness_a: np.ndarray, lightness_b: np.ndarray, bins: int = 32) -> float:
    """Hellinger distance between the L histograms of two frames (0 alike .. 1 disjoint).

    Histograms ignore where things are, so a pan or a person walking changes
    them little, while a cut to another scene changes them a lot."""
    hists = []
    for plane in (lightness_a, lightness_b):
        hist = cv2.calcHist([np.ascontiguousarray(plane, dtype=np.float32)], [0], None, [bins], [0.0, 100.001])
        hists.append(hist)
    return float(cv2.compareHist(hists[0], hists[1], cv2.HISTCMP_BHATTACHARYYA))


def _flow_image(lightness: np.ndarray) -> np.ndarray:
    """L in [0, 100] as the uint8 image DIS flow takes."""
    return cv2.convertScaleAbs(lightness, alpha=2.55)


def _sample(plane: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    return cv2.remap(plane, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class Steadier:
    """Carries colours along the motion from one frame to the next (one per video).

    Call ``step(lightness, ab)`` for each frame in order, with L (float32, [0, 100])
    at any size and the backend's ab prediction for it; it returns the ab to use
    (at ab's size). Not thread-safe; cheap to create.
    """

    def __init__(self, options: Optional[SteadyOptions] = None) -> None:
        self.options = options or SteadyOptions()
        # Fast preset: about 2 ms for a 320x240 pair on one core, and the colour
        # it moves is smooth, so finer flow would buy nothing visible.
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._prev_l: Optional[np.ndarray] = None   # L at flow size, float32
        self._prev_ab: Optional[np.ndarray] = None  # our own output for the previous frame
        self.last = StepInfo(cut=True, mean_confidence=0.0)

    def reset(self) -> None:
        """Forget the previous frame (the next one is taken as predicted)."""
        self._prev_l = None
        self._prev_ab = None

    def step(self, lightness: np.ndarray, ab_pred: np.ndarray, fresh: bool = False) -> np.ndarray:
        """The steadied ab for this frame (float32, ab_pred's shape).

        ``lightness``: the frame's L (float32 [0, 100]; any size, usually the one
        the backend saw). ``ab_pred``: the backend's prediction (h, w, 2).
        ``fresh``: take the prediction as it is and start carrying from here, as
        at a scene cut. This is the hook for colour hints given on a frame: that
        frame's hinted prediction should win, and is then carried on through the
        shot like any other colour.
        """
        ab_pred = np.asarray(ab_pred, dtype=np.float32)
        h, w = ab_pred.shape[:2]
        side = self.options.flow_side
        scale = min(1.0, side / max(h, w))
        fh, fw = max(8, round(h * scale)), max(8, round(w * scale))
        small_l = cv2.resize(np.asarray(lightness, dtype=np.float32), (fw, fh), interpolation=cv2.INTER_AREA)
        prev_l, prev_ab = self._prev_l, self._prev_ab
        cut = (fresh or prev_l is None or prev_ab is None or prev_l.shape != small_l.shape
               or prev_ab.shape != ab_pred.shape
               or scene_cut_distance(prev_l, small_l) > self.options.cut_distance)
        if cut or self.options.keep <= 0:
            out = ab_pred.copy()
            self.last = StepInfo(cut=cut, mean_confidence=0.0)
        else:
            confidence, map_x, map_y = self._carry(prev_l, small_l)
            # Work at ab's size: the flow field (in flow-image pixels) scales with it.
            if (fh, fw) != (h, w):
                sx, sy = w / fw, h / fh
                map_x = cv2.resize(map_x * sx, (w, h), interpolation=cv2.INTER_LINEAR)
                map_y = cv2.resize(map_y * sy, (w, h), interpolation=cv2.INTER_LINEAR)
                confidence = cv2.resize(confidence, (w, h), interpolation=cv2.INTER_LINEAR)
            carried = _sample(prev_ab, map_x, map_y)
            weight = (self.options.keep * confidence)[:, :, None]
            out = ab_pred + weight * (carried - ab_pred)
            self.last = StepInfo(cut=False, mean_confidence=float(confidence.mean()))
        self._prev_l = small_l
        self._prev_ab = out
        return out

    def _carry(self, prev_l: np.ndarray, cur_l: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(confidence, map_x, map_y): where each pixel of the current frame was in
        the previous one, and how far that can be trusted (both at flow size)."""
        opts = self.options
        prev8, cur8 = _flow_image(prev_l), _flow_image(cur_l)
        back = self._dis.calc(cur8, prev8, None)   # current pixel -> its place in the previous frame
        fwd = self._dis.calc(prev8, cur8, None)    # previous pixel -> its place in the current frame
        fh, fw = cur_l.shape
        ys, xs = np.mgrid[0:fh, 0:fw].astype(np.float32)
        map_x = xs + back[:, :, 0]
        map_y = ys + back[:, :, 1]
        # Forward-backward check: going back then forward again should land where we started.
        fwd_there = _sample(fwd, map_x, map_y)
        fb_err2 = (back[:, :, 0] + fwd_there[:, :, 0]) ** 2 + (back[:, :, 1] + fwd_there[:, :, 1]) ** 2
        # Warp-error check: the previous frame moved along the flow should look like this one.
        warp_err = np.abs(_sample(prev_l, map_x, map_y) - cur_l)
        outside = (map_x < 0) | (map_x > fw - 1) | (map_y < 0) | (map_y > fh - 1)
        confidence = np.exp(-fb_err2 / opts.fb_tolerance_px ** 2 - (warp_err / opts.warp_tolerance_l) ** 2)
        confidence[outside] = 0.0  # newly entered the picture: nothing to carry
        return confidence.astype(np.float32), map_x, map_y


def temporal_flicker(ab_frames: list[np.ndarray]) -> float:
    """Mean |ab(t) - ab(t-1)| over consecutive frames (Euclidean in ab, averaged
    over pixels and frame pairs): how much the colour changes from frame to frame.

    The bench divides an output's figure by the ground truth's own, since real
    motion changes colours too."""
    meter = FlickerMeter()
    for ab in ab_frames:
        meter.add(ab)
    return meter.value


class FlickerMeter:
    """``temporal_flicker`` computed as frames stream by (memory flat with length)."""

    def __init__(self) -> None:
        self._prev: Optional[np.ndarray] = None
        self._total = 0.0
        self._pairs = 0

    def add(self, ab: np.ndarray) -> None:
        """Add the next frame's ab."""
        ab = ab.astype(np.float32)
        if self._prev is not None and self._prev.shape == ab.shape:
            diff = ab - self._prev
            self._total += float(np.sqrt((diff ** 2).sum(axis=2)).mean())
            self._pairs += 1
        self._prev = ab

    @property
    def value(self) -> float:
        """Mean |ab(t) - ab(t-1)| so far (0 before two frames)."""
        return self._total / self._pairs if self._pairs else 0.0


__all__ = ["FlickerMeter", "SteadyOptions", "Steadier", "StepInfo", "scene_cut_distance", "temporal_flicker"]
