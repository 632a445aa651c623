"""The steady-colour maths (core/temporal.py): still things keep their colour,
moving things carry theirs along, new things and scene cuts take the new prediction."""
from __future__ import annotations

import numpy as np
import pytest

from colorizer_gui.core.temporal import FlickerMeter, Steadier, SteadyOptions, scene_cut_distance, temporal_flicker

H, W = 96, 128


def textured_l(seed: int = 0, shift: int = 0) -> np.ndarray:
    """A smooth but textured L picture (blobs), shifted ``shift`` px to the right."""
    rng = np.random.default_rng(seed)
    import cv2

    noise = rng.random((H, W + 64)).astype(np.float32)
    blobs = cv2.GaussianBlur(noise, (0, 0), 3)
    blobs = (blobs - blobs.min()) / (blobs.max() - blobs.min())
    return (20 + 60 * blobs[:, 32 - shift:32 - shift + W]).astype(np.float32)


def noisy_prediction(truth_ab: np.ndarray, rng: np.random.Generator, sigma: float = 6.0) -> np.ndarray:
    """What a per-frame network does: the right colour plus a new global hue wobble each frame."""
    wobble = rng.normal(0, sigma, 2).astype(np.float32)
    return truth_ab + wobble + rng.normal(0, 1.0, truth_ab.shape).astype(np.float32)


def test_still_scene_flickers_far_less_and_keeps_its_color():
    rng = np.random.default_rng(1)
    lightness = textured_l()
    truth = np.zeros((H, W, 2), np.float32)
    truth[..., 0], truth[..., 1] = 20.0, -10.0
    steady = Steadier()
    raw, out = [], []
    for _ in range(30):
        pred = noisy_prediction(truth, rng)
        raw.append(pred)
        out.append(steady.step(lightness, pred))
    assert temporal_flicker(out) < 0.5 * temporal_flicker(raw)
    # Steadying averages the noise, it does not drift away from the predicted colour.
    drift = np.mean(out[10:], axis=(0, 1, 2)) - np.mean(raw[10:], axis=(0, 1, 2))
    assert np.abs(drift).max() < 1.5
    assert steady.last.mean_confidence > 0.8


def test_color_moves_with_the_picture():
    """A coloured patch that moves right keeps its colour on the patch, not where it was."""
    steady = Steadier(SteadyOptions(keep=1.0))  # carry only, to see where the colour goes
    first_ab = np.zeros((H, W, 2), np.float32)
    first_ab[30:60, 40:70] = (40.0, 30.0)
    steady.step(textured_l(shift=0), first_ab)
    moved = steady.step(textured_l(shift=4), np.zeros((H, W, 2), np.float32))
    # The patch's colour is now 4 px further right, where the texture went.
    assert moved[40:50, 50:66, 0].mean() > 30
    assert moved[40:50, 71:73, 0].mean() > 20  # the patch's new right edge
    assert moved[40:50, 41:43, 0].mean() < 10  # its old left edge is uncovered


def test_where_the_picture_changed_the_new_prediction_wins():
    rng = np.random.default_rng(2)
    lightness = textured_l()
    steady = Steadier()
    steady.step(lightness, np.full((H, W, 2), 25.0, np.float32))
    changed = lightness.copy()
    changed[20:50, 20:50] = 95.0  # something bright appears there
    out = steady.step(changed, np.full((H, W, 2), -25.0, np.float32) + rng.normal(0, 0.1, (H, W, 2)).astype(np.float32))
    assert out[30:40, 30:40].mean() < -20  # the new thing: the new prediction
    assert out[70:90, 90:120].mean() > 5  # the unchanged rest still leans to the old colour


def test_scene_cut_resets_and_fresh_frame_is_taken_as_predicted():
    steady = Steadier()
    steady.step(textured_l(seed=0), np.full((H, W, 2), 30.0, np.float32))
    other_scene = 90.0 - textured_l(seed=5) * 0.3  # a bright, different picture
    assert scene_cut_distance(textured_l(seed=0), other_scene) > SteadyOptions().cut_distance
    pred = np.full((H, W, 2), -30.0, np.float32)
    assert np.array_equal(steady.step(other_scene, pred), pred)
    assert steady.last.cut
    # Same scene, but marked fresh (a frame with colour hints): the prediction wins.
    pred2 = np.full((H, W, 2), 10.0, np.float32)
    assert np.array_equal(steady.step(other_scene, pred2, fresh=True), pred2)


def test_same_scene_is_not_a_cut():
    assert scene_cut_distance(textured_l(shift=0), textured_l(shift=6)) < SteadyOptions().cut_distance


def test_flow_at_a_different_size_than_ab():
    """L at frame size, ab at the backend's smaller size, flow capped at flow_side."""
    steady = Steadier(SteadyOptions(flow_side=64))
    import cv2

    big = cv2.resize(textured_l(), (W * 4, H * 4))
    ab = np.full((H // 2, W // 2, 2), 12.0, np.float32)
    steady.step(big, ab)
    out = steady.step(big, ab + 4)
    assert out.shape == ab.shape and out.dtype == np.float32
    assert 12.0 < out.mean() < 16.0


def test_keep_zero_is_per_frame_colorization():
    steady = Steadier(SteadyOptions(keep=0.0))
    lightness = textured_l()
    steady.step(lightness, np.zeros((H, W, 2), np.float32))
    pred = np.full((H, W, 2), 7.0, np.float32)
    assert np.array_equal(steady.step(lightness, pred), pred)


def test_flicker_meter_matches_the_list_version():
    rng = np.random.default_rng(3)
    frames = [rng.normal(0, 5, (8, 8, 2)).astype(np.float32) for _ in range(5)]
    meter = FlickerMeter()
    for f in frames:
        meter.add(f)
    assert meter.value == pytest.approx(temporal_flicker(frames))
    assert temporal_flicker(frames[:1]) == 0.0
    assert temporal_flicker([np.zeros((4, 4, 2)), np.full((4, 4, 2), [3.0, 4.0])]) == pytest.approx(5.0)
