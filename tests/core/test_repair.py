"""Repair of damaged prints (core): damage is found and painted out, real thin
detail and the pixels outside the mask are left alone, any depth and layout."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from colorizer_gui.core.repair import (RepairSettings, damage_mask, detect_damage, fill_damage,
                                       repair_pixels, restore_contrast)
from colorizer_gui.core.repair.damage import DamageAmount, add_damage

from repair_factory import rgb_of as _rgb, scene as _scene, wheel_and_text as _wheel_and_text


def test_synthesized_damage_is_found_and_filled() -> None:
    clean = _scene()
    damaged, truth = add_damage(clean, np.random.default_rng(1))
    result = repair_pixels(damaged)
    strong = truth & (np.abs(damaged.astype(int) - clean.astype(int)) > 40)
    assert (result.mask & strong).sum() >= 0.75 * strong.sum()
    # Inside the damage the repaired photo is much closer to the clean one.
    err_before = np.abs(damaged.astype(int) - clean.astype(int))[strong].mean()
    err_after = np.abs(result.pixels.astype(int) - clean.astype(int))[strong].mean()
    assert err_after < 0.35 * err_before
    far = ~cv2.dilate(truth.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert (result.pixels[far] == damaged[far]).mean() >= 0.99


def test_clean_photo_with_spokes_and_text_comes_back_unchanged() -> None:
    clean = _wheel_and_text()
    result = repair_pixels(clean)
    changed = (np.abs(result.pixels.astype(int) - clean.astype(int)) > 3).mean()
    assert changed <= 0.005


def test_fill_keeps_pixels_outside_the_mask_and_the_grain() -> None:
    photo = _scene()
    mask = np.zeros(photo.shape, bool)
    mask[100:104, 20:460] = True
    mask[250:253, 200:203] = True
    out = fill_damage(photo, mask)
    assert out.dtype == photo.dtype and out.shape == photo.shape
    assert np.array_equal(out[~mask], photo[~mask])
    # Not a smooth smear: the filled line has grain like the rows around it.
    fine = lambda a: a.astype(np.float32) - cv2.GaussianBlur(a.astype(np.float32), (0, 0), 1.5)
    inside = fine(out)[101:103, 40:440].std()
    around = fine(photo)[90:98, 40:440].std()
    assert 0.5 * around < inside < 1.6 * around


@pytest.mark.parametrize("layout", ["gray8", "rgba8"])
def test_a_large_scan_is_filled_with_its_tone_and_grain(layout: str) -> None:
    # Over fill.py's _MAX_FILL_SIDE: the tone is filled on a smaller copy, the grain at full size.
    clean = cv2.resize(_scene(), (2400, 1800), interpolation=cv2.INTER_CUBIC)
    grain = np.random.default_rng(4).normal(0, 4, clean.shape)
    clean = np.clip(clean + grain, 0, 255).astype(np.uint8)
    damaged = clean.copy()
    mask = np.zeros(clean.shape, bool)
    mask[900:906, 100:2300] = True
    damaged[mask] = 250
    px = damaged if layout == "gray8" else np.dstack([_rgb(damaged), np.full(damaged.shape, 90, np.uint8)])
    out = fill_damage(px, mask)
    assert out.shape == px.shape and out.dtype == px.dtype
    assert np.array_equal(out[~mask], px[~mask])
    lum = out if layout == "gray8" else out[:, :, :3].mean(axis=2)
    err = np.abs(lum[mask].astype(np.float32) - clean[mask])
    assert err.mean() < 12  # the scratch was 100+ levels off
    fine = lambda a: a.astype(np.float32) - cv2.GaussianBlur(a.astype(np.float32), (0, 0), 1.5)
    inside = fine(lum)[901:905, 200:2200].std()
    around = fine(clean)[880:895, 200:2200].std()
    assert 0.5 * around < inside < 1.6 * around
    if layout == "rgba8":
        assert np.array_equal(out[:, :, 3], px[:, :, 3])


def test_a_one_pixel_scratch_on_a_large_scan_leaves_no_ghost() -> None:
    # The tone is filled on a copy 2.5x smaller: a 1 px line must still be filled there,
    # or the copy's tone keeps a blurred scratch that comes back in the fill.
    clean = cv2.resize(_scene(), (4000, 3000), interpolation=cv2.INTER_CUBIC)
    clean = np.clip(clean + np.random.default_rng(4).normal(0, 3, clean.shape), 0, 255).astype(np.uint8)
    damaged, mask = clean.copy(), np.zeros(clean.shape, bool)
    mask[1200, 100:3900] = True
    mask[300:2800, 1501] = True
    mask[2000, 3000] = True
    damaged[mask] = 250
    out = fill_damage(damaged, mask)
    err = np.abs(out[mask].astype(np.float32) - clean[mask])
    assert err.mean() < 8  # was 40 levels: a third of the scratch left
    assert np.array_equal(out[~mask], damaged[~mask])


@pytest.mark.parametrize("layout", ["gray16", "rgb8", "rgb16", "rgba8"])
def test_depths_and_layouts_keep_shape_dtype_and_outside_pixels(layout: str) -> None:
    clean = _scene(240, 320, seed=5)
    damaged, truth = add_damage(clean, np.random.default_rng(2), DamageAmount(specks=10))
    px = {"gray16": damaged.astype(np.uint16) * 257, "rgb8": _rgb(damaged),
          "rgb16": _rgb(damaged).astype(np.uint16) * 257,
          "rgba8": np.dstack([_rgb(damaged), np.full(damaged.shape, 200, np.uint8)])}[layout]
    result = repair_pixels(px)
    assert result.pixels.shape == px.shape and result.pixels.dtype == px.dtype
    assert result.mask.shape == px.shape[:2] and result.mask.dtype == bool
    assert result.mask.any()
    assert np.array_equal(result.pixels[~result.mask], px[~result.mask])
    if layout == "rgba8":
        assert np.array_equal(result.pixels[:, :, 3], px[:, :, 3])
    # The same damage is found whatever the depth or layout.
    base = detect_damage(damaged)
    assert (result.mask ^ base).mean() < 0.001


def test_brush_masks_add_and_remove() -> None:
    photo = _scene()
    found = damage_mask(photo)
    add = np.zeros(photo.shape, bool)
    add[10:20, 10:20] = True
    remove = np.ones(photo.shape, bool)
    remove[:, :240] = False
    mask = damage_mask(photo, RepairSettings(), add=add, remove=remove)
    assert mask[10:20, 10:20].all() and not mask[:, 240:].any()
    assert np.array_equal(mask[:, :240] & ~add[:, :240], found[:, :240] & ~add[:, :240])
    with pytest.raises(ValueError):
        damage_mask(photo, add=np.zeros((5, 5), bool))


def test_sensitivity_is_checked_and_higher_finds_more() -> None:
    with pytest.raises(ValueError):
        RepairSettings(sensitivity=1.5)
    damaged, _truth = add_damage(_scene(), np.random.default_rng(4))
    assert detect_damage(damaged, 0.9).sum() >= detect_damage(damaged, 0.1).sum()


def test_detector_scales_with_resolution() -> None:
    """The same print scanned at 3x finds the same damage (scaled up)."""
    clean = _scene(450, 800)
    damaged, truth = add_damage(clean, np.random.default_rng(6))
    small = detect_damage(damaged)
    big = cv2.resize(damaged, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    found_big = cv2.resize(detect_damage(big).astype(np.uint8), small.shape[::-1],
                           interpolation=cv2.INTER_AREA) > 0
    strong = truth & (np.abs(damaged.astype(int) - clean.astype(int)) > 40)
    assert (found_big & strong).sum() >= 0.7 * (small & strong).sum()


def test_restore_contrast_stretches_a_faded_print() -> None:
    faded = (_scene().astype(np.float32) * 0.4 + 100).astype(np.uint8)
    out = restore_contrast(faded)
    assert out.shape == faded.shape and out.dtype == faded.dtype
    assert np.percentile(out, 99) - np.percentile(out, 1) > 1.8 * (np.percentile(faded, 99) - np.percentile(faded, 1))
    rgb16 = _rgb(faded).astype(np.uint16) * 257
    out16 = restore_contrast(rgb16)
    assert out16.dtype == np.uint16 and out16.shape == rgb16.shape
