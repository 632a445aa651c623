"""The feature loss on a frozen ImageNet encoder (training/feature_loss.py) and its training flag."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from colorizer_gui.core import color
from training.feature_loss import FeatureLoss, lab_to_srgb
from training.options import TrainOptions

from test_training import _few_threads, train_both_stages  # noqa: F401 - the fixture applies here too


def test_lab_to_srgb_matches_the_apps_own_conversion():
    rng = np.random.default_rng(3)
    rgb = rng.random((24, 40, 3)).astype(np.float32)
    rgb[0, :3] = [[0, 0, 0], [1, 1, 1], [1, 0, 0]]  # black, white and a gamut corner
    lab = torch.from_numpy(color.rgb_to_lab(rgb)).permute(2, 0, 1)[None]
    back = lab_to_srgb(lab[:, :1], lab[:, 1:])[0].permute(1, 2, 0).numpy()
    assert np.abs(back - rgb).max() < 0.01
    # Colours sRGB cannot show are clipped into [0, 1], never NaN.
    wild = lab_to_srgb(torch.full((1, 1, 2, 2), 50.0), torch.full((1, 2, 2, 2), 120.0))
    assert torch.isfinite(wild).all() and wild.min() >= 0 and wild.max() <= 1


@pytest.fixture(scope="module")
def feature_loss():
    torch.manual_seed(0)
    return FeatureLoss()


def test_feature_loss_is_zero_for_the_truth_and_pulls_dull_colours_toward_it(feature_loss):
    torch.manual_seed(0)
    l_norm = torch.rand(2, 1, 64, 64) * 1.6 - 0.8
    truth = torch.zeros(2, 2, 64, 64)
    truth[:, 0, :, :32] = 0.45   # a red half
    truth[:, 1, :, 32:] = -0.4   # a blue half
    assert float(feature_loss(l_norm, truth, truth)) < 1e-6
    dull = (0.3 * truth).requires_grad_()
    loss = feature_loss(l_norm, dull, truth)
    assert float(loss.detach()) > 0.01
    loss.backward()
    # A small step along the gradient brings the colours closer to the truth's...
    stepped = (dull - 0.05 * dull.grad / dull.grad.abs().max()).detach()
    assert float(feature_loss(l_norm, stepped, truth)) < float(loss)
    # ...and the frozen encoder learns nothing, and stays in eval mode when training.
    assert all(p.grad is None and not p.requires_grad for p in feature_loss.encoder.parameters())
    feature_loss.train()
    assert not feature_loss.encoder.training


def test_lambda_feature_trains_and_goes_with_regression_objectives_only(tmp_path):
    losses = train_both_stages(tmp_path, lambda_feature=0.5)
    assert "loss_l1_feature" in losses[0] and {"loss_l1_feature", "loss_l1"} <= set(losses[-1])
    assert all(np.isfinite(v) for m in losses for v in m.values())
    with pytest.raises(ValueError, match="--lambda-feature"):
        TrainOptions(data_dir="d", out="o.safetensors", objective="class", lambda_feature=1.0).validate()
    with pytest.raises(ValueError, match="--lambda-feature"):
        TrainOptions(data_dir="d", out="o.safetensors", lambda_feature=-1.0).validate()


def test_train_cli_takes_lambda_feature(tmp_path):
    from training.cli import build_parser, options_from_args

    args = build_parser().parse_args([str(tmp_path), "--out", "m.safetensors", "--lambda-feature", "0.1"])
    assert options_from_args(args).lambda_feature == 0.1
