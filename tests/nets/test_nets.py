"""The generator networks, the ImageNet encoder weights and the safetensors model files."""
from __future__ import annotations

import os

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from colorizer_gui.nets import (
    ARCHITECTURES, AB_SCALE, L_CENTER, WeightsError, build_generator, crop_back, denormalize_ab,
    load_generator, load_imagenet_encoder_weights, normalize_l, pad_to_multiple, read_metadata,
    run_generator, save_generator,
)
from colorizer_gui.nets.efficientnet_lite import EfficientNetLite0Encoder, imagenet_weights_path
from colorizer_gui.nets.generators import upsample2x_aligned
from colorizer_gui.nets.inference import run_generator_mirrored
from tiny_cgan import TINY_CONFIGS, make_tiny_generator_file

torch.set_num_threads(2)
REPO = Path(__file__).resolve().parents[2]


def _tiny(arch: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_generator(arch, **TINY_CONFIGS[arch]).eval()


# ---------------------------------------------------------------- shapes and sizes

@pytest.mark.parametrize("height,width", [(96, 160), (32, 32), (64, 224)])
def test_lite0_unet_output_shape_and_range(height, width):
    model = _tiny("lite0-unet")
    x = torch.rand(2, 1, height, width) * 2 - 1
    with torch.inference_mode():
        y = model(x)
    assert y.shape == (2, 2, height, width)
    assert torch.isfinite(y).all() and y.abs().max() <= 1.0


def test_pix2pix_output_shape_and_range():
    model = _tiny("pix2pix")
    with torch.inference_mode():
        y = model(torch.rand(1, 1, 256, 512) * 2 - 1)
    assert y.shape == (1, 2, 256, 512)
    assert torch.isfinite(y).all() and y.abs().max() <= 1.0


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("height,width", [(100, 75), (96, 161), (33, 300)])
def test_run_generator_gives_input_size_for_any_size(arch, height, width):
    model = _tiny(arch)
    with torch.inference_mode():
        y = run_generator(model, torch.rand(1, 1, height, width) * 2 - 1)
    assert y.shape == (1, 2, height, width)
    assert torch.isfinite(y).all()


def test_forward_refuses_sizes_that_are_not_multiples():
    with pytest.raises(ValueError, match="multiples of 32.*run_generator"):
        _tiny("lite0-unet")(torch.zeros(1, 1, 100, 64))
    with pytest.raises(ValueError, match="multiples of 256"):
        _tiny("pix2pix")(torch.zeros(1, 1, 128, 256))


def test_generator_carries_what_rebuilds_it():
    model = build_generator("lite0-unet", decoder_channels=(16, 8, 8, 8, 8))
    assert (model.arch, model.size_multiple) == ("lite0-unet", 32)
    twin = build_generator(model.arch, **json.loads(json.dumps(model.config)))
    assert twin.state_dict().keys() == model.state_dict().keys()
    pix = build_generator("pix2pix", ngf=4)
    assert (pix.arch, pix.config, pix.size_multiple) == ("pix2pix", {"ngf": 4}, 256)
    with pytest.raises(ValueError, match="Unknown generator architecture 'resnet'"):
        build_generator("resnet")
    with pytest.raises(ValueError, match="Bad options"):
        build_generator("pix2pix", width=3)


def test_normalisation_constants():
    lightness = torch.tensor([0.0, 50.0, 100.0])
    assert torch.equal(normalize_l(lightness), torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.equal(denormalize_ab(torch.tensor([-1.0, 0.5])), torch.tensor([-110.0, 55.0]))
    assert (L_CENTER, AB_SCALE) == (50, 110)


@pytest.mark.parametrize("height,width,multiple", [(100, 75, 32), (64, 64, 32), (20, 30, 256),
                                                    (1, 5, 32), (257, 31, 256)])
def test_pad_then_crop_is_exact(height, width, multiple):
    x = torch.randn(2, 3, height, width)
    padded, size = pad_to_multiple(x, multiple)
    assert padded.shape[-2] % multiple == 0 and padded.shape[-1] % multiple == 0
    assert padded.shape[-2] - height < multiple and padded.shape[-1] - width < multiple
    assert size == (height, width)
    assert torch.equal(crop_back(padded, size), x)


def test_padding_mirrors_the_photo_instead_of_adding_black():
    x = torch.arange(6.0).reshape(1, 1, 1, 6).repeat(1, 1, 4, 1)  # 4x6, columns 0..5
    padded, _ = pad_to_multiple(x, 8)  # 8x8: one column each side, two rows each side
    assert padded.shape[-2:] == (8, 8)
    assert padded[0, 0, 0].tolist() == [1, 0, 1, 2, 3, 4, 5, 4]


def test_aligned_upsampling_keeps_pixel_centres():
    x = torch.randn(1, 3, 5, 7)
    y = upsample2x_aligned(x)
    assert y.shape == (1, 3, 10, 14)
    # Even outputs are the input pixels themselves; odd ones sit halfway between.
    assert torch.allclose(y[..., ::2, ::2], x, atol=1e-6)
    assert torch.allclose(y[..., 1:-1:2, ::2], (x[..., :-1, :] + x[..., 1:, :]) / 2, atol=1e-6)


def test_features_stay_aligned_with_the_photo():
    """Colour caused by a dot must be centred on the dot at every depth of the net.

    With mirror-symmetric kernels, aligned padding and upsampling, the response
    to a dot on the stride-32 grid is exactly symmetric around it; plain
    ``interpolate(scale_factor=2)`` shifts it by more than a pixel down-right
    (and a trained net by up to 15 pixels at stride 32: colour blotches beside
    the objects)."""
    torch.manual_seed(1)
    model = build_generator("lite0-unet", decoder_channels=(8, 8, 8, 8, 8)).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                w = module.weight
                w.copy_((w + w.flip(-1) + w.flip(-2) + w.flip(-1, -2)) / 4)
    size, centre = 192, 96
    flat = torch.zeros(1, 1, size, size)
    dot = flat.clone()
    dot[..., centre, centre] = 1.0
    with torch.inference_mode():
        change = (model(dot) - model(flat)).abs().sum(dim=1)[0]
    ys, xs = torch.meshgrid(torch.arange(float(size)), torch.arange(float(size)), indexing="ij")
    # Leave out the dot's own neighbourhood (the input skip) to see the deep path.
    far = ((ys - centre).abs() > 3) | ((xs - centre).abs() > 3)
    weight = change * far / (change * far).sum()
    assert abs(float((weight * ys).sum()) - centre) < 0.05
    assert abs(float((weight * xs).sum()) - centre) < 0.05


# ---------------------------------------------------------------- ImageNet encoder

def test_imagenet_weights_load_strictly_into_gray_encoder():
    file_state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    encoder = EfficientNetLite0Encoder(in_channels=1)
    load_imagenet_encoder_weights(encoder)
    own = encoder.state_dict()
    assert set(file_state) - set(own) == {"_fc.weight", "_fc.bias"}  # only the classifier is unused
    assert set(own) <= set(file_state)
    for key in own:
        expected = file_state[key]
        if key == "_conv_stem.weight":
            expected = expected.sum(dim=1, keepdim=True)
        assert torch.equal(own[key], expected), key


def test_gray_stem_equals_rgb_stem_on_a_gray_photo():
    file_state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    encoder = EfficientNetLite0Encoder(in_channels=1)
    load_imagenet_encoder_weights(encoder)
    gray = torch.rand(1, 1, 64, 64) * 2 - 1
    rgb_out = torch.nn.functional.conv2d(gray.repeat(1, 3, 1, 1), file_state["_conv_stem.weight"],
                                         stride=2, padding=1)
    assert torch.allclose(encoder._conv_stem(gray), rgb_out, atol=1e-5)


def test_pretrained_generator_uses_imagenet_encoder():
    model = build_generator("lite0-unet", decoder_channels=(8, 8, 8, 8, 8), pretrained=True)
    file_state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    assert torch.equal(model.encoder._blocks[7]._project_conv.weight,
                       file_state["_blocks.7._project_conv.weight"])
    assert "pretrained" not in model.config  # a saved file never asks for ImageNet weights


@pytest.mark.parametrize("change", ["missing", "unexpected", "shape"])
def test_imagenet_loading_refuses_a_file_that_does_not_match(tmp_path, change):
    state = dict(torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True))
    if change == "missing":
        del state["_blocks.3._bn1.running_var"]
    elif change == "unexpected":
        state["_blocks.3._se_reduce.weight"] = torch.zeros(4, 144, 1, 1)
    else:
        state["_blocks.3._project_conv.weight"] = torch.zeros(41, 144, 1, 1)
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    with pytest.raises(RuntimeError) as err:
        load_imagenet_encoder_weights(EfficientNetLite0Encoder(), path=bad)
    assert "_blocks.3." in str(err.value)


# ---------------------------------------------------------------- safetensors files

def test_saved_and_imported_models_are_as_readable_as_any_new_file(tmp_path):
    """Atomic writes go through a private temp file: the model must not stay 0600."""
    import stat

    from colorizer_gui.core import paths
    from colorizer_gui.core.model_store import import_model_file

    mask = os.umask(0o022)
    os.umask(mask)
    expected = 0o666 & ~mask
    assert paths.new_file_mode() == expected
    saved = make_tiny_generator_file(tmp_path / "mine.safetensors")
    imported = import_model_file(saved)
    for path in (saved, imported):
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_save_fp16_load_fp32_round_trip(tmp_path, arch):
    path = make_tiny_generator_file(tmp_path / f"{arch}.safetensors", arch=arch, seed=3)
    torch.manual_seed(3)
    model, meta = load_generator(path)
    assert not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    with safe_open(str(path), framework="numpy") as fh:
        dtypes = {str(fh.get_tensor(k).dtype) for k in fh.keys()}
    assert "float16" in dtypes and "float32" not in dtypes  # stored half size
    x = torch.rand(1, 1, 70, 90) * 2 - 1
    # Compare with the fp32 model the file was made from.
    torch.manual_seed(3)
    reference = build_generator(arch, **TINY_CONFIGS[arch])
    with torch.no_grad():
        for module in reference.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.momentum = None
        reference.train()
        reference(torch.rand(2, 1, reference.size_multiple if arch == "pix2pix" else 64,
                             reference.size_multiple if arch == "pix2pix" else 64) * 2 - 1)
    reference.eval()
    with torch.inference_mode():
        diff = (run_generator(model, x) - run_generator(reference, x)).abs().max()
    assert diff < 2e-2


def test_metadata_is_written_and_readable_without_torch(tmp_path):
    model = _tiny("lite0-unet")
    path = save_generator(model, tmp_path / "m.safetensors",
                          {"train_size": 256, "data_summary": "12 family photos",
                           "metrics": {"val_l1": 0.071}})
    meta = read_metadata(path)
    assert meta["arch"] == "lite0-unet"
    assert json.loads(meta["config"]) == {"decoder_channels": [16, 8, 8, 8, 8]}
    assert (meta["input_norm"], meta["output_norm"]) == ("L/50-1", "ab/110")
    assert meta["format_version"] == "1" and meta["train_size"] == "256"
    assert json.loads(meta["metrics"]) == {"val_l1": 0.071}
    assert meta["data_summary"] == "12 family photos" and meta["created"].startswith("20")
    code = ("import sys; from colorizer_gui.nets.weights_io import read_metadata; "
            f"m = read_metadata({str(path)!r}); assert m['arch'] == 'lite0-unet'; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_save_is_atomic_and_replaces(tmp_path):
    path = tmp_path / "m.safetensors"
    save_generator(_tiny("pix2pix", seed=1), path, {})
    save_generator(_tiny("lite0-unet"), path, {"data_summary": "second"})
    assert read_metadata(path)["arch"] == "lite0-unet"
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]  # no temp files left
    with pytest.raises(WeightsError, match=r"\.safetensors"):
        save_generator(_tiny("pix2pix"), tmp_path / "m.pth", {})


def test_wrapped_models_are_saved_as_the_plain_generator(tmp_path):
    class Wrapper(torch.nn.Module):  # what DistributedDataParallel looks like
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.module = inner

    model = _tiny("pix2pix")
    path = save_generator(Wrapper(model), tmp_path / "w.safetensors", {})
    loaded, meta = load_generator(path)
    assert meta["arch"] == "pix2pix" and loaded.state_dict().keys() == model.state_dict().keys()


class _Payload:
    """Unpickling this runs code that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def _pickle_with_payload(path: Path, marker: Path) -> Path:
    with path.open("wb") as fh:
        pickle.dump({"state_dict": {"w": [1.0]}, "x": _Payload(marker)}, fh)
    return path


def test_payload_really_runs_when_unpickled(tmp_path):
    # Proves the refusal tests below would notice if the file were unpickled.
    marker = tmp_path / "ran"
    pickle.loads(_pickle_with_payload(tmp_path / "a.pth", marker).read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("name", ["model.pth", "model.safetensors", "model.ckpt"])
def test_pickled_model_file_is_refused_unopened(tmp_path, name):
    marker = tmp_path / "marker"
    path = _pickle_with_payload(tmp_path / name, marker)
    with pytest.raises(WeightsError, match="not a safetensors file"):
        load_generator(path)
    with pytest.raises(WeightsError, match="not a safetensors file"):
        read_metadata(path)
    assert not marker.exists()


def test_torch_zip_checkpoint_renamed_is_refused(tmp_path):
    path = tmp_path / "renamed.safetensors"
    torch.save(_tiny("pix2pix").state_dict(), path)
    with pytest.raises(WeightsError, match="not a safetensors file"):
        load_generator(path)


def test_wrong_shapes_are_refused_with_the_mismatches(tmp_path):
    model = _tiny("lite0-unet")
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    path = tmp_path / "wrong.safetensors"
    save_file(tensors, str(path), metadata={"arch": "lite0-unet", "format_version": "1",
                                            "config": json.dumps({"decoder_channels": [32, 8, 8, 8, 8]})})
    with pytest.raises(WeightsError) as err:
        load_generator(path)
    message = str(err.value)
    assert "wrong.safetensors" in message and "lite0-unet" in message
    assert "bridge.0.weight: file (16, 1280, 1, 1) vs lite0-unet (32, 1280, 1, 1)" in message


def test_other_architecture_is_refused(tmp_path):
    tensors = {k: v.contiguous() for k, v in _tiny("lite0-unet").state_dict().items()}
    path = tmp_path / "other.safetensors"
    save_file(tensors, str(path), metadata={"arch": "pix2pix", "config": json.dumps({"ngf": 4})})
    with pytest.raises(WeightsError, match=r"do not fit a pix2pix generator.*missing model\.") as err:
        load_generator(path)
    assert "more)" in str(err.value)  # lists the first mismatches, not hundreds
    save_file(tensors, str(path), metadata={"arch": "resnet18-unet"})
    with pytest.raises(WeightsError, match="unknown architecture 'resnet18-unet'"):
        load_generator(path)
    save_file(tensors, str(path))
    with pytest.raises(WeightsError, match="not a Colorizer generator"):
        load_generator(path)


def test_missing_and_truncated_files(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_generator(tmp_path / "nope.safetensors")
    good = make_tiny_generator_file(tmp_path / "good.safetensors", arch="pix2pix")
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(WeightsError, match="cut.safetensors"):
        load_generator(cut)


def test_imagenet_weights_keep_their_rgb_stem_for_a_color_encoder():
    from colorizer_gui.nets.efficientnet_lite import (EfficientNetLite0Encoder,
                                                      load_imagenet_encoder_weights)

    gray, rgb = EfficientNetLite0Encoder(in_channels=1), EfficientNetLite0Encoder(in_channels=3)
    load_imagenet_encoder_weights(gray)
    load_imagenet_encoder_weights(rgb, rgb_stem=True)
    # The gray stem is the RGB one summed, so a gray photo gives the same features in both.
    torch.testing.assert_close(gray._conv_stem.weight, rgb._conv_stem.weight.sum(dim=1, keepdim=True))
    gray.eval(), rgb.eval()
    x = torch.rand(1, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(gray(x)[2], rgb(x.expand(-1, 3, -1, -1))[2], atol=1e-4, rtol=1e-4)
    with pytest.raises(RuntimeError, match="rgb_stem needs a 3-channel encoder"):
        load_imagenet_encoder_weights(gray, rgb_stem=True)


def test_mirror_passes_side_by_side_give_the_one_batch_result():
    torch.manual_seed(4)
    model = build_generator("lite0-unet").eval()
    l_norm = torch.rand(1, 1, 45, 70) * 2 - 1
    with torch.inference_mode():
        batch = run_generator_mirrored(model, l_norm)
        side = run_generator_mirrored(model, l_norm, side_by_side=True)
    assert side.shape == batch.shape == (1, 2, 45, 70)
    assert torch.allclose(side, batch, atol=1e-6)
    # Outside inference mode the helper thread keeps the caller's autograd state.
    with torch.no_grad():
        assert not run_generator_mirrored(model, l_norm, side_by_side=True).requires_grad
