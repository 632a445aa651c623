"""Shared test setup: every test runs with its own user folders (settings, logs,
weights) so nothing touches the real home folder, and with no network needed."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Point COLORIZER_HOME at a fresh folder for each test."""
    home = tmp_path_factory.mktemp("colorizer_home")
    monkeypatch.setenv("COLORIZER_HOME", str(home))
    # Keep torch from using more threads than this 2-core machine has.
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "2"))
    return home


@pytest.fixture(scope="session")
def zhang_weights(tmp_path_factory):
    """A Zhang-shaped caffemodel with random weights (~129 MB), written once per
    test session: Zhang's loading and inference code runs for real on it."""
    zhang_model = pytest.importorskip("zhang_model")
    path = tmp_path_factory.getbasetemp() / "zhang_random_seed0.caffemodel"
    if not path.is_file():
        partial = path.with_suffix(".writing")
        zhang_model.write_random_zhang_caffemodel(partial, seed=0)
        partial.replace(path)
    return path


@pytest.fixture
def no_bundled_weights(tmp_path_factory, monkeypatch):
    """Hide the weights/ folder shipped with the app, as on an install without them."""
    from colorizer_gui.core import paths

    empty = tmp_path_factory.mktemp("no_bundled_weights")
    monkeypatch.setattr(paths, "bundled_weights_dir", lambda: empty)
    return empty
