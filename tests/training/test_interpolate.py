"""Network interpolation and weight averaging of generators (training/interpolate.py)."""
from __future__ import annotations

import pytest
import torch

from colorizer_gui.nets.weights_io import WeightsError, load_generator
from tiny_cgan import make_tiny_generator_file
from training.interpolate import average_generators, interpolate_generators, main


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


def test_mean_of_snapshots_averages_every_weight_and_statistic(tmp_path, capsys):
    paths = [make_tiny_generator_file(tmp_path / f"s{i}.safetensors", seed=i) for i in (1, 2, 3)]
    states = [load_generator(p)[0].state_dict() for p in paths]
    out = tmp_path / "swa.safetensors"
    assert main([*map(str, paths), "--mean", "--out", str(out)]) == 0
    model, meta = load_generator(out)
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point():  # weights and BatchNorm running statistics alike
            want = sum(state[name] for state in states) / 3
            assert torch.allclose(tensor, want, atol=2e-3, rtol=2e-3), name  # fp16 on disk
    assert '"mean_of": ["s1.safetensors", "s2.safetensors", "s3.safetensors"]' in meta["interpolation"]
    # The mean of one model's copies is that model: nothing drifts in the sums.
    same = average_generators([paths[0], paths[0]], tmp_path / "same.safetensors")
    l_norm = torch.linspace(-1, 1, 64 * 64).reshape(1, 1, 64, 64)
    assert torch.allclose(_outputs(same, l_norm), _outputs(paths[0], l_norm), atol=2e-3)


def test_mean_needs_two_models_and_alpha_needs_exactly_two(tmp_path, capsys):
    a = make_tiny_generator_file(tmp_path / "a.safetensors", seed=1)
    with pytest.raises(ValueError, match="at least two"):
        average_generators([a], tmp_path / "x.safetensors")
    assert main([str(a), str(a), str(a), "--alpha", "0.5", "--out", str(tmp_path / "y.safetensors")]) == 1
    assert "exactly two" in capsys.readouterr().out
    assert not (tmp_path / "x.safetensors").exists() and not (tmp_path / "y.safetensors").exists()
