"""Downloads against a local HTTP server started here: progress, resume with Range,
cancel, and files that must never be installed (truncated, wrong hash)."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from colorizer_gui.core import model_store, paths
from colorizer_gui.backends.zhang.download import download_zhang
from colorizer_gui.core.download import DownloadCancelled, DownloadError, download_file, partial_path
from colorizer_gui.backends.zhang import ZHANG_WEIGHTS_NAME
from colorizer_gui.backends.zhang.files import ZHANG_SHA256, ZhangSource, zhang_sources

from http_server import _Server

PAYLOAD = np.random.default_rng(0).bytes(300_000)
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server():
    srv = _Server()
    srv.files["/model.bin"] = PAYLOAD
    yield srv
    srv.close()


def test_good_download_reports_progress_and_installs(server, tmp_path):
    events = []
    dest = download_file(server.url + "/model.bin", tmp_path / "model.bin", expected_size=len(PAYLOAD),
                         expected_sha256=SHA256, on_progress=events.append)
    assert dest.read_bytes() == PAYLOAD
    assert not partial_path(dest).exists()
    assert events and all(e.stage == "download" and e.total == len(PAYLOAD) for e in events)
    assert events[-1].done == len(PAYLOAD)
    assert [e.done for e in events] == sorted(e.done for e in events)


def test_resume_asks_only_for_the_missing_bytes(server, tmp_path):
    dest = tmp_path / "model.bin"
    partial_path(dest).write_bytes(PAYLOAD[:100_000])
    download_file(server.url + "/model.bin", dest, expected_size=len(PAYLOAD), expected_sha256=SHA256)
    assert server.ranges == ["bytes=100000-"]
    assert dest.read_bytes() == PAYLOAD


def test_cancel_keeps_the_partial_file_for_later(server, tmp_path):
    dest = tmp_path / "model.bin"
    with pytest.raises(DownloadCancelled):
        download_file(server.url + "/model.bin", dest, expected_size=len(PAYLOAD), should_stop=lambda: True)
    assert not dest.exists()
    assert partial_path(dest).exists()


def test_truncated_response_is_never_installed(server, tmp_path):
    server.mode = "truncated"
    dest = tmp_path / "model.bin"
    with pytest.raises(DownloadError, match="dropped"):
        download_file(server.url + "/model.bin", dest, expected_size=len(PAYLOAD), expected_sha256=SHA256)
    assert not dest.exists()
    server.mode = "good"  # the next attempt resumes where the last one stopped
    download_file(server.url + "/model.bin", dest, expected_size=len(PAYLOAD), expected_sha256=SHA256)
    assert server.ranges == [f"bytes={len(PAYLOAD) // 2}-"]
    assert dest.read_bytes() == PAYLOAD


def test_wrong_file_is_refused_and_deleted(server, tmp_path):
    server.mode = "wrong"
    dest = tmp_path / "model.bin"
    dest.write_bytes(b"an older good copy")
    with pytest.raises(DownloadError, match="SHA256"):
        download_file(server.url + "/model.bin", dest, expected_size=len(PAYLOAD), expected_sha256=SHA256)
    assert dest.read_bytes() == b"an older good copy"  # what was there is kept
    assert not partial_path(dest).exists()


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(DownloadError, match="cannot reach|refused"):
        download_file("http://127.0.0.1:9/none", tmp_path / "x.bin", timeout=2)


def _tiny_caffemodel(names: list[bytes]) -> bytes:
    """A minimal NetParameter: its name and one 'layer' record (field 100) per name."""
    out = b"\x0a\x05LtoAB"
    for name in names:
        layer = b"\x0a" + bytes([len(name)]) + name
        out += b"\xa2\x06" + bytes([len(layer)]) + layer
    return out


def _source(url: str, body: bytes) -> ZhangSource:
    return ZhangSource(url, "caffemodel", hashlib.sha256(body).hexdigest(), len(body))


def test_download_zhang_installs_into_the_user_weights_folder(server, monkeypatch):
    good = _tiny_caffemodel([b"conv1_2norm", b"conv8_313", b"class8_ab"])
    server.files["/" + ZHANG_WEIGHTS_NAME] = good
    path = download_zhang(sources=[_source(server.url + "/" + ZHANG_WEIGHTS_NAME, good)])
    assert path == paths.user_weights_dir() / ZHANG_WEIGHTS_NAME
    assert model_store.find_weights(ZHANG_WEIGHTS_NAME) == path


def test_download_zhang_refuses_a_file_that_is_not_the_colorization_net(server):
    other = _tiny_caffemodel([b"conv1", b"fc8"])
    server.files["/" + ZHANG_WEIGHTS_NAME] = other
    with pytest.raises(DownloadError, match="not the Zhang colorization net"):
        download_zhang(sources=[_source(server.url + "/" + ZHANG_WEIGHTS_NAME, other)])
    assert model_store.find_weights(ZHANG_WEIGHTS_NAME) is None


def test_download_zhang_checks_the_published_size_and_sha256_by_default(server):
    server.files["/" + ZHANG_WEIGHTS_NAME] = _tiny_caffemodel([b"conv8_313", b"class8_ab", b"conv1_2norm"])
    with pytest.raises(DownloadError, match="128946764"):
        download_zhang(base_url=server.url)
    assert model_store.find_weights(ZHANG_WEIGHTS_NAME) is None
    assert [s.sha256 for s in zhang_sources(server.url)] == [ZHANG_SHA256]
