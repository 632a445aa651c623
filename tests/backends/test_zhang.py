"""The Zhang ECCV16 backend: real OpenCV DNN loading of a Zhang-shaped random-weight
caffemodel, decoding with the 313 bins and the temperature, the pipeline end to
end, and clear messages for missing, damaged, or wrongly typed model files."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from colorizer_gui.backends import create_backend
from colorizer_gui.backends.base import BackendError, MissingWeightsError
from colorizer_gui.backends.zhang import (BINS_NAME, PROTOTXT_NAME, ZhangBackend,
                                          import_weights, package_file)
from colorizer_gui.backends.zhang.prototxt import read_layers
from colorizer_gui.core import color, model_store, paths
from colorizer_gui.backends.zhang import ZHANG_WEIGHTS_NAME
from colorizer_gui.core.model_store import ModelImportError
from colorizer_gui.core.pipeline import colorize_array

from zhang_model import cached_random_zhang_caffemodel

cv2.setNumThreads(2)


@pytest.fixture(scope="module")
def model_file():
    return cached_random_zhang_caffemodel(seed=0)


@pytest.fixture(scope="module")
def backend(model_file):
    zhang = ZhangBackend(weights=model_file)
    zhang.load()
    return zhang


def _ramp_l(flip: bool = False) -> np.ndarray:
    ramp = np.tile(np.linspace(0, 100, 224, dtype=np.float32), (224, 1))
    return np.ascontiguousarray(ramp[:, ::-1] if flip else ramp)


def _chroma(ab: np.ndarray) -> float:
    return float(np.hypot(ab[..., 0], ab[..., 1]).mean())


def test_random_model_predicts_finite_ab_that_follows_the_input(backend):
    ab = backend.predict_ab(_ramp_l())
    assert ab.shape == (56, 56, 2) and ab.dtype == np.float32
    assert np.all(np.isfinite(ab))
    assert ab.std() > 0.5  # not a constant colour
    other = backend.predict_ab(_ramp_l(flip=True))
    assert np.abs(ab - other).mean() > 0.5  # a different photo gets different colours
    # The annealed mean is a convex mix of the bins: it stays inside their range.
    assert np.abs(ab).max() <= 110


def test_lower_temperature_gives_more_vivid_colors(model_file, backend):
    vivid = ZhangBackend(weights=model_file, temperature=0.1)
    vivid.load()
    L = _ramp_l()
    assert _chroma(vivid.predict_ab(L)) > 1.3 * _chroma(backend.predict_ab(L))


def test_temperature_is_validated_and_passed_through_the_registry():
    with pytest.raises(BackendError, match="Temperature"):
        ZhangBackend(temperature=0.0)
    with pytest.raises(BackendError, match="Temperature"):
        ZhangBackend(temperature=5.0)
    assert create_backend("zhang", temperature=0.2).temperature == pytest.approx(0.2)
    assert ZhangBackend().temperature == pytest.approx(1 / 2.606)


def test_colorize_array_keeps_size_and_lightness(backend):
    h, w = 150, 260  # not square: Zhang stretches to 224x224 and the core stretches back
    yy, xx = np.mgrid[:h, :w]
    gray = (xx * 255 / (w - 1)).astype(np.uint8)
    gray[30:90, 40:120] = 30
    gray[(yy - 100) ** 2 + (xx - 200) ** 2 < 30 ** 2] = 220
    out = colorize_array(gray, backend)
    assert out.shape == (h, w, 3) and out.dtype == np.uint8
    assert backend.render_shape(h, w, None) == (224, 224)
    dL = np.abs(color.lightness(out) - color.lightness(gray))
    assert dL.mean() < 0.5
    assert color.chroma_stats(out)[0] > 2.0  # it did add colour


def test_bins_are_the_releases_313_grid_points():
    bins = np.load(package_file(BINS_NAME), allow_pickle=False)
    assert bins.shape == (313, 2)
    assert np.all(bins % 10 == 0) and np.abs(bins).max() <= 110
    assert bins[0].tolist() == [-90, 50]
    assert bins[-2].tolist() == [100, -10] and bins[-1].tolist() == [100, 0]
    assert len({tuple(p) for p in bins.tolist()}) == 313
    assert np.array_equal(np.lexsort((bins[:, 1], bins[:, 0])), np.arange(313))  # a-major, b ascending
    # Every real sRGB colour falls in (rounds to) one of the bins.
    rgb = np.random.default_rng(0).random((1, 20000, 3), dtype=np.float32)
    ab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[0, :, 1:]
    rounded = {tuple(p) for p in (np.rint(ab / 10) * 10).astype(int).tolist()}
    assert rounded <= {tuple(p) for p in bins.tolist()}


def test_prototxt_describes_the_colorization_net():
    layers = read_layers(package_file(PROTOTXT_NAME).read_text(encoding="utf-8"))
    names = [layer.name for layer in layers]
    assert len(names) == len(set(names))
    produced = set()
    for layer in layers:  # every input was produced by an earlier layer
        assert all(b in produced for b in layer.bottom), layer.name
        produced.update(layer.top)
    by_name = {layer.name: layer for layer in layers}
    assert by_name["conv8_313"].param("convolution_param.num_output") == 313
    assert by_name["class8_ab"].param("convolution_param.num_output") == 2
    assert by_name["conv8_313_rh"].param("scale_param.filler.value") == pytest.approx(2.606)
    assert by_name["conv8_1"].type == "Deconvolution"
    assert [by_name[f"conv{b}_1"].param("convolution_param.dilation") for b in (5, 6)] == [2, 2]
    assert sum(layer.type == "BatchNorm" for layer in layers) == 7


def test_missing_weights_names_the_folders_and_the_download_command():
    zhang = ZhangBackend()
    state = zhang.availability()
    assert not state.ok
    for folder in model_store.weights_search_dirs():
        assert str(folder) in state.reason
    assert "python -m colorizer_gui models download zhang" in state.reason
    with pytest.raises(MissingWeightsError, match="models download zhang"):
        zhang.load()


def test_damaged_caffemodel_gives_a_clear_backend_error(tmp_path, model_file):
    garbage = tmp_path / "garbage.caffemodel"
    garbage.write_bytes(np.random.default_rng(1).bytes(50_000))
    cut = tmp_path / "cut.caffemodel"
    with open(model_file, "rb") as fh:
        cut.write_bytes(fh.read(3_000_000))
    for bad in (garbage, cut):
        with pytest.raises(BackendError, match="damaged|do not fit") as info:
            ZhangBackend(weights=bad).load()
        assert not isinstance(info.value, cv2.error)
        assert "models download zhang" in str(info.value)


def test_cuda_request_on_a_cpu_only_opencv_says_so(model_file):
    if cv2.dnn.getAvailableTargets(cv2.dnn.DNN_BACKEND_CUDA):
        pytest.skip("this OpenCV build has CUDA")
    with pytest.raises(BackendError, match="no CUDA support"):
        ZhangBackend(weights=model_file, device="cuda").load()


def test_import_installs_a_checked_caffemodel_where_the_backend_finds_it(model_file):
    dest = import_weights(model_file)
    assert dest == paths.user_weights_dir() / ZHANG_WEIGHTS_NAME
    assert dest.stat().st_size == model_file.stat().st_size
    zhang = ZhangBackend()
    assert zhang.availability().ok
    assert zhang.files()[0] == dest


def test_import_refuses_pickles_and_damaged_files(tmp_path):
    pth = tmp_path / "model.pth"
    pth.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ModelImportError, match="pickle-based model files can run code"):
        model_store.import_model_file(pth)
    bad = tmp_path / "bad.caffemodel"
    bad.write_bytes(b"\x0a\x05LtoAB" + b"\xff" * 100)
    with pytest.raises(ModelImportError):
        import_weights(bad)
    fake = tmp_path / "fake.safetensors"
    fake.write_bytes(b"not a safetensors file at all")
    with pytest.raises(ModelImportError, match="safetensors"):
        model_store.import_model_file(fake)
    assert list(paths.user_weights_dir().iterdir()) == []  # nothing half-installed


def test_import_accepts_safetensors_without_torch(tmp_path):
    from safetensors.numpy import save_file

    src = tmp_path / "mine.safetensors"
    save_file({"w": np.ones((2, 3), np.float32)}, str(src), metadata={"arch": "unet"})
    dest = model_store.import_model_file(src)
    assert dest.read_bytes() == src.read_bytes()
    assert dest.parent == paths.user_weights_dir()
