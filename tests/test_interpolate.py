"""Network interpolation of two generators (training/interpolate.py)."""
from __future__ import annotations

import pytest
import torch

from colorizer_gui.nets.weights_io import WeightsError, load_generator
from tiny_cgan import make_tiny_generator_file
from training.interpolate import interpolate_generators, main


def _outputs(path, l_norm):
    model, _meta = load_generator(path)
    with torch.no_grad():
        return model(l_norm)


def test_alpha_ends_give_each_model_back_and_the_middle_blends(tmp_path):
    a = make_tiny_generator_file(tmp_path / "a.safetensors", seed=1)
    b = make_tiny_generator_file(tmp_path / "b.safetensors", seed=2)
    l_norm = torch.linspace(-1, 1, 64 * 64).reshape(1, 1, 64, 64)
    out_a, out_b = _outputs(a, l_norm), _outputs(b, l_norm)
    assert not torch.allclose(out_a, out_b, atol=1e-2)

    for alpha, expected in ((0.0, out_a), (1.0, out_b)):
        mixed = interpolate_generators(a, b, alpha, tmp_path / f"mix{alpha}.safetensors")
        assert torch.allclose(_outputs(mixed, l_norm), expected, atol=2e-3)  # fp16 on disk

    half = interpolate_generators(a, b, 0.5, tmp_path / "half.safetensors")
    model_a, _ = load_generator(a)
    model_b, _ = load_generator(b)
    model_h, meta = load_generator(half)
    name = next(n for n, t in model_a.state_dict().items() if t.is_floating_point() and t.numel() > 8)
    want = (model_a.state_dict()[name] + model_b.state_dict()[name]) / 2
    assert torch.allclose(model_h.state_dict()[name], want, atol=2e-3)
    assert '"alpha": 0.5' in meta["interpolation"]


def test_different_architectures_and_bad_alpha_are_refused(tmp_path, capsys):
    a = make_tiny_generator_file(tmp_path / "a.safetensors", arch="lite0-unet")
    p = make_tiny_generator_file(tmp_path / "p.safetensors", arch="pix2pix")
    with pytest.raises(WeightsError, match="different networks"):
        interpolate_generators(a, p, 0.5, tmp_path / "x.safetensors")
    assert main([str(a), str(a), "--alpha", "1.5", "--out", str(tmp_path / "y.safetensors")]) == 1
    assert "alpha must be between 0 and 1" in capsys.readouterr().out
    assert not (tmp_path / "x.safetensors").exists() and not (tmp_path / "y.safetensors").exists()
