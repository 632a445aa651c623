"""The Zhang download tries a list of sources in order, each served here from a
local HTTP server: a good file, a wrong hash, a truncated transfer, a 404 and a
redirect loop; and the authors' PyTorch release (a random file of the same
layout whose hash the test injects), converted to the Caffe model OpenCV runs."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorizer_gui.backends import zhang
from colorizer_gui.backends.zhang.convert import _field, convert_pth_to_caffemodel
from colorizer_gui.core import paths
from colorizer_gui.backends.zhang.download import download_zhang
from colorizer_gui.core.download import DownloadError, partial_path
from colorizer_gui.backends.zhang import ZHANG_WEIGHTS_NAME
from colorizer_gui.backends.zhang.files import ZHANG_SOURCES, ZhangSource

from http_server import _Server

# A well-formed NetParameter with the colorization net's layer names (and some bulk).
GOOD = _field(1, b"LtoAB") + b"".join(_field(100, _field(1, n)) for n in (b"conv1_2norm", b"conv8_313", b"class8_ab")) \
    + _field(100, _field(1, b"padding") + _field(7, bytes(range(256)) * 400))
SHA = hashlib.sha256(GOOD).hexdigest()


@pytest.fixture
def server():
    srv = _Server()
    srv.modes["/loop.caffemodel"] = "loop"
    srv.files["/wrong.caffemodel"] = GOOD
    srv.modes["/wrong.caffemodel"] = "wrong"
    srv.files["/cut.caffemodel"] = GOOD
    srv.modes["/cut.caffemodel"] = "truncated"
    srv.files["/good.caffemodel"] = GOOD
    yield srv
    srv.close()


def _sources(server: _Server, *names: str) -> list[ZhangSource]:
    return [ZhangSource(f"{server.url}/{n}.caffemodel", "caffemodel", SHA, len(GOOD)) for n in names]


def test_the_real_sources_start_with_the_authors_pytorch_release():
    assert ZHANG_SOURCES[0].kind == "pth" and ZHANG_SOURCES[0].url.startswith("https://colorizers.s3.")
    assert [s.kind for s in ZHANG_SOURCES[1:]] == ["caffemodel"] * (len(ZHANG_SOURCES) - 1)
    assert {s.sha256 for s in ZHANG_SOURCES[1:]} == {
        "f5af1e602646328c792e1094f9876fe9cd4c09ac46fa886e5708a1abc89137b1"}
    assert {s.size for s in ZHANG_SOURCES[1:]} == {128_946_764}
    assert any("dropbox.com" in s.url for s in ZHANG_SOURCES)
    assert any("storage.openvinotoolkit.org" in s.url for s in ZHANG_SOURCES)


def test_failing_sources_are_skipped_until_one_works(server):
    dest = download_zhang(sources=_sources(server, "missing", "loop", "wrong", "cut", "good"))
    assert dest == paths.user_weights_dir() / ZHANG_WEIGHTS_NAME and dest.read_bytes() == GOOD
    assert server.ranges  # the good mirror went on from the bytes the cut one had sent
    assert not partial_path(dest).exists()


def test_when_every_source_fails_each_reason_is_shown(server):
    with pytest.raises(DownloadError) as err:
        download_zhang(sources=_sources(server, "missing", "loop", "wrong", "cut"))
    lines = str(err.value).splitlines()
    assert lines[0] == "the Zhang model could not be downloaded from any source:"
    reasons = dict(line.strip(" -").split(".caffemodel: ", 1) for line in lines[1:])
    assert "HTTP 404" in reasons[f"{server.url}/missing"]
    assert "redirects" in reasons[f"{server.url}/loop"]
    assert "SHA256 does not match" in reasons[f"{server.url}/wrong"]
    assert "dropped" in reasons[f"{server.url}/cut"]
    assert not (paths.user_weights_dir() / ZHANG_WEIGHTS_NAME).exists()


# ------------------------------------------------------------------ the PyTorch release

def _random_eccv16_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Tensors named and shaped as richzhang/colorization's eccv16 (random values)."""
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}

    def conv(name: str, cin: int, cout: int, k: int, transposed: bool = False, scale: float = 1.0) -> None:
        shape = (cin, cout, k, k) if transposed else (cout, cin, k, k)
        std = (2.0 / (cin * k * k)) ** 0.5 * scale
        state[f"{name}.weight"] = torch.randn(shape, generator=gen) * std
        state[f"{name}.bias"] = torch.randn(cout, generator=gen) * 0.05

    def bn(name: str, ch: int) -> None:
        state[f"{name}.weight"] = torch.rand(ch, generator=gen) + 0.5
        state[f"{name}.bias"] = torch.randn(ch, generator=gen) * 0.1
        state[f"{name}.running_mean"] = torch.randn(ch, generator=gen) * 0.2
        state[f"{name}.running_var"] = torch.rand(ch, generator=gen) + 0.5
        state[f"{name}.num_batches_tracked"] = torch.tensor(0)

    conv("model1.0", 1, 64, 3), conv("model1.2", 64, 64, 3), bn("model1.4", 64)
    conv("model2.0", 64, 128, 3), conv("model2.2", 128, 128, 3), bn("model2.4", 128)
    widths = {3: (128, 256), 4: (256, 512), 5: (512, 512), 6: (512, 512), 7: (512, 512)}
    for i, (cin, cout) in widths.items():
        conv(f"model{i}.0", cin, cout, 3), conv(f"model{i}.2", cout, cout, 3), conv(f"model{i}.4", cout, cout, 3)
        bn(f"model{i}.6", cout)
    conv("model8.0", 512, 256, 4, transposed=True), conv("model8.2", 256, 256, 3), conv("model8.4", 256, 256, 3)
    conv("model8.6", 256, 313, 1, scale=3.0)
    bins = np.load(zhang.package_file(zhang.BINS_NAME)).astype(np.float32)
    state["model_out.weight"] = torch.from_numpy(bins.T.reshape(2, 313, 1, 1) / 128.0)
    return state


def _eccv16_forward(state: dict[str, torch.Tensor], lightness: torch.Tensor) -> torch.Tensor:
    """The PyTorch release's forward (eccv16.py), without the final x4 upsampling: ab at 1/4 size."""
    def conv(x, name, stride=1, dilation=1):
        pad = dilation
        return F.relu(F.conv2d(x, state[f"{name}.weight"], state[f"{name}.bias"], stride, pad, dilation))

    def bn(x, name):
        return F.batch_norm(x, state[f"{name}.running_mean"], state[f"{name}.running_var"],
                            state[f"{name}.weight"], state[f"{name}.bias"], False, 0.0, 1e-5)

    x = (lightness - 50.0) / 100.0
    x = bn(conv(conv(x, "model1.0"), "model1.2", stride=2), "model1.4")
    x = bn(conv(conv(x, "model2.0"), "model2.2", stride=2), "model2.4")
    x = bn(conv(conv(conv(x, "model3.0"), "model3.2"), "model3.4", stride=2), "model3.6")
    for i, dil in ((4, 1), (5, 2), (6, 2), (7, 1)):
        x = bn(conv(conv(conv(x, f"model{i}.0", dilation=dil), f"model{i}.2", dilation=dil),
                    f"model{i}.4", dilation=dil), f"model{i}.6")
    x = F.relu(F.conv_transpose2d(x, state["model8.0.weight"], state["model8.0.bias"], 2, 1))
    x = conv(conv(x, "model8.2"), "model8.4")
    logits = F.conv2d(x, state["model8.6.weight"], state["model8.6.bias"])
    return F.conv2d(F.softmax(logits, dim=1), state["model_out.weight"]) * 128.0


@pytest.fixture(scope="module")
def release_pth(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    state = _random_eccv16_state()
    path = tmp_path_factory.mktemp("pth") / "colorization_release_v2-test.pth"
    torch.save(state, path)
    return path, state


def test_pytorch_release_is_converted_to_the_caffe_model_opencv_runs(server, release_pth, monkeypatch):
    path, state = release_pth
    body = path.read_bytes()
    server.files["/release.pth"] = body
    source = ZhangSource(f"{server.url}/release.pth", "pth", hashlib.sha256(body).hexdigest())
    events = []
    dest = download_zhang(sources=[source], verify=zhang.verify_caffemodel, convert_pth=convert_pth_to_caffemodel,
                          on_progress=events.append)
    assert dest == paths.user_weights_dir() / ZHANG_WEIGHTS_NAME
    assert [p.name for p in dest.parent.iterdir()] == [ZHANG_WEIGHTS_NAME]  # no .pth left behind
    assert events and events[-1].done == len(body)

    backend = zhang.ZhangBackend()
    backend.load()
    rng = np.random.default_rng(1)
    lightness = (rng.random((224, 224)) * 100.0).astype(np.float32)
    ab = backend.predict_ab(lightness)
    with torch.no_grad():
        expected = _eccv16_forward(state, torch.from_numpy(lightness)[None, None])[0].permute(1, 2, 0).numpy()
    assert ab.shape == expected.shape == (56, 56, 2)
    assert float(np.abs(expected).mean()) > 1.0  # the random net predicts real colours
    assert float(np.abs(ab - expected).max()) < 0.05


def test_a_pytorch_file_with_the_wrong_hash_is_never_unpickled(server, release_pth, monkeypatch):
    path, _state = release_pth
    server.files["/release.pth"] = path.read_bytes()
    loads = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(a))
    source = ZhangSource(f"{server.url}/release.pth", "pth", "0" * 64)
    with pytest.raises(DownloadError, match="SHA256 does not match"):
        download_zhang(sources=[source], convert_pth=convert_pth_to_caffemodel)
    assert loads == []
    assert not [p for p in paths.user_weights_dir().iterdir()]
