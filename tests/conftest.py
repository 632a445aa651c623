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
