"""The cgan backend end to end: weights lookup, device choice, render size, pipeline."""
from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from colorizer_gui.backends import BackendError, MissingWeightsError, create_backend
from colorizer_gui.backends.cgan import CganBackend
from colorizer_gui.core import color, model_store, paths
from colorizer_gui.core.pipeline import colorize_array
from tiny_cgan import make_tiny_generator_file

torch.set_num_threads(2)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> Path:
    return make_tiny_generator_file(tmp_path_factory.mktemp("w") / "tiny.safetensors", seed=0)


def _gray_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = 128 + 80 * np.sin(xs / 9.0) * np.cos(ys / 13.0)
    return np.clip(base + rng.normal(0, 10, (height, width)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("arch", ["lite0-unet", "pix2pix"])
def test_colorize_array_keeps_size_and_lightness(tmp_path, arch):
    weights = make_tiny_generator_file(tmp_path / f"{arch}.safetensors", arch=arch)
    backend = CganBackend(weights=weights, device="cpu")
    gray = _gray_photo(90, 130)
    out = colorize_array(gray, backend)
    assert out.shape == (90, 130, 3) and out.dtype == np.uint8
    lab = color.rgb_to_lab(out)
    assert np.abs(lab[:, :, 0] - color.lightness(gray)).mean() < 0.5
    chroma = np.hypot(lab[:, :, 1], lab[:, :, 2])
    assert chroma.mean() > 1.0  # the generator's ab reached the photo
    assert backend.loaded_device == "cpu"
    assert str(weights) in backend.describe() and "cpu" in backend.describe()


def test_rgb_16bit_photo_at_its_own_size(tiny_file):
    backend = CganBackend(weights=tiny_file)
    rgb = np.repeat(_gray_photo(301, 47, seed=2)[:, :, None], 3, axis=2).astype(np.uint16) * 257
    out = colorize_array(rgb, backend, render_size=64)
    assert out.shape == (301, 47, 3) and out.dtype == np.uint16


def test_predict_ab_returns_denormalised_ab_at_input_size(tiny_file):
    backend = CganBackend(weights=tiny_file)
    lightness = np.linspace(0, 100, 77 * 45, dtype=np.float32).reshape(77, 45)
    ab = backend.predict_ab(lightness)
    assert ab.shape == (77, 45, 2) and ab.dtype == np.float32
    assert np.isfinite(ab).all()
    assert np.abs(ab).max() <= 110.0 + 1e-3 and np.abs(ab).max() > 1.0  # ab units, not [-1, 1]


def test_colors_are_the_mean_of_the_photos_and_its_mirror_images(tiny_file):
    lightness = np.linspace(0, 100, 70 * 50, dtype=np.float32).reshape(70, 50) ** 1.3 / 100 ** 0.3
    lightness += np.random.default_rng(3).uniform(0, 5, lightness.shape).astype(np.float32)
    single = CganBackend(weights=tiny_file, mirror_average=False)
    plain, mirrored = single.predict_ab(lightness), single.predict_ab(lightness[:, ::-1].copy())
    assert np.abs(plain - mirrored[:, ::-1]).max() > 0.5  # one pass alone is not symmetric
    averaged = CganBackend(weights=tiny_file)  # the default
    both = averaged.predict_ab(lightness)
    assert np.allclose(both, 0.5 * (plain + mirrored[:, ::-1]), atol=1e-3)
    assert np.allclose(averaged.predict_ab(lightness[:, ::-1].copy())[:, ::-1], both, atol=1e-3)


@pytest.mark.parametrize("height,width,size,expected", [
    (3000, 4000, 256, (192, 256)),
    (4000, 3000, 256, (256, 192)),
    (1000, 1000, 512, (512, 512)),
    (100, 75, 256, (100, 75)),       # never upscaled past the photo
    (1234, 567, 320, (320, 147)),    # aspect kept, short side not rounded to 32
    (100, 10000, 256, (32, 256)),    # panorama: short side kept usable
])
def test_render_shape_keeps_aspect(height, width, size, expected):
    assert CganBackend().render_shape(height, width, size) == expected


def test_default_render_size_follows_the_models_training_size(tiny_file, tmp_path):
    from colorizer_gui.backends.cgan import render_size_for_model

    assert render_size_for_model({"train_size": "128"}) == 192
    assert render_size_for_model({"train_size": "256"}) == 384
    assert render_size_for_model({"train_size": ""}) == 256 == render_size_for_model({})
    assert render_size_for_model({"train_size": "big"}) == 256
    # A render size chosen on validation (a model trained at several sizes) wins;
    # one that is no multiple of 32 or absurdly large is not trusted.
    assert render_size_for_model({"train_size": "192", "render_size": "192"}) == 192
    assert render_size_for_model({"train_size": "192", "render_size": "100"}) == 288
    assert render_size_for_model({"train_size": "192", "render_size": "65536"}) == 288
    assert render_size_for_model({"render_size": "huge"}) == 256
    backend = CganBackend(weights=tiny_file)  # trained (for the test) at 64 px
    assert backend.default_render_size == 96
    assert backend.render_shape(3000, 4000, None) == (72, 96)
    assert CganBackend(weights=tmp_path / "missing.safetensors").default_render_size == 256


@pytest.mark.parametrize("size", [100, 16, 0])
def test_render_size_must_be_a_multiple_of_32(size):
    with pytest.raises(BackendError, match="multiple of 32"):
        CganBackend().render_shape(500, 500, size)


def test_no_weights_is_reported_clearly(no_bundled_weights):
    backend = CganBackend()
    state = backend.availability()
    assert not state.ok
    assert state.reason.startswith("No cGAN weights found; looked in: ")
    assert str(no_bundled_weights / model_store.CGAN_DEFAULT_NAME) in state.reason
    assert str(paths.user_weights_dir() / model_store.CGAN_DEFAULT_NAME) in state.reason
    assert "train or import a model, or use the zhang backend" in state.reason
    with pytest.raises(MissingWeightsError, match="No cGAN weights found"):
        backend.load()


def test_weights_found_in_user_folder_and_user_default(tiny_file, tmp_path, no_bundled_weights):
    user_copy = paths.user_weights_dir() / model_store.CGAN_DEFAULT_NAME
    user_copy.write_bytes(tiny_file.read_bytes())
    assert CganBackend().availability().ok
    chosen = make_tiny_generator_file(tmp_path / "mine.safetensors", arch="pix2pix")
    model_store.set_user_default_cgan_weights(chosen)
    backend = CganBackend()
    backend.load()
    assert backend.weights_path == chosen.resolve() and backend.model.arch == "pix2pix"


def test_explicit_missing_file_is_reported(tmp_path):
    state = CganBackend(weights=tmp_path / "gone.safetensors").availability()
    assert not state.ok and "gone.safetensors" in state.reason


def test_pickled_weights_are_refused_without_running_them(tmp_path):
    marker = tmp_path / "marker"

    class Payload:
        def __reduce__(self):
            return (exec, (f"open({str(marker)!r}, 'w').write('x')",))

    bad = tmp_path / "model.pth"
    bad.write_bytes(pickle.dumps({"weights": Payload()}))
    backend = CganBackend(weights=bad)
    state = backend.availability()
    assert not state.ok and "not a safetensors file" in state.reason
    with pytest.raises(BackendError, match="not a safetensors file"):
        backend.load()
    assert not marker.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_forced_cuda_without_gpu_is_a_clear_error(tiny_file):
    with pytest.raises(BackendError, match="cuda.*no CUDA GPU"):
        CganBackend(weights=tiny_file, device="cuda").load()


def test_auto_device_and_unknown_device(tiny_file):
    backend = CganBackend(weights=tiny_file, device="auto")
    backend.load()
    assert backend.loaded_device == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(BackendError, match="Unknown device 'tpu'"):
        CganBackend(weights=tiny_file, device="tpu")


def test_registry_builds_the_cgan_backend(tiny_file):
    backend = create_backend("cgan", weights=tiny_file)
    assert isinstance(backend, CganBackend) and backend.default_render_size == 96


def test_importing_backends_does_not_import_torch():
    code = ("import sys; import colorizer_gui.backends as b; b.create_backend('cgan').availability(); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_temperature_is_checked_but_the_regression_nets_have_none(tmp_path):
    """cgan models are regression nets (their vividness is their ab_gain): a temperature
    in range changes nothing, one out of range is refused as for zhang."""
    import numpy as np

    from colorizer_gui.backends import BackendError, create_backend
    from tiny_cgan import make_tiny_generator_file

    path = make_tiny_generator_file(tmp_path / "tiny.safetensors")
    lightness = np.linspace(0, 100, 64 * 64, dtype=np.float32).reshape(64, 64)
    outputs = []
    for temperature in (None, 0.2):
        backend = create_backend("cgan", weights=path, device="cpu", temperature=temperature)
        outputs.append(backend.predict_ab(lightness))
    assert np.array_equal(outputs[0], outputs[1])
    with pytest.raises(BackendError, match="temperature must be from 0.05 to 1"):
        create_backend("cgan", weights=path, temperature=3.0)
